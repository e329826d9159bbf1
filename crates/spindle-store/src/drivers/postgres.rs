//! tokio-postgres's side of the shared layer: parameters and cells bind as PostgreSQL values
//! (every placeholder carries its cast), a [`Sql`] finishes into a statement text with its
//! parameters, rows are read by column name, [`TextList`] reads an array, and [`pg_error`]
//! maps tokio-postgres's errors.

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use crate::sql::rows::Cell;
use crate::sql::{ColumnIndex, ColumnValue, DriverRow, Param, RowAccess, Sql};
use crate::statements::TextList;
use crate::{Error, ErrorKind, Result};

/// Marks errors of transactions PostgreSQL aborted to resolve a conflict (retryable).
const CONFLICT: &str = "postgres: transaction conflict";

/// Maps a PostgreSQL error to a store error: lost connections, resource exhaustion and
/// conflicts are `Unavailable`, text PostgreSQL cannot store is `InvalidArgument`, the rest
/// `Internal`.
pub fn pg_error(error: tokio_postgres::Error) -> Error {
    let Some(db) = error.as_db_error() else {
        if error.is_closed() {
            return Error::new(
                ErrorKind::Unavailable,
                format!("postgres connection lost: {error}"),
            );
        }
        return Error::new(ErrorKind::Unavailable, format!("postgres: {error}"));
    };
    let code = db.code().code();
    match code {
        "40001" | "40P01" => Error::new(ErrorKind::Unavailable, format!("{CONFLICT}: {db}")),
        // NUL characters and unsupported escapes: text PostgreSQL cannot hold.
        "22021" | "22P05" | "54000" => Error::invalid(
            db.column().unwrap_or("text"),
            format!("cannot be stored in PostgreSQL: {}", db.message()),
        ),
        _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("57") => {
            Error::new(ErrorKind::Unavailable, format!("postgres: {db}"))
        }
        _ => Error::internal(format!("postgres: {db}")),
    }
}

/// Whether an error is a conflict abort that a retry of the transaction resolves.
pub fn is_conflict(error: &Error) -> bool {
    error.kind == ErrorKind::Unavailable && error.message.starts_with(CONFLICT)
}

impl Sql {
    /// The PostgreSQL statement text and its parameters, ready for tokio-postgres.
    pub fn finish(&self) -> (String, Vec<&(dyn ToSql + Sync)>) {
        let params = self
            .params
            .iter()
            .map(|p| p as &(dyn ToSql + Sync))
            .collect();
        (self.finish_text().into_owned(), params)
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Text(v) => v.to_sql(ty, out),
            Param::Int(v) => v.to_sql(ty, out),
            Param::Float(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::Bytes(v) => v.to_sql(ty, out),
            Param::Texts(v) => v.to_sql(ty, out),
            Param::Ints(v) => v.to_sql(ty, out),
        }
    }

    // Placeholders carry explicit casts, so the server always asks for the matching type.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Text(v) => v.to_sql(ty, out),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Float(v) => v.to_sql(ty, out),
            Cell::Bool(v) => v.to_sql(ty, out),
        }
    }

    // The statement casts every array to its column's type.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for TextList {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Vec::<String>::from_sql(ty, raw).map(TextList)
    }

    fn from_sql_null(
        _ty: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(TextList::default())
    }

    fn accepts(ty: &Type) -> bool {
        <Vec<String> as FromSql>::accepts(ty)
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

impl ColumnIndex {
    /// The columns of a PostgreSQL result (empty without rows: then nothing is read).
    pub fn of_rows(rows: &[tokio_postgres::Row]) -> Self {
        let names = rows.first().map(|row| row.columns()).unwrap_or_default();
        Self::new(names.iter().map(|column| column.name()))
    }
}
