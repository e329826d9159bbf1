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
//! Only the observation's own fields are dimensions of the observation rollups. Trace-level
//! ones (trace name, user, session, tags, release) are not: a trace's name can arrive after
//! its observations and would move every rolled-up row of the trace. The trace rollups
//! ([`traces`]) hold the trace name, environment and release instead, and per trace name,
//! environment and model the usage the daily metrics report, as deltas of the
//! `trace_totals` rows the writers recompute whenever a trace, its observations or its
//! scores change; the attribute rollups ([`attributes`]) hold the observations and scores
//! under their trace's user, name, release and tags the same way, from breakdowns of them
//! that the totals rows carry.

use crate::sql::rows::{total_cost, total_usage};
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::Result;
use spindle_core::record::DerivedCost;
use spindle_core::time::Micros;
use spindle_core::{Level, ObservationRecord, ScoreDataType, ScoreRecord};
use std::collections::{BTreeMap, BTreeSet};

mod attributes;
mod people;
mod traces;
pub use attributes::{
    breakdown_select as attributes_breakdown_select, metadata_attribute, metadata_values_select,
    parse_breakdown, parse_metadata_values, parse_score_breakdown, parse_tags,
    score_breakdown_select, AttributeKey, Breakdown, BreakdownKey, ScoreAttributeKey,
    ScoreBreakdown, ScoreBreakdownKey, ATTRIBUTE_BUCKET_KEY_COLUMNS, ATTRIBUTE_DAYS_TABLE,
    ATTRIBUTE_KEY_COLUMNS, ATTRIBUTE_SUMS, METADATA_KIND, SCORE_ATTRIBUTE_KEY_COLUMNS,
};
pub use people::{
    day_of, PeopleKey, PeopleRollup, SessionKey, SessionTotals, DAY_MICROS, PEOPLE_KEY_COLUMNS,
    PEOPLE_SUMS, SESSION_COLUMNS, SESSION_SUMS,
};
pub use traces::{
    ModelTotals, TraceAttributeKey, TraceFacts, TraceKey, TraceModelKey, TraceModelRollup,
    TraceRollup, TRACE_ATTRIBUTE_DAYS_TABLE, TRACE_ATTRIBUTE_KEY_COLUMNS, TRACE_ATTRIBUTE_KINDS,
    TRACE_BUCKET_KEY_COLUMNS, TRACE_FACT_COLUMNS, TRACE_KEY_COLUMNS, TRACE_MODEL_KEY_COLUMNS,
    TRACE_MODEL_SUMS, TRACE_SUMS,
};

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

/// Token and cost sums as the rollup tables keep them: whole numbers, the cost in nano-USD
/// ([`cost_nanos`]), added with wrapping like the stored integer columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
}

impl Usage {
    /// Adds `sign` (1, or -1 to take away) times `other`.
    pub fn add(&mut self, other: &Usage, sign: i64) {
        let add = |sum: &mut i64, value: i64| *sum = sum.wrapping_add(sign.wrapping_mul(value));
        add(&mut self.input_tokens, other.input_tokens);
        add(&mut self.output_tokens, other.output_tokens);
        add(&mut self.total_tokens, other.total_tokens);
        add(&mut self.cost_nanos, other.cost_nanos);
    }

    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }

    /// In the order of the tables' columns: input, output and total tokens, cost.
    pub fn sums(&self) -> [i64; 4] {
        [
            self.input_tokens,
            self.output_tokens,
            self.total_tokens,
            self.cost_nanos,
        ]
    }

    /// Read from the columns `input_tokens`, `output_tokens`, `total_tokens` and
    /// `cost_nanos`.
    pub fn from_row(row: &impl RowAccess) -> Result<Usage> {
        Ok(Usage {
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            total_tokens: row.int("total_tokens")?,
            cost_nanos: row.int("cost_nanos")?,
        })
    }
}

/// The dimensions of an observation rollup row. Absent text is `""` and an absent prompt
/// version 0, as the tables store them (their keys cannot hold NULL); an absent level is
/// `DEFAULT`, as the metrics' observations view reads it.
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
    /// `DEBUG`, `DEFAULT`, `WARNING` or `ERROR`.
    pub level: String,
}

/// The sums of one observation rollup row and its latency histogram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservationRollup {
    pub count: i64,
    pub usage: Usage,
    /// Observations per latency bucket (only those with an end time).
    pub latency: BTreeMap<i64, i64>,
}

/// A rollup row with latency buckets.
pub trait Histogram {
    fn latency(&self) -> &BTreeMap<i64, i64>;
    fn latency_mut(&mut self) -> &mut BTreeMap<i64, i64>;
    /// The summed columns' values, in the order of its table's columns.
    fn sums(&self) -> Vec<i64>;
}

