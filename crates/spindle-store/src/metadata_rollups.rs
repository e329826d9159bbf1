//! Rolled-up metadata keys: the few keys of trace metadata a project chooses (a tenant, a
//! feature, a customer tier) whose values the attribute rollups key like a user or a tag
//! (kind [`METADATA_KIND`]), so a dashboard or metrics query filtered on one of them reads
//! rollup rows instead of every matching trace. Metadata values are unbounded, so not every
//! key is rolled up, only those the project lists (at most [`MAX_KEYS`]).
//!
//! Each `trace_totals` row holds its trace's values of the keys listed when the row was last
//! computed (`metadata_values`), and the rollups are deltas of those rows, so they stay exact
//! whatever the list says: a change of the list only makes some rows stale. A change of the
//! list starts a sweep (`metadata_sweeps`) that recomputes every totals row of the project,
//! a chunk of traces per transaction in trace id order, while the writers go on (each
//! computes its rows with the list of the moment). A key is `ready` once a sweep that
//! started after it was added has passed every trace; only then do reads take its rollups.
//! The sweep's position is stored, so a restart resumes it.

use std::sync::Arc;
use std::time::Duration;

use spindle_core::time::Micros;
use tokio::sync::Notify;

use crate::executor::{Executor, FromRow, Single};
use crate::reading::ReadConnection;
use crate::sql::{Dialect, RowAccess, Sql};
use crate::{Error, Result, Store};

pub use crate::rollups::{metadata_attribute, METADATA_KIND};

/// The most keys a project rolls up.
pub const MAX_KEYS: usize = 10;

/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 200;

/// Traces per sweep transaction.
pub const SWEEP_CHUNK: u32 = 500;

/// One rolled-up key of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledKey {
    pub key: String,
    /// Whether every trace is rolled up under it (reads take its rollups only then).
    pub ready: bool,
    pub created_at: Micros,
}

impl FromRow for RolledKey {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(RolledKey {
            key: row.text("key")?,
            ready: row.int("ready")? != 0,
            created_at: row.int("created_at")?,
        })
    }
}

/// The keys of a request, checked: none empty or longer than [`MAX_KEY_CHARS`], at most
/// [`MAX_KEYS`]; repeats dropped, order kept.
pub fn checked_keys(keys: &[String]) -> Result<Vec<String>> {
    let mut unique: Vec<String> = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        if key.trim().is_empty() {
            return Err(Error::invalid(
                format!("keys[{index}]"),
                "must not be empty",
            ));
        }
        if key.chars().count() > MAX_KEY_CHARS {
            return Err(Error::invalid(
                format!("keys[{index}]"),
                format!("must be at most {MAX_KEY_CHARS} characters"),
            ));
        }
        if !unique.contains(key) {
            unique.push(key.clone());
        }
    }
    if unique.len() > MAX_KEYS {
        return Err(Error::invalid(
            "keys",
            format!("at most {MAX_KEYS} metadata keys can be rolled up"),
        ));
    }
    Ok(unique)
}

fn list_statement(dialect: Dialect, project_id: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT key, ready, created_at FROM rolled_metadata_keys WHERE project_id = ",
    );
    sql.bind(project_id).push(" ORDER BY created_at, key");
    sql
}

/// The project's rolled-up keys, oldest first.
pub async fn list(db: &impl Executor, project_id: &str) -> Result<Vec<RolledKey>> {
    db.select(list_statement(db.dialect(), project_id)).await
}

/// Makes `keys` (checked with [`checked_keys`]) the project's rolled-up keys: the others are
/// dropped, the new ones added as not ready, and, when the list changed, a sweep of every
/// trace starts over from the first. Returns the list as stored.
pub async fn replace(
    db: &impl Executor,
    project_id: &str,
    keys: &[String],
    now: Micros,
) -> Result<Vec<RolledKey>> {
    let dialect = db.dialect();
    let current = list(db, project_id).await?;
    let unchanged =
        current.len() == keys.len() && current.iter().all(|stored| keys.contains(&stored.key));
    if unchanged {
        return Ok(current);
    }
    let mut statements = Vec::new();
    let mut drop = Sql::new(
        dialect,
        "DELETE FROM rolled_metadata_keys WHERE project_id = ",
    );
    drop.bind(project_id);
    if !keys.is_empty() {
        drop.push(" AND NOT ");
        drop.in_list("key", keys.to_vec(), false);
    }
    statements.push(drop);
    for key in keys {
        let mut add = Sql::new(
            dialect,
            "INSERT INTO rolled_metadata_keys (project_id, key, ready, created_at) VALUES (",
        );
        add.bind(project_id)
            .push(", ")
            .bind(key.as_str())
            .push(", 0, ")
            .bind(now)
            .push(") ON CONFLICT (project_id, key) DO NOTHING");
        statements.push(add);
    }
    let mut sweep = Sql::new(
        dialect,
        "INSERT INTO metadata_sweeps (project_id, after_trace_id) VALUES (",
    );
    sweep
        .bind(project_id)
        .push(", '') ON CONFLICT (project_id) DO UPDATE SET after_trace_id = ''");
    statements.push(sweep);
    db.modify(statements).await?;
    list(db, project_id).await
}

/// The projects with a sweep to run, in id order.
pub async fn swept_projects(db: &impl Executor) -> Result<Vec<String>> {
    let sql = Sql::new(
        db.dialect(),
        "SELECT project_id AS value FROM metadata_sweeps ORDER BY project_id",
    );
    let rows: Vec<Single<String>> = db.select(sql).await?;
    Ok(rows.into_iter().map(|row| row.0).collect())
}

