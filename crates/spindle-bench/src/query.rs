//! The query benchmark: a data directory seeded with many traces straight through
//! `SqliteStore` (cached between runs, and copied into PostgreSQL with
//! `spindle copy-to-postgres` for `--database-url`), then read latencies of the public API
//! and of the web UI's JSON API (signed in) against the server on it, and its start-up time.

use crate::generate::{prose, Rng, TAGS};
use crate::http::{encode_query_value, Connection};
use crate::ingest::total_items;
use crate::pg;
use crate::report::{self, median, met, millis, percentile};
use crate::results;
use crate::seed::{self, TENANTS};
use crate::server::{self, Backend, Server, PROJECT_ID};
use anyhow::{bail, Context};
use spindle_core::merge::Stamp;
use spindle_core::ScoreDataType;
use spindle_store::{metadata_rollups, Catalog, ObservationRecord, Store, TraceRecord, WriteBatch};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bumped whenever the seeded data changes, so stale caches are not reused. 4: observation
/// latencies vary (see [`LATENCY_MICROS`]); before, every observation took 1.5 s, which left
/// one latency bucket per rollup row and made latency percentiles look cheaper than on real
/// data.
const SEED_FORMAT: u32 = 4;
/// Observation latencies are log-uniform between these (50 ms to 30 s), so the latency
/// rollups hold as many buckets as real data spreads over.
const LATENCY_MICROS: (f64, f64) = (50_000.0, 30_000_000.0);
/// Marks a PostgreSQL database completely copied from a seeded directory.
const PG_MARKER_TABLE: &str = "spindle_bench_seeded";
/// The numeric score every trace carries, uniform in [0, 1).
const SCORE_NAME: &str = "quality";
/// Phrases of the full-text search (two words of the generated prose, side by side).
const PHRASES: &[&str] = &[
    "refund policy",
    "shipping address",
    "credit card",
    "support ticket",
];
/// Distinct rare words: trace `i`'s output ends with the word `rare_word(i % RARE_WORDS)`, so
/// each stands in `traces / RARE_WORDS` traces (20 at a million).
const RARE_WORDS: usize = 50_000;
/// Marks a completely seeded directory.
const COMPLETE_MARKER: &str = "seeded.complete";
const USERS: u64 = 50;
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
    /// Observations of the one big trace (the oldest generated, `trace_id(0)`).
    #[arg(long, default_value_t = 1000)]
    pub big_trace_observations: usize,
    /// Timed requests per query.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Stop timing a query after this many seconds (with at least 3 timed requests), so that
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
    /// Query PostgreSQL instead (`postgres://USER@HOST:PORT/DATABASE`): the seeded directory
    /// is copied there with `spindle copy-to-postgres` unless that database already holds
    /// a complete copy. The database is kept for later runs; drop it yourself.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Server starts timed for the start-up figures (empty and on the seeded data).
    #[arg(long, default_value_t = 5)]
    pub startups: usize,
    /// Append the key figures as JSON lines to this file (read by `summary`).
    #[arg(long)]
    pub results: Option<PathBuf>,
}

fn trace_id(index: usize) -> String {
    let mut rng = Rng::new(index as u64 ^ 0x5EED_0000_0000_0000);
    format!("{:016x}{:016x}", rng.next_u64(), index as u64)
}

fn rare_word(index: usize) -> String {
    format!("zq{:05}", index % RARE_WORDS)
}

fn user_id(index: u64) -> String {
    format!("user-{index:02}")
}