/// The key of a rollup row kept per hour, whose latency buckets are kept per UTC day too.
pub trait HourlyKey: Ord + Clone {
    /// The same key with its hour's UTC day in place of the hour ([`NO_HOUR`] kept).
    fn at_day(&self) -> Self;
    /// The values of its table's key columns.
    fn key_params(&self) -> Vec<Param>;
}

/// The latency buckets of `rows` summed per UTC day (what a days table holds); buckets at 0
/// left out.
pub fn days_of<K: HourlyKey, R: Histogram>(
    rows: &BTreeMap<K, R>,
) -> BTreeMap<K, BTreeMap<i64, i64>> {
    latency_days(rows.iter().map(|(key, row)| (key.at_day(), row.latency())))
}

impl Histogram for ObservationRollup {
    fn latency(&self) -> &BTreeMap<i64, i64> {
        &self.latency
    }

    fn latency_mut(&mut self) -> &mut BTreeMap<i64, i64> {
        &mut self.latency
    }

    fn sums(&self) -> Vec<i64> {
        let mut sums = vec![self.count];
        sums.extend(self.usage.sums());
        sums
    }
}

impl HourlyKey for ObservationKey {
    fn at_day(&self) -> Self {
        ObservationKey {
            hour: day_of_hour(self.hour),
            ..self.clone()
        }
    }

    fn key_params(&self) -> Vec<Param> {
        self.params()
    }
}

impl ObservationRollup {
    /// The sums of a stored row read with [`OBSERVATION_SUMS`] (no latency buckets).
    pub fn from_sums(row: &impl RowAccess) -> Result<Self> {
        Ok(ObservationRollup {
            count: row.int("observation_count")?,
            usage: Usage::from_row(row)?,
            latency: BTreeMap::new(),
        })
    }

    fn is_zero(&self) -> bool {
        self.count == 0 && self.usage.is_zero() && self.latency.is_empty()
    }

    /// Adds `sign` (1, or -1 to take away) times `other`, latency buckets too.
    pub fn add(&mut self, other: &ObservationRollup, sign: i64) {
        self.count += sign * other.count;
        self.usage.add(&other.usage, sign);
        for (bucket, count) in &other.latency {
            add_to_bucket(&mut self.latency, Some(*bucket), sign * count);
        }
    }
}

/// The dimensions of a score rollup row. `string_value` is the value of a categorical score;
/// of a boolean score, whether its value is other than 0 ([`boolean_key`]: what the
/// metrics' boolean view groups as `booleanValue`, whatever text the score holds); `""` for
/// the others.
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
    pub id: String,
    /// Its trace, whose `trace_totals` row it adds to.
    pub trace_id: Option<String>,
    pub key: ObservationKey,
    /// Its link to a prompt version, which makes its trace's scores count for the version.
    pub link: Option<PromptLink>,
    pub usage: Usage,
    /// `None` without a start or end time.
    pub latency_bucket: Option<i64>,
}

/// The columns of `observations` that [`ObservationFacts::from_row`] reads.
pub const OBSERVATION_FACT_COLUMNS: &str = "id, trace_id, start_time, end_time, environment, \
     type, name, model, prompt_name, prompt_version, level, total_cost, usage_input, \
     usage_output, usage_total";

/// The columns of `scores` that [`ScoreFacts::from_row`] reads.
pub const SCORE_FACT_COLUMNS: &str = "id, trace_id, observation_id, timestamp, environment, \
     name, source, data_type, value, string_value";

