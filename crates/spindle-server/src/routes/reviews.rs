//! The review API: `/api/public/annotation-queues…` (queues, their items, assignments) and
//! `/api/public/comments…`. Shapes and statuses follow Langfuse's: an unknown queue, item or
//! comment is 404; a comment on an object the project does not have is 404 naming
//! `objectId`.

use super::ingest::JsonRequest;
use super::params::{comment_query, page_request, queue_item_status, Params};
use crate::auth::FullAuth;
use crate::dto::datasets::page_json;
use crate::dto::reviews::{assignment_json, comment_json, queue_item_json, queue_json};
use crate::dto::{found_json, PageResponse};
use crate::error::{found, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use spindle_core::Error;
use spindle_ingest::review as parse;

/// The largest review body (a comment holds at most 5000 characters).
const MAX_REVIEW_BODY: usize = 1 << 20;

/// `POST /api/public/annotation-queues`
pub async fn create_queue(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let queue = request
        .parse(&state, &auth, MAX_REVIEW_BODY, parse::parse_queue_body)
        .await?;
    require_score_configs(&state, &auth.project_id, &queue.score_config_ids).await?;
    let stored = state.reviews.create_queue(&auth.project_id, &queue).await?;
    Ok(Json(queue_json(&stored)))
}

/// Fails with `InvalidArgument` (`scoreConfigIds`) unless every id names a score config of
/// the project, as Langfuse refuses a queue of unknown configs. One read for all of them.
pub async fn require_score_configs(
    state: &AppState,
    project_id: &str,
    config_ids: &[String],
) -> Result<(), Error> {
    if config_ids.is_empty() {
        return Ok(());
    }
    let configs = state
        .score_configs
        .score_configs_by_ids(project_id, config_ids)
        .await?;
    match config_ids
        .iter()
        .find(|id| !configs.iter().any(|config| &config.id == *id))
    {
        Some(missing) => Err(Error::invalid(
            "scoreConfigIds",
            format!("no score config with id {missing:?} in this project"),
        )),
        None => Ok(()),
    }
}

/// `GET /api/public/annotation-queues`
pub async fn list_queues(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let page = state
        .reviews
        .list_queues(&auth.project_id, page_request(&params)?)
        .await?;
    Ok(Json(page_json(page, queue_json)))
}

/// `GET /api/public/annotation-queues/{queueId}`
pub async fn get_queue(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(queue_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let queue = state.reviews.get_queue(&auth.project_id, &queue_id).await?;
    found_json(queue, "annotation queue", &queue_id, queue_json)
}

/// `GET /api/public/annotation-queues/{queueId}/items?status=…`
pub async fn list_items(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(queue_id): Path<String>,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let status = queue_item_status(&params)?;
    let page = state
        .reviews
        .list_queue_items(&auth.project_id, &queue_id, status, page_request(&params)?)
        .await?;
    Ok(Json(page_json(
        found(page, "annotation queue", &queue_id)?,
        queue_item_json,
    )))
}

/// `POST /api/public/annotation-queues/{queueId}/items`
pub async fn add_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(queue_id): Path<String>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let item = request
        .parse(&state, &auth, MAX_REVIEW_BODY, parse::parse_queue_item_body)
        .await?;
    let stored = state
        .reviews
        .add_queue_item(&auth.project_id, &queue_id, &item)
        .await?;
    Ok(Json(queue_item_json(&stored)))
}

/// `GET /api/public/annotation-queues/{queueId}/items/{itemId}`
pub async fn get_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path((queue_id, item_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let item = state
        .reviews
        .get_queue_item(&auth.project_id, &queue_id, &item_id)
        .await?;
    found_json(item, "annotation queue item", &item_id, queue_item_json)
}

/// `PATCH /api/public/annotation-queues/{queueId}/items/{itemId}`
pub async fn update_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path((queue_id, item_id)): Path<(String, String)>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let status = request
        .parse(
            &state,
            &auth,
            MAX_REVIEW_BODY,
            parse::parse_queue_item_update_body,
        )
        .await?;
    let item = state
        .reviews
        .update_queue_item(&auth.project_id, &queue_id, &item_id, status)
        .await?;
    found_json(item, "annotation queue item", &item_id, queue_item_json)
}

/// `DELETE /api/public/annotation-queues/{queueId}/items/{itemId}`
pub async fn remove_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path((queue_id, item_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let gone = state
        .reviews
        .remove_queue_item(&auth.project_id, &queue_id, &item_id)
        .await?;
    found(gone.then_some(()), "annotation queue item", &item_id)?;
    Ok(Json(json!({
        "success": true,
        "message": "Annotation queue item deleted successfully",
    })))
}

/// `POST /api/public/annotation-queues/{queueId}/assignments`
pub async fn assign(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(queue_id): Path<String>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let user_id = request
        .parse(&state, &auth, MAX_REVIEW_BODY, parse::parse_assignment_body)
        .await?;
    state
        .reviews
        .assign_queue(&auth.project_id, &queue_id, &user_id)
        .await?;
    Ok(Json(assignment_json(&auth.project_id, &queue_id, &user_id)))
}

/// `DELETE /api/public/annotation-queues/{queueId}/assignments`: succeeds when the user was
/// not assigned, as Langfuse's does.
pub async fn unassign(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(queue_id): Path<String>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let user_id = request
        .parse(&state, &auth, MAX_REVIEW_BODY, parse::parse_assignment_body)
        .await?;
    state
        .reviews
        .unassign_queue(&auth.project_id, &queue_id, &user_id)
        .await?;
    Ok(Json(json!({ "success": true })))
}

/// `POST /api/public/comments`: `{"id": …}` of the new comment.
pub async fn create_comment(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let comment = request
        .parse(&state, &auth, MAX_REVIEW_BODY, parse::parse_comment_body)
        .await?;
    let stored = state
        .reviews
        .create_comment(&auth.project_id, &comment)
        .await?;
    Ok(Json(json!({ "id": stored.id })))
}

/// `GET /api/public/comments`
pub async fn list_comments(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let query = comment_query(&params)?;
    let page = state
        .reviews
        .list_comments(&auth.project_id, &query)
        .await?;
    Ok(Json(page_json(page, comment_json)))
}

/// `GET /api/public/comments/{commentId}`
pub async fn get_comment(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(comment_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let comment = state
        .reviews
        .get_comment(&auth.project_id, &comment_id)
        .await?;
    found_json(comment, "comment", &comment_id, comment_json)
}
