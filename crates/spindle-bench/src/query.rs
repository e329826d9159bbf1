//! The query benchmark: a data directory seeded with many traces straight through
//! `SqliteStore` (cached between runs), then read-API latencies against the server on it.

use crate::generate::{prose, Rng};
use crate::http::{encode_query_value, Connection};
use crate::ingest::total_items;
use crate::report::{self, met, millis, percentile};
use crate::server::{self, Server, PROJECT_ID};
use anyhow::{bail, Context};
use spindle_core::merge::Stamp;
use spindle_core::ObservationType;
use spindle_store::sqlite::{SqliteOptions, SqliteStore};
use spindle_store::{ObservationRecord, Organization, Project, Store, TraceRecord, WriteBatch};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bumped whenever the seeded data changes, so stale caches are not reused.
const SEED_FORMAT: u32 = 1;
/// Marks a completely seeded directory.
const COMPLETE_MARKER: &str = "seeded.complete";
const USERS: u64 = 50;
const TAGS: &[&str] = &[
    "production",
    "beta",
    "support",
    "sales",
    "eval",
    "mobile",
    "web",
];
const TENANTS: &[&str] = &["acme", "globex", "initech", "umbrella"];
/// 2026-11-01T00:00:00Z in microseconds; traces are spread over the 30 days before it.
const END_MICROS: i64 = 1_793_491_200_000_000;
const SPREAD_MICROS: u64 = 30 * 24 * 3600 * 1_000_000;

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The `spindle` server binary to benchmark.
    #[arg(long)]
    pub server_bin: PathBuf,
    /// Traces in the seeded database.
    #[arg(long, default_value_t = 1_000_000)]
    pub traces: usize,
    /// Observations per trace.
    #[arg(long, default_value_t = 1)]
    pub observations_per_trace: usize,
    /// Timed requests per query.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Stop timing a query after this many seconds (with at least 5 timed requests), so that
    /// slow queries do not stall the run; the report gives how many requests were timed.
    #[arg(long, default_value_t = 30)]
    pub max_seconds_per_query: u64,
    /// Traces per seeding write batch.
    #[arg(long, default_value_t = 5_000)]
    pub seed_batch: usize,
    /// Where seeded data directories are kept between runs.
    #[arg(long, default_value = "/work/bench-cache")]
    pub cache_dir: PathBuf,
    /// Seed again even when a cached directory exists.
    #[arg(long)]
    pub reseed: bool,
}

fn trace_id(index: usize) -> String {
    let mut rng = Rng::new(index as u64 ^ 0x5EED_0000_0000_0000);
    format!("{:016x}{:016x}", rng.next_u64(), index as u64)
}

fn user_id(index: u64) -> String {
    format!("user-{index:02}")
}

fn seed_batch(first: usize, count: usize, observations_per_trace: usize) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for index in first..first + count {
        let mut rng = Rng::new(index as u64);
        let at = END_MICROS - rng.below(SPREAD_MICROS) as i64;
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, index as u64);
        let id = trace_id(index);
        let mut trace = TraceRecord::new(id.clone());
        trace.timestamp = Some(at);
        trace.environment = Some("default".to_owned());
        trace.name = Some(
            rng.pick(&["support-chat", "rag-answer", "order-agent"])
                .to_owned(),
        );
        trace.user_id = Some(user_id(rng.below(USERS)));
        trace.session_id = Some(format!("session-{:06}", index / 4));
        trace.release = Some("rel-2.14.0".to_owned());
        trace.tags.insert(rng.pick(TAGS).to_owned());
        trace.tags.insert(rng.pick(TAGS).to_owned());
        trace
            .metadata
            .insert("tenant".to_owned(), format!("\"{}\"", rng.pick(TENANTS)));
        trace
            .metadata
            .insert("app_version".to_owned(), "\"2.14.0\"".to_owned());
        trace.input = Some(format!(
            "{{\"question\": {}}}",
            serde_json::Value::String(prose(&mut rng, 160))
        ));
        trace.output = Some(serde_json::Value::String(prose(&mut rng, 240)).to_string());
        trace.stamp_unstamped(stamp);
        for position in 0..observations_per_trace {
            let mut observation = ObservationRecord::new(format!("{:016x}", rng.next_u64()));
            let start = at + position as i64 * 2_000;
            observation.trace_id = Some(id.clone());
            observation.start_time = Some(start);
            observation.end_time = Some(start + 1_500_000);
            observation.environment = Some("default".to_owned());
            observation.observation_type = Some(ObservationType::Generation);
            observation.name = Some("llm-call".to_owned());
            observation.model = Some(rng.pick(&["gpt-4o", "gpt-4o-mini"]).to_owned());
            let input_tokens = 200 + rng.below(800) as i64;
            let output_tokens = 50 + rng.below(300) as i64;
            observation.usage_details = Some(
                [
                    ("input".to_owned(), input_tokens),
                    ("output".to_owned(), output_tokens),
                    ("total".to_owned(), input_tokens + output_tokens),
                ]
                .into_iter()
                .collect(),
            );
            observation.cost_details = Some(
                [("total".to_owned(), input_tokens as f64 * 2.5e-6)]
                    .into_iter()
                    .collect(),
            );
            observation.input = Some(format!(
                "[{{\"role\": \"user\", \"content\": {}}}]",
                serde_json::Value::String(prose(&mut rng, 300))
            ));
            observation.output = Some(format!(
                "{{\"role\": \"assistant\", \"content\": {}}}",
                serde_json::Value::String(prose(&mut rng, 300))
            ));
            observation
                .metadata
                .insert("region".to_owned(), "\"eu-west-1\"".to_owned());
            observation.stamp_unstamped(stamp);
            batch.observations.push(observation);
        }
        batch.traces.push(trace);
    }
    batch
}

