//! Scores: numeric, categorical and boolean evaluations of a trace, an observation or a session,
//! sent as the JSON array body Python 5 posts to `/api/public/scores`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json;

/// The value of a score.
///
/// ```
/// let value = spindle::ScoreValue::Categorical("positive".into());
/// assert_eq!(value, spindle::ScoreValue::Categorical("positive".to_owned()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ScoreValue {
    /// A number (sent without `dataType`, as Python does for numbers).
    Numeric(f64),
    /// A label (`dataType: CATEGORICAL`).
    Categorical(String),
    /// A yes/no judgement, sent as `1.0` or `0.0` with `dataType: BOOLEAN`.
    Boolean(bool),
}

/// A score to send with [`Client::create_score`](crate::Client::create_score),
/// [`score_current_trace`](crate::score_current_trace) or
/// [`Observation::score`](crate::Observation::score).
///
/// ```
/// let score = spindle::Score::numeric("helpfulness", 0.92)
///     .comment("answered correctly with context")
///     .metadata(&serde_json::json!({"judge": "llm"}));
/// spindle::score_current_trace(score); // nothing is current: nothing is sent
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Score {
    pub(crate) name: String,
    pub(crate) value: ScoreValue,
    pub(crate) comment: Option<String>,
    pub(crate) metadata: Option<Value>,
    pub(crate) id: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) observation_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) dataset_run_id: Option<String>,
    pub(crate) config_id: Option<String>,
}

impl Score {
    fn new(name: impl Into<String>, value: ScoreValue) -> Self {
        Self {
            name: name.into(),
            value,
            comment: None,
            metadata: None,
            id: None,
            trace_id: None,
            observation_id: None,
            session_id: None,
            dataset_run_id: None,
            config_id: None,
        }
    }

    /// A numeric score.
    ///
    /// ```
    /// let _score = spindle::Score::numeric("accuracy", 0.87);
    /// ```
    pub fn numeric(name: impl Into<String>, value: f64) -> Self {
        Self::new(name, ScoreValue::Numeric(value))
    }

    /// A categorical score.
    ///
    /// ```
    /// let _score = spindle::Score::categorical("tone", "positive");
    /// ```
    pub fn categorical(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(name, ScoreValue::Categorical(value.into()))
    }

    /// A boolean score.
    ///
    /// ```
    /// let _score = spindle::Score::boolean("resolved", true);
    /// ```
    pub fn boolean(name: impl Into<String>, value: bool) -> Self {
        Self::new(name, ScoreValue::Boolean(value))
    }

    /// Adds a comment.
    ///
    /// ```
    /// let _score = spindle::Score::numeric("accuracy", 1.0).comment("exact match");
    /// ```
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Adds metadata (any JSON value; skipped with a warning if it cannot be serialized).
    ///
    /// ```
    /// let _score = spindle::Score::numeric("accuracy", 1.0).metadata(&serde_json::json!({"judge": "llm"}));
    /// ```
    pub fn metadata<T: Serialize + ?Sized>(mut self, metadata: &T) -> Self {
        if let Some(value) = json::json_value(metadata, "score metadata") {
            self.metadata = Some(value);
        }
        self
    }

    setters! {
        /// Sets the score id (default: 16 random hex characters, as Python).
        ///
        /// ```
        /// let _score = spindle::Score::numeric("obs-num", 3.0).id("my-score-id-1");
        /// ```
        id(id: impl Into<String>) => id = Some(id.into());

        /// Scores this trace.
        ///
        /// ```
        /// let _score = spindle::Score::numeric("accuracy", 1.0)
        ///     .trace_id(spindle::create_trace_id("external-123"));
        /// ```
        trace_id(trace_id: impl Into<String>) => trace_id = Some(trace_id.into());

        /// Scores this observation (set the trace id too).
        ///
        /// ```
        /// let _score = spindle::Score::numeric("accuracy", 1.0).observation_id("ff8262a55687ab00");
        /// ```
        observation_id(observation_id: impl Into<String>) => observation_id = Some(observation_id.into());

        /// Scores this session.
        ///
        /// ```
        /// let _score = spindle::Score::numeric("session-score", 1.0).session_id("sess-7");
        /// ```
        session_id(session_id: impl Into<String>) => session_id = Some(session_id.into());

        /// Scores a dataset run as a whole (what run-level evaluators of an experiment give).
        ///
        /// ```
        /// let _score = spindle::Score::numeric("average-accuracy", 0.8).dataset_run_id("run-1");
        /// ```
        dataset_run_id(dataset_run_id: impl Into<String>) => dataset_run_id = Some(dataset_run_id.into());

        /// Links a score config.
        ///
        /// ```
        /// let _score = spindle::Score::numeric("accuracy", 1.0).config_id("cfg-1");
        /// ```
        config_id(config_id: impl Into<String>) => config_id = Some(config_id.into());
    }

