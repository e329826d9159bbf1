//! Deletion under load: seeds a project with N traces (one generation each) through the
//! ingestion API, then deletes it through the administration API while another project
//! ingests at full speed, and reports the other project's ingest rate before and while the
//! deleted project's data is purged in the background; at the end it checks that nothing of
//! the deleted project remains. On SQLite, and on PostgreSQL unless `--database-url` is empty.
//!
//! `cargo build --release -p spindle-server -p spindle-bench --example project_deletion`, then
//! `target/release/examples/project_deletion --server-bin target/release/spindle`

use anyhow::{bail, Context};
use base64::Engine;
use clap::Parser;
use serde_json::{json, Value};
use spindle_bench::http::Connection;
use spindle_bench::pg;
use spindle_bench::server::{authorization, Backend, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORGANIZATION: &str = "bench-deletion-org";
const ORG_PUBLIC_KEY: &str = "pk-lf-bench-deletion-org";
const ORG_SECRET_KEY: &str = "sk-lf-bench-deletion-org";
const DOOMED_PUBLIC_KEY: &str = "pk-lf-bench-doomed";
const DOOMED_SECRET_KEY: &str = "sk-lf-bench-doomed";
/// The tables whose rows of the deleted project must all be gone.
const CHECKED_TABLES: [&str; 4] = ["traces", "observations", "scores", "api_keys"];

#[derive(Debug, Parser)]
struct Args {
    /// The `spindle` binary under test.
    #[arg(long, default_value = "target/release/spindle")]
    server_bin: PathBuf,
    /// Traces of the project to delete (each with one generation and, every tenth, a score).
    #[arg(long, default_value_t = 100_000)]
    traces: u64,
    /// Traces per ingestion request (each with its generation).
    #[arg(long, default_value_t = 50)]
    batch: u64,
    /// Connections that ingest at once, for the seed and for the other project.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Seconds the other project's ingest rate is measured before the deletion.
    #[arg(long, default_value_t = 15)]
    baseline_seconds: u64,
    /// The longest the purge is waited for, in seconds.
    #[arg(long, default_value_t = 600)]
    max_purge_seconds: u64,
    /// The PostgreSQL database to create afresh (and drop afterwards); empty for SQLite only.
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/spindle_deletion_bench"
    )]
    database_url: String,
}

