//! Custom models, the built-in prices switch, the pricing the writer applies, and the
//! recomputation of derived costs over a time range.

use deadpool_postgres::GenericClient;
use spindle_core::time::Micros;
use spindle_cost::{CustomModel, Pricer, ProjectPricing};
use std::sync::Arc;
use tokio_postgres::Row;

use super::{decode_rows, pg_error};
use crate::derived::{decode_prices, decode_tiers, encode, encode_tiers, finite_map};
use crate::sql::rows::{decode_observation, total_cost, total_usage, OBSERVATION_COLUMNS};
use crate::sql::Dialect;
use crate::Result;

const MODEL_COLUMNS: &str = "id, project_id, model_name, match_pattern, start_date, unit, \
     prices, tokenizer_id, tokenizer_config, created_at, pricing_tiers";

fn model_from_row(row: &Row, at: usize) -> Result<CustomModel> {
    let prices: String = row.try_get(at + 6).map_err(pg_error)?;
    Ok(CustomModel {
        id: row.try_get(at).map_err(pg_error)?,
        project_id: row.try_get(at + 1).map_err(pg_error)?,
        model_name: row.try_get(at + 2).map_err(pg_error)?,
        match_pattern: row.try_get(at + 3).map_err(pg_error)?,
        start_date: row.try_get(at + 4).map_err(pg_error)?,
        unit: row.try_get(at + 5).map_err(pg_error)?,
        prices: decode_prices(&prices)?,
        tokenizer_id: row.try_get(at + 7).map_err(pg_error)?,
        tokenizer_config: row.try_get(at + 8).map_err(pg_error)?,
        created_at: row.try_get(at + 9).map_err(pg_error)?,
        pricing_tiers: decode_tiers(row.try_get::<_, Option<&str>>(at + 10).map_err(pg_error)?)?,
    })
}

/// The project's custom models, oldest first.
pub(crate) async fn list(
    client: &impl GenericClient,
    project_id: &str,
) -> Result<Vec<CustomModel>> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT {MODEL_COLUMNS} FROM models WHERE project_id = $1 ORDER BY created_at, id"
        ))
        .await
        .map_err(pg_error)?;
    let rows = client
        .query(&statement, &[&project_id])
        .await
        .map_err(pg_error)?;
    rows.iter().map(|row| model_from_row(row, 0)).collect()
}

/// Whether the built-in prices apply to the project (they do unless switched off).
pub(crate) async fn builtin_enabled(client: &impl GenericClient, project_id: &str) -> Result<bool> {
    let statement = client
        .prepare_cached("SELECT builtin_prices FROM projects WHERE id = $1")
        .await
        .map_err(pg_error)?;
    let row = client
        .query_opt(&statement, &[&project_id])
        .await
        .map_err(pg_error)?;
    match row {
        Some(row) => row.try_get(0).map_err(pg_error),
        None => Ok(true),
    }
}

/// The pricing the writer applies to the project's observations: its switch and its custom
/// models in one round trip.
pub(crate) async fn pricing(
    client: &impl GenericClient,
    pricer: &Pricer,
    project_id: &str,
) -> Result<Arc<ProjectPricing>> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT coalesce((SELECT builtin_prices FROM projects WHERE id = $1), true), \
                 {MODEL_COLUMNS} \
             FROM (SELECT 1) AS one \
             LEFT JOIN models ON models.project_id = $1 \
             ORDER BY created_at, id"
        ))
        .await
        .map_err(pg_error)?;
    let rows = client
        .query(&statement, &[&project_id])
        .await
        .map_err(pg_error)?;
    let mut builtin = true;
    let mut models = Vec::new();
    for row in &rows {
        builtin = row.try_get(0).map_err(pg_error)?;
        if row
            .try_get::<_, Option<&str>>(1)
            .map_err(pg_error)?
            .is_some()
        {
            models.push(model_from_row(row, 1)?);
        }
    }
    Ok(pricer.project(&models, builtin))
}

