//! Spindle side by side with Arize Phoenix: the same OTLP protobuf load sent to a fresh
//! Spindle (SQLite) and to a fresh `phoenix serve` (SQLite in a temporary directory), each
//! timed from the first request until every span is readable, then the queries both have
//! an equivalent for, on the same data. Every figure is also given as Spindle/Phoenix.

use crate::generate::{self, Format, LoadArgs};
use crate::http::Connection;
use crate::ingest::total_items;
use crate::report::{self, median, mib, millis, percentile};
use crate::results;
use crate::server::{self, Backend, Server};
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct PhoenixArgs {
    /// The `spindle` server binary.
    #[arg(long)]
    pub server_bin: PathBuf,
    /// The `phoenix` executable of a venv with `arize-phoenix` installed.
    #[arg(long)]
    pub phoenix_bin: PathBuf,
    /// Spans to send to each (Phoenix is slow: keep it modest).
    #[arg(long, default_value_t = 10_000)]
    pub spans: usize,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Concurrent connections sending requests.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Runs (each on fresh servers); figures are medians.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Timed requests per query.
    #[arg(long, default_value_t = 50)]
    pub requests: usize,
    /// Give up waiting for Phoenix to make every span readable after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_seconds: u64,
    /// Append the key figures as JSON lines to this file (read by `summary`).
    #[arg(long)]
    pub results: Option<PathBuf>,
}

