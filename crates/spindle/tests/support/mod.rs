//! Test support: an in-process OTLP/HTTP receiver (axum on 127.0.0.1:0) that gunzips and decodes
//! protobuf exports, records spans, scores and headers, and can answer 503 a number of times;
//! it also keeps datasets, items and run items in memory, answering the dataset API's calls in
//! its shapes.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use prost::Message;
use serde_json::{json, Value};
use spindle::__private::otlp;

/// The propagated attributes the trace tests set: user, session, two metadata entries, version,
/// tags and trace name.
pub fn propagated_attributes() -> spindle::PropagatedAttributes {
    spindle::PropagatedAttributes::new()
        .user_id("user-42")
        .session_id("sess-7")
        .metadata("tenant", "acme")
        .metadata("n", "3")
        .version("app-v2")
        .tags(["t1", "t2"])
        .trace_name("my-trace-name")
}

/// Starts the generation `manual-child-gen` under `parent`, sets model `gpt-x` and output
/// `m-out`, and ends it.
pub fn manual_generation(parent: &spindle::Observation) -> spindle::Observation {
    let generation = parent
        .child("manual-child-gen")
        .as_type(spindle::ObservationType::Generation)
        .start();
    generation.update(
        spindle::ObservationUpdate::new()
            .model("gpt-x")
            .output("m-out"),
    );
    generation.end();
    generation
}

/// Every observation type but `generation` and `event`, in the order the tests create them.
pub const SPAN_KINDS: [spindle::ObservationType; 8] = [
    spindle::ObservationType::Span,
    spindle::ObservationType::Agent,
    spindle::ObservationType::Tool,
    spindle::ObservationType::Chain,
    spindle::ObservationType::Retriever,
    spindle::ObservationType::Embedding,
    spindle::ObservationType::Evaluator,
    spindle::ObservationType::Guardrail,
];

/// One span as the receiver decoded it; attribute values are tagged like the capture files
/// (`{"string": …}`, `{"bool": …}`, `{"int": …}`, `{"array": […]}`).
#[derive(Clone, Debug)]
pub struct RecordedSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    pub kind: i32,
    pub flags: u32,
    pub start: u64,
    pub end: u64,
    pub status_code: i32,
    pub status_message: String,
    pub attributes: BTreeMap<String, Value>,
    pub resource: BTreeMap<String, Value>,
    pub scope_name: String,
    pub scope_attributes: BTreeMap<String, Value>,
}

impl RecordedSpan {
    /// The string value of an attribute.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.attributes.get(key)?.get("string")?.as_str()
    }

    /// The attribute decoded as JSON text.
    pub fn json(&self, key: &str) -> Option<Value> {
        serde_json::from_str(self.string(key)?).ok()
    }
}

/// Headers of one request.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub status: u16,
}

#[derive(Default)]
struct Recorded {
    spans: Mutex<Vec<RecordedSpan>>,
    scores: Mutex<Vec<Value>>,
    requests: Mutex<Vec<RecordedRequest>>,
    failures_left: AtomicUsize,
    retry_after: Mutex<Option<String>>,
    /// While set, trace requests wait before being handled.
    paused: std::sync::atomic::AtomicBool,
    /// Trace requests that reached the handler.
    arrived: AtomicUsize,
    /// Datasets by name.
    datasets: Mutex<BTreeMap<String, Value>>,
    /// Dataset items, in creation order.
    dataset_items: Mutex<Vec<Value>>,
    /// The bodies of the run item requests.
    run_items: Mutex<Vec<Value>>,
}

/// A running receiver; it stops with the test process.
pub struct Receiver {
    pub base_url: String,
    recorded: Arc<Recorded>,
}

fn to_tagged(value: &otlp::AnyValue) -> Value {
    use otlp::any_value::Value as V;
    match &value.value {
        Some(V::StringValue(text)) => json!({"string": text}),
        Some(V::BoolValue(flag)) => json!({"bool": flag}),
        Some(V::IntValue(number)) => json!({"int": number}),
        Some(V::DoubleValue(number)) => json!({"double": number}),
        Some(V::ArrayValue(array)) => {
            json!({"array": array.values.iter().map(to_tagged).collect::<Vec<_>>()})
        }
        // the SDK sends neither key-value lists nor bytes
        Some(V::KvlistValue(_) | V::BytesValue(_)) | None => Value::Null,
    }
}

