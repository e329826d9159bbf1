//! `/api/public/v2/prompts`: create a prompt's next version, list prompts, get a version by
//! number or label (the hot path: cached answers, `ETag` and `If-None-Match` → 304), add
//! labels to a version, delete a prompt or some of its versions. Shapes and statuses follow
//! Langfuse's (`201` on create, `204` on delete).

use super::ingest::JsonRequest;
use super::params::{prompt_query, prompt_selector, BothSelectors, Params};
use crate::auth::FullAuth;
use crate::dto::prompts::{prompt_json, prompt_list_json};
use crate::error::ApiResult;
use crate::prompts::matches_if_none_match;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use spindle_core::prompt::{PromptSelector, ResolvedPrompt};
use spindle_core::{Error, ErrorKind};
use spindle_ingest::prompt::{parse_create_prompt_body, parse_new_labels_body};

/// The largest create or update body.
const MAX_PROMPT_BODY: usize = 4 << 20;

/// Who created versions made through the public API, as Langfuse records it.
const CREATED_BY_API: &str = "API";

/// `Cache-Control` of a served prompt: a cache in front of Spindle may keep the answer but
/// must ask again before each use (with `If-None-Match`, answered by a 304 after the key is
/// checked), and keeps one answer per `Authorization` (`Vary`).
const PROMPT_CACHE_CONTROL: &str = "max-age=0, must-revalidate";

fn not_found(message: String) -> Error {
    Error::new(ErrorKind::NotFound, message)
}

/// `POST /api/public/v2/prompts`
pub async fn create(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let prompt = request
        .parse(&state, &auth, MAX_PROMPT_BODY, parse_create_prompt_body)
        .await?;
    let version = state
        .prompts
        .create(&auth.project_id, &prompt, CREATED_BY_API, &auth.actor())
        .await?;
    let created = ResolvedPrompt {
        version,
        graph: None,
    };
    Ok((StatusCode::CREATED, Json(prompt_json(&created))))
}

/// `GET /api/public/v2/prompts`
pub async fn list(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let query = prompt_query(&params)?;
    let page = state.prompts.list(&auth.project_id, &query).await?;
    Ok(Json(prompt_list_json(&page)))
}

/// `GET /api/public/v2/prompts/{name}`: by `version` or `label` (`production` by default; the
/// version wins when both are given, as in Langfuse); `resolve=false` returns the stored text
/// with its references intact.
pub async fn get(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(name): Path<String>,
    params: Params,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let selector = prompt_selector(&params, BothSelectors::VersionWins)?.unwrap_or_default();
    let resolve = params.boolean("resolve")?.unwrap_or(true);
    let Some(served) = state
        .prompts
        .serve(&auth.project_id, &name, &selector, resolve)
        .await?
    else {
        let what = match &selector {
            PromptSelector::Version(version) => format!("with version {version}"),
            PromptSelector::Label(label) => format!("with label '{label}'"),
        };
        return Err(not_found(format!("Prompt not found: '{name}' {what}")).into());
    };
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| matches_if_none_match(value, &served.etag));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            served.body,
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&served.etag) {
        response_headers.insert(header::ETAG, etag);
    }
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PROMPT_CACHE_CONTROL),
    );
    response_headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
    Ok(response)
}

/// `DELETE /api/public/v2/prompts/{name}`: every version, or the one `version` or `label`
/// names.
pub async fn delete(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<StatusCode> {
    let selector = prompt_selector(&params, BothSelectors::Rejected)?;
    let deleted = state
        .prompts
        .delete(&auth.project_id, &name, selector.as_ref(), &auth.actor())
        .await?;
    if deleted == 0 {
        return Err(not_found(format!("Prompt not found: '{name}'")).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/public/v2/prompts/{name}/versions/{version}`: `newLabels` join the version's
/// labels, each leaving the version that held it.
pub async fn update_labels(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path((name, version)): Path<(String, String)>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let version = version
        .parse::<i64>()
        .ok()
        .filter(|version| *version >= 1)
        .ok_or_else(|| Error::invalid("version", "must be a positive integer"))?;
    let labels = request
        .parse(&state, &auth, MAX_PROMPT_BODY, parse_new_labels_body)
        .await?;
    let updated = state
        .prompts
        .add_labels(&auth.project_id, &name, version, &labels, &auth.actor())
        .await?
        .ok_or_else(|| not_found(format!("Prompt '{name}' version {version} not found")))?;
    Ok(Json(prompt_json(&ResolvedPrompt {
        version: updated,
        graph: None,
    })))
}
