//! Moving up: copies a whole SQLite data directory (organizations, projects, keys, users,
//! prompts, traces, observations, scores, media with their bytes, datasets, score configs,
//! annotation queues, comments and the audit log) into PostgreSQL, in batches, resumably.
//!
//! Not copied: what PostgreSQL derives itself as the rows arrive (the per-project counters,
//! the tag, metadata and search index tables), the web UI's sessions and sign-in links
//! (people sign in again after the move), and the server secret's row (the command carries
//! the data directory's secret file over itself).
//!
//! Each table is read in rowid order; every batch is written in one PostgreSQL transaction
//! together with the table's position in `spindle_copy_progress`, so an interrupted copy
//! resumes after the last committed batch. Rows keep their creation and update times; a row
//! that already exists in PostgreSQL (written by a live instance, or by an earlier run) is
//! merged with the copy using the core merge rules instead of being overwritten.

use rusqlite::{params, Connection, OpenFlags};
use spindle_core::{Error, ObservationRecord, ScoreRecord, TraceRecord};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod accounts;
mod prompts;
mod tables;

use super::writer::{add_counts, copy_rows, Entity};
use super::{pg_error, postgres_execute, PostgresStore};
use spindle_store::sql::rows::{
    decode_observation, decode_score, decode_trace, insert_media, ReadColumns, Stored,
    OBSERVATION_COLUMNS, SCORE_COLUMNS, TRACE_COLUMNS,
};
use spindle_store::sql::{ColumnIndex, Dialect, Indexed, RowAccess};
use spindle_store::{Result, Store};
use spindle_store_sqlite::{SqliteOptions, SqliteStore, DATABASE_FILE};

/// How a copy runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    /// Rows per batch (and per PostgreSQL transaction).
    pub batch_rows: usize,
    /// Stop after this many batches in total (to test resuming); `None` copies everything.
    pub max_batches: Option<usize>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            batch_rows: 1_000,
            max_batches: None,
        }
    }
}

/// Where a copy stands, reported after every batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProgress {
    pub table: &'static str,
    /// Rows of this table copied so far, earlier runs included.
    pub copied: u64,
    /// Rows of this table in the source.
    pub total: u64,
}

/// The outcome of [`copy_from_sqlite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    /// Rows copied per table, earlier runs included.
    pub tables: Vec<CopyProgress>,
    /// False when `max_batches` stopped the copy early; run it again to go on.
    pub complete: bool,
}

const PROGRESS_TABLE: &str = "CREATE TABLE IF NOT EXISTS spindle_copy_progress (
    source     text NOT NULL,
    table_name text NOT NULL,
    last_rowid bigint NOT NULL,
    copied     bigint NOT NULL,
    PRIMARY KEY (source, table_name)
)";

fn sqlite_error(error: rusqlite::Error) -> Error {
    Error::internal(format!("reading the sqlite database: {error}"))
}

/// Every row of a query without parameters, each read by `read`.
fn all_rows<T>(
    connection: &Connection,
    sql: &str,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    connection
        .prepare(sql)
        .and_then(|mut statement| statement.query_map([], read)?.collect())
        .map_err(sqlite_error)
}

/// The SQLite database file of a data directory (or the file itself).
fn source_file(data_dir: &Path) -> PathBuf {
    if data_dir.is_file() {
        data_dir.to_path_buf()
    } else {
        data_dir.join(DATABASE_FILE)
    }
}

