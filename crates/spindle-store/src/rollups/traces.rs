//! The trace rollups: per project, hour of the trace's timestamp, environment, trace name and
//! release, the count of traces with the sums of their totals (observations, ERROR
//! observations, tokens, cost in nano-USD) and a latency histogram of the traces (the
//! trace's latency as `trace_totals` holds it, in [`latency_bucket`]s).
//!
//! The trace model rollups ([`TraceModelKey`]) hold, per project, hour of the trace's
//! timestamp, environment, trace name and the model of its observations, the count of
//! traces with observations of the model and the sums of those observations (count, tokens,
//! cost in nano-USD): what the daily metrics report per day and model. A trace adds one to
//! each model its observations name (absent models are `""`).
//!
//! They are the deltas of `trace_totals` rows, not of observations: a trace's name, release
//! or timestamp may arrive after its observations, and the writers recompute a trace's
//! totals row whenever anything of the trace changes (`trace_totals.rs`). Each refresh or
//! deletion of totals rows reads the rows before and after, and [`Rollups::trace`] adds the
//! difference, so the rollups always hold exactly what the stored totals rows add up to.

use std::collections::BTreeMap;

use spindle_core::time::Micros;

use super::{
    add_to_bucket, cost_nanos, hour_of, latency_bucket, AdditiveUpserts, HistogramTables, Rollups,
    Usage,
};
use crate::sql::rows::decode_json;
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::Result;

/// The dimensions of a trace rollup row; absent text is `""`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceKey {
    pub project_id: String,
    /// The start of the hour of the trace's timestamp ([`super::NO_HOUR`] without one).
    pub hour: Micros,
    pub environment: String,
    pub name: String,
    pub release: String,
}

/// The sums of one trace rollup row and its latency histogram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceRollup {
    pub count: i64,
    pub observation_count: i64,
    /// Observations at level `ERROR`.
    pub error_count: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    /// Traces per latency bucket (only those with a latency: with observations).
    pub latency: BTreeMap<i64, i64>,
}

impl super::Histogram for TraceRollup {
    fn latency(&self) -> &BTreeMap<i64, i64> {
        &self.latency
    }

    fn latency_mut(&mut self) -> &mut BTreeMap<i64, i64> {
        &mut self.latency
    }

    fn sums(&self) -> Vec<i64> {
        TraceRollup::sums(self).to_vec()
    }
}

impl super::HourlyKey for TraceKey {
    fn at_day(&self) -> Self {
        TraceKey {
            hour: super::day_of_hour(self.hour),
            ..self.clone()
        }
    }

    fn key_params(&self) -> Vec<Param> {
        self.params()
    }
}

impl super::HourlyKey for TraceAttributeKey {
    fn at_day(&self) -> Self {
        let mut day = self.clone();
        day.trace.hour = super::day_of_hour(self.trace.hour);
        day
    }

    fn key_params(&self) -> Vec<Param> {
        self.params()
    }
}

impl TraceRollup {
    /// The sums of a stored row read with [`TRACE_SUMS`] (no latency buckets).
    pub fn from_sums(row: &impl RowAccess) -> Result<Self> {
        Ok(TraceRollup {
            count: row.int("trace_count")?,
            observation_count: row.int("observation_count")?,
            error_count: row.int("error_count")?,
            total_tokens: row.int("total_tokens")?,
            cost_nanos: row.int("cost_nanos")?,
            latency: BTreeMap::new(),
        })
    }

    fn sums(&self) -> [i64; 5] {
        [
            self.count,
            self.observation_count,
            self.error_count,
            self.total_tokens,
            self.cost_nanos,
        ]
    }

    pub(super) fn is_zero(&self) -> bool {
        self.sums().iter().all(|sum| *sum == 0) && self.latency.is_empty()
    }
}

