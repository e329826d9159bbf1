//! The UI accounts storage on PostgreSQL: users unique by email ignoring case, sessions that
//! expire, one-time links, memberships, saved views and the UI aggregates.

mod postgres_support;

use spindle_core::merge::Stamp;
use spindle_core::{ObservationRecord, TraceRecord, WriteBatch};
use spindle_store::accounts::{Accounts, Membership, Role, SavedView, UiSession, User};
use spindle_store::{ErrorKind, Store};
use std::collections::BTreeMap;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_on_postgres() {
    let key = tempfile::tempdir().expect("schema key");
    let store = postgres_support::open_in(key.path(), None).await;

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
        .get_user_by_email(" ADA@example.COM ")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, "u1");
    assert!(store
        .set_password_hash("u1", "$argon2id$x")
        .await
        .expect("set"));
    assert_eq!(store.list_users().await.expect("list").len(), 1);

    let session = UiSession {
        token_hash: "token".into(),
        user_id: "u1".into(),
        csrf_token: "csrf".into(),
        created_at: 100,
        expires_at: 200,
    };
    store.create_session(&session).await.expect("session");
    assert_eq!(
        Accounts::get_session(&store, "token", 150)
            .await
            .expect("get"),
        Some(session.clone())
    );
    assert_eq!(
        Accounts::get_session(&store, "token", 200)
            .await
            .expect("get"),
        None
    );
    store
        .create_sign_in_link("link", "u1", 1_000)
        .await
        .expect("link");
    assert_eq!(
        store
            .consume_sign_in_link("link", 2_000)
            .await
            .expect("late"),
        None
    );
    store
        .create_sign_in_link("link2", "u1", 3_000)
        .await
        .expect("link");
    assert_eq!(
        store
            .consume_sign_in_link("link2", 2_000)
            .await
            .expect("use"),
        Some("u1".to_owned())
    );
    assert_eq!(
        store
            .consume_sign_in_link("link2", 2_001)
            .await
            .expect("again"),
        None
    );
    assert_eq!(store.delete_expired(250).await.expect("sweep"), 2);

    let membership = Membership {
        user_id: "u1".into(),
        project_id: "p".into(),
        role: Role::Member,
    };
    store.set_membership(&membership, 5).await.expect("member");
    store
        .set_membership(
            &Membership {
                role: Role::Owner,
                ..membership.clone()
            },
            6,
        )
        .await
        .expect("promote");
    let members = store.members_of_project("p").await.expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].1, Role::Owner);
    assert_eq!(
        store
            .memberships_of_user("u1")
            .await
            .expect("of user")
            .len(),
        1
    );
    assert!(store.remove_membership("u1", "p").await.expect("remove"));

    let view = SavedView {
        id: "v1".into(),
        project_id: "p".into(),
        user_id: "u1".into(),
        page: "traces".into(),
        name: "mine".into(),
        query: "userId=u".into(),
        created_at: 7,
    };
    store.save_view(&view).await.expect("save");
    assert_eq!(
        store.list_views("p", "traces").await.expect("views"),
        vec![view]
    );
    assert!(store.delete_view("p", "v1").await.expect("delete"));

    // Aggregates over one trace with a generation.
    let stamp = Stamp::explicit(10, 0, 1);
    let mut trace = TraceRecord::new("t1");
    trace.timestamp = Some(1_000_000);
    trace.user_id = Some("end-user".into());
    trace.session_id = Some("s1".into());
    trace.name = Some("chat".into());
    trace.stamp_unstamped(stamp);
    let mut generation = ObservationRecord::new("o1");
    generation.trace_id = Some("t1".into());
    generation.start_time = Some(1_000_000);
    generation.end_time = Some(3_000_000);
    generation.model = Some("m".into());
    generation.usage_details = Some(BTreeMap::from([
        ("input".to_owned(), 5),
        ("output".to_owned(), 7),
    ]));
    generation.cost_details = Some(BTreeMap::from([("total".to_owned(), 0.5)]));
    generation.stamp_unstamped(stamp);
    store
        .write(
            "p",
            WriteBatch {
                traces: vec![trace],
                observations: vec![generation],
                scores: Vec::new(),
            },
        )
        .await
        .expect("write");
    let users = store.user_summaries("p", 1, 10).await.expect("users");
    assert_eq!(users.total_items, 1);
    assert_eq!(users.items[0].user_id, "end-user");
    assert_eq!(users.items[0].total_tokens, 12);
    assert_eq!(users.items[0].total_cost, 0.5);
    let tokens = store
        .trace_tokens("p", &["t1".to_owned()])
        .await
        .expect("tokens");
    assert_eq!(tokens["t1"].input, 5);
    let sessions = store
        .session_stats("p", &["s1".to_owned()])
        .await
        .expect("session stats");
    assert_eq!(sessions["s1"].traces, 1);
    assert_eq!(sessions["s1"].users, vec!["end-user".to_owned()]);
    assert_eq!(sessions["s1"].last, Some(3_000_000));
    let report = store
        .latency_report("p", None, None)
        .await
        .expect("latency");
    assert_eq!(report.by_trace_name[0].key, "chat");
    assert_eq!(report.by_trace_name[0].p50, 2.0);
    assert_eq!(report.by_model[0].key, "m");
    store.shutdown().await.expect("shutdown");
}
