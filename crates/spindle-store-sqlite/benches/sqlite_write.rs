//! Write throughput of the SQLite store: 100,000 observations of about 3 KB, 10 per trace,
//! written in batches of 100 by several concurrent writers (as concurrent requests would).
//!
//! Run: `cargo bench -p spindle-store-sqlite --bench sqlite_write` (add `-- --normal` for
//! `synchronous = NORMAL`, `-- --spans N` to change the count).

use spindle_core::merge::Stamp;
use spindle_core::ObservationType;
use spindle_store::{ObservationRecord, Store, TraceRecord, WriteBatch};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;
use std::time::Instant;

const BATCH_SIZE: usize = 100;
const PER_TRACE: usize = 10;
const CONCURRENT_WRITERS: usize = 8;
const BASE: i64 = 1_767_225_600_000_000;

/// Pseudo-text of about `len` bytes: words of two or three syllables out of 40, about 60,000
/// distinct words in all, so a full-text index sees a realistic spread of terms.
fn text(seed: usize, len: usize) -> String {
    const SYLLABLES: [&str; 40] = [
        "ka", "lo", "mi", "ne", "tu", "ra", "si", "po", "ve", "da", "gu", "hi", "jo", "ze", "wa",
        "by", "ce", "fo", "xu", "qui", "sta", "pre", "ton", "mar", "lin", "dor", "sel", "vin",
        "bra", "glo", "tri", "ken", "sul", "mop", "rez", "fan", "tek", "nol", "gis", "pha",
    ];
    let mut out = String::with_capacity(len + 16);
    let mut state = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let syllables = 2 + (state % 2) as usize;
        for k in 0..syllables {
            out.push_str(SYLLABLES[((state >> (8 + 6 * k)) % 40) as usize]);
        }
        out.push(' ');
    }
    out
}

fn batch(first: usize) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for n in first..first + BATCH_SIZE {
        let trace_id = format!("{:032x}", n / PER_TRACE);
        let at = BASE + n as i64 * 1000;
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, n as u64);
        if n % PER_TRACE == 0 {
            let mut trace = TraceRecord::new(trace_id.clone());
            trace.timestamp = Some(at);
            trace.name = Some("bench-trace".into());
            trace.user_id = Some(format!("user-{}", n % 97));
            trace.session_id = Some(format!("session-{}", n % 1013));
            trace.environment = Some("default".into());
            trace.stamp_unstamped(stamp);
            batch.traces.push(trace);
        }
        let mut observation = ObservationRecord::new(format!("{n:016x}"));
        observation.trace_id = Some(trace_id);
        observation.start_time = Some(at);
        observation.end_time = Some(at + 5_000);
        observation.name = Some("llm-call".into());
        observation.environment = Some("default".into());
        observation.observation_type = Some(ObservationType::Generation);
        observation.model = Some("gpt-4o".into());
        observation.input = Some(text(n, 1200));
        observation.output = Some(text(n + 1, 1200));
        for key in 0..8 {
            observation
                .metadata
                .insert(format!("attribute.{key}"), text(n + key, 40));
        }
        observation.usage_details = Some(
            [("input".to_owned(), 120), ("output".to_owned(), 80)]
                .into_iter()
                .collect(),
        );
        observation.cost_details = Some([("total".to_owned(), 0.0012)].into_iter().collect());
        observation.stamp_unstamped(stamp);
        batch.observations.push(observation);
    }
    batch
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let normal = args.iter().any(|a| a == "--normal");
    let spans: usize = args
        .iter()
        .position(|a| a == "--spans")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = SqliteOptions {
        synchronous_full: !normal,
        ..SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open(dir.path(), options.clone()).expect("open"));
    let payload_bytes: usize = batch(0)
        .observations
        .iter()
        .map(|o| {
            o.input.as_ref().map_or(0, String::len)
                + o.output.as_ref().map_or(0, String::len)
                + o.metadata.values().map(String::len).sum::<usize>()
        })
        .sum::<usize>()
        / BATCH_SIZE;
    let batches: Vec<usize> = (0..spans / BATCH_SIZE).map(|b| b * BATCH_SIZE).collect();
    let queue = Arc::new(std::sync::Mutex::new(batches.into_iter()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_WRITERS {
        let store = Arc::clone(&store);
        let queue = Arc::clone(&queue);
        tasks.push(tokio::spawn(async move {
            let mut retries = 0u64;
            loop {
                let next = queue.lock().expect("queue").next();
                let Some(first) = next else { break };
                // Building the batch stands in for the server's parsing work.
                let records = batch(first);
                loop {
                    match store.write("bench", records.clone()).await {
                        Ok(()) => break,
                        Err(e) if e.kind == spindle_store::ErrorKind::Overloaded => {
                            retries += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        }
                        Err(e) => panic!("write failed: {e:?}"),
                    }
                }
            }
            retries
        }));
    }
    let mut retries = 0;
    for task in tasks {
        retries += task.await.expect("writer task");
    }
    let elapsed = started.elapsed();
    let page = store
        .list_observations("bench", &spindle_store::ObservationQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total_items as usize, spans / BATCH_SIZE * BATCH_SIZE);
    store.shutdown().await.expect("shutdown");
    let db_bytes = std::fs::metadata(store.path())
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "sqlite write: {} spans (~{} B payload each, {} per trace, batches of {}, {} writers, synchronous={}) in {:.2} s = {:.0} spans/s; {} overload retries; db {} MB",
        spans,
        payload_bytes,
        PER_TRACE,
        BATCH_SIZE,
        CONCURRENT_WRITERS,
        if normal { "NORMAL" } else { "FULL" },
        elapsed.as_secs_f64(),
        spans as f64 / elapsed.as_secs_f64(),
        retries,
        db_bytes / 1_000_000
    );
}