/// What one `trace_totals` row adds to the trace rollups.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFacts {
    pub trace_id: String,
    pub key: TraceKey,
    /// The trace's timestamp, or its creation when it has none (the people rollups' day).
    pub trace_time: Micros,
    /// The trace's user and session, whose people rollups it adds to.
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub observation_count: i64,
    pub error_count: i64,
    pub usage: Usage,
    /// `None` without a latency (a trace without observations with a start).
    pub latency_bucket: Option<i64>,
    /// Its observations per model (`""` for those without one).
    pub models: BTreeMap<String, ModelTotals>,
    /// The trace's tags, sorted, without repeats.
    pub tags: Vec<String>,
    /// Its observations by hour, environment, type, model and level
    /// (`rollups/attributes.rs`).
    pub breakdown: super::Breakdown,
    /// Its scores by hour, environment, name, source, data type and value key.
    pub score_breakdown: super::ScoreBreakdown,
    /// Its values of the project's rolled-up metadata keys, as
    /// [`super::metadata_attribute`] values, sorted.
    pub metadata: Vec<String>,
}

#[cfg(test)]
impl TraceFacts {
    /// The facts of trace `t` of project `p` named `name`, at time 0, with nothing else.
    pub(crate) fn named(name: &str) -> TraceFacts {
        TraceFacts {
            trace_id: "t".to_owned(),
            key: TraceKey {
                project_id: "p".to_owned(),
                hour: 0,
                environment: String::new(),
                name: name.to_owned(),
                release: String::new(),
            },
            trace_time: 0,
            user_id: None,
            session_id: None,
            observation_count: 0,
            error_count: 0,
            usage: Usage::default(),
            latency_bucket: None,
            models: BTreeMap::new(),
            tags: Vec::new(),
            breakdown: BTreeMap::new(),
            score_breakdown: BTreeMap::new(),
            metadata: Vec::new(),
        }
    }
}

/// What a trace's observations of one model add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelTotals {
    pub observation_count: i64,
    /// Its tokens, and its summed cost rounded once to nano-USD.
    pub usage: Usage,
}

impl ModelTotals {
    fn add(&mut self, other: &ModelTotals, sign: i64) {
        self.observation_count += sign * other.observation_count;
        self.usage.add(&other.usage, sign);
    }

    /// The per-model totals of a `trace_totals.models` text (a JSON array of
    /// `[model, observations, input, output, total, cost_nanos]`; NULL without observations).
    pub fn parse_all(text: Option<&str>) -> Result<BTreeMap<String, ModelTotals>> {
        type Entry = (Option<String>, i64, i64, i64, i64, i64);
        let entries: Vec<Entry> = match text {
            None => Vec::new(),
            Some(text) => decode_json(text, "trace_totals.models")?,
        };
        let mut models: BTreeMap<String, ModelTotals> = BTreeMap::new();
        for (model, observations, input, output, total, cost) in entries {
            let totals = ModelTotals {
                observation_count: observations,
                usage: Usage {
                    input_tokens: input,
                    output_tokens: output,
                    total_tokens: total,
                    cost_nanos: cost,
                },
            };
            // An absent model and `""` are one key.
            models
                .entry(model.unwrap_or_default())
                .or_default()
                .add(&totals, 1);
        }
        Ok(models)
    }
}

/// The dimensions of a trace model rollup row; absent text is `""`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceModelKey {
    pub project_id: String,
    /// The start of the hour of the trace's timestamp ([`super::NO_HOUR`] without one).
    pub hour: Micros,
    pub environment: String,
    pub name: String,
    pub model: String,
}

/// The sums of one trace model rollup row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceModelRollup {
    /// Traces with observations of the model.
    pub trace_count: i64,
    pub totals: ModelTotals,
}

impl TraceModelRollup {
    fn sums(&self) -> [i64; 6] {
        let [input, output, total, cost] = self.totals.usage.sums();
        [
            self.trace_count,
            self.totals.observation_count,
            input,
            output,
            total,
            cost,
        ]
    }

    pub(super) fn is_zero(&self) -> bool {
        self.sums().iter().all(|sum| *sum == 0)
    }
}

/// The columns of `trace_totals` that [`TraceFacts::from_row`] reads.
pub const TRACE_FACT_COLUMNS: &str = "trace_id, trace_time, timestamp, user_id, session_id, \
     environment, name, release, observation_count, error_count, usage_input, usage_output, \
     usage_total, total_cost, latency, models, tags, breakdown, score_breakdown, metadata_values";