/// The stored columns an observation's facts come from.
struct ObservationColumns<'a> {
    id: &'a str,
    trace_id: Option<&'a str>,
    start_time: Option<Micros>,
    end_time: Option<Micros>,
    environment: Option<&'a str>,
    observation_type: Option<&'a str>,
    name: Option<&'a str>,
    model: Option<&'a str>,
    prompt_name: Option<&'a str>,
    prompt_version: Option<i64>,
    level: Option<&'a str>,
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
                id: &record.id,
                trace_id: record.trace_id.as_deref(),
                start_time: record.start_time,
                end_time: record.end_time,
                environment: record.environment.as_deref(),
                observation_type: record.observation_type.map(|t| t.as_str()),
                name: record.name.as_deref(),
                model: record.model.as_deref(),
                prompt_name: record.prompt_name.as_deref(),
                prompt_version: record.prompt_version,
                level: record.level.map(|level| level.as_str()),
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
        let (id, trace_id) = (row.text("id")?, text("trace_id")?);
        let (environment, observation_type, name, model, prompt_name, level) = (
            text("environment")?,
            text("type")?,
            text("name")?,
            text("model")?,
            text("prompt_name")?,
            text("level")?,
        );
        Ok(Self::from_columns(
            project_id,
            ObservationColumns {
                id: &id,
                trace_id: trace_id.as_deref(),
                start_time: row.opt_int("start_time")?,
                end_time: row.opt_int("end_time")?,
                environment: environment.as_deref(),
                observation_type: observation_type.as_deref(),
                name: name.as_deref(),
                model: model.as_deref(),
                prompt_name: prompt_name.as_deref(),
                prompt_version: row.opt_int("prompt_version")?,
                level: level.as_deref(),
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
        let link = match (
            columns.trace_id,
            columns.prompt_name,
            columns.prompt_version,
        ) {
            (Some(trace_id), Some(prompt_name), Some(prompt_version)) => Some(PromptLink {
                trace_id: trace_id.to_owned(),
                prompt_name: prompt_name.to_owned(),
                prompt_version,
            }),
            _ => None,
        };
        ObservationFacts {
            id: columns.id.to_owned(),
            trace_id: columns.trace_id.map(str::to_owned),
            link,
            key: ObservationKey {
                project_id: project_id.to_owned(),
                hour: hour_of(columns.start_time),
                environment: owned(columns.environment),
                observation_type: owned(columns.observation_type),
                name: owned(columns.name),
                model: owned(columns.model),
                prompt_name: owned(columns.prompt_name),
                prompt_version: columns.prompt_version.unwrap_or(0),
                level: columns.level.unwrap_or(Level::Default.as_str()).to_owned(),
            },
            usage: Usage {
                input_tokens: columns.usage_input.unwrap_or(0),
                output_tokens: columns.usage_output.unwrap_or(0),
                total_tokens: columns.usage_total.unwrap_or(0),
                cost_nanos: cost_nanos(columns.total_cost),
            },
            latency_bucket,
        }
    }
}

/// What one stored score adds to the rollups.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreFacts {
    pub id: String,
    /// Its trace, whose `trace_totals` row (score breakdown) it adds to.
    pub trace_id: Option<String>,
    pub key: ScoreKey,
    /// The numeric value, when finite.
    pub value: Option<f64>,
    /// How the score counts in the averages of the prompt versions of its trace, if it does.
    pub linked: Option<LinkedScore>,
}

impl ScoreFacts {
    pub fn of(project_id: &str, record: &ScoreRecord) -> Self {
        Self::from_columns(
            project_id,
            [
                Some(record.id.as_str()),
                record.trace_id.as_deref(),
                record.observation_id.as_deref(),
            ],
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
        let ids = [
            row.opt_text("id")?,
            row.opt_text("trace_id")?,
            row.opt_text("observation_id")?,
        ];
        let texts = [
            row.opt_text("environment")?,
            row.opt_text("name")?,
            row.opt_text("source")?,
            row.opt_text("data_type")?,
            row.opt_text("string_value")?,
        ];
        Ok(Self::from_columns(
            project_id,
            ids.each_ref().map(Option::as_deref),
            row.opt_int("timestamp")?,
            texts.each_ref().map(Option::as_deref),
            row.opt_float("value")?,
        ))
    }

    fn from_columns(
        project_id: &str,
        [id, trace_id, observation_id]: [Option<&str>; 3],
        timestamp: Option<Micros>,
        [environment, name, source, data_type, string_value]: [Option<&str>; 5],
        value: Option<f64>,
    ) -> Self {
        let owned = |text: Option<&str>| text.unwrap_or_default().to_owned();
        let string_value = match data_type {
            Some(categorical) if categorical == ScoreDataType::Categorical.as_str() => {
                owned(string_value)
            }
            Some(boolean) if boolean == ScoreDataType::Boolean.as_str() => {
                boolean_key(value).to_owned()
            }
            _ => String::new(),
        };
        let value = value.filter(|value| value.is_finite());
        let linked = match (trace_id, name, value) {
            (Some(trace_id), Some(name), Some(value))
                if data_type != Some(ScoreDataType::Categorical.as_str()) =>
            {
                Some(LinkedScore {
                    trace_id: trace_id.to_owned(),
                    observation_id: observation_id.map(str::to_owned),
                    name: name.to_owned(),
                    value,
                })
            }
            _ => None,
        };
        ScoreFacts {
            id: owned(id),
            trace_id: trace_id.map(str::to_owned),
            linked,
            key: ScoreKey {
                project_id: project_id.to_owned(),
                hour: hour_of(timestamp),
                environment: owned(environment),
                name: owned(name),
                source: owned(source),
                data_type: owned(data_type),
                string_value,
            },
            value,
        }
    }
}

/// The `string_value` key of a boolean score: `(value <> 0)` as the metrics' boolean view
/// computes it (`true`, `false`, `""` for NULL). NaN counts as none, as SQLite stores it
/// (NULL); PostgreSQL would compare a stored NaN as `true`, but a boolean score's value is
/// 0 or 1 (`spindle-ingest` refuses others).
pub fn boolean_key(value: Option<f64>) -> &'static str {
    match value {
        Some(value) if value.is_nan() => "",
        Some(value) if value != 0.0 => "true",
        Some(_) => "false",
        None => "",
    }
}

