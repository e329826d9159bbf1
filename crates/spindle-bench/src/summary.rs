//! The results table: every figure the other subcommands recorded, with the targets of the
//! benchmark issue marked met or missed, and the ratios to Phoenix and to the raw SQLite
//! insert.

use crate::report::{self, met};
use crate::results;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// The JSON-lines file the other subcommands wrote with `--results`.
    #[arg(long)]
    pub results: PathBuf,
}

/// A recorded figure, if present.
struct Figures(Vec<(String, f64, String)>);

impl Figures {
    fn get(&self, key: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|(known, _, _)| known == key)
            .map(|(_, value, _)| *value)
            .filter(|value| value.is_finite())
    }

    /// The trace counts queried on `backend` (`sqlite`, `postgresql`), ascending.
    fn query_sizes(&self, backend: &str) -> Vec<u64> {
        let prefix = format!("query.{backend}.");
        let mut sizes: Vec<u64> = self
            .0
            .iter()
            .filter_map(|(key, _, _)| key.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('.').next()?.parse().ok())
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    fn note(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(known, _, _)| known == key)
            .map(|(_, _, note)| note.clone())
            .unwrap_or_default()
    }
}

fn show(value: Option<f64>, digits: usize, unit: &str) -> String {
    match value {
        Some(value) => format!("{value:.digits$}{unit}"),
        None => "not measured".to_owned(),
    }
}

fn verdict(value: Option<f64>, ok: impl Fn(f64) -> bool) -> &'static str {
    match value {
        Some(value) => met(ok(value)),
        None => "not measured",
    }
}

const QUERIES: &[(&str, &str)] = &[
    ("newest50", "newest 50 traces (public API)"),
    ("newest50_ui", "newest 50 traces (UI API)"),
    ("user", "filter by user"),
    ("tag", "filter by tag"),
    ("score", "filter by score range (UI API)"),
    ("metadata", "filter by metadata"),
    ("search", "full-text phrase search"),
    ("big_trace", "trace with 1,000 observations (public API)"),
    ("big_trace_ui", "trace with 1,000 observations (UI API)"),
    ("dashboard", "dashboard aggregates over 30 days (UI API)"),
    (
        "dashboard_90d",
        "dashboard over 90 days from mid-day (UI API)",
    ),
    (
        "dashboard_filtered",
        "dashboard over 90 days, one filter (UI API)",
    ),
    (
        "dashboard_metadata",
        "dashboard over 90 days, filtered on metadata (UI API)",
    ),
    ("daily_metrics", "daily metrics over 30 days (public API)"),
    ("by_id", "trace by id"),
    ("observations", "observation list"),
];

