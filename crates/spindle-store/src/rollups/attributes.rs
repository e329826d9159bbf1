//! The attribute rollups: the observation rollups again, keyed by an attribute of the
//! observation's trace instead of the observation's name and prompt: per project, attribute
//! kind (`user`, `name`, `release` or `tag`), its value, hour of the observation's start,
//! environment, type, model and level, the observations' count, token sums, cost in nano-USD
//! and the latency buckets of the generations (per hour and, summed, per UTC day); and the
//! score rollups again under the same attributes. A metrics query filtered on one trace
//! attribute (the dashboard filtered on a user, a tag, a trace name or a release) reads them
//! instead of joining millions of observations or scores to their traces.
//!
//! They are deltas of the `trace_totals` rows, like the trace rollups ([`super::traces`]):
//! each row carries its trace's tags and a breakdown of its observations (by hour,
//! environment, type, model and level, with their latencies), recomputed whenever anything
//! of the trace changes, and [`Rollups::trace`] adds, for each attribute value of the trace
//! after the change, the breakdown after, and subtracts, for each value before, the
//! breakdown before. A trace renamed, re-tagged or given its user after its observations
//! moves its whole breakdown; an observation added moves one entry. Empty values (a user
//! `""`) are not keyed: the rollups do not answer filters on them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use spindle_core::time::Micros;

use super::{add_to_bucket, HistogramTables, ObservationRollup, Rollups, ScoreRollup, TraceFacts};
use crate::sql::rows::decode_json;
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::Result;

/// One entry of a trace's observation breakdown: the observations of one hour, environment,
/// type, model and level (absent text `""`, an absent level `DEFAULT`, as the observation
/// rollups key them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BreakdownKey {
    pub hour: Micros,
    pub environment: String,
    pub observation_type: String,
    pub model: String,
    pub level: String,
}

/// A trace's observations by [`BreakdownKey`], with their sums and latency buckets.
pub type Breakdown = BTreeMap<BreakdownKey, ObservationRollup>;

/// The dimensions of an attribute rollup row: a trace attribute's value and the part of
/// the breakdown of the traces that have it ([`BreakdownKey`] for the observations,
/// [`ScoreBreakdownKey`] for the scores).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeKey<P = BreakdownKey> {
    pub project_id: String,
    /// `user`, `name`, `release` or `tag` ([`TraceFacts::attributes`]).
    pub kind: String,
    /// The trace's user id, name, release or one of its tags (never empty).
    pub value: String,
    pub part: P,
}

/// The dimensions of a score attribute rollup row.
pub type ScoreAttributeKey = AttributeKey<ScoreBreakdownKey>;

/// The part of an attribute rollup's key that a breakdown entry gives.
pub trait BreakdownPart: Sized {
    /// Its values, in the order of its table's key columns after the attribute's.
    fn params(&self) -> Vec<Param>;
    /// The part of a stored row.
    fn from_row(row: &impl RowAccess) -> Result<Self>;
}

impl<P: BreakdownPart> AttributeKey<P> {
    /// The values of the key columns ([`ATTRIBUTE_KEY_COLUMNS`] and
    /// [`SCORE_ATTRIBUTE_KEY_COLUMNS`]).
    fn params(&self) -> Vec<Param> {
        let mut params = vec![
            self.project_id.as_str().into(),
            self.kind.as_str().into(),
            self.value.as_str().into(),
        ];
        params.extend(self.part.params());
        params
    }

    /// The key of a stored row of the attribute tables.
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(AttributeKey {
            project_id: row.text("project_id")?,
            kind: row.text("kind")?,
            value: row.text("value")?,
            part: P::from_row(row)?,
        })
    }
}

impl BreakdownPart for BreakdownKey {
    fn params(&self) -> Vec<Param> {
        vec![
            self.hour.into(),
            self.environment.as_str().into(),
            self.observation_type.as_str().into(),
            self.model.as_str().into(),
            self.level.as_str().into(),
        ]
    }

    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(BreakdownKey {
            hour: row.int("hour")?,
            environment: row.text("environment")?,
            observation_type: row.text("type")?,
            model: row.text("model")?,
            level: row.text("level")?,
        })
    }
}

impl BreakdownPart for ScoreBreakdownKey {
    fn params(&self) -> Vec<Param> {
        vec![
            self.hour.into(),
            self.environment.as_str().into(),
            self.name.as_str().into(),
            self.source.as_str().into(),
            self.data_type.as_str().into(),
            self.string_value.as_str().into(),
        ]
    }

    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(ScoreBreakdownKey {
            hour: row.int("hour")?,
            environment: row.text("environment")?,
            name: row.text("name")?,
            source: row.text("source")?,
            data_type: row.text("data_type")?,
            string_value: row.text("string_value")?,
        })
    }
}