/// Copies the SQLite database in `data_dir` into `target`. The source is first opened as a
/// store (which brings its schema up to date), then read without writing.
pub async fn copy_from_sqlite(
    data_dir: &Path,
    target: &PostgresStore,
    options: &CopyOptions,
    mut progress: impl FnMut(&CopyProgress) + Send,
) -> Result<CopySummary> {
    let file = source_file(data_dir);
    if !file.is_file() {
        return Err(Error::invalid(
            "dataDir",
            format!("no SQLite database at {}", file.display()),
        ));
    }
    let upgraded = SqliteStore::open(&file, SqliteOptions::default())?;
    upgraded.shutdown().await?;
    drop(upgraded);
    let source_name = std::fs::canonicalize(&file)
        .unwrap_or_else(|_| file.clone())
        .display()
        .to_string();
    let reader = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            let connection = Connection::open_with_flags(
                &file,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite_error)?;
            spindle_store_sqlite::register_payload_function(&connection).map_err(sqlite_error)?;
            Ok(connection)
        })
        .await
        .map_err(|e| Error::internal(format!("sqlite reader: {e}")))??
    };
    let reader = Arc::new(Mutex::new(reader));
    let client = target.client().await?;
    client
        .batch_execute(PROGRESS_TABLE)
        .await
        .map_err(pg_error)?;
    drop(client);

    let mut copier = Copier {
        reader,
        target,
        source: source_name,
        batch_rows: options.batch_rows.max(1),
        batches_left: options.max_batches,
        tables: Vec::new(),
    };
    copier.copy_whole(&accounts::OF_PROJECTS).await?;
    copier.copy_whole(&accounts::OF_PEOPLE).await?;
    copier.copy_prompts().await?;
    let record_tables: [(&'static str, TableKind); 5] = [
        ("traces", TableKind::Traces),
        ("observations", TableKind::Observations),
        ("scores", TableKind::Scores),
        ("media", TableKind::Media),
        ("media_blobs", TableKind::MediaBlobs),
    ];
    let plain = tables::PLAIN
        .iter()
        .map(|table| (table.name, TableKind::Plain(table)));
    for (table, kind) in record_tables.into_iter().chain(plain) {
        if !copier.copy_table(table, kind, &mut progress).await? {
            return Ok(CopySummary {
                tables: copier.tables,
                complete: false,
            });
        }
    }
    // What the copy marked pending: the copied projects' totals and rollups, from their rows,
    // planned with statistics of the tables as the copy left them.
    let mut client = target.client().await?;
    client
        .batch_execute("ANALYZE traces, observations, scores, trace_totals")
        .await
        .map_err(pg_error)?;
    crate::rollups::build_pending(&mut client).await?;
    // Every table of the schema vacuumed, so index-only scans skip the heap of the copied and
    // rebuilt rows (a visibility map stays empty until a vacuum), and analyzed for the planner
    // (the search's estimate reads the statistics of `trace_search`), as autovacuum would do
    // later.
    let tables: String = client
        .query_one(
            "SELECT coalesce(string_agg(quote_ident(tablename), ', '), '') FROM pg_tables \
             WHERE schemaname = current_schema()",
            &[],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(pg_error)?;
    if !tables.is_empty() {
        client
            .batch_execute(&format!("VACUUM (ANALYZE) {tables}"))
            .await
            .map_err(pg_error)?;
    }
    Ok(CopySummary {
        tables: copier.tables,
        complete: true,
    })
}

#[derive(Debug, Clone, Copy)]
enum TableKind {
    Traces,
    Observations,
    Scores,
    Media,
    MediaBlobs,
    Plain(&'static tables::Table),
}

/// One batch read from SQLite.
enum Rows {
    Traces(Vec<(String, TraceRecord, i64, i64)>),
    Observations(Vec<(String, ObservationRecord, i64, i64)>),
    Scores(Vec<(String, ScoreRecord, i64, i64)>),
    Media(Vec<spindle_store::MediaRecord>),
    MediaBlobs(Vec<(String, String, Vec<u8>)>),
    Plain(&'static tables::Table, tables::TableRows),
}

struct Copier<'a> {
    reader: Arc<Mutex<Connection>>,
    target: &'a PostgresStore,
    source: String,
    batch_rows: usize,
    batches_left: Option<usize>,
    tables: Vec<CopyProgress>,
}

impl Copier<'_> {
    async fn read<R: Send + 'static>(
        &self,
        job: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let connection = reader
                .lock()
                .map_err(|_| Error::internal("the sqlite reader is poisoned"))?;
            job(&connection)
        })
        .await
        .map_err(|e| Error::internal(format!("sqlite reader: {e}")))?
    }

    /// Tables of few rows (see [`accounts`]), each read whole, all written in one transaction.
    async fn copy_whole(&mut self, tables: &'static [tables::Table]) -> Result<()> {
        let rows = self.read(move |c| tables::read_whole(c, tables)).await?;
        let mut client = self.target.client().await?;
        let transaction = client.transaction().await.map_err(pg_error)?;
        for (table, rows) in tables.iter().zip(&rows) {
            table.write(&transaction, rows, |_, _| {}).await?;
        }
        transaction.commit().await.map_err(pg_error)?;
        self.tables.extend(tables::copied_whole(tables, &rows));
        Ok(())
    }

    /// The prompts with their versions, labels, tags and references (see [`prompts`]).
    async fn copy_prompts(&mut self) -> Result<()> {
        let tables = self.read(prompts::read).await?;
        let mut client = self.target.client().await?;
        let copied = prompts::write(&mut client, tables).await?;
        self.tables.extend(copied);
        Ok(())
    }

    /// Copies one table batch by batch; returns false when `max_batches` ran out.
    async fn copy_table(
        &mut self,
        table: &'static str,
        kind: TableKind,
        progress: &mut (impl FnMut(&CopyProgress) + Send),
    ) -> Result<bool> {
        let total: i64 = self
            .read(move |c| {
                c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                    .map_err(sqlite_error)
            })
            .await?;
        let client = self.target.client().await?;
        let position = client
            .query_opt(
                "SELECT last_rowid, copied FROM spindle_copy_progress
                 WHERE source = $1 AND table_name = $2",
                &[&self.source, &table],
            )
            .await
            .map_err(pg_error)?;
        drop(client);
        let (mut last_rowid, mut copied): (i64, i64) = match position {
            Some(row) => (
                row.try_get(0).map_err(pg_error)?,
                row.try_get(1).map_err(pg_error)?,
            ),
            None => (0, 0),
        };
        let mut report = CopyProgress {
            table,
            copied: u64::try_from(copied).unwrap_or(0),
            total: u64::try_from(total).unwrap_or(0),
        };
        progress(&report);
        loop {
            if self.batches_left == Some(0) {
                self.tables.push(report);
                return Ok(false);
            }
            let limit = i64::try_from(self.batch_rows).unwrap_or(i64::MAX);
            let (rows, next_rowid, count) = self
                .read(move |c| read_batch(c, kind, last_rowid, limit))
                .await?;
            if count == 0 {
                self.tables.push(report);
                return Ok(true);
            }
            let mut client = self.target.client().await?;
            let transaction = client.transaction().await.map_err(pg_error)?;
            write_batch(&transaction, rows).await?;
            copied += i64::try_from(count).unwrap_or(0);
            transaction
                .execute(
                    "INSERT INTO spindle_copy_progress (source, table_name, last_rowid, copied)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (source, table_name)
                     DO UPDATE SET last_rowid = excluded.last_rowid, copied = excluded.copied",
                    &[&self.source, &table, &next_rowid, &copied],
                )
                .await
                .map_err(pg_error)?;
            transaction.commit().await.map_err(pg_error)?;
            last_rowid = next_rowid;
            if let Some(left) = self.batches_left.as_mut() {
                *left -= 1;
            }
            report.copied = u64::try_from(copied).unwrap_or(0);
            progress(&report);
        }
    }
}

