//! `spindle-bench`: load benchmarks of the Spindle server (OTLP ingest throughput and read
//! latency at a million traces). A binary, not a test: it measures and reports, never asserts.

use anyhow::Context;
use clap::{Parser, Subcommand};
use spindle_bench::{ingest, limits, phoenix, query, summary};

#[derive(Debug, Parser)]
#[command(
    name = "spindle-bench",
    about = "Load benchmarks of the Spindle server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest into fresh servers (OTLP protobuf or JSON, or batch ingestion; SQLite or
    /// PostgreSQL): throughput, latency, memory, bytes per span.
    Ingest(ingest::IngestArgs),
    /// Read latency (public and UI API) and start-up time on a database seeded with many
    /// traces (SQLite, or PostgreSQL through `spindle copy-to-postgres`).
    Query(query::QueryArgs),
    /// What the machine can do without the server: protobuf decode and raw SQLite inserts.
    Limits(limits::LimitsArgs),
    /// The same OTLP load and the equivalent queries against Spindle and Arize Phoenix.
    Phoenix(phoenix::PhoenixArgs),
    /// The results table from the figures the other subcommands recorded with `--results`.
    Summary(summary::SummaryArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // One thread: the client must leave the CPU to the server under test.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Ingest(args) => ingest::run(args).await,
            Command::Query(args) => query::run(args).await,
            Command::Limits(args) => limits::run(args).await,
            Command::Phoenix(args) => phoenix::run(args).await,
            Command::Summary(args) => summary::run(args),
        }
    })
}
