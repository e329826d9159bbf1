//! Rollups kept by the writer: per hour and per key, the counts, token and cost sums and the
//! latency histogram of a project's observations, and the counts and value sums of its
//! scores, so that dashboards and the metrics API need not aggregate millions of raw rows.
//!
//! Everything here is pure (no IO): a change to a stored row (`before`, `after`, `None` for
//! a row created or deleted) becomes signed deltas in a [`Rollups`], which the writer adds to
//! the tables with additive upserts ([`Rollups::statements`]) in the transaction of the
//! change. The same [`Rollups`] is what a rebuild from the raw rows produces
//! (`rollups_sql`), so the two can be compared exactly.
//!
//! Exactness under merges: every measure is an integer, so adding a row and subtracting it
//! again leaves nothing behind whatever the order. Costs are kept in nano-USD
//! ([`cost_nanos`], each observation's cost rounded once); latency percentiles come from a
//! relative-error histogram (DDSketch's log buckets, [`latency_bucket`]) whose buckets are
//! plain counts. Sketch libraries merge sketches but cannot remove a value from one; these
//! counts can, so a merge that changes an end time moves one count from one bucket to another.
//! The one float is a score's value sum (values are arbitrary reals); it is exact up to
//! floating-point rounding, and a rebuild resets it.
//!
//! Only the observation's own fields are dimensions. Trace-level ones (trace name, user,
//! session, tags, release) are not: a trace's name can arrive after its observations and
//! would move every rolled-up row of the trace. Queries on them read raw rows.

use crate::sql::rows::{total_cost, total_usage};
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::Result;
use spindle_core::record::DerivedCost;
use spindle_core::time::Micros;
use spindle_core::{ObservationRecord, ScoreDataType, ScoreRecord};
use std::collections::BTreeMap;

/// The relative error of a latency percentile read from the buckets: a value `v` lands in a
/// bucket whose representative value is within `v × RELATIVE_ERROR` of it.
pub const RELATIVE_ERROR: f64 = 0.01;

/// The growth of the bucket bounds, `(1 + α) / (1 − α)`.
pub const GAMMA: f64 = (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR);

/// The bucket of latencies of zero or less (an end before its start), read as 0 ms.
pub const ZERO_BUCKET: i64 = -1_000_000;

/// One hour in microseconds: the time grain of the rollups.
pub const HOUR_MICROS: Micros = 3_600_000_000;

/// The hour of observations and scores without a time; no time range selects it.
pub const NO_HOUR: Micros = Micros::MIN;

/// The bucket of a latency in microseconds: `ceil(log_gamma(ms))`, so bucket `i` holds
/// latencies in `(gamma^(i-1), gamma^i]` milliseconds.
pub fn latency_bucket(micros: i64) -> i64 {
    if micros <= 0 {
        return ZERO_BUCKET;
    }
    let millis = micros as f64 / 1000.0;
    (millis.ln() / GAMMA.ln()).ceil() as i64
}

/// The value a bucket stands for, in milliseconds: within [`RELATIVE_ERROR`] of every
/// latency in it.
pub fn bucket_millis(bucket: i64) -> f64 {
    if bucket == ZERO_BUCKET {
        return 0.0;
    }
    2.0 * GAMMA.powf(bucket as f64) / (GAMMA + 1.0)
}

/// The start of the hour of a time, [`NO_HOUR`] without one.
pub fn hour_of(time: Option<Micros>) -> Micros {
    time.map_or(NO_HOUR, |time| time.div_euclid(HOUR_MICROS) * HOUR_MICROS)
}

/// A cost in USD as whole nano-USD (rounded; non-finite costs count as none).
pub fn cost_nanos(cost: Option<f64>) -> i64 {
    match cost {
        Some(cost) if cost.is_finite() => (cost * 1e9).round() as i64,
        _ => 0,
    }
}

/// The dimensions of an observation rollup row. Absent text is `""` and an absent prompt
/// version 0, as the tables store them (their keys cannot hold NULL).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservationKey {
    pub project_id: String,
    /// The start of the hour of the start time.
    pub hour: Micros,
    pub environment: String,
    pub observation_type: String,
    pub name: String,
    /// The model name the SDK reported.
    pub model: String,
    pub prompt_name: String,
    pub prompt_version: i64,
}

/// The sums of one observation rollup row and its latency histogram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservationRollup {
    pub count: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    /// Observations per latency bucket (only those with an end time).
    pub latency: BTreeMap<i64, i64>,
}

