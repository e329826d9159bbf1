//! How the SQLite backend runs the shared statements (accounts, keys, models): reads on the
//! read pool, writes in one transaction on the writer thread.
//!
//! Writes go through the writer thread's `Exec` command like batch writes do: they are a few
//! rows each, so they cost the writer nothing noticeable, and keeping one writer means no
//! second connection ever waits on SQLite's write lock (a separate connection would contend
//! with group commits and fail with `SQLITE_BUSY` under heavy ingestion).

use async_trait::async_trait;

use super::SqliteStore;
use super::{sqlite_execute, sqlite_rows};
use spindle_store::executor::{Executor, FromRow};
use spindle_store::sql::{Dialect, Sql};
use spindle_store::Result;

#[async_trait]
impl Executor for SqliteStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn select<T: FromRow>(&self, sql: Sql) -> Result<Vec<T>> {
        self.read(move |connection| sqlite_rows(connection, &sql))
            .await
    }

    async fn select_pair<A: FromRow, B: FromRow>(
        &self,
        first: Sql,
        second: Sql,
    ) -> Result<(Vec<A>, Vec<B>)> {
        self.read(move |connection| {
            Ok((
                sqlite_rows(connection, &first)?,
                sqlite_rows(connection, &second)?,
            ))
        })
        .await
    }

    async fn modify(&self, statements: Vec<Sql>) -> Result<Vec<u64>> {
        self.exec(move |transaction| {
            statements
                .iter()
                .map(|sql| sqlite_execute(transaction, sql))
                .collect()
        })
        .await
    }

    async fn modify_returning<T: FromRow>(&self, sql: Sql) -> Result<Vec<T>> {
        self.exec(move |transaction| sqlite_rows(transaction, &sql))
            .await
    }
}
