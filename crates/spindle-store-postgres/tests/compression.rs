//! Large values written by the store are compressed with LZ4 (migration 0008) where the
//! PostgreSQL server supports it, and read back unchanged.

mod support;

use spindle_core::merge::Stamp;
use spindle_core::{ObservationRecord, ObservationType, TraceRecord, WriteBatch};
use spindle_store::Store;

const AT: i64 = 1_790_000_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_inputs_are_stored_with_lz4() {
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    let (client, connection) = support::client_in(key.path()).await;

    let stamp = Stamp::explicit(AT, Stamp::RANK_CREATE, 1);
    let text = "the refund window is thirty days from delivery; ".repeat(200);
    let mut trace = TraceRecord::new("t1");
    trace.timestamp = Some(AT);
    trace.input = Some(text.clone());
    trace.stamp_unstamped(stamp);
    let mut observation = ObservationRecord::new("o1");
    observation.trace_id = Some("t1".into());
    observation.start_time = Some(AT);
    observation.observation_type = Some(ObservationType::Generation);
    observation.output = Some(text.clone());
    observation.stamp_unstamped(stamp);
    store
        .write(
            "p",
            WriteBatch {
                traces: vec![trace],
                observations: vec![observation],
                scores: Vec::new(),
                run_items: Vec::new(),
                completions: Vec::new(),
            },
        )
        .await
        .expect("write");

    let lz4_available = client
        .query_one(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname = 'observations' AND a.attname = 'output' \
             AND c.relnamespace = current_schema()::regnamespace AND a.attcompression = 'l'",
            &[],
        )
        .await
        .expect("column settings")
        .get::<_, i64>(0)
        == 1;
    let server_has_lz4 = client
        .batch_execute("CREATE TEMP TABLE lz4_probe (t text COMPRESSION lz4)")
        .await
        .is_ok();
    assert_eq!(
        lz4_available, server_has_lz4,
        "the migration sets LZ4 exactly when the server supports it"
    );
    if server_has_lz4 {
        for (table, column) in [("traces", "input"), ("observations", "output")] {
            let method: Option<String> = client
                .query_one(
                    &format!("SELECT pg_column_compression({column}) FROM {table}"),
                    &[],
                )
                .await
                .expect("compression of the stored value")
                .get(0);
            assert_eq!(method.as_deref(), Some("lz4"), "{table}.{column}");
        }
    }
    let stored = store
        .get_observation("p", "o1")
        .await
        .expect("read")
        .expect("observation");
    assert_eq!(stored.record.output.as_deref(), Some(text.as_str()));
    drop(client);
    connection.await.ok();
}
