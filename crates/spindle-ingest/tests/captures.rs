//! Golden tests: the requests the official SDKs really sent, through the parsers and mappers.

use serde_json::Value;
use spindle_ingest::otlp::{self, proto};
use spindle_ingest::{batch, score};
use std::fmt::Write;

fn requests(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {path}: {error}"))
        .lines()
        .map(|line| serde_json::from_str(line).expect("capture lines are JSON"))
        .collect()
}

/// Rebuilds the protobuf request from the capture's decoded dict.
fn to_proto(body: &Value) -> proto::ExportTraceServiceRequest {
    fn any(value: &Value) -> proto::AnyValue {
        use proto::any_value::Value as V;
        let (kind, inner) = value
            .as_object()
            .and_then(|map| map.iter().next())
            .expect("tagged value");
        let value = match kind.as_str() {
            "string" => V::StringValue(inner.as_str().unwrap_or_default().to_owned()),
            "bool" => V::BoolValue(inner.as_bool().unwrap_or_default()),
            "int" => V::IntValue(inner.as_i64().unwrap_or_default()),
            "double" => V::DoubleValue(inner.as_f64().unwrap_or_default()),
            "array" => V::ArrayValue(proto::ArrayValue {
                values: inner.as_array().into_iter().flatten().map(any).collect(),
            }),
            other => panic!("unexpected capture value kind {other}"),
        };
        proto::AnyValue { value: Some(value) }
    }
    fn attrs(value: &Value) -> Vec<proto::KeyValue> {
        value
            .get("attributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(key, value)| proto::KeyValue {
                key: key.clone(),
                value: Some(any(value)),
            })
            .collect()
    }
    let hex_bytes =
        |value: &Value| hex::decode(value.as_str().unwrap_or_default()).unwrap_or_default();
    proto::ExportTraceServiceRequest {
        resource_spans: body["resource_spans"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|resource_spans| proto::ResourceSpans {
                resource: Some(proto::Resource {
                    attributes: attrs(&resource_spans["resource"]),
                    dropped_attributes_count: 0,
                }),
                schema_url: String::new(),
                scope_spans: resource_spans["scope_spans"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|scope_spans| proto::ScopeSpans {
                        scope: Some(proto::InstrumentationScope {
                            name: scope_spans["scope"]["name"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                            version: scope_spans["scope"]["version"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                            attributes: attrs(&scope_spans["scope"]),
                            dropped_attributes_count: 0,
                        }),
                        schema_url: String::new(),
                        spans: scope_spans["spans"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|span| proto::Span {
                                trace_id: hex_bytes(&span["trace_id"]),
                                span_id: hex_bytes(&span["span_id"]),
                                parent_span_id: hex_bytes(&span["parent_span_id"]),
                                trace_state: String::new(),
                                name: span["name"].as_str().unwrap_or_default().to_owned(),
                                kind: 1,
                                start_time_unix_nano: span["start_time_unix_nano"]
                                    .as_u64()
                                    .unwrap_or_default(),
                                end_time_unix_nano: span["end_time_unix_nano"]
                                    .as_u64()
                                    .unwrap_or_default(),
                                attributes: attrs(span),
                                dropped_attributes_count: 0,
                                events: Vec::new(),
                                dropped_events_count: 0,
                                status: Some(proto::Status {
                                    code: match span["status"]["code"].as_str() {
                                        Some("ERROR") => 2,
                                        Some("OK") => 1,
                                        _ => 0,
                                    },
                                    message: span["status"]["message"]
                                        .as_str()
                                        .unwrap_or_default()
                                        .to_owned(),
                                }),
                                flags: 256,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A compact, stable rendering of a batch for snapshots.
fn summarize(mut batch: spindle_core::WriteBatch) -> String {
    batch.coalesce();
    let mut out = String::new();
    for trace in &batch.traces {
        writeln!(
            out,
            "trace {} name={:?} user={:?} session={:?} tags={:?} env={:?} release={:?} version={:?} public={:?} input={:?} output={:?} metadata={:?}",
            trace.id, trace.name, trace.user_id, trace.session_id, trace.tags, trace.environment,
            trace.release, trace.version, trace.public, trace.input, trace.output, trace.metadata,
        )
        .ok();
    }
    for observation in &batch.observations {
        let mut metadata = observation.metadata.clone();
        metadata.remove("resourceAttributes");
        metadata.remove("scope");
        writeln!(
            out,
            "obs {} trace={} parent={:?} type={:?} name={:?} level={:?} status={:?} model={:?} params={:?} usage={:?} cost={:?} prompt={:?}/{:?} input={:?} output={:?} metadata={:?}",
            observation.id,
            observation.trace_id.as_deref().unwrap_or("-"),
            observation.parent_observation_id,
            observation.observation_type,
            observation.name,
            observation.level,
            observation.status_message,
            observation.model,
            observation.model_parameters,
            observation.usage_details,
            observation.cost_details,
            observation.prompt_name,
            observation.prompt_version,
            observation.input,
            observation.output,
            metadata,
        )
        .ok();
    }
    for score in &batch.scores {
        writeln!(
            out,
            "score {} name={:?} value={:?} string={:?} type={:?} trace={:?} obs={:?} session={:?} comment={:?}",
            score.id, score.name, score.value, score.string_value, score.data_type,
            score.trace_id, score.observation_id, score.session_id, score.comment,
        )
        .ok();
    }
    out
}

fn otlp_summary(file: &str) -> String {
    let mut out = String::new();
    for request in requests(file) {
        if request["path"] != "/api/public/otel/v1/traces" {
            continue;
        }
        let export = if request["body_kind"] == "otlp-protobuf" {
            use prost::Message;
            let bytes = to_proto(&request["body"]).encode_to_vec();
            otlp::decode(&bytes, otlp::Encoding::Protobuf).expect("capture decodes")
        } else {
            let bytes = serde_json::to_vec(&request["body"]).expect("serializable");
            otlp::decode(&bytes, otlp::Encoding::Json).expect("capture decodes")
        };
        out.push_str(&summarize(otlp::to_batch(&export, 0)));
    }
    out
}

fn ingestion_summary(file: &str) -> String {
    let mut out = String::new();
    let mut counter = 0;
    for request in requests(file) {
        if request["path"] != "/api/public/ingestion" {
            continue;
        }
        let bytes = serde_json::to_vec(&request["body"]).expect("serializable");
        let parsed = batch::parse(&bytes, &mut || {
            counter += 1;
            format!("generated-{counter}")
        })
        .expect("capture parses");
        assert!(parsed.errors.is_empty(), "{file}: {:?}", parsed.errors);
        assert!(
            parsed.pending.is_empty(),
            "{file}: no captured score names a config"
        );
        out.push_str(&summarize(parsed.batch));
    }
    out
}

#[test]
fn captures_match_their_snapshots() {
    let otlp = otlp_summary as fn(&str) -> String;
    let ingestion = ingestion_summary as fn(&str) -> String;
    let cases = [
        ("py_v5.jsonl", otlp, "snapshots/py_v5.txt"),
        ("py_v4.jsonl", otlp, "snapshots/py_v4.txt"),
        ("py_v3.jsonl", otlp, "snapshots/py_v3.txt"),
        ("js.jsonl", otlp, "snapshots/js.txt"),
        ("py_v2.jsonl", ingestion, "snapshots/py_v2.txt"),
        ("js_legacy.jsonl", ingestion, "snapshots/js_legacy.txt"),
    ];
    for (capture, summary, snapshot) in cases {
        expect_test::expect_file![snapshot].assert_eq(&summary(capture));
    }
}

#[test]
fn python_v5_score_array() {
    let mut out = String::new();
    for request in requests("py_v5.jsonl") {
        if request["path"] != "/api/public/scores" {
            continue;
        }
        let mut batch = spindle_core::WriteBatch::default();
        for (index, item) in request["body"]
            .as_array()
            .expect("array body")
            .iter()
            .enumerate()
        {
            let stamp = spindle_core::Stamp::explicit(0, 0, index as u64);
            let record = score::parse_score(
                item.as_object().expect("object"),
                &format!("[{index}]"),
                0,
                stamp,
                &mut || "generated".to_owned(),
            )
            .expect("valid score");
            let score::ParsedScore::Ready(record) = record else {
                panic!("the captured scores name no config");
            };
            batch.scores.push(record);
        }
        out.push_str(&summarize(batch));
    }
    expect_test::expect_file!["snapshots/py_v5_scores.txt"].assert_eq(&out);
}
