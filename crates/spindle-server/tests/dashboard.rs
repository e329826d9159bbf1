//! The web UI's dashboard (`GET /api/ui/projects/{id}/dashboard`) on both backends: its
//! panels over a custom range and time bucket, each filter on the panels it narrows, the
//! parameters it refuses, and which of its metrics requests the rollups answer.

mod both_backends;
mod postgres_support;
mod support;

use axum::Router;
use both_backends::{finish, keyed_app, on_both_backends, Backend};
use serde_json::{json, Value};
use spindle_server::ui::dashboard::{self, DashboardFilters, DashboardQuery};
use spindle_store::conformance::{assert_rolled_up_rows_agree, fixtures, seed_rolled_up_rows};
use spindle_store::metrics::{Granularity, MetricsValue, Sources};
use spindle_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

const PK: &str = "pk-lf-dash";
const SK: &str = "sk-lf-dash";
const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "owner-password";

struct Server {
    router: Router,
    store: Arc<dyn Store>,
    cookie: String,
    csrf: String,
    _dir: tempfile::TempDir,
    schema: Option<String>,
}

async fn server(backend: Backend) -> Server {
    let app = keyed_app(backend, "dashboard", PK, SK).await;
    support::add_user(app.accounts.as_ref(), "owner", EMAIL, PASSWORD, true, 0).await;
    let (cookie, csrf) =
        support::ui_session(&app.router, support::sign_in_request(EMAIL, PASSWORD)).await;
    Server {
        router: app.router,
        store: app.store,
        cookie,
        csrf,
        _dir: app.dir,
        schema: app.schema,
    }
}

impl Server {
    async fn finish(self) {
        finish(self.store.as_ref(), self.schema.as_deref()).await;
    }

    async fn dashboard(&self, query: &str) -> support::Response {
        let path = format!("/api/ui/projects/p1/dashboard?{query}");
        support::send(&self.router, support::cookie_get(&path, &self.cookie)).await
    }

    /// `PUT …/rolled-metadata` with `body`.
    async fn roll_up(&self, body: Value) -> support::Response {
        let request = support::ui_write(
            "PUT",
            "/api/ui/projects/p1/rolled-metadata",
            &self.cookie,
            Some(&self.csrf),
            &body,
        );
        support::send(&self.router, request).await
    }

