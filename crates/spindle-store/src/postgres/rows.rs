//! Rows of the PostgreSQL data tables and their conversion to and from the core records.
//!
//! The layout is the SQLite backend's: plain fields in columns, JSON for tags, metadata,
//! usage and cost, and the stamps in the same compact JSON encoding, so a row read back
//! converts to exactly the record that was written, stamps included.

use spindle_core::merge::Stamp;
use spindle_core::time::Micros;
use spindle_core::{
    Error, Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource,
    TraceRecord,
};
use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::Row;

use super::pg_error;
pub(crate) use crate::stamps::{decode_stamps, encode_stamps};
use crate::Result;

/// The weakest possible stamp, given to any field that has a value but lost its stamp.
pub(crate) const WEAKEST_STAMP: Stamp = Stamp {
    priority: Stamp::PRIORITY_IMPLICIT,
    at: i64::MIN,
    rank: 0,
    tiebreak: 0,
};

/// The trace columns, in the order [`trace_from_row`] expects, for a table aliased `t`.
pub(crate) const TRACE_COLUMNS: &str = "t.id, t.timestamp, t.environment, t.name, t.user_id, \
     t.session_id, t.release, t.version, t.public, t.bookmarked, t.external_id, t.tags::text, \
     t.metadata::text, t.input, t.output, t.stamps, t.created_at, t.updated_at";
#[cfg(test)]
pub(crate) const TRACE_COLUMN_COUNT: usize = 18;

/// The observation columns, in the order [`observation_from_row`] expects, for alias `o`.
pub(crate) const OBSERVATION_COLUMNS: &str = "o.id, o.trace_id, o.start_time, o.environment, \
     o.type, o.parent_observation_id, o.name, o.end_time, o.completion_start_time, o.level, \
     o.status_message, o.version, o.model, o.model_parameters, o.usage_details, \
     o.cost_details, o.prompt_name, o.prompt_version, o.input, o.output, o.metadata::text, \
     o.stamps, o.created_at, o.updated_at, o.derived";
pub(crate) const OBSERVATION_COLUMN_COUNT: usize = 25;

/// The score columns, in the order [`score_from_row`] expects, for alias `s`.
pub(crate) const SCORE_COLUMNS: &str = "s.id, s.timestamp, s.environment, s.name, s.value, \
     s.string_value, s.data_type, s.source, s.trace_id, s.observation_id, s.session_id, \
     s.dataset_run_id, s.comment, s.config_id, s.queue_id, s.author_user_id, \
     s.execution_trace_id, s.metadata::text, s.stamps, s.created_at, s.updated_at";
pub(crate) const SCORE_COLUMN_COUNT: usize = 21;

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T> {
    row.try_get(index).map_err(pg_error)
}

