//! Connection set-up and the versioned schema migrations, tracked with `PRAGMA user_version`.

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

use super::sql_error;
use spindle_store::Result;

/// The migrations, in order; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../migrations/0001_initial.sql"),
    ),
    (
        "0002_counters_and_planner_stats",
        include_str!("../migrations/0002_counters_and_planner_stats.sql"),
    ),
    (
        "0003_accounts",
        include_str!("../migrations/0003_accounts.sql"),
    ),
    (
        "0004_list_indexes",
        include_str!("../migrations/0004_list_indexes.sql"),
    ),
    ("0005_cost", include_str!("../migrations/0005_cost.sql")),
    (
        "0006_trace_tags_and_metadata",
        include_str!("../migrations/0006_trace_tags_and_metadata.sql"),
    ),
    (
        "0007_scores_cover_trace_ids",
        include_str!("../migrations/0007_scores_cover_trace_ids.sql"),
    ),
    (
        "0008_prompts",
        include_str!("../migrations/0008_prompts.sql"),
    ),
    (
        "0009_server_secrets",
        include_str!("../migrations/0009_server_secrets.sql"),
    ),
    (
        "0010_observations_by_prompt",
        include_str!("../migrations/0010_observations_by_prompt.sql"),
    ),
    (
        "0011_prompt_latency_index",
        include_str!("../migrations/0011_prompt_latency_index.sql"),
    ),
    (
        "0012_datasets",
        include_str!("../migrations/0012_datasets.sql"),
    ),
    (
        "0013_dataset_item_versions",
        include_str!("../migrations/0013_dataset_item_versions.sql"),
    ),
    ("0014_review", include_str!("../migrations/0014_review.sql")),
    (
        "0015_score_configs",
        include_str!("../migrations/0015_score_configs.sql"),
    ),
    (
        "0016_observations_by_prompt_trace",
        include_str!("../migrations/0016_observations_by_prompt_trace.sql"),
    ),
    (
        "0017_organizations",
        include_str!("../migrations/0017_organizations.sql"),
    ),
    (
        "0018_run_item_dataset_version",
        include_str!("../migrations/0018_run_item_dataset_version.sql"),
    ),
    (
        "0019_audit_log",
        include_str!("../migrations/0019_audit_log.sql"),
    ),
    (
        "0020_dataset_item_media",
        include_str!("../migrations/0020_dataset_item_media.sql"),
    ),
    (
        "0021_review_claims",
        include_str!("../migrations/0021_review_claims.sql"),
    ),
    (
        "0022_trace_totals",
        include_str!("../migrations/0022_trace_totals.sql"),
    ),
    (
        "0023_rollups",
        include_str!("../migrations/0023_rollups.sql"),
    ),
    (
        "0024_search_pending",
        include_str!("../migrations/0024_search_pending.sql"),
    ),
    (
        "0025_prompt_score_rollups",
        include_str!("../migrations/0025_prompt_score_rollups.sql"),
    ),
    (
        "0026_observation_rollups_by_prompt",
        include_str!("../migrations/0026_observation_rollups_by_prompt.sql"),
    ),
    (
        "0027_resources",
        include_str!("../migrations/0027_resources.sql"),
    ),
    (
        "0028_rollup_level_and_booleans",
        include_str!("../migrations/0028_rollup_level_and_booleans.sql"),
    ),
    (
        "0029_payload_dictionaries",
        include_str!("../migrations/0029_payload_dictionaries.sql"),
    ),
    (
        "0030_trace_rollups",
        include_str!("../migrations/0030_trace_rollups.sql"),
    ),
    (
        "0031_people_rollups",
        include_str!("../migrations/0031_people_rollups.sql"),
    ),
    (
        "0032_trace_model_rollups",
        include_str!("../migrations/0032_trace_model_rollups.sql"),
    ),
    (
        "0033_session_totals",
        include_str!("../migrations/0033_session_totals.sql"),
    ),
    (
        "0034_latency_days",
        include_str!("../migrations/0034_latency_days.sql"),
    ),
    (
        "0035_attribute_rollups",
        include_str!("../migrations/0035_attribute_rollups.sql"),
    ),
    (
        "0036_metadata_rollups",
        include_str!("../migrations/0036_metadata_rollups.sql"),
    ),
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The page size of new databases: spans of a few KB fit a 16 KB page without overflow
/// chains; the write bench spent about a third less system time than with 4 KB pages.
const PAGE_SIZE: u32 = 16384;