impl super::HourlyKey for AttributeKey {
    fn at_day(&self) -> Self {
        let mut day = self.clone();
        day.part.hour = super::day_of_hour(self.part.hour);
        day
    }

    fn key_params(&self) -> Vec<Param> {
        self.params()
    }
}

/// The key columns of `observation_attribute_rollups`.
pub const ATTRIBUTE_KEY_COLUMNS: &str =
    "project_id, kind, value, hour, environment, type, model, level";

/// The key columns of `observation_attribute_buckets` and `observation_attribute_days`.
pub const ATTRIBUTE_BUCKET_KEY_COLUMNS: &str =
    "project_id, kind, value, hour, environment, type, model, level, bucket";

/// The summed columns of `observation_attribute_rollups`.
pub const ATTRIBUTE_SUMS: [&str; 5] = [
    "observation_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_nanos",
];

/// The attribute rollups' latency buckets per UTC day.
pub const ATTRIBUTE_DAYS_TABLE: &str = "observation_attribute_days";

/// The attribute rollups' tables.
const ATTRIBUTE_TABLES: HistogramTables = HistogramTables {
    sums_table: "observation_attribute_rollups",
    sums_key: ATTRIBUTE_KEY_COLUMNS,
    sums: &ATTRIBUTE_SUMS,
    buckets_table: "observation_attribute_buckets",
    buckets_key: ATTRIBUTE_BUCKET_KEY_COLUMNS,
    bucket_count: "observation_count",
    days_table: ATTRIBUTE_DAYS_TABLE,
};

/// The observations of the trace `t` for its breakdown, as a JSON array of `[start time,
/// environment, type, model, level, input, output and total tokens, cost, end time]`, one
/// entry an observation (see [`parse_breakdown`], which groups them as the observation
/// rollups key theirs): one more seek in `observations_by_trace` per trace; NULL or `[]`
/// without observations.
pub fn breakdown_select(dialect: Dialect) -> String {
    let array = match dialect {
        Dialect::Sqlite => "json_group_array(json_array(",
        Dialect::Postgres => "json_agg(json_build_array(",
    };
    let text = match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => "::text",
    };
    format!(
        "(SELECT {array}ob.start_time, ob.environment, ob.type, ob.model, ob.level, \
         ob.usage_input, ob.usage_output, ob.usage_total, ob.total_cost, ob.end_time)){text} \
         FROM observations ob WHERE ob.project_id = t.project_id AND ob.trace_id = t.id \
         AND ob.start_time IS NOT NULL)"
    )
}

/// One observation of a breakdown text ([`breakdown_select`]).
type BreakdownEntry = (
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Number>,
    Option<Number>,
    Option<Number>,
    Option<f64>,
    Option<i64>,
);

/// A stored integer sum, which SQLite may hold as a float.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(untagged)]
enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    fn integer(self) -> i64 {
        match self {
            Number::Integer(value) => value,
            Number::Float(value) => value as i64,
        }
    }
}

/// The breakdown of a `trace_totals.breakdown` text ([`breakdown_select`]; NULL without
/// observations): its observations grouped by hour, environment, type, model and level as
/// the observation rollups key them (absent text `""`, an absent level `DEFAULT`), each
/// cost rounded to nano-USD once, and the latency buckets of the generations only (what the
/// dashboard reads under a trace attribute; a bucket row per attribute value and
/// observation was about a third of what these rollups cost the writers).
pub fn parse_breakdown(text: Option<&str>) -> Result<Breakdown> {
    let mut breakdown = Breakdown::new();
    let Some(text) = text else {
        return Ok(breakdown);
    };
    let entries: Vec<BreakdownEntry> = decode_json(text, "trace_totals.breakdown")?;
    for (start, environment, observation_type, model, level, input, output, total, cost, end) in
        entries
    {
        if start.is_none() {
            continue;
        }
        // Keyed and summed as the observation rollups key and sum it.
        let facts = super::ObservationFacts::from_columns(
            "",
            super::ObservationColumns {
                id: "",
                trace_id: None,
                start_time: start,
                end_time: end,
                environment: environment.as_deref(),
                observation_type: observation_type.as_deref(),
                name: None,
                model: model.as_deref(),
                prompt_name: None,
                prompt_version: None,
                level: level.as_deref(),
                total_cost: cost,
                usage_input: input.map(Number::integer),
                usage_output: output.map(Number::integer),
                usage_total: total.map(Number::integer),
            },
        );
        let key = facts.key;
        let generation = key.observation_type == "GENERATION";
        let row = breakdown
            .entry(BreakdownKey {
                hour: key.hour,
                environment: key.environment,
                observation_type: key.observation_type,
                model: key.model,
                level: key.level,
            })
            .or_default();
        row.count += 1;
        row.usage.add(&facts.usage, 1);
        if generation {
            add_to_bucket(&mut row.latency, facts.latency_bucket, 1);
        }
    }
    Ok(breakdown)
}

