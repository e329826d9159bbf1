//! The review conformance suite: the behaviour every [`Reviews`] backend must have
//! (annotation queues by unique name, their items and statuses, assignments of users with
//! access, comments only on objects that exist, filters, pages, project isolation), run as
//! one `#[tokio::test]` per case by [`reviews_conformance_suite!`](crate::reviews_conformance_suite).
//!
//! A backend's test file passes a function from a case's private directory to a future of the
//! store, as for the prompts suite.

use super::fixtures::{
    batch_of_observations, batch_of_traces, simple_observation, simple_trace, BASE,
};
use crate::accounts::{Accounts, Membership, Role, User};
use crate::datasets::PageRequest;
use crate::prompts::Prompts;
use crate::reviews::{CommentQuery, QueueProgress, Reviews};
use crate::{ErrorKind, Store};
use spindle_core::prompt::{NewPrompt, PromptType};
use spindle_core::review::{ItemStatus, NewComment, NewQueue, NewQueueItem, ObjectType};
use std::sync::Arc;

/// A backend of the suite.
pub trait ReviewsStore: Store + Reviews + Accounts + Prompts {}

impl<S: Store + Reviews + Accounts + Prompts> ReviewsStore for S {}

/// Expands to one `#[tokio::test]` per review case for the backend opened by `$open`, a
/// function from a directory to a future of the store. The calling crate needs `tokio` with
/// `macros` and `rt-multi-thread`.
#[macro_export]
macro_rules! reviews_conformance_suite {
    ($open:expr) => {
        $crate::__module_conformance_cases!(
            reviews, $open;
            annotation_queues_have_unique_names_per_project,
            annotation_queue_items_move_from_pending_to_completed,
            annotation_queue_assignments_need_project_access,
            comments_need_an_existing_object,
            comments_filter_page_and_count,
        );
    };
}

const PROJECT: &str = "p1";
const OTHER: &str = "p2";

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest { page, limit }
}

fn queue(name: &str) -> NewQueue {
    NewQueue {
        name: name.to_owned(),
        description: None,
        score_config_ids: vec!["config-1".to_owned()],
    }
}

fn item(object_type: ObjectType, object_id: &str, status: Option<ItemStatus>) -> NewQueueItem {
    NewQueueItem {
        object_id: object_id.to_owned(),
        object_type,
        status,
    }
}

fn comment(object_type: ObjectType, object_id: &str, author: Option<&str>) -> NewComment {
    NewComment {
        object_type,
        object_id: object_id.to_owned(),
        content: format!("about {object_id}"),
        author_user_id: author.map(str::to_owned),
    }
}

async fn add_user(store: &impl Accounts, id: &str, is_admin: bool, member_of: Option<&str>) {
    store
        .create_user(&User {
            id: id.to_owned(),
            email: format!("{id}@example.com"),
            name: None,
            password_hash: None,
            is_admin,
            created_at: BASE,
        })
        .await
        .expect("user");
    if let Some(project_id) = member_of {
        store
            .set_membership(
                &Membership {
                    user_id: id.to_owned(),
                    project_id: project_id.to_owned(),
                    role: Role::Member,
                },
                BASE,
            )
            .await
            .expect("membership");
    }
}

pub async fn annotation_queues_have_unique_names_per_project<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let created = store
        .create_queue(
            PROJECT,
            &NewQueue {
                description: Some("hallucinations".to_owned()),
                score_config_ids: vec!["c1".to_owned(), "c2".to_owned()],
                ..queue("triage")
            },
        )
        .await
        .expect("create");
    assert_eq!(created.id.len(), 36);
    assert_eq!(created.project_id, PROJECT);
    assert_eq!(created.score_config_ids, ["c1", "c2"]);
    assert_eq!(created.created_at, created.updated_at);
    let read = store
        .get_queue(PROJECT, &created.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(read, created);

    let taken = store
        .create_queue(PROJECT, &queue("triage"))
        .await
        .expect_err("a name is unique");
    assert_eq!(taken.kind, ErrorKind::InvalidArgument);
    assert!(taken.message.starts_with("name: "), "{}", taken.message);
    let other = store
        .create_queue(OTHER, &queue("triage"))
        .await
        .expect("the same name in another project");
    assert_ne!(other.id, created.id);
    assert_eq!(
        store.get_queue(OTHER, &created.id).await.expect("get"),
        None
    );

    for name in ["b", "c"] {
        store
            .create_queue(PROJECT, &queue(name))
            .await
            .expect("create");
    }
    let first = store.list_queues(PROJECT, page(1, 2)).await.expect("list");
    assert_eq!(first.total_items, 3);
    assert_eq!(first.items.len(), 2);
    let second = store.list_queues(PROJECT, page(2, 2)).await.expect("list");
    let mut names: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|queue| queue.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["b", "c", "triage"]);
    let others = store.list_queues(OTHER, page(1, 10)).await.expect("list");
    assert_eq!(others.total_items, 1);
}

