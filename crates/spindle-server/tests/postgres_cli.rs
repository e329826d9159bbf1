//! `spindle migrate` and `spindle copy-to-postgres` with the real binary: a SQLite data dir
//! with a project and a key moves into a fresh PostgreSQL database, which then serves the
//! admin commands and authenticates the key (its hash is peppered with the data dir's server
//! secret, which the copy carries). Fails (never skips) when PostgreSQL is not reachable.

mod postgres_support;
mod process_support;

use postgres_support::FreshDatabase;
use std::process::Command;

fn spindle(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .env("SPINDLE_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run spindle");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "spindle {args:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn migrate_then_copy_a_sqlite_data_dir() {
    let database = FreshDatabase::create();
    let url = database.url();
    let dir = tempfile::tempdir().expect("data dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");

    let applied = spindle(&["migrate", "--database-url", &url]);
    assert!(applied.contains("applied 0001_initial"), "{applied}");
    let again = spindle(&["migrate", "--database-url", &url]);
    assert!(again.contains("up to date"), "{again}");

    spindle(&[
        "projects",
        "create",
        "--data-dir",
        data_dir,
        "--id",
        "moved",
    ]);
    spindle(&[
        "keys",
        "create",
        "--data-dir",
        data_dir,
        "--project-id",
        "moved",
        "--public-key",
        "pk-lf-moved",
        "--secret-key",
        "sk-lf-moved",
    ]);
    let copied = spindle(&[
        "copy-to-postgres",
        "--data-dir",
        data_dir,
        "--database-url",
        &url,
    ]);
    assert!(copied.contains("projects: 1 rows"), "{copied}");
    assert!(copied.contains("api_keys: 1 rows"), "{copied}");
    assert!(copied.contains("copy complete"), "{copied}");
    // Running it again is harmless.
    spindle(&[
        "copy-to-postgres",
        "--data-dir",
        data_dir,
        "--database-url",
        &url,
    ]);

    let projects = spindle(&["projects", "list", "--database-url", &url]);
    assert!(projects.contains("moved"), "{projects}");
    let keys = spindle(&["keys", "list", "--database-url", &url]);
    assert!(keys.contains("pk-lf-moved"), "{keys}");

    let port = process_support::free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["serve", "--port", &port.to_string(), "--database-url", &url])
        .env("SPINDLE_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let authorization = |secret_key: &str| -> &'static str {
        use base64::Engine;
        let pair = format!("pk-lf-moved:{secret_key}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        Box::leak(format!("Basic {encoded}").into_boxed_str())
    };
    let timeout = std::time::Duration::from_secs(10);
    let client = process_support::Client::new(port, authorization("sk-lf-moved"), timeout);
    client.wait_healthy(&mut server, std::time::Duration::from_secs(60));
    let status = |client: &process_support::Client| {
        client
            .request("GET", "/api/public/projects", "", None)
            .expect("request")
            .0
    };
    let copied_key = status(&client);
    let wrong_key = status(&process_support::Client::new(
        port,
        authorization("sk-lf-wrong"),
        timeout,
    ));
    server.kill().ok();
    server.wait().ok();
    assert_eq!(
        copied_key, 200,
        "the copied key authenticates on PostgreSQL"
    );
    assert_eq!(wrong_key, 401);
}
