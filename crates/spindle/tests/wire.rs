//! Wire compatibility: the scenario the Python SDK 5.0.4 capture was recorded with, replayed with
//! this SDK; every span must carry the same attribute keys with the same kinds and encodings,
//! and every score the same fields.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use spindle::{observe, Level, ObservationType, ObservationUpdate, PropagatedAttributes, Score};
use support::{
    manual_generation, outer_sync, propagated_attributes, Receiver, RecordedSpan, SPAN_KINDS,
};

const CAPTURE: &str = include_str!("fixtures/py_v5.jsonl");

/// The Python spans by name, and the Python score bodies.
fn python_capture() -> (BTreeMap<String, Value>, Vec<Value>) {
    let mut spans = BTreeMap::new();
    let mut scores = Vec::new();
    for line in CAPTURE.lines() {
        let request: Value = serde_json::from_str(line).unwrap();
        if request["path"] == "/api/public/scores" {
            scores.extend(request["body"].as_array().unwrap().iter().cloned());
        }
        if request["path"] != "/api/public/otel/v1/traces" {
            continue;
        }
        for resource_spans in request["body"]["resource_spans"].as_array().unwrap() {
            for scope_spans in resource_spans["scope_spans"].as_array().unwrap() {
                for span in scope_spans["spans"].as_array().unwrap() {
                    spans.insert(span["name"].as_str().unwrap().to_owned(), span.clone());
                }
            }
        }
    }
    (spans, scores)
}

#[observe(as_type = "generation", name = "inner-async-gen")]
async fn inner_async_gen(question: &str) -> String {
    format!("answer to {question}")
}

#[observe]
async fn outer_async(question: &str) -> String {
    inner_async_gen(question).await
}

#[observe(capture_input = false, capture_output = false)]
fn no_io() -> u32 {
    1
}

#[derive(Debug)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("boom in observe")
    }
}

#[observe]
fn failing() -> Result<(), Boom> {
    Err(Boom)
}

/// The scenario of the capture, step by step.
fn run_python_scenario(receiver: &Receiver) -> Vec<RecordedSpan> {
    assert_eq!(outer_sync(21), json!({"doubled": 42}));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(outer_async("why?")), "answer to why?");
    no_io();
    assert!(failing().is_err());

    spindle::observation("all-types-root")
        .input(&json!({"root": true}))
        .run(|root| {
            for observation_type in SPAN_KINDS {
                let kind = observation_type.as_str();
                spindle::observation(format!("obs-{kind}"))
                    .as_type(observation_type)
                    .input(&format!("in-{kind}"))
                    .run(|child| child.set_output(&format!("out-{kind}")));
            }
            spindle::observation("an-event")
                .input(&json!({"e": 1}))
                .with(
                    ObservationUpdate::new()
                        .output("ev-out")
                        .level(Level::Warning),
                )
                .metadata(&json!({"k": "v"}))
                .event();
            root.set_output(&json!({"done": true}));
        });

    spindle::observation("gen-root").run(|root| {
        root.child("llm-call")
            .as_type(ObservationType::Generation)
            .input(&json!([{"role": "user", "content": "hi"}]))
            .with(
                ObservationUpdate::new()
                    .version("v9")
                    .model("gpt-4o-mini")
                    .completion_start_time(std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_704_164_645_678_000))
                    .model_parameters(&json!({"temperature": 0.2, "max_tokens": 100, "stream": false}))
                    .metadata(&json!({"str": "s", "num": 1, "nested": {"a": [1, 2]}})),
            )
            .run(|generation| {
                generation.update(
                    ObservationUpdate::new()
                        .level(Level::Error)
                        .status_message("rate limited")
                        .output(&json!({"role": "assistant", "content": "hello"}))
                        .usage_details(&json!({"input": 10, "output": 5, "total": 15, "cache_read_input_tokens": 2}))
                        .cost_details(&json!({"input": 0.001, "output": 0.002, "total": 0.003})),
                );
            });
        root.child("llm-call-defaults")
            .as_type(ObservationType::Generation)
            .with(ObservationUpdate::new().model("claude-3").usage_details(&json!({"prompt_tokens": 3, "completion_tokens": 4})))
            .run(|_| ());
    });

    spindle::observation("prop-root").run(|_| {
        let attributes = propagated_attributes();
        spindle::propagate_attributes(attributes, || {
            spindle::observation("prop-child")
                .as_type(ObservationType::Generation)
                .with(ObservationUpdate::new().model("m"))
                .run(|child| child.set_output("x"));
            spindle::propagate_attributes(
                PropagatedAttributes::new()
                    .tags(["t3"])
                    .metadata("extra", "1"),
                || {
                    spindle::observation("prop-grandchild").run(|_| ());
                },
            );
        });
    });

    spindle::observation("traceio-root").run(|root| {
        root.set_trace_as_public();
        root.set_metadata(&json!({"upd": true}));
    });

    let seeded = spindle::create_trace_id("external-123");
    let linked_id = support::join_seeded_trace(&seeded);

    let manual = spindle::observation("manual-span").input("m-in").start();
    manual_generation(&manual);
    manual.end();

    let client = spindle::get_client();
    support::create_scenario_scores(&client, &seeded, &linked_id);
    spindle::observation("score-ctx").run(|span| {
        span.score(Score::numeric("span-score", 0.5));
        span.score_trace(Score::categorical("trace-score-from-span", "meh"));
        spindle::score_current_span(Score::boolean("cur-span-score", true));
        spindle::score_current_trace(Score::numeric("cur-trace-score", 2.5).comment("c"));
    });

    client.flush();
    receiver.spans()
}

