//! Public API response bodies (wire spec §8–9) and their conversion from store views.
//! Serialization happens here and nowhere else on the read side.

use crate::error::{found, ApiResult};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use spindle_core::time::{format_iso, Micros};
use spindle_core::TraceRecord;
use spindle_store::metrics::{MetricsRow, MetricsValue};
use spindle_store::{DailyMetrics, ObservationView, Page, ScoreView, SessionView, TraceView};
use std::collections::{BTreeMap, BTreeSet};

pub mod datasets;
pub mod experiments;
pub mod prompts;
pub mod reviews;
pub mod score_configs;

/// JSON text as stored, parsed (it was written by this server; `null` if it is not JSON).
pub fn stored_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `{"message": …}`, the answer of the delete endpoints.
pub fn message_json(text: &str) -> Json<Value> {
    Json(serde_json::json!({ "message": text }))
}

/// What a lookup found, as `to_json` answers it, or "not found" naming the `entity` and its
/// `id` ([`found`]).
pub fn found_json<T>(
    lookup: Option<T>,
    entity: &str,
    id: &str,
    to_json: impl FnOnce(&T) -> Value,
) -> ApiResult<Json<Value>> {
    Ok(Json(to_json(&found(lookup, entity, id)?)))
}

/// `{data, meta}` of the page-based list endpoints.
#[derive(Debug, Serialize)]
pub struct PageResponse<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    pub page: u32,
    pub limit: u32,
    pub total_items: u64,
    pub total_pages: u64,
    /// Present (`true`) only when `totalItems` is an estimate (a search for common words on
    /// SQLite): Langfuse's clients ignore a field they do not know.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_is_estimate: bool,
}

impl<T> PageResponse<T> {
    pub fn from_page<V>(page: Page<V>, convert: impl FnMut(V) -> T) -> Self {
        let meta = PageMeta {
            page: page.page,
            limit: page.limit,
            total_items: page.total_items,
            total_pages: page.total_pages(),
            total_is_estimate: page.total_is_estimate,
        };
        PageResponse {
            data: page.items.into_iter().map(convert).collect(),
            meta,
        }
    }
}

/// `{data, meta: {cursor}}` of the cursor-based endpoints.
#[derive(Debug, Serialize)]
pub struct CursorResponse<T> {
    pub data: Vec<T>,
    pub meta: CursorMeta,
}

#[derive(Debug, Serialize)]
pub struct CursorMeta {
    pub cursor: Option<String>,
}

/// Parses a stored string as JSON when it is valid JSON, else returns it as a string
/// (how Langfuse reconciles the encodings of every SDK version).
pub fn parse_lenient(text: &str) -> Value {
    let trimmed = text.trim_start();
    let looks_like_json = trimmed.starts_with(['{', '[', '"'])
        || trimmed.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        || matches!(trimmed, "true" | "false" | "null");
    if looks_like_json {
        if let Ok(value) = serde_json::from_str(text) {
            return value;
        }
    }
    Value::String(text.to_owned())
}

fn io_value(text: &Option<String>) -> Value {
    text.as_deref().map(parse_lenient).unwrap_or(Value::Null)
}

fn metadata_value(metadata: &BTreeMap<String, String>) -> Value {
    Value::Object(
        metadata
            .iter()
            .map(|(key, value)| (key.clone(), parse_lenient(value)))
            .collect::<Map<String, Value>>(),
    )
}

fn iso(micros: Option<Micros>) -> Option<String> {
    micros.map(format_iso)
}

/// Which optional groups of trace fields to include (`fields=core,io,scores,observations,metrics`).
#[derive(Debug, Clone, Copy)]
pub struct TraceFields {
    pub io: bool,
    pub scores: bool,
    pub observations: bool,
    pub metrics: bool,
}

impl TraceFields {
    pub const ALL: TraceFields = TraceFields {
        io: true,
        scores: true,
        observations: true,
        metrics: true,
    };

