//! The score config API: `/api/public/score-configs` (create, list) and
//! `/api/public/score-configs/{configId}` (get, patch). A config of another project is a 404.

use super::ingest::JsonRequest;
use super::params::{page_request, Params};
use crate::auth::FullAuth;
use crate::dto::datasets::page_json;
use crate::dto::score_configs::score_config_json;
use crate::dto::{found_json, PageResponse};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;
use spindle_ingest::score_config::{parse_score_config_body, parse_score_config_patch};

/// The largest score config body.
const MAX_CONFIG_BODY: usize = 1 << 20;

/// `POST /api/public/score-configs`
pub async fn create(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let config = request
        .parse(&state, &auth, MAX_CONFIG_BODY, parse_score_config_body)
        .await?;
    let stored = state
        .score_configs
        .create_score_config(&auth.project_id, &config)
        .await?;
    Ok(Json(score_config_json(&stored)))
}

/// `GET /api/public/score-configs`
pub async fn list(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let page = state
        .score_configs
        .list_score_configs(&auth.project_id, page_request(&params)?)
        .await?;
    Ok(Json(page_json(page, score_config_json)))
}

/// `GET /api/public/score-configs/{configId}`
pub async fn get(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let config = state
        .score_configs
        .get_score_config(&auth.project_id, &id)
        .await?;
    found_json(config, "score config", &id, score_config_json)
}

/// `PATCH /api/public/score-configs/{configId}`
pub async fn update(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let patch = request
        .parse(&state, &auth, MAX_CONFIG_BODY, parse_score_config_patch)
        .await?;
    let config = state
        .score_configs
        .update_score_config(&auth.project_id, &id, &patch)
        .await?;
    found_json(config, "score config", &id, score_config_json)
}
