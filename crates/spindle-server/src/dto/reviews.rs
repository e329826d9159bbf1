//! The review API's response bodies: `AnnotationQueue`, `AnnotationQueueItem`,
//! `CreateAnnotationQueueAssignmentResponse` and `Comment` of the API definition.

use serde_json::{json, Value};
use spindle_core::review::{Comment, Queue, QueueItem};
use spindle_core::time::format_iso;

pub fn queue_json(queue: &Queue) -> Value {
    json!({
        "id": queue.id,
        "name": queue.name,
        "description": queue.description,
        "scoreConfigIds": queue.score_config_ids,
        "createdAt": format_iso(queue.created_at),
        "updatedAt": format_iso(queue.updated_at),
    })
}

pub fn queue_item_json(item: &QueueItem) -> Value {
    json!({
        "id": item.id,
        "queueId": item.queue_id,
        "objectId": item.object_id,
        "objectType": item.object_type.as_str(),
        "status": item.status.as_str(),
        "completedAt": item.completed_at.map(format_iso),
        "createdAt": format_iso(item.created_at),
        "updatedAt": format_iso(item.updated_at),
    })
}

pub fn assignment_json(project_id: &str, queue_id: &str, user_id: &str) -> Value {
    json!({ "userId": user_id, "queueId": queue_id, "projectId": project_id })
}

pub fn comment_json(comment: &Comment) -> Value {
    json!({
        "id": comment.id,
        "projectId": comment.project_id,
        "createdAt": format_iso(comment.created_at),
        "updatedAt": format_iso(comment.updated_at),
        "objectType": comment.object_type.as_str(),
        "objectId": comment.object_id,
        "content": comment.content,
        "authorUserId": comment.author_user_id,
    })
}
