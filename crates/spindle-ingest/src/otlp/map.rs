//! Spans to traces and observations: Langfuse's attribute keys (wire spec §3.4, with every
//! SDK version's encodings, §3.5) and the common foreign conventions (§6): OpenTelemetry
//! `gen_ai.*`, OpenInference and the Vercel AI SDK.

use super::decoded::{Attr, Attrs, Export, Scope, Span};
use crate::usage;
use serde_json::{Map, Value};
use spindle_core::merge::{tiebreak_of, Stamp};
use spindle_core::model::normalize_environment;
use spindle_core::time::{nanos_to_micros, parse_iso, Micros};
use spindle_core::{
    ExperimentRunItem, Level, ObservationRecord, ObservationType, TraceRecord, WriteBatch,
};
use spindle_semconv as semconv;
use std::collections::BTreeMap;

/// Converts a decoded export into records. `now` fills spans that carry no time at all.
pub fn to_batch(export: &Export, now: Micros) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for resource_spans in &export.resource_spans {
        for scope_spans in &resource_spans.scope_spans {
            for span in &scope_spans.spans {
                let context = SpanContext {
                    span,
                    attrs: &span.attributes,
                    resource: &resource_spans.resource,
                    scope: &scope_spans.scope,
                };
                map_span(&context, now, &mut batch);
            }
        }
    }
    batch
}

struct SpanContext<'a> {
    span: &'a Span,
    attrs: &'a Attrs,
    resource: &'a Attrs,
    scope: &'a Scope,
}

impl SpanContext<'_> {
    fn attr(&self, key: &str) -> Option<&Attr> {
        self.attrs.get(key)
    }

    /// The first key among `keys` with a non-empty string value.
    fn text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| {
            let value = self.attr(key)?;
            let text = value.to_text();
            (!text.is_empty()).then_some(text)
        })
    }

    fn is_langfuse_scope(&self) -> bool {
        self.scope.name.starts_with(semconv::SCOPE_NAME)
    }
}

fn map_span(context: &SpanContext<'_>, now: Micros, batch: &mut WriteBatch) {
    let span = context.span;
    let (start, end) = span_times(span, now);
    let tiebreak = tiebreak_of(span.span_id.as_bytes());
    let stamp = Stamp::explicit(end, Stamp::RANK_CREATE, tiebreak);
    let trace_stamp = Stamp::explicit(start, Stamp::RANK_CREATE, tiebreak);

    let observation_type = observation_type(context);
    let environment = environment(context);
    let observation = observation(context, observation_type, start, end, &environment, stamp);

    let as_root = context
        .attr(semconv::INTERNAL_AS_ROOT)
        .and_then(Attr::as_bool)
        .unwrap_or(false);
    let is_app_root = context
        .attr(semconv::INTERNAL_IS_APP_ROOT)
        .and_then(Attr::as_bool)
        .unwrap_or(false);
    let is_root = span.parent_span_id.is_none() || as_root;

    // Implicit trace fields: derived from the root span, outranked by explicit attributes.
    let mut implicit = TraceRecord::new(&span.trace_id);
    implicit.timestamp = Some(start);
    implicit.environment = Some(environment.clone());
    if is_root || is_app_root {
        implicit.name = Some(span.name.clone()).filter(|name| !name.is_empty());
        implicit.input = observation.input.clone();
        implicit.output = observation.output.clone();
    }
    implicit.stamp_unstamped(trace_stamp.implicit());
    batch.traces.push(implicit);

    let mut explicit = explicit_trace(context, &span.trace_id);
    if is_root {
        // A root span fixes the trace's start, before any child's.
        explicit.timestamp = Some(start);
    }
    if !explicit.is_empty_patch() {
        explicit.stamp_unstamped(trace_stamp);
        batch.traces.push(explicit);
    }
    if is_root && is_python_sdk_from_5(context) {
        batch
            .run_items
            .extend(experiment_run_item(context, &observation.id, start));
    }
    batch.observations.push(observation);
}