/// The writer checkpoints by itself only when the WAL grows past this many pages (a safety
/// net: the checkpointer thread normally keeps the WAL short).
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16384;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection to `path` (creating the file if `create`), waiting up to
/// `busy_timeout` for locks another connection holds, and runs `pragmas` on it.
fn open(path: &Path, create: bool, busy_timeout: Duration, pragmas: &str) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let connection = Connection::open_with_flags(path, flags).map_err(sql_error)?;
    connection.busy_timeout(busy_timeout).map_err(sql_error)?;
    connection.execute_batch(pragmas).map_err(sql_error)?;
    super::payload::register_function(&connection).map_err(sql_error)?;
    Ok(connection)
}

/// Opens the connection the writer thread owns: WAL, the requested durability, foreign keys.
pub(crate) fn open_writer(path: &Path, synchronous_full: bool) -> Result<Connection> {
    let synchronous = if synchronous_full { "FULL" } else { "NORMAL" };
    let connection = open(
        path,
        true,
        BUSY_TIMEOUT,
        &format!(
            "PRAGMA page_size = {PAGE_SIZE};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = {synchronous};
             PRAGMA foreign_keys = ON;
             PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES};
             PRAGMA journal_size_limit = 67108864;
             PRAGMA cache_size = -32000;
             PRAGMA temp_store = MEMORY;"
        ),
    )?;
    // Every statement the writer runs stays prepared: the rollups' multi-row upserts alone
    // are a few texts per table (`rollups::AdditiveUpserts`), and a statement parsed again
    // for each transaction cost more than running it.
    connection.set_prepared_statement_cache_capacity(WRITER_STATEMENT_CACHE);
    Ok(connection)
}

/// How many prepared statements the writer keeps (a few KiB each).
const WRITER_STATEMENT_CACHE: usize = 512;

/// Opens a read connection: it never writes.
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let connection = open(
        path,
        false,
        BUSY_TIMEOUT,
        "PRAGMA query_only = ON;
         PRAGMA cache_size = -16000;
         PRAGMA temp_store = MEMORY;",
    )?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Opens the connection of the checkpointer thread. Its lock wait is short: a checkpoint
/// that finds the database busy is simply tried again later, and the last one must not hold
/// up a shutdown.
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection> {
    open(
        path,
        false,
        Duration::from_millis(100),
        "PRAGMA wal_autocheckpoint = 0;",
    )
}

/// Runs `PRAGMA wal_checkpoint(<mode>)`.
pub(crate) fn checkpoint(connection: &Connection, mode: &str) -> Result<()> {
    connection
        .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
        .map_err(sql_error)
}

