//! Server configuration: one typed struct, every option documented once on its field, read
//! from flags and `SPINDLE_*` variables by clap and validated before anything starts.

use crate::state::AppState;
use clap::Args;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Options of `spindle serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SPINDLE_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free port).
    #[arg(long, env = "SPINDLE_PORT", default_value_t = 3000)]
    pub port: u16,

    #[command(flatten)]
    pub storage: StorageConfig,

    /// Largest accepted request body in bytes, after decompression.
    #[arg(long, env = "SPINDLE_MAX_BODY_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Write batches that may wait for a commit; beyond it ingestion answers 503 with Retry-After.
    #[arg(long, env = "SPINDLE_WRITE_QUEUE", default_value_t = 64)]
    pub write_queue: usize,

    /// Ingestion requests processed at once, counted from when their whole body has arrived;
    /// one API key takes at most half. Beyond it ingestion answers 429 with Retry-After.
    #[arg(long, env = "SPINDLE_MAX_INFLIGHT_INGEST", default_value_t = 64)]
    pub max_inflight_ingest: usize,

    /// Milliseconds an ingestion request whose body has arrived waits for a processing slot
    /// when all are taken, before it answers 429. Slots come free as batches commit, and some
    /// SDKs drop a batch answered 429; 0 refuses at once.
    #[arg(long, env = "SPINDLE_INGEST_SLOT_WAIT_MS", default_value_t = AppState::DEFAULT_INGEST_SLOT_WAIT.as_millis() as u64)]
    pub ingest_slot_wait_ms: u64,

    /// Request body bytes held in memory at once, all requests together, counted as they
    /// arrive (decompressed bytes included) until the request is answered; one API key holds
    /// at most half (at least one largest body). Beyond it the request answers 429 with
    /// Retry-After. At least --max-body-bytes.
    #[arg(long, env = "SPINDLE_MAX_INFLIGHT_BODY_BYTES", default_value_t = AppState::DEFAULT_MAX_INFLIGHT_BODY_BYTES)]
    pub max_inflight_body_bytes: usize,

    /// Seconds a request body may take to arrive; a slower upload answers 408 and gives back
    /// what it held.
    #[arg(long, env = "SPINDLE_BODY_READ_TIMEOUT_SECONDS", default_value_t = AppState::DEFAULT_BODY_READ_TIMEOUT.as_secs())]
    pub body_read_timeout_seconds: u64,

    /// Connections open at once; further clients wait in the kernel's backlog until one
    /// closes. Each holds a read buffer of at most about 128 KiB beside its request's body.
    #[arg(long, env = "SPINDLE_MAX_CONNECTIONS", default_value_t = AppState::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Seconds a client may take to send a request's headers, also the longest a keep-alive
    /// connection may sit idle; the connection is closed after it.
    #[arg(
        long,
        env = "SPINDLE_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 30
    )]
    pub header_read_timeout_seconds: u64,

    /// Reverse proxies in front of Spindle, as comma-separated addresses or networks
    /// (`10.0.0.0/8,::1`). A request from one of them is attributed to the client its
    /// `X-Forwarded-For` names (the nearest hop that is not a trusted proxy), for the
    /// per-address sign-in delays. Empty: the connection's peer is the client.
    #[arg(long, env = "SPINDLE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::listen::parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds a metrics query (the metrics API, the dashboard's panels) may run (on
    /// PostgreSQL, each of its statements); one that reads too many raw rows is stopped there
    /// and answers 400 asking for a narrower range or filters (a dashboard panel shows that
    /// note). The rollups answer in milliseconds. 0: no limit.
    #[arg(long, env = "SPINDLE_METRICS_QUERY_SECONDS", default_value_t = spindle_store::metrics::DEFAULT_TIME_LIMIT.as_secs())]
    pub metrics_query_seconds: u64,

    /// Log format: `text` or `json`.
    #[arg(long, env = "SPINDLE_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Log filter, in `RUST_LOG` syntax.
    #[arg(long, env = "SPINDLE_LOG", default_value = "info")]
    pub log: String,

    /// Seconds from SIGTERM to exit: in-flight requests may finish until then, connections
    /// still open a moment before are closed, and queued writes are committed.
    #[arg(long, env = "SPINDLE_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
}

/// Where the data lives; shared by `serve` and the admin commands.
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// Directory of the embedded SQLite database and media blobs.
    #[arg(long, env = "SPINDLE_DATA_DIR", default_value = "./spindle-data")]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH` (default: the data dir), or `postgres://USER@HOST/DB`
    /// (`postgresql://` too) to store everything in PostgreSQL, shared by any number of
    /// instances.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Connections this instance keeps to PostgreSQL (reads and writes share them); size it
    /// so that all instances together stay below the server's `max_connections`. Ignored for
    /// SQLite.
    #[arg(long, env = "SPINDLE_DATABASE_POOL_SIZE", default_value_t = 16)]
    pub database_pool_size: usize,

    /// Store the inputs and outputs of traces and observations (64 bytes and more)
    /// zstd-compressed in SQLite, with a dictionary trained on the database's first
    /// payloads: less than half the disk per span; packed before the writer thread takes a
    /// batch, so the writer does not pay for it; searches that scan read slower. `false`
    /// stores new payloads as text; rows written either way stay readable after switching
    /// it. Ignored for PostgreSQL, which compresses large values itself (LZ4).
    #[arg(
        long,
        env = "SPINDLE_COMPRESS_PAYLOADS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub compress_payloads: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl ServeConfig {
    /// Checks the values clap cannot check alone. The message names the variable.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.max_body_bytes < 1024 {
            anyhow::bail!("SPINDLE_MAX_BODY_BYTES (--max-body-bytes) must be at least 1024");
        }
        if self.write_queue == 0 {
            anyhow::bail!("SPINDLE_WRITE_QUEUE (--write-queue) must be at least 1");
        }
        if self.max_inflight_body_bytes < self.max_body_bytes {
            anyhow::bail!(
                "SPINDLE_MAX_INFLIGHT_BODY_BYTES (--max-inflight-body-bytes) must be at least SPINDLE_MAX_BODY_BYTES ({})",
                self.max_body_bytes
            );
        }
        if self.max_connections == 0 {
            anyhow::bail!("SPINDLE_MAX_CONNECTIONS (--max-connections) must be at least 1");
        }
        if self.header_read_timeout_seconds == 0 {
            anyhow::bail!(
                "SPINDLE_HEADER_READ_TIMEOUT_SECONDS (--header-read-timeout-seconds) must be at least 1"
            );
        }
        if self.body_read_timeout_seconds == 0 {
            anyhow::bail!(
                "SPINDLE_BODY_READ_TIMEOUT_SECONDS (--body-read-timeout-seconds) must be at least 1"
            );
        }
        if self.max_inflight_ingest == 0 {
            anyhow::bail!("SPINDLE_MAX_INFLIGHT_INGEST (--max-inflight-ingest) must be at least 1");
        }
        Ok(())
    }
}