/// Reads up to `limit` rows of a record table after rowid `after`, with the shared column
/// list and row decoder of the table. Returns each row's project id with its record and
/// times, and the last rowid read.
/// A record read for copying: its project, the record, and its creation and update times.
type CopiedRecord<R> = (String, R, i64, i64);

fn read_records<R>(
    c: &Connection,
    table: &str,
    alias: &str,
    columns: &'static ReadColumns,
    after: i64,
    limit: i64,
    decode: impl Fn(&Indexed<'_, rusqlite::Row<'_>>) -> Result<Stored<R>>,
) -> Result<(Vec<CopiedRecord<R>>, i64)> {
    let mut statement = c
        .prepare_cached(&format!(
            "SELECT {alias}.rowid AS copy_rowid, {alias}.project_id AS copy_project_id, \
             {columns} FROM {table} {alias} \
             WHERE {alias}.rowid > ?1 ORDER BY {alias}.rowid LIMIT ?2",
            columns = columns.select(Dialect::Sqlite),
        ))
        .map_err(sqlite_error)?;
    let names = ColumnIndex::of_statement(&statement);
    let mut rows = statement
        .query(params![after, limit])
        .map_err(sqlite_error)?;
    let mut records = Vec::new();
    let mut last = after;
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        let row = Indexed::new(row, &names);
        last = row.int("copy_rowid")?;
        let project = row.text("copy_project_id")?;
        let stored = decode(&row)?;
        records.push((project, stored.record, stored.created_at, stored.updated_at));
    }
    Ok((records, last))
}

