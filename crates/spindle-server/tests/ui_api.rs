//! The web UI's server side through the whole HTTP stack: sign-in, cookie flags, CSRF,
//! project scoping, API keys shown once, the data endpoints, and the embedded app.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use spindle_server::bootstrap::insert_key;
use spindle_server::state::AppState;
use spindle_server::ui::bootstrap::{bootstrap_admin, AdminBootstrap};
use spindle_server::ui::session::SignInGuard;
use spindle_store::accounts::{hash_password, Accounts, Role, User};
use spindle_store::Store;
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use support::{basic, Response as Reply, UiClient};

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "admin-password";
const MEMBER_EMAIL: &str = "member@example.com";
const MEMBER_PASSWORD: &str = "member-password";

struct Ui {
    router: Router,
    accounts: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

/// Two projects (`p1` with a key, `p2`), the admin from `LANGFUSE_INIT_USER_*`, and a member
/// of `p2` only.
async fn ui() -> Ui {
    ui_with_guard(SignInGuard::default()).await
}

/// Like [`ui`], with this sign-in guard.
async fn ui_with_guard(guard: SignInGuard) -> Ui {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = support::open_sqlite(dir.path(), SqliteOptions::default().queue_capacity);
    let store: Arc<dyn Store> = sqlite.clone();
    let secret = spindle_store::secret::ServerSecret::random();
    for project in ["p1", "p2"] {
        support::add_project(store.as_ref(), project, &format!("Project {project}")).await;
    }
    insert_key(store.as_ref(), &secret, "p1", "pk-lf-ui", "sk-lf-ui", 0)
        .await
        .expect("key");
    let env: BTreeMap<String, String> = [
        ("LANGFUSE_INIT_USER_EMAIL", ADMIN_EMAIL),
        ("LANGFUSE_INIT_USER_PASSWORD", ADMIN_PASSWORD),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let outcome = bootstrap_admin(sqlite.as_ref(), &env, 1)
        .await
        .expect("bootstrap");
    assert_eq!(
        outcome,
        AdminBootstrap::Configured {
            email: ADMIN_EMAIL.into()
        }
    );
    support::add_user(
        sqlite.as_ref(),
        "member",
        MEMBER_EMAIL,
        MEMBER_PASSWORD,
        false,
        1,
    )
    .await;
    support::add_membership(sqlite.as_ref(), "member", "p2", Role::Member).await;
    let state = AppState {
        sign_in_guard: Arc::new(guard),
        ..support::sqlite_app_state(&sqlite, secret)
    };
    Ui {
        router: spindle_server::app(state),
        accounts: sqlite,
        _dir: dir,
    }
}

impl support::UiClient for Ui {
    fn router(&self) -> &Router {
        &self.router
    }
}

impl Ui {
    async fn send(&self, request: Request<Body>) -> Reply {
        support::send(&self.router, request).await
    }

    async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.sign_in_from(email, password, [127, 0, 0, 1]).await
    }

    /// Signs in from the client address `ip`.
    async fn sign_in_from(&self, email: &str, password: &str, ip: [u8; 4]) -> Reply {
        self.send(sign_in_request_from(email, password, ip)).await
    }

    /// Signs in; returns the cookie and the CSRF token.
    async fn session(&self, email: &str, password: &str) -> (String, String) {
        let sign_in = sign_in_request_from(email, password, [127, 0, 0, 1]);
        support::ui_session(&self.router, sign_in).await
    }

    async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.send(support::cookie_get(path, cookie)).await
    }

    /// The `field` of each row of the list at `path`.
    async fn listed(&self, path: &str, cookie: &str, field: &str) -> Vec<String> {
        let body = self.get(path, cookie).await.json();
        let texts = support::texts_in(&body, "data", field);
        texts.into_iter().map(str::to_owned).collect()
    }

    async fn write(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Value,
    ) -> Reply {
        self.send(support::ui_write(method, path, cookie, csrf, &body))
            .await
    }

    /// The bulk delete at `path` of the ids in `field`, as `session`: an empty list is refused,
    /// and of `[id, "nope"]` the one that exists is deleted.
    async fn assert_bulk_delete(
        &self,
        session: &(String, String),
        path: &str,
        field: &str,
        id: &str,
    ) {
        let empty = json!({ field: [] });
        self.expect(session, "POST", path, empty, StatusCode::BAD_REQUEST)
            .await;
        let ids = json!({ field: [id, "nope"] });
        let deleted = self
            .expect(session, "POST", path, ids, StatusCode::OK)
            .await;
        assert_eq!(deleted.json()["deleted"], 1);
    }

    async fn ingest(&self, batch: Value) {
        support::ingest_as(&self.router, "pk-lf-ui", "sk-lf-ui", batch).await;
    }
}

