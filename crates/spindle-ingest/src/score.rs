//! Score bodies (`score-create` events and `POST /api/public/scores`) to [`ScoreRecord`]s.

use crate::fields::{metadata_map, Fields};
use serde_json::{Map, Value};
use spindle_core::merge::{tiebreak_of, Stamp};
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

/// A `POST /api/public/scores` body: one score object, or an array of them.
#[derive(Debug)]
pub enum ScoresBody {
    /// One score object (an invalid one fails the request).
    One(Box<ScoreRecord>),
    /// An array: the valid scores, and one error per invalid item, in order.
    Many {
        scores: Vec<ScoreRecord>,
        errors: Vec<Error>,
    },
}

/// Parses a `POST /api/public/scores` body. `now` stands in for a missing `timestamp`;
/// `fresh_id` supplies ids for scores that have none.
pub fn parse_scores_body(
    body: &[u8],
    now: Micros,
    fresh_id: &mut dyn FnMut() -> String,
) -> Result<ScoresBody, Error> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|error| Error::invalid("body", format!("invalid JSON: {error}")))?;
    match root {
        Value::Object(object) => {
            let stamp = Stamp::explicit(
                score_time(&object, now),
                Stamp::RANK_CREATE,
                tiebreak_of(body),
            );
            let score = parse_score(&object, "body", now, stamp, fresh_id)?;
            Ok(ScoresBody::One(Box::new(score)))
        }
        Value::Array(items) => {
            let mut scores = Vec::new();
            let mut errors = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let path = format!("[{index}]");
                // Python 5.x updates a score by sending its id again, with a later timestamp,
                // possibly in the same array: the later timestamp (then the later entry) wins.
                let at = item
                    .as_object()
                    .map(|object| score_time(object, now))
                    .unwrap_or(now);
                let tiebreak = ((index as u64) << 32)
                    | (tiebreak_of(item.to_string().as_bytes()) & 0xffff_ffff);
                let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, tiebreak);
                let parsed = match item {
                    Value::Object(object) => parse_score(object, &path, now, stamp, fresh_id),
                    _ => Err(Error::invalid(&path, "expected a score object")),
                };
                match parsed {
                    Ok(score) => scores.push(score),
                    Err(error) => errors.push(error),
                }
            }
            Ok(ScoresBody::Many { scores, errors })
        }
        _ => Err(Error::invalid(
            "body",
            "expected a score object or an array of scores",
        )),
    }
}

/// The time a score body was written: its `timestamp`, or `now`.
fn score_time(body: &Map<String, Value>, now: Micros) -> Micros {
    body.get("timestamp")
        .and_then(Value::as_str)
        .and_then(spindle_core::time::parse_iso)
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<ScoresBody, Error> {
        let mut next = 0;
        parse_scores_body(body.as_bytes(), 7, &mut || {
            next += 1;
            format!("id-{next}")
        })
    }

    #[test]
    fn one_object_or_an_array_with_per_item_errors() {
        let Ok(ScoresBody::One(score)) = parse(r#"{"name": "q", "value": 1, "traceId": "t"}"#)
        else {
            panic!("expected one score");
        };
        assert_eq!((score.id.as_str(), score.timestamp), ("id-1", Some(7)));
        let Ok(ScoresBody::Many { scores, errors }) =
            parse(r#"[{"name": "q", "value": 1, "traceId": "t"}, 3, {"value": 1}]"#)
        else {
            panic!("expected an array");
        };
        assert_eq!(scores.len(), 1);
        let messages: Vec<&str> = errors.iter().map(|error| error.message.as_str()).collect();
        assert_eq!(
            messages,
            ["[1]: expected a score object", "[2].name: is required"]
        );
        assert_eq!(
            parse("true").unwrap_err().message,
            "body: expected a score object or an array of scores"
        );
        assert!(parse("{")
            .unwrap_err()
            .message
            .starts_with("body: invalid JSON"));
    }
}