/// Reads up to `limit` rows after `after` (rowid order); returns the rows, the last rowid
/// read and the number of rows.
fn read_batch(
    c: &Connection,
    kind: TableKind,
    after: i64,
    limit: i64,
) -> Result<(Rows, i64, usize)> {
    let mut last = after;
    let rows = match kind {
        TableKind::Traces => {
            let (rows, next) = read_records(c, "traces", "t", &TRACE_COLUMNS, after, limit, |r| {
                decode_trace(r)
            })?;
            last = next;
            Rows::Traces(rows)
        }
        TableKind::Observations => {
            let (rows, next) = read_records(
                c,
                "observations",
                "o",
                &OBSERVATION_COLUMNS,
                after,
                limit,
                |r| decode_observation(r),
            )?;
            last = next;
            Rows::Observations(rows)
        }
        TableKind::Scores => {
            let (rows, next) = read_records(c, "scores", "s", &SCORE_COLUMNS, after, limit, |r| {
                decode_score(r)
            })?;
            last = next;
            Rows::Scores(rows)
        }
        TableKind::Media => {
            let mut statement = c
                .prepare_cached(
                    "SELECT rowid, project_id, id, sha256_hash, content_type, content_length,
                         trace_id, observation_id, field, uploaded_at, upload_http_status,
                         created_at
                     FROM media WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
                )
                .map_err(sqlite_error)?;
            let rows = statement
                .query_map(params![after, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        spindle_store::MediaRecord {
                            project_id: r.get(1)?,
                            id: r.get(2)?,
                            sha256_hash: r.get(3)?,
                            content_type: r.get(4)?,
                            content_length: r.get(5)?,
                            trace_id: r.get(6)?,
                            observation_id: r.get(7)?,
                            field: r.get(8)?,
                            uploaded_at: r.get(9)?,
                            upload_http_status: r.get(10)?,
                            created_at: r.get(11)?,
                        },
                    ))
                })
                .map_err(sqlite_error)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sqlite_error)?;
            last = rows.last().map_or(last, |(rowid, _)| *rowid);
            Rows::Media(rows.into_iter().map(|(_, row)| row).collect())
        }
        TableKind::MediaBlobs => {
            // Blobs can be large: a tenth of the batch size per round trip.
            let blob_limit = (limit / 10).max(1);
            let mut statement = c
                .prepare_cached(
                    "SELECT rowid, project_id, id, bytes FROM media_blobs
                     WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
                )
                .map_err(sqlite_error)?;
            let rows = statement
                .query_map(params![after, blob_limit], |r| {
                    Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
                })
                .map_err(sqlite_error)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sqlite_error)?;
            last = rows.last().map_or(last, |(rowid, _)| *rowid);
            Rows::MediaBlobs(rows.into_iter().map(|(_, row)| row).collect())
        }
        TableKind::Plain(table) => {
            let (rows, next) = table.read_batch(c, after, limit)?;
            last = next;
            Rows::Plain(table, rows)
        }
    };
    let count = match &rows {
        Rows::Traces(r) => r.len(),
        Rows::Observations(r) => r.len(),
        Rows::Scores(r) => r.len(),
        Rows::Media(r) => r.len(),
        Rows::MediaBlobs(r) => r.len(),
        Rows::Plain(_, r) => r.len(),
    };
    Ok((rows, last, count))
}

/// Groups records by project.
fn by_project<R>(rows: Vec<(String, R, i64, i64)>) -> BTreeMap<String, Vec<(R, i64, i64)>> {
    let mut grouped: BTreeMap<String, Vec<(R, i64, i64)>> = BTreeMap::new();
    for (project_id, record, created_at, updated_at) in rows {
        grouped
            .entry(project_id)
            .or_default()
            .push((record, created_at, updated_at));
    }
    grouped
}

async fn write_records<E: Entity>(
    transaction: &deadpool_postgres::Transaction<'_>,
    rows: Vec<(String, E, i64, i64)>,
) -> Result<()> {
    for (project_id, records) in by_project(rows) {
        let copied = copy_rows(transaction, &project_id, records).await?;
        // The project's trace totals and rollups are rebuilt once, at the end of the copy
        // (or at the next start when the copy stops first): recomputed per batch, the totals
        // of the traces of every batch of observations would be summed again and again.
        transaction
            .execute(
                "INSERT INTO rollups_pending (project_id) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&project_id],
            )
            .await
            .map_err(pg_error)?;
        match E::TABLE {
            "traces" => add_counts(transaction, &project_id, copied, 0).await?,
            "observations" => add_counts(transaction, &project_id, 0, copied).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn write_batch(transaction: &deadpool_postgres::Transaction<'_>, rows: Rows) -> Result<()> {
    match rows {
        Rows::Traces(rows) => write_records(transaction, rows).await,
        Rows::Observations(rows) => write_records(transaction, rows).await,
        Rows::Scores(rows) => write_records(transaction, rows).await,
        Rows::Media(rows) => {
            for media in &rows {
                postgres_execute(transaction, &insert_media(Dialect::Postgres, media)).await?;
            }
            Ok(())
        }
        Rows::MediaBlobs(rows) => {
            for (project_id, id, bytes) in &rows {
                transaction
                    .execute(
                        "INSERT INTO media_blobs (project_id, id, bytes) VALUES ($1, $2, $3)
                         ON CONFLICT DO NOTHING",
                        &[project_id, id, bytes],
                    )
                    .await
                    .map_err(pg_error)?;
            }
            Ok(())
        }
        Rows::Plain(table, rows) => table.write(transaction, &rows, |_, _| {}).await,
    }
}
