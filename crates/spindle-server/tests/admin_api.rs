//! The administration API through the whole HTTP stack: organization keys reach
//! `/api/public/organizations/…` and the project administration routes, project keys are
//! refused there and organization keys everywhere else; projects, their keys and
//! memberships are created, changed and deleted, and a deleted project's data is purged.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use spindle_server::bootstrap::organization_api_key;
use spindle_store::accounts::User;
use spindle_store::organizations::{purge, PurgeOptions};
use support::{basic, TestApp, PK1, SK1};

const ORG_PK: &str = "pk-lf-org";
const ORG_SK: &str = "sk-lf-org-secret";

/// The test app, with an organization key of the organization of `p1` and `p2`.
async fn admin_app() -> TestApp {
    let app = support::app().await;
    let key = organization_api_key(&app.state.server_secret, "org", ORG_PK, ORG_SK, None, 1);
    app.store
        .insert_organization_api_key(&key)
        .await
        .expect("organization key");
    app
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    key: (&str, &str),
) -> support::Response {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, basic(key.0, key.1));
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    app.send(request.body(body).expect("request")).await
}

/// Like [`call`]; fails unless the answer has `status`. Returns it.
async fn expect(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    key: (&str, &str),
    status: StatusCode,
) -> support::Response {
    let reply = call(app, method, path, body, key).await;
    support::expect_status(reply, method, path, status)
}

const ORG: (&str, &str) = (ORG_PK, ORG_SK);
const PROJECT: (&str, &str) = (PK1, SK1);

