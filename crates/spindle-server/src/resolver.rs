//! Picks the storage backend from the database URL, in one place.

use crate::config::StorageConfig;
use crate::secret::SecretHome;
use anyhow::Context;
use spindle_store::accounts::Accounts;
use spindle_store::datasets::Datasets;
use spindle_store::prompts::Prompts;
use spindle_store::reviews::Reviews;
use spindle_store::score_configs::ScoreConfigs;
use spindle_store::Store;
#[cfg(feature = "postgres")]
use spindle_store_postgres::{PostgresOptions, PostgresStore};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options that apply to whichever backend is chosen.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    pub write_queue: usize,
    /// The longest a metrics query may run (`None`: no limit).
    pub metrics_time_limit: Option<std::time::Duration>,
}

impl StoreOptions {
    /// The options of the administration commands: a short write queue, no query limit.
    pub fn admin() -> StoreOptions {
        StoreOptions {
            write_queue: 16,
            metrics_time_limit: None,
        }
    }
}

/// Where the chosen backend keeps the server secret: next to the SQLite database (the data
/// dir, or the directory of a `sqlite://` file), or in the PostgreSQL database.
pub fn secret_home(storage: &StorageConfig) -> SecretHome {
    let url = storage.database_url.as_deref().unwrap_or("");
    let sqlite_path = if url.is_empty() {
        storage.data_dir.clone()
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        PathBuf::from(path)
    } else {
        return SecretHome::Database;
    };
    SecretHome::DataDir(sqlite_dir(&sqlite_path))
}

/// The directory of a SQLite database given as a data dir or a database file, by the same
/// rule as the SQLite store's: a path naming a file holds the database, any other path is
/// its directory.
pub fn sqlite_dir(path: &Path) -> PathBuf {
    let names_a_file = path.is_file()
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("db" | "sqlite" | "sqlite3")
        );
    if !names_a_file {
        return path.to_path_buf();
    }
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Opens the store named by `--database-url`, or the SQLite database in the data dir.
pub fn open_store(
    storage: &StorageConfig,
    options: StoreOptions,
) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_backend(storage, options)?.0)
}

/// What one backend keeps: the data, the UI accounts, the prompts, the datasets, the
/// annotation queues and comments, and the score configs.
pub type Backend = (
    Arc<dyn Store>,
    Arc<dyn Accounts>,
    Arc<dyn Prompts>,
    Arc<dyn Datasets>,
    Arc<dyn Reviews>,
    Arc<dyn ScoreConfigs>,
);

/// Like [`open_store`], with the same backend's UI accounts, prompts, datasets, reviews and
/// score configs.
pub fn open_backend(storage: &StorageConfig, options: StoreOptions) -> anyhow::Result<Backend> {
    let url = storage.database_url.as_deref().unwrap_or("");
    let sqlite_path: PathBuf = if url.is_empty() {
        storage.data_dir.clone()
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        PathBuf::from(path)
    } else if is_postgres_url(url) {
        return open_postgres(url, storage, options);
    } else {
        anyhow::bail!(
            "DATABASE_URL: unsupported scheme; expected sqlite://PATH or postgres://USER@HOST/DB"
        );
    };
    let sqlite_options = SqliteOptions {
        queue_capacity: options.write_queue,
        compress_payloads: storage.compress_payloads,
        metrics_time_limit: options.metrics_time_limit,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(&sqlite_path, sqlite_options)
        .with_context(|| format!("opening the SQLite database in {}", sqlite_path.display()))?;
    Ok(backend_of(Arc::new(store)))
}

/// What `store` keeps, as every trait the app uses.
fn backend_of<S>(store: Arc<S>) -> Backend
where
    S: Store + Accounts + Prompts + Datasets + Reviews + ScoreConfigs,
{
    (
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        store,
    )
}

/// The directory the SQLite database lives in, for the readiness probe; `None` for
/// PostgreSQL.
pub fn probe_dir(storage: &StorageConfig) -> Option<PathBuf> {
    match secret_home(storage) {
        SecretHome::DataDir(dir) => Some(dir),
        SecretHome::Database => None,
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The error of a PostgreSQL URL given to a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
pub fn postgres_not_built() -> anyhow::Error {
    anyhow::anyhow!(
        "DATABASE_URL: this spindle binary was built without PostgreSQL support \
         (cargo feature `postgres`); use sqlite://PATH, or a build with the feature"
    )
}

#[cfg(feature = "postgres")]
fn open_postgres(
    url: &str,
    storage: &StorageConfig,
    options: StoreOptions,
) -> anyhow::Result<Backend> {
    if storage.database_pool_size == 0 {
        anyhow::bail!("SPINDLE_DATABASE_POOL_SIZE (--database-pool-size) must be at least 1");
    }
    let postgres_options = PostgresOptions {
        pool_size: storage.database_pool_size,
        queue_capacity: options.write_queue,
        schema: None,
        metrics_time_limit: options.metrics_time_limit,
    };
    // The message never echoes the URL: it may hold a password.
    let store = PostgresStore::open_blocking(url, postgres_options)
        .context("DATABASE_URL: opening the PostgreSQL database")?;
    Ok(backend_of(Arc::new(store)))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(
    _url: &str,
    _storage: &StorageConfig,
    _options: StoreOptions,
) -> anyhow::Result<Backend> {
    Err(postgres_not_built())
}
