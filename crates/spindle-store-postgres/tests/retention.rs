//! Retention on both backends: a project with `retention_days` loses traces (with their
//! observations and scores) older than that, in small batches, and the dataset item versions
//! only reads before then needed; other projects and newer traces stay. PostgreSQL overrides `Store::delete_older_than`; SQLite uses the trait's
//! default.

mod support;

use spindle_core::dataset::{NewDataset, NewDatasetItem};
use spindle_core::merge::Stamp;
use spindle_core::{ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};
use spindle_store::datasets::{DatasetItemQuery, Datasets};
use spindle_store::retention::{enforce, RetentionOptions};
use spindle_store::{ObservationQuery, Organization, Project, ScoreQuery, Store, TraceQuery};
use std::time::Duration;

const NOW: i64 = 1_800_000_000_000_000;
const DAY: i64 = 86_400_000_000;

fn project(id: &str, retention_days: Option<u32>) -> Project {
    Project {
        id: id.into(),
        name: id.into(),
        organization: Organization {
            id: "org".into(),
            name: "org".into(),
        },
        retention_days,
        created_at: 0,
    }
}

fn trace_batch(id: &str, at: i64) -> WriteBatch {
    let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, 1);
    let mut trace = TraceRecord::new(id);
    trace.timestamp = Some(at);
    trace.stamp_unstamped(stamp);
    let observations = (0..3)
        .map(|index| {
            let mut observation = ObservationRecord::new(format!("{id}-o{index}"));
            observation.trace_id = Some(id.to_owned());
            observation.start_time = Some(at + index);
            observation.stamp_unstamped(stamp);
            observation
        })
        .collect();
    let mut score = ScoreRecord::new(format!("{id}-s"));
    score.trace_id = Some(id.to_owned());
    score.timestamp = Some(at);
    score.value = Some(1.0);
    score.stamp_unstamped(stamp);
    WriteBatch {
        traces: vec![trace],
        observations,
        scores: vec![score],
        run_items: Vec::new(),
        completions: Vec::new(),
    }
}

async fn ids(store: &dyn Store, project_id: &str) -> (Vec<String>, u64, u64) {
    let traces = store
        .list_traces(project_id, &TraceQuery::with_limit(100))
        .await
        .expect("traces");
    let mut trace_ids: Vec<String> = traces.items.into_iter().map(|t| t.record.id).collect();
    trace_ids.sort();
    let observations = store
        .list_observations(project_id, &ObservationQuery::default())
        .await
        .expect("observations")
        .total_items;
    let scores = store
        .list_scores(project_id, &ScoreQuery::default())
        .await
        .expect("scores")
        .total_items;
    (trace_ids, observations, scores)
}

/// Writes item `i1` of dataset `d` of `project_id` three times; the times of the writes.
async fn write_item_versions(store: &dyn Datasets, project_id: &str) -> Vec<i64> {
    store
        .upsert_dataset(
            project_id,
            &NewDataset {
                name: "d".into(),
                ..NewDataset::default()
            },
        )
        .await
        .expect("dataset");
    let mut times = Vec::new();
    for input in ["1", "2", "3"] {
        let item = NewDatasetItem {
            dataset_name: "d".into(),
            id: Some("i1".into()),
            input: Some(input.into()),
            ..NewDatasetItem::default()
        };
        let stored = store
            .upsert_dataset_item(project_id, &item)
            .await
            .expect("item");
        times.push(stored.updated_at);
    }
    times
}

/// The inputs of the items of `project_id` as they were at `version`.
async fn inputs_at(store: &dyn Datasets, project_id: &str, version: i64) -> Vec<String> {
    let query = DatasetItemQuery {
        version: Some(version),
        ..DatasetItemQuery::default()
    };
    let items = store
        .list_dataset_items(project_id, &query)
        .await
        .expect("items");
    items.items.into_iter().filter_map(|i| i.input).collect()
}

async fn check<S: Store + Datasets>(store: &S) {
    store
        .upsert_project(&project("short", Some(30)))
        .await
        .expect("project");
    store
        .upsert_project(&project("forever", None))
        .await
        .expect("project");
    for (index, age_days) in [45i64, 40, 31, 29, 1].into_iter().enumerate() {
        for project_id in ["short", "forever"] {
            store
                .write(
                    project_id,
                    trace_batch(&format!("t{index}"), NOW - age_days * DAY),
                )
                .await
                .expect("write");
        }
    }
    // Written now, long before the "short" project's cutoff (NOW is in the future).
    let short_versions = write_item_versions(store, "short").await;
    let forever_versions = write_item_versions(store, "forever").await;
    let options = RetentionOptions {
        batch_traces: 2,
        batch_item_versions: 2,
        pause: Duration::ZERO,
    };
    let deleted = enforce(store, store, NOW, options)
        .await
        .expect("retention");
    assert_eq!(deleted, 3);
    assert_eq!(
        ids(store, "short").await,
        (vec!["t3".to_owned(), "t4".to_owned()], 6, 2)
    );
    assert_eq!(ids(store, "forever").await.0.len(), 5);
    // What went, went from the rollups too.
    for project_id in ["short", "forever"] {
        let stored = store.stored_rollups(project_id).await.expect("stored");
        assert!(!stored.is_empty());
        assert_eq!(
            stored,
            store.recomputed_rollups(project_id).await.expect("rebuilt")
        );
    }
    // The item's replaced versions went with the window; its present one stays.
    assert_eq!(
        inputs_at(store, "short", short_versions[1]).await,
        Vec::<String>::new()
    );
    assert_eq!(inputs_at(store, "short", short_versions[2]).await, ["3"]);
    assert_eq!(inputs_at(store, "short", i64::MAX).await, ["3"]);
    assert_eq!(
        inputs_at(store, "forever", forever_versions[0]).await,
        ["1"]
    );
    // Nothing left to delete: a second round is a no-op.
    assert_eq!(enforce(store, store, NOW, options).await.expect("again"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_on_postgres() {
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    check(&store).await;
    store.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_on_sqlite_through_the_default_method() {
    let dir = tempfile::tempdir().expect("data dir");
    let store = support::open_sqlite(dir.path());
    check(&store).await;
    store.shutdown().await.expect("shutdown");
}