/// The tags of a `trace_totals.tags` text (the trace's JSON array; text elements only),
/// sorted and without repeats.
pub fn parse_tags(text: Option<&str>) -> Vec<String> {
    let tags: BTreeSet<String> = text
        .and_then(|text| serde_json::from_str::<Vec<Value>>(text).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|tag| match tag {
            Value::String(tag) => Some(tag),
            _ => None,
        })
        .collect();
    tags.into_iter().collect()
}

/// One entry of a trace's score breakdown: its scores of one hour, environment, name,
/// source, data type and value key (as the score rollups key them, [`super::ScoreKey`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScoreBreakdownKey {
    pub hour: Micros,
    pub environment: String,
    pub name: String,
    pub source: String,
    pub data_type: String,
    /// A categorical score's value; a boolean's `true`, `false` or `""` ([`super::boolean_key`]).
    pub string_value: String,
}

/// A trace's scores by [`ScoreBreakdownKey`], with their counts and value sums.
pub type ScoreBreakdown = BTreeMap<ScoreBreakdownKey, ScoreRollup>;

/// The key columns of `score_attribute_rollups`.
pub const SCORE_ATTRIBUTE_KEY_COLUMNS: &str =
    "project_id, kind, value, hour, environment, name, source, data_type, string_value";

/// The scores of the trace `t` for its score breakdown, as a JSON array of `[timestamp,
/// environment, name, source, data type, finite value, string value]`, one entry a score
/// (see [`parse_score_breakdown`], which keys them as the score rollups do): one more seek in
/// the scores of the trace; NULL or `[]` without scores. A value that is not finite is left
/// out in SQL (JSON has no NaN), as the score rollups leave it out.
pub fn score_breakdown_select(dialect: Dialect) -> String {
    let (array, text) = match dialect {
        Dialect::Sqlite => ("json_group_array(json_array(", ""),
        Dialect::Postgres => ("json_agg(json_build_array(", "::text"),
    };
    format!(
        "(SELECT {array}sb.timestamp, sb.environment, sb.name, sb.source, sb.data_type, \
         (CASE WHEN sb.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 \
         THEN sb.value END), sb.string_value)){text} \
         FROM scores sb WHERE sb.project_id = t.project_id AND sb.trace_id = t.id \
         AND sb.timestamp IS NOT NULL)"
    )
}

/// One score of a score breakdown text ([`score_breakdown_select`]).
type ScoreEntry = (
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<String>,
);

/// The score breakdown of a `trace_totals.score_breakdown` text ([`score_breakdown_select`];
/// NULL without scores): its scores keyed and counted as the score rollups key and count
/// them ([`super::ScoreFacts`]).
pub fn parse_score_breakdown(text: Option<&str>) -> Result<ScoreBreakdown> {
    let mut breakdown = ScoreBreakdown::new();
    let Some(text) = text else {
        return Ok(breakdown);
    };
    let entries: Vec<ScoreEntry> = decode_json(text, "trace_totals.score_breakdown")?;
    for (timestamp, environment, name, source, data_type, value, string_value) in entries {
        let Some(timestamp) = timestamp else { continue };
        let texts = [environment, name, source, data_type, string_value];
        let facts = super::ScoreFacts::from_columns(
            "",
            [None; 3],
            Some(timestamp),
            texts.each_ref().map(Option::as_deref),
            value,
        );
        let key = facts.key;
        let row = breakdown
            .entry(ScoreBreakdownKey {
                hour: key.hour,
                environment: key.environment,
                name: key.name,
                source: key.source,
                data_type: key.data_type,
                string_value: key.string_value,
            })
            .or_default();
        row.count += 1;
        if let Some(value) = facts.value {
            row.value_count += 1;
            row.value_sum += value;
        }
    }
    Ok(breakdown)
}