/// Whether the span comes from Python SDK 5.x or later, whose experiments link their dataset
/// items only through span attributes (earlier versions and the JS SDK set the same attributes
/// but create their run items through the API too).
fn is_python_sdk_from_5(context: &SpanContext<'_>) -> bool {
    let major = context
        .scope
        .version
        .split(['.', '-', '+'])
        .next()
        .and_then(|part| part.parse::<u32>().ok());
    context.is_langfuse_scope()
        && matches!(major, Some(major) if major >= 5)
        && context
            .resource
            .get(semconv::RESOURCE_SDK_LANGUAGE)
            .and_then(Attr::as_str)
            == Some("python")
}

/// The dataset run item a root span of an experiment over a dataset stands for: Python SDK
/// 5.x tags the span with the dataset, the item and the run name instead of creating the run
/// item through the API.
fn experiment_run_item(
    context: &SpanContext<'_>,
    observation_id: &str,
    start: Micros,
) -> Option<ExperimentRunItem> {
    let dataset_id = context.text(&[semconv::EXPERIMENT_DATASET_ID])?;
    let dataset_item_id = context.text(&[semconv::EXPERIMENT_ITEM_ID])?;
    let run_name = context.text(&[semconv::EXPERIMENT_NAME])?;
    let run_metadata = context
        .text(&[semconv::EXPERIMENT_METADATA])
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(|value| !value.is_null())
        .map(|value| value.to_string());
    Some(ExperimentRunItem {
        dataset_id,
        dataset_item_id,
        run_name,
        run_description: context.text(&[semconv::EXPERIMENT_DESCRIPTION]),
        run_metadata,
        trace_id: context.span.trace_id.clone(),
        observation_id: observation_id.to_owned(),
        dataset_version: context
            .text(&[semconv::EXPERIMENT_ITEM_VERSION])
            .and_then(|text| parse_iso(&text)),
        created_at: start,
    })
}

fn span_times(span: &Span, now: Micros) -> (Micros, Micros) {
    let start = (span.start_time_unix_nano > 0).then(|| nanos_to_micros(span.start_time_unix_nano));
    let end = (span.end_time_unix_nano > 0).then(|| nanos_to_micros(span.end_time_unix_nano));
    match (start, end) {
        (Some(start), Some(end)) => (start, end.max(start)),
        (Some(start), None) => (start, start),
        (None, Some(end)) => (end, end),
        (None, None) => (now, now),
    }
}

