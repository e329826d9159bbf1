//! Runs the `spindle` binary under test: a free port, a data directory or a PostgreSQL URL,
//! the init project and key from the environment, and its memory read from `/proc`.

use crate::http::Connection;
use anyhow::{bail, Context};
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROJECT_ID: &str = "bench-project";
pub const PUBLIC_KEY: &str = "pk-lf-bench";
pub const SECRET_KEY: &str = "sk-lf-bench";

/// A running server process; stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Time from spawning the process to the first healthy answer.
    pub startup: Duration,
}

/// The `Authorization` header value for the bench project's key.
pub fn authorization() -> String {
    let pair = format!("{PUBLIC_KEY}:{SECRET_KEY}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Where a server keeps its data.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite in this data directory.
    DataDir(PathBuf),
    /// PostgreSQL at this URL (`--database-url`).
    Postgres(String),
}

/// The admin account the UI benchmarks sign in with (`LANGFUSE_INIT_USER_*`).
pub const ADMIN_EMAIL: &str = "bench@example.com";
pub const ADMIN_PASSWORD: &str = "bench-password-1234";

pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// How a process is waited for during its start-up: its name in errors, its log, when it was
/// started, how long it may take and how often it is polled.
struct Startup<'a> {
    name: &'a str,
    log_file: &'a Path,
    started: Instant,
    limit: Duration,
    poll: Duration,
}

/// Spawns `command` with stdin closed and stdout and stderr written to `log_file`.
fn spawn_logged(command: &mut Command, log_file: &Path) -> anyhow::Result<Child> {
    let log = std::fs::File::create(log_file)
        .with_context(|| format!("creating {}", log_file.display()))?;
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", Path::new(command.get_program()).display()))
}

