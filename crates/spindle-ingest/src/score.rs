//! Score bodies (`score-create` events and `POST /api/public/scores`) to [`ScoreRecord`]s.
//!
//! A score that names a config (`configId`) is parsed into a [`PendingScore`]: complete but
//! for what the config decides (its data type, name and values), which
//! [`PendingScore::resolve`] fills in once the caller has read the configs of the request.

use crate::fields::{metadata_map, Fields};
use serde_json::{Map, Value};
use spindle_core::merge::{tiebreak_of, Stamp};
use spindle_core::model::normalize_environment;
use spindle_core::score_config::{
    configure_score, GivenValue, ScoreConfig, ScoreFields, TEXT_MAX_CHARS,
};
use spindle_core::time::Micros;
use spindle_core::{Error, ScoreDataType, ScoreRecord, ScoreSource};

/// A parsed score body.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedScore {
    /// A score that names no config: ready to store.
    Ready(ScoreRecord),
    /// A score that names a config, to check against it first.
    Pending(PendingScore),
}

/// A score that names a config, and what its body said of what the config decides.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingScore {
    /// Everything but the data type, the values and (taken from the config) the name.
    pub record: ScoreRecord,
    pub config_id: String,
    /// The data type the body gave, if any.
    pub data_type: Option<ScoreDataType>,
    pub value: GivenValue,
    /// The body's path in the request (`batch[3].body`, `[2]`, `body`).
    pub path: String,
}

impl PendingScore {
    /// Checks the score against its config (`None`: the project has no config of that id)
    /// and completes the record as the config says.
    pub fn resolve(self, config: Option<&ScoreConfig>) -> Result<ScoreRecord, Error> {
        let field = |key: &str| format!("{}.{key}", path_or_body(&self.path));
        let config_field = field("configId");
        let Some(config) = config else {
            return Err(Error::invalid(
                config_field,
                format!("no score config {:?} in this project", self.config_id),
            ));
        };
        let (data_type_field, value_field) = (field("dataType"), field("value"));
        let fields = ScoreFields {
            config_id: &config_field,
            data_type: &data_type_field,
            value: &value_field,
        };
        let configured = configure_score(config, self.data_type, &self.value, fields)?;
        let mut record = self.record;
        record.name = Some(configured.name);
        record.data_type = Some(configured.data_type);
        record.value = Some(configured.value);
        record.string_value = configured.string_value;
        Ok(record)
    }
}

impl ParsedScore {
    /// The score, if it names a config.
    pub fn pending(&self) -> Option<&PendingScore> {
        match self {
            ParsedScore::Ready(_) => None,
            ParsedScore::Pending(pending) => Some(pending),
        }
    }

    /// The record to store: checked against its config among `configs` if it names one.
    pub fn resolve(self, configs: &[ScoreConfig]) -> Result<ScoreRecord, Error> {
        match self {
            ParsedScore::Ready(record) => Ok(record),
            ParsedScore::Pending(pending) => {
                let config = config_of(configs, &pending.config_id);
                pending.resolve(config)
            }
        }
    }
}

/// The distinct config ids `pending` scores name, sorted.
pub fn config_ids<'a>(pending: impl IntoIterator<Item = &'a PendingScore>) -> Vec<String> {
    let mut ids: Vec<String> = pending
        .into_iter()
        .map(|score| score.config_id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The config of `id` among `configs`.
pub fn config_of<'a>(configs: &'a [ScoreConfig], id: &str) -> Option<&'a ScoreConfig> {
    configs.iter().find(|config| config.id == id)
}

/// Parses a score body. `timestamp` is used when the body has none (the ingestion API's
/// envelope timestamp); `fresh_id` supplies an id when the body has none.
pub fn parse_score(
    body: &Map<String, Value>,
    path: &str,
    timestamp: Micros,
    stamp: Stamp,
    fresh_id: &mut dyn FnMut() -> String,
) -> Result<ParsedScore, Error> {
    let fields = Fields::new(body, path);
    let id = fields.id("id")?.unwrap_or_else(fresh_id);
    let mut record = ScoreRecord::new(id);
    let name = fields.required("name", Fields::string)?;
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
    let config_id = fields.string("configId")?;
    if config_id.is_none() {
        set_typed_value(&mut record, name, data_type, value, &fields.field("value"))?;
    } else {
        record.name = Some(name);
    }
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
    record.config_id = config_id.clone();
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
    let Some(config_id) = config_id else {
        return Ok(ParsedScore::Ready(record));
    };
    let given = match value {
        Value::Number(number) => match number.as_f64().filter(|value| value.is_finite()) {
            Some(value) => GivenValue::Number(value),
            None => {
                return Err(Error::invalid(
                    fields.field("value"),
                    "must be a finite number",
                ))
            }
        },
        Value::Bool(flag) => GivenValue::Number(if *flag { 1.0 } else { 0.0 }),
        Value::String(text) => GivenValue::Text(text.clone()),
        _ => {
            return Err(Error::invalid(
                fields.field("value"),
                "must be a number or a string",
            ))
        }
    };
    Ok(ParsedScore::Pending(PendingScore {
        record,
        config_id,
        data_type,
        value: given,
        path: path.to_owned(),
    }))
}