fn environment(context: &SpanContext<'_>) -> String {
    if context.attr(semconv::EXPERIMENT_ID).is_some() {
        return "sdk-experiment".to_owned();
    }
    let keys = [
        semconv::ENVIRONMENT,
        semconv::DEPLOYMENT_ENVIRONMENT_NAME,
        semconv::DEPLOYMENT_ENVIRONMENT,
    ];
    let raw = keys.iter().find_map(|key| {
        context
            .attr(key)
            .or_else(|| context.resource.get(key))
            .and_then(Attr::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    });
    normalize_environment(raw.as_deref())
}

const GENERATION_ONLY_KEYS: &[&str] = &[
    semconv::OBSERVATION_MODEL_NAME,
    semconv::OBSERVATION_USAGE_DETAILS,
    semconv::OBSERVATION_COST_DETAILS,
    semconv::OBSERVATION_COMPLETION_START_TIME,
    semconv::OBSERVATION_MODEL_PARAMETERS,
    semconv::OBSERVATION_PROMPT_NAME,
];

const MODEL_KEYS: &[&str] = &[
    semconv::OBSERVATION_MODEL_NAME,
    "gen_ai.response.model",
    "ai.model.id",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "model",
];

/// Python SDK versions up to 3.3 declared generations as spans; later ones mean it.
fn is_python_sdk_up_to_3_3(version: &str) -> bool {
    let mut parts = version.split(['.', '-', '+']);
    let major = parts.next().and_then(|part| part.parse::<u32>().ok());
    let minor = parts
        .next()
        .and_then(|part| part.parse::<u32>().ok())
        .unwrap_or(0);
    matches!(major, Some(major) if major < 3 || (major == 3 && minor <= 3))
}

fn observation_type(context: &SpanContext<'_>) -> ObservationType {
    let declared = context
        .attr(semconv::OBSERVATION_TYPE)
        .and_then(Attr::as_str)
        .and_then(ObservationType::parse);
    // Python SDK <= 3.3 declared generations as spans but sent generation-only keys.
    if declared == Some(ObservationType::Span)
        && context.is_langfuse_scope()
        && is_python_sdk_up_to_3_3(&context.scope.version)
        && context
            .resource
            .get(semconv::RESOURCE_SDK_LANGUAGE)
            .and_then(Attr::as_str)
            == Some("python")
        && GENERATION_ONLY_KEYS
            .iter()
            .any(|key| context.attr(key).is_some())
    {
        return ObservationType::Generation;
    }
    if let Some(declared) = declared {
        return declared;
    }
    if let Some(kind) = context
        .attr("openinference.span.kind")
        .and_then(Attr::as_str)
    {
        let mapped = match kind.to_ascii_uppercase().as_str() {
            "CHAIN" => Some(ObservationType::Chain),
            "RETRIEVER" => Some(ObservationType::Retriever),
            "LLM" => Some(ObservationType::Generation),
            "EMBEDDING" => Some(ObservationType::Embedding),
            "AGENT" => Some(ObservationType::Agent),
            "TOOL" => Some(ObservationType::Tool),
            "GUARDRAIL" => Some(ObservationType::Guardrail),
            "EVALUATOR" => Some(ObservationType::Evaluator),
            _ => None,
        };
        if let Some(mapped) = mapped {
            return mapped;
        }
    }
    if let Some(operation) = context.attr("gen_ai.operation.name").and_then(Attr::as_str) {
        let mapped = match operation {
            "chat" | "completion" | "text_completion" | "generate_content" | "generate" => {
                Some(ObservationType::Generation)
            }
            "embeddings" => Some(ObservationType::Embedding),
            "invoke_agent" | "create_agent" => Some(ObservationType::Agent),
            "execute_tool" => Some(ObservationType::Tool),
            _ => None,
        };
        if let Some(mapped) = mapped {
            return mapped;
        }
    }
    let has_model = MODEL_KEYS.iter().any(|key| context.attr(key).is_some());
    match ai_sdk_operation(context) {
        Some(AiSdkOperation::ModelCall) if has_model => return ObservationType::Generation,
        Some(AiSdkOperation::Embedding) => return ObservationType::Embedding,
        Some(AiSdkOperation::ToolCall) => return ObservationType::Tool,
        _ => {}
    }
    if context.attr("gen_ai.tool.name").is_some() || context.attr("gen_ai.tool.call.id").is_some() {
        return ObservationType::Tool;
    }
    // `ai.model.id` alone makes no generation: the AI SDK also puts it on the spans wrapping its
    // model calls (`ai.generateText`, `ai.streamText`), which Langfuse keeps spans.
    if MODEL_KEYS
        .iter()
        .filter(|key| **key != "ai.model.id")
        .any(|key| context.attr(key).is_some())
    {
        return ObservationType::Generation;
    }
    ObservationType::Span
}

/// What a Vercel AI SDK span (`ai.operationId` or `operation.name` starting with `ai.`) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AiSdkOperation {
    /// One call of the model: `ai.generateText.doGenerate`, `ai.streamText.doStream` and their
    /// `generateObject` / `streamObject` twins. Only these are generations.
    ModelCall,
    /// `ai.embed.doEmbed`, `ai.embedMany.doEmbed`.
    Embedding,
    /// `ai.toolCall`.
    ToolCall,
    /// Anything else, such as `ai.generateText` / `ai.streamText` wrapping the model calls:
    /// their `ai.usage.*` is the sum of their children's.
    Wrapper,
}