#[tokio::test]
async fn keys_reach_only_their_own_routes() {
    let app = admin_app().await;
    for (method, path) in [
        ("GET", "/api/public/organizations/projects"),
        ("GET", "/api/public/organizations/memberships"),
        ("GET", "/api/public/organizations/apiKeys"),
        ("POST", "/api/public/projects"),
        ("PUT", "/api/public/projects/p1"),
        ("DELETE", "/api/public/projects/p1"),
        ("GET", "/api/public/projects/p1/apiKeys"),
        ("GET", "/api/public/projects/p1/memberships"),
    ] {
        let reply = call(&app, method, path, Some(&json!({"name": "x"})), PROJECT).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(
            reply.json()["message"]
                .as_str()
                .expect("message")
                .starts_with("Invalid API key. Organization-scoped API key required"),
            "{}",
            reply.text()
        );
    }
    let reply = call(&app, "GET", "/api/public/projects", None, ORG).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json()["message"],
        "Invalid API key. Are you using an organization key?"
    );
    for path in ["/api/public/traces", "/api/public/v2/prompts"] {
        let reply = call(&app, "GET", path, None, ORG).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        reply.assert_mentions("organization key");
    }
    let batch = json!({"batch": []});
    let reply = call(&app, "POST", "/api/public/ingestion", Some(&batch), ORG).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    expect(
        &app,
        "GET",
        "/api/public/organizations/projects",
        None,
        (ORG_PK, "sk-lf-wrong"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let bearer = app
        .send(
            Request::get("/api/public/organizations/projects")
                .header(header::AUTHORIZATION, format!("Bearer {ORG_PK}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    // The project key still reads its own project.
    let reply = call(&app, "GET", "/api/public/projects", None, PROJECT).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn projects_are_created_listed_updated_and_validated() {
    let app = admin_app().await;
    let created = expect(
        &app,
        "POST",
        "/api/public/projects",
        Some(&json!({"name": "Alpha", "metadata": {"team": "a"}, "retention": 7})),
        ORG,
        StatusCode::CREATED,
    )
    .await;
    let project = created.json();
    assert_eq!(project["name"], "Alpha");
    assert_eq!(project["metadata"], json!({"team": "a"}));
    assert_eq!(project["retentionDays"], 7);
    assert_eq!(project["organization"]["id"], "org");
    let id = project["id"].as_str().expect("id").to_owned();

    for (body, status, field) in [
        (json!({"name": "Alpha"}), 409, "A project with this name"),
        (json!({"name": "ab"}), 400, "name:"),
        (json!({}), 400, "name: is required"),
        (json!({"name": "Gamma", "retention": 2}), 400, "retention:"),
        (json!({"name": "Gamma", "metadata": [1]}), 400, "metadata:"),
    ] {
        let reply = call(&app, "POST", "/api/public/projects", Some(&body), ORG).await;
        support::expect_error(reply, status, field).await;
    }

    let listed = call(&app, "GET", "/api/public/organizations/projects", None, ORG).await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.json();
    assert_eq!(
        support::texts_in(&listed, "projects", "name"),
        ["p1", "p2", "Alpha"]
    );
    assert!(listed["projects"][2]["createdAt"].is_string());

    let path = format!("/api/public/projects/{id}");
    let updated = expect(
        &app,
        "PUT",
        &path,
        Some(&json!({"name": "Alpha 2", "retention": 0})),
        ORG,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated.json()["name"], "Alpha 2");
    assert!(updated.json().get("retentionDays").is_none());
    assert_eq!(updated.json()["metadata"], json!({"team": "a"}));
    expect(
        &app,
        "PUT",
        "/api/public/projects/nope",
        Some(&json!({"name": "Whatever"})),
        ORG,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn project_keys_are_created_listed_and_deleted() {
    let app = admin_app().await;
    let created = expect(
        &app,
        "POST",
        "/api/public/projects/p2/apiKeys",
        Some(&json!({"note": "ci"})),
        ORG,
        StatusCode::CREATED,
    )
    .await;
    let key = created.json();
    let public_key = key["publicKey"].as_str().expect("public key").to_owned();
    let secret_key = key["secretKey"].as_str().expect("secret key").to_owned();
    assert!(public_key.starts_with("pk-lf-") && secret_key.starts_with("sk-lf-"));
    assert_eq!(key["id"], public_key.as_str());
    assert_eq!(key["note"], "ci");
    let works = expect(
        &app,
        "GET",
        "/api/public/projects",
        None,
        (&public_key, &secret_key),
        StatusCode::OK,
    )
    .await;
    assert_eq!(works.json()["data"][0]["id"], "p2");

    let listed = call(&app, "GET", "/api/public/projects/p2/apiKeys", None, ORG).await;
    let keys = listed.json()["apiKeys"].as_array().expect("keys").clone();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[1]["publicKey"], public_key.as_str());
    let shown = keys[1]["displaySecretKey"].as_str().expect("display");
    assert!(
        shown.ends_with(&secret_key[secret_key.len() - 4..]),
        "{shown}"
    );
    assert!(!listed.text().contains(&secret_key), "never the secret");

    let predefined = json!({"publicKey": "pk-lf-fixed", "secretKey": "sk-lf-fixed"});
    for (project, status) in [("p2", StatusCode::CREATED), ("p1", StatusCode::CONFLICT)] {
        let path = format!("/api/public/projects/{project}/apiKeys");
        expect(&app, "POST", &path, Some(&predefined), ORG, status).await;
    }
    for (body, message) in [
        (json!({"publicKey": "pk-lf-half"}), "secretKey:"),
        (
            json!({"publicKey": "pk-x", "secretKey": "sk-lf-x"}),
            "publicKey:",
        ),
    ] {
        let path = "/api/public/projects/p2/apiKeys";
        let reply = call(&app, "POST", path, Some(&body), ORG).await;
        support::expect_error(reply, 400, message).await;
    }

    let path = format!("/api/public/projects/p1/apiKeys/{public_key}");
    let other_project = call(&app, "DELETE", &path, None, ORG).await;
    assert_eq!(other_project.status, StatusCode::NOT_FOUND, "a key of p2");
    let path = format!("/api/public/projects/p2/apiKeys/{public_key}");
    let deleted = call(&app, "DELETE", &path, None, ORG).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json(), json!({"success": true}));
    expect(
        &app,
        "GET",
        "/api/public/projects",
        None,
        (&public_key, &secret_key),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let again = call(&app, "DELETE", &path, None, ORG).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // The audit log has the key's creation and revocation, by the organization key, once.
    let log = app
        .state
        .accounts
        .audit_log(&spindle_store::audit::AuditQuery {
            organization_id: "org".into(),
            project_id: Some("p2".into()),
            resource_type: Some("api_key".into()),
            page: 1,
            limit: 50,
        })
        .await
        .expect("audit log");
    let of_key: Vec<&str> = log
        .items
        .iter()
        .filter(|entry| entry.entry.resource_id == public_key)
        .map(|entry| {
            assert_eq!(
                entry.entry.actor,
                spindle_store::audit::Actor::OrganizationKey(ORG_PK.into())
            );
            entry.entry.action.as_str()
        })
        .collect();
    assert_eq!(of_key, ["revoked", "created"]);

    let organization_keys = call(&app, "GET", "/api/public/organizations/apiKeys", None, ORG).await;
    let organization_keys = organization_keys.json();
    assert_eq!(organization_keys["apiKeys"][0]["publicKey"], ORG_PK);
    assert!(organization_keys["apiKeys"][0]["displaySecretKey"]
        .as_str()
        .expect("display")
        .ends_with("cret"));
}

#[tokio::test]
async fn memberships_need_users_and_known_roles() {
    let app = admin_app().await;
    for (id, email) in [("u1", "one@example.com"), ("u2", "two@example.com")] {
        app.state
            .accounts
            .create_user(&User {
                id: id.into(),
                email: email.into(),
                name: Some(format!("User {id}")),
                password_hash: None,
                is_admin: false,
                created_at: 1,
            })
            .await
            .expect("user");
    }
    let path = "/api/public/organizations/memberships";
    let owner = json!({"userId": "u1", "role": "OWNER"});
    let reply = call(&app, "PUT", path, Some(&owner), ORG).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"userId": "u1", "role": "OWNER", "email": "one@example.com", "name": "User u1"})
    );
    let unknown_role = json!({"userId": "u2", "role": "ROOT"});
    let reply = call(&app, "PUT", path, Some(&unknown_role), ORG).await;
    support::expect_error(reply, 400, "role: unknown role \"ROOT\"").await;
    let no_user = json!({"userId": "nobody", "role": "MEMBER"});
    let reply = call(&app, "PUT", path, Some(&no_user), ORG).await;
    support::expect_error(reply, 404, "userId:").await;
    let missing = json!({"role": "MEMBER"});
    let reply = call(&app, "PUT", path, Some(&missing), ORG).await;
    support::expect_error(reply, 400, "userId: is required").await;

    let project_path = "/api/public/projects/p1/memberships";
    let not_in_organization = json!({"userId": "u2", "role": "VIEWER"});
    let reply = call(&app, "PUT", project_path, Some(&not_in_organization), ORG).await;
    support::expect_error(reply, 404, "userId:").await;
    let viewer = json!({"userId": "u2", "role": "VIEWER"});
    let reply = call(&app, "PUT", path, Some(&viewer), ORG).await;
    assert_eq!(reply.status, StatusCode::OK);
    let admin_here = json!({"userId": "u2", "role": "ADMIN"});
    let reply = call(&app, "PUT", project_path, Some(&admin_here), ORG).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let listed = call(&app, "GET", project_path, None, ORG).await;
    assert_eq!(listed.json()["memberships"][0]["role"], "ADMIN");
    let listed = call(&app, "GET", path, None, ORG).await;
    let listed = listed.json();
    let roles = support::texts_in(&listed, "memberships", "role");
    assert_eq!(roles, ["OWNER", "VIEWER"]);

    let u2 = json!({"userId": "u2"});
    let reply = call(&app, "DELETE", project_path, Some(&u2), ORG).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["userId"], "u2");
    let reply = call(&app, "DELETE", project_path, Some(&u2), ORG).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let last_owner = call(&app, "DELETE", path, Some(&json!({"userId": "u1"})), ORG).await;
    support::expect_error(last_owner, 409, "role: the organization's last owner").await;
    let demote = json!({"userId": "u1", "role": "MEMBER"});
    let reply = call(&app, "PUT", path, Some(&demote), ORG).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = call(&app, "DELETE", path, Some(&u2), ORG).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["message"], "Membership deleted successfully");
}

#[tokio::test]
async fn a_deleted_project_is_gone_at_once_and_its_data_after_the_purge() {
    let app = admin_app().await;
    let event = json!({
        "id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",
        "body": {"id": "t1", "name": "chat"}
    });
    support::ingest_as(&app.router, PK1, SK1, json!([event])).await;
    support::ingest_as(&app.router, support::PK2, support::SK2, json!([event])).await;
    assert!(app
        .store
        .get_trace("p1", "t1")
        .await
        .expect("get")
        .is_some());

    let deleted = call(&app, "DELETE", "/api/public/projects/p1", None, ORG).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.text());
    assert_eq!(deleted.json()["success"], true);
    let refused = call(&app, "GET", "/api/public/traces/t1", None, PROJECT).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "its keys are gone"
    );
    let again = call(&app, "DELETE", "/api/public/projects/p1", None, ORG).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let listed = call(&app, "GET", "/api/public/organizations/projects", None, ORG).await;
    assert_eq!(listed.json()["projects"].as_array().expect("list").len(), 1);

    let options = PurgeOptions {
        batch_rows: 1,
        pause: std::time::Duration::ZERO,
        pause_per_batch_time: 0,
    };
    purge(app.store.as_ref(), options).await.expect("purge");
    assert!(app
        .store
        .get_trace("p1", "t1")
        .await
        .expect("get")
        .is_none());
    assert!(
        app.store
            .get_trace("p2", "t1")
            .await
            .expect("get")
            .is_some(),
        "another project's data stays"
    );
}