fn to_map(attributes: &[otlp::KeyValue]) -> BTreeMap<String, Value> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(to_tagged).unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

impl Recorded {
    fn should_fail(&self) -> bool {
        self.failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }

    fn record_request(&self, path: &str, headers: &HeaderMap, status: StatusCode) {
        self.requests.lock().unwrap().push(RecordedRequest {
            path: path.to_owned(),
            headers: header_map(headers),
            status: status.as_u16(),
        });
    }
}

async fn traces(
    State(recorded): State<Arc<Recorded>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = "/api/public/otel/v1/traces";
    recorded.arrived.fetch_add(1, Ordering::SeqCst);
    while recorded.paused.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if recorded.should_fail() {
        recorded.record_request(path, &headers, StatusCode::SERVICE_UNAVAILABLE);
        let retry_after = recorded.retry_after.lock().unwrap().clone();
        return match retry_after {
            Some(seconds) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", seconds)],
                "{}",
            )
                .into_response(),
            None => (StatusCode::SERVICE_UNAVAILABLE, "{}").into_response(),
        };
    }
    let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    let raw = if gzipped {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut decoded)
            .expect("valid gzip");
        decoded
    } else {
        body.to_vec()
    };
    let request = otlp::ExportTraceServiceRequest::decode(&raw[..]).expect("valid protobuf");
    let mut decoded = Vec::new();
    for resource_spans in &request.resource_spans {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|r| to_map(&r.attributes))
            .unwrap_or_default();
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans.scope.clone().unwrap_or_default();
            for span in &scope_spans.spans {
                let status = span.status.clone().unwrap_or_default();
                decoded.push(RecordedSpan {
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: hex::encode(&span.parent_span_id),
                    name: span.name.clone(),
                    kind: span.kind,
                    flags: span.flags,
                    start: span.start_time_unix_nano,
                    end: span.end_time_unix_nano,
                    status_code: status.code,
                    status_message: status.message,
                    attributes: to_map(&span.attributes),
                    resource: resource.clone(),
                    scope_name: scope.name.clone(),
                    scope_attributes: to_map(&scope.attributes),
                });
            }
        }
    }
    recorded.spans.lock().unwrap().extend(decoded);
    recorded.record_request(path, &headers, StatusCode::OK);
    (StatusCode::OK, "{}").into_response()
}