/// Seeds `dir` (removing any partial attempt) and marks it complete.
async fn seed(args: &QueryArgs, dir: &Path) -> anyhow::Result<Duration> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let store = Arc::new(SqliteStore::open(
        dir,
        SqliteOptions {
            synchronous_full: false,
            ..SqliteOptions::default()
        },
    )?);
    let organization = Organization {
        id: "default-org".to_owned(),
        name: "Default Organization".to_owned(),
    };
    store.upsert_organization(&organization).await?;
    store
        .upsert_project(&Project {
            id: PROJECT_ID.to_owned(),
            name: PROJECT_ID.to_owned(),
            organization,
            retention_days: None,
            created_at: END_MICROS,
        })
        .await?;
    // Generate the next batch while the writer thread commits the previous one.
    let mut in_flight: Option<tokio::task::JoinHandle<spindle_store::Result<()>>> = None;
    let mut first = 0;
    let mut last_report = Instant::now();
    while first < args.traces {
        let count = args.seed_batch.max(1).min(args.traces - first);
        let batch = seed_batch(first, count, args.observations_per_trace);
        if let Some(previous) = in_flight.take() {
            previous.await??;
        }
        let writer = store.clone();
        in_flight = Some(tokio::spawn(async move {
            writer.write(PROJECT_ID, batch).await
        }));
        first += count;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "seeded {first}/{} traces in {:.0} s",
                args.traces,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Some(previous) = in_flight.take() {
        previous.await??;
    }
    store.shutdown().await?;
    std::fs::write(dir.join(COMPLETE_MARKER), format!("{}\n", args.traces))?;
    Ok(started.elapsed())
}

/// One measured query: its label, the request path and the latencies.
struct Measured {
    label: String,
    first: Duration,
    latencies: Vec<Duration>,
}

