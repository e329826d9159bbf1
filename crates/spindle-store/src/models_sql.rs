//! Custom models, the built-in prices switch, the pricing the writers apply and the
//! recomputation of derived costs, written once for both dialects: one column list and one
//! row codec for `models`, the statements, and the repricing of a chunk of observations,
//! read on any [`ReadConnection`] (the writer's transaction, or a transaction that locks the
//! rows of a chunk); the backends only execute the updates.

use crate::rollups::{ObservationFacts, Rollups};
use spindle_core::record::ObservationRecord;
use spindle_core::time::Micros;
use spindle_cost::{CustomModel, Pricer, ProjectPricing};
use std::sync::Arc;

use crate::derived::{decode_prices, decode_tiers, encode, encode_tiers, finite_map};
use crate::executor::{Executor, FromRow, Single, ToRow};
use crate::reading::ReadConnection;
use crate::sql::rows::{decode_observation, EncodedObservation, OBSERVATION_COLUMNS};
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::statements::{after_position, delete_where, lock_for_update, upsert};
use crate::Result;

const MODEL_COLUMNS: &str = "id, project_id, model_name, match_pattern, start_date, unit, \
     prices, tokenizer_id, tokenizer_config, created_at, pricing_tiers";

impl FromRow for CustomModel {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(CustomModel {
            id: row.text("id")?,
            project_id: row.text("project_id")?,
            model_name: row.text("model_name")?,
            match_pattern: row.text("match_pattern")?,
            start_date: row.opt_int("start_date")?,
            unit: row.opt_text("unit")?,
            prices: decode_prices(&row.text("prices")?)?,
            tokenizer_id: row.opt_text("tokenizer_id")?,
            tokenizer_config: row.opt_text("tokenizer_config")?,
            created_at: row.int("created_at")?,
            pricing_tiers: decode_tiers(row.opt_text("pricing_tiers")?.as_deref())?,
        })
    }
}

impl ToRow for CustomModel {
    fn values(&self) -> Vec<Param> {
        vec![
            Param::from(&self.id),
            Param::from(&self.project_id),
            Param::from(&self.model_name),
            Param::from(&self.match_pattern),
            Param::from(self.start_date),
            Param::from(self.unit.clone()),
            Param::from(finite_map(&self.prices).to_string()),
            Param::from(self.tokenizer_id.clone()),
            Param::from(self.tokenizer_config.clone()),
            Param::from(self.created_at),
            Param::from(encode_tiers(&self.pricing_tiers)),
        ]
    }
}

/// A row of [`pricing_statement`]: the project's switch, and one of its models if it has
/// any.
pub struct PricingRow {
    builtin_prices: bool,
    model: Option<CustomModel>,
}

impl FromRow for PricingRow {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        let builtin_prices = row.boolean("builtin_prices")?;
        let model = match row.opt_text("id")? {
            Some(_) => Some(CustomModel::from_row(row)?),
            None => None,
        };
        Ok(PricingRow {
            builtin_prices,
            model,
        })
    }
}