fn ai_sdk_operation(context: &SpanContext<'_>) -> Option<AiSdkOperation> {
    let operation = ["ai.operationId", "operation.name"]
        .iter()
        .filter_map(|key| context.attr(key).and_then(Attr::as_str))
        .find(|operation| operation.starts_with("ai."))?;
    const MODEL_CALLS: [&str; 4] = [
        "ai.generateText.doGenerate",
        "ai.streamText.doStream",
        "ai.generateObject.doGenerate",
        "ai.streamObject.doStream",
    ];
    let kind = if MODEL_CALLS.iter().any(|call| operation.starts_with(call)) {
        AiSdkOperation::ModelCall
    } else if operation.starts_with("ai.embed") && operation.contains("doEmbed") {
        AiSdkOperation::Embedding
    } else if operation.starts_with("ai.toolCall") {
        AiSdkOperation::ToolCall
    } else {
        AiSdkOperation::Wrapper
    };
    Some(kind)
}

fn observation(
    context: &SpanContext<'_>,
    observation_type: ObservationType,
    start: Micros,
    end: Micros,
    environment: &str,
    stamp: Stamp,
) -> ObservationRecord {
    let span = context.span;
    let mut record = ObservationRecord::new(&span.span_id);
    record.trace_id = Some(span.trace_id.clone());
    record.parent_observation_id = span.parent_span_id.clone();
    record.observation_type = Some(observation_type);
    record.name = Some(observation_name(context));
    record.start_time = Some(start);
    record.end_time = Some(if observation_type == ObservationType::Event {
        start
    } else {
        end
    });
    record.environment = Some(environment.to_owned());
    // An empty string is no value: Langfuse skips empty input/output when it merges an
    // observation's events (the Python SDK sends output "" for a generator that yielded nothing).
    record.input = observation_input(context).filter(|text| !text.is_empty());
    record.output = observation_output(context).filter(|text| !text.is_empty());
    record.level = Some(level(context));
    record.status_message = context
        .text(&[semconv::OBSERVATION_STATUS_MESSAGE])
        .or_else(|| (!span.status_message.is_empty()).then(|| span.status_message.clone()));
    record.version = context.text(&[semconv::VERSION]).or_else(|| {
        context
            .resource
            .get(semconv::RESOURCE_SERVICE_VERSION)
            .map(Attr::to_text)
    });
    record.model = context.text(MODEL_KEYS);
    record.model_parameters = model_parameters(context);
    let ai_wrapper = ai_sdk_operation(context) == Some(AiSdkOperation::Wrapper);
    let mut usage_details = usage_details(context, !ai_wrapper);
    if ai_wrapper && usage_details.is_empty() && record.model.is_some() {
        // The model's tokens are counted on the model-call spans below this one. Zero usage, as
        // Langfuse stores for these spans, also keeps tokens from being counted from its text.
        usage_details = ["input", "output", "total"]
            .into_iter()
            .map(|usage_type| (usage_type.to_owned(), 0))
            .collect();
    }
    record.usage_details = (!usage_details.is_empty()).then_some(usage_details);
    let cost_details = cost_details(context);
    record.cost_details = (!cost_details.is_empty()).then_some(cost_details);
    record.completion_start_time = completion_start_time(context, start);
    if observation_type == ObservationType::Generation {
        record.prompt_name = context.text(&[
            semconv::OBSERVATION_PROMPT_NAME,
            semconv::LEGACY_PROMPT_NAME,
        ]);
        record.prompt_version = [
            semconv::OBSERVATION_PROMPT_VERSION,
            semconv::LEGACY_PROMPT_VERSION,
        ]
        .iter()
        .find_map(|key| context.attr(key).and_then(Attr::as_i64));
    }
    record.metadata = observation_metadata(context);
    record.stamp_unstamped(stamp);
    record
}