/// A stored trace with its creation and update times.
pub(crate) struct Stored<R> {
    pub record: R,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Reads the columns of [`TRACE_COLUMNS`] starting at `at`.
pub(crate) fn trace_from_row(row: &Row, at: usize) -> Result<Stored<TraceRecord>> {
    let tags: String = get(row, at + 11)?;
    let metadata: String = get(row, at + 12)?;
    let stamps: String = get(row, at + 15)?;
    let mut record = TraceRecord {
        id: get(row, at)?,
        timestamp: get(row, at + 1)?,
        environment: get(row, at + 2)?,
        name: get(row, at + 3)?,
        user_id: get(row, at + 4)?,
        session_id: get(row, at + 5)?,
        release: get(row, at + 6)?,
        version: get(row, at + 7)?,
        public: get(row, at + 8)?,
        bookmarked: get(row, at + 9)?,
        external_id: get(row, at + 10)?,
        input: get(row, at + 13)?,
        output: get(row, at + 14)?,
        tags: decode_json::<BTreeSet<String>>(&tags, "traces.tags")?,
        metadata: decode_json(&metadata, "traces.metadata")?,
        stamps: decode_stamps(&stamps, "traces.stamps")?,
    };
    record.stamp_unstamped(WEAKEST_STAMP);
    Ok(Stored {
        record,
        created_at: get(row, at + 16)?,
        updated_at: get(row, at + 17)?,
    })
}

/// Reads the columns of [`OBSERVATION_COLUMNS`] starting at `at`.
pub(crate) fn observation_from_row(row: &Row, at: usize) -> Result<Stored<ObservationRecord>> {
    let observation_type: Option<String> = get(row, at + 4)?;
    let level: Option<String> = get(row, at + 9)?;
    let usage: Option<String> = get(row, at + 14)?;
    let cost: Option<String> = get(row, at + 15)?;
    let metadata: String = get(row, at + 20)?;
    let stamps: String = get(row, at + 21)?;
    let derived: Option<String> = get(row, at + 24)?;
    let mut record = ObservationRecord {
        id: get(row, at)?,
        trace_id: get(row, at + 1)?,
        start_time: get(row, at + 2)?,
        environment: get(row, at + 3)?,
        observation_type: observation_type.as_deref().and_then(ObservationType::parse),
        parent_observation_id: get(row, at + 5)?,
        name: get(row, at + 6)?,
        end_time: get(row, at + 7)?,
        completion_start_time: get(row, at + 8)?,
        level: level.as_deref().and_then(Level::parse),
        status_message: get(row, at + 10)?,
        version: get(row, at + 11)?,
        model: get(row, at + 12)?,
        model_parameters: get(row, at + 13)?,
        usage_details: usage
            .as_deref()
            .map(|text| decode_json(text, "observations.usage_details"))
            .transpose()?,
        cost_details: cost
            .as_deref()
            .map(|text| decode_json(text, "observations.cost_details"))
            .transpose()?,
        prompt_name: get(row, at + 16)?,
        prompt_version: get(row, at + 17)?,
        input: get(row, at + 18)?,
        output: get(row, at + 19)?,
        metadata: decode_json(&metadata, "observations.metadata")?,
        stamps: decode_stamps(&stamps, "observations.stamps")?,
        derived: crate::derived::decode(derived.as_deref())?,
    };
    record.stamp_unstamped(WEAKEST_STAMP);
    Ok(Stored {
        record,
        created_at: get(row, at + 22)?,
        updated_at: get(row, at + 23)?,
    })
}

/// Reads the columns of [`SCORE_COLUMNS`] starting at `at`.
pub(crate) fn score_from_row(row: &Row, at: usize) -> Result<Stored<ScoreRecord>> {
    let data_type: Option<String> = get(row, at + 6)?;
    let source: Option<String> = get(row, at + 7)?;
    let metadata: String = get(row, at + 17)?;
    let stamps: String = get(row, at + 18)?;
    let mut record = ScoreRecord {
        id: get(row, at)?,
        timestamp: get(row, at + 1)?,
        environment: get(row, at + 2)?,
        name: get(row, at + 3)?,
        value: get(row, at + 4)?,
        string_value: get(row, at + 5)?,
        data_type: data_type.as_deref().and_then(ScoreDataType::parse),
        source: source.as_deref().and_then(ScoreSource::parse),
        trace_id: get(row, at + 8)?,
        observation_id: get(row, at + 9)?,
        session_id: get(row, at + 10)?,
        dataset_run_id: get(row, at + 11)?,
        comment: get(row, at + 12)?,
        config_id: get(row, at + 13)?,
        queue_id: get(row, at + 14)?,
        author_user_id: get(row, at + 15)?,
        execution_trace_id: get(row, at + 16)?,
        metadata: decode_json(&metadata, "scores.metadata")?,
        stamps: decode_stamps(&stamps, "scores.stamps")?,
    };
    record.stamp_unstamped(WEAKEST_STAMP);
    Ok(Stored {
        record,
        created_at: get(row, at + 19)?,
        updated_at: get(row, at + 20)?,
    })
}

/// The total cost of one observation: the `total` entry, else the sum of the others.
pub(crate) fn total_cost(costs: &BTreeMap<String, f64>) -> Option<f64> {
    if let Some(total) = costs.get("total") {
        return total.is_finite().then_some(*total);
    }
    if costs.is_empty() {
        return None;
    }
    Some(costs.values().filter(|v| v.is_finite()).sum())
}

/// The total usage of one observation: the `total` entry, else the sum of the others.
pub(crate) fn total_usage(usage: &BTreeMap<String, i64>) -> Option<i64> {
    if let Some(total) = usage.get("total") {
        return Some(*total);
    }
    if usage.is_empty() {
        return None;
    }
    Some(usage.values().fold(0i64, |acc, v| acc.saturating_add(*v)))
}

fn corrupt(column: &str, reason: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {column} is not readable: {reason}"))
}

fn decode_json<T: serde::de::DeserializeOwned>(text: &str, column: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

pub(crate) fn encode_set(set: &BTreeSet<String>) -> String {
    serde_json::to_string(set).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn encode_string_map(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn encode_usage(usage: &BTreeMap<String, i64>) -> String {
    serde_json::to_string(usage).unwrap_or_else(|_| "{}".to_owned())
}

/// Costs as a JSON object; non-finite numbers (which JSON cannot hold) are left out.
pub(crate) fn encode_costs(costs: &BTreeMap<String, f64>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = costs
        .iter()
        .filter_map(|(k, v)| {
            serde_json::Number::from_f64(*v).map(|n| (k.clone(), serde_json::Value::Number(n)))
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// PostgreSQL text cannot hold NUL characters, which JSON input may carry (`\u0000`): they
/// are stored as U+FFFD so that the rest of the record is kept (SQLite stores them as they
/// are).
fn clean(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
}

fn clean_option(text: &mut Option<String>) {
    if let Some(text) = text {
        clean(text);
    }
}

fn clean_map(map: &mut BTreeMap<String, String>) {
    if map
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        *map = std::mem::take(map)
            .into_iter()
            .map(|(mut k, mut v)| {
                clean(&mut k);
                clean(&mut v);
                (k, v)
            })
            .collect();
    }
}

fn clean_keys<V>(map: &mut BTreeMap<String, V>) {
    if map.keys().any(|k| k.contains('\0')) {
        *map = std::mem::take(map)
            .into_iter()
            .map(|(mut k, v)| {
                clean(&mut k);
                (k, v)
            })
            .collect();
    }
}

/// Replaces NUL characters in every text of a trace (see [`clean`]).
pub(crate) fn clean_trace(r: &mut TraceRecord) {
    clean(&mut r.id);
    for text in [
        &mut r.environment,
        &mut r.name,
        &mut r.user_id,
        &mut r.session_id,
        &mut r.release,
        &mut r.version,
        &mut r.input,
        &mut r.output,
        &mut r.external_id,
    ] {
        clean_option(text);
    }
    if r.tags.iter().any(|t| t.contains('\0')) {
        r.tags = std::mem::take(&mut r.tags)
            .into_iter()
            .map(|mut t| {
                clean(&mut t);
                t
            })
            .collect();
    }
    clean_map(&mut r.metadata);
    clean_keys(&mut r.stamps);
}

/// Replaces NUL characters in every text of an observation (see [`clean`]).
pub(crate) fn clean_observation(r: &mut ObservationRecord) {
    clean(&mut r.id);
    for text in [
        &mut r.trace_id,
        &mut r.environment,
        &mut r.parent_observation_id,
        &mut r.name,
        &mut r.status_message,
        &mut r.version,
        &mut r.model,
        &mut r.model_parameters,
        &mut r.prompt_name,
        &mut r.input,
        &mut r.output,
    ] {
        clean_option(text);
    }
    if let Some(usage) = r.usage_details.as_mut() {
        clean_keys(usage);
    }
    if let Some(costs) = r.cost_details.as_mut() {
        clean_keys(costs);
    }
    clean_map(&mut r.metadata);
    clean_keys(&mut r.stamps);
}

/// Replaces NUL characters in every text of a score (see [`clean`]).
pub(crate) fn clean_score(r: &mut ScoreRecord) {
    clean(&mut r.id);
    for text in [
        &mut r.environment,
        &mut r.name,
        &mut r.string_value,
        &mut r.trace_id,
        &mut r.observation_id,
        &mut r.session_id,
        &mut r.dataset_run_id,
        &mut r.comment,
        &mut r.config_id,
        &mut r.queue_id,
        &mut r.author_user_id,
        &mut r.execution_trace_id,
    ] {
        clean_option(text);
    }
    clean_map(&mut r.metadata);
    clean_keys(&mut r.stamps);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_counts_match_the_column_lists() {
        assert_eq!(TRACE_COLUMNS.split(',').count(), TRACE_COLUMN_COUNT);
        assert_eq!(
            OBSERVATION_COLUMNS.split(',').count(),
            OBSERVATION_COLUMN_COUNT
        );
        assert_eq!(SCORE_COLUMNS.split(',').count(), SCORE_COLUMN_COUNT);
    }
}
