//! Conformance cases of organizations' administration (run by the accounts suite): roles
//! that keep an owner, organization keys, projects created, changed and deleted, and the
//! batched purge of a deleted project's data, resumed by a store opened again.

use super::accounts::{user, AccountsStore};
use super::fixtures::{observation, score, trace};
use crate::accounts::{Membership, OrganizationMembership, Role};
use crate::organizations::{OrganizationApiKey, ProjectUpdate};
use crate::{ApiKey, ErrorKind, Organization, Project, WriteBatch};
use spindle_core::merge::Stamp;

pub(super) fn organization(id: &str) -> Organization {
    Organization {
        id: id.into(),
        name: format!("Organization {id}"),
    }
}

pub(super) fn project(id: &str, name: &str, organization_id: &str) -> Project {
    Project {
        id: id.into(),
        name: name.into(),
        organization: organization(organization_id),
        retention_days: None,
        created_at: 10,
    }
}

async fn add_user(store: &dyn AccountsStore, id: &str, email: &str) {
    store.create_user(&user(id, email)).await.expect("user");
}

fn member(organization_id: &str, user_id: &str, role: Role) -> OrganizationMembership {
    OrganizationMembership {
        organization_id: organization_id.into(),
        user_id: user_id.into(),
        role,
    }
}

fn key(public_key: &str, organization_id: &str) -> OrganizationApiKey {
    OrganizationApiKey {
        public_key: public_key.into(),
        organization_id: organization_id.into(),
        secret_hash: "hmac-sha256:00".into(),
        secret_hint: "abcd".into(),
        note: Some("ci".into()),
        created_at: 5,
        revoked_at: None,
    }
}

pub async fn organization_roles_keep_an_owner(store: &dyn AccountsStore) {
    store
        .upsert_organization(&organization("o1"))
        .await
        .expect("organization");
    store
        .create_project(&project("p1", "Alpha", "o1"), None)
        .await
        .expect("project");
    add_user(store, "u1", "a@example.com").await;
    add_user(store, "u2", "b@example.com").await;
    store
        .set_organization_membership(&member("o1", "u1", Role::Owner), 1)
        .await
        .expect("owner");
    store
        .set_organization_membership(&member("o1", "u2", Role::Member), 1)
        .await
        .expect("member");
    let refused = store
        .set_organization_membership(&member("o1", "u1", Role::Admin), 2)
        .await
        .expect_err("the last owner stays an owner");
    assert_eq!(refused.kind, ErrorKind::Conflict);
    let refused = store
        .remove_organization_membership("o1", "u1")
        .await
        .expect_err("the last owner stays");
    assert_eq!(refused.kind, ErrorKind::Conflict);
    let members = store.organization_members("o1").await.expect("members");
    let roles: Vec<(&str, Role)> = members
        .iter()
        .map(|(user, role)| (user.email.as_str(), *role))
        .collect();
    assert_eq!(
        roles,
        [
            ("a@example.com", Role::Owner),
            ("b@example.com", Role::Member)
        ]
    );
    store
        .set_organization_membership(&member("o1", "u2", Role::Owner), 3)
        .await
        .expect("a second owner");
    store
        .set_organization_membership(&member("o1", "u1", Role::Viewer), 4)
        .await
        .expect("the first owner may step down now");
    assert_eq!(
        store
            .organization_memberships_of_user("u1")
            .await
            .expect("of user"),
        [member("o1", "u1", Role::Viewer)]
    );
    store
        .set_membership(
            &Membership {
                user_id: "u1".into(),
                project_id: "p1".into(),
                role: Role::Admin,
            },
            5,
        )
        .await
        .expect("project role");
    assert!(store
        .remove_organization_membership("o1", "u1")
        .await
        .expect("remove"));
    assert!(
        store
            .memberships_of_user("u1")
            .await
            .expect("project roles")
            .is_empty(),
        "project roles in the organization go with the membership"
    );
    assert!(!store
        .remove_organization_membership("o1", "u1")
        .await
        .expect("remove again"));
    assert!(store
        .organization_members("nope")
        .await
        .expect("none")
        .is_empty());
}