fn basic(public_key: &str, secret_key: &str) -> String {
    let pair = format!("{public_key}:{secret_key}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// An ingestion request of traces `first..first + count` of `prefix`: each a trace, its
/// generation with usage, and a score on every tenth.
fn ingestion_batch(prefix: &str, first: u64, count: u64) -> Value {
    let mut events = Vec::with_capacity(count as usize * 2);
    let at = "2026-01-01T00:00:00.000Z";
    for index in first..first + count {
        let trace_id = format!("{prefix}-trace-{index:09}");
        events.push(json!({
            "id": format!("{prefix}-e-t-{index}"), "type": "trace-create", "timestamp": at,
            "body": {
                "id": trace_id, "name": "support-chat", "timestamp": at, "userId": format!("user-{}", index % 97),
                "input": {"question": format!("How do I reset my password? ({index})")},
                "output": {"answer": "Open the settings and follow the reset link."},
            }
        }));
        events.push(json!({
            "id": format!("{prefix}-e-g-{index}"), "type": "generation-create", "timestamp": at,
            "body": {
                "id": format!("{prefix}-gen-{index:09}"), "traceId": trace_id, "name": "answer-llm",
                "model": "gpt-4o-mini", "startTime": at, "endTime": "2026-01-01T00:00:01.250Z",
                "input": [{"role": "user", "content": "How do I reset my password?"}],
                "output": {"role": "assistant", "content": "Open the settings and follow the reset link."},
                "usage": {"input": 24, "output": 12, "unit": "TOKENS"},
            }
        }));
        if index % 10 == 0 {
            events.push(json!({
                "id": format!("{prefix}-e-s-{index}"), "type": "score-create", "timestamp": at,
                "body": {"id": format!("{prefix}-score-{index:09}"), "traceId": trace_id, "name": "quality", "value": 0.8}
            }));
        }
    }
    json!({ "batch": events })
}

/// Sends ingestion requests of `prefix` traces on `connections` connections until `stop` is
/// set or `limit` traces went (when given); returns how many traces were committed.
async fn ingest(
    port: u16,
    authorization: String,
    prefix: &'static str,
    connections: usize,
    batch: u64,
    limit: Option<u64>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<u64> {
    let next = Arc::new(AtomicU64::new(0));
    let committed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (next, committed, stop) = (next.clone(), committed.clone(), stop.clone());
        let authorization = authorization.clone();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::new(port, authorization);
            while !stop.load(Ordering::Relaxed) {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                let count = match limit {
                    Some(limit) if first >= limit => break,
                    Some(limit) => batch.min(limit - first),
                    None => batch,
                };
                let body = ingestion_batch(prefix, first, count);
                let body = body.to_string();
                let response = connection
                    .post(
                        "/api/public/ingestion",
                        "application/json",
                        false,
                        body.as_bytes(),
                    )
                    .await?;
                match response.status {
                    200 | 207 => {
                        committed.fetch_add(count, Ordering::Relaxed);
                    }
                    429 | 503 => {
                        // Not committed: the traces are counted as lost; back off as told.
                        let wait = response.retry_after_seconds.unwrap_or(0.05).min(1.0);
                        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                    }
                    status => bail!(
                        "ingestion of {prefix} got {status}: {}",
                        String::from_utf8_lossy(&response.body)
                    ),
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("ingest task")??;
    }
    Ok(committed.load(Ordering::Relaxed))
}

/// Runs `spindle organizations …` on the backend (before the server starts, for SQLite).
fn spindle_command(server_bin: &Path, backend: &Backend, arguments: &[&str]) -> anyhow::Result<()> {
    let mut command = Command::new(server_bin);
    command.args(arguments);
    match backend {
        Backend::DataDir(dir) => command.arg("--data-dir").arg(dir),
        Backend::Postgres(url) => command.arg("--database-url").arg(url),
    };
    let output = command
        .env("SPINDLE_LOG", "warn")
        .output()
        .with_context(|| format!("running spindle {arguments:?}"))?;
    if !output.status.success() {
        bail!(
            "spindle {arguments:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// One value `statement` selects with `$1`/`?1` bound to `project_id`.
async fn select_i64(backend: &Backend, statement: &str, project_id: &str) -> anyhow::Result<i64> {
    match backend {
        Backend::DataDir(dir) => {
            let connection = rusqlite::Connection::open_with_flags(
                dir.join("spindle.db"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            connection.busy_timeout(Duration::from_secs(5))?;
            let statement = statement.replace("$1", "?1");
            Ok(connection.query_row(&statement, [project_id], |row| row.get(0))?)
        }
        Backend::Postgres(url) => pg::select_i64(url, statement, project_id).await,
    }
}

struct Outcome {
    seed_seconds: f64,
    baseline_rate: f64,
    during_rate: f64,
    purge_seconds: f64,
    left: Vec<(&'static str, i64)>,
}

async fn run(args: &Args, backend: &Backend, log_file: &Path) -> anyhow::Result<Outcome> {
    spindle_command(
        &args.server_bin,
        backend,
        &["organizations", "create", "--id", ORGANIZATION],
    )?;
    spindle_command(
        &args.server_bin,
        backend,
        &[
            "organizations",
            "create-key",
            "--organization-id",
            ORGANIZATION,
            "--public-key",
            ORG_PUBLIC_KEY,
            "--secret-key",
            ORG_SECRET_KEY,
        ],
    )?;
    let server = Server::start(&args.server_bin, backend, log_file, false).await?;
    let port = server.port;
    let mut admin = Connection::new(port, basic(ORG_PUBLIC_KEY, ORG_SECRET_KEY));
    let created = admin
        .post(
            "/api/public/projects",
            "application/json",
            false,
            json!({"name": "doomed", "retention": 0})
                .to_string()
                .as_bytes(),
        )
        .await?;
    if created.status != 201 {
        bail!(
            "creating the project to delete got {}: {}",
            created.status,
            String::from_utf8_lossy(&created.body)
        );
    }
    let doomed: Value = serde_json::from_slice(&created.body)?;
    let doomed_id = doomed["id"]
        .as_str()
        .context("the new project's id")?
        .to_owned();
    let key = admin
        .post(
            &format!("/api/public/projects/{doomed_id}/apiKeys"),
            "application/json",
            false,
            json!({"publicKey": DOOMED_PUBLIC_KEY, "secretKey": DOOMED_SECRET_KEY})
                .to_string()
                .as_bytes(),
        )
        .await?;
    if key.status != 201 {
        bail!(
            "creating the key of the project to delete got {}",
            key.status
        );
    }

    let seeding = Instant::now();
    let seeded = ingest(
        port,
        basic(DOOMED_PUBLIC_KEY, DOOMED_SECRET_KEY),
        "doomed",
        args.connections,
        args.batch,
        Some(args.traces),
        Arc::new(AtomicBool::new(false)),
    )
    .await?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    let stored = select_i64(
        backend,
        "SELECT count(*) FROM traces WHERE project_id = $1",
        &doomed_id,
    )
    .await?;
    eprintln!("seeded {seeded} traces ({stored} stored) in {seed_seconds:.1} s");
    if stored < args.traces as i64 {
        bail!("only {stored} of {} traces were stored", args.traces);
    }

    // The other project at full speed, before the deletion.
    let stop = Arc::new(AtomicBool::new(false));
    let baseline = tokio::spawn(ingest(
        port,
        authorization(),
        "live-before",
        args.connections,
        args.batch,
        None,
        stop.clone(),
    ));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.baseline_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let baseline_traces = baseline.await??;
    let baseline_rate = baseline_traces as f64 / started.elapsed().as_secs_f64();
    eprintln!("before: {baseline_rate:.0} traces/s");

    // The same load while the deleted project is purged.
    let stop = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn(ingest(
        port,
        authorization(),
        "live-during",
        args.connections,
        args.batch,
        None,
        stop.clone(),
    ));
    let started = Instant::now();
    let deleted = admin
        .delete(&format!("/api/public/projects/{doomed_id}"))
        .await?;
    if deleted.status != 202 {
        stop.store(true, Ordering::Relaxed);
        bail!("deleting the project got {}", deleted.status);
    }
    let purged_statement =
        "SELECT CAST(CASE WHEN purged_at IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM projects WHERE id = $1";
    let mut purged = false;
    while started.elapsed() < Duration::from_secs(args.max_purge_seconds) {
        if select_i64(backend, purged_statement, &doomed_id).await? == 1 {
            purged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let purge_seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let during_traces = during.await??;
    let during_rate = during_traces as f64 / started.elapsed().as_secs_f64();
    if !purged {
        bail!("the purge did not end within {} s", args.max_purge_seconds);
    }
    eprintln!("during: {during_rate:.0} traces/s, purged in {purge_seconds:.1} s");

    let mut left = Vec::new();
    for table in CHECKED_TABLES {
        let statement = format!("SELECT count(*) FROM {table} WHERE project_id = $1");
        left.push((table, select_i64(backend, &statement, &doomed_id).await?));
    }
    server.stop()?;
    Ok(Outcome {
        seed_seconds,
        baseline_rate,
        during_rate,
        purge_seconds,
        left,
    })
}

fn report(backend: &str, args: &Args, outcome: &Outcome) -> bool {
    let drop = 100.0 * (1.0 - outcome.during_rate / outcome.baseline_rate.max(f64::MIN_POSITIVE));
    let remains: Vec<String> = outcome
        .left
        .iter()
        .filter(|(_, count)| *count != 0)
        .map(|(table, count)| format!("{table}: {count}"))
        .collect();
    println!(
        "{backend}: {} traces seeded in {:.1} s; the other project ingests {:.0} traces/s before, \
         {:.0} traces/s during the purge ({drop:+.1} % drop; target ≤ 20 %); purged in {:.1} s; {}",
        args.traces,
        outcome.seed_seconds,
        outcome.baseline_rate,
        outcome.during_rate,
        outcome.purge_seconds,
        if remains.is_empty() {
            "nothing of the deleted project remains".to_owned()
        } else {
            format!("LEFT: {}", remains.join(", "))
        }
    );
    remains.is_empty()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scratch = tempfile::tempdir()?;
    let data_dir = scratch.path().join("data");
    let sqlite = run(
        &args,
        &Backend::DataDir(data_dir),
        &scratch.path().join("sqlite.log"),
    )
    .await?;
    let mut clean = report("sqlite", &args, &sqlite);
    if !args.database_url.is_empty() {
        pg::recreate(&args.database_url).await?;
        let backend = Backend::Postgres(args.database_url.clone());
        let outcome = run(&args, &backend, &scratch.path().join("postgres.log")).await;
        pg::drop_database(&args.database_url).await?;
        clean &= report("postgres", &args, &outcome?);
    }
    if !clean {
        bail!("rows of the deleted project remain");
    }
    Ok(())
}
