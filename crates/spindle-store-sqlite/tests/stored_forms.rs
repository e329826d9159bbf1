//! The forms SQLite keeps records in: long inputs and outputs packed as zstd frames when
//! `compress_payloads` is on (the default), with the database's trained dictionary once it
//! has one, and text when off (each read either way), the
//! resource and scope metadata of observations in `resources`, compact stamps; and rows
//! written before those forms (text payloads, inline metadata, JSON stamps) read and merge
//! as before.

use spindle_core::merge::Stamp;
use spindle_core::{ObservationRecord, WriteBatch};
use spindle_store::conformance::fixtures::{create_stamp, observation, update_stamp, BASE};
use spindle_store::Store;
use spindle_store_sqlite::{SqliteOptions, SqliteStore, DATABASE_FILE};
use std::path::Path;

const PROJECT: &str = "project";

fn span(id: &str) -> ObservationRecord {
    observation(id, create_stamp(BASE), |o| {
        o.trace_id = Some("trace".into());
        o.start_time = Some(BASE);
        o.name = Some("generation".into());
        o.input = Some(format!("\"{}\"", "tell me about the sea ".repeat(30)));
        o.output = Some(format!("\"{}\"", "waves and salt and wind ".repeat(30)));
        o.metadata.insert(
            "resourceAttributes".into(),
            r#"{"service.name":"app"}"#.into(),
        );
        o.metadata.insert(
            "scope".into(),
            r#"{"name":"langfuse-sdk","version":"5"}"#.into(),
        );
        o.metadata.insert("request_id".into(), format!("r-{id}"));
    })
}

fn batch(observations: Vec<ObservationRecord>) -> WriteBatch {
    WriteBatch {
        observations,
        ..WriteBatch::default()
    }
}

/// Options with payload compression `on` or off.
fn compressing(on: bool) -> SqliteOptions {
    SqliteOptions {
        compress_payloads: on,
        ..SqliteOptions::default()
    }
}