impl ObservationRollup {
    fn is_zero(&self) -> bool {
        self.count == 0
            && self.input_tokens == 0
            && self.output_tokens == 0
            && self.total_tokens == 0
            && self.cost_nanos == 0
            && self.latency.is_empty()
    }
}

/// The dimensions of a score rollup row. `string_value` is the value of a categorical or
/// boolean score, `""` for the others.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScoreKey {
    pub project_id: String,
    pub hour: Micros,
    pub environment: String,
    pub name: String,
    pub source: String,
    pub data_type: String,
    pub string_value: String,
}

/// The sums of one score rollup row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreRollup {
    pub count: i64,
    /// Scores with a (finite) numeric value.
    pub value_count: i64,
    pub value_sum: f64,
}

/// What one stored observation adds to the rollups.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationFacts {
    pub key: ObservationKey,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    /// `None` without a start or end time.
    pub latency_bucket: Option<i64>,
}

/// The columns of `observations` that [`ObservationFacts::from_row`] reads.
pub const OBSERVATION_FACT_COLUMNS: &str = "start_time, end_time, environment, type, name, \
     model, prompt_name, prompt_version, total_cost, usage_input, usage_output, usage_total";

/// The columns of `scores` that [`ScoreFacts::from_row`] reads.
pub const SCORE_FACT_COLUMNS: &str =
    "timestamp, environment, name, source, data_type, value, string_value";

/// The stored columns an observation's facts come from.
struct ObservationColumns<'a> {
    start_time: Option<Micros>,
    end_time: Option<Micros>,
    environment: Option<&'a str>,
    observation_type: Option<&'a str>,
    name: Option<&'a str>,
    model: Option<&'a str>,
    prompt_name: Option<&'a str>,
    prompt_version: Option<i64>,
    total_cost: Option<f64>,
    usage_input: Option<i64>,
    usage_output: Option<i64>,
    usage_total: Option<i64>,
}

impl ObservationFacts {
    /// The facts of `record` as it is written with `derived` (the columns `observations`
    /// stores: effective usage and cost, see `sql::rows::EncodedObservation`).
    pub fn of(project_id: &str, record: &ObservationRecord, derived: &DerivedCost) -> Self {
        let usage = record.effective_usage_with(derived);
        let costs = record.effective_cost_with(derived);
        Self::from_columns(
            project_id,
            ObservationColumns {
                start_time: record.start_time,
                end_time: record.end_time,
                environment: record.environment.as_deref(),
                observation_type: record.observation_type.map(|t| t.as_str()),
                name: record.name.as_deref(),
                model: record.model.as_deref(),
                prompt_name: record.prompt_name.as_deref(),
                prompt_version: record.prompt_version,
                total_cost: costs.and_then(total_cost),
                usage_input: usage.and_then(|u| u.get("input").copied()),
                usage_output: usage.and_then(|u| u.get("output").copied()),
                usage_total: usage.and_then(total_usage),
            },
        )
    }

    /// The facts of a stored row read with [`OBSERVATION_FACT_COLUMNS`].
    pub fn from_row(project_id: &str, row: &impl RowAccess) -> Result<Self> {
        let text = |name: &str| row.opt_text(name);
        let (environment, observation_type, name, model, prompt_name) = (
            text("environment")?,
            text("type")?,
            text("name")?,
            text("model")?,
            text("prompt_name")?,
        );
        Ok(Self::from_columns(
            project_id,
            ObservationColumns {
                start_time: row.opt_int("start_time")?,
                end_time: row.opt_int("end_time")?,
                environment: environment.as_deref(),
                observation_type: observation_type.as_deref(),
                name: name.as_deref(),
                model: model.as_deref(),
                prompt_name: prompt_name.as_deref(),
                prompt_version: row.opt_int("prompt_version")?,
                total_cost: row.opt_float("total_cost")?,
                usage_input: row.opt_int("usage_input")?,
                usage_output: row.opt_int("usage_output")?,
                usage_total: row.opt_int("usage_total")?,
            },
        ))
    }

    fn from_columns(project_id: &str, columns: ObservationColumns<'_>) -> Self {
        let owned = |text: Option<&str>| text.unwrap_or_default().to_owned();
        let latency_bucket = match (columns.start_time, columns.end_time) {
            (Some(start), Some(end)) => Some(latency_bucket(end.saturating_sub(start))),
            _ => None,
        };
        ObservationFacts {
            key: ObservationKey {
                project_id: project_id.to_owned(),
                hour: hour_of(columns.start_time),
                environment: owned(columns.environment),
                observation_type: owned(columns.observation_type),
                name: owned(columns.name),
                model: owned(columns.model),
                prompt_name: owned(columns.prompt_name),
                prompt_version: columns.prompt_version.unwrap_or(0),
            },
            input_tokens: columns.usage_input.unwrap_or(0),
            output_tokens: columns.usage_output.unwrap_or(0),
            total_tokens: columns.usage_total.unwrap_or(0),
            cost_nanos: cost_nanos(columns.total_cost),
            latency_bucket,
        }
    }
}