/// An observation's link to a prompt version in its trace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PromptLink {
    pub trace_id: String,
    pub prompt_name: String,
    pub prompt_version: i64,
}

/// A score that counts in the averages of the prompt versions its trace's observations are
/// linked to: it has a trace, a name and a finite value, and is not categorical. A score of
/// the trace (no observation) counts for every version linked in the trace, a score of an
/// observation for that observation's version; either way once per version however many
/// observations of the trace link it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedScore {
    pub trace_id: String,
    pub observation_id: Option<String>,
    pub name: String,
    pub value: f64,
}

/// The key of a prompt score average: a version of a prompt and a score name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromptScoreKey {
    pub project_id: String,
    pub prompt_name: String,
    pub prompt_version: i64,
    pub score_name: String,
}

/// The sums of one prompt score average: how many scores count, and their value sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptScoreRollup {
    pub count: i64,
    pub value_sum: f64,
}

/// The prompt links and counted scores a transaction changed, by row id: the link or score
/// before the transaction (the first change's `before`) and after it (the last `after`).
/// What they change in the prompt score averages depends on the other rows of their traces,
/// so the writer resolves them against the stored rows at the end of the transaction
/// (`rollups_sql::resolve_prompt_scores`) with [`PromptLinkChanges::deltas`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptLinkChanges {
    pub observations: BTreeMap<String, (Option<PromptLink>, Option<PromptLink>)>,
    pub scores: BTreeMap<String, (Option<LinkedScore>, Option<LinkedScore>)>,
}

/// A trace's stored prompt links (by observation id) or counted scores (by score id).
pub type ByTrace<T> = BTreeMap<String, BTreeMap<String, T>>;

/// The part of a row's change that does not depend on its kind: its traces (whose totals
/// rows the caller refreshes, noted even when the rollups' facts did not change: levels and
/// exact times are not facts here) and its prompt link's change. Whether the facts changed.
fn note_change<F: PartialEq, L: Clone + PartialEq>(
    traces: &mut BTreeSet<String>,
    links: &mut BTreeMap<String, (Option<L>, Option<L>)>,
    (before, after): (Option<&F>, Option<&F>),
    parts: impl Fn(&F) -> (&String, Option<&String>, Option<&L>),
) -> bool {
    for facts in [before, after].into_iter().flatten() {
        if let (_, Some(trace_id), _) = parts(facts) {
            traces.insert(trace_id.clone());
        }
    }
    if before == after {
        return false;
    }
    if let Some((id, _, _)) = before.or(after).map(&parts) {
        record_change(
            links,
            id,
            before.and_then(|facts| parts(facts).2),
            after.and_then(|facts| parts(facts).2),
        );
    }
    true
}

fn record_change<T: Clone + PartialEq>(
    changes: &mut BTreeMap<String, (Option<T>, Option<T>)>,
    id: &str,
    before: Option<&T>,
    after: Option<&T>,
) {
    match changes.get_mut(id) {
        Some(change) => change.1 = after.cloned(),
        None if before != after => {
            changes.insert(id.to_owned(), (before.cloned(), after.cloned()));
        }
        None => {}
    }
}

impl PromptLinkChanges {
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.scores.is_empty()
    }

    /// The traces whose averages the changes may move, sorted.
    pub fn traces(&self) -> Vec<String> {
        sorted_traces(
            changed(&self.observations)
                .map(|link| &link.trace_id)
                .chain(changed(&self.scores).map(|score| &score.trace_id)),
        )
    }

    /// The traces where a prompt link changed: those whose every stored counted score is
    /// needed (elsewhere the changed scores alone move the averages).
    pub fn traces_with_link_changes(&self) -> Vec<String> {
        sorted_traces(changed(&self.observations).map(|link| &link.trace_id))
    }

    /// The deltas of the prompt score averages, given the rows stored now (after the
    /// transaction's writes) in the changed traces: `links`, every trace's prompt links, and
    /// `scores`, the counted scores of [`Self::traces_with_link_changes`]. The state before
    /// the transaction is the stored one with the changed rows put back as they were; each
    /// trace's contributions after minus before, where a score's contribution to a version
    /// that is the same on both sides cancels exactly (no float residue).
    pub fn deltas(
        &self,
        project_id: &str,
        links: &ByTrace<PromptLink>,
        scores: &ByTrace<LinkedScore>,
    ) -> BTreeMap<PromptScoreKey, PromptScoreRollup> {
        let (no_links, no_scores) = (BTreeMap::new(), BTreeMap::new());
        let with_link_changes = self.traces_with_link_changes();
        let mut deltas: BTreeMap<PromptScoreKey, PromptScoreRollup> = BTreeMap::new();
        for trace_id in self.traces() {
            let links_after = links.get(&trace_id).unwrap_or(&no_links);
            let links_before = restore(links_after, &self.observations, &trace_id, |link| {
                &link.trace_id
            });
            let scores_after = match with_link_changes.binary_search(&trace_id) {
                Ok(_) => scores.get(&trace_id).unwrap_or(&no_scores).clone(),
                Err(_) => self
                    .scores
                    .iter()
                    .filter_map(|(id, (_, after))| {
                        after
                            .as_ref()
                            .filter(|score| score.trace_id == trace_id)
                            .map(|score| (id.clone(), score.clone()))
                    })
                    .collect(),
            };
            let scores_before = restore(&scores_after, &self.scores, &trace_id, |score| {
                &score.trace_id
            });
            let after = contributions(project_id, &scores_after, links_after);
            let before = contributions(project_id, &scores_before, &links_before);
            for (sign, side, other) in [(1, &after, &before), (-1, &before, &after)] {
                for ((key, score_id), value) in side {
                    let unchanged = other
                        .get(&(key.clone(), score_id.clone()))
                        .is_some_and(|other| other.to_bits() == value.to_bits());
                    if unchanged {
                        continue;
                    }
                    let row = deltas.entry(key.clone()).or_default();
                    row.count += sign;
                    row.value_sum += sign as f64 * value;
                }
            }
        }
        deltas.retain(|_, row| row.count != 0 || row.value_sum != 0.0);
        deltas
    }
}

