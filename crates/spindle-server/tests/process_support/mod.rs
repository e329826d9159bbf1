//! Support for tests that run the real `spindle` binary: a free port, and a minimal HTTP/1.1
//! client that needs no async runtime.

#![allow(dead_code)]

use prost::Message;
use spindle_ingest::otlp::proto;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An OTLP protobuf request body with these spans, without resource or scope.
pub fn otlp_body(spans: Vec<proto::Span>) -> Vec<u8> {
    proto::ExportTraceServiceRequest {
        resource_spans: vec![proto::ResourceSpans {
            resource: None,
            scope_spans: vec![proto::ScopeSpans {
                scope: None,
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

/// A string attribute of a span.
pub fn string_attribute(key: &str, value: String) -> proto::KeyValue {
    proto::KeyValue {
        key: key.into(),
        value: Some(proto::AnyValue {
            value: Some(proto::any_value::Value::StringValue(value)),
        }),
    }
}

/// `spindle serve --port PORT` with one project and its key pair set up headlessly, logging
/// only warnings, its output discarded; callers add where the data lives.
pub fn serve(port: u16, project_id: &str, public_key: &str, secret_key: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spindle"));
    command
        .args(["serve", "--port", &port.to_string()])
        .env("LANGFUSE_INIT_PROJECT_ID", project_id)
        .env("LANGFUSE_INIT_PROJECT_PUBLIC_KEY", public_key)
        .env("LANGFUSE_INIT_PROJECT_SECRET_KEY", secret_key)
        .env("SPINDLE_LOG", "warn")
        .stdout(Stdio::null());
    command
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Requests to a server on `127.0.0.1:port`, each on its own connection.
pub struct Client {
    pub port: u16,
    /// The `Authorization` header of every request.
    pub authorization: &'static str,
    pub read_timeout: Duration,
}

impl Client {
    pub fn new(port: u16, authorization: &'static str, read_timeout: Duration) -> Self {
        Client {
            port,
            authorization,
            read_timeout,
        }
    }

    /// Waits until the server answers `GET /api/public/health` with 200; panics, after
    /// killing it, when the server exits or `limit` passes first.
    pub fn wait_healthy(&self, server: &mut Child, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok((200, _)) = self.request("GET", "/api/public/health", "", None) {
                return;
            }
            if let Ok(Some(status)) = server.try_wait() {
                panic!("the server exited during start-up: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.kill().ok();
        server.wait().ok();
        panic!("the server did not become healthy");
    }

    /// Sends one request; returns the status and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&[u8]>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(self.read_timeout))?;
        let body = body.unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.authorization,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status line"))?;
        let body_start = text
            .find("\r\n\r\n")
            .map(|index| index + 4)
            .unwrap_or(response.len());
        Ok((status, response[body_start..].to_vec()))
    }
}

/// `Authorization` of the key pair [`serve_on_postgres`] sets up (`pk-lf-pg:sk-lf-pg`).
pub const POSTGRES_AUTH: &str = "Basic cGstbGYtcGc6c2stbGYtcGc=";

/// A server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// `spindle serve` of project `pg` on the PostgreSQL database at `database_url`, its pool
/// `pool_size` connections; returns once it answers healthy.
pub fn serve_on_postgres(database_url: &str, port: u16, pool_size: u32) -> Server {
    let data_dir = std::env::temp_dir().join(format!("spindle-pg-unused-{port}"));
    let mut server = Server(
        serve(port, "pg", "pk-lf-pg", "sk-lf-pg")
            .arg("--database-url")
            .arg(database_url)
            .args(["--database-pool-size", &pool_size.to_string(), "--data-dir"])
            .arg(data_dir)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server"),
    );
    postgres_client(port).wait_healthy(&mut server.0, Duration::from_secs(60));
    server
}

/// The server on `port` started by [`serve_on_postgres`], as the project's key.
pub fn postgres_client(port: u16) -> Client {
    Client::new(port, POSTGRES_AUTH, Duration::from_secs(60))
}

/// Two [`serve_on_postgres`] instances on the database at `database_url`, started one after
/// the other: the first start also creates the web UI's admin, which two instances starting
/// at the same moment would both try. Their ports, and the processes (killed when dropped).
pub fn two_instances_on_postgres(database_url: &str, pool_size: u32) -> ([u16; 2], [Server; 2]) {
    let ports = [free_port(), free_port()];
    let servers = ports.map(|port| serve_on_postgres(database_url, port, pool_size));
    (ports, servers)
}