/// What one stored score adds to the rollups.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreFacts {
    pub key: ScoreKey,
    /// The numeric value, when finite.
    pub value: Option<f64>,
}

impl ScoreFacts {
    pub fn of(project_id: &str, record: &ScoreRecord) -> Self {
        Self::from_columns(
            project_id,
            record.timestamp,
            [
                record.environment.as_deref(),
                record.name.as_deref(),
                record.source.map(|s| s.as_str()),
                record.data_type.map(|t| t.as_str()),
                record.string_value.as_deref(),
            ],
            record.value,
        )
    }

    /// The facts of a stored row read with [`SCORE_FACT_COLUMNS`].
    pub fn from_row(project_id: &str, row: &impl RowAccess) -> Result<Self> {
        let texts = [
            row.opt_text("environment")?,
            row.opt_text("name")?,
            row.opt_text("source")?,
            row.opt_text("data_type")?,
            row.opt_text("string_value")?,
        ];
        Ok(Self::from_columns(
            project_id,
            row.opt_int("timestamp")?,
            texts.each_ref().map(Option::as_deref),
            row.opt_float("value")?,
        ))
    }

    fn from_columns(
        project_id: &str,
        timestamp: Option<Micros>,
        [environment, name, source, data_type, string_value]: [Option<&str>; 5],
        value: Option<f64>,
    ) -> Self {
        let owned = |text: Option<&str>| text.unwrap_or_default().to_owned();
        let by_value = [
            ScoreDataType::Categorical.as_str(),
            ScoreDataType::Boolean.as_str(),
        ]
        .contains(&data_type.unwrap_or_default());
        ScoreFacts {
            key: ScoreKey {
                project_id: project_id.to_owned(),
                hour: hour_of(timestamp),
                environment: owned(environment),
                name: owned(name),
                source: owned(source),
                data_type: owned(data_type),
                string_value: if by_value {
                    owned(string_value)
                } else {
                    String::new()
                },
            },
            value: value.filter(|value| value.is_finite()),
        }
    }
}

/// Rollup rows: the stored tables, a rebuild from raw rows, or the signed deltas of a
/// transaction. Rows whose every sum is zero are left out ([`Rollups::normalize`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollups {
    pub observations: BTreeMap<ObservationKey, ObservationRollup>,
    pub scores: BTreeMap<ScoreKey, ScoreRollup>,
}

