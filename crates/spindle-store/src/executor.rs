//! Running the shared layer's statements: [`FromRow`], how a row type reads itself by
//! column name, [`Executor`], what a backend offers to run statements written once for
//! both dialects, and the two drivers' ways of running one [`Sql`] on a connection.
//!
//! Statements and row codecs live once, in the shared modules (`accounts_sql`,
//! `models_sql`); a backend implements [`Executor`] with how it executes: SQLite reads on its
//! read pool and writes on its writer thread, PostgreSQL on a pooled connection.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use crate::postgres::pg_error;
use crate::sql::{ColumnIndex, ColumnValue, Dialect, Indexed, Param, RowAccess, Sql};
use crate::sqlite::sql_error;
use crate::Result;

/// A row type read from a result row by column name.
pub(crate) trait FromRow: Sized + Send + 'static {
    fn from_row(row: &impl RowAccess) -> Result<Self>;
}

/// Declares an entity's column list and its codecs together, from its fields in column
/// order and the [`RowAccess`] read of each (`text`, `opt_text`, `int`, …): each field is
/// read from the column of its name ([`FromRow`]) and written as the value of that column
/// ([`ToRow`]), so the list and the codecs cannot drift apart.
///
/// ```ignore
/// columns_and_codec!(USER_COLUMNS => User { id: text, email: text, name: opt_text });
/// // const USER_COLUMNS: &str = "id, email, name";
/// // impl FromRow for User { … row.text("id")?, row.text("email")?, row.opt_text("name")? … }
/// // impl ToRow for User { … vec![id, email, name] … }
/// ```
///
/// With `_` for the name, only the [`FromRow`] codec (for a row of computed columns).
macro_rules! columns_and_codec {
    (_ => $entity:ident { $($field:ident: $read:ident),+ $(,)? }) => {
        impl $crate::executor::FromRow for $entity {
            fn from_row(row: &impl $crate::sql::RowAccess) -> $crate::Result<Self> {
                Ok($entity {
                    $($field: row.$read(stringify!($field))?,)+
                })
            }
        }
    };
    ($columns:ident => $entity:ident {
        $first:ident: $first_read:ident $(, $field:ident: $read:ident)* $(,)?
    }) => {
        const $columns: &str = concat!(stringify!($first) $(, ", ", stringify!($field))*);
        columns_and_codec!(_ => $entity { $first: $first_read $(, $field: $read)* });

        impl $crate::executor::ToRow for $entity {
            fn values(&self) -> Vec<$crate::sql::Param> {
                vec![
                    $crate::sql::Param::from(self.$first.clone()),
                    $($crate::sql::Param::from(self.$field.clone()),)*
                ]
            }
        }
    };
}
pub(crate) use columns_and_codec;

/// A row type written as the values of its column list, in order (for an insert).
pub(crate) trait ToRow {
    fn values(&self) -> Vec<Param>;
}

/// The one column named `value` of a statement that selects a single value.
pub(crate) struct Single<T>(pub T);

impl<T: ColumnValue + Send + 'static> FromRow for Single<T> {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        row.get("value").map(Single)
    }
}

/// What a backend offers to run the shared statements.
#[async_trait]
pub(crate) trait Executor: Send + Sync + 'static {
    /// The dialect its statements are written in.
    fn dialect(&self) -> Dialect;

    /// The rows of a statement that only reads.
    async fn select<T: FromRow>(&self, sql: Sql) -> Result<Vec<T>>;

    /// The rows of two statements that only read, run one after the other on one
    /// connection.
    async fn select_pair<A: FromRow, B: FromRow>(
        &self,
        first: Sql,
        second: Sql,
    ) -> Result<(Vec<A>, Vec<B>)>;

    /// Runs statements that write, in one transaction; returns the rows each changed.
    async fn modify(&self, statements: Vec<Sql>) -> Result<Vec<u64>>;

    /// The rows a statement that writes returns (`… RETURNING …`).
    async fn modify_returning<T: FromRow>(&self, sql: Sql) -> Result<Vec<T>>;
}

/// The rows of `sql` on a SQLite connection (the statement cached on the connection).
pub(crate) fn sqlite_rows<T: FromRow>(
    connection: &rusqlite::Connection,
    sql: &Sql,
) -> Result<Vec<T>> {
    debug_assert_eq!(sql.dialect(), Dialect::Sqlite);
    let mut statement = connection.prepare_cached(&sql.text).map_err(sql_error)?;
    let columns = ColumnIndex::of_statement(&statement);
    let mut rows = statement
        .query(rusqlite::params_from_iter(&sql.params))
        .map_err(sql_error)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        items.push(T::from_row(&Indexed::new(row, &columns))?);
    }
    Ok(items)
}

/// Runs `sql` on a SQLite connection; returns how many rows it changed.
pub(crate) fn sqlite_execute(connection: &rusqlite::Connection, sql: &Sql) -> Result<u64> {
    debug_assert_eq!(sql.dialect(), Dialect::Sqlite);
    let changed = connection
        .prepare_cached(&sql.text)
        .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(&sql.params)))
        .map_err(sql_error)?;
    Ok(changed as u64)
}

/// The rows of `sql` on a PostgreSQL connection or transaction (the statement prepared once
/// per connection).
pub(crate) async fn postgres_rows<T: FromRow>(
    client: &impl GenericClient,
    sql: &Sql,
) -> Result<Vec<T>> {
    debug_assert_eq!(sql.dialect(), Dialect::Postgres);
    let (text, params) = sql.finish();
    let statement = client.prepare_cached(&text).await.map_err(pg_error)?;
    let rows = client.query(&statement, &params).await.map_err(pg_error)?;
    let columns = ColumnIndex::of_rows(&rows);
    rows.iter()
        .map(|row| T::from_row(&Indexed::new(row, &columns)))
        .collect()
}

/// Runs `sql` on a PostgreSQL connection or transaction; returns how many rows it changed.
pub(crate) async fn postgres_execute(client: &impl GenericClient, sql: &Sql) -> Result<u64> {
    debug_assert_eq!(sql.dialect(), Dialect::Postgres);
    let (text, params) = sql.finish();
    let statement = client.prepare_cached(&text).await.map_err(pg_error)?;
    client.execute(&statement, &params).await.map_err(pg_error)
}