impl TraceFacts {
    /// The trace's attribute values the rollups are keyed by: its user, name, release and
    /// each tag, empty ones left out.
    pub fn attributes(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let user = self.user_id.as_deref().map(|user| ("user", user));
        let name = Some(("name", self.key.name.as_str()));
        let release = Some(("release", self.key.release.as_str()));
        let tags = self.tags.iter().map(|tag| ("tag", tag.as_str()));
        [user, name, release]
            .into_iter()
            .flatten()
            .chain(tags)
            .filter(|(_, value)| !value.is_empty())
    }
}

/// The attribute kind of a rolled-up metadata key's value in the trace attribute rollups:
/// the project chooses the keys (`rolled_metadata_keys`, [`crate::metadata_rollups`]), and a
/// trace is keyed under each of them it has, its value as `trace_metadata` holds it. Only
/// the traces view filters on a trace's metadata, so the observation and score attribute
/// rollups do not key it.
pub const METADATA_KIND: &str = "metadata";

/// The attribute value under which a trace with metadata `key` = `value` is rolled up: the
/// pair as a JSON array (`["tenant","acme"]`), so no key or value can run into the other.
pub fn metadata_attribute(key: &str, value: &str) -> String {
    Value::Array(vec![key.into(), value.into()]).to_string()
}

/// The rolled-up metadata of a `trace_totals.metadata_values` text (a JSON array of
/// `[key, value]` pairs, NULL without any), as [`metadata_attribute`] values, sorted and
/// without repeats.
pub fn parse_metadata_values(text: Option<&str>) -> Result<Vec<String>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let pairs: Vec<(String, String)> = decode_json(text, "trace_totals.metadata_values")?;
    let values: BTreeSet<String> = pairs
        .iter()
        .map(|(key, value)| metadata_attribute(key, value))
        .collect();
    Ok(values.into_iter().collect())
}

/// The values of the rolled-up metadata keys of the trace `t` as a JSON array of
/// `[key, value]` pairs (NULL without any): each of the project's `rolled_metadata_keys`
/// the trace's metadata has as a string of at most
/// [`crate::trace_index::INDEXED_METADATA_CHARS`] characters, unquoted as `trace_metadata`
/// stores it (the migrations' index triggers), so the rollups answer what the index answers.
pub fn metadata_values_select(dialect: Dialect) -> String {
    let limit = crate::trace_index::INDEXED_METADATA_CHARS;
    match dialect {
        Dialect::Sqlite => format!(
            "(SELECT nullif(json_group_array(json_array(v.key, v.value)), '[]') FROM \
             (SELECT j.key AS key, CASE WHEN substr(j.value, 1, 1) = '\"' AND json_valid(j.value) \
             THEN json_extract(j.value, '$') ELSE j.value END AS value \
             FROM rolled_metadata_keys k CROSS JOIN json_each(t.metadata) j \
             WHERE k.project_id = t.project_id AND j.key = k.key AND j.type = 'text' \
             ORDER BY j.key) v WHERE length(v.value) <= {limit})"
        ),
        Dialect::Postgres => format!(
            "(SELECT json_agg(json_build_array(v.key, v.value) ORDER BY v.key)::text FROM \
             (SELECT j.key AS key, spindle_unquoted(j.value #>> '{{}}') AS value \
             FROM rolled_metadata_keys k CROSS JOIN jsonb_each(t.metadata) j \
             WHERE k.project_id = t.project_id AND j.key = k.key \
             AND jsonb_typeof(j.value) = 'string') v WHERE length(v.value) <= {limit})"
        ),
    }
}

impl Rollups {
    /// Adds (`sign` 1) or subtracts (-1) the breakdown of `facts` under each of its
    /// attribute values.
    pub(super) fn attributes(&mut self, facts: &TraceFacts, sign: i64) {
        for (kind, value) in facts.attributes() {
            for (part, sums) in &facts.breakdown {
                let key = AttributeKey {
                    project_id: facts.key.project_id.clone(),
                    kind: kind.to_owned(),
                    value: value.to_owned(),
                    part: part.clone(),
                };
                let row = self.attributes.entry(key.clone()).or_default();
                row.add(sums, sign);
                if row.is_zero() {
                    self.attributes.remove(&key);
                }
            }
        }
    }

    /// Adds (`sign` 1) or subtracts (-1) the score breakdown of `facts` under each of its
    /// attribute values.
    pub(super) fn score_attributes(&mut self, facts: &TraceFacts, sign: i64) {
        for (kind, value) in facts.attributes() {
            for (part, sums) in &facts.score_breakdown {
                let key = ScoreAttributeKey {
                    project_id: facts.key.project_id.clone(),
                    kind: kind.to_owned(),
                    value: value.to_owned(),
                    part: part.clone(),
                };
                let row = self.score_attributes.entry(key.clone()).or_default();
                row.count += sign * sums.count;
                row.value_count += sign * sums.value_count;
                row.value_sum += sign as f64 * sums.value_sum;
                if row.count == 0 && row.value_count == 0 && row.value_sum == 0.0 {
                    self.score_attributes.remove(&key);
                }
            }
        }
    }

