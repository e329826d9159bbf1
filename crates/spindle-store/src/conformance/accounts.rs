//! The accounts conformance suite: the behaviour every [`Accounts`] backend must have (users,
//! sessions, sign-in links, memberships, saved views and the UI aggregates), run as one
//! `#[tokio::test]` per case by [`accounts_conformance_suite!`](crate::accounts_conformance_suite).
//!
//! A backend's test file passes a function from a case's private directory to a future of the
//! store:
//!
//! ```text
//! spindle_store::accounts_conformance_suite!(|dir: std::path::PathBuf| async move {
//!     SqliteStore::open(&dir, SqliteOptions::default()).expect("open the store")
//! });
//! ```

use super::fixtures::{observation, score, trace};
use crate::accounts::{Accounts, Membership, Role, SavedView, UiSession, User};
use crate::people::{GroupTotals, Grouping, ScoreFilter, TotalsBound, TotalsColumn, TotalsQuery};
use crate::suggestions::ValueColumn;
use crate::{Direction, ErrorKind, Store, WriteBatch};
use spindle_core::merge::Stamp;
use spindle_core::time::Micros;
use std::collections::BTreeMap;

/// A backend of the suite: the UI aggregates read what [`Store::write`] stored.
pub trait AccountsStore: Store + Accounts {}

impl<S: Store + Accounts> AccountsStore for S {}

/// A private directory for one case; opening a store in it twice reopens the same data.
pub fn case_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("spindle-accounts-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Expands to one `#[tokio::test]` per accounts case for the backend opened by `$open`, a
/// function from a directory to a future of the store (see the module docs). The calling
/// crate needs `tokio` with `macros` and `rt-multi-thread`.
#[macro_export]
macro_rules! accounts_conformance_suite {
    ($open:expr) => {
        $crate::__accounts_conformance_cases!(
            $open;
            users_are_unique_by_email_ignoring_case,
            sessions_expire_and_can_be_deleted,
            sign_in_links_work_once,
            memberships_and_saved_views,
            aggregates_for_users_and_tokens,
            aggregates_with_reported_cost,
            totals_of_users_and_sessions_are_searched_sorted_and_bounded,
            totals_keep_the_traces_of_one_environment,
            trace_totals_follow_random_writes,
            the_server_secret_is_created_once,
            other_sessions_of_a_user_can_be_ended,
            distinct_values_suggest_what_the_project_holds,
        );
        $crate::__organizations_conformance_cases!(
            $open;
            organization_roles_keep_an_owner,
            organization_keys_are_stored_and_revoked,
            projects_are_created_changed_and_deleted,
            the_audit_log_is_paged_newest_first_and_filtered,
        );

        /// The purge of a deleted project, interrupted by a shutdown, resumes in a store
        /// opened again on the same data.
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_deleted_projects_purge_resumes_after_a_restart() {
            let dir = $crate::conformance::accounts::case_dir();
            let store = ($open)(dir.path().to_path_buf()).await;
            $crate::conformance::organizations::purge_starts(&store).await;
            $crate::Store::shutdown(&store).await.expect("shutdown");
            drop(store);
            let store = ($open)(dir.path().to_path_buf()).await;
            $crate::conformance::organizations::purge_resumes_after_a_restart(&store).await;
            $crate::Store::shutdown(&store).await.expect("shutdown");
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __organizations_conformance_cases {
    ($open:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let dir = $crate::conformance::accounts::case_dir();
                let store = ($open)(dir.path().to_path_buf()).await;
                $crate::conformance::organizations::$case(&store).await;
                $crate::Store::shutdown(&store).await.expect("shutdown");
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __accounts_conformance_cases {
    ($open:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let dir = $crate::conformance::accounts::case_dir();
                let store = ($open)(dir.path().to_path_buf()).await;
                $crate::conformance::accounts::$case(&store).await;
                $crate::Store::shutdown(&store).await.expect("shutdown");
            }
        )*
    };
}

/// User `id` with this email, no password and no admin rights, created at 1.
pub(super) fn user(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        name: None,
        password_hash: None,
        is_admin: false,
        created_at: 1,
    }
}

/// A session of `u1` that expires at 200.
fn session(token_hash: String) -> UiSession {
    UiSession {
        token_hash,
        user_id: "u1".into(),
        csrf_token: "csrf".into(),
        created_at: 100,
        expires_at: 200,
    }
}

pub async fn users_are_unique_by_email_ignoring_case(store: &dyn AccountsStore) {
    store
        .create_user(&user("u1", "Ada@Example.com"))
        .await
        .expect("create");
    let error = store
        .create_user(&user("u2", "ada@example.com"))
        .await
        .expect_err("duplicate email");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    for email in ["ADA@example.COM", " ADA@example.COM "] {
        let found = store
            .get_user_by_email(email)
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(found.id, "u1");
    }
    assert!(store
        .set_password_hash("u1", "$argon2id$x")
        .await
        .expect("set"));
    let updated = store.get_user("u1").await.expect("get").expect("found");
    assert_eq!(updated.password_hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(store.list_users().await.expect("list").len(), 1);
}

pub async fn sessions_expire_and_can_be_deleted(store: &dyn AccountsStore) {
    store.create_user(&user("u1", "a@b.c")).await.expect("user");
    let session = session(crate::accounts::token_hash("token"));
    store.create_session(&session).await.expect("create");
    let found = Accounts::get_session(store, &session.token_hash, 150)
        .await
        .expect("get");
    assert_eq!(found, Some(session.clone()));
    assert_eq!(
        Accounts::get_session(store, &session.token_hash, 200)
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
        Accounts::get_session(store, &session.token_hash, 150)
            .await
            .expect("get"),
        None
    );
}

pub async fn other_sessions_of_a_user_can_be_ended(store: &dyn AccountsStore) {
    store.create_user(&user("u1", "a@b.c")).await.expect("user");
    store.create_user(&user("u2", "d@e.f")).await.expect("user");
    let mut sessions = Vec::new();
    for (token, user_id) in [
        ("one", "u1"),
        ("two", "u1"),
        ("three", "u1"),
        ("other", "u2"),
    ] {
        let session = UiSession {
            user_id: user_id.into(),
            ..session(crate::accounts::token_hash(token))
        };
        store.create_session(&session).await.expect("create");
        sessions.push(session);
    }
    let ended = store
        .delete_other_sessions("u1", &sessions[1].token_hash)
        .await
        .expect("end others");
    assert_eq!(ended, 2);
    let alive = |index: usize| {
        let token_hash = sessions[index].token_hash.clone();
        async move {
            Accounts::get_session(store, &token_hash, 150)
                .await
                .expect("get")
                .is_some()
        }
    };
    assert!(!alive(0).await);
    assert!(alive(1).await, "the kept session stays");
    assert!(!alive(2).await);
    assert!(alive(3).await, "another user's session stays");
}

pub async fn the_server_secret_is_created_once(store: &dyn AccountsStore) {
    use crate::secret::ServerSecret;
    // Callers racing to create it (instances starting together) all get the one stored.
    let candidates = [
        ServerSecret::random(),
        ServerSecret::random(),
        ServerSecret::random(),
    ];
    let (a, b, c) = tokio::join!(
        store.server_secret(&candidates[0]),
        store.server_secret(&candidates[1]),
        store.server_secret(&candidates[2])
    );
    let first = a.expect("create");
    assert!(candidates.contains(&first));
    assert_eq!(b.expect("race"), first);
    assert_eq!(c.expect("race"), first);
    let later = store
        .server_secret(&ServerSecret::random())
        .await
        .expect("read");
    assert_eq!(later, first, "a stored secret is never replaced");
}

pub async fn sign_in_links_work_once(store: &dyn AccountsStore) {
    store.create_user(&user("u1", "a@b.c")).await.expect("user");
    store
        .create_session(&session("token".into()))
        .await
        .expect("session");
    for (token_hash, expires_at) in [("hash", 1_000), ("hash2", 1_000), ("link2", 3_000)] {
        store
            .create_sign_in_link(token_hash, "u1", expires_at)
            .await
            .expect("link");
    }
    let u1 = Some("u1".to_owned());
    assert_eq!(consume(store, "hash", 2_000).await, None, "expired");
    assert_eq!(consume(store, "hash2", 10).await, u1);
    assert_eq!(consume(store, "hash2", 11).await, None, "used");
    assert_eq!(
        consume(store, "link2", 2_000).await,
        u1,
        "used before its expiry"
    );
    assert_eq!(consume(store, "link2", 2_001).await, None, "used");
    assert_eq!(
        store.delete_expired(250).await.expect("sweep"),
        3,
        "the expired session and the two used links; the unused link lives until 1000"
    );
}

async fn consume(store: &dyn AccountsStore, token_hash: &str, now: Micros) -> Option<String> {
    store
        .consume_sign_in_link(token_hash, now)
        .await
        .expect("consume a sign-in link")
}

pub async fn memberships_and_saved_views(store: &dyn AccountsStore) {
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
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].0.email, "a@b.c");
    assert_eq!(members[0].1, Role::Owner);
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

/// One generation of model `model` in trace `trace_id` of session `session_id`, from `start`
/// to `end` (a trace written twice with the same start gets a generation per end).
struct Chat<'a> {
    trace_id: &'a str,
    user_id: &'a str,
    session_id: &'a str,
    start: Micros,
    end: Micros,
    model: &'a str,
    usage: &'a [(&'a str, i64)],
    total_cost: Option<f64>,
}