pub fn run(args: SummaryArgs) -> anyhow::Result<()> {
    let figures = Figures(results::load(&args.results)?);
    let get = |key: &str| figures.get(key);
    println!("## Results table\n");
    println!(
        "Written by `spindle-bench summary` from `{}`, {}. Machine: {}.\n",
        args.results.display(),
        report::now_utc(),
        report::machine()
    );

    println!("### Ingest, SQLite (one instance)\n");
    println!("| format | spans/s | peak RSS | idle RSS | DB bytes/span | server CPU µs/span | runs and load |\n|---|---|---|---|---|---|---|");
    for (format, label) in [
        ("protobuf", "OTLP protobuf"),
        ("protobuf-gzip", "OTLP protobuf, gzip"),
        ("json", "OTLP JSON"),
        ("ingestion", "Langfuse batch ingestion"),
    ] {
        let key = format!("ingest.sqlite.{format}");
        if get(&format!("{key}.spans_per_s")).is_none() {
            continue;
        }
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            show(get(&format!("{key}.spans_per_s")), 0, ""),
            show(get(&format!("{key}.peak_rss_mib")), 0, " MiB"),
            show(get(&format!("{key}.idle_rss_mib")), 0, " MiB"),
            show(get(&format!("{key}.db_bytes_per_span")), 0, ""),
            show(get(&format!("{key}.server_cpu_us_per_span")), 0, ""),
            figures.note(&format!("{key}.spans_per_s")),
        );
    }
    println!();
    println!("### Limits of the machine\n");
    println!("| measure | spans/s |\n|---|---|");
    println!(
        "| protobuf decode, one thread | {} |",
        show(get("limits.decode.spans_per_s"), 0, "")
    );
    println!(
        "| decode + span mapping, one thread | {} |",
        show(get("limits.decode_map.spans_per_s"), 0, "")
    );
    println!(
        "| raw SQLite insert of the same rows, batched transactions | {} ({} bytes/span) |",
        show(get("limits.sqlite_insert.spans_per_s"), 0, ""),
        show(get("limits.sqlite_insert.db_bytes_per_span"), 0, "")
    );
    println!();

    let sqlite_sizes = figures.query_sizes("sqlite");
    for traces in &sqlite_sizes {
        let prefix = format!("query.sqlite.{traces}");
        println!(
            "### Queries, SQLite, {traces} traces ({})\n",
            figures.note(&format!("{prefix}.newest50.p50_ms"))
        );
        println!("| query | p50 | p95 |\n|---|---|---|");
        for (key, label) in QUERIES {
            println!(
                "| {label} | {} | {} |",
                show(get(&format!("{prefix}.{key}.p50_ms")), 2, " ms"),
                show(get(&format!("{prefix}.{key}.p95_ms")), 2, " ms"),
            );
        }
        println!(
            "| start-up, empty / with the data | {} / {} | |",
            show(get(&format!("{prefix}.startup_empty_ms")), 0, " ms"),
            show(get(&format!("{prefix}.startup_ms")), 0, " ms"),
        );
        println!();
    }

    println!("### Side by side with Phoenix (same load, same run)\n");
    println!("| measure | Spindle | Phoenix | Spindle/Phoenix |\n|---|---|---|---|");
    for (key, label, digits, unit) in [
        ("ingest_spans_per_s", "ingest, spans/s", 0, ""),
        ("startup_ms", "start-up, empty", 0, " ms"),
        ("peak_rss_mib", "peak memory", 0, " MiB"),
        ("idle_rss_mib", "idle memory", 0, " MiB"),
        ("db_bytes_per_span", "database bytes per span", 0, ""),
        ("newest50.p50_ms", "newest 50 traces, p50", 2, " ms"),
        ("user.p50_ms", "traces of one user, p50", 2, " ms"),
        ("metadata.p50_ms", "traces by metadata, p50", 2, " ms"),
        ("trace.p50_ms", "one trace with its spans, p50", 2, " ms"),
    ] {
        let spindle = get(&format!("phoenix.spindle.{key}"));
        let phoenix = get(&format!("phoenix.phoenix.{key}"));
        let ratio = match (spindle, phoenix) {
            (Some(spindle), Some(phoenix)) => format!("{:.3}", spindle / phoenix),
            _ => "–".to_owned(),
        };
        println!(
            "| {label} | {} | {} | {ratio} |",
            show(spindle, digits, unit),
            show(phoenix, digits, unit)
        );
    }
    println!(
        "\n({})\n",
        figures.note("phoenix.phoenix.ingest_spans_per_s")
    );

    println!("### PostgreSQL\n");
    println!("| measure | one instance | two instances |\n|---|---|---|");
    for (key, label, digits, unit) in [
        ("spans_per_s", "ingest, OTLP protobuf, spans/s", 0, ""),
        ("server_cpu_us_per_span", "server CPU per span", 0, " µs"),
        (
            "postgres_cpu_us_per_span",
            "PostgreSQL CPU per span",
            0,
            " µs",
        ),
        (
            "peak_rss_mib",
            "peak server memory (largest instance)",
            0,
            " MiB",
        ),
        ("db_bytes_per_span", "database bytes per span", 0, ""),
    ] {
        println!(
            "| {label} | {} | {} |",
            show(
                get(&format!("ingest.postgres-x1.protobuf.{key}")),
                digits,
                unit
            ),
            show(
                get(&format!("ingest.postgres-x2.protobuf.{key}")),
                digits,
                unit
            ),
        );
    }
    println!();
    let largest_sqlite = sqlite_sizes.last().copied().unwrap_or(1_000_000);
    for traces in figures.query_sizes("postgresql") {
        let pg_prefix = format!("query.postgresql.{traces}");
        println!(
            "PostgreSQL queries at {traces} traces ({}):\n",
            figures.note(&format!("{pg_prefix}.newest50.p50_ms"))
        );
        println!("| query | PostgreSQL p50 | p95 | SQLite p50 |\n|---|---|---|---|");
        for (key, label) in QUERIES {
            println!(
                "| {label} | {} | {} | {} |",
                show(get(&format!("{pg_prefix}.{key}.p50_ms")), 2, " ms"),
                show(get(&format!("{pg_prefix}.{key}.p95_ms")), 2, " ms"),
                show(
                    get(&format!("query.sqlite.{traces}.{key}.p50_ms")),
                    2,
                    " ms"
                ),
            );
        }
        println!(
            "| start-up, empty / with the data | {} / {} | | |",
            show(get(&format!("{pg_prefix}.startup_empty_ms")), 0, " ms"),
            show(get(&format!("{pg_prefix}.startup_ms")), 0, " ms"),
        );
        println!();
    }

    println!("### Targets (2 cores)\n");
    println!("| target | result | |\n|---|---|---|");
    let ingest = get("ingest.sqlite.protobuf.spans_per_s");
    let side_ratio = match (
        get("phoenix.spindle.ingest_spans_per_s"),
        get("phoenix.phoenix.ingest_spans_per_s"),
    ) {
        (Some(spindle), Some(phoenix)) => Some(spindle / phoenix),
        _ => None,
    };
    println!(
        "| ingest ≥ 100 × Phoenix's rate (side-by-side run) | {} | {} |",
        show(side_ratio, 1, " ×"),
        verdict(side_ratio, |ratio| ratio >= 100.0)
    );
    let raw_share = match (ingest, get("limits.sqlite_insert.spans_per_s")) {
        (Some(ingest), Some(raw)) => Some(ingest / raw * 100.0),
        _ => None,
    };
    println!(
        "| ingest ≥ 70 % of the raw SQLite insert rate | {} ({} of {} spans/s) | {} |",
        show(raw_share, 0, " %"),
        show(ingest, 0, ""),
        show(get("limits.sqlite_insert.spans_per_s"), 0, ""),
        verdict(raw_share, |share| share >= 70.0)
    );
    let peak = get("ingest.sqlite.protobuf.peak_rss_mib").map(|mib| mib * 1.048_576);
    println!(
        "| peak memory < 300 MB during ingest | {} | {} |",
        show(peak, 0, " MB"),
        verdict(peak, |mb| mb < 300.0)
    );
    let idle = get("ingest.sqlite.protobuf.idle_rss_mib").map(|mib| mib * 1.048_576);
    println!(
        "| idle memory < 50 MB | {} | {} |",
        show(idle, 0, " MB"),
        verdict(idle, |mb| mb < 50.0)
    );
    let million = format!("query.sqlite.{largest_sqlite}");
    let startup = get(&format!("{million}.startup_ms"));
    println!(
        "| start-up < 200 ms with 1M traces (here {largest_sqlite}) | {} | {} |",
        show(startup, 0, " ms"),
        verdict(startup, |ms| ms < 200.0)
    );
    let newest = get(&format!("{million}.newest50.p50_ms"));
    println!(
        "| newest 50 traces p50 < 5 ms at 1M traces (here {largest_sqlite}) | {} | {} |",
        show(newest, 2, " ms"),
        verdict(newest, |ms| ms < 5.0)
    );
    for (key, label) in [
        ("user", "by user"),
        ("tag", "by tag"),
        ("score", "by score range"),
        ("metadata", "by metadata"),
    ] {
        let p50 = get(&format!("{million}.{key}.p50_ms"));
        println!(
            "| filter {label} p50 < 50 ms at 1M traces (here {largest_sqlite}) | {} | {} |",
            show(p50, 2, " ms"),
            verdict(p50, |ms| ms < 50.0)
        );
    }
    let search = get(&format!("{million}.search.p50_ms"));
    println!(
        "| full-text search p50 < 100 ms at 1M traces (here {largest_sqlite}) | {} | {} |",
        show(search, 2, " ms"),
        verdict(search, |ms| ms < 100.0)
    );
    let postgres = get("ingest.postgres-x1.protobuf.spans_per_s");
    println!(
        "| PostgreSQL ingest ≥ 15,000 spans/s, one instance | {} | {} |",
        show(postgres, 0, " spans/s"),
        verdict(postgres, |rate| rate >= 15_000.0)
    );
    println!();
    Ok(())
}
