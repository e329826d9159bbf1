//! Operational routes and middleware: health and readiness, Prometheus metrics, the OpenAPI
//! document, CORS, and per-request logging and latency.

use crate::error::{ApiError, RejectReason};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};
use spindle_core::Error;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The OpenAPI document of the public API.
const OPENAPI: &str = include_str!("../../openapi.json");

pub async fn health(State(state): State<AppState>) -> Response {
    match state.readiness.check(state.store.as_ref()).await {
        Ok(()) => Json(json!({"status": "OK", "version": VERSION})).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "Database not available", "version": VERSION, "message": error.message})),
        )
            .into_response(),
    }
}

pub async fn livez() -> Json<Value> {
    Json(json!({"status": "OK"}))
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.readiness.check(state.store.as_ref()).await?;
    Ok(Json(json!({"status": "OK"})))
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut body = state.metrics.render(state.store.write_queue_depth());
    body.push_str(&format!(
        "# HELP spindle_body_bytes_in_flight Request body bytes held by requests in flight (--max-inflight-body-bytes)\n\
         # TYPE spindle_body_bytes_in_flight gauge\nspindle_body_bytes_in_flight {}\n\
         # HELP spindle_ingest_requests_in_flight Ingestion requests processed now (--max-inflight-ingest)\n\
         # TYPE spindle_ingest_requests_in_flight gauge\nspindle_ingest_requests_in_flight {}\n\
         # HELP spindle_open_connections Client connections open now (--max-connections)\n\
         # TYPE spindle_open_connections gauge\nspindle_open_connections {}\n",
        state.admission.bytes_in_flight(),
        state.admission.requests_in_flight(),
        state.connections.open()
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn not_found(request: Request) -> ApiError {
    ApiError(Error::not_found(format!(
        "route {} {}",
        request.method(),
        request.uri().path()
    )))
}

/// Browsers may call the public API from any origin (user feedback from the frontend).
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(86_400))
}

/// How long the rest of an unread request body is read and discarded after the handler
/// answered without it.
pub const LINGER_TIME: Duration = Duration::from_secs(5);

/// The least of an unread request body that is read and discarded (more when twice the body
/// limit is more): discarding costs no memory, only the time bounded by [`LINGER_TIME`].
pub const LINGER_MIN_BYTES: usize = 64 * 1024 * 1024;

/// How far a request body was read, shared between the handler's body and the middleware.
#[derive(Default)]
struct BodyProgress {
    polled: AtomicBool,
    finished: AtomicBool,
    received: AtomicUsize,
}

/// The handler's view of the request body; the body itself stays in a slot the middleware
/// keeps, so what the handler left unread can still be read and discarded afterwards.
struct TrackedBody {
    slot: Arc<Mutex<Option<Body>>>,
    progress: Arc<BodyProgress>,
}

impl http_body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.progress.polled.store(true, Ordering::Relaxed);
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(body) = slot.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.progress.finished.store(true, Ordering::Relaxed),
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.progress
                        .received
                        .fetch_add(data.len(), Ordering::Relaxed);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .map(http_body::Body::size_hint)
            .unwrap_or_default()
    }
}

/// When a handler answers without reading the whole request body (an early 401, 400, 413 or
/// 429), the rest of the body is still on its way. Simple clients (Python's `http.client`)
/// write the whole body before reading the answer, so closing at once would show them a
/// broken pipe instead of the status: the rest is first read and discarded, up to twice the
/// body limit (at least [`LINGER_MIN_BYTES`]) and for at most [`LINGER_TIME`] (nothing of it
/// is kept), unless the client
/// waits for `100 Continue` and never got it. The response then says `Connection: close`, so
/// clients open a fresh connection instead of reusing one whose state is unclear.
pub async fn linger_on_unread_body(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let progress = Arc::new(BodyProgress::default());
    if http_body::Body::is_end_stream(&body) {
        progress.finished.store(true, Ordering::Relaxed);
    }
    let slot = Arc::new(Mutex::new(Some(body)));
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let declared = super::body::content_length(&parts.headers);
    let tracked = TrackedBody {
        slot: slot.clone(),
        progress: progress.clone(),
    };
    let request = Request::from_parts(parts, Body::new(tracked));
    let mut response = next.run(request).await;
    if progress.finished.load(Ordering::Relaxed) {
        return response;
    }
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    let bound = state
        .limits
        .max_body_bytes
        .saturating_mul(2)
        .max(LINGER_MIN_BYTES);
    let received = progress.received.load(Ordering::Relaxed);
    let never_asked_for = expects_continue && !progress.polled.load(Ordering::Relaxed);
    let too_much = declared.is_some_and(|length| length.saturating_sub(received) > bound);
    let rest = slot
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    if let (Some(rest), false, false) = (rest, never_asked_for, too_much) {
        discard(rest, bound, LINGER_TIME).await;
    }
    response
}

/// Reads and drops up to `bound` bytes of `body` within `time`.
async fn discard(body: Body, bound: usize, time: Duration) {
    let mut stream = body.into_data_stream();
    let mut discarded = 0usize;
    let _ = tokio::time::timeout(time, async {
        while let Some(Ok(chunk)) = stream.next().await {
            discarded += chunk.len();
            if discarded > bound {
                break;
            }
        }
    })
    .await;
}

/// A request whose answer takes longer than this is logged as slow (with its route, status
/// and time), so that a client's timeout can be told apart from a slow server in the log.
const SLOW_REQUEST: Duration = Duration::from_secs(2);

/// Records latency by route and logs slow requests and what happened to rejected requests.
pub async fn observe_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let took = started.elapsed();
    let elapsed = took.as_secs_f64();
    if took > SLOW_REQUEST {
        tracing::warn!(%method, %route, status = status.as_u16(), millis = took.as_millis() as u64, "slow request");
    }
    state.metrics.observe(
        "spindle_http_request_duration_seconds",
        vec![
            ("route", route.clone()),
            ("method", method.to_string()),
            ("status", status.as_u16().to_string()),
        ],
        elapsed,
    );
    if let Some(RejectReason(error)) = response.extensions().get::<RejectReason>() {
        let reason = format!("{:?}", error.kind);
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(%method, %route, status = status.as_u16(), %reason, message = %error.message, "request failed");
        } else {
            tracing::info!(%method, %route, status = status.as_u16(), %reason, message = %error.message, "request rejected");
        }
        if status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE {
            state.metrics.add(
                "spindle_rejected_requests_total",
                vec![("endpoint", route), ("reason", reason.to_lowercase())],
                1.0,
            );
        }
    }
    let mut response = response;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
