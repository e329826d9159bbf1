//! Connection set-up and the versioned schema migrations, tracked with `PRAGMA user_version`.

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

use super::sql_error;
use crate::Result;

/// The migrations, in order; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        "0002_counters_and_planner_stats",
        include_str!("../../migrations/sqlite/0002_counters_and_planner_stats.sql"),
    ),
    (
        "0003_accounts",
        include_str!("../../migrations/sqlite/0003_accounts.sql"),
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

/// Opens the connection the writer thread owns: WAL, the requested durability, foreign keys.
pub(crate) fn open_writer(path: &Path, synchronous_full: bool) -> Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    let synchronous = if synchronous_full { "FULL" } else { "NORMAL" };
    connection
        .execute_batch(&format!(
            "PRAGMA page_size = {PAGE_SIZE};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = {synchronous};
             PRAGMA foreign_keys = ON;
             PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES};
             PRAGMA journal_size_limit = 67108864;
             PRAGMA cache_size = -32000;
             PRAGMA temp_store = MEMORY;"
        ))
        .map_err(sql_error)?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Opens a read connection: it never writes.
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    connection
        .execute_batch(
            "PRAGMA query_only = ON;
             PRAGMA cache_size = -16000;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(sql_error)?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Opens the connection of the checkpointer thread.
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    connection
        .execute_batch("PRAGMA wal_autocheckpoint = 0;")
        .map_err(sql_error)?;
    Ok(connection)
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