/// Stores a model, replacing the project's model with the same id.
pub(crate) async fn put(client: &impl GenericClient, model: &CustomModel) -> Result<()> {
    client
        .execute(
            &format!(
                "INSERT INTO models ({MODEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11) ON CONFLICT (project_id, id) DO UPDATE SET \
                 model_name = excluded.model_name, match_pattern = excluded.match_pattern, \
                 start_date = excluded.start_date, unit = excluded.unit, \
                 prices = excluded.prices, tokenizer_id = excluded.tokenizer_id, \
                 tokenizer_config = excluded.tokenizer_config, \
                 pricing_tiers = excluded.pricing_tiers"
            ),
            &[
                &model.id,
                &model.project_id,
                &model.model_name,
                &model.match_pattern,
                &model.start_date,
                &model.unit,
                &finite_map(&model.prices).to_string(),
                &model.tokenizer_id,
                &model.tokenizer_config,
                &model.created_at,
                &encode_tiers(&model.pricing_tiers),
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

pub(crate) async fn delete(
    client: &impl GenericClient,
    project_id: &str,
    model_id: &str,
) -> Result<bool> {
    let deleted = client
        .execute(
            "DELETE FROM models WHERE project_id = $1 AND id = $2",
            &[&project_id, &model_id],
        )
        .await
        .map_err(pg_error)?;
    Ok(deleted > 0)
}

pub(crate) async fn set_builtin(
    client: &impl GenericClient,
    project_id: &str,
    enabled: bool,
) -> Result<()> {
    client
        .execute(
            "UPDATE projects SET builtin_prices = $2 WHERE id = $1",
            &[&project_id, &enabled],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

/// Where a recomputation has got to: the last observation done, by (start time, id).
pub(crate) type Position = (Micros, String);

/// Works out usage and cost again for up to `limit` of the project's observations with a
/// model that start in `[from, to)` (by sort time: no start time sorts first) after `after`, locking the rows it reads. Returns how
/// many changed and where to go on from (`None` when the range is done).
pub(crate) async fn recompute_chunk(
    client: &impl GenericClient,
    pricer: &Pricer,
    project_id: &str,
    (from, to): (Micros, Micros),
    after: Option<Position>,
    limit: u32,
) -> Result<(u64, Option<Position>)> {
    let pricing = pricing(client, pricer, project_id).await?;
    let (after_time, after_id) = after.unwrap_or((from, String::new()));
    let statement = client
        .prepare_cached(&format!(
            "SELECT {} FROM observations o WHERE o.project_id = $1 \
             AND o.sort_time >= $2 AND o.sort_time < $3 \
             AND (o.sort_time, o.id) > ($4, $5) \
             AND o.model IS NOT NULL ORDER BY o.sort_time, o.id LIMIT $6 FOR UPDATE",
            OBSERVATION_COLUMNS.select(Dialect::Postgres)
        ))
        .await
        .map_err(pg_error)?;
    let rows = client
        .query(
            &statement,
            &[
                &project_id,
                &from,
                &to,
                &after_time,
                &after_id,
                &i64::from(limit),
            ],
        )
        .await
        .map_err(pg_error)?;
    let full = rows.len() as u64 >= u64::from(limit);
    let update = client
        .prepare_cached(
            "UPDATE observations SET derived = $3, total_cost = $4, usage_input = $5, \
             usage_output = $6, usage_total = $7 WHERE project_id = $1 AND id = $2",
        )
        .await
        .map_err(pg_error)?;
    let mut last = None;
    let mut changed = 0u64;
    for stored in decode_rows(&rows, |row| decode_observation(row))? {
        let mut record = stored.record;
        last = Some((record.start_time.unwrap_or(Micros::MIN), record.id.clone()));
        let derived = pricer.derive(&pricing, &record);
        // Compared as stored: a built-in entry's prices are filled in on read only.
        if crate::derived::encode(&derived) == crate::derived::encode(&record.derived) {
            continue;
        }
        record.derived = derived;
        let usage = record.effective_usage();
        let usage_input = usage.and_then(|u| u.get("input").copied());
        let usage_output = usage.and_then(|u| u.get("output").copied());
        let usage_total = usage.and_then(total_usage);
        let cost = record.effective_cost().and_then(total_cost);
        client
            .execute(
                &update,
                &[
                    &project_id,
                    &record.id,
                    &encode(&record.derived),
                    &cost,
                    &usage_input,
                    &usage_output,
                    &usage_total,
                ],
            )
            .await
            .map_err(pg_error)?;
        changed += 1;
    }
    Ok((changed, if full { last } else { None }))
}
