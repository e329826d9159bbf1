//! `trace_totals`: one row per trace with what its observations add up to (count, ERROR
//! count, cost, tokens, first start, last end, latency, worst level, and count, tokens and
//! cost per model) and copies of the trace's time, user, session, environment, name and
//! release, so that traces sorted by cost or latency walk an index, the users and sessions
//! lists sum one row per trace instead of joining the observations, and the trace rollups
//! (per model too) follow the rows.
//!
//! The rows are kept exact by recomputation, never by deltas: at the end of every write
//! transaction, the traces the write touched (its traces and its observations' traces) are
//! summed again from their rows ([`apply`] with [`TotalsChange::Refresh`]); a trace
//! deletion removes its row ([`TotalsChange::Forget`]) in the deletion's transaction. A trace
//! has a row from its first write on, with or without observations; observations whose trace
//! does not exist have none. Both
//! read the rows before and after the change and add the difference to the trace rollups
//! (`rollups/traces.rs`), which the caller writes with the transaction's other rollups.

use std::collections::{BTreeMap, BTreeSet};

use spindle_core::ObservationRecord;

use crate::reading::ReadConnection;
use crate::rollups::{Rollups, TraceFacts, TRACE_FACT_COLUMNS};
use crate::sql::{Dialect, RowAccess, Sql};
use crate::statements::{SUM_AS_FLOAT, SUM_AS_INTEGER};
use crate::Result;

/// The worst level rank of the observations `o` (1 = DEFAULT without observations).
const LEVEL_RANK: &str = "coalesce(max(CASE o.level WHEN 'DEBUG' THEN 0 \
     WHEN 'WARNING' THEN 2 WHEN 'ERROR' THEN 3 ELSE 1 END), 1)";

/// The columns of `trace_totals`, in the order [`totals_select`] selects them.
const COLUMNS: &str = "project_id, trace_id, trace_time, timestamp, user_id, session_id, \
     environment, name, release, observation_count, error_count, total_cost, usage_input, \
     usage_output, usage_total, start_min, end_max, latency, last_end, level_rank, models, tags, \
     breakdown, score_breakdown, metadata_values";

/// The observations of the trace `t` per model, as a JSON array of
/// `[model, observations, input, output, total, cost in nano-USD]` (see
/// `rollups::ModelTotals`): one more seek in `observations_by_trace` per trace. The cost is
/// rounded to nano-USD here, from the model's summed cost (over `numeric` on PostgreSQL,
/// clamped to the 64-bit range as `cost_nanos` clamps it).
fn models_select(dialect: Dialect) -> String {
    let (array, cost) = match dialect {
        Dialect::Sqlite => (
            "json_group_array(json_array(m.model, m.n, m.i, m.o, m.t, m.c))",
            "CAST(round(coalesce(sum(om.total_cost), 0.0) * 1000000000.0) AS INTEGER)",
        ),
        Dialect::Postgres => (
            "json_agg(json_build_array(m.model, m.n, m.i, m.o, m.t, m.c))::text",
            "least(greatest(round(coalesce(sum(om.total_cost::numeric), 0) * 1000000000), \
             -9223372036854775807), 9223372036854775807)::int8",
        ),
    };
    format!(
        "(SELECT {array} FROM (SELECT om.model AS model, count(*) AS n, {} AS i, {} AS o, \
         {} AS t, {cost} AS c FROM observations om \
         WHERE om.project_id = t.project_id AND om.trace_id = t.id GROUP BY om.model) m)",
        SUM_AS_INTEGER.of(dialect, "om.usage_input"),
        SUM_AS_INTEGER.of(dialect, "om.usage_output"),
        SUM_AS_INTEGER.of(dialect, "om.usage_total"),
    )
}

/// The `SELECT` of the totals of the traces `t` from their observations `o`, each column
/// named as in [`COLUMNS`]; the caller adds the `WHERE` on `t` and [`GROUP_BY`].
fn totals_select(dialect: Dialect) -> String {
    // A trace's end: the latest end (or start when it has no end or ends before it starts).
    let (end, cost, tags) = match dialect {
        Dialect::Sqlite => (
            "max(coalesce(max(o.end_time, o.start_time), o.start_time))",
            SUM_AS_FLOAT.of(dialect, "o.total_cost"),
            "t.tags",
        ),
        // Summed over `numeric`, so the sum does not depend on the rows' order.
        Dialect::Postgres => (
            "max(greatest(o.end_time, o.start_time))",
            "coalesce(sum(o.total_cost::numeric), 0.0)::float8".to_owned(),
            "t.tags::text",
        ),
    };
    format!(
        "SELECT t.project_id AS project_id, t.id AS trace_id, \
         coalesce(t.timestamp, t.created_at) AS trace_time, t.timestamp AS timestamp, \
         t.user_id AS user_id, t.session_id AS session_id, t.environment AS environment, \
         t.name AS name, t.release AS release, count(o.id) AS observation_count, \
         count(CASE WHEN o.level = 'ERROR' THEN 1 END) AS error_count, {cost} AS total_cost, \
         {} AS usage_input, {} AS usage_output, {} AS usage_total, \
         min(o.start_time) AS start_min, {end} AS end_max, \
         {end} - min(o.start_time) AS latency, \
         max(coalesce(o.end_time, o.start_time)) AS last_end, {LEVEL_RANK} AS level_rank, \
         {} AS models, {tags} AS tags, {} AS breakdown, {} AS score_breakdown, \
         {} AS metadata_values \
         FROM traces t LEFT JOIN observations o \
         ON o.project_id = t.project_id AND o.trace_id = t.id WHERE ",
        SUM_AS_INTEGER.of(dialect, "o.usage_input"),
        SUM_AS_INTEGER.of(dialect, "o.usage_output"),
        SUM_AS_INTEGER.of(dialect, "o.usage_total"),
        models_select(dialect),
        crate::rollups::attributes_breakdown_select(dialect),
        crate::rollups::score_breakdown_select(dialect),
        crate::rollups::metadata_values_select(dialect),
    )
}