/// The rows before and after of some changes.
fn changed<T>(changes: &BTreeMap<String, (Option<T>, Option<T>)>) -> impl Iterator<Item = &T> {
    changes
        .values()
        .flat_map(|(before, after)| [before, after])
        .flatten()
}

fn sorted_traces<'a>(traces: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut traces: Vec<String> = traces.cloned().collect();
    traces.sort_unstable();
    traces.dedup();
    traces
}

/// A trace's rows before the transaction: the stored ones without the changed ids, plus the
/// changed rows as they were when they were in this trace.
fn restore<T: Clone>(
    stored: &BTreeMap<String, T>,
    changes: &BTreeMap<String, (Option<T>, Option<T>)>,
    trace_id: &str,
    trace_of: impl Fn(&T) -> &String,
) -> BTreeMap<String, T> {
    let mut rows: BTreeMap<String, T> = stored
        .iter()
        .filter(|(id, _)| !changes.contains_key(*id))
        .map(|(id, row)| (id.clone(), row.clone()))
        .collect();
    for (id, (before, _)) in changes {
        if let Some(before) = before.as_ref().filter(|row| trace_of(row) == trace_id) {
            rows.insert(id.clone(), before.clone());
        }
    }
    rows
}

/// What a trace's counted scores add to the prompt score averages, given its prompt links:
/// per (version key, score id) the score's value, each score once per version.
pub fn contributions(
    project_id: &str,
    scores: &BTreeMap<String, LinkedScore>,
    links: &BTreeMap<String, PromptLink>,
) -> BTreeMap<(PromptScoreKey, String), f64> {
    let mut counted = BTreeMap::new();
    for (score_id, score) in scores {
        for (observation_id, link) in links {
            if score
                .observation_id
                .as_ref()
                .is_some_and(|scored| scored != observation_id)
            {
                continue;
            }
            let key = PromptScoreKey {
                project_id: project_id.to_owned(),
                prompt_name: link.prompt_name.clone(),
                prompt_version: link.prompt_version,
                score_name: score.name.clone(),
            };
            counted.insert((key, score_id.clone()), score.value);
        }
    }
    counted
}