impl TraceFacts {
    /// The facts of a `trace_totals` row read with [`TRACE_FACT_COLUMNS`].
    pub fn from_row(project_id: &str, row: &impl RowAccess) -> Result<Self> {
        let text = |name: &str| -> Result<String> { Ok(row.opt_text(name)?.unwrap_or_default()) };
        Ok(TraceFacts {
            trace_id: row.text("trace_id")?,
            key: TraceKey {
                project_id: project_id.to_owned(),
                hour: hour_of(row.opt_int("timestamp")?),
                environment: text("environment")?,
                name: text("name")?,
                release: text("release")?,
            },
            trace_time: row.int("trace_time")?,
            user_id: row.opt_text("user_id")?,
            session_id: row.opt_text("session_id")?,
            observation_count: row.int("observation_count")?,
            error_count: row.int("error_count")?,
            usage: Usage {
                input_tokens: row.int("usage_input")?,
                output_tokens: row.int("usage_output")?,
                total_tokens: row.int("usage_total")?,
                cost_nanos: cost_nanos(Some(row.float("total_cost")?)),
            },
            latency_bucket: row.opt_int("latency")?.map(latency_bucket),
            models: ModelTotals::parse_all(row.opt_text("models")?.as_deref())?,
            tags: super::parse_tags(row.opt_text("tags")?.as_deref()),
            breakdown: super::parse_breakdown(row.opt_text("breakdown")?.as_deref())?,
            score_breakdown: super::parse_score_breakdown(
                row.opt_text("score_breakdown")?.as_deref(),
            )?,
            metadata: super::parse_metadata_values(row.opt_text("metadata_values")?.as_deref())?,
        })
    }
}

impl Rollups {
    /// Adds the change of one `trace_totals` row: `before` subtracted, `after` added.
    pub fn trace(&mut self, before: Option<&TraceFacts>, after: Option<&TraceFacts>) {
        if before == after {
            return;
        }
        self.sessions(before, after);
        for (facts, sign) in [(before, -1), (after, 1)] {
            let Some(facts) = facts else { continue };
            add_trace(&mut self.traces, facts.key.clone(), facts, sign);
            // Under its user, each tag and each rolled-up metadata value too (its name and
            // release are the key's).
            let metadata = facts
                .metadata
                .iter()
                .map(|pair| (super::METADATA_KIND, pair.as_str()));
            for (kind, value) in facts.attributes().chain(metadata) {
                if TRACE_ATTRIBUTE_KINDS.contains(&kind) {
                    let key = TraceAttributeKey {
                        kind: kind.to_owned(),
                        value: value.to_owned(),
                        trace: facts.key.clone(),
                    };
                    add_trace(&mut self.trace_attributes, key, facts, sign);
                }
            }
            self.people(facts, sign);
            self.attributes(facts, sign);
            self.score_attributes(facts, sign);
            for (model, totals) in &facts.models {
                let key = TraceModelKey {
                    project_id: facts.key.project_id.clone(),
                    hour: facts.key.hour,
                    environment: facts.key.environment.clone(),
                    name: facts.key.name.clone(),
                    model: model.clone(),
                };
                let row = self.trace_models.entry(key.clone()).or_default();
                row.trace_count += sign;
                row.totals.add(totals, sign);
                if row.is_zero() {
                    self.trace_models.remove(&key);
                }
            }
        }
    }

    /// The additive upserts of the trace rollup deltas, in key order.
    pub(super) fn trace_statements(&self, dialect: Dialect, statements: &mut Vec<Sql>) {
        TRACE_TABLES.add(dialect, &self.traces, statements);
        TRACE_ATTRIBUTE_TABLES.add(dialect, &self.trace_attributes, statements);
        let mut upserts = AdditiveUpserts::new(
            "trace_model_rollups",
            TRACE_MODEL_KEY_COLUMNS,
            &TRACE_MODEL_SUMS,
        );
        for (key, row) in &self.trace_models {
            let mut values = vec![
                key.project_id.as_str().into(),
                key.hour.into(),
                key.environment.as_str().into(),
                key.name.as_str().into(),
                key.model.as_str().into(),
            ];
            values.extend(row.sums().into_iter().map(Param::Int));
            upserts.push(values);
        }
        upserts.write(dialect, statements);
    }
}

