//! What the machine can do without the server: the protobuf decode rate of the load
//! (`spindle-ingest`'s decoder, then its span mapper), and the same rows inserted straight
//! into SQLite with batched transactions, into a database created by `SqliteStore` itself
//! (the same tables, indexes and pragmas as the server's).

use crate::generate::{self, Format, LoadArgs};
use crate::report::{self, median};
use crate::results;
use crate::seed;
use crate::server::PROJECT_ID;
use anyhow::Context;
use spindle_core::{ObservationRecord, TraceRecord};
use spindle_ingest::otlp::{self, Encoding};
use spindle_store::Store;
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct LimitsArgs {
    /// Spans in the load.
    #[arg(long, default_value_t = 100_000)]
    pub spans: usize,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Runs of each measurement; figures are their medians.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Append the key figures as JSON lines to this file (read by `summary`).
    #[arg(long)]
    pub results: Option<PathBuf>,
}

/// One transaction's rows: the observations of one request and the traces first seen in it,
/// merged over the whole load as the server's stored rows are.
struct Transaction {
    traces: Vec<TraceRecord>,
    observations: Vec<ObservationRecord>,
}

pub async fn run(args: LimitsArgs) -> anyhow::Result<()> {
    let shape = args.load.shape(args.spans, false);
    eprintln!("generating {} spans ...", shape.spans);
    let bodies: Vec<Vec<u8>> = generate::requests(&shape)
        .into_iter()
        .map(|spans| generate::encode(spans, Format::Protobuf))
        .collect();
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let now = 1_793_491_200_000_000;

    let mut decode_rates = Vec::new();
    let mut map_rates = Vec::new();
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let mut spans = 0;
        for body in &bodies {
            let export = otlp::decode(body, Encoding::Protobuf)?;
            spans += export
                .resource_spans
                .iter()
                .flat_map(|resource| &resource.scope_spans)
                .map(|scope| scope.spans.len())
                .sum::<usize>();
        }
        decode_rates.push(spans as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let mut observations = 0;
        for body in &bodies {
            let batch = otlp::to_batch(&otlp::decode(body, Encoding::Protobuf)?, now);
            observations += batch.observations.len();
        }
        map_rates.push(observations as f64 / started.elapsed().as_secs_f64());
    }
    let decode = median(&decode_rates);
    let decode_and_map = median(&map_rates);
    eprintln!("decode {decode:.0} spans/s, decode + map {decode_and_map:.0} spans/s");

    // The rows, prepared outside the clock.
    let mut transactions: Vec<Transaction> = Vec::with_capacity(bodies.len());
    let mut trace_slot: HashMap<String, (usize, usize)> = HashMap::new();
    for body in &bodies {
        let batch = otlp::to_batch(&otlp::decode(body, Encoding::Protobuf)?, now);
        let mut transaction = Transaction {
            traces: Vec::new(),
            observations: batch.observations,
        };
        for trace in batch.traces {
            match trace_slot.get(&trace.id) {
                Some(&(at, index)) if at == transactions.len() => {
                    transaction.traces[index].merge(trace)
                }
                Some(&(at, index)) => transactions[at].traces[index].merge(trace),
                None => {
                    trace_slot.insert(
                        trace.id.clone(),
                        (transactions.len(), transaction.traces.len()),
                    );
                    transaction.traces.push(trace);
                }
            }
        }
        transactions.push(transaction);
    }
    let spans: usize = transactions.iter().map(|t| t.observations.len()).sum();

    let scratch = tempfile::Builder::new()
        .prefix("spindle-bench-limits-")
        .tempdir()?;
    let template = template_database(&scratch.path().join("template")).await?;
    let mut insert_rates = Vec::new();
    let mut insert_bytes = Vec::new();
    for run in 0..args.runs.max(1) {
        let path = scratch.path().join(format!("raw-{run}.db"));
        std::fs::copy(&template, &path)?;
        let took = raw_insert(&path, &transactions)?;
        insert_rates.push(spans as f64 / took.as_secs_f64());
        let wal = scratch.path().join(format!("raw-{run}.db-wal"));
        let size =
            std::fs::metadata(&path)?.len() + std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        insert_bytes.push(size as f64 / spans as f64);
        eprintln!(
            "raw insert run {}: {:.0} spans/s in {:.2} s, {:.0} bytes/span, load average {}",
            run + 1,
            spans as f64 / took.as_secs_f64(),
            took.as_secs_f64(),
            size as f64 / spans as f64,
            report::load_average()
        );
        std::fs::remove_file(&path)?;
        let _ = std::fs::remove_file(&wal);
    }
    let insert = median(&insert_rates);
    let show = |values: &[f64]| {
        values
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };

    println!("### Limits of the machine\n");
    report::print_context();
    println!(
        "The ingest benchmark's load ({spans} spans, {} per trace, {:.0} protobuf bytes per span, {} spans per request), without HTTP. Medians of {} runs.\n",
        args.load.spans_per_trace,
        bytes as f64 / spans as f64,
        args.load.batch_spans,
        args.runs.max(1)
    );
    println!("| measure | spans/s | runs |\n|---|---|---|");
    println!(
        "| protobuf decode (`spindle_ingest::otlp::decode`), one thread | {decode:.0} | {} |",
        show(&decode_rates)
    );
    println!(
        "| decode + span mapping (`otlp::to_batch`), one thread | {decode_and_map:.0} | {} |",
        show(&map_rates)
    );
    println!(
        "| raw SQLite insert of the same rows (merged traces + observations, stamps included), one transaction per {} spans, the server's schema and pragmas (WAL, `synchronous = FULL`) | {insert:.0} | {} |",
        args.load.batch_spans,
        show(&insert_rates)
    );
    println!(
        "\nRaw insert: {:.0} database bytes per span (WAL checkpointed).\n",
        median(&insert_bytes)
    );

    let file = args.results.as_deref();
    let note = format!("{spans} spans, load average {}", report::load_average());
    results::record(file, "limits.decode.spans_per_s", decode, &note)?;
    results::record(file, "limits.decode_map.spans_per_s", decode_and_map, &note)?;
    results::record(file, "limits.sqlite_insert.spans_per_s", insert, &note)?;
    results::record(
        file,
        "limits.sqlite_insert.db_bytes_per_span",
        median(&insert_bytes),
        &note,
    )?;
    Ok(())
}