/// Rollup rows: the stored tables, a rebuild from raw rows, or the signed deltas of a
/// transaction. Rows whose every sum is zero are left out ([`Rollups::normalize`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollups {
    pub observations: BTreeMap<ObservationKey, ObservationRollup>,
    pub scores: BTreeMap<ScoreKey, ScoreRollup>,
    pub prompt_scores: BTreeMap<PromptScoreKey, PromptScoreRollup>,
    pub traces: BTreeMap<TraceKey, TraceRollup>,
    /// The users' and sessions' sums per day (`rollups/people.rs`), deltas of the same
    /// `trace_totals` rows as the trace rollups.
    pub people: BTreeMap<PeopleKey, PeopleRollup>,
    /// Per trace name, environment and model (`rollups/traces.rs`).
    pub trace_models: BTreeMap<TraceModelKey, TraceModelRollup>,
    /// Each session's totals over all its traces (`rollups/people.rs`), deltas of the same
    /// `trace_totals` rows.
    pub sessions: BTreeMap<SessionKey, SessionTotals>,
    /// Changes whose prompt score deltas are still to be worked out against the stored rows
    /// (always empty in stored and rebuilt rollups).
    pub prompt_links: PromptLinkChanges,
    /// The stored traces of the changed observations and scores, before and after the
    /// change, whose `trace_totals` rows are to be recomputed: a merge may keep an
    /// observation in the trace it was in whatever trace its patch names, or move it, and a
    /// score's breakdown counts in its trace's row (always empty in stored and rebuilt
    /// rollups).
    pub observation_traces: BTreeSet<String>,
    /// The rows of `observation_latency_days` (buckets at 0 left out) in stored and rebuilt
    /// rollups: as [`crate::rollups_sql::stored`] reads them, or
    /// [`days_of`] of a rebuild. Always empty in deltas, whose
    /// statements add the days of their `observations`.
    pub observation_days: BTreeMap<ObservationKey, BTreeMap<i64, i64>>,
    /// The same of `trace_latency_days` ([`days_of`]).
    pub trace_days: BTreeMap<TraceKey, BTreeMap<i64, i64>>,
    /// The observations per attribute of their trace (`rollups/attributes.rs`), deltas of
    /// the same `trace_totals` rows as the trace rollups.
    pub attributes: BTreeMap<AttributeKey, ObservationRollup>,
    /// The same of `observation_attribute_days` ([`days_of`]).
    pub attribute_days: BTreeMap<AttributeKey, BTreeMap<i64, i64>>,
    /// The scores per attribute of their trace (`rollups/attributes.rs`).
    pub score_attributes: BTreeMap<ScoreAttributeKey, ScoreRollup>,
    /// The trace rollups under each user and tag of the traces (`rollups/traces.rs`).
    pub trace_attributes: BTreeMap<TraceAttributeKey, TraceRollup>,
    /// The same of `trace_attribute_days` ([`days_of`]).
    pub trace_attribute_days: BTreeMap<TraceAttributeKey, BTreeMap<i64, i64>>,
}

impl Rollups {
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
            && self.scores.is_empty()
            && self.prompt_scores.is_empty()
            && self.traces.is_empty()
            && self.people.is_empty()
            && self.trace_models.is_empty()
            && self.attributes.is_empty()
            && self.trace_attributes.is_empty()
            && self.score_attributes.is_empty()
            && self.sessions.is_empty()
            && self.prompt_links.is_empty()
            && self.observation_traces.is_empty()
    }

    /// Adds the change of one observation row: `before` subtracted, `after` added.
    pub fn observation(
        &mut self,
        before: Option<&ObservationFacts>,
        after: Option<&ObservationFacts>,
    ) {
        let changed = note_change(
            &mut self.observation_traces,
            &mut self.prompt_links.observations,
            (before, after),
            |facts| (&facts.id, facts.trace_id.as_ref(), facts.link.as_ref()),
        );
        if !changed {
            return;
        }
        for (facts, sign) in [(before, -1), (after, 1)] {
            let Some(facts) = facts else { continue };
            let row = self.observations.entry(facts.key.clone()).or_default();
            row.count += sign;
            row.usage.add(&facts.usage, sign);
            add_to_bucket(&mut row.latency, facts.latency_bucket, sign);
            if row.is_zero() {
                self.observations.remove(&facts.key);
            }
        }
    }

    /// Adds the change of one score row.
    pub fn score(&mut self, before: Option<&ScoreFacts>, after: Option<&ScoreFacts>) {
        let changed = note_change(
            &mut self.observation_traces,
            &mut self.prompt_links.scores,
            (before, after),
            |facts| (&facts.id, facts.trace_id.as_ref(), facts.linked.as_ref()),
        );
        if !changed {
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
        self.score_attributes
            .retain(|_, row| row.count != 0 || row.value_count != 0);
        self.prompt_scores.retain(|_, row| row.count != 0);
        self.traces.retain(|_, row| {
            row.latency.retain(|_, count| *count != 0);
            !row.is_zero()
        });
        self.people.retain(|_, row| !row.is_zero());
        self.trace_models.retain(|_, row| !row.is_zero());
        self.attributes.retain(|_, row| {
            row.latency.retain(|_, count| *count != 0);
            !row.is_zero()
        });
        self.trace_attributes.retain(|_, row| {
            row.latency.retain(|_, count| *count != 0);
            !row.is_zero()
        });
        // A session without traces keeps its row (with no times) until a rebuild.
        self.sessions.retain(|_, row| row.sums.count != 0);
    }

    /// The additive upserts that add these deltas to the tables, in key order (so that
    /// concurrent transactions take the rows' locks in one order and never deadlock).
    pub fn statements(&self, dialect: Dialect) -> Vec<Sql> {
        let mut statements = Vec::new();
        OBSERVATION_TABLES.add(dialect, &self.observations, &mut statements);
        let mut scores = AdditiveUpserts::new(
            "score_rollups",
            SCORE_KEY_COLUMNS,
            &["score_count", "value_count", "value_sum"],
        );
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
            scores.push(values);
        }
        scores.write(dialect, &mut statements);
        let mut prompt_scores = AdditiveUpserts::new(
            "prompt_score_rollups",
            PROMPT_SCORE_KEY_COLUMNS,
            &["score_count", "value_sum"],
        );
        for (key, row) in &self.prompt_scores {
            let values: Vec<Param> = vec![
                key.project_id.as_str().into(),
                key.prompt_name.as_str().into(),
                key.prompt_version.into(),
                key.score_name.as_str().into(),
                Param::Int(row.count),
                Param::Float(row.value_sum),
            ];
            prompt_scores.push(values);
        }
        prompt_scores.write(dialect, &mut statements);
        // Last: every transaction upserts the tables in this one order.
        self.trace_statements(dialect, &mut statements);
        self.attribute_statements(dialect, &mut statements);
        self.people_statements(dialect, &mut statements);
        self.session_statements(dialect, &mut statements);
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
            self.level.as_str().into(),
        ]
    }
}

