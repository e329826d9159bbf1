//! The start-up step that builds, from the raw rows, the rollups of the projects that had
//! data before the rollups existed; it runs on the migration connection, right after the
//! migrations, one project per transaction.

use spindle_store::reading::{Counter, ReadConnection};
use spindle_store::rollups_sql;
use spindle_store::sql::{Dialect, Indexed, Sql};
use spindle_store::{Error, Result};
use tokio_postgres::{Client, Row, Transaction};

use super::reads::visit_rows;
use super::{decode_rows, pg_error};

/// A plain connection's transaction running the shared reads (no statement cache: each
/// statement runs once).
struct PlainReader<'c>(&'c Transaction<'c>);

impl ReadConnection for PlainReader<'_> {
    type Row<'r> = Indexed<'r, Row>;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn rows<T>(
        &self,
        sql: &Sql,
        decode: impl Fn(&Self::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let (text, params) = sql.finish();
        let rows = self
            .0
            .query(text.as_str(), &params)
            .await
            .map_err(pg_error)?;
        decode_rows(&rows, decode)
    }

    async fn each_row(
        &self,
        sql: &Sql,
        visit: impl FnMut(&Self::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let (text, params) = sql.finish();
        let statement = self.0.prepare(text.as_str()).await.map_err(pg_error)?;
        visit_rows(
            &statement,
            self.0.query_raw(&statement, params).await,
            visit,
        )
        .await
    }

    async fn count(&self, _: &Sql) -> Result<u64> {
        Err(Error::internal("the rollup build does not count"))
    }

    async fn project_count(&self, _: &str, _: Counter) -> Result<u64> {
        Err(Error::internal("the rollup build does not count"))
    }
}

/// Builds the rollups of every pending project. Each transaction first locks the raw
/// tables and the trace totals against writes (`SHARE` mode: reads go on), so no write
/// lands between the read of the raw rows and the replaced rollups and totals; another
/// instance that built the project first leaves nothing pending and the project is skipped.
pub(crate) async fn build_pending(client: &mut Client) -> Result<()> {
    let pending = super::pending_projects(client, "rollups_pending").await?;
    for (done, project_id) in pending.iter().enumerate() {
        let Some(transaction) = super::claim_pending(
            client,
            "rollups_pending",
            "traces, observations, scores, trace_totals",
            project_id,
        )
        .await?
        else {
            continue;
        };
        let rebuilt = rollups_sql::rebuild(&PlainReader(&transaction), project_id).await?;
        for statement in rollups_sql::replace_statements(Dialect::Postgres, project_id, &rebuilt) {
            let (text, params) = statement.finish();
            transaction
                .execute(text.as_str(), &params)
                .await
                .map_err(pg_error)?;
        }
        transaction.commit().await.map_err(pg_error)?;
        rollups_sql::log_built(project_id, &rebuilt, pending.len() - done - 1);
    }
    Ok(())
}
