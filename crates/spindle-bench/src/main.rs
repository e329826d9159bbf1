//! `spindle-bench`: load benchmarks of the Spindle server (OTLP ingest throughput and read
//! latency at a million traces). A binary, not a test: it measures and reports, never asserts.

mod generate;
mod http;
mod ingest;
mod query;
mod report;
mod server;

use anyhow::Context;
use clap::{Parser, Subcommand};

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
    /// OTLP protobuf ingest into a fresh server: throughput, latency, memory, bytes per span.
    Ingest(ingest::IngestArgs),
    /// Read-API latency against a data directory seeded with many traces.
    Query(query::QueryArgs),
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
        }
    })
}
