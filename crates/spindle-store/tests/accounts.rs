//! The UI accounts storage on SQLite: users, password hashes, sessions, links, memberships,
//! saved views and the UI aggregates.

use spindle_store::accounts::{
    hash_password, new_token, token_hash, verify_password, Accounts, Membership, Role, SavedView,
    UiSession, User,
};
use spindle_store::sqlite::{SqliteOptions, SqliteStore};
use spindle_store::ErrorKind;

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(
        dir.path(),
        SqliteOptions {
            synchronous_full: false,
            ..SqliteOptions::default()
        },
    )
    .expect("open store")
}

fn user(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        name: None,
        password_hash: None,
        is_admin: false,
        created_at: 1,
    }
}

#[test]
fn passwords_hash_with_argon2id_and_verify() {
    let hash = hash_password("correct horse").expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(verify_password(&hash, "correct horse"));
    assert!(!verify_password(&hash, "wrong horse"));
    assert!(!verify_password("not a phc string", "correct horse"));
    assert_ne!(
        hash,
        hash_password("correct horse").expect("hash"),
        "salted"
    );
}

#[test]
fn tokens_are_random_and_hashed() {
    let (first, second) = (new_token(), new_token());
    assert_ne!(first, second);
    assert_eq!(first.len(), 43);
    assert_eq!(token_hash(&first).len(), 64);
    assert_ne!(token_hash(&first), first);
}

#[tokio::test]
async fn users_are_unique_by_email_ignoring_case() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    store
        .create_user(&user("u1", "Ada@Example.com"))
        .await
        .expect("create");
    let error = store
        .create_user(&user("u2", "ada@example.com"))
        .await
        .expect_err("duplicate email");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    let found = store
        .get_user_by_email("ADA@example.COM")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, "u1");
    assert!(store
        .set_password_hash("u1", "$argon2id$x")
        .await
        .expect("set"));
    let updated = store.get_user("u1").await.expect("get").expect("found");
    assert_eq!(updated.password_hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(store.list_users().await.expect("list").len(), 1);
}

#[tokio::test]
async fn sessions_expire_and_can_be_deleted() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    store.create_user(&user("u1", "a@b.c")).await.expect("user");
    let session = UiSession {
        token_hash: token_hash("token"),
        user_id: "u1".into(),
        csrf_token: "csrf".into(),
        created_at: 100,
        expires_at: 200,
    };
    store.create_session(&session).await.expect("create");
    let found = store
        .get_session(&session.token_hash, 150)
        .await
        .expect("get");
    assert_eq!(found, Some(session.clone()));
    assert_eq!(
        store
            .get_session(&session.token_hash, 200)
            .await
            .expect("get"),
        None,
        "expired at its expiry time"
    );
    assert_eq!(store.delete_expired(250).await.expect("sweep"), 1);
    store.create_session(&session).await.expect("again");
    assert!(store
        .delete_session(&session.token_hash)
        .await
        .expect("delete"));
    assert_eq!(
        store
            .get_session(&session.token_hash, 150)
            .await
            .expect("get"),
        None
    );
}

#[tokio::test]
async fn sign_in_links_work_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    store.create_user(&user("u1", "a@b.c")).await.expect("user");
    store
        .create_sign_in_link("hash", "u1", 1_000)
        .await
        .expect("link");
    assert_eq!(
        store
            .consume_sign_in_link("hash", 2_000)
            .await
            .expect("late"),
        None,
        "expired"
    );
    store
        .create_sign_in_link("hash2", "u1", 1_000)
        .await
        .expect("link");
    assert_eq!(
        store.consume_sign_in_link("hash2", 10).await.expect("use"),
        Some("u1".to_owned())
    );
    assert_eq!(
        store
            .consume_sign_in_link("hash2", 11)
            .await
            .expect("reuse"),
        None,
        "used"
    );
}

