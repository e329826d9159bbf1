//! The binary as an operator meets it: clear start-up errors, first-start keys (also when a
//! first start is killed half-way), key admin, idempotent headless set-up, and a clean stop
//! on SIGTERM.

mod process_support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn spindle() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spindle"));
    command
        .env_remove("DATABASE_URL")
        .env("SPINDLE_LOG", "info");
    command
}

fn output(command: &mut Command) -> Output {
    command.output().expect("run spindle")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let dir = tempfile::tempdir().expect("temp dir");
    let result = output(
        spindle()
            .args(["serve", "--port", &port.to_string(), "--data-dir"])
            .arg(dir.path()),
    );
    assert!(!result.status.success());
    let message = text(&result);
    assert!(message.contains("cannot listen on 127.0.0.1:"), "{message}");
    assert!(message.contains("SPINDLE_PORT"), "{message}");
}

#[test]
fn an_unusable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let result = output(
        spindle()
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(file.join("data")),
    );
    assert!(!result.status.success());
    let message = text(&result);
    assert!(message.contains("SPINDLE_DATA_DIR"), "{message}");
}

#[test]
fn bad_configuration_names_the_variable() {
    let result = output(
        spindle()
            .args(["serve", "--port", "0", "--data-dir", "/tmp/unused"])
            .env("SPINDLE_WRITE_QUEUE", "0"),
    );
    assert!(!result.status.success());
    assert!(text(&result).contains("SPINDLE_WRITE_QUEUE"));
    let result = output(spindle().args(["serve"]).env("SPINDLE_PORT", "seventy"));
    assert!(!result.status.success());
    assert!(text(&result).contains("--port"), "{}", text(&result));
}

/// Starts `serve`, waits for its first output line saying it listens, returns the child and
/// everything it printed so far.
fn serve_until_listening(command: &mut Command) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = receiver.recv_timeout(Duration::from_millis(100)) {
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("spindle listening") {
                // Collect the rest in the background so the pipes never fill.
                std::thread::spawn(move || while receiver.recv().is_ok() {});
                return (child, printed);
            }
        }
    }
    child.kill().ok();
    child.wait().ok();
    panic!("server did not start: {printed}");
}

#[test]
fn first_start_prints_keys_once_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (child, printed) = serve_until_listening(
        spindle()
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir.path()),
    );
    assert!(printed.contains("LANGFUSE_PUBLIC_KEY=pk-lf-"), "{printed}");
    assert!(printed.contains("LANGFUSE_SECRET_KEY=sk-lf-"), "{printed}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait_with_output().expect("wait");
    assert!(
        exit.status.success(),
        "exit status after SIGTERM: {:?}",
        exit.status
    );

    // A second start on the same data dir creates nothing and prints no secret.
    let (mut child, printed) = serve_until_listening(
        spindle()
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir.path()),
    );
    assert!(!printed.contains("LANGFUSE_SECRET_KEY"), "{printed}");
    child.kill().ok();
    child.wait().ok();

    // The key admin commands see the generated key and can revoke it.
    let listed = output(
        spindle()
            .args(["keys", "list", "--data-dir"])
            .arg(dir.path()),
    );
    let listed = text(&listed);
    let public_key = listed
        .split_whitespace()
        .find(|word| word.starts_with("pk-lf-"))
        .unwrap_or_else(|| panic!("no key listed: {listed}"))
        .to_owned();
    assert!(listed.contains("active"));
    assert!(!listed.contains("sk-lf-"), "secrets are never listed");
    let revoked = output(
        spindle()
            .args(["keys", "revoke", &public_key, "--data-dir"])
            .arg(dir.path()),
    );
    assert!(revoked.status.success(), "{}", text(&revoked));
    let listed = text(&output(
        spindle()
            .args(["keys", "list", "--data-dir"])
            .arg(dir.path()),
    ));
    assert!(listed.contains("revoked"), "{listed}");
}

#[test]
fn headless_setup_is_idempotent_and_keys_can_be_added() {
    let dir = tempfile::tempdir().expect("temp dir");
    for _ in 0..2 {
        let (mut child, printed) = serve_until_listening(
            spindle()
                .args(["serve", "--port", "0", "--data-dir"])
                .arg(dir.path())
                .env("LANGFUSE_INIT_ORG_ID", "acme")
                .env("LANGFUSE_INIT_ORG_NAME", "Acme")
                .env("LANGFUSE_INIT_PROJECT_ID", "web")
                .env("LANGFUSE_INIT_PROJECT_NAME", "Web shop")
                .env("LANGFUSE_INIT_PROJECT_PUBLIC_KEY", "pk-lf-web")
                .env("LANGFUSE_INIT_PROJECT_SECRET_KEY", "sk-lf-web"),
        );
        assert!(!printed.contains("LANGFUSE_SECRET_KEY"), "{printed}");
        child.kill().ok();
        child.wait().ok();
    }
    let projects = text(&output(
        spindle()
            .args(["projects", "list", "--data-dir"])
            .arg(dir.path()),
    ));
    assert_eq!(projects.lines().count(), 1, "{projects}");
    assert!(projects.contains("web\tWeb shop\tacme"), "{projects}");
    let created = output(
        spindle()
            .args(["projects", "create", "--id", "second", "--data-dir"])
            .arg(dir.path()),
    );
    assert!(created.status.success(), "{}", text(&created));
    let key = output(
        spindle()
            .args(["keys", "create", "--project-id", "second", "--data-dir"])
            .arg(dir.path()),
    );
    assert!(key.status.success());
    assert!(text(&key).contains("LANGFUSE_SECRET_KEY=sk-lf-"));
    let missing = output(
        spindle()
            .args(["keys", "create", "--project-id", "nope", "--data-dir"])
            .arg(dir.path()),
    );
    assert!(!missing.status.success());
    assert!(text(&missing).contains("does not exist"));
}

