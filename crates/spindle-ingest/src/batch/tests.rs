//! Batch ingestion: per-event errors naming the field, and request-level failures.

use super::*;
use serde_json::json;

fn parse_json(value: Value) -> Parsed {
    let mut counter = 0;
    parse(value.to_string().as_bytes(), &mut || {
        counter += 1;
        format!("gen-{counter}")
    })
    .expect("request-level parse succeeds")
}

fn check_error(event: Value, expected: &str) {
    let parsed = parse_json(json!({"batch": [event]}));
    assert_eq!(parsed.successes.len(), 0, "{expected}");
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].message, expected);
}

#[test]
fn bad_events_name_the_field() {
    let ts = "2024-01-01T00:00:00Z";
    check_error(
        json!({"id": "e1", "type": "span-create", "timestamp": ts, "body": {"id": "s", "startTime": "soon"}}),
        "batch[0].body.startTime: not an ISO-8601 timestamp",
    );
    check_error(
        json!({"id": "e1", "type": "nope-create", "timestamp": ts, "body": {}}),
        "batch[0].type: unknown event type \"nope-create\"",
    );
    check_error(
        json!({"id": "e1", "type": "trace-create", "timestamp": ts, "body": {"id": "t", "tags": "x"}}),
        "batch[0].body.tags: expected an array of strings",
    );
    check_error(
        json!({"id": "e1", "type": "trace-create", "body": {"id": "t"}}),
        "batch[0].timestamp: is required",
    );
    check_error(
        json!({"id": "e1", "type": "generation-create", "timestamp": ts, "body": {"id": "g", "level": "LOUD"}}),
        "batch[0].body.level: expected one of DEBUG, DEFAULT, WARNING, ERROR",
    );
    check_error(
        json!({"id": "e1", "type": "span-create", "timestamp": ts, "body": {"id": ""}}),
        "batch[0].body.id: must not be empty",
    );
    check_error(
        json!({"id": "e1", "type": "score-create", "timestamp": ts, "body": {"name": "s", "value": "x", "dataType": "NUMERIC", "traceId": "t"}}),
        "batch[0].body.value: must be a number for NUMERIC scores",
    );
    check_error(
        json!({"id": "e1", "type": "score-create", "timestamp": ts, "body": {"name": "s", "value": 1}}),
        "batch[0].body: one of traceId, sessionId or datasetRunId is required",
    );
}

#[test]
fn good_events_survive_bad_neighbours() {
    let ts = "2024-01-01T00:00:00Z";
    let parsed = parse_json(json!({"batch": [
        {"id": "ok", "type": "trace-create", "timestamp": ts, "body": {"id": "t1", "name": "n"}},
        {"id": "bad", "type": "trace-create", "timestamp": ts, "body": {"id": 5.5, "name": 3}},
        {"id": "log", "type": "sdk-log", "timestamp": ts, "body": {"log": "hello"}},
    ]}));
    assert_eq!(parsed.successes, vec!["ok", "log"]);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].id, "bad");
    assert_eq!(parsed.batch.traces.len(), 1);
}

#[test]
fn request_level_errors() {
    let mut fresh = || "x".to_owned();
    assert_eq!(
        parse(b"{", &mut fresh).map(|_| ()).unwrap_err().kind,
        spindle_core::ErrorKind::InvalidArgument
    );
    assert_eq!(
        parse(b"{}", &mut fresh).map(|_| ()).unwrap_err().message,
        "batch: is required"
    );
    assert_eq!(
        parse(b"[]", &mut fresh).map(|_| ()).unwrap_err().message,
        "body: expected a JSON object"
    );
    // Invalid UTF-8 is not JSON, even in a field the parser otherwise ignores (found by the
    // `ingestion_json` fuzz target).
    assert_eq!(
        parse(
            b"{\"batch\": [], \"metadata\": {\"public_key\": \"pk\xfflf\"}}",
            &mut fresh
        )
        .map(|_| ())
        .unwrap_err()
        .message,
        "body: invalid JSON: not UTF-8 at byte 44"
    );
}

#[test]
fn observation_without_trace_gets_a_stable_trace() {
    let ts = "2024-01-01T00:00:00Z";
    let event = json!({"batch": [{"id": "e", "type": "span-create", "timestamp": ts, "body": {"id": "orphan"}}]});
    let first = parse_json(event.clone());
    let second = parse_json(event);
    assert_eq!(
        first.batch.observations[0].trace_id,
        second.batch.observations[0].trace_id
    );
    assert_eq!(
        first.batch.observations[0]
            .trace_id
            .as_ref()
            .map(String::len),
        Some(32)
    );
}

/// An empty string input or output is no value (Langfuse skips it when merging events), so a
/// later update with "" keeps what was stored; other falsy JSON values are kept.
#[test]
fn empty_string_input_and_output_are_no_value() {
    let ts = "2024-01-01T00:00:00Z";
    let parsed = parse_json(json!({"batch": [
        {"id": "t", "type": "trace-create", "timestamp": ts,
         "body": {"id": "t1", "input": "", "output": ""}},
        {"id": "s", "type": "span-create", "timestamp": ts,
         "body": {"id": "s1", "traceId": "t1", "input": "", "output": 0}},
    ]}));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let traces: Vec<_> = parsed
        .batch
        .traces
        .iter()
        .filter(|trace| trace.id == "t1")
        .collect();
    assert!(!traces.is_empty());
    for trace in traces {
        assert_eq!((&trace.input, &trace.output), (&None, &None));
    }
    let span = &parsed.batch.observations[0];
    assert_eq!(span.input, None);
    assert_eq!(span.output.as_deref(), Some("0"));
}
