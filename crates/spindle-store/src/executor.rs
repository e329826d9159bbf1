//! Running the shared layer's statements: [`FromRow`], how a row type reads itself by
//! column name, [`Executor`], what a backend offers to run statements written once for
//! both dialects (each backend crate runs one [`Sql`] with its driver).
//!
//! Statements and row codecs live once, in the shared modules (`accounts_sql`,
//! `models_sql`); a backend implements [`Executor`] with how it executes: SQLite reads on its
//! read pool and writes on its writer thread, PostgreSQL on a pooled connection.

use async_trait::async_trait;

use crate::sql::{ColumnValue, Dialect, Param, RowAccess, Sql};
use crate::Result;

/// A row type read from a result row by column name.
pub trait FromRow: Sized + Send + 'static {
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
pub trait ToRow {
    fn values(&self) -> Vec<Param>;
}

/// The one column named `value` of a statement that selects a single value.
pub struct Single<T>(pub T);

impl<T: ColumnValue + Send + 'static> FromRow for Single<T> {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        row.get("value").map(Single)
    }
}

/// The rows of `rows` and the count that `count` selects (`count(*) AS value`), read one
/// after the other on one connection.
pub(crate) async fn rows_and_count<T: FromRow>(
    db: &impl Executor,
    rows: Sql,
    count: Sql,
) -> Result<(Vec<T>, u64)> {
    let (items, count): (Vec<T>, Vec<Single<i64>>) = db.select_pair(rows, count).await?;
    let total = count.first().map_or(0, |single| single.0.max(0) as u64);
    Ok((items, total))
}

/// The first row of a statement, if any.
pub(crate) async fn first<T: FromRow>(db: &impl Executor, sql: Sql) -> Result<Option<T>> {
    Ok(db.select(sql).await?.into_iter().next())
}

/// What a backend offers to run the shared statements.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
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