fn observation_name(context: &SpanContext<'_>) -> String {
    if let Some(name) = context.text(&["gen_ai.tool.name", "ai.toolCall.name"]) {
        return name;
    }
    if !context.span.name.is_empty() {
        return context.span.name.clone();
    }
    context
        .text(&["ai.telemetry.functionId"])
        .unwrap_or_default()
}

fn level(context: &SpanContext<'_>) -> Level {
    if let Some(level) = context
        .attr(semconv::OBSERVATION_LEVEL)
        .and_then(Attr::as_str)
        .and_then(Level::parse_lenient)
    {
        return level;
    }
    if context.span.status_code == 2 {
        return Level::Error;
    }
    Level::Default
}

fn observation_input(context: &SpanContext<'_>) -> Option<String> {
    let keys = [
        semconv::OBSERVATION_INPUT,
        "ai.prompt.messages",
        "ai.prompt",
        "ai.toolCall.args",
        "gen_ai.input.messages",
        "input.value",
        "gen_ai.prompt",
        "gen_ai.tool.call.arguments",
        "traceloop.entity.input",
        "mlflow.spanInputs",
        "input",
    ];
    let message_events = [
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
    ];
    let indexed_prefixes = ["llm.input_messages.", "gen_ai.prompt."];
    first_text_or_indexed(context, &keys, &indexed_prefixes)
        .or_else(|| messages_from_events(context, &message_events))
}

/// The text of the first of `keys` the span has, else the first flattened array under one of
/// `indexed_prefixes`, rebuilt.
fn first_text_or_indexed(
    context: &SpanContext<'_>,
    keys: &[&str],
    indexed_prefixes: &[&str],
) -> Option<String> {
    keys.iter()
        .find_map(|key| context.attr(key).map(Attr::to_text))
        .or_else(|| {
            indexed_prefixes.iter().find_map(|prefix| {
                rebuild_indexed(context.attrs, prefix).map(|rebuilt| rebuilt.to_string())
            })
        })
}

fn observation_output(context: &SpanContext<'_>) -> Option<String> {
    if let Some(text) = context.attr("ai.response.text").map(Attr::to_text) {
        if let Some(tool_calls) = context.attr("ai.response.toolCalls") {
            let tool_calls = parse_json_or_string(&tool_calls.to_text());
            return Some(
                serde_json::json!({"role": "assistant", "content": text, "tool_calls": tool_calls})
                    .to_string(),
            );
        }
        return Some(text);
    }
    let keys = [
        semconv::OBSERVATION_OUTPUT,
        "ai.result.text",
        "ai.toolCall.result",
        "ai.response.object",
        "ai.result.object",
        "ai.response.toolCalls",
        "ai.result.toolCalls",
        "gen_ai.output.messages",
        "output.value",
        "gen_ai.completion",
        "gen_ai.tool.call.result",
        "traceloop.entity.output",
        "mlflow.spanOutputs",
        "output",
    ];
    first_text_or_indexed(
        context,
        &keys,
        &["llm.output_messages.", "gen_ai.completion."],
    )
    .or_else(|| messages_from_events(context, &["gen_ai.choice"]))
}

/// Rebuilds flattened arrays such as `llm.input_messages.0.message.role` into
/// `[{"message.role": ...}]`-shaped objects with the nested keys expanded.
fn rebuild_indexed(attrs: &Attrs, prefix: &str) -> Option<Value> {
    let mut items: BTreeMap<usize, Map<String, Value>> = BTreeMap::new();
    for (key, value) in attrs.iter() {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let field = field.strip_prefix("message.").unwrap_or(field);
        items
            .entry(index)
            .or_default()
            .insert(field.to_owned(), value.to_json());
    }
    if items.is_empty() {
        return None;
    }
    Some(Value::Array(
        items.into_values().map(Value::Object).collect(),
    ))
}

