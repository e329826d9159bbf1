//! A minimal HTTP/1.1 client over one keep-alive `TcpStream`: just enough to drive the server
//! from the benchmark without adding client-side work that would compete for the CPU.

use anyhow::{bail, Context};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One answer: status, the `Retry-After` and `Set-Cookie` headers if any, and the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub retry_after_seconds: Option<f64>,
    pub set_cookie: Option<String>,
    pub body: Vec<u8>,
}

/// A keep-alive connection to `127.0.0.1:port` that reconnects when the server closes it.
pub struct Connection {
    port: u16,
    /// Header lines sent with every request, each ending in CRLF.
    headers: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// A connection that sends `Authorization: {authorization}` with every request.
    pub fn new(port: u16, authorization: String) -> Self {
        Connection::with_headers(port, format!("Authorization: {authorization}\r\n"))
    }

    /// A connection that sends `headers` (lines ending in CRLF) with every request.
    pub fn with_headers(port: u16, headers: String) -> Self {
        Connection {
            port,
            headers,
            stream: None,
        }
    }

    /// Sends `GET path` and reads the whole answer.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<Response> {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Accept: application/json\r\n\r\n",
            self.port, self.headers
        );
        self.round_trip(head.as_bytes(), &[]).await
    }

    /// Sends `GET path` and fails unless the answer is 200; returns the answer and how long
    /// the request took.
    pub async fn get_ok(&mut self, path: &str) -> anyhow::Result<(Response, Duration)> {
        let started = Instant::now();
        let response = self.get(path).await?;
        let elapsed = started.elapsed();
        if response.status != 200 {
            bail!(
                "GET {path} got {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        Ok((response, elapsed))
    }

    /// Sends `DELETE path` without a body and reads the whole answer.
    pub async fn delete(&mut self, path: &str) -> anyhow::Result<Response> {
        let head = format!(
            "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Accept: application/json\r\n\r\n",
            self.port, self.headers
        );
        self.round_trip(head.as_bytes(), &[]).await
    }

    /// Sends `POST path` with a body (and `Content-Encoding: gzip` when `gzip`).
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        gzip: bool,
        body: &[u8],
    ) -> anyhow::Result<Response> {
        self.send("POST", path, content_type, gzip, body).await
    }

    /// Sends `method path` with a body (and `Content-Encoding: gzip` when `gzip`).
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        gzip: bool,
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let encoding = if gzip {
            "Content-Encoding: gzip\r\n"
        } else {
            ""
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Content-Type: {content_type}\r\n{encoding}Content-Length: {}\r\n\r\n",
            self.port,
            self.headers,
            body.len()
        );
        self.round_trip(head.as_bytes(), body).await
    }

    /// Sends `POST path` with a JSON body; fails, naming `what`, unless the answer is 200.
    pub async fn post_json(
        &mut self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> anyhow::Result<Response> {
        self.send_json("POST", path, body, what).await
    }

    /// Sends `PUT path` with a JSON body; fails, naming `what`, unless the answer is 200.
    pub async fn put_json(
        &mut self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> anyhow::Result<Response> {
        self.send_json("PUT", path, body, what).await
    }

    async fn send_json(
        &mut self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> anyhow::Result<Response> {
        let body = body.to_string();
        let response = self
            .send(method, path, "application/json", false, body.as_bytes())
            .await?;
        if response.status != 200 {
            bail!(
                "{what} got {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        Ok(response)
    }

    async fn round_trip(&mut self, head: &[u8], body: &[u8]) -> anyhow::Result<Response> {
        // A kept-alive connection the server closed in the meantime fails on first use:
        // reconnect once, then report the error.
        let reused = self.stream.is_some();
        match self.try_round_trip(head, body).await {
            Ok(response) => Ok(response),
            Err(_) if reused => {
                self.stream = None;
                self.try_round_trip(head, body).await
            }
            Err(error) => Err(error),
        }
    }

    async fn try_round_trip(&mut self, head: &[u8], body: &[u8]) -> anyhow::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", self.port))
                .await
                .with_context(|| format!("connecting to 127.0.0.1:{}", self.port))?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::with_capacity(64 * 1024, stream));
        }
        let Some(stream) = self.stream.as_mut() else {
            bail!("no connection");
        };
        let result = exchange(stream, head, body).await;
        match &result {
            Ok((_, keep_alive)) if *keep_alive => {}
            _ => self.stream = None,
        }
        result.map(|(response, _)| response)
    }
}

async fn exchange(
    stream: &mut BufReader<TcpStream>,
    head: &[u8],
    body: &[u8],
) -> anyhow::Result<(Response, bool)> {
    stream.get_mut().write_all(head).await?;
    if !body.is_empty() {
        stream.get_mut().write_all(body).await?;
    }
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        bail!("connection closed before the status line");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("bad status line {line:?}"))?;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut keep_alive = true;
    let mut retry_after_seconds = None;
    let mut set_cookie = None;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            bail!("connection closed inside the headers");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => content_length = value.parse().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            "retry-after" => retry_after_seconds = value.parse().ok(),
            "set-cookie" => set_cookie = Some(value.to_owned()),
            _ => {}
        }
    }
    let mut response_body = Vec::new();
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = response_body.len();
            response_body.resize(start + size, 0);
            stream.read_exact(&mut response_body[start..]).await?;
            let mut crlf = [0u8; 2];
            stream.read_exact(&mut crlf).await?;
        }
    } else if let Some(length) = content_length {
        response_body.resize(length, 0);
        stream.read_exact(&mut response_body).await?;
    } else {
        stream.read_to_end(&mut response_body).await?;
        keep_alive = false;
    }
    Ok((
        Response {
            status,
            retry_after_seconds,
            set_cookie,
            body: response_body,
        },
        keep_alive,
    ))
}

/// Percent-encodes a query-string value: everything but letters, digits and `-_.~`.
pub fn encode_query_value(value: &str) -> String {
    const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(value, ESCAPED).to_string()
}