    /// The score's name.
    ///
    /// ```
    /// assert_eq!(spindle::Score::numeric("accuracy", 1.0).name(), "accuracy");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The score's value.
    ///
    /// ```
    /// let score = spindle::Score::boolean("resolved", true);
    /// assert_eq!(score.value(), &spindle::ScoreValue::Boolean(true));
    /// ```
    pub fn value(&self) -> &ScoreValue {
        &self.value
    }

    /// The score's comment, if any.
    ///
    /// ```
    /// assert_eq!(spindle::Score::numeric("a", 1.0).comment("exact").comment_text(), Some("exact"));
    /// ```
    pub fn comment_text(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// What an evaluator gave, as an evaluator observation's output shows it: name, value,
    /// comment and data type (no ids or targets).
    pub(crate) fn evaluation_json(&self) -> Value {
        let mut wire = self.to_wire(None, "");
        if let Value::Object(fields) = &mut wire {
            fields
                .retain(|key, _| matches!(key.as_str(), "name" | "value" | "comment" | "dataType"));
        }
        wire
    }

    /// The JSON body item, keys in Python's order, nulls omitted.
    pub(crate) fn to_wire(&self, environment: Option<&str>, timestamp: &str) -> Value {
        let mut body = Map::new();
        let id = self
            .id
            .clone()
            .unwrap_or_else(|| hex::encode(crate::ids::random_span_id()));
        body.insert("id".into(), Value::String(id));
        if let Some(trace_id) = &self.trace_id {
            body.insert("traceId".into(), Value::String(trace_id.clone()));
        }
        if let Some(session_id) = &self.session_id {
            body.insert("sessionId".into(), Value::String(session_id.clone()));
        }
        if let Some(observation_id) = &self.observation_id {
            body.insert(
                "observationId".into(),
                Value::String(observation_id.clone()),
            );
        }
        if let Some(dataset_run_id) = &self.dataset_run_id {
            body.insert("datasetRunId".into(), Value::String(dataset_run_id.clone()));
        }
        body.insert("name".into(), Value::String(self.name.clone()));
        let (value, data_type) = match &self.value {
            ScoreValue::Numeric(number) => (serde_json::json!(number), None),
            ScoreValue::Categorical(label) => (Value::String(label.clone()), Some("CATEGORICAL")),
            ScoreValue::Boolean(flag) => (
                serde_json::json!(if *flag { 1.0 } else { 0.0 }),
                Some("BOOLEAN"),
            ),
        };
        body.insert("value".into(), value);
        if let Some(comment) = &self.comment {
            body.insert("comment".into(), Value::String(comment.clone()));
        }
        if let Some(environment) = environment {
            body.insert("environment".into(), Value::String(environment.to_owned()));
        }
        if let Some(data_type) = data_type {
            body.insert("dataType".into(), Value::String(data_type.to_owned()));
        }
        if let Some(config_id) = &self.config_id {
            body.insert("configId".into(), Value::String(config_id.clone()));
        }
        body.insert("timestamp".into(), Value::String(timestamp.to_owned()));
        if let Some(metadata) = &self.metadata {
            if !metadata.is_null() {
                body.insert("metadata".into(), metadata.clone());
            }
        }
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_matches_python() {
        let score = Score::numeric("num-score", 0.87)
            .comment("good")
            .trace_id("d851607a82a0e1e55d6f5f2f78c5a3ef")
            .id("4019e9b21a88c1a3")
            .metadata(&serde_json::json!({"judge": "llm"}));
        let wire = score.to_wire(Some("staging"), "2026-11-21T04:46:53.687294Z");
        assert_eq!(
            serde_json::to_string(&wire).unwrap(),
            r#"{"id":"4019e9b21a88c1a3","traceId":"d851607a82a0e1e55d6f5f2f78c5a3ef","name":"num-score","value":0.87,"comment":"good","environment":"staging","timestamp":"2026-11-21T04:46:53.687294Z","metadata":{"judge":"llm"}}"#
        );
        let boolean = Score::boolean("bool-score", true)
            .session_id("s")
            .id("x")
            .to_wire(None, "t");
        assert_eq!(
            serde_json::to_string(&boolean).unwrap(),
            r#"{"id":"x","sessionId":"s","name":"bool-score","value":1.0,"dataType":"BOOLEAN","timestamp":"t"}"#
        );
    }
}