/// Applies the migrations the database lacks, each in its own transaction with its version.
/// Fails with `Unavailable` when the database is newer than this build.
pub(crate) fn migrate(connection: &mut Connection) -> Result<()> {
    let current: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(sql_error)?;
    if current > SCHEMA_VERSION {
        return Err(spindle_core::Error::new(
            spindle_core::ErrorKind::Unavailable,
            format!(
                "database schema version {current} is newer than this build supports \
                 ({SCHEMA_VERSION})"
            ),
        ));
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= current {
            continue;
        }
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        transaction
            .execute_batch(sql)
            .map_err(|e| spindle_core::Error::internal(format!("migration {name} failed: {e}")))?;
        transaction
            .execute_batch(&format!("PRAGMA user_version = {version}"))
            .map_err(sql_error)?;
        transaction.commit().map_err(sql_error)?;
        tracing::info!(migration = name, version, "applied sqlite migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_store::sql::Dialect;

    fn user_version(connection: &Connection) -> i64 {
        connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap_or(-1)
    }

    #[test]
    fn migrations_apply_in_order_and_upgrade_existing_data() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("upgrade.db");
        let mut connection = open_writer(&path, false).expect("open");
        // A database at version 1 with data in it.
        connection.execute_batch(MIGRATIONS[0].1).expect("v1");
        connection
            .execute_batch(
                "PRAGMA user_version = 1;
                 INSERT INTO project_stats (project_id, trace_count) VALUES ('p', 1);
                 INSERT INTO observations (project_id, id, created_at, updated_at)
                     VALUES ('p', 'o1', 0, 0), ('p', 'o2', 0, 0), ('q', 'o1', 0, 0);",
            )
            .expect("v1 data");
        migrate(&mut connection).expect("migrate");
        assert_eq!(user_version(&connection), SCHEMA_VERSION);
        let counts: Vec<(String, i64, i64)> = connection
            .prepare(
                "SELECT project_id, trace_count, observation_count FROM project_stats ORDER BY 1",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .expect("counts");
        assert_eq!(counts, vec![("p".into(), 1, 2), ("q".into(), 0, 1)]);
        // Migrating again is a no-op, and a newer database is refused.
        migrate(&mut connection).expect("idempotent");
        connection
            .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .expect("bump");
        let error = migrate(&mut connection).expect_err("newer schema");
        assert_eq!(error.kind, spindle_core::ErrorKind::Unavailable);
    }

    #[test]
    fn existing_accounts_get_organization_roles() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut connection = open_writer(&dir.path().join("roles.db"), false).expect("open");
        let before = MIGRATIONS
            .iter()
            .position(|(name, _)| *name == "0017_organizations")
            .expect("the organizations migration");
        for (_, sql) in &MIGRATIONS[..before] {
            connection.execute_batch(sql).expect("earlier migration");
        }
        connection
            .execute_batch(&format!(
                "PRAGMA user_version = {before};
                 INSERT INTO organizations VALUES ('o', 'O', 1);
                 INSERT INTO projects (id, organization_id, name, created_at)
                     VALUES ('p1', 'o', 'P1', 1), ('p2', 'o', 'P2', 1);
                 INSERT INTO users (id, email, is_admin, created_at)
                     VALUES ('admin', 'a@x', 1, 1), ('m', 'm@x', 0, 2), ('idle', 'i@x', 0, 3);
                 INSERT INTO memberships VALUES ('m', 'p1', 'owner', 5), ('m', 'p2', 'member', 6);"
            ))
            .expect("accounts of before");
        migrate(&mut connection).expect("migrate");
        let rows = |sql: &str| -> Vec<(String, String, String)> {
            connection
                .prepare(sql)
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                        .collect()
                })
                .expect("rows")
        };
        assert_eq!(
            rows("SELECT organization_id, user_id, role FROM organization_memberships ORDER BY 2"),
            [
                ("o".into(), "admin".into(), "OWNER".into()),
                ("o".into(), "m".into(), "MEMBER".into()),
            ],
            "admins own every organization, members join their projects' organizations"
        );
        assert_eq!(
            rows("SELECT user_id, project_id, role FROM memberships ORDER BY 2"),
            [
                ("m".into(), "p1".into(), "ADMIN".into()),
                ("m".into(), "p2".into(), "MEMBER".into()),
            ],
            "project roles stay as overrides, a project owner an admin"
        );
    }

    #[test]
    fn planner_uses_equality_indexes() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut connection = open_writer(&dir.path().join("plan.db"), false).expect("open");
        migrate(&mut connection).expect("migrate");
        let reader = open_reader(&dir.path().join("plan.db")).expect("reader");
        let plan = |sql: &str| -> String {
            reader
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .and_then(|mut s| {
                    s.query_map([], |r| r.get::<_, String>(3))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map(|rows| rows.join("; "))
                .expect("plan")
        };
        let by_trace = plan(
            "SELECT o.id FROM observations o WHERE o.project_id = 'p' AND o.trace_id = 't' \
             ORDER BY o.sort_time DESC, o.id DESC LIMIT 50",
        );
        assert!(by_trace.contains("observations_by_trace"), "{by_trace}");
        let by_user = plan(
            "SELECT t.id FROM traces t WHERE t.project_id = 'p' AND t.user_id = 'u' \
             ORDER BY t.timestamp DESC, t.id DESC LIMIT 50",
        );
        assert!(by_user.contains("traces_by_user"), "{by_user}");
        let newest = plan(
            "SELECT t.id FROM traces t WHERE t.project_id = 'p' \
             ORDER BY t.timestamp DESC, t.id DESC LIMIT 50",
        );
        assert!(newest.contains("traces_by_time"), "{newest}");
        assert!(!newest.contains("TEMP B-TREE"), "{newest}");
        let plan_of = |statement: &spindle_store::sql::Sql| -> String {
            reader
                .prepare(&format!("EXPLAIN QUERY PLAN {}", statement.finish_text()))
                .and_then(|mut s| {
                    s.query_map(rusqlite::params_from_iter(&statement.params), |r| {
                        r.get::<_, String>(3)
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map(|rows| rows.join("; "))
                .expect("plan")
        };
        // The per-version metrics of a prompt: the totals from the latency index alone, each
        // percentile a walk along it without a sort, and the score averages from their rollup.
        use spindle_store::prompts_sql::{
            latency_percentiles_statement, metrics_totals_statement, prompt_scores_statement,
            rollup_totals_statement, version_span_statement,
        };
        // Once the rollups are built, the totals come from the prompt's rollup rows, and a
        // version's first and last use and its count without latency from two indexes.
        let rollup_plan = plan_of(&rollup_totals_statement(Dialect::Sqlite, "p", "greet"));
        assert!(
            rollup_plan.contains("INDEX observation_rollups_by_prompt"),
            "{rollup_plan}"
        );
        let span_plan = plan_of(&version_span_statement(Dialect::Sqlite, "p", "greet", 2));
        assert!(
            span_plan.contains("INDEX observations_by_prompt ")
                && span_plan.contains("INDEX observations_by_prompt_latency"),
            "{span_plan}"
        );
        assert!(!span_plan.contains("SCAN observations"), "{span_plan}");
        let totals_plan = plan_of(&metrics_totals_statement(Dialect::Sqlite, "p", "greet"));
        assert!(
            totals_plan.contains("COVERING INDEX observations_by_prompt_latency"),
            "{totals_plan}"
        );
        let percentiles_plan = plan_of(&latency_percentiles_statement(
            Dialect::Sqlite,
            "p",
            "greet",
            2,
            1000,
        ));
        assert_eq!(
            percentiles_plan
                .matches("INDEX observations_by_prompt_latency")
                .count(),
            3,
            "{percentiles_plan}"
        );
        assert!(
            !percentiles_plan.contains("TEMP B-TREE"),
            "{percentiles_plan}"
        );
        let scores_plan = plan_of(&prompt_scores_statement(Dialect::Sqlite, "p", "greet"));
        assert!(
            scores_plan.contains("prompt_score_rollups USING PRIMARY KEY"),
            "{scores_plan}"
        );
        // A write's changed prompt links find the links of their traces by trace.
        let links_plan = plan_of(&spindle_store::rollups_sql::prompt_links_statement(
            Dialect::Sqlite,
            "p",
            vec!["t1".to_owned(), "t2".to_owned()],
        ));
        assert!(
            links_plan.contains("INDEX observations_by_trace"),
            "{links_plan}"
        );
        // Traces filtered by a prompt read the prompt's observations from the same index.
        let filter = spindle_store::Filter::new(
            "promptName",
            "=",
            spindle_store::FilterValue::String("greet".to_owned()),
        );
        let mut by_prompt = spindle_store::sql::Sql::new(
            Dialect::Sqlite,
            "SELECT t.id FROM traces t WHERE t.project_id = 'p' AND ",
        );
        by_prompt
            .append(
                &spindle_store::sql::compile_trace_filter(Dialect::Sqlite, "p", 0, &filter)
                    .expect("filter"),
            )
            .push(" ORDER BY t.timestamp DESC, t.id DESC LIMIT 50");
        let by_prompt_plan = plan_of(&by_prompt);
        assert!(
            by_prompt_plan.contains("observations_by_prompt"),
            "{by_prompt_plan}"
        );
        assert!(!by_prompt_plan.contains("SCAN o3"), "{by_prompt_plan}");
    }
}
