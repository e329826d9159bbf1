//! Shared test support: an app over a real SQLite store in a temp dir, two projects with
//! keys, and helpers to send requests through the whole HTTP stack without a socket.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use prost::Message;
use serde_json::Value;
use spindle_ingest::otlp::proto;
use spindle_server::bootstrap::insert_key;
use spindle_server::state::{AppState, Limits};
use spindle_store::{Organization, Project, Store};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;
use tower::ServiceExt;

pub const PK1: &str = "pk-lf-one";
pub const SK1: &str = "sk-lf-one";
pub const PK2: &str = "pk-lf-two";
pub const SK2: &str = "sk-lf-two";

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

pub struct Options {
    pub write_queue: usize,
    pub max_body_bytes: usize,
    pub max_inflight: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            write_queue: 64,
            max_body_bytes: 20 * 1024 * 1024,
            max_inflight: 64,
        }
    }
}

pub async fn app() -> TestApp {
    app_with(Options::default()).await
}

pub async fn app_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Arc::new(
        SqliteStore::open(
            dir.path(),
            SqliteOptions {
                queue_capacity: options.write_queue,
                synchronous_full: false,
                ..SqliteOptions::default()
            },
        )
        .expect("open store"),
    );
    let store: Arc<dyn Store> = sqlite.clone();
    let secret = spindle_store::secret::ServerSecret::random();
    for (project, public_key, secret_key) in [("p1", PK1, SK1), ("p2", PK2, SK2)] {
        let organization = Organization {
            id: "org".into(),
            name: "Org".into(),
        };
        store.upsert_organization(&organization).await.expect("org");
        store
            .upsert_project(&Project {
                id: project.into(),
                name: project.into(),
                organization,
                retention_days: None,
                created_at: 0,
            })
            .await
            .expect("project");
        insert_key(store.as_ref(), &secret, project, public_key, secret_key, 0)
            .await
            .expect("key");
    }
    let state = AppState::new(
        store.clone(),
        sqlite.clone(),
        sqlite.clone(),
        sqlite,
        Limits {
            max_body_bytes: options.max_body_bytes,
        },
        options.max_inflight,
        "http://test",
    )
    .with_server_secret(secret);
    TestApp {
        router: spindle_server::app(state.clone()),
        state,
        store,
        _dir: dir,
    }
}

pub fn basic(public_key: &str, secret_key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{public_key}:{secret_key}"))
    )
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "response is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `name=value` part of the cookie this response sets.
    pub fn cookie(&self) -> String {
        let set_cookie = self
            .headers
            .get(header::SET_COOKIE)
            .expect("a Set-Cookie header")
            .to_str()
            .expect("ascii");
        set_cookie.split(';').next().expect("pair").to_owned()
    }
}

/// Sends a request through the whole HTTP stack, without a socket.
pub async fn send(router: &Router, request: Request<Body>) -> Response {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Response {
        status,
        headers,
        body,
    }
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Response {
        send(&self.router, request).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(path, PK1, SK1).await
    }

    pub async fn get_as(&self, path: &str, public_key: &str, secret_key: &str) -> Response {
        self.send_empty(Request::get(path), public_key, secret_key)
            .await
    }

    pub async fn delete_as(&self, path: &str, public_key: &str, secret_key: &str) -> Response {
        self.send_empty(Request::delete(path), public_key, secret_key)
            .await
    }

    /// Sends a request without a body, authenticated with the key pair.
    async fn send_empty(
        &self,
        request: axum::http::request::Builder,
        public_key: &str,
        secret_key: &str,
    ) -> Response {
        self.send(
            request
                .header(header::AUTHORIZATION, basic(public_key, secret_key))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.post_json_as(path, body, PK1, SK1).await
    }

    pub async fn post_json_as(
        &self,
        path: &str,
        body: &Value,
        public_key: &str,
        secret_key: &str,
    ) -> Response {
        self.send(
            Request::post(path)
                .header(header::AUTHORIZATION, basic(public_key, secret_key))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await
    }

    pub async fn post_otlp(&self, request: &proto::ExportTraceServiceRequest) -> Response {
        self.send(
            Request::post("/api/public/otel/v1/traces")
                .header(header::AUTHORIZATION, basic(PK1, SK1))
                .header(header::CONTENT_TYPE, "application/x-protobuf")
                .body(Body::from(request.encode_to_vec()))
                .expect("request"),
        )
        .await
    }
}

pub fn string_attr(key: &str, value: &str) -> proto::KeyValue {
    proto::KeyValue {
        key: key.into(),
        value: Some(proto::AnyValue {
            value: Some(proto::any_value::Value::StringValue(value.into())),
        }),
    }
}

/// A span as the Python SDK sends it.
pub fn span(
    trace_id: [u8; 16],
    span_id: u64,
    parent: Option<u64>,
    name: &str,
    attributes: Vec<proto::KeyValue>,
) -> proto::Span {
    proto::Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_be_bytes().to_vec(),
        parent_span_id: parent
            .map(|id| id.to_be_bytes().to_vec())
            .unwrap_or_default(),
        trace_state: String::new(),
        name: name.into(),
        kind: 1,
        start_time_unix_nano: 1_700_000_000_000_000_000 + span_id * 1_000_000,
        end_time_unix_nano: 1_700_000_000_000_000_000 + span_id * 1_000_000 + 500_000,
        attributes,
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        status: None,
        flags: 256,
    }
}

pub fn export(spans: Vec<proto::Span>) -> proto::ExportTraceServiceRequest {
    proto::ExportTraceServiceRequest {
        resource_spans: vec![proto::ResourceSpans {
            resource: Some(proto::Resource {
                attributes: vec![string_attr("service.name", "test")],
                dropped_attributes_count: 0,
            }),
            scope_spans: vec![proto::ScopeSpans {
                scope: Some(proto::InstrumentationScope {
                    name: "langfuse-sdk".into(),
                    version: "5.0.4".into(),
                    attributes: Vec::new(),
                    dropped_attributes_count: 0,
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Asserts an error answer: its status, and a message that starts with `message_start`.
pub async fn expect_error(response: Response, status: u16, message_start: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    let body = response.json();
    let message = body["message"].as_str().expect("a message");
    assert!(
        message.starts_with(message_start),
        "{message:?} should start with {message_start:?}"
    );
}
