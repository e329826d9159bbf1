//! Review: annotation queues (objects queued for people to score, each item pending or
//! completed, and the users assigned to a queue) and comments on traces, observations,
//! sessions and prompts. The requests the public API accepts (`New…`, validated) and the
//! stored records.

use crate::time::Micros;

/// What a comment or a queue item refers to, by its id in the same project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    Trace,
    Observation,
    Session,
    Prompt,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Trace => "TRACE",
            ObjectType::Observation => "OBSERVATION",
            ObjectType::Session => "SESSION",
            ObjectType::Prompt => "PROMPT",
        }
    }

    /// `TRACE`, `OBSERVATION`, `SESSION` or `PROMPT`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "TRACE" => Some(ObjectType::Trace),
            "OBSERVATION" => Some(ObjectType::Observation),
            "SESSION" => Some(ObjectType::Session),
            "PROMPT" => Some(ObjectType::Prompt),
            _ => None,
        }
    }

    /// Whether an annotation queue can hold objects of this type (prompts it cannot).
    pub fn queueable(self) -> bool {
        self != ObjectType::Prompt
    }
}

/// Where a queue item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Pending,
    Completed,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Pending => "PENDING",
            ItemStatus::Completed => "COMPLETED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PENDING" => Some(ItemStatus::Pending),
            "COMPLETED" => Some(ItemStatus::Completed),
            _ => None,
        }
    }
}

/// A queue to create; its name is unique in the project.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewQueue {
    pub name: String,
    pub description: Option<String>,
    /// The score configs reviewers fill in, by id (kept as given).
    pub score_config_ids: Vec<String>,
}

/// A stored annotation queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub score_config_ids: Vec<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// An object to add to a queue (pending unless a status is given).
#[derive(Debug, Clone, PartialEq)]
pub struct NewQueueItem {
    pub object_id: String,
    pub object_type: ObjectType,
    pub status: Option<ItemStatus>,
}

/// A stored queue item; `completed_at` is set when it was last marked completed, and
/// `completed_by_user_id` names the user who did (none when an API key did). A pending item
/// may be claimed by one reviewer until `claim_expires_at`: review mode hands it to nobody
/// else meanwhile.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    pub id: String,
    pub project_id: String,
    pub queue_id: String,
    pub object_id: String,
    pub object_type: ObjectType,
    pub status: ItemStatus,
    pub completed_at: Option<Micros>,
    pub completed_by_user_id: Option<String>,
    pub claimed_by_user_id: Option<String>,
    pub claim_expires_at: Option<Micros>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl QueueItem {
    /// The reviewer whose claim on the item still holds at `now`, if any.
    pub fn claimed_by_at(&self, now: Micros) -> Option<&str> {
        match (&self.claimed_by_user_id, self.claim_expires_at) {
            (Some(user_id), Some(expires_at)) if expires_at > now => Some(user_id),
            _ => None,
        }
    }
}

/// How long review mode keeps an item for the reviewer it opened it for: 5 minutes, after
/// which another reviewer may take it (the claim is renewed each time it is opened again).
pub const CLAIM_MICROS: Micros = 5 * 60 * 1_000_000;

/// A queue item completed by a reviewer in the transaction of a write (with the scores they
/// gave it): the write fails, and nothing of it is stored, when the item is gone or another
/// reviewer's claim on it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItemCompletion {
    pub queue_id: String,
    pub item_id: String,
    pub user_id: String,
}

/// The longest comment, as Langfuse allows (characters, after trimming).
pub const MAX_COMMENT_LEN: usize = 5000;

/// A comment to create on an object of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub object_type: ObjectType,
    pub object_id: String,
    pub content: String,
    /// The user writing it: a user with access to the project, or nobody.
    pub author_user_id: Option<String>,
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: String,
    pub project_id: String,
    pub object_type: ObjectType,
    pub object_id: String,
    pub content: String,
    pub author_user_id: Option<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}
