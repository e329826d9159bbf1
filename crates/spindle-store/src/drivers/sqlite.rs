//! rusqlite's side of the shared layer: parameters and cells bind as SQLite values, rows are
//! read by column name, [`TextList`] reads `group_concat`'s text, and [`sql_error`] maps
//! rusqlite's errors.

use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};

use crate::sql::rows::Cell;
use crate::sql::{ColumnIndex, ColumnValue, DriverRow, Param, RowAccess};
use crate::statements::TextList;
use crate::{Error, ErrorKind, Result};

/// Maps a SQLite error to a store error: lock contention and storage that cannot take writes
/// (disk full, read-only database or filesystem, I/O error) are `Unavailable`, the rest
/// `Internal`.
pub fn sql_error(error: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(code, _) = &error {
        if matches!(
            code.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        ) {
            return Error::new(ErrorKind::Unavailable, format!("sqlite is busy: {error}"));
        }
        if matches!(
            code.code,
            rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::ReadOnly
                | rusqlite::ErrorCode::SystemIoFailure
                | rusqlite::ErrorCode::CannotOpen
        ) {
            return Error::new(ErrorKind::Unavailable, format!("sqlite: {error}"));
        }
    }
    Error::internal(format!("sqlite: {error}"))
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Param::Int(value) => ToSqlOutput::Borrowed(ValueRef::Integer(*value)),
            Param::Float(value) => ToSqlOutput::Borrowed(ValueRef::Real(*value)),
            Param::Bool(value) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*value))),
            Param::Bytes(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
            Param::Texts(values) => ToSqlOutput::from(json_array(values)),
            Param::Ints(values) => ToSqlOutput::from(json_array(values)),
        })
    }
}

/// A list as the JSON array text SQLite's `json_each` reads.
fn json_array<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Cell::Text(Some(text)) => ValueRef::Text(text.as_bytes()),
            Cell::Int(Some(value)) => ValueRef::Integer(value),
            Cell::Float(Some(value)) => ValueRef::Real(value),
            Cell::Bool(Some(value)) => ValueRef::Integer(i64::from(value)),
            Cell::Text(None) | Cell::Int(None) | Cell::Float(None) | Cell::Bool(None) => {
                ValueRef::Null
            }
        }))
    }
}

impl FromSql for TextList {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = Option::<String>::column_result(value)?;
        Ok(TextList(
            text.unwrap_or_default()
                .split(',')
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }
}

impl RowAccess for rusqlite::Row<'_> {
    fn get<T: ColumnValue>(&self, name: &str) -> Result<T> {
        rusqlite::Row::get(self, name).map_err(sql_error)
    }
}

impl DriverRow for rusqlite::Row<'_> {
    fn get_at<T: ColumnValue>(&self, index: usize) -> Result<T> {
        rusqlite::Row::get(self, index).map_err(sql_error)
    }
}

impl ColumnIndex {
    /// The columns of a prepared SQLite statement.
    pub fn of_statement(statement: &rusqlite::Statement<'_>) -> Self {
        Self::new(statement.column_names())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Indexed;

    #[test]
    fn lists_bind_as_json_on_sqlite() {
        let connection = rusqlite::Connection::open_in_memory().expect("opens");
        let texts = Param::Texts(vec!["a".into(), "b\"".into()]);
        let count: i64 = connection
            .query_row("SELECT count(*) FROM json_each(?)", [&texts], |row| {
                row.get(0)
            })
            .expect("runs");
        assert_eq!(count, 2);
        let ints = Param::Ints(vec![3, 1]);
        let sum: i64 = connection
            .query_row("SELECT sum(value) FROM json_each(?)", [&ints], |row| {
                row.get(0)
            })
            .expect("runs");
        assert_eq!(sum, 4);
    }

    #[test]
    fn text_lists_read_from_sqlite() {
        let connection = rusqlite::Connection::open_in_memory().expect("opens");
        let read = |sql: &str| -> TextList {
            connection
                .query_row(sql, [], |row| row.get(0))
                .expect("runs")
        };
        assert_eq!(read("SELECT 'a,b'").0, vec!["a", "b"]);
        assert_eq!(read("SELECT NULL").0, Vec::<String>::new());
    }

    #[test]
    fn columns_are_read_by_name() {
        let connection = rusqlite::Connection::open_in_memory().expect("opens");
        let mut statement = connection
            .prepare("SELECT 'a' AS id, NULL AS name, 3 AS n, 1 AS flag")
            .expect("prepares");
        let columns = ColumnIndex::of_statement(&statement);
        let read = statement
            .query_row([], |row| {
                let row = Indexed::new(row, &columns);
                Ok((
                    row.text("id"),
                    row.opt_text("name"),
                    row.int("n"),
                    row.boolean("flag"),
                    row.text("missing").is_err(),
                    row.int("n"),
                ))
            })
            .expect("runs");
        assert_eq!(read.0.ok(), Some("a".to_owned()));
        assert_eq!(read.1.ok(), Some(None));
        assert_eq!(read.2.ok(), Some(3));
        assert_eq!(read.3.ok(), Some(true));
        assert!(read.4);
        assert_eq!(read.5.ok(), Some(3));
    }
}
