//! Test support for cases run on both backends: the backend of a case, a PostgreSQL store
//! in a schema of its own (dropped by `finish`), and `on_both_backends!`, which makes the
//! tests `case::on_sqlite` and `case::on_postgres` of each case.

#![allow(dead_code)]

use crate::postgres_support::{admin_async, database_url};
use spindle_server::secret::{load_server_secret, SecretHome};
use spindle_store::accounts::Accounts;
use spindle_store::secret::ServerSecret;
use spindle_store::Store;
use spindle_store_postgres::{PostgresOptions, PostgresStore};
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A PostgreSQL store in a fresh schema of the test database named after `prefix`; the
/// schema's name, for [`drop_schema`].
pub async fn open_in_fresh_schema(prefix: &str) -> (Arc<PostgresStore>, String) {
    open_in_fresh_schema_with(
        prefix,
        PostgresOptions {
            pool_size: 4,
            ..PostgresOptions::default()
        },
    )
    .await
}

/// [`open_in_fresh_schema`] with `options` (their schema set to the fresh one).
pub async fn open_in_fresh_schema_with(
    prefix: &str,
    options: PostgresOptions,
) -> (Arc<PostgresStore>, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!("{prefix}_{}_{nanos}", std::process::id());
    let store = PostgresStore::open(
        &database_url(),
        PostgresOptions {
            schema: Some(schema.clone()),
            ..options
        },
    )
    .await
    .expect("open postgres");
    (Arc::new(store), schema)
}

/// The server secret of a backend: a file in `data_dir` on SQLite, a row on PostgreSQL.
pub async fn server_secret(
    backend: Backend,
    data_dir: &std::path::Path,
    accounts: &dyn Accounts,
) -> ServerSecret {
    let home = match backend {
        Backend::Sqlite => SecretHome::DataDir(data_dir.to_path_buf()),
        Backend::Postgres => SecretHome::Database,
    };
    load_server_secret(&home, accounts)
        .await
        .expect("server secret")
}

/// The whole app over one backend's stores, in a fresh directory and on PostgreSQL a fresh
/// schema named after `prefix`: the project `p1` with the key `public_key`/`secret_key`.
pub struct KeyedApp {
    pub router: axum::Router,
    pub store: Arc<dyn Store>,
    pub accounts: Arc<dyn Accounts>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema, for [`finish`].
    pub schema: Option<String>,
}

pub async fn keyed_app(
    backend: Backend,
    prefix: &str,
    public_key: &str,
    secret_key: &str,
) -> KeyedApp {
    let dir = tempfile::tempdir().expect("temp dir");
    match backend {
        Backend::Sqlite => {
            let queue_capacity = spindle_store_sqlite::SqliteOptions::default().queue_capacity;
            let sqlite = crate::support::open_sqlite(dir.path(), queue_capacity);
            let keys = (backend, public_key, secret_key);
            finish_keyed_app(dir, sqlite.clone(), sqlite.clone(), sqlite, None, keys).await
        }
        Backend::Postgres => {
            let (postgres, schema) = open_in_fresh_schema(prefix).await;
            let keys = (backend, public_key, secret_key);
            finish_keyed_app(
                dir,
                postgres.clone(),
                postgres.clone(),
                postgres,
                Some(schema),
                keys,
            )
            .await
        }
    }
}

async fn finish_keyed_app<C>(
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    accounts: Arc<dyn Accounts>,
    catalog: Arc<C>,
    schema: Option<String>,
    (backend, public_key, secret_key): (Backend, &str, &str),
) -> KeyedApp
where
    C: spindle_store::prompts::Prompts
        + spindle_store::datasets::Datasets
        + spindle_store::reviews::Reviews
        + spindle_store::score_configs::ScoreConfigs
        + 'static,
{
    crate::support::add_project(store.as_ref(), "p1", "p1").await;
    let secret = server_secret(backend, dir.path(), accounts.as_ref()).await;
    spindle_server::bootstrap::insert_key(store.as_ref(), &secret, "p1", public_key, secret_key, 0)
        .await
        .expect("key");
    let router = spindle_server::app(crate::support::app_state(
        store.clone(),
        accounts.clone(),
        catalog.clone(),
        catalog.clone(),
        catalog.clone(),
        catalog,
        secret,
    ));
    KeyedApp {
        router,
        store,
        accounts,
        dir,
        schema,
    }
}

/// Shuts `store` down, then drops its PostgreSQL schema, if it has one.
pub async fn finish(store: &dyn Store, schema: Option<&str>) {
    store.shutdown().await.expect("shutdown");
    if let Some(schema) = schema {
        admin_async(
            &database_url(),
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        )
        .await;
    }
}

/// Each case on both backends: the tests `case::on_sqlite` and `case::on_postgres`.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use crate::both_backends::Backend;

            #[tokio::test]
            async fn on_sqlite() {
                super::$case(Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                super::$case(Backend::Postgres).await;
            }
        }
    )*};
}

pub(crate) use on_both_backends;