/// The grouping of [`totals_select`]: one row per trace.
const GROUP_BY: &str = " GROUP BY t.project_id, t.id, t.timestamp, t.created_at, t.user_id, \
     t.session_id, t.environment, t.name, t.release, t.tags";

/// The upsert of [`totals_select`]'s rows into `trace_totals`, each column replaced.
fn upsert_totals(dialect: Dialect, project_id: &str, trace_ids: Option<&[String]>) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "INSERT INTO trace_totals ({COLUMNS}) {}",
            totals_select(dialect)
        ),
    );
    sql.push("t.project_id = ").bind(project_id);
    if let Some(trace_ids) = trace_ids {
        sql.push(" AND ");
        sql.in_list("t.id", trace_ids.to_vec(), false);
    }
    sql.push(GROUP_BY);
    sql.push(" ON CONFLICT (project_id, trace_id) DO UPDATE SET ");
    let updates: Vec<String> = COLUMNS
        .split(", ")
        .skip(2)
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    sql.push(&updates.join(", "));
    sql
}

/// Recomputes the `trace_totals` rows of the project's traces `trace_ids` from their rows
/// (one `INSERT … SELECT … GROUP BY` upsert), returning the new rows' [`TRACE_FACT_COLUMNS`].
/// Ids without a trace get no row.
pub fn refresh_statement(dialect: Dialect, project_id: &str, trace_ids: &[String]) -> Sql {
    let mut sql = upsert_totals(dialect, project_id, Some(trace_ids));
    sql.push(&format!(" RETURNING {TRACE_FACT_COLUMNS}"));
    sql
}

/// Recomputes the `trace_totals` rows of every trace of the project, returning the new rows'
/// [`TRACE_FACT_COLUMNS`] (the rebuild of a project's rollups, in the rebuild's transaction,
/// which folds them: `rollups_sql::rebuild`).
pub fn refresh_project_statement(dialect: Dialect, project_id: &str) -> Sql {
    let mut sql = upsert_totals(dialect, project_id, None);
    sql.push(&format!(" RETURNING {TRACE_FACT_COLUMNS}"));
    sql
}

/// The totals of every trace of the project worked out from its raw rows, read with
/// [`TRACE_FACT_COLUMNS`] (what the stored rows must equal).
pub fn recompute_statement(dialect: Dialect, project_id: &str) -> Sql {
    let mut sql = Sql::new(dialect, &totals_select(dialect));
    sql.push("t.project_id = ").bind(project_id).push(GROUP_BY);
    sql
}

/// Deletes the `trace_totals` rows of the project's traces `trace_ids`, returning their
/// [`TRACE_FACT_COLUMNS`].
pub fn forget_statement(dialect: Dialect, project_id: &str, trace_ids: &[String]) -> Sql {
    let mut sql = Sql::new(dialect, "DELETE FROM trace_totals WHERE project_id = ");
    sql.bind(project_id).push(" AND ");
    sql.in_list("trace_id", trace_ids.to_vec(), false);
    sql.push(&format!(" RETURNING {TRACE_FACT_COLUMNS}"));
    sql
}

/// What becomes of the `trace_totals` rows of some traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalsChange {
    /// Recomputed from the traces' rows (after a write).
    Refresh,
    /// Deleted (with their traces).
    Forget,
}

