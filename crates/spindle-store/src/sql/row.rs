//! Typed reads of result columns by name, the same for rusqlite's and tokio-postgres's rows
//! (their implementations are in `crate::drivers`).
//!
//! Decoders are written once against [`RowAccess`]: `row.text("id")?`,
//! `row.opt_int("start_time")?`. Both drivers' rows implement it directly (a lookup of the
//! name per read, fine for small queries); for many rows, [`ColumnIndex`] resolves the names
//! of a statement's columns once and [`Indexed`] reads through it, so a decoder that reads
//! columns in select-list order pays one string comparison per column.

use std::cell::Cell;

use crate::Result;

/// A Rust type both drivers read from a column: `String`, `i64`, `f64`, `bool`, `Vec<u8>`
/// and their `Option`s (NULL reads as `None`; as an error for the plain types). Each driver
/// whose feature is on adds its own bound (`crate::drivers`).
pub trait ColumnValue: SqliteValue + PostgresValue {}

impl<T: SqliteValue + PostgresValue> ColumnValue for T {}

/// What SQLite reads: rusqlite's `FromSql` with the `sqlite` feature, anything without it.
#[cfg(feature = "sqlite")]
pub trait SqliteValue: rusqlite::types::FromSql {}
#[cfg(feature = "sqlite")]
impl<T: rusqlite::types::FromSql> SqliteValue for T {}
/// What SQLite reads: rusqlite's `FromSql` with the `sqlite` feature, anything without it.
#[cfg(not(feature = "sqlite"))]
pub trait SqliteValue {}
#[cfg(not(feature = "sqlite"))]
impl<T> SqliteValue for T {}

/// What PostgreSQL reads: tokio-postgres's `FromSql` with the `postgres` feature, anything
/// without it.
#[cfg(feature = "postgres")]
pub trait PostgresValue: for<'a> tokio_postgres::types::FromSql<'a> {}
#[cfg(feature = "postgres")]
impl<T: for<'a> tokio_postgres::types::FromSql<'a>> PostgresValue for T {}
/// What PostgreSQL reads: tokio-postgres's `FromSql` with the `postgres` feature, anything
/// without it.
#[cfg(not(feature = "postgres"))]
pub trait PostgresValue {}
#[cfg(not(feature = "postgres"))]
impl<T> PostgresValue for T {}

/// A result row whose columns are read by name.
pub trait RowAccess {
    /// The value of column `name`.
    fn get<T: ColumnValue>(&self, name: &str) -> Result<T>;

    fn text(&self, name: &str) -> Result<String> {
        self.get(name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>> {
        self.get(name)
    }
    /// The text of column `name` read by `parse`: `None` when NULL or not one `parse` knows.
    fn opt_parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        Ok(self.opt_text(name)?.as_deref().and_then(parse))
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
pub trait DriverRow {
    fn get_at<T: ColumnValue>(&self, index: usize) -> Result<T>;
}

/// The names of one statement's result columns, resolved to positions.
///
/// Lookups start where the previous one ended, so reading the columns in select-list order
/// costs one comparison each; any other order still works (a scan).
#[derive(Debug)]
pub struct ColumnIndex {
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
pub struct Indexed<'r, R> {
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
