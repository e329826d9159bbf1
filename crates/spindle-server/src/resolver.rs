//! Picks the storage backend from the database URL, in one place.

use crate::config::StorageConfig;
use anyhow::Context;
use spindle_store::accounts::Accounts;
use spindle_store::sqlite::{SqliteOptions, SqliteStore};
use spindle_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// Options that apply to whichever backend is chosen.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    pub write_queue: usize,
}

/// Opens the store named by `--database-url`, or the SQLite database in the data dir.
pub fn open_store(
    storage: &StorageConfig,
    options: StoreOptions,
) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_backend(storage, options)?.0)
}

/// Like [`open_store`], with the same backend's UI accounts.
pub fn open_backend(
    storage: &StorageConfig,
    options: StoreOptions,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Accounts>)> {
    let url = storage.database_url.as_deref().unwrap_or("");
    let sqlite_path: PathBuf = if url.is_empty() {
        storage.data_dir.clone()
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        PathBuf::from(path)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        anyhow::bail!("DATABASE_URL: PostgreSQL is not supported by this build yet; use sqlite://PATH or leave it unset");
    } else {
        anyhow::bail!("DATABASE_URL: unsupported scheme in {url:?}; expected sqlite://PATH");
    };
    let sqlite_options = SqliteOptions {
        queue_capacity: options.write_queue,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(&sqlite_path, sqlite_options)
        .with_context(|| format!("opening the SQLite database in {}", sqlite_path.display()))?;
    let store = Arc::new(store);
    Ok((store.clone(), store))
}
