//! The web UI's review API, under `/api/ui/projects/{project_id}/…`: the comment thread of a
//! trace, observation, session or prompt version (`comments`, written by the signed-in
//! member), and annotation queues (`queues`: each with its pending and completed items and
//! each reviewer's progress; a new queue, an object added to one, the signed-in member
//! joining one as a reviewer), and review mode: the next pending item of a queue claimed for
//! the signed-in member (no other reviewer is handed it while the claim holds) with its
//! object's input and output, and an item completed with its scores in one transaction.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use spindle_core::review::{Comment, ObjectType, Queue, QueueItem, QueueItemCompletion};
use spindle_core::time::{format_iso, now_micros};
use spindle_core::{Error, WriteBatch};
use spindle_ingest::fields::Fields;
use spindle_ingest::review::{
    parse_comment_fields, parse_comment_object_type, parse_queue_fields, parse_queue_item_fields,
};
use spindle_store::accounts::Permission;
use spindle_store::datasets::PageRequest;
use spindle_store::reviews::{CommentQuery, QueueProgress};
use std::collections::HashMap;

use super::handlers::annotation_score;
use super::responses::{CompletedItem, DataList, NextItem, QueueItemRow, QueueRow, ReviewerRow};
use super::session::ProjectAccess;
use crate::dto::parse_lenient;
use crate::dto::reviews::{queue_item_json, queue_json};
use crate::dto::score_configs::score_config_json;
use crate::error::found;
use crate::error::ApiResult;
use crate::routes::ingest::named_score_configs;
use crate::routes::params::{string_array, Params, UI_MAX_LIMIT};
use crate::routes::reviews::require_score_configs;
use crate::state::AppState;
use std::slice;

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

/// A queue with its progress and its reviewers (by id and display name, each with the items
/// they completed, hold and could take).
fn queue_row(
    queue: &Queue,
    progress: Option<&QueueProgress>,
    names: &HashMap<String, String>,
) -> QueueRow {
    let (pending, completed, reviewers) = progress.map_or((0, 0, &[][..]), |progress| {
        (
            progress.pending,
            progress.completed,
            progress.reviewers.as_slice(),
        )
    });
    QueueRow {
        queue: queue_json(queue),
        pending,
        completed,
        reviewers: reviewers
            .iter()
            .map(|reviewer| ReviewerRow {
                id: reviewer.user_id.clone(),
                name: names
                    .get(&reviewer.user_id)
                    .unwrap_or(&reviewer.user_id)
                    .clone(),
                assigned: reviewer.assigned,
                completed: reviewer.completed,
                claimed: reviewer.claimed,
                available: reviewer.available,
            })
            .collect(),
    }
}

/// A queue item as the UI shows it: the public API's fields, who completed it and who holds
/// it until when (by id and display name).
fn item_row(item: &QueueItem, names: &HashMap<String, String>) -> QueueItemRow {
    let name_of = |user_id: &Option<String>| user_id.as_ref().and_then(|id| names.get(id)).cloned();
    QueueItemRow {
        item: queue_item_json(item),
        completed_by_user_id: item.completed_by_user_id.clone(),
        completed_by: name_of(&item.completed_by_user_id),
        claimed_by_user_id: item.claimed_by_user_id.clone(),
        claimed_by: name_of(&item.claimed_by_user_id),
        claim_expires_at: item.claim_expires_at.map(format_iso),
    }
}

/// The display names of the users an item names.
async fn item_names(state: &AppState, item: &QueueItem) -> Result<HashMap<String, String>, Error> {
    display_names(
        state,
        [&item.completed_by_user_id, &item.claimed_by_user_id]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
    )
    .await
}