fn seed_batch(
    first: usize,
    count: usize,
    observations_per_trace: usize,
    big_trace_observations: usize,
) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for index in first..first + count {
        let mut rng = Rng::new(index as u64);
        let at = END_MICROS - rng.below(SPREAD_MICROS) as i64;
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, index as u64);
        let id = trace_id(index);
        let mut trace = TraceRecord::new(id.clone());
        seed::fill_trace(
            &mut trace,
            &mut rng,
            at,
            index,
            |rng| user_id(rng.below(USERS)),
            &[],
            prose,
        );
        if let Some(output) = trace.output.take() {
            let text: String = serde_json::from_str(&output).unwrap_or(output);
            trace.output =
                Some(serde_json::Value::String(format!("{text} {}", rare_word(index))).to_string());
        }
        trace.stamp_unstamped(stamp);
        let mut score = seed::api_score(
            format!("score-{id}"),
            at,
            SCORE_NAME,
            rng.below(1_000_000) as f64 / 1e6,
            ScoreDataType::Numeric,
            id.clone(),
        );
        score.environment = Some("default".to_owned());
        score.stamp_unstamped(stamp);
        batch.scores.push(score);
        let observations = if index == 0 {
            big_trace_observations
        } else {
            observations_per_trace
        };
        for position in 0..observations {
            let mut observation = ObservationRecord::new(format!("{:016x}", rng.next_u64()));
            let start = at + position as i64 * 2_000;
            observation.trace_id = Some(id.clone());
            observation.start_time = Some(start);
            let (shortest, longest) = LATENCY_MICROS;
            let share = rng.below(1_000_000) as f64 / 1e6;
            let latency = shortest * (longest / shortest).powf(share);
            observation.end_time = Some(start + latency as i64);
            seed::fill_generation(&mut observation, &mut rng, prose);
            if position > 0 && index != 0 {
                seed::make_child(&mut observation, position);
            }
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
    let store = Arc::new(seed::open_store(dir)?);
    seed::create_project(store.as_ref(), END_MICROS).await?;
    // `tenant` is rolled up from the start, so its values are written with the data rather
    // than swept over a million stored traces when the bench asks for it (`roll_up_tenant`).
    store
        .set_rolled_metadata_keys(PROJECT_ID, &["tenant".to_owned()], END_MICROS)
        .await?;
    metadata_rollups::sweep_all(store.as_ref(), Duration::ZERO).await?;
    seed::write_batches(
        &store,
        args.traces,
        args.seed_batch,
        started,
        |first, count| {
            seed_batch(
                first,
                count,
                args.observations_per_trace,
                args.big_trace_observations,
            )
        },
    )
    .await?;
    // The search index is part of the seeded data: the timed searches read it, not the scan
    // of what the background indexer has not reached yet.
    let indexing = Instant::now();
    store.index_search_now().await?;
    eprintln!(
        "search index built in {:.1} s",
        indexing.elapsed().as_secs_f64()
    );
    store.shutdown().await?;
    std::fs::write(dir.join(COMPLETE_MARKER), format!("{}\n", args.traces))?;
    Ok(started.elapsed())
}

/// The name of a cached directory of `args`' data at a schema version, after
/// `query-v{SEED_FORMAT}-schema`.
fn seed_name_after_schema(args: &QueryArgs) -> String {
    format!(
        "-traces{}-obs{}-big{}",
        args.traces, args.observations_per_trace, args.big_trace_observations
    )
}

/// The complete cached directory beside `dir` of the same data (names ending in `suffix`) at
/// the newest schema version older than `dir`'s, if any: upgrading it by the migrations is much faster than seeding again.
fn older_seed(dir: &Path, suffix: &str) -> anyhow::Result<Option<PathBuf>> {
    let prefix = format!("query-v{SEED_FORMAT}-schema");
    let version_of = |name: &str| -> Option<i64> {
        name.strip_prefix(&prefix)?
            .strip_suffix(&suffix)?
            .parse()
            .ok()
    };
    let Some(wanted) = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(version_of)
    else {
        return Ok(None);
    };
    let Some(parent) = dir.parent() else {
        return Ok(None);
    };
    let entries = match std::fs::read_dir(parent) {
        Ok(entries) => entries,
        // No cache yet: nothing to upgrade.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let mut best: Option<(i64, PathBuf)> = None;
    for entry in entries {
        let path = entry?.path();
        let Some(version) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(version_of)
        else {
            continue;
        };
        if version < wanted
            && path.join(COMPLETE_MARKER).exists()
            && best.as_ref().is_none_or(|(newest, _)| version > *newest)
        {
            best = Some((version, path));
        }
    }
    Ok(best.map(|(_, path)| path))
}

/// Moves the older cached directory `older` to `dir` and opens the store on it once, which
/// applies the migrations (and builds what they leave to build, such as rollups) outside
/// the timed start-ups; rebuilds the search index. Returns how long the upgrade took. The
/// directory is moved, not copied (a seeded million traces is many gigabytes): a failed
/// upgrade leaves `dir` incomplete, and the next run seeds it again.
async fn upgrade(older: &Path, dir: &Path) -> anyhow::Result<Duration> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let traces = std::fs::read_to_string(older.join(COMPLETE_MARKER))?;
    std::fs::remove_file(older.join(COMPLETE_MARKER))?;
    std::fs::rename(older, dir)
        .with_context(|| format!("moving {} to {}", older.display(), dir.display()))?;
    let started = Instant::now();
    let store = seed::open_store(dir)?;
    eprintln!("migrated in {:.1} s", started.elapsed().as_secs_f64());
    store.index_search_now().await?;
    store.shutdown().await?;
    std::fs::write(dir.join(COMPLETE_MARKER), traces)?;
    Ok(started.elapsed())
}