fn messages_from_events(context: &SpanContext<'_>, names: &[&str]) -> Option<String> {
    let mut messages = Vec::new();
    for event in &context.span.events {
        if !names.contains(&event.name.as_str()) {
            continue;
        }
        let mut message = event.attributes.to_json_object();
        if !message.contains_key("role") {
            if let Some(role) = event
                .name
                .strip_prefix("gen_ai.")
                .and_then(|rest| rest.strip_suffix(".message"))
            {
                message.insert("role".into(), Value::String(role.to_owned()));
            }
        }
        messages.push(Value::Object(message));
    }
    if messages.is_empty() {
        return None;
    }
    Some(Value::Array(messages).to_string())
}

fn parse_json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn model_parameters(context: &SpanContext<'_>) -> Option<String> {
    for key in [
        semconv::OBSERVATION_MODEL_PARAMETERS,
        "llm.invocation_parameters",
        "model_config",
    ] {
        if let Some(value) = context.attr(key) {
            if let Value::Object(map) = parse_json_or_string(&value.to_text()) {
                return Some(stringify_parameters(map));
            }
        }
    }
    let mut parameters = Map::new();
    for (key, value) in context.attrs.iter() {
        let name = key
            .strip_prefix("gen_ai.request.")
            .or_else(|| key.strip_prefix("llm.invocation_parameters."));
        if let Some(name) = name {
            if name != "model" {
                parameters.insert(name.to_owned(), value.to_json());
            }
        }
    }
    for (key, name) in [
        ("ai.settings.maxSteps", "maxSteps"),
        ("ai.prompt.toolChoice", "toolChoice"),
        ("ai.settings.maxRetries", "maxRetries"),
        ("ai.settings.mode", "mode"),
    ] {
        if let Some(value) = context.attr(key) {
            parameters.insert(name.to_owned(), value.to_json());
        }
    }
    (!parameters.is_empty()).then(|| stringify_parameters(parameters))
}

/// Model parameter values that are not strings or numbers are kept as JSON text.
fn stringify_parameters(map: Map<String, Value>) -> String {
    let converted: Map<String, Value> = map
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => value,
                other => Value::String(other.to_string()),
            };
            (key, value)
        })
        .collect();
    Value::Object(converted).to_string()
}

/// The span's usage: `langfuse.observation.usage_details`, else the flat `gen_ai.usage.*`,
/// `llm.token_count.*` and (with `ai_usage`) `ai.usage.*` counts.
fn usage_details(context: &SpanContext<'_>, ai_usage: bool) -> BTreeMap<String, i64> {
    if let Some(value) = context.attr(semconv::OBSERVATION_USAGE_DETAILS) {
        return match parse_json_or_string(&value.to_text()) {
            Value::Object(map) => usage::from_json_map(&map),
            _ => BTreeMap::new(),
        };
    }
    let mut raw = Map::new();
    for (key, value) in context.attrs.iter() {
        let name = key
            .strip_prefix("gen_ai.usage.")
            .or_else(|| key.strip_prefix("llm.token_count."))
            .or_else(|| key.strip_prefix("ai.usage.").filter(|_| ai_usage));
        if let Some(name) = name {
            if name == "cost" {
                continue;
            }
            if let Some(number) = value.as_i64() {
                raw.insert(name.to_owned(), Value::from(number));
            }
        }
    }
    usage::from_flat_usage(&raw)
}

