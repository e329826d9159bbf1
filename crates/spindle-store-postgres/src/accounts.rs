//! How the PostgreSQL backend runs the shared statements (accounts, keys, models): on a
//! pooled connection, several writes in one transaction.

use async_trait::async_trait;

use super::{pg_error, PostgresStore};
use super::{postgres_execute, postgres_rows};
use spindle_store::executor::{Executor, FromRow};
use spindle_store::sql::{Dialect, Sql};
use spindle_store::Result;

#[async_trait]
impl Executor for PostgresStore {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn select<T: FromRow>(&self, sql: Sql) -> Result<Vec<T>> {
        let client = self.client().await?;
        postgres_rows(&client, &sql).await
    }

    async fn select_pair<A: FromRow, B: FromRow>(
        &self,
        first: Sql,
        second: Sql,
    ) -> Result<(Vec<A>, Vec<B>)> {
        let client = self.client().await?;
        let first = postgres_rows(&client, &first).await?;
        Ok((first, postgres_rows(&client, &second).await?))
    }

    async fn modify(&self, statements: Vec<Sql>) -> Result<Vec<u64>> {
        let mut client = self.client().await?;
        if let [sql] = statements.as_slice() {
            return Ok(vec![postgres_execute(&client, sql).await?]);
        }
        let transaction = client.transaction().await.map_err(pg_error)?;
        let mut changed = Vec::with_capacity(statements.len());
        for sql in &statements {
            changed.push(postgres_execute(&transaction, sql).await?);
        }
        transaction.commit().await.map_err(pg_error)?;
        Ok(changed)
    }

    async fn modify_returning<T: FromRow>(&self, sql: Sql) -> Result<Vec<T>> {
        let client = self.client().await?;
        postgres_rows(&client, &sql).await
    }
}