    async fn rolled_up(&self) -> Value {
        let path = "/api/ui/projects/p1/rolled-metadata";
        let reply = support::send(&self.router, support::cookie_get(path, &self.cookie)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    async fn ok(&self, query: &str) -> Value {
        let reply = self.dashboard(query).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.text());
        reply.json()
    }
}

fn event(kind: &str, id: &str, body: Value) -> Value {
    json!({"id": id, "type": kind, "timestamp": "2026-01-01T00:00:00Z", "body": body})
}

/// Two traces named `chat` on January 1st (alice's with a 2 s `gpt-x` generation, bob's
/// with a 4 s `claude` generation and an error span), one named `search` on January 3rd,
/// and on the first two: a numeric, a boolean and a categorical score each.
async fn ingest_traces(server: &Server) {
    let trace = |id: &str, name: &str, user: &str, at: &str, extra: Value| {
        let mut body = json!({"id": id, "name": name, "userId": user, "timestamp": at});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        event("trace-create", &format!("e-{id}"), body)
    };
    let generation =
        |id: &str, trace: &str, model: &str, start: &str, end: &str, total: i64, cost: f64| {
            event(
                "generation-create",
                &format!("e-{id}"),
                json!({"id": id, "traceId": trace, "name": "llm", "model": model,
                "startTime": start, "endTime": end,
                "usageDetails": {"input": total - 5, "output": 5, "total": total},
                "costDetails": {"total": cost}}),
            )
        };
    let score = |id: &str, trace: &str, name: &str, at: &str, value: Value, data_type: &str| {
        event(
            "score-create",
            &format!("e-{id}"),
            json!({"id": id, "traceId": trace, "name": name, "value": value,
                "dataType": data_type, "timestamp": at}),
        )
    };
    let batch = json!([
        trace(
            "t1",
            "chat",
            "alice",
            "2026-01-01T10:00:00Z",
            json!({"tags": ["vip"], "release": "r1", "metadata": {"team": "a"}})
        ),
        generation(
            "g1",
            "t1",
            "gpt-x",
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:00:02Z",
            15,
            0.5
        ),
        trace(
            "t2",
            "chat",
            "bob",
            "2026-01-01T12:00:00Z",
            json!({"release": "r2", "metadata": {"team": "b"}})
        ),
        generation(
            "g2",
            "t2",
            "claude",
            "2026-01-01T12:00:00Z",
            "2026-01-01T12:00:04Z",
            20,
            1.0
        ),
        event(
            "span-create",
            "e-s2",
            json!({"id": "s2", "traceId": "t2", "name": "tool",
            "startTime": "2026-01-01T12:00:01Z", "endTime": "2026-01-01T12:00:02Z",
            "level": "ERROR"})
        ),
        trace("t3", "search", "alice", "2026-01-03T09:00:00Z", json!({})),
        generation(
            "g3",
            "t3",
            "gpt-x",
            "2026-01-03T09:00:00Z",
            "2026-01-03T09:00:01Z",
            10,
            0.25
        ),
        score(
            "sc1",
            "t1",
            "quality",
            "2026-01-01T10:00:05Z",
            json!(0.8),
            "NUMERIC"
        ),
        score(
            "sc2",
            "t2",
            "quality",
            "2026-01-01T12:00:05Z",
            json!(0.4),
            "NUMERIC"
        ),
        score(
            "sc3",
            "t1",
            "helpful",
            "2026-01-01T10:00:05Z",
            json!(1),
            "BOOLEAN"
        ),
        score(
            "sc4",
            "t2",
            "helpful",
            "2026-01-01T12:00:05Z",
            json!(0),
            "BOOLEAN"
        ),
        score(
            "sc5",
            "t1",
            "tone",
            "2026-01-01T10:00:05Z",
            json!("friendly"),
            "CATEGORICAL"
        ),
        score(
            "sc6",
            "t2",
            "tone",
            "2026-01-01T12:00:05Z",
            json!("rude"),
            "CATEGORICAL"
        ),
    ]);
    support::ingest_as(&server.router, PK, SK, batch).await;
}

const JANUARY_FIRST: &str =
    "fromTimestamp=2026-01-01T00:00:00Z&toTimestamp=2026-01-02T00:00:00Z&granularity=hour";

fn close(actual: &Value, expected: f64) -> bool {
    actual
        .as_f64()
        .is_some_and(|value| (value - expected).abs() < 1e-9)
}

/// The non-zero buckets of a series, as `(time, count)`.
fn busy(series: &Value) -> Vec<(String, u64)> {
    series
        .as_array()
        .expect("series")
        .iter()
        .filter(|bucket| bucket["count"].as_u64() != Some(0))
        .map(|bucket| {
            (
                bucket["time"].as_str().expect("time").to_owned(),
                bucket["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

async fn panels_over_a_custom_range(backend: Backend) {
    let server = server(backend).await;
    ingest_traces(&server).await;
    let day = server.ok(JANUARY_FIRST).await;
    assert_eq!(day["granularity"], "hour");
    assert_eq!(day["traces"], 2, "{day}");
    assert_eq!(day["tracesOverTime"].as_array().map(Vec::len), Some(25));
    assert_eq!(
        busy(&day["tracesOverTime"]),
        [
            ("2026-01-01T10:00:00.000Z".to_owned(), 1),
            ("2026-01-01T12:00:00.000Z".to_owned(), 1)
        ]
    );
    assert_eq!(day["errors"], 1);
    let by_model = &day["generationsByModel"];
    assert_eq!(
        by_model[0]["model"], "claude",
        "the costlier first: {by_model}"
    );
    assert_eq!(by_model[0]["count"], 1);
    assert!(close(&by_model[0]["totalCost"], 1.0), "{by_model}");
    assert_eq!(by_model[0]["totalTokens"], 20);
    assert_eq!(by_model[1]["model"], "gpt-x");
    assert_eq!(by_model[1]["totalTokens"], 15);
    let over_time: Vec<(String, String)> = day["generationsOverTime"]
        .as_array()
        .expect("generations")
        .iter()
        .filter(|row| row["count"] != 0)
        .map(|row| {
            (
                row["time"].as_str().expect("time").to_owned(),
                row["model"].as_str().expect("model").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        over_time,
        [
            ("2026-01-01T10:00:00.000Z".to_owned(), "gpt-x".to_owned()),
            ("2026-01-01T12:00:00.000Z".to_owned(), "claude".to_owned())
        ]
    );
    // Rollup percentiles are within their 1 % bound of the raw rows' ones.
    let near = |actual: &Value, expected: f64| {
        actual.as_f64().is_some_and(|value| {
            (value - expected).abs() <= expected * spindle_store::metrics::PERCENTILE_RELATIVE_ERROR
        })
    };
    // Percentiles over every trace of the range (from the trace rollups), interpolated:
    // latencies 2 s and 4 s; the trace's observations at level ERROR.
    let chat = &day["latencyByTraceName"][0];
    assert_eq!(
        (&chat["key"], &chat["count"], &chat["errors"]),
        (&json!("chat"), &json!(2), &json!(1))
    );
    assert!(near(&chat["p50"], 3.0), "{chat}");
    assert!(near(&chat["p90"], 3.8), "{chat}");
    assert!(near(&chat["p99"], 3.98), "{chat}");
    assert_eq!(day["latencyByTraceName"].as_array().map(Vec::len), Some(1));
    assert_eq!(day["notes"], json!({}), "no panel refused");
    let models = &day["latencyByModel"];
    let of = |model: &str| support::item_where(&day, "latencyByModel", "key", model);
    // Generations by model come from the rollups too.
    assert!(near(&of("gpt-x")["p95"], 2.0), "{models}");
    assert!(near(&of("claude")["p50"], 4.0), "{models}");
    // The error span is no generation: no model counts it.
    assert_eq!(of("claude")["errors"], 0);

    assert_eq!(day["scores"], 6);
    assert_eq!(
        busy(&day["scoresOverTime"]),
        [
            ("2026-01-01T10:00:00.000Z".to_owned(), 3),
            ("2026-01-01T12:00:00.000Z".to_owned(), 3)
        ]
    );
    let scores = day["scoresByName"].as_array().expect("scores by name");
    let score = |name: &str| -> &Value {
        scores
            .iter()
            .find(|row| row["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {scores:?}"))
    };
    assert_eq!(score("quality")["dataType"], "NUMERIC");
    assert_eq!(score("quality")["count"], 2);
    assert!(close(&score("quality")["average"], 0.6));
    assert_eq!(score("helpful")["dataType"], "BOOLEAN");
    assert_eq!(score("helpful")["count"], 2);
    assert!(close(&score("helpful")["average"], 0.5));
    assert_eq!(
        score("helpful")["values"],
        json!([{"value": "false", "count": 1}, {"value": "true", "count": 1}])
    );
    assert_eq!(score("tone")["dataType"], "CATEGORICAL");
    assert_eq!(score("tone")["count"], 2);
    assert_eq!(
        score("tone")["values"],
        json!([{"value": "friendly", "count": 1}, {"value": "rude", "count": 1}])
    );

    // Three days by day: the third trace joins, quiet days are zero.
    let three = server
        .ok("fromTimestamp=2026-01-01T00:00:00Z&toTimestamp=2026-01-03T23:00:00Z&granularity=day")
        .await;
    assert_eq!(three["traces"], 3);
    assert_eq!(
        busy(&three["tracesOverTime"]),
        [("2026-01-01".to_owned(), 2), ("2026-01-03".to_owned(), 1)]
    );
    assert_eq!(three["tracesOverTime"][1]["count"], 0);
    assert_eq!(three["latencyByTraceName"][1]["key"], "search");
    server.finish().await;
}

async fn filters_narrow_the_panels_they_apply_to(backend: Backend) {
    let server = server(backend).await;
    ingest_traces(&server).await;
    let with = |filter: &str| format!("{JANUARY_FIRST}&{filter}");
    let alice = server.ok(&with("userId=alice")).await;
    assert_eq!(
        (&alice["traces"], &alice["scores"], &alice["errors"]),
        (&json!(1), &json!(3), &json!(0))
    );
    assert_eq!(
        alice["generationsByModel"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(alice["generationsByModel"][0]["model"], "gpt-x");

    // The model narrows the generations, not the traces.
    let claude = server.ok(&with("model=claude")).await;
    assert_eq!(claude["traces"], 2);
    assert_eq!(
        claude["generationsByModel"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(claude["latencyByModel"][0]["key"], "claude");

    for (filter, traces, scores) in [
        ("tag=vip", 1, 3),
        ("release=r2", 1, 3),
        ("name=chat", 2, 6),
        ("name=search", 0, 0),
        ("environment=staging", 0, 0),
        ("environment=default", 2, 6),
        // Metadata is the traces': the trace panels only.
        ("metadataKey=team&metadataValue=b", 1, 6),
    ] {
        let answer = server.ok(&with(filter)).await;
        assert_eq!(answer["traces"], traces, "{filter}: {answer}");
        assert_eq!(answer["scores"], scores, "{filter}: {answer}");
    }
    let nothing = server.ok(&with("name=search")).await;
    assert_eq!(nothing["latencyByTraceName"], json!([]));
    assert_eq!(nothing["generationsByModel"], json!([]));
    assert_eq!(
        nothing["tracesOverTime"].as_array().map(Vec::len),
        Some(25),
        "still every bucket"
    );
    server.finish().await;
}

async fn bad_parameters_are_refused(backend: Backend) {
    let server = server(backend).await;
    for (query, field) in [
        ("granularity=month", "granularity"),
        ("fromTimestamp=yesterday", "fromTimestamp"),
        (
            "fromTimestamp=2026-01-02T00:00:00Z&toTimestamp=2026-01-01T00:00:00Z",
            "fromTimestamp",
        ),
        (
            "fromTimestamp=2024-01-01T00:00:00Z&toTimestamp=2026-01-01T00:00:00Z&granularity=hour",
            "granularity",
        ),
    ] {
        let reply = server.dashboard(query).await;
        assert_eq!(reply.status, 400, "{query}");
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.starts_with(field), "{query}: {message}");
    }
    let empty = server.ok("").await;
    assert_eq!(
        (&empty["traces"], &empty["granularity"]),
        (&json!(0), &json!("day"))
    );
    server.finish().await;
}

/// With no filter, an environment or model filter (which the traces view does not take), or
/// one filter on an attribute of the traces (a user, a tag, a trace name, a release, a
/// rolled-up metadata key: the attribute rollups, or the trace rollups' own keys), every
/// panel's request is answered by the rollups, as the raw rows answer it (within the
/// rollups' bounds).
async fn the_rollups_answer_every_panel(backend: Backend) {
    use fixtures::{BASE, DAY};
    let server = server(backend).await;
    seed_rolled_up_rows(&server.store, "p1", &mut fixtures::Rng::new(16)).await;
    // The tenant rolled up: listed, swept, then ready.
    let reply = server.roll_up(json!({"keys": ["tenant"]})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let listed = reply.json();
    assert_eq!(
        (
            &listed["keys"][0]["key"],
            &listed["keys"][0]["ready"],
            &listed["sweeping"]
        ),
        (&json!("tenant"), &json!(false), &json!(true))
    );
    spindle_store::metadata_rollups::sweep_all(server.store.as_ref(), std::time::Duration::ZERO)
        .await
        .expect("sweep");
    let listed = server.rolled_up().await;
    assert_eq!(
        (
            &listed["keys"][0]["ready"],
            &listed["sweeping"],
            &listed["maxKeys"]
        ),
        (&json!(true), &json!(false), &json!(10))
    );
    let minute = 60_000_000;
    let filters = [
        DashboardFilters::default(),
        DashboardFilters {
            metadata: Some(("tenant".to_owned(), "acme".to_owned())),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            environment: Some("staging".to_owned()),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            model: Some("m-beta".to_owned()),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            environment: Some("default".to_owned()),
            model: Some("m-alpha".to_owned()),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            user_id: Some("u1".to_owned()),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            tags: vec!["b".to_owned()],
            model: Some("m-alpha".to_owned()),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            trace_name: Some("chat".to_owned()),
            environment: Some("default".to_owned()),
            ..DashboardFilters::default()
        },
        DashboardFilters {
            release: Some("r2".to_owned()),
            ..DashboardFilters::default()
        },
    ];
    let mut answered = BTreeMap::new();
    for (granularity, from, to) in [
        // Ranges that start and end inside an hour, and one on whole hours.
        (
            Granularity::Hour,
            BASE + 17 * minute,
            BASE + DAY + 43 * minute,
        ),
        (
            Granularity::Day,
            BASE + 5 * minute,
            BASE + 4 * DAY - 7 * minute,
        ),
        (Granularity::Week, BASE, BASE + 4 * DAY - 1),
    ] {
        for filters in &filters {
            let query = DashboardQuery {
                from,
                to,
                granularity,
                filters: filters.clone(),
            };
            for (panel, request) in dashboard::requests(&query) {
                let what = format!("{panel} of {query:?}");
                let rolled = server
                    .store
                    .query_metrics_from("p1", &request, Sources::Rollups)
                    .await
                    .unwrap_or_else(|error| panic!("{what}: {error:?}"))
                    .unwrap_or_else(|| panic!("{what}: the rollups declined it"));
                let raw = server
                    .store
                    .query_metrics_from("p1", &request, Sources::RawRows)
                    .await
                    .unwrap_or_else(|error| panic!("{what}: {error:?}"))
                    .expect("the raw rows answer every request");
                assert_rolled_up_rows_agree(&rolled, &raw, &what);
                let counted = rolled.iter().flatten().any(|(name, value)| {
                    name == "count_count" && !matches!(value, MetricsValue::Count(0))
                });
                *answered.entry(panel).or_insert(0) += u32::from(counted);
            }
        }
    }
    // Every panel counted something somewhere (errors among them).
    assert_eq!(answered.len(), 12, "{answered:?}");
    assert!(answered.values().all(|rows| *rows > 0), "{answered:?}");
    let booleans = server
        .store
        .query_metrics_from(
            "p1",
            &dashboard::requests(&DashboardQuery {
                from: BASE,
                to: BASE + 4 * DAY - 1,
                granularity: Granularity::Day,
                filters: DashboardFilters::default(),
            })
            .into_iter()
            .find(|(panel, _)| *panel == "booleanScoresByName")
            .expect("the boolean panel")
            .1,
            Sources::Rollups,
        )
        .await
        .expect("booleans")
        .expect("from the rollups");
    let values: Vec<&MetricsValue> = booleans
        .iter()
        .flatten()
        .filter(|(name, _)| name == "booleanValue")
        .map(|(_, value)| value)
        .collect();
    // The values of the scores' numbers, not of their text (a label).
    for flag in [false, true] {
        assert!(
            values.contains(&&MetricsValue::Boolean(flag)),
            "{booleans:?}"
        );
    }
    server.finish().await;
}

/// A panel whose metrics query passes the server's time limit is answered empty with the
/// reason in `notes`, under the field it fills; the rest of the dashboard is answered.
async fn a_panel_past_the_time_limit_is_a_note(backend: Backend) {
    use fixtures::{create_stamp, BASE, DAY, SECOND};
    use spindle_core::{Level, ObservationType};
    let limit = Some(std::time::Duration::from_millis(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, schema): (Arc<dyn Store>, Option<String>) = match backend {
        Backend::Sqlite => {
            let options = spindle_store_sqlite::SqliteOptions {
                synchronous_full: false,
                metrics_time_limit: limit,
                ..spindle_store_sqlite::SqliteOptions::default()
            };
            let store =
                spindle_store_sqlite::SqliteStore::open(dir.path(), options).expect("open sqlite");
            (Arc::new(store), None)
        }
        Backend::Postgres => {
            let options = spindle_store_postgres::PostgresOptions {
                pool_size: 4,
                metrics_time_limit: limit,
                ..spindle_store_postgres::PostgresOptions::default()
            };
            let (store, schema) =
                both_backends::open_in_fresh_schema_with("dashboard_limit", options).await;
            (store, Some(schema))
        }
    };
    // 20,000 generations of one user with one tag: a user and a tag filter together (which
    // no rollup keys) read them raw, past 1 ms.
    for t in 0..40 {
        let mut batch = fixtures::trace_with_observations(
            &format!("slow-{t}"),
            "chat",
            BASE + 3600 * SECOND,
            create_stamp(BASE),
            500,
            |o, g| {
                let o = o as i64;
                g.start_time = Some(BASE + 3600 * SECOND + o * SECOND);
                g.end_time = Some(BASE + 3600 * SECOND + (o + 2) * SECOND);
                g.observation_type = Some(ObservationType::Generation);
                g.model = Some("m".to_owned());
                g.level = (o % 10 == 0).then_some(Level::Error);
            },
        );
        batch.traces[0].user_id = Some("u-slow".into());
        batch.traces[0].tags = ["slow".to_owned()].into();
        store.write("p1", batch).await.expect("write");
    }
    let query = DashboardQuery {
        from: BASE,
        to: BASE + DAY,
        granularity: Granularity::Day,
        filters: DashboardFilters {
            user_id: Some("u-slow".to_owned()),
            tags: vec!["slow".to_owned()],
            ..DashboardFilters::default()
        },
    };
    let answer = dashboard::answer(store.as_ref(), "p1", &query)
        .await
        .expect("the dashboard answers with notes");
    for field in [
        "generationsOverTime",
        "generationsByModel",
        "latencyByModel",
        "errors",
    ] {
        let note = answer.notes.get(field).map(String::as_str).unwrap_or("");
        assert!(
            note.contains("SPINDLE_METRICS_QUERY_SECONDS"),
            "{field}: {:?}",
            answer.notes
        );
    }
    assert!(answer.generations_by_model.is_empty());
    assert!(answer.latency_by_model.is_empty());
    assert_eq!(answer.errors, 0);
    finish(store.as_ref(), schema.as_deref()).await;
}

/// The rolled-up metadata keys: a bad list is refused with the field named and changes
/// nothing; a good one is stored without repeats, and a viewer may read it.
async fn rolled_metadata_keys_are_checked(backend: Backend) {
    let server = server(backend).await;
    for (body, field) in [
        (json!({}), "keys"),
        (json!({"keys": "tenant"}), "keys"),
        (json!({"keys": ["tenant", 3]}), "keys[1]"),
        (json!({"keys": ["tenant", ""]}), "keys[1]"),
        (
            json!({"keys": (0..11).map(|i| format!("k{i}")).collect::<Vec<_>>()}),
            "keys",
        ),
    ] {
        let reply = server.roll_up(body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.starts_with(&format!("{field}:")),
            "{body}: {message}"
        );
    }
    assert_eq!(server.rolled_up().await["keys"], json!([]));
    let reply = server
        .roll_up(json!({"keys": ["tenant", "tier", "tenant"]}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let keys: Vec<Value> = server.rolled_up().await["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["key"].clone())
        .collect();
    assert_eq!(keys, [json!("tenant"), json!("tier")]);
    server.finish().await;
}

on_both_backends!(
    rolled_metadata_keys_are_checked,
    panels_over_a_custom_range,
    filters_narrow_the_panels_they_apply_to,
    bad_parameters_are_refused,
    the_rollups_answer_every_panel,
    a_panel_past_the_time_limit_is_a_note,
);
