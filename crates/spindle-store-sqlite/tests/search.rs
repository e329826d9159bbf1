//! SQLite's search index: the index, the queue of traces not yet indexed and a backfill after
//! the index file is lost all answer a search alike.

use spindle_store::conformance::fixtures::{
    batch_of_observations, batch_of_traces, create_stamp, observation, trace, update_stamp,
    CommonWordTraces,
};
use spindle_store::{ObservationRecord, Store, TraceQuery, TraceRecord};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::BTreeMap;
use std::path::Path;

const P: &str = "p";
const AT: i64 = 1_767_225_600_000_000;

/// A store whose index is filled only by `index_search_now`.
fn open(dir: &Path) -> SqliteStore {
    let options = SqliteOptions {
        synchronous_full: false,
        index_search_in_background: false,
        ..SqliteOptions::default()
    };
    SqliteStore::open(dir, options).expect("open the sqlite store")
}

/// The ids of the traces matching `search`, sorted, checked against the page's total.
async fn found(store: &SqliteStore, search: &str) -> Vec<String> {
    let page = store
        .list_traces(
            P,
            &TraceQuery {
                search: Some(search.to_owned()),
                ..TraceQuery::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("search {search:?}: {e:?}"));
    let mut ids: Vec<String> = page.items.into_iter().map(|t| t.record.id).collect();
    assert_eq!(page.total_items, ids.len() as u64, "total of {search:?}");
    assert!(!page.total_is_estimate, "{search:?} is counted");
    ids.sort();
    ids
}

/// What every state of the index answers for the first writes.
async fn check_first_writes(store: &SqliteStore) {
    assert_eq!(found(store, "creme").await, ["t1", "t2"]);
    assert_eq!(found(store, "BRÛLÉE").await, ["t1", "t2"], "case, accents");
    assert_eq!(
        found(store, "recipe caramel").await,
        ["t1"],
        "observation words"
    );
    assert_eq!(found(store, "sugar crème").await, ["t1"], "any order");
    assert_eq!(
        found(store, "dessert rea").await,
        ["t1"],
        "last word a prefix"
    );
    assert!(
        found(store, "recipes").await.is_empty(),
        "other words whole"
    );
    assert!(found(store, "rea dessert").await.is_empty());
    assert_eq!(found(store, "t2").await, ["t2"], "a trace id");
    assert_eq!(found(store, "other").await, ["t9"], "another trace");
}

/// A trace first written at `at` with the input `input`, then `edit`ed.
fn trace_at(
    id: &str,
    at: i64,
    input: impl Into<String>,
    edit: impl FnOnce(&mut TraceRecord),
) -> TraceRecord {
    trace(id, create_stamp(at), |t| {
        t.timestamp = Some(at);
        t.input = Some(input.into());
        edit(t);
    })
}

/// Writes the traces, then the observations (when there are any).
async fn write(
    store: &SqliteStore,
    traces: Vec<TraceRecord>,
    observations: Vec<ObservationRecord>,
) {
    store
        .write(P, batch_of_traces(traces))
        .await
        .expect("write traces");
    if !observations.is_empty() {
        store
            .write(P, batch_of_observations(observations))
            .await
            .expect("write observations");
    }
}

async fn write_first(store: &SqliteStore) {
    let traces = vec![
        trace_at("t1", AT, "Crème brûlée recipe", |t| {
            t.output = Some("DESSERT ready".into());
        }),
        trace_at("t2", AT + 1, "creme brulee, no recipe", |_| {}),
        trace_at("t9", AT + 2, "other", |_| {}),
    ];
    let observations = vec![observation("o1", create_stamp(AT), |o| {
        o.trace_id = Some("t1".into());
        o.output = Some("caramel, sugar".into());
    })];
    write(store, traces, observations).await;
}

/// What every state of the index answers after the later writes and the deletion.
async fn check_later_writes(store: &SqliteStore) {
    assert!(found(store, "dessert").await.is_empty(), "replaced words");
    assert_eq!(found(store, "changed").await, ["t1"]);
    assert_eq!(
        found(store, "creme").await,
        ["t1", "t3"],
        "deleted t2, new t3"
    );
    assert_eq!(found(store, "crème caramel").await, ["t1"]);
}

async fn write_later(store: &SqliteStore) {
    let traces = vec![
        trace("t1", update_stamp(AT + 10), |t| {
            t.output = Some("changed".into());
        }),
        trace_at("t3", AT + 3, "crème anglaise", |_| {}),
    ];
    write(store, traces, Vec::new()).await;
    let deleted = store
        .delete_traces(P, &["t2".to_owned()])
        .await
        .expect("delete");
    assert_eq!(deleted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_queue_and_backfill_answer_alike() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    write_first(&store).await;
    // Nothing indexed: the queue is scanned.
    check_first_writes(&store).await;
    let rows = store.index_search_now().await.expect("index");
    assert_eq!(rows, 3, "one index row per trace");
    // Everything indexed.
    check_first_writes(&store).await;

    // Indexed traces changed and deleted, and a new one: index and queue together.
    write_later(&store).await;
    check_later_writes(&store).await;
    let rows = store.index_search_now().await.expect("index");
    assert_eq!(rows, 3, "the deleted trace's row swept away");
    check_later_writes(&store).await;
    store.shutdown().await.expect("shutdown");
    drop(store);

    // The index file lost: the traces are scanned until the backfill has indexed them.
    let index = dir.path().join("spindle-search.db");
    assert!(index.exists(), "the index lives beside the database");
    for suffix in ["", "-wal", "-shm"] {
        let mut file = index.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    let store = open(dir.path());
    check_later_writes(&store).await;
    store.index_search_now().await.expect("index");
    check_later_writes(&store).await;
    store.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_indexer_catches_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = SqliteOptions {
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options).expect("open");
    write_first(&store).await;
    // The writer goes idle: the indexer indexes everything and trims the queue (a minute at
    // most, which only a broken indexer takes).
    for _ in 0..600 {
        if store.search_backlog().await.expect("backlog") == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(store.search_backlog().await.expect("backlog"), 0);
    check_first_writes(&store).await;
    store.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_words_walk_the_list_and_probe_the_index() {
    const TRACES: i64 = 2_400;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    let common = CommonWordTraces::new(TRACES, AT);
    write(&store, common.traces.clone(), Vec::new()).await;
    store.index_search_now().await.expect("index");
    // A newer trace not indexed yet.
    write(&store, vec![common.late.clone()], Vec::new()).await;
    let list = CommonWordTraces::query;
    for page in [1, 2] {
        let found = store
            .list_traces(P, &list("common", None, page))
            .await
            .expect("search");
        let ids: Vec<&str> = found.items.iter().map(|t| t.record.id.as_str()).collect();
        let start = (page as usize - 1) * 50;
        assert_eq!(
            ids,
            common.newest[start..start + 50],
            "page {page}, newest first"
        );
        // The estimate of the index, which holds every indexed match here.
        assert_eq!(found.total_items, TRACES as u64, "estimated total");
        assert!(found.total_is_estimate, "marked as an estimate");
    }
    // With another filter the total is counted.
    common.assert_counted_with_a_user(&store, P).await;
    // A prefix standing for many index words, and one standing for a few.
    assert_eq!(
        found_total(&store, &list("common word1", Some("u0"), 1)).await,
        (0..TRACES)
            .filter(|i| i % 3 == 0 && format!("{i}").starts_with('1'))
            .count() as u64
    );
    assert_eq!(
        found_total(&store, &list("word123", None, 1)).await,
        11,
        "word123 and word1230 to word1239"
    );
    store.shutdown().await.expect("shutdown");
}

async fn found_total(store: &SqliteStore, query: &TraceQuery) -> u64 {
    store
        .list_traces(P, query)
        .await
        .expect("search")
        .total_items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_payloads_are_scanned_and_indexed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = SqliteOptions {
        synchronous_full: false,
        index_search_in_background: false,
        compress_payloads: true,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options).expect("open the sqlite store");
    let long = |word: &str| {
        format!(
            "{} {word} {}",
            "filler text ".repeat(20),
            "tail ".repeat(10)
        )
    };
    let traces = vec![trace_at("t1", AT, long("zanzibar"), |_| {})];
    let observations = vec![observation("o1", create_stamp(AT), |o| {
        o.trace_id = Some("t1".into());
        o.output = Some(long("quokka"));
    })];
    write(&store, traces, observations).await;
    // Queued: the scan reads the packed texts.
    assert_eq!(found(&store, "zanzibar").await, ["t1"]);
    assert_eq!(found(&store, "quokka filler").await, ["t1"]);
    assert!(found(&store, "wombat").await.is_empty());
    // Indexed: the indexer read them too.
    let rows = store.index_search_now().await.expect("index");
    assert_eq!(rows, 1);
    assert_eq!(found(&store, "zanzibar").await, ["t1"]);
    assert_eq!(found(&store, "quokka").await, ["t1"]);
    store.shutdown().await.expect("shutdown");
}

/// Traces and observations with metadata, one observation with resource attributes.
async fn write_metadata(store: &SqliteStore) {
    let entries = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let traces = vec![
        trace_at("m1", AT, "plain", |t| {
            t.metadata = entries(&[("Customer", "Zoë Müller"), ("tier", "gold plan")]);
        }),
        trace_at("m2", AT + 1, "plain", |_| {}),
    ];
    let observations = vec![observation("om", create_stamp(AT), |o| {
        o.trace_id = Some("m2".into());
        o.metadata = entries(&[
            ("tool", "weather LOOKUP"),
            ("resourceAttributes", r#"{"service.name":"hiddensvc"}"#),
        ]);
    })];
    write(store, traces, observations).await;
}

/// What every state of the index answers for [`write_metadata`].
async fn check_metadata(store: &SqliteStore) {
    assert_eq!(found(store, "zoe").await, ["m1"], "accents");
    assert_eq!(found(store, "MULLER customer").await, ["m1"], "case, keys");
    assert_eq!(found(store, "\"gold plan\"").await, ["m1"], "a phrase");
    assert_eq!(found(store, "plain gol").await, ["m1"], "a last prefix");
    assert_eq!(found(store, "weather look").await, ["m2"], "observations");
    assert_eq!(found(store, "plain").await, ["m1", "m2"]);
    assert!(found(store, "gol plan").await.is_empty(), "whole words");
    assert!(
        found(store, "hiddensvc").await.is_empty(),
        "resource attributes"
    );
    assert!(found(store, "zoe weather").await.is_empty(), "two traces");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_found_queued_indexed_and_after_an_older_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    write_metadata(&store).await;
    // Queued: scanned.
    check_metadata(&store).await;
    assert_eq!(store.index_search_now().await.expect("index"), 2);
    // Indexed.
    check_metadata(&store).await;
    store.shutdown().await.expect("shutdown");
    drop(store);

    // An index file of the format before metadata: its rows hold no metadata word. Emptied
    // here, which a search trusts while the file's format is current...
    let index = dir.path().join("spindle-search.db");
    let empty_index = |format: i64| {
        let connection = rusqlite::Connection::open(&index).expect("index file");
        connection
            .execute_batch(&format!(
                "DELETE FROM search_words; DELETE FROM search_docs;
                 PRAGMA user_version = {format};"
            ))
            .expect("empty the index");
    };
    empty_index(2);
    let store = open(dir.path());
    assert!(found(&store, "zoe").await.is_empty(), "an index is trusted");
    store.shutdown().await.expect("shutdown");
    drop(store);
    // ...but an older format is filled again from the traces: scanned meanwhile.
    empty_index(0);
    let store = open(dir.path());
    check_metadata(&store).await;
    assert_eq!(store.index_search_now().await.expect("index"), 2);
    check_metadata(&store).await;
    store.shutdown().await.expect("shutdown");
}

/// The nice value of each of this process's threads named `name` (as `/proc` shortens it to
/// 15 bytes).
#[cfg(target_os = "linux")]
fn nice_of_threads(name: &str) -> Vec<i64> {
    let short = &name[..name.len().min(15)];
    let mut nices = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("list the threads") {
        let path = task.expect("a thread").path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim_end() != short {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).expect("the thread's stat");
        // The fields after the parenthesised name: state is the first, nice the 17th.
        let fields: Vec<&str> = stat[stat.rfind(')').expect("a name") + 2..]
            .split(' ')
            .collect();
        nices.push(fields[16].parse().expect("a nice value"));
    }
    nices
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_background_indexer_runs_below_the_writer_s_priority() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = SqliteOptions {
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options).expect("open the sqlite store");
    // A spawned thread names itself once it first runs, so on a busy machine the writer's
    // name can show after the indexers' nice values do: wait for both.
    let (mut indexers, mut writers) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        indexers = nice_of_threads("spindle-search-index");
        writers = nice_of_threads("spindle-sqlite-writer");
        if !indexers.is_empty() && indexers.iter().all(|nice| *nice == 10) && !writers.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(!indexers.is_empty(), "no indexer thread found");
    assert!(
        indexers.iter().all(|nice| *nice == 10),
        "indexer threads' nice values: {indexers:?}"
    );
    let comm = std::fs::read_to_string("/proc/thread-self/comm").expect("the test's name");
    let own = nice_of_threads(comm.trim_end());
    assert!(!writers.is_empty(), "no writer thread found");
    assert!(
        writers.iter().all(|nice| own.contains(nice)),
        "writer threads' nice values {writers:?}, the test's {own:?}"
    );
    store.shutdown().await.expect("shut down");
}
