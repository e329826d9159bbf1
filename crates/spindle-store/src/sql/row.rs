//! Typed reads of result columns by name, the same for rusqlite's and tokio-postgres's rows.
//!
//! Decoders are written once against [`RowAccess`]: `row.text("id")?`,
//! `row.opt_int("start_time")?`. Both drivers' rows implement it directly (a lookup of the
//! name per read, fine for small queries); for many rows, [`ColumnIndex`] resolves the names
//! of a statement's columns once and [`Indexed`] reads through it, so a decoder that reads
//! columns in select-list order pays one string comparison per column.

use std::cell::Cell;

use crate::postgres::pg_error;
use crate::sqlite::sql_error;
use crate::Result;

/// A Rust type both drivers read from a column: `String`, `i64`, `f64`, `bool`, `Vec<u8>`
/// and their `Option`s (NULL reads as `None`; as an error for the plain types).
pub(crate) trait ColumnValue:
    rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>
{
}

impl<T> ColumnValue for T where
    T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>
{
}

/// A result row whose columns are read by name.
pub(crate) trait RowAccess {
    /// The value of column `name`.
    fn get<T: ColumnValue>(&self, name: &str) -> Result<T>;

    fn text(&self, name: &str) -> Result<String> {
        self.get(name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>> {
        self.get(name)
    }
    fn int(&self, name: &str) -> Result<i64> {
        self.get(name)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        self.get(name)
    }
    fn float(&self, name: &str) -> Result<f64> {
        self.get(name)
    }
    fn opt_float(&self, name: &str) -> Result<Option<f64>> {
        self.get(name)
    }
    #[allow(dead_code)] // No decoder reads a non-null boolean yet.
    fn boolean(&self, name: &str) -> Result<bool> {
        self.get(name)
    }
    fn opt_boolean(&self, name: &str) -> Result<Option<bool>> {
        self.get(name)
    }
    fn bytes(&self, name: &str) -> Result<Vec<u8>> {
        self.get(name)
    }
    #[allow(dead_code)] // No decoder reads nullable bytes yet.
    fn opt_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.get(name)
    }
}

/// What a driver's row offers: typed reads by position. [`Indexed`] builds named reads on it.
pub(crate) trait DriverRow {
    fn get_at<T: ColumnValue>(&self, index: usize) -> Result<T>;
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

impl RowAccess for tokio_postgres::Row {
    fn get<T: ColumnValue>(&self, name: &str) -> Result<T> {
        self.try_get(name).map_err(pg_error)
    }
}

impl DriverRow for tokio_postgres::Row {
    fn get_at<T: ColumnValue>(&self, index: usize) -> Result<T> {
        self.try_get(index).map_err(pg_error)
    }
}

/// The names of one statement's result columns, resolved to positions.
///
/// Lookups start where the previous one ended, so reading the columns in select-list order
/// costs one comparison each; any other order still works (a scan).
#[derive(Debug)]
pub(crate) struct ColumnIndex {
    names: Vec<String>,
    next: Cell<usize>,
}

impl ColumnIndex {
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        ColumnIndex {
            names: names.into_iter().map(Into::into).collect(),
            next: Cell::new(0),
        }
    }

    /// The columns of a prepared SQLite statement.
    pub fn of_statement(statement: &rusqlite::Statement<'_>) -> Self {
        Self::new(statement.column_names())
    }

    /// The columns of a PostgreSQL result (empty without rows: then nothing is read).
    pub fn of_rows(rows: &[tokio_postgres::Row]) -> Self {
        let names = rows.first().map(|row| row.columns()).unwrap_or_default();
        Self::new(names.iter().map(|column| column.name()))
    }

    /// The position of column `name`.
    pub fn position(&self, name: &str) -> Result<usize> {
        let next = self.next.get();
        let found = if self.names.get(next).is_some_and(|n| n == name) {
            Some(next)
        } else {
            self.names.iter().position(|n| n == name)
        };
        let Some(index) = found else {
            return Err(crate::Error::internal(format!(
                "no column {name:?} in the result"
            )));
        };
        self.next.set(index + 1);
        Ok(index)
    }
}

/// A row read by name through its statement's [`ColumnIndex`].
pub(crate) struct Indexed<'r, R> {
    pub row: &'r R,
    pub columns: &'r ColumnIndex,
}

impl<'r, R> Indexed<'r, R> {
    pub fn new(row: &'r R, columns: &'r ColumnIndex) -> Self {
        Indexed { row, columns }
    }
}

impl<R: DriverRow> RowAccess for Indexed<'_, R> {
    fn get<T: ColumnValue>(&self, name: &str) -> Result<T> {
        self.row.get_at(self.columns.position(name)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