/// Whether reads may take the rollups of the project's metadata `key`: it is listed and
/// every trace is rolled up under it.
pub async fn is_ready(db: &impl ReadConnection, project_id: &str, key: &str) -> Result<bool> {
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT count(*) AS value FROM rolled_metadata_keys WHERE project_id = ",
    );
    sql.bind(project_id)
        .push(" AND key = ")
        .bind(key)
        .push(" AND ready = 1");
    Ok(db.count(&sql).await? > 0)
}

/// What one step of a project's sweep does, worked out inside the step's transaction. Its
/// statements change the sweep only if it is still at the position the step read: a change
/// of the list meanwhile (which starts the sweep over) is never undone by a step.
#[derive(Debug)]
pub enum SweepStep {
    /// No sweep is running.
    Idle,
    /// Recompute the totals rows of `trace_ids` (the backend's refresh, which adds their
    /// change to the rollups), then run `advance`.
    Chunk {
        trace_ids: Vec<String>,
        advance: Sql,
    },
    /// Every trace is swept: run `finish` (the sweep ends, its keys become ready).
    Done { finish: Vec<Sql> },
}

/// The next step of the project's sweep: up to `limit` trace ids after its position.
pub async fn next_step(
    db: &impl ReadConnection,
    project_id: &str,
    limit: u32,
) -> Result<SweepStep> {
    let dialect = db.dialect();
    let mut position = Sql::new(
        dialect,
        "SELECT after_trace_id FROM metadata_sweeps WHERE project_id = ",
    );
    position.bind(project_id);
    let positions = db.rows(&position, |row| row.text("after_trace_id")).await?;
    let Some(after) = positions.into_iter().next() else {
        return Ok(SweepStep::Idle);
    };
    let mut chunk = Sql::new(
        dialect,
        "SELECT trace_id FROM trace_totals WHERE project_id = ",
    );
    chunk
        .bind(project_id)
        .push(" AND trace_id > ")
        .bind(after.as_str())
        .push(" ORDER BY trace_id LIMIT ")
        .bind(i64::from(limit.max(1)));
    let trace_ids = db.rows(&chunk, |row| row.text("trace_id")).await?;
    match trace_ids.last() {
        Some(last) => {
            let mut advance = Sql::new(dialect, "UPDATE metadata_sweeps SET after_trace_id = ");
            advance
                .bind(last.as_str())
                .push(" WHERE project_id = ")
                .bind(project_id)
                .push(" AND after_trace_id = ")
                .bind(after.as_str());
            Ok(SweepStep::Chunk { trace_ids, advance })
        }
        None => {
            let mut end = Sql::new(dialect, "DELETE FROM metadata_sweeps WHERE project_id = ");
            end.bind(project_id)
                .push(" AND after_trace_id = ")
                .bind(after.as_str());
            let mut ready = Sql::new(
                dialect,
                "UPDATE rolled_metadata_keys SET ready = 1 WHERE project_id = ",
            );
            ready
                .bind(project_id)
                .push(" AND NOT EXISTS (SELECT 1 FROM metadata_sweeps s WHERE s.project_id = ")
                .bind(project_id)
                .push(")");
            Ok(SweepStep::Done {
                finish: vec![end, ready],
            })
        }
    }
}

/// Runs every project's sweep to its end, a step at a time with `pause` between steps (so
/// ingestion never waits behind a long transaction); returns how many traces were swept.
pub async fn sweep_all(store: &dyn Store, pause: Duration) -> Result<u64> {
    let mut swept = 0;
    for project_id in store.metadata_sweeps().await? {
        let started = std::time::Instant::now();
        let mut traces = 0;
        while let Some(step) = store
            .sweep_metadata_rollups(&project_id, SWEEP_CHUNK)
            .await?
        {
            traces += step as u64;
            tokio::time::sleep(pause).await;
        }
        tracing::info!(
            project_id,
            traces,
            seconds = started.elapsed().as_secs_f64(),
            "rolled-up metadata keys swept"
        );
        swept += traces;
    }
    Ok(swept)
}

/// Runs [`sweep_all`] now (resuming a sweep a stop interrupted), then whenever `wakeup` is
/// notified (a change of a project's keys) or `every` passed (another instance's change),
/// until the store shuts down; errors are logged and retried at the next round. Several
/// instances may sweep at once: a step only advances the sweep from where it read it.
pub async fn run_sweeps(store: Arc<dyn Store>, every: Duration, wakeup: Arc<Notify>) {
    loop {
        if let Err(error) = sweep_all(store.as_ref(), Duration::from_millis(5)).await {
            if store.ready().await.is_err() {
                return;
            }
            tracing::warn!(%error, "metadata rollup sweep failed");
        }
        tokio::select! {
            () = wakeup.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_repeats_dropped() {
        let keys = |list: &[&str]| list.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            checked_keys(&keys(&["tenant", "tier", "tenant"])).unwrap(),
            keys(&["tenant", "tier"])
        );
        let empty = checked_keys(&keys(&["tenant", " "])).unwrap_err();
        assert!(empty.to_string().contains("keys[1]"), "{empty}");
        let long = "k".repeat(MAX_KEY_CHARS + 1);
        assert!(checked_keys(&[long]).is_err());
        let many: Vec<String> = (0..=MAX_KEYS).map(|i| format!("k{i}")).collect();
        let error = checked_keys(&many).unwrap_err();
        assert!(error.to_string().starts_with("keys:"), "{error}");
        assert_eq!(checked_keys(&many[..MAX_KEYS]).unwrap().len(), MAX_KEYS);
    }
}
