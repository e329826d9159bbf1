//! Where the server secret lives: on SQLite, a file in the data dir created once with mode
//! 0600 (so a copy of the database file alone does not carry it); on PostgreSQL, the row of
//! the database that every instance sharing it reads, so download URLs and API keys made by
//! one instance work on all.

use anyhow::Context;
use spindle_store::accounts::Accounts;
use spindle_store::secret::ServerSecret;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file of the secret in the SQLite data dir.
pub const SECRET_FILE: &str = "server-secret";

/// Where a backend's secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretHome {
    /// A file in this directory (SQLite's data dir).
    DataDir(PathBuf),
    /// The `server_secrets` table of the database.
    Database,
}

/// Reads the server secret, creating it on first use.
pub async fn load_server_secret(
    home: &SecretHome,
    accounts: &dyn Accounts,
) -> anyhow::Result<ServerSecret> {
    match home {
        SecretHome::DataDir(dir) => {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || secret_file(&dir))
                .await
                .context("reading the server secret")?
        }
        SecretHome::Database => accounts
            .server_secret(&ServerSecret::random())
            .await
            .context("reading the server secret from the database"),
    }
}

/// The secret of the file in `dir`, created when absent. The file appears whole or not at
/// all (written aside, then linked into place), so a start killed half-way leaves either
/// no file or a complete one, and of two processes creating it at once both read the
/// winner's.
pub fn secret_file(dir: &Path) -> anyhow::Result<ServerSecret> {
    let path = dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => return parse(&path, &text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret = ServerSecret::random();
    let aside = dir.join(format!(
        "{SECRET_FILE}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let written = write_private(&aside, &secret.to_hex());
    let linked = written.and_then(|()| match std::fs::hard_link(&aside, &path) {
        Ok(()) => Ok(()),
        // Another process created it first: its secret is the one.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    });
    let _ = std::fs::remove_file(&aside);
    linked.with_context(|| format!("creating {}", path.display()))?;
    if let Ok(directory) = std::fs::File::open(dir) {
        let _ = directory.sync_all();
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse(&path, &text)
}

fn parse(path: &Path, text: &str) -> anyhow::Result<ServerSecret> {
    ServerSecret::from_hex(text).with_context(|| {
        format!(
            "{}: expected 64 hex characters (the server secret); restore it from a backup, or \
             delete it to make a new one (existing API keys and download URLs then stop working)",
            path.display()
        )
    })
}

/// Writes a new file readable and writable by its owner only, and syncs it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = secret_file(dir.path()).expect("create");
        assert_eq!(secret_file(dir.path()).expect("read"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name())
            .filter(|name| name != SECRET_FILE)
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_damaged_file_stops_the_start_with_its_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(SECRET_FILE), "not hex").expect("write");
        let error = secret_file(dir.path()).expect_err("damaged");
        assert!(format!("{error:#}").contains(SECRET_FILE), "{error:#}");
    }

    #[test]
    fn racing_creators_agree() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets: Vec<ServerSecret> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| secret_file(dir.path()).expect("secret")))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("thread"))
                .collect()
        });
        assert!(secrets.iter().all(|secret| *secret == secrets[0]));
    }
}