/// The key columns of `observation_rollups`.
pub const OBSERVATION_KEY_COLUMNS: &str =
    "project_id, hour, environment, type, name, model, prompt_name, prompt_version, level";

/// The key columns of `observation_latency_buckets`.
pub const OBSERVATION_BUCKET_KEY_COLUMNS: &str = "project_id, hour, environment, type, name, \
     model, prompt_name, prompt_version, level, bucket";

/// The summed columns of `observation_rollups`.
pub const OBSERVATION_SUMS: [&str; 5] = [
    "observation_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_nanos",
];

/// The key columns of `score_rollups`.
pub const SCORE_KEY_COLUMNS: &str =
    "project_id, hour, environment, name, source, data_type, string_value";

/// The key columns of `prompt_score_rollups`.
pub const PROMPT_SCORE_KEY_COLUMNS: &str = "project_id, prompt_name, prompt_version, score_name";

/// Adds `sign` to the count of a latency bucket (none without a latency), leaving out a
/// bucket whose count went back to 0.
fn add_to_bucket(latency: &mut BTreeMap<i64, i64>, bucket: Option<i64>, sign: i64) {
    let Some(bucket) = bucket else { return };
    let count = latency.entry(bucket).or_default();
    *count += sign;
    if *count == 0 {
        latency.remove(&bucket);
    }
}

/// The observations' latency buckets per UTC day ([`days_of`]): the key
/// columns of [`OBSERVATION_BUCKET_KEY_COLUMNS`], `hour` the start of the day.
pub const OBSERVATION_DAYS_TABLE: &str = "observation_latency_days";

/// The traces' latency buckets per UTC day ([`days_of`]).
pub const TRACE_DAYS_TABLE: &str = "trace_latency_days";

/// The start of the UTC day of an hour ([`NO_HOUR`] stays itself).
pub fn day_of_hour(hour: Micros) -> Micros {
    if hour == NO_HOUR {
        hour
    } else {
        day_of(hour)
    }
}

/// Latency buckets summed per key (a key whose hour the caller made its day), in key order;
/// buckets at 0 left out.
fn latency_days<'r, K: Ord>(
    rows: impl Iterator<Item = (K, &'r BTreeMap<i64, i64>)>,
) -> BTreeMap<K, BTreeMap<i64, i64>> {
    let mut days: BTreeMap<K, BTreeMap<i64, i64>> = BTreeMap::new();
    for (key, latency) in rows {
        let day = days.entry(key).or_default();
        for (bucket, count) in latency {
            add_to_bucket(day, Some(*bucket), *count);
        }
    }
    days.retain(|_, latency| !latency.is_empty());
    days
}

/// The observation rollups' tables.
const OBSERVATION_TABLES: HistogramTables = HistogramTables {
    sums_table: "observation_rollups",
    sums_key: OBSERVATION_KEY_COLUMNS,
    sums: &OBSERVATION_SUMS,
    buckets_table: "observation_latency_buckets",
    buckets_key: OBSERVATION_BUCKET_KEY_COLUMNS,
    bucket_count: "observation_count",
    days_table: OBSERVATION_DAYS_TABLE,
};

/// A rollup of sums with a latency histogram: its sums' table and its buckets' table.
struct HistogramTables {
    sums_table: &'static str,
    sums_key: &'static str,
    sums: &'static [&'static str],
    buckets_table: &'static str,
    /// The key columns of the sums followed by `bucket`.
    buckets_key: &'static str,
    bucket_count: &'static str,
    /// The buckets summed per UTC day: the columns of the buckets' table, `hour` the start
    /// of the day.
    days_table: &'static str,
}

