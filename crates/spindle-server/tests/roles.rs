//! The role matrix: for each row of the README's role table (each `Permission`), a request
//! of the UI API that needs it, sent by a user of each role; it succeeds exactly when the
//! role allows it and is refused with 403 otherwise. Then the rules around owners: only
//! owners make owners, and an organization's last owner stays.

mod support;

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};
use spindle_server::bootstrap::insert_key;
use spindle_store::accounts::{Accounts, OrganizationMembership, Permission, Role};
use spindle_store::Store;
use spindle_store_sqlite::SqliteOptions;
use std::sync::Arc;
use support::UiClient;

const PASSWORD: &str = "a long password";
const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

struct Setup {
    router: Router,
    accounts: Arc<dyn Accounts>,
    /// A score config of p1, for the queues to name.
    config_id: String,
    _dir: tempfile::TempDir,
}

fn email(role: Role) -> String {
    format!("{}@example.com", role.as_str().to_lowercase())
}

/// Project `p1` of organization `org` with a trace, and one user per role in `org`.
async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = support::open_sqlite(dir.path(), SqliteOptions::default().queue_capacity);
    let store: Arc<dyn Store> = sqlite.clone();
    let secret = spindle_store::secret::ServerSecret::random();
    support::add_project(store.as_ref(), "p1", "Project p1").await;
    insert_key(store.as_ref(), &secret, "p1", "pk-lf-r", "sk-lf-r", 0)
        .await
        .expect("key");
    for role in ROLES {
        let id = role.as_str().to_lowercase();
        support::add_user(sqlite.as_ref(), &id, &email(role), PASSWORD, false, 1).await;
        sqlite
            .set_organization_membership(
                &OrganizationMembership {
                    organization_id: "org".into(),
                    user_id: id,
                    role,
                },
                1,
            )
            .await
            .expect("membership");
    }
    let accounts: Arc<dyn Accounts> = sqlite.clone();
    let router = spindle_server::app(support::sqlite_app_state(&sqlite, secret));
    let event = json!({
        "id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",
        "body": {"id": "t1", "name": "chat"}
    });
    support::ingest_as(&router, "pk-lf-r", "sk-lf-r", json!([event])).await;
    let config = axum::http::Request::post("/api/public/score-configs")
        .header("authorization", support::basic("pk-lf-r", "sk-lf-r"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"name": "quality", "dataType": "BOOLEAN"}).to_string(),
        ))
        .expect("request");
    let config = support::send(&router, config).await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text());
    let config_id = config.json()["id"].as_str().expect("config id").to_owned();
    Setup {
        router,
        accounts,
        config_id,
        _dir: dir,
    }
}

impl support::UiClient for Setup {
    fn router(&self) -> &Router {
        &self.router
    }
}

impl Setup {
    async fn session(&self, role: Role) -> (String, String) {
        support::ui_session(
            &self.router,
            support::sign_in_request(&email(role), PASSWORD),
        )
        .await
    }

    async fn get(&self, session: &(String, String), path: &str) -> support::Response {
        self.call(session, "GET", path, Value::Null).await
    }

    /// `PUT {"role": role}` to the membership at `path` as `session`; fails unless the answer
    /// has `status`. Returns it.
    async fn set_role(
        &self,
        session: &(String, String),
        path: &str,
        role: &str,
        status: StatusCode,
    ) -> support::Response {
        self.expect(session, "PUT", path, json!({ "role": role }), status)
            .await
    }
}

/// A request that needs `permission`, unique to `role` so each role's succeeds on its own.
fn request_for(permission: Permission, role: Role) -> (&'static str, String, Value) {
    let tag = role.as_str().to_lowercase();
    let project = "/api/ui/projects/p1";
    match permission {
        Permission::Read => ("GET", format!("{project}/traces"), Value::Null),
        Permission::Annotate => (
            "POST",
            format!("{project}/scores"),
            json!({"traceId": "t1", "name": format!("by-{tag}"), "value": 1}),
        ),
        Permission::EditPrompts => (
            "POST",
            format!("{project}/prompts"),
            json!({"name": format!("prompt-{tag}"), "prompt": "hello", "type": "text"}),
        ),
        Permission::EditDatasets => (
            "POST",
            format!("{project}/datasets"),
            json!({"name": format!("dataset-{tag}")}),
        ),
        Permission::SaveViews => (
            "POST",
            format!("{project}/views"),
            json!({"page": "traces", "name": format!("view-{tag}"), "query": "a=1"}),
        ),
        Permission::ManageKeys => ("POST", format!("{project}/keys"), json!({})),
        Permission::ManageMembers => (
            "POST",
            format!("{project}/members"),
            json!({"email": format!("invited-by-{tag}@example.com"), "role": "viewer"}),
        ),
        Permission::ManageSettings => (
            "PUT",
            format!("{project}/pricing"),
            json!({"builtinPrices": true}),
        ),
        Permission::DeleteTraces => (
            "POST",
            format!("{project}/traces/delete"),
            json!({"traceIds": [format!("gone-{tag}")]}),
        ),
        Permission::ManageOwners => (
            "POST",
            format!("{project}/members"),
            json!({"email": format!("owner-by-{tag}@example.com"), "role": "owner"}),
        ),
    }
}

