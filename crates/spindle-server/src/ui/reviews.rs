//! The web UI's review API, under `/api/ui/projects/{project_id}/…`: the comment thread of a
//! trace, observation, session or prompt version (`comments`, written by the signed-in
//! member), and annotation queues (`queues`: each with its pending and completed items and
//! its reviewers; a new queue, an object added to one, the signed-in member joining one as a
//! reviewer).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use spindle_core::review::{Comment, ObjectType, Queue};
use spindle_core::time::format_iso;
use spindle_core::Error;
use spindle_ingest::fields::Fields;
use spindle_ingest::review::{
    parse_comment_fields, parse_comment_object_type, parse_queue_fields, parse_queue_item_fields,
};
use spindle_store::accounts::Permission;
use spindle_store::datasets::PageRequest;
use spindle_store::reviews::{CommentQuery, QueueProgress};
use std::collections::HashMap;

use super::responses::DataList;
use super::session::ProjectAccess;
use crate::dto::reviews::{queue_item_json, queue_json};
use crate::error::ApiResult;
use crate::routes::params::{Params, UI_MAX_LIMIT};
use crate::state::AppState;

/// The most comments a thread shows (the newest ones).
const THREAD_LIMIT: u32 = 100;

/// A UI request body: one JSON object.
fn object_body(body: &Value) -> Result<&Map<String, Value>, Error> {
    body.as_object()
        .ok_or_else(|| Error::invalid("body", "expected a JSON object"))
}

/// A comment with its author's email (or name) when the author is a user.
fn comment_row(comment: &Comment, authors: &HashMap<String, String>) -> Value {
    json!({
        "id": comment.id,
        "objectType": comment.object_type.as_str(),
        "objectId": comment.object_id,
        "content": comment.content,
        "authorUserId": comment.author_user_id,
        "author": comment.author_user_id.as_ref().and_then(|id| authors.get(id)),
        "createdAt": format_iso(comment.created_at),
    })
}

/// The display names (name, else email) of the users of `user_ids` that exist, by id.
async fn display_names(
    state: &AppState,
    mut user_ids: Vec<String>,
) -> Result<HashMap<String, String>, Error> {
    user_ids.sort_unstable();
    user_ids.dedup();
    let mut names = HashMap::new();
    for user_id in user_ids {
        if let Some(user) = state.accounts.get_user(&user_id).await? {
            names.insert(user_id, user.name.unwrap_or(user.email));
        }
    }
    Ok(names)
}

/// The display names of the authors of `comments`, by user id.
async fn authors_of(
    state: &AppState,
    comments: &[Comment],
) -> Result<HashMap<String, String>, Error> {
    display_names(
        state,
        comments
            .iter()
            .filter_map(|comment| comment.author_user_id.clone())
            .collect(),
    )
    .await
}

/// `GET …/comments?objectType=…&objectId=…`: the object's thread, oldest first.
pub async fn list_comments(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<DataList<Value>>> {
    let object_type = params
        .get("objectType")
        .ok_or_else(|| Error::invalid("objectType", "is required"))
        .and_then(parse_comment_object_type)?;
    let object_id = params
        .string("objectId")
        .ok_or_else(|| Error::invalid("objectId", "is required"))?;
    let query = CommentQuery {
        page: PageRequest {
            page: 1,
            limit: THREAD_LIMIT,
        },
        object_type: Some(object_type),
        object_id: Some(object_id),
        author_user_id: None,
    };
    let page = state
        .reviews
        .list_comments(&access.project_id, &query)
        .await?;
    let authors = authors_of(&state, &page.items).await?;
    Ok(Json(DataList::of(page.items.iter().rev(), |comment| {
        comment_row(comment, &authors)
    })))
}

/// `POST …/comments` `{objectType, objectId, content}`: a comment by the signed-in member.
pub async fn create_comment(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    access.require(Permission::Annotate)?;
    let mut comment = parse_comment_fields(&Fields::new(object_body(&body)?, ""))?;
    comment.author_user_id = Some(access.user_id.clone());
    let stored = state
        .reviews
        .create_comment(&access.project_id, &comment)
        .await?;
    let authors = authors_of(&state, std::slice::from_ref(&stored)).await?;
    Ok((StatusCode::CREATED, Json(comment_row(&stored, &authors))).into_response())
}

/// A queue with its progress and reviewers (by id and display name).
fn queue_row(
    queue: &Queue,
    progress: Option<&QueueProgress>,
    names: &HashMap<String, String>,
) -> Value {
    let mut row = queue_json(queue);
    let (pending, completed, assignees) = progress.map_or((0, 0, &[][..]), |progress| {
        (
            progress.pending,
            progress.completed,
            progress.assignees.as_slice(),
        )
    });
    row["pending"] = pending.into();
    row["completed"] = completed.into();
    row["reviewers"] = assignees
        .iter()
        .map(|user_id| json!({"id": user_id, "name": names.get(user_id).unwrap_or(user_id)}))
        .collect();
    row
}

/// `GET …/queues`: the project's queues, newest first, each with how many of its items are
/// pending and completed and who reviews it.
pub async fn list_queues(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<DataList<Value>>> {
    let request = PageRequest {
        page: params.page()?,
        limit: params.limit(UI_MAX_LIMIT)?,
    };
    let page = state
        .reviews
        .list_queues(&access.project_id, request)
        .await?;
    let ids: Vec<String> = page.items.iter().map(|queue| queue.id.clone()).collect();
    let progress = state
        .reviews
        .queue_progress(&access.project_id, &ids)
        .await?;
    let names = display_names(
        &state,
        progress
            .iter()
            .flat_map(|queue| queue.assignees.clone())
            .collect(),
    )
    .await?;
    Ok(Json(DataList::of(&page.items, |queue| {
        let of_queue = progress.iter().find(|entry| entry.queue_id == queue.id);
        queue_row(queue, of_queue, &names)
    })))
}

/// `POST …/queues` `{name, description, scoreConfigIds}`.
pub async fn create_queue(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    access.require(Permission::Annotate)?;
    let queue = parse_queue_fields(&Fields::new(object_body(&body)?, ""))?;
    let stored = state
        .reviews
        .create_queue(&access.project_id, &queue)
        .await?;
    Ok((StatusCode::CREATED, Json(queue_json(&stored))).into_response())
}

/// `POST …/queues/{queueId}/items` `{objectType, objectId}`: queues a trace, observation or
/// session of the project.
pub async fn add_item(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, queue_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    access.require(Permission::Annotate)?;
    let item = parse_queue_item_fields(&Fields::new(object_body(&body)?, ""))?;
    let stored = state
        .reviews
        .add_queue_item(&access.project_id, &queue_id, &item)
        .await?;
    Ok((StatusCode::CREATED, Json(queue_item_json(&stored))).into_response())
}

/// `POST …/queues/{queueId}/reviewers`: the signed-in member reviews the queue.
pub async fn join_queue(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, queue_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    access.require(Permission::Annotate)?;
    state
        .reviews
        .assign_queue(&access.project_id, &queue_id, &access.user_id)
        .await?;
    Ok(Json(json!({ "ok": true })))
}

/// The number of comments on each of these objects that has any.
pub async fn comment_counts(
    state: &AppState,
    project_id: &str,
    object_type: ObjectType,
    object_ids: &[String],
) -> Result<HashMap<String, u64>, Error> {
    Ok(state
        .reviews
        .comment_counts(project_id, object_type, object_ids)
        .await?
        .into_iter()
        .collect())
}