    /// The additive upserts of the attribute rollup deltas, in key order.
    pub(super) fn attribute_statements(&self, dialect: Dialect, statements: &mut Vec<Sql>) {
        ATTRIBUTE_TABLES.add(dialect, &self.attributes, statements);
        let mut upserts = super::AdditiveUpserts::new(
            "score_attribute_rollups",
            SCORE_ATTRIBUTE_KEY_COLUMNS,
            &["score_count", "value_count", "value_sum"],
        );
        for (key, row) in &self.score_attributes {
            let mut values = key.params();
            values.extend([
                Param::Int(row.count),
                Param::Int(row.value_count),
                Param::Float(row.value_sum),
            ]);
            upserts.push(values);
        }
        upserts.write(dialect, statements);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollups::latency_bucket;

    fn facts(user: Option<&str>, name: &str, tags: &[&str], breakdown: &str) -> TraceFacts {
        TraceFacts {
            user_id: user.map(str::to_owned),
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            breakdown: parse_breakdown(Some(breakdown)).unwrap(),
            ..TraceFacts::named(name)
        }
    }

    const H: i64 = 3_600_000_000;
    /// A generation of model `m` with a latency and one without an end, at 1 h.
    const ONE: &str = r#"[[3600000000, null, "GENERATION", "m", null, 1, 2, 3, 4e-8, 3600001000],
        [3600000001, null, "GENERATION", "m", null, null, null, null, null, null]]"#;
    /// The same and a span in error at 2 h, whose latency is not kept.
    const TWO: &str = r#"[[3600000000, null, "GENERATION", "m", null, 1, 2, 3, 4e-8, 3600001000],
        [3600000001, null, "GENERATION", "m", null, null, null, null, null, null],
        [7200000000, null, "SPAN", null, "ERROR", null, null, null, null, 7200005000]]"#;

    #[test]
    fn the_breakdown_parses_with_its_latencies() {
        let breakdown = parse_breakdown(Some(TWO)).unwrap();
        assert_eq!(breakdown.len(), 2);
        let (key, first) = breakdown.iter().next().unwrap();
        assert_eq!(
            (key.hour, key.level.as_str(), key.environment.as_str()),
            (H, "DEFAULT", "")
        );
        assert_eq!(
            (
                first.count,
                first.usage.total_tokens,
                first.usage.cost_nanos
            ),
            (2, 3, 40)
        );
        assert_eq!(
            first.latency,
            BTreeMap::from([(latency_bucket(1000), 1)]),
            "an observation without an end has no bucket"
        );
        let span = breakdown.values().nth(1).unwrap();
        assert!(span.latency.is_empty(), "only generations' latencies");
        assert!(parse_breakdown(None).unwrap().is_empty());
        assert!(parse_breakdown(Some("[]")).unwrap().is_empty());
        assert!(parse_breakdown(Some("[[1]]")).is_err());
        assert_eq!(
            parse_tags(Some(r#"["b", 1, "a", "b"]"#)),
            vec!["a".to_owned(), "b".to_owned()]
        );
    }

    #[test]
    fn a_trace_given_its_user_late_moves_its_breakdown_and_an_added_observation_one_entry() {
        let mut rollups = Rollups::default();
        let anonymous = facts(None, "chat", &["x"], ONE);
        rollups.trace(None, Some(&anonymous));
        let kinds: Vec<&str> = rollups.attributes.keys().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["name", "tag"], "no user, no release: not keyed");
        let known = facts(Some("u"), "chat", &["x"], ONE);
        rollups.trace(Some(&anonymous), Some(&known));
        assert_eq!(rollups.attributes.len(), 3);
        let grown = facts(Some("u"), "chat", &["x"], TWO);
        let mut delta = Rollups::default();
        delta.trace(Some(&known), Some(&grown));
        assert_eq!(
            delta.attributes.len(),
            3,
            "one new entry under each of 3 values"
        );
        assert!(delta.attributes.keys().all(|key| key.part.hour == 2 * H));
        rollups.trace(Some(&known), Some(&grown));
        rollups.trace(Some(&grown), None);
        assert!(rollups.attributes.is_empty(), "{:?}", rollups.attributes);
    }
}