/// The action and resource type of each entry of an audit log answer, newest first.
fn actions_on(log: &Value) -> Vec<(&str, &str)> {
    log["data"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().unwrap_or(""),
                entry["resourceType"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_role_does_what_the_table_says_and_nothing_more() {
    let setup = setup().await;
    for role in ROLES {
        let session = setup.session(role).await;
        for permission in Permission::ALL {
            let (method, path, body) = request_for(permission, role);
            let reply = setup.call(&session, method, &path, body).await;
            if role.allows(permission) {
                assert!(
                    reply.status.is_success(),
                    "{role:?} may {permission:?}: {method} {path} -> {} {}",
                    reply.status,
                    reply.text()
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{role:?} may not {permission:?}: {method} {path} -> {}",
                    reply.text()
                );
            }
        }
        // The other writes of the same rows: comments and annotation queues, score configs.
        let tag = role.as_str().to_lowercase();
        for (permission, method, path, body) in [
            (
                Permission::Annotate,
                "POST",
                "/api/ui/projects/p1/comments",
                json!({"objectType": "TRACE", "objectId": "t1", "content": format!("by {tag}")}),
            ),
            (
                Permission::Annotate,
                "POST",
                "/api/ui/projects/p1/queues",
                json!({"name": format!("queue-{tag}"), "scoreConfigIds": [setup.config_id]}),
            ),
            (
                Permission::Annotate,
                "POST",
                "/api/ui/projects/p1/scores/delete",
                json!({"scoreIds": [format!("gone-{tag}")]}),
            ),
            (
                Permission::ManageSettings,
                "POST",
                "/api/ui/projects/p1/score-configs",
                json!({"name": format!("config-{tag}"), "dataType": "BOOLEAN"}),
            ),
        ] {
            let reply = setup.call(&session, method, path, body).await;
            assert_eq!(
                reply.status.is_success(),
                role.allows(permission),
                "{role:?} {method} {path}: {} {}",
                reply.status,
                reply.text()
            );
            if !role.allows(permission) {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role:?} {path}");
            }
        }
        let organization_keys = setup
            .call(
                &session,
                "POST",
                "/api/ui/organizations/org/keys",
                json!({}),
            )
            .await;
        assert_eq!(
            organization_keys.status.is_success(),
            role.allows(Permission::ManageKeys),
            "{role:?} creating an organization key: {}",
            organization_keys.text()
        );
        // Invitations to the organization: a viewer by admins and owners, an owner by owners.
        for (permission, invited_role) in [
            (Permission::ManageMembers, "viewer"),
            (Permission::ManageOwners, "owner"),
        ] {
            let invited = setup
                .call(
                    &session,
                    "POST",
                    "/api/ui/organizations/org/members",
                    json!({"email": format!("{invited_role}-invited-by-{tag}@example.com"), "role": invited_role}),
                )
                .await;
            let expected = if role.allows(permission) {
                StatusCode::CREATED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(invited.status, expected, "{role:?}: {}", invited.text());
        }
        // New organizations are for instance admins alone, whatever the organization role.
        let organization = setup
            .call(
                &session,
                "POST",
                "/api/ui/organizations",
                json!({"name": format!("by {tag}")}),
            )
            .await;
        assert_eq!(
            organization.status,
            StatusCode::FORBIDDEN,
            "{role:?}: {}",
            organization.text()
        );
    }
}

#[tokio::test]
async fn the_table_is_ordered_by_role() {
    // Every permission of a role is a permission of each higher role.
    for permission in Permission::ALL {
        let allowed: Vec<bool> = ROLES.iter().map(|role| role.allows(permission)).collect();
        let first_refused = allowed.iter().position(|allowed| !allowed);
        if let Some(first) = first_refused {
            assert!(
                allowed[first..].iter().all(|allowed| !allowed),
                "{permission:?}: {allowed:?}"
            );
        }
    }
}

#[tokio::test]
async fn only_owners_manage_owners_and_the_last_owner_stays() {
    let setup = setup().await;
    let admin = setup.session(Role::Admin).await;
    let owner = setup.session(Role::Owner).await;
    let members = "/api/ui/organizations/org/members";
    let (member, owner_path) = (format!("{members}/member"), format!("{members}/owner"));
    setup
        .set_role(&admin, &member, "owner", StatusCode::FORBIDDEN)
        .await;
    setup
        .set_role(&admin, &owner_path, "viewer", StatusCode::FORBIDDEN)
        .await;
    let demote = setup
        .set_role(&admin, &member, "viewer", StatusCode::OK)
        .await;
    assert_eq!(demote.json()["role"], "viewer");
    let unknown = setup
        .set_role(&admin, &member, "root", StatusCode::BAD_REQUEST)
        .await;
    unknown.assert_mentions("role: unknown role");

    let remove_owner = || setup.call(&owner, "DELETE", &owner_path, Value::Null);
    let last = remove_owner().await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.text());
    setup
        .set_role(&owner, &owner_path, "admin", StatusCode::CONFLICT)
        .await;
    let admin_path = format!("{members}/admin");
    setup
        .set_role(&owner, &admin_path, "owner", StatusCode::OK)
        .await;
    let removed = remove_owner().await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    let gone = setup.get(&owner, "/api/ui/projects/p1/traces").await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "no access after removal"
    );

    // A project role overrides the organization role: the viewer becomes a project member.
    let new_owner = setup.session(Role::Admin).await;
    let viewer = setup.session(Role::Viewer).await;
    let project_member = "/api/ui/projects/p1/members/viewer";
    let upgrade = setup
        .set_role(&new_owner, project_member, "member", StatusCode::OK)
        .await;
    assert_eq!(upgrade.json()["projectRole"], "member");
    let (method, path, body) = request_for(Permission::Annotate, Role::Viewer);
    let annotate = setup.call(&viewer, method, &path, body).await;
    assert!(annotate.status.is_success(), "{}", annotate.text());
    setup
        .expect(
            &new_owner,
            "DELETE",
            project_member,
            Value::Null,
            StatusCode::OK,
        )
        .await;
    let (method, path, body) = request_for(Permission::Annotate, Role::Viewer);
    setup
        .expect(&viewer, method, &path, body, StatusCode::FORBIDDEN)
        .await;
}

#[tokio::test]
async fn the_audit_log_records_changes_and_only_admins_and_owners_read_it() {
    let setup = setup().await;
    let admin = setup.session(Role::Admin).await;
    let created = setup
        .expect(
            &admin,
            "POST",
            "/api/ui/projects/p1/keys",
            json!({}),
            StatusCode::CREATED,
        )
        .await;
    let public_key = created.json()["publicKey"]
        .as_str()
        .expect("public key")
        .to_owned();
    setup
        .expect(
            &admin,
            "DELETE",
            &format!("/api/ui/projects/p1/keys/{public_key}"),
            Value::Null,
            StatusCode::OK,
        )
        .await;
    let member = "/api/ui/organizations/org/members/member";
    setup
        .set_role(&admin, member, "viewer", StatusCode::OK)
        .await;

    for role in ROLES {
        let session = setup.session(role).await;
        for path in [
            "/api/ui/projects/p1/audit-log",
            "/api/ui/organizations/org/audit-log",
        ] {
            let reply = setup.get(&session, path).await;
            let expected = if role.allows(Permission::ManageMembers) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(reply.status, expected, "{role:?} {path}");
        }
    }

    let owner = setup.session(Role::Owner).await;
    let log = setup
        .get(&owner, "/api/ui/organizations/org/audit-log")
        .await
        .json();
    assert_eq!(log["meta"]["totalItems"], 3, "{log}");
    let entries = log["data"].as_array().expect("entries");
    assert_eq!(
        actions_on(&log),
        [
            ("role_changed", "organization_membership"),
            ("revoked", "api_key"),
            ("created", "api_key"),
        ]
    );
    assert_eq!(entries[0]["resourceId"], "member");
    assert_eq!(entries[0]["details"]["role"], "VIEWER");
    assert_eq!(entries[0]["details"]["previousRole"], "MEMBER");
    assert_eq!(entries[0]["projectId"], Value::Null);
    for entry in entries {
        assert_eq!(entry["actorKind"], "USER");
        assert_eq!(entry["actorId"], "admin");
        assert_eq!(entry["actorEmail"], "admin@example.com");
    }
    assert_eq!(entries[1]["resourceId"], public_key.as_str());
    assert_eq!(entries[1]["projectId"], "p1");

    // The project's log leaves out the organization's own changes; filters narrow it.
    let project = setup
        .get(&owner, "/api/ui/projects/p1/audit-log")
        .await
        .json();
    assert_eq!(project["meta"]["totalItems"], 2, "{project}");
    let members = setup
        .get(
            &owner,
            "/api/ui/organizations/org/audit-log?resourceType=organization_membership",
        )
        .await
        .json();
    assert_eq!(members["meta"]["totalItems"], 1, "{members}");
    setup
        .expect(
            &owner,
            "GET",
            "/api/ui/projects/p1/audit-log?resourceType=nothing",
            Value::Null,
            StatusCode::BAD_REQUEST,
        )
        .await
        .assert_mentions("resourceType");
}

#[tokio::test]
async fn instance_admins_create_organizations_and_invite_to_them() {
    let setup = setup().await;
    support::add_user(
        setup.accounts.as_ref(),
        "root",
        "root@example.com",
        PASSWORD,
        true,
        1,
    )
    .await;
    let root = support::ui_session(
        &setup.router,
        support::sign_in_request("root@example.com", PASSWORD),
    )
    .await;
    setup
        .expect(
            &root,
            "POST",
            "/api/ui/organizations",
            json!({"name": "  "}),
            StatusCode::BAD_REQUEST,
        )
        .await
        .assert_mentions("name");
    let created = setup
        .expect(
            &root,
            "POST",
            "/api/ui/organizations",
            json!({"name": "Research"}),
            StatusCode::CREATED,
        )
        .await;
    let created = created.json();
    assert_eq!(
        (created["name"].as_str(), created["role"].as_str()),
        (Some("Research"), Some("owner"))
    );
    let id = created["id"].as_str().expect("id").to_owned();
    let me = setup.get(&root, "/api/ui/me").await.json();
    assert!(
        me["organizations"]
            .as_array()
            .expect("organizations")
            .iter()
            .any(|organization| organization["id"] == id.as_str()),
        "{me}"
    );

    // An invitation with a role: a new user gets a sign-in link, a known one the role.
    let members = format!("/api/ui/organizations/{id}/members");
    let invited = setup
        .expect(
            &root,
            "POST",
            &members,
            json!({"email": "new@example.com", "role": "admin"}),
            StatusCode::CREATED,
        )
        .await;
    assert!(invited.json()["signInPath"].as_str().is_some());
    let known = setup
        .call(
            &root,
            "POST",
            &members,
            json!({"email": email(Role::Viewer), "role": "member"}),
        )
        .await;
    assert_eq!(known.json()["signInPath"], Value::Null);
    setup
        .expect(
            &root,
            "POST",
            &members,
            json!({"email": "nobody", "role": "member"}),
            StatusCode::BAD_REQUEST,
        )
        .await
        .assert_mentions("email");
    let listed = setup.get(&root, &members).await.json();
    let mut roles: Vec<(String, String)> = listed["data"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| {
            (
                member["email"].as_str().unwrap_or("").to_owned(),
                member["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("new@example.com".to_owned(), "admin".to_owned()),
            (email(Role::Viewer), "member".to_owned()),
        ]
    );
    let log = setup
        .get(&root, &format!("/api/ui/organizations/{id}/audit-log"))
        .await
        .json();
    assert_eq!(
        actions_on(&log),
        [
            ("invited", "organization_membership"),
            ("invited", "organization_membership"),
            ("created", "organization"),
        ]
    );
}

#[tokio::test]
async fn prompt_changes_in_the_ui_are_audited_once_by_the_user() {
    let setup = setup().await;
    let member = setup.session(Role::Member).await;
    let prompts = "/api/ui/projects/p1/prompts";
    for (content, labels) in [("one", json!(["production"])), ("two", json!([]))] {
        setup
            .expect(
                &member,
                "POST",
                prompts,
                json!({"name": "greeting", "prompt": content, "type": "text", "labels": labels}),
                StatusCode::CREATED,
            )
            .await;
    }
    setup
        .expect(
            &member,
            "POST",
            &format!("{prompts}/greeting/versions/2/labels"),
            json!({"labels": ["production"]}),
            StatusCode::OK,
        )
        .await;
    for _ in 0..2 {
        setup
            .expect(
                &member,
                "DELETE",
                &format!("{prompts}/greeting/versions/2/labels/production"),
                Value::Null,
                StatusCode::OK,
            )
            .await;
    }
    setup
        .expect(
            &member,
            "DELETE",
            &format!("{prompts}/greeting"),
            Value::Null,
            StatusCode::OK,
        )
        .await;

    let owner = setup.session(Role::Owner).await;
    let log = setup
        .get(&owner, "/api/ui/projects/p1/audit-log?resourceType=prompt")
        .await
        .json();
    let entries = log["data"].as_array().expect("entries");
    let actions: Vec<&str> = entries
        .iter()
        .map(|entry| entry["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        ["deleted", "label_removed", "labels_set", "labels_set"],
        "{log}"
    );
    for entry in entries {
        assert_eq!(entry["actorKind"], "USER");
        assert_eq!(entry["actorId"], "member");
        assert_eq!(entry["resourceId"], "greeting");
        assert_eq!(entry["projectId"], "p1");
    }
}