/// A database created by `SqliteStore` (every migration, the planner statistics) with the
/// bench project, closed cleanly; returns the database file.
async fn template_database(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let store = SqliteStore::open(dir, SqliteOptions::default())?;
    seed::create_project(&store, 0).await?;
    let path = store.path().to_path_buf();
    store.shutdown().await?;
    Ok(path)
}

fn json_map<V: serde::Serialize>(map: &std::collections::BTreeMap<String, V>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

/// Inserts every transaction's rows with plain `INSERT`s; returns the time from the first
/// `BEGIN` to the last `COMMIT`.
fn raw_insert(path: &Path, transactions: &[Transaction]) -> anyhow::Result<Duration> {
    let mut connection =
        rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -32000;
         PRAGMA temp_store = MEMORY;",
    )?;
    let started = Instant::now();
    for transaction in transactions {
        let tx = connection.transaction()?;
        {
            let mut insert_trace = tx.prepare_cached(
                "INSERT INTO traces (project_id, id, timestamp, environment, name, user_id, \
                 session_id, release, version, created_at, updated_at, tags, metadata, input, \
                 output, stamps) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, \
                 ?13, ?14, ?15)",
            )?;
            for trace in &transaction.traces {
                insert_trace.execute(rusqlite::params![
                    PROJECT_ID,
                    trace.id,
                    trace.timestamp,
                    trace.environment,
                    trace.name,
                    trace.user_id,
                    trace.session_id,
                    trace.release,
                    trace.version,
                    0i64,
                    serde_json::to_string(&trace.tags)?,
                    json_map(&trace.metadata),
                    trace.input,
                    trace.output,
                    spindle_store::stamps::encode_stamps(&trace.stamps),
                ])?;
            }
            let mut insert_observation = tx.prepare_cached(
                "INSERT INTO observations (project_id, id, trace_id, start_time, end_time, \
                 environment, type, parent_observation_id, name, completion_start_time, level, \
                 model, total_cost, usage_input, usage_output, usage_total, created_at, \
                 updated_at, model_parameters, usage_details, cost_details, metadata, input, \
                 output, stamps) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                 ?13, ?14, ?15, ?16, ?17, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
            )?;
            for observation in &transaction.observations {
                let usage = observation.usage_details.as_ref();
                let usage_of = |key: &str| usage.and_then(|map| map.get(key).copied());
                let total_cost = observation
                    .cost_details
                    .as_ref()
                    .and_then(|costs| costs.get("total").copied());
                insert_observation.execute(rusqlite::params![
                    PROJECT_ID,
                    observation.id,
                    observation.trace_id,
                    observation.start_time,
                    observation.end_time,
                    observation.environment,
                    observation.observation_type.map(|kind| kind.as_str()),
                    observation.parent_observation_id,
                    observation.name,
                    observation.completion_start_time,
                    observation.level.map(|level| level.as_str()),
                    observation.model,
                    total_cost,
                    usage_of("input"),
                    usage_of("output"),
                    usage_of("total"),
                    0i64,
                    observation.model_parameters,
                    observation.usage_details.as_ref().map(json_map),
                    observation.cost_details.as_ref().map(json_map),
                    json_map(&observation.metadata),
                    observation.input,
                    observation.output,
                    spindle_store::stamps::encode_stamps(&observation.stamps),
                ])?;
            }
        }
        tx.commit()?;
    }
    let took = started.elapsed();
    connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(took)
}