/// The sign-in request from the client address `ip`.
fn sign_in_request_from(email: &str, password: &str, ip: [u8; 4]) -> Request<Body> {
    let mut request = support::sign_in_request(email, password);
    let address = std::net::SocketAddr::from((ip, 40_000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(address));
    request
}

fn event(kind: &str, id: &str, body: Value) -> Value {
    json!({"id": id, "type": kind, "timestamp": "2026-01-01T00:00:00Z", "body": body})
}

#[tokio::test]
async fn sign_in_sets_an_httponly_samesite_cookie_and_me_lists_projects() {
    let ui = ui().await;
    let reply = ui.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set_cookie.starts_with("spindle_session="), "{set_cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(flag), "{flag} missing in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let mut request = support::sign_in_request(ADMIN_EMAIL, ADMIN_PASSWORD);
    request.headers_mut().insert(
        "x-forwarded-proto",
        axum::http::HeaderValue::from_static("https"),
    );
    let behind_tls = ui.send(request).await;
    assert!(behind_tls.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .contains("; Secure"));
    let me = ui.get("/api/ui/me", &reply.cookie()).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.json();
    assert_eq!(me["user"]["email"], ADMIN_EMAIL);
    assert_eq!(me["user"]["admin"], true);
    assert!(me["csrfToken"].as_str().is_some_and(|t| t.len() > 20));
    assert_eq!(support::texts_in(&me, "projects", "id"), ["p1", "p2"]);
}

#[tokio::test]
async fn wrong_password_unknown_user_and_no_session_are_refused() {
    let ui = ui().await;
    let wrong = ui.sign_in(ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    let unknown = ui.sign_in("nobody@example.com", ADMIN_PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["message"], unknown.json()["message"]);
    let anonymous = ui.get("/api/ui/me", "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let forged = ui.get("/api/ui/me", "spindle_session=forged").await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn writes_need_the_csrf_token_and_the_same_origin() {
    let ui = ui().await;
    let mut request = support::sign_in_request(ADMIN_EMAIL, ADMIN_PASSWORD);
    request.headers_mut().remove("x-spindle-csrf");
    let no_header = ui.send(request).await;
    assert_eq!(no_header.status, StatusCode::FORBIDDEN, "login CSRF");
    let session = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = session.0.clone();
    let path = "/api/ui/projects/p1/keys";
    let missing = ui.write("POST", path, &cookie, None, json!({})).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = ui
        .write("POST", path, &cookie, Some("guess"), json!({}))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let cross_origin = ui
        .send(
            Request::post(path)
                .header(header::COOKIE, &cookie)
                .header(header::HOST, "spindle.local")
                .header(header::ORIGIN, "https://evil.example")
                .header("x-spindle-csrf", &session.1)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(cross_origin.status, StatusCode::FORBIDDEN);
    let listed = ui.get(path, &cookie).await.json();
    assert_eq!(
        listed["data"].as_array().expect("keys").len(),
        1,
        "no key created"
    );
    ui.expect(&session, "POST", path, json!({}), StatusCode::CREATED)
        .await;
}

#[tokio::test]
async fn members_see_only_their_projects() {
    let ui = ui().await;
    let session = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let cookie = session.0.clone();
    let me = ui.get("/api/ui/me", &cookie).await.json();
    assert_eq!(
        me["projects"],
        json!([{"id": "p2", "name": "Project p2", "role": "member",
            "organizationId": "org", "organizationName": "Org"}])
    );
    for path in [
        "/api/ui/projects/p1/traces",
        "/api/ui/projects/p1/keys",
        "/api/ui/projects/p1/users",
        "/api/ui/projects/nope/traces",
    ] {
        assert_eq!(
            ui.get(path, &cookie).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        ui.get("/api/ui/projects/p2/traces", &cookie).await.status,
        StatusCode::OK
    );
    let create = ui
        .call(&session, "POST", "/api/ui/projects/p2/keys", json!({}))
        .await;
    assert_eq!(
        create.status,
        StatusCode::FORBIDDEN,
        "members do not manage keys"
    );
}

#[tokio::test]
async fn a_new_key_shows_its_secret_once_and_revocation_takes_effect() {
    let ui = ui().await;
    let session = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = session.0.clone();
    let created = ui
        .call(&session, "POST", "/api/ui/projects/p1/keys", json!({}))
        .await
        .json();
    let public_key = created["publicKey"].as_str().expect("pk").to_owned();
    let secret_key = created["secretKey"].as_str().expect("sk").to_owned();
    assert!(secret_key.starts_with("sk-lf-"));
    let listed = ui.get("/api/ui/projects/p1/keys", &cookie).await;
    assert!(!listed.text().contains(&secret_key), "secret listed again");
    assert!(listed.json()["data"]
        .as_array()
        .expect("keys")
        .iter()
        .all(|key| key.get("secretKey").is_none()));
    let with_key = |pk: &str, sk: &str| {
        Request::get("/api/public/traces")
            .header(header::AUTHORIZATION, basic(pk, sk))
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(
        ui.send(with_key(&public_key, &secret_key)).await.status,
        StatusCode::OK
    );
    ui.expect(
        &session,
        "DELETE",
        &format!("/api/ui/projects/p2/keys/{public_key}"),
        json!({}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let revoked = ui
        .call(
            &session,
            "DELETE",
            &format!("/api/ui/projects/p1/keys/{public_key}"),
            json!({}),
        )
        .await;
    assert_eq!(revoked.json()["revoked"], true);
    assert_eq!(
        ui.send(with_key(&public_key, &secret_key)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn traces_filter_search_detail_and_annotation() {
    let ui = ui().await;
    ui.ingest(json!([
        event(
            "trace-create",
            "e1",
            json!({"id": "t1", "name": "chat", "userId": "alice",
            "sessionId": "s1", "timestamp": "2026-01-01T00:00:00Z",
            "input": {"question": "where is the moon"}, "output": "behind the cloud"})
        ),
        event(
            "generation-create",
            "e2",
            json!({"id": "g1", "traceId": "t1", "name": "llm",
            "model": "gpt-x", "startTime": "2026-01-01T00:00:00Z", "input": "gen input",
            "endTime": "2026-01-01T00:00:02Z",
            "usageDetails": {"input": 12, "output": 8, "total": 20}})
        ),
        event(
            "trace-create",
            "e3",
            json!({"id": "t2", "name": "chat", "userId": "bob",
            "timestamp": "2026-01-01T00:01:00Z", "output": "plain answer"})
        ),
        event(
            "score-create",
            "e4",
            json!({"id": "sc1", "traceId": "t2", "name": "quality",
            "value": 0.2})
        ),
    ]))
    .await;
    let session = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = session.0.clone();
    let base = "/api/ui/projects/p1/traces";
    let all = ui.get(base, &cookie).await.json();
    let first = &all["data"][1];
    assert_eq!(first["id"], "t1");
    assert_eq!(
        first["tokens"],
        json!({"input": 12, "output": 8, "total": 20})
    );
    assert!(first.get("input").is_none(), "lists carry no input");
    assert_eq!(all["data"][0]["scores"][0]["name"], "quality");
    for (query, expected) in [
        ("userId=alice", &["t1"][..]),
        ("search=cloud", &["t1"]),
        ("scoreName=quality&scoreMax=0.5", &["t2"]),
        ("scoreName=quality&scoreMin=0.5", &[]),
    ] {
        let listed = ui.listed(&format!("{base}?{query}"), &cookie, "id").await;
        assert_eq!(listed, expected, "{query}");
    }
    let detail = ui.get(&format!("{base}/t1"), &cookie).await.json();
    assert_eq!(detail["input"]["question"], "where is the moon");
    assert_eq!(detail["observations"][0]["model"], "gpt-x");
    assert_eq!(
        detail["observations"][0]["input"],
        Value::Null,
        "payloads come per observation"
    );
    let observation = ui
        .get("/api/ui/projects/p1/observations/g1", &cookie)
        .await
        .json();
    assert_eq!(observation["model"], "gpt-x");
    assert_eq!(observation["input"], "gen input");
    assert_eq!(
        ui.get("/api/ui/projects/p2/observations/g1", &cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    ui.expect(
        &session,
        "POST",
        "/api/ui/projects/p1/scores",
        json!({"traceId": "t1", "name": "helpful", "value": 1, "comment": "good"}),
        StatusCode::CREATED,
    )
    .await;
    let detail = ui.get(&format!("{base}/t1"), &cookie).await.json();
    assert_eq!(detail["scores"][0]["name"], "helpful");
    assert_eq!(detail["scores"][0]["source"], "ANNOTATION");
    let me = ui.get("/api/ui/me", &cookie).await.json();
    assert_eq!(
        detail["scores"][0]["authorUserId"], me["user"]["id"],
        "the signed-in user is the author"
    );

    // The scores and observations tables sort on the server.
    let scores = "/api/ui/projects/p1/scores";
    assert_eq!(
        ui.listed(&format!("{scores}?orderBy=value.asc"), &cookie, "id")
            .await,
        ["sc1", detail["scores"][0]["id"].as_str().expect("id")]
    );
    assert_eq!(
        ui.listed(&format!("{scores}?orderBy=name.asc"), &cookie, "id")
            .await[1],
        "sc1"
    );
    assert_eq!(
        ui.get(&format!("{scores}?orderBy=colour.asc"), &cookie)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ui.listed(
            "/api/ui/projects/p1/observations?orderBy=latency.desc",
            &cookie,
            "id"
        )
        .await,
        ["g1"]
    );
    // The scores table's bulk delete: members and above, the project's scores only.
    ui.assert_bulk_delete(
        &session,
        "/api/ui/projects/p1/scores/delete",
        "scoreIds",
        "sc1",
    )
    .await;
    assert_eq!(
        ui.listed(&format!("{scores}?name=quality"), &cookie, "id")
            .await,
        Vec::<String>::new()
    );

    let users = ui.get("/api/ui/projects/p1/users", &cookie).await.json();
    assert_eq!(users["meta"]["totalItems"], 2);
    let sessions = ui.get("/api/ui/projects/p1/sessions", &cookie).await.json();
    assert_eq!(sessions["data"][0]["id"], "s1");
    assert_eq!(sessions["data"][0]["traceCount"], 1);
    assert_eq!(sessions["data"][0]["userIds"], json!(["alice"]));
    assert_eq!(sessions["data"][0]["durationSeconds"], 2.0);
    assert_eq!(sessions["data"][0]["totalTokens"], 20);
    // The users and sessions lists: search, sort and bounds on the totals.
    let users_path = "/api/ui/projects/p1/users";
    for (query, expected) in [
        ("orderBy=tokens.desc", &["alice", "bob"][..]),
        ("orderBy=id.desc", &["bob", "alice"]),
        ("search=ALI", &["alice"]),
        ("tokensMin=1", &["alice"]),
        ("lastSeenMin=2026-01-01T00:00:30Z", &["bob"]),
    ] {
        let path = format!("{users_path}?{query}");
        assert_eq!(ui.listed(&path, &cookie, "id").await, expected, "{query}");
    }
    assert_eq!(
        ui.listed("/api/ui/projects/p1/sessions?userId=bob", &cookie, "id")
            .await,
        Vec::<String>::new()
    );
    for (query, field) in [
        ("orderBy=latency.desc", "orderBy"),
        ("tokensMin=lots", "tokensMin"),
        ("firstSeenMax=yesterday", "firstSeenMax"),
        ("limit=0", "limit"),
        ("scoreMin=1", "scoreName"),
        ("orderBy=score.desc", "scoreName"),
        ("scoreName=quality&scoreMax=high", "scoreMax"),
    ] {
        let reply = ui.get(&format!("{users_path}?{query}"), &cookie).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|message| message.starts_with(field)),
            "{query}: {}",
            reply.text()
        );
    }
    // A score name adds its average where a user has one (none here: the scores were
    // deleted above), and bounds on it keep only users that have one in the bounds.
    let scored = ui
        .get(&format!("{users_path}?scoreName=quality"), &cookie)
        .await
        .json();
    assert_eq!(scored["meta"]["totalItems"], 2);
    assert!(scored["data"][0].get("scoreAverage").is_none(), "{scored}");
    assert_eq!(
        ui.listed(
            &format!("{users_path}?scoreName=quality&scoreMin=0&orderBy=score.asc"),
            &cookie,
            "id"
        )
        .await,
        Vec::<String>::new()
    );
    // One user's totals over all their traces, in a range.
    let alice = ui.get(&format!("{users_path}/alice"), &cookie).await.json();
    assert_eq!(alice["traceCount"], 1);
    assert_eq!(alice["totalTokens"], 20);
    assert_eq!(alice["inputTokens"], 12);
    let later = ui
        .get(
            &format!("{users_path}/alice?fromTimestamp=2026-01-02T00:00:00Z"),
            &cookie,
        )
        .await
        .json();
    assert_eq!(
        (later["id"].clone(), later["traceCount"].clone()),
        (json!("alice"), json!(0))
    );
    let session = ui
        .get("/api/ui/projects/p1/sessions/s1", &cookie)
        .await
        .json();
    assert_eq!(session["traces"][0]["id"], "t1");
    let dashboard = ui
        .get(
            "/api/ui/projects/p1/dashboard?fromTimestamp=2026-01-01T00:00:00Z\
             &toTimestamp=2026-01-02T00:00:00Z",
            &cookie,
        )
        .await
        .json();
    assert_eq!(dashboard["traces"], 2);
    assert_eq!(dashboard["latencyByModel"][0]["key"], "gpt-x");
    assert_eq!(
        ui.get("/api/ui/projects/p2/traces", &cookie).await.json()["data"],
        json!([]),
        "project scoping"
    );
}

#[tokio::test]
async fn sign_in_link_works_once_and_sign_out_ends_the_session() {
    let ui = ui().await;
    let fresh = tempfile::tempdir().expect("dir");
    let empty = SqliteStore::open(fresh.path(), SqliteOptions::default()).expect("open");
    let outcome = bootstrap_admin(&empty, &BTreeMap::new(), 1)
        .await
        .expect("bootstrap");
    let AdminBootstrap::Link { path } = outcome else {
        panic!("expected a link, got {outcome:?}");
    };
    assert!(path.starts_with("/api/ui/auth/link?token="));
    // The link of this app's store: made the same way for its admin.
    let admin = ui
        .accounts
        .get_user_by_email(ADMIN_EMAIL)
        .await
        .expect("lookup")
        .expect("admin");
    let token = spindle_store::accounts::new_token();
    ui.accounts
        .create_sign_in_link(
            &spindle_store::accounts::token_hash(&token),
            &admin.id,
            i64::MAX,
        )
        .await
        .expect("link");
    let link = format!("/api/ui/auth/link?token={token}");
    let used = ui.get(&link, "").await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    let cookie = used.cookie();
    assert_eq!(ui.get("/api/ui/me", &cookie).await.status, StatusCode::OK);
    assert_eq!(
        ui.get(&link, "").await.status,
        StatusCode::UNAUTHORIZED,
        "once"
    );
    let me = ui.get("/api/ui/me", &cookie).await.json();
    let csrf = me["csrfToken"].as_str().expect("csrf");
    let out = ui
        .write(
            "POST",
            "/api/ui/auth/sign-out",
            &cookie,
            Some(csrf),
            json!({}),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .contains("Max-Age=0"));
    assert_eq!(
        ui.get("/api/ui/me", &cookie).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_admin_left_without_a_password_gets_a_new_link_until_one_is_set() {
    let fresh = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(fresh.path(), SqliteOptions::default()).expect("open");
    // What a first start killed between creating the admin and storing its link leaves.
    store
        .create_user(&User {
            id: "first-admin".into(),
            email: "admin@localhost".into(),
            name: None,
            password_hash: None,
            is_admin: true,
            created_at: 1,
        })
        .await
        .expect("admin");
    let outcome = bootstrap_admin(&store, &BTreeMap::new(), 2)
        .await
        .expect("bootstrap");
    let AdminBootstrap::Link { path } = outcome else {
        panic!("expected a link, got {outcome:?}");
    };
    let token = path.split_once("token=").expect("token").1;
    assert_eq!(
        store
            .consume_sign_in_link(&spindle_store::accounts::token_hash(token), 3)
            .await
            .expect("consume")
            .as_deref(),
        Some("first-admin"),
        "the link signs in the admin that exists"
    );
    assert_eq!(store.list_users().await.expect("users").len(), 1);
    store
        .set_password_hash("first-admin", &hash_password("a-password").expect("hash"))
        .await
        .expect("password");
    assert_eq!(
        bootstrap_admin(&store, &BTreeMap::new(), 4)
            .await
            .expect("bootstrap"),
        AdminBootstrap::Nothing,
        "once a password is set, no more links"
    );
}

#[tokio::test]
async fn the_app_is_served_with_spa_fallback_and_safe_headers() {
    let ui = ui().await;
    for path in ["/", "/traces", "/project/p1/traces/abc?x=1"] {
        let reply = ui.get(path, "").await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(reply.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html"));
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-cache");
    }
    let missing_api = ui.get("/api/ui/nope", "").await;
    assert_eq!(missing_api.status, StatusCode::NOT_FOUND);
    assert!(missing_api.json()["message"].is_string());
    assert_eq!(
        ui.get("/assets/missing.js", "").await.status,
        StatusCode::NOT_FOUND
    );
    let index = ui.get("/", "").await.text();
    if let Some(start) = index.find("/assets/") {
        let rest = &index[start..];
        let end = rest.find('"').expect("quoted asset path");
        let asset = ui.get(&rest[..end], "").await;
        assert_eq!(asset.status, StatusCode::OK);
        assert_eq!(
            asset.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
    assert_eq!(
        ui.get("/api/public/health", "").await.status,
        StatusCode::OK,
        "the public API is untouched"
    );
}

/// A clock tests move by hand.
#[derive(Clone)]
struct ManualClock(Arc<std::sync::Mutex<std::time::Instant>>);

impl ManualClock {
    fn new() -> Self {
        ManualClock(Arc::new(std::sync::Mutex::new(std::time::Instant::now())))
    }

    fn guard(&self) -> SignInGuard {
        let clock = self.clone();
        SignInGuard::with_clock(move || *clock.0.lock().expect("clock"))
    }

    fn advance(&self, by: std::time::Duration) {
        *self.0.lock().expect("clock") += by;
    }
}

/// The seconds of a reply's `Retry-After`.
fn retry_after(reply: &Reply) -> u64 {
    reply.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_passwords_are_not_all_checked() {
    let clock = ManualClock::new();
    let ui = ui_with_guard(clock.guard()).await;
    let attempts = (0..24).map(|_| ui.sign_in_from(MEMBER_EMAIL, "wrong-password", [10, 0, 0, 1]));
    let replies = futures::future::join_all(attempts).await;
    let checked = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::UNAUTHORIZED)
        .count();
    let slowed: Vec<&Reply> = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(checked + slowed.len(), 24);
    assert!(
        checked <= SignInGuard::FREE_FAILURES as usize,
        "{checked} of 24 concurrent wrong passwords were checked"
    );
    assert!(slowed.iter().all(|reply| retry_after(reply) >= 1));
    assert!(slowed[0].json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("too many failed sign-ins")));
}

#[tokio::test]
async fn the_owner_signs_in_after_an_attackers_failures_once_the_delay_passed() {
    let clock = ManualClock::new();
    let ui = ui_with_guard(clock.guard()).await;
    let attacker = [10, 0, 0, 1];
    let owner = [192, 168, 1, 20];
    // The attacker keeps guessing as fast as the guard lets them, for a long while.
    for _ in 0..40 {
        let reply = ui
            .sign_in_from(MEMBER_EMAIL, "wrong-password", attacker)
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            clock.advance(std::time::Duration::from_secs(retry_after(&reply)));
        }
    }
    // The attacker's last guess was just checked...
    loop {
        let reply = ui
            .sign_in_from(MEMBER_EMAIL, "wrong-password", attacker)
            .await;
        if reply.status == StatusCode::UNAUTHORIZED {
            break;
        }
        clock.advance(std::time::Duration::from_secs(retry_after(&reply)));
    }
    // ...so the owner, elsewhere, waits, at most the account's longest delay, then gets in.
    let first = ui.sign_in_from(MEMBER_EMAIL, MEMBER_PASSWORD, owner).await;
    assert_eq!(
        first.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        first.text()
    );
    let wait = retry_after(&first);
    assert!(
        wait <= SignInGuard::ACCOUNT_MAX_DELAY.as_secs(),
        "the owner waits {wait} s"
    );
    clock.advance(std::time::Duration::from_secs(wait));
    let signed_in = ui.sign_in_from(MEMBER_EMAIL, MEMBER_PASSWORD, owner).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text());
    // The attacker's address is slowed down for longer than the account was.
    let attacker_again = ui
        .sign_in_from(ADMIN_EMAIL, "wrong-password", attacker)
        .await;
    assert_eq!(attacker_again.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&attacker_again) > SignInGuard::ACCOUNT_MAX_DELAY.as_secs());
    let other = ui.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "other accounts are not slowed"
    );
}

#[tokio::test]
async fn one_password_across_many_emails_from_one_address_is_slowed() {
    let clock = ManualClock::new();
    let ui = ui_with_guard(clock.guard()).await;
    let guesser = [10, 0, 0, 2];
    let free = SignInGuard::FREE_FAILURES;
    for index in 0..free {
        let reply = ui
            .sign_in_from(&format!("user{index}@example.com"), "password1", guesser)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let next = ui
        .sign_in_from("another@example.com", "password1", guesser)
        .await;
    assert_eq!(next.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = ui
        .sign_in_from("another@example.com", "password1", [10, 0, 0, 3])
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNAUTHORIZED,
        "the delay is the address's, not the email's"
    );
    // The delay grows with every further failure.
    let mut waits = Vec::new();
    for _ in 0..4 {
        let reply = ui.sign_in_from("x@example.com", "password1", guesser).await;
        let wait = retry_after(&reply);
        waits.push(wait);
        clock.advance(std::time::Duration::from_secs(wait));
        let checked = ui.sign_in_from("x@example.com", "password1", guesser).await;
        assert_eq!(checked.status, StatusCode::UNAUTHORIZED);
    }
    assert!(waits.windows(2).all(|pair| pair[1] > pair[0]), "{waits:?}");
}

#[tokio::test]
async fn saved_views_are_per_project_and_members_can_be_invited() {
    let ui = ui().await;
    let session = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = session.0.clone();
    let saved = ui
        .expect(
            &session,
            "POST",
            "/api/ui/projects/p1/views",
            json!({"page": "traces", "name": "errors", "query": "errors=1"}),
            StatusCode::CREATED,
        )
        .await;
    let id = saved.json()["id"].as_str().expect("id").to_owned();
    let listed = ui
        .get("/api/ui/projects/p1/views?page=traces", &cookie)
        .await
        .json();
    assert_eq!(listed["data"][0]["query"], "errors=1");
    let other = ui
        .get("/api/ui/projects/p2/views?page=traces", &cookie)
        .await
        .json();
    assert_eq!(other["data"], json!([]));
    let deleted = ui
        .call(
            &session,
            "DELETE",
            &format!("/api/ui/projects/p1/views/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(deleted.json()["deleted"], true);

    let invited = ui
        .expect(
            &session,
            "POST",
            "/api/ui/projects/p1/members",
            json!({"email": "new@example.com"}),
            StatusCode::CREATED,
        )
        .await;
    let link = invited.json()["signInPath"]
        .as_str()
        .expect("a one-time link for a new user")
        .to_owned();
    let opened = ui.get(&link, "").await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    let me = ui.get("/api/ui/me", &opened.cookie()).await.json();
    assert_eq!(me["user"]["email"], "new@example.com");
    assert_eq!(me["user"]["hasPassword"], false);
    assert_eq!(
        me["projects"],
        json!([{"id": "p1", "name": "Project p1", "role": "member",
            "organizationId": "org", "organizationName": "Org"}])
    );
}

#[tokio::test]
async fn media_images_are_served_inline_and_other_types_as_downloads() {
    let ui = ui().await;
    let store: &dyn Store = ui.accounts.as_ref();
    for (id, content_type, bytes) in [
        ("img1", "image/png", b"\x89PNG fake".to_vec()),
        (
            "svg1",
            "image/svg+xml",
            b"<svg onload=alert(1)></svg>".to_vec(),
        ),
    ] {
        store
            .upsert_media(&spindle_store::MediaRecord {
                id: id.into(),
                project_id: "p1".into(),
                sha256_hash: "hash".into(),
                content_type: content_type.into(),
                content_length: bytes.len() as i64,
                trace_id: None,
                observation_id: None,
                field: None,
                uploaded_at: None,
                upload_http_status: None,
                created_at: 1,
            })
            .await
            .expect("media");
        store
            .put_media_bytes("p1", id, bytes, 2)
            .await
            .expect("bytes");
    }
    let (cookie, _) = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let image = ui.get("/api/ui/projects/p1/media/img1", &cookie).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(image.body, b"\x89PNG fake");
    let svg = ui.get("/api/ui/projects/p1/media/svg1", &cookie).await;
    assert_eq!(
        svg.headers[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    assert_eq!(svg.headers[header::CONTENT_DISPOSITION], "attachment");
    assert_eq!(
        ui.get("/api/ui/projects/p2/media/img1", &cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ui.get("/api/ui/projects/p1/media/img1", "").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn models_page_custom_prices_builtin_switch_and_recompute() {
    let ui = ui().await;
    let session = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = session.0.clone();
    let listed = ui.get("/api/ui/projects/p1/models", &cookie).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed["builtinPrices"], json!(true));
    assert!(listed["data"].as_array().expect("data").len() > 50);

    // A generation of a model nobody prices yet.
    let generation = |id: &str, model: &str| {
        event(
            "generation-create",
            &format!("e-{id}"),
            json!({"id": id, "traceId": "t-cost", "model": model,
                   "startTime": "2026-01-01T00:00:00Z",
                   "usageDetails": {"input": 10, "output": 5}}),
        )
    };
    ui.ingest(json!([generation("early", "my-model")])).await;
    let early = ui
        .get("/api/ui/projects/p1/observations/early", &cookie)
        .await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.text());
    assert_eq!(early.json()["calculatedTotalCost"], Value::Null);

    let refused = ui
        .write(
            "POST",
            "/api/ui/projects/p1/models",
            &cookie,
            None,
            json!({"modelName": "my-model", "matchPattern": "^my-model$"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "CSRF token required");
    let created = ui
        .expect(
            &session,
            "POST",
            "/api/ui/projects/p1/models",
            json!({"modelName": "my-model", "matchPattern": "^my-model$",
                   "inputPrice": 1.0, "outputPrice": 2.0}),
            StatusCode::CREATED,
        )
        .await;
    let model_id = created.json()["id"].as_str().expect("id").to_owned();

    // Earlier data keeps its (missing) price until a recompute over its time.
    let early = ui
        .get("/api/ui/projects/p1/observations/early", &cookie)
        .await
        .json();
    assert_eq!(early["calculatedTotalCost"], Value::Null);
    let recomputed = ui
        .expect(
            &session,
            "POST",
            "/api/ui/projects/p1/pricing/recompute",
            json!({"from": "2025-12-31T00:00:00Z", "to": "2026-01-02T00:00:00Z"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(recomputed.json()["changed"], json!(1));
    let early = ui
        .get("/api/ui/projects/p1/observations/early", &cookie)
        .await
        .json();
    assert_eq!(early["calculatedTotalCost"], json!(20.0));
    assert_eq!(early["modelId"], json!(model_id));
    ui.expect(
        &session,
        "POST",
        "/api/ui/projects/p1/pricing/recompute",
        json!({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Built-in prices off: gpt-4o is no longer priced; the custom model still is.
    ui.expect(
        &session,
        "PUT",
        "/api/ui/projects/p1/pricing",
        json!({"builtinPrices": false}),
        StatusCode::OK,
    )
    .await;
    ui.ingest(json!([
        generation("off", "gpt-4o"),
        generation("mine", "my-model")
    ]))
    .await;
    let off = ui
        .get("/api/ui/projects/p1/observations/off", &cookie)
        .await
        .json();
    assert_eq!(off["calculatedTotalCost"], Value::Null);
    let mine = ui
        .get("/api/ui/projects/p1/observations/mine", &cookie)
        .await
        .json();
    assert_eq!(mine["calculatedTotalCost"], json!(20.0));
    assert_eq!(
        ui.get("/api/ui/projects/p1/models", &cookie).await.json()["builtinPrices"],
        json!(false)
    );

    ui.expect(
        &session,
        "DELETE",
        &format!("/api/ui/projects/p1/models/{model_id}"),
        json!({}),
        StatusCode::OK,
    )
    .await;

    // A member may look at the prices of their project but not change them.
    let (member_cookie, member_csrf) = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let listed = ui.get("/api/ui/projects/p2/models", &member_cookie).await;
    assert_eq!(listed.status, StatusCode::OK);
    let refused = ui
        .write(
            "PUT",
            "/api/ui/projects/p2/pricing",
            &member_cookie,
            Some(&member_csrf),
            json!({"builtinPrices": false}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn prompts_list_detail_versions_labels_metrics_generations_and_delete() {
    let ui = ui().await;
    let session = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (cookie, csrf) = session.clone();
    let base = "/api/ui/projects/p1/prompts";
    let create = |body: Value| ui.call(&session, "POST", base, body);

    let refused = ui
        .write(
            "POST",
            base,
            &cookie,
            None,
            json!({"name": "x", "prompt": "y"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "writes need the CSRF token"
    );
    let first = create(json!({"name": "team/greet", "type": "text",
        "prompt": "Hi {{name}}", "labels": ["production"], "tags": ["support"]}))
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.json()["version"], 1);
    assert_ne!(
        first.json()["createdBy"],
        "API",
        "the signed-in user creates it"
    );
    let second = create(json!({"name": "team/greet", "type": "text",
        "prompt": "Hello {{name}}, {{mood}}", "commitMessage": "friendlier"}))
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let other = create(json!({"name": "plain", "type": "chat",
        "prompt": [{"role": "system", "content": "Be {{tone}}"}]}))
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text());
    let bad = create(json!({"name": "", "prompt": "y"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    bad.assert_mentions("name");

    for (path, expected) in [
        (base.to_owned(), &["plain", "team/greet"][..]),
        (format!("{base}?search=GREE"), &["team/greet"]),
        (format!("{base}?tag=support"), &["team/greet"]),
    ] {
        assert_eq!(ui.listed(&path, &cookie, "name").await, expected, "{path}");
    }

    let path = format!("{base}/team%2Fgreet");
    let detail = ui.get(&path, &cookie).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
    let detail = detail.json();
    assert_eq!(detail["name"], "team/greet");
    assert_eq!(detail["type"], "text");
    assert_eq!(detail["tags"], json!(["support"]));
    assert_eq!(detail["versions"][0]["version"], 2);
    assert_eq!(detail["versions"][0]["prompt"], "Hello {{name}}, {{mood}}");
    assert_eq!(detail["versions"][0]["labels"], json!(["latest"]));
    assert_eq!(detail["versions"][0]["commitMessage"], "friendlier");
    assert_eq!(detail["versions"][1]["labels"], json!(["production"]));
    let missing = ui.get(&format!("{base}/absent"), &cookie).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let ui_ref = &ui;
    let add_labels = |version: i64, labels: Value| {
        let path = format!("{path}/versions/{version}/labels");
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        async move {
            ui_ref
                .write(
                    "POST",
                    &path,
                    &cookie,
                    Some(&csrf),
                    json!({ "labels": labels }),
                )
                .await
        }
    };
    // Moving production to version 2 is one request; it leaves version 1.
    let moved = add_labels(2, json!(["production"])).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["labels"], json!(["latest", "production"]));
    let detail = ui.get(&path, &cookie).await.json();
    assert_eq!(detail["versions"][1]["labels"], json!([]));
    let bad_label = add_labels(2, json!(["Not A Label"])).await;
    assert_eq!(bad_label.status, StatusCode::BAD_REQUEST);
    let absent_version = add_labels(9, json!(["staging"])).await;
    assert_eq!(absent_version.status, StatusCode::NOT_FOUND);
    // A label is removed from a version, latest is not; the served prompt follows at once.
    let labelled = add_labels(1, json!(["staging"])).await;
    assert_eq!(labelled.status, StatusCode::OK, "{}", labelled.text());
    let served_staging = || async {
        ui.send(
            Request::get("/api/public/v2/prompts/team%2Fgreet?label=staging")
                .header(header::AUTHORIZATION, basic("pk-lf-ui", "sk-lf-ui"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .status
    };
    assert_eq!(served_staging().await, StatusCode::OK);
    let remove_label = |version: i64, label: &'static str, csrf: Option<String>| {
        let path = format!("{path}/versions/{version}/labels/{label}");
        let cookie = cookie.clone();
        async move {
            ui_ref
                .write("DELETE", &path, &cookie, csrf.as_deref(), json!(null))
                .await
        }
    };
    let removed = remove_label(1, "staging", Some(csrf.clone())).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert_eq!(removed.json()["labels"], json!([]));
    assert_eq!(served_staging().await, StatusCode::NOT_FOUND);
    for (version, label, csrf, status) in [
        (2, "latest", Some(csrf.clone()), StatusCode::BAD_REQUEST),
        (9, "production", Some(csrf.clone()), StatusCode::NOT_FOUND),
        (2, "production", None, StatusCode::FORBIDDEN),
    ] {
        let reply = remove_label(version, label, csrf).await;
        assert_eq!(reply.status, status, "{version} {label}: {}", reply.text());
    }
    // The served prompt follows the move at once.
    let served = ui
        .send(
            Request::get("/api/public/v2/prompts/team%2Fgreet")
                .header(header::AUTHORIZATION, basic("pk-lf-ui", "sk-lf-ui"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(served.json()["version"], 2);

    ui.ingest(json!([
        event("trace-create", "e1", json!({"id": "t1", "name": "chat"})),
        event(
            "generation-create",
            "e2",
            json!({"id": "g1", "traceId": "t1", "name": "llm",
            "startTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:00:02Z",
            "promptName": "team/greet", "promptVersion": 2,
            "usageDetails": {"input": 12, "output": 8, "total": 20}})
        ),
        event(
            "generation-create",
            "e3",
            json!({"id": "g2", "traceId": "t1", "name": "llm",
            "startTime": "2026-01-01T00:01:00Z", "endTime": "2026-01-01T00:01:04Z",
            "promptName": "team/greet", "promptVersion": 1})
        ),
        event(
            "score-create",
            "e4",
            json!({"id": "s1", "traceId": "t1", "observationId": "g1",
            "name": "quality", "value": 0.5})
        ),
    ]))
    .await;
    let metrics = ui.get(&format!("{path}/metrics"), &cookie).await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text());
    let metrics = metrics.json();
    assert_eq!(metrics["data"][0]["version"], 1);
    assert_eq!(metrics["data"][0]["latencyP50"], 4.0);
    assert_eq!(metrics["data"][1]["version"], 2);
    assert_eq!(metrics["data"][1]["generations"], 1);
    assert_eq!(metrics["data"][1]["latencyP50"], 2.0);
    assert_eq!(metrics["data"][1]["totalTokens"], 20);
    assert_eq!(
        metrics["data"][1]["scores"],
        json!([{"name": "quality", "average": 0.5, "count": 1}])
    );
    let generations = ui
        .get(&format!("{path}/versions/2/generations"), &cookie)
        .await;
    assert_eq!(generations.status, StatusCode::OK, "{}", generations.text());
    let generations = generations.json();
    assert_eq!(generations["meta"]["totalItems"], 1);
    assert_eq!(generations["data"][0]["id"], "g1");
    assert_eq!(generations["data"][0]["promptName"], "team/greet");

    // A member of p2 cannot reach p1's prompts.
    let (member, _) = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    assert_eq!(ui.get(base, &member).await.status, StatusCode::NOT_FOUND);

    ui.expect(
        &session,
        "DELETE",
        &format!("{path}?version=1"),
        json!(null),
        StatusCode::OK,
    )
    .await;
    let detail = ui.get(&path, &cookie).await.json();
    assert_eq!(detail["versions"].as_array().map(Vec::len), Some(1));
    ui.expect(&session, "DELETE", &path, json!(null), StatusCode::OK)
        .await;
    assert_eq!(ui.get(&path, &cookie).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn comments_are_written_by_the_member_and_counted_in_the_traces_list() {
    let ui = ui().await;
    ui.ingest(json!([event(
        "trace-create",
        "c1",
        json!({"id": "commented", "name": "chat"})
    )]))
    .await;
    let admin = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin_id = ui.get("/api/ui/me", &admin.0).await.json()["user"]["id"].clone();
    let body = json!({"objectType": "TRACE", "objectId": "commented", "content": " **fine** "});
    let without_csrf = ui
        .write(
            "POST",
            "/api/ui/projects/p1/comments",
            &admin.0,
            None,
            body.clone(),
        )
        .await;
    assert_eq!(without_csrf.status, StatusCode::FORBIDDEN);
    let created = ui
        .expect(
            &admin,
            "POST",
            "/api/ui/projects/p1/comments",
            body,
            StatusCode::CREATED,
        )
        .await;
    let created = created.json();
    assert_eq!(created["authorUserId"], admin_id);
    assert_eq!(created["author"], ADMIN_EMAIL);
    assert_eq!(created["content"], "**fine**");
    let missing = ui
        .expect(
            &admin,
            "POST",
            "/api/ui/projects/p1/comments",
            json!({"objectType": "OBSERVATION", "objectId": "commented", "content": "x"}),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert!(missing.json()["message"]
        .as_str()
        .is_some_and(|message| message.starts_with("objectId: ")));

    let thread = ui
        .get(
            "/api/ui/projects/p1/comments?objectType=TRACE&objectId=commented",
            &admin.0,
        )
        .await
        .json();
    assert_eq!(thread["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(thread["data"][0]["id"], created["id"]);
    let unnamed = ui
        .get("/api/ui/projects/p1/comments?objectType=TRACE", &admin.0)
        .await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    let traces = ui.get("/api/ui/projects/p1/traces", &admin.0).await.json();
    assert_eq!(traces["data"][0]["id"], "commented");
    assert_eq!(traces["data"][0]["comments"], 1);

    // A member of p2 alone cannot see or write p1's threads.
    let member = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    ui.expect(
        &member,
        "POST",
        "/api/ui/projects/p1/comments",
        json!({"objectType": "TRACE", "objectId": "commented", "content": "x"}),
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// Creates a score config of p1 as `session`; returns its id.
async fn create_config(ui: &Ui, session: &(String, String), body: Value) -> String {
    let created = ui
        .call(session, "POST", "/api/ui/projects/p1/score-configs", body)
        .await;
    assert!(created.status.is_success(), "{}", created.text());
    created.json()["id"].as_str().expect("config id").to_owned()
}

/// Creates an annotation queue in `p1` asking for the scores of `config_ids`; its id.
async fn create_queue(
    ui: &Ui,
    session: &(String, String),
    name: &str,
    config_ids: Value,
) -> String {
    let body = json!({"name": name, "scoreConfigIds": config_ids});
    let path = "/api/ui/projects/p1/queues";
    let created = ui
        .expect(session, "POST", path, body, StatusCode::CREATED)
        .await;
    created.json()["id"].as_str().expect("queue id").to_owned()
}

#[tokio::test]
async fn review_mode_claims_the_oldest_pending_item_and_completes_it_with_its_scores() {
    let ui = ui().await;
    let admin = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    ui.ingest(json!([
        {"id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",
         "body": {"id": "t1", "name": "first", "input": {"q": "one"}, "output": "answer one"}},
        {"id": "e2", "type": "trace-create", "timestamp": "2026-01-01T00:00:01Z",
         "body": {"id": "t2", "name": "second", "input": {"q": "two"}, "output": "answer two"}}
    ]))
    .await;
    let stars = create_config(
        &ui,
        &admin,
        json!({"name": "stars", "dataType": "NUMERIC", "minValue": 1, "maxValue": 5}),
    )
    .await;
    let verdict = create_config(
        &ui,
        &admin,
        json!({"name": "verdict", "dataType": "CATEGORICAL",
               "categories": [{"label": "bad", "value": 0}, {"label": "good", "value": 1}]}),
    )
    .await;
    let queue_id = create_queue(&ui, &admin, "review", json!([stars, verdict])).await;
    let mut item_ids = Vec::new();
    for trace_id in ["t1", "t2"] {
        let added = ui
            .expect(
                &admin,
                "POST",
                &format!("/api/ui/projects/p1/queues/{queue_id}/items"),
                json!({"objectType": "TRACE", "objectId": trace_id}),
                StatusCode::CREATED,
            )
            .await;
        item_ids.push(added.json()["id"].as_str().expect("id").to_owned());
    }
    let next_path = format!("/api/ui/projects/p1/queues/{queue_id}/next");
    let next = ui.call(&admin, "POST", &next_path, json!({})).await.json();
    assert_eq!(next["item"]["id"], item_ids[0].as_str(), "the oldest first");
    assert_eq!(next["item"]["claimedBy"], ADMIN_EMAIL);
    assert!(next["item"]["claimExpiresAt"].is_string());
    assert_eq!(next["object"]["input"], json!({"q": "one"}));
    assert_eq!(next["object"]["output"], "answer one");
    assert_eq!(next["pending"], 2);
    let names: Vec<&Value> = next["configs"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|config| &config["name"])
        .collect();
    assert_eq!(names, [&json!("stars"), &json!("verdict")]);
    ui.expect(
        &admin,
        "POST",
        &next_path,
        json!({"skip": [1]}),
        StatusCode::BAD_REQUEST,
    )
    .await
    .assert_mentions("skip[0]");
    let skipped = ui
        .call(&admin, "POST", &next_path, json!({"skip": [item_ids[0]]}))
        .await
        .json();
    assert_eq!(
        skipped["item"]["id"],
        item_ids[1].as_str(),
        "a skipped item is passed over"
    );

    let complete = format!(
        "/api/ui/projects/p1/queues/{queue_id}/items/{}/complete",
        item_ids[0]
    );
    for (score, names) in [
        (json!({"configId": stars, "value": 9}), "scores[0].value"),
        (
            json!({"configId": "absent", "value": 1}),
            "scores[0].configId",
        ),
    ] {
        let body = json!({ "scores": [score] });
        ui.expect(&admin, "POST", &complete, body, StatusCode::BAD_REQUEST)
            .await
            .assert_mentions(names);
    }
    let member = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let outsider = ui
        .call(&member, "POST", &complete, json!({"scores": []}))
        .await;
    assert!(
        outsider.status.is_client_error(),
        "a member of another project"
    );

    let completed = ui
        .expect(
            &admin,
            "POST",
            &complete,
            json!({"scores": [{"configId": stars, "value": 4}, {"configId": verdict, "value": 0}],
                   "comment": "fine"}),
            StatusCode::OK,
        )
        .await;
    let completed = completed.json();
    assert_eq!(completed["item"]["status"], "COMPLETED");
    assert_eq!(completed["item"]["completedBy"], ADMIN_EMAIL);
    assert!(completed["item"]["completedByUserId"].is_string());
    assert_eq!(completed["item"]["claimedByUserId"], Value::Null);
    let scores = ui
        .get("/api/ui/projects/p1/scores?traceId=t1", &admin.0)
        .await
        .json();
    let scores = scores["data"].as_array().expect("scores");
    assert_eq!(scores.len(), 2, "{scores:?}");
    for score in scores {
        assert_eq!(score["queueId"], queue_id.as_str());
        assert_eq!(score["source"], "ANNOTATION");
        assert_eq!(score["comment"], "fine");
        assert!(score["authorUserId"].is_string());
    }
    let verdict_score = scores
        .iter()
        .find(|score| score["name"] == "verdict")
        .expect("verdict");
    assert_eq!(verdict_score["stringValue"], "bad");
    let after = ui.call(&admin, "POST", &next_path, json!({})).await.json();
    assert_eq!(
        after["item"]["id"],
        item_ids[1].as_str(),
        "the completed item is done, the skipped one held"
    );
    assert_eq!(after["pending"], 1);

    // A second reviewer is not handed the item the first one holds, and cannot complete it.
    support::add_membership(ui.accounts.as_ref(), "member", "p1", Role::Member).await;
    let second = ui.call(&member, "POST", &next_path, json!({})).await.json();
    assert_eq!(second["item"], Value::Null, "{second}");
    assert_eq!(second["pending"], 1);
    assert_eq!(second["available"], 0);
    ui.expect(
        &member,
        "POST",
        &format!(
            "/api/ui/projects/p1/queues/{queue_id}/items/{}/complete",
            item_ids[1]
        ),
        json!({"scores": [{"configId": stars, "value": 2}]}),
        StatusCode::CONFLICT,
    )
    .await;
    let t2_scores = ui
        .get("/api/ui/projects/p1/scores?traceId=t2", &admin.0)
        .await
        .json();
    assert_eq!(t2_scores["data"].as_array().map(Vec::len), Some(0));

    let queues = ui.get("/api/ui/projects/p1/queues", &admin.0).await.json();
    let reviewers = &queues["data"][0]["reviewers"];
    assert_eq!(reviewers.as_array().map(Vec::len), Some(1), "{reviewers}");
    assert_eq!(reviewers[0]["name"], ADMIN_EMAIL);
    assert_eq!(reviewers[0]["assigned"], false);
    assert_eq!(reviewers[0]["completed"], 1);
    assert_eq!(reviewers[0]["claimed"], 1);
    assert_eq!(reviewers[0]["available"], 1);
}

#[tokio::test]
async fn queues_list_progress_and_reviewers() {
    let ui = ui().await;
    let admin = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    ui.expect(
        &admin,
        "POST",
        "/api/ui/projects/p1/queues",
        json!({"name": "triage", "scoreConfigIds": ["helpfulness"]}),
        StatusCode::BAD_REQUEST,
    )
    .await
    .assert_mentions("scoreConfigIds: ");
    let config = create_config(
        &ui,
        &admin,
        json!({"name": "helpfulness", "dataType": "NUMERIC"}),
    )
    .await;
    let queue_id = create_queue(&ui, &admin, "triage", json!([config])).await;
    ui.expect(
        &admin,
        "POST",
        "/api/ui/projects/p1/queues",
        json!({"name": "other", "scoreConfigIds": []}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    for (object_type, status) in [("TRACE", "PENDING"), ("SESSION", "COMPLETED")] {
        ui.expect(
            &admin,
            "POST",
            &format!("/api/ui/projects/p1/queues/{queue_id}/items"),
            json!({"objectType": object_type, "objectId": "x", "status": status}),
            StatusCode::CREATED,
        )
        .await;
    }
    ui.expect(
        &admin,
        "POST",
        &format!("/api/ui/projects/p1/queues/{queue_id}/reviewers"),
        json!({}),
        StatusCode::OK,
    )
    .await;
    ui.expect(
        &admin,
        "POST",
        "/api/ui/projects/p1/queues/absent/reviewers",
        json!({}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let queues = ui.get("/api/ui/projects/p1/queues", &admin.0).await.json();
    let row = &queues["data"][0];
    assert_eq!(row["name"], "triage");
    assert_eq!(row["pending"], 1);
    assert_eq!(row["completed"], 1);
    assert_eq!(row["reviewers"][0]["name"], ADMIN_EMAIL);
    assert_eq!(row["reviewers"][0]["assigned"], true);
    assert_eq!(row["reviewers"][0]["completed"], 0);
    assert_eq!(row["reviewers"][0]["available"], 1);
}

#[tokio::test]
async fn score_configs_are_kept_by_owners_and_checked_on_annotations() {
    let ui = ui().await;
    let admin = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let member = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    let configs = "/api/ui/projects/p1/score-configs";
    let created = ui
        .expect(
            &admin,
            "POST",
            configs,
            json!({"name": "accuracy", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1}),
            StatusCode::CREATED,
        )
        .await;
    let config_id = created.json()["id"].as_str().expect("id").to_owned();
    ui.expect(
        &admin,
        "POST",
        configs,
        json!({"name": "c", "dataType": "CATEGORICAL"}),
        StatusCode::BAD_REQUEST,
    )
    .await
    .assert_mentions("categories");
    let listed = ui.get(configs, &admin.0).await.json();
    assert_eq!(listed["data"][0]["id"], config_id.as_str());
    assert_eq!(listed["meta"]["totalItems"], 1);

    // A member may read the configs of their project, not change them.
    let members = "/api/ui/projects/p2/score-configs";
    assert_eq!(ui.get(members, &member.0).await.status, StatusCode::OK);
    ui.expect(
        &member,
        "POST",
        members,
        json!({"name": "x", "dataType": "BOOLEAN"}),
        StatusCode::FORBIDDEN,
    )
    .await;

    // Annotations that name the config are checked against it; the author is the user.
    let scores = "/api/ui/projects/p1/scores";
    let annotate = |value: f64| {
        let body =
            json!({"traceId": "t1", "name": "accuracy", "value": value, "configId": config_id});
        ui.call(&admin, "POST", scores, body)
    };
    let out_of_range = annotate(2.0).await;
    assert_eq!(out_of_range.status, StatusCode::BAD_REQUEST);
    assert!(
        out_of_range
            .text()
            .contains("body.value: 2 is above the maximum 1"),
        "{}",
        out_of_range.text()
    );
    let annotated = annotate(0.5).await;
    assert_eq!(
        annotated.status,
        StatusCode::CREATED,
        "{}",
        annotated.text()
    );
    let listed = ui.get(scores, &admin.0).await.json();
    let me = ui.get("/api/ui/me", &admin.0).await.json();
    assert_eq!(listed["data"][0]["configId"], config_id.as_str());
    assert_eq!(listed["data"][0]["authorUserId"], me["user"]["id"]);

    let archived = ui
        .expect(
            &admin,
            "PATCH",
            &format!("{configs}/{config_id}"),
            json!({"isArchived": true}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(archived.json()["isArchived"], true);
    let after = annotate(0.5).await;
    assert_eq!(
        after.status,
        StatusCode::BAD_REQUEST,
        "archived configs take no new scores"
    );
}

#[tokio::test]
async fn the_traces_table_gets_previews_suggestions_and_a_bulk_delete() {
    let ui = ui().await;
    let long_output = "word ".repeat(100);
    ui.ingest(json!([
        event(
            "trace-create",
            "v1",
            json!({"id": "t1", "name": "chat", "userId": "alice", "environment": "prod",
            "tags": ["beta"], "timestamp": "2026-01-01T00:00:00Z",
            "input": "where is\nthe moon", "output": long_output})
        ),
        event(
            "trace-create",
            "v2",
            json!({"id": "t2", "name": "Chart", "userId": "bob", "environment": "dev",
            "timestamp": "2026-01-01T00:01:00Z", "input": {"question": "why"}})
        ),
    ]))
    .await;
    let admin = ui.session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let traces = ui.get("/api/ui/projects/p1/traces", &admin.0).await.json();
    assert_eq!(traces["data"][0]["inputPreview"], r#"{"question":"why"}"#);
    assert!(traces["data"][0]["outputPreview"].is_null());
    assert_eq!(traces["data"][1]["inputPreview"], "where is the moon");
    let cut = traces["data"][1]["outputPreview"]
        .as_str()
        .expect("a preview");
    assert!(cut.ends_with('…') && cut.chars().count() == 161, "{cut}");
    let sorted = ui
        .get(
            "/api/ui/projects/p1/traces?orderBy=environment.asc",
            &admin.0,
        )
        .await
        .json();
    assert_eq!(sorted["data"][0]["id"], "t2", "dev before prod");

    let values = |query: &'static str| {
        let ui = &ui;
        let cookie = admin.0.clone();
        async move {
            ui.get(&format!("/api/ui/projects/p1/values?{query}"), &cookie)
                .await
        }
    };
    assert_eq!(
        values("column=traceName&prefix=ch").await.json()["data"],
        json!(["Chart", "chat"])
    );
    assert_eq!(
        values("column=environment").await.json()["data"],
        json!(["dev", "prod"])
    );
    assert_eq!(values("column=tags").await.json()["data"], json!(["beta"]));
    assert_eq!(
        values("column=userId&limit=1").await.json()["data"],
        json!(["alice"])
    );
    for (query, field) in [
        ("prefix=a", "column"),
        ("column=colour", "column"),
        ("column=userId&limit=1000", "limit"),
    ] {
        let reply = values(query).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|message| message.starts_with(&format!("{field}: "))),
            "{query}: {}",
            reply.text()
        );
    }

    const DELETE: &str = "/api/ui/projects/p1/traces/delete";
    ui.assert_bulk_delete(&admin, DELETE, "traceIds", "t1")
        .await;
    let left = ui.get("/api/ui/projects/p1/traces", &admin.0).await.json();
    assert_eq!(left["meta"]["totalItems"], 1);
    // A member of p2 alone cannot delete p1's traces.
    let member = ui.session(MEMBER_EMAIL, MEMBER_PASSWORD).await;
    ui.expect(
        &member,
        "POST",
        DELETE,
        json!({"traceIds": ["t2"]}),
        StatusCode::NOT_FOUND,
    )
    .await;
}