pub async fn organization_keys_are_stored_and_revoked(store: &dyn AccountsStore) {
    store
        .upsert_organization(&organization("o1"))
        .await
        .expect("organization");
    store
        .upsert_organization(&organization("o2"))
        .await
        .expect("organization");
    store
        .insert_organization_api_key(&key("pk-org", "o1"))
        .await
        .expect("key");
    assert_eq!(
        store.get_organization_api_key("pk-org").await.expect("get"),
        Some(key("pk-org", "o1"))
    );
    let taken = store
        .insert_organization_api_key(&key("pk-org", "o2"))
        .await
        .expect_err("taken");
    assert_eq!(taken.kind, ErrorKind::InvalidArgument);
    let unknown = store
        .insert_organization_api_key(&key("pk-other", "o9"))
        .await
        .expect_err("unknown organization");
    assert_eq!(unknown.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        store.list_organization_api_keys("o1").await.expect("list"),
        [key("pk-org", "o1")]
    );
    assert!(store
        .list_organization_api_keys("o2")
        .await
        .expect("list")
        .is_empty());
    assert!(!store
        .revoke_organization_api_key("o2", "pk-org", 9)
        .await
        .expect("another organization's key"));
    assert!(store
        .revoke_organization_api_key("o1", "pk-org", 9)
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_organization_api_key("o1", "pk-org", 10)
        .await
        .expect("revoked already"));
    let stored = store
        .get_organization_api_key("pk-org")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(stored.revoked_at, Some(9));
    assert_eq!(
        store.get_api_key("pk-org").await.expect("project keys"),
        None,
        "organization keys are no project keys"
    );
}

