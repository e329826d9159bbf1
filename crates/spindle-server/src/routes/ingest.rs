//! Write endpoints: OTLP traces, batch ingestion and score creation. Scores that name a score
//! config are checked against it (the configs a request names read once, only when some score
//! names one) before anything of the request is written.

use super::body::{blocking, content_type, fresh_id, now_micros, read_body, require_json};
use crate::admission::Ticket;
use crate::auth::{Access, ProjectAuth};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use spindle_core::score_config::ScoreConfig;
use spindle_core::{Error, ScoreRecord, WriteBatch};
use spindle_ingest::otlp;
use spindle_ingest::score::ScoresBody;
use std::convert::Infallible;
use std::time::Instant;

/// The unit of fair shares: the API key, with the public key used alone (by browsers, so
/// known to anyone) counted apart from the full key pair of the project's own SDKs.
pub fn fairness_key(auth: &ProjectAuth) -> String {
    match auth.access {
        Access::Full => format!("key:{}", auth.public_key),
        Access::ScoresOnly => format!("public-key:{}", auth.public_key),
    }
}

/// Reads a request's body of at most `max_bytes` within the body-read timeout, charging every
/// byte to the key's share of the byte budget; the charge lasts as long as the ticket.
pub async fn read_charged_body(
    state: &AppState,
    auth: &ProjectAuth,
    headers: &HeaderMap,
    body: Body,
    max_bytes: usize,
) -> ApiResult<(Vec<u8>, Ticket)> {
    let mut ticket = state.admission.ticket(fairness_key(auth));
    let bytes = read_body(
        headers,
        body,
        max_bytes,
        &mut ticket,
        state.body_read_timeout,
    )
    .await?;
    Ok((bytes, ticket))
}

/// A JSON request's headers and its body, not read yet: the last extractor of the API's
/// JSON writes, read and parsed by [`JsonRequest::parse`].
pub struct JsonRequest {
    headers: HeaderMap,
    body: Body,
}

impl<S: Send + Sync> FromRequest<S> for JsonRequest {
    type Rejection = Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        Ok(JsonRequest {
            headers: parts.headers,
            body,
        })
    }
}

impl JsonRequest {
    /// Checks the content type, reads the body of at most `max_bytes`, charged like
    /// [`read_charged_body`] for as long as it is parsed, and parses it with `parse` on the
    /// blocking pool.
    pub async fn parse<T: Send + 'static>(
        self,
        state: &AppState,
        auth: &ProjectAuth,
        max_bytes: usize,
        parse: impl FnOnce(&[u8]) -> Result<T, Error> + Send + 'static,
    ) -> ApiResult<T> {
        require_json(&self.headers)?;
        let (bytes, _ticket) =
            read_charged_body(state, auth, &self.headers, self.body, max_bytes).await?;
        blocking(move || parse(&bytes)).await
    }

    /// Checks the content type and admits the write ([`AdmittedWrite::admit`]): its body and
    /// the write that commits what was parsed from it.
    async fn admit<'a>(
        self,
        state: &'a AppState,
        auth: &'a ProjectAuth,
        endpoint: &'static str,
    ) -> ApiResult<(Vec<u8>, AdmittedWrite<'a>)> {
        require_json(&self.headers)?;
        AdmittedWrite::admit(state, auth, &self.headers, self.body, endpoint).await
    }
}

/// A write whose body was admitted: where it goes and what it weighed, with the ticket of its
/// bytes and processing slot, both released when the request is answered.
struct AdmittedWrite<'a> {
    state: &'a AppState,
    project_id: &'a str,
    endpoint: &'static str,
    bytes: usize,
    _ticket: Ticket,
}

impl<'a> AdmittedWrite<'a> {
    /// Reads a write request's body within the size limit, the body-read timeout and the key's
    /// share of the byte budget, then takes a processing slot, waiting a short bounded while for
    /// one (429 with `Retry-After` when none came free: counted as a rejected request by the request middleware, like every rejection).
    async fn admit(
        state: &'a AppState,
        auth: &'a ProjectAuth,
        headers: &HeaderMap,
        body: Body,
        endpoint: &'static str,
    ) -> ApiResult<(Vec<u8>, Self)> {
        let (bytes, mut ticket) =
            read_charged_body(state, auth, headers, body, state.limits.max_body_bytes).await?;
        ticket.wait_for_slot().await?;
        let write = AdmittedWrite {
            state,
            project_id: &auth.project_id,
            endpoint,
            bytes: bytes.len(),
            _ticket: ticket,
        };
        Ok((bytes, write))
    }

    /// Commits a batch of `events` events, recording commit latency and ingested counts.
    async fn commit(&self, batch: WriteBatch, events: usize) -> ApiResult<()> {
        let state = self.state;
        let started = Instant::now();
        if !batch.is_empty() {
            let written = state.store.write(self.project_id, batch).await;
            state.readiness.record_write(&written);
            written?;
            state.metrics.observe(
                "spindle_commit_latency_seconds",
                vec![],
                started.elapsed().as_secs_f64(),
            );
        }
        state.metrics.add(
            "spindle_ingested_events_total",
            vec![("endpoint", self.endpoint.into())],
            events as f64,
        );
        state.metrics.add(
            "spindle_ingested_bytes_total",
            vec![("endpoint", self.endpoint.into())],
            self.bytes as f64,
        );
        Ok(())
    }
}

