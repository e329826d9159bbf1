//! Rows of the SQLite data tables and their conversion to and from the core records.
//!
//! Rows are plain column values: JSON text for maps, sets and stamps, text for enums. A row
//! read back converts to exactly the record that was written, stamps included, so merging a
//! stored record with a patch gives the same result as merging the patches in memory.

use rusqlite::Row;
use spindle_core::merge::Stamp;
use spindle_core::record::DerivedCost;
use spindle_core::time::Micros;
use spindle_core::{
    Error, Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource,
    TraceRecord,
};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) use crate::stamps::{decode_stamps, encode_stamps};
use crate::Result;

/// The weakest possible stamp, given to any field that has a value but lost its stamp, so a
/// damaged row can still be merged (it loses against every real write).
pub(crate) const WEAKEST_STAMP: Stamp = Stamp {
    priority: Stamp::PRIORITY_IMPLICIT,
    at: i64::MIN,
    rank: 0,
    tiebreak: 0,
};

/// The trace columns, in the order [`TraceRow::read`] expects, for a table aliased `t`.
pub(crate) const TRACE_COLUMNS: &str = "t.id, t.timestamp, t.environment, t.name, t.user_id, \
     t.session_id, t.release, t.version, t.public, t.bookmarked, t.external_id, t.tags, \
     t.metadata, t.input, t.output, t.stamps, t.created_at, t.updated_at";

/// The observation columns, in the order [`ObservationRow::read`] expects, for alias `o`.
pub(crate) const OBSERVATION_COLUMNS: &str = "o.id, o.trace_id, o.start_time, o.environment, \
     o.type, o.parent_observation_id, o.name, o.end_time, o.completion_start_time, o.level, \
     o.status_message, o.version, o.model, o.model_parameters, o.usage_details, \
     o.cost_details, o.prompt_name, o.prompt_version, o.input, o.output, o.metadata, o.stamps, \
     o.created_at, o.updated_at, o.derived";

/// The score columns, in the order [`ScoreRow::read`] expects, for alias `s`.
pub(crate) const SCORE_COLUMNS: &str = "s.id, s.timestamp, s.environment, s.name, s.value, \
     s.string_value, s.data_type, s.source, s.trace_id, s.observation_id, s.session_id, \
     s.dataset_run_id, s.comment, s.config_id, s.queue_id, s.author_user_id, \
     s.execution_trace_id, s.metadata, s.stamps, s.created_at, s.updated_at";

/// Number of columns in [`TRACE_COLUMNS`].
#[cfg(test)]
pub(crate) const TRACE_COLUMN_COUNT: usize = 18;
/// Number of columns in [`OBSERVATION_COLUMNS`].
pub(crate) const OBSERVATION_COLUMN_COUNT: usize = 25;

/// One row of `traces`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TraceRow {
    pub id: String,
    pub timestamp: Option<Micros>,
    pub environment: Option<String>,
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub release: Option<String>,
    pub version: Option<String>,
    pub public: Option<bool>,
    pub bookmarked: Option<bool>,
    pub external_id: Option<String>,
    pub tags: String,
    pub metadata: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub stamps: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// One row of `observations` (the columns derived on write are only read by SQL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObservationRow {
    pub id: String,
    pub trace_id: Option<String>,
    pub start_time: Option<Micros>,
    pub environment: Option<String>,
    pub observation_type: Option<String>,
    pub parent_observation_id: Option<String>,
    pub name: Option<String>,
    pub end_time: Option<Micros>,
    pub completion_start_time: Option<Micros>,
    pub level: Option<String>,
    pub status_message: Option<String>,
    pub version: Option<String>,
    pub model: Option<String>,
    pub model_parameters: Option<String>,
    pub usage_details: Option<String>,
    pub cost_details: Option<String>,
    pub prompt_name: Option<String>,
    pub prompt_version: Option<i64>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub metadata: String,
    pub stamps: String,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub derived: Option<String>,
}