pub async fn projects_are_created_changed_and_deleted(store: &dyn AccountsStore) {
    store
        .upsert_organization(&organization("o1"))
        .await
        .expect("organization");
    store
        .create_project(&project("p1", "Alpha", "o1"), Some(r#"{"team":"a"}"#))
        .await
        .expect("create");
    store
        .create_project(&project("p2", "Beta", "o1"), None)
        .await
        .expect("create");
    let taken = store
        .create_project(&project("p3", "Alpha", "o1"), None)
        .await
        .expect_err("the name is taken");
    assert_eq!(taken.kind, ErrorKind::Conflict);
    let unknown = store
        .create_project(&project("p4", "Gamma", "o9"), None)
        .await
        .expect_err("unknown organization");
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    let projects = store.organization_projects("o1").await.expect("list");
    let names: Vec<&str> = projects
        .iter()
        .map(|details| details.project.name.as_str())
        .collect();
    assert_eq!(names, ["Alpha", "Beta"]);
    assert_eq!(projects[0].metadata.as_deref(), Some(r#"{"team":"a"}"#));
    assert_eq!(projects[0].updated_at, 10);

    let renamed = store
        .update_project(
            "p1",
            &ProjectUpdate {
                name: Some("Alpha 2".into()),
                retention_days: Some(Some(7)),
                metadata: None,
            },
            20,
        )
        .await
        .expect("update")
        .expect("found");
    assert_eq!(renamed.project.name, "Alpha 2");
    assert_eq!(renamed.project.retention_days, Some(7));
    assert_eq!(renamed.metadata.as_deref(), Some(r#"{"team":"a"}"#));
    assert_eq!(renamed.updated_at, 20);
    let taken = store
        .update_project(
            "p2",
            &ProjectUpdate {
                name: Some("Alpha 2".into()),
                ..ProjectUpdate::default()
            },
            21,
        )
        .await
        .expect_err("the name is taken");
    assert_eq!(taken.kind, ErrorKind::Conflict);
    assert_eq!(
        store
            .update_project("nope", &ProjectUpdate::default(), 21)
            .await
            .expect("update"),
        None
    );
    assert!(store
        .get_organization_project("o2", "p1")
        .await
        .expect("another organization")
        .is_none());

    store
        .insert_api_key(&ApiKey {
            public_key: "pk-p1".into(),
            secret_hash: "hmac-sha256:00".into(),
            secret_hint: "abcd".into(),
            project_id: "p1".into(),
            note: None,
            created_at: 1,
            revoked_at: None,
        })
        .await
        .expect("key");
    assert!(store.mark_project_deleted("p1", 30).await.expect("delete"));
    assert!(!store
        .mark_project_deleted("p1", 31)
        .await
        .expect("deleted already"));
    assert_eq!(store.get_project("p1").await.expect("get"), None);
    assert_eq!(store.get_api_key("pk-p1").await.expect("key"), None);
    let live: Vec<String> = store
        .list_projects()
        .await
        .expect("list")
        .into_iter()
        .map(|project| project.id)
        .collect();
    assert_eq!(live, ["p2"]);
    assert_eq!(
        store.organization_projects("o1").await.expect("list").len(),
        1
    );
    assert_eq!(
        store
            .update_project("p1", &ProjectUpdate::default(), 32)
            .await
            .expect("update"),
        None,
        "a deleted project cannot change"
    );
    store
        .create_project(&project("p5", "Alpha 2", "o1"), None)
        .await
        .expect("a deleted project's name is free again");
    assert_eq!(
        store.projects_to_purge().await.expect("to purge"),
        ["p1".to_owned()]
    );
}

/// Three traces, each with an observation and a score, in `project_id`.
async fn write_data(store: &dyn AccountsStore, project_id: &str) {
    let stamp = Stamp::explicit(1, Stamp::RANK_CREATE, 0);
    let mut batch = WriteBatch::default();
    for index in 0..3 {
        let trace_id = format!("t{index}");
        batch.traces.push(trace(&trace_id, stamp, |record| {
            record.name = Some("chat".into());
            record.tags = ["tag".to_owned()].into();
            record.timestamp = Some(1_000_000);
        }));
        batch
            .observations
            .push(observation(&format!("o{index}"), stamp, |record| {
                record.trace_id = Some(trace_id.clone());
                record.start_time = Some(1_000_000);
            }));
        batch
            .scores
            .push(score(&format!("s{index}"), stamp, |record| {
                record.trace_id = Some(trace_id.clone());
                record.name = Some("quality".into());
                record.value = Some(1.0);
            }));
    }
    store.write(project_id, batch).await.expect("write");
}

/// The first part of a purge: the project deleted and one small batch gone; the store is
/// then shut down and opened again for [`purge_resumes_after_a_restart`].
pub async fn purge_starts(store: &dyn AccountsStore) {
    store
        .upsert_organization(&organization("o1"))
        .await
        .expect("organization");
    for id in ["gone", "kept"] {
        store
            .create_project(&project(id, id, "o1"), None)
            .await
            .expect("project");
        write_data(store, id).await;
    }
    assert!(store.mark_project_deleted("gone", 5).await.expect("delete"));
    let removed = store
        .purge_project_batch("gone", 1)
        .await
        .expect("one batch");
    assert!(removed > 0, "a batch removes rows");
    assert_eq!(
        store.projects_to_purge().await.expect("pending"),
        ["gone".to_owned()],
        "one batch of one row per table leaves data"
    );
    assert_eq!(
        store
            .purge_project_batch("kept", 1)
            .await
            .expect("a live project"),
        0,
        "only deleted projects are purged"
    );
}

/// The second part: a store opened again finds the purge unfinished and completes it; the
/// other project's data is untouched.
pub async fn purge_resumes_after_a_restart(store: &dyn AccountsStore) {
    assert_eq!(
        store.projects_to_purge().await.expect("pending"),
        ["gone".to_owned()]
    );
    let removed = crate::organizations::purge(
        store,
        crate::organizations::PurgeOptions {
            batch_rows: 2,
            pause: std::time::Duration::ZERO,
            pause_per_batch_time: 0,
        },
    )
    .await
    .expect("purge");
    assert!(removed > 0);
    assert!(store.projects_to_purge().await.expect("pending").is_empty());
    for id in ["t0", "t1", "t2"] {
        assert!(store.get_trace("gone", id).await.expect("get").is_none());
        assert!(store.get_trace("kept", id).await.expect("get").is_some());
    }
    for id in ["o0", "o1", "o2"] {
        assert!(store
            .get_observation("gone", id)
            .await
            .expect("get")
            .is_none());
    }
    for id in ["s0", "s1", "s2"] {
        assert!(store.get_score("gone", id).await.expect("get").is_none());
        assert!(store.get_score("kept", id).await.expect("get").is_some());
    }
    assert_eq!(
        store.purge_project_batch("gone", 10).await.expect("again"),
        0,
        "a purged project has nothing left"
    );
}

fn audit_entry(
    organization_id: &str,
    project_id: Option<&str>,
    resource_type: &str,
    resource_id: &str,
    created_at: i64,
) -> crate::audit::NewAuditEntry {
    crate::audit::NewAuditEntry {
        organization_id: organization_id.into(),
        project_id: project_id.map(Into::into),
        actor: crate::audit::Actor::User("u1".into()),
        action: "created".into(),
        resource_type: resource_type.into(),
        resource_id: resource_id.into(),
        details: None,
        created_at,
    }
}

/// The audit log keeps every field, reads newest first (entries of the same instant in the
/// order they were recorded, the last first), a page at a time, and filters by
/// organization, project and resource type.
pub async fn the_audit_log_is_paged_newest_first_and_filtered(store: &dyn AccountsStore) {
    use crate::audit::{resource, Actor, AuditQuery};
    let mut key_revoked = audit_entry("o1", Some("p1"), resource::API_KEY, "pk-1", 20);
    key_revoked.action = "revoked".into();
    key_revoked.actor = Actor::ProjectKey("pk-0".into());
    key_revoked.details = Some(serde_json::json!({"note": "ci", "n": 1}));
    let entries = [
        audit_entry("o1", Some("p1"), resource::API_KEY, "pk-1", 10),
        key_revoked.clone(),
        audit_entry("o1", None, resource::ORGANIZATION_API_KEY, "opk-1", 20),
        audit_entry("o1", Some("p2"), resource::PROJECT, "p2", 15),
        audit_entry("o2", Some("p3"), resource::API_KEY, "pk-3", 30),
    ];
    for entry in &entries {
        store.record_audit(entry).await.expect("record");
    }
    let read = |project_id: Option<&str>, resource_type: Option<&str>, page, limit| AuditQuery {
        organization_id: "o1".into(),
        project_id: project_id.map(Into::into),
        resource_type: resource_type.map(Into::into),
        page,
        limit,
    };
    let all = store
        .audit_log(&read(None, None, 1, 10))
        .await
        .expect("log");
    assert_eq!(all.total_items, 4);
    let ids: Vec<&str> = all
        .items
        .iter()
        .map(|entry| entry.entry.resource_id.as_str())
        .collect();
    // Two entries at 20: the one recorded last comes first.
    assert_eq!(ids, ["opk-1", "pk-1", "p2", "pk-1"]);
    assert_eq!(all.items[1].entry, key_revoked);
    assert!(all.items[0].id > all.items[1].id);

    let second = store
        .audit_log(&read(None, None, 2, 3))
        .await
        .expect("page 2");
    assert_eq!((second.page, second.limit, second.total_items), (2, 3, 4));
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].entry.created_at, 10);

    let keys = store
        .audit_log(&read(None, Some(resource::API_KEY), 1, 10))
        .await
        .expect("keys");
    assert_eq!(keys.total_items, 2);
    assert!(keys
        .items
        .iter()
        .all(|entry| entry.entry.organization_id == "o1"
            && entry.entry.project_id.as_deref() == Some("p1")));

    let p2 = store
        .audit_log(&read(Some("p2"), None, 1, 10))
        .await
        .expect("p2");
    assert_eq!(p2.total_items, 1);
    assert_eq!(p2.items[0].entry.resource_type, resource::PROJECT);

    let none = store
        .audit_log(&read(Some("p2"), Some(resource::API_KEY), 1, 10))
        .await
        .expect("none");
    assert_eq!((none.total_items, none.items.len()), (0, 0));
}

/// Creates organization `o-audit` with project `project_id`, for cases whose store calls
/// record their change in the audit log (the entry's organization is the project's).
pub async fn audited_project(store: &(impl crate::Store + ?Sized), project_id: &str) {
    store
        .upsert_organization(&organization("o-audit"))
        .await
        .expect("organization");
    store
        .upsert_project(&project(project_id, project_id, "o-audit"))
        .await
        .expect("project");
}

/// The audit log of [`audited_project`]'s project for one resource type, oldest first, as
/// `(action, resource id, actor)` with the details of each.
pub async fn project_log(
    store: &(impl crate::accounts::Accounts + ?Sized),
    project_id: &str,
    resource_type: &str,
) -> Vec<(
    String,
    String,
    crate::audit::Actor,
    Option<serde_json::Value>,
)> {
    let page = store
        .audit_log(&crate::audit::AuditQuery {
            organization_id: "o-audit".into(),
            project_id: Some(project_id.into()),
            resource_type: Some(resource_type.into()),
            page: 1,
            limit: 100,
        })
        .await
        .expect("audit log");
    page.items
        .into_iter()
        .rev()
        .map(|entry| {
            (
                entry.entry.action,
                entry.entry.resource_id,
                entry.entry.actor,
                entry.entry.details,
            )
        })
        .collect()
}
