//! Score bodies (`score-create` events and `POST /api/public/scores`) to [`ScoreRecord`]s.

use crate::fields::{metadata_map, Fields};
use serde_json::{Map, Value};
use spindle_core::merge::Stamp;
use spindle_core::model::normalize_environment;
use spindle_core::time::Micros;
use spindle_core::{Error, ScoreDataType, ScoreRecord, ScoreSource};

/// Parses a score body. `timestamp` is used when the body has none (the ingestion API's
/// envelope timestamp); `fresh_id` supplies an id when the body has none.
pub fn parse_score(
    body: &Map<String, Value>,
    path: &str,
    timestamp: Micros,
    stamp: Stamp,
    fresh_id: &mut dyn FnMut() -> String,
) -> Result<ScoreRecord, Error> {
    let fields = Fields::new(body, path);
    let id = fields.id("id")?.unwrap_or_else(fresh_id);
    let mut record = ScoreRecord::new(id);
    let mut name = fields
        .string("name")?
        .ok_or_else(|| Error::invalid(fields.field("name"), "is required"))?;
    if name.is_empty() {
        return Err(Error::invalid(fields.field("name"), "must not be empty"));
    }
    let data_type = match fields.string("dataType")? {
        Some(text) => Some(ScoreDataType::parse(&text).ok_or_else(|| {
            Error::invalid(
                fields.field("dataType"),
                "expected one of NUMERIC, CATEGORICAL, BOOLEAN, CORRECTION, TEXT",
            )
        })?),
        None => None,
    };
    let value = fields
        .value("value")
        .ok_or_else(|| Error::invalid(fields.field("value"), "is required"))?;
    let data_type = data_type.unwrap_or(match value {
        Value::String(_) => ScoreDataType::Categorical,
        _ => ScoreDataType::Numeric,
    });
    let value_field = fields.field("value");
    match data_type {
        ScoreDataType::Numeric => {
            let number = value.as_f64().ok_or_else(|| {
                Error::invalid(&value_field, "must be a number for NUMERIC scores")
            })?;
            record.value = Some(number);
        }
        ScoreDataType::Boolean => {
            let number = value
                .as_f64()
                .ok_or_else(|| Error::invalid(&value_field, "must be 0 or 1 for BOOLEAN scores"))?;
            if number != 0.0 && number != 1.0 {
                return Err(Error::invalid(
                    &value_field,
                    "must be 0 or 1 for BOOLEAN scores",
                ));
            }
            record.value = Some(number);
            record.string_value = Some(if number == 1.0 { "True" } else { "False" }.to_owned());
        }
        ScoreDataType::Categorical => {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                _ => {
                    return Err(Error::invalid(
                        &value_field,
                        "must be a string for CATEGORICAL scores",
                    ))
                }
            };
            record.value = Some(value.as_f64().unwrap_or(0.0));
            record.string_value = Some(text);
        }
        ScoreDataType::Text | ScoreDataType::Correction => {
            let Value::String(text) = value else {
                return Err(Error::invalid(
                    &value_field,
                    "must be a string for TEXT scores",
                ));
            };
            if data_type == ScoreDataType::Text && (text.is_empty() || text.chars().count() > 500) {
                return Err(Error::invalid(&value_field, "must be 1 to 500 characters"));
            }
            if data_type == ScoreDataType::Correction {
                name = "output".to_owned();
            }
            record.value = Some(0.0);
            record.string_value = Some(text.clone());
        }
    }
    record.name = Some(name);
    record.data_type = Some(data_type);
    record.trace_id = fields.id("traceId")?;
    record.observation_id = fields.id("observationId")?;
    record.session_id = fields.id("sessionId")?;
    record.dataset_run_id = fields.id("datasetRunId")?;
    if record.trace_id.is_none() && record.session_id.is_none() && record.dataset_run_id.is_none() {
        return Err(Error::invalid(
            path_or_body(path),
            "one of traceId, sessionId or datasetRunId is required",
        ));
    }
    if record.observation_id.is_some() && record.trace_id.is_none() {
        return Err(Error::invalid(
            fields.field("traceId"),
            "is required when observationId is given",
        ));
    }
    record.comment = fields.string("comment")?;
    record.config_id = fields.string("configId")?;
    record.queue_id = fields.string("queueId")?;
    record.execution_trace_id = fields.string("executionTraceId")?;
    record.source = Some(match fields.string("source")? {
        Some(text) => ScoreSource::parse(&text).ok_or_else(|| {
            Error::invalid(
                fields.field("source"),
                "expected one of API, EVAL, ANNOTATION",
            )
        })?,
        None => ScoreSource::Api,
    });
    record.environment = Some(normalize_environment(
        fields.string("environment")?.as_deref(),
    ));
    record.timestamp = Some(fields.timestamp("timestamp")?.unwrap_or(timestamp));
    record.metadata = metadata_map(fields.value("metadata"));
    record.stamp_unstamped(stamp);
    Ok(record)
}

fn path_or_body(path: &str) -> &str {
    if path.is_empty() {
        "body"
    } else {
        path
    }
}
