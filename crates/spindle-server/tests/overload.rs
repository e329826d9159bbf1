//! The HTTP layer under hostile load, on the real binary: memory bounded in bytes far past
//! capacity, stalled uploads that neither starve other clients nor outlive the body-read
//! timeout, a stop within the grace period despite a stalled client, statuses that simple
//! clients (Python's `http.client`) see instead of a broken pipe, readiness that follows
//! the data directory, and connections bounded in number with a header-read timeout.

mod process_support;

use process_support::{free_port, otlp_body, serve, string_attribute, Client};
use spindle_ingest::otlp::proto;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BASIC: &str = "Basic cGstbGYtbG9hZDpzay1sZi1sb2Fk"; // pk-lf-load:sk-lf-load
const BEARER: &str = "Bearer pk-lf-load";
const MIB: u64 = 1024 * 1024;

fn start(data_dir: &Path, port: u16, args: &[&str]) -> Child {
    let mut child = serve(port, "load", "pk-lf-load", "sk-lf-load")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    client(port, BASIC).wait_healthy(&mut child, Duration::from_secs(60));
    child
}

fn client(port: u16, authorization: &'static str) -> Client {
    Client::new(port, authorization, Duration::from_secs(60))
}

fn stop(mut server: Child) {
    server.kill().ok();
    server.wait().ok();
}

/// A line of `/proc/PID/status` in bytes (`VmHWM` is the peak resident set).
fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// A batch ingestion body of `events` span-create events with `payload` bytes of input each.
fn batch_body(tag: &str, events: usize, payload: usize) -> Vec<u8> {
    let input = "x".repeat(payload);
    let mut body = String::with_capacity(events * (payload + 200) + 16);
    body.push_str("{\"batch\":[");
    for index in 0..events {
        if index > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            "{{\"id\":\"{tag}-e{index}\",\"type\":\"span-create\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\
             \"body\":{{\"id\":\"{tag}-s{index}\",\"traceId\":\"{tag}-t{}\",\"name\":\"step\",\"input\":\"{input}\"}}}}",
            index / 100
        ));
    }
    body.push_str("]}");
    body.into_bytes()
}

#[derive(Debug, Default)]
struct Outcomes {
    accepted: AtomicUsize,
    refused: AtomicUsize,
    other: AtomicUsize,
    broken: AtomicUsize,
}

