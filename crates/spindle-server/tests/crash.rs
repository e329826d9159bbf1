//! Crash safety of the real binary: `kill -9` in the middle of a load, restart on the same
//! data dir, and every span whose request was answered 2xx is there.

mod process_support;

use process_support::{free_port, otlp_body, serve, string_attribute, Client};
use spindle_ingest::otlp::proto;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AUTH: &str = "Basic cGstbGYtY3Jhc2g6c2stbGYtY3Jhc2g="; // pk-lf-crash:sk-lf-crash
const PROTOBUF: &str = "application/x-protobuf";

fn start(data_dir: &Path, port: u16) -> Child {
    let mut child = serve(port, "crash", "pk-lf-crash", "sk-lf-crash")
        .arg("--data-dir")
        .arg(data_dir)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    client(port).wait_healthy(&mut child, Duration::from_secs(30));
    child
}

/// The server on `port`, as the crash project's key.
fn client(port: u16) -> Client {
    Client::new(port, AUTH, Duration::from_secs(30))
}

fn batch(trace_number: u64) -> Vec<u8> {
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&trace_number.to_be_bytes());
    trace_id[0] = 0xab;
    let spans = (1..=10u64)
        .map(|index| proto::Span {
            trace_id: trace_id.to_vec(),
            span_id: (trace_number * 100 + index).to_be_bytes().to_vec(),
            parent_span_id: if index == 1 {
                Vec::new()
            } else {
                (trace_number * 100 + 1).to_be_bytes().to_vec()
            },
            name: format!("step-{index}"),
            start_time_unix_nano: 1_700_000_000_000_000_000 + index,
            end_time_unix_nano: 1_700_000_000_000_000_000 + index + 1_000,
            attributes: vec![string_attribute(
                "langfuse.observation.input",
                "x".repeat(2_000),
            )],
            ..proto::Span::default()
        })
        .collect();
    otlp_body(spans)
}

#[test]
fn acknowledged_spans_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut server = start(dir.path(), port);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..4u64)
        .map(|loader| {
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut number = loader * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    number += 1;
                    match client(port).request(
                        "POST",
                        "/api/public/otel/v1/traces",
                        PROTOBUF,
                        Some(&batch(number)),
                    ) {
                        Ok((200, _)) => acknowledged.lock().expect("lock").push(number),
                        Ok(_) => {}
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill().expect("SIGKILL the server");
    server.wait().expect("reap");
    stop.store(true, Ordering::SeqCst);
    for loader in loaders {
        loader.join().expect("loader");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 40,
        "the load ran: {} batches acknowledged",
        acknowledged.len()
    );

    let mut server = start(dir.path(), port);
    for number in &acknowledged {
        let mut trace_id = [0u8; 16];
        trace_id[8..].copy_from_slice(&number.to_be_bytes());
        trace_id[0] = 0xab;
        let (status, body) = client(port)
            .request(
                "GET",
                &format!("/api/public/traces/{}", hex::encode(trace_id)),
                PROTOBUF,
                None,
            )
            .expect("read after restart");
        assert_eq!(
            status, 200,
            "acknowledged trace {number} is missing after kill -9"
        );
        let trace: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            trace["observations"].as_array().map(Vec::len),
            Some(10),
            "trace {number}"
        );
        assert_eq!(trace["name"], "step-1");
    }
    server.kill().ok();
    server.wait().ok();
}
