//! The start-up step of the rollups: a database whose projects are marked pending (as the
//! migration marks every project that existed before the rollups) gets its rollups built
//! from the raw rows when the store opens, and the mark goes.

use spindle_core::merge::Stamp;
use spindle_store::conformance::fixtures;
use spindle_store::Store;
use spindle_store_sqlite::{SqliteOptions, SqliteStore, DATABASE_FILE};
use std::collections::BTreeMap;

const PROJECT: &str = "old-project";

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir, SqliteOptions::default()).expect("open the store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_projects_are_built_from_raw_rows_at_open() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path());
    let at = fixtures::BASE;
    let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, 1);
    let mut batch = fixtures::trace_with_observations("t1", "chat", at, stamp, 5, |i, o| {
        o.start_time = Some(at + i as i64 * fixtures::SECOND);
        o.end_time = Some(at + (2 * i as i64 + 1) * fixtures::SECOND);
        o.name = Some(format!("step-{}", i % 2));
        o.usage_details = Some(BTreeMap::from([("input".to_owned(), 10 * i as i64)]));
    });
    batch.scores.push(fixtures::score("s1", stamp, |s| {
        s.trace_id = Some("t1".to_owned());
        s.timestamp = Some(at);
        s.name = Some("quality".to_owned());
        s.value = Some(0.5);
    }));
    store.write(PROJECT, batch).await.expect("write");
    let kept = store.stored_rollups(PROJECT).await.expect("stored");
    assert_eq!(kept.observations.len(), 2);
    store.shutdown().await.expect("shutdown");
    drop(store);

    // As a database from before the rollups: none kept, the project pending.
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open");
    connection
        .execute_batch(
            "DELETE FROM observation_rollups; DELETE FROM observation_latency_buckets;
             DELETE FROM score_rollups;
             INSERT INTO rollups_pending (project_id) VALUES ('old-project');",
        )
        .expect("forget the rollups");
    drop(connection);

    let store = open(dir.path());
    let built = store.stored_rollups(PROJECT).await.expect("stored");
    assert_eq!(built, kept);
    assert_eq!(
        built,
        store.recomputed_rollups(PROJECT).await.expect("rebuilt")
    );
    store.shutdown().await.expect("shutdown");
    drop(store);
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open");
    let pending: i64 = connection
        .query_row("SELECT count(*) FROM rollups_pending", [], |row| row.get(0))
        .expect("count");
    assert_eq!(pending, 0);
}