/// One row of `scores`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScoreRow {
    pub id: String,
    pub timestamp: Option<Micros>,
    pub environment: Option<String>,
    pub name: Option<String>,
    pub value: Option<f64>,
    pub string_value: Option<String>,
    pub data_type: Option<String>,
    pub source: Option<String>,
    pub trace_id: Option<String>,
    pub observation_id: Option<String>,
    pub session_id: Option<String>,
    pub dataset_run_id: Option<String>,
    pub comment: Option<String>,
    pub config_id: Option<String>,
    pub queue_id: Option<String>,
    pub author_user_id: Option<String>,
    pub execution_trace_id: Option<String>,
    pub metadata: String,
    pub stamps: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl TraceRow {
    /// Reads the columns of [`TRACE_COLUMNS`] starting at `offset`.
    pub fn read(row: &Row<'_>, offset: usize) -> rusqlite::Result<TraceRow> {
        Ok(TraceRow {
            id: row.get(offset)?,
            timestamp: row.get(offset + 1)?,
            environment: row.get(offset + 2)?,
            name: row.get(offset + 3)?,
            user_id: row.get(offset + 4)?,
            session_id: row.get(offset + 5)?,
            release: row.get(offset + 6)?,
            version: row.get(offset + 7)?,
            public: row.get(offset + 8)?,
            bookmarked: row.get(offset + 9)?,
            external_id: row.get(offset + 10)?,
            tags: row.get(offset + 11)?,
            metadata: row.get(offset + 12)?,
            input: row.get(offset + 13)?,
            output: row.get(offset + 14)?,
            stamps: row.get(offset + 15)?,
            created_at: row.get(offset + 16)?,
            updated_at: row.get(offset + 17)?,
        })
    }

    pub fn into_record(self) -> Result<TraceRecord> {
        let mut record = TraceRecord {
            id: self.id,
            timestamp: self.timestamp,
            environment: self.environment,
            name: self.name,
            user_id: self.user_id,
            session_id: self.session_id,
            release: self.release,
            version: self.version,
            public: self.public,
            bookmarked: self.bookmarked,
            input: self.input,
            output: self.output,
            external_id: self.external_id,
            tags: decode_set(&self.tags, "traces.tags")?,
            metadata: decode_string_map(&self.metadata, "traces.metadata")?,
            stamps: decode_stamps(&self.stamps, "traces.stamps")?,
        };
        record.stamp_unstamped(WEAKEST_STAMP);
        Ok(record)
    }
}

impl ObservationRow {
    /// Reads the columns of [`OBSERVATION_COLUMNS`] starting at `offset`.
    pub fn read(row: &Row<'_>, offset: usize) -> rusqlite::Result<ObservationRow> {
        Ok(ObservationRow {
            id: row.get(offset)?,
            trace_id: row.get(offset + 1)?,
            start_time: row.get(offset + 2)?,
            environment: row.get(offset + 3)?,
            observation_type: row.get(offset + 4)?,
            parent_observation_id: row.get(offset + 5)?,
            name: row.get(offset + 6)?,
            end_time: row.get(offset + 7)?,
            completion_start_time: row.get(offset + 8)?,
            level: row.get(offset + 9)?,
            status_message: row.get(offset + 10)?,
            version: row.get(offset + 11)?,
            model: row.get(offset + 12)?,
            model_parameters: row.get(offset + 13)?,
            usage_details: row.get(offset + 14)?,
            cost_details: row.get(offset + 15)?,
            prompt_name: row.get(offset + 16)?,
            prompt_version: row.get(offset + 17)?,
            input: row.get(offset + 18)?,
            output: row.get(offset + 19)?,
            metadata: row.get(offset + 20)?,
            stamps: row.get(offset + 21)?,
            created_at: row.get(offset + 22)?,
            updated_at: row.get(offset + 23)?,
            derived: row.get(offset + 24)?,
        })
    }

