//! The start-up step of the rollups: a database whose projects are marked pending (as the
//! migration marks every project that existed before the rollups) gets its rollups built
//! from the raw rows when the store opens (the trace totals recomputed with them), and the
//! mark goes.

use spindle_store::conformance::fixtures;
use spindle_store::Store;
use spindle_store_sqlite::{SqliteOptions, SqliteStore, DATABASE_FILE};

const PROJECT: &str = "old-project";

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir, SqliteOptions::default()).expect("open the store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_projects_are_built_from_raw_rows_at_open() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path());
    let kept = fixtures::write_rolled_up(&store, PROJECT).await;
    store.shutdown().await.expect("shutdown");
    drop(store);

    // As a database from before the rollups: none kept, the project pending.
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open");
    connection
        .execute_batch(&fixtures::as_before_the_rollups(PROJECT))
        .expect("forget the rollups");
    drop(connection);

    let store = open(dir.path());
    fixtures::assert_rollups_are(&store, PROJECT, &kept).await;
    // The totals rows got the columns the migration added: later deltas start from them.
    fixtures::assert_renaming_rolls_up(&store, PROJECT).await;
    store.shutdown().await.expect("shutdown");
    drop(store);
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open");
    let pending: i64 = connection
        .query_row("SELECT count(*) FROM rollups_pending", [], |row| row.get(0))
        .expect("count");
    assert_eq!(pending, 0);
}

/// A database from before the level joined the observation rollups' keys (and boolean scores
/// were keyed by their text): the migration makes the tables anew and marks the project
/// pending (run here as the migration runner would, on the tables of before), and the rollups
/// built at open are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_from_before_levels_are_rebuilt_exact() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(open(dir.path()));
    let kept = fixtures::write_leveled(&store, PROJECT).await;
    store.shutdown().await.expect("shutdown");
    drop(store);

    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open");
    connection
        .execute_batch(fixtures::ROLLUPS_AS_BEFORE_LEVELS)
        .expect("the rollups of before");
    connection
        .execute_batch(include_str!(
            "../migrations/0028_rollup_level_and_booleans.sql"
        ))
        .expect("the migration");
    drop(connection);

    let store = open(dir.path());
    fixtures::assert_rollups_are(&store, PROJECT, &kept).await;
    store.shutdown().await.expect("shutdown");
}
