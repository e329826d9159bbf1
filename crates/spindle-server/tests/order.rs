//! The stored result does not depend on arrival order: the same creates and updates, applied
//! in random orders and split across requests (and across OTLP and batch ingestion), always
//! yield the same traces, observations and scores.

mod support;

use proptest::prelude::*;
use serde_json::{json, Value};
use support::*;

/// A fixed scenario in the style of the SDKs: legacy JS sends updates before creates, Python
/// v2 sends `trace-create` again as an update, children may arrive before their parents.
fn events() -> Vec<Value> {
    let ts = |second: u32| format!("2026-01-01T00:00:{second:02}.000Z");
    vec![
        json!({"id": "e01", "type": "trace-create", "timestamp": ts(1), "body": {"id": "tr", "name": "first", "userId": "u1", "tags": ["a"], "metadata": {"k": 1, "keep": "x"}, "input": {"q": 1}}}),
        json!({"id": "e02", "type": "trace-create", "timestamp": ts(5), "body": {"id": "tr", "name": "renamed", "tags": ["b"], "metadata": {"k": 2}, "output": "final"}}),
        json!({"id": "e03", "type": "span-create", "timestamp": ts(2), "body": {"id": "sp", "traceId": "tr", "name": "span", "startTime": ts(2), "input": "in"}}),
        json!({"id": "e04", "type": "span-update", "timestamp": ts(3), "body": {"id": "sp", "traceId": "tr", "output": "mid", "statusMessage": "working"}}),
        json!({"id": "e05", "type": "span-update", "timestamp": ts(4), "body": {"id": "sp", "traceId": "tr", "output": "out", "endTime": ts(4)}}),
        json!({"id": "e06", "type": "generation-create", "timestamp": ts(2), "body": {"id": "gen", "traceId": "tr", "parentObservationId": "sp", "name": "llm", "startTime": ts(2), "model": "gpt-4o"}}),
        json!({"id": "e07", "type": "generation-update", "timestamp": ts(3), "body": {"id": "gen", "traceId": "tr", "usageDetails": {"input": 3, "output": 4}, "endTime": ts(3), "level": "WARNING"}}),
        json!({"id": "e08", "type": "generation-update", "timestamp": ts(3), "body": {"id": "gen", "traceId": "tr", "costDetails": {"total": 0.25}}}),
        json!({"id": "e09", "type": "event-create", "timestamp": ts(3), "body": {"id": "ev", "traceId": "tr", "parentObservationId": "gen", "name": "cache-hit"}}),
        json!({"id": "e10", "type": "score-create", "timestamp": ts(6), "body": {"id": "sc", "traceId": "tr", "name": "quality", "value": 0.5}}),
        json!({"id": "e11", "type": "score-create", "timestamp": ts(7), "body": {"id": "sc", "traceId": "tr", "name": "quality", "value": 0.9, "comment": "revised"}}),
        json!({"id": "e12", "type": "span-create", "timestamp": ts(8), "body": {"id": "late-child", "traceId": "tr", "parentObservationId": "sp", "startTime": ts(8)}}),
    ]
}

/// The API view with server-side bookkeeping (createdAt/updatedAt) removed.
async fn snapshot(app: &TestApp) -> Value {
    let mut trace = app.get("/api/public/traces/tr").await.json();
    fn scrub(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("createdAt");
                map.remove("updatedAt");
                for child in map.values_mut() {
                    scrub(child);
                }
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    scrub(item);
                }
                items.sort_by_key(|item| item["id"].to_string());
            }
            _ => {}
        }
    }
    scrub(&mut trace);
    trace
}

fn apply(order: &[usize], splits: &[usize]) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let app = app().await;
        let all = events();
        let ordered: Vec<Value> = order.iter().map(|index| all[*index].clone()).collect();
        let mut start = 0;
        let mut cuts: Vec<usize> = splits.iter().map(|cut| cut % (ordered.len() + 1)).collect();
        cuts.push(ordered.len());
        cuts.sort_unstable();
        for cut in cuts {
            if cut <= start {
                continue;
            }
            let response = app
                .post_json(
                    "/api/public/ingestion",
                    &json!({"batch": ordered[start..cut]}),
                )
                .await;
            assert_eq!(response.json()["errors"], json!([]));
            start = cut;
        }
        snapshot(&app).await
    })
}

#[test]
fn the_reference_result_is_what_the_merge_rules_say() {
    let order: Vec<usize> = (0..events().len()).collect();
    let trace = apply(&order, &[]);
    assert_eq!(trace["name"], "renamed");
    assert_eq!(trace["userId"], "u1");
    assert_eq!(trace["tags"], json!(["a", "b"]));
    assert_eq!(trace["metadata"], json!({"k": 2, "keep": "x"}));
    assert_eq!(trace["input"], json!({"q": 1}));
    assert_eq!(trace["output"], "final");
    assert_eq!(trace["timestamp"], "2026-01-01T00:00:01.000Z");
    let observations = trace["observations"].as_array().expect("observations");
    assert_eq!(observations.len(), 4);
    let span = observations.iter().find(|o| o["id"] == "sp").expect("span");
    assert_eq!(span["output"], "out");
    assert_eq!(span["statusMessage"], "working");
    assert_eq!(span["endTime"], "2026-01-01T00:00:04.000Z");
    let generation = observations
        .iter()
        .find(|o| o["id"] == "gen")
        .expect("generation");
    assert_eq!(generation["type"], "GENERATION");
    // Langfuse adds `total` (the sum) to a usage map sent without one.
    assert_eq!(
        generation["usageDetails"],
        json!({"input": 3, "output": 4, "total": 7})
    );
    assert_eq!(generation["costDetails"], json!({"total": 0.25}));
    assert_eq!(generation["level"], "WARNING");
    assert_eq!(trace["scores"][0]["value"], 0.9);
    assert_eq!(trace["scores"][0]["comment"], "revised");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_order_and_split_gives_the_same_result(
        order in Just((0..events().len()).collect::<Vec<usize>>()).prop_shuffle(),
        splits in proptest::collection::vec(0usize..20, 0..5),
    ) {
        let reference: Vec<usize> = (0..events().len()).collect();
        let expected = apply(&reference, &[]);
        let got = apply(&order, &splits);
        prop_assert_eq!(expected, got);
    }
}
