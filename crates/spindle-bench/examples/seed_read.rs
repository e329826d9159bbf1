//! Seeds a data directory for the read-path benchmarks (`tests/e2e/bench.mjs`): many traces
//! written straight through `SqliteStore`, with users, sessions, tags, metadata, prose input
//! and output, one generation each (and its children with `--observations-per-trace`), a numeric score on every other trace, and two large
//! traces (`big-1000`, `big-10000`) whose observations form a tree.
//!
//! `cargo run --release -p spindle-bench --example seed_read -- --data-dir DIR --traces N
//! [--observations-per-trace M]`

use anyhow::Context;
use clap::Parser;
use spindle_bench::generate::Rng;
use spindle_bench::seed;
use spindle_bench::server::PROJECT_ID;
use spindle_core::merge::Stamp;
use spindle_core::time::now_micros;
use spindle_core::{ScoreDataType, ScoreSource};
use spindle_store::{ObservationRecord, ScoreRecord, Store, TraceRecord, WriteBatch};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const USERS: u64 = 500;
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-south-1"];
const WORDS: &[&str] = &[
    "the",
    "model",
    "answer",
    "question",
    "customer",
    "order",
    "refund",
    "policy",
    "invoice",
    "shipping",
    "account",
    "password",
    "reset",
    "please",
    "thanks",
    "could",
    "would",
    "because",
    "however",
    "document",
    "section",
    "summary",
    "delivery",
    "warranty",
    "billing",
    "address",
    "update",
    "status",
    "ticket",
    "agent",
    "search",
    "result",
    "context",
    "retrieval",
    "vector",
    "support",
    "product",
    "return",
    "label",
    "tracking",
    "number",
    "payment",
    "card",
    "declined",
];
const SPREAD_MICROS: u64 = 30 * 24 * 3600 * 1_000_000;

#[derive(Debug, Parser)]
struct Args {
    /// The data directory to create (it must not exist).
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    traces: usize,
    /// Traces per write batch.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Observations per trace: a generation, then its children (spans, tools and more
    /// generations in turn).
    #[arg(long, default_value_t = 1)]
    observations_per_trace: usize,
}

/// Words picked at random, without punctuation (the benchmarks' generator adds some).
fn prose(rng: &mut Rng, chars: usize) -> String {
    let mut text = String::with_capacity(chars + 12);
    while text.len() < chars {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(rng.pick(WORDS));
    }
    text
}

fn generation(
    rng: &mut Rng,
    id: String,
    trace_id: &str,
    parent: Option<String>,
    start: i64,
    stamp: Stamp,
) -> ObservationRecord {
    let mut observation = ObservationRecord::new(id);
    observation.trace_id = Some(trace_id.to_owned());
    observation.parent_observation_id = parent;
    observation.start_time = Some(start);
    observation.end_time = Some(start + 200_000 + rng.below(1_500_000) as i64);
    seed::fill_generation(&mut observation, rng, prose);
    observation.stamp_unstamped(stamp);
    observation
}

fn trace(rng: &mut Rng, id: String, at: i64, index: usize, stamp: Stamp) -> TraceRecord {
    let mut trace = TraceRecord::new(id);
    seed::fill_trace(
        &mut trace,
        rng,
        at,
        index,
        |rng| format!("user-{:03}", rng.below(USERS)),
        REGIONS,
        prose,
    );
    trace.stamp_unstamped(stamp);
    trace
}

fn batch(first: usize, count: usize, end: i64, observations: usize) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for index in first..first + count {
        let mut rng = Rng::new(index as u64 ^ 0x5EED);
        let at = end - rng.below(SPREAD_MICROS) as i64;
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, index as u64);
        let id = format!("{:016x}{:016x}", rng.next_u64(), index as u64);
        batch
            .traces
            .push(trace(&mut rng, id.clone(), at, index, stamp));
        let observation_id = format!("{:016x}", rng.next_u64());
        for child in 1..observations {
            let mut observation = generation(
                &mut rng,
                format!("{observation_id}-{child}"),
                &id,
                Some(observation_id.clone()),
                at + child as i64 * 1_000,
                stamp,
            );
            seed::make_child(&mut observation, child);
            batch.observations.push(observation);
        }
        batch
            .observations
            .push(generation(&mut rng, observation_id, &id, None, at, stamp));
        if index % 2 == 0 {
            let mut score = ScoreRecord::new(format!("score-{index}"));
            score.timestamp = Some(at + 2_000_000);
            score.environment = Some("default".to_owned());
            score.name = Some("quality".to_owned());
            score.value = Some(rng.below(1001) as f64 / 1000.0);
            score.data_type = Some(ScoreDataType::Numeric);
            score.source = Some(ScoreSource::Api);
            score.trace_id = Some(id);
            score.stamp_unstamped(stamp);
            batch.scores.push(score);
        }
    }
    batch
}

/// A trace with `size` generations: a root, then children of the root with 99 children each.
fn big_trace(size: usize, end: i64) -> WriteBatch {
    let mut rng = Rng::new(size as u64);
    let id = format!("big-{size}");
    let at = end - 60_000_000;
    let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, size as u64);
    let mut batch = WriteBatch::default();
    batch.traces.push(trace(&mut rng, id.clone(), at, 0, stamp));
    let root = format!("{id}-0");
    batch
        .observations
        .push(generation(&mut rng, root.clone(), &id, None, at, stamp));
    let mut parent = root.clone();
    for position in 1..size {
        let observation_id = format!("{id}-{position}");
        let parent_id = if position % 100 == 1 {
            parent = observation_id.clone();
            root.clone()
        } else {
            parent.clone()
        };
        let start = at + position as i64 * 1_000;
        batch.observations.push(generation(
            &mut rng,
            observation_id,
            &id,
            Some(parent_id),
            start,
            stamp,
        ));
    }
    batch
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !args.data_dir.exists(),
        "{} exists already",
        args.data_dir.display()
    );
    std::fs::create_dir_all(&args.data_dir)?;
    let started = Instant::now();
    let store = Arc::new(seed::open_store(&args.data_dir).context("opening the store")?);
    let end = now_micros();
    seed::create_project(store.as_ref(), end).await?;
    store.write(PROJECT_ID, big_trace(1_000, end)).await?;
    store.write(PROJECT_ID, big_trace(10_000, end)).await?;
    seed::write_batches(&store, args.traces, args.batch, started, |first, count| {
        batch(first, count, end, args.observations_per_trace)
    })
    .await?;
    store.shutdown().await?;
    println!(
        "seeded {} traces (+2 large ones) into {} in {:.0} s",
        args.traces,
        args.data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
