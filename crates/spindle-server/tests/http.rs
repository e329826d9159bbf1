//! The public API through the whole HTTP stack (no socket), over a real SQLite store.

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use support::*;

const TS: &str = "2026-01-01T00:00:00.000Z";

#[tokio::test]
async fn health_and_probes() {
    let app = app().await;
    let health = app
        .send(
            Request::get("/api/public/health")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "OK");
    for path in ["/livez", "/readyz"] {
        let response = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn wrong_or_missing_keys_get_401_everywhere() {
    let app = app().await;
    let routes = [
        (Method::GET, "/api/public/traces"),
        (Method::GET, "/api/public/traces/x"),
        (Method::GET, "/api/public/observations"),
        (Method::GET, "/api/public/v2/observations"),
        (Method::GET, "/api/public/scores"),
        (Method::GET, "/api/public/v2/scores"),
        (Method::GET, "/api/public/sessions"),
        (Method::GET, "/api/public/metrics/daily"),
        (Method::GET, "/api/public/metrics"),
        (Method::GET, "/api/public/v2/metrics"),
        (Method::GET, "/api/public/projects"),
        (Method::POST, "/api/public/ingestion"),
        (Method::POST, "/api/public/otel/v1/traces"),
        (Method::POST, "/api/public/scores"),
        (Method::POST, "/api/public/media"),
    ];
    for (method, path) in routes {
        for authorization in [
            Some(basic(PK1, "wrong")),
            Some(basic("pk-unknown", SK1)),
            Some("Basic !!!".to_owned()),
            Some("Token abc".to_owned()),
            None,
        ] {
            let mut request = Request::builder().method(method.clone()).uri(path);
            if let Some(authorization) = &authorization {
                request = request.header(header::AUTHORIZATION, authorization);
            }
            let response = app
                .send(
                    request
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from("{}"))
                        .unwrap(),
                )
                .await;
            assert_eq!(
                response.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {authorization:?}"
            );
            assert!(response.json()["message"]
                .as_str()
                .unwrap_or_default()
                .contains("Authentication"));
        }
    }
}

#[tokio::test]
async fn over_long_public_keys_are_refused_and_unknown_keys_cost_bounded_memory() {
    let app = app().await;
    let long_key = format!("pk-lf-{}", "x".repeat(200_000));
    for authorization in [basic(&long_key, SK1), format!("Bearer {long_key}")] {
        let response = app
            .send(
                Request::get("/api/public/traces")
                    .header(header::AUTHORIZATION, authorization)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert!(
            response.json()["message"]
                .as_str()
                .unwrap_or_default()
                .contains("public key longer than 256 bytes"),
            "{}",
            response.text()
        );
    }
    assert_eq!(
        app.state.auth.cached_entries(),
        0,
        "nothing cached for them"
    );
    let unknown = spindle_server::auth::AuthService::NEGATIVE_CACHE_LIMIT + 500;
    for index in 0..unknown {
        let response = app
            .get_as("/api/public/traces", &format!("pk-lf-unknown-{index}"), SK1)
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    app.get_expect("/api/public/traces", StatusCode::OK).await;
    assert_eq!(
        app.state.auth.cached_entries(),
        spindle_server::auth::AuthService::NEGATIVE_CACHE_LIMIT + 1,
        "unknown keys are bounded, the known one is kept"
    );
}

#[tokio::test]
async fn projects_are_isolated() {
    let app = app().await;
    let batch = json!({"batch": [
        {"id": "e1", "type": "trace-create", "timestamp": TS, "body": {"id": "secret-trace", "name": "mine", "sessionId": "s1"}},
        {"id": "e2", "type": "span-create", "timestamp": TS, "body": {"id": "secret-span", "traceId": "secret-trace"}},
        {"id": "e3", "type": "score-create", "timestamp": TS, "body": {"id": "secret-score", "traceId": "secret-trace", "name": "q", "value": 1}},
    ]});
    assert_eq!(
        app.post_json("/api/public/ingestion", &batch).await.status,
        StatusCode::MULTI_STATUS
    );
    app.get_expect("/api/public/traces/secret-trace", StatusCode::OK)
        .await;
    for path in [
        "/api/public/traces/secret-trace",
        "/api/public/observations/secret-span",
        "/api/public/scores/secret-score",
        "/api/public/v2/scores/secret-score",
        "/api/public/sessions/s1",
    ] {
        assert_eq!(
            app.get_as(path, PK2, SK2).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        "/api/public/traces",
        "/api/public/observations",
        "/api/public/scores",
        "/api/public/sessions",
    ] {
        let listed = app.get_as(path, PK2, SK2).await.json();
        assert_eq!(listed["data"], json!([]), "{path}");
        assert_eq!(listed["meta"]["totalItems"], 0, "{path}");
    }
    let projects = app.get_as("/api/public/projects", PK2, SK2).await.json();
    assert_eq!(projects["data"][0]["id"], "p2");
    // Project two cannot delete project one's data either.
    let deleted = app
        .delete_as("/api/public/traces/secret-trace", PK2, SK2)
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    app.get_expect("/api/public/traces/secret-trace", StatusCode::OK)
        .await;
}

#[tokio::test]
async fn otlp_protobuf_and_json_build_the_tree() {
    let app = app().await;
    let trace_id = [7u8; 16];
    let request = export(vec![
        span(
            trace_id,
            2,
            Some(1),
            "child-gen",
            vec![
                string_attr("langfuse.observation.type", "generation"),
                string_attr("langfuse.observation.model.name", "gpt-4o"),
                string_attr(
                    "langfuse.observation.usage_details",
                    r#"{"input": 10, "output": 5, "total": 15}"#,
                ),
                string_attr("langfuse.observation.cost_details", r#"{"total": 0.5}"#),
                string_attr("langfuse.observation.level", "WARNING"),
                string_attr("user.id", "u-1"),
                string_attr("session.id", "s-1"),
            ],
        ),
        span(
            trace_id,
            1,
            None,
            "root",
            vec![
                string_attr("langfuse.observation.input", r#"{"q": "hi"}"#),
                string_attr("langfuse.observation.output", "done"),
                string_attr("langfuse.trace.metadata.tenant", "\"acme\""),
            ],
        ),
    ]);
    let response = app.post_otlp(&request).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let trace_id_hex = hex::encode(trace_id);
    let trace = app
        .get(&format!("/api/public/traces/{trace_id_hex}"))
        .await
        .json();
    assert_eq!(trace["name"], "root");
    assert_eq!(trace["userId"], "u-1");
    assert_eq!(trace["sessionId"], "s-1");
    assert_eq!(trace["input"], json!({"q": "hi"}));
    assert_eq!(trace["output"], "done");
    assert_eq!(trace["metadata"]["tenant"], "acme");
    assert_eq!(trace["totalCost"], 0.5);
    assert_eq!(trace["observations"].as_array().map(Vec::len), Some(2));
    let generation = support::observation_named(&trace, "child-gen").clone();
    assert_eq!(generation["type"], "GENERATION");
    assert_eq!(generation["parentObservationId"], "0000000000000001");
    assert_eq!(generation["model"], "gpt-4o");
    assert_eq!(
        generation["usageDetails"],
        json!({"input": 10, "output": 5, "total": 15})
    );
    assert_eq!(generation["level"], "WARNING");

    // The same kind of export as OTLP/JSON, gzipped and chunked.
    let json_body = json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "langfuse-sdk"}, "spans": [
        {"traceId": "11111111111111111111111111111111", "spanId": "2222222222222222", "name": "js-root",
         "startTimeUnixNano": "1795236542055000000", "endTimeUnixNano": "1795236542055475045", "kind": 1,
         "attributes": [{"key": "langfuse.observation.metadata.k", "value": {"intValue": 3}}], "status": {"code": 0}}
    ]}]}]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, json_body.to_string().as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = compressed
        .chunks(7)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let response = app
        .send(
            Request::post("/api/public/otel/v1/traces")
                .header(header::AUTHORIZATION, basic(PK1, SK1))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_ENCODING, "gzip")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let observation = app
        .get("/api/public/observations/2222222222222222")
        .await
        .json();
    assert_eq!(observation["name"], "js-root");
    assert_eq!(observation["metadata"]["k"], 3);
    assert_eq!(observation["startTime"], "2026-11-21T04:49:02.055Z");
}

#[tokio::test]
async fn early_rejections_close_the_connection_when_the_body_is_unread() {
    let app = app().await;
    let rejected = app
        .send(
            Request::post("/api/public/ingestion")
                .header(header::AUTHORIZATION, basic(PK1, "wrong"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"batch": []}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rejected.headers[header::CONNECTION], "close");
    let accepted = app
        .post_json("/api/public/ingestion", &json!({"batch": []}))
        .await;
    assert_eq!(accepted.status, StatusCode::MULTI_STATUS);
    assert!(
        accepted.headers.get(header::CONNECTION).is_none(),
        "a read body keeps the connection"
    );
}

#[tokio::test]
async fn ingestion_reports_207_and_keeps_good_events() {
    let app = app().await;
    let response = app
        .post_json(
            "/api/public/ingestion",
            &json!({"batch": [
                {"id": "good", "type": "trace-create", "timestamp": TS, "body": {"id": "t1", "name": "ok"}},
                {"id": "bad", "type": "span-create", "timestamp": TS, "body": {"id": "s1", "traceId": "t1", "startTime": "nope"}},
                {"id": "weird", "type": "teleport-create", "timestamp": TS, "body": {}},
            ]}),
        )
        .await;
    assert_eq!(response.status, StatusCode::MULTI_STATUS);
    let body = response.json();
    assert_eq!(body["successes"], json!([{"id": "good", "status": 201}]));
    assert_eq!(body["errors"][0]["id"], "bad");
    assert_eq!(body["errors"][0]["status"], 400);
    assert_eq!(
        body["errors"][0]["error"],
        "batch[1].body.startTime: not an ISO-8601 timestamp"
    );
    assert_eq!(
        body["errors"][1]["error"],
        "batch[2].type: unknown event type \"teleport-create\""
    );
    assert_eq!(app.get("/api/public/traces/t1").await.json()["name"], "ok");
    app.get_expect("/api/public/observations/s1", StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn scores_endpoints() {
    let app = app().await;
    let single = app
        .post_json(
            "/api/public/scores",
            &json!({"traceId": "t9", "name": "helpful", "value": 0.75}),
        )
        .await;
    assert_eq!(single.status, StatusCode::OK);
    let id = single.json()["id"].as_str().expect("id").to_owned();
    let array = app
        .post_json(
            "/api/public/scores",
            &json!([
                {"id": "a1", "traceId": "t9", "name": "cat", "value": "good", "dataType": "CATEGORICAL"},
                {"id": "a2", "sessionId": "sess", "name": "bool", "value": 1.0, "dataType": "BOOLEAN", "comment": "yes"},
            ]),
        )
        .await;
    assert_eq!(array.status, StatusCode::ACCEPTED);
    assert_eq!(array.json(), json!({"message": "Accepted"}));
    let partial = app
        .post_json(
            "/api/public/scores",
            &json!([
                {"id": "a3", "traceId": "t9", "name": "n", "value": 2},
                {"id": "a4", "traceId": "t9", "name": "tone", "value": "loud", "dataType": "NUMERIC"},
            ]),
        )
        .await;
    assert_eq!(partial.status, StatusCode::MULTI_STATUS);
    let partial = partial.json();
    assert_eq!(partial["accepted"], 1);
    assert_eq!(partial["rejected"], 1);
    assert_eq!(
        partial["errors"][0]["message"],
        "[1].value: must be a number for NUMERIC scores"
    );

    // Python 5.x updates a score by sending its id again, later, possibly in the same array.
    let repeated = app
        .post_json(
            "/api/public/scores",
            &json!([
                {"id": "again", "traceId": "t9", "name": "n", "value": 1.0, "comment": "first", "timestamp": "2026-11-21T04:46:53.687294Z"},
                {"id": "again", "traceId": "t9", "name": "n", "value": 2.0, "comment": "second", "timestamp": "2026-11-21T04:46:53.692294Z"},
                {"id": "same-time", "traceId": "t9", "name": "n", "value": 1.0, "comment": "first"},
                {"id": "same-time", "traceId": "t9", "name": "n", "value": 3.0, "comment": "last"},
            ]),
        )
        .await;
    assert_eq!(repeated.status, StatusCode::ACCEPTED);
    assert_eq!(
        app.get("/api/public/scores/again").await.json()["comment"],
        "second"
    );
    assert_eq!(
        app.get("/api/public/scores/same-time").await.json()["comment"],
        "last"
    );
    for id in ["again", "same-time"] {
        app.delete_as(&format!("/api/public/scores/{id}"), PK1, SK1)
            .await;
    }

    let fetched = app.get(&format!("/api/public/scores/{id}")).await.json();
    // The v2 path the JS SDK 5.x and the Python SDK 3.x/4.x read single scores from.
    assert_eq!(
        app.get(&format!("/api/public/v2/scores/{id}")).await.json(),
        fetched
    );
    let absent = app.get("/api/public/v2/scores/no-such-score").await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(
        absent.json(),
        json!({"error": "LangfuseNotFoundError", "message": "score \"no-such-score\" not found"})
    );
    assert_eq!(fetched["name"], "helpful");
    assert_eq!(fetched["value"], 0.75);
    assert_eq!(fetched["dataType"], "NUMERIC");
    let boolean = app.get("/api/public/scores/a2").await.json();
    assert_eq!(boolean["stringValue"], "True");
    assert_eq!(boolean["sessionId"], "sess");
    let listed = app.get("/api/public/v2/scores?name=cat").await.json();
    assert_eq!(listed["meta"]["totalItems"], 1);
    assert_eq!(listed["data"][0]["stringValue"], "good");
    let all = app.get("/api/public/scores").await.json();
    assert_eq!(all["meta"]["totalItems"], 4);

    let v3 = app
        .get("/api/public/v3/scores?traceId=t9&dataType=categorical&fields=details,subject")
        .await
        .json();
    assert_eq!(v3["data"].as_array().map(Vec::len), Some(1), "{v3}");
    assert_eq!(v3["data"][0]["value"], "good");
    assert_eq!(
        v3["data"][0]["subject"],
        json!({"kind": "trace", "id": "t9"})
    );
    assert!(v3["data"][0].get("comment").is_some());
    let boolean_v3 = app.get("/api/public/v3/scores?sessionId=sess").await.json();
    assert_eq!(boolean_v3["data"][0]["value"], true);
    let first = app.get("/api/public/v3/scores?limit=2").await.json();
    let cursor = first["meta"]["cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(&format!("/api/public/v3/scores?limit=2&cursor={cursor}"))
        .await
        .json();
    let mut ids: Vec<String> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|score| score["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    assert_eq!(second["meta"]["cursor"], Value::Null);
    for bad in [
        "/api/public/v3/scores?fields=everything",
        "/api/public/v3/scores?observationId=o",
    ] {
        app.get_expect(bad, StatusCode::BAD_REQUEST).await;
    }

    let deleted = app.delete_as("/api/public/scores/a1", PK1, SK1).await;
    assert_eq!(deleted.status, StatusCode::OK);
    app.get_expect("/api/public/scores/a1", StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn public_key_alone_may_only_create_scores_from_browsers() {
    let app = app().await;
    let bearer = format!("Bearer {PK1}");
    let preflight = app
        .send(
            Request::options("/api/public/scores")
                .header(header::ORIGIN, "https://shop.example")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    "authorization,content-type",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(preflight.status.is_success());
    assert_eq!(
        preflight.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let score = app
        .send(
            Request::post("/api/public/scores")
                .header(header::AUTHORIZATION, &bearer)
                .header(header::ORIGIN, "https://shop.example")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"traceId": "t1", "name": "user-feedback", "value": 1}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(score.status, StatusCode::OK);
    assert_eq!(
        score.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let read = app
        .send(
            Request::get("/api/public/traces")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);
    let mixed = app
        .send(
            Request::post("/api/public/ingestion")
                .header(header::AUTHORIZATION, &bearer)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"batch": [
                        {"id": "s", "type": "score-create", "timestamp": TS, "body": {"traceId": "t1", "name": "thumbs", "value": 0}},
                        {"id": "t", "type": "trace-create", "timestamp": TS, "body": {"id": "sneaky"}},
                    ]})
                    .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(mixed.status, StatusCode::MULTI_STATUS);
    let mixed = mixed.json();
    assert_eq!(mixed["successes"], json!([{"id": "s", "status": 201}]));
    assert_eq!(mixed["errors"][0]["status"], 403);
    app.get_expect("/api/public/traces/sneaky", StatusCode::NOT_FOUND)
        .await;
    assert_eq!(
        app.get("/api/public/scores?name=thumbs").await.json()["meta"]["totalItems"],
        1
    );
}

#[tokio::test]
async fn bad_input_gets_precise_4xx_and_the_server_keeps_serving() {
    let app = app().await;
    /// A request of the first project's key pair with these headers.
    fn authorized(method: &str, path: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, basic(PK1, SK1));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body).unwrap()
    }
    let otlp_with = |headers: &[(&str, &str)], body: Vec<u8>| {
        authorized(
            "POST",
            "/api/public/otel/v1/traces",
            headers,
            Body::from(body),
        )
    };
    let otlp =
        |content_type: &str, body: Vec<u8>| otlp_with(&[("content-type", content_type)], body);
    let ingestion = |body: &'static str| {
        authorized(
            "POST",
            "/api/public/ingestion",
            &[("content-type", "application/json")],
            Body::from(body),
        )
    };
    let get = |path: &str| authorized("GET", path, &[], Body::empty());
    let valid = {
        use prost::Message;
        export(vec![span([1u8; 16], 1, None, "x", Vec::new())]).encode_to_vec()
    };
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (otlp("application/x-protobuf", valid[..valid.len() / 2].to_vec()), StatusCode::BAD_REQUEST, "body: invalid OTLP protobuf"),
        (otlp("application/json", b"{\"resourceSpans\": [".to_vec()), StatusCode::BAD_REQUEST, "body: invalid JSON"),
        (otlp("text/plain", b"hello".to_vec()), StatusCode::BAD_REQUEST, "Invalid content type"),
        (
            otlp("application/json", json!({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": "2222222222222222"}]}]}]}).to_string().into_bytes()),
            StatusCode::BAD_REQUEST,
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex characters",
        ),
        (
            otlp("application/json", json!({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "11111111111111111111111111111111", "spanId": "2222222222222222", "attributes": {"a": 1}}]}]}]}).to_string().into_bytes()),
            StatusCode::BAD_REQUEST,
            "resourceSpans[0].scopeSpans[0].spans[0].attributes: expected an array",
        ),
        (ingestion("{\"batch\": 5}"), StatusCode::BAD_REQUEST, "batch: expected an array"),
        (ingestion("not json"), StatusCode::BAD_REQUEST, "body: invalid JSON"),
        (
            otlp_with(&[("content-type", "application/x-protobuf"), ("content-encoding", "gzip")], valid.clone()),
            StatusCode::BAD_REQUEST,
            "body: invalid gzip data",
        ),
        (
            otlp_with(&[("content-type", "application/x-protobuf"), ("x-langfuse-ingestion-version", "9")], valid.clone()),
            StatusCode::BAD_REQUEST,
            "x-langfuse-ingestion-version",
        ),
        (get("/api/public/traces?limit=1000"), StatusCode::BAD_REQUEST, "limit: must be between 1 and 100"),
        (get("/api/public/traces?fromTimestamp=yesterday"), StatusCode::BAD_REQUEST, "fromTimestamp: not an ISO-8601 timestamp"),
        (get("/api/public/traces?filter=%5B%7B%22type%22%3A%22string%22%7D%5D"), StatusCode::BAD_REQUEST, "filter[0].column: is required"),
    ];
    for (request, status, message) in cases {
        let description = format!("{} {}", request.method(), request.uri());
        let response = app.send(request).await;
        assert_eq!(
            response.status,
            status,
            "{description}: {}",
            String::from_utf8_lossy(&response.body)
        );
        let body = response.json();
        let text = body["message"].as_str().unwrap_or_default();
        assert!(
            text.contains(message),
            "{description}: expected {message:?} in {text:?}"
        );
    }
    // A 50 MB body is refused with 413, and the server still answers.
    let huge = vec![b'x'; 50 * 1024 * 1024];
    let response = app.send(otlp("application/x-protobuf", huge)).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    let response = app.send(otlp("application/x-protobuf", valid)).await;
    assert_eq!(response.status, StatusCode::OK);
}

#[tokio::test]
async fn a_ten_thousand_event_batch_is_stored_whole() {
    let app = app().await;
    let events: Vec<Value> = (0..10_000)
        .map(|index| {
            json!({"id": format!("e{index}"), "type": "span-create", "timestamp": TS,
                   "body": {"id": format!("s{index}"), "traceId": format!("t{}", index / 10), "name": "step", "input": {"i": index}}})
        })
        .collect();
    let response = app
        .post_json("/api/public/ingestion", &json!({"batch": events}))
        .await;
    assert_eq!(response.status, StatusCode::MULTI_STATUS);
    let body = response.json();
    assert_eq!(body["successes"].as_array().map(Vec::len), Some(10_000));
    assert_eq!(body["errors"], json!([]));
    assert_eq!(
        app.get("/api/public/observations?limit=1").await.json()["meta"]["totalItems"],
        10_000
    );
    assert_eq!(
        app.get("/api/public/traces?limit=1").await.json()["meta"]["totalItems"],
        1_000
    );
}

#[tokio::test]
async fn overload_answers_503_with_retry_after_and_loses_nothing_acknowledged() {
    let app = std::sync::Arc::new(
        app_with(Options {
            write_queue: 1,
            ..Options::default()
        })
        .await,
    );
    let mut tasks = Vec::new();
    for writer in 0..48 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let events: Vec<Value> = (0..200)
                .map(|index| json!({"id": format!("e{index}"), "type": "span-create", "timestamp": TS,
                    "body": {"id": format!("w{writer}-s{index}"), "traceId": format!("w{writer}"), "input": "x".repeat(200)}}))
                .collect();
            let response = app.post_json("/api/public/ingestion", &json!({"batch": events})).await;
            (writer, response.status, response.headers.get(header::RETRY_AFTER).cloned())
        }));
    }
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (writer, status, retry_after) = task.await.unwrap();
        match status {
            StatusCode::MULTI_STATUS => acknowledged.push(writer),
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                assert!(retry_after.is_some(), "overload answers carry Retry-After");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        refused > 0,
        "a queue of one under 48 concurrent writers must refuse some"
    );
    assert!(!acknowledged.is_empty());
    for writer in acknowledged {
        let trace = app.get(&format!("/api/public/traces/w{writer}")).await;
        assert_eq!(trace.status, StatusCode::OK);
        assert_eq!(
            trace.json()["observations"].as_array().map(Vec::len),
            Some(200)
        );
    }
}

