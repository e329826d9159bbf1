//! Custom models, the built-in prices switch, the pricing the writer applies, and the
//! recomputation of derived costs over a time range.

use rusqlite::{params, Connection, OptionalExtension, Row};
use spindle_core::time::Micros;
use spindle_cost::{CustomModel, Pricer, ProjectPricing};
use std::sync::Arc;

use super::{query_rows, sql_error};
use crate::derived::{decode_prices, decode_tiers, encode_tiers, finite_map};
use crate::sql::rows::{decode_observation, EncodedObservation, OBSERVATION_COLUMNS};
use crate::sql::{Dialect, Sql};
use crate::Result;

const MODEL_COLUMNS: &str = "id, project_id, model_name, match_pattern, start_date, unit, \
     prices, tokenizer_id, tokenizer_config, created_at, pricing_tiers";

/// A model row, with its price map and tiers still encoded.
type EncodedModel = (CustomModel, String, Option<String>);

fn model_from_row(row: &Row<'_>) -> rusqlite::Result<EncodedModel> {
    Ok((
        CustomModel {
            id: row.get(0)?,
            project_id: row.get(1)?,
            model_name: row.get(2)?,
            match_pattern: row.get(3)?,
            start_date: row.get(4)?,
            unit: row.get(5)?,
            prices: Default::default(),
            tokenizer_id: row.get(7)?,
            tokenizer_config: row.get(8)?,
            pricing_tiers: Vec::new(),
            created_at: row.get(9)?,
        },
        row.get(6)?,
        row.get(10)?,
    ))
}

/// The project's custom models, oldest first.
pub(crate) fn list(connection: &Connection, project_id: &str) -> Result<Vec<CustomModel>> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {MODEL_COLUMNS} FROM models WHERE project_id = ?1 ORDER BY created_at, id"
        ))
        .map_err(sql_error)?;
    let rows = statement
        .query_map(params![project_id], model_from_row)
        .map_err(sql_error)?;
    let mut models = Vec::new();
    for row in rows {
        let (mut model, prices, tiers) = row.map_err(sql_error)?;
        model.prices = decode_prices(&prices)?;
        model.pricing_tiers = decode_tiers(tiers.as_deref())?;
        models.push(model);
    }
    Ok(models)
}

/// Whether the built-in prices apply to the project (they do unless switched off).
pub(crate) fn builtin_enabled(connection: &Connection, project_id: &str) -> Result<bool> {
    let enabled: Option<bool> = connection
        .prepare_cached("SELECT builtin_prices FROM projects WHERE id = ?1")
        .and_then(|mut statement| {
            statement
                .query_row(params![project_id], |row| row.get(0))
                .optional()
        })
        .map_err(sql_error)?;
    Ok(enabled.unwrap_or(true))
}

/// The pricing the writer applies to the project's observations.
pub(crate) fn pricing(
    connection: &Connection,
    pricer: &Pricer,
    project_id: &str,
) -> Result<Arc<ProjectPricing>> {
    let models = list(connection, project_id)?;
    Ok(pricer.project(&models, builtin_enabled(connection, project_id)?))
}

/// Stores a model, replacing the project's model with the same id.
pub(crate) fn put(connection: &Connection, model: &CustomModel) -> Result<()> {
    connection
        .execute(
            &format!(
                "INSERT INTO models ({MODEL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                 ?9, ?10, ?11) ON CONFLICT (project_id, id) DO UPDATE SET \
                 model_name = excluded.model_name, match_pattern = excluded.match_pattern, \
                 start_date = excluded.start_date, unit = excluded.unit, \
                 prices = excluded.prices, tokenizer_id = excluded.tokenizer_id, \
                 tokenizer_config = excluded.tokenizer_config, \
                 pricing_tiers = excluded.pricing_tiers"
            ),
            params![
                model.id,
                model.project_id,
                model.model_name,
                model.match_pattern,
                model.start_date,
                model.unit,
                finite_map(&model.prices).to_string(),
                model.tokenizer_id,
                model.tokenizer_config,
                model.created_at,
                encode_tiers(&model.pricing_tiers),
            ],
        )
        .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn delete(connection: &Connection, project_id: &str, model_id: &str) -> Result<bool> {
    let deleted = connection
        .execute(
            "DELETE FROM models WHERE project_id = ?1 AND id = ?2",
            params![project_id, model_id],
        )
        .map_err(sql_error)?;
    Ok(deleted > 0)
}

pub(crate) fn set_builtin(connection: &Connection, project_id: &str, enabled: bool) -> Result<()> {
    connection
        .execute(
            "UPDATE projects SET builtin_prices = ?2 WHERE id = ?1",
            params![project_id, enabled],
        )
        .map_err(sql_error)?;
    Ok(())
}

/// Where a recomputation has got to: the last observation done, by (start time, id).
pub(crate) type Position = (Micros, String);

/// Works out usage and cost again for up to `limit` of the project's observations with a
/// model that start in `[from, to)` (by sort time: no start time sorts first) after `after`. Returns how many changed and where to go on
/// from (`None` when the range is done).
pub(crate) fn recompute_chunk(
    connection: &Connection,
    pricer: &Pricer,
    project_id: &str,
    (from, to): (Micros, Micros),
    after: Option<Position>,
    limit: u32,
) -> Result<(u64, Option<Position>)> {
    let pricing = pricing(connection, pricer, project_id)?;
    let (after_time, after_id) = after.unwrap_or((from, String::new()));
    let mut select = Sql::new(
        Dialect::Sqlite,
        &format!(
            "SELECT {} FROM observations o WHERE o.project_id = ?1 \
             AND o.sort_time >= ?2 AND o.sort_time < ?3 \
             AND (o.sort_time > ?4 OR (o.sort_time = ?4 AND o.id > ?5)) \
             AND o.model IS NOT NULL ORDER BY o.sort_time, o.id LIMIT ?6",
            OBSERVATION_COLUMNS.select(Dialect::Sqlite)
        ),
    );
    select.params = vec![
        project_id.into(),
        from.into(),
        to.into(),
        after_time.into(),
        after_id.into(),
        i64::from(limit).into(),
    ];
    let rows = query_rows(connection, &select, |row| decode_observation(row))?;
    let full = rows.len() as u64 >= u64::from(limit);
    let mut last = None;
    let mut changed = 0u64;
    let mut update = connection
        .prepare_cached(
            "UPDATE observations SET derived = ?3, total_cost = ?4, usage_input = ?5, \
             usage_output = ?6, usage_total = ?7 WHERE project_id = ?1 AND id = ?2",
        )
        .map_err(sql_error)?;
    for row in rows {
        let mut record = row.record;
        last = Some((record.start_time.unwrap_or(Micros::MIN), record.id.clone()));
        let derived = pricer.derive(&pricing, &record);
        // Compared as stored: a built-in entry's prices are filled in on read only.
        if crate::derived::encode(&derived) == crate::derived::encode(&record.derived) {
            continue;
        }
        record.derived = derived;
        let columns = EncodedObservation::new(&record, &record.derived);
        update
            .execute(params![
                project_id,
                record.id,
                columns.derived(),
                columns.total_cost,
                columns.usage_input,
                columns.usage_output,
                columns.usage_total,
            ])
            .map_err(sql_error)?;
        changed += 1;
    }
    Ok((changed, if full { last } else { None }))
}
