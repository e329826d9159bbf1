//! Times the per-version metrics of one prompt (`Prompts::prompt_metrics`) at scale: seeds N
//! generations linked to versions of one prompt, one trace each, with a numeric score on every
//! tenth trace and on every tenth generation, into SQLite and PostgreSQL, then reports the
//! median of the timed calls on each backend.
//!
//! `cargo run --release -p spindle-bench --example prompt_metrics -- --generations 300000`

use anyhow::Context;
use clap::Parser;
use spindle_bench::generate::Rng;
use spindle_bench::pg;
use spindle_bench::report;
use spindle_bench::seed;
use spindle_bench::server::PROJECT_ID;
use spindle_core::merge::Stamp;
use spindle_core::time::now_micros;
use spindle_core::ScoreDataType;
use spindle_store::prompts::{PromptVersionMetrics, Prompts};
use spindle_store::{ObservationRecord, Store, TraceRecord, WriteBatch};
use spindle_store_postgres::{PostgresOptions, PostgresStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROMPT: &str = "support-answer";
const SPREAD_MICROS: u64 = 30 * 24 * 3600 * 1_000_000;

#[derive(Debug, Parser)]
struct Args {
    /// Generations linked to the prompt.
    #[arg(long, default_value_t = 300_000)]
    generations: usize,
    /// Versions of the prompt the generations are spread over.
    #[arg(long, default_value_t = 3)]
    versions: usize,
    /// Timed calls per backend (after one untimed call); the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Generations per write batch.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// The PostgreSQL database to create afresh (and drop afterwards); empty for SQLite only.
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/spindle_prompt_metrics_bench"
    )]
    database_url: String,
    /// Keeps the seeded data for a look at the statements' plans: the SQLite data in this
    /// directory (which must not exist), and the PostgreSQL database.
    #[arg(long)]
    keep_in: Option<std::path::PathBuf>,
    /// Times the data kept by an earlier `--keep-in` run (same directory and database)
    /// instead of seeding afresh.
    #[arg(long, requires = "keep_in")]
    reuse: bool,
}

fn prose(rng: &mut Rng, chars: usize) -> String {
    seed::picked_words(
        rng,
        chars,
        &["answer ", "refund ", "order ", "policy ", "thanks "],
    )
}

/// Generations `first..first + count`: one trace each, a latency of 0.2 to 5 s (none on one
/// in fifty), a trace score on every tenth and a generation score on every tenth.
fn batch(first: usize, count: usize, versions: usize, end: i64) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for index in first..first + count {
        let mut rng = Rng::new(index as u64 ^ 0x9A0F);
        let at = end - rng.below(SPREAD_MICROS) as i64;
        let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, index as u64);
        let trace_id = format!("trace-{index:08}");
        let mut trace = TraceRecord::new(trace_id.clone());
        trace.timestamp = Some(at);
        trace.name = Some("support-chat".to_owned());
        trace.stamp_unstamped(stamp);
        batch.traces.push(trace);
        let observation_id = format!("generation-{index:08}");
        let mut observation = ObservationRecord::new(observation_id.clone());
        observation.trace_id = Some(trace_id.clone());
        observation.start_time = Some(at);
        if index % 50 != 0 {
            observation.end_time = Some(at + 200_000 + rng.below(4_800_000) as i64);
        }
        seed::fill_generation(&mut observation, &mut rng, prose);
        observation.prompt_name = Some(PROMPT.to_owned());
        observation.prompt_version = Some((index % versions.max(1)) as i64 + 1);
        observation.stamp_unstamped(stamp);
        batch.observations.push(observation);
        let scored = match index % 10 {
            0 => Some(("quality", None)),
            5 => Some(("accuracy", Some(observation_id))),
            _ => None,
        };
        if let Some((name, observation_id)) = scored {
            let mut score = seed::api_score(
                format!("score-{index:08}"),
                at + 1_000_000,
                name,
                rng.below(1001) as f64 / 1000.0,
                ScoreDataType::Numeric,
                trace_id,
            );
            score.observation_id = observation_id;
            score.stamp_unstamped(stamp);
            batch.scores.push(score);
        }
    }
    batch
}

/// Seeds `store` with the project and the generations.
async fn seed_store<S: Store>(store: &Arc<S>, args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let end = now_micros();
    seed::create_project(store.as_ref(), end).await?;
    seed::write_batches(
        store,
        args.generations,
        args.batch,
        started,
        |first, count| batch(first, count, args.versions, end),
    )
    .await?;
    eprintln!(
        "seeded {} generations in {:.0} s",
        args.generations,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Times `prompt_metrics` after one untimed call: the median and the result of the last call.
async fn time_calls<S: Prompts>(
    store: &Arc<S>,
    args: &Args,
) -> anyhow::Result<(Duration, Vec<PromptVersionMetrics>)> {
    report::median_of_calls(args.runs, || async {
        Ok(store.prompt_metrics(PROJECT_ID, PROMPT).await?)
    })
    .await
}

fn report(backend: &str, median: Duration, metrics: &[PromptVersionMetrics]) {
    println!(
        "{backend}: prompt_metrics median {:.1} ms",
        median.as_secs_f64() * 1000.0
    );
    for version in metrics {
        let scores: Vec<String> = version
            .scores
            .iter()
            .map(|score| format!("{} {:.4} ×{}", score.name, score.average, score.count))
            .collect();
        println!(
            "  v{}: {} generations, p50/p90/p99 {:?}/{:?}/{:?} s, {} tokens, cost {:.4}, {}",
            version.version,
            version.generations,
            version.latency_p50,
            version.latency_p90,
            version.latency_p99,
            version.total_tokens,
            version.total_cost,
            scores.join(", ")
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scratch = tempfile::tempdir()?;
    let dir = match &args.keep_in {
        Some(dir) => {
            anyhow::ensure!(
                args.reuse || !dir.exists(),
                "{} exists already",
                dir.display()
            );
            dir.clone()
        }
        None => scratch.path().to_owned(),
    };
    let sqlite = Arc::new(seed::open_store(&dir).context("opening the SQLite store")?);
    if !args.reuse {
        seed_store(&sqlite, &args).await?;
    }
    let (median, metrics) = time_calls(&sqlite, &args).await?;
    sqlite.shutdown().await?;
    report("sqlite", median, &metrics);
    if args.database_url.is_empty() {
        return Ok(());
    }
    if !args.reuse {
        pg::recreate(&args.database_url).await?;
    }
    let postgres = Arc::new(
        PostgresStore::open(&args.database_url, PostgresOptions::default())
            .await
            .context("opening the PostgreSQL store")?,
    );
    let measured = async {
        if !args.reuse {
            seed_store(&postgres, &args).await?;
            // What autovacuum does after a load: statistics, and the visibility map that
            // lets index-only scans skip the table.
            pg::execute(&args.database_url, "VACUUM ANALYZE observations, scores").await?;
        }
        time_calls(&postgres, &args).await
    }
    .await;
    postgres.shutdown().await?;
    if args.keep_in.is_none() {
        pg::drop_database(&args.database_url).await?;
    }
    let (median, metrics) = measured?;
    report("postgres", median, &metrics);
    Ok(())
}
