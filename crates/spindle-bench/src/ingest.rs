//! The ingest benchmark: pre-encoded requests (OTLP protobuf, OTLP JSON or Langfuse batch
//! ingestion) sent by concurrent keep-alive workers to fresh servers (SQLite, or one or more
//! instances on one PostgreSQL database), timed until every span is readable through the
//! public API.

use crate::generate::{self, Format, LoadArgs};
use crate::http::Connection;
use crate::pg;
use crate::report::{self, median, met, mib, millis, percentile};
use crate::results;
use crate::server::{self, Backend, Server};
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
/// The store's SQLite threads (the writer, and the checkpointer where there is one) as
/// `/proc` names them: Linux truncates thread names to 15 bytes, so they look alike.
const SQLITE_THREADS: &str = "spindle-sqlite";

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// The `spindle` server binary to benchmark.
    #[arg(long)]
    pub server_bin: PathBuf,
    /// Spans to send.
    #[arg(long, default_value_t = 100_000)]
    pub spans: usize,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Concurrent connections sending requests.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Gzip the request bodies (`Content-Encoding: gzip`, the Python SDK 5 default).
    #[arg(long)]
    pub gzip: bool,
    /// Generations report usage but no cost, so the server works the cost out from its
    /// price table (most OpenTelemetry instrumentations send no cost).
    #[arg(long)]
    pub without_cost: bool,
    /// Wire format of the requests.
    #[arg(long, value_enum, default_value_t = Format::Protobuf)]
    pub format: Format,
    /// Runs, each against a fresh server and data directory; figures are their medians.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Store in PostgreSQL instead of SQLite: `postgres://USER@HOST:PORT/DATABASE`. The
    /// database is dropped and created afresh for every run, and dropped at the end.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Server instances on the one PostgreSQL database; connections are spread over them.
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Append the key figures as JSON lines to this file (read by `summary`).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// With `--database-url`: sample `pg_stat_activity` every 10 ms during the load and
    /// report which statements the database's backends were running or waiting in.
    #[arg(long)]
    pub sample_statements: bool,
    /// With `--database-url`: SQL run on the fresh database once the servers have created
    /// the schema and before the load (to try a storage change, e.g. `ALTER TABLE
    /// observations ALTER COLUMN input SET COMPRESSION lz4`).
    #[arg(long)]
    pub postgres_setup: Option<String>,
    /// How long after the load (every span readable) the idle RSS is taken, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub idle_wait_ms: u64,
    /// With SQLite: keep each run's data directory (after the clean shutdown) as
    /// `<DIR>/run-<n>`, to look at where its bytes went (`dbstat`).
    #[arg(long)]
    pub keep_data: Option<std::path::PathBuf>,
}