/// Adds (`sign` 1) or subtracts (-1) one trace's totals to the row `key` of `rows`, leaving
/// the row out when it counts nothing.
fn add_trace<K: Ord + Clone>(
    rows: &mut BTreeMap<K, TraceRollup>,
    key: K,
    facts: &TraceFacts,
    sign: i64,
) {
    let row = rows.entry(key.clone()).or_default();
    row.count += sign;
    row.observation_count += sign * facts.observation_count;
    row.error_count += sign * facts.error_count;
    row.total_tokens = row
        .total_tokens
        .wrapping_add(sign.wrapping_mul(facts.usage.total_tokens));
    row.cost_nanos = row
        .cost_nanos
        .wrapping_add(sign.wrapping_mul(facts.usage.cost_nanos));
    add_to_bucket(&mut row.latency, facts.latency_bucket, sign);
    if row.is_zero() {
        rows.remove(&key);
    }
}

/// The attributes the trace attribute rollups are keyed by (the trace rollups key the name
/// and release already): the user, each tag and each rolled-up metadata key's value.
pub const TRACE_ATTRIBUTE_KINDS: [&str; 3] = ["user", "tag", super::METADATA_KIND];

/// The dimensions of a trace attribute rollup row: a trace rollup's under one of the
/// traces' users or tags.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceAttributeKey {
    /// One of [`TRACE_ATTRIBUTE_KINDS`].
    pub kind: String,
    /// The user id or tag (never empty).
    pub value: String,
    pub trace: TraceKey,
}

impl TraceAttributeKey {
    /// The values of [`TRACE_ATTRIBUTE_KEY_COLUMNS`].
    fn params(&self) -> Vec<Param> {
        let mut params = self.trace.params();
        params.insert(1, self.kind.as_str().into());
        params.insert(2, self.value.as_str().into());
        params
    }

    /// The key of a stored row of the trace attribute tables.
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(TraceAttributeKey {
            kind: row.text("kind")?,
            value: row.text("value")?,
            trace: TraceKey::from_row(row)?,
        })
    }
}

/// The key columns of `trace_attribute_rollups`.
pub const TRACE_ATTRIBUTE_KEY_COLUMNS: &str =
    "project_id, kind, value, hour, environment, name, release";

/// The trace attribute rollups' latency buckets per UTC day.
pub const TRACE_ATTRIBUTE_DAYS_TABLE: &str = "trace_attribute_days";

/// The trace attribute rollups' tables.
const TRACE_ATTRIBUTE_TABLES: HistogramTables = HistogramTables {
    sums_table: "trace_attribute_rollups",
    sums_key: TRACE_ATTRIBUTE_KEY_COLUMNS,
    sums: &TRACE_SUMS,
    buckets_table: "trace_attribute_buckets",
    buckets_key: "project_id, kind, value, hour, environment, name, release, bucket",
    bucket_count: "trace_count",
    days_table: TRACE_ATTRIBUTE_DAYS_TABLE,
};

/// The trace rollups' tables.
const TRACE_TABLES: HistogramTables = HistogramTables {
    sums_table: "trace_rollups",
    sums_key: TRACE_KEY_COLUMNS,
    sums: &TRACE_SUMS,
    buckets_table: "trace_latency_buckets",
    buckets_key: TRACE_BUCKET_KEY_COLUMNS,
    bucket_count: "trace_count",
    days_table: super::TRACE_DAYS_TABLE,
};

impl TraceKey {
    /// The values of [`TRACE_KEY_COLUMNS`].
    fn params(&self) -> Vec<Param> {
        vec![
            self.project_id.as_str().into(),
            self.hour.into(),
            self.environment.as_str().into(),
            self.name.as_str().into(),
            self.release.as_str().into(),
        ]
    }