/// The README's configuration table is what `spindle config-table` prints, row for row.
#[test]
fn readme_configuration_table_matches_config_table() {
    let printed = output(spindle().arg("config-table"));
    assert!(printed.status.success(), "{}", text(&printed));
    let printed = String::from_utf8(printed.stdout).expect("utf-8");
    let readme = include_str!("../../../README.md");
    let section = readme
        .split_once("\n## Configuration\n")
        .expect("README.md has a Configuration section")
        .1;
    let table: Vec<&str> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .collect();
    let printed: Vec<&str> = printed.lines().collect();
    assert_eq!(
        table, printed,
        "README.md's configuration table (left) differs from `spindle config-table` (right); \
         paste the command's output into README.md"
    );
}

/// The value printed after `NAME=` (the first-start keys), if any.
fn printed_value(printed: &str, name: &str) -> Option<String> {
    printed
        .split_whitespace()
        .find_map(|word| word.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
}

/// The port of a server that printed its `spindle listening address=…` line.
fn listening_port(printed: &str) -> u16 {
    // The log may be coloured: drop the escape sequences first.
    let mut plain = String::new();
    let mut chars = printed.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            plain.push(c);
        }
    }
    plain
        .split_whitespace()
        .find_map(|word| word.strip_prefix("address="))
        .and_then(|address| address.rsplit(':').next())
        .and_then(|port| {
            port.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no address in {printed}"))
}

/// The status of `GET /api/public/projects` with this key pair.
fn status_with_key(port: u16, public_key: &str, secret_key: &str) -> u16 {
    use base64::Engine;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{public_key}:{secret_key}"));
    let authorization: &'static str = Box::leak(format!("Basic {encoded}").into_boxed_str());
    process_support::Client::new(port, authorization, Duration::from_secs(10))
        .request("GET", "/api/public/projects", "", None)
        .expect("request")
        .0
}

/// The public keys `keys list` shows for the data dir.
fn listed_keys(dir: &std::path::Path) -> Vec<String> {
    let listed = text(&output(
        spindle().args(["keys", "list", "--data-dir"]).arg(dir),
    ));
    listed
        .split_whitespace()
        .filter(|word| word.starts_with("pk-lf-"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_first_start_killed_at_any_step_leaves_a_usable_key() {
    for step in ["before-announce", "after-announce", "after-commit"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let crashed = output(
            spindle()
                .args(["serve", "--port", "0", "--data-dir"])
                .arg(dir.path())
                .env("SPINDLE_TEST_CRASH_AT", step),
        );
        assert!(
            !crashed.status.success(),
            "{step}: the start was not killed"
        );
        let crashed_output = text(&crashed);
        let crashed_keys = printed_value(&crashed_output, "LANGFUSE_PUBLIC_KEY")
            .zip(printed_value(&crashed_output, "LANGFUSE_SECRET_KEY"));
        assert_eq!(
            crashed_keys.is_some(),
            step != "before-announce",
            "{step}: {crashed_output}"
        );
        // Every stored key had its secret shown.
        let stored = listed_keys(dir.path());
        let shown: Vec<String> = crashed_keys.iter().map(|(pk, _)| pk.clone()).collect();
        assert!(
            stored.iter().all(|key| shown.contains(key)),
            "{step}: stored {stored:?}, shown {shown:?}"
        );

        let (mut child, printed) = serve_until_listening(
            spindle()
                .args(["serve", "--port", "0", "--data-dir"])
                .arg(dir.path()),
        );
        let port = listening_port(&printed);
        let restart_keys = printed_value(&printed, "LANGFUSE_PUBLIC_KEY")
            .zip(printed_value(&printed, "LANGFUSE_SECRET_KEY"));
        let (public_key, secret_key) = match (step, restart_keys, crashed_keys.clone()) {
            // Stored before the kill: the restart has nothing to add.
            ("after-commit", None, Some(keys)) => keys,
            // Not stored: the restart makes and shows another key.
            (_, Some(keys), _) => keys,
            (_, restart, crashed) => {
                panic!("{step}: restart printed {restart:?} after the start printed {crashed:?}")
            }
        };
        let usable = status_with_key(port, &public_key, &secret_key);
        let unstored = crashed_keys
            .filter(|(pk, _)| *pk != public_key)
            .map(|(pk, sk)| status_with_key(port, &pk, &sk));
        child.kill().ok();
        child.wait().ok();
        assert_eq!(usable, 200, "{step}: the key shown works");
        assert_eq!(unstored.unwrap_or(401), 401, "{step}: a key never stored");
        assert_eq!(listed_keys(dir.path()), vec![public_key], "{step}");
    }
}

#[test]
fn a_default_project_left_without_a_key_gets_one() {
    // What a first start of an earlier version left when killed between the two writes.
    let dir = tempfile::tempdir().expect("temp dir");
    let created = output(
        spindle()
            .args(["projects", "create", "--id", "default", "--data-dir"])
            .arg(dir.path()),
    );
    assert!(created.status.success(), "{}", text(&created));
    let (mut child, printed) = serve_until_listening(
        spindle()
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(dir.path()),
    );
    let port = listening_port(&printed);
    let public_key = printed_value(&printed, "LANGFUSE_PUBLIC_KEY");
    let secret_key = printed_value(&printed, "LANGFUSE_SECRET_KEY");
    let status = public_key
        .as_deref()
        .zip(secret_key.as_deref())
        .map(|(pk, sk)| status_with_key(port, pk, sk));
    child.kill().ok();
    child.wait().ok();
    assert_eq!(status, Some(200), "{printed}");
}