impl Server {
    /// Starts `server_bin serve` on `backend`, logging to `log_file`, and waits until
    /// `GET /api/public/health` answers 200. With `admin`, the UI admin account is
    /// configured too (its password check at start-up costs a few milliseconds).
    pub async fn start(
        server_bin: &Path,
        backend: &Backend,
        log_file: &Path,
        admin: bool,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut command = Command::new(server_bin);
        command
            .arg("serve")
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string());
        match backend {
            Backend::DataDir(dir) => command.arg("--data-dir").arg(dir),
            Backend::Postgres(url) => command.arg("--database-url").arg(url),
        };
        if admin {
            command
                .env("LANGFUSE_INIT_USER_EMAIL", ADMIN_EMAIL)
                .env("LANGFUSE_INIT_USER_PASSWORD", ADMIN_PASSWORD);
        }
        command
            .env("SPINDLE_LOG", "warn")
            .env("LANGFUSE_INIT_PROJECT_ID", PROJECT_ID)
            .env("LANGFUSE_INIT_PROJECT_PUBLIC_KEY", PUBLIC_KEY)
            .env("LANGFUSE_INIT_PROJECT_SECRET_KEY", SECRET_KEY);
        let started = Instant::now();
        let child = spawn_logged(&mut command, log_file)?;
        Server::wait_healthy(
            child,
            port,
            Connection::new(port, authorization()),
            "/api/public/health",
            Startup {
                name: "the server",
                log_file,
                started,
                limit: Duration::from_secs(120),
                poll: Duration::from_millis(2),
            },
        )
        .await
    }

    /// Starts `phoenix serve` (Arize Phoenix, from its Python venv) with its SQLite database
    /// in `working_dir`, and waits until `GET /healthz` answers 200.
    pub async fn start_phoenix(
        phoenix_bin: &Path,
        working_dir: &Path,
        log_file: &Path,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let grpc_port = free_port()?;
        let mut command = Command::new(phoenix_bin);
        command
            .arg("serve")
            .env("PHOENIX_WORKING_DIR", working_dir)
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", grpc_port.to_string())
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .env("PHOENIX_ALLOW_EXTERNAL_RESOURCES", "false")
            .env("PHOENIX_ALLOWED_SANDBOX_PROVIDERS", "NONE")
            .env("PHOENIX_LOG_MIGRATIONS", "false")
            .env("PHOENIX_LOGGING_LEVEL", "warning")
            .env("PHOENIX_DB_LOGGING_LEVEL", "warning");
        let started = Instant::now();
        let child = spawn_logged(&mut command, log_file)?;
        Server::wait_healthy(
            child,
            port,
            Connection::with_headers(port, String::new()),
            "/healthz",
            Startup {
                name: "phoenix",
                log_file,
                started,
                limit: Duration::from_secs(300),
                poll: Duration::from_millis(20),
            },
        )
        .await
    }

    /// The started `child` listening on `port`, once `GET health_path` on `connection` answers
    /// 200, with its
    /// start-up time; fails when the process exits first or the time limit passes.
    async fn wait_healthy(
        child: Child,
        port: u16,
        mut connection: Connection,
        health_path: &str,
        startup: Startup<'_>,
    ) -> anyhow::Result<Self> {
        let Startup {
            name,
            log_file,
            started,
            limit,
            poll,
        } = startup;
        let mut server = Server {
            child,
            port,
            startup: Duration::ZERO,
        };
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "{name} exited with {status} during start-up; see {}",
                    log_file.display()
                );
            }
            if let Ok(response) = connection.get(health_path).await {
                if response.status == 200 {
                    break;
                }
            }
            if started.elapsed() > limit {
                bail!("{name} did not become healthy within {} s", limit.as_secs());
            }
            tokio::time::sleep(poll).await;
        }
        server.startup = started.elapsed();
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmHWM` (peak resident set) in bytes.
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        proc_status_bytes(self.pid(), "VmHWM:")
    }

    /// `VmRSS` (current resident set) in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        proc_status_bytes(self.pid(), "VmRSS:")
    }

    /// CPU time the server used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        Ok(stat_ticks(&format!("/proc/{}/stat", self.pid()))? as f64 / TICKS_PER_SECOND)
    }

    /// CPU seconds used by each thread so far, summed by thread name.
    pub fn thread_cpu_seconds(&self) -> anyhow::Result<Vec<(String, f64)>> {
        let mut by_name: Vec<(String, f64)> = Vec::new();
        for entry in std::fs::read_dir(format!("/proc/{}/task", self.pid()))? {
            let task = entry?.path();
            let name = std::fs::read_to_string(task.join("comm"))?
                .trim()
                .to_owned();
            let seconds =
                stat_ticks(&task.join("stat").to_string_lossy())? as f64 / TICKS_PER_SECOND;
            match by_name.iter_mut().find(|(known, _)| *known == name) {
                Some((_, total)) => *total += seconds,
                None => by_name.push((name, seconds)),
            }
        }
        Ok(by_name)
    }

    /// Seconds the server's threads whose name starts with `prefix` spent runnable but
    /// waiting for a CPU (`schedstat`).
    pub fn runqueue_wait_seconds(&self, prefix: &str) -> anyhow::Result<f64> {
        let mut total_nanos: u64 = 0;
        for entry in std::fs::read_dir(format!("/proc/{}/task", self.pid()))? {
            let task = entry?.path();
            let name = std::fs::read_to_string(task.join("comm"))?;
            if !name.starts_with(prefix) {
                continue;
            }
            let schedstat = std::fs::read_to_string(task.join("schedstat"))?;
            total_nanos += schedstat
                .split_whitespace()
                .nth(1)
                .and_then(|wait| wait.parse::<u64>().ok())
                .unwrap_or(0);
        }
        Ok(total_nanos as f64 / 1e9)
    }

    /// Sends SIGTERM and waits for a clean exit (SIGKILL after 60 s).
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.terminate()
    }

    fn terminate(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("the server did not stop within 60 s of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

fn proc_status_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .with_context(|| format!("{field} missing from /proc/{pid}/status"))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("parsing {line:?}"))?;
    Ok(kib * 1024)
}

/// Total size of the files under `dir`, in bytes.
pub fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let entry = entry?;
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                total += metadata.len();
            }
        }
    }
    Ok(total)
}

/// `USER_HZ` on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of a `/proc/.../stat` file, in clock ticks.
fn stat_ticks(path: &str) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name may contain spaces: count fields after its closing parenthesis.
    let after_name = stat
        .rfind(')')
        .map(|end| &stat[end + 1..])
        .with_context(|| format!("parsing {path}"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    Ok(utime + stime)
}

/// utime + stime of a `/proc/.../stat` file, in seconds.
pub fn stat_seconds(path: &str) -> anyhow::Result<f64> {
    Ok(stat_ticks(path)? as f64 / TICKS_PER_SECOND)
}

/// CPU seconds this benchmark process used so far.
pub fn own_cpu_seconds() -> anyhow::Result<f64> {
    Ok(stat_ticks("/proc/self/stat")? as f64 / TICKS_PER_SECOND)
}

/// CPU seconds every process on the machine used so far (all busy states of `/proc/stat`).
pub fn machine_busy_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    // cpu user nice system idle iowait irq softirq steal ...
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|value| value.parse().unwrap_or(0))
        .collect();
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .map(|&index| values.get(index).copied().unwrap_or(0))
        .sum();
    Ok(busy as f64 / TICKS_PER_SECOND)
}
