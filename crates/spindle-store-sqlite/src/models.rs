//! The pricing the SQLite writer applies and the recomputation of derived costs, run on the
//! writer's transaction with the shared statements of `models_sql`.

use rusqlite::Connection;
use spindle_core::time::Micros;
use spindle_cost::{Pricer, ProjectPricing};
use std::sync::Arc;

use super::query_rows;
use super::{sqlite_execute, sqlite_rows};
use spindle_store::models_sql::{self, Position};
use spindle_store::sql::rows::{decode_observation, OBSERVATION_COLUMNS};
use spindle_store::sql::Dialect;
use spindle_store::Result;

/// The pricing the writer applies to the project's observations.
pub(crate) fn pricing(
    connection: &Connection,
    pricer: &Pricer,
    project_id: &str,
) -> Result<Arc<ProjectPricing>> {
    let rows = sqlite_rows(
        connection,
        &models_sql::pricing_statement(Dialect::Sqlite, project_id),
    )?;
    Ok(models_sql::pricing_of(pricer, rows))
}

/// Works out usage and cost again for one chunk of [`models_sql::recompute_statement`].
/// Returns how many changed and where to go on from (`None` when the range is done).
pub(crate) fn recompute_chunk(
    connection: &Connection,
    pricer: &Pricer,
    project_id: &str,
    range: (Micros, Micros),
    after: Option<Position>,
    limit: u32,
) -> Result<(u64, Option<Position>)> {
    let pricing = pricing(connection, pricer, project_id)?;
    let select = models_sql::recompute_statement(
        Dialect::Sqlite,
        OBSERVATION_COLUMNS.select(Dialect::Sqlite),
        project_id,
        range,
        after,
        limit,
    );
    let records = query_rows(connection, &select, |row| {
        decode_observation(row).map(|stored| stored.record)
    })?;
    let (updates, next) = models_sql::reprice(
        Dialect::Sqlite,
        (pricer, &pricing),
        project_id,
        records,
        limit,
    );
    for update in &updates {
        sqlite_execute(connection, update)?;
    }
    Ok((updates.len() as u64, next))
}
