//! Deterministic LLM traces shaped like the Python SDK 5's: scope `langfuse-sdk`, a root
//! span per trace with children of several observation types, chat-message input/output,
//! model, usage and cost on generations, propagated user, session, tags and metadata. The
//! same spans are encoded as OTLP protobuf, as OTLP JSON, or as Langfuse batch ingestion
//! events (`POST /api/public/ingestion`).

use spindle_otlp::{
    any_value, AnyValue, ArrayValue, ExportTraceServiceRequest, InstrumentationScope, KeyValue,
    Resource, ResourceSpans, ScopeSpans, Span, Status,
};

/// A small deterministic generator (SplitMix64), so the same seed gives the same load.
pub use spindle_core::rng::Rng;

const WORDS: &[&str] = &[
    "the",
    "model",
    "answer",
    "question",
    "customer",
    "order",
    "refund",
    "policy",
    "invoice",
    "shipping",
    "account",
    "password",
    "reset",
    "please",
    "thanks",
    "could",
    "would",
    "should",
    "because",
    "however",
    "therefore",
    "document",
    "section",
    "paragraph",
    "retrieved",
    "context",
    "summary",
    "details",
    "product",
    "warranty",
    "return",
    "days",
    "within",
    "before",
    "after",
    "request",
    "support",
    "ticket",
    "priority",
    "status",
    "update",
    "delivery",
    "address",
    "payment",
    "method",
    "credit",
    "card",
    "balance",
    "subscription",
    "plan",
    "monthly",
    "annual",
    "discount",
    "coupon",
    "code",
    "error",
    "timeout",
    "retry",
    "success",
    "failed",
    "user",
    "assistant",
    "system",
    "tool",
    "search",
    "database",
    "query",
    "result",
    "results",
    "relevant",
    "score",
    "ranking",
    "embedding",
    "vector",
    "chunk",
    "source",
    "citation",
    "according",
    "to",
    "our",
    "records",
    "your",
    "is",
    "are",
    "was",
    "were",
    "will",
    "be",
    "a",
    "an",
    "of",
    "in",
    "on",
    "for",
    "with",
    "and",
    "or",
    "not",
    "this",
    "that",
    "it",
    "we",
    "you",
];

/// Words separated by spaces, about `len` bytes long.
pub fn prose(rng: &mut Rng, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(rng.pick(WORDS));
        if rng.below(12) == 0 {
            out.push('.');
        }
    }
    out.truncate(len);
    out
}

/// The wire format of the generated requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// OTLP/HTTP protobuf to `/api/public/otel/v1/traces` (the Python SDK 3 to 5).
    Protobuf,
    /// OTLP/HTTP JSON to `/api/public/otel/v1/traces` (the JS SDK 4 and 5).
    Json,
    /// Langfuse batch ingestion events to `/api/public/ingestion` (the Python SDK 2, legacy JS).
    Ingestion,
}

impl Format {
    /// The request path on a Spindle (or Langfuse) server.
    pub fn path(self) -> &'static str {
        match self {
            Format::Protobuf | Format::Json => "/api/public/otel/v1/traces",
            Format::Ingestion => "/api/public/ingestion",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json | Format::Ingestion => "application/json",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Protobuf => "OTLP protobuf",
            Format::Json => "OTLP JSON",
            Format::Ingestion => "Langfuse batch ingestion",
        }
    }
}

/// The command-line options of the generated load that `ingest`, `limits` and `phoenix` share.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Spans per trace (one root, the rest children).
    #[arg(long, default_value_t = 10)]
    pub spans_per_trace: usize,
    /// Approximate encoded size of one span in bytes.
    #[arg(long, default_value_t = 3000)]
    pub span_bytes: usize,
    /// Spans per export request (the Python SDK flushes at 512); in `limits`, also per insert
    /// transaction.
    #[arg(long, default_value_t = 500)]
    pub batch_spans: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl LoadArgs {
    /// The load of `spans` spans these options describe.
    pub fn shape(&self, spans: usize, without_cost: bool) -> LoadShape {
        LoadShape {
            spans,
            spans_per_trace: self.spans_per_trace,
            span_bytes: self.span_bytes,
            batch_spans: self.batch_spans,
            seed: self.seed,
            without_cost,
        }
    }
}

