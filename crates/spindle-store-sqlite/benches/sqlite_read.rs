//! Read latency of the SQLite store: "newest 50 traces" (and a few other list queries) with
//! one million traces stored, each with two observations and every tenth with a score.
//!
//! Run: `cargo bench -p spindle-store-sqlite --bench sqlite_read` (`-- --traces N` to change the
//! count, `-- --dir PATH` to keep and reuse the database between runs).

use spindle_core::merge::Stamp;
use spindle_store::{
    ObservationQuery, ObservationRecord, ScoreRecord, Store, TraceQuery, TraceRecord, WriteBatch,
};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BASE: i64 = 1_767_225_600_000_000;
const PROJECT: &str = "bench";
const TRACES_PER_BATCH: usize = 1000;

fn batch(first: usize, count: usize) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for n in first..first + count {
        let at = BASE + n as i64 * 1_000;
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, n as u64);
        let trace_id = format!("{n:032x}");
        let mut trace = TraceRecord::new(trace_id.clone());
        trace.timestamp = Some(at);
        trace.name = Some(format!("route-{}", n % 20));
        trace.user_id = Some(format!("user-{}", n % 5000));
        trace.session_id = Some(format!("session-{}", n / 7));
        trace.environment = Some("default".into());
        trace.tags.insert(format!("tag-{}", n % 10));
        trace.input = Some(format!("{{\"question\":\"what is {n}?\"}}"));
        trace.output = Some(format!("{{\"answer\":{n}}}"));
        trace.metadata.insert("region".into(), "eu".into());
        trace.stamp_unstamped(stamp);
        batch.traces.push(trace);
        for child in 0..2 {
            let mut observation = ObservationRecord::new(format!("{n:030x}{child:02}"));
            observation.trace_id = Some(trace_id.clone());
            observation.start_time = Some(at + child * 10_000);
            observation.end_time = Some(at + child * 10_000 + 250_000);
            observation.name = Some("step".into());
            observation.cost_details = Some([("total".to_owned(), 0.001)].into_iter().collect());
            observation.input = Some("short input".into());
            observation.stamp_unstamped(stamp);
            batch.observations.push(observation);
        }
        if n % 10 == 0 {
            let mut score = ScoreRecord::new(format!("score-{n}"));
            score.trace_id = Some(trace_id);
            score.timestamp = Some(at);
            score.name = Some("quality".into());
            score.value = Some(1.0);
            score.stamp_unstamped(stamp);
            batch.scores.push(score);
        }
    }
    batch
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index.min(samples.len() - 1)]
}

async fn measure(store: &SqliteStore, label: &str, query: &TraceQuery, runs: usize) {
    let mut samples = Vec::with_capacity(runs);
    let mut items = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let page = store.list_traces(PROJECT, query).await.expect("list");
        samples.push(started.elapsed());
        items = page.items.len();
    }
    println!(
        "{label}: {items} items, p50 {:.2} ms, p95 {:.2} ms over {runs} runs",
        percentile(&mut samples, 0.5).as_secs_f64() * 1e3,
        percentile(&mut samples, 0.95).as_secs_f64() * 1e3,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let traces: usize = value("--traces")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let temporary = tempfile::tempdir().expect("temporary directory");
    let dir = value("--dir")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temporary.path().to_path_buf());
    let options = SqliteOptions {
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open(&dir, options).expect("open"));
    let stored = store
        .list_traces(PROJECT, &TraceQuery::default())
        .await
        .expect("count")
        .total_items as usize;
    if stored < traces {
        let started = Instant::now();
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(stored));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let store = Arc::clone(&store);
            let next = Arc::clone(&next);
            tasks.push(tokio::spawn(async move {
                loop {
                    let first =
                        next.fetch_add(TRACES_PER_BATCH, std::sync::atomic::Ordering::SeqCst);
                    if first >= traces {
                        break;
                    }
                    let count = TRACES_PER_BATCH.min(traces - first);
                    let records = batch(first, count);
                    while let Err(e) = store.write(PROJECT, records.clone()).await {
                        assert_eq!(e.kind, spindle_store::ErrorKind::Overloaded, "{e:?}");
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.expect("loader");
        }
        println!(
            "loaded {} traces ({} observations) in {:.1} s",
            traces - stored,
            2 * (traces - stored),
            started.elapsed().as_secs_f64()
        );
    }
    let newest = TraceQuery::with_limit(50);
    measure(&store, "newest 50 traces", &newest, 200).await;
    measure(
        &store,
        "page 100 of 50",
        &TraceQuery {
            page: 100,
            ..newest.clone()
        },
        50,
    )
    .await;
    measure(
        &store,
        "user filter, 50",
        &TraceQuery {
            user_id: Some("user-42".into()),
            ..newest.clone()
        },
        50,
    )
    .await;
    measure(
        &store,
        "tag + environment, 50",
        &TraceQuery {
            tags: vec!["tag-3".into()],
            environments: vec!["default".into()],
            ..newest.clone()
        },
        20,
    )
    .await;
    let mut samples = Vec::new();
    for n in 0..100usize {
        let id = format!("{:032x}", n * 9973 % traces.max(1));
        let started = Instant::now();
        store
            .get_trace(PROJECT, &id)
            .await
            .expect("get")
            .expect("exists");
        samples.push(started.elapsed());
    }
    println!(
        "get_trace: p50 {:.2} ms",
        percentile(&mut samples, 0.5).as_secs_f64() * 1e3
    );
    let mut samples = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        store
            .list_observations(PROJECT, &ObservationQuery::with_limit(50))
            .await
            .expect("observations");
        samples.push(started.elapsed());
    }
    println!(
        "newest 50 observations (with total count): p50 {:.2} ms",
        percentile(&mut samples, 0.5).as_secs_f64() * 1e3
    );
    store.shutdown().await.expect("shutdown");
}