/// `GET …/queues`: the project's queues, newest first, each with how many of its items are
/// pending and completed and who reviews it.
pub async fn list_queues(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<DataList<QueueRow>>> {
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
        .queue_progress(&access.project_id, &ids, now_micros())
        .await?;
    let names = display_names(
        &state,
        progress
            .iter()
            .flat_map(|queue| queue.reviewers.iter().map(|r| r.user_id.clone()))
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
    require_score_configs(&state, &access.project_id, &queue.score_config_ids).await?;
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

/// The queue of `queue_id`, or `NotFound`.
async fn existing_queue(state: &AppState, project_id: &str, queue_id: &str) -> ApiResult<Queue> {
    let queue = state.reviews.get_queue(project_id, queue_id).await?;
    Ok(found(queue, "annotation queue", queue_id)?)
}

/// What a reviewer reads of a queued object: its name, input and output (a session shows
/// its first trace's input and its last trace's output). `null`s when it does not exist.
async fn object_payload(state: &AppState, project_id: &str, item: &QueueItem) -> ApiResult<Value> {
    let (name, input, output) = match item.object_type {
        ObjectType::Trace => match state
            .store
            .get_trace_tree(project_id, &item.object_id)
            .await?
        {
            Some(view) => (view.record.name, view.record.input, view.record.output),
            None => (None, None, None),
        },
        ObjectType::Observation => match state
            .store
            .get_observation(project_id, &item.object_id)
            .await?
        {
            Some(view) => (view.record.name, view.record.input, view.record.output),
            None => (None, None, None),
        },
        ObjectType::Session | ObjectType::Prompt => {
            match state.store.get_session(project_id, &item.object_id).await? {
                Some(session) => (
                    Some(session.id),
                    session
                        .traces
                        .first()
                        .and_then(|trace| trace.record.input.clone()),
                    session
                        .traces
                        .last()
                        .and_then(|trace| trace.record.output.clone()),
                ),
                None => (None, None, None),
            }
        }
    };
    let payload = |text: Option<String>| text.as_deref().map_or(Value::Null, parse_lenient);
    Ok(json!({
        "name": name,
        "input": payload(input),
        "output": payload(output),
    }))
}

/// The `skip` list of a review mode request: item ids, each a string.
fn skipped_items(body: &Map<String, Value>) -> Result<Vec<String>, Error> {
    match body.get("skip") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(ids)) => string_array(ids, "skip"),
        Some(_) => Err(Error::invalid("skip", "expected an array of item ids")),
    }
}

/// `POST …/queues/{queueId}/next` `{skip?: [itemId]}`: the queue with its score configs, and
/// the next item claimed for the signed-in member (the one they hold, else the oldest pending
/// one no other reviewer holds, never a skipped one) with its object's input and output
/// (`item` is `null` when none is left for them); `pending` counts the queue's pending items
/// and `available` those the member could take.
pub async fn next_item(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, queue_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Json<NextItem>> {
    access.require(Permission::Annotate)?;
    let skipped = skipped_items(object_body(&body)?)?;
    let queue = existing_queue(&state, &access.project_id, &queue_id).await?;
    let configs =
        named_score_configs(&state, &access.project_id, queue.score_config_ids.clone()).await?;
    // The configs in the queue's order.
    let configs: Vec<Value> = queue
        .score_config_ids
        .iter()
        .filter_map(|id| configs.iter().find(|config| &config.id == id))
        .map(score_config_json)
        .collect();
    let now = now_micros();
    let item = state
        .reviews
        .claim_next_item(
            &access.project_id,
            &queue_id,
            &access.user_id,
            &skipped,
            now,
        )
        .await?;
    let progress = state
        .reviews
        .queue_progress(&access.project_id, slice::from_ref(&queue_id), now)
        .await?;
    let (pending, available) = progress.first().map_or((0, 0), |queue| {
        // Every holder of a claim is among the reviewers; the member may not be yet.
        let held: u64 = queue
            .reviewers
            .iter()
            .map(|reviewer| reviewer.claimed)
            .sum();
        let available = queue
            .reviewers
            .iter()
            .find(|reviewer| reviewer.user_id == access.user_id)
            .map_or(queue.pending.saturating_sub(held), |reviewer| {
                reviewer.available
            });
        (queue.pending, available)
    });
    let (names, object) = match &item {
        Some(item) => (
            item_names(&state, item).await?,
            object_payload(&state, &access.project_id, item).await?,
        ),
        None => (HashMap::new(), Value::Null),
    };
    Ok(Json(NextItem {
        queue: queue_json(&queue),
        configs,
        pending,
        available,
        item: item.as_ref().map(|item| item_row(item, &names)),
        object,
    }))
}

/// The score keys of a queued object: a trace's id, an observation's and its trace's, or a
/// session's.
async fn score_target(
    state: &AppState,
    project_id: &str,
    item: &QueueItem,
) -> ApiResult<Map<String, Value>> {
    let mut target = Map::new();
    match item.object_type {
        ObjectType::Trace => {
            target.insert("traceId".to_owned(), json!(item.object_id));
        }
        ObjectType::Observation => {
            let observation = state
                .store
                .get_observation(project_id, &item.object_id)
                .await?;
            let observation = found(observation, "observation", &item.object_id)?;
            target.insert("traceId".to_owned(), json!(observation.record.trace_id));
            target.insert("observationId".to_owned(), json!(item.object_id));
        }
        ObjectType::Session | ObjectType::Prompt => {
            target.insert("sessionId".to_owned(), json!(item.object_id));
        }
    }
    Ok(target)
}

/// `POST …/queues/{queueId}/items/{itemId}/complete` `{scores: [{configId, value}],
/// comment?}`: the scores of the item's object, each by one of the queue's configs, written
/// with the signed-in member as author and the queue's id, and the item completed by the
/// member, in one transaction (the completion rides in the scores' write batch). 409, with
/// nothing stored, when another reviewer holds the item.
pub async fn complete_item(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, queue_id, item_id)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Json<CompletedItem>> {
    access.require(Permission::Annotate)?;
    let body = object_body(&body)?;
    let queue = existing_queue(&state, &access.project_id, &queue_id).await?;
    let item = state
        .reviews
        .get_queue_item(&access.project_id, &queue_id, &item_id)
        .await?;
    let item = found(item, "annotation queue item", &item_id)?;
    if let Some(holder) = item.claimed_by_at(now_micros()) {
        if holder != access.user_id {
            return Err(Error::new(
                spindle_core::ErrorKind::Conflict,
                format!("annotation queue item {item_id:?}: another reviewer holds it"),
            )
            .into());
        }
    }
    let entries = match body.get("scores") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(Error::invalid("scores", "expected an array").into()),
    };
    let comment = match body.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(Error::invalid("comment", "expected a string").into()),
    };
    let configs =
        named_score_configs(&state, &access.project_id, queue.score_config_ids.clone()).await?;
    let target = score_target(&state, &access.project_id, &item).await?;
    let mut scores = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let path = format!("scores[{index}]");
        let entry = entry
            .as_object()
            .ok_or_else(|| Error::invalid(&path, "expected a JSON object"))?;
        let config_id = entry
            .get("configId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid(format!("{path}.configId"), "is required"))?;
        let config = configs
            .iter()
            .find(|config| config.id == config_id)
            .ok_or_else(|| {
                Error::invalid(
                    format!("{path}.configId"),
                    "is not one of the queue's score configs",
                )
            })?;
        let value = entry
            .get("value")
            .filter(|value| !value.is_null())
            .ok_or_else(|| Error::invalid(format!("{path}.value"), "is required"))?;
        let mut object = target.clone();
        object.insert("name".to_owned(), json!(config.name));
        object.insert("configId".to_owned(), json!(config.id));
        object.insert("value".to_owned(), value.clone());
        object.insert("queueId".to_owned(), json!(queue.id));
        if let Some(comment) = &comment {
            object.insert("comment".to_owned(), json!(comment));
        }
        scores.push(annotation_score(&state, &access, object, &path).await?);
    }
    let score_ids: Vec<String> = scores.iter().map(|score| score.id.clone()).collect();
    // One batch, one transaction: the scores and the completion are stored together or not
    // at all (the writer refuses the batch when another reviewer took the item meanwhile).
    state
        .store
        .write(
            &access.project_id,
            WriteBatch {
                scores,
                completions: vec![QueueItemCompletion {
                    queue_id: queue_id.clone(),
                    item_id: item_id.clone(),
                    user_id: access.user_id.clone(),
                }],
                ..WriteBatch::default()
            },
        )
        .await?;
    let completed = state
        .reviews
        .get_queue_item(&access.project_id, &queue_id, &item_id)
        .await?;
    let completed = found(completed, "annotation queue item", &item_id)?;
    let names = item_names(&state, &completed).await?;
    Ok(Json(CompletedItem {
        item: item_row(&completed, &names),
        score_ids,
    }))
}