impl IngestArgs {
    /// A short name of the configuration for the results file.
    fn key(&self) -> String {
        let backend = match &self.database_url {
            Some(_) => format!("postgres-x{}", self.instances.max(1)),
            None => "sqlite".to_owned(),
        };
        let format = match self.format {
            Format::Protobuf => "protobuf",
            Format::Json => "json",
            Format::Ingestion => "ingestion",
        };
        let gzip = if self.gzip { "-gzip" } else { "" };
        format!("ingest.{backend}.{format}{gzip}")
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
struct RunResult {
    wall: Duration,
    spans_per_second: f64,
    mb_per_second: f64,
    p50: Duration,
    p95: Duration,
    retries: usize,
    drain: Duration,
    peak_rss: u64,
    idle_rss: u64,
    db_bytes: u64,
    /// The data directory after a clean shutdown (WAL checkpointed).
    db_bytes_after_stop: u64,
    /// Server CPU seconds during the load (first request → all readable).
    server_cpu: f64,
    /// Of which the SQLite threads (writer and checkpointer).
    sqlite_cpu: f64,
    /// CPU seconds used by processes other than the server and this benchmark meanwhile.
    other_cpu: f64,
    /// Seconds the SQLite threads waited for a CPU while runnable.
    runqueue_wait: f64,
    /// CPU seconds of the `postgres` processes during the load.
    postgres_cpu: f64,
}

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    if args.database_url.is_none() && args.instances > 1 {
        bail!("--instances needs --database-url (several servers share one PostgreSQL database)");
    }
    if args.gzip && args.format == Format::Ingestion {
        bail!("--gzip applies to the OTLP formats only");
    }
    let shape = args.load.shape(args.spans, args.without_cost);
    eprintln!(
        "generating {} spans ({}) ...",
        shape.spans,
        args.format.label()
    );
    let load = generate::build(&shape, args.format, args.gzip)?;
    let sent_bytes: usize = load.bodies.iter().map(Vec::len).sum();
    eprintln!(
        "{} requests, {} traces, {:.1} MiB encoded ({:.0} bytes/span), {:.1} MiB on the wire",
        load.bodies.len(),
        load.traces,
        mib(load.raw_bytes as f64),
        load.raw_bytes as f64 / load.spans as f64,
        mib(sent_bytes as f64)
    );
    let bodies = Arc::new(load.bodies);
    let mut results = Vec::new();
    for run_index in 0..args.runs.max(1) {
        let result = one_run(
            &args,
            bodies.clone(),
            load.spans,
            load.traces,
            load.raw_bytes,
        )
        .await
        .with_context(|| format!("run {}", run_index + 1))?;
        eprintln!(
            "run {}: {:.0} spans/s, {:.1} MB/s, wall {:.2} s (drain {:.0} ms), p50 {:.1} ms, p95 {:.1} ms, retries {}, peak RSS {:.0} MiB, idle RSS {:.0} MiB, {:.0} db bytes/span, server CPU {:.1} s ({:.2} cores, SQLite threads {:.2} cores), postgres {:.2} cores, other processes {:.2} cores, SQLite threads waited {:.1} s for a CPU, load average {}",
            run_index + 1,
            result.spans_per_second,
            result.mb_per_second,
            result.wall.as_secs_f64(),
            millis(result.drain),
            millis(result.p50),
            millis(result.p95),
            result.retries,
            mib(result.peak_rss as f64),
            mib(result.idle_rss as f64),
            result.db_bytes as f64 / load.spans as f64,
            result.server_cpu,
            result.server_cpu / result.wall.as_secs_f64(),
            result.sqlite_cpu / result.wall.as_secs_f64(),
            result.postgres_cpu / result.wall.as_secs_f64(),
            result.other_cpu / result.wall.as_secs_f64(),
            result.runqueue_wait,
            report::load_average(),
        );
        results.push(result);
    }
    if let Some(url) = &args.database_url {
        pg::drop_database(url).await?;
    }
    print_markdown(&args, &results, load.spans, load.raw_bytes, sent_bytes);
    let pick = |f: &dyn Fn(&RunResult) -> f64| -> f64 {
        median(&results.iter().map(f).collect::<Vec<_>>())
    };
    let key = args.key();
    let file = args.results.as_deref();
    let note = format!(
        "{} spans, {} runs, load average {}",
        load.spans,
        results.len(),
        report::load_average()
    );
    results::record(
        file,
        &format!("{key}.spans_per_s"),
        pick(&|r| r.spans_per_second),
        &note,
    )?;
    results::record(
        file,
        &format!("{key}.peak_rss_mib"),
        pick(&|r| mib(r.peak_rss as f64)),
        &note,
    )?;
    results::record(
        file,
        &format!("{key}.idle_rss_mib"),
        pick(&|r| mib(r.idle_rss as f64)),
        &note,
    )?;
    results::record(
        file,
        &format!("{key}.db_bytes_per_span"),
        pick(&|r| r.db_bytes_after_stop as f64 / load.spans as f64),
        &note,
    )?;
    results::record(
        file,
        &format!("{key}.server_cpu_us_per_span"),
        pick(&|r| r.server_cpu * 1e6 / load.spans as f64),
        &note,
    )?;
    if args.database_url.is_some() {
        results::record(
            file,
            &format!("{key}.postgres_cpu_us_per_span"),
            pick(&|r| r.postgres_cpu * 1e6 / load.spans as f64),
            &note,
        )?;
    }
    Ok(())
}

async fn one_run(
    args: &IngestArgs,
    bodies: Arc<Vec<Vec<u8>>>,
    spans: usize,
    traces: usize,
    raw_bytes: usize,
) -> anyhow::Result<RunResult> {
    let scratch = tempfile::Builder::new()
        .prefix("spindle-bench-ingest-")
        .tempdir()?;
    let data_dir = scratch.path().join("data");
    let backend = match &args.database_url {
        Some(url) => {
            pg::recreate(url).await?;
            Backend::Postgres(url.clone())
        }
        None => Backend::DataDir(data_dir.clone()),
    };
    let mut servers = Vec::new();
    for instance in 0..args.instances.max(1) {
        let log = scratch.path().join(format!("server-{instance}.log"));
        servers.push(Server::start(&args.server_bin, &backend, &log, false).await?);
    }
    if let (Some(url), Some(setup)) = (&args.database_url, &args.postgres_setup) {
        pg::execute(url, setup).await?;
    }
    let server = &servers[0];
    let next = Arc::new(AtomicUsize::new(0));
    let servers_cpu = |servers: &[Server]| -> anyhow::Result<f64> {
        servers.iter().map(Server::cpu_seconds).sum()
    };
    let server_cpu_before = servers_cpu(&servers)?;
    let wait_before = server.runqueue_wait_seconds(SQLITE_THREADS)?;
    let sqlite_cpu_before = sqlite_cpu(server)?;
    let own_cpu_before = server::own_cpu_seconds()?;
    let machine_before = server::machine_busy_seconds()?;
    let postgres_before = pg::cpu_by_pid();
    let stop_sampling = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = match (&args.database_url, args.sample_statements) {
        (Some(url), true) => Some(tokio::spawn(pg::sample_activity(
            url.clone(),
            Duration::from_millis(10),
            stop_sampling.clone(),
        ))),
        _ => None,
    };
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.concurrency.max(1) {
        let next = next.clone();
        let bodies = bodies.clone();
        let port = servers[worker % servers.len()].port;
        let gzip = args.gzip;
        let format = args.format;
        workers.push(tokio::spawn(async move {
            send_worker(port, format, gzip, &bodies, &next).await
        }));
    }
    let mut latencies = Vec::with_capacity(bodies.len());
    let mut retries = 0;
    for worker in workers {
        let (worker_latencies, worker_retries) = worker.await??;
        latencies.extend(worker_latencies);
        retries += worker_retries;
    }
    let sent = Instant::now();
    let mut reader = Connection::new(server.port, server::authorization());
    loop {
        let observations = total_items(&mut reader, "/api/public/observations?limit=1").await?;
        let trace_count = total_items(&mut reader, "/api/public/traces?limit=1").await?;
        if observations == spans as u64 && trace_count == traces as u64 {
            break;
        }
        if observations > spans as u64 || trace_count > traces as u64 {
            bail!("the server reports {observations} observations and {trace_count} traces, more than were sent");
        }
        if sent.elapsed() > Duration::from_secs(300) {
            bail!("only {observations}/{spans} observations and {trace_count}/{traces} traces readable 300 s after the load");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wall = started.elapsed();
    let drain = sent.elapsed();
    stop_sampling.store(true, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        let (samples, polls) = sampler.await??;
        print_activity(&samples, polls);
    }
    let server_cpu = servers_cpu(&servers)? - server_cpu_before;
    let postgres_cpu = pg::cpu_since(&postgres_before);
    let runqueue_wait = server.runqueue_wait_seconds(SQLITE_THREADS)? - wait_before;
    let sqlite_cpu = sqlite_cpu(server)? - sqlite_cpu_before;
    let own_cpu = server::own_cpu_seconds()? - own_cpu_before;
    let other_cpu =
        (server::machine_busy_seconds()? - machine_before - server_cpu - own_cpu - postgres_cpu)
            .max(0.0);
    // The newest trace is the last one generated, which may be partial.
    let last_trace_spans = spans - (traces - 1) * args.load.spans_per_trace.max(1);
    check_stored_trace(&mut reader, last_trace_spans).await?;
    let max_of = |values: anyhow::Result<Vec<u64>>| -> anyhow::Result<u64> {
        Ok(values?.into_iter().max().unwrap_or(0))
    };
    let peak_rss = max_of(servers.iter().map(Server::peak_rss).collect())?;
    tokio::time::sleep(Duration::from_millis(args.idle_wait_ms)).await;
    let idle_rss = max_of(servers.iter().map(Server::rss).collect())?;
    let db_bytes = match &args.database_url {
        Some(url) => pg::table_bytes(url).await?,
        None => server::dir_size(&data_dir)?,
    };
    for server in servers {
        server.stop()?;
    }
    let db_bytes_after_stop = match &args.database_url {
        Some(url) => pg::table_bytes(url).await?,
        None => server::dir_size(&data_dir)?,
    };
    if let (Some(keep), None) = (&args.keep_data, &args.database_url) {
        keep_data_dir(&data_dir, keep)?;
    }
    Ok(RunResult {
        wall,
        spans_per_second: spans as f64 / wall.as_secs_f64(),
        mb_per_second: raw_bytes as f64 / 1e6 / wall.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p95: percentile(&latencies, 0.95),
        retries,
        drain,
        peak_rss,
        idle_rss,
        db_bytes,
        db_bytes_after_stop,
        server_cpu,
        sqlite_cpu,
        other_cpu,
        runqueue_wait,
        postgres_cpu,
    })
}

fn print_activity(samples: &pg::ActivitySamples, polls: u64) {
    let total: u64 = samples.values().sum();
    let mut rows: Vec<(&(String, String), &u64)> = samples.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1));
    println!(
        "\nPostgreSQL backends sampled every 10 ms ({polls} polls, {total} active backend samples, {:.2} active backends on average):\n",
        total as f64 / polls.max(1) as f64
    );
    println!("| statement | running or waiting in | share of samples |\n|---|---|---|");
    for ((statement, wait), count) in rows.into_iter().take(15) {
        println!(
            "| `{statement}` | {wait} | {:.1} % |",
            *count as f64 * 100.0 / total.max(1) as f64
        );
    }
    println!();
}

/// Moves a run's data directory to the first free `<keep>/run-<n>`.
fn keep_data_dir(data_dir: &std::path::Path, keep: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(keep)?;
    let target = (1..)
        .map(|n| keep.join(format!("run-{n}")))
        .find(|path| !path.exists())
        .expect("a free name");
    if std::fs::rename(data_dir, &target).is_err() {
        std::fs::create_dir_all(&target)?;
        for entry in std::fs::read_dir(data_dir)? {
            let entry = entry?;
            std::fs::copy(entry.path(), target.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// CPU seconds of the store's SQLite threads.
fn sqlite_cpu(server: &Server) -> anyhow::Result<f64> {
    Ok(server
        .thread_cpu_seconds()?
        .into_iter()
        .filter(|(name, _)| name.starts_with(SQLITE_THREADS))
        .map(|(_, seconds)| seconds)
        .sum())
}

/// Sends requests from the shared queue until it is empty; returns the latency of each
/// accepted request (from its first attempt) and the number of retries.
async fn send_worker(
    port: u16,
    format: Format,
    gzip: bool,
    bodies: &[Vec<u8>],
    next: &AtomicUsize,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut connection = Connection::new(port, server::authorization());
    let mut latencies = Vec::new();
    let mut retries = 0;
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(body) = bodies.get(index) else {
            return Ok((latencies, retries));
        };
        let started = Instant::now();
        loop {
            let response = connection
                .post(format.path(), format.content_type(), gzip, body)
                .await?;
            match response.status {
                207 if format == Format::Ingestion => {
                    let answer: serde_json::Value = serde_json::from_slice(&response.body)?;
                    if answer["errors"]
                        .as_array()
                        .is_some_and(|errors| !errors.is_empty())
                    {
                        bail!("request {index}: events rejected: {answer}");
                    }
                    break;
                }
                200..=299 => break,
                429 | 503 => {
                    retries += 1;
                    let delay = response.retry_after_seconds.unwrap_or(0.1).clamp(0.01, 5.0);
                    tokio::time::sleep(Duration::from_secs_f64(delay)).await;
                }
                status => bail!(
                    "request {index} got {status}: {}",
                    String::from_utf8_lossy(&response.body)
                ),
            }
        }
        latencies.push(started.elapsed());
    }
}

/// Checks (after the timed window) that a stored trace looks like what was sent: user,
/// session, tags, every span of it as an observation, and generations with model and usage.
async fn check_stored_trace(
    connection: &mut Connection,
    spans_per_trace: usize,
) -> anyhow::Result<()> {
    let listed = connection.get("/api/public/traces?limit=1").await?;
    let listed: serde_json::Value = serde_json::from_slice(&listed.body)?;
    let trace = &listed["data"][0];
    let id = trace["id"].as_str().context("no trace listed")?;
    for field in ["userId", "sessionId", "name"] {
        if trace[field].as_str().is_none_or(str::is_empty) {
            bail!("stored trace {id} has no {field}: {trace}");
        }
    }
    if trace["tags"].as_array().is_none_or(Vec::is_empty) {
        bail!("stored trace {id} has no tags: {trace}");
    }
    let detail = connection.get(&format!("/api/public/traces/{id}")).await?;
    let detail: serde_json::Value = serde_json::from_slice(&detail.body)?;
    let observations = detail["observations"]
        .as_array()
        .with_context(|| format!("trace {id} has no observations array"))?;
    if observations.len() != spans_per_trace {
        bail!(
            "trace {id} has {} observations, expected {spans_per_trace}",
            observations.len()
        );
    }
    let generations_ok = observations
        .iter()
        .filter(|observation| observation["type"] == "GENERATION")
        .all(|generation| {
            generation["model"].is_string() && generation["usageDetails"]["input"].is_number()
        });
    if !generations_ok {
        bail!("trace {id}: a generation lacks its model or usage: {detail}");
    }
    Ok(())
}

/// `meta.totalItems` of a list endpoint.
pub async fn total_items(connection: &mut Connection, path: &str) -> anyhow::Result<u64> {
    let (response, _) = connection.get_ok(path).await?;
    let value: serde_json::Value = serde_json::from_slice(&response.body)?;
    value["meta"]["totalItems"]
        .as_u64()
        .with_context(|| format!("GET {path}: no meta.totalItems"))
}

fn print_markdown(
    args: &IngestArgs,
    results: &[RunResult],
    spans: usize,
    raw_bytes: usize,
    sent_bytes: usize,
) {
    let pick = |f: &dyn Fn(&RunResult) -> f64| -> f64 {
        median(&results.iter().map(f).collect::<Vec<_>>())
    };
    let spans_per_second = pick(&|r| r.spans_per_second);
    let peak = pick(&|r| mib(r.peak_rss as f64));
    let backend = match &args.database_url {
        Some(_) => format!(
            "PostgreSQL, {} instance{}",
            args.instances.max(1),
            if args.instances > 1 { "s" } else { "" }
        ),
        None => "SQLite".to_owned(),
    };
    let gzip = if args.gzip { ", gzip" } else { "" };
    println!("### Ingest ({}{gzip}, {backend})\n", args.format.label());
    report::print_context();
    println!(
        "{spans} spans, {} per trace, {:.0} encoded bytes per span ({:.1} MiB; {:.1} MiB sent{}), {} spans per request, {} connections. Medians of {} runs, each on a fresh server and data directory (or database).\n",
        args.load.spans_per_trace,
        raw_bytes as f64 / spans as f64,
        mib(raw_bytes as f64),
        mib(sent_bytes as f64),
        if args.gzip { ", gzip" } else { ", uncompressed" },
        args.load.batch_spans,
        args.concurrency,
        results.len()
    );
    println!("| metric | median | runs |\n|---|---|---|");
    let runs = |f: &dyn Fn(&RunResult) -> String| -> String {
        results.iter().map(f).collect::<Vec<_>>().join(" / ")
    };
    // A row of the median and of every run's value, with `digits` decimals.
    let row = |label: &str, digits: usize, unit: &str, value: &dyn Fn(&RunResult) -> f64| {
        println!(
            "| {label} | {:.digits$}{unit} | {} |",
            pick(value),
            runs(&|r| format!("{:.digits$}", value(r)))
        );
    };
    row(
        "spans/s (first request → all spans readable)",
        0,
        "",
        &|r| r.spans_per_second,
    );
    row("MB/s of encoded requests", 1, "", &|r| r.mb_per_second);
    row("wall time", 2, " s", &|r| r.wall.as_secs_f64());
    row("last response → all readable", 0, " ms", &|r| {
        millis(r.drain)
    });
    row("request latency p50", 1, " ms", &|r| millis(r.p50));
    row("request latency p95", 1, " ms", &|r| millis(r.p95));
    row("429/503 retries", 0, "", &|r| r.retries as f64);
    row("server peak RSS (VmHWM)", 0, " MiB", &|r| {
        mib(r.peak_rss as f64)
    });
    row(
        &format!(
            "server idle RSS {:.1} s after",
            args.idle_wait_ms as f64 / 1000.0
        ),
        0,
        " MiB",
        &|r| mib(r.idle_rss as f64),
    );
    row(
        "database bytes per span, at the end of the load (SQLite: with the WAL)",
        0,
        "",
        &|r| r.db_bytes as f64 / spans as f64,
    );
    row(
        "database bytes per span, after a clean shutdown",
        0,
        "",
        &|r| r.db_bytes_after_stop as f64 / spans as f64,
    );
    row("server CPU during the load", 2, " cores", &|r| {
        r.server_cpu / r.wall.as_secs_f64()
    });
    row(
        "of which the SQLite writer and checkpointer threads",
        2,
        " cores",
        &|r| r.sqlite_cpu / r.wall.as_secs_f64(),
    );
    row("spans per server CPU-second", 0, "", &|r| {
        spans as f64 / r.server_cpu
    });
    if args.database_url.is_some() {
        row(
            "PostgreSQL processes' CPU during the load",
            2,
            " cores",
            &|r| r.postgres_cpu / r.wall.as_secs_f64(),
        );
        row("PostgreSQL CPU per span", 0, " µs", &|r| {
            r.postgres_cpu * 1e6 / spans as f64
        });
        row("server CPU per span", 0, " µs", &|r| {
            r.server_cpu * 1e6 / spans as f64
        });
    }
    row(
        "other processes' CPU meanwhile (noise)",
        2,
        " cores",
        &|r| r.other_cpu / r.wall.as_secs_f64(),
    );
    row(
        "SQLite threads' time runnable but waiting for a CPU",
        1,
        " s",
        &|r| r.runqueue_wait,
    );
    println!();
    println!("| target | result | |\n|---|---|---|");
    let target = if args.database_url.is_some() {
        15_000.0
    } else {
        20_000.0
    };
    println!(
        "| ≥ {target:.0} spans/s sustained, every span readable at the end | {spans_per_second:.0} spans/s | {} |",
        met(spans_per_second >= target)
    );
    println!(
        "| peak memory < 300 MB | {:.0} MB | {} |",
        peak * 1.048_576,
        met(peak * 1.048_576 < 300.0)
    );
}