/// The audit log of `org` for one resource type, oldest first: `(action, resource id,
/// actor kind, actor id)`.
async fn audited(app: &TestApp, resource_type: &str) -> Vec<(String, String, String, String)> {
    let log = app
        .state
        .accounts
        .audit_log(&spindle_store::audit::AuditQuery {
            organization_id: "org".into(),
            project_id: None,
            resource_type: Some(resource_type.into()),
            page: 1,
            limit: 100,
        })
        .await
        .expect("audit log");
    log.items
        .into_iter()
        .rev()
        .map(|entry| {
            (
                entry.entry.action,
                entry.entry.resource_id,
                entry.entry.actor.kind().to_owned(),
                entry.entry.actor.id().to_owned(),
            )
        })
        .collect()
}

fn by_key(action: &str, id: &str, kind: &str, key: &str) -> (String, String, String, String) {
    (action.into(), id.into(), kind.into(), key.into())
}

#[tokio::test]
async fn prompt_dataset_and_project_changes_through_the_api_are_audited_once_by_their_key() {
    let app = admin_app().await;
    let ok = |response: support::Response| {
        assert!(response.status.is_success(), "{}", response.text());
        response
    };
    // Prompts: a version created with a label, the label moved, a version and the rest deleted.
    for content in ["one", "two"] {
        let labels = if content == "one" {
            json!(["production"])
        } else {
            json!([])
        };
        let body = json!({"name": "greeting", "prompt": content, "type": "text", "labels": labels});
        ok(call(&app, "POST", "/api/public/v2/prompts", Some(&body), PROJECT).await);
    }
    let moved = json!({"newLabels": ["production"]});
    let path = "/api/public/v2/prompts/greeting/versions/2";
    ok(call(&app, "PATCH", path, Some(&moved), PROJECT).await);
    let path = "/api/public/v2/prompts/greeting?version=1";
    ok(call(&app, "DELETE", path, None, PROJECT).await);
    let gone = call(&app, "DELETE", path, None, PROJECT).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text());
    ok(call(
        &app,
        "DELETE",
        "/api/public/v2/prompts/greeting",
        None,
        PROJECT,
    )
    .await);
    let key = "PROJECT_KEY";
    assert_eq!(
        audited(&app, "prompt").await,
        [
            by_key("labels_set", "greeting", key, PK1),
            by_key("labels_set", "greeting", key, PK1),
            by_key("deleted", "greeting", key, PK1),
            by_key("deleted", "greeting", key, PK1),
        ]
    );

    // Datasets: an item and a run deleted (each once: the second delete finds nothing).
    let dataset = json!({"name": "capitals"});
    ok(call(
        &app,
        "POST",
        "/api/public/v2/datasets",
        Some(&dataset),
        PROJECT,
    )
    .await);
    for id in ["france", "italy"] {
        let item = json!({"datasetName": "capitals", "id": id, "input": {"country": id}});
        ok(call(
            &app,
            "POST",
            "/api/public/dataset-items",
            Some(&item),
            PROJECT,
        )
        .await);
    }
    let run_item = json!({"runName": "nightly", "datasetItemId": "france", "traceId": "t1"});
    let run_item = ok(call(
        &app,
        "POST",
        "/api/public/dataset-run-items",
        Some(&run_item),
        PROJECT,
    )
    .await)
    .json();
    let run_id = run_item["datasetRunId"]
        .as_str()
        .expect("run id")
        .to_owned();
    for _ in 0..2 {
        call(
            &app,
            "DELETE",
            "/api/public/dataset-items/italy",
            None,
            PROJECT,
        )
        .await;
        call(
            &app,
            "DELETE",
            "/api/public/datasets/capitals/runs/nightly",
            None,
            PROJECT,
        )
        .await;
    }
    assert_eq!(
        audited(&app, "dataset_item").await,
        [by_key("deleted", "italy", key, PK1)]
    );
    assert_eq!(
        audited(&app, "dataset_run").await,
        [by_key("deleted", &run_id, key, PK1)]
    );

    // The project, deleted with the organization key: its entries stay.
    let deleted = call(&app, "DELETE", "/api/public/projects/p1", None, ORG).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.text());
    call(&app, "DELETE", "/api/public/projects/p1", None, ORG).await;
    let projects = audited(&app, "project").await;
    assert_eq!(
        projects,
        [by_key("deleted", "p1", "ORGANIZATION_KEY", ORG_PK)]
    );
    assert_eq!(audited(&app, "prompt").await.len(), 4);
}