/// `connections` threads each sending `requests` batch bodies (made by `body`) one after the
/// other, each on a fresh connection that writes the whole body before reading the answer.
fn hammer(
    port: u16,
    connections: usize,
    requests: usize,
    body: impl Fn(usize, usize) -> Vec<u8> + Send + Sync + 'static,
) -> Arc<Outcomes> {
    let outcomes = Arc::new(Outcomes::default());
    let body = Arc::new(body);
    let threads: Vec<_> = (0..connections)
        .map(|connection| {
            let outcomes = outcomes.clone();
            let body = body.clone();
            std::thread::spawn(move || {
                for request in 0..requests {
                    let payload = body(connection, request);
                    let counter = match client(port, BASIC).request(
                        "POST",
                        "/api/public/ingestion",
                        "application/json",
                        Some(&payload),
                    ) {
                        Ok((207, _)) => &outcomes.accepted,
                        Ok((429 | 503, _)) => &outcomes.refused,
                        Ok(_) => &outcomes.other,
                        Err(_) => &outcomes.broken,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("load thread");
    }
    outcomes
}

#[test]
fn memory_stays_bounded_far_past_capacity_at_the_defaults() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = start(dir.path(), port, &[]);
    let pid = server.id();
    // 96 connections of 1,000-event batches with 2 KB inputs (~2.3 MB each), then 32
    // connections of ~10 MB bodies: many times what 64 requests or 64 MiB in flight admit.
    let batches = hammer(port, 96, 2, |connection, request| {
        batch_body(&format!("a{connection}-{request}"), 1000, 2000)
    });
    let large = hammer(port, 32, 1, |connection, request| {
        batch_body(&format!("b{connection}-{request}"), 4500, 2000)
    });
    let peak = status_bytes(pid, "VmHWM");
    // Once writes stop, the freed heap goes back to the system (capped arenas, idle trim).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut after = status_bytes(pid, "VmRSS");
    while after >= 100 * MIB && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        after = status_bytes(pid, "VmRSS");
    }
    stop(server);
    for (name, outcomes) in [("2 MB batches", &batches), ("10 MB batches", &large)] {
        assert!(
            outcomes.accepted.load(Ordering::Relaxed) > 0,
            "{name}: some accepted: {outcomes:?}"
        );
        assert_eq!(
            outcomes.other.load(Ordering::Relaxed),
            0,
            "{name}: only 207, 429 or 503: {outcomes:?}"
        );
        assert_eq!(
            outcomes.broken.load(Ordering::Relaxed),
            0,
            "{name}: every client read its status: {outcomes:?}"
        );
    }
    assert!(
        batches.refused.load(Ordering::Relaxed) > 0,
        "the load was past capacity: {batches:?}"
    );
    eprintln!(
        "peak RSS at the defaults: {} MiB, {} MiB after the burst",
        peak / MIB,
        after / MIB
    );
    assert!(
        peak < 300 * MIB,
        "peak RSS {} MiB at the defaults (limit 300 MiB)",
        peak / MIB
    );
    assert!(
        after < 100 * MIB,
        "{} MiB still resident after the burst",
        after / MIB
    );
}

/// The bound ARCHITECTURE.md states: the process at rest, plus three times the body budget
/// (the bodies, and what they are parsed into while they are processed), plus the SQLite
/// caches.
fn memory_bound(idle: u64, body_budget: u64) -> u64 {
    idle + 3 * body_budget + 64 * MIB
}

#[test]
fn memory_follows_the_configured_byte_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let budget = 16 * MIB;
    let server = start(
        dir.path(),
        port,
        &[
            "--max-body-bytes",
            &(4 * MIB).to_string(),
            "--max-inflight-body-bytes",
            &budget.to_string(),
        ],
    );
    let pid = server.id();
    let idle = status_bytes(pid, "VmRSS");
    let outcomes = hammer(port, 48, 2, |connection, request| {
        batch_body(&format!("c{connection}-{request}"), 1000, 2000)
    });
    let peak = status_bytes(pid, "VmHWM");
    stop(server);
    assert!(
        outcomes.accepted.load(Ordering::Relaxed) > 0,
        "{outcomes:?}"
    );
    assert!(outcomes.refused.load(Ordering::Relaxed) > 0, "{outcomes:?}");
    assert_eq!(outcomes.broken.load(Ordering::Relaxed), 0, "{outcomes:?}");
    let bound = memory_bound(idle, budget);
    eprintln!(
        "16 MiB budget: idle {} MiB, peak {} MiB, bound {} MiB",
        idle / MIB,
        peak / MIB,
        bound / MIB
    );
    assert!(
        peak < bound,
        "peak RSS {} MiB over the bound {} MiB",
        peak / MIB,
        bound / MIB
    );
}

/// A metric's value from `/metrics`.
fn metric(port: u16, name: &str) -> f64 {
    let (status, body) = client(port, BASIC)
        .request("GET", "/metrics", "", None)
        .expect("metrics");
    assert_eq!(status, 200);
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// Waits until `metric` reaches `at_least`; panics after 30 s.
fn wait_for_metric(port: u16, name: &str, at_least: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(port, name) < at_least {
        assert!(Instant::now() < deadline, "{name} never reached {at_least}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A connection that sent a request head announcing `length` body bytes and `sent` of them,
/// then stalls.
fn stalled_upload(
    port: u16,
    path: &str,
    authorization: &str,
    content_type: &str,
    length: usize,
    sent: usize,
) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream
        .write_all(&vec![b' '; sent])
        .expect("part of the body");
    stream
}

/// The status line's code of what `stream` reads next.
fn read_status(stream: &mut TcpStream) -> u16 {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    while !response.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).expect("read the answer");
        assert!(read > 0, "closed before a status");
        response.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line")
}

fn otlp_request() -> Vec<u8> {
    otlp_body(vec![proto::Span {
        trace_id: vec![7; 16],
        span_id: vec![7; 8],
        name: "normal".into(),
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_000_001_000,
        attributes: vec![string_attribute(
            "langfuse.observation.input",
            "x".repeat(100),
        )],
        ..proto::Span::default()
    }])
}

#[test]
fn stalled_uploads_with_the_public_key_do_not_starve_other_clients() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = start(dir.path(), port, &["--body-read-timeout-seconds", "300"]);
    // 64 uploads with the public key that anyone can read from a web page, each 1 MiB into a
    // 10 MB score body, then silent: together far more than the key's half of 64 MiB.
    let stalled: Vec<TcpStream> = (0..64)
        .map(|_| {
            stalled_upload(
                port,
                "/api/public/scores",
                BEARER,
                "application/json",
                10_000_000,
                1 << 20,
            )
        })
        .collect();
    wait_for_metric(port, "spindle_body_bytes_in_flight", 30.0 * MIB as f64);
    assert!(
        metric(port, "spindle_body_bytes_in_flight") <= 32.0 * MIB as f64,
        "one key holds at most half of the budget"
    );
    assert_eq!(metric(port, "spindle_ingest_requests_in_flight"), 0.0);
    for attempt in 0..5 {
        let (status, body) = client(port, BASIC)
            .request(
                "POST",
                "/api/public/otel/v1/traces",
                "application/x-protobuf",
                Some(&otlp_request()),
            )
            .expect("the normal client's request");
        assert_eq!(
            status,
            200,
            "attempt {attempt}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (status, _) = client(port, BASIC)
        .request(
            "POST",
            "/api/public/ingestion",
            "application/json",
            Some(&batch_body("normal", 10, 100)),
        )
        .expect("batch");
    assert_eq!(status, 207);
    drop(stalled);
    stop(server);
}

#[test]
fn a_stalled_upload_answers_408_and_gives_back_its_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = start(dir.path(), port, &["--body-read-timeout-seconds", "1"]);
    let mut stalled = stalled_upload(
        port,
        "/api/public/ingestion",
        BASIC,
        "application/json",
        1 << 20,
        100_000,
    );
    assert_eq!(read_status(&mut stalled), 408);
    assert_eq!(metric(port, "spindle_body_bytes_in_flight"), 0.0);
    stop(server);
}

#[test]
fn shutdown_ends_within_the_grace_period_despite_a_stalled_client() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let grace = 3;
    let mut server = start(
        dir.path(),
        port,
        &[
            "--shutdown-grace-seconds",
            &grace.to_string(),
            "--body-read-timeout-seconds",
            "600",
        ],
    );
    let _stalled_body = stalled_upload(
        port,
        "/api/public/otel/v1/traces",
        BASIC,
        "application/x-protobuf",
        1 << 20,
        1000,
    );
    let mut stalled_head = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stalled_head
        .write_all(b"POST /api/public/ingestion HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("half a head");
    wait_for_metric(port, "spindle_body_bytes_in_flight", 1000.0);
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let limit = Duration::from_secs(grace + 5);
    let exit = loop {
        if let Some(exit) = server.try_wait().expect("wait") {
            break exit;
        }
        if signalled.elapsed() > limit {
            server.kill().ok();
            server.wait().ok();
            panic!("still running {limit:?} after SIGTERM with a {grace} s grace");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a clean stop: {exit:?}");
}

/// Python's `http.client` writes the whole body before it reads the answer.
const PYTHON_POST: &str = r#"
import http.client, sys
port, authorization, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
try:
    connection.request("POST", "/api/public/ingestion", body=b" " * size,
                       headers={"Authorization": authorization, "Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    print(response.status)
except Exception as error:
    print("broken", type(error).__name__, error)
"#;

fn python_post(port: u16, authorization: &str, size: usize) -> String {
    let output = Command::new("python3")
        .args([
            "-c",
            PYTHON_POST,
            &port.to_string(),
            authorization,
            &size.to_string(),
        ])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn python_http_client_sees_413_429_and_401_instead_of_a_broken_pipe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let limit = 64 * 1024;
    let server = start(
        dir.path(),
        port,
        &[
            "--max-body-bytes",
            &limit.to_string(),
            "--max-inflight-body-bytes",
            &limit.to_string(),
            "--body-read-timeout-seconds",
            "300",
        ],
    );
    assert_eq!(
        python_post(port, BASIC, 4 << 20),
        "413",
        "a body past the limit"
    );
    assert_eq!(
        python_post(port, "Basic d3Jvbmc6a2V5", 4 << 20),
        "401",
        "wrong credentials"
    );
    // The key's whole budget is held by a stalled upload: the next body is refused midway.
    let _stalled = stalled_upload(
        port,
        "/api/public/ingestion",
        BASIC,
        "application/json",
        limit,
        40_000,
    );
    wait_for_metric(port, "spindle_body_bytes_in_flight", 40_000.0);
    assert_eq!(
        python_post(port, BASIC, 60_000),
        "429",
        "past the byte budget"
    );
    stop(server);
}

/// Makes a directory unwritable, for root too (which ignores permission bits: the directory
/// is made immutable instead), and restores it when dropped.
struct Unwritable<'a> {
    dir: &'a Path,
    immutable: bool,
}

impl<'a> Unwritable<'a> {
    fn new(dir: &'a Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        let probe = dir.join("can-i-write");
        if std::fs::write(&probe, b"x").is_err() {
            return Unwritable {
                dir,
                immutable: false,
            };
        }
        std::fs::remove_file(&probe).expect("remove the probe");
        let status = Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .expect("chattr runs");
        assert!(status.success(), "chattr +i {}", dir.display());
        assert!(
            std::fs::write(&probe, b"x").is_err(),
            "the directory is unwritable"
        );
        Unwritable {
            dir,
            immutable: true,
        }
    }
}

impl Drop for Unwritable<'_> {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(self.dir).status();
        }
        let _ = std::fs::set_permissions(self.dir, std::fs::Permissions::from_mode(0o755));
    }
}

/// Reads what the server sends `stream` until it closes: nothing, or at most a 408.
fn assert_cut_off_without_an_answer(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut response = Vec::new();
    // A reset counts as closed as much as an orderly end does; a read timeout does not.
    if let Err(error) = stream.read_to_end(&mut response) {
        assert!(
            !matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the server kept a client that never finished its headers: {error}"
        );
    }
    let text = String::from_utf8_lossy(&response);
    assert!(
        response.is_empty() || text.starts_with("HTTP/1.1 408"),
        "a client that never finished its headers got: {text}"
    );
}

#[test]
fn connections_past_the_limit_wait_and_unfinished_headers_are_cut_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = start(
        dir.path(),
        port,
        &[
            "--max-connections",
            "3",
            "--header-read-timeout-seconds",
            "2",
        ],
    );
    // Three clients take every connection slot and never finish a request head.
    let mut stalled: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream
                .write_all(b"GET /api/public/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .expect("part of a head");
            stream
        })
        .collect();
    // A fourth client waits for a slot, which the header-read timeout frees; the server then
    // counts no more connections than its limit.
    let open = metric(port, "spindle_open_connections");
    assert!((1.0..=3.0).contains(&open), "{open} connections open");
    for stream in &mut stalled {
        assert_cut_off_without_an_answer(stream);
    }
    // The slots are free again: requests go through.
    for _ in 0..5 {
        assert_eq!(get(port, "/api/public/health").0, 200);
    }
    // A request head past the read buffer's bound (under hyper's own default of ~400 KB) is
    // refused instead of buffered.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let head = format!(
        "GET /api/public/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(300 * 1024)
    );
    // The server may answer before it has read the whole head.
    let _ = stream.write_all(head.as_bytes());
    assert_eq!(read_status(&mut stream), 431);
    stop(server);
}

/// The status and whole response of a GET.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    (status, response)
}

/// Polls `path` until it answers `status`; panics after 20 s.
fn wait_for_status(port: u16, path: &str, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (answered, response) = get(port, path);
        if answered == status {
            return response;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {answered}, not {status}: {response}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn readiness_fails_while_the_data_dir_is_not_writable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).expect("data dir");
    let port = free_port();
    let server = start(&data_dir, port, &[]);
    assert_eq!(get(port, "/readyz").0, 200);
    {
        let _unwritable = Unwritable::new(&data_dir);
        let health = wait_for_status(port, "/api/public/health", 503);
        assert!(health.contains("not writable"), "{health}");
        let ready = wait_for_status(port, "/readyz", 503);
        assert!(
            ready.to_ascii_lowercase().contains("retry-after: 1"),
            "{ready}"
        );
        assert_eq!(get(port, "/livez").0, 200, "alive all the same");
    }
    wait_for_status(port, "/api/public/health", 200);
    wait_for_status(port, "/readyz", 200);
    stop(server);
}