/// Recomputes (or deletes) the `trace_totals` rows of the project's traces `trace_ids` and
/// adds the change of each row to the trace rollups of `rollups`: a refresh reads the rows
/// before by primary key and the upsert returns them after; a deletion returns what it
/// deletes. On PostgreSQL the caller holds the traces' locks ([`lock_statement`]), so no
/// other writer changes the rows between the read and the upsert.
pub async fn apply(
    db: &impl ReadConnection,
    project_id: &str,
    trace_ids: &[String],
    change: TotalsChange,
    rollups: &mut Rollups,
) -> Result<()> {
    if trace_ids.is_empty() {
        return Ok(());
    }
    let dialect = db.dialect();
    let (before, after) = match change {
        TotalsChange::Refresh => {
            let mut stored = Sql::new(
                dialect,
                &format!("SELECT {TRACE_FACT_COLUMNS} FROM trace_totals WHERE project_id = "),
            );
            stored.bind(project_id).push(" AND ");
            stored.in_list("trace_id", trace_ids.to_vec(), false);
            let before = facts_by_trace(db, project_id, &stored).await?;
            let refresh = refresh_statement(dialect, project_id, trace_ids);
            (before, facts_by_trace(db, project_id, &refresh).await?)
        }
        TotalsChange::Forget => {
            let forget = forget_statement(dialect, project_id, trace_ids);
            (
                facts_by_trace(db, project_id, &forget).await?,
                BTreeMap::new(),
            )
        }
    };
    let changed: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for trace_id in changed {
        rollups.trace(before.get(trace_id), after.get(trace_id));
    }
    Ok(())
}

/// The totals rows `sql` reads or returns ([`TRACE_FACT_COLUMNS`]) by trace id.
async fn facts_by_trace(
    db: &impl ReadConnection,
    project_id: &str,
    sql: &Sql,
) -> Result<BTreeMap<String, TraceFacts>> {
    let mut facts = BTreeMap::new();
    db.each_row(sql, |row| {
        let row = TraceFacts::from_row(project_id, row)?;
        facts.insert(row.trace_id.clone(), row);
        Ok(())
    })
    .await?;
    Ok(facts)
}

/// On PostgreSQL, the statement that makes concurrent writers of the same traces take turns
/// before recomputing them: a transaction-scoped advisory lock per trace, taken in key order
/// so two writers never wait for each other in a cycle. The recomputation that follows (a new
/// statement, so a new snapshot under READ COMMITTED) then sees the other writer's committed
/// observations, and no write's recomputation overwrites a later one's.
pub fn lock_statement(project_id: &str, trace_ids: &[String]) -> Sql {
    advisory_locks(project_id, "/", trace_ids.to_vec())
}

/// `pg_advisory_xact_lock` on the hash of `project_id || separator || id` for each id, in
/// key order (so two transactions never wait for each other in a cycle).
fn advisory_locks(project_id: &str, separator: &str, ids: Vec<String>) -> Sql {
    let mut sql = Sql::new(
        Dialect::Postgres,
        "SELECT pg_advisory_xact_lock(k.key) FROM (SELECT DISTINCT hashtextextended(",
    );
    sql.bind(project_id).push(&format!(
        " || '{separator}' || u.id, 7) AS key FROM unnest("
    ));
    sql.bind(ids).push(") AS u(id) ORDER BY 1) k");
    sql
}

/// On PostgreSQL, the statement that makes concurrent writers of the same sessions take
/// turns before adding their session totals: a transaction-scoped advisory lock per session
/// the deltas touch, in key order. Each session's times are recomputed from its
/// `trace_totals` rows by a statement after the lock (a new snapshot under READ COMMITTED),
/// so they include every other writer's committed rows. `None` when no session is touched.
pub fn session_lock_statement(project_id: &str, rollups: &Rollups) -> Option<Sql> {
    let sessions: Vec<String> = rollups
        .touched_sessions()
        .map(|key| key.session_id.clone())
        .collect();
    (!sessions.is_empty()).then(|| advisory_locks(project_id, "/session/", sessions))
}

/// The trace ids a write touched, sorted and without repeats: its traces' ids (with the
/// stored traces of its observations before and after their merges,
/// `Rollups::observation_traces`), its observations' trace ids, and the stored trace ids of
/// the observations it updated without naming their trace (read after the write, so they are
/// the merged ones).
pub async fn touched_trace_ids<'a>(
    connection: &impl ReadConnection,
    project_id: &str,
    trace_ids: impl Iterator<Item = &'a str>,
    observations: impl Iterator<Item = &'a ObservationRecord>,
) -> Result<Vec<String>> {
    let mut ids: Vec<String> = trace_ids.map(str::to_owned).collect();
    let mut unnamed = Vec::new();
    for observation in observations {
        match &observation.trace_id {
            Some(trace_id) => ids.push(trace_id.clone()),
            None => unnamed.push(observation.id.clone()),
        }
    }
    if !unnamed.is_empty() {
        let mut stored = Sql::new(
            connection.dialect(),
            "SELECT o.trace_id FROM observations o WHERE o.project_id = ",
        );
        stored.bind(project_id).push(" AND ");
        stored
            .in_list("o.id", unnamed, false)
            .push(" AND o.trace_id IS NOT NULL");
        ids.extend(connection.rows(&stored, |row| row.text("trace_id")).await?);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_updates_every_summed_column() {
        let sql = refresh_statement(Dialect::Sqlite, "p", &["a".to_owned()]);
        for column in COLUMNS.split(", ").skip(2) {
            assert!(
                sql.text.contains(&format!("{column} = excluded.{column}")),
                "{column}: {}",
                sql.text
            );
        }
        assert!(!sql.text.contains("project_id = excluded"), "{}", sql.text);
    }
}
