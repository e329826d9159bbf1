//! Runs the store, accounts, prompts, datasets and score configs conformance suites against the SQLite backend on a temporary
//! directory, and the SQLite store's own cases (memory released when idle).

use spindle_core::merge::Stamp;
use spindle_core::time::Micros;
use spindle_core::{ObservationType, WriteBatch};
use spindle_store::conformance::{fixtures, OpenOptions};
use spindle_store::{Store, TraceQuery, TraceView};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};

/// The defaults, durable against a crash of the process only (all the tests need).
fn crash_durable() -> SqliteOptions {
    SqliteOptions {
        synchronous_full: false,
        // The shared cases (long payloads, search over them) then cover packed payloads.
        compress_payloads: true,
        ..SqliteOptions::default()
    }
}

/// The store in `dir` with `options`.
fn open(dir: &std::path::Path, options: SqliteOptions) -> SqliteStore {
    SqliteStore::open(dir, options).expect("open the sqlite store")
}

spindle_store::conformance_suite!(|options: OpenOptions| async move {
    let mut sqlite = crash_durable();
    if let Some(capacity) = options.queue_capacity {
        sqlite.queue_capacity = capacity;
        sqlite.max_group_batches = 1;
    }
    if let Some(limit) = options.metrics_time_limit {
        sqlite.metrics_time_limit = Some(limit);
    }
    open(&options.dir, sqlite)
});

spindle_store::accounts_conformance_suite!(|dir: std::path::PathBuf| async move {
    open(&dir, crash_durable())
});

/// A write of one trace with `spans` spans, all created at `at`.
fn trace_with_spans(trace_id: &str, spans: usize, at: Micros) -> WriteBatch {
    let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, 7);
    let name = format!("trace {trace_id}");
    fixtures::trace_with_observations(trace_id, &name, at, stamp, spans, |index, span| {
        span.start_time = Some(at);
        span.name = Some(format!("span {index}"));
        span.observation_type = Some(ObservationType::Span);
        span.input = Some("x".repeat(4000));
    })
}

/// The trace `id` of project `p`, which must exist.
async fn stored_trace(store: &SqliteStore, id: &str) -> TraceView {
    store
        .get_trace("p", id)
        .await
        .expect("read")
        .expect("trace")
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
    let store = open(
        dir.path(),
        SqliteOptions {
            release_memory_after_idle: Some(std::time::Duration::ZERO),
            release_read_caches_after_idle: std::time::Duration::ZERO,
            ..crash_durable()
        },
    );

    store
        .write("p", trace_with_spans("before", 50, AT))
        .await
        .expect("write before the release");
    let first = stored_trace(&store, "before").await;
    assert_eq!(first.observation_ids.len(), 50);
    let released = store.idle_memory_releases();
    wait_for_release(&store, released).await;

    // Caches emptied: the data is read back from the file, and new writes still commit.
    let before = stored_trace(&store, "before").await;
    assert_eq!(before.observation_ids.len(), 50);
    store
        .write("p", trace_with_spans("after", 50, AT + 1))
        .await
        .expect("write after the release");
    let after = stored_trace(&store, "after").await;
    assert_eq!(after.observations.len(), 50);
    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total_items, 2);

    // Idle again after the new activity: released once more, still consistent.
    let released = store.idle_memory_releases();
    wait_for_release(&store, released).await;
    let again = stored_trace(&store, "after").await;
    assert_eq!(again.observations.len(), 50);
    store.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_idle_memory_release_when_switched_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(
        dir.path(),
        SqliteOptions {
            release_memory_after_idle: None,
            ..crash_durable()
        },
    );
    store
        .write("p", trace_with_spans("only", 5, 1_767_225_600_000_000))
        .await
        .expect("write");
    store.shutdown().await.expect("shutdown");
    assert_eq!(store.idle_memory_releases(), 0);
}

spindle_store::prompts_conformance_suite!(|dir: std::path::PathBuf| async move {
    open(&dir, crash_durable())
});

spindle_store::datasets_conformance_suite!(|dir: std::path::PathBuf| async move {
    open(&dir, crash_durable())
});

spindle_store::reviews_conformance_suite!(|dir: std::path::PathBuf| async move {
    open(&dir, crash_durable())
});

spindle_store::score_configs_conformance_suite!(|dir: std::path::PathBuf| async move {
    open(&dir, crash_durable())
});