#[tokio::test]
async fn metrics_endpoint_counts_ingestion() {
    let app = app().await;
    app.post_json(
        "/api/public/ingestion",
        &json!({"batch": [{"id": "e", "type": "trace-create", "timestamp": TS, "body": {"id": "t"}}]}),
    )
    .await;
    app.get_as("/api/public/traces", PK1, "wrong").await;
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains("spindle_ingested_events_total{endpoint=\"ingestion\"} 1"),
        "{text}"
    );
    assert!(text.contains("spindle_write_queue_depth"));
    assert!(text.contains("spindle_commit_latency_seconds_count"));
    assert!(text.contains("spindle_rejected_requests_total{endpoint=\"/api/public/traces\",reason=\"unauthenticated\"} 1"), "{text}");
    assert!(text.contains("spindle_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn media_upload_flow() {
    use base64::Engine;
    use sha2::Digest;
    let app = app().await;
    let bytes = b"\x89PNG fake image bytes".to_vec();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    let created = app
        .post_json(
            "/api/public/media",
            &json!({"traceId": "t", "observationId": "o", "contentType": "image/png",
                    "contentLength": bytes.len(), "sha256Hash": hash, "field": "input"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let created = created.json();
    let media_id = created["mediaId"].as_str().unwrap().to_owned();
    assert_eq!(media_id, hash.replace('+', "-").replace('/', "_")[..22]);
    let upload_url = created["uploadUrl"]
        .as_str()
        .expect("upload url")
        .to_owned();
    let path = upload_url.trim_start_matches("http://test");
    let wrong = app
        .send(Request::put(path).body(Body::from("other bytes")).unwrap())
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let put = app
        .send(
            Request::put(path)
                .header(header::CONTENT_TYPE, "image/png")
                .body(Body::from(bytes.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let patch = app
        .send(
            Request::patch(format!("/api/public/media/{media_id}"))
                .header(header::AUTHORIZATION, basic(PK1, SK1))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"uploadedAt": "2026-11-21T04:47:31.121961Z", "uploadHttpStatus": 200, "uploadHttpError": "", "uploadTimeMs": 3}).to_string()))
                .unwrap(),
        )
        .await;
    assert!(patch.status.is_success());
    let again = app
        .post_json(
            "/api/public/media",
            &json!({"contentType": "image/png", "contentLength": bytes.len(), "sha256Hash": hash, "field": "input"}),
        )
        .await
        .json();
    assert_eq!(
        again["uploadUrl"],
        Value::Null,
        "already uploaded media is not uploaded twice"
    );
    let described = app
        .get(&format!("/api/public/media/{media_id}"))
        .await
        .json();
    assert!(described["urlExpiry"].as_str().is_some(), "{described}");
    let url = described["url"]
        .as_str()
        .expect("download url")
        .trim_start_matches("http://test")
        .to_owned();
    // The download URL works without credentials, like a presigned URL...
    let content = app
        .send(Request::get(&url).body(Body::empty()).unwrap())
        .await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.body, bytes);
    assert_eq!(content.headers[header::CONTENT_TYPE], "image/png");
    // ...but not with a forged token.
    let forged = url.replace("token=", "token=00");
    let denied = app
        .send(Request::get(&forged).body(Body::empty()).unwrap())
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}