impl HistogramTables {
    /// The additive upserts of `rows` and of their latency buckets per day ([`days_of`]).
    fn add<K: HourlyKey, R: Histogram>(
        &self,
        dialect: Dialect,
        rows: &BTreeMap<K, R>,
        statements: &mut Vec<Sql>,
    ) {
        let sums = rows
            .iter()
            .map(|(key, row)| (key.key_params(), row.sums(), row.latency()));
        let days = days_of(rows);
        let days = days
            .iter()
            .map(|(key, latency)| (key.key_params(), latency));
        self.statements(dialect, sums, days, statements);
    }

    /// The additive upserts of `rows` (each a key's values, its sums in the order of
    /// [`Self::sums`], and its latency buckets) and of their `days` ([`latency_days`], each
    /// a day key's values and buckets), in key order: the sums' table, the buckets', then
    /// the days'. A delta that only moves latency counts leaves the sums as they are.
    fn statements<'r, 'd>(
        &self,
        dialect: Dialect,
        rows: impl Iterator<Item = (Vec<Param>, Vec<i64>, &'r BTreeMap<i64, i64>)>,
        days: impl Iterator<Item = (Vec<Param>, &'d BTreeMap<i64, i64>)>,
        statements: &mut Vec<Sql>,
    ) {
        let rows: Vec<_> = rows.collect();
        let mut upserts = AdditiveUpserts::new(self.sums_table, self.sums_key, self.sums);
        for (key, sums, _) in &rows {
            if sums.iter().any(|sum| *sum != 0) {
                let mut values = key.clone();
                values.extend(sums.iter().map(|sum| Param::Int(*sum)));
                upserts.push(values);
            }
        }
        upserts.write(dialect, statements);
        let bucket_count = [self.bucket_count];
        let mut buckets = AdditiveUpserts::new(self.buckets_table, self.buckets_key, &bucket_count);
        for (key, _, latency) in &rows {
            for (bucket, count) in latency.iter() {
                let mut values = key.clone();
                values.extend([Param::Int(*bucket), Param::Int(*count)]);
                buckets.push(values);
            }
        }
        buckets.write(dialect, statements);
        let mut day_buckets =
            AdditiveUpserts::new(self.days_table, self.buckets_key, &bucket_count);
        for (key, latency) in days {
            for (bucket, count) in latency.iter() {
                let mut values = key.clone();
                values.extend([Param::Int(*bucket), Param::Int(*count)]);
                day_buckets.push(values);
            }
        }
        day_buckets.write(dialect, statements);
    }
}

/// The most rows one additive upsert statement adds.
const UPSERT_ROWS: usize = 64;

/// One table's additive upserts: `INSERT INTO table (key, sums) VALUES (…), (…) ON CONFLICT
/// (key) DO UPDATE SET sum = table.sum + excluded.sum, …`, each row a key's values then its
/// sums, in the order pushed, up to [`UPSERT_ROWS`] rows a statement (chunks of powers of
/// two, so a table has a few statement texts to prepare). A statement per row cost the
/// writers more than the rows' B-tree work. The rows' keys must differ (PostgreSQL refuses
/// to update one row twice in a statement); they come from maps.
struct AdditiveUpserts<'t> {
    table: &'t str,
    key: &'t str,
    sums: &'t [&'t str],
    rows: Vec<Vec<Param>>,
}

impl<'t> AdditiveUpserts<'t> {
    fn new(table: &'t str, key: &'t str, sums: &'t [&'t str]) -> Self {
        AdditiveUpserts {
            table,
            key,
            sums,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, values: Vec<Param>) {
        self.rows.push(values);
    }

    /// Appends the statements to `statements`.
    fn write(self, dialect: Dialect, statements: &mut Vec<Sql>) {
        let AdditiveUpserts {
            table,
            key,
            sums,
            rows,
        } = self;
        let sets: Vec<String> = sums
            .iter()
            .map(|sum| format!("{sum} = {table}.{sum} + excluded.{sum}"))
            .collect();
        let conflict = format!(" ON CONFLICT ({key}) DO UPDATE SET {}", sets.join(", "));
        let mut rows = rows.into_iter().peekable();
        let mut left = rows.len();
        while left > 0 {
            // The largest power of two up to what is left.
            let chunk = UPSERT_ROWS.min(1 << left.ilog2());
            left -= chunk;
            let mut sql = Sql::new(
                dialect,
                &format!("INSERT INTO {table} ({key}, {}) VALUES ", sums.join(", ")),
            );
            for (row_index, values) in rows.by_ref().take(chunk).enumerate() {
                sql.push(if row_index == 0 { "(" } else { ", (" });
                for (index, value) in values.into_iter().enumerate() {
                    if index > 0 {
                        sql.push(", ");
                    }
                    sql.bind(value);
                }
                sql.push(")");
            }
            sql.push(&conflict);
            statements.push(sql);
        }
    }
}

#[cfg(test)]
mod tests;
