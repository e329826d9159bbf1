//! Review: the [`Reviews`] trait (annotation queues, their items and assignments, and
//! comments on traces, observations, sessions and prompts) and its query types.
//!
//! Both backends implement it with the same statements (`reviews_sql.rs`). Separate from
//! [`crate::Store`]: the ingest path never needs it.

use async_trait::async_trait;
use spindle_core::review::{
    Comment, ItemStatus, NewComment, NewQueue, NewQueueItem, ObjectType, Queue, QueueItem,
};
use spindle_core::time::Micros;

use crate::datasets::PageRequest;
use crate::{Page, Result};

/// `GET /api/public/comments` parameters: every filter given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommentQuery {
    pub page: PageRequest,
    pub object_type: Option<ObjectType>,
    pub object_id: Option<String>,
    pub author_user_id: Option<String>,
}

/// How far a queue is: its pending and completed items, who is assigned to it, and each
/// reviewer's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueProgress {
    pub queue_id: String,
    pub pending: u64,
    pub completed: u64,
    /// The users assigned to the queue, by id, sorted.
    pub assignees: Vec<String>,
    /// The assignees and anyone else who completed or holds an item of the queue, sorted by
    /// user id.
    pub reviewers: Vec<ReviewerProgress>,
}

/// One reviewer's part of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerProgress {
    pub user_id: String,
    /// Whether the user is assigned to the queue.
    pub assigned: bool,
    /// The completed items they completed last.
    pub completed: u64,
    /// The pending items review mode holds for them now.
    pub claimed: u64,
    /// The pending items they could take: those no other reviewer holds now (theirs
    /// included).
    pub available: u64,
}

/// Storage of annotation queues and comments. Lists are newest first. A queue, item or
/// comment of another project is never seen: it is as absent as one that does not exist.
#[async_trait]
pub trait Reviews: Send + Sync + 'static {
    /// Creates a queue; fails with `InvalidArgument` (`name`) when the project has a queue
    /// of that name.
    async fn create_queue(&self, project_id: &str, queue: &NewQueue) -> Result<Queue>;

    async fn get_queue(&self, project_id: &str, queue_id: &str) -> Result<Option<Queue>>;

    async fn list_queues(&self, project_id: &str, page: PageRequest) -> Result<Page<Queue>>;

    /// The items of a queue, those of `status` only when given; `None` when the queue does
    /// not exist.
    async fn list_queue_items(
        &self,
        project_id: &str,
        queue_id: &str,
        status: Option<ItemStatus>,
        page: PageRequest,
    ) -> Result<Option<Page<QueueItem>>>;

    /// An item of a queue; fails with `NotFound` when the queue does not exist.
    async fn get_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item_id: &str,
    ) -> Result<Option<QueueItem>>;

    /// Adds an object of the project to a queue (the object is referred to by id, as
    /// Langfuse does, and need not exist yet); completed items get their `completed_at`.
    /// Fails with `NotFound` when the queue does not exist and `InvalidArgument`
    /// (`objectType`) for a type a queue cannot hold.
    async fn add_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item: &NewQueueItem,
    ) -> Result<QueueItem>;

    /// Sets an item's status when one is given (marking it completed sets `completed_at`,
    /// clears `completed_by_user_id`, as no user did it, and releases any claim);
    /// `None` when there is no such item. Fails with `NotFound` when the queue does not
    /// exist.
    async fn update_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item_id: &str,
        status: Option<ItemStatus>,
    ) -> Result<Option<QueueItem>>;

    /// Removes an item; `false` when there was no such item. Fails with `NotFound` when the
    /// queue does not exist.
    async fn remove_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item_id: &str,
    ) -> Result<bool>;

    /// Assigns a user to a queue (again is a no-op). Fails with `NotFound` when the queue
    /// does not exist or the user does not exist or has no access to the project.
    async fn assign_queue(&self, project_id: &str, queue_id: &str, user_id: &str) -> Result<()>;

    /// Removes a user's assignment, if any. Fails with `NotFound` when the queue does not
    /// exist.
    async fn unassign_queue(&self, project_id: &str, queue_id: &str, user_id: &str) -> Result<()>;

    /// Each queue's pending and completed items, its assignees and its reviewers' progress
    /// (claims counted when they hold at `now`), for the queues of `queue_ids` that exist.
    async fn queue_progress(
        &self,
        project_id: &str,
        queue_ids: &[String],
        now: Micros,
    ) -> Result<Vec<QueueProgress>>;

    /// Claims the next pending item of a queue for a reviewer until `now` +
    /// [`spindle_core::review::CLAIM_MICROS`] and returns it: the item they hold already,
    /// else the oldest pending one nobody else holds (a claim past its time holds no more),
    /// never one of `skipped`, whose claims by this reviewer are released. Two reviewers
    /// claiming at once never get the same item. `None` when no item is left for them; fails
    /// with `NotFound` when the queue does not exist.
    async fn claim_next_item(
        &self,
        project_id: &str,
        queue_id: &str,
        user_id: &str,
        skipped: &[String],
        now: Micros,
    ) -> Result<Option<QueueItem>>;

    /// Creates a comment. Fails with `NotFound` (`objectId`) when the object does not exist
    /// in the project, and with `InvalidArgument` (`authorUserId`) when the author does not
    /// exist or has no access to the project.
    async fn create_comment(&self, project_id: &str, comment: &NewComment) -> Result<Comment>;

    async fn get_comment(&self, project_id: &str, comment_id: &str) -> Result<Option<Comment>>;

    async fn list_comments(&self, project_id: &str, query: &CommentQuery) -> Result<Page<Comment>>;

    /// The number of comments on each object of `object_ids` that has any.
    async fn comment_counts(
        &self,
        project_id: &str,
        object_type: ObjectType,
        object_ids: &[String],
    ) -> Result<Vec<(String, u64)>>;
}
