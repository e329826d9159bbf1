//! Text PostgreSQL cannot hold: NUL characters (JSON `\u0000`) anywhere in a record are
//! stored as U+FFFD instead of failing the write; everything else of the record is kept.

mod support;

use spindle_core::merge::Stamp;
use spindle_core::TraceRecord;
use spindle_store::conformance::fixtures::batch_of_traces;
use spindle_store::{Catalog, Organization, Project, Store, TraceQuery};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_do_not_fail_a_write() {
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    store
        .upsert_project(&Project {
            id: "p".into(),
            name: "p".into(),
            organization: Organization {
                id: "o".into(),
                name: "o".into(),
            },
            retention_days: None,
            created_at: 0,
        })
        .await
        .expect("project");
    let mut trace = TraceRecord::new("t1");
    trace.timestamp = Some(1);
    trace.name = Some("a\0b".into());
    trace.input = Some("{\"text\": \"nul \\u0000 here\0\"}".into());
    trace.tags.insert("tag\0".into());
    trace.metadata.insert("k\0".into(), "v\0".into());
    trace.stamp_unstamped(Stamp::explicit(1, 0, 1));
    store
        .write("p", batch_of_traces(vec![trace]))
        .await
        .expect("write with NUL characters");
    let stored = store
        .get_trace("p", "t1")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.record.name.as_deref(), Some("a\u{FFFD}b"));
    assert_eq!(
        stored.record.input.as_deref(),
        Some("{\"text\": \"nul \\u0000 here\u{FFFD}\"}")
    );
    assert!(stored.record.tags.contains("tag\u{FFFD}"));
    assert_eq!(
        stored.record.metadata.get("k\u{FFFD}").map(String::as_str),
        Some("v\u{FFFD}")
    );
    // A NUL in a query is an invalid argument, not a server error.
    let error = store
        .list_traces(
            "p",
            &TraceQuery {
                name: Some("a\0".into()),
                ..TraceQuery::default()
            },
        )
        .await
        .expect_err("NUL in a filter");
    assert_eq!(
        error.kind,
        spindle_store::ErrorKind::InvalidArgument,
        "{error:?}"
    );
}
