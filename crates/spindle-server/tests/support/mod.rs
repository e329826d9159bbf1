//! Shared test support: an app over a real SQLite store in a temp dir, two projects with
//! keys, and helpers to send requests through the whole HTTP stack without a socket.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use prost::Message;
use serde_json::{json, Value};
use spindle_ingest::otlp::proto;
use spindle_server::bootstrap::insert_key;
use spindle_server::state::{AppState, Limits};
use spindle_store::accounts::{hash_password, Accounts, Membership, Role, User};
use spindle_store::datasets::Datasets;
use spindle_store::prompts::Prompts;
use spindle_store::reviews::Reviews;
use spindle_store::score_configs::ScoreConfigs;
use spindle_store::secret::ServerSecret;
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
    let sqlite = open_sqlite(dir.path(), options.write_queue);
    let store: Arc<dyn Store> = sqlite.clone();
    let secret = spindle_store::secret::ServerSecret::random();
    for (project, public_key, secret_key) in [("p1", PK1, SK1), ("p2", PK2, SK2)] {
        add_project(store.as_ref(), project, project).await;
        insert_key(store.as_ref(), &secret, project, public_key, secret_key, 0)
            .await
            .expect("key");
    }
    let state = AppState::new(
        (
            store.clone(),
            sqlite.clone(),
            sqlite.clone(),
            sqlite.clone(),
            sqlite.clone(),
            sqlite,
        ),
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

/// A SQLite store in `dir` without synced commits, its write queue `queue_capacity` long.
pub fn open_sqlite(dir: &std::path::Path, queue_capacity: usize) -> Arc<SqliteStore> {
    let options = SqliteOptions {
        queue_capacity,
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    Arc::new(SqliteStore::open(dir, options).expect("open store"))
}

/// Project `id` named `name`, in organization `org`.
pub async fn add_project(store: &dyn Store, id: &str, name: &str) {
    let organization = Organization {
        id: "org".into(),
        name: "Org".into(),
    };
    store.upsert_organization(&organization).await.expect("org");
    store
        .upsert_project(&Project {
            id: id.into(),
            name: name.into(),
            organization,
            retention_days: None,
            created_at: 0,
        })
        .await
        .expect("project");
}

/// A user with this password, created at `created_at`.
pub async fn add_user(
    accounts: &dyn Accounts,
    id: &str,
    email: &str,
    password: &str,
    is_admin: bool,
    created_at: i64,
) {
    let user = User {
        id: id.into(),
        email: email.into(),
        name: None,
        password_hash: Some(hash_password(password).expect("hash")),
        is_admin,
        created_at,
    };
    accounts.create_user(&user).await.expect("user");
}

/// Gives the user a role of their own in the project.
pub async fn add_membership(accounts: &dyn Accounts, user_id: &str, project_id: &str, role: Role) {
    let membership = Membership {
        user_id: user_id.into(),
        project_id: project_id.into(),
        role,
    };
    accounts
        .set_membership(&membership, 1)
        .await
        .expect("membership");
}

/// The app's state over these stores with this server secret, bodies of at most 1 MiB and 8
/// ingestion requests at once, its public URL `http://test`.
pub fn app_state(
    store: Arc<dyn Store>,
    accounts: Arc<dyn Accounts>,
    prompts: Arc<dyn Prompts>,
    datasets: Arc<dyn Datasets>,
    reviews: Arc<dyn Reviews>,
    score_configs: Arc<dyn ScoreConfigs>,
    secret: ServerSecret,
) -> AppState {
    let limits = Limits {
        max_body_bytes: 1 << 20,
    };
    AppState::new(
        (store, accounts, prompts, datasets, reviews, score_configs),
        limits,
        8,
        "http://test",
    )
    .with_server_secret(secret)
}

/// [`app_state`] over one SQLite store in every role.
pub fn sqlite_app_state(sqlite: &Arc<SqliteStore>, secret: ServerSecret) -> AppState {
    app_state(
        sqlite.clone(),
        sqlite.clone(),
        sqlite.clone(),
        sqlite.clone(),
        sqlite.clone(),
        sqlite.clone(),
        secret,
    )
}

/// The UI's sign-in, with the header that marks the app's own requests.
pub fn sign_in_request(email: &str, password: &str) -> Request<Body> {
    Request::post("/api/ui/auth/sign-in")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-spindle-csrf", "1")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .expect("request")
}

/// `GET path` with this session cookie.
pub fn cookie_get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// A JSON write of the UI with this session cookie, and the CSRF token when there is one.
pub fn ui_write(
    method: &str,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: &Value,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(csrf) = csrf {
        request = request.header("x-spindle-csrf", csrf);
    }
    request.body(Body::from(body.to_string())).expect("request")
}

/// The UI API as a signed-in user, for the test apps that hold a router.
pub trait UiClient {
    fn router(&self) -> &Router;

    /// `method path` as `session` (the cookie and the CSRF token of [`ui_session`]): a `GET`
    /// with the cookie, any other method a JSON write of `body` with both.
    async fn call(
        &self,
        session: &(String, String),
        method: &str,
        path: &str,
        body: Value,
    ) -> Response {
        let request = if method == "GET" {
            cookie_get(path, &session.0)
        } else {
            ui_write(method, path, &session.0, Some(&session.1), &body)
        };
        send(self.router(), request).await
    }

    /// Like [`UiClient::call`]; fails unless the answer has `status`. Returns it.
    async fn expect(
        &self,
        session: &(String, String),
        method: &str,
        path: &str,
        body: Value,
        status: StatusCode,
    ) -> Response {
        let reply = self.call(session, method, path, body).await;
        expect_status(reply, method, path, status)
    }
}

/// Signs in through `router`; the session cookie and the CSRF token.
pub async fn ui_session(router: &Router, sign_in: Request<Body>) -> (String, String) {
    let reply = send(router, sign_in).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let cookie = reply.cookie();
    let me = send(router, cookie_get("/api/ui/me", &cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    let csrf = me.json()["csrfToken"].as_str().expect("csrf").to_owned();
    (cookie, csrf)
}

/// Sends a batch of ingestion events with this key pair; fails unless it is accepted.
pub async fn ingest_as(router: &Router, public_key: &str, secret_key: &str, batch: Value) {
    let reply = send(
        router,
        Request::post("/api/public/ingestion")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, basic(public_key, secret_key))
            .body(Body::from(json!({ "batch": batch }).to_string()))
            .expect("request"),
    )
    .await;
    assert!(reply.status.is_success(), "{}", reply.text());
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

    /// Fails unless the body mentions `text` (a refusal naming its field or reason).
    pub fn assert_mentions(&self, text: &str) {
        assert!(self.text().contains(text), "{}", self.text());
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

    /// GETs with project 1's keys; fails unless the answer has `status`. Returns it.
    pub async fn get_expect(&self, path: &str, status: StatusCode) -> Response {
        expect_status(self.get(path).await, "GET", path, status)
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

/// The `key` text of each item of a list answer's `data`, where it has one.
pub fn texts_of<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|item| item[key].as_str())
        .collect()
}

/// The item of the array `value[list]` whose `field` is `wanted`; fails unless there is one.
pub fn item_where<'a>(value: &'a Value, list: &str, field: &str, wanted: &str) -> &'a Value {
    value[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list:?} array in {value}"))
        .iter()
        .find(|item| item[field] == wanted)
        .unwrap_or_else(|| panic!("no {list:?} item with {field} {wanted:?} in {value}"))
}

/// The `field` text of each item of the array `value[list]`; fails unless each has one.
pub fn texts_in<'a>(value: &'a Value, list: &str, field: &str) -> Vec<&'a str> {
    value[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list:?} array in {value}"))
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field} text in {item}"))
        })
        .collect()
}

