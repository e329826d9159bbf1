//! The review conformance suite: the behaviour every [`Reviews`] backend must have
//! (annotation queues by unique name, their items and statuses, assignments of users with
//! access, comments only on objects that exist, filters, pages, project isolation; review
//! mode's claims with two reviewers at once, completions in a write's transaction, progress
//! per reviewer; comments and queue items going with the traces deleted), run as
//! one `#[tokio::test]` per case by [`reviews_conformance_suite!`](crate::reviews_conformance_suite).
//!
//! A backend's test file passes a function from a case's private directory to a future of the
//! store, as for the prompts suite.

use super::fixtures::{
    assert_refused, batch_of_observations, batch_of_traces, create_stamp, score,
    simple_observation, simple_trace, BASE,
};
use super::organizations::{organization, project};
use crate::accounts::{Accounts, Membership, Role, User};
use crate::datasets::PageRequest;
use crate::prompts::Prompts;
use crate::reviews::{CommentQuery, QueueProgress, ReviewerProgress, Reviews};
use crate::{ErrorKind, Store, TraceQuery, WriteBatch};
use spindle_core::prompt::{NewPrompt, PromptType};
use spindle_core::review::{
    ItemStatus, NewComment, NewQueue, NewQueueItem, ObjectType, QueueItem, QueueItemCompletion,
    CLAIM_MICROS,
};
use spindle_core::time::{now_micros, Micros};
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
            review_mode_claims_never_hand_two_reviewers_one_item,
            completions_commit_with_their_scores_or_not_at_all,
            queue_progress_counts_each_reviewer,
            deleted_traces_take_their_comments_and_queue_items,
            traces_are_filtered_on_their_comments,
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

