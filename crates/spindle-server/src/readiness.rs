//! Readiness that reflects the write path: the database answers, the data directory takes a
//! write (a small file written, synced and removed, at most once a second), and no write
//! failed for a storage reason (disk full, read-only database, I/O error) in the last
//! [`Readiness::FAILURE_WINDOW`].

use spindle_core::{Error, ErrorKind};
use spindle_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What `/api/public/health` and `/readyz` check.
pub struct Readiness {
    /// The directory the SQLite database lives in (none with PostgreSQL).
    probe_dir: Option<PathBuf>,
    /// The last write that failed for a storage reason, and why.
    last_failure: Mutex<Option<(Instant, String)>>,
    /// The last probe of the data directory and what it found.
    last_probe: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    /// How long a failed write keeps the instance not ready.
    pub const FAILURE_WINDOW: Duration = Duration::from_secs(10);
    /// How long a probe of the data directory is trusted.
    pub const PROBE_EVERY: Duration = Duration::from_secs(1);
    /// The file the probe writes and removes in the data directory.
    pub const PROBE_FILE: &'static str = ".spindle-write-probe";

    pub fn new(probe_dir: Option<PathBuf>) -> Self {
        Readiness {
            probe_dir,
            last_failure: Mutex::new(None),
            last_probe: tokio::sync::Mutex::new(None),
        }
    }

    /// Notes how a store write went: a storage failure makes the instance not ready for
    /// [`Readiness::FAILURE_WINDOW`]; a success clears it. A full queue, a conflict retried
    /// by the client or bad input says nothing about the storage.
    pub fn record_write(&self, result: &Result<(), Error>) {
        let mut last_failure = self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match result {
            Ok(()) => *last_failure = None,
            Err(error) if is_storage_failure(error) => {
                *last_failure = Some((Instant::now(), error.message.clone()))
            }
            Err(_) => {}
        }
    }

    /// Ok when the instance can serve reads and take writes; `Unavailable` otherwise.
    pub async fn check(&self, store: &dyn Store) -> Result<(), Error> {
        store.ready().await?;
        let recent_failure = self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Self::FAILURE_WINDOW)
            .map(|(_, message)| message.clone());
        if let Some(message) = recent_failure {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("writes are failing: {message}"),
            ));
        }
        let Some(dir) = &self.probe_dir else {
            return Ok(());
        };
        let mut last_probe = self.last_probe.lock().await;
        let fresh = last_probe
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Self::PROBE_EVERY)
            .map(|(_, outcome)| outcome.clone());
        let outcome = match fresh {
            Some(outcome) => outcome,
            None => {
                let probed = dir.clone();
                let outcome = tokio::task::spawn_blocking(move || probe(&probed))
                    .await
                    .unwrap_or_else(|error| Err(format!("the probe failed: {error}")));
                *last_probe = Some((Instant::now(), outcome.clone()));
                outcome
            }
        };
        outcome.map_err(|reason| {
            Error::new(
                ErrorKind::Unavailable,
                format!(
                    "the data directory {} is not writable: {reason}",
                    dir.display()
                ),
            )
        })
    }
}

/// Whether a failed write says the storage cannot take writes (rather than being busy).
fn is_storage_failure(error: &Error) -> bool {
    match error.kind {
        ErrorKind::Internal => true,
        ErrorKind::Unavailable => {
            let message = &error.message;
            !(message.contains("busy")
                || message.contains("transaction conflict")
                || message.contains("shutting down"))
        }
        _ => false,
    }
}

/// Writes, syncs and removes a small file in `dir`.
fn probe(dir: &Path) -> Result<(), String> {
    let path = dir.join(Readiness::PROBE_FILE);
    let written = std::fs::File::create(&path).and_then(|mut file| {
        file.write_all(b"spindle write probe\n")?;
        file.sync_all()
    });
    let removed = std::fs::remove_file(&path);
    written.map_err(|error| error.to_string())?;
    removed.map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_failures_are_told_from_busy_and_bad_input() {
        let failure = |kind, message: &str| is_storage_failure(&Error::new(kind, message));
        assert!(failure(
            ErrorKind::Unavailable,
            "sqlite: database or disk is full"
        ));
        assert!(failure(
            ErrorKind::Unavailable,
            "sqlite: attempt to write a readonly database"
        ));
        assert!(failure(ErrorKind::Internal, "sqlite: disk I/O error"));
        assert!(!failure(ErrorKind::Unavailable, "sqlite is busy: locked"));
        assert!(!failure(
            ErrorKind::Unavailable,
            "postgres: transaction conflict: could not serialize"
        ));
        assert!(!failure(ErrorKind::Overloaded, "the write queue is full"));
        assert!(!failure(ErrorKind::InvalidArgument, "name: too long"));
    }

    #[test]
    fn probe_writes_and_removes_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        probe(dir.path()).expect("writable");
        assert!(!dir.path().join(Readiness::PROBE_FILE).exists());
        let missing = dir.path().join("gone");
        assert!(probe(&missing).is_err());
    }
}
