//! Percentiles, medians, the machine description and Markdown formatting of the results.

use std::time::Duration;

/// The `q`-quantile (0..=1) of `samples` by nearest rank; zero when empty.
pub fn percentile(samples: &[Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The median of `values` (the lower middle for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[(sorted.len() - 1) / 2]
}

/// Calls `call` once untimed, then `calls` times (at least once) timed: the median time (the
/// upper middle for an even count) and the last call's result.
pub async fn median_of_calls<T, F: std::future::Future<Output = anyhow::Result<T>>>(
    calls: usize,
    mut call: impl FnMut() -> F,
) -> anyhow::Result<(Duration, T)> {
    let mut result = call().await?;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls.max(1) {
        let started = std::time::Instant::now();
        result = call().await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], result))
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

/// `nproc`, total memory and CPU model, from `/proc`.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|count| count.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find(|line| line.starts_with("MemTotal:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map(|kib| kib / (1024.0 * 1024.0))
        .unwrap_or(0.0);
    format!("{cpus} CPUs (nproc), {memory_gib:.1} GiB RAM, {model}")
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), as `uptime` shows them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Today's date and time in UTC, to the minute.
pub fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}

/// The command line this process was started with, for the report.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

pub fn met(condition: bool) -> &'static str {
    if condition {
        "**met**"
    } else {
        "**missed**"
    }
}

/// Prints the machine, date, load average and command line under a report's heading.
pub fn print_context() {
    println!(
        "Machine: {}. Date: {}. Load average at the end: {}.\n",
        machine(),
        now_utc(),
        load_average()
    );
    println!("Command: `{}`\n", command_line());
}