/// Headless set-up, read from the same variables Langfuse uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitConfig {
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub public_key: Option<String>,
    pub secret_key: Option<String>,
}

impl InitConfig {
    /// Reads `LANGFUSE_INIT_*` from an environment map (tests pass their own).
    pub fn from_env(env: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let get = |key: &str| env.get(key).filter(|value| !value.is_empty()).cloned();
        let config = InitConfig {
            org_id: get("LANGFUSE_INIT_ORG_ID"),
            org_name: get("LANGFUSE_INIT_ORG_NAME"),
            project_id: get("LANGFUSE_INIT_PROJECT_ID"),
            project_name: get("LANGFUSE_INIT_PROJECT_NAME"),
            public_key: get("LANGFUSE_INIT_PROJECT_PUBLIC_KEY"),
            secret_key: get("LANGFUSE_INIT_PROJECT_SECRET_KEY"),
        };
        if config.public_key.is_some() != config.secret_key.is_some() {
            anyhow::bail!(
                "LANGFUSE_INIT_PROJECT_PUBLIC_KEY and LANGFUSE_INIT_PROJECT_SECRET_KEY must be set together"
            );
        }
        if config.public_key.is_some() && config.project_id.is_none() {
            anyhow::bail!("LANGFUSE_INIT_PROJECT_PUBLIC_KEY needs LANGFUSE_INIT_PROJECT_ID");
        }
        Ok(config)
    }
}