async fn scores(
    State(recorded): State<Arc<Recorded>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let path = "/api/public/scores";
    if recorded.should_fail() {
        recorded.record_request(path, &headers, StatusCode::SERVICE_UNAVAILABLE);
        return (StatusCode::SERVICE_UNAVAILABLE, "{}");
    }
    let items: Vec<Value> = serde_json::from_slice(&body).expect("a json array of scores");
    recorded.scores.lock().unwrap().extend(items);
    recorded.record_request(path, &headers, StatusCode::ACCEPTED);
    (StatusCode::ACCEPTED, r#"{"message":"Accepted"}"#)
}

async fn create_dataset(
    State(recorded): State<Arc<Recorded>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let name = body["name"].as_str().expect("a dataset name").to_owned();
    let dataset = json!({
        "id": format!("ds-{name}"), "name": name, "description": body["description"],
        "metadata": body["metadata"], "inputSchema": body["inputSchema"],
        "expectedOutputSchema": body["expectedOutputSchema"], "projectId": "p",
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"
    });
    recorded
        .datasets
        .lock()
        .unwrap()
        .insert(name, dataset.clone());
    axum::Json(dataset)
}

async fn get_dataset(State(recorded): State<Arc<Recorded>>, Path(name): Path<String>) -> Response {
    match recorded.datasets.lock().unwrap().get(&name) {
        Some(dataset) => axum::Json(dataset.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": format!("dataset {name} not found")})),
        )
            .into_response(),
    }
}

async fn create_dataset_item(
    State(recorded): State<Arc<Recorded>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let dataset_name = body["datasetName"].as_str().expect("a dataset name");
    let mut items = recorded.dataset_items.lock().unwrap();
    let id = body["id"]
        .as_str()
        .map_or_else(|| format!("item-{}", items.len()), str::to_owned);
    let item = json!({
        "id": id, "datasetId": format!("ds-{dataset_name}"), "datasetName": dataset_name,
        "status": body.get("status").cloned().unwrap_or(json!("ACTIVE")),
        "input": body["input"], "expectedOutput": body["expectedOutput"],
        "metadata": body["metadata"], "sourceTraceId": body["sourceTraceId"],
        "sourceObservationId": body["sourceObservationId"],
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"
    });
    items.retain(|stored| stored["id"] != item["id"]);
    items.push(item.clone());
    axum::Json(item)
}

async fn list_dataset_items(
    State(recorded): State<Arc<Recorded>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> axum::Json<Value> {
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let (page, limit) = (number("page", 1), number("limit", 50));
    let items: Vec<Value> = recorded
        .dataset_items
        .lock()
        .unwrap()
        .iter()
        .filter(|item| {
            Some(&item["datasetName"]) == query.get("datasetName").map(|n| json!(n)).as_ref()
        })
        .cloned()
        .collect();
    let total = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    axum::Json(json!({
        "data": data,
        "meta": {"page": page, "limit": limit, "totalItems": total,
                 "totalPages": total.div_ceil(limit)}
    }))
}

async fn create_run_item(
    State(recorded): State<Arc<Recorded>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let mut run_items = recorded.run_items.lock().unwrap();
    run_items.push(body.clone());
    axum::Json(json!({
        "id": format!("run-item-{}", run_items.len()),
        "datasetRunId": format!("run-{}", body["runName"].as_str().unwrap_or_default()),
        "datasetRunName": body["runName"], "datasetItemId": body["datasetItemId"],
        "traceId": body["traceId"], "observationId": body["observationId"],
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"
    }))
}

impl Receiver {
    /// Starts a receiver on its own thread that answers 503 to the first `failures` requests.
    pub fn start(failures: usize) -> Self {
        let recorded = Arc::new(Recorded::default());
        recorded.failures_left.store(failures, Ordering::SeqCst);
        let app = Router::new()
            .route("/api/public/otel/v1/traces", post(traces))
            .route("/api/public/scores", post(scores))
            .route("/api/public/v2/datasets", post(create_dataset))
            .route("/api/public/v2/datasets/{name}", get(get_dataset))
            .route(
                "/api/public/dataset-items",
                post(create_dataset_item).get(list_dataset_items),
            )
            .route("/api/public/dataset-run-items", post(create_run_item))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(recorded.clone());
        let (address_sender, address_receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("receiver runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                address_sender
                    .send(listener.local_addr().expect("address"))
                    .expect("send address");
                axum::serve(listener, app).await.expect("serve");
            });
        });
        let address = address_receiver.recv().expect("receiver address");
        Self {
            base_url: format!("http://{address}"),
            recorded,
        }
    }

    /// Starts a receiver whose 503 answers carry `Retry-After: <seconds>`.
    pub fn start_with_retry_after(failures: usize, seconds: &str) -> Self {
        let receiver = Self::start(failures);
        *receiver.recorded.retry_after.lock().unwrap() = Some(seconds.to_owned());
        receiver
    }

    /// Makes trace requests wait in the handler until [`Receiver::resume`].
    pub fn pause(&self) {
        self.recorded.paused.store(true, Ordering::SeqCst);
    }

    /// Lets waiting and later trace requests through.
    pub fn resume(&self) {
        self.recorded.paused.store(false, Ordering::SeqCst);
    }

    /// How many trace requests have reached the handler (waiting ones included).
    pub fn arrived(&self) -> usize {
        self.recorded.arrived.load(Ordering::SeqCst)
    }

    /// A client sending to this receiver (small retry backoff to keep tests quick).
    pub fn client(&self) -> spindle::Client {
        self.builder().build().expect("valid configuration")
    }

    /// A client builder preconfigured for this receiver.
    pub fn builder(&self) -> spindle::ClientBuilder {
        spindle::Client::builder()
            .public_key("pk-lf-test")
            .secret_key("sk-lf-test")
            .base_url(&self.base_url)
            .environment("staging")
            .release("rel-1.2.3")
            .flush_interval(Duration::from_secs(3600))
            .retry_initial_backoff(Duration::from_millis(10))
    }

    pub fn spans(&self) -> Vec<RecordedSpan> {
        self.recorded.spans.lock().unwrap().clone()
    }

    /// The spans of one trace.
    pub fn trace(&self, trace_id: &str) -> Vec<RecordedSpan> {
        self.spans()
            .into_iter()
            .filter(|span| span.trace_id == trace_id)
            .collect()
    }

    /// The one span called `name`; panics with the names seen otherwise.
    pub fn span_named(&self, name: &str) -> RecordedSpan {
        let spans = self.spans();
        let found: Vec<&RecordedSpan> = spans.iter().filter(|span| span.name == name).collect();
        assert_eq!(
            found.len(),
            1,
            "expected one span named {name}, got {}",
            found.len()
        );
        found[0].clone()
    }

    pub fn scores(&self) -> Vec<Value> {
        self.recorded.scores.lock().unwrap().clone()
    }

    /// The bodies of the run item requests, in arrival order.
    pub fn run_items(&self) -> Vec<Value> {
        self.recorded.run_items.lock().unwrap().clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorded.requests.lock().unwrap().clone()
    }
}

