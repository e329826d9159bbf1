//! The binary as an operator meets it: clear start-up errors, first-start keys, key admin,
//! idempotent headless set-up, and a clean stop on SIGTERM.

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