/// The project's built-in prices switch and custom models (oldest first) in one statement:
/// one row per model, or one row without a model.
pub fn pricing_statement(dialect: Dialect, project_id: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT coalesce((SELECT builtin_prices FROM projects WHERE id = ",
    );
    sql.bind(project_id)
        .push(&format!(
            "), {}) AS builtin_prices, {MODEL_COLUMNS} \
             FROM (SELECT 1) AS one \
             LEFT JOIN models ON models.project_id = ",
            dialect.boolean(true)
        ))
        .bind(project_id)
        .push(" ORDER BY created_at, id");
    sql
}

/// The pricing the writer applies, from the rows of [`pricing_statement`].
pub fn pricing_of(pricer: &Pricer, rows: Vec<PricingRow>) -> Arc<ProjectPricing> {
    let builtin = rows.first().is_none_or(|row| row.builtin_prices);
    let models: Vec<CustomModel> = rows.into_iter().filter_map(|row| row.model).collect();
    pricer.project(&models, builtin)
}

/// The pricing the writer applies to the project's observations: its switch and its custom
/// models in one round trip.
pub async fn pricing(
    connection: &impl ReadConnection,
    pricer: &Pricer,
    project_id: &str,
) -> Result<Arc<ProjectPricing>> {
    let sql = pricing_statement(connection.dialect(), project_id);
    let rows = connection
        .rows(&sql, |row| PricingRow::from_row(row))
        .await?;
    Ok(pricing_of(pricer, rows))
}

/// Works out usage and cost again for one chunk of [`recompute_statement`] (whose rows stay
/// locked until the connection's transaction ends): the updates of the observations that
/// changed, and where to go on from (`None` when the range is done).
pub async fn recompute_chunk(
    connection: &impl ReadConnection,
    pricer: &Pricer,
    project_id: &str,
    range: (Micros, Micros),
    after: Option<Position>,
    limit: u32,
) -> Result<Repriced> {
    let dialect = connection.dialect();
    let pricing = pricing(connection, pricer, project_id).await?;
    let columns = OBSERVATION_COLUMNS.select(dialect);
    let select = recompute_statement(dialect, columns, project_id, range, after, limit);
    let records = connection
        .rows(&select, |row| {
            decode_observation(row).map(|stored| stored.record)
        })
        .await?;
    Ok(reprice(
        dialect,
        (pricer, &pricing),
        project_id,
        records,
        limit,
    ))
}

/// The project's custom models, oldest first.
pub async fn list(db: &impl Executor, project_id: &str) -> Result<Vec<CustomModel>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("SELECT {MODEL_COLUMNS} FROM models WHERE project_id = "),
    );
    sql.bind(project_id).push(" ORDER BY created_at, id");
    db.select(sql).await
}

/// Whether the built-in prices apply to the project (they do unless switched off).
pub async fn builtin_enabled(db: &impl Executor, project_id: &str) -> Result<bool> {
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT builtin_prices AS value FROM projects WHERE id = ",
    );
    sql.bind(project_id);
    let rows: Vec<Single<bool>> = db.select(sql).await?;
    Ok(rows.first().is_none_or(|enabled| enabled.0))
}

/// Stores a model, replacing the project's model with the same id.
pub async fn put(db: &impl Executor, model: &CustomModel) -> Result<()> {
    let sql = upsert(
        db.dialect(),
        "models",
        MODEL_COLUMNS,
        model.values(),
        "project_id, id",
        &[
            "model_name",
            "match_pattern",
            "start_date",
            "unit",
            "prices",
            "tokenizer_id",
            "tokenizer_config",
            "pricing_tiers",
        ],
    );
    db.modify(vec![sql]).await.map(drop)
}

/// Deletes a model; whether there was one.
pub async fn delete(db: &impl Executor, project_id: &str, model_id: &str) -> Result<bool> {
    let conditions = [("project_id", project_id), ("id", model_id)];
    let sql = delete_where(db.dialect(), "models", &conditions);
    Ok(db.modify(vec![sql]).await?.iter().sum::<u64>() > 0)
}

pub async fn set_builtin(db: &impl Executor, project_id: &str, enabled: bool) -> Result<()> {
    let mut sql = Sql::new(db.dialect(), "UPDATE projects SET builtin_prices = ");
    sql.bind(enabled).push(" WHERE id = ").bind(project_id);
    db.modify(vec![sql]).await.map(drop)
}

/// Where a recomputation has got to: the last observation done, by (start time, id).
pub type Position = (Micros, String);

