//! Times a dataset run's aggregates (`Datasets::run_aggregates`) and the comparison of runs
//! (`Datasets::compare_runs`, one page of 50 items) at scale: seeds one dataset of N items and
//! R runs that each ran every item (one trace with one generation and two scores, a numeric
//! and a boolean, per run item) into SQLite and PostgreSQL, then reports the median of the
//! timed calls on each backend. With `--keep-in DIR`, the first call seeds into DIR (and keeps
//! the PostgreSQL database); later calls with the same DIR only time.
//!
//! `cargo run --release -p spindle-bench --example run_aggregates -- --keep-in /tmp/runs`

use anyhow::Context;
use clap::Parser;
use spindle_bench::generate::Rng;
use spindle_bench::pg;
use spindle_bench::report::median_of_calls;
use spindle_bench::seed;
use spindle_bench::server::PROJECT_ID;
use spindle_core::dataset::{NewDataset, NewDatasetItem, NewRunItem};
use spindle_core::merge::Stamp;
use spindle_core::time::now_micros;
use spindle_core::ScoreDataType;
use spindle_store::datasets::{Datasets, PageRequest};
use spindle_store::executor::Executor;
use spindle_store::sql::Sql;
use spindle_store::{ObservationRecord, Store, TraceRecord, WriteBatch};
use spindle_store_postgres::{PostgresOptions, PostgresStore};
use std::sync::Arc;
use std::time::Instant;

const DATASET: &str = "bench-qa";

/// Run items per bulk insert.
const INSERT_ROWS: usize = 1_000;

#[derive(Debug, Parser)]
struct Args {
    /// Items of the dataset.
    #[arg(long, default_value_t = 10_000)]
    items: usize,
    /// Runs, each over every item.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Timed calls per measurement (after one untimed call); the median is reported.
    #[arg(long, default_value_t = 7)]
    calls: usize,
    /// Traces per write batch.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// The PostgreSQL database to create afresh; empty for SQLite only.
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/spindle_run_aggregates_bench"
    )]
    database_url: String,
    /// Seeds into this directory (and keeps the PostgreSQL database) when it does not exist;
    /// reuses both when it does.
    #[arg(long)]
    keep_in: Option<std::path::PathBuf>,
}

fn run_name(run: usize) -> String {
    format!("run-{run:02}")
}

fn item_id(item: usize) -> String {
    format!("item-{item:05}")
}

fn trace_id(run: usize, item: usize) -> String {
    format!("trace-{run:02}-{item:05}")
}

fn prose(rng: &mut Rng, chars: usize) -> String {
    seed::picked_words(
        rng,
        chars,
        &["paris ", "rome ", "madrid ", "lisbon ", "berlin "],
    )
}

/// Run items `first..first + count` (run-major): a trace with an output, a generation of
/// 0.2 to 5 s and two scores each.
fn batch(first: usize, count: usize, items: usize, end: i64) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for index in first..first + count {
        let (run, item) = (index / items, index % items);
        let mut rng = Rng::new(index as u64 ^ 0x5EED);
        let at = end - (rng.below(3_600_000_000) as i64);
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, index as u64);
        let trace_id = trace_id(run, item);
        let mut trace = TraceRecord::new(trace_id.clone());
        trace.timestamp = Some(at);
        trace.name = Some("experiment-item-run".to_owned());
        trace.output = Some(format!("\"{}\"", prose(&mut rng, 40).trim_end()));
        trace.stamp_unstamped(stamp);
        batch.traces.push(trace);
        let mut observation = ObservationRecord::new(format!("generation-{run:02}-{item:05}"));
        observation.trace_id = Some(trace_id.clone());
        observation.start_time = Some(at);
        observation.end_time = Some(at + 200_000 + rng.below(4_800_000) as i64);
        seed::fill_generation(&mut observation, &mut rng, prose);
        observation.stamp_unstamped(stamp);
        batch.observations.push(observation);
        for (name, data_type, value) in [
            (
                "accuracy",
                ScoreDataType::Numeric,
                rng.below(1001) as f64 / 1000.0,
            ),
            ("correct", ScoreDataType::Boolean, rng.below(2) as f64),
        ] {
            let mut score = seed::api_score(
                format!("score-{name}-{run:02}-{item:05}"),
                at + 1_000_000,
                name,
                value,
                data_type,
                trace_id.clone(),
            );
            if data_type == ScoreDataType::Boolean {
                score.string_value = Some(if value > 0.5 { "True" } else { "False" }.to_owned());
            }
            score.stamp_unstamped(stamp);
            batch.scores.push(score);
        }
    }
    batch
}