    pub fn into_record(self) -> Result<ObservationRecord> {
        let mut record = ObservationRecord {
            id: self.id,
            trace_id: self.trace_id,
            start_time: self.start_time,
            environment: self.environment,
            observation_type: self
                .observation_type
                .as_deref()
                .and_then(ObservationType::parse),
            parent_observation_id: self.parent_observation_id,
            name: self.name,
            end_time: self.end_time,
            completion_start_time: self.completion_start_time,
            level: self.level.as_deref().and_then(Level::parse),
            status_message: self.status_message,
            version: self.version,
            model: self.model,
            model_parameters: self.model_parameters,
            usage_details: decode_optional(self.usage_details.as_deref(), "usage_details")?,
            cost_details: decode_optional(self.cost_details.as_deref(), "cost_details")?,
            prompt_name: self.prompt_name,
            prompt_version: self.prompt_version,
            input: self.input,
            output: self.output,
            metadata: decode_string_map(&self.metadata, "observations.metadata")?,
            stamps: decode_stamps(&self.stamps, "observations.stamps")?,
            derived: crate::derived::decode(self.derived.as_deref())?,
        };
        record.stamp_unstamped(WEAKEST_STAMP);
        Ok(record)
    }
}

impl ScoreRow {
    /// Reads the columns of [`SCORE_COLUMNS`] starting at `offset`.
    pub fn read(row: &Row<'_>, offset: usize) -> rusqlite::Result<ScoreRow> {
        Ok(ScoreRow {
            id: row.get(offset)?,
            timestamp: row.get(offset + 1)?,
            environment: row.get(offset + 2)?,
            name: row.get(offset + 3)?,
            value: row.get(offset + 4)?,
            string_value: row.get(offset + 5)?,
            data_type: row.get(offset + 6)?,
            source: row.get(offset + 7)?,
            trace_id: row.get(offset + 8)?,
            observation_id: row.get(offset + 9)?,
            session_id: row.get(offset + 10)?,
            dataset_run_id: row.get(offset + 11)?,
            comment: row.get(offset + 12)?,
            config_id: row.get(offset + 13)?,
            queue_id: row.get(offset + 14)?,
            author_user_id: row.get(offset + 15)?,
            execution_trace_id: row.get(offset + 16)?,
            metadata: row.get(offset + 17)?,
            stamps: row.get(offset + 18)?,
            created_at: row.get(offset + 19)?,
            updated_at: row.get(offset + 20)?,
        })
    }

    pub fn into_record(self) -> Result<ScoreRecord> {
        let mut record = ScoreRecord {
            id: self.id,
            timestamp: self.timestamp,
            environment: self.environment,
            name: self.name,
            value: self.value,
            string_value: self.string_value,
            data_type: self.data_type.as_deref().and_then(ScoreDataType::parse),
            source: self.source.as_deref().and_then(ScoreSource::parse),
            trace_id: self.trace_id,
            observation_id: self.observation_id,
            session_id: self.session_id,
            dataset_run_id: self.dataset_run_id,
            comment: self.comment,
            config_id: self.config_id,
            queue_id: self.queue_id,
            author_user_id: self.author_user_id,
            execution_trace_id: self.execution_trace_id,
            metadata: decode_string_map(&self.metadata, "scores.metadata")?,
            stamps: decode_stamps(&self.stamps, "scores.stamps")?,
        };
        record.stamp_unstamped(WEAKEST_STAMP);
        Ok(record)
    }
}

/// The encoded columns of a trace about to be written; plain fields are bound from the
/// record itself.
pub(crate) struct TraceColumns<'a> {
    pub record: &'a TraceRecord,
    pub tags: String,
    pub metadata: String,
    pub stamps: String,
}

impl<'a> TraceColumns<'a> {
    pub fn new(record: &'a TraceRecord) -> Self {
        TraceColumns {
            record,
            tags: encode_set(&record.tags),
            metadata: encode_string_map(&record.metadata),
            stamps: encode_stamps(&record.stamps),
        }
    }
}