/// Tagged attribute values as the capture writes them; ids and times are not attributes.
fn python_attributes(span: &Value) -> BTreeMap<String, Value> {
    span["attributes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

#[test]
fn attributes_match_python_5() {
    let receiver = Receiver::start(0);
    assert!(receiver.client().install_global());
    let rust_spans: BTreeMap<String, RecordedSpan> = run_python_scenario(&receiver)
        .into_iter()
        .map(|span| (span.name.clone(), span))
        .collect();
    let (python_spans, python_scores) = python_capture();

    assert_eq!(
        rust_spans.keys().collect::<Vec<_>>(),
        python_spans.keys().collect::<Vec<_>>(),
        "same observations as the capture"
    );
    for (name, python) in &python_spans {
        let rust = &rust_spans[name];
        assert_eq!(
            rust.attributes,
            python_attributes(python),
            "attributes of {name}"
        );
        let python_status = &python["status"];
        let rust_code = if rust.status_code == 2 {
            "ERROR"
        } else {
            "UNSET"
        };
        assert_eq!(rust_code, python_status["code"], "status of {name}");
        assert_eq!(
            rust.status_message, python_status["message"],
            "status message of {name}"
        );
        assert_eq!(
            rust.flags as u64,
            python["flags"].as_u64().unwrap(),
            "flags of {name}"
        );
        assert_eq!(rust.kind, 1);
        assert_eq!(
            rust.parent_span_id.is_empty(),
            python["parent_span_id"] == "",
            "root-ness of {name}"
        );
        assert_eq!(
            rust.start == rust.end,
            python["start_time_unix_nano"] == python["end_time_unix_nano"],
            "{name}"
        );
        assert_eq!(rust.scope_name, "langfuse-sdk");
    }
    // parents: same shape as in the capture
    for (name, python) in &python_spans {
        let python_parent = python_spans
            .values()
            .find(|p| p["span_id"] == python["parent_span_id"]);
        let rust_parent = rust_spans
            .values()
            .find(|r| r.span_id == rust_spans[name].parent_span_id);
        assert_eq!(
            rust_parent.map(|span| span.name.as_str()),
            python_parent.map(|span| span["name"].as_str().unwrap()),
            "parent of {name}"
        );
    }
    let python_resource = python_spans_resource();
    let some_rust = rust_spans.values().next().unwrap();
    for key in [
        "langfuse.environment",
        "langfuse.release",
        "service.name",
        "telemetry.sdk.language",
        "telemetry.sdk.name",
        "telemetry.sdk.version",
        "service.instance.id",
    ] {
        assert!(
            python_resource.contains_key(key) && some_rust.resource.contains_key(key),
            "resource key {key}"
        );
    }
    assert_eq!(
        some_rust.resource["langfuse.environment"],
        python_resource["langfuse.environment"]
    );
    assert_eq!(
        some_rust.resource["langfuse.release"],
        python_resource["langfuse.release"]
    );

    let rust_scores = receiver.scores();
    assert_eq!(rust_scores.len(), python_scores.len());
    for python in &python_scores {
        let name = python["name"].as_str().unwrap();
        let rust = rust_scores
            .iter()
            .find(|score| score["name"] == name)
            .unwrap_or_else(|| panic!("score {name}"));
        let keys = |score: &Value| {
            score
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(rust), keys(python), "fields of score {name}, in order");
        for (key, value) in python.as_object().unwrap() {
            match key.as_str() {
                "id" if value != "my-score-id-1" => {
                    assert_eq!(rust[key].as_str().unwrap().len(), 16)
                }
                "id" | "name" | "value" | "comment" | "environment" | "dataType" | "metadata"
                | "sessionId" => {
                    assert_eq!(&rust[key], value, "{key} of score {name}")
                }
                "timestamp" => assert_eq!(
                    rust[key].as_str().unwrap().len(),
                    value.as_str().unwrap().len()
                ),
                _ => assert_eq!(
                    rust[key].as_str().unwrap().len(),
                    value.as_str().unwrap().len(),
                    "{key} of {name}"
                ),
            }
        }
    }
}

fn python_spans_resource() -> BTreeMap<String, Value> {
    let line = CAPTURE
        .lines()
        .find(|line| line.contains("/api/public/otel/v1/traces"))
        .unwrap();
    let request: Value = serde_json::from_str(line).unwrap();
    request["body"]["resource_spans"][0]["resource"]["attributes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}