impl Rollups {
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.scores.is_empty()
    }

    /// Adds the change of one observation row: `before` subtracted, `after` added.
    pub fn observation(
        &mut self,
        before: Option<&ObservationFacts>,
        after: Option<&ObservationFacts>,
    ) {
        if before == after {
            return;
        }
        for (facts, sign) in [(before, -1), (after, 1)] {
            let Some(facts) = facts else { continue };
            let row = self.observations.entry(facts.key.clone()).or_default();
            row.count += sign;
            row.input_tokens = row.input_tokens.wrapping_add(sign * facts.input_tokens);
            row.output_tokens = row.output_tokens.wrapping_add(sign * facts.output_tokens);
            row.total_tokens = row.total_tokens.wrapping_add(sign * facts.total_tokens);
            row.cost_nanos = row.cost_nanos.wrapping_add(sign * facts.cost_nanos);
            if let Some(bucket) = facts.latency_bucket {
                let count = row.latency.entry(bucket).or_default();
                *count += sign;
                if *count == 0 {
                    row.latency.remove(&bucket);
                }
            }
            if row.is_zero() {
                self.observations.remove(&facts.key);
            }
        }
    }

    /// Adds the change of one score row.
    pub fn score(&mut self, before: Option<&ScoreFacts>, after: Option<&ScoreFacts>) {
        if before == after {
            return;
        }
        for (facts, sign) in [(before, -1), (after, 1)] {
            let Some(facts) = facts else { continue };
            let row = self.scores.entry(facts.key.clone()).or_default();
            row.count += sign;
            if let Some(value) = facts.value {
                row.value_count += sign;
                row.value_sum += sign as f64 * value;
            }
            // Only a delta that changes nothing goes: a changed value keeps its counts.
            if row.count == 0 && row.value_count == 0 && row.value_sum == 0.0 {
                self.scores.remove(&facts.key);
            }
        }
    }

    /// Leaves out the rows that count nothing (a table keeps rows whose counts went back
    /// to 0; a score's value sum may keep a rounding residue).
    pub fn normalize(&mut self) {
        self.observations.retain(|_, row| {
            row.latency.retain(|_, count| *count != 0);
            !row.is_zero()
        });
        self.scores
            .retain(|_, row| row.count != 0 || row.value_count != 0);
    }

    /// The additive upserts that add these deltas to the tables, in key order (so that
    /// concurrent transactions take the rows' locks in one order and never deadlock).
    pub fn statements(&self, dialect: Dialect) -> Vec<Sql> {
        let mut statements = Vec::new();
        for (key, row) in &self.observations {
            let sums = [
                row.count,
                row.input_tokens,
                row.output_tokens,
                row.total_tokens,
                row.cost_nanos,
            ];
            // A delta that only moves latency counts leaves the sums as they are.
            if sums.iter().any(|sum| *sum != 0) {
                let mut values = key.params();
                values.extend(sums.map(Param::Int));
                statements.push(additive_upsert(
                    dialect,
                    "observation_rollups",
                    OBSERVATION_KEY_COLUMNS,
                    &OBSERVATION_SUMS,
                    values,
                ));
            }
        }
        for (key, row) in &self.observations {
            for (bucket, count) in &row.latency {
                let mut values = key.params();
                values.extend([Param::Int(*bucket), Param::Int(*count)]);
                statements.push(additive_upsert(
                    dialect,
                    "observation_latency_buckets",
                    OBSERVATION_BUCKET_KEY_COLUMNS,
                    &["observation_count"],
                    values,
                ));
            }
        }
        for (key, row) in &self.scores {
            let mut values: Vec<Param> = vec![
                key.project_id.as_str().into(),
                key.hour.into(),
                key.environment.as_str().into(),
                key.name.as_str().into(),
                key.source.as_str().into(),
                key.data_type.as_str().into(),
                key.string_value.as_str().into(),
            ];
            values.extend([
                Param::Int(row.count),
                Param::Int(row.value_count),
                Param::Float(row.value_sum),
            ]);
            statements.push(additive_upsert(
                dialect,
                "score_rollups",
                SCORE_KEY_COLUMNS,
                &["score_count", "value_count", "value_sum"],
                values,
            ));
        }
        statements
    }
}

impl ObservationKey {
    /// The values of [`OBSERVATION_KEY_COLUMNS`].
    fn params(&self) -> Vec<Param> {
        vec![
            self.project_id.as_str().into(),
            self.hour.into(),
            self.environment.as_str().into(),
            self.observation_type.as_str().into(),
            self.name.as_str().into(),
            self.model.as_str().into(),
            self.prompt_name.as_str().into(),
            self.prompt_version.into(),
        ]
    }
}

/// The key columns of `observation_rollups`.
pub const OBSERVATION_KEY_COLUMNS: &str =
    "project_id, hour, environment, type, name, model, prompt_name, prompt_version";

/// The key columns of `observation_latency_buckets`.
pub const OBSERVATION_BUCKET_KEY_COLUMNS: &str =
    "project_id, hour, environment, type, name, model, prompt_name, prompt_version, bucket";

/// The summed columns of `observation_rollups`.
const OBSERVATION_SUMS: [&str; 5] = [
    "observation_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_nanos",
];

/// The key columns of `score_rollups`.
pub const SCORE_KEY_COLUMNS: &str =
    "project_id, hour, environment, name, source, data_type, string_value";

/// `INSERT INTO table (key, sums) VALUES (values) ON CONFLICT (key) DO UPDATE SET
/// sum = table.sum + excluded.sum, …`: `values` are the key's then the sums'.
fn additive_upsert(
    dialect: Dialect,
    table: &str,
    key: &str,
    sums: &[&str],
    values: Vec<Param>,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!("INSERT INTO {table} ({key}, {}) VALUES (", sums.join(", ")),
    );
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(value);
    }
    let sets: Vec<String> = sums
        .iter()
        .map(|sum| format!("{sum} = {table}.{sum} + excluded.{sum}"))
        .collect();
    sql.push(&format!(
        ") ON CONFLICT ({key}) DO UPDATE SET {}",
        sets.join(", ")
    ));
    sql
}

#[cfg(test)]
mod tests;
