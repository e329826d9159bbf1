//! The review statements (annotation queues, their items and assignments, comments), written
//! once for both dialects, and [`Reviews`] implemented once for every backend that can run
//! them (an [`Executor`]).
//!
//! A queue's score config ids are kept as a JSON array of strings. Every write is one
//! statement (or one transaction) whose conditions make it write nothing when what it hangs
//! on is missing: a queue name taken, an item of a queue that does not exist.
//!
//! Claims: review mode hands a reviewer the oldest pending item nobody else holds, by one
//! `UPDATE … WHERE id = (SELECT … LIMIT 1)` that sets the claim. SQLite runs it on its one
//! writer, so two claims never interleave; PostgreSQL's subquery locks the row it picks
//! `FOR UPDATE SKIP LOCKED`, so a concurrent claim passes over it to the next item, and a
//! row claimed and committed meanwhile is checked again and skipped.
//!
//! Some statements are run by the backends inside their own transactions:
//! [`complete_item_statement`] in a write's (the item completed with the reviewer's scores),
//! [`forget_traces_statements`] and [`forget_objects_statements`] in a trace deletion's (the
//! comments and queue items of what goes).

use async_trait::async_trait;
use spindle_core::review::{
    Comment, ItemStatus, NewComment, NewQueue, NewQueueItem, ObjectType, Queue, QueueItem,
    QueueItemCompletion, CLAIM_MICROS,
};
use spindle_core::time::Micros;
use spindle_core::{Error, ErrorKind};

use crate::accounts_sql::changed_any;
use crate::datasets::PageRequest;
use crate::datasets_sql::{both_equal, count_rows, paged};
use crate::executor::{columns_and_codec, first, Executor, FromRow, Single, ToRow};
use crate::reviews::{CommentQuery, QueueProgress, ReviewerProgress, Reviews};
use crate::sql::{Dialect, Sql};
use crate::statements::{delete_where, insert, insert_select, qualified};
use crate::{new_uuid, now_micros, Page, Result};

// --- column lists and row codecs ---