pub async fn annotation_queue_items_move_from_pending_to_completed<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let triage = store
        .create_queue(PROJECT, &queue("triage"))
        .await
        .expect("create");

    let missing = store
        .add_queue_item(PROJECT, "absent", &item(ObjectType::Trace, "t1", None))
        .await
        .expect_err("unknown queue");
    assert_eq!(missing.kind, ErrorKind::NotFound);
    let foreign = store
        .add_queue_item(OTHER, &triage.id, &item(ObjectType::Trace, "t1", None))
        .await
        .expect_err("a queue of another project");
    assert_eq!(foreign.kind, ErrorKind::NotFound);
    let prompt = store
        .add_queue_item(PROJECT, &triage.id, &item(ObjectType::Prompt, "p", None))
        .await
        .expect_err("prompts are not queued");
    assert_eq!(prompt.kind, ErrorKind::InvalidArgument);
    assert!(
        prompt.message.starts_with("objectType: "),
        "{}",
        prompt.message
    );

    let pending = store
        .add_queue_item(PROJECT, &triage.id, &item(ObjectType::Trace, "t1", None))
        .await
        .expect("add");
    assert_eq!(pending.status, ItemStatus::Pending);
    assert_eq!(pending.completed_at, None);
    assert_eq!(pending.queue_id, triage.id);
    assert_eq!(pending.object_type, ObjectType::Trace);
    let done = store
        .add_queue_item(
            PROJECT,
            &triage.id,
            &item(ObjectType::Observation, "o1", Some(ItemStatus::Completed)),
        )
        .await
        .expect("add completed");
    assert_eq!(done.status, ItemStatus::Completed);
    assert_eq!(done.completed_at, Some(done.created_at));
    store
        .add_queue_item(PROJECT, &triage.id, &item(ObjectType::Session, "s1", None))
        .await
        .expect("add session");

    let all = store
        .list_queue_items(PROJECT, &triage.id, None, page(1, 2))
        .await
        .expect("list")
        .expect("queue exists");
    assert_eq!(all.total_items, 3);
    assert_eq!(all.items.len(), 2);
    let pending_only = store
        .list_queue_items(PROJECT, &triage.id, Some(ItemStatus::Pending), page(1, 10))
        .await
        .expect("list")
        .expect("queue exists");
    assert_eq!(pending_only.total_items, 2);
    assert!(pending_only
        .items
        .iter()
        .all(|item| item.status == ItemStatus::Pending));
    assert_eq!(
        store
            .list_queue_items(PROJECT, "absent", None, page(1, 10))
            .await
            .expect("list"),
        None
    );
    assert_eq!(
        store
            .list_queue_items(OTHER, &triage.id, None, page(1, 10))
            .await
            .expect("list"),
        None
    );

    let read = store
        .get_queue_item(PROJECT, &triage.id, &pending.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(read, pending);
    let wrong_queue = store
        .get_queue_item(PROJECT, "absent", &pending.id)
        .await
        .expect_err("unknown queue");
    assert_eq!(wrong_queue.kind, ErrorKind::NotFound);

    let completed = store
        .update_queue_item(
            PROJECT,
            &triage.id,
            &pending.id,
            Some(ItemStatus::Completed),
        )
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(completed.status, ItemStatus::Completed);
    let completed_at = completed.completed_at.expect("completed at");
    assert!(completed_at >= pending.created_at);
    assert_eq!(completed.created_at, pending.created_at);
    // Back to pending keeps when it was completed, as Langfuse does.
    let reopened = store
        .update_queue_item(PROJECT, &triage.id, &pending.id, Some(ItemStatus::Pending))
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(reopened.status, ItemStatus::Pending);
    assert_eq!(reopened.completed_at, Some(completed_at));
    let unchanged = store
        .update_queue_item(PROJECT, &triage.id, &pending.id, None)
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(unchanged.status, ItemStatus::Pending);
    assert_eq!(
        store
            .update_queue_item(PROJECT, &triage.id, "absent", Some(ItemStatus::Completed))
            .await
            .expect("update"),
        None
    );

    assert!(store
        .remove_queue_item(PROJECT, &triage.id, &pending.id)
        .await
        .expect("remove"));
    assert!(!store
        .remove_queue_item(PROJECT, &triage.id, &pending.id)
        .await
        .expect("remove again"));
    assert_eq!(
        store
            .get_queue_item(PROJECT, &triage.id, &pending.id)
            .await
            .expect("get"),
        None
    );
    let removed_elsewhere = store
        .remove_queue_item(OTHER, &triage.id, &done.id)
        .await
        .expect_err("a queue of another project");
    assert_eq!(removed_elsewhere.kind, ErrorKind::NotFound);
    let progress = store
        .queue_progress(PROJECT, std::slice::from_ref(&triage.id))
        .await
        .expect("progress");
    assert_eq!(
        progress,
        [QueueProgress {
            queue_id: triage.id.clone(),
            pending: 1,
            completed: 1,
            assignees: Vec::new(),
        }]
    );
}

