//! Read endpoints of the public API: traces, observations, scores, sessions, metrics,
//! projects. Each handler parses parameters, calls the store once, and converts the result.

use super::params::{
    metrics_query, metrics_request, observation_query, score_query, score_v3_query, session_query,
    trace_query, Params, PUBLIC_MAX_LIMIT,
};
use crate::auth::FullAuth;
use crate::dto::{self, message_json, ObservationFields, PageResponse, TraceFields};
use crate::error::{found, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use spindle_core::{Error, ErrorKind};
use spindle_store::metrics::{MetricsRequest, MetricsVersion};
use spindle_store::{Cursor, ScoreQuery};

/// Fills the `promptId` of observations whose prompt name and version are a stored prompt
/// version (the SDKs send the name and version; the id is the version's).
async fn link_prompts<'a>(
    state: &AppState,
    project_id: &str,
    observations: impl Iterator<Item = &'a mut dto::Observation>,
) -> Result<(), Error> {
    let observations: Vec<&mut dto::Observation> = observations
        .filter(|observation| {
            observation.prompt_name.is_some() && observation.prompt_version.is_some()
        })
        .collect();
    if observations.is_empty() {
        return Ok(());
    }
    let wanted: Vec<(String, i64)> = observations
        .iter()
        .filter_map(|observation| {
            Some((
                observation.prompt_name.clone()?,
                observation.prompt_version?,
            ))
        })
        .collect();
    let ids = state.prompts.ids(project_id, &wanted).await?;
    for observation in observations {
        if let (Some(name), Some(version)) =
            (observation.prompt_name.clone(), observation.prompt_version)
        {
            observation.prompt_id = ids.get(&(name, version)).cloned();
        }
    }
    Ok(())
}