/// Seeds `store`: the project, the traces, the dataset and its items, and the runs (each
/// started by its first run item, the rest inserted in bulk).
async fn seed_store<S: Store + Datasets + Executor>(
    store: &Arc<S>,
    args: &Args,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let end = now_micros();
    seed::create_project(store.as_ref(), end).await?;
    seed::write_batches(
        store,
        args.items * args.runs,
        args.batch,
        started,
        |first, count| batch(first, count, args.items, end),
    )
    .await?;
    store
        .upsert_dataset(
            PROJECT_ID,
            &NewDataset {
                name: DATASET.to_owned(),
                ..NewDataset::default()
            },
        )
        .await?;
    for item in 0..args.items {
        store
            .upsert_dataset_item(
                PROJECT_ID,
                &NewDatasetItem {
                    dataset_name: DATASET.to_owned(),
                    id: Some(item_id(item)),
                    input: Some(format!("{{\"question\":\"capital {item}?\"}}")),
                    expected_output: Some("\"paris\"".to_owned()),
                    ..NewDatasetItem::default()
                },
            )
            .await?;
    }
    let dialect = store.dialect();
    for run in 0..args.runs {
        let first = store
            .create_run_item(
                PROJECT_ID,
                &NewRunItem {
                    run_name: run_name(run),
                    dataset_item_id: item_id(0),
                    trace_id: Some(trace_id(run, 0)),
                    ..NewRunItem::default()
                },
            )
            .await?;
        let items: Vec<usize> = (1..args.items).collect();
        for chunk in items.chunks(INSERT_ROWS) {
            let mut sql = Sql::new(
                dialect,
                "INSERT INTO dataset_run_items (id, project_id, run_id, dataset_item_id, \
                 trace_id, observation_id, dataset_version, created_at, updated_at) VALUES ",
            );
            for (position, item) in chunk.iter().enumerate() {
                sql.push(if position == 0 { "(" } else { ", (" })
                    .bind(format!("run-item-{run:02}-{item:05}"))
                    .push(", ")
                    .bind(PROJECT_ID)
                    .push(", ")
                    .bind(first.run_id.as_str())
                    .push(", ")
                    .bind(item_id(*item))
                    .push(", ")
                    .bind(trace_id(run, *item))
                    .push(", ")
                    .bind(None::<String>)
                    .push(", ")
                    .bind(first.dataset_version)
                    .push(", ")
                    .bind(first.created_at + *item as i64)
                    .push(", ")
                    .bind(first.created_at + *item as i64)
                    .push(")");
            }
            store.modify(vec![sql]).await?;
        }
    }
    eprintln!(
        "seeded {} items x {} runs in {:.0} s",
        args.items,
        args.runs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Times a run's aggregates and comparisons of 2 and 5 runs; prints one line per figure.
async fn measure<S: Datasets>(backend: &str, store: &Arc<S>, args: &Args) -> anyhow::Result<()> {
    let middle = run_name(args.runs / 2);
    let aggregates = store
        .run_aggregates(PROJECT_ID, DATASET, &middle)
        .await?
        .context("the run exists")?;
    let (took, _) = median_of_calls(args.calls, || async {
        store.run_aggregates(PROJECT_ID, DATASET, &middle).await?;
        Ok(())
    })
    .await?;
    println!(
        "{backend}: run_aggregates median {:.1} ms ({} items, latency mean {:.2} s, cost {:.4}, {} tokens, {} score names)",
        took.as_secs_f64() * 1000.0,
        aggregates.item_count,
        aggregates.latency.as_ref().map_or(0.0, |latency| latency.mean),
        aggregates.total_cost,
        aggregates.total_tokens,
        aggregates.scores.len(),
    );
    for compared in [2, 5] {
        let names: Vec<String> = (0..compared.min(args.runs)).map(run_name).collect();
        let page = PageRequest { page: 3, limit: 50 };
        let (took, _) = median_of_calls(args.calls, || async {
            store
                .compare_runs(PROJECT_ID, DATASET, &names, page)
                .await?
                .context("the dataset exists")?;
            Ok(())
        })
        .await?;
        println!(
            "{backend}: compare_runs of {compared} runs, one page of 50 items: median {:.1} ms",
            took.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scratch = tempfile::tempdir()?;
    let (dir, reuse) = match &args.keep_in {
        Some(dir) => (dir.clone(), dir.exists()),
        None => (scratch.path().to_owned(), false),
    };
    let sqlite = Arc::new(seed::open_store(&dir).context("opening the SQLite store")?);
    if !reuse {
        seed_store(&sqlite, &args).await?;
    }
    let measured = measure("sqlite", &sqlite, &args).await;
    sqlite.shutdown().await?;
    measured?;
    if args.database_url.is_empty() {
        return Ok(());
    }
    if !reuse {
        pg::recreate(&args.database_url).await?;
    }
    let postgres = Arc::new(
        PostgresStore::open(&args.database_url, PostgresOptions::default())
            .await
            .context("opening the PostgreSQL store")?,
    );
    let measured = async {
        if !reuse {
            seed_store(&postgres, &args).await?;
            pg::execute(
                &args.database_url,
                "VACUUM ANALYZE observations, scores, traces, dataset_run_items, dataset_items",
            )
            .await?;
        }
        measure("postgres", &postgres, &args).await
    }
    .await;
    postgres.shutdown().await?;
    if args.keep_in.is_none() {
        pg::drop_database(&args.database_url).await?;
    }
    measured
}
