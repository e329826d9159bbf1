//! Operational routes and middleware: health and readiness, Prometheus metrics, the OpenAPI
//! document, CORS, and per-request logging and latency.

use crate::error::{ApiError, RejectReason};
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use spindle_core::Error;
use std::time::Instant;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The OpenAPI document of the public API.
const OPENAPI: &str = include_str!("../../openapi.json");

pub async fn health(State(state): State<AppState>) -> Response {
    match state.store.ready().await {
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
    state.store.ready().await?;
    Ok(Json(json!({"status": "OK"})))
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut body = state.metrics.render(state.store.write_queue_depth());
    body.push_str(&format!(
        "# HELP spindle_body_bytes_in_flight Request body bytes held by requests in flight (--max-inflight-body-bytes)\n\
         # TYPE spindle_body_bytes_in_flight gauge\nspindle_body_bytes_in_flight {}\n\
         # HELP spindle_ingest_requests_in_flight Ingestion requests processed now (--max-inflight-ingest)\n\
         # TYPE spindle_ingest_requests_in_flight gauge\nspindle_ingest_requests_in_flight {}\n",
        state.admission.bytes_in_flight(),
        state.admission.requests_in_flight()
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

/// A request body that notes whether it was read to the end.
struct TrackedBody {
    inner: axum::body::Body,
    finished: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(None) = polled {
            self.finished
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// When a handler answers without reading the whole request body (an early 401, 400, 413 or
/// 429), the rest of the body is still on the connection: the response then says
/// `Connection: close`, so clients open a fresh connection instead of reusing a broken one.
pub async fn close_on_unread_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(
        http_body::Body::is_end_stream(&body),
    ));
    let tracked = TrackedBody {
        inner: body,
        finished: finished.clone(),
    };
    let request = Request::from_parts(parts, axum::body::Body::new(tracked));
    let mut response = next.run(request).await;
    if !finished.load(std::sync::atomic::Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Records latency by route and logs what happened to rejected requests.
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
    let elapsed = started.elapsed().as_secs_f64();
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