fn cost_details(context: &SpanContext<'_>) -> BTreeMap<String, f64> {
    if let Some(value) = context.attr(semconv::OBSERVATION_COST_DETAILS) {
        return match parse_json_or_string(&value.to_text()) {
            Value::Object(map) => map
                .iter()
                .filter_map(|(key, value)| {
                    Some((key.clone(), value.as_f64().filter(|v| *v >= 0.0)?))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
    }
    ["gen_ai.usage.cost", "llm.cost.total"]
        .iter()
        .find_map(|key| context.attr(key).and_then(Attr::as_f64))
        .map(|total| BTreeMap::from([("total".to_owned(), total)]))
        .unwrap_or_default()
}

fn completion_start_time(context: &SpanContext<'_>, start: Micros) -> Option<Micros> {
    if let Some(value) = context.attr(semconv::OBSERVATION_COMPLETION_START_TIME) {
        let text = value.to_text();
        let unquoted = match serde_json::from_str::<Value>(&text) {
            Ok(Value::String(inner)) => inner,
            _ => text,
        };
        if let Some(micros) = parse_iso(&unquoted) {
            return Some(micros);
        }
    }
    ["ai.response.msToFirstChunk", "ai.stream.msToFirstChunk"]
        .iter()
        .find_map(|key| context.attr(key).and_then(Attr::as_f64))
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| start.saturating_add((ms * 1000.0) as Micros))
}

/// Keys whose values are consumed as the observation's own fields, not kept as metadata.
fn is_consumed_key(key: &str) -> bool {
    key.starts_with(semconv::NAMESPACE)
        || matches!(
            key,
            semconv::TRACE_USER_ID | semconv::TRACE_SESSION_ID | "input.value" | "output.value"
        )
        || key.starts_with("gen_ai.input.")
        || key.starts_with("gen_ai.output.")
        || key.starts_with("gen_ai.prompt")
        || key.starts_with("gen_ai.completion")
        || key.starts_with("llm.input_messages.")
        || key.starts_with("llm.output_messages.")
        || matches!(key, "ai.prompt" | "ai.prompt.messages" | "ai.response.text")
}

fn observation_metadata(context: &SpanContext<'_>) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::new();
    if let Some(value) = context
        .attr(semconv::OBSERVATION_METADATA)
        .or_else(|| context.attr(semconv::LEGACY_METADATA))
    {
        merge_metadata_object(&mut metadata, &value.to_text());
    }
    for (key, value) in context.attrs.iter() {
        let name = sub_key(key, semconv::OBSERVATION_METADATA)
            .or_else(|| sub_key(key, semconv::LEGACY_METADATA))
            .or_else(|| key.strip_prefix("ai.telemetry.metadata."));
        if let Some(name) = name {
            if key.starts_with("ai.telemetry.metadata.")
                && matches!(name, "userId" | "sessionId" | "tags" | "langfusePrompt")
            {
                continue;
            }
            metadata.insert(name.to_owned(), value.to_text());
        }
    }
    for (key, value) in context.attrs.iter() {
        if let Some(name) = key.strip_prefix(semconv::NAMESPACE) {
            if name.starts_with("experiment.") {
                metadata.insert(name.to_owned(), value.to_text());
            }
        }
    }
    if !context.resource.0.is_empty() {
        metadata.insert(
            "resourceAttributes".to_owned(),
            Value::Object(context.resource.to_json_object()).to_string(),
        );
    }
    let scope = context.scope;
    if !scope.name.is_empty() {
        metadata.insert(
            "scope".to_owned(),
            serde_json::json!({
                "name": scope.name,
                "version": scope.version,
                "attributes": Value::Object(scope.attributes.to_json_object()),
            })
            .to_string(),
        );
    }
    if !context.is_langfuse_scope() {
        let attributes: Map<String, Value> = context
            .attrs
            .iter()
            .filter(|(key, _)| !is_consumed_key(key))
            .map(|(key, value)| (key.to_owned(), Value::String(value.to_text())))
            .collect();
        if !attributes.is_empty() {
            metadata.insert(
                "attributes".to_owned(),
                Value::Object(attributes).to_string(),
            );
        }
    }
    metadata
}

/// Merges a JSON document into metadata: objects by key, arrays by index; scalars are dropped.
fn merge_metadata_object(metadata: &mut BTreeMap<String, String>, text: &str) {
    match parse_json_or_string(text) {
        Value::Object(map) => {
            for (key, value) in map {
                metadata.insert(key, json_to_text(value));
            }
        }
        Value::Array(values) => {
            for (index, value) in values.into_iter().enumerate() {
                metadata.insert(index.to_string(), json_to_text(value));
            }
        }
        _ => {}
    }
}

fn json_to_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn explicit_trace(context: &SpanContext<'_>, trace_id: &str) -> TraceRecord {
    let mut trace = TraceRecord::new(trace_id);
    trace.name = context.text(&[semconv::TRACE_NAME]);
    trace.user_id = context.text(&[
        semconv::LEGACY_USER_ID,
        semconv::TRACE_USER_ID,
        semconv::OBSERVATION_METADATA_USER_ID,
        semconv::TRACE_METADATA_USER_ID,
        "ai.telemetry.metadata.userId",
    ]);
    trace.session_id = context.text(&[
        semconv::LEGACY_SESSION_ID,
        semconv::TRACE_SESSION_ID,
        "gen_ai.conversation.id",
        semconv::OBSERVATION_METADATA_SESSION_ID,
        semconv::TRACE_METADATA_SESSION_ID,
        "ai.telemetry.metadata.sessionId",
    ]);
    trace.input = context
        .attr(semconv::TRACE_INPUT)
        .map(Attr::to_text)
        .filter(|text| !text.is_empty());
    trace.output = context
        .attr(semconv::TRACE_OUTPUT)
        .map(Attr::to_text)
        .filter(|text| !text.is_empty());
    trace.public = [semconv::TRACE_PUBLIC, semconv::LEGACY_PUBLIC]
        .iter()
        .find_map(|key| context.attr(key).and_then(Attr::as_bool));
    trace.release = context
        .text(&[semconv::RELEASE])
        .or_else(|| context.resource.get(semconv::RELEASE).map(Attr::to_text));
    trace.version = context.text(&[semconv::VERSION]);
    for key in [
        semconv::TRACE_TAGS,
        semconv::LEGACY_TAGS,
        semconv::OBSERVATION_METADATA_TAGS,
        semconv::TRACE_METADATA_TAGS,
        "ai.telemetry.metadata.tags",
        "tag.tags",
    ] {
        if let Some(value) = context.attr(key) {
            trace.tags.extend(tags(value));
            break;
        }
    }
    if let Some(value) = context.attr(semconv::TRACE_METADATA) {
        merge_metadata_object(&mut trace.metadata, &value.to_text());
    }
    for (key, value) in context.resource.iter().chain(context.attrs.iter()) {
        if let Some(name) = sub_key(key, semconv::TRACE_METADATA) {
            trace.metadata.insert(name.to_owned(), value.to_text());
        }
    }
    trace
}

/// The `<name>` of a `<parent>.<name>` key.
fn sub_key<'k>(key: &'k str, parent: &str) -> Option<&'k str> {
    key.strip_prefix(parent)?.strip_prefix('.')
}

/// Tags from an array, a JSON-array string, a comma-separated string or a single string.
fn tags(value: &Attr) -> Vec<String> {
    let collect = |values: &[Value]| -> Vec<String> {
        values
            .iter()
            .map(|value| match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .filter(|tag| !tag.is_empty())
            .collect()
    };
    match value {
        Attr::Array(items) => items
            .iter()
            .map(Attr::to_text)
            .filter(|tag| !tag.is_empty())
            .collect(),
        Attr::Str(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(values)) => collect(&values),
            _ => text
                .split(',')
                .map(|tag| tag.trim().to_owned())
                .filter(|tag| !tag.is_empty())
                .collect(),
        },
        other => vec![other.to_text()],
    }
}

#[cfg(test)]
mod tests;
