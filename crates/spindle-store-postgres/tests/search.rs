//! PostgreSQL's word search (`trace_search`): words of separate writes match together,
//! migration 0009 moves the words of a database written before it (a `search` column per
//! trace and observation) into `trace_search`, so search keeps finding them, and the
//! projects migration 0030 lists get the words of their stored metadata at start-up.

mod support;

use spindle_core::merge::Stamp;
use spindle_core::{ObservationRecord, TraceRecord};
use spindle_store::conformance::fixtures::{
    batch_of_observations, batch_of_traces, create_stamp, trace, CommonWordTraces,
};
use spindle_store::{Store, TraceQuery};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_words_written_before_0009_are_still_found() {
    let key = tempfile::tempdir().expect("schema key");
    let (client, connection) =
        support::schema_migrated_to(key.path(), support::migrations_before(9)).await;
    // Rows as the writer stored them before: the words in each row's `search` column.
    client
        .batch_execute(
            "INSERT INTO traces (project_id, id, timestamp, created_at, updated_at, input, search)
                 VALUES ('p', 't1', 1, 1, 1, 'Walrus', array_to_tsvector('{walrus}')),
                        ('p', 't2', 2, 2, 2, NULL, NULL);
             INSERT INTO observations (project_id, id, trace_id, created_at, updated_at, output,
                                       search)
                 VALUES ('p', 'o1', 't2', 2, 2, 'narwhal tusk',
                         array_to_tsvector('{narwhal,tusk}'))",
        )
        .await
        .expect("old rows");
    drop(client);
    let _ = connection.await;

    let store = support::open_in(key.path(), None).await;
    for (text, expected) in [("walrus", "t1"), ("narwhal", "t2"), ("TUSK", "t2")] {
        let page = store.list_traces("p", &search(text)).await.expect("search");
        let ids: Vec<&str> = page.items.iter().map(|t| t.record.id.as_str()).collect();
        assert_eq!(ids, [expected], "search {text:?}");
    }
    assert!(store
        .list_traces("p", &search("dolphin"))
        .await
        .expect("search")
        .items
        .is_empty());
}