pub async fn list_traces(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::TraceSummary>>> {
    let query = trace_query(&params, PUBLIC_MAX_LIMIT)?;
    let fields = TraceFields::parse(params.get("fields"));
    let page = state.store.list_traces(&auth.project_id, &query).await?;
    Ok(Json(PageResponse::from_page(page, |view| {
        dto::trace_summary(view, &auth.project_id, fields)
    })))
}

pub async fn get_trace(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(trace_id): Path<String>,
) -> ApiResult<Json<dto::TraceDetail>> {
    let view = state.store.get_trace(&auth.project_id, &trace_id).await?;
    let view = found(view, "trace", &trace_id)?;
    let mut detail = dto::trace_detail(view, &auth.project_id);
    link_prompts(&state, &auth.project_id, detail.observations.iter_mut()).await?;
    Ok(Json(detail))
}

pub async fn delete_trace(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(trace_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let deleted = state
        .store
        .delete_traces(&auth.project_id, std::slice::from_ref(&trace_id))
        .await?;
    if deleted == 0 {
        return Err(Error::not_found(format!("trace {trace_id:?}")).into());
    }
    Ok(message_json("Trace deleted successfully"))
}

pub async fn delete_traces(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let ids = spindle_ingest::media::parse_trace_ids_body(&body)?;
    state.store.delete_traces(&auth.project_id, &ids).await?;
    Ok(message_json("Traces deleted successfully"))
}

pub async fn list_observations(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::Observation>>> {
    let query = observation_query(&params, PUBLIC_MAX_LIMIT)?;
    let page = state
        .store
        .list_observations(&auth.project_id, &query)
        .await?;
    let mut response =
        PageResponse::from_page(page, |view| dto::observation_v1(view, &auth.project_id));
    link_prompts(&state, &auth.project_id, response.data.iter_mut()).await?;
    Ok(Json(response))
}

pub async fn get_observation(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(observation_id): Path<String>,
) -> ApiResult<Json<dto::Observation>> {
    let view = state
        .store
        .get_observation(&auth.project_id, &observation_id)
        .await?;
    let view = found(view, "observation", &observation_id)?;
    let mut observation = dto::observation_v1(view, &auth.project_id);
    link_prompts(&state, &auth.project_id, std::iter::once(&mut observation)).await?;
    Ok(Json(observation))
}

fn encode_cursor(cursor: &Cursor) -> String {
    let json = json!({"lastStartTime": cursor.time, "lastId": cursor.id}).to_string();
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn decode_cursor(text: &str) -> Result<Cursor, Error> {
    let invalid = || Error::invalid("cursor", "not a cursor returned by this endpoint");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    Ok(Cursor {
        time: value
            .get("lastStartTime")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?,
        id: value
            .get("lastId")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?
            .to_owned(),
    })
}

pub async fn list_observations_v2(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<dto::CursorResponse<Value>>> {
    let mut query = observation_query(&params, 1000)?;
    query.after = params.get("cursor").map(decode_cursor).transpose()?;
    let fields = ObservationFields::parse(params.get("fields"))?;
    let expand_metadata = params.boolean("expandMetadata")?.unwrap_or(false);
    let page = state
        .store
        .list_observations(&auth.project_id, &query)
        .await?;
    let cursor = page.next_cursor.as_ref().map(encode_cursor);
    let mut data: Vec<Value> = page
        .items
        .into_iter()
        .map(|view| dto::observation_v2(view, &auth.project_id, &fields, expand_metadata))
        .collect();
    let wanted: Vec<(String, i64)> = data
        .iter()
        .filter_map(|item| {
            Some((
                item.get("promptName")?.as_str()?.to_owned(),
                item.get("promptVersion")?.as_i64()?,
            ))
        })
        .collect();
    if !wanted.is_empty() {
        let ids = state.prompts.ids(&auth.project_id, &wanted).await?;
        for item in &mut data {
            let key = item
                .get("promptName")
                .and_then(Value::as_str)
                .zip(item.get("promptVersion").and_then(Value::as_i64))
                .map(|(name, version)| (name.to_owned(), version));
            if let Some(id) = key.and_then(|key| ids.get(&key)) {
                item["promptId"] = Value::String(id.clone());
            }
        }
    }
    Ok(Json(dto::CursorResponse {
        data,
        meta: dto::CursorMeta { cursor },
    }))
}

pub async fn list_scores(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::Score>>> {
    let query = score_query(&params, PUBLIC_MAX_LIMIT)?;
    scores_page(&state, &auth.project_id, &query).await
}

/// A page of scores in the v1 shape.
pub(crate) async fn scores_page(
    state: &AppState,
    project_id: &str,
    query: &ScoreQuery,
) -> ApiResult<Json<PageResponse<dto::Score>>> {
    let page = state.store.list_scores(project_id, query).await?;
    Ok(Json(PageResponse::from_page(page, |view| {
        dto::score_v1(view, project_id)
    })))
}

pub async fn get_score(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(score_id): Path<String>,
) -> ApiResult<Json<dto::Score>> {
    let view = state.store.get_score(&auth.project_id, &score_id).await?;
    let view = found(view, "score", &score_id)?;
    Ok(Json(dto::score_v1(view, &auth.project_id)))
}

pub async fn delete_score(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(score_id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state
        .store
        .delete_score(&auth.project_id, &score_id)
        .await?
    {
        return Err(Error::not_found(format!("score {score_id:?}")).into());
    }
    Ok(message_json("Score deleted successfully"))
}

pub async fn list_sessions(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::Session<dto::TraceSummary>>>> {
    let query = session_query(&params, PUBLIC_MAX_LIMIT)?;
    let page = state.store.list_sessions(&auth.project_id, &query).await?;
    Ok(Json(PageResponse::from_page(page, |view| {
        dto::session(view, &auth.project_id, false)
    })))
}

pub async fn get_session(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(session_id): Path<String>,
) -> ApiResult<Json<dto::Session<dto::TraceSummary>>> {
    Ok(Json(
        session_with_traces(&state, &auth.project_id, &session_id).await?,
    ))
}

/// A session with its traces (404 when there is no such session).
pub(crate) async fn session_with_traces(
    state: &AppState,
    project_id: &str,
    session_id: &str,
) -> ApiResult<dto::Session<dto::TraceSummary>> {
    let view = state.store.get_session(project_id, session_id).await?;
    let view = found(view, "session", session_id)?;
    Ok(dto::session(view, project_id, true))
}

pub async fn daily_metrics(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::DailyMetricsItem>>> {
    let query = metrics_query(&params, PUBLIC_MAX_LIMIT)?;
    let page = state.store.daily_metrics(&auth.project_id, &query).await?;
    Ok(Json(PageResponse::from_page(page, dto::daily_metrics)))
}

/// `GET /api/public/metrics?query=<json>`: the metrics query of Langfuse's v1 API.
pub async fn metrics_v1(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let request = metrics_request(&params, MetricsVersion::V1)?;
    metrics(&state, &auth.project_id, &request).await
}

/// `GET /api/public/v2/metrics?query=<json>`: the same query without the traces view and
/// without high-cardinality grouping dimensions.
pub async fn metrics_v2(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let request = metrics_request(&params, MetricsVersion::V2)?;
    metrics(&state, &auth.project_id, &request).await
}

async fn metrics(
    state: &AppState,
    project_id: &str,
    request: &MetricsRequest,
) -> ApiResult<Json<Value>> {
    let rows = state.store.query_metrics(project_id, request).await?;
    Ok(Json(dto::metrics_response(rows)))
}

/// `GET /api/public/projects`: the project the key belongs to (the SDKs' `auth_check`).
pub async fn projects(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<Value>> {
    let auth = match state.auth.authenticate_any(&headers).await? {
        crate::auth::Principal::Project(auth) => auth,
        crate::auth::Principal::Organization(_) => {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "Invalid API key. Are you using an organization key?",
            )
            .into())
        }
    };
    auth.require_full()?;
    let project = state
        .store
        .get_project(&auth.project_id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    Ok(Json(json!({"data": [{
        "id": project.id,
        "name": project.name,
        "organization": {"id": project.organization.id, "name": project.organization.name},
        "metadata": {},
        "retentionDays": project.retention_days,
    }]})))
}

/// `GET /api/public/v3/scores`: comma-list filters, typed values, an opaque cursor.
pub async fn list_scores_v3(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let fields = dto::ScoreV3Fields::parse(params.get("fields"))?;
    let limit = params.limit(PUBLIC_MAX_LIMIT)?;
    let page = match params.get("cursor") {
        None => 1,
        Some(text) => decode_page_cursor(text)?,
    };
    let query = score_v3_query(&params, page, limit)?;
    let result = state.store.list_scores(&auth.project_id, &query).await?;
    let has_more = u64::from(page) * u64::from(limit) < result.total_items;
    let cursor = has_more.then(|| encode_page_cursor(page + 1));
    let data: Vec<Value> = result
        .items
        .into_iter()
        .map(|view| dto::score_v3(view, &auth.project_id, fields))
        .collect();
    Ok(Json(
        json!({"data": data, "meta": {"limit": limit, "cursor": cursor}}),
    ))
}

/// The v3 cursor: base64url of `{"page": n}`.
pub(crate) fn encode_page_cursor(page: u32) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({ "page": page }).to_string())
}

pub(crate) fn decode_page_cursor(text: &str) -> Result<u32, Error> {
    let invalid = || Error::invalid("cursor", "not a cursor returned by this endpoint");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    value
        .get("page")
        .and_then(Value::as_u64)
        .and_then(|page| u32::try_from(page).ok())
        .filter(|page| *page >= 1)
        .ok_or_else(invalid)
}