/// Sets the name, data type and values of a score that names no config: the data type as
/// given, else inferred from the value (a string is categorical, anything else numeric).
fn set_typed_value(
    record: &mut ScoreRecord,
    mut name: String,
    data_type: Option<ScoreDataType>,
    value: &Value,
    value_field: &str,
) -> Result<(), Error> {
    let data_type = data_type.unwrap_or(match value {
        Value::String(_) => ScoreDataType::Categorical,
        _ => ScoreDataType::Numeric,
    });
    match data_type {
        ScoreDataType::Numeric => {
            let number = value.as_f64().ok_or_else(|| {
                Error::invalid(value_field, "must be a number for NUMERIC scores")
            })?;
            record.value = Some(number);
        }
        ScoreDataType::Boolean => {
            let number = value
                .as_f64()
                .ok_or_else(|| Error::invalid(value_field, "must be 0 or 1 for BOOLEAN scores"))?;
            if number != 0.0 && number != 1.0 {
                return Err(Error::invalid(
                    value_field,
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
                        value_field,
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
                    value_field,
                    "must be a string for TEXT scores",
                ));
            };
            if data_type == ScoreDataType::Text
                && (text.is_empty() || text.chars().count() > TEXT_MAX_CHARS)
            {
                return Err(Error::invalid(value_field, "must be 1 to 500 characters"));
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
    Ok(())
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
    One(Box<ParsedScore>),
    /// An array: the valid scores, and one error per invalid item, in order.
    Many {
        scores: Vec<ParsedScore>,
        errors: Vec<Error>,
    },
}

impl ScoresBody {
    /// The distinct config ids the body's scores name.
    pub fn config_ids(&self) -> Vec<String> {
        match self {
            ScoresBody::One(score) => config_ids(score.pending()),
            ScoresBody::Many { scores, .. } => {
                config_ids(scores.iter().filter_map(ParsedScore::pending))
            }
        }
    }
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
        let ParsedScore::Ready(score) = *score else {
            panic!("a score without a config is ready");
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

#[cfg(test)]
mod config_tests {
    use super::*;
    use spindle_core::score_config::{ConfigCategory, ConfigDataType};

    fn config(id: &str, data_type: ConfigDataType) -> ScoreConfig {
        ScoreConfig {
            id: id.to_owned(),
            project_id: "p".to_owned(),
            name: format!("{id}-name"),
            data_type,
            is_archived: false,
            min_value: Some(0.0),
            max_value: Some(5.0),
            categories: vec![ConfigCategory {
                label: "good".to_owned(),
                value: 2.0,
            }],
            description: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    /// What a `POST /api/public/scores` array makes of `items` given the configs: the
    /// stored `(name, type, value, string value)`s and the error messages.
    fn resolve(items: &str, configs: &[ScoreConfig]) -> (Vec<String>, Vec<String>, Vec<String>) {
        let Ok(ScoresBody::Many { scores, errors }) =
            parse_scores_body(items.as_bytes(), 7, &mut || "id".to_owned())
        else {
            panic!("expected an array");
        };
        let body = ScoresBody::Many {
            scores: scores.clone(),
            errors: Vec::new(),
        };
        let mut stored = Vec::new();
        let mut messages: Vec<String> = errors.into_iter().map(|error| error.message).collect();
        for score in scores {
            match score.resolve(configs) {
                Ok(record) => stored.push(format!(
                    "{} {} {} {}",
                    record.name.unwrap_or_default(),
                    record
                        .data_type
                        .map(ScoreDataType::as_str)
                        .unwrap_or_default(),
                    record.value.unwrap_or_default(),
                    record.string_value.unwrap_or_default()
                )),
                Err(error) => messages.push(error.message),
            }
        }
        (body.config_ids(), stored, messages)
    }

    #[test]
    fn scores_naming_a_config_take_its_name_type_and_values() {
        let configs = [
            config("num", ConfigDataType::Numeric),
            config("cat", ConfigDataType::Categorical),
        ];
        let (ids, stored, errors) = resolve(
            r#"[
                {"name": "x", "value": 3, "traceId": "t", "configId": "num"},
                {"name": "x", "value": "good", "traceId": "t", "configId": "cat"},
                {"name": "x", "value": 2, "dataType": "CATEGORICAL", "traceId": "t", "configId": "cat"},
                {"name": "x", "value": 9, "traceId": "t", "configId": "num"},
                {"name": "x", "value": "bad", "traceId": "t", "configId": "cat"},
                {"name": "x", "value": 1, "traceId": "t", "configId": "gone"},
                {"name": "x", "value": 1, "dataType": "BOOLEAN", "traceId": "t", "configId": "num"},
                {"name": "x", "value": [1], "traceId": "t", "configId": "num"},
                {"name": "plain", "value": 1, "traceId": "t"}
            ]"#,
            &configs,
        );
        assert_eq!(ids, ["cat", "gone", "num"]);
        assert_eq!(
            stored,
            [
                "num-name NUMERIC 3 ",
                "cat-name CATEGORICAL 2 good",
                "cat-name CATEGORICAL 2 good",
                "plain NUMERIC 1 ",
            ]
        );
        assert_eq!(
            errors,
            [
                "[7].value: must be a number or a string",
                "[3].value: 9 is above the maximum 5 of score config \"num-name\"",
                "[4].value: \"bad\" is not a category of score config \"cat-name\"; expected one of \"good\" (2)",
                "[5].configId: no score config \"gone\" in this project",
                "[6].dataType: BOOLEAN does not match the data type NUMERIC of score config \"num\"",
            ]
        );
    }
}