pub async fn annotation_queue_assignments_need_project_access<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    add_user(store, "member", false, Some(PROJECT)).await;
    add_user(store, "outsider", false, Some(OTHER)).await;
    add_user(store, "admin", true, None).await;
    let triage = store
        .create_queue(PROJECT, &queue("triage"))
        .await
        .expect("create");
    let spare = store
        .create_queue(PROJECT, &queue("spare"))
        .await
        .expect("create");

    for user in ["member", "member", "admin"] {
        store
            .assign_queue(PROJECT, &triage.id, user)
            .await
            .expect("assign");
    }
    for user in ["outsider", "nobody"] {
        let refused = store
            .assign_queue(PROJECT, &triage.id, user)
            .await
            .expect_err("no access");
        assert_eq!(refused.kind, ErrorKind::NotFound);
        assert!(
            refused.message.starts_with("userId: "),
            "{}",
            refused.message
        );
    }
    let unknown = store
        .assign_queue(PROJECT, "absent", "member")
        .await
        .expect_err("unknown queue");
    assert_eq!(unknown.kind, ErrorKind::NotFound);

    let ids = [triage.id.clone(), spare.id.clone(), "absent".to_owned()];
    let mut progress = store.queue_progress(PROJECT, &ids).await.expect("progress");
    progress.sort_by(|a, b| a.queue_id.cmp(&b.queue_id));
    let mut expected = vec![
        QueueProgress {
            queue_id: triage.id.clone(),
            pending: 0,
            completed: 0,
            assignees: vec!["admin".to_owned(), "member".to_owned()],
        },
        QueueProgress {
            queue_id: spare.id.clone(),
            pending: 0,
            completed: 0,
            assignees: Vec::new(),
        },
    ];
    expected.sort_by(|a, b| a.queue_id.cmp(&b.queue_id));
    assert_eq!(progress, expected);

    store
        .unassign_queue(PROJECT, &triage.id, "member")
        .await
        .expect("unassign");
    store
        .unassign_queue(PROJECT, &triage.id, "member")
        .await
        .expect("unassign again is no error");
    let unknown = store
        .unassign_queue(PROJECT, "absent", "member")
        .await
        .expect_err("unknown queue");
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    let progress = store
        .queue_progress(PROJECT, std::slice::from_ref(&triage.id))
        .await
        .expect("progress");
    assert_eq!(progress[0].assignees, ["admin"]);
    assert!(store
        .queue_progress(OTHER, std::slice::from_ref(&triage.id))
        .await
        .expect("progress")
        .is_empty());
}

/// A trace `t1` in session `s1` with an observation `o1` in `PROJECT`, a trace `t-other` in
/// `OTHER`, and the id of a prompt version of `PROJECT`.
async fn objects(store: &impl ReviewsStore) -> String {
    let mut trace = simple_trace("t1", BASE, "chat");
    trace.session_id = Some("s1".to_owned());
    store
        .write(PROJECT, batch_of_traces(vec![trace]))
        .await
        .expect("trace");
    store
        .write(
            PROJECT,
            batch_of_observations(vec![simple_observation("o1", "t1", BASE, None)]),
        )
        .await
        .expect("observation");
    store
        .write(
            OTHER,
            batch_of_traces(vec![simple_trace("t-other", BASE, "x")]),
        )
        .await
        .expect("trace of another project");
    let prompt = NewPrompt {
        name: "greeting".to_owned(),
        prompt_type: PromptType::Text,
        prompt: "\"hello\"".to_owned(),
        config: "{}".to_owned(),
        labels: Vec::new(),
        tags: None,
        commit_message: None,
    };
    store
        .create_prompt(
            PROJECT,
            &prompt,
            "API",
            &crate::audit::Actor::ProjectKey("pk-conformance".into()),
        )
        .await
        .expect("prompt")
        .id
}