/// Parameters of the generated load.
#[derive(Debug, Clone, Copy)]
pub struct LoadShape {
    pub spans: usize,
    pub spans_per_trace: usize,
    pub span_bytes: usize,
    pub batch_spans: usize,
    pub seed: u64,
    /// Generations report usage but no cost, so the server prices them (as with most
    /// OpenTelemetry instrumentations).
    pub without_cost: bool,
}

/// The pre-encoded requests and what they contain.
#[derive(Debug)]
pub struct Load {
    pub bodies: Vec<Vec<u8>>,
    pub spans: usize,
    pub traces: usize,
    /// Encoded bytes (protobuf, OTLP JSON or ingestion JSON) before any compression.
    pub raw_bytes: usize,
}

/// 2026-11-01T00:00:00Z in nanoseconds.
const BASE_NANOS: u64 = 1_793_491_200_000_000_000;

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

fn string_kv(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

/// Python's `json.dumps` of a string (the words need no escaping).
fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// ISO 8601 with microseconds, as Python's `datetime.isoformat()` + `Z`.
fn iso_micros(nanos: u64) -> String {
    let micros = (nanos / 1_000) as i128;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

const TYPES: &[&str] = &["retriever", "generation", "tool", "span", "generation"];
const MODELS: &[&str] = &[
    "gpt-4o",
    "gpt-4o-mini",
    "claude-3-5-sonnet",
    "llama-3.1-70b",
];
/// Trace tags, two picked per trace.
pub const TAGS: &[&str] = &[
    "production",
    "beta",
    "support",
    "sales",
    "eval",
    "mobile",
    "web",
];

/// One trace's spans in export order (children end, and are exported, before their parents).
fn trace_spans(shape: &LoadShape, trace_index: usize, count: usize, rng: &mut Rng) -> Vec<Span> {
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    trace_id[8..].copy_from_slice(&(trace_index as u64).to_be_bytes());
    let span_ids: Vec<Vec<u8>> = (0..count)
        .map(|_| rng.next_u64().to_be_bytes().to_vec())
        .collect();
    let user = format!("user-{:03}", rng.below(200));
    let session = format!("session-{:06}", trace_index / 4);
    let first_tag = rng.pick(TAGS);
    let second_tag = rng.pick(TAGS);
    let tenant = rng.pick(&["acme", "globex", "initech", "umbrella"]);
    let trace_name = rng.pick(&["support-chat", "rag-answer", "order-agent"]);
    let start = BASE_NANOS + trace_index as u64 * 50_000_000;
    let propagated = [
        string_kv("user.id", user),
        string_kv("session.id", session),
        string_kv("langfuse.trace.name", trace_name),
        kv(
            "langfuse.trace.tags",
            any_value::Value::ArrayValue(ArrayValue {
                values: [first_tag, second_tag]
                    .iter()
                    .map(|tag| AnyValue {
                        value: Some(any_value::Value::StringValue((*tag).to_owned())),
                    })
                    .collect(),
            }),
        ),
        string_kv("langfuse.trace.metadata.tenant", json_string(tenant)),
        string_kv("langfuse.trace.metadata.app_version", json_string("2.14.0")),
    ];
    let mut spans = Vec::with_capacity(count);
    for index in 0..count {
        let observation_type = if index == 0 {
            "span"
        } else {
            TYPES[(index - 1) % TYPES.len()]
        };
        // Children hang off the root; every third one is nested under its predecessor.
        let parent = match index {
            0 => Vec::new(),
            1 => span_ids[0].clone(),
            _ if index % 3 == 0 => span_ids[index - 1].clone(),
            _ => span_ids[0].clone(),
        };
        let span_start = start + index as u64 * 2_000_000;
        let span_end = if index == 0 {
            start + count as u64 * 2_000_000 + 1_000_000
        } else {
            span_start + 1_500_000
        };
        let name = match observation_type {
            "span" if index == 0 => trace_name.to_owned(),
            "retriever" => "vector-search".to_owned(),
            "generation" => "llm-call".to_owned(),
            "tool" => rng
                .pick(&["lookup_order", "get_weather", "create_ticket"])
                .to_owned(),
            _ => "postprocess".to_owned(),
        };
        let mut attributes = Vec::with_capacity(24);
        if index == 0 {
            attributes.push(kv(
                "langfuse.internal.is_app_root",
                any_value::Value::BoolValue(true),
            ));
        }
        attributes.push(string_kv("langfuse.observation.type", observation_type));
        attributes.extend(propagated.iter().cloned());
        attributes.push(string_kv(
            "langfuse.observation.metadata.request_id",
            json_string(&format!("req-{trace_index}-{index}")),
        ));
        attributes.push(string_kv(
            "langfuse.observation.metadata.region",
            json_string(rng.pick(&["eu-west-1", "us-east-1", "ap-south-1"])),
        ));
        if observation_type == "generation" {
            let input_tokens = 200 + rng.below(800);
            let output_tokens = 50 + rng.below(300);
            attributes.push(string_kv(
                "langfuse.observation.model.name",
                rng.pick(MODELS),
            ));
            attributes.push(string_kv(
                "langfuse.observation.model.parameters",
                "{\"temperature\": 0.7, \"max_tokens\": 512}",
            ));
            attributes.push(string_kv(
                "langfuse.observation.usage_details",
                format!(
                    "{{\"input\": {input_tokens}, \"output\": {output_tokens}, \"total\": {}}}",
                    input_tokens + output_tokens
                ),
            ));
            if !shape.without_cost {
                let input_cost = input_tokens as f64 * 2.5e-6;
                let output_cost = output_tokens as f64 * 1e-5;
                attributes.push(string_kv(
                    "langfuse.observation.cost_details",
                    format!(
                        "{{\"input\": {input_cost}, \"output\": {output_cost}, \"total\": {}}}",
                        input_cost + output_cost
                    ),
                ));
            }
            attributes.push(string_kv(
                "langfuse.observation.completion_start_time",
                json_string(&iso_micros(span_start + 400_000)),
            ));
        }
        let mut span = Span {
            trace_id: trace_id.to_vec(),
            span_id: span_ids[index].clone(),
            parent_span_id: parent,
            name,
            kind: 1,
            start_time_unix_nano: span_start,
            end_time_unix_nano: span_end,
            attributes,
            flags: 256,
            status: Some(Status::default()),
            ..Default::default()
        };
        // Fill input and output up to the span size: 60 % input, 40 % output.
        let envelope = prost::Message::encoded_len(&span) + 160;
        let room = shape.span_bytes.saturating_sub(envelope);
        let input_room = room * 6 / 10;
        let system = "You are a helpful support assistant. Answer using the context.";
        let user_text = prose(rng, input_room.saturating_sub(system.len()));
        let input = format!(
            "[{{\"role\": \"system\", \"content\": {}}}, {{\"role\": \"user\", \"content\": {}}}]",
            json_string(system),
            json_string(&user_text)
        );
        let output = format!(
            "{{\"role\": \"assistant\", \"content\": {}}}",
            json_string(&prose(rng, room - input_room))
        );
        span.attributes
            .push(string_kv("langfuse.observation.input", input));
        span.attributes
            .push(string_kv("langfuse.observation.output", output));
        spans.push(span);
    }
    // Export order: the deepest, latest-ending spans first, the root last.
    spans.reverse();
    spans
}

fn envelope(spans: Vec<Span>) -> ExportTraceServiceRequest {
    let resource = Resource {
        attributes: vec![
            string_kv("telemetry.sdk.language", "python"),
            string_kv("telemetry.sdk.name", "opentelemetry"),
            string_kv("telemetry.sdk.version", "1.45.2"),
            string_kv("service.name", "unknown_service:python"),
            string_kv(
                "service.instance.id",
                "6f1c2a9e-3b7d-4c8e-9f10-2a3b4c5d6e7f",
            ),
        ],
        dropped_attributes_count: 0,
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "langfuse-sdk".to_owned(),
                    version: "5.0.4".to_owned(),
                    attributes: vec![string_kv("public_key", crate::server::PUBLIC_KEY)],
                    dropped_attributes_count: 0,
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Encodes one request's spans in `format`.
pub fn encode(spans: Vec<Span>, format: Format) -> Vec<u8> {
    match format {
        Format::Protobuf => prost::Message::encode_to_vec(&envelope(spans)),
        Format::Json => otlp_json(&envelope(spans)).to_string().into_bytes(),
        Format::Ingestion => ingestion_batch(&spans).to_string().into_bytes(),
    }
}

/// Generates the load's spans in request order and hands each request's spans to `request`;
/// returns the spans and traces generated.
fn for_each_request(
    shape: &LoadShape,
    mut request: impl FnMut(Vec<Span>) -> anyhow::Result<()>,
) -> anyhow::Result<(usize, usize)> {
    let mut rng = Rng::new(shape.seed);
    let per_trace = shape.spans_per_trace.max(1);
    let mut pending: Vec<Span> = Vec::with_capacity(shape.batch_spans);
    let mut produced = 0;
    let mut traces = 0;
    while produced < shape.spans {
        let count = per_trace.min(shape.spans - produced);
        for span in trace_spans(shape, traces, count, &mut rng) {
            pending.push(span);
            if pending.len() >= shape.batch_spans.max(1) {
                request(std::mem::take(&mut pending))?;
            }
        }
        produced += count;
        traces += 1;
    }
    if !pending.is_empty() {
        request(pending)?;
    }
    Ok((produced, traces))
}

/// Generates and encodes the whole load (gzip-compressed when `gzip`).
pub fn build(shape: &LoadShape, format: Format, gzip: bool) -> anyhow::Result<Load> {
    use std::io::Write;
    let mut bodies = Vec::new();
    let mut raw_bytes = 0;
    let (spans, traces) = for_each_request(shape, |spans| {
        let encoded = encode(spans, format);
        raw_bytes += encoded.len();
        let body = if gzip {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&encoded)?;
            encoder.finish()?
        } else {
            encoded
        };
        bodies.push(body);
        Ok(())
    })?;
    Ok(Load {
        bodies,
        spans,
        traces,
        raw_bytes,
    })
}

/// Every span of the load in request order, grouped as the requests would carry them (for
/// the decode and raw-insert limits, which need the same data without HTTP).
pub fn requests(shape: &LoadShape) -> Vec<Vec<Span>> {
    let mut requests = Vec::new();
    let generated = for_each_request(shape, |spans| {
        requests.push(spans);
        Ok(())
    });
    debug_assert!(generated.is_ok(), "collecting requests cannot fail");
    requests
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn any_value_json(value: &AnyValue) -> serde_json::Value {
    use serde_json::json;
    match &value.value {
        Some(any_value::Value::StringValue(text)) => json!({ "stringValue": text }),
        Some(any_value::Value::BoolValue(flag)) => json!({ "boolValue": flag }),
        Some(any_value::Value::IntValue(number)) => json!({ "intValue": number.to_string() }),
        Some(any_value::Value::DoubleValue(number)) => json!({ "doubleValue": number }),
        Some(any_value::Value::ArrayValue(array)) => {
            json!({ "arrayValue": { "values": array.values.iter().map(any_value_json).collect::<Vec<_>>() } })
        }
        _ => json!({}),
    }
}

fn attributes_json(attributes: &[KeyValue]) -> serde_json::Value {
    attributes
        .iter()
        .map(|attribute| {
            serde_json::json!({
                "key": attribute.key,
                "value": attribute.value.as_ref().map(any_value_json).unwrap_or_default(),
            })
        })
        .collect()
}

/// OTLP/JSON as the JS SDK sends it: hex ids, nanoseconds as decimal strings.
fn otlp_json(request: &ExportTraceServiceRequest) -> serde_json::Value {
    use serde_json::json;
    let resource_spans: Vec<serde_json::Value> = request
        .resource_spans
        .iter()
        .map(|resource_spans| {
            let scope_spans: Vec<serde_json::Value> = resource_spans
                .scope_spans
                .iter()
                .map(|scope_spans| {
                    let scope = scope_spans.scope.clone().unwrap_or_default();
                    let spans: Vec<serde_json::Value> = scope_spans
                        .spans
                        .iter()
                        .map(|span| {
                            let mut value = json!({
                                "traceId": hex(&span.trace_id),
                                "spanId": hex(&span.span_id),
                                "name": span.name,
                                "kind": span.kind,
                                "startTimeUnixNano": span.start_time_unix_nano.to_string(),
                                "endTimeUnixNano": span.end_time_unix_nano.to_string(),
                                "attributes": attributes_json(&span.attributes),
                                "status": { "code": 0 },
                                "flags": 257,
                            });
                            if !span.parent_span_id.is_empty() {
                                value["parentSpanId"] = json!(hex(&span.parent_span_id));
                            }
                            value
                        })
                        .collect();
                    json!({
                        "scope": {
                            "name": scope.name,
                            "version": scope.version,
                            "attributes": attributes_json(&scope.attributes),
                        },
                        "spans": spans,
                    })
                })
                .collect();
            json!({
                "resource": {
                    "attributes": attributes_json(
                        &resource_spans.resource.clone().unwrap_or_default().attributes
                    ),
                },
                "scopeSpans": scope_spans,
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}

fn string_attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(
            |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(text) => Some(text.as_str()),
                _ => None,
            },
        )
}

/// A JSON-encoded attribute value (input, output, usage) parsed back, or the text itself.
fn json_attribute(span: &Span, key: &str) -> Option<serde_json::Value> {
    string_attribute(span, key).map(|text| {
        serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
    })
}

fn tags_of(span: &Span) -> Vec<String> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == "langfuse.trace.tags")
        .and_then(
            |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                any_value::Value::ArrayValue(array) => Some(
                    array
                        .values
                        .iter()
                        .filter_map(|value| match value.value.as_ref()? {
                            any_value::Value::StringValue(text) => Some(text.clone()),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            },
        )
        .unwrap_or_default()
}

/// Metadata attributes under `prefix` as a JSON object.
fn metadata_of(span: &Span, prefix: &str) -> serde_json::Value {
    let mut metadata = serde_json::Map::new();
    for attribute in &span.attributes {
        if let Some(key) = attribute.key.strip_prefix(prefix) {
            if let Some(value) = json_attribute(span, &attribute.key) {
                metadata.insert(key.to_owned(), value);
            }
        }
    }
    serde_json::Value::Object(metadata)
}

/// The same spans as Langfuse batch ingestion events, as the Python SDK 2 sends them: a
/// `trace-create` for each root span, then a `*-create` event for every span (generations
/// with model, parameters, usage and cost).
fn ingestion_batch(spans: &[Span]) -> serde_json::Value {
    use serde_json::json;
    let mut events = Vec::with_capacity(spans.len() + spans.len() / 8);
    for span in spans {
        let trace_id = hex(&span.trace_id);
        let span_id = hex(&span.span_id);
        let start = iso_micros(span.start_time_unix_nano);
        if span.parent_span_id.is_empty() {
            events.push(json!({
                "id": format!("evt-{trace_id}"),
                "type": "trace-create",
                "timestamp": start,
                "body": {
                    "id": trace_id,
                    "timestamp": start,
                    "name": string_attribute(span, "langfuse.trace.name"),
                    "userId": string_attribute(span, "user.id"),
                    "sessionId": string_attribute(span, "session.id"),
                    "tags": tags_of(span),
                    "metadata": metadata_of(span, "langfuse.trace.metadata."),
                    "input": json_attribute(span, "langfuse.observation.input"),
                    "output": json_attribute(span, "langfuse.observation.output"),
                },
            }));
        }
        let observation_type =
            string_attribute(span, "langfuse.observation.type").unwrap_or("span");
        let mut body = json!({
            "id": span_id,
            "traceId": trace_id,
            "name": span.name,
            "startTime": start,
            "endTime": iso_micros(span.end_time_unix_nano),
            "metadata": metadata_of(span, "langfuse.observation.metadata."),
            "input": json_attribute(span, "langfuse.observation.input"),
            "output": json_attribute(span, "langfuse.observation.output"),
        });
        if !span.parent_span_id.is_empty() {
            body["parentObservationId"] = json!(hex(&span.parent_span_id));
        }
        if observation_type == "generation" {
            body["model"] = json!(string_attribute(span, "langfuse.observation.model.name"));
            body["modelParameters"] =
                json_attribute(span, "langfuse.observation.model.parameters").unwrap_or_default();
            body["usageDetails"] =
                json_attribute(span, "langfuse.observation.usage_details").unwrap_or_default();
            body["costDetails"] =
                json_attribute(span, "langfuse.observation.cost_details").unwrap_or_default();
            body["completionStartTime"] =
                json_attribute(span, "langfuse.observation.completion_start_time")
                    .unwrap_or_default();
        }
        events.push(json!({
            "id": format!("evt-{span_id}"),
            "type": format!("{observation_type}-create"),
            "timestamp": start,
            "body": body,
        }));
    }
    json!({
        "batch": events,
        "metadata": {
            "batch_size": events.len(),
            "sdk_integration": "default",
            "sdk_name": "python",
            "sdk_version": "2.60.10",
            "public_key": crate::server::PUBLIC_KEY,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> LoadShape {
        LoadShape {
            spans: 25,
            spans_per_trace: 10,
            span_bytes: 1500,
            batch_spans: 10,
            seed: 7,
            without_cost: false,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_load() {
        for format in [Format::Protobuf, Format::Json, Format::Ingestion] {
            let first = build(&shape(), format, false).unwrap();
            let second = build(&shape(), format, false).unwrap();
            assert_eq!(first.bodies, second.bodies);
            assert_eq!((first.spans, first.traces), (25, 3));
        }
    }

    #[test]
    fn every_format_decodes_to_the_same_observations() {
        use spindle_ingest::otlp::{self, Encoding};
        let now = 1_800_000_000_000_000;
        let observation_ids = |format: Format| -> Vec<String> {
            let load = build(&shape(), format, false).unwrap();
            let mut ids: Vec<String> = load
                .bodies
                .iter()
                .flat_map(|body| {
                    let batch = match format {
                        Format::Protobuf => {
                            otlp::to_batch(&otlp::decode(body, Encoding::Protobuf).unwrap(), now)
                        }
                        Format::Json => {
                            otlp::to_batch(&otlp::decode(body, Encoding::Json).unwrap(), now)
                        }
                        Format::Ingestion => {
                            let value: serde_json::Value = serde_json::from_slice(body).unwrap();
                            let events = value["batch"].as_array().unwrap();
                            assert!(events.iter().all(|event| event["type"]
                                .as_str()
                                .is_some_and(|kind| kind.ends_with("-create"))));
                            return events
                                .iter()
                                .filter(|event| event["type"] != "trace-create")
                                .map(|event| event["body"]["id"].as_str().unwrap().to_owned())
                                .collect::<Vec<_>>();
                        }
                    };
                    batch
                        .observations
                        .into_iter()
                        .map(|observation| observation.id)
                        .collect::<Vec<_>>()
                })
                .collect();
            ids.sort();
            ids
        };
        let protobuf = observation_ids(Format::Protobuf);
        assert_eq!(protobuf.len(), 25);
        assert_eq!(protobuf, observation_ids(Format::Json));
        assert_eq!(protobuf, observation_ids(Format::Ingestion));
    }
}