fn search(text: &str) -> TraceQuery {
    TraceQuery {
        search: Some(text.into()),
        ..TraceQuery::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_word_may_come_from_another_record_and_write() {
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    let stamp = Stamp::explicit(1_790_000_000_000_000, Stamp::RANK_CREATE, 1);
    let mut trace = TraceRecord::new("t1");
    trace.timestamp = Some(1);
    trace.input = Some("Where is my refund?".into());
    trace.stamp_unstamped(stamp);
    let mut other = TraceRecord::new("t2");
    other.timestamp = Some(2);
    other.input = Some("refund".into());
    other.stamp_unstamped(stamp);
    store
        .write("p", batch_of_traces(vec![trace, other]))
        .await
        .expect("traces");
    let mut observation = ObservationRecord::new("o1");
    observation.trace_id = Some("t1".into());
    observation.output = Some("The policy allows thirty days.".into());
    observation.stamp_unstamped(stamp);
    store
        .write("p", batch_of_observations(vec![observation]))
        .await
        .expect("observation");
    for (text, expected) in [
        ("refund policy", vec!["t1"]),
        ("polic refund", vec![]),
        ("refund", vec!["t2", "t1"]),
        ("thirty refund polic", vec!["t1"]),
    ] {
        let page = store.list_traces("p", &search(text)).await.expect("search");
        let ids: Vec<&str> = page.items.iter().map(|t| t.record.id.as_str()).collect();
        assert_eq!(ids, expected, "search {text:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_stored_before_0030_is_indexed_at_start_up() {
    let key = tempfile::tempdir().expect("schema key");
    let stamp = Stamp::explicit(1_790_000_000_000_000, Stamp::RANK_CREATE, 1);
    {
        let store = support::open_in(key.path(), None).await;
        let mut traces = Vec::new();
        for index in 0..2_100 {
            let mut trace = TraceRecord::new(format!("t{index:04}"));
            trace.timestamp = Some(index);
            trace.input = Some("walrus".into());
            trace
                .metadata
                .insert("serial".into(), format!("number{index}"));
            trace.stamp_unstamped(stamp);
            traces.push(trace);
        }
        store
            .write("p", batch_of_traces(traces))
            .await
            .expect("traces");
        let mut observation = ObservationRecord::new("o1");
        observation.trace_id = Some("t0007".into());
        observation
            .metadata
            .insert("Flavour".into(), "Crème brûlée".into());
        observation.metadata.insert(
            "resourceAttributes".into(),
            r#"{"service.name":"hiddensvc"}"#.into(),
        );
        observation.stamp_unstamped(stamp);
        store
            .write("p", batch_of_observations(vec![observation]))
            .await
            .expect("observation");
        assert_eq!(ids(&store, "creme flav").await, ["t0007"], "written now");
    }
    // As a database written before metadata was searched: its words hold no metadata, and
    // migration 0030 listed its project.
    let (client, connection) = support::client_in(key.path()).await;
    client
        .batch_execute(
            "DELETE FROM trace_search;
             INSERT INTO trace_search (project_id, trace_id, words)
                 SELECT project_id, id, to_tsvector('simple', input) FROM traces;",
        )
        .await
        .expect("words without metadata");
    {
        let store = support::open_in(key.path(), None).await;
        assert!(
            ids(&store, "creme").await.is_empty(),
            "metadata not indexed"
        );
        assert!(
            !ids(&store, "walrus").await.is_empty(),
            "other words still found"
        );
    }
    client
        .batch_execute("INSERT INTO search_metadata_pending (project_id) VALUES ('p')")
        .await
        .expect("pending project");
    let store = support::open_in(key.path(), None).await;
    assert_eq!(ids(&store, "creme flav").await, ["t0007"]);
    assert_eq!(ids(&store, "BRÛLÉE walrus").await, ["t0007"]);
    assert_eq!(
        ids(&store, "number2099").await,
        ["t2099"],
        "past the first page"
    );
    assert_eq!(ids(&store, "serial number1234").await, ["t1234"]);
    assert!(
        ids(&store, "hiddensvc").await.is_empty(),
        "resource attributes"
    );
    let pending: i64 = client
        .query_one("SELECT count(*) FROM search_metadata_pending", &[])
        .await
        .expect("pending")
        .get(0);
    assert_eq!(pending, 0, "the project's row goes");
    drop(client);
    let _ = connection.await;
}

async fn ids(store: &impl Store, text: &str) -> Vec<String> {
    let page = store.list_traces("p", &search(text)).await.expect("search");
    assert!(!page.total_is_estimate);
    page.items.into_iter().map(|t| t.record.id).collect()
}

/// A word that the statistics count in most of `trace_search` walks the list newest first
/// and probes each trace's words, answering the statistics' estimate as the total of a search
/// alone (a last word as a prefix too); with another filter, or in a project with few traces, matches are gathered and
/// counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_words_walk_the_list_and_probe_each_trace() {
    const TRACES: i64 = 2_400;
    const AT: i64 = 1_767_225_600_000_000;
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    let common = CommonWordTraces::new(TRACES, AT);
    store
        .write("p", batch_of_traces(common.traces.clone()))
        .await
        .expect("write");
    let few = (0..3)
        .map(|i| {
            trace(&format!("q{i}"), create_stamp(AT + i), |t| {
                t.timestamp = Some(AT + i);
                t.input = Some("common".into());
            })
        })
        .collect();
    store.write("q", batch_of_traces(few)).await.expect("write");
    let (client, connection) = support::client_in(key.path()).await;
    client
        .batch_execute("ANALYZE trace_search")
        .await
        .expect("analyze");
    drop(client);
    let _ = connection.await;
    // A newer trace, written after the statistics.
    store
        .write("p", batch_of_traces(vec![common.late.clone()]))
        .await
        .expect("write");
    let list = CommonWordTraces::query;
    for (search, page) in [("common", 1), ("common", 2), ("common comm", 1)] {
        let found = store
            .list_traces("p", &list(search, None, page))
            .await
            .expect("search");
        let ids: Vec<&str> = found.items.iter().map(|t| t.record.id.as_str()).collect();
        let start = (page as usize - 1) * 50;
        assert_eq!(
            ids,
            common.newest[start..start + 50],
            "{search:?} page {page}, newest first"
        );
        // The analyzed rows holding the word (every trace's single row).
        assert!(
            (TRACES as u64 - 24..=TRACES as u64 + 1).contains(&found.total_items),
            "estimated total {}",
            found.total_items
        );
        assert!(found.total_is_estimate, "marked as an estimate");
    }
    // With another filter the total is counted.
    common.assert_counted_with_a_user(&store, "p").await;
    // Words the statistics do not count as frequent are gathered and counted.
    let found = store
        .list_traces("p", &list("word123", None, 1))
        .await
        .expect("search");
    assert_eq!(found.total_items, 11, "word123 and word1230 to word1239");
    assert!(!found.total_is_estimate, "counted");
    // A frequent word in a project with few traces: gathered and counted.
    let found = store
        .list_traces("q", &list("common", None, 1))
        .await
        .expect("search");
    assert_eq!(found.total_items, 3);
    assert!(!found.total_is_estimate, "counted");
}
