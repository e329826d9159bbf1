//! Benchmark of the SDK (not a test): `#[observe]` overhead per call with tracing disabled and
//! enabled (export on, to a local receiver, network excluded from the per-call figure), and
//! export throughput (observations per second delivered to a local server, flush included).
//!
//! Run: `cargo run --release -p spindle --example bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use spindle::observe;

const DISABLED_CALLS: u64 = 20_000_000;
const ENABLED_CALLS: u64 = 200_000;
const EXPORTED: u64 = 500_000;

fn plain(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[observe]
fn observed(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[observe(capture_input = false, capture_output = false)]
fn observed_no_io(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// CPU time this thread has run, in nanoseconds (Linux `schedstat`), to report figures that do
/// not depend on how loaded the machine is; `None` elsewhere.
fn thread_cpu_nanos() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Wall-clock and on-CPU time per call.
struct PerCall {
    wall: f64,
    cpu: Option<f64>,
}

impl std::fmt::Display for PerCall {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cpu {
            Some(cpu) => write!(
                formatter,
                "{:>8.1} ns/call wall, {:>8.1} ns/call on-CPU",
                self.wall, cpu
            ),
            None => write!(formatter, "{:>8.1} ns/call wall", self.wall),
        }
    }
}

fn per_call(calls: u64, mut body: impl FnMut(u64) -> u64) -> PerCall {
    let cpu_start = thread_cpu_nanos();
    let start = Instant::now();
    let mut sum = 0u64;
    for index in 0..calls {
        sum = sum.wrapping_add(body(black_box(index)));
    }
    black_box(sum);
    let wall = start.elapsed().as_nanos() as f64 / calls as f64;
    let cpu = match (cpu_start, thread_cpu_nanos()) {
        (Some(before), Some(after)) => Some((after - before) as f64 / calls as f64),
        _ => None,
    };
    PerCall { wall, cpu }
}

/// A local OTLP endpoint that reads each body and answers 200.
fn start_receiver() -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/api/public/otel/v1/traces",
                axum::routing::post(|body: axum::body::Bytes| async move {
                    black_box(body.len()).to_string()
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", receiver.recv().unwrap())
}

fn main() {
    // disabled: no client has ever been enabled in this process
    let baseline = per_call(DISABLED_CALLS, plain);
    let disabled = per_call(DISABLED_CALLS, observed);
    println!("baseline plain fn call:                 {baseline}");
    println!("#[observe], tracing disabled:           {disabled}");

    let base_url = start_receiver();
    let builder = spindle::Client::builder()
        .public_key("pk-lf-bench")
        .secret_key("sk-lf-bench")
        .base_url(&base_url);
    // per-call cost on the calling thread: this client batches everything until the flush, so
    // no export competes with the timed loop (network excluded)
    let quiet = builder
        .clone()
        .flush_at(10_000_000)
        .flush_interval(Duration::from_secs(3600))
        .max_queue_size(1_000_000)
        .build()
        .expect("valid configuration");
    let (enabled, enabled_no_io) = quiet.observation("bench-root").run(|_| {
        (
            per_call(ENABLED_CALLS, observed),
            per_call(ENABLED_CALLS, observed_no_io),
        )
    });
    quiet.flush();
    println!("#[observe], export on (input+output):   {enabled}");
    println!("#[observe], export on (no capture):     {enabled_no_io}");
    quiet.shutdown();

    // throughput: default batching (512 per request), export concurrent with production
    let client = builder
        .max_queue_size(1_000_000)
        .build()
        .expect("valid configuration");
    client.install_global();
    let start = Instant::now();
    for index in 0..EXPORTED {
        black_box(observed(index));
    }
    let produced = start.elapsed();
    client.flush();
    let elapsed = start.elapsed();
    println!(
        "export throughput: {EXPORTED} observations in {:.2} s (produced in {:.2} s) = {:.0} observations/s (dropped {})",
        elapsed.as_secs_f64(),
        produced.as_secs_f64(),
        EXPORTED as f64 / elapsed.as_secs_f64(),
        client.dropped_count()
    );
    client.shutdown();
}
