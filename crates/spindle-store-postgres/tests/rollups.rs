//! The start-up step of the rollups on PostgreSQL: projects marked pending (as the migration
//! marks every project that existed before the rollups) get their rollups built from the
//! raw rows when a store opens (the trace totals recomputed with them), and the mark goes.

mod support;

use spindle_store::conformance::fixtures;
use spindle_store::Store;

const PROJECT: &str = "old-project";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_projects_are_built_from_raw_rows_at_open() {
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    let kept = fixtures::write_rolled_up(&store, PROJECT).await;

    // As a database from before the rollups: none kept, the project pending.
    let (client, connection) = support::client_in(key.path()).await;
    client
        .batch_execute(&fixtures::as_before_the_rollups(PROJECT))
        .await
        .expect("forget the rollups");
    assert!(store
        .stored_rollups(PROJECT)
        .await
        .expect("stored")
        .is_empty());

    let reopened = support::open_in(key.path(), None).await;
    fixtures::assert_rollups_are(&reopened, PROJECT, &kept).await;
    let pending: i64 = client
        .query_one("SELECT count(*) FROM rollups_pending", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(pending, 0);
    // The totals rows got the columns the migration added: later deltas start from them.
    fixtures::assert_renaming_rolls_up(&reopened, PROJECT).await;
    drop(client);
    let _ = connection.await;
}

/// A database from before the level joined the observation rollups' keys (and boolean scores
/// were keyed by their text): the migration makes the tables anew and marks the project
/// pending (run here as the migration runner would, on the tables of before), and the rollups
/// built at open are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_from_before_levels_are_rebuilt_exact() {
    let key = tempfile::tempdir().expect("schema key");
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(support::open_in(key.path(), None).await);
    let kept = fixtures::write_leveled(&store, PROJECT).await;

    let (client, connection) = support::client_in(key.path()).await;
    client
        .batch_execute(&format!(
            "{}\n{}",
            fixtures::ROLLUPS_AS_BEFORE_LEVELS,
            include_str!("../migrations/0029_rollup_level_and_booleans.sql"),
        ))
        .await
        .expect("the rollups of before");

    let reopened = support::open_in(key.path(), None).await;
    fixtures::assert_rollups_are(&reopened, PROJECT, &kept).await;
    drop(client);
    let _ = connection.await;
}
