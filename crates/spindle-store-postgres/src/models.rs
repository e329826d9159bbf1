//! The pricing the PostgreSQL writer applies and the recomputation of derived costs, run on
//! a transaction with the shared statements of `models_sql`.

use deadpool_postgres::GenericClient;
use spindle_core::time::Micros;
use spindle_cost::{Pricer, ProjectPricing};
use std::sync::Arc;

use super::{decode_rows, pg_error};
use super::{postgres_execute, postgres_rows};
use spindle_store::models_sql::{self, Position};
use spindle_store::sql::rows::{decode_observation, OBSERVATION_COLUMNS};
use spindle_store::sql::Dialect;
use spindle_store::Result;

/// The pricing the writer applies to the project's observations: its switch and its custom
/// models in one round trip.
pub(crate) async fn pricing(
    client: &impl GenericClient,
    pricer: &Pricer,
    project_id: &str,
) -> Result<Arc<ProjectPricing>> {
    let rows = postgres_rows(
        client,
        &models_sql::pricing_statement(Dialect::Postgres, project_id),
    )
    .await?;
    Ok(models_sql::pricing_of(pricer, rows))
}

/// Works out usage and cost again for one chunk of [`models_sql::recompute_statement`],
/// locking the rows it reads. Returns how many changed and where to go on from (`None` when
/// the range is done).
pub(crate) async fn recompute_chunk(
    client: &impl GenericClient,
    pricer: &Pricer,
    project_id: &str,
    range: (Micros, Micros),
    after: Option<Position>,
    limit: u32,
) -> Result<(u64, Option<Position>)> {
    let pricing = pricing(client, pricer, project_id).await?;
    let select = models_sql::recompute_statement(
        Dialect::Postgres,
        OBSERVATION_COLUMNS.select(Dialect::Postgres),
        project_id,
        range,
        after,
        limit,
    );
    let (text, params) = select.finish();
    let statement = client.prepare_cached(&text).await.map_err(pg_error)?;
    let rows = client.query(&statement, &params).await.map_err(pg_error)?;
    let records = decode_rows(&rows, |row| {
        decode_observation(row).map(|stored| stored.record)
    })?;
    let (updates, next) = models_sql::reprice(
        Dialect::Postgres,
        (pricer, &pricing),
        project_id,
        records,
        limit,
    );
    for update in &updates {
        postgres_execute(client, update).await?;
    }
    Ok((updates.len() as u64, next))
}
