//! The security cases of the HTTP layer, on both backends where the store takes part: NUL
//! characters in search and filter values, media download tokens signed with the server
//! secret, API secret hashes peppered (and old ones rehashed on use), password changes.

mod both_backends;
mod postgres_support;
mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use both_backends::{finish, on_both_backends, open_in_fresh_schema, server_secret, Backend};
use serde_json::{json, Value};
use spindle_server::bootstrap::insert_key;
use spindle_store::accounts::Accounts;
use spindle_store::datasets::Datasets;
use spindle_store::prompts::Prompts;
use spindle_store::reviews::Reviews;
use spindle_store::score_configs::ScoreConfigs;
use spindle_store::secret::ServerSecret;
use spindle_store::{ApiKey, SecretCheck, Store};
use spindle_store_sqlite::SqliteOptions;
use std::sync::Arc;
use support::{basic, Response as Reply, UiClient};

const PK: &str = "pk-lf-sec";
const SK: &str = "sk-lf-sec";
const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "owner-password";

/// A backend's prompts, datasets, reviews and score configs.
type Catalog = (
    Arc<dyn Prompts>,
    Arc<dyn Datasets>,
    Arc<dyn Reviews>,
    Arc<dyn ScoreConfigs>,
);

/// The app over one backend: project `p1` with a key, and an admin user.
struct Server {
    router: Router,
    store: Arc<dyn Store>,
    accounts: Arc<dyn Accounts>,
    catalog: Catalog,
    _dir: tempfile::TempDir,
    /// The server secret the app was built with.
    secret: ServerSecret,
    /// The PostgreSQL schema of this test, dropped at the end.
    schema: Option<String>,
}

async fn server(backend: Backend) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, accounts, catalog, schema): (Arc<dyn Store>, Arc<dyn Accounts>, Catalog, _) =
        match backend {
            Backend::Sqlite => {
                let queue_capacity = SqliteOptions::default().queue_capacity;
                let sqlite = support::open_sqlite(dir.path(), queue_capacity);
                (
                    sqlite.clone(),
                    sqlite.clone(),
                    (sqlite.clone(), sqlite.clone(), sqlite.clone(), sqlite),
                    None,
                )
            }
            Backend::Postgres => {
                let (postgres, schema) = open_in_fresh_schema("security").await;
                (
                    postgres.clone(),
                    postgres.clone(),
                    (
                        postgres.clone(),
                        postgres.clone(),
                        postgres.clone(),
                        postgres,
                    ),
                    Some(schema),
                )
            }
        };
    support::add_project(store.as_ref(), "p1", "p1").await;
    let secret = server_secret(backend, dir.path(), accounts.as_ref()).await;
    let secret_for_test = secret.clone();
    insert_key(store.as_ref(), &secret, "p1", PK, SK, 0)
        .await
        .expect("key");
    support::add_user(accounts.as_ref(), "owner", EMAIL, PASSWORD, true, 0).await;
    Server {
        secret: secret_for_test,
        router: router(&store, &accounts, &catalog, secret.clone()),
        store,
        accounts,
        catalog,
        _dir: dir,
        schema,
    }
}

/// The whole app over `store`, with this server secret.
fn router(
    store: &Arc<dyn Store>,
    accounts: &Arc<dyn Accounts>,
    (prompts, datasets, reviews, score_configs): &Catalog,
    secret: ServerSecret,
) -> Router {
    spindle_server::app(support::app_state(
        store.clone(),
        accounts.clone(),
        prompts.clone(),
        datasets.clone(),
        reviews.clone(),
        score_configs.clone(),
        secret,
    ))
}

impl support::UiClient for Server {
    fn router(&self) -> &Router {
        &self.router
    }
}

impl Server {
    async fn finish(self) {
        finish(self.store.as_ref(), self.schema.as_deref()).await;
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        support::send(&self.router, request).await
    }

    async fn get_with_key(&self, path: &str) -> Reply {
        self.get_with(path, PK, SK).await
    }

    async fn get_with(&self, path: &str, public_key: &str, secret_key: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, basic(public_key, secret_key))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.send(support::sign_in_request(email, password)).await
    }

    /// Signs in as the owner; the cookie and the CSRF token.
    async fn session(&self) -> (String, String) {
        support::ui_session(&self.router, support::sign_in_request(EMAIL, PASSWORD)).await
    }

    async fn get_with_cookie(&self, path: &str, cookie: &str) -> Reply {
        self.send(support::cookie_get(path, cookie)).await
    }

    async fn ingest(&self, batch: Value) {
        support::ingest_as(&self.router, PK, SK, batch).await;
    }
}

fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)])
        .expect("encode")
        .trim_start_matches("v=")
        .to_owned()
}

/// A 400 whose message names `field`.
fn assert_refused(reply: &Reply, field: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    let message = reply.json()["message"].as_str().unwrap_or("").to_owned();
    assert!(
        message.contains(field) && message.contains("NUL"),
        "{field}: {message}"
    );
}

async fn nul_in_search_and_filters_is_refused(backend: Backend) {
    let server = server(backend).await;
    server
        .ingest(json!([{
            "id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",
            "body": {"id": "t1", "name": "alpha", "timestamp": "2026-01-01T00:00:00Z",
                     "input": "where is the moon"}
        }]))
        .await;
    let contains = |value: &str| {
        encode(
            &json!([{"type": "string", "column": "name", "operator": "contains", "value": value}])
                .to_string(),
        )
    };
    let options = encode(
        &json!([{"type": "stringOptions", "column": "name", "operator": "any of",
                 "value": ["alpha", "\u{0}"]}])
        .to_string(),
    );
    // A plain search and filter still work; the same with a NUL is a 400 naming the field.
    let found = server
        .get_with_key(&format!("/api/public/traces?filter={}", contains("alp")))
        .await;
    assert_eq!(found.json()["data"].as_array().map(Vec::len), Some(1));
    let (cookie, _) = server.session().await;
    let searched = server
        .get_with_cookie("/api/ui/projects/p1/traces?search=moon", &cookie)
        .await;
    assert_eq!(searched.status, StatusCode::OK, "{}", searched.text());
    assert_eq!(searched.json()["data"].as_array().map(Vec::len), Some(1));

    for (path, field) in [
        ("/api/public/traces?search=%00".to_owned(), "search"),
        ("/api/public/traces?name=a%00".to_owned(), "name"),
        (
            format!("/api/public/traces?filter={}", contains("\u{0}")),
            "filter[0].value",
        ),
        (
            format!("/api/public/observations?filter={}", contains("x\u{0}")),
            "filter[0].value",
        ),
        (
            format!("/api/public/traces?filter={options}"),
            "filter[0].value",
        ),
    ] {
        assert_refused(&server.get_with_key(&path).await, field);
    }
    for (path, field) in [
        ("/api/ui/projects/p1/traces?search=%00", "search"),
        ("/api/ui/projects/p1/observations?search=a%00b", "search"),
    ] {
        assert_refused(&server.get_with_cookie(path, &cookie).await, field);
    }
    assert_refused(
        &server
            .get_with_cookie(
                &format!("/api/ui/projects/p1/traces?filter={}", contains("\u{0}")),
                &cookie,
            )
            .await,
        "filter[0].value",
    );
    server.finish().await;
}

/// Registers and uploads `bytes` as media of `p1`; its id.
async fn upload_media(server: &Server, bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes));
    let created = server
        .send(
            Request::post("/api/public/media")
                .header(header::AUTHORIZATION, basic(PK, SK))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"traceId": "t", "contentType": "text/plain",
                           "contentLength": bytes.len(), "sha256Hash": hash, "field": "input"})
                    .to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let created = created.json();
    let upload = created["uploadUrl"].as_str().expect("upload url");
    let put = server
        .send(
            Request::put(upload.trim_start_matches("http://test"))
                .body(Body::from(bytes.to_vec()))
                .expect("request"),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    created["mediaId"].as_str().expect("id").to_owned()
}

/// The token of the scheme before the server secret: SHA-256 of values a holder of the
/// content knows.
fn unkeyed_token(project_id: &str, media_id: &str, sha256_base64: &str, expires: i64) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for part in [
        "spindle-media-download",
        project_id,
        media_id,
        sha256_base64,
        &expires.to_string(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

async fn download_urls_need_the_server_secret(backend: Backend) {
    use base64::Engine;
    use sha2::Digest;
    let server = server(backend).await;
    let bytes = b"a stored file";
    let media_id = upload_media(&server, bytes).await;
    let described = server
        .get_with_key(&format!("/api/public/media/{media_id}"))
        .await
        .json();
    let url = described["url"]
        .as_str()
        .expect("download url")
        .trim_start_matches("http://test")
        .to_owned();
    let fetch = |router: Router, path: String| async move {
        support::send(
            &router,
            Request::get(path).body(Body::empty()).expect("request"),
        )
        .await
    };
    let fetched = fetch(server.router.clone(), url.clone()).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.text());
    assert_eq!(fetched.body, bytes);

    // Another process over the same data (a restart, another instance) reads the same
    // secret, so the URL stays valid there.
    let again = server_secret(backend, server._dir.path(), server.accounts.as_ref()).await;
    let restarted = router(&server.store, &server.accounts, &server.catalog, again);
    assert_eq!(fetch(restarted, url.clone()).await.status, StatusCode::OK);

    // Whoever holds the file can work out the unkeyed token for any expiry: refused.
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes));
    let expires = 4_102_444_800; // 2100-01-01
    let forged = format!(
        "/api/public/media/p1/{media_id}/download?expires={expires}&token={}",
        unkeyed_token("p1", &media_id, &hash, expires)
    );
    let refused = fetch(server.router.clone(), forged).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    // A genuine token with a later expiry, or checked under another secret: refused.
    let (path, query) = url.split_once('?').expect("query");
    let token = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .expect("token");
    let extended = format!("{path}?expires={expires}&token={token}");
    assert_eq!(
        fetch(server.router.clone(), extended).await.status,
        StatusCode::FORBIDDEN
    );
    let stranger = router(
        &server.store,
        &server.accounts,
        &server.catalog,
        ServerSecret::random(),
    );
    assert_eq!(fetch(stranger, url).await.status, StatusCode::FORBIDDEN);
    server.finish().await;
}

