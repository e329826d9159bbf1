//! Test support for the PostgreSQL backend: the test database URL, one fresh schema per
//! store, and a clear failure when PostgreSQL is not running.

#![allow(dead_code)]

use spindle_store_postgres::{PostgresOptions, PostgresStore};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;

/// The database tests use; `SPINDLE_TEST_DATABASE_URL` overrides it.
pub fn database_url() -> String {
    std::env::var("SPINDLE_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Schemas of earlier runs older than this are dropped when a test makes a new one.
const STALE_SECONDS: u64 = 6 * 3600;

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A schema name unique to `key` (a test's private directory), stamped with the time and
/// the test process's id so that later runs can drop it (see [`drop_stale_schemas`]).
pub fn schema_for(key: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    let stamp = std::fs::read_to_string(key.join(".pg_schema_time"))
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            let now = unix_seconds();
            let _ = std::fs::write(key.join(".pg_schema_time"), now.to_string());
            now
        });
    format!(
        "spindle_t{stamp}_p{}_{:016x}",
        std::process::id(),
        hasher.finish()
    )
}

/// Panics with instructions when PostgreSQL cannot be reached.
pub fn unreachable(url: &str, error: impl std::fmt::Display) -> ! {
    panic!(
        "PostgreSQL is required for this test and is not reachable at {url}: {error}\n\
         start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
         (or point SPINDLE_TEST_DATABASE_URL at another server)"
    )
}

/// Whether the test schema `name` can go: made by a test process that has ended (each test
/// binary drops the schemas of the binaries before it, so a run leaves at most its last
/// binary's), or older than [`STALE_SECONDS`] (names without a process id too).
fn is_stale(name: &str, cutoff: u64) -> bool {
    let mut parts = name
        .strip_prefix("spindle_t")
        .unwrap_or_default()
        .split('_');
    let stamp = parts.next().and_then(|s| s.parse::<u64>().ok());
    let pid = parts
        .next()
        .and_then(|part| part.strip_prefix('p'))
        .and_then(|s| s.parse::<u32>().ok());
    let ended = pid.is_some_and(|pid| {
        pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
    });
    ended || stamp.is_some_and(|stamp| stamp < cutoff)
}

/// Drops the test schemas [`is_stale`] lets go (best effort), once per test process: the
/// first store a process opens does it.
async fn drop_stale_schemas() {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let url = database_url();
    let Ok((client, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await
    else {
        return;
    };
    tokio::spawn(connection);
    let Ok(rows) = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spindle\\_t%'",
            &[],
        )
        .await
    else {
        return;
    };
    let cutoff = unix_seconds().saturating_sub(STALE_SECONDS);
    for row in rows {
        let name: String = row.get(0);
        if is_stale(&name, cutoff) {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
}

/// Creates the test database when the server has none of that name yet (a fresh machine).
async fn ensure_database(url: &str) {
    let Ok(config) = url.parse::<tokio_postgres::Config>() else {
        return;
    };
    let error = match config.connect(tokio_postgres::NoTls).await {
        Ok((client, connection)) => {
            drop(client);
            let _ = connection.await;
            return;
        }
        Err(error) => error,
    };
    if error.code() != Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) {
        return;
    }
    let Some(name) = config.get_dbname().map(str::to_owned) else {
        return;
    };
    let mut maintenance = config.clone();
    maintenance.dbname("postgres");
    if let Ok((client, connection)) = maintenance.connect(tokio_postgres::NoTls).await {
        let connection = tokio::spawn(connection);
        // Another test may create it at the same moment: its error is harmless.
        let _ = client
            .batch_execute(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .await;
        drop(client);
        let _ = connection.await;
    }
}

/// Opens a store in the schema of `key`, creating it on first use.
pub async fn open_in(key: &Path, queue_capacity: Option<usize>) -> PostgresStore {
    open_with(key, queue_capacity, None).await
}

/// [`open_in`], with metrics queries limited to `metrics_time_limit` instead of the default.
pub async fn open_with(
    key: &Path,
    queue_capacity: Option<usize>,
    metrics_time_limit: Option<std::time::Duration>,
) -> PostgresStore {
    let url = database_url();
    ensure_database(&url).await;
    let mut options = PostgresOptions {
        pool_size: 8,
        schema: Some(schema_for(key)),
        ..PostgresOptions::default()
    };
    if let Some(capacity) = queue_capacity {
        options.queue_capacity = capacity;
    }
    if let Some(limit) = metrics_time_limit {
        options.metrics_time_limit = Some(limit);
    }
    match PostgresStore::open(&url, options).await {
        Ok(store) => {
            drop_stale_schemas().await;
            store
        }
        Err(error) => unreachable(&url, error),
    }
}

/// A plain connection whose `search_path` is the schema of `key`, and the task driving it
/// (await it after dropping the client).
pub async fn client_in(key: &Path) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let url = database_url();
    let mut config: tokio_postgres::Config = url.parse().expect("test URL");
    config.options(format!("-c search_path={}", schema_for(key)));
    match config.connect(tokio_postgres::NoTls).await {
        Ok((client, connection)) => (
            client,
            tokio::spawn(async move {
                let _ = connection.await;
            }),
        ),
        Err(error) => unreachable(&url, error),
    }
}

/// The migrations 0001 to 0019, as a database of that version has them (tests of later
/// migrations start from a prefix of these; see [`migrations_before`]).
const EARLY_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_accounts.sql"),
    include_str!("../../migrations/0003_sort_indexes.sql"),
    include_str!("../../migrations/0004_tags_index.sql"),
    include_str!("../../migrations/0005_counters.sql"),
    include_str!("../../migrations/0006_cost.sql"),
    include_str!("../../migrations/0007_trace_tags_and_metadata.sql"),
    include_str!("../../migrations/0008_lz4_compression.sql"),
    include_str!("../../migrations/0009_trace_search.sql"),
    include_str!("../../migrations/0010_scores_cover_trace_ids.sql"),
    include_str!("../../migrations/0011_prompts.sql"),
    include_str!("../../migrations/0012_server_secrets.sql"),
    include_str!("../../migrations/0013_observations_by_prompt.sql"),
    include_str!("../../migrations/0014_prompt_latency_index.sql"),
    include_str!("../../migrations/0015_datasets.sql"),
    include_str!("../../migrations/0016_dataset_item_versions.sql"),
    include_str!("../../migrations/0017_review.sql"),
    include_str!("../../migrations/0018_score_configs.sql"),
    include_str!("../../migrations/0019_observations_by_prompt_trace.sql"),
];

/// The migrations before `number` (at most 0020), for [`schema_migrated_to`].
pub fn migrations_before(number: usize) -> &'static [&'static str] {
    &EARLY_MIGRATIONS[..number - 1]
}

/// The schema of `key` made by the old migrations `before` (numbered from 1, recorded as the
/// store's migrations table records them), for the rows a test writes as an old version
/// did; a plain connection in it and the task driving it (await it after dropping the
/// client).
pub async fn schema_migrated_to(
    key: &Path,
    before: &[&str],
) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let schema = schema_for(key);
    let url = database_url();
    let (client, connection) = match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(error) => unreachable(&url, error),
    };
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path = {schema};
             CREATE TABLE spindle_migrations (
                 version bigint PRIMARY KEY, name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())"
        ))
        .await
        .expect("schema");
    for (index, sql) in before.iter().enumerate() {
        client.batch_execute(sql).await.expect("old migration");
        client
            .execute(
                "INSERT INTO spindle_migrations (version, name) VALUES ($1, 'old')",
                &[&(index as i64 + 1)],
            )
            .await
            .expect("record migration");
    }
    (client, connection)
}

/// A SQLite store in `dir`, durable against a crash of the process only (all the tests need),
/// with payloads packed, so copies carry both stored forms.
pub fn open_sqlite(dir: &Path) -> SqliteStore {
    let options = SqliteOptions {
        synchronous_full: false,
        compress_payloads: true,
        ..SqliteOptions::default()
    };
    SqliteStore::open(dir, options).expect("open the sqlite store")
}