/// The encoded and derived columns of an observation about to be written.
pub(crate) struct ObservationColumns<'a> {
    pub record: &'a ObservationRecord,
    pub observation_type: Option<&'static str>,
    pub level: Option<&'static str>,
    pub usage_details: Option<String>,
    pub cost_details: Option<String>,
    pub metadata: String,
    pub stamps: String,
    pub derived: Option<String>,
    /// `cost_details["total"]`, else the sum of its entries; `None` without costs.
    pub total_cost: Option<f64>,
    pub usage_input: Option<i64>,
    pub usage_output: Option<i64>,
    /// `usage_details["total"]`, else the sum of its entries.
    pub usage_total: Option<i64>,
}

impl<'a> ObservationColumns<'a> {
    /// The columns of `record` with `derived` as what the store works out for it.
    pub fn new(record: &'a ObservationRecord, derived: &'a DerivedCost) -> Self {
        let usage = record.effective_usage_with(derived);
        let costs = record.effective_cost_with(derived);
        ObservationColumns {
            record,
            observation_type: record.observation_type.map(ObservationType::as_str),
            level: record.level.map(Level::as_str),
            usage_details: record.usage_details.as_ref().map(encode_usage),
            cost_details: record.cost_details.as_ref().map(encode_costs),
            metadata: encode_string_map(&record.metadata),
            stamps: encode_stamps(&record.stamps),
            derived: crate::derived::encode(derived),
            total_cost: costs.and_then(total_cost),
            usage_input: usage.and_then(|u| u.get("input").copied()),
            usage_output: usage.and_then(|u| u.get("output").copied()),
            usage_total: usage.and_then(total_usage),
        }
    }
}

/// The encoded columns of a score about to be written.
pub(crate) struct ScoreColumns<'a> {
    pub record: &'a ScoreRecord,
    /// The value if finite (SQLite cannot store NaN).
    pub value: Option<f64>,
    pub data_type: Option<&'static str>,
    pub source: Option<&'static str>,
    pub metadata: String,
    pub stamps: String,
}

impl<'a> ScoreColumns<'a> {
    pub fn new(record: &'a ScoreRecord) -> Self {
        ScoreColumns {
            record,
            value: record.value.filter(|v| v.is_finite()),
            data_type: record.data_type.map(ScoreDataType::as_str),
            source: record.source.map(ScoreSource::as_str),
            metadata: encode_string_map(&record.metadata),
            stamps: encode_stamps(&record.stamps),
        }
    }
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

fn encode_set(set: &BTreeSet<String>) -> String {
    serde_json::to_string(set).unwrap_or_else(|_| "[]".to_owned())
}

fn decode_set(text: &str, column: &str) -> Result<BTreeSet<String>> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

fn encode_string_map(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

fn decode_string_map(text: &str, column: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

fn encode_usage(usage: &BTreeMap<String, i64>) -> String {
    serde_json::to_string(usage).unwrap_or_else(|_| "{}".to_owned())
}

/// Costs as a JSON object; non-finite numbers (which JSON cannot hold) are left out.
fn encode_costs(costs: &BTreeMap<String, f64>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = costs
        .iter()
        .filter_map(|(k, v)| {
            serde_json::Number::from_f64(*v).map(|n| (k.clone(), serde_json::Value::Number(n)))
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

fn decode_optional<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
    column: &str,
) -> Result<Option<T>> {
    match text {
        None => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| corrupt(column, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_totals() {
        let costs: BTreeMap<String, f64> = [("input".to_owned(), 1.5), ("output".to_owned(), 2.0)]
            .into_iter()
            .collect();
        assert_eq!(total_cost(&costs), Some(3.5));
        let mut with_total = costs.clone();
        with_total.insert("total".into(), 10.0);
        assert_eq!(total_cost(&with_total), Some(10.0));
        assert_eq!(total_cost(&BTreeMap::new()), None);
        let usage: BTreeMap<String, i64> = [("input".to_owned(), 3), ("output".to_owned(), 4)]
            .into_iter()
            .collect();
        assert_eq!(total_usage(&usage), Some(7));
    }
}