async fn write_chats(store: &dyn AccountsStore, project: &str, chats: &[Chat<'_>]) {
    let stamp = Stamp::explicit(1, Stamp::RANK_CREATE, 0);
    let mut batch = WriteBatch::default();
    for chat in chats {
        batch.traces.push(trace(chat.trace_id, stamp, |record| {
            record.user_id = Some(chat.user_id.into());
            record.name = Some("chat".into());
            record.session_id = Some(chat.session_id.into());
            record.timestamp = Some(chat.start);
        }));
        let id = format!("{}-o{}", chat.trace_id, chat.end);
        batch.observations.push(observation(&id, stamp, |record| {
            record.trace_id = Some(chat.trace_id.into());
            record.start_time = Some(chat.start);
            record.end_time = Some(chat.end);
            record.model = Some(chat.model.into());
            record.usage_details = Some(
                chat.usage
                    .iter()
                    .map(|(key, count)| ((*key).to_owned(), *count))
                    .collect(),
            );
            record.cost_details = chat
                .total_cost
                .map(|cost| BTreeMap::from([("total".to_owned(), cost)]));
        }));
    }
    store.write(project, batch).await.expect("write");
}

pub async fn aggregates_for_users_and_tokens(store: &dyn AccountsStore) {
    let usage = [("input", 10), ("output", 5), ("total", 15)];
    let chats = [("t1", 1_000_000), ("t2", 5_000_000)].map(|(trace_id, start)| Chat {
        trace_id,
        user_id: "alice",
        session_id: "s1",
        start,
        end: start + 2_000_000,
        model: "m1",
        usage: &usage,
        total_cost: None,
    });
    write_chats(store, "p1", &chats).await;
    let users = store
        .group_totals("p1", Grouping::User, &TotalsQuery::default())
        .await
        .expect("users");
    assert_eq!(users.total_items, 1);
    assert_eq!(users.items[0].id, "alice");
    assert_eq!(users.items[0].traces, 2);
    assert_eq!(users.items[0].total_tokens, 30);
    assert_eq!(
        store
            .group_totals("p2", Grouping::User, &TotalsQuery::default())
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
        .group_totals("p1", Grouping::Session, &TotalsQuery::default())
        .await
        .expect("sessions");
    assert_eq!(ids(&sessions), ["s1"]);
    let s1 = &sessions.items[0];
    assert_eq!(
        (s1.traces, s1.users.as_slice()),
        (2, ["alice".to_owned()].as_slice())
    );
    assert_eq!(s1.first_seen, Some(1_000_000));
    assert_eq!(s1.last_end, Some(7_000_000), "the last observation's end");
}

/// Usage without a total and a cost the SDK reported.
pub async fn aggregates_with_reported_cost(store: &dyn AccountsStore) {
    let chat = Chat {
        trace_id: "t1",
        user_id: "end-user",
        session_id: "s1",
        start: 1_000_000,
        end: 3_000_000,
        model: "m",
        usage: &[("input", 5), ("output", 7)],
        total_cost: Some(0.5),
    };
    write_chats(store, "p", &[chat]).await;
    let users = store
        .group_totals("p", Grouping::User, &TotalsQuery::default())
        .await
        .expect("users");
    assert_eq!(users.total_items, 1);
    assert_eq!(users.items[0].id, "end-user");
    assert_eq!(users.items[0].total_tokens, 12);
    assert_eq!(users.items[0].total_cost, 0.5);
    let tokens = store
        .trace_tokens("p", &["t1".to_owned()])
        .await
        .expect("tokens");
    assert_eq!(tokens["t1"].input, 5);
    let sessions = store
        .group_totals("p", Grouping::Session, &TotalsQuery::default())
        .await
        .expect("session totals");
    assert_eq!(sessions.items[0].traces, 1);
    assert_eq!(sessions.items[0].users, vec!["end-user".to_owned()]);
    assert_eq!(sessions.items[0].last_end, Some(3_000_000));
    assert_eq!(sessions.items[0].total_cost, 0.5);
}

/// The ids of a page of totals, in order.
fn ids(page: &crate::Page<GroupTotals>) -> Vec<&str> {
    page.items.iter().map(|item| item.id.as_str()).collect()
}

pub async fn totals_of_users_and_sessions_are_searched_sorted_and_bounded(
    store: &dyn AccountsStore,
) {
    let chat = |trace_id, user_id, session_id, start: Micros, end: Micros, usage, cost| Chat {
        trace_id,
        user_id,
        session_id,
        start,
        end,
        model: "m1",
        usage,
        total_cost: cost,
    };
    let small: &[(&str, i64)] = &[("input", 10), ("output", 5), ("total", 15)];
    let chats = [
        // Two generations in one trace: alice's count stays 2 traces.
        chat("t1", "alice", "s1", 1_000_000, 2_000_000, small, Some(0.1)),
        chat("t1", "alice", "s1", 1_000_000, 2_500_000, small, Some(0.1)),
        chat("t2", "alice", "s2", 5_000_000, 6_000_000, small, Some(0.2)),
        chat(
            "t3",
            "bob",
            "s2",
            3_000_000,
            9_000_000,
            &[("input", 60), ("output", 40), ("total", 100)],
            Some(1.0),
        ),
        chat(
            "t4",
            "carol",
            "s3",
            10_000_000,
            11_000_000,
            &[("total", 1)],
            None,
        ),
    ];
    write_chats(store, "p1", &chats).await;
    let users = |query: TotalsQuery| async move {
        store
            .group_totals("p1", Grouping::User, &query)
            .await
            .expect("users")
    };
    let sorted = |order_by, direction| TotalsQuery {
        order_by,
        direction,
        ..TotalsQuery::default()
    };

    let page = users(TotalsQuery::default()).await;
    assert_eq!(ids(&page), ["carol", "alice", "bob"], "last seen first");
    assert_eq!(page.total_items, 3);
    let alice = &page.items[1];
    assert_eq!((alice.traces, alice.total_tokens), (2, 45));
    assert_eq!((alice.input_tokens, alice.output_tokens), (30, 15));
    assert!(
        (alice.total_cost - 0.4).abs() < 1e-9,
        "{}",
        alice.total_cost
    );
    assert_eq!(
        (alice.first_seen, alice.last_seen),
        (Some(1_000_000), Some(5_000_000))
    );
    assert_eq!(alice.users, ["alice"]);

    let page = users(sorted(TotalsColumn::Traces, Direction::Desc)).await;
    assert_eq!(ids(&page), ["alice", "bob", "carol"], "ties by id");
    let page = users(sorted(TotalsColumn::Tokens, Direction::Desc)).await;
    assert_eq!(ids(&page), ["bob", "alice", "carol"]);
    assert_eq!(
        page.items[1].traces, 2,
        "a trace counts once beside its observations"
    );
    let page = users(sorted(TotalsColumn::Cost, Direction::Asc)).await;
    assert_eq!(ids(&page), ["carol", "alice", "bob"]);
    let page = users(sorted(TotalsColumn::Id, Direction::Asc)).await;
    assert_eq!(ids(&page), ["alice", "bob", "carol"]);

    let search = |text: &str| TotalsQuery {
        search: Some(text.to_owned()),
        ..TotalsQuery::default()
    };
    assert_eq!(ids(&users(search("AL")).await), ["alice"], "ignoring case");
    assert_eq!(users(search("%")).await.total_items, 0, "% is a character");

    let bounded = |column, min: Option<f64>, max: Option<f64>| TotalsQuery {
        bounds: vec![TotalsBound { column, min, max }],
        ..TotalsQuery::default()
    };
    let page = users(bounded(TotalsColumn::Tokens, Some(2.0), None)).await;
    assert_eq!((ids(&page), page.total_items), (vec!["alice", "bob"], 2));
    let page = users(bounded(TotalsColumn::Cost, Some(0.3), Some(0.5))).await;
    assert_eq!(ids(&page), ["alice"]);
    let page = users(bounded(TotalsColumn::Traces, Some(2.0), None)).await;
    assert_eq!((ids(&page), page.total_items), (vec!["alice"], 1));
    let page = users(bounded(TotalsColumn::FirstSeen, None, Some(3_000_000.0))).await;
    assert_eq!(ids(&page), ["alice", "bob"]);
    let page = users(bounded(TotalsColumn::LastSeen, Some(5_000_000.0), None)).await;
    assert_eq!(ids(&page), ["carol", "alice"]);

    // One user's totals over a range: only the traces in it.
    let page = users(TotalsQuery {
        id: Some("alice".into()),
        from_timestamp: Some(2_000_000),
        ..TotalsQuery::default()
    })
    .await;
    assert_eq!(ids(&page), ["alice"]);
    assert_eq!((page.items[0].traces, page.items[0].total_tokens), (1, 15));
    let page = users(TotalsQuery {
        to_timestamp: Some(3_000_000),
        ..TotalsQuery::default()
    })
    .await;
    assert_eq!(ids(&page), ["alice"]);
    assert_eq!(page.items[0].total_tokens, 30);

    let page = users(TotalsQuery {
        page: 2,
        limit: 1,
        ..TotalsQuery::default()
    })
    .await;
    assert_eq!((ids(&page), page.total_items), (vec!["alice"], 3));

    let sessions = |query: TotalsQuery| async move {
        store
            .group_totals("p1", Grouping::Session, &query)
            .await
            .expect("sessions")
    };
    let page = sessions(sorted(TotalsColumn::Id, Direction::Asc)).await;
    assert_eq!(ids(&page), ["s1", "s2", "s3"]);
    let s2 = &page.items[1];
    assert_eq!((s2.traces, s2.total_tokens), (2, 115));
    assert_eq!(s2.users, ["alice", "bob"]);
    assert_eq!(
        (s2.first_seen, s2.last_seen, s2.last_end),
        (Some(3_000_000), Some(5_000_000), Some(9_000_000))
    );
    let page = sessions(TotalsQuery {
        user_id: Some("alice".into()),
        ..sorted(TotalsColumn::Cost, Direction::Desc)
    })
    .await;
    assert_eq!(
        ids(&page),
        ["s2", "s1"],
        "alice's sessions, with bob's trace in s2"
    );
    assert_eq!(page.items[0].traces, 2);
    assert_eq!(ids(&sessions(search("S2")).await), ["s2"]);

    assert_eq!(
        store
            .group_totals("p2", Grouping::Session, &TotalsQuery::default())
            .await
            .expect("other project")
            .total_items,
        0
    );
}

/// The filter builder's suggestions: distinct non-empty values of each column, in order,
/// starting with a prefix (ASCII case ignored, `%` and `_` literal), within the project and
/// the limit; a tag whose traces are all deleted is not suggested.
pub async fn distinct_values_suggest_what_the_project_holds(store: &dyn AccountsStore) {
    let stamp = Stamp::explicit(1, Stamp::RANK_CREATE, 0);
    let mut batch = WriteBatch::default();
    let traces = [
        ("t1", "chat", "alice", "prod", &["beta", "Blue"][..], "v1"),
        ("t2", "chat", "bob", "prod", &["beta"][..], "v2"),
        ("t3", "Chart_50%", "amy", "dev", &[][..], ""),
        ("t4", "search", "", "staging", &["kept"][..], "v1"),
    ];
    for (index, (id, name, user, environment, tags, version)) in traces.into_iter().enumerate() {
        batch.traces.push(trace(id, stamp, |record| {
            record.name = Some(name.into());
            record.user_id = (!user.is_empty()).then(|| user.into());
            record.environment = Some(environment.into());
            record.version = (!version.is_empty()).then(|| version.into());
            record.timestamp = Some(1_000_000 * (index as i64 + 1));
            record.tags = tags.iter().map(|tag| (*tag).to_owned()).collect();
            record.metadata.insert("region".into(), "\"eu\"".into());
            record.metadata.insert(format!("key{index}"), "1".into());
        }));
        batch
            .observations
            .push(observation(&format!("{id}-o"), stamp, |record| {
                record.trace_id = Some(id.into());
                record.start_time = Some(1_000_000 * (index as i64 + 1));
                record.name = Some("llm".into());
                record.model = Some(if index % 2 == 0 { "gpt-4o" } else { "claude" }.into());
            }));
        batch
            .scores
            .push(score(&format!("{id}-s"), stamp, |record| {
                record.trace_id = Some(id.into());
                record.name = Some(if index == 0 { "quality" } else { "Quirk" }.into());
                record.value = Some(1.0);
                record.timestamp = Some(1_000_000);
            }));
    }
    store.write("p1", batch).await.expect("write");
    // The same names in another project are not suggested in p1.
    let other = WriteBatch {
        traces: vec![trace("x1", stamp, |record| {
            record.name = Some("chat-other".into());
            record.environment = Some("elsewhere".into());
        })],
        ..WriteBatch::default()
    };
    store.write("p2", other).await.expect("write p2");
    // A tag whose only trace is deleted is suggested no more.
    let doomed = WriteBatch {
        traces: vec![trace("t5", stamp, |record| {
            record.name = Some("search".into());
            record.tags = ["gone".to_owned()].into_iter().collect();
        })],
        ..WriteBatch::default()
    };
    store.write("p1", doomed).await.expect("write t5");
    store
        .delete_traces("p1", &["t5".to_owned()])
        .await
        .expect("delete t5");
    let values = |column: ValueColumn, prefix: &'static str, limit: u32| async move {
        store
            .distinct_values("p1", column, prefix, limit)
            .await
            .expect("distinct values")
    };
    assert_eq!(
        values(ValueColumn::TraceName, "", 10).await,
        ["Chart_50%", "chat", "search"]
    );
    assert_eq!(
        values(ValueColumn::TraceName, "CH", 10).await,
        ["Chart_50%", "chat"]
    );
    assert_eq!(
        values(ValueColumn::TraceName, "chart_5", 10).await,
        ["Chart_50%"]
    );
    assert!(values(ValueColumn::TraceName, "chatX", 10).await.is_empty());
    assert!(
        values(ValueColumn::TraceName, "c%", 10).await.is_empty(),
        "% is a literal character"
    );
    assert_eq!(values(ValueColumn::TraceName, "", 1).await, ["Chart_50%"]);
    assert_eq!(values(ValueColumn::UserId, "a", 10).await, ["alice", "amy"]);
    assert_eq!(
        values(ValueColumn::Tags, "", 10).await,
        ["Blue", "beta", "kept"]
    );
    assert_eq!(
        values(ValueColumn::Environment, "", 10).await,
        ["dev", "prod", "staging"]
    );
    assert_eq!(values(ValueColumn::Version, "", 10).await, ["v1", "v2"]);
    assert!(values(ValueColumn::Release, "", 10).await.is_empty());
    assert_eq!(
        values(ValueColumn::Model, "", 10).await,
        ["claude", "gpt-4o"]
    );
    assert_eq!(values(ValueColumn::ObservationName, "L", 10).await, ["llm"]);
    assert_eq!(
        values(ValueColumn::ScoreName, "q", 10).await,
        ["Quirk", "quality"]
    );
    assert_eq!(
        values(ValueColumn::MetadataKey, "", 3).await,
        ["key0", "key1", "key2"]
    );
    assert_eq!(values(ValueColumn::MetadataKey, "re", 10).await, ["region"]);
    assert!(store
        .distinct_values("p3", ValueColumn::TraceName, "", 10)
        .await
        .expect("an empty project")
        .is_empty());
}

/// Users' and sessions' totals over the traces of one environment only.
pub async fn totals_keep_the_traces_of_one_environment(store: &dyn AccountsStore) {
    let traces = [
        ("e1", "alice", "s1", "production"),
        ("e2", "alice", "s1", "staging"),
        ("e3", "bob", "s2", "staging"),
    ];
    let records = traces
        .into_iter()
        .enumerate()
        .map(|(index, (id, user, session, environment))| {
            let mut record =
                super::fixtures::simple_trace(id, 1_000_000 * (index as i64 + 1), "chat");
            record.user_id = Some(user.to_owned());
            record.session_id = Some(session.to_owned());
            record.environment = Some(environment.to_owned());
            record
        })
        .collect();
    store
        .write("p1", super::fixtures::batch_of_traces(records))
        .await
        .expect("write");
    let in_environment = |environment: &str| TotalsQuery {
        environment: Some(environment.to_owned()),
        order_by: TotalsColumn::Id,
        direction: Direction::Asc,
        ..TotalsQuery::default()
    };
    let staging = store
        .group_totals("p1", Grouping::User, &in_environment("staging"))
        .await
        .expect("users");
    assert_eq!(ids(&staging), ["alice", "bob"]);
    assert_eq!(staging.items[0].traces, 1, "alice's staging trace only");
    let production = store
        .group_totals("p1", Grouping::Session, &in_environment("production"))
        .await
        .expect("sessions");
    assert_eq!(ids(&production), ["s1"]);
    assert_eq!(production.total_items, 1);
    let none = store
        .group_totals("p1", Grouping::User, &in_environment("absent"))
        .await
        .expect("users");
    assert!(none.items.is_empty());
}

/// What the raw rows give for one stored trace: its view (`get_trace`) and its time.
#[derive(Clone)]
struct RawTrace {
    view: crate::TraceView,
}

impl RawTrace {
    fn time(&self) -> Micros {
        self.view.record.timestamp.unwrap_or(self.view.created_at)
    }

    fn usage(&self, key: &str) -> i64 {
        self.view
            .observations
            .iter()
            .filter_map(|o| o.record.usage_details.as_ref()?.get(key).copied())
            .sum()
    }

    fn last_end(&self) -> Option<Micros> {
        self.view
            .observations
            .iter()
            .filter_map(|o| o.record.end_time.or(o.record.start_time))
            .max()
    }
}

/// What a list of totals is sorted on, as a group's value.
type SortKey = fn(&GroupTotals) -> i64;

/// The users' or sessions' totals worked out from the raw traces, sorted by id.
fn expected_totals(traces: &[RawTrace], grouping: Grouping) -> Vec<GroupTotals> {
    let mut groups: BTreeMap<String, GroupTotals> = BTreeMap::new();
    for trace in traces {
        let key = match grouping {
            Grouping::User => &trace.view.record.user_id,
            Grouping::Session => &trace.view.record.session_id,
        };
        let Some(key) = key.clone().filter(|key| !key.is_empty()) else {
            continue;
        };
        let group = groups.entry(key.clone()).or_insert_with(|| GroupTotals {
            id: key,
            ..GroupTotals::default()
        });
        group.traces += 1;
        let time = trace.time();
        group.first_seen = Some(group.first_seen.map_or(time, |t| t.min(time)));
        group.last_seen = Some(group.last_seen.map_or(time, |t| t.max(time)));
        group.last_end = group.last_end.max(trace.last_end());
        group.input_tokens += trace.usage("input");
        group.output_tokens += trace.usage("output");
        group.total_tokens += trace.usage("total");
        group.total_cost += trace.view.total_cost;
        group
            .users
            .extend(trace.view.record.user_id.clone().filter(|u| !u.is_empty()));
        group.users.sort();
        group.users.dedup();
    }
    groups.into_values().collect()
}

/// The project's traces sorted by `column`, descending, are `expected`.
async fn assert_sorted(
    store: &dyn AccountsStore,
    project: &str,
    column: &str,
    expected: Vec<String>,
) {
    let query = crate::TraceQuery {
        limit: 100,
        order_by: Some(crate::OrderBy {
            column: column.to_owned(),
            direction: Direction::Desc,
        }),
        ..crate::TraceQuery::default()
    };
    let page = store.list_traces(project, &query).await.expect("sorted");
    let ids: Vec<String> = page.items.into_iter().map(|v| v.record.id).collect();
    assert_eq!(ids, expected, "{project}: sorted by {column}");
}

/// Trace totals (cost, latency, level, tokens) follow random sequences of trace and
/// observation creates, late updates (end times, costs, usage, a trace's user and session
/// changed after its observations, observations updated without naming their trace,
/// observations before their trace), deletions and retention: the traces sorted by cost and
/// by latency, the cost, latency and level filters, and the users' and sessions' totals all
/// equal what the raw rows give.
pub async fn trace_totals_follow_random_writes(store: &dyn AccountsStore) {
    use crate::{Filter, FilterValue, OrderBy, TraceQuery};
    use spindle_core::rng::Rng;
    use spindle_core::Level;

    const DAY: Micros = 86_400_000_000;
    let trace_ids: Vec<String> = (0..12).map(|i| format!("t{i:02}")).collect();
    let trace_time = |index: usize| 1_700_000_000_000_000 + index as Micros * DAY;
    for seed in [3_u64, 17, 2026] {
        let project = format!("p{seed}");
        let mut rng = Rng::new(seed);
        let mut clock: Micros = 1;
        for round in 0..60 {
            let mut batch = WriteBatch::default();
            for _ in 0..=rng.below(4) {
                clock += 1;
                let stamp = Stamp::explicit(clock, Stamp::RANK_UPDATE, clock as u64);
                let index = rng.below(trace_ids.len() as u64) as usize;
                let trace_id = &trace_ids[index];
                if rng.chance(35) {
                    batch.traces.push(trace(trace_id, stamp, |t| {
                        t.timestamp = Some(trace_time(index));
                        t.user_id = Some(rng.pick(&["u1", "u2", "u3", ""]).to_owned());
                        t.session_id = Some(rng.pick(&["s1", "s2", "s3", "s4"]).to_owned());
                        t.environment = Some("default".to_owned());
                    }));
                    continue;
                }
                if rng.chance(30) {
                    batch.scores.push(random_score(&mut rng, stamp, trace_id));
                    continue;
                }
                let number = rng.below(3);
                let id = format!("{trace_id}-o{number}");
                let name_trace = !rng.chance(25);
                let start = trace_time(index) + number as Micros * 1_000_000;
                let cost = rng.below(8) as f64 * 0.25;
                let (input, output) = (rng.below(100) as i64, rng.below(100) as i64);
                let end = if rng.chance(80) {
                    Some(start + rng.below(5_000) as Micros * 1_000)
                } else {
                    None
                };
                let level = [Level::Debug, Level::Default, Level::Warning, Level::Error]
                    [rng.below(4) as usize];
                batch.observations.push(observation(&id, stamp, |o| {
                    if name_trace {
                        o.trace_id = Some(trace_id.clone());
                    }
                    o.start_time = Some(start);
                    o.end_time = end;
                    o.level = Some(level);
                    o.cost_details = Some(BTreeMap::from([("total".to_owned(), cost)]));
                    o.usage_details = Some(BTreeMap::from([
                        ("input".to_owned(), input),
                        ("output".to_owned(), output),
                        ("total".to_owned(), input + output),
                    ]));
                }));
            }
            store.write(&project, batch).await.expect("write");
            if round % 15 == 14 {
                let doomed = trace_ids[rng.below(trace_ids.len() as u64) as usize].clone();
                store
                    .delete_traces(&project, &[doomed])
                    .await
                    .expect("delete");
            }
            if round == 40 {
                store
                    .delete_older_than(&project, trace_time(2), 100)
                    .await
                    .expect("retention");
            }
        }

        let mut raw = Vec::new();
        for trace_id in &trace_ids {
            if let Some(view) = store.get_trace(&project, trace_id).await.expect("get") {
                raw.push(RawTrace { view });
            }
        }
        assert!(raw.len() > 3, "seed {seed}: {} traces left", raw.len());

        let listed = |column: &str, filters: Vec<Filter>| TraceQuery {
            limit: 100,
            order_by: Some(OrderBy {
                column: column.to_owned(),
                direction: Direction::Desc,
            }),
            filters,
            ..TraceQuery::default()
        };
        // Sorted by cost, then id, both descending.
        let mut by_cost: Vec<(f64, String)> = raw
            .iter()
            .map(|r| (r.view.total_cost, r.view.record.id.clone()))
            .collect();
        by_cost.sort_by(|a, b| b.partial_cmp(a).expect("finite"));
        let expected = by_cost.into_iter().map(|(_, id)| id).collect();
        assert_sorted(store, &project, "totalCost", expected).await;
        // Sorted by latency descending, traces without observations last.
        let mut by_latency: Vec<(Option<i64>, String)> = raw
            .iter()
            .map(|r| {
                let latency = r
                    .view
                    .latency_seconds
                    .map(|s| (s * 1_000_000.0).round() as i64);
                (latency, r.view.record.id.clone())
            })
            .collect();
        by_latency.sort_by(|a, b| b.cmp(a));
        let expected = by_latency.into_iter().map(|(_, id)| id).collect();
        assert_sorted(store, &project, "latency", expected).await;
        // The filters on the totals.
        let cases = [
            (
                Filter::new("totalCost", ">=", FilterValue::Number(1.0)),
                raw.iter().filter(|r| r.view.total_cost >= 1.0).count(),
            ),
            (
                Filter::new("latency", ">", FilterValue::Number(2.0)),
                raw.iter()
                    .filter(|r| r.view.latency_seconds.is_some_and(|s| s > 2.0))
                    .count(),
            ),
            (
                Filter::new("level", "=", FilterValue::String("WARNING".to_owned())),
                raw.iter()
                    .filter(|r| r.view.level == Level::Warning)
                    .count(),
            ),
        ];
        for (condition, expected) in cases {
            let name = format!("{} {}", condition.column, condition.operator);
            let page = store
                .list_traces(&project, &listed("totalCost", vec![condition]))
                .await
                .expect("filtered");
            assert_eq!(page.total_items as usize, expected, "seed {seed}: {name}");
            assert_eq!(page.items.len(), expected, "seed {seed}: {name}");
        }
        // The users' and sessions' totals.
        for grouping in [Grouping::User, Grouping::Session] {
            let page = store
                .group_totals(
                    &project,
                    grouping,
                    &TotalsQuery {
                        limit: 100,
                        order_by: TotalsColumn::Id,
                        direction: Direction::Asc,
                        ..TotalsQuery::default()
                    },
                )
                .await
                .expect("totals");
            assert_eq!(
                page.items,
                expected_totals(&raw, grouping),
                "seed {seed}: {grouping:?} totals"
            );
        }
        // Over ranges of whole and partial days (the rollups' days and the raw rows at the
        // edges), sorted by cost and by traces.
        let ranges = [
            (Some(trace_time(1) - DAY / 3), Some(trace_time(7) + DAY / 2)),
            (Some(trace_time(3)), None),
            (None, Some(trace_time(9) + 1)),
            (Some(trace_time(4) + 1), Some(trace_time(5))),
            (Some(0), Some(trace_time(11) + DAY)),
            (None, None),
        ];
        for (from, to) in ranges {
            let in_range: Vec<RawTrace> = raw
                .iter()
                .filter(|r| from.is_none_or(|from| r.time() >= from))
                .filter(|r| to.is_none_or(|to| r.time() < to))
                .cloned()
                .collect();
            for grouping in [Grouping::User, Grouping::Session] {
                let name = format!("seed {seed}: {grouping:?} from {from:?} to {to:?}");
                let expected = expected_totals(&in_range, grouping);
                let ranged = |order_by, direction| TotalsQuery {
                    limit: 100,
                    order_by,
                    direction,
                    from_timestamp: from,
                    to_timestamp: to,
                    ..TotalsQuery::default()
                };
                let page = store
                    .group_totals(
                        &project,
                        grouping,
                        &ranged(TotalsColumn::Id, Direction::Asc),
                    )
                    .await
                    .expect("ranged totals");
                assert_eq!(page.items, expected, "{name}");
                assert_eq!(page.total_items as usize, expected.len(), "{name}");
                let page = store
                    .group_totals(
                        &project,
                        grouping,
                        &ranged(TotalsColumn::Cost, Direction::Desc),
                    )
                    .await
                    .expect("by cost");
                let mut by_cost: Vec<&GroupTotals> = expected.iter().collect();
                by_cost.sort_by(|a, b| b.total_cost.total_cmp(&a.total_cost).then(a.id.cmp(&b.id)));
                let wanted: Vec<&str> = by_cost.iter().map(|g| g.id.as_str()).collect();
                assert_eq!(ids(&page), wanted, "{name}: by cost");
                let bounded = TotalsQuery {
                    page: 2,
                    limit: 1,
                    bounds: vec![TotalsBound {
                        column: TotalsColumn::Traces,
                        min: Some(2.0),
                        max: None,
                    }],
                    ..ranged(TotalsColumn::Traces, Direction::Asc)
                };
                let page = store
                    .group_totals(&project, grouping, &bounded)
                    .await
                    .expect("bounded");
                let mut wanted: Vec<(u64, &str)> = expected
                    .iter()
                    .filter(|g| g.traces >= 2)
                    .map(|g| (g.traces, g.id.as_str()))
                    .collect();
                wanted.sort();
                assert_eq!(page.total_items as usize, wanted.len(), "{name}: bounded");
                let second: Vec<&str> = wanted.iter().skip(1).take(1).map(|w| w.1).collect();
                assert_eq!(ids(&page), second, "{name}: bounded, second page");
                // Every other order, paged two at a time, with the totals of each row.
                let orders: [(TotalsColumn, SortKey); 4] = [
                    (TotalsColumn::LastSeen, |g| g.last_seen.unwrap_or(i64::MIN)),
                    (TotalsColumn::FirstSeen, |g| {
                        g.first_seen.unwrap_or(i64::MIN)
                    }),
                    (TotalsColumn::Tokens, |g| g.total_tokens),
                    (TotalsColumn::Traces, |g| g.traces as i64),
                ];
                for (column, key) in orders {
                    for direction in [Direction::Desc, Direction::Asc] {
                        let mut wanted: Vec<&GroupTotals> = expected.iter().collect();
                        wanted.sort_by(|a, b| {
                            let by_key = key(a).cmp(&key(b));
                            let by_key = match direction {
                                Direction::Desc => by_key.reverse(),
                                Direction::Asc => by_key,
                            };
                            by_key.then(a.id.cmp(&b.id))
                        });
                        let mut got = Vec::new();
                        for page_number in 1..=wanted.len().div_ceil(2).max(1) as u32 {
                            let page = store
                                .group_totals(
                                    &project,
                                    grouping,
                                    &TotalsQuery {
                                        page: page_number,
                                        limit: 2,
                                        ..ranged(column, direction)
                                    },
                                )
                                .await
                                .expect("sorted totals");
                            assert_eq!(
                                page.total_items as usize,
                                wanted.len(),
                                "{name}: {column:?} {direction:?} count"
                            );
                            got.extend(page.items);
                        }
                        let wanted: Vec<GroupTotals> = wanted.into_iter().cloned().collect();
                        assert_eq!(got, wanted, "{name}: {column:?} {direction:?}");
                    }
                }
            }
        }
        // The users' and sessions' averages of a score, shown, bounded and sorted on.
        let scores = store
            .list_scores(
                &project,
                &crate::ScoreQuery {
                    limit: 1000,
                    name: Some("quality".to_owned()),
                    ..crate::ScoreQuery::default()
                },
            )
            .await
            .expect("scores")
            .items;
        for grouping in [Grouping::User, Grouping::Session] {
            let expected = expected_score_averages(&raw, &scores, grouping);
            let scored = |score: ScoreFilter, order_by| TotalsQuery {
                limit: 100,
                order_by,
                direction: Direction::Desc,
                score: Some(score),
                ..TotalsQuery::default()
            };
            let quality = |min, max, value: Option<&str>| ScoreFilter {
                name: "quality".to_owned(),
                min,
                max,
                value: value.map(str::to_owned),
            };
            let page = store
                .group_totals(
                    &project,
                    grouping,
                    &scored(quality(None, None, None), TotalsColumn::Score),
                )
                .await
                .expect("score averages");
            // Sorted by the average, descending, groups without one last, then by id.
            let mut by_average: Vec<&(String, Option<f64>, bool)> = expected.iter().collect();
            by_average.sort_by(|a, b| match (a.1, b.1) {
                (Some(x), Some(y)) => y.total_cmp(&x).then(a.0.cmp(&b.0)),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.0.cmp(&b.0),
            });
            let listed: Vec<(&str, Option<f64>)> = page
                .items
                .iter()
                .map(|g| (g.id.as_str(), g.score_average))
                .collect();
            let wanted: Vec<(&str, Option<f64>)> = by_average
                .iter()
                .map(|(id, average, _)| (id.as_str(), *average))
                .collect();
            assert_eq!(listed.len(), wanted.len(), "seed {seed}: {grouping:?}");
            for ((id, average), (want_id, want)) in listed.iter().zip(&wanted) {
                assert_eq!(id, want_id, "seed {seed}: {grouping:?} sorted by score");
                match (average, want) {
                    (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "seed {seed}: {id}"),
                    _ => assert_eq!(average, want, "seed {seed}: {grouping:?} {id}"),
                }
            }
            assert!(
                wanted.iter().any(|(_, average)| average.is_some()),
                "seed {seed}: {grouping:?} has a scored group"
            );
            let bounded = [
                (quality(Some(2.0), None, None), 2.0, f64::MAX, false),
                (quality(None, Some(1.5), None), f64::MIN, 1.5, false),
                (quality(Some(1.0), Some(3.0), None), 1.0, 3.0, false),
                (quality(None, None, Some("good")), f64::MIN, f64::MAX, true),
            ];
            for (score, min, max, by_value) in bounded {
                let name = format!("{grouping:?} {score:?}");
                let page = store
                    .group_totals(&project, grouping, &scored(score, TotalsColumn::Id))
                    .await
                    .expect("bounded on a score");
                let mut wanted: Vec<&str> = expected
                    .iter()
                    .filter(|(_, average, good)| {
                        if by_value {
                            *good
                        } else {
                            average.is_some_and(|a| a >= min && a <= max)
                        }
                    })
                    .map(|(id, _, _)| id.as_str())
                    .collect();
                wanted.sort_by(|a, b| b.cmp(a));
                assert_eq!(ids(&page), wanted, "seed {seed}: {name}");
                assert_eq!(
                    page.total_items as usize,
                    wanted.len(),
                    "seed {seed}: {name}"
                );
            }
        }
    }
}

/// A random score named `quality` (or `other`) on `trace_id`, one of its observations, or a
/// session, numeric, boolean or categorical; ids repeat so later writes change earlier scores.
fn random_score(
    rng: &mut spindle_core::rng::Rng,
    stamp: Stamp,
    trace_id: &str,
) -> spindle_core::ScoreRecord {
    use spindle_core::ScoreDataType;
    let id = format!("sc{}", rng.below(16));
    let name = rng.pick(&["quality", "quality", "other"]).to_owned();
    let target = rng.below(4);
    let kind = rng.below(4);
    let number = rng.below(9) as f64 * 0.5;
    let category = rng.pick(&["good", "bad"]).to_owned();
    let session = rng.pick(&["s1", "s2", "s3", "s4"]).to_owned();
    let observation = format!("{trace_id}-o{}", rng.below(3));
    score(&id, stamp, |s| {
        s.name = Some(name);
        match target {
            0 => s.session_id = Some(session),
            1 => {
                s.trace_id = Some(trace_id.to_owned());
                s.observation_id = Some(observation);
            }
            _ => s.trace_id = Some(trace_id.to_owned()),
        }
        match kind {
            0 => {
                s.data_type = Some(ScoreDataType::Categorical);
                s.string_value = Some(category);
            }
            1 => {
                s.data_type = Some(ScoreDataType::Boolean);
                let yes = number >= 2.0;
                s.value = Some(if yes { 1.0 } else { 0.0 });
                s.string_value = Some(if yes { "True" } else { "False" }.to_owned());
            }
            _ => {
                s.data_type = Some(ScoreDataType::Numeric);
                s.value = Some(number);
            }
        }
    })
}

/// Per group (sorted by id): the average of the numeric and boolean `scores` of its traces,
/// of their observations and, for sessions, of the session itself; and whether one of them
/// is the category `good`.
fn expected_score_averages(
    traces: &[RawTrace],
    scores: &[crate::ScoreView],
    grouping: Grouping,
) -> Vec<(String, Option<f64>, bool)> {
    use spindle_core::ScoreDataType;
    let key_of = |trace: &RawTrace| {
        match grouping {
            Grouping::User => trace.view.record.user_id.clone(),
            Grouping::Session => trace.view.record.session_id.clone(),
        }
        .filter(|key| !key.is_empty())
    };
    let mut groups: BTreeMap<String, (Vec<f64>, bool)> = traces
        .iter()
        .filter_map(key_of)
        .map(|key| (key, (Vec::new(), false)))
        .collect();
    for view in scores {
        let score = &view.record;
        let trace_id = score.trace_id.clone().filter(|id| !id.is_empty());
        let key = match &trace_id {
            Some(trace_id) => traces
                .iter()
                .find(|trace| &trace.view.record.id == trace_id)
                .and_then(key_of),
            None if grouping == Grouping::Session => score.session_id.clone(),
            None => None,
        };
        let Some(group) = key.and_then(|key| groups.get_mut(&key)) else {
            continue;
        };
        if matches!(
            score.data_type,
            Some(ScoreDataType::Numeric | ScoreDataType::Boolean) | None
        ) {
            group.0.extend(score.value);
        }
        group.1 |= score.string_value.as_deref() == Some("good");
    }
    groups
        .into_iter()
        .map(|(id, (numbers, good))| {
            let average =
                (!numbers.is_empty()).then(|| numbers.iter().sum::<f64>() / numbers.len() as f64);
            (id, average, good)
        })
        .collect()
}
