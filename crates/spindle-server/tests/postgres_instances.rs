//! Several instances, one database: two `spindle serve` processes on one fresh PostgreSQL
//! database, 8 writer threads sending interleaved OTLP span creates and ingestion-API
//! creates and updates of the same traces through both, then both instances return the
//! same, complete trees. Fails (never skips) when PostgreSQL is not reachable.

use spindle_ingest::otlp::proto;
use std::time::Duration;

mod postgres_support;
mod process_support;
use postgres_support::FreshDatabase;
use process_support::{otlp_body, postgres_client, string_attribute, two_instances_on_postgres};

const TRACES: u64 = 8;
const SPANS: u64 = 10;
const WRITERS: usize = 8;

fn trace_bytes(trace: u64) -> Vec<u8> {
    let mut id = [0u8; 16];
    id[0] = 0xcd;
    id[8..].copy_from_slice(&trace.to_be_bytes());
    id.to_vec()
}

fn span_bytes(trace: u64, span: u64) -> Vec<u8> {
    (0x1000 + trace * 100 + span).to_be_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One request a writer sends.
enum Operation {
    Otlp(Vec<u8>),
    Ingestion(Vec<u8>),
}

fn otlp_spans(trace: u64, spans: std::ops::Range<u64>) -> Operation {
    let spans = spans
        .map(|span| proto::Span {
            trace_id: trace_bytes(trace),
            span_id: span_bytes(trace, span),
            parent_span_id: if span == 0 {
                Vec::new()
            } else {
                span_bytes(trace, 0)
            },
            name: format!("step-{span}"),
            start_time_unix_nano: 1_700_000_000_000_000_000 + span * 1_000_000,
            end_time_unix_nano: 1_700_000_000_000_000_000 + span * 1_000_000 + 500_000,
            attributes: vec![string_attribute(
                "langfuse.observation.input",
                format!("input {trace}/{span}"),
            )],
            ..proto::Span::default()
        })
        .collect();
    Operation::Otlp(otlp_body(spans))
}

fn ingestion(events: Vec<serde_json::Value>) -> Operation {
    Operation::Ingestion(serde_json::to_vec(&serde_json::json!({ "batch": events })).expect("json"))
}

fn operations() -> Vec<Operation> {
    let mut out = Vec::new();
    for trace in 0..TRACES {
        let trace_id = hex(&trace_bytes(trace));
        out.push(otlp_spans(trace, 0..SPANS / 2));
        out.push(otlp_spans(trace, SPANS / 2..SPANS));
        out.push(ingestion(vec![serde_json::json!({
            "id": format!("trace-create-{trace}"),
            "type": "trace-create",
            "timestamp": "2023-11-14T22:13:20.000Z",
            "body": {
                "id": trace_id,
                "name": format!("trace-{trace}"),
                "userId": format!("user-{}", trace % 3),
                "metadata": {"instance": "any"},
                "tags": ["pg"],
            },
        })]));
        for half in [0..SPANS / 2, SPANS / 2..SPANS] {
            let events = half
                .map(|span| {
                    serde_json::json!({
                        "id": format!("update-{trace}-{span}"),
                        "type": "span-update",
                        "timestamp": "2030-01-01T00:00:00.000Z",
                        "body": {
                            "id": hex(&span_bytes(trace, span)),
                            "traceId": trace_id,
                            "output": format!("final-{span}"),
                        },
                    })
                })
                .collect();
            out.push(ingestion(events));
        }
    }
    // Interleave deterministically: every writer gets parts of every trace.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..out.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.swap(i, (state % (i as u64 + 1)) as usize);
    }
    out
}

fn send(port: u16, operation: &Operation) {
    let (path, content_type, body) = match operation {
        Operation::Otlp(body) => ("/api/public/otel/v1/traces", "application/x-protobuf", body),
        Operation::Ingestion(body) => ("/api/public/ingestion", "application/json", body),
    };
    for _ in 0..600 {
        let (status, response) = postgres_client(port)
            .request("POST", path, content_type, Some(body))
            .unwrap_or_else(|e| panic!("POST {path} on {port}: {e}"));
        match status {
            429 | 503 => std::thread::sleep(Duration::from_millis(20)),
            200 => return,
            207 => {
                let answer: serde_json::Value =
                    serde_json::from_slice(&response).expect("207 body is JSON");
                let errors = answer["errors"].as_array().map_or(0, Vec::len);
                assert_eq!(errors, 0, "ingestion errors: {answer}");
                return;
            }
            other => panic!(
                "POST {path} on {port}: {other} {}",
                String::from_utf8_lossy(&response)
            ),
        }
    }
    panic!("POST {path} on {port} stayed overloaded");
}

fn get_json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = postgres_client(port)
        .request("GET", path, "application/json", None)
        .expect("GET request");
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("JSON body")
}

#[test]
fn two_instances_eight_writers_identical_complete_trees() {
    let database = FreshDatabase::create();
    // One after the other (see the store crate's concurrency test for two stores migrating
    // one schema at once).
    let (ports, servers) = two_instances_on_postgres(&database.url(), 8);

    let mut lanes: Vec<Vec<Operation>> = (0..WRITERS).map(|_| Vec::new()).collect();
    for (index, operation) in operations().into_iter().enumerate() {
        lanes[index % WRITERS].push(operation);
    }
    std::thread::scope(|scope| {
        for (writer, lane) in lanes.iter().enumerate() {
            scope.spawn(move || {
                for (index, operation) in lane.iter().enumerate() {
                    send(ports[(writer + index) % 2], operation);
                }
            });
        }
    });

    for trace in 0..TRACES {
        let trace_id = hex(&trace_bytes(trace));
        let path = format!("/api/public/traces/{trace_id}");
        let views = [get_json(ports[0], &path), get_json(ports[1], &path)];
        assert_eq!(views[0], views[1], "both instances return the same trace");
        let view = &views[0];
        assert_eq!(view["name"], format!("trace-{trace}"), "{view}");
        let observations = view["observations"].as_array().expect("observations");
        assert_eq!(observations.len() as u64, SPANS, "{view}");
        for span in 0..SPANS {
            let id = hex(&span_bytes(trace, span));
            let observation = observations
                .iter()
                .find(|o| o["id"] == id.as_str())
                .unwrap_or_else(|| panic!("observation {id} of trace {trace_id}"));
            assert_eq!(observation["name"], format!("step-{span}"));
            assert_eq!(observation["output"], format!("final-{span}"));
            assert_eq!(observation["input"], format!("input {trace}/{span}"));
        }
    }
    let list = [
        get_json(ports[0], "/api/public/traces?limit=100"),
        get_json(ports[1], "/api/public/traces?limit=100"),
    ];
    assert_eq!(list[0], list[1]);
    assert_eq!(list[0]["meta"]["totalItems"], TRACES, "{}", list[0]);
    drop(servers);
}