/// Writes [`comment`] in `project`; fails on an error.
async fn add_comment<S: ReviewsStore>(
    store: &S,
    project: &str,
    object_type: ObjectType,
    object_id: &str,
    author: Option<&str>,
) {
    store
        .create_comment(project, &comment(object_type, object_id, author))
        .await
        .unwrap_or_else(|error| panic!("comment on {object_type:?} {object_id}: {error:?}"));
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

    assert_refused(
        store.create_queue(PROJECT, &queue("triage")).await,
        "a name is unique",
        ErrorKind::InvalidArgument,
        "name: ",
    );
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
    assert_refused(
        store
            .add_queue_item(PROJECT, &triage.id, &item(ObjectType::Prompt, "p", None))
            .await,
        "prompts are not queued",
        ErrorKind::InvalidArgument,
        "objectType: ",
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
        .queue_progress(PROJECT, std::slice::from_ref(&triage.id), now_micros())
        .await
        .expect("progress");
    assert_eq!(
        progress,
        [QueueProgress {
            queue_id: triage.id.clone(),
            pending: 1,
            completed: 1,
            assignees: Vec::new(),
            reviewers: Vec::new(),
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
        assert_refused(
            store.assign_queue(PROJECT, &triage.id, user).await,
            "no access",
            ErrorKind::NotFound,
            "userId: ",
        );
    }
    let unknown = store
        .assign_queue(PROJECT, "absent", "member")
        .await
        .expect_err("unknown queue");
    assert_eq!(unknown.kind, ErrorKind::NotFound);

    let ids = [triage.id.clone(), spare.id.clone(), "absent".to_owned()];
    let mut progress = store
        .queue_progress(PROJECT, &ids, now_micros())
        .await
        .expect("progress");
    progress.sort_by(|a, b| a.queue_id.cmp(&b.queue_id));
    let mut expected = vec![
        QueueProgress {
            queue_id: triage.id.clone(),
            pending: 0,
            completed: 0,
            assignees: vec!["admin".to_owned(), "member".to_owned()],
            reviewers: ["admin", "member"]
                .map(|user_id| ReviewerProgress {
                    user_id: user_id.to_owned(),
                    assigned: true,
                    completed: 0,
                    claimed: 0,
                    available: 0,
                })
                .to_vec(),
        },
        QueueProgress {
            queue_id: spare.id.clone(),
            pending: 0,
            completed: 0,
            assignees: Vec::new(),
            reviewers: Vec::new(),
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
        .queue_progress(PROJECT, std::slice::from_ref(&triage.id), now_micros())
        .await
        .expect("progress");
    assert_eq!(progress[0].assignees, ["admin"]);
    assert!(store
        .queue_progress(OTHER, std::slice::from_ref(&triage.id), now_micros())
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
        assert_refused(
            store
                .create_comment(PROJECT, &comment(ObjectType::Trace, "t1", Some(author)))
                .await,
            "author without access",
            ErrorKind::InvalidArgument,
            "authorUserId: ",
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
        add_comment(store, PROJECT, ObjectType::Trace, "t1", author).await;
    }
    add_comment(store, PROJECT, ObjectType::Observation, "o1", None).await;
    add_comment(store, OTHER, ObjectType::Trace, "t-other", None).await;

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

/// A queue of `PROJECT` with a pending trace item for each of `object_ids`, added oldest
/// first; returns the queue's id and the items' ids in that order.
async fn queue_of(
    store: &impl ReviewsStore,
    name: &str,
    object_ids: &[&str],
) -> (String, Vec<String>) {
    let queue = store
        .create_queue(PROJECT, &queue(name))
        .await
        .expect("create");
    let mut item_ids = Vec::new();
    for object_id in object_ids {
        let added = store
            .add_queue_item(
                PROJECT,
                &queue.id,
                &item(ObjectType::Trace, object_id, None),
            )
            .await
            .expect("add");
        item_ids.push(added.id);
        // Items are handed out oldest first: give each its own creation time.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    (queue.id, item_ids)
}

/// Claims the next item of the queue for `user_id` at `now`; its id, if any.
async fn claim(
    store: &impl ReviewsStore,
    queue_id: &str,
    user_id: &str,
    skipped: &[String],
    now: Micros,
) -> Option<QueueItem> {
    store
        .claim_next_item(PROJECT, queue_id, user_id, skipped, now)
        .await
        .expect("claim")
}

fn id_of(item: Option<QueueItem>) -> Option<String> {
    item.map(|item| item.id)
}

pub async fn review_mode_claims_never_hand_two_reviewers_one_item<S: ReviewsStore>(store: Arc<S>) {
    for user in ["ana", "ben", "cy", "dee", "eve"] {
        add_user(store.as_ref(), user, false, Some(PROJECT)).await;
    }
    let (queue_id, items) = queue_of(store.as_ref(), "triage", &["t1", "t2", "t3"]).await;
    let now = now_micros();

    // Two reviewers opening review mode at the same moment get different items: the two
    // oldest.
    let (first, second) = tokio::join!(
        claim(store.as_ref(), &queue_id, "ana", &[], now),
        claim(store.as_ref(), &queue_id, "ben", &[], now)
    );
    let (first, second) = (first.expect("ana's item"), second.expect("ben's item"));
    assert_ne!(first.id, second.id, "one item each");
    let mut both = vec![first.id.clone(), second.id.clone()];
    both.sort();
    let mut oldest = items[..2].to_vec();
    oldest.sort();
    assert_eq!(both, oldest);
    assert_eq!(first.claimed_by_user_id.as_deref(), Some("ana"));
    assert_eq!(first.claim_expires_at, Some(now + CLAIM_MICROS));
    assert_eq!(first.claimed_by_at(now), Some("ana"));
    assert_eq!(first.claimed_by_at(now + CLAIM_MICROS), None);

    // Opening it again gives a reviewer the item they hold, its claim renewed.
    let again = claim(store.as_ref(), &queue_id, "ana", &[], now + 1)
        .await
        .expect("again");
    assert_eq!(again.id, first.id);
    assert_eq!(again.claim_expires_at, Some(now + 1 + CLAIM_MICROS));

    // A third reviewer gets the last one; skipping it leaves them nothing (the others are
    // held) and releases it for the next reviewer.
    let third = claim(store.as_ref(), &queue_id, "cy", &[], now).await;
    assert_eq!(id_of(third), Some(items[2].clone()));
    let skipped = claim(store.as_ref(), &queue_id, "cy", &items[2..], now).await;
    assert_eq!(id_of(skipped), None, "everything else is held");
    let released = store
        .get_queue_item(PROJECT, &queue_id, &items[2])
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(released.claimed_by_user_id, None);
    let taken = claim(store.as_ref(), &queue_id, "dee", &[], now).await;
    assert_eq!(id_of(taken), Some(items[2].clone()));

    // Claims end: once they expire, the oldest item goes to whoever asks.
    let later = now + 1 + CLAIM_MICROS;
    let expired = claim(store.as_ref(), &queue_id, "eve", &[], later)
        .await
        .expect("an expired claim is free");
    assert_eq!(expired.id, items[0]);
    assert_eq!(expired.claimed_by_user_id.as_deref(), Some("eve"));

    // Completed items are nobody's to claim.
    store
        .update_queue_item(PROJECT, &queue_id, &items[1], Some(ItemStatus::Completed))
        .await
        .expect("complete")
        .expect("exists");
    let completed = store
        .get_queue_item(PROJECT, &queue_id, &items[1])
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        completed.claimed_by_user_id, None,
        "completion releases the claim"
    );
    assert_eq!(
        completed.completed_by_user_id, None,
        "completed with an API key"
    );
    let none_left = claim(store.as_ref(), &queue_id, "ben", &[], later).await;
    assert_eq!(
        id_of(none_left),
        Some(items[2].clone()),
        "dee's claim expired too"
    );

    // Many reviewers at once: each gets an item of their own.
    let reviewers: [&'static str; 5] = ["ana", "ben", "cy", "dee", "eve"];
    let objects: Vec<String> = (0..reviewers.len()).map(|n| format!("r{n}")).collect();
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    let (rush, _) = queue_of(store.as_ref(), "rush", &objects).await;
    let claims: Vec<_> = reviewers
        .into_iter()
        .map(|user| {
            let store = store.clone();
            let rush = rush.clone();
            tokio::spawn(async move {
                store
                    .claim_next_item(PROJECT, &rush, user, &[], now)
                    .await
                    .expect("claim")
                    .map(|item| item.id)
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in claims {
        claimed.push(task.await.expect("task").expect("an item for everyone"));
    }
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), reviewers.len(), "no item handed out twice");

    let unknown = store
        .claim_next_item(PROJECT, "absent", "ana", &[], now)
        .await
        .expect_err("unknown queue");
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    let foreign = store
        .claim_next_item(OTHER, &queue_id, "ana", &[], now)
        .await
        .expect_err("a queue of another project");
    assert_eq!(foreign.kind, ErrorKind::NotFound);
}

/// A review-mode write without scores: the item's completion by `user_id`.
fn completion(queue_id: &str, item_id: &str, user_id: &str) -> WriteBatch {
    WriteBatch {
        completions: vec![QueueItemCompletion {
            queue_id: queue_id.to_owned(),
            item_id: item_id.to_owned(),
            user_id: user_id.to_owned(),
        }],
        ..WriteBatch::default()
    }
}

/// A review-mode write: a score on trace `trace_id` and the item's completion by `user_id`.
fn completion_batch(
    score_id: &str,
    trace_id: &str,
    queue_id: &str,
    item_id: &str,
    user_id: &str,
) -> WriteBatch {
    WriteBatch {
        scores: vec![score(score_id, create_stamp(BASE), |record| {
            record.trace_id = Some(trace_id.to_owned());
            record.name = Some("quality".to_owned());
            record.value = Some(1.0);
            record.timestamp = Some(BASE);
        })],
        ..completion(queue_id, item_id, user_id)
    }
}

pub async fn completions_commit_with_their_scores_or_not_at_all<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    for user in ["ana", "ben"] {
        add_user(store, user, false, Some(PROJECT)).await;
    }
    let (queue_id, items) = queue_of(store, "triage", &["t1", "t2"]).await;
    let held = claim(store, &queue_id, "ana", &[], now_micros())
        .await
        .expect("ana's item");
    assert_eq!(held.id, items[0]);

    // Another reviewer's claim holds: neither the score nor the completion is stored.
    let refused = store
        .write(
            PROJECT,
            completion_batch("s-ben", "t1", &queue_id, &items[0], "ben"),
        )
        .await
        .expect_err("ana holds the item");
    assert_eq!(refused.kind, ErrorKind::Conflict);
    assert!(store
        .get_score(PROJECT, "s-ben")
        .await
        .expect("get")
        .is_none());
    let untouched = store
        .get_queue_item(PROJECT, &queue_id, &items[0])
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(untouched, held);

    // An item that is not there (removed, or of another project) fails the write too.
    for (project_id, item_id) in [(PROJECT, "absent"), (OTHER, items[1].as_str())] {
        let missing = store
            .write(
                project_id,
                completion_batch("s-missing", "t2", &queue_id, item_id, "ben"),
            )
            .await
            .expect_err("no such item");
        assert_eq!(missing.kind, ErrorKind::Conflict);
        assert!(store
            .get_score(project_id, "s-missing")
            .await
            .expect("get")
            .is_none());
    }

    // The holder completes it: the score and the completion are stored together.
    store
        .write(
            PROJECT,
            completion_batch("s-ana", "t1", &queue_id, &items[0], "ana"),
        )
        .await
        .expect("ana completes her item");
    let stored = store
        .get_score(PROJECT, "s-ana")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.record.trace_id.as_deref(), Some("t1"));
    let completed = store
        .get_queue_item(PROJECT, &queue_id, &items[0])
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(completed.status, ItemStatus::Completed);
    assert_eq!(completed.completed_by_user_id.as_deref(), Some("ana"));
    assert!(completed.completed_at.is_some());
    assert_eq!(completed.claimed_by_user_id, None);
    assert_eq!(completed.claim_expires_at, None);

    // An unclaimed item may be completed by anyone, with or without scores.
    store
        .write(PROJECT, completion(&queue_id, &items[1], "ben"))
        .await
        .expect("ben completes the free item");
    let second = store
        .get_queue_item(PROJECT, &queue_id, &items[1])
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(second.completed_by_user_id.as_deref(), Some("ben"));
}

pub async fn queue_progress_counts_each_reviewer<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    for user in ["ana", "ben", "cy"] {
        add_user(store, user, false, Some(PROJECT)).await;
    }
    let (queue_id, items) = queue_of(store, "triage", &["t1", "t2", "t3", "t4", "t5"]).await;
    for user in ["ana", "ben"] {
        store
            .assign_queue(PROJECT, &queue_id, user)
            .await
            .expect("assign");
    }
    let now = now_micros();
    let complete = |item_id: &str, user_id: &str| completion(&queue_id, item_id, user_id);
    // ana holds t1; ben completed t2; cy, not assigned, completed t3; t4 was completed with an
    // API key; t5 is free.
    assert_eq!(
        id_of(claim(store, &queue_id, "ana", &[], now).await),
        Some(items[0].clone())
    );
    store
        .write(PROJECT, complete(&items[1], "ben"))
        .await
        .expect("ben");
    store
        .write(PROJECT, complete(&items[2], "cy"))
        .await
        .expect("cy");
    store
        .update_queue_item(PROJECT, &queue_id, &items[3], Some(ItemStatus::Completed))
        .await
        .expect("complete")
        .expect("exists");

    let reviewer = |user_id: &str, assigned: bool, completed: u64, claimed: u64, available: u64| {
        ReviewerProgress {
            user_id: user_id.to_owned(),
            assigned,
            completed,
            claimed,
            available,
        }
    };
    let progress = store
        .queue_progress(PROJECT, std::slice::from_ref(&queue_id), now)
        .await
        .expect("progress");
    assert_eq!(
        progress,
        [QueueProgress {
            queue_id: queue_id.clone(),
            pending: 2,
            completed: 3,
            assignees: vec!["ana".to_owned(), "ben".to_owned()],
            reviewers: vec![
                reviewer("ana", true, 0, 1, 2),
                reviewer("ben", true, 1, 0, 1),
                reviewer("cy", false, 1, 0, 1),
            ],
        }]
    );

    // Once ana's claim has expired, both pending items are anyone's; an item sent back to
    // pending counts for nobody's completed ones.
    store
        .update_queue_item(PROJECT, &queue_id, &items[1], Some(ItemStatus::Pending))
        .await
        .expect("reopen")
        .expect("exists");
    let later = store
        .queue_progress(PROJECT, std::slice::from_ref(&queue_id), now + CLAIM_MICROS)
        .await
        .expect("progress");
    assert_eq!(later[0].pending, 3);
    assert_eq!(
        later[0].reviewers,
        [
            reviewer("ana", true, 0, 0, 3),
            reviewer("ben", true, 0, 0, 3),
            reviewer("cy", false, 1, 0, 3),
        ]
    );
}

/// The comment and queue item of each object, in `project_id`'s queue `queue_id`.
async fn review_of(
    store: &impl ReviewsStore,
    project_id: &str,
    queue_id: &str,
    objects: &[(ObjectType, &str)],
) {
    for (object_type, object_id) in objects {
        add_comment(store, project_id, *object_type, object_id, None).await;
        store
            .add_queue_item(project_id, queue_id, &item(*object_type, object_id, None))
            .await
            .expect("queue item");
    }
}

/// The `(type, id)` of the objects that have comments, and of those that have queue items,
/// in `project_id`, sorted.
async fn reviewed(store: &impl ReviewsStore, project_id: &str) -> (Vec<String>, Vec<String>) {
    let comments = store
        .list_comments(
            project_id,
            &CommentQuery {
                page: page(1, 100),
                ..CommentQuery::default()
            },
        )
        .await
        .expect("comments");
    let mut commented: Vec<String> = comments
        .items
        .iter()
        .map(|comment| format!("{}:{}", comment.object_type.as_str(), comment.object_id))
        .collect();
    commented.sort();
    let mut queued = Vec::new();
    for queue in store
        .list_queues(project_id, page(1, 100))
        .await
        .expect("queues")
        .items
    {
        let items = store
            .list_queue_items(project_id, &queue.id, None, page(1, 100))
            .await
            .expect("items")
            .expect("queue exists");
        queued.extend(
            items
                .items
                .iter()
                .map(|item| format!("{}:{}", item.object_type.as_str(), item.object_id)),
        );
    }
    queued.sort();
    (commented, queued)
}

pub async fn deleted_traces_take_their_comments_and_queue_items<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    store
        .upsert_organization(&organization("o1"))
        .await
        .expect("organization");
    for project_id in [PROJECT, OTHER] {
        store
            .create_project(&project(project_id, project_id, "o1"), None)
            .await
            .expect("project");
    }
    // Session s1 has t1 and t2, session s2 has t3; o1 is t1's observation, o3 t3's. OTHER
    // has a trace t1 too.
    let mut traces = Vec::new();
    for (trace_id, session_id) in [("t1", "s1"), ("t2", "s1"), ("t3", "s2"), ("t4", "s4")] {
        let timestamp = if trace_id == "t4" {
            BASE + 1_000_000
        } else {
            BASE
        };
        let mut trace = simple_trace(trace_id, timestamp, "chat");
        trace.session_id = Some(session_id.to_owned());
        traces.push(trace);
    }
    store
        .write(PROJECT, batch_of_traces(traces))
        .await
        .expect("traces");
    store
        .write(
            PROJECT,
            batch_of_observations(vec![
                simple_observation("o1", "t1", BASE, None),
                simple_observation("o3", "t3", BASE, None),
            ]),
        )
        .await
        .expect("observations");
    store
        .write(OTHER, batch_of_traces(vec![simple_trace("t1", BASE, "x")]))
        .await
        .expect("trace of another project");
    let triage = store
        .create_queue(PROJECT, &queue("triage"))
        .await
        .expect("queue");
    let elsewhere = store
        .create_queue(OTHER, &queue("triage"))
        .await
        .expect("queue");
    review_of(
        store,
        PROJECT,
        &triage.id,
        &[
            (ObjectType::Trace, "t1"),
            (ObjectType::Observation, "o1"),
            (ObjectType::Session, "s1"),
            (ObjectType::Trace, "t2"),
            (ObjectType::Trace, "t3"),
            (ObjectType::Observation, "o3"),
            (ObjectType::Session, "s2"),
            (ObjectType::Trace, "t4"),
        ],
    )
    .await;
    review_of(store, OTHER, &elsewhere.id, &[(ObjectType::Trace, "t1")]).await;
    let expect = |objects: &[&str]| {
        let objects: Vec<String> = objects.iter().map(|object| (*object).to_owned()).collect();
        (objects.clone(), objects)
    };

    // The API deletes t1: its observation goes, its session stays (t2 keeps it).
    store
        .delete_traces(PROJECT, &["t1".to_owned()])
        .await
        .expect("delete");
    assert_eq!(
        reviewed(store, PROJECT).await,
        expect(&[
            "OBSERVATION:o3",
            "SESSION:s1",
            "SESSION:s2",
            "TRACE:t2",
            "TRACE:t3",
            "TRACE:t4"
        ])
    );
    // Deleting t2 leaves session s1 without traces.
    store
        .delete_traces(PROJECT, &["t2".to_owned()])
        .await
        .expect("delete");
    assert_eq!(
        reviewed(store, PROJECT).await,
        expect(&["OBSERVATION:o3", "SESSION:s2", "TRACE:t3", "TRACE:t4"])
    );
    // Retention takes t3 (older than the cutoff) with its observation and session.
    let mut removed = 0;
    loop {
        let round = store
            .delete_older_than(PROJECT, BASE + 1, 10)
            .await
            .expect("retention");
        if round == 0 {
            break;
        }
        removed += round;
    }
    assert_eq!(removed, 1);
    assert_eq!(reviewed(store, PROJECT).await, expect(&["TRACE:t4"]));
    assert_eq!(
        reviewed(store, OTHER).await,
        expect(&["TRACE:t1"]),
        "another project's"
    );

    // A deleted project's purge takes its queues, items, assignments and comments.
    add_user(store, "ana", false, Some(PROJECT)).await;
    store
        .assign_queue(PROJECT, &triage.id, "ana")
        .await
        .expect("assign");
    assert!(store
        .mark_project_deleted(PROJECT, BASE)
        .await
        .expect("delete"));
    while store.purge_project_batch(PROJECT, 1).await.expect("purge") > 0 {}
    assert_eq!(reviewed(store, PROJECT).await, expect(&[]));
    assert_eq!(
        store.get_queue(PROJECT, &triage.id).await.expect("get"),
        None
    );
    assert!(store
        .queue_progress(PROJECT, std::slice::from_ref(&triage.id), now_micros())
        .await
        .expect("progress")
        .is_empty());
    assert_eq!(reviewed(store, OTHER).await, expect(&["TRACE:t1"]));
}

/// The traces list keeps the traces with comments on them, or those without: comments on a
/// trace count, not those on its observations, and never another project's.
pub async fn traces_are_filtered_on_their_comments<S: ReviewsStore>(store: Arc<S>) {
    let store = store.as_ref();
    objects(store).await;
    for (project, id) in [(PROJECT, "t2"), (OTHER, "t2")] {
        store
            .write(
                project,
                batch_of_traces(vec![simple_trace(id, BASE + 1, "chat")]),
            )
            .await
            .expect("trace");
    }
    add_comment(store, PROJECT, ObjectType::Observation, "o1", None).await;
    add_comment(store, OTHER, ObjectType::Trace, "t2", None).await;
    let listed = |has_comments: Option<bool>| async move {
        let query = TraceQuery {
            limit: 10,
            has_comments,
            ..TraceQuery::default()
        };
        let page = store.list_traces(PROJECT, &query).await.expect("list");
        let ids: Vec<String> = page.items.iter().map(|t| t.record.id.clone()).collect();
        (ids, page.total_items)
    };
    assert_eq!(
        listed(Some(true)).await,
        (vec![], 0),
        "no trace has a comment yet"
    );
    assert_eq!(listed(Some(false)).await.1, 2);
    add_comment(store, PROJECT, ObjectType::Trace, "t1", None).await;
    assert_eq!(listed(Some(true)).await, (vec!["t1".to_owned()], 1));
    assert_eq!(listed(Some(false)).await, (vec!["t2".to_owned()], 1));
    assert_eq!(listed(None).await.1, 2);
}