pub async fn comments_need_an_existing_object<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let prompt_id = objects(store).await;
    add_user(store, "member", false, Some(PROJECT)).await;
    add_user(store, "outsider", false, Some(OTHER)).await;

    for (object_type, object_id) in [
        (ObjectType::Trace, "t1"),
        (ObjectType::Observation, "o1"),
        (ObjectType::Session, "s1"),
        (ObjectType::Prompt, prompt_id.as_str()),
    ] {
        let created = store
            .create_comment(PROJECT, &comment(object_type, object_id, Some("member")))
            .await
            .expect("comment");
        assert_eq!(created.object_type, object_type);
        assert_eq!(created.object_id, object_id);
        assert_eq!(created.author_user_id.as_deref(), Some("member"));
        let read = store
            .get_comment(PROJECT, &created.id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(read, created);
        assert_eq!(
            store.get_comment(OTHER, &created.id).await.expect("get"),
            None
        );
    }

    for (object_type, object_id) in [
        (ObjectType::Trace, "absent"),
        (ObjectType::Trace, "t-other"),
        (ObjectType::Trace, "o1"),
        (ObjectType::Observation, "t1"),
        (ObjectType::Session, "t1"),
        (ObjectType::Prompt, "greeting"),
    ] {
        let refused = store
            .create_comment(PROJECT, &comment(object_type, object_id, None))
            .await
            .expect_err("no such object in the project");
        assert_eq!(
            refused.kind,
            ErrorKind::NotFound,
            "{object_type:?} {object_id}"
        );
        assert!(
            refused.message.starts_with("objectId: "),
            "{}",
            refused.message
        );
    }
    for author in ["outsider", "nobody"] {
        let refused = store
            .create_comment(PROJECT, &comment(ObjectType::Trace, "t1", Some(author)))
            .await
            .expect_err("author without access");
        assert_eq!(refused.kind, ErrorKind::InvalidArgument);
        assert!(
            refused.message.starts_with("authorUserId: "),
            "{}",
            refused.message
        );
    }
    let all = store
        .list_comments(PROJECT, &CommentQuery::default())
        .await
        .expect("list");
    assert_eq!(all.total_items, 4, "nothing refused was written");
}

pub async fn comments_filter_page_and_count<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    objects(store).await;
    add_user(store, "member", false, Some(PROJECT)).await;
    for author in [Some("member"), None, Some("member")] {
        store
            .create_comment(PROJECT, &comment(ObjectType::Trace, "t1", author))
            .await
            .expect("comment");
    }
    store
        .create_comment(PROJECT, &comment(ObjectType::Observation, "o1", None))
        .await
        .expect("comment");
    store
        .create_comment(OTHER, &comment(ObjectType::Trace, "t-other", None))
        .await
        .expect("comment in another project");

    let on_trace = CommentQuery {
        page: page(1, 2),
        object_type: Some(ObjectType::Trace),
        object_id: Some("t1".to_owned()),
        author_user_id: None,
    };
    let first = store.list_comments(PROJECT, &on_trace).await.expect("list");
    assert_eq!(first.total_items, 3);
    assert_eq!(first.items.len(), 2);
    let second = store
        .list_comments(
            PROJECT,
            &CommentQuery {
                page: page(2, 2),
                ..on_trace.clone()
            },
        )
        .await
        .expect("list");
    assert_eq!(second.items.len(), 1);
    let mut ids: Vec<&str> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|comment| comment.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "pages do not overlap");

    let by_author = store
        .list_comments(
            PROJECT,
            &CommentQuery {
                author_user_id: Some("member".to_owned()),
                ..CommentQuery::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(by_author.total_items, 2);
    let observations = store
        .list_comments(
            PROJECT,
            &CommentQuery {
                object_type: Some(ObjectType::Observation),
                ..CommentQuery::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(observations.total_items, 1);
    assert_eq!(observations.items[0].object_id, "o1");
    let everything = store
        .list_comments(PROJECT, &CommentQuery::default())
        .await
        .expect("list");
    assert_eq!(everything.total_items, 4);

    let counts = store
        .comment_counts(
            PROJECT,
            ObjectType::Trace,
            &["t1".to_owned(), "o1".to_owned(), "t-other".to_owned()],
        )
        .await
        .expect("counts");
    assert_eq!(counts, [("t1".to_owned(), 3)]);
    assert!(store
        .comment_counts(PROJECT, ObjectType::Trace, &[])
        .await
        .expect("counts")
        .is_empty());
}