/// The rows `sql` selects from `dir`'s database, each read by `read_row`.
fn select<T>(
    dir: &Path,
    sql: &str,
    read_row: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
) -> Vec<T> {
    let connection = rusqlite::Connection::open(dir.join(DATABASE_FILE)).expect("open");
    let mut statement = connection.prepare(sql).expect("prepare");
    statement
        .query_map([], read_row)
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

/// `typeof(input)` and `typeof(output)` of each observation in `dir`'s database, by id.
fn payload_types(dir: &Path) -> Vec<(String, String)> {
    select(
        dir,
        "SELECT typeof(input), typeof(output) FROM observations ORDER BY id",
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

/// Writes `records` into a store on `dir` opened with `options`, then shuts it down.
async fn write_and_close(dir: &Path, options: SqliteOptions, records: Vec<ObservationRecord>) {
    let store = SqliteStore::open(dir, options).expect("open");
    store.write(PROJECT, batch(records)).await.expect("write");
    store.shutdown().await.expect("shutdown");
}

async fn read(store: &SqliteStore, id: &str) -> ObservationRecord {
    let mut record = store
        .get_observation(PROJECT, id)
        .await
        .expect("get_observation")
        .expect("the observation exists")
        .record;
    record.derived = Default::default();
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_rows_are_packed_and_share_their_resource() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path(), compressing(true)).expect("open");
    let spans: Vec<ObservationRecord> = (0..3).map(|n| span(&format!("o{n}"))).collect();
    store
        .write(PROJECT, batch(spans.clone()))
        .await
        .expect("write");
    store
        .write(PROJECT, batch(vec![span("o3")]))
        .await
        .expect("write");
    for record in &spans {
        assert_eq!(&read(&store, &record.id).await, record);
    }
    store.shutdown().await.expect("shutdown");
    drop(store);

    let forms: Vec<(String, String, String, String)> = select(
        dir.path(),
        "SELECT typeof(input), typeof(output), metadata, stamps FROM observations ORDER BY id",
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    );
    assert_eq!(forms.len(), 4);
    for (input, output, metadata, stamps) in &forms {
        assert_eq!((input.as_str(), output.as_str()), ("blob", "blob"));
        assert!(metadata.starts_with(r#"{"request_id":"#), "{metadata}");
        assert!(stamps.starts_with('~'), "{stamps}");
    }
    let resources: Vec<i64> = select(dir.path(), "SELECT count(*) FROM resources", |row| {
        row.get(0)
    });
    assert_eq!(resources, [1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_the_earlier_forms_read_and_merge() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let record = span("old");
    write_and_close(dir.path(), compressing(true), vec![record.clone()]).await;

    // Rewritten as rows were before: text payloads, inline metadata, JSON stamps.
    let stamp = create_stamp(BASE);
    let stamp_json = |stamp: Stamp| {
        format!(
            "[{},{},{},{}",
            stamp.priority, stamp.at, stamp.rank, stamp.tiebreak
        )
    };
    let fields: Vec<String> = record
        .stamps
        .keys()
        .map(|field| serde_json::to_string(field).expect("json"))
        .collect();
    let stamps = format!("[{},{}]]", stamp_json(stamp), fields.join(","));
    let metadata = serde_json::to_string(&record.metadata).expect("json");
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open");
    let changed = connection
        .execute(
            "UPDATE observations SET input = ?1, output = ?2, metadata = ?3, stamps = ?4, \
             resource_id = NULL",
            rusqlite::params![record.input, record.output, metadata, stamps],
        )
        .expect("rewrite");
    assert_eq!(changed, 1);
    connection
        .execute("DELETE FROM resources", [])
        .expect("forget resources");
    drop(connection);

    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).expect("open");
    assert_eq!(read(&store, "old").await, record);
    let update = || {
        observation("old", update_stamp(BASE + 1), |o| {
            o.output = Some("\"calm\"".into());
            o.metadata.insert("extra".into(), "1".into());
        })
    };
    store
        .write(PROJECT, batch(vec![update()]))
        .await
        .expect("merge");
    let merged = read(&store, "old").await;
    let mut expected = record.clone();
    expected.merge(update());
    assert_eq!(merged, expected);
    assert_eq!(merged.metadata.len(), 4);
    store.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_off_writes_text_and_reads_packed_rows() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let packed = span("packed");
    write_and_close(dir.path(), compressing(true), vec![packed.clone()]).await;
    let blob = ("blob".to_owned(), "blob".to_owned());
    assert_eq!(payload_types(dir.path()), vec![blob.clone()]);

    // The same database with compression off: new payloads are text, packed ones still read
    // and merge (a merged row is written back as text).
    let store = SqliteStore::open(dir.path(), compressing(false)).expect("reopen");
    let text = span("text");
    store
        .write(PROJECT, batch(vec![text.clone()]))
        .await
        .expect("write");
    assert_eq!(read(&store, "packed").await, packed);
    assert_eq!(read(&store, "text").await, text);
    store.shutdown().await.expect("shutdown");
    drop(store);
    let text_types = ("text".to_owned(), "text".to_owned());
    assert_eq!(payload_types(dir.path()), vec![blob, text_types]);
}

/// A span whose input and output are prose of `seed`, like the chat messages of the
/// benchmark: words of a small vocabulary.
fn chatty(seed: u64) -> ObservationRecord {
    const WORDS: [&str; 16] = [
        "invoice",
        "customer",
        "refund",
        "the",
        "account",
        "password",
        "order",
        "delivery",
        "within",
        "days",
        "support",
        "answer",
        "context",
        "model",
        "retrieved",
        "plan",
    ];
    let mut rng = spindle_core::rng::Rng::new(seed);
    let mut prose = |words: usize| -> String {
        (0..words)
            .map(|_| rng.pick(&WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let input = format!(r#"[{{"role": "user", "content": "{}"}}]"#, prose(120));
    let output = format!(r#"{{"role": "assistant", "content": "{}"}}"#, prose(80));
    observation(&format!("c{seed:05}"), create_stamp(BASE), |o| {
        o.trace_id = Some(format!("t{}", seed / 10));
        o.start_time = Some(BASE);
        o.input = Some(input);
        o.output = Some(output);
    })
}

/// Dictionary ids of the frames of `column` in the observations, by id (0: none).
fn frame_dictionaries(dir: &Path) -> Vec<u32> {
    select(dir, "SELECT input FROM observations ORDER BY id", |row| {
        row.get::<_, Vec<u8>>(0)
    })
    .iter()
    .map(|frame| zstd::zstd_safe::get_dict_id_from_frame(frame).map_or(0, |id| id.get()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dictionary_is_trained_saved_and_read_after_compression_is_off() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).expect("open");
    let mut written = Vec::new();
    let dictionaries = |dir: &Path| -> Vec<i64> {
        select(dir, "SELECT id FROM payload_dictionaries", |row| row.get(0))
    };
    // Until the first dictionary is trained (from the first 1,000 payloads, on a thread of
    // its own) and payloads packed with it are committed.
    let mut seed = 0;
    let mut rounds = 0;
    while frame_dictionaries(dir.path()).iter().all(|id| *id == 0) {
        rounds += 1;
        assert!(rounds < 200, "no payload packed with a dictionary");
        let spans: Vec<ObservationRecord> = (seed..seed + 100).map(chatty).collect();
        seed += 100;
        written.extend(spans.iter().cloned());
        store.write(PROJECT, batch(spans)).await.expect("write");
        if seed >= 1000 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let saved = dictionaries(dir.path());
    assert_eq!(saved.len(), 1, "one dictionary: {saved:?}");
    let frames = frame_dictionaries(dir.path());
    assert!(
        frames.contains(&0),
        "the first payloads are packed without one"
    );
    assert!(frames
        .iter()
        .all(|id| *id == 0 || i64::from(*id) == saved[0]));
    store.shutdown().await.expect("shutdown");
    drop(store);

    // Compression off: every packed row reads back as written; no other dictionary appears.
    let store = SqliteStore::open(dir.path(), compressing(false)).expect("reopen");
    for expected in &written {
        assert_eq!(&read(&store, &expected.id).await, expected);
    }
    store.shutdown().await.expect("shutdown");
    drop(store);
    assert_eq!(dictionaries(dir.path()), saved);
}