/// The observation named `name` in a trace of the public API's shape.
pub fn observation_named<'a>(trace: &'a Value, name: &str) -> &'a Value {
    item_where(trace, "observations", "name", name)
}

/// An app served over a real socket from a runtime of its own, for clients that speak HTTP
/// (the Rust SDK).
pub struct SocketServer {
    pub runtime: tokio::runtime::Runtime,
    pub app: TestApp,
    pub base_url: String,
}

impl SocketServer {
    /// Serves a new app, its router wrapped by `wrap`, on a free local port.
    pub fn start(wrap: impl FnOnce(Router) -> Router + Send + 'static) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (app, base_url) = runtime.block_on(async {
            let app = app().await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let address = listener.local_addr().expect("address");
            let router = wrap(app.router.clone());
            tokio::spawn(async move {
                axum::serve(listener, router).await.ok();
            });
            (app, format!("http://{address}"))
        });
        SocketServer {
            runtime,
            app,
            base_url,
        }
    }

    /// A new SDK client (with its own prompt cache) of the first project's keys.
    pub fn client(&self) -> spindle::Client {
        sdk_client(&self.base_url)
    }

    /// `GET path` through the app with the first project's keys; fails unless it answers 200.
    pub fn get_ok(&self, path: &str) -> Value {
        let response = self.runtime.block_on(self.app.get(path));
        assert_eq!(
            response.status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&response.body)
        );
        response.json()
    }
}

/// A new SDK client of the first project's keys for the server at `base_url`.
pub fn sdk_client(base_url: &str) -> spindle::Client {
    spindle::Client::builder()
        .public_key(PK1)
        .secret_key(SK1)
        .base_url(base_url)
        .build()
        .expect("SDK client")
}

/// POSTs JSON with project 1's keys; fails unless the answer is 200. Returns its body.
pub async fn post_ok(app: &TestApp, path: &str, body: Value) -> Value {
    let response = app.post_json(path, &body).await;
    assert_eq!(response.status.as_u16(), 200, "{path}: {}", response.text());
    response.json()
}

/// GETs with project 1's keys; fails unless the answer is 200. Returns its body.
pub async fn get_ok(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status.as_u16(), 200, "{path}: {}", response.text());
    response.json()
}

/// POSTs JSON with project 1's keys; fails unless the answer is the error `status` whose
/// message starts with `message_start`.
pub async fn post_error(app: &TestApp, path: &str, body: Value, status: u16, message_start: &str) {
    expect_error(app.post_json(path, &body).await, status, message_start).await;
}

/// GETs with project 1's keys; fails unless the answer is the error `status` whose message
/// starts with `message_start`.
pub async fn get_error(app: &TestApp, path: &str, status: u16, message_start: &str) {
    expect_error(app.get(path).await, status, message_start).await;
}

/// Fails unless `reply`, the answer to `method path`, has `status`. Returns it.
pub fn expect_status(reply: Response, method: &str, path: &str, status: StatusCode) -> Response {
    assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
    reply
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