#[tokio::test]
async fn memberships_and_saved_views() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    store.create_user(&user("u1", "a@b.c")).await.expect("user");
    let membership = Membership {
        user_id: "u1".into(),
        project_id: "p1".into(),
        role: Role::Member,
    };
    store.set_membership(&membership, 1).await.expect("add");
    store
        .set_membership(
            &Membership {
                role: Role::Owner,
                ..membership.clone()
            },
            2,
        )
        .await
        .expect("change role");
    let memberships = store.memberships_of_user("u1").await.expect("list");
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].role, Role::Owner);
    let members = store.members_of_project("p1").await.expect("members");
    assert_eq!(members[0].0.email, "a@b.c");
    assert!(store.members_of_project("p2").await.expect("p2").is_empty());
    assert!(store.remove_membership("u1", "p1").await.expect("remove"));
    assert!(store
        .memberships_of_user("u1")
        .await
        .expect("list")
        .is_empty());

    let view = SavedView {
        id: "v1".into(),
        project_id: "p1".into(),
        user_id: "u1".into(),
        page: "traces".into(),
        name: "errors".into(),
        query: "level=ERROR".into(),
        created_at: 5,
    };
    store.save_view(&view).await.expect("save");
    assert_eq!(
        store.list_views("p1", "traces").await.expect("list"),
        vec![view.clone()]
    );
    assert!(store
        .list_views("p2", "traces")
        .await
        .expect("other project")
        .is_empty());
    assert!(!store.delete_view("p2", "v1").await.expect("scoped delete"));
    assert!(store.delete_view("p1", "v1").await.expect("delete"));
}

fn stamp() -> spindle_core::merge::Stamp {
    use spindle_core::merge::Stamp;
    Stamp::explicit(1, Stamp::RANK_CREATE, 0)
}

#[tokio::test]
async fn aggregates_for_users_tokens_and_latency() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    use spindle_store::Store;
    let mut batch = spindle_core::WriteBatch::default();
    for (trace, user_id, start) in [("t1", "alice", 1_000_000), ("t2", "alice", 5_000_000)] {
        let mut record = spindle_core::TraceRecord::new(trace);
        record.user_id = Some(user_id.into());
        record.name = Some("chat".into());
        record.session_id = Some("s1".into());
        record.timestamp = Some(start);
        record.stamp_unstamped(stamp());
        batch.traces.push(record);
        let mut observation = spindle_core::ObservationRecord::new(format!("{trace}-o"));
        observation.trace_id = Some(trace.into());
        observation.start_time = Some(start);
        observation.end_time = Some(start + 2_000_000);
        observation.model = Some("m1".into());
        observation.usage_details = Some(
            [
                ("input".into(), 10),
                ("output".into(), 5),
                ("total".into(), 15),
            ]
            .into(),
        );
        observation.stamp_unstamped(stamp());
        batch.observations.push(observation);
    }
    store.write("p1", batch).await.expect("write");
    let users = store.user_summaries("p1", 1, 10).await.expect("users");
    assert_eq!(users.total_items, 1);
    assert_eq!(users.items[0].user_id, "alice");
    assert_eq!(users.items[0].traces, 2);
    assert_eq!(users.items[0].total_tokens, 30);
    assert_eq!(
        store
            .user_summaries("p2", 1, 10)
            .await
            .expect("p2")
            .total_items,
        0
    );
    let tokens = store
        .trace_tokens("p1", &["t1".into(), "t9".into()])
        .await
        .expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens["t1"].input, 10);
    let sessions = store
        .session_stats("p1", &["s1".into(), "nope".into()])
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions["s1"].traces, 2);
    assert_eq!(sessions["s1"].users, ["alice"]);
    assert_eq!(sessions["s1"].first, Some(1_000_000));
    assert_eq!(
        sessions["s1"].last,
        Some(7_000_000),
        "the last observation's end"
    );
    let report = store
        .latency_report("p1", None, None)
        .await
        .expect("latency");
    assert_eq!(report.by_trace_name[0].key, "chat");
    assert_eq!(report.by_trace_name[0].count, 2);
    assert_eq!(report.by_trace_name[0].p50, 2.0);
    assert_eq!(report.by_model[0].key, "m1");
}