/// `POST /api/public/otel/v1/traces`: OTLP/HTTP protobuf or JSON, gzip or not.
pub async fn otel_traces(
    State(state): State<AppState>,
    auth: ProjectAuth,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    auth.require_full()?;
    if let Some(version) = headers.get("x-langfuse-ingestion-version") {
        let text = version.to_str().unwrap_or_default();
        match text.trim().parse::<u32>() {
            Ok(version) if version <= 4 => {}
            _ => {
                return Err(Error::invalid(
                    "x-langfuse-ingestion-version",
                    format!("unsupported version {text:?}; the highest supported is 4"),
                )
                .into())
            }
        }
    }
    let content_type = content_type(&headers);
    // Langfuse answers 400 to an unsupported content type, and so do we.
    let encoding = otlp::Encoding::from_content_type(&content_type).ok_or_else(|| {
        Error::invalid(
            "Content-Type",
            format!("Invalid content type: expected application/x-protobuf or application/json, got {content_type:?}"),
        )
    })?;
    let (body, write) = AdmittedWrite::admit(&state, &auth, &headers, body, "otel").await?;
    let now = now_micros();
    let (batch, spans) = blocking(move || {
        let export = otlp::decode(&body, encoding)?;
        let spans = export.span_count();
        Ok((otlp::to_batch(&export, now), spans))
    })
    .await?;
    write.commit(batch, spans).await?;

    Ok(Json(json!({})).into_response())
}

/// `POST /api/public/otel/v1/metrics`: accepted and discarded, as Langfuse does.
pub async fn otel_metrics(auth: ProjectAuth) -> ApiResult<Json<Value>> {
    auth.require_full()?;
    Ok(Json(json!({})))
}

/// `POST /api/public/ingestion`: a batch of events, answered with 207 per-event results.
pub async fn ingestion(
    State(state): State<AppState>,
    auth: ProjectAuth,
    request: JsonRequest,
) -> ApiResult<Response> {
    let (body, write) = request.admit(&state, &auth, "ingestion").await?;
    let scores_only = auth.access == Access::ScoresOnly;
    let mut parsed = blocking(move || {
        let allowed = move |event_type: &str| !scores_only || event_type == "score-create";
        spindle_ingest::batch::parse_allowing(&body, &allowed, &mut fresh_id)
    })
    .await?;
    let configs = named_score_configs(&state, &auth.project_id, parsed.config_ids()).await?;
    parsed.resolve_pending(&configs);
    let accepted = parsed.successes.len();
    if !parsed.errors.is_empty() {
        state.metrics.add(
            "spindle_rejected_events_total",
            vec![("endpoint", "ingestion".into())],
            parsed.errors.len() as f64,
        );
        tracing::info!(
            project_id = %auth.project_id,
            rejected = parsed.errors.len(),
            first_error = %parsed.errors[0].message,
            "ingestion batch had invalid events"
        );
    }
    write.commit(parsed.batch, accepted).await?;
    let successes: Vec<Value> = parsed
        .successes
        .iter()
        .map(|id| json!({"id": id, "status": 201}))
        .collect();
    let errors: Vec<Value> = parsed
        .errors
        .iter()
        .map(|error| {
            json!({
                "id": error.id,
                "status": error.status,
                "message": "Invalid request data",
                "error": error.message,
            })
        })
        .collect();
    Ok((
        StatusCode::MULTI_STATUS,
        Json(json!({"successes": successes, "errors": errors})),
    )
        .into_response())
}

/// The score configs of `ids` in the project, read in one statement; nothing is read when no
/// score of the request names a config.
pub async fn named_score_configs(
    state: &AppState,
    project_id: &str,
    ids: Vec<String>,
) -> ApiResult<Vec<ScoreConfig>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(state
        .score_configs
        .score_configs_by_ids(project_id, &ids)
        .await?)
}

fn scores_batch(scores: Vec<ScoreRecord>) -> WriteBatch {
    WriteBatch {
        scores,
        ..WriteBatch::default()
    }
}

/// `POST /api/public/scores`: one score object (200 `{id}`) or an array (202 / 207).
pub async fn create_scores(
    State(state): State<AppState>,
    auth: ProjectAuth,
    request: JsonRequest,
) -> ApiResult<Response> {
    let (body, write) = request.admit(&state, &auth, "scores").await?;
    let now = now_micros();
    let parsed =
        blocking(move || spindle_ingest::score::parse_scores_body(&body, now, &mut fresh_id))
            .await?;
    let configs = named_score_configs(&state, &auth.project_id, parsed.config_ids()).await?;
    let (parsed_scores, mut errors) = match parsed {
        ScoresBody::One(score) => {
            let score = score.resolve(&configs)?;
            let id = score.id.clone();
            write.commit(scores_batch(vec![score]), 1).await?;
            return Ok(Json(json!({"id": id})).into_response());
        }
        ScoresBody::Many { scores, errors } => (scores, errors),
    };
    let mut scores = Vec::with_capacity(parsed_scores.len());
    for score in parsed_scores {
        match score.resolve(&configs) {
            Ok(score) => scores.push(score),
            Err(error) => errors.push(error),
        }
    }
    let accepted = scores.len();
    write.commit(scores_batch(scores), accepted).await?;
    if errors.is_empty() {
        return Ok((StatusCode::ACCEPTED, Json(json!({"message": "Accepted"}))).into_response());
    }
    let rejected = errors.len();
    let errors: Vec<Value> = errors
        .iter()
        .map(|error| json!({"message": error.message}))
        .collect();
    Ok((
        StatusCode::MULTI_STATUS,
        Json(json!({"accepted": accepted, "rejected": rejected, "errors": errors})),
    )
        .into_response())
}