    pub fn parse(text: Option<&str>) -> Self {
        let Some(text) = text.filter(|text| !text.trim().is_empty()) else {
            return Self::ALL;
        };
        let groups: BTreeSet<&str> = text.split(',').map(str::trim).collect();
        TraceFields {
            io: groups.contains("io"),
            scores: groups.contains("scores"),
            observations: groups.contains("observations"),
            metrics: groups.contains("metrics"),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace<O: Serialize, S: Serialize, Io: Serialize = TraceIo> {
    pub id: String,
    pub external_id: Option<String>,
    pub timestamp: String,
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub release: Option<String>,
    pub version: Option<String>,
    pub project_id: String,
    pub environment: String,
    pub public: bool,
    pub bookmarked: bool,
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub io: Io,
    pub created_at: String,
    pub updated_at: String,
    pub observations: Vec<O>,
    pub scores: Vec<S>,
    pub total_cost: f64,
    pub latency: f64,
    pub level: String,
    pub html_path: String,
}

/// A trace's input, output and metadata (all `null` when the `io` group is not asked for).
#[derive(Debug, Serialize)]
pub struct TraceIo {
    pub input: Value,
    pub output: Value,
    pub metadata: Value,
}

impl TraceIo {
    fn of(record: &TraceRecord, fields: TraceFields) -> Self {
        if !fields.io {
            return TraceIo {
                input: Value::Null,
                output: Value::Null,
                metadata: Value::Null,
            };
        }
        TraceIo {
            input: io_value(&record.input),
            output: io_value(&record.output),
            metadata: metadata_value(&record.metadata),
        }
    }
}

/// A trace in a list: observations and scores as ids.
pub type TraceSummary = Trace<String, String>;

/// A trace with its full observations and scores.
pub type TraceDetail = Trace<Observation, Score>;

/// A trace in a list: observations and scores as ids.
pub fn trace_summary(view: TraceView, project_id: &str, fields: TraceFields) -> TraceSummary {
    let scores = if fields.scores {
        view.score_ids.clone()
    } else {
        Vec::new()
    };
    trace_without_observations(view, project_id, fields, scores, TraceIo::of)
}

/// A trace with its observations as ids (when `fields` asks for them), these scores, and the
/// input, output and metadata `io` makes of the record.
pub fn trace_without_observations<S: Serialize, Io: Serialize>(
    view: TraceView,
    project_id: &str,
    fields: TraceFields,
    scores: Vec<S>,
    io: impl FnOnce(&TraceRecord, TraceFields) -> Io,
) -> Trace<String, S, Io> {
    let observations = if fields.observations {
        view.observation_ids.clone()
    } else {
        Vec::new()
    };
    trace_with(view, project_id, fields, observations, scores, io)
}

/// A trace with its full observations and scores.
pub fn trace_detail(view: TraceView, project_id: &str) -> TraceDetail {
    let observations = view
        .observations
        .iter()
        .cloned()
        .map(|observation| observation_v1(observation, project_id))
        .collect();
    let scores = view
        .scores
        .iter()
        .cloned()
        .map(|score| score_v1(score, project_id))
        .collect();
    trace_with(
        view,
        project_id,
        TraceFields::ALL,
        observations,
        scores,
        TraceIo::of,
    )
}

fn trace_with<O: Serialize, S: Serialize, Io: Serialize>(
    view: TraceView,
    project_id: &str,
    fields: TraceFields,
    observations: Vec<O>,
    scores: Vec<S>,
    io: impl FnOnce(&TraceRecord, TraceFields) -> Io,
) -> Trace<O, S, Io> {
    let io = io(&view.record, fields);
    let record = view.record;
    let html_path = format!("/project/{project_id}/traces/{}", record.id);
    Trace {
        external_id: record.external_id,
        timestamp: format_iso(record.timestamp.unwrap_or(view.created_at)),
        name: record.name,
        user_id: record.user_id,
        session_id: record.session_id,
        release: record.release,
        version: record.version,
        project_id: project_id.to_owned(),
        environment: record.environment.unwrap_or_else(|| "default".to_owned()),
        public: record.public.unwrap_or(false),
        bookmarked: record.bookmarked.unwrap_or(false),
        tags: record.tags.into_iter().collect(),
        io,
        created_at: format_iso(view.created_at),
        updated_at: format_iso(view.updated_at),
        observations,
        scores,
        total_cost: if fields.metrics {
            view.total_cost
        } else {
            -1.0
        },
        latency: if fields.metrics {
            view.latency_seconds.unwrap_or(0.0)
        } else {
            -1.0
        },
        level: view.level.as_str().to_owned(),
        html_path,
        id: record.id,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub unit: &'static str,
    pub input: i64,
    pub output: i64,
    pub total: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub id: String,
    pub project_id: String,
    pub trace_id: Option<String>,
    pub parent_observation_id: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub observation_type: String,
    pub environment: String,
    pub start_time: String,
    pub end_time: Option<String>,
    pub completion_start_time: Option<String>,
    pub version: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub input: Value,
    pub output: Value,
    pub metadata: Value,
    pub level: String,
    pub status_message: Option<String>,
    pub model: Option<String>,
    pub model_parameters: Value,
    pub prompt_id: Option<String>,
    pub prompt_name: Option<String>,
    pub prompt_version: Option<i64>,
    pub usage_details: BTreeMap<String, i64>,
    pub cost_details: BTreeMap<String, f64>,
    pub usage: Usage,
    pub unit: &'static str,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub usage_pricing_tier_name: Option<String>,
    pub usage_pricing_tier_id: Option<String>,
    pub model_id: Option<String>,
    pub input_price: Option<f64>,
    pub output_price: Option<f64>,
    pub total_price: Option<f64>,
    pub calculated_input_cost: Option<f64>,
    pub calculated_output_cost: Option<f64>,
    pub calculated_total_cost: Option<f64>,
    pub total_cost: f64,
    pub latency: Option<f64>,
    pub time_to_first_token: Option<f64>,
    /// Spindle: the usage was counted with the model's tokenizer (the SDK reported none).
    pub usage_inferred: bool,
}

/// The total of a cost map: its `total` entry, else the sum of its entries.
pub fn total_cost(costs: &BTreeMap<String, f64>) -> f64 {
    costs
        .get("total")
        .copied()
        .unwrap_or_else(|| costs.values().fold(0.0, |sum, value| sum + value))
}

fn usage_total(usage: &BTreeMap<String, i64>) -> i64 {
    usage.get("total").copied().unwrap_or_else(|| {
        usage
            .iter()
            .filter(|(key, _)| key.starts_with("input") || key.starts_with("output"))
            .fold(0i64, |sum, (_, value)| sum.saturating_add(*value))
    })
}

fn seconds_between(from: Option<Micros>, to: Option<Micros>) -> Option<f64> {
    Some((to? - from?).max(0) as f64 / 1_000_000.0)
}

pub fn observation_v1(view: ObservationView, project_id: &str) -> Observation {
    let record = view.record;
    let usage_details = record.effective_usage().cloned().unwrap_or_default();
    let cost_details = record.effective_cost().cloned().unwrap_or_default();
    let usage_inferred = record
        .usage_details
        .as_ref()
        .is_none_or(|usage| usage.is_empty())
        && !record.derived.inferred_usage.is_empty();
    let derived = record.derived;
    let price = |key: &str| derived.prices.get(key).copied();
    let input_tokens = usage_details.get("input").copied().unwrap_or(0);
    let output_tokens = usage_details.get("output").copied().unwrap_or(0);
    let total_tokens = usage_total(&usage_details);
    let start_time = record.start_time.unwrap_or(view.created_at);
    let end_time = record.end_time.map(|end| end.max(start_time));
    let has_cost = !cost_details.is_empty();
    Observation {
        project_id: project_id.to_owned(),
        trace_id: record.trace_id,
        parent_observation_id: record.parent_observation_id,
        name: record.name,
        observation_type: record
            .observation_type
            .map(|kind| kind.as_str())
            .unwrap_or("SPAN")
            .to_owned(),
        environment: record.environment.unwrap_or_else(|| "default".to_owned()),
        start_time: format_iso(start_time),
        end_time: iso(end_time),
        completion_start_time: iso(record.completion_start_time),
        version: record.version,
        created_at: format_iso(view.created_at),
        updated_at: format_iso(view.updated_at),
        input: io_value(&record.input),
        output: io_value(&record.output),
        metadata: metadata_value(&record.metadata),
        level: record
            .level
            .map(|level| level.as_str())
            .unwrap_or("DEFAULT")
            .to_owned(),
        status_message: record.status_message,
        model: record.model,
        model_parameters: record
            .model_parameters
            .as_deref()
            .map(parse_lenient)
            .unwrap_or(Value::Null),
        prompt_id: None,
        prompt_name: record.prompt_name,
        prompt_version: record.prompt_version,
        usage: Usage {
            unit: "TOKENS",
            input: input_tokens,
            output: output_tokens,
            total: total_tokens,
        },
        unit: "TOKENS",
        prompt_tokens: input_tokens,
        completion_tokens: output_tokens,
        total_tokens,
        usage_pricing_tier_id: derived.tier.clone(),
        usage_pricing_tier_name: derived.tier.clone(),
        input_price: price("input"),
        output_price: price("output"),
        total_price: price("total"),
        model_id: derived.model_id,
        calculated_input_cost: cost_details.get("input").copied(),
        calculated_output_cost: cost_details.get("output").copied(),
        calculated_total_cost: has_cost.then(|| total_cost(&cost_details)),
        total_cost: total_cost(&cost_details),
        latency: seconds_between(Some(start_time), end_time),
        time_to_first_token: seconds_between(Some(start_time), record.completion_start_time),
        usage_inferred,
        usage_details,
        cost_details,
        id: record.id,
    }
}

/// Field groups of `GET /api/public/v2/observations`.
#[derive(Debug, Clone)]
pub struct ObservationFields(BTreeSet<String>);

impl ObservationFields {
    pub const GROUPS: &'static [&'static str] = &[
        "core",
        "basic",
        "time",
        "io",
        "metadata",
        "model",
        "usage",
        "prompt",
        "metrics",
        "trace_context",
    ];

    pub fn parse(text: Option<&str>) -> Result<Self, spindle_core::Error> {
        let Some(text) = text.filter(|text| !text.trim().is_empty()) else {
            return Ok(ObservationFields(
                Self::GROUPS
                    .iter()
                    .map(|group| (*group).to_owned())
                    .collect(),
            ));
        };
        let mut groups = BTreeSet::new();
        for group in text.split(',').map(str::trim) {
            if !Self::GROUPS.contains(&group) {
                return Err(spindle_core::Error::invalid(
                    "fields",
                    format!(
                        "unknown field group {group:?}; expected any of {}",
                        Self::GROUPS.join(", ")
                    ),
                ));
            }
            groups.insert(group.to_owned());
        }
        Ok(ObservationFields(groups))
    }

    fn has(&self, group: &str) -> bool {
        self.0.contains(group)
    }
}

/// A v2 observation: core fields always, the rest per requested group; input/output raw.
pub fn observation_v2(
    view: ObservationView,
    project_id: &str,
    fields: &ObservationFields,
    expand_metadata: bool,
) -> Value {
    let trace_context = (
        view.trace_name.clone(),
        view.user_id.clone(),
        view.session_id.clone(),
        view.tags.clone(),
        view.release.clone(),
    );
    let v1 = observation_v1(view.clone(), project_id);
    let record = view.record;
    let mut out = Map::new();
    let mut put = |key: &str, value: Value| {
        out.insert(key.to_owned(), value);
    };
    put("id", Value::String(v1.id.clone()));
    put("traceId", serde_json::json!(v1.trace_id));
    put("startTime", Value::String(v1.start_time.clone()));
    put("endTime", serde_json::json!(v1.end_time));
    put("projectId", Value::String(project_id.to_owned()));
    put(
        "parentObservationId",
        serde_json::json!(v1.parent_observation_id),
    );
    put("type", Value::String(v1.observation_type.clone()));
    if fields.has("basic") {
        put("name", serde_json::json!(v1.name));
        put("level", Value::String(v1.level.clone()));
        put("statusMessage", serde_json::json!(v1.status_message));
        put("version", serde_json::json!(v1.version));
        put("environment", Value::String(v1.environment.clone()));
        put("createdAt", Value::String(v1.created_at.clone()));
        put("updatedAt", Value::String(v1.updated_at.clone()));
    }
    if fields.has("time") {
        put(
            "completionStartTime",
            serde_json::json!(v1.completion_start_time),
        );
    }
    if fields.has("io") {
        put("input", serde_json::json!(record.input));
        put("output", serde_json::json!(record.output));
    }
    if fields.has("metadata") {
        let metadata = if expand_metadata {
            metadata_value(&record.metadata)
        } else {
            serde_json::json!(record.metadata)
        };
        put("metadata", metadata);
    }
    if fields.has("model") {
        put("providedModelName", serde_json::json!(v1.model));
        put("internalModelId", serde_json::json!(v1.model_id));
        put("modelParameters", v1.model_parameters.clone());
        let as_text = |price: Option<f64>| serde_json::json!(price.map(|p| p.to_string()));
        put("inputPrice", as_text(v1.input_price));
        put("outputPrice", as_text(v1.output_price));
        put("totalPrice", as_text(v1.total_price));
    }
    if fields.has("usage") {
        put("usageDetails", serde_json::json!(v1.usage_details));
        put("costDetails", serde_json::json!(v1.cost_details));
        put("totalCost", serde_json::json!(v1.total_cost));
        put("usageInferred", Value::Bool(v1.usage_inferred));
    }
    if fields.has("prompt") {
        put("promptId", Value::Null);
        put("promptName", serde_json::json!(v1.prompt_name));
        put("promptVersion", serde_json::json!(v1.prompt_version));
    }
    if fields.has("metrics") {
        put("latency", serde_json::json!(v1.latency));
        put(
            "timeToFirstToken",
            serde_json::json!(v1.time_to_first_token),
        );
    }
    if fields.has("trace_context") {
        let (trace_name, user_id, session_id, tags, release) = trace_context;
        put("traceName", serde_json::json!(trace_name));
        put("userId", serde_json::json!(user_id));
        put("sessionId", serde_json::json!(session_id));
        put("tags", serde_json::json!(tags));
        put("release", serde_json::json!(release));
    }
    Value::Object(out)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreTrace {
    pub user_id: Option<String>,
    pub tags: Vec<String>,
    pub environment: Option<String>,
    pub session_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    pub id: String,
    pub project_id: String,
    pub environment: String,
    pub name: Option<String>,
    pub value: f64,
    pub string_value: Option<String>,
    pub data_type: String,
    pub source: String,
    pub author_user_id: Option<String>,
    pub comment: Option<String>,
    pub metadata: Value,
    pub config_id: Option<String>,
    pub queue_id: Option<String>,
    pub execution_trace_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub timestamp: String,
    pub trace_id: Option<String>,
    pub observation_id: Option<String>,
    pub session_id: Option<String>,
    pub dataset_run_id: Option<String>,
    pub trace: Option<ScoreTrace>,
}

pub fn score_v1(view: ScoreView, project_id: &str) -> Score {
    let record = view.record;
    let trace = record.trace_id.as_ref().map(|_| ScoreTrace {
        user_id: view.trace_user_id.clone(),
        tags: view.trace_tags.clone(),
        environment: view.trace_environment.clone(),
        session_id: view.trace_session_id.clone(),
    });
    Score {
        project_id: project_id.to_owned(),
        environment: record.environment.unwrap_or_else(|| "default".to_owned()),
        name: record.name,
        value: record.value.unwrap_or(0.0),
        string_value: record.string_value,
        data_type: record
            .data_type
            .map(|data_type| data_type.as_str())
            .unwrap_or("NUMERIC")
            .to_owned(),
        source: record
            .source
            .map(|source| source.as_str())
            .unwrap_or("API")
            .to_owned(),
        author_user_id: record.author_user_id,
        comment: record.comment,
        metadata: metadata_value(&record.metadata),
        config_id: record.config_id,
        queue_id: record.queue_id,
        execution_trace_id: record.execution_trace_id,
        created_at: format_iso(view.created_at),
        updated_at: format_iso(view.updated_at),
        timestamp: format_iso(record.timestamp.unwrap_or(view.created_at)),
        trace_id: record.trace_id,
        observation_id: record.observation_id,
        session_id: record.session_id,
        dataset_run_id: record.dataset_run_id,
        trace,
        id: record.id,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session<T: Serialize> {
    pub id: String,
    pub created_at: String,
    pub project_id: String,
    pub environment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<Vec<T>>,
}

/// A session, with its traces when asked for.
pub fn session(view: SessionView, project_id: &str, with_traces: bool) -> Session<TraceSummary> {
    Session {
        id: view.id,
        created_at: format_iso(view.created_at),
        project_id: project_id.to_owned(),
        environment: view.environment,
        traces: with_traces.then(|| {
            view.traces
                .into_iter()
                .map(|trace| trace_summary(trace, project_id, TraceFields::ALL))
                .collect()
        }),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyMetricsItem {
    pub date: String,
    pub count_traces: u64,
    pub count_observations: u64,
    pub total_cost: f64,
    pub usage: Vec<ModelUsageItem>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelUsageItem {
    pub model: String,
    pub input_usage: i64,
    pub output_usage: i64,
    pub total_usage: i64,
    pub count_traces: u64,
    pub count_observations: u64,
    pub total_cost: f64,
}

/// The body of the metrics API: `{"data": [row, …]}`, counts as strings of digits (as
/// Langfuse sends them), histograms as `[lower, upper, height]` triples.
pub fn metrics_response(rows: Vec<MetricsRow>) -> Value {
    let number = |value: f64| {
        serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    };
    let data: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let object: Map<String, Value> = row
                .into_iter()
                .map(|(name, value)| {
                    let value = match value {
                        MetricsValue::Null => Value::Null,
                        MetricsValue::Text(text) => Value::String(text),
                        MetricsValue::Integer(integer) => Value::from(integer),
                        MetricsValue::Count(count) => Value::String(count.to_string()),
                        MetricsValue::Float(float) => number(float),
                        MetricsValue::Boolean(flag) => Value::Bool(flag),
                        MetricsValue::Tags(tags) => Value::from(tags),
                        MetricsValue::Histogram(bins) => Value::Array(
                            bins.into_iter()
                                .map(|bin| Value::Array(bin.into_iter().map(number).collect()))
                                .collect(),
                        ),
                    };
                    (name, value)
                })
                .collect();
            Value::Object(object)
        })
        .collect();
    serde_json::json!({ "data": data })
}

pub fn daily_metrics(day: DailyMetrics) -> DailyMetricsItem {
    DailyMetricsItem {
        date: day.date,
        count_traces: day.count_traces,
        count_observations: day.count_observations,
        total_cost: day.total_cost,
        usage: day
            .usage
            .into_iter()
            .map(|usage| ModelUsageItem {
                model: usage.model,
                input_usage: usage.input_usage,
                output_usage: usage.output_usage,
                total_usage: usage.total_usage,
                count_traces: usage.count_traces,
                count_observations: usage.count_observations,
                total_cost: usage.total_cost,
            })
            .collect(),
    }
}

/// Field groups of `GET /api/public/v3/scores` beyond the core fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreV3Fields {
    pub details: bool,
    pub subject: bool,
    pub annotation: bool,
}

impl ScoreV3Fields {
    pub fn parse(text: Option<&str>) -> Result<Self, spindle_core::Error> {
        let mut fields = ScoreV3Fields::default();
        for group in text
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|group| !group.is_empty())
        {
            match group {
                "details" => fields.details = true,
                "subject" => fields.subject = true,
                "annotation" => fields.annotation = true,
                other => {
                    return Err(spindle_core::Error::invalid(
                        "fields",
                        format!("unknown field group {other:?}; expected any of details, subject, annotation"),
                    ))
                }
            }
        }
        Ok(fields)
    }
}

/// A v3 score: `value` typed by `dataType` (number, boolean or string).
pub fn score_v3(view: ScoreView, project_id: &str, fields: ScoreV3Fields) -> Value {
    let v1 = score_v1(view, project_id);
    let value = match v1.data_type.as_str() {
        "NUMERIC" => serde_json::json!(v1.value),
        "BOOLEAN" => Value::Bool(v1.value != 0.0),
        _ => serde_json::json!(v1.string_value.clone().unwrap_or_default()),
    };
    let mut out = serde_json::json!({
        "id": v1.id,
        "projectId": v1.project_id,
        "name": v1.name,
        "value": value,
        "dataType": v1.data_type,
        "source": v1.source,
        "timestamp": v1.timestamp,
        "environment": v1.environment,
        "createdAt": v1.created_at,
        "updatedAt": v1.updated_at,
    });
    let Value::Object(map) = &mut out else {
        return out;
    };
    if fields.details {
        map.insert("comment".into(), serde_json::json!(v1.comment));
        map.insert("configId".into(), serde_json::json!(v1.config_id));
        map.insert("metadata".into(), v1.metadata.clone());
    }
    if fields.annotation {
        map.insert("authorUserId".into(), serde_json::json!(v1.author_user_id));
        map.insert("queueId".into(), serde_json::json!(v1.queue_id));
    }
    if fields.subject {
        let subject = if let Some(observation_id) = &v1.observation_id {
            serde_json::json!({"kind": "observation", "id": observation_id, "traceId": v1.trace_id})
        } else if let Some(trace_id) = &v1.trace_id {
            serde_json::json!({"kind": "trace", "id": trace_id})
        } else if let Some(session_id) = &v1.session_id {
            serde_json::json!({"kind": "session", "id": session_id})
        } else if let Some(run_id) = &v1.dataset_run_id {
            serde_json::json!({"kind": "experiment", "id": run_id})
        } else {
            Value::Null
        };
        map.insert("subject".into(), subject);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_marks_its_total_only_when_estimated() {
        let page = |estimated: bool| Page {
            items: vec![1, 2],
            page: 1,
            limit: 2,
            total_items: 4000,
            total_is_estimate: estimated,
            next_cursor: None,
        };
        let counted =
            serde_json::to_value(PageResponse::from_page(page(false), |n| n)).expect("json");
        assert_eq!(
            counted["meta"],
            serde_json::json!({"page": 1, "limit": 2, "totalItems": 4000, "totalPages": 2000}),
            "Langfuse's shape"
        );
        let estimated =
            serde_json::to_value(PageResponse::from_page(page(true), |n| n)).expect("json");
        assert_eq!(
            estimated["meta"]["totalIsEstimate"],
            serde_json::json!(true)
        );
        assert_eq!(estimated["meta"]["totalItems"], serde_json::json!(4000));
    }
}
