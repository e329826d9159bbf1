//! End-to-end trees: `#[observe]` (sync, async, methods, errors, panics), scoped and manual
//! observations, generation attributes, propagated attributes, trace contexts and scores, checked
//! on what an in-process OTLP receiver decoded.

mod support;

use serde_json::{json, Value};
use spindle::{observe, Level, ObservationType, ObservationUpdate, PropagatedAttributes, Score};
use support::{
    manual_generation, outer_sync, propagated_attributes, Receiver, RecordedSpan, SPAN_KINDS,
};

/// One receiver and one global client for this test binary; tests use distinct names.
fn setup() -> &'static Receiver {
    support::global_receiver()
}

fn flushed() -> &'static Receiver {
    let receiver = setup();
    spindle::get_client().flush();
    receiver
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn assert_child_of(child: &RecordedSpan, parent: &RecordedSpan) {
    assert_eq!(
        child.trace_id, parent.trace_id,
        "{} in the trace of {}",
        child.name, parent.name
    );
    assert_eq!(
        child.parent_span_id, parent.span_id,
        "{} under {}",
        child.name, parent.name
    );
}

#[test]
fn observe_sync_nesting_input_and_output() {
    setup();
    assert_eq!(outer_sync(21), json!({"doubled": 42}));
    let receiver = flushed();
    let outer = receiver.span_named("outer-sync-custom-name");
    let inner = receiver.span_named("inner_sync");
    assert_child_of(&inner, &outer);
    assert_eq!(outer.parent_span_id, "");
    assert_eq!(
        outer.attributes["langfuse.internal.is_app_root"],
        json!({"bool": true})
    );
    assert!(!inner
        .attributes
        .contains_key("langfuse.internal.is_app_root"));
    for span in [&outer, &inner] {
        assert_eq!(span.string("langfuse.observation.type"), Some("span"));
        assert_eq!(
            span.string("langfuse.observation.input"),
            Some(r#"{"args": [21], "kwargs": {}}"#)
        );
        assert_eq!(
            span.string("langfuse.observation.output"),
            Some(r#"{"doubled": 42}"#)
        );
        assert_eq!(span.string("langfuse.environment"), Some("staging"));
        assert_eq!(span.string("langfuse.release"), Some("rel-1.2.3"));
        assert_eq!(span.kind, 1);
        assert_eq!(span.flags, 256);
        assert_eq!(span.status_code, 0);
        assert!(span.start <= span.end);
    }
    assert!(outer.start <= inner.start && inner.end <= outer.end);
    assert_eq!(outer.scope_name, "langfuse-sdk");
    assert_eq!(
        outer.scope_attributes["public_key"],
        json!({"string": "pk-lf-test"})
    );
    assert_eq!(
        outer.resource["langfuse.environment"],
        json!({"string": "staging"})
    );
    assert_eq!(
        outer.resource["telemetry.sdk.language"],
        json!({"string": "rust"})
    );
}

#[observe(as_type = "generation", name = "inner-async-gen")]
async fn inner_async_gen(question: &str) -> String {
    tokio::task::yield_now().await;
    format!("answer to {question}")
}

#[observe(as_type = "retriever")]
async fn vector_search(question: &str) -> Vec<String> {
    tokio::task::yield_now().await;
    vec![format!("vector:{question}")]
}

#[observe(as_type = "retriever")]
async fn keyword_search(question: &str) -> Vec<String> {
    tokio::task::yield_now().await;
    vec![format!("keyword:{question}")]
}

#[observe(as_type = "tool")]
async fn spawned_tool(n: u32) -> u32 {
    tokio::task::yield_now().await;
    n + 1
}

#[observe]
async fn outer_async(question: String) -> String {
    let (vector, keyword) = tokio::join!(vector_search(&question), keyword_search(&question));
    let mut branches = futures::future::join_all((0..3).map(spawned_tool)).await;
    branches.push(spindle::spawn(spawned_tool(10)).await.unwrap());
    let unlinked = tokio::spawn(async { spindle::get_current_trace_id() })
        .await
        .unwrap();
    assert_eq!(
        unlinked, None,
        "plain tokio::spawn starts from an empty context"
    );
    assert_eq!(vector.len() + keyword.len(), 2);
    assert_eq!(branches, vec![1, 2, 3, 11]);
    inner_async_gen(&question).await
}

#[test]
fn observe_async_nesting_join_and_spawn() {
    setup();
    let answer = runtime().block_on(outer_async("why?".to_owned()));
    assert_eq!(answer, "answer to why?");
    let receiver = flushed();
    let outer = receiver.span_named("outer_async");
    assert_eq!(
        outer.string("langfuse.observation.input"),
        Some(r#"{"args": ["why?"], "kwargs": {}}"#)
    );
    assert_eq!(
        outer.string("langfuse.observation.output"),
        Some("answer to why?")
    );
    let generation = receiver.span_named("inner-async-gen");
    assert_child_of(&generation, &outer);
    assert_eq!(
        generation.string("langfuse.observation.type"),
        Some("generation")
    );
    for name in ["vector_search", "keyword_search"] {
        let span = receiver.span_named(name);
        assert_child_of(&span, &outer);
        assert_eq!(span.string("langfuse.observation.type"), Some("retriever"));
    }
    let tools: Vec<RecordedSpan> = receiver
        .trace(&outer.trace_id)
        .into_iter()
        .filter(|s| s.name == "spawned_tool")
        .collect();
    assert_eq!(tools.len(), 4);
    let mut inputs: Vec<String> = tools
        .iter()
        .map(|tool| {
            tool.string("langfuse.observation.input")
                .unwrap()
                .to_owned()
        })
        .collect();
    inputs.sort();
    assert_eq!(inputs[0], r#"{"args": [0], "kwargs": {}}"#);
    assert_eq!(inputs[3], r#"{"args": [2], "kwargs": {}}"#);
    for tool in &tools {
        assert_child_of(tool, &outer);
    }
}

#[derive(Debug)]
struct BoomError(&'static str);

impl std::fmt::Display for BoomError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.0)
    }
}

#[observe(name = "failing-result")]
fn failing_result(fail: bool) -> Result<u32, BoomError> {
    if fail {
        return Err(BoomError("boom in observe"));
    }
    Ok(1)
}

#[observe(name = "question-mark")]
fn question_mark() -> Result<u32, std::num::ParseIntError> {
    let parsed: u32 = "nope".parse()?;
    Ok(parsed)
}

#[observe(name = "async-question-mark")]
async fn async_question_mark(text: &str) -> Result<u32, std::num::ParseIntError> {
    tokio::task::yield_now().await;
    let parsed: u32 = text.parse()?;
    if parsed > 100 {
        return Ok(100);
    }
    Ok(parsed)
}

#[observe(name = "panicking")]
fn panicking() -> u32 {
    panic!("boom in panic")
}

#[observe(name = "async-panicking")]
async fn async_panicking() -> u32 {
    tokio::task::yield_now().await;
    panic!("async boom")
}

#[test]
fn errors_and_panics_mark_the_observation() {
    setup();
    assert!(failing_result(true).is_err());
    assert!(question_mark().is_err());
    assert!(runtime().block_on(async_question_mark("x")).is_err());
    let panicked = std::panic::catch_unwind(panicking);
    assert!(panicked.is_err());
    let async_panicked = runtime().block_on(async { tokio::spawn(async_panicking()).await });
    assert!(async_panicked.is_err());
    let receiver = flushed();
    let failing = receiver.span_named("failing-result");
    assert_eq!(failing.string("langfuse.observation.level"), Some("ERROR"));
    assert_eq!(
        failing.string("langfuse.observation.status_message"),
        Some("boom in observe")
    );
    assert_eq!(failing.status_code, 2);
    assert_eq!(failing.status_message, "boom in observe");
    assert_eq!(failing.string("langfuse.observation.output"), None);
    assert_eq!(
        failing.string("langfuse.observation.input"),
        Some(r#"{"args": [true], "kwargs": {}}"#)
    );
    let async_parse = receiver.span_named("async-question-mark");
    assert_eq!(
        async_parse.string("langfuse.observation.level"),
        Some("ERROR")
    );
    let parse = receiver.span_named("question-mark");
    assert_eq!(
        parse.string("langfuse.observation.status_message"),
        Some("invalid digit found in string")
    );
    for (name, message) in [
        ("panicking", "boom in panic"),
        ("async-panicking", "async boom"),
    ] {
        let span = receiver.span_named(name);
        assert_eq!(span.string("langfuse.observation.level"), Some("ERROR"));
        assert_eq!(span.status_message, message);
    }
}

#[observe(name = "no-io", capture_input = false, capture_output = false)]
fn no_io(secret: &str) -> String {
    secret.to_uppercase()
}

#[observe(name = "skipping", skip(api_key))]
fn skipping(query: &str, api_key: &str) -> usize {
    query.len() + api_key.len()
}

#[observe(name = "ok-result")]
fn ok_result() -> Result<Vec<u8>, BoomError> {
    Ok(vec![1, 2])
}

struct Agent {
    prefix: String,
}

impl Agent {
    #[observe(name = "agent-method", as_type = "agent")]
    fn act<T: serde::Serialize + std::fmt::Debug>(&self, item: T) -> String {
        format!("{}{item:?}", self.prefix)
    }

    #[observe(name = "agent-iter")]
    fn iter(&self, n: usize) -> impl Iterator<Item = usize> {
        0..n
    }
}

#[test]
fn capture_flags_skip_methods_and_generics() {
    setup();
    assert_eq!(no_io("s"), "S");
    assert_eq!(skipping("q", "key"), 4);
    assert_eq!(ok_result().unwrap(), vec![1, 2]);
    let agent = Agent {
        prefix: "p-".to_owned(),
    };
    assert_eq!(agent.act(7u8), "p-7");
    assert_eq!(agent.iter(3).count(), 3);
    let receiver = flushed();
    let no_io = receiver.span_named("no-io");
    assert!(!no_io.attributes.contains_key("langfuse.observation.input"));
    assert!(!no_io.attributes.contains_key("langfuse.observation.output"));
    assert_eq!(
        receiver
            .span_named("skipping")
            .string("langfuse.observation.input"),
        Some(r#"{"args": ["q"], "kwargs": {}}"#)
    );
    assert_eq!(
        receiver
            .span_named("ok-result")
            .string("langfuse.observation.output"),
        Some("[1, 2]")
    );
    let method = receiver.span_named("agent-method");
    assert_eq!(method.string("langfuse.observation.type"), Some("agent"));
    assert_eq!(
        method.string("langfuse.observation.input"),
        Some(r#"{"args": [7], "kwargs": {}}"#)
    );
    assert_eq!(method.string("langfuse.observation.output"), Some("p-7"));
    let iter = receiver.span_named("agent-iter");
    assert_eq!(
        iter.string("langfuse.observation.output"),
        Some(r#"{"start": 0, "end": 3}"#)
    );
}

#[test]
fn generation_with_every_attribute() {
    setup();
    let completion_start =
        std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_704_164_645_678_000);
    spindle::observation("gen-root").run(|_| {
        spindle::observation("llm-call")
            .as_type(ObservationType::Generation)
            .input(&json!([{"role": "user", "content": "hi"}]))
            .run(|_| {
                spindle::update_current_generation(
                    ObservationUpdate::new()
                        .version("v9")
                        .model("gpt-4o-mini")
                        .completion_start_time(completion_start)
                        .model_parameters(&json!({"temperature": 0.2, "max_tokens": 100, "stream": false}))
                        .metadata(&json!({"str": "s", "num": 1, "nested": {"a": [1, 2]}, "none": null}))
                        .level(Level::Error)
                        .status_message("rate limited")
                        .output(&json!({"role": "assistant", "content": "hello"}))
                        .usage_details(&json!({"input": 10, "output": 5, "total": 15, "cache_read_input_tokens": 2}))
                        .cost_details(&json!({"input": 0.001, "output": 0.002, "total": 0.003}))
                        .prompt("my-prompt", 3),
                );
            });
    });
    let receiver = flushed();
    let root = receiver.span_named("gen-root");
    let generation = receiver.span_named("llm-call");
    assert_child_of(&generation, &root);
    let expected = [
        ("langfuse.version", "v9"),
        ("langfuse.observation.type", "generation"),
        (
            "langfuse.observation.input",
            r#"[{"role": "user", "content": "hi"}]"#,
        ),
        ("langfuse.observation.model.name", "gpt-4o-mini"),
        (
            "langfuse.observation.completion_start_time",
            r#""2024-01-02T03:04:05.678000Z""#,
        ),
        (
            "langfuse.observation.model.parameters",
            r#"{"temperature": 0.2, "max_tokens": 100, "stream": false}"#,
        ),
        ("langfuse.observation.metadata.str", r#""s""#),
        ("langfuse.observation.metadata.num", "1"),
        ("langfuse.observation.metadata.nested", r#"{"a":[1,2]}"#),
        ("langfuse.observation.level", "ERROR"),
        ("langfuse.observation.status_message", "rate limited"),
        (
            "langfuse.observation.output",
            r#"{"role": "assistant", "content": "hello"}"#,
        ),
        (
            "langfuse.observation.usage_details",
            r#"{"input": 10, "output": 5, "total": 15, "cache_read_input_tokens": 2}"#,
        ),
        (
            "langfuse.observation.cost_details",
            r#"{"input": 0.001, "output": 0.002, "total": 0.003}"#,
        ),
        ("langfuse.observation.prompt.name", "my-prompt"),
    ];
    for (key, value) in expected {
        assert_eq!(generation.string(key), Some(value), "{key}");
    }
    assert_eq!(
        generation.attributes["langfuse.observation.prompt.version"],
        json!({"int": 3})
    );
    assert!(!generation
        .attributes
        .contains_key("langfuse.observation.metadata.none"));
    assert_eq!(generation.status_code, 2);
    assert_eq!(generation.status_message, "rate limited");
}

#[test]
fn propagate_attributes_like_python() {
    setup();
    let outer = propagated_attributes().metadata("too-long", "x".repeat(201));
    spindle::observation("prop-root").run(|_| {
        spindle::propagate_attributes(outer, || {
            spindle::observation("prop-child")
                .as_type(ObservationType::Generation)
                .run(|child| {
                    child.update(ObservationUpdate::new().model("m").output("x"));
                });
            let inner = PropagatedAttributes::new()
                .tags(["t3"])
                .metadata("extra", "1");
            spindle::propagate_attributes(inner, || {
                spindle::observation("prop-grandchild").run(|_| ());
            });
        });
        spindle::observation("prop-after").run(|_| ());
    });
    let receiver = flushed();
    let root = receiver.span_named("prop-root");
    let child = receiver.span_named("prop-child");
    let grandchild = receiver.span_named("prop-grandchild");
    let after = receiver.span_named("prop-after");
    assert_child_of(&child, &root);
    assert_child_of(&grandchild, &root);
    assert_child_of(&after, &root);
    for span in [&root, &child, &grandchild] {
        assert_eq!(span.string("user.id"), Some("user-42"));
        assert_eq!(span.string("session.id"), Some("sess-7"));
        assert_eq!(span.string("langfuse.version"), Some("app-v2"));
        assert_eq!(span.string("langfuse.trace.name"), Some("my-trace-name"));
        assert_eq!(
            span.string("langfuse.trace.metadata.tenant"),
            Some(r#""acme""#)
        );
        assert_eq!(span.string("langfuse.trace.metadata.n"), Some(r#""3""#));
        assert!(!span
            .attributes
            .contains_key("langfuse.trace.metadata.too-long"));
    }
    let tags = |span: &RecordedSpan| span.attributes["langfuse.trace.tags"].clone();
    assert_eq!(
        tags(&child),
        json!({"array": [{"string": "t1"}, {"string": "t2"}]})
    );
    assert_eq!(
        tags(&grandchild),
        json!({"array": [{"string": "t1"}, {"string": "t2"}, {"string": "t3"}]})
    );
    assert_eq!(tags(&root), tags(&grandchild));
    assert_eq!(root.string("langfuse.trace.metadata.extra"), Some(r#""1""#));
    assert!(!child
        .attributes
        .contains_key("langfuse.trace.metadata.extra"));
    assert_eq!(
        grandchild.string("langfuse.trace.metadata.extra"),
        Some(r#""1""#)
    );
    assert!(!after.attributes.contains_key("user.id"));
}

#[test]
fn propagate_attributes_async_and_baggage() {
    setup();
    let attributes = PropagatedAttributes::new()
        .user_id("async-user")
        .session_id("async-session")
        .as_baggage(true);
    let baggage = runtime().block_on(spindle::observation("prop-async-root").run_async(
        |_| async {
            spindle::propagate_attributes_async(attributes, async {
                tokio::task::yield_now().await;
                spindle::observation("prop-async-child").run(|_| ());
                spindle::current_baggage()
            })
            .await
        },
    ));
    let receiver = flushed();
    let root = receiver.span_named("prop-async-root");
    let child = receiver.span_named("prop-async-child");
    assert_child_of(&child, &root);
    assert_eq!(child.string("user.id"), Some("async-user"));
    assert_eq!(root.string("session.id"), Some("async-session"));
    assert_eq!(
        baggage.unwrap(),
        format!(
            "langfuse_user_id=async-user,langfuse_session_id=async-session,langfuse_trace_id={}",
            root.trace_id
        )
    );
}

#[test]
fn manual_observations_updates_events_and_trace_io() {
    setup();
    let span = spindle::observation("manual-span").input("m-in").start();
    let current_before = spindle::get_current_observation_id();
    let generation = manual_generation(&span);
    generation.set_output("ignored after end");
    span.child("manual-event")
        .metadata(&json!({"k": "v"}))
        .with(
            ObservationUpdate::new()
                .level(Level::Warning)
                .output("ev-out"),
        )
        .input(&json!({"e": 1}))
        .event();
    span.set_trace_io(Some(&json!({"traceIn": 1})), Some(&json!({"traceOut": 2})));
    span.set_trace_as_public();
    let in_scope = span.in_scope(spindle::get_current_observation_id);
    {
        let forgotten = span.child("manual-forgotten").start();
        drop(forgotten); // ended on drop, with a warning
    }
    span.end();
    assert_eq!(
        current_before, None,
        "a manual observation does not become current"
    );
    assert_eq!(in_scope, span.id());
    let receiver = flushed();
    let root = receiver.span_named("manual-span");
    let generation = receiver.span_named("manual-child-gen");
    let event = receiver.span_named("manual-event");
    let forgotten = receiver.span_named("manual-forgotten");
    for child in [&generation, &event, &forgotten] {
        assert_child_of(child, &root);
    }
    assert_eq!(root.string("langfuse.observation.input"), Some("m-in"));
    assert_eq!(
        root.string("langfuse.trace.input"),
        Some(r#"{"traceIn": 1}"#)
    );
    assert_eq!(
        root.string("langfuse.trace.output"),
        Some(r#"{"traceOut": 2}"#)
    );
    assert_eq!(
        root.attributes["langfuse.trace.public"],
        json!({"bool": true})
    );
    assert_eq!(
        generation.string("langfuse.observation.output"),
        Some("m-out")
    );
    assert_eq!(
        generation.string("langfuse.observation.model.name"),
        Some("gpt-x")
    );
    assert_eq!(event.string("langfuse.observation.type"), Some("event"));
    assert_eq!(event.start, event.end);
    assert_eq!(event.string("langfuse.observation.level"), Some("WARNING"));
    assert_eq!(
        event.string("langfuse.observation.input"),
        Some(r#"{"e": 1}"#)
    );
    assert_eq!(
        event.string("langfuse.observation.metadata.k"),
        Some(r#""v""#)
    );
    assert_eq!(event.status_code, 0);
    assert_eq!(root.string("langfuse.observation.id"), None);
    assert_eq!(Some(root.span_id.clone()), span.id());
    assert_eq!(Some(root.trace_id.clone()), span.trace_id());
}

#[test]
fn all_observation_types_and_current_ids() {
    setup();
    let types: Vec<ObservationType> = SPAN_KINDS
        .into_iter()
        .chain([ObservationType::Generation])
        .collect();
    let (trace_id, observation_id) = spindle::observation("all-types-root")
        .input(&json!({"root": true}))
        .run(|root| {
            for observation_type in types.iter().copied() {
                let name = format!("obs-{}", observation_type.as_str());
                spindle::observation(name)
                    .as_type(observation_type)
                    .run(|child| {
                        child.set_input(&format!("in-{}", observation_type.as_str()));
                        assert_eq!(spindle::get_current_trace_id(), root.trace_id());
                        assert_eq!(spindle::get_current_observation_id(), child.id());
                    });
            }
            root.set_output(&json!({"done": true}));
            (
                spindle::get_current_trace_id(),
                spindle::get_current_observation_id(),
            )
        });
    assert_eq!(spindle::get_current_trace_id(), None);
    let receiver = flushed();
    let root = receiver.span_named("all-types-root");
    assert_eq!(Some(root.trace_id.clone()), trace_id);
    assert_eq!(Some(root.span_id.clone()), observation_id);
    assert_eq!(
        root.string("langfuse.observation.output"),
        Some(r#"{"done": true}"#)
    );
    for observation_type in types.iter().copied() {
        let span = receiver.span_named(&format!("obs-{}", observation_type.as_str()));
        assert_child_of(&span, &root);
        assert_eq!(
            span.string("langfuse.observation.type"),
            Some(observation_type.as_str())
        );
        assert_eq!(
            span.string("langfuse.observation.input").map(str::to_owned),
            Some(format!("in-{}", observation_type.as_str()))
        );
    }
}

#[test]
fn trace_context_joins_existing_traces() {
    setup();
    let seeded = spindle::create_trace_id("external-123");
    assert_eq!(seeded, "d851607a82a0e1e55d6f5f2f78c5a3ef");
    support::join_seeded_trace(&seeded);
    let header = format!("00-{seeded}-00f067aa0ba902b7-01");
    let from_header = spindle::TraceContext::from_traceparent(&header).unwrap();
    spindle::observation("from-traceparent")
        .trace_context(from_header)
        .run(|_| ());
    let receiver = flushed();
    let root = receiver.span_named("linked-root");
    let child = receiver.span_named("linked-child-later");
    let remote = receiver.span_named("from-traceparent");
    assert_eq!(root.trace_id, seeded);
    assert_eq!(
        root.parent_span_id.len(),
        16,
        "a never-exported random parent, as in Python"
    );
    assert_child_of(&child, &root);
    assert_eq!(remote.parent_span_id, "00f067aa0ba902b7");
    for span in [&root, &child, &remote] {
        assert_eq!(
            span.attributes["langfuse.internal.as_root"],
            json!({"bool": true})
        );
        assert_eq!(
            span.attributes["langfuse.internal.is_app_root"],
            json!({"bool": true})
        );
    }
}

#[test]
fn scores_on_traces_observations_and_sessions() {
    setup();
    let seeded = spindle::create_trace_id("score-trace");
    let client = spindle::get_client();
    support::create_scenario_scores(&client, &seeded, "ff8262a55687ab00");
    client.create_score(Score::numeric("nowhere-score", 1.0));
    let (trace_id, span_id) = spindle::observation("score-ctx").run(|span| {
        span.score(Score::numeric("span-score", 0.5));
        span.score_trace(Score::categorical("trace-score-from-span", "meh"));
        spindle::score_current_span(Score::boolean("cur-span-score", false));
        spindle::score_current_trace(Score::numeric("cur-trace-score", 2.5).comment("c"));
        (span.trace_id().unwrap(), span.id().unwrap())
    });
    let receiver = flushed();
    let scores = receiver.scores();
    let find = |name: &str| -> Value {
        let mut found = scores
            .iter()
            .filter(|score| score["name"] == name)
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(found.len(), 1, "one score named {name}");
        let mut score = found.remove(0);
        let timestamp = score.as_object_mut().unwrap().remove("timestamp").unwrap();
        assert!(timestamp.as_str().unwrap().ends_with('Z'));
        score
    };
    let num = find("num-score");
    assert_eq!(num["id"].as_str().unwrap().len(), 16);
    assert_eq!(
        num,
        json!({"id": num["id"], "traceId": seeded, "name": "num-score", "value": 0.87, "comment": "good",
               "environment": "staging", "metadata": {"judge": "llm"}})
    );
    let category = find("cat-score");
    assert_eq!(category["value"], "positive");
    assert_eq!(category["dataType"], "CATEGORICAL");
    assert_eq!(category["observationId"], "ff8262a55687ab00");
    let boolean = find("bool-score");
    assert_eq!(boolean["value"], json!(1.0));
    assert_eq!(boolean["dataType"], "BOOLEAN");
    assert_eq!(find("obs-num")["id"], "my-score-id-1");
    let session = find("session-score");
    assert_eq!(session["sessionId"], "sess-7");
    assert!(session.get("traceId").is_none());
    assert!(scores.iter().all(|score| score["name"] != "nowhere-score"));
    let span_score = find("span-score");
    assert_eq!(
        (
            span_score["traceId"].as_str().unwrap(),
            span_score["observationId"].as_str().unwrap()
        ),
        (trace_id.as_str(), span_id.as_str())
    );
    let trace_score = find("trace-score-from-span");
    assert_eq!(trace_score["traceId"], trace_id);
    assert!(trace_score.get("observationId").is_none());
    assert_eq!(find("cur-span-score")["value"], json!(0.0));
    assert_eq!(find("cur-span-score")["observationId"], span_id);
    assert_eq!(find("cur-trace-score")["comment"], "c");
}

#[test]
fn headers_follow_python() {
    setup();
    spindle::observation("headers-probe").run(|_| ());
    let receiver = flushed();
    let requests = receiver.requests();
    let traces = requests
        .iter()
        .find(|request| request.path.ends_with("/v1/traces"))
        .unwrap();
    let header = |name: &str| traces.headers.get(name).map(String::as_str);
    assert_eq!(
        header("authorization"),
        Some("Basic cGstbGYtdGVzdDpzay1sZi10ZXN0")
    );
    assert_eq!(header("content-type"), Some("application/x-protobuf"));
    assert_eq!(header("content-encoding"), Some("gzip"));
    assert_eq!(header("x-langfuse-sdk-name"), Some("rust"));
    assert_eq!(header("x-langfuse-public-key"), Some("pk-lf-test"));
    assert_eq!(header("x-langfuse-ingestion-version"), Some("4"));
    assert_eq!(header("x-langfuse-sdk-version"), Some(spindle::SDK_VERSION));
}

#[test]
fn disabled_and_unsampled_clients_send_nothing() {
    let receiver = Receiver::start(0);
    let disabled = receiver.builder().tracing_enabled(false).build().unwrap();
    let unsampled = receiver.builder().sample_rate(0.0).build().unwrap();
    disabled
        .observation("disabled-span")
        .run(|span| assert!(!span.is_recording()));
    unsampled.observation("unsampled-span").run(|span| {
        assert!(!span.is_recording());
        span.child("unsampled-child").start().end();
    });
    disabled.flush();
    unsampled.flush();
    assert!(receiver.spans().is_empty());
}

#[observe(name = "unit-async")]
async fn unit_async(flag: bool) {
    if flag {
        return;
    }
    tokio::task::yield_now().await;
}

#[observe(name = "unit-sync")]
fn unit_sync() {}

#[test]
fn unit_returning_functions_have_no_output() {
    setup();
    unit_sync();
    runtime().block_on(unit_async(true));
    let receiver = flushed();
    for name in ["unit-sync", "unit-async"] {
        let span = receiver.span_named(name);
        assert!(
            !span.attributes.contains_key("langfuse.observation.output"),
            "{name}"
        );
    }
}

#[test]
fn propagated_environment_and_prompt() {
    setup();
    let attributes = PropagatedAttributes::new()
        .environment("prod-eu")
        .prompt("my-prompt", 3)
        .user_id("u-1");
    spindle::propagate_attributes(attributes, || {
        spindle::observation("prompted-gen")
            .as_type(ObservationType::Generation)
            .with(ObservationUpdate::new().model("gpt-4o"))
            .run(|_| ());
    });
    let invalid = PropagatedAttributes::new().environment("Langfuse Prod");
    spindle::propagate_attributes(invalid, || spindle::observation("unprompted").run(|_| ()));
    let receiver = flushed();
    let prompted = receiver.span_named("prompted-gen");
    assert_eq!(prompted.string("langfuse.environment"), Some("prod-eu"));
    assert_eq!(
        prompted.string("langfuse.observation.prompt.name"),
        Some("my-prompt")
    );
    assert_eq!(
        prompted.attributes["langfuse.observation.prompt.version"],
        json!({"int": 3})
    );
    assert_eq!(prompted.string("user.id"), Some("u-1"));
    assert_eq!(
        receiver
            .span_named("unprompted")
            .string("langfuse.environment"),
        Some("staging")
    );
}