    /// The key of a stored row of `trace_rollups` or `trace_latency_buckets`.
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(TraceKey {
            project_id: row.text("project_id")?,
            hour: row.int("hour")?,
            environment: row.text("environment")?,
            name: row.text("name")?,
            release: row.text("release")?,
        })
    }
}

impl TraceModelKey {
    /// The key of a stored row of `trace_model_rollups`.
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(TraceModelKey {
            project_id: row.text("project_id")?,
            hour: row.int("hour")?,
            environment: row.text("environment")?,
            name: row.text("name")?,
            model: row.text("model")?,
        })
    }
}

impl TraceModelRollup {
    /// The sums of a stored row of `trace_model_rollups`, read with [`TRACE_MODEL_SUMS`].
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(TraceModelRollup {
            trace_count: row.int("trace_count")?,
            totals: ModelTotals {
                observation_count: row.int("observation_count")?,
                usage: Usage::from_row(row)?,
            },
        })
    }
}

/// The key columns of `trace_model_rollups`.
pub const TRACE_MODEL_KEY_COLUMNS: &str = "project_id, hour, environment, name, model";

/// The summed columns of `trace_model_rollups`, in the order of [`TraceModelRollup::sums`].
pub const TRACE_MODEL_SUMS: [&str; 6] = [
    "trace_count",
    "observation_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_nanos",
];

/// The key columns of `trace_rollups`.
pub const TRACE_KEY_COLUMNS: &str = "project_id, hour, environment, name, release";

/// The key columns of `trace_latency_buckets`.
pub const TRACE_BUCKET_KEY_COLUMNS: &str = "project_id, hour, environment, name, release, bucket";

/// The summed columns of `trace_rollups`, in the order of [`TraceRollup::sums`].
pub const TRACE_SUMS: [&str; 5] = [
    "trace_count",
    "observation_count",
    "error_count",
    "total_tokens",
    "cost_nanos",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str, observations: i64, latency: Option<i64>) -> TraceFacts {
        TraceFacts {
            observation_count: observations,
            error_count: observations / 2,
            usage: Usage {
                input_tokens: 6 * observations,
                output_tokens: 4 * observations,
                total_tokens: 10 * observations,
                cost_nanos: 7 * observations,
            },
            latency_bucket: latency.map(latency_bucket),
            ..TraceFacts::named(name)
        }
    }

    #[test]
    fn a_renamed_trace_moves_its_whole_row_and_an_unchanged_one_nothing() {
        let mut rollups = Rollups::default();
        let created = facts("a", 0, None);
        rollups.trace(None, Some(&created));
        let grown = facts("a", 3, Some(2_000_000));
        rollups.trace(Some(&created), Some(&grown));
        rollups.trace(Some(&grown), Some(&grown));
        let renamed = facts("b", 3, Some(2_000_000));
        rollups.trace(Some(&grown), Some(&renamed));
        assert_eq!(rollups.traces.len(), 1);
        let row = &rollups.traces[&renamed.key];
        assert_eq!(
            row.sums(),
            [1, 3, 1, 30, 21],
            "one trace with its totals under its new name"
        );
        assert_eq!(
            row.latency,
            BTreeMap::from([(latency_bucket(2_000_000), 1)])
        );
        rollups.trace(Some(&renamed), None);
        assert!(rollups.traces.is_empty(), "{:?}", rollups.traces);
        assert!(rollups.statements(Dialect::Sqlite).is_empty());
    }

    #[test]
    fn a_moved_latency_upserts_buckets_only() {
        let mut rollups = Rollups::default();
        rollups.trace(
            Some(&facts("a", 1, Some(1_000))),
            Some(&facts("a", 1, Some(900_000))),
        );
        let statements = rollups.statements(Dialect::Sqlite);
        // Out of one bucket and into another (two rows), in its hour and in its day.
        assert_eq!(statements.len(), 2);
        assert!(statements[0]
            .text
            .starts_with("INSERT INTO trace_latency_buckets"));
        assert!(statements[1]
            .text
            .starts_with("INSERT INTO trace_latency_days"));
        assert!(statements.iter().all(|sql| sql.params.len() == 2 * 7));
    }
}