/// Up to `limit` of the project's observations with a model that start in `[from, to)` (by
/// sort time: no start time sorts first) after `after`, in that order, with
/// `observation_columns` (the backend's observation column list for alias `o`), locked for
/// the update that follows.
pub fn recompute_statement(
    dialect: Dialect,
    observation_columns: &str,
    project_id: &str,
    (from, to): (Micros, Micros),
    after: Option<Position>,
    limit: u32,
) -> Sql {
    let (after_time, after_id) = after.unwrap_or((from, String::new()));
    let mut sql = Sql::new(
        dialect,
        &format!("SELECT {observation_columns} FROM observations o WHERE o.project_id = "),
    );
    sql.bind(project_id)
        .push(" AND o.sort_time >= ")
        .bind(from)
        .push(" AND o.sort_time < ")
        .bind(to)
        .push(" AND ");
    after_position(&mut sql, ("o.sort_time", "o.id"), after_time, &after_id);
    sql.push(" AND o.model IS NOT NULL ORDER BY o.sort_time, o.id LIMIT ")
        .bind(i64::from(limit))
        .push(lock_for_update(dialect));
    sql
}

/// A recomputed chunk: the statements that write it (the changed observations, then their
/// rollup deltas), how many observations changed, the traces of those observations (sorted,
/// without repeats: their totals change too) and where the next chunk starts (`None` when
/// the chunk was the range's last).
pub struct Repriced {
    pub statements: Vec<Sql>,
    pub changed: u64,
    pub trace_ids: Vec<String>,
    pub next: Option<Position>,
}

pub fn reprice(
    dialect: Dialect,
    (pricer, pricing): (&Pricer, &ProjectPricing),
    project_id: &str,
    records: Vec<ObservationRecord>,
    limit: u32,
) -> Repriced {
    let full = records.len() as u64 >= u64::from(limit);
    let mut last = None;
    let mut updates = Vec::new();
    let mut trace_ids = Vec::new();
    let mut rollups = Rollups::default();
    let mut changed = 0;
    for mut record in records {
        last = Some((record.start_time.unwrap_or(Micros::MIN), record.id.clone()));
        let derived = pricer.derive(pricing, &record);
        // Compared as stored: a built-in entry's prices are filled in on read only.
        if encode(&derived) == encode(&record.derived) {
            continue;
        }
        let before = ObservationFacts::of(project_id, &record, &record.derived);
        record.derived = derived;
        trace_ids.extend(record.trace_id.clone());
        rollups.observation(
            Some(&before),
            Some(&ObservationFacts::of(project_id, &record, &record.derived)),
        );
        let totals = EncodedObservation::new(&record, &record.derived);
        let mut update = Sql::new(dialect, "UPDATE observations SET derived = ");
        update
            .bind(encode(&record.derived))
            .push(", total_cost = ")
            .bind(totals.total_cost)
            .push(", usage_input = ")
            .bind(totals.usage_input)
            .push(", usage_output = ")
            .bind(totals.usage_output)
            .push(", usage_total = ")
            .bind(totals.usage_total)
            .push(" WHERE project_id = ")
            .bind(project_id)
            .push(" AND id = ")
            .bind(&record.id);
        updates.push(update);
        changed += 1;
    }
    // The rollups follow the changed totals in the chunk's transaction.
    updates.extend(rollups.statements(dialect));
    trace_ids.sort_unstable();
    trace_ids.dedup();
    Repriced {
        statements: updates,
        changed,
        trace_ids,
        next: if full { last } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_each_dialects_keyset() {
        let after = Some((5, "b".to_owned()));
        let sqlite = recompute_statement(Dialect::Sqlite, "o.id", "p", (0, 9), after.clone(), 2);
        assert!(
            sqlite
                .text
                .contains("(o.sort_time > ? OR (o.sort_time = ? AND o.id > ?))"),
            "{}",
            sqlite.text
        );
        assert!(sqlite.text.ends_with("LIMIT ?"), "{}", sqlite.text);
        let postgres = recompute_statement(Dialect::Postgres, "o.id", "p", (0, 9), after, 2);
        let text = postgres.finish_text();
        assert!(
            text.contains("(o.sort_time, o.id) > (($4::int8), ($5::text))"),
            "{text}"
        );
        assert!(text.ends_with("LIMIT ($6::int8) FOR UPDATE"), "{text}");
    }
}