/// One system's figures in one run.
#[derive(Debug, Clone, Default)]
struct Side {
    startup: Duration,
    spans_per_second: f64,
    peak_rss: u64,
    idle_rss: u64,
    db_bytes: u64,
    /// (query key, latencies)
    queries: Vec<(&'static str, Vec<Duration>)>,
    /// Items each query returned (the length of `data`), to check both found the same.
    items: Vec<(&'static str, usize)>,
}

/// The queries both servers answer, as (key, label, Spindle path, Phoenix path).
fn queries(user: &str, trace_id: &str) -> Vec<(&'static str, String, String, String)> {
    vec![
        (
            "newest50",
            "newest 50 traces".to_owned(),
            "/api/public/traces?limit=50".to_owned(),
            "/v1/projects/default/traces?limit=50&sort=start_time&order=desc".to_owned(),
        ),
        (
            "user",
            format!("traces of one user (Phoenix: root spans with `user.id` = {user})"),
            format!("/api/public/traces?limit=50&userId={user}"),
            format!(
                "/v1/projects/default/spans?limit=50&parent_id=null&attribute={}",
                crate::http::encode_query_value(&format!("user.id:\"{user}\""))
            ),
        ),
        (
            "metadata",
            "traces by metadata `tenant = acme` (Phoenix: root spans with that attribute)"
                .to_owned(),
            format!(
                "/api/public/traces?limit=50&filter={}",
                crate::http::encode_query_value(
                    &serde_json::json!([{
                        "type": "stringObject",
                        "column": "metadata",
                        "key": "tenant",
                        "operator": "=",
                        "value": "acme",
                    }])
                    .to_string()
                )
            ),
            format!(
                "/v1/projects/default/spans?limit=50&parent_id=null&attribute={}",
                crate::http::encode_query_value("langfuse.trace.metadata.tenant:\"\\\"acme\\\"\"")
            ),
        ),
        (
            "trace",
            "one trace with its 10 spans (Phoenix: the spans of a trace id)".to_owned(),
            format!("/api/public/traces/{trace_id}"),
            format!("/v1/projects/default/spans?limit=100&trace_id={trace_id}"),
        ),
    ]
}

/// Spans Phoenix has stored in its default project (GraphQL `recordCount`).
async fn phoenix_span_count(connection: &mut Connection) -> anyhow::Result<u64> {
    let body = serde_json::json!({
        "query": "{ projects { edges { node { name recordCount } } } }"
    });
    let response = connection
        .post_json("/graphql", &body, "phoenix graphql")
        .await?;
    let value: serde_json::Value = serde_json::from_slice(&response.body)?;
    let edges = value["data"]["projects"]["edges"]
        .as_array()
        .with_context(|| format!("unexpected graphql answer {value}"))?;
    Ok(edges
        .iter()
        .filter_map(|edge| edge["node"]["recordCount"].as_u64())
        .sum())
}

async fn send_all(
    port: u16,
    headers: String,
    path: &'static str,
    bodies: Arc<Vec<Vec<u8>>>,
    concurrency: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let next = next.clone();
        let bodies = bodies.clone();
        let headers = headers.clone();
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::with_headers(port, headers);
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(index) else {
                    return anyhow::Ok(());
                };
                loop {
                    let response = connection
                        .post(path, "application/x-protobuf", false, body)
                        .await?;
                    match response.status {
                        200..=299 => break,
                        429 | 503 => {
                            let delay = response.retry_after_seconds.unwrap_or(0.1);
                            tokio::time::sleep(Duration::from_secs_f64(delay.clamp(0.01, 5.0)))
                                .await;
                        }
                        status => bail!(
                            "request {index} to {path} got {status}: {}",
                            String::from_utf8_lossy(&response.body)
                        ),
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

type Timed = (
    Vec<(&'static str, Vec<Duration>)>,
    Vec<(&'static str, usize)>,
);

async fn time_queries(
    connection: &mut Connection,
    paths: &[(&'static str, String)],
    requests: usize,
) -> anyhow::Result<Timed> {
    let mut out = Vec::new();
    let mut items = Vec::new();
    for (key, path) in paths {
        let mut latencies = Vec::with_capacity(requests);
        for round in 0..=requests {
            let (response, elapsed) = connection.get_ok(path).await?;
            if round > 0 {
                latencies.push(elapsed);
            } else {
                let value: serde_json::Value = serde_json::from_slice(&response.body)?;
                let count = match (value["data"].as_array(), value["observations"].as_array()) {
                    (Some(data), _) => data.len(),
                    (None, Some(observations)) => observations.len(),
                    (None, None) => 0,
                };
                items.push((*key, count));
            }
        }
        out.push((*key, latencies));
    }
    Ok((out, items))
}

/// One side of a run: a fresh `system` in a scratch directory, the load, then the figures.
async fn run_side(
    args: &PhoenixArgs,
    system: System,
    bodies: Arc<Vec<Vec<u8>>>,
    spans: usize,
    query_paths: &[(&'static str, String)],
) -> anyhow::Result<Side> {
    let prefix = match system {
        System::Spindle => "spindle-bench-side-",
        System::Phoenix => "spindle-bench-phoenix-",
    };
    let scratch = tempfile::Builder::new().prefix(prefix).tempdir()?;
    let (server, data_dir, mut reader, path) = match system {
        System::Spindle => {
            let data_dir = scratch.path().join("data");
            let server = Server::start(
                &args.server_bin,
                &Backend::DataDir(data_dir.clone()),
                &scratch.path().join("server.log"),
                false,
            )
            .await?;
            let reader = Connection::new(server.port, server::authorization());
            (server, data_dir, reader, Format::Protobuf.path())
        }
        System::Phoenix => {
            let working_dir = scratch.path().join("phoenix");
            std::fs::create_dir_all(&working_dir)?;
            let server = Server::start_phoenix(
                &args.phoenix_bin,
                &working_dir,
                &scratch.path().join("phoenix.log"),
            )
            .await?;
            let reader = Connection::with_headers(server.port, String::new());
            (server, working_dir, reader, "/v1/traces")
        }
    };
    let wall = load_until_readable(args, system, &server, path, bodies, spans, &mut reader).await?;
    measure_after_load(
        server,
        reader,
        wall,
        spans,
        query_paths,
        args.requests,
        &data_dir,
    )
    .await
}

/// The system under test on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum System {
    Spindle,
    Phoenix,
}

/// Sends the load to `server` at `path` and waits until `reader` sees every span; returns the
/// time from the first request until then.
async fn load_until_readable(
    args: &PhoenixArgs,
    system: System,
    server: &Server,
    path: &'static str,
    bodies: Arc<Vec<Vec<u8>>>,
    spans: usize,
    reader: &mut Connection,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let headers = match system {
        System::Spindle => format!("Authorization: {}\r\n", server::authorization()),
        System::Phoenix => String::new(),
    };
    send_all(server.port, headers, path, bodies, args.concurrency).await?;
    loop {
        let stored = match system {
            System::Spindle => total_items(reader, "/api/public/observations?limit=1").await?,
            System::Phoenix => phoenix_span_count(reader).await?,
        };
        if stored >= spans as u64 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(args.timeout_seconds) {
            match system {
                System::Spindle => bail!("spindle did not make every span readable in time"),
                System::Phoenix => {
                    bail!("phoenix made only {stored}/{spans} spans readable in time")
                }
            }
        }
        let poll = match system {
            System::Spindle => Duration::from_millis(5),
            System::Phoenix => Duration::from_millis(20),
        };
        tokio::time::sleep(poll).await;
    }
}

/// The figures of one side once every span is readable: memory at the peak, the queries,
/// memory when idle, the bytes on disk.
async fn measure_after_load(
    server: Server,
    mut reader: Connection,
    wall: Duration,
    spans: usize,
    query_paths: &[(&'static str, String)],
    requests: usize,
    data_dir: &std::path::Path,
) -> anyhow::Result<Side> {
    let peak_rss = server.peak_rss()?;
    let (queries, items) = time_queries(&mut reader, query_paths, requests).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss = server.rss()?;
    let startup = server.startup;
    server.stop()?;
    Ok(Side {
        startup,
        spans_per_second: spans as f64 / wall.as_secs_f64(),
        peak_rss,
        idle_rss,
        db_bytes: server::dir_size(data_dir)?,
        queries,
        items,
    })
}

pub async fn run(args: PhoenixArgs) -> anyhow::Result<()> {
    let shape = args.load.shape(args.spans, false);
    let requests = generate::requests(&shape);
    // A user and a trace of the load, for the queries.
    let first_root = requests
        .iter()
        .flatten()
        .find(|span| span.parent_span_id.is_empty())
        .context("the load has no root span")?;
    let trace_id: String = first_root
        .trace_id
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let user = first_root
        .attributes
        .iter()
        .find(|attribute| attribute.key == "user.id")
        .and_then(
            |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                spindle_otlp::any_value::Value::StringValue(text) => Some(text.clone()),
                _ => None,
            },
        )
        .context("the load has no user.id")?;
    let bodies: Vec<Vec<u8>> = requests
        .into_iter()
        .map(|spans| generate::encode(spans, Format::Protobuf))
        .collect();
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let bodies = Arc::new(bodies);
    let spans = args.spans;
    let queries = queries(&user, &trace_id);
    let spindle_paths: Vec<(&'static str, String)> = queries
        .iter()
        .map(|(key, _, spindle, _)| (*key, spindle.clone()))
        .collect();
    let phoenix_paths: Vec<(&'static str, String)> = queries
        .iter()
        .map(|(key, _, _, phoenix)| (*key, phoenix.clone()))
        .collect();
    let mut spindle_sides = Vec::new();
    let mut phoenix_sides = Vec::new();
    for run in 0..args.runs.max(1) {
        let spindle = run_side(
            &args,
            System::Spindle,
            bodies.clone(),
            spans,
            &spindle_paths,
        )
        .await?;
        eprintln!(
            "run {}: spindle {:.0} spans/s, start-up {:.0} ms, peak {:.0} MiB, load average {}",
            run + 1,
            spindle.spans_per_second,
            millis(spindle.startup),
            mib(spindle.peak_rss as f64),
            report::load_average()
        );
        spindle_sides.push(spindle);
        let phoenix = run_side(
            &args,
            System::Phoenix,
            bodies.clone(),
            spans,
            &phoenix_paths,
        )
        .await?;
        eprintln!(
            "run {}: phoenix {:.0} spans/s, start-up {:.0} ms, peak {:.0} MiB, load average {}",
            run + 1,
            phoenix.spans_per_second,
            millis(phoenix.startup),
            mib(phoenix.peak_rss as f64),
            report::load_average()
        );
        phoenix_sides.push(phoenix);
    }
    let pick = |sides: &[Side], f: &dyn Fn(&Side) -> f64| -> f64 {
        median(&sides.iter().map(f).collect::<Vec<_>>())
    };
    let runs = |sides: &[Side], f: &dyn Fn(&Side) -> f64, digits: usize| -> String {
        sides
            .iter()
            .map(|side| format!("{:.*}", digits, f(side)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let query_p = |key: &'static str, q: f64| {
        move |side: &Side| -> f64 {
            side.queries
                .iter()
                .find(|(known, _)| *known == key)
                .map(|(_, latencies)| millis(percentile(latencies, q)))
                .unwrap_or(f64::NAN)
        }
    };

    println!("### Side by side with Arize Phoenix\n");
    report::print_context();
    println!(
        "The same {spans} spans ({} per trace, {:.0} protobuf bytes per span, {} per request, {} connections, uncompressed OTLP/HTTP protobuf) sent to a fresh Spindle (SQLite, `POST /api/public/otel/v1/traces`) and to a fresh `phoenix serve` (its SQLite database in a temporary directory, `POST /v1/traces`), one after the other, {} runs; figures are medians. Ingest is timed from the first request until every span is readable (Spindle: `meta.totalItems` of `/api/public/observations`; Phoenix: the project's `recordCount` over GraphQL). Queries: {} sequential requests each after one untimed, on the same data.\n",
        args.load.spans_per_trace,
        bytes as f64 / spans as f64,
        args.load.batch_spans,
        args.concurrency,
        args.runs.max(1),
        args.requests
    );
    println!("| measure | Spindle | Phoenix | Spindle/Phoenix | runs (Spindle; Phoenix) |\n|---|---|---|---|---|");
    type Row<'a> = (
        String,
        String,
        Box<dyn Fn(&Side) -> f64 + 'a>,
        usize,
        &'static str,
    );
    let mut rows: Vec<Row> = vec![
        (
            "ingest_spans_per_s".to_owned(),
            "ingest, spans/s (first request → all readable)".to_owned(),
            Box::new(|side: &Side| side.spans_per_second),
            0,
            "",
        ),
        (
            "startup_ms".to_owned(),
            "start-up, empty (spawn → healthy)".to_owned(),
            Box::new(|side: &Side| millis(side.startup)),
            0,
            " ms",
        ),
        (
            "peak_rss_mib".to_owned(),
            "peak memory (VmHWM)".to_owned(),
            Box::new(|side: &Side| mib(side.peak_rss as f64)),
            0,
            " MiB",
        ),
        (
            "idle_rss_mib".to_owned(),
            "memory 3 s after the queries".to_owned(),
            Box::new(|side: &Side| mib(side.idle_rss as f64)),
            0,
            " MiB",
        ),
        (
            "db_bytes_per_span".to_owned(),
            "database bytes per span".to_owned(),
            Box::new(move |side: &Side| side.db_bytes as f64 / spans as f64),
            0,
            "",
        ),
    ];
    let found = |sides: &[Side], key: &str| -> usize {
        sides
            .first()
            .and_then(|side| side.items.iter().find(|(known, _)| *known == key))
            .map(|(_, count)| *count)
            .unwrap_or(0)
    };
    for (key, label, _, _) in &queries {
        let label = format!(
            "{label} [items returned: Spindle {}, Phoenix {}]",
            found(&spindle_sides, key),
            found(&phoenix_sides, key)
        );
        for (q, name) in [(0.5, "p50"), (0.95, "p95")] {
            rows.push((
                format!("{key}.{name}_ms"),
                format!("{label}, {name}"),
                Box::new(query_p(key, q)),
                2,
                " ms",
            ));
        }
    }
    let file = args.results.as_deref();
    let note = format!(
        "{spans} spans, {} runs, load average {}",
        args.runs.max(1),
        report::load_average()
    );
    for (key, label, f, digits, unit) in &rows {
        let spindle = pick(&spindle_sides, f.as_ref());
        let phoenix = pick(&phoenix_sides, f.as_ref());
        println!(
            "| {label} | {spindle:.*}{unit} | {phoenix:.*}{unit} | {:.3} | {}; {} |",
            *digits,
            *digits,
            spindle / phoenix,
            runs(&spindle_sides, f.as_ref(), *digits),
            runs(&phoenix_sides, f.as_ref(), *digits),
        );
        results::record(file, &format!("phoenix.spindle.{key}"), spindle, &note)?;
        results::record(file, &format!("phoenix.phoenix.{key}"), phoenix, &note)?;
    }
    println!(
        "\nNo equivalent in Phoenix's API, so not compared: the filters by tag and by score range, the full-text search, and the dashboard aggregates.\n"
    );
    Ok(())
}
