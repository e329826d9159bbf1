//! Crash safety: a child process writes continuously and reports every acknowledged batch;
//! the parent kills it with SIGKILL mid-way, reopens the store and checks that every
//! acknowledged batch is there and that the database passes `PRAGMA integrity_check`.
//!
//! The child is this test binary run again with `CRASH_CHILD_DIR` set, filtered to
//! `crash_child_writer` (which does nothing when the variable is absent).

use spindle_core::merge::Stamp;
use spindle_store::conformance::fixtures;
use spindle_store::{Store, WriteBatch};
use spindle_store_sqlite::{SqliteOptions, SqliteStore, DATABASE_FILE};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

const CHILD_DIR_VARIABLE: &str = "CRASH_CHILD_DIR";
const PROJECT: &str = "crash-project";
const OBSERVATIONS_PER_BATCH: usize = 10;
const WRITERS: usize = 4;
/// The parent kills the child after this many acknowledgements.
const KILL_AFTER_ACKS: usize = 150;

fn batch(batch_id: &str) -> WriteBatch {
    const AT: i64 = 1_767_225_600_000_000;
    let stamp = Stamp::explicit(AT, Stamp::RANK_CREATE, 1);
    fixtures::trace_with_observations(
        batch_id,
        "crash",
        AT,
        stamp,
        OBSERVATIONS_PER_BATCH,
        |index, observation| {
            observation.start_time = Some(AT + index as i64);
            observation.input = Some("payload ".repeat(300));
        },
    )
}

/// The child: writes batches forever from several tasks, printing `ack <id>` after each Ok.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR_VARIABLE) else {
        return;
    };
    let store = Arc::new(
        SqliteStore::open(std::path::Path::new(&dir), SqliteOptions::default()).expect("open"),
    );
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for sequence in 0u64.. {
                let batch_id = format!("batch-{writer}-{sequence}");
                match store.write(PROJECT, batch(&batch_id)).await {
                    Ok(()) => {
                        let mut stdout = std::io::stdout().lock();
                        let _ = writeln!(stdout, "ack {batch_id}");
                        let _ = stdout.flush();
                    }
                    Err(error) if error.kind == spindle_store::ErrorKind::Overloaded => {
                        tokio::task::yield_now().await;
                    }
                    Err(error) => panic!("write failed: {error:?}"),
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

#[test]
fn acknowledged_batches_survive_sigkill() {
    if std::env::var(CHILD_DIR_VARIABLE).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "crash_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_VARIABLE, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut acknowledged: Vec<String> = Vec::new();
    while acknowledged.len() < KILL_AFTER_ACKS {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(id) = line.strip_prefix("ack ") {
                    acknowledged.push(id.to_owned());
                }
            }
            _ => break,
        }
    }
    assert_eq!(
        acknowledged.len(),
        KILL_AFTER_ACKS,
        "the child stopped before it was killed"
    );
    child.kill().expect("SIGKILL the child");
    // Acknowledgements printed before the kill are still in the pipe.
    for line in lines.map_while(Result::ok) {
        if let Some(id) = line.strip_prefix("ack ") {
            acknowledged.push(id.to_owned());
        }
    }
    let status = child.wait().expect("wait for the child");
    assert!(!status.success(), "the child was killed, not finished");

    {
        let connection =
            rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("open the file");
        let integrity: String = connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("integrity_check");
        assert_eq!(integrity, "ok");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(dir.path(), SqliteOptions::default()).expect("reopen");
        for batch_id in &acknowledged {
            let trace = store
                .get_trace(PROJECT, batch_id)
                .await
                .expect("read")
                .unwrap_or_else(|| panic!("acknowledged batch {batch_id} is missing"));
            assert_eq!(
                trace.observation_ids.len(),
                OBSERVATIONS_PER_BATCH,
                "{batch_id}"
            );
        }
        let page = store
            .list_traces(PROJECT, &spindle_store::TraceQuery::default())
            .await
            .expect("list");
        assert!(page.total_items as usize >= acknowledged.len());
        store.shutdown().await.expect("shutdown");
    });
}