/// An `annotation_queues` row.
struct QueueRow {
    id: String,
    project_id: String,
    name: String,
    description: Option<String>,
    score_config_ids: String,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(QUEUE_COLUMNS => QueueRow {
    id: text,
    project_id: text,
    name: text,
    description: opt_text,
    score_config_ids: text,
    created_at: int,
    updated_at: int,
});

impl QueueRow {
    fn into_queue(self) -> Result<Queue> {
        let score_config_ids: Vec<String> = serde_json::from_str(&self.score_config_ids)
            .map_err(|error| {
                Error::internal(format!(
                    "annotation queue {:?}: score config ids are not a JSON list of strings: {error}",
                    self.id
                ))
            })?;
        Ok(Queue {
            id: self.id,
            project_id: self.project_id,
            name: self.name,
            description: self.description,
            score_config_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// An `annotation_queue_items` row.
struct ItemRow {
    id: String,
    project_id: String,
    queue_id: String,
    object_id: String,
    object_type: String,
    status: String,
    completed_at: Option<i64>,
    completed_by_user_id: Option<String>,
    claimed_by_user_id: Option<String>,
    claim_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(ITEM_COLUMNS => ItemRow {
    id: text,
    project_id: text,
    queue_id: text,
    object_id: text,
    object_type: text,
    status: text,
    completed_at: opt_int,
    completed_by_user_id: opt_text,
    claimed_by_user_id: opt_text,
    claim_expires_at: opt_int,
    created_at: int,
    updated_at: int,
});

/// The stored object type of the row `id`.
fn object_type(id: &str, text: &str) -> Result<ObjectType> {
    ObjectType::parse(text)
        .ok_or_else(|| Error::internal(format!("{id:?}: unknown object type {text:?}")))
}

impl ItemRow {
    fn into_item(self) -> Result<QueueItem> {
        let status = ItemStatus::parse(&self.status).ok_or_else(|| {
            Error::internal(format!(
                "queue item {:?}: unknown status {:?}",
                self.id, self.status
            ))
        })?;
        Ok(QueueItem {
            object_type: object_type(&self.id, &self.object_type)?,
            status,
            id: self.id,
            project_id: self.project_id,
            queue_id: self.queue_id,
            object_id: self.object_id,
            completed_at: self.completed_at,
            completed_by_user_id: self.completed_by_user_id,
            claimed_by_user_id: self.claimed_by_user_id,
            claim_expires_at: self.claim_expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `comments` row.
struct CommentRow {
    id: String,
    project_id: String,
    object_type: String,
    object_id: String,
    content: String,
    author_user_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(COMMENT_COLUMNS => CommentRow {
    id: text,
    project_id: text,
    object_type: text,
    object_id: text,
    content: text,
    author_user_id: opt_text,
    created_at: int,
    updated_at: int,
});

impl CommentRow {
    fn into_comment(self) -> Result<Comment> {
        Ok(Comment {
            object_type: object_type(&self.id, &self.object_type)?,
            id: self.id,
            project_id: self.project_id,
            object_id: self.object_id,
            content: self.content,
            author_user_id: self.author_user_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A number of rows per key (`key`, `value`).
struct KeyCount {
    key: String,
    value: i64,
}

columns_and_codec!(_ => KeyCount { key: text, value: int });

/// A (key, text) pair of a grouped read.
struct KeyText {
    key: String,
    value: String,
}

columns_and_codec!(_ => KeyText { key: text, value: text });

// --- statements ---

/// `SELECT <columns> FROM <table> <alias> WHERE <alias>.project_id = …`.
fn select_from(
    db: &impl Executor,
    table: &str,
    alias: &str,
    columns: &str,
    project_id: &str,
) -> Sql {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {} FROM {table} {alias} WHERE {alias}.project_id = ",
            qualified(alias, columns)
        ),
    );
    sql.bind(project_id);
    sql
}

/// The row of `table` with this id (`SELECT <columns> FROM <table> t WHERE t.project_id = …
/// AND t.id = …`), read by `convert`.
async fn row_by_id<R: FromRow, T>(
    db: &impl Executor,
    table: &str,
    columns: &str,
    project_id: &str,
    id: &str,
    convert: fn(R) -> Result<T>,
) -> Result<Option<T>> {
    let mut sql = select_from(db, table, "t", columns, project_id);
    sql.push(" AND t.id = ").bind(id);
    first::<R>(db, sql).await?.map(convert).transpose()
}

/// Whether the statement (selecting one column named `value`) finds a row.
async fn exists(db: &impl Executor, mut sql: Sql) -> Result<bool> {
    sql.push(" LIMIT 1");
    Ok(first::<Single<String>>(db, sql).await?.is_some())
}

fn queue_not_found(queue_id: &str) -> Error {
    Error::not_found(format!("annotation queue {queue_id:?}"))
}

async fn queue_by_id(
    db: &impl Executor,
    project_id: &str,
    queue_id: &str,
) -> Result<Option<Queue>> {
    let queue = QueueRow::into_queue;
    row_by_id(
        db,
        "annotation_queues",
        QUEUE_COLUMNS,
        project_id,
        queue_id,
        queue,
    )
    .await
}

/// Fails with `NotFound` unless the queue exists.
async fn existing_queue(db: &impl Executor, project_id: &str, queue_id: &str) -> Result<Queue> {
    queue_by_id(db, project_id, queue_id)
        .await?
        .ok_or_else(|| queue_not_found(queue_id))
}

/// `SELECT <item columns> … WHERE project AND queue AND id`.
fn item_statement(db: &impl Executor, project_id: &str, queue_id: &str, item_id: &str) -> Sql {
    let mut sql = select_from(db, "annotation_queue_items", "i", ITEM_COLUMNS, project_id);
    sql.push(" AND i.queue_id = ")
        .bind(queue_id)
        .push(" AND i.id = ")
        .bind(item_id);
    sql
}

/// Whether the user exists and may see the project: an administrator, a member of the
/// project, or a member of its organization with a role there (not `NONE`).
async fn user_has_access(db: &impl Executor, project_id: &str, user_id: &str) -> Result<bool> {
    let dialect = db.dialect();
    let mut sql = Sql::new(dialect, "SELECT u.id AS value FROM users u WHERE u.id = ");
    sql.bind(user_id)
        .push(&format!(
            " AND (u.is_admin = {} OR EXISTS (SELECT 1 FROM memberships m \
             WHERE m.user_id = u.id AND m.project_id = ",
            dialect.boolean(true)
        ))
        .bind(project_id)
        .push(
            ") OR EXISTS (SELECT 1 FROM organization_memberships om \
             JOIN projects p ON p.organization_id = om.organization_id \
             WHERE om.user_id = u.id AND om.role <> 'NONE' AND p.id = ",
        )
        .bind(project_id)
        .push("))");
    exists(db, sql).await
}

/// Per queue and user: the items the user completed (`kind` `completed`) or holds a live
/// claim on (`claimed`).
struct ReviewerCount {
    queue_id: String,
    kind: String,
    user_id: String,
    value: i64,
}

columns_and_codec!(_ => ReviewerCount { queue_id: text, kind: text, user_id: text, value: int });

/// `(queue_id, status)` item counts of the queues of `queue_ids`, as `key` `queue:status`.
fn status_counts(dialect: Dialect, project_id: &str, queue_ids: &[String]) -> Sql {
    let mut counts = Sql::new(
        dialect,
        "SELECT i.queue_id || ':' || i.status AS key, count(*) AS value \
         FROM annotation_queue_items i WHERE i.project_id = ",
    );
    counts.bind(project_id).push(" AND ");
    counts.in_list("i.queue_id", queue_ids.to_vec(), false);
    counts.push(" GROUP BY i.queue_id, i.status");
    counts
}

/// The [`ReviewerCount`]s of the queues of `queue_ids`: completed items per completer, and
/// pending items per reviewer whose claim still holds at `now`.
fn reviewer_counts(dialect: Dialect, project_id: &str, queue_ids: &[String], now: Micros) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT i.queue_id AS queue_id, 'completed' AS kind, \
         i.completed_by_user_id AS user_id, count(*) AS value \
         FROM annotation_queue_items i WHERE i.project_id = ",
    );
    sql.bind(project_id).push(" AND ");
    sql.in_list("i.queue_id", queue_ids.to_vec(), false);
    sql.push(" AND i.status = ")
        .bind(ItemStatus::Completed.as_str())
        .push(
            " AND i.completed_by_user_id IS NOT NULL \
             GROUP BY i.queue_id, i.completed_by_user_id \
             UNION ALL SELECT c.queue_id AS queue_id, 'claimed' AS kind, \
             c.claimed_by_user_id AS user_id, count(*) AS value \
             FROM annotation_queue_items c WHERE c.project_id = ",
        )
        .bind(project_id)
        .push(" AND ");
    sql.in_list("c.queue_id", queue_ids.to_vec(), false);
    sql.push(" AND c.status = ")
        .bind(ItemStatus::Pending.as_str())
        .push(" AND c.claimed_by_user_id IS NOT NULL AND c.claim_expires_at > ")
        .bind(now)
        .push(" GROUP BY c.queue_id, c.claimed_by_user_id");
    sql
}

/// Each reviewer of a queue (its assignees, and whoever else completed or holds one of its
/// items), sorted by user id: what they completed, the claims they hold, and the pending
/// items they could take (those nobody else holds).
fn reviewers_of(
    assigned: &[String],
    counts: &[&ReviewerCount],
    pending: u64,
) -> Vec<ReviewerProgress> {
    let count = |user_id: &str, kind: &str| {
        counts
            .iter()
            .filter(|count| count.user_id == user_id && count.kind == kind)
            .map(|count| count.value.max(0) as u64)
            .sum::<u64>()
    };
    let claimed_by_anyone: u64 = counts
        .iter()
        .filter(|count| count.kind == "claimed")
        .map(|count| count.value.max(0) as u64)
        .sum();
    let mut user_ids: Vec<&str> = assigned
        .iter()
        .map(String::as_str)
        .chain(counts.iter().map(|count| count.user_id.as_str()))
        .collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    user_ids
        .into_iter()
        .map(|user_id| {
            let claimed = count(user_id, "claimed");
            ReviewerProgress {
                user_id: user_id.to_owned(),
                assigned: assigned.iter().any(|assignee| assignee == user_id),
                completed: count(user_id, "completed"),
                claimed,
                available: pending.saturating_sub(claimed_by_anyone - claimed),
            }
        })
        .collect()
}

// --- claims and completion ---

/// `… AND (<alias>claimed_by_user_id IS NULL OR … = user OR <alias>claim_expires_at <= now)`:
/// the item is free for `user_id` at `now`.
fn free_for(sql: &mut Sql, alias: &str, user_id: &str, now: Micros) {
    sql.push(&format!(
        " AND ({alias}claimed_by_user_id IS NULL OR {alias}claimed_by_user_id = "
    ))
    .bind(user_id)
    .push(&format!(" OR {alias}claim_expires_at <= "))
    .bind(now)
    .push(")");
}

/// The statement that completes a queue item for a reviewer in the transaction of the write
/// that stores their scores: the item completed by them, its claim released. It changes no
/// row when the item is gone or another reviewer's claim holds at `now`; the writer then
/// fails the whole write with [`completion_refused`], so the scores are not stored either.
pub fn complete_item_statement(
    dialect: Dialect,
    project_id: &str,
    completion: &QueueItemCompletion,
    now: Micros,
) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE annotation_queue_items SET status = ");
    sql.bind(ItemStatus::Completed.as_str())
        .push(", completed_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(", completed_by_user_id = ")
        .bind(completion.user_id.as_str())
        .push(", claimed_by_user_id = NULL, claim_expires_at = NULL WHERE project_id = ")
        .bind(project_id)
        .push(" AND queue_id = ")
        .bind(completion.queue_id.as_str())
        .push(" AND id = ")
        .bind(completion.item_id.as_str());
    free_for(&mut sql, "", &completion.user_id, now);
    sql
}

/// The error of a write whose [`complete_item_statement`] changed nothing.
pub fn completion_refused(completion: &QueueItemCompletion) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "annotation queue item {:?}: removed, or another reviewer holds it",
            completion.item_id
        ),
    )
}

// --- what goes with deleted traces ---

/// The tables whose rows refer to traces, observations and sessions by id.
const REVIEW_TABLES: [&str; 2] = ["comments", "annotation_queue_items"];

/// The statements that delete the comments and queue items of `object_type` objects of
/// `object_ids` (observations and sessions that went with their traces' deletion).
pub fn forget_objects_statements(
    dialect: Dialect,
    project_id: &str,
    object_type: ObjectType,
    object_ids: &[String],
) -> Vec<Sql> {
    REVIEW_TABLES
        .iter()
        .map(|table| {
            let mut sql = Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
            sql.bind(project_id)
                .push(" AND object_type = ")
                .bind(object_type.as_str())
                .push(" AND ");
            sql.in_list("object_id", object_ids.to_vec(), false);
            sql
        })
        .collect()
}

/// The statements that delete the comments and queue items of the traces of `trace_ids`, of
/// their observations, and of their sessions that no other trace keeps. Run in the deletion's
/// transaction before the traces and observations are deleted (they are read to find the
/// observations and sessions).
pub fn forget_traces_statements(
    dialect: Dialect,
    project_id: &str,
    trace_ids: &[String],
) -> Vec<Sql> {
    let mut statements =
        forget_objects_statements(dialect, project_id, ObjectType::Trace, trace_ids);
    for table in REVIEW_TABLES {
        let mut observations =
            Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
        observations
            .bind(project_id)
            .push(" AND object_type = ")
            .bind(ObjectType::Observation.as_str())
            .push(" AND object_id IN (SELECT o.id FROM observations o WHERE o.project_id = ")
            .bind(project_id)
            .push(" AND ");
        observations.in_list("o.trace_id", trace_ids.to_vec(), false);
        observations.push(")");
        statements.push(observations);

        let mut sessions = Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
        sessions
            .bind(project_id)
            .push(" AND object_type = ")
            .bind(ObjectType::Session.as_str())
            .push(" AND object_id IN (SELECT t.session_id FROM traces t WHERE t.project_id = ")
            .bind(project_id)
            .push(" AND t.session_id IS NOT NULL AND ");
        sessions.in_list("t.id", trace_ids.to_vec(), false);
        sessions.push(&format!(
            ") AND NOT EXISTS (SELECT 1 FROM traces s WHERE s.project_id = {table}.project_id \
                 AND s.session_id = {table}.object_id AND "
        ));
        sessions.in_list("s.id", trace_ids.to_vec(), true);
        sessions.push(")");
        statements.push(sessions);
    }
    statements
}

/// The statement that finds the object a comment is about, if it exists in the project.
fn object_lookup(
    db: &impl Executor,
    project_id: &str,
    object_type: ObjectType,
    object_id: &str,
) -> Sql {
    let (table, column) = match object_type {
        ObjectType::Trace => ("traces", "id"),
        ObjectType::Observation => ("observations", "id"),
        ObjectType::Session => ("traces", "session_id"),
        ObjectType::Prompt => ("prompts", "id"),
    };
    let mut sql = Sql::new(
        db.dialect(),
        &format!("SELECT {column} AS value FROM {table} WHERE project_id = "),
    );
    sql.bind(project_id)
        .push(&format!(" AND {column} = "))
        .bind(object_id);
    sql
}

#[async_trait]
impl<E: Executor> Reviews for E {
    async fn create_queue(&self, project_id: &str, queue: &NewQueue) -> Result<Queue> {
        let now = now_micros();
        let score_config_ids = serde_json::to_string(&queue.score_config_ids)
            .map_err(|error| Error::internal(format!("score config ids: {error}")))?;
        let row = QueueRow {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            name: queue.name.clone(),
            description: queue.description.clone(),
            score_config_ids,
            created_at: now,
            updated_at: now,
        };
        let mut sql = insert(
            self.dialect(),
            "annotation_queues",
            QUEUE_COLUMNS,
            row.values(),
        );
        sql.push(" ON CONFLICT (project_id, name) DO NOTHING");
        let changed = self.modify(vec![sql]).await?;
        if changed.first().copied().unwrap_or(0) == 0 {
            return Err(Error::invalid(
                "name",
                format!(
                    "a queue named {:?} already exists in this project",
                    queue.name
                ),
            ));
        }
        row.into_queue()
    }

    async fn get_queue(&self, project_id: &str, queue_id: &str) -> Result<Option<Queue>> {
        queue_by_id(self, project_id, queue_id).await
    }

    async fn list_queues(&self, project_id: &str, request: PageRequest) -> Result<Page<Queue>> {
        let rows = select_from(self, "annotation_queues", "q", QUEUE_COLUMNS, project_id);
        let count = count_rows(self.dialect(), "annotation_queues", "q", project_id);
        let page: Page<QueueRow> = paged(self, rows, count, "q", request).await?;
        page.try_map(QueueRow::into_queue)
    }

    async fn list_queue_items(
        &self,
        project_id: &str,
        queue_id: &str,
        status: Option<ItemStatus>,
        request: PageRequest,
    ) -> Result<Option<Page<QueueItem>>> {
        if queue_by_id(self, project_id, queue_id).await?.is_none() {
            return Ok(None);
        }
        let mut rows = select_from(
            self,
            "annotation_queue_items",
            "i",
            ITEM_COLUMNS,
            project_id,
        );
        let mut count = count_rows(self.dialect(), "annotation_queue_items", "i", project_id);
        both_equal(&mut rows, &mut count, "i.queue_id", queue_id);
        if let Some(status) = status {
            both_equal(&mut rows, &mut count, "i.status", status.as_str());
        }
        let page: Page<ItemRow> = paged(self, rows, count, "i", request).await?;
        page.try_map(ItemRow::into_item).map(Some)
    }

    async fn get_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item_id: &str,
    ) -> Result<Option<QueueItem>> {
        existing_queue(self, project_id, queue_id).await?;
        first::<ItemRow>(self, item_statement(self, project_id, queue_id, item_id))
            .await?
            .map(ItemRow::into_item)
            .transpose()
    }

    async fn add_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item: &NewQueueItem,
    ) -> Result<QueueItem> {
        if !item.object_type.queueable() {
            return Err(Error::invalid(
                "objectType",
                "must be \"TRACE\", \"OBSERVATION\" or \"SESSION\"",
            ));
        }
        let now = now_micros();
        let status = item.status.unwrap_or(ItemStatus::Pending);
        let row = ItemRow {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            queue_id: queue_id.to_owned(),
            object_id: item.object_id.clone(),
            object_type: item.object_type.as_str().to_owned(),
            status: status.as_str().to_owned(),
            completed_at: (status == ItemStatus::Completed).then_some(now),
            completed_by_user_id: None,
            claimed_by_user_id: None,
            claim_expires_at: None,
            created_at: now,
            updated_at: now,
        };
        // Inserted only when the queue exists, in the same statement.
        let dialect = self.dialect();
        let mut sql = insert_select(
            dialect,
            "annotation_queue_items",
            ITEM_COLUMNS,
            row.values(),
            &[("queue_id", Sql::new(dialect, "q.id"))],
        );
        sql.push(" FROM annotation_queues q WHERE q.project_id = ")
            .bind(project_id)
            .push(" AND q.id = ")
            .bind(queue_id);
        let changed = self.modify(vec![sql]).await?;
        if changed.first().copied().unwrap_or(0) == 0 {
            return Err(queue_not_found(queue_id));
        }
        row.into_item()
    }

    async fn update_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item_id: &str,
        status: Option<ItemStatus>,
    ) -> Result<Option<QueueItem>> {
        existing_queue(self, project_id, queue_id).await?;
        let now = now_micros();
        let mut sql = Sql::new(
            self.dialect(),
            "UPDATE annotation_queue_items SET updated_at = ",
        );
        sql.bind(now);
        if let Some(status) = status {
            sql.push(", status = ").bind(status.as_str());
            if status == ItemStatus::Completed {
                // Completed with an API key: by no user, and nobody's to review any more.
                sql.push(", completed_at = ")
                    .bind(now)
                    .push(", completed_by_user_id = NULL")
                    .push(", claimed_by_user_id = NULL, claim_expires_at = NULL");
            }
        }
        sql.push(" WHERE project_id = ")
            .bind(project_id)
            .push(" AND queue_id = ")
            .bind(queue_id)
            .push(" AND id = ")
            .bind(item_id)
            .push(&format!(" RETURNING {ITEM_COLUMNS}"));
        let rows: Vec<ItemRow> = self.modify_returning(sql).await?;
        rows.into_iter().next().map(ItemRow::into_item).transpose()
    }

    async fn remove_queue_item(
        &self,
        project_id: &str,
        queue_id: &str,
        item_id: &str,
    ) -> Result<bool> {
        existing_queue(self, project_id, queue_id).await?;
        let sql = delete_where(
            self.dialect(),
            "annotation_queue_items",
            &[
                ("project_id", project_id),
                ("queue_id", queue_id),
                ("id", item_id),
            ],
        );
        changed_any(self, sql).await
    }

    async fn assign_queue(&self, project_id: &str, queue_id: &str, user_id: &str) -> Result<()> {
        existing_queue(self, project_id, queue_id).await?;
        if !user_has_access(self, project_id, user_id).await? {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("userId: user {user_id:?} not found or without access to this project"),
            ));
        }
        let values = [project_id, queue_id, user_id]
            .map(crate::sql::Param::from)
            .into_iter()
            .chain([now_micros().into()]);
        let mut sql = insert(
            self.dialect(),
            "annotation_queue_assignments",
            "project_id, queue_id, user_id, created_at",
            values,
        );
        sql.push(" ON CONFLICT (project_id, queue_id, user_id) DO NOTHING");
        self.modify(vec![sql]).await?;
        Ok(())
    }

    async fn unassign_queue(&self, project_id: &str, queue_id: &str, user_id: &str) -> Result<()> {
        existing_queue(self, project_id, queue_id).await?;
        let sql = delete_where(
            self.dialect(),
            "annotation_queue_assignments",
            &[
                ("project_id", project_id),
                ("queue_id", queue_id),
                ("user_id", user_id),
            ],
        );
        self.modify(vec![sql]).await?;
        Ok(())
    }

    async fn queue_progress(
        &self,
        project_id: &str,
        queue_ids: &[String],
        now: Micros,
    ) -> Result<Vec<QueueProgress>> {
        let dialect = self.dialect();
        let mut queues = Sql::new(
            dialect,
            "SELECT q.id AS value FROM annotation_queues q WHERE q.project_id = ",
        );
        queues.bind(project_id).push(" AND ");
        queues.in_list("q.id", queue_ids.to_vec(), false);
        queues.push(" ORDER BY q.id");
        let (existing, per_reviewer): (Vec<Single<String>>, Vec<ReviewerCount>) = self
            .select_pair(queues, reviewer_counts(dialect, project_id, queue_ids, now))
            .await?;
        let mut assignees = Sql::new(
            dialect,
            "SELECT a.queue_id AS key, a.user_id AS value \
         FROM annotation_queue_assignments a WHERE a.project_id = ",
        );
        assignees.bind(project_id).push(" AND ");
        assignees.in_list("a.queue_id", queue_ids.to_vec(), false);
        assignees.push(" ORDER BY a.queue_id, a.user_id");
        let (counts, assignees): (Vec<KeyCount>, Vec<KeyText>) = self
            .select_pair(status_counts(dialect, project_id, queue_ids), assignees)
            .await?;
        let count_of = |queue_id: &str, status: ItemStatus| {
            let key = format!("{queue_id}:{}", status.as_str());
            counts
                .iter()
                .find(|count| count.key == key)
                .map_or(0, |count| count.value.max(0) as u64)
        };
        Ok(existing
            .into_iter()
            .map(|Single(queue_id)| {
                let pending = count_of(&queue_id, ItemStatus::Pending);
                let assigned: Vec<String> = assignees
                    .iter()
                    .filter(|assignee| assignee.key == queue_id)
                    .map(|assignee| assignee.value.clone())
                    .collect();
                let of_queue: Vec<&ReviewerCount> = per_reviewer
                    .iter()
                    .filter(|count| count.queue_id == queue_id)
                    .collect();
                QueueProgress {
                    completed: count_of(&queue_id, ItemStatus::Completed),
                    reviewers: reviewers_of(&assigned, &of_queue, pending),
                    assignees: assigned,
                    pending,
                    queue_id,
                }
            })
            .collect())
    }

    async fn claim_next_item(
        &self,
        project_id: &str,
        queue_id: &str,
        user_id: &str,
        skipped: &[String],
        now: Micros,
    ) -> Result<Option<QueueItem>> {
        existing_queue(self, project_id, queue_id).await?;
        let dialect = self.dialect();
        if !skipped.is_empty() {
            // What the reviewer skipped is theirs no more.
            let mut release = Sql::new(
                dialect,
                "UPDATE annotation_queue_items \
             SET claimed_by_user_id = NULL, claim_expires_at = NULL WHERE project_id = ",
            );
            release
                .bind(project_id)
                .push(" AND queue_id = ")
                .bind(queue_id)
                .push(" AND claimed_by_user_id = ")
                .bind(user_id)
                .push(" AND ");
            release.in_list("id", skipped.to_vec(), false);
            self.modify(vec![release]).await?;
        }
        // The reviewer's own claim first (a reload finds the same item), then the oldest.
        let mut pick = Sql::new(
            dialect,
            "SELECT c.id FROM annotation_queue_items c WHERE c.project_id = ",
        );
        pick.bind(project_id)
            .push(" AND c.queue_id = ")
            .bind(queue_id)
            .push(" AND c.status = ")
            .bind(ItemStatus::Pending.as_str())
            .push(" AND ");
        pick.in_list("c.id", skipped.to_vec(), true);
        free_for(&mut pick, "c.", user_id, now);
        pick.push(" ORDER BY CASE WHEN c.claimed_by_user_id = ")
            .bind(user_id)
            .push(" THEN 0 ELSE 1 END, c.created_at, c.id LIMIT 1")
            .push(dialect.skip_locked());
        let mut claim = Sql::new(
            dialect,
            "UPDATE annotation_queue_items SET claimed_by_user_id = ",
        );
        claim
            .bind(user_id)
            .push(", claim_expires_at = ")
            .bind(now.saturating_add(CLAIM_MICROS))
            .push(" WHERE project_id = ")
            .bind(project_id)
            .push(" AND queue_id = ")
            .bind(queue_id)
            .push(" AND id = (")
            .append(&pick)
            .push(&format!(") RETURNING {ITEM_COLUMNS}"));
        let rows: Vec<ItemRow> = self.modify_returning(claim).await?;
        rows.into_iter().next().map(ItemRow::into_item).transpose()
    }

    async fn create_comment(&self, project_id: &str, comment: &NewComment) -> Result<Comment> {
        if let Some(author) = &comment.author_user_id {
            if !user_has_access(self, project_id, author).await? {
                return Err(Error::invalid(
                    "authorUserId",
                    "must be a user with access to this project",
                ));
            }
        }
        let lookup = object_lookup(self, project_id, comment.object_type, &comment.object_id);
        if !exists(self, lookup).await? {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "objectId: no {} {:?} in this project",
                    comment.object_type.as_str(),
                    comment.object_id
                ),
            ));
        }
        let now = now_micros();
        let row = CommentRow {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            object_type: comment.object_type.as_str().to_owned(),
            object_id: comment.object_id.clone(),
            content: comment.content.clone(),
            author_user_id: comment.author_user_id.clone(),
            created_at: now,
            updated_at: now,
        };
        self.modify(vec![insert(
            self.dialect(),
            "comments",
            COMMENT_COLUMNS,
            row.values(),
        )])
        .await?;
        row.into_comment()
    }