async fn measure(
    connection: &mut Connection,
    label: &str,
    paths: &[String],
    requests: usize,
    budget: Duration,
) -> anyhow::Result<Measured> {
    let mut latencies = Vec::with_capacity(requests);
    let mut first = Duration::ZERO;
    let started = Instant::now();
    // The first request is reported apart ("first") and left out of the percentiles.
    for round in 0..=requests {
        if latencies.len() >= 5 && started.elapsed() > budget {
            break;
        }
        let path = &paths[round % paths.len()];
        let started = Instant::now();
        let response = connection.get(path).await?;
        let elapsed = started.elapsed();
        if response.status != 200 {
            bail!(
                "GET {path} got {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        if round == 0 {
            first = elapsed;
        } else {
            latencies.push(elapsed);
        }
    }
    Ok(Measured {
        label: label.to_owned(),
        first,
        latencies,
    })
}

/// The schema version this build's store creates, so a cache seeded by another schema is
/// not reused (the server would migrate it during the timed start-up).
async fn schema_version() -> anyhow::Result<i64> {
    let scratch = tempfile::Builder::new()
        .prefix("spindle-bench-schema-")
        .tempdir()?;
    let store = SqliteStore::open(scratch.path(), SqliteOptions::default())?;
    let path = store.path().to_path_buf();
    store.shutdown().await?;
    let connection = rusqlite::Connection::open(&path)?;
    Ok(connection.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

pub async fn run(args: QueryArgs) -> anyhow::Result<()> {
    let dir = args.cache_dir.join(format!(
        "query-v{SEED_FORMAT}-schema{}-traces{}-obs{}",
        schema_version().await?,
        args.traces,
        args.observations_per_trace
    ));
    let mut seeding = None;
    if args.reseed || !dir.join(COMPLETE_MARKER).exists() {
        eprintln!("seeding {} ...", dir.display());
        seeding = Some(seed(&args, &dir).await?);
    } else {
        eprintln!("reusing the seeded {}", dir.display());
    }
    let db_bytes = server::dir_size(&dir)?;
    let log = tempfile::Builder::new()
        .prefix("spindle-bench-query-")
        .tempdir()?;
    let server = Server::start(&args.server_bin, &dir, &log.path().join("server.log")).await?;
    let startup = server.startup;
    let mut connection = Connection::new(server.port, server::authorization());
    let stored = total_items(&mut connection, "/api/public/traces?limit=1").await?;
    if stored != args.traces as u64 {
        bail!(
            "the server reports {stored} traces, expected {}",
            args.traces
        );
    }
    let mut rng = Rng::new(7);
    let one = |path: &str| vec![path.to_owned()];
    let user_paths: Vec<String> = (0..USERS)
        .map(|user| format!("/api/public/traces?limit=50&userId={}", user_id(user)))
        .collect();
    let tag_paths: Vec<String> = TAGS
        .iter()
        .map(|tag| format!("/api/public/traces?limit=50&tags={tag}"))
        .collect();
    let filter_paths: Vec<String> = TENANTS
        .iter()
        .map(|tenant| {
            let filter = serde_json::json!([{
                "type": "stringObject",
                "column": "metadata",
                "key": "tenant",
                "operator": "=",
                "value": tenant,
            }]);
            format!(
                "/api/public/traces?limit=50&filter={}",
                encode_query_value(&filter.to_string())
            )
        })
        .collect();
    let by_id_paths: Vec<String> = (0..args.requests.max(1))
        .map(|_| {
            format!(
                "/api/public/traces/{}",
                trace_id(rng.below(args.traces as u64) as usize)
            )
        })
        .collect();
    let queries: Vec<(&str, Vec<String>)> = vec![
        (
            "`GET /api/public/traces?limit=50`",
            one("/api/public/traces?limit=50"),
        ),
        (
            "`GET /api/public/traces?limit=50&userId=…` (50 users)",
            user_paths,
        ),
        ("`GET /api/public/traces?limit=50&tags=…`", tag_paths),
        (
            "`GET /api/public/traces?limit=50&filter=` metadata `tenant = …`",
            filter_paths,
        ),
        ("`GET /api/public/traces/{id}` (random ids)", by_id_paths),
        (
            "`GET /api/public/observations?limit=50`",
            one("/api/public/observations?limit=50"),
        ),
    ];
    let mut results = Vec::new();
    for (label, paths) in &queries {
        let measured = measure(
            &mut connection,
            label,
            paths,
            args.requests,
            Duration::from_secs(args.max_seconds_per_query),
        )
        .await?;
        eprintln!(
            "{label}: {} requests, p50 {:.2} ms, p95 {:.2} ms",
            measured.latencies.len(),
            millis(percentile(&measured.latencies, 0.5)),
            millis(percentile(&measured.latencies, 0.95))
        );
        results.push(measured);
    }
    let rss = server.rss()?;
    let peak_rss = server.peak_rss()?;
    server.stop()?;

    println!("### Queries\n");
    println!(
        "Machine: {}. Date: {}.\n",
        report::machine(),
        report::now_utc()
    );
    println!("Command: `{}`\n", report::command_line());
    println!(
        "{} traces with {} observation(s) each, 50 users, 7 tags, 4 tenants in metadata, timestamps over 30 days; data dir {:.2} GiB{}. Server start-up to first healthy answer: {:.0} ms. Up to {} sequential requests per query (fewer when a query's {} s budget ran out: see n) on one keep-alive connection, after a first request reported apart. Server RSS after the queries: {:.0} MiB (peak {:.0} MiB).\n",
        args.traces,
        args.observations_per_trace,
        db_bytes as f64 / (1024.0 * 1024.0 * 1024.0),
        match seeding {
            Some(took) => format!(", seeded in {:.0} s", took.as_secs_f64()),
            None => ", reused from the cache".to_owned(),
        },
        millis(startup),
        args.requests,
        args.max_seconds_per_query,
        report::mib(rss as f64),
        report::mib(peak_rss as f64),
    );
    println!("| query | n | first | p50 | p95 | max |\n|---|---|---|---|---|---|");
    for measured in &results {
        println!(
            "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            measured.label,
            measured.latencies.len(),
            millis(measured.first),
            millis(percentile(&measured.latencies, 0.5)),
            millis(percentile(&measured.latencies, 0.95)),
            millis(percentile(&measured.latencies, 1.0)),
        );
    }
    let list_p50 = millis(percentile(&results[0].latencies, 0.5));
    println!();
    println!("| target | result | |\n|---|---|---|");
    println!(
        "| `GET /api/public/traces?limit=50` p50 < 5 ms at {} traces | {list_p50:.2} ms | {} |",
        args.traces,
        met(list_p50 < 5.0)
    );
    Ok(())
}
