//! `trace_totals`: one row per trace with what its observations add up to (count, cost,
//! tokens, first start, last end, latency, worst level) and copies of the trace's time, user,
//! session and environment, so that traces sorted by cost or latency walk an index and the
//! users and sessions lists sum one row per trace instead of joining the observations.
//!
//! The rows are kept exact by recomputation, never by deltas: at the end of every write
//! transaction, the traces the write touched (its traces and its observations' traces) are
//! summed again from their rows by [`refresh_statement`]; a trace deletion removes its row
//! ([`forget_statement`]) in the deletion's transaction. A trace has a row from its first
//! write on, with or without observations; observations whose trace does not exist have none.

use spindle_core::ObservationRecord;

use crate::reading::ReadConnection;
use crate::sql::{Dialect, RowAccess, Sql};
use crate::statements::{SUM_AS_FLOAT, SUM_AS_INTEGER};
use crate::Result;

/// The worst level rank of the observations `o` (1 = DEFAULT without observations).
const LEVEL_RANK: &str = "coalesce(max(CASE o.level WHEN 'DEBUG' THEN 0 \
     WHEN 'WARNING' THEN 2 WHEN 'ERROR' THEN 3 ELSE 1 END), 1)";

/// The summed columns of `trace_totals`, in the order [`refresh_statement`] selects them.
const COLUMNS: &str = "project_id, trace_id, trace_time, timestamp, user_id, session_id, \
     environment, observation_count, total_cost, usage_input, usage_output, usage_total, \
     start_min, end_max, latency, last_end, level_rank";

/// The `SELECT` of the totals of the traces `t` from their observations `o` (joined by
/// [`OBSERVATIONS_OF_T`]), grouped per trace; the caller adds the `WHERE` on `t`.
fn totals_select(dialect: Dialect) -> String {
    // A trace's end: the latest end (or start when it has no end or ends before it starts).
    let (end, cost) = match dialect {
        Dialect::Sqlite => (
            "max(coalesce(max(o.end_time, o.start_time), o.start_time))",
            SUM_AS_FLOAT.of(dialect, "o.total_cost"),
        ),
        // Summed over `numeric`, so the sum does not depend on the rows' order.
        Dialect::Postgres => (
            "max(greatest(o.end_time, o.start_time))",
            "coalesce(sum(o.total_cost::numeric), 0.0)::float8".to_owned(),
        ),
    };
    format!(
        "SELECT t.project_id, t.id, coalesce(t.timestamp, t.created_at), t.timestamp, \
         t.user_id, t.session_id, t.environment, count(o.id), {cost}, {}, {}, {}, \
         min(o.start_time), {end}, {end} - min(o.start_time), \
         max(coalesce(o.end_time, o.start_time)), {LEVEL_RANK} \
         FROM traces t LEFT JOIN observations o \
         ON o.project_id = t.project_id AND o.trace_id = t.id WHERE ",
        SUM_AS_INTEGER.of(dialect, "o.usage_input"),
        SUM_AS_INTEGER.of(dialect, "o.usage_output"),
        SUM_AS_INTEGER.of(dialect, "o.usage_total"),
    )
}

/// Recomputes the `trace_totals` rows of the project's traces `trace_ids` from their rows
/// (one `INSERT … SELECT … GROUP BY` upsert). Ids without a trace get no row.
pub fn refresh_statement(dialect: Dialect, project_id: &str, trace_ids: &[String]) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "INSERT INTO trace_totals ({COLUMNS}) {}",
            totals_select(dialect)
        ),
    );
    sql.push("t.project_id = ").bind(project_id).push(" AND ");
    sql.in_list("t.id", trace_ids.to_vec(), false);
    sql.push(
        " GROUP BY t.project_id, t.id, t.timestamp, t.created_at, t.user_id, t.session_id, \
         t.environment ON CONFLICT (project_id, trace_id) DO UPDATE SET ",
    );
    let updates: Vec<String> = COLUMNS
        .split(", ")
        .skip(2)
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    sql.push(&updates.join(", "));
    sql
}

/// Deletes the `trace_totals` rows of the project's traces `trace_ids`.
pub fn forget_statement(dialect: Dialect, project_id: &str, trace_ids: &[String]) -> Sql {
    let mut sql = Sql::new(dialect, "DELETE FROM trace_totals WHERE project_id = ");
    sql.bind(project_id).push(" AND ");
    sql.in_list("trace_id", trace_ids.to_vec(), false);
    sql
}

/// On PostgreSQL, the statement that makes concurrent writers of the same traces take turns
/// before recomputing them: a transaction-scoped advisory lock per trace, taken in key order
/// so two writers never wait for each other in a cycle. The recomputation that follows (a new
/// statement, so a new snapshot under READ COMMITTED) then sees the other writer's committed
/// observations, and no write's recomputation overwrites a later one's.
pub fn lock_statement(project_id: &str, trace_ids: &[String]) -> Sql {
    let mut sql = Sql::new(
        Dialect::Postgres,
        "SELECT pg_advisory_xact_lock(k.key) FROM (SELECT DISTINCT hashtextextended(",
    );
    sql.bind(project_id)
        .push(" || '/' || u.id, 7) AS key FROM unnest(");
    sql.bind(trace_ids.to_vec())
        .push(") AS u(id) ORDER BY 1) k");
    sql
}

/// The trace ids a write touched, sorted and without repeats: its traces' ids, its
/// observations' trace ids, and the stored trace ids of the observations it updated without
/// naming their trace (read after the write, so they are the merged ones).
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
