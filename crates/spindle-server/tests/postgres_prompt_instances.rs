//! Prompts with several instances on one database: two `spindle serve` processes on one fresh
//! PostgreSQL database. Versions created through both at once are numbered once each; a
//! label moved through one instance reaches the other's served (cached) answer within its
//! cache's short lifetime. Fails (never skips) when PostgreSQL is not reachable.

use serde_json::{json, Value};
use std::time::{Duration, Instant};

mod postgres_support;
mod process_support;
use postgres_support::FreshDatabase;
use process_support::{postgres_client, two_instances_on_postgres};

const CREATES_PER_INSTANCE: usize = 6;

fn send(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let bytes = body.map(|body| serde_json::to_vec(body).expect("json"));
    let (status, response) = postgres_client(port)
        .request(method, path, "application/json", bytes.as_deref())
        .expect("request");
    let value = if response.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&response)))
    };
    (status, value)
}

/// Moves label `production` of prompt `shared` to `version` through the instance on `port`.
fn label_production(port: u16, version: u32) {
    let path = format!("/api/public/v2/prompts/shared/versions/{version}");
    let body = json!({"newLabels": ["production"]});
    let (status, _) = send(port, "PATCH", &path, Some(&body));
    assert_eq!(status, 200);
}

#[test]
fn two_instances_number_versions_once_and_serve_label_moves() {
    let database = FreshDatabase::create();
    let (ports, _servers) = two_instances_on_postgres(&database.url(), 4);

    // Creates through both instances at once.
    let writers: Vec<_> = ports
        .iter()
        .flat_map(|port| (0..CREATES_PER_INSTANCE).map(move |index| (*port, index)))
        .map(|(port, index)| {
            std::thread::spawn(move || {
                let body = json!({"name": "shared", "prompt": format!("from {port} #{index}")});
                let (status, created) = send(port, "POST", "/api/public/v2/prompts", Some(&body));
                assert_eq!(status, 201, "{created}");
                created["version"].as_i64().expect("a version")
            })
        })
        .collect();
    let mut versions: Vec<i64> = writers
        .into_iter()
        .map(|writer| writer.join().expect("writer"))
        .collect();
    versions.sort();
    let expected: Vec<i64> = (1..=(2 * CREATES_PER_INSTANCE) as i64).collect();
    assert_eq!(versions, expected, "every version number used once");

    // Both instances serve version 1 as production, the second from its cache.
    label_production(ports[0], 1);
    for port in ports {
        let (status, served) = send(port, "GET", "/api/public/v2/prompts/shared", None);
        assert_eq!(status, 200, "{served}");
        assert_eq!(served["version"], 1);
    }
    // The label moves through the first instance; the second serves the move once its
    // cached answer expires.
    label_production(ports[0], 7);
    assert_eq!(
        send(ports[0], "GET", "/api/public/v2/prompts/shared", None).1["version"],
        7,
        "the writing instance serves the move at once"
    );
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, served) = send(ports[1], "GET", "/api/public/v2/prompts/shared", None);
        if served["version"] == 7 {
            break;
        }
        assert!(
            Instant::now() < give_up,
            "the other instance still serves version {} of production",
            served["version"]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, listed) = send(ports[1], "GET", "/api/public/v2/prompts?name=shared", None);
    assert_eq!(
        listed["data"][0]["versions"].as_array().map(Vec::len),
        Some(12)
    );
}
