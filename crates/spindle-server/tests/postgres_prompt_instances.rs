//! Prompts with several instances on one database: two `spindle serve` processes on one fresh
//! PostgreSQL database. Versions created through both at once are numbered once each; a
//! label moved through one instance reaches the other's served (cached) answer within its
//! cache's short lifetime. Fails (never skips) when PostgreSQL is not reachable.

use serde_json::{json, Value};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod postgres_support;
mod process_support;
use postgres_support::FreshDatabase;
use process_support::{free_port, serve, Client};

const AUTH: &str = "Basic cGstbGYtcGc6c2stbGYtcGc="; // pk-lf-pg:sk-lf-pg
const CREATES_PER_INSTANCE: usize = 6;

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn spawn(database_url: &str, port: u16) -> Server {
    let data_dir = std::env::temp_dir().join(format!("spindle-pg-unused-{port}"));
    let mut server = Server(
        serve(port, "pg", "pk-lf-pg", "sk-lf-pg")
            .arg("--database-url")
            .arg(database_url)
            .args(["--database-pool-size", "4", "--data-dir"])
            .arg(data_dir)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server"),
    );
    client(port).wait_healthy(&mut server.0, Duration::from_secs(60));
    server
}

fn client(port: u16) -> Client {
    Client::new(port, AUTH, Duration::from_secs(60))
}

fn send(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let bytes = body.map(|body| serde_json::to_vec(body).expect("json"));
    let (status, response) = client(port)
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

#[test]
fn two_instances_number_versions_once_and_serve_label_moves() {
    let database = FreshDatabase::create();
    let url = database.url();
    let ports = [free_port(), free_port()];
    let _first = spawn(&url, ports[0]);
    let _second = spawn(&url, ports[1]);

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
    let (status, _) = send(
        ports[0],
        "PATCH",
        "/api/public/v2/prompts/shared/versions/1",
        Some(&json!({"newLabels": ["production"]})),
    );
    assert_eq!(status, 200);
    for port in ports {
        let (status, served) = send(port, "GET", "/api/public/v2/prompts/shared", None);
        assert_eq!(status, 200, "{served}");
        assert_eq!(served["version"], 1);
    }
    // The label moves through the first instance; the second serves the move once its
    // cached answer expires.
    let (status, _) = send(
        ports[0],
        "PATCH",
        "/api/public/v2/prompts/shared/versions/7",
        Some(&json!({"newLabels": ["production"]})),
    );
    assert_eq!(status, 200);
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
