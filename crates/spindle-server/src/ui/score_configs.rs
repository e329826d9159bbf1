//! The UI's score configs: the settings list, creation and archiving (admins and owners), and the
//! configs the add-score form offers. Bodies are the public API's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use spindle_store::accounts::Permission;
use spindle_store::audit::resource;
use spindle_store::datasets::PageRequest;

use super::session::ProjectAccess;
use crate::dto::datasets::page_json;
use crate::dto::score_configs::score_config_json;
use crate::dto::{found_json, PageResponse};
use crate::error::ApiResult;
use crate::state::AppState;

/// The most configs the UI lists.
const UI_CONFIGS_LIMIT: u32 = 100;

/// `GET …/score-configs`: the project's configs, newest first.
pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<PageResponse<Value>>> {
    let page = PageRequest {
        page: 1,
        limit: UI_CONFIGS_LIMIT,
    };
    let configs = state
        .score_configs
        .list_score_configs(&access.project_id, page)
        .await?;
    Ok(Json(page_json(configs, score_config_json)))
}

/// `POST …/score-configs`: a config (the public API's body).
pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    access.require(Permission::ManageSettings)?;
    let config =
        spindle_ingest::score_config::parse_score_config_body(body.to_string().as_bytes())?;
    let stored = state
        .score_configs
        .create_score_config(&access.project_id, &config)
        .await?;
    access
        .record(
            &state,
            "created",
            resource::SCORE_CONFIG,
            &stored.id,
            Some(json!({ "name": stored.name })),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(score_config_json(&stored))))
}

/// `PATCH …/score-configs/{id}`: a change (the public API's body), e.g. `{"isArchived": true}`.
pub async fn update(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, config_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    access.require(Permission::ManageSettings)?;
    let patch =
        spindle_ingest::score_config::parse_score_config_patch(body.to_string().as_bytes())?;
    let config = state
        .score_configs
        .update_score_config(&access.project_id, &config_id, &patch)
        .await?;
    if config.is_some() {
        access
            .record(
                &state,
                "updated",
                resource::SCORE_CONFIG,
                &config_id,
                Some(body),
            )
            .await?;
    }
    found_json(config, "score config", &config_id, score_config_json)
}