/// One receiver and one global client per test binary (tests then use distinct names).
pub fn global_receiver() -> &'static Receiver {
    static RECEIVER: std::sync::OnceLock<Receiver> = std::sync::OnceLock::new();
    RECEIVER.get_or_init(|| {
        let receiver = Receiver::start(0);
        assert!(receiver.client().install_global());
        receiver
    })
}

/// The scores of the Python 5 capture's scenario on `trace_id`: numeric with a comment and
/// metadata, categorical on `observation_id`, boolean with a comment, numeric with its own id
/// on `observation_id`, and numeric on session `sess-7`.
pub fn create_scenario_scores(client: &spindle::Client, trace_id: &str, observation_id: &str) {
    use spindle::Score;
    client.create_score(
        Score::numeric("num-score", 0.87)
            .comment("good")
            .trace_id(trace_id)
            .metadata(&json!({"judge": "llm"})),
    );
    client.create_score(
        Score::categorical("cat-score", "positive")
            .trace_id(trace_id)
            .observation_id(observation_id),
    );
    client.create_score(
        Score::boolean("bool-score", true)
            .comment("yes")
            .trace_id(trace_id),
    );
    client.create_score(
        Score::numeric("obs-num", 3.0)
            .id("my-score-id-1")
            .trace_id(trace_id)
            .observation_id(observation_id),
    );
    client.create_score(Score::numeric("session-score", 1.0).session_id("sess-7"));
}

/// Joins trace `trace_id` as the Python scenario does: `linked-root` through a trace context,
/// then `linked-child-later` under it through a second one; returns the id of `linked-root`.
pub fn join_seeded_trace(trace_id: &str) -> String {
    let linked = spindle::observation("linked-root")
        .trace_context(spindle::TraceContext::new(trace_id).unwrap())
        .start();
    let linked_id = linked.id().unwrap();
    linked.end();
    let later = spindle::TraceContext::new(trace_id)
        .unwrap()
        .with_parent_span_id(&linked_id);
    spindle::observation("linked-child-later")
        .trace_context(later)
        .run(|_| ());
    linked_id
}

/// The Python scenario's sync pair: `outer-sync-custom-name` around `inner_sync`.
#[spindle::observe]
pub fn inner_sync(x: i32) -> Value {
    json!({"doubled": x * 2})
}

/// Observed as `outer-sync-custom-name`; calls [`inner_sync`].
#[spindle::observe(name = "outer-sync-custom-name")]
pub fn outer_sync(x: i32) -> Value {
    inner_sync(x)
}
