//! Runs the store, accounts, prompts and datasets conformance suites against the SQLite backend on a temporary
//! directory, and the SQLite store's own cases (memory released when idle).

use spindle_core::merge::Stamp;
use spindle_core::time::Micros;
use spindle_core::{ObservationRecord, ObservationType, TraceRecord, WriteBatch};
use spindle_store::conformance::OpenOptions;
use spindle_store::{Store, TraceQuery};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};

spindle_store::conformance_suite!(|options: OpenOptions| async move {
    let mut sqlite = SqliteOptions {
        // Tests need durability against a process crash only.
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    if let Some(capacity) = options.queue_capacity {
        sqlite.queue_capacity = capacity;
        sqlite.max_group_batches = 1;
    }
    SqliteStore::open(&options.dir, sqlite).expect("open the sqlite store")
});

/// The store of a case's directory, durable against a process crash only (all tests need).
fn open_in(dir: &std::path::Path) -> SqliteStore {
    let options = SqliteOptions {
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    SqliteStore::open(dir, options).expect("open the sqlite store")
}

spindle_store::accounts_conformance_suite!(|dir: std::path::PathBuf| async move { open_in(&dir) });

/// A write of one trace with `spans` spans, all created at `at`.
fn trace_with_spans(trace_id: &str, spans: usize, at: Micros) -> WriteBatch {
    let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, 7);
    let mut trace = TraceRecord::new(trace_id);
    trace.timestamp = Some(at);
    trace.name = Some(format!("trace {trace_id}"));
    trace.stamp_unstamped(stamp);
    let observations = (0..spans)
        .map(|index| {
            let mut observation = ObservationRecord::new(format!("{trace_id}-{index}"));
            observation.trace_id = Some(trace_id.to_owned());
            observation.start_time = Some(at);
            observation.name = Some(format!("span {index}"));
            observation.observation_type = Some(ObservationType::Span);
            observation.input = Some("x".repeat(4000));
            observation.stamp_unstamped(stamp);
            observation
        })
        .collect();
    WriteBatch {
        traces: vec![trace],
        observations,
        scores: Vec::new(),
    }
}

/// Waits until the store has released memory more than `before` times. Fails after a minute,
/// which only a broken idle hook takes.
async fn wait_for_release(store: &SqliteStore, before: u64) {
    for _ in 0..6000 {
        if store.idle_memory_releases() > before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the idle store never released memory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_memory_release_keeps_the_store_working() {
    const AT: Micros = 1_767_225_600_000_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(
        dir.path(),
        SqliteOptions {
            synchronous_full: false,
            release_memory_after_idle: Some(std::time::Duration::ZERO),
            release_read_caches_after_idle: std::time::Duration::ZERO,
            ..SqliteOptions::default()
        },
    )
    .expect("open the sqlite store");

    store
        .write("p", trace_with_spans("before", 50, AT))
        .await
        .expect("write before the release");
    let first = store.get_trace("p", "before").await.expect("read");
    assert_eq!(first.expect("trace").observation_ids.len(), 50);
    let released = store.idle_memory_releases();
    wait_for_release(&store, released).await;

    // Caches emptied: the data is read back from the file, and new writes still commit.
    let before = store
        .get_trace("p", "before")
        .await
        .expect("read")
        .expect("trace");
    assert_eq!(before.observation_ids.len(), 50);
    store
        .write("p", trace_with_spans("after", 50, AT + 1))
        .await
        .expect("write after the release");
    let after = store
        .get_trace("p", "after")
        .await
        .expect("read")
        .expect("trace");
    assert_eq!(after.observations.len(), 50);
    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total_items, 2);

    // Idle again after the new activity: released once more, still consistent.
    let released = store.idle_memory_releases();
    wait_for_release(&store, released).await;
    let again = store
        .get_trace("p", "after")
        .await
        .expect("read")
        .expect("trace");
    assert_eq!(again.observations.len(), 50);
    store.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_idle_memory_release_when_switched_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(
        dir.path(),
        SqliteOptions {
            synchronous_full: false,
            release_memory_after_idle: None,
            ..SqliteOptions::default()
        },
    )
    .expect("open the sqlite store");
    store
        .write("p", trace_with_spans("only", 5, 1_767_225_600_000_000))
        .await
        .expect("write");
    store.shutdown().await.expect("shutdown");
    assert_eq!(store.idle_memory_releases(), 0);
}

spindle_store::prompts_conformance_suite!(|dir: std::path::PathBuf| async move { open_in(&dir) });

spindle_store::datasets_conformance_suite!(|dir: std::path::PathBuf| async move { open_in(&dir) });