async fn api_secrets_are_peppered_and_old_hashes_rehashed_on_use(backend: Backend) {
    let server = server(backend).await;
    let traces = "/api/public/traces";
    // A key made now is stored under the pepper: the hash cannot be checked without it.
    let made = server
        .store
        .get_api_key(PK)
        .await
        .expect("get")
        .expect("key");
    assert_eq!(
        made.secret_hash,
        ApiKey::hash_secret(&server.secret, PK, SK)
    );
    assert_ne!(made.secret_hash, ApiKey::unpeppered_hash(PK, SK));
    assert_eq!(made.check(&ServerSecret::random(), SK), SecretCheck::Wrong);

    // A key stored before the pepper keeps working and is rehashed on its first good use.
    let old = ApiKey {
        public_key: "pk-lf-old".into(),
        secret_hash: ApiKey::unpeppered_hash("pk-lf-old", "sk-lf-old"),
        secret_hint: "-old".into(),
        project_id: "p1".into(),
        note: None,
        created_at: 0,
        revoked_at: None,
    };
    server.store.insert_api_key(&old).await.expect("old key");
    let stored = || async {
        server
            .store
            .get_api_key("pk-lf-old")
            .await
            .expect("get")
            .expect("key")
            .secret_hash
    };
    let server_ref = &server;
    let status_with = |secret_key| async move {
        server_ref
            .get_with(traces, "pk-lf-old", secret_key)
            .await
            .status
    };
    assert_eq!(status_with("sk-lf-wrong").await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        stored().await,
        old.secret_hash,
        "a wrong secret changes nothing"
    );
    assert_eq!(status_with("sk-lf-old").await, StatusCode::OK);
    assert_eq!(
        stored().await,
        ApiKey::hash_secret(&server.secret, "pk-lf-old", "sk-lf-old"),
        "rehashed under the pepper"
    );
    for (secret_key, status) in [
        ("sk-lf-old", StatusCode::OK),
        ("sk-lf-wrong", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(status_with(secret_key).await, status);
    }
    server.finish().await;
}

async fn changing_the_password_needs_the_current_one_and_ends_other_sessions(backend: Backend) {
    let server = server(backend).await;
    let this = server.session().await;
    let other = server.session().await;
    let change = "/api/ui/me/password";
    let new_password = "a-new-password";
    let refused = server
        .call(&this, "POST", change, json!({"password": new_password}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    refused.assert_mentions("currentPassword");
    let wrong = server
        .call(
            &this,
            "POST",
            change,
            json!({"password": new_password, "currentPassword": "not-it-at-all"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text());
    wrong.assert_mentions("currentPassword");
    assert_eq!(
        server.get_with_cookie("/api/ui/me", &other.0).await.status,
        StatusCode::OK,
        "refused changes end nothing"
    );

    let changed = server
        .call(
            &this,
            "POST",
            change,
            json!({"password": new_password, "currentPassword": PASSWORD}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(
        server.get_with_cookie("/api/ui/me", &this.0).await.status,
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(
        server.get_with_cookie("/api/ui/me", &other.0).await.status,
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert_eq!(
        server.sign_in(EMAIL, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.sign_in(EMAIL, new_password).await.status,
        StatusCode::OK
    );
    server.finish().await;
}

on_both_backends!(
    nul_in_search_and_filters_is_refused,
    download_urls_need_the_server_secret,
    api_secrets_are_peppered_and_old_hashes_rehashed_on_use,
    changing_the_password_needs_the_current_one_and_ends_other_sessions,
);