/// One measured query: its label, the request path and the latencies.
struct Measured {
    label: String,
    first: Duration,
    latencies: Vec<Duration>,
    /// The answer of a query the server refused (not 200): it is reported, not timed.
    refused: Option<String>,
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
        if latencies.len() >= 3 && started.elapsed() > budget {
            break;
        }
        let path = &paths[round % paths.len()];
        let started_request = Instant::now();
        let response = connection.get(path).await?;
        let elapsed = started_request.elapsed();
        if response.status != 200 {
            let body = String::from_utf8_lossy(&response.body);
            return Ok(Measured {
                label: label.to_owned(),
                first,
                latencies,
                refused: Some(format!(
                    "{}: {}",
                    response.status,
                    body.chars().take(200).collect::<String>()
                )),
            });
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
        refused: None,
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

/// Copies the seeded `dir` into the PostgreSQL database of `url` unless it already holds a
/// complete copy; returns how long the copy took, if one was made.
async fn copy_to_postgres(
    args: &QueryArgs,
    dir: &Path,
    url: &str,
) -> anyhow::Result<Option<Duration>> {
    if !args.reseed && pg::exists(url).await? && pg::has_table(url, PG_MARKER_TABLE).await? {
        eprintln!("reusing the copy in {url}");
        return Ok(None);
    }
    eprintln!("copying {} into {url} ...", dir.display());
    pg::recreate(url).await?;
    let started = Instant::now();
    let status = std::process::Command::new(&args.server_bin)
        .arg("copy-to-postgres")
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .arg("--batch-rows")
        .arg("5000")
        .env("SPINDLE_LOG", "warn")
        .status()
        .context("running spindle copy-to-postgres")?;
    if !status.success() {
        bail!("spindle copy-to-postgres failed with {status}");
    }
    pg::execute(url, "VACUUM ANALYZE").await?;
    pg::execute(url, &format!("CREATE TABLE {PG_MARKER_TABLE} (done int)")).await?;
    Ok(Some(started.elapsed()))
}

/// Signs in to the web UI as the bench admin and returns a connection carrying the session
/// cookie.
async fn sign_in(port: u16) -> anyhow::Result<Connection> {
    let mut connection = Connection::with_headers(port, "x-spindle-csrf: 1\r\n".to_owned());
    let body = serde_json::json!({
        "email": server::ADMIN_EMAIL,
        "password": server::ADMIN_PASSWORD,
    });
    let response = connection
        .post_json("/api/ui/auth/sign-in", &body, "UI sign-in")
        .await?;
    let cookie = response
        .set_cookie
        .as_deref()
        .and_then(|value| value.split(';').next())
        .context("UI sign-in answered without a session cookie")?
        .to_owned();
    let mut session = Connection::with_headers(port, format!("Cookie: {cookie}\r\n"));
    let (me, _) = session.get_ok("/api/ui/me").await?;
    let me: serde_json::Value = serde_json::from_slice(&me.body)?;
    let csrf = me["csrfToken"]
        .as_str()
        .context("GET /api/ui/me answered without a csrfToken")?;
    Ok(Connection::with_headers(
        port,
        format!("Cookie: {cookie}\r\nx-spindle-csrf: {csrf}\r\n"),
    ))
}

/// Makes `tenant` the project's rolled-up metadata key and waits until it is ready: how
/// long the sweep of the stored traces took, or `None` when it was rolled up already (the
/// cached data keeps it).
async fn roll_up_tenant(ui: &mut Connection) -> anyhow::Result<Option<Duration>> {
    let path = format!("/api/ui/projects/{PROJECT_ID}/rolled-metadata");
    let started = Instant::now();
    let body = serde_json::json!({ "keys": ["tenant"] });
    let mut reply = ui.put_json(&path, &body, "rolling up tenant").await?;
    let mut waited = false;
    loop {
        let listed: serde_json::Value = serde_json::from_slice(&reply.body)?;
        if listed["keys"][0]["ready"] == serde_json::Value::Bool(true) {
            return Ok(waited.then(|| started.elapsed()));
        }
        waited = true;
        tokio::time::sleep(Duration::from_millis(500)).await;
        reply = ui.get_ok(&path).await?.0;
    }
}

/// Medians of `count` start-ups (spawn → first healthy answer) on `backend`.
async fn startups(
    args: &QueryArgs,
    backend: &Backend,
    log_dir: &Path,
    count: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut took = Vec::new();
    for attempt in 0..count.max(1) {
        let log = log_dir.join(format!("startup-{attempt}.log"));
        let server = Server::start(&args.server_bin, backend, &log, false).await?;
        took.push(server.startup);
        server.stop()?;
    }
    Ok(took)
}

/// Start-up on an empty database: a fresh data directory (or PostgreSQL database) each
/// time, so the figure includes creating the schema.
async fn empty_startups(args: &QueryArgs, log_dir: &Path) -> anyhow::Result<Vec<Duration>> {
    let mut took = Vec::new();
    for attempt in 0..args.startups.max(1) {
        let backend = match &args.database_url {
            Some(url) => {
                let empty = format!("{url}_empty");
                pg::recreate(&empty).await?;
                Backend::Postgres(empty)
            }
            None => Backend::DataDir(log_dir.join(format!("empty-{attempt}"))),
        };
        took.extend(startups(args, &backend, log_dir, 1).await?);
        if let Backend::Postgres(url) = &backend {
            pg::drop_database(url).await?;
        }
    }
    Ok(took)
}

fn median_millis(samples: &[Duration]) -> f64 {
    median(&samples.iter().map(|d| millis(*d)).collect::<Vec<_>>())
}

pub async fn run(args: QueryArgs) -> anyhow::Result<()> {
    let dir = args.cache_dir.join(format!(
        "query-v{SEED_FORMAT}-schema{}{}",
        schema_version().await?,
        seed_name_after_schema(&args)
    ));
    let mut seeding = None;
    let mut upgrading = None;
    if args.reseed || !dir.join(COMPLETE_MARKER).exists() {
        match older_seed(&dir, &seed_name_after_schema(&args))? {
            Some(older) if !args.reseed => {
                eprintln!("upgrading {} to {} ...", older.display(), dir.display());
                upgrading = Some(upgrade(&older, &dir).await?);
            }
            _ => {
                eprintln!("seeding {} ...", dir.display());
                seeding = Some(seed(&args, &dir).await?);
            }
        }
    } else {
        eprintln!("reusing the seeded {}", dir.display());
    }
    let mut copying = None;
    let (backend, db_bytes) = match &args.database_url {
        Some(url) => {
            copying = copy_to_postgres(&args, &dir, url).await?;
            (Backend::Postgres(url.clone()), pg::table_bytes(url).await?)
        }
        None => (Backend::DataDir(dir.clone()), server::dir_size(&dir)?),
    };
    let log = tempfile::Builder::new()
        .prefix("spindle-bench-query-")
        .tempdir()?;
    let server = Server::start(
        &args.server_bin,
        &backend,
        &log.path().join("server.log"),
        true,
    )
    .await?;
    let mut connection = Connection::new(server.port, server::authorization());
    let mut ui = sign_in(server.port).await?;
    let rolling_up = roll_up_tenant(&mut ui).await?;
    if let Some(took) = rolling_up {
        eprintln!("tenant rolled up in {:.1} s", took.as_secs_f64());
    }
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
    let ui_base = format!("/api/ui/projects/{PROJECT_ID}");
    let score_paths: Vec<String> = (0..10)
        .map(|step| {
            let low = step as f64 / 10.0;
            format!(
                "{ui_base}/traces?limit=50&scoreName={SCORE_NAME}&scoreMin={low:.2}&scoreMax={:.2}",
                low + 0.05
            )
        })
        .collect();
    let search_paths: Vec<String> = PHRASES
        .iter()
        .map(|phrase| {
            format!(
                "/api/public/traces?limit=50&search={}",
                encode_query_value(phrase)
            )
        })
        .collect();
    let rare_paths: Vec<String> = (0..args.requests.max(1))
        .map(|_| {
            format!(
                "/api/public/traces?limit=50&search={}",
                rare_word(rng.below(RARE_WORDS as u64) as usize)
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
    let big = trace_id(0);
    let month_ago = iso_of(END_MICROS - SPREAD_MICROS as i64);
    let end = iso_of(END_MICROS + 1);
    let dashboard = format!(
        "{ui_base}/dashboard?fromTimestamp={}&toTimestamp={}",
        encode_query_value(&month_ago),
        encode_query_value(&end)
    );
    // 90 days that start mid-day (a custom range): partial days at both ends.
    let quarter_ago = iso_of(END_MICROS - 90 * 24 * 3600 * 1_000_000 + 5 * 3600 * 1_000_000);
    let quarter = |filter: &str| {
        format!(
            "{ui_base}/dashboard?fromTimestamp={}&toTimestamp={}{filter}",
            encode_query_value(&quarter_ago),
            encode_query_value(&end)
        )
    };
    let metadata_filter = format!("&metadataKey=tenant&metadataValue={}", TENANTS[0]);
    let dashboard_filtered: Vec<String> = [
        format!("&userId={}", user_id(7)),
        format!("&tag={}", TAGS[0]),
        "&name=support-chat".to_owned(),
        "&environment=default".to_owned(),
        "&release=rel-2.14.0".to_owned(),
        metadata_filter.clone(),
    ]
    .iter()
    .map(|filter| quarter(filter))
    .collect();
    let daily = format!(
        "/api/public/metrics/daily?fromTimestamp={}&toTimestamp={}",
        encode_query_value(&month_ago),
        encode_query_value(&end)
    );
    let range = format!(
        "fromTimestamp={}&toTimestamp={}",
        encode_query_value(&month_ago),
        encode_query_value(&end)
    );
    let metrics = |version: &str, query: serde_json::Value| {
        let mut query = query;
        query["fromTimestamp"] = serde_json::Value::String(month_ago.clone());
        query["toTimestamp"] = serde_json::Value::String(end.clone());
        format!(
            "/api/public/{version}metrics?query={}",
            encode_query_value(&query.to_string())
        )
    };
    let day = serde_json::json!({"granularity": "day"});
    let cost_by_model = metrics(
        "v2/",
        serde_json::json!({
            "view": "observations",
            "dimensions": [{"field": "providedModelName"}],
            "metrics": [
                {"measure": "totalCost", "aggregation": "sum"},
                {"measure": "totalTokens", "aggregation": "sum"},
                {"measure": "count", "aggregation": "count"},
            ],
            "filters": [],
            "timeDimension": day,
        }),
    );
    let latency_by_name = metrics(
        "v2/",
        serde_json::json!({
            "view": "observations",
            "dimensions": [{"field": "name"}],
            "metrics": [
                {"measure": "latency", "aggregation": "p50"},
                {"measure": "latency", "aggregation": "p95"},
            ],
            "filters": [],
            "timeDimension": day,
        }),
    );
    let user_paths_metrics: Vec<String> = (0..USERS)
        .map(|user| {
            metrics(
                "",
                serde_json::json!({
                    "view": "traces",
                    "dimensions": [{"field": "name"}],
                    "metrics": [
                        {"measure": "count", "aggregation": "count"},
                        {"measure": "totalCost", "aggregation": "sum"},
                    ],
                    "filters": [{
                        "column": "userId",
                        "operator": "=",
                        "value": user_id(user),
                        "type": "string",
                    }],
                    "timeDimension": day,
                }),
            )
        })
        .collect();
    // (key, label, paths, through the UI session)
    let queries: Vec<(&str, String, Vec<String>, bool)> = vec![
        (
            "newest50",
            "newest 50 traces: `GET /api/public/traces?limit=50`".to_owned(),
            one("/api/public/traces?limit=50"),
            false,
        ),
        (
            "newest50_ui",
            "newest 50 traces in the UI: `GET /api/ui/…/traces?limit=50`".to_owned(),
            one(&format!("{ui_base}/traces?limit=50")),
            true,
        ),
        (
            "user",
            "filter by user: `…/traces?limit=50&userId=…` (50 users)".to_owned(),
            user_paths,
            false,
        ),
        (
            "tag",
            "filter by tag: `…/traces?limit=50&tags=…` (7 tags)".to_owned(),
            tag_paths,
            false,
        ),
        (
            "score",
            format!("filter by score range (UI): `/api/ui/…/traces?limit=50&scoreName={SCORE_NAME}&scoreMin=x&scoreMax=x+0.05`"),
            score_paths,
            true,
        ),
        (
            "metadata",
            "filter by metadata: `…/traces?limit=50&filter=` `tenant = …`".to_owned(),
            filter_paths,
            false,
        ),
        (
            "search",
            "full-text phrase: `…/traces?limit=50&search=refund policy` (4 phrases)".to_owned(),
            search_paths,
            false,
        ),
        (
            "search_rare",
            format!("full-text rare word: `…/traces?limit=50&search=zq…` ({} traces each)", (args.traces / RARE_WORDS).max(1)),
            rare_paths,
            false,
        ),
        (
            "sort_cost",
            "traces sorted by cost: `…/traces?limit=50&orderBy=totalCost.desc`".to_owned(),
            one("/api/public/traces?limit=50&orderBy=totalCost.desc"),
            false,
        ),
        (
            "sort_latency",
            "traces sorted by latency: `…/traces?limit=50&orderBy=latency.desc`".to_owned(),
            one("/api/public/traces?limit=50&orderBy=latency.desc"),
            false,
        ),
        (
            "users_cost",
            "users sorted by cost over 30 days (UI): `…/users?orderBy=cost.desc`".to_owned(),
            one(&format!("{ui_base}/users?limit=50&orderBy=cost.desc&{range}")),
            true,
        ),
        (
            "sessions_cost",
            "sessions sorted by cost over 30 days (UI): `…/sessions?orderBy=cost.desc`".to_owned(),
            one(&format!("{ui_base}/sessions?limit=50&orderBy=cost.desc&{range}")),
            true,
        ),
        (
            "metrics_cost_model",
            "metrics v2: cost, tokens, count by day × model over 30 days".to_owned(),
            one(&cost_by_model),
            false,
        ),
        (
            "metrics_latency_name",
            "metrics v2: latency p50/p95 by day × observation name over 30 days".to_owned(),
            one(&latency_by_name),
            false,
        ),
        (
            "metrics_user",
            "metrics v1: traces count and cost by day × name, one user filter".to_owned(),
            user_paths_metrics,
            false,
        ),
        (
            "big_trace",
            format!(
                "trace with {} observations: `GET /api/public/traces/{{id}}`",
                args.big_trace_observations
            ),
            one(&format!("/api/public/traces/{big}")),
            false,
        ),
        (
            "big_trace_ui",
            format!(
                "trace with {} observations in the UI: `GET /api/ui/…/traces/{{id}}`",
                args.big_trace_observations
            ),
            one(&format!("{ui_base}/traces/{big}")),
            true,
        ),
        (
            "dashboard",
            "dashboard over 30 days (UI): `GET /api/ui/…/dashboard`".to_owned(),
            one(&dashboard),
            true,
        ),
        (
            "dashboard_90d",
            "dashboard over 90 days from mid-day (UI)".to_owned(),
            one(&quarter("")),
            true,
        ),
        (
            "dashboard_filtered",
            "dashboard over 90 days from mid-day, one filter (UI): user, tag, name, environment, release or metadata".to_owned(),
            dashboard_filtered,
            true,
        ),
        (
            "dashboard_metadata",
            format!(
                "dashboard over 90 days from mid-day, filtered on metadata (UI): `tenant = {}`",
                TENANTS[0]
            ),
            one(&quarter(&metadata_filter)),
            true,
        ),
        (
            "daily_metrics",
            "daily metrics over 30 days: `GET /api/public/metrics/daily`".to_owned(),
            one(&daily),
            false,
        ),
        (
            "by_id",
            "trace by id: `GET /api/public/traces/{id}` (random ids)".to_owned(),
            by_id_paths,
            false,
        ),
        (
            "observations",
            "`GET /api/public/observations?limit=50`".to_owned(),
            one("/api/public/observations?limit=50"),
            false,
        ),
    ];
    let mut measured_queries = Vec::new();
    for (key, label, paths, through_ui) in &queries {
        let target = if *through_ui {
            &mut ui
        } else {
            &mut connection
        };
        let measured = measure(
            target,
            label,
            paths,
            args.requests,
            Duration::from_secs(args.max_seconds_per_query),
        )
        .await?;
        if let Some(refused) = &measured.refused {
            eprintln!("{label}: refused with {refused}");
        }
        eprintln!(
            "{label}: {} requests, p50 {:.2} ms, p95 {:.2} ms, load average {}",
            measured.latencies.len(),
            millis(percentile(&measured.latencies, 0.5)),
            millis(percentile(&measured.latencies, 0.95)),
            report::load_average()
        );
        measured_queries.push((*key, measured));
    }
    let rss = server.rss()?;
    let peak_rss = server.peak_rss()?;
    server.stop()?;
    let loaded_startups = startups(&args, &backend, log.path(), args.startups).await?;
    let empty = empty_startups(&args, log.path()).await?;
    let backend_label = match &args.database_url {
        Some(_) => "PostgreSQL",
        None => "SQLite",
    };

    println!("### Queries ({backend_label}, {} traces)\n", args.traces);
    report::print_context();
    println!(
        "{} traces with {} observation(s) each (one of them with {}), one numeric score each, 50 users, 7 tags, 4 tenants in metadata, timestamps over 30 days; database {:.2} GiB{}{}{}. Up to {} sequential requests per query (fewer when a query's {} s budget ran out: see n) on one keep-alive connection, after a first request reported apart. Server RSS after the queries: {:.0} MiB (peak {:.0} MiB).\n",
        args.traces,
        args.observations_per_trace,
        args.big_trace_observations,
        db_bytes as f64 / (1024.0 * 1024.0 * 1024.0),
        match (seeding, upgrading) {
            (Some(took), _) => format!(", seeded in {:.0} s", took.as_secs_f64()),
            (None, Some(took)) => format!(
                ", seeded data of an older schema upgraded by the migrations in {:.0} s",
                took.as_secs_f64()
            ),
            (None, None) => ", seeded data reused from the cache".to_owned(),
        },
        match copying {
            Some(took) => format!(", copied into PostgreSQL in {:.0} s", took.as_secs_f64()),
            None => String::new(),
        },
        match rolling_up {
            Some(took) => format!(
                "; metadata key `tenant` rolled up (the sweep of every trace) in {:.0} s",
                took.as_secs_f64()
            ),
            None => "; metadata key `tenant` rolled up".to_owned(),
        },
        args.requests,
        args.max_seconds_per_query,
        report::mib(rss as f64),
        report::mib(peak_rss as f64),
    );
    println!("| query | n | first | p50 | p95 | max |\n|---|---|---|---|---|---|");
    for (_, measured) in &measured_queries {
        if let Some(refused) = &measured.refused {
            println!("| {} | refused: {refused} | | | | |", measured.label);
            continue;
        }
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
    let startup_loaded = median_millis(&loaded_startups);
    let startup_empty = median_millis(&empty);
    let show = |samples: &[Duration]| {
        samples
            .iter()
            .map(|d| format!("{:.0}", millis(*d)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!();
    println!(
        "Start-up (spawn → first healthy answer, median of {}): empty database {startup_empty:.0} ms ({} ms; includes creating the schema), with the {} traces {startup_loaded:.0} ms ({} ms).\n",
        args.startups.max(1),
        show(&empty),
        args.traces,
        show(&loaded_startups),
    );
    let p50_of = |key: &str| -> f64 {
        measured_queries
            .iter()
            .find(|(known, _)| *known == key)
            .filter(|(_, measured)| measured.refused.is_none())
            .map(|(_, measured)| millis(percentile(&measured.latencies, 0.5)))
            .unwrap_or(f64::NAN)
    };
    println!("| target | result | |\n|---|---|---|");
    let target = |label: &str, key: &str, limit_ms: f64| {
        println!(
            "| {label} | {:.2} ms | {} |",
            p50_of(key),
            met(p50_of(key) < limit_ms)
        );
    };
    target(
        &format!("newest 50 traces p50 < 5 ms at {} traces", args.traces),
        "newest50",
        5.0,
    );
    for key in ["user", "tag", "score", "metadata"] {
        target(&format!("filter `{key}` p50 < 50 ms"), key, 50.0);
    }
    target("full-text search p50 < 100 ms", "search", 100.0);
    target(
        "full-text search, rare word, p50 < 100 ms",
        "search_rare",
        100.0,
    );
    let grouped_targets: [(&[&str], f64); 3] = [
        (&["sort_cost", "users_cost", "sessions_cost"], 100.0),
        (
            &[
                "daily_metrics",
                "metrics_cost_model",
                "metrics_latency_name",
                "metrics_user",
            ],
            200.0,
        ),
        (
            &[
                "dashboard",
                "dashboard_90d",
                "dashboard_filtered",
                "dashboard_metadata",
            ],
            150.0,
        ),
    ];
    for (keys, limit_ms) in grouped_targets {
        for key in keys {
            target(&format!("`{key}` p50 < {limit_ms} ms"), key, limit_ms);
        }
    }
    println!(
        "| start-up < 200 ms with {} traces | {startup_loaded:.0} ms | {} |",
        args.traces,
        met(startup_loaded < 200.0)
    );

    let file = args.results.as_deref();
    let prefix = format!(
        "query.{}.{}",
        backend_label.to_ascii_lowercase(),
        args.traces
    );
    let note = format!(
        "{} traces x {} observations, load average {}",
        args.traces,
        args.observations_per_trace,
        report::load_average()
    );
    for (key, measured) in measured_queries.iter().filter(|(_, m)| m.refused.is_none()) {
        for (quantile, name) in [(0.5, "p50"), (0.95, "p95")] {
            results::record(
                file,
                &format!("{prefix}.{key}.{name}_ms"),
                millis(percentile(&measured.latencies, quantile)),
                &note,
            )?;
        }
    }
    results::record(file, &format!("{prefix}.startup_ms"), startup_loaded, &note)?;
    results::record(
        file,
        &format!("{prefix}.startup_empty_ms"),
        startup_empty,
        &note,
    )?;
    results::record(
        file,
        &format!("{prefix}.db_bytes_per_trace"),
        db_bytes as f64 / args.traces as f64,
        &note,
    )?;
    Ok(())
}

/// ISO 8601 of microseconds since the epoch, for query parameters.
fn iso_of(micros: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_complete_older_seed_of_the_same_data_is_upgraded() {
        let cache = tempfile::tempdir().unwrap();
        let suffix = "-traces100-obs10-big5";
        let name =
            |schema: i64, suffix: &str| format!("query-v{SEED_FORMAT}-schema{schema}{suffix}");
        let make = |name: String, complete: bool| {
            let dir = cache.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            if complete {
                std::fs::write(dir.join(COMPLETE_MARKER), "100\n").unwrap();
            }
            dir
        };
        let missing = cache.path().join("not-yet").join(name(31, suffix));
        assert_eq!(older_seed(&missing, suffix).unwrap(), None, "no cache yet");
        let wanted = cache.path().join(name(31, suffix));
        assert_eq!(older_seed(&wanted, suffix).unwrap(), None);
        make(name(27, suffix), true);
        let newest = make(name(29, suffix), true);
        // Incomplete, newer than wanted, or other data: never picked.
        make(name(30, suffix), false);
        make(name(32, suffix), true);
        make(name(30, "-traces200-obs10-big5"), true);
        make(format!("query-v{}-schema30{suffix}", SEED_FORMAT + 1), true);
        assert_eq!(older_seed(&wanted, suffix).unwrap(), Some(newest));
    }
}
