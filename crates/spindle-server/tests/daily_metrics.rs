//! `GET /api/public/metrics/daily` on both backends: days of the traces' timestamps (an
//! observation starting on the next day counts on its trace's day), usage per model, the
//! filters and ranges the rollups answer and those the raw rows answer, and the same answer
//! from either source.

mod both_backends;
mod postgres_support;
mod support;

use axum::Router;
use both_backends::{finish, keyed_app, on_both_backends, Backend};
use serde_json::{json, Value};
use spindle_store::metrics::Sources;
use spindle_store::{MetricsQuery, Store};
use std::sync::Arc;

const PK: &str = "pk-lf-daily";
const SK: &str = "sk-lf-daily";

struct Server {
    router: Router,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
    schema: Option<String>,
}

async fn server(backend: Backend) -> Server {
    let app = keyed_app(backend, "daily", PK, SK).await;
    Server {
        router: app.router,
        store: app.store,
        _dir: app.dir,
        schema: app.schema,
    }
}

impl Server {
    async fn finish(self) {
        finish(self.store.as_ref(), self.schema.as_deref()).await;
    }

    async fn daily(&self, query: &str) -> Value {
        let path = format!("/api/public/metrics/daily?{query}");
        let request = axum::http::Request::get(&path)
            .header(axum::http::header::AUTHORIZATION, support::basic(PK, SK))
            .body(axum::body::Body::empty())
            .expect("request");
        let reply = support::send(&self.router, request).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.text());
        reply.json()
    }
}

fn event(kind: &str, id: &str, body: Value) -> Value {
    json!({"id": id, "type": kind, "timestamp": "2026-01-01T00:00:00Z", "body": body})
}

fn generation(id: &str, trace: &str, model: Option<&str>, start: &str, tokens: i64) -> Value {
    event(
        "generation-create",
        &format!("e-{id}"),
        json!({"id": id, "traceId": trace, "name": "llm", "model": model, "startTime": start,
            "usageDetails": {"input": tokens, "output": 2 * tokens},
            "costDetails": {"total": tokens as f64 / 100.0}}),
    )
}

/// `chat` on January 1st late (alice's: a `gpt-x` generation starting after midnight and a
/// `claude` one), `chat` on January 1st at noon (bob's: `gpt-x` and one without a model),
/// and `search` on January 2nd (a `claude` generation).
async fn ingest(server: &Server) {
    let trace = |id: &str, name: &str, user: &str, at: &str| {
        event(
            "trace-create",
            &format!("e-{id}"),
            json!({"id": id, "name": name, "userId": user, "timestamp": at}),
        )
    };
    let batch = json!([
        trace("late", "chat", "alice", "2026-01-01T23:30:00Z"),
        trace("noon", "chat", "bob", "2026-01-01T12:00:00Z"),
        trace("next", "search", "alice", "2026-01-02T08:00:00Z"),
        generation("g1", "late", Some("gpt-x"), "2026-01-02T00:10:00Z", 10),
        generation("g2", "late", Some("claude"), "2026-01-01T23:31:00Z", 3),
        generation("g3", "noon", Some("gpt-x"), "2026-01-01T12:00:00Z", 5),
        generation("g4", "noon", None, "2026-01-01T12:00:01Z", 0),
        generation("g5", "next", Some("claude"), "2026-01-02T08:00:00Z", 7),
    ]);
    support::ingest_as(&server.router, PK, SK, batch).await;
}

fn close(value: &Value, expected: f64) {
    let value = value.as_f64().expect("a number");
    assert!((value - expected).abs() < 1e-9, "{value} != {expected}");
}

async fn days_and_models_per_trace_day(backend: Backend) {
    let server = server(backend).await;
    ingest(&server).await;
    let body = server.daily("").await;
    assert_eq!(body["meta"]["totalItems"], 2, "{body}");
    let data = body["data"].as_array().expect("days");
    let days = support::texts_in(&body, "data", "date");
    assert_eq!(days, ["2026-01-02", "2026-01-01"]);
    let first = &data[1];
    assert_eq!(first["countTraces"], 2);
    // g1 starts on January 2nd but counts on its trace's day.
    assert_eq!(first["countObservations"], 4);
    close(&first["totalCost"], 0.18);
    let usage = first["usage"].as_array().expect("usage");
    assert_eq!(
        support::texts_in(first, "usage", "model"),
        ["claude", "gpt-x"],
        "no entry without a model"
    );
    let gpt = &usage[1];
    assert_eq!(
        (
            &gpt["inputUsage"],
            &gpt["outputUsage"],
            &gpt["totalUsage"],
            &gpt["countTraces"],
            &gpt["countObservations"]
        ),
        (&json!(15), &json!(30), &json!(45), &json!(2), &json!(2))
    );
    close(&gpt["totalCost"], 0.15);

    // Name and environment filters and ranges inside hours: the rollups with the raw rows
    // of the partial hours; a user filter: the raw rows.
    let chat = server.daily("traceName=chat").await;
    assert_eq!(chat["meta"]["totalItems"], 1);
    let late_only = server
        .daily("fromTimestamp=2026-01-01T12:00:00.001Z&toTimestamp=2026-01-02T08:00:00.000Z")
        .await;
    assert_eq!(late_only["data"].as_array().expect("days").len(), 1);
    assert_eq!(late_only["data"][0]["countTraces"], 1);
    assert_eq!(late_only["data"][0]["countObservations"], 2);
    let alice = server.daily("userId=alice").await;
    assert_eq!(alice["meta"]["totalItems"], 2);
    assert_eq!(alice["data"][1]["countTraces"], 1);

    // The rollups answered what the raw rows answer.
    for query in [
        MetricsQuery::default(),
        MetricsQuery {
            trace_name: Some("chat".to_owned()),
            from_timestamp: Some(1_767_268_800_000_001),
            ..MetricsQuery::default()
        },
    ] {
        let rolled = server
            .store
            .daily_metrics_from("p1", &query, Sources::Rollups)
            .await
            .expect("rollups")
            .expect("the rollups answer");
        let raw = server
            .store
            .daily_metrics_from("p1", &query, Sources::RawRows)
            .await
            .expect("raw rows")
            .expect("the raw rows answer");
        assert_eq!(rolled.total_items, raw.total_items);
        for (kept, expected) in rolled.items.iter().zip(&raw.items) {
            assert_eq!(
                (&kept.date, kept.count_traces, kept.count_observations),
                (
                    &expected.date,
                    expected.count_traces,
                    expected.count_observations
                )
            );
            assert!((kept.total_cost - expected.total_cost).abs() < 1e-9);
            assert_eq!(kept.usage.len(), expected.usage.len());
        }
    }
    server.finish().await;
}

on_both_backends!(days_and_models_per_trace_day);