    async fn get_comment(&self, project_id: &str, comment_id: &str) -> Result<Option<Comment>> {
        let comment = CommentRow::into_comment;
        row_by_id(
            self,
            "comments",
            COMMENT_COLUMNS,
            project_id,
            comment_id,
            comment,
        )
        .await
    }

    async fn list_comments(&self, project_id: &str, query: &CommentQuery) -> Result<Page<Comment>> {
        let mut rows = select_from(self, "comments", "c", COMMENT_COLUMNS, project_id);
        let mut count = count_rows(self.dialect(), "comments", "c", project_id);
        if let Some(object_type) = query.object_type {
            both_equal(&mut rows, &mut count, "c.object_type", object_type.as_str());
        }
        if let Some(object_id) = &query.object_id {
            both_equal(&mut rows, &mut count, "c.object_id", object_id);
        }
        if let Some(author) = &query.author_user_id {
            both_equal(&mut rows, &mut count, "c.author_user_id", author);
        }
        let page: Page<CommentRow> = paged(self, rows, count, "c", query.page).await?;
        page.try_map(CommentRow::into_comment)
    }

    async fn comment_counts(
        &self,
        project_id: &str,
        object_type: ObjectType,
        object_ids: &[String],
    ) -> Result<Vec<(String, u64)>> {
        if object_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            self.dialect(),
            "SELECT c.object_id AS key, count(*) AS value FROM comments c WHERE c.project_id = ",
        );
        sql.bind(project_id)
            .push(" AND c.object_type = ")
            .bind(object_type.as_str())
            .push(" AND ");
        sql.in_list("c.object_id", object_ids.to_vec(), false);
        sql.push(" GROUP BY c.object_id ORDER BY c.object_id");
        let rows: Vec<KeyCount> = self.select(sql).await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.key, row.value.max(0) as u64))
            .collect())
    }
}
