//! The SQLite backend: one writer thread with group commit behind a bounded queue, a small
//! pool of read connections, and the schema as versioned migrations.
//!
//! Files live in one directory: `spindle.db` (with its WAL) holds everything, media bytes
//! included. A write is acknowledged only after the transaction that holds it has committed.

mod accounts;
mod payload;
mod reads;
mod schema;
mod search;
mod writer;

pub use payload::register as register_payload_function;

use async_trait::async_trait;
use reads::Reader;
use rusqlite::{params, Connection};
use spindle_core::time::{now_micros, Micros};
use spindle_core::{Error, ErrorKind, WriteBatch};
use spindle_cost::Pricer;
use spindle_store::drivers::sqlite::sql_error;
use spindle_store::executor::FromRow;
use spindle_store::metrics::{self, MetricsRequest, MetricsRow, Sources};
use spindle_store::reading::ReadConnection;
use spindle_store::reading::{self, complete};
use spindle_store::rollups::Rollups;
use spindle_store::rollups_sql::{self, RolledUp};
use spindle_store::sql::reads::Payloads;
use spindle_store::sql::rows::{insert_media, mark_media_uploaded};
use spindle_store::sql::{ColumnIndex, Dialect, Indexed, RowAccess, Sql};
use spindle_store::trace_totals::{self, TotalsChange};
use spindle_store::{reviews_sql, writing};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

use spindle_store::{
    DailyMetrics, MediaRecord, MetricsQuery, ObservationQuery, ObservationView, Page, Result,
    ScoreQuery, ScoreView, SessionQuery, SessionView, Store, TraceQuery, TraceView,
};
use writer::{in_transaction, writer_gone, Command, Writer};

/// The database file name inside a data directory.
pub const DATABASE_FILE: &str = "spindle.db";

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Write batches that may wait for the writer; past this, `write` fails with `Overloaded`.
    pub queue_capacity: usize,
    /// At most this many waiting batches are committed together in one transaction.
    pub max_group_batches: usize,
    /// Read connections (concurrent read queries).
    pub read_connections: usize,
    /// `PRAGMA synchronous = FULL` (fsync on every commit, survives power loss) instead of
    /// `NORMAL` (survives a crash of the process, may lose the last commits on power loss).
    pub synchronous_full: bool,
    /// After this long without a read or a write, following writes, the store hands memory
    /// back: the writer's and the checkpointer's connections empty their page caches and, on
    /// glibc, freed heap returns to the operating system (the next request then faults its
    /// memory in again, a few milliseconds). Reads alone do not lead to this release, only to
    /// the later one of `release_read_caches_after_idle`. `None` keeps the caches as they are.
    pub release_memory_after_idle: Option<Duration>,
    /// After this long without a read or a write, the idle read connections empty their page
    /// caches too (the next queries read their pages from the OS's file cache again), and
    /// freed heap returns to the operating system. Ignored when `release_memory_after_idle`
    /// is `None`.
    pub release_read_caches_after_idle: Duration,
    /// Whether a background thread keeps the search index (`spindle-search.db`) up to date.
    /// Off, searches scan what is not indexed, and [`SqliteStore::index_search_now`] indexes.
    pub index_search_in_background: bool,
    /// Inputs and outputs of 64 bytes and more are written as zstd frames when that is
    /// smaller, with a dictionary trained on the database's first payloads (`payload.rs`):
    /// about half the bytes per span on the ingest benchmark. They are packed on the
    /// blocking pool before the writer takes the batch, so the writer thread pays little;
    /// searches that scan read slower. Both forms are read either way, so it can be switched
    /// off for a database written with it on.
    pub compress_payloads: bool,
    /// The longest a metrics query (`query_metrics`) may run; past it, SQLite interrupts its
    /// statements and the query answers [`metrics::over_time_limit`]. `None`: no limit.
    pub metrics_time_limit: Option<Duration>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            queue_capacity: 64,
            max_group_batches: 32,
            read_connections: 4,
            synchronous_full: true,
            release_memory_after_idle: Some(Duration::from_secs(1)),
            release_read_caches_after_idle: Duration::from_secs(30),
            index_search_in_background: true,
            compress_payloads: true,
            metrics_time_limit: Some(metrics::DEFAULT_TIME_LIMIT),
        }
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    sender: mpsc::Sender<Command>,
    depth: Arc<AtomicUsize>,
    closed: AtomicBool,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    checkpointer: BackgroundThread,
    indexer: BackgroundThread,
    readers: Arc<ReadPool>,
    /// Packs payloads ahead of the writer; `None` with compression off.
    packer: Option<Arc<payload::Packer>>,
    pricer: Arc<Pricer>,
    /// Bumped by every read and write, so the checkpointer can tell when the store is idle.
    activity: Arc<AtomicU64>,
    /// Bumped by every write.
    writes: Arc<AtomicU64>,
    /// Idle memory releases the writer has carried out.
    memory_releases: Arc<AtomicU64>,
    metrics_time_limit: Option<Duration>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.checkpointer.stop_without_waiting();
        self.indexer.stop_without_waiting();
    }
}

/// A thread that checkpoints the WAL into the database file with its own connection, so the
/// writer thread does not stall on checkpoints (and their fsyncs).
struct Checkpointer;

/// A background thread of the store and the flag that stops it.
pub(crate) struct BackgroundThread {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// How often the checkpointer runs.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// What the checkpointer needs to hand memory back once the store has been idle long enough.
struct IdleRelease {
    after: Duration,
    readers_after: Duration,
    activity: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
    readers: Arc<ReadPool>,
    /// Weak, so that the checkpointer does not keep the writer thread alive.
    writer: mpsc::WeakSender<Command>,
    releases: Arc<AtomicU64>,
}

/// The checkpointer's view of the store's activity between two ticks.
struct IdleWatch {
    release: IdleRelease,
    seen: u64,
    seen_writes: u64,
    since: Instant,
    released: bool,
    readers_released: bool,
}

impl IdleWatch {
    fn new(release: IdleRelease) -> IdleWatch {
        IdleWatch {
            seen: release.activity.load(Ordering::Acquire),
            seen_writes: release.writes.load(Ordering::Acquire),
            release,
            since: Instant::now(),
            released: false,
            readers_released: false,
        }
    }

    /// Called on every checkpointer tick: releases the writer's memory once per idle period
    /// that follows writes, and the read connections' caches once per longer idle period.
    fn tick(&mut self, checkpoint_connection: &Connection) {
        let activity = self.release.activity.load(Ordering::Acquire);
        if activity != self.seen {
            self.seen = activity;
            self.since = Instant::now();
            let writes = self.release.writes.load(Ordering::Acquire);
            if writes != self.seen_writes {
                self.seen_writes = writes;
                self.released = false;
            }
            self.readers_released = false;
            return;
        }
        let idle_for = self.since.elapsed();
        if !self.released && idle_for >= self.release.after {
            self.released = self.release.run(checkpoint_connection);
        }
        if !self.readers_released && idle_for >= self.release.readers_after {
            self.release.readers.release_idle_memory();
            return_freed_heap();
            self.readers_released = true;
        }
    }
}

impl IdleRelease {
    /// Empties the page cache of the checkpointer's connection, then asks the writer to
    /// empty its own and return freed heap to the OS. False when the writer's queue is full
    /// (tried again on the next tick).
    fn run(&self, checkpoint_connection: &Connection) -> bool {
        let Some(writer) = self.writer.upgrade() else {
            return true;
        };
        release_connection_memory(checkpoint_connection);
        let releases = Arc::clone(&self.releases);
        let job = Command::Exec(Box::new(move |connection: &mut Connection| {
            release_connection_memory(connection);
            return_freed_heap();
            releases.fetch_add(1, Ordering::AcqRel);
        }));
        writer.try_send(job).is_ok()
    }
}

/// Hands the heap glibc keeps after frees (emptied page caches, decoded requests) back to the
/// operating system; glibc returns only the top of each heap by itself.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn return_freed_heap() {
    // SAFETY: `malloc_trim` takes no pointer; it walks glibc's own arenas under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators and platforms return memory by themselves, or offer no way to.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn return_freed_heap() {}

/// The nice value of background threads (the search indexer): when the cores are all busy,
/// the scheduler gives a thread at this value about a tenth of what a thread at 0 gets, so
/// ingestion keeps them; when a core is free the thread runs at full speed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority to [`BACKGROUND_NICE`] (on Linux a nice
/// value belongs to one thread, and `who` 0 names the calling one); a failure is logged and
/// the thread keeps its priority.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn run_in_background() {
    // SAFETY: `setpriority` takes three integers and changes only the calling thread's
    // scheduling priority.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE) };
    if result != 0 {
        let error = std::io::Error::last_os_error();
        tracing::debug!(%error, "cannot lower a background thread's priority");
    }
}

/// Elsewhere background threads keep the default priority.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn run_in_background() {}

/// Frees what a connection's page cache holds (`PRAGMA shrink_memory`, which calls
/// `sqlite3_db_release_memory`).
fn release_connection_memory(connection: &Connection) {
    if let Err(error) = connection.execute_batch("PRAGMA shrink_memory") {
        tracing::debug!(%error, "releasing sqlite memory failed");
    }
}

impl Checkpointer {
    fn start(path: PathBuf, idle_release: Option<IdleRelease>) -> Result<BackgroundThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("spindle-sqlite-checkpoint".to_owned())
            .spawn(move || {
                let connection = match schema::open_checkpointer(&path) {
                    Ok(connection) => connection,
                    Err(error) => {
                        tracing::warn!(%error, "cannot open the checkpoint connection");
                        return;
                    }
                };
                let mut idle_watch = idle_release.map(IdleWatch::new);
                while !stop_flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(CHECKPOINT_INTERVAL);
                    // PASSIVE copies what it can without waiting for the writer or readers.
                    if let Err(error) = schema::checkpoint(&connection, "PASSIVE") {
                        tracing::debug!(%error, "passive checkpoint failed");
                    }
                    if let Some(watch) = idle_watch.as_mut() {
                        watch.tick(&connection);
                    }
                }
                if let Err(error) = schema::checkpoint(&connection, "TRUNCATE") {
                    tracing::debug!(%error, "final checkpoint failed");
                }
            })
            .map_err(|e| Error::internal(format!("cannot start the sqlite checkpointer: {e}")))?;
        Ok(BackgroundThread::new(stop, Some(thread)))
    }
}

impl BackgroundThread {
    /// The thread, stopped by setting `stop` and unparking it.
    pub(crate) fn new(stop: Arc<AtomicBool>, thread: Option<JoinHandle<()>>) -> BackgroundThread {
        BackgroundThread {
            stop,
            thread: Mutex::new(thread),
        }
    }

    pub(crate) fn stop_without_waiting(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
        {
            thread.thread().unpark();
        }
    }

    pub(crate) fn take_thread(&self) -> Option<JoinHandle<()>> {
        self.thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Runs `sql` on `connection` and decodes every row with `decode`, which reads columns by
/// name (resolved once for the statement).
pub(crate) fn query_rows<T>(
    connection: &Connection,
    sql: &spindle_store::sql::Sql,
    decode: impl Fn(&spindle_store::sql::Indexed<'_, rusqlite::Row<'_>>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut statement = connection.prepare_cached(&sql.text).map_err(sql_error)?;
    let columns = spindle_store::sql::ColumnIndex::of_statement(&statement);
    let mut rows = statement
        .query(rusqlite::params_from_iter(sql.params.iter()))
        .map_err(sql_error)?;
    let mut decoded = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        decoded.push(decode(&spindle_store::sql::Indexed::new(row, &columns))?);
    }
    Ok(decoded)
}

/// The rows of `sql` on a SQLite connection (the statement cached on the connection).
pub(crate) fn sqlite_rows<T: FromRow>(connection: &Connection, sql: &Sql) -> Result<Vec<T>> {
    debug_assert_eq!(sql.dialect(), Dialect::Sqlite);
    let mut statement = connection.prepare_cached(&sql.text).map_err(sql_error)?;
    let columns = ColumnIndex::of_statement(&statement);
    let mut rows = statement
        .query(rusqlite::params_from_iter(&sql.params))
        .map_err(sql_error)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        items.push(T::from_row(&Indexed::new(row, &columns))?);
    }
    Ok(items)
}

/// Runs `sql` on a SQLite connection; returns how many rows it changed.
pub(crate) fn sqlite_execute(connection: &Connection, sql: &Sql) -> Result<u64> {
    debug_assert_eq!(sql.dialect(), Dialect::Sqlite);
    let changed = connection
        .prepare_cached(&sql.text)
        .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(&sql.params)))
        .map_err(sql_error)?;
    Ok(changed as u64)
}

/// Builds from the raw rows the rollups of the projects that had data before the rollups
/// existed, one project per transaction (before the writer starts, so nothing writes
/// meanwhile).
fn build_pending_rollups(connection: &mut Connection) -> Result<()> {
    let pending: Vec<String> = complete(
        Reader(connection).rows(&rollups_sql::pending_projects(Dialect::Sqlite), |row| {
            row.text("project_id")
        }),
    )?;
    for (done, project_id) in pending.iter().enumerate() {
        writer::in_transaction(connection, |tx| {
            let rebuilt = complete(rollups_sql::rebuild(&Reader(tx), project_id))?;
            for statement in rollups_sql::replace_statements(Dialect::Sqlite, project_id, &rebuilt)
            {
                sqlite_execute(tx, &statement)?;
            }
            rollups_sql::log_built(project_id, &rebuilt, pending.len() - done - 1);
            Ok(())
        })?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `dir_or_file`: a directory gets `spindle.db`
    /// inside it; a path ending in `.db`, `.sqlite` or `.sqlite3`, or an existing file, is the
    /// database file itself. Applies pending migrations and starts the writer thread.
    pub fn open(dir_or_file: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let path = database_path(dir_or_file)?;
        let mut connection = schema::open_writer(&path, options.synchronous_full)?;
        schema::migrate(&mut connection)?;
        build_pending_rollups(&mut connection)?;
        let packer = if options.compress_payloads {
            Some(payload::Packer::load(&connection).map_err(sql_error)?)
        } else {
            // Payloads packed before still read with their dictionaries.
            payload::load_dictionaries(&connection).map_err(sql_error)?;
            None
        };
        let index_path = search::index_path(&path);
        search::prepare_index(&connection, &index_path)?;
        let capacity = options.queue_capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        let depth = Arc::new(AtomicUsize::new(0));
        let pricer = Arc::new(Pricer::new());
        let writer = Writer {
            connection,
            receiver,
            depth: depth.clone(),
            max_group_batches: options.max_group_batches.max(1),
            pricer: pricer.clone(),
            packer: packer.clone(),
        };
        let writer_thread = std::thread::Builder::new()
            .name("spindle-sqlite-writer".to_owned())
            .spawn(move || writer.run())
            .map_err(|e| Error::internal(format!("cannot start the sqlite writer: {e}")))?;
        let readers = Arc::new(ReadPool {
            path: path.clone(),
            index_path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(options.read_connections.max(1))),
        });
        let activity = Arc::new(AtomicU64::new(0));
        let writes = Arc::new(AtomicU64::new(0));
        let indexer = if options.index_search_in_background {
            search::start_indexer(&path, Arc::clone(&writes), sender.downgrade())?
        } else {
            BackgroundThread::new(Arc::new(AtomicBool::new(true)), None)
        };
        let memory_releases = Arc::new(AtomicU64::new(0));
        let idle_release = options.release_memory_after_idle.map(|after| IdleRelease {
            after,
            readers_after: options.release_read_caches_after_idle.max(after),
            activity: Arc::clone(&activity),
            writes: Arc::clone(&writes),
            readers: Arc::clone(&readers),
            writer: sender.downgrade(),
            releases: Arc::clone(&memory_releases),
        });
        let checkpointer = Checkpointer::start(path.clone(), idle_release)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                sender,
                depth,
                closed: AtomicBool::new(false),
                writer_thread: Mutex::new(Some(writer_thread)),
                checkpointer,
                indexer,
                readers,
                packer,
                pricer,
                activity,
                writes,
                memory_releases,
                metrics_time_limit: options.metrics_time_limit,
            }),
        })
    }

    /// How many times the store has handed memory back after being idle
    /// ([`SqliteOptions::release_memory_after_idle`]).
    pub fn idle_memory_releases(&self) -> u64 {
        self.inner.memory_releases.load(Ordering::Acquire)
    }

    /// Indexes for search everything written so far and drops the index rows of deleted
    /// traces, on the calling task (tests use it to search the index rather than the scan of
    /// what is not indexed yet); returns how many index rows remain.
    pub async fn index_search_now(&self) -> Result<u64> {
        let path = self.inner.path.clone();
        tokio::task::spawn_blocking(move || search::Indexer::open(&path)?.catch_up())
            .await
            .map_err(|e| Error::internal(format!("search indexing task failed: {e}")))?
    }

    /// How much the search index lags: the queued writes it has not indexed, plus one while
    /// it is being filled again from the traces (a new or lost index file).
    pub async fn search_backlog(&self) -> Result<u64> {
        self.read(search::backlog).await
    }

    /// Marks the store as in use, which postpones the next idle memory release.
    fn touch(&self) {
        self.inner.activity.fetch_add(1, Ordering::AcqRel);
    }

    /// Packs `batch`'s payloads on the blocking pool (`payload.rs`), so the writer thread
    /// binds them as they are; nothing when compression is off.
    async fn pack_ahead(&self, batch: WriteBatch) -> Result<(WriteBatch, payload::Prepacked)> {
        let Some(packer) = self.inner.packer.clone() else {
            return Ok((batch, payload::Prepacked::default()));
        };
        if batch.traces.is_empty() && batch.observations.is_empty() {
            return Ok((batch, payload::Prepacked::default()));
        }
        tokio::task::spawn_blocking(move || {
            let prepacked = packer.pack_ahead(&batch);
            (batch, prepacked)
        })
        .await
        .map_err(|error| Error::internal(format!("packing payloads failed: {error}")))
    }

    /// Marks a write, which arms the release of the writer's memory.
    fn touch_write(&self) {
        self.inner.writes.fetch_add(1, Ordering::AcqRel);
        self.touch();
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `job` in a transaction on the writer's connection (waits for queue space).
    async fn exec<R: Send + 'static>(
        &self,
        job: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(writer_gone());
        }
        self.touch_write();
        let (reply, response) = oneshot::channel();
        let command = Command::Exec(Box::new(move |connection: &mut Connection| {
            let _ = reply.send(in_transaction(connection, job));
        }));
        self.inner
            .sender
            .send(command)
            .await
            .map_err(|_| writer_gone())?;
        response.await.map_err(|_| writer_gone())?
    }

    /// Runs `job` on a read connection off the async runtime.
    async fn trace(
        &self,
        project_id: &str,
        trace_id: &str,
        payloads: Payloads,
    ) -> Result<Option<TraceView>> {
        let project_id = project_id.to_owned();
        let trace_id = trace_id.to_owned();
        self.read(move |c| {
            complete(reading::get_trace(
                &Reader(c),
                &project_id,
                &trace_id,
                payloads,
            ))
        })
        .await
    }

    async fn read<R: Send + 'static>(
        &self,
        job: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        self.touch();
        let result = self.inner.readers.run(job).await;
        self.touch();
        result
    }
}

/// A time limit on what a read connection runs: SQLite interrupts the running statement
/// once `limit` has passed (checked every few thousand virtual machine steps), and every
/// statement after it, until the bound is dropped.
struct TimeBound<'c> {
    connection: &'c Connection,
    deadline: Instant,
    limit: Duration,
}

impl<'c> TimeBound<'c> {
    /// SQLite's virtual machine steps between two looks at the clock (a few microseconds).
    const STEPS: i32 = 4096;

    fn set(connection: &'c Connection, limit: Duration) -> Self {
        let deadline = Instant::now() + limit;
        connection.progress_handler(Self::STEPS, Some(move || Instant::now() >= deadline));
        TimeBound {
            connection,
            deadline,
            limit,
        }
    }

    fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

impl Drop for TimeBound<'_> {
    fn drop(&mut self) {
        self.connection.progress_handler(0, None::<fn() -> bool>);
    }
}

fn database_path(dir_or_file: &Path) -> Result<PathBuf> {
    let looks_like_file = dir_or_file.is_file()
        || matches!(
            dir_or_file.extension().and_then(|e| e.to_str()),
            Some("db" | "sqlite" | "sqlite3")
        );
    let (dir, file) = if looks_like_file {
        let dir = dir_or_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (dir.to_path_buf(), dir_or_file.to_path_buf())
    } else {
        (dir_or_file.to_path_buf(), dir_or_file.join(DATABASE_FILE))
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!("data directory {}: {e}", dir.display()),
        )
    })?;
    Ok(file)
}

/// Read connections, opened lazily, at most `permits` in use at once.
struct ReadPool {
    path: PathBuf,
    /// The search index, attached to every read connection.
    index_path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| writer_gone())?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let connection = match pool.take() {
                Some(connection) => connection,
                None => {
                    let connection = schema::open_reader(&pool.path)?;
                    search::attach(&connection, &pool.index_path)?;
                    connection
                }
            };
            let result = job(&connection);
            pool.put(connection);
            result
        })
        .await
        .map_err(|e| Error::internal(format!("read task failed: {e}")))?
    }

    fn take(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
    }

    /// Empties the page caches of the connections not in use; those in use keep theirs.
    fn release_idle_memory(&self) {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for connection in idle.iter() {
            release_connection_memory(connection);
        }
    }

    fn put(&self, connection: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(connection);
    }
}

fn json_ids(ids: &[String]) -> String {
    serde_json::Value::Array(ids.iter().cloned().map(serde_json::Value::String).collect())
        .to_string()
}

#[async_trait]
impl Store for SqliteStore {
    async fn write(&self, project_id: &str, batch: WriteBatch) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(writer_gone());
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.touch_write();
        let batch = spindle_store::derived::count_ahead(&self.inner.pricer, batch).await?;
        let (batch, prepacked) = self.pack_ahead(batch).await?;
        let (reply, response) = oneshot::channel();
        // Kept until the reply so that the batch is freed here, off the writer thread.
        let batch = Arc::new(batch);
        let prepacked = Arc::new(prepacked);
        self.inner.depth.fetch_add(1, Ordering::AcqRel);
        let command = Command::Write {
            project_id: project_id.to_owned(),
            batch: Arc::clone(&batch),
            prepacked: Arc::clone(&prepacked),
            reply,
        };
        if let Err(error) = self.inner.sender.try_send(command) {
            self.inner.depth.fetch_sub(1, Ordering::AcqRel);
            return Err(match error {
                mpsc::error::TrySendError::Full(_) => {
                    Error::new(ErrorKind::Overloaded, "the write queue is full")
                }
                mpsc::error::TrySendError::Closed(_) => writer_gone(),
            });
        }
        let result = response.await.map_err(|_| writer_gone())?;
        drop(batch);
        drop(prepacked);
        self.touch_write();
        result
    }

    async fn delete_traces(&self, project_id: &str, trace_ids: &[String]) -> Result<u64> {
        let project_id = project_id.to_owned();
        let ids = json_ids(trace_ids);
        let forget = reviews_sql::forget_traces_statements(Dialect::Sqlite, &project_id, trace_ids);
        let trace_ids = trace_ids.to_vec();
        self.exec(move |tx| {
            // Their comments and queue items first: finding them reads the traces.
            for statement in &forget {
                sqlite_execute(tx, statement)?;
            }
            let mut rollups = Rollups::default();
            complete(trace_totals::apply(
                &Reader(tx),
                &project_id,
                &trace_ids,
                TotalsChange::Forget,
                &mut rollups,
            ))?;
            let deleted = tx
                .execute(
                    "DELETE FROM traces WHERE project_id = ?1
                     AND id IN (SELECT value FROM json_each(?2))",
                    params![project_id, ids],
                )
                .map_err(sql_error)?;
            let mut deleted_observations = 0;
            for rolled in [RolledUp::Observations, RolledUp::Scores] {
                let delete = rollups_sql::delete_returning(
                    Dialect::Sqlite,
                    rolled,
                    &project_id,
                    "trace_id",
                    &trace_ids,
                );
                let deleted = complete(rollups_sql::subtract_deleted(
                    &Reader(tx),
                    rolled,
                    &project_id,
                    &delete,
                    &mut rollups,
                ))?;
                if rolled == RolledUp::Observations {
                    deleted_observations = deleted;
                }
            }
            writer::add_rollups(tx, &project_id, &mut rollups)?;
            let deleted = i64::try_from(deleted).unwrap_or(i64::MAX);
            let deleted_observations = i64::try_from(deleted_observations).unwrap_or(i64::MAX);
            if deleted > 0 || deleted_observations > 0 {
                writer::add_counts(tx, &project_id, -deleted, -deleted_observations)?;
            }
            Ok(u64::try_from(deleted).unwrap_or(0))
        })
        .await
    }

    async fn delete_score(&self, project_id: &str, score_id: &str) -> Result<bool> {
        let project_id = project_id.to_owned();
        let score_id = score_id.to_owned();
        self.exec(move |tx| complete(writing::delete_score(&Reader(tx), &project_id, &score_id)))
            .await
    }

    async fn recompute_costs(
        &self,
        project_id: &str,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<u64> {
        writing::reprice_in_chunks(from, to, |range, after| {
            let project_id = project_id.to_owned();
            let pricer = self.inner.pricer.clone();
            self.exec(move |tx| {
                complete(writing::reprice_chunk(
                    &Reader(tx),
                    &pricer,
                    &project_id,
                    range,
                    after,
                ))
            })
        })
        .await
    }

    async fn sweep_metadata_rollups(
        &self,
        project_id: &str,
        max_traces: u32,
    ) -> Result<Option<usize>> {
        let project_id = project_id.to_owned();
        self.exec(move |tx| {
            complete(writing::sweep_metadata_step(
                &Reader(tx),
                &project_id,
                max_traces,
            ))
        })
        .await
    }

    async fn stored_rollups(&self, project_id: &str) -> Result<Rollups> {
        let project_id = project_id.to_owned();
        self.read(move |c| complete(rollups_sql::stored(&Reader(c), &project_id)))
            .await
    }

    async fn recomputed_rollups(&self, project_id: &str) -> Result<Rollups> {
        let project_id = project_id.to_owned();
        self.read(move |c| complete(rollups_sql::recompute(&Reader(c), &project_id)))
            .await
    }

    async fn list_traces(&self, project_id: &str, query: &TraceQuery) -> Result<Page<TraceView>> {
        let project_id = project_id.to_owned();
        let query = query.clone();
        self.read(move |c| complete(reads::list_traces(c, &project_id, &query)))
            .await
    }

    async fn get_trace(&self, project_id: &str, trace_id: &str) -> Result<Option<TraceView>> {
        self.trace(project_id, trace_id, Payloads::With).await
    }

    async fn get_trace_tree(&self, project_id: &str, trace_id: &str) -> Result<Option<TraceView>> {
        self.trace(project_id, trace_id, Payloads::Without).await
    }

    async fn list_observations(
        &self,
        project_id: &str,
        query: &ObservationQuery,
    ) -> Result<Page<ObservationView>> {
        let project_id = project_id.to_owned();
        let query = query.clone();
        self.read(move |c| complete(reading::list(&Reader(c), &project_id, &query)))
            .await
    }

    async fn get_observation(
        &self,
        project_id: &str,
        observation_id: &str,
    ) -> Result<Option<ObservationView>> {
        let project_id = project_id.to_owned();
        let observation_id = observation_id.to_owned();
        self.read(move |c| complete(reading::get(&Reader(c), &project_id, &observation_id)))
            .await
    }

    async fn list_scores(&self, project_id: &str, query: &ScoreQuery) -> Result<Page<ScoreView>> {
        let project_id = project_id.to_owned();
        let query = query.clone();
        self.read(move |c| complete(reading::list(&Reader(c), &project_id, &query)))
            .await
    }

    async fn get_score(&self, project_id: &str, score_id: &str) -> Result<Option<ScoreView>> {
        let project_id = project_id.to_owned();
        let score_id = score_id.to_owned();
        self.read(move |c| complete(reading::get(&Reader(c), &project_id, &score_id)))
            .await
    }

    async fn list_sessions(
        &self,
        project_id: &str,
        query: &SessionQuery,
    ) -> Result<Page<SessionView>> {
        let project_id = project_id.to_owned();
        let query = query.clone();
        self.read(move |c| complete(reading::list(&Reader(c), &project_id, &query)))
            .await
    }

    async fn get_session(&self, project_id: &str, session_id: &str) -> Result<Option<SessionView>> {
        let project_id = project_id.to_owned();
        let session_id = session_id.to_owned();
        self.read(move |c| complete(reading::get_session(&Reader(c), &project_id, &session_id)))
            .await
    }

    async fn daily_metrics_from(
        &self,
        project_id: &str,
        query: &MetricsQuery,
        sources: Sources,
    ) -> Result<Option<Page<DailyMetrics>>> {
        let project_id = project_id.to_owned();
        let query = query.clone();
        self.read(move |c| {
            complete(reading::daily_metrics(
                &Reader(c),
                &project_id,
                &query,
                sources,
            ))
        })
        .await
    }

    async fn query_metrics_from(
        &self,
        project_id: &str,
        request: &MetricsRequest,
        sources: Sources,
    ) -> Result<Option<Vec<MetricsRow>>> {
        let project_id = project_id.to_owned();
        let request = request.clone();
        let limit = self.inner.metrics_time_limit;
        self.read(move |c| {
            let bound = limit.map(|limit| TimeBound::set(c, limit));
            let answer = complete(metrics::query_from(
                &Reader(c),
                &project_id,
                &request,
                sources,
            ));
            match (answer, bound) {
                (Err(_), Some(bound)) if bound.expired() => {
                    Err(metrics::over_time_limit(bound.limit))
                }
                (answer, _) => answer,
            }
        })
        .await
    }

    async fn upsert_media(&self, media: &MediaRecord) -> Result<MediaRecord> {
        let media = media.clone();
        self.exec(move |tx| {
            sqlite_execute(tx, &insert_media(Dialect::Sqlite, &media))?;
            complete(reading::media(&Reader(tx), &media.project_id, &media.id))?
                .ok_or_else(|| Error::internal("media row missing after its insert"))
        })
        .await
    }

    async fn get_media(&self, project_id: &str, media_id: &str) -> Result<Option<MediaRecord>> {
        let project_id = project_id.to_owned();
        let media_id = media_id.to_owned();
        self.read(move |c| complete(reading::media(&Reader(c), &project_id, &media_id)))
            .await
    }

    async fn put_media_bytes(
        &self,
        project_id: &str,
        media_id: &str,
        bytes: Vec<u8>,
        at: Micros,
    ) -> Result<()> {
        let project_id = project_id.to_owned();
        let media_id = media_id.to_owned();
        self.exec(move |tx| {
            complete(writing::put_media_bytes(
                &Reader(tx),
                &project_id,
                &media_id,
                bytes,
                at,
            ))
        })
        .await
    }

    async fn get_media_bytes(&self, project_id: &str, media_id: &str) -> Result<Option<Vec<u8>>> {
        let project_id = project_id.to_owned();
        let media_id = media_id.to_owned();
        self.read(move |c| complete(reading::media_bytes(&Reader(c), &project_id, &media_id)))
            .await
    }

    async fn mark_media_uploaded(
        &self,
        project_id: &str,
        media_id: &str,
        at: Micros,
        http_status: Option<i64>,
    ) -> Result<bool> {
        let project_id = project_id.to_owned();
        let media_id = media_id.to_owned();
        self.exec(move |tx| {
            let uploaded =
                mark_media_uploaded(Dialect::Sqlite, &project_id, &media_id, at, http_status);
            Ok(sqlite_execute(tx, &uploaded)? > 0)
        })
        .await
    }

    async fn ready(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(writer_gone());
        }
        // Straight to the pool: a health probe is not activity that keeps the caches warm.
        self.inner
            .readers
            .run(|connection| {
                connection
                    .query_row("SELECT 1", [], |row| row.get::<_, i64>(0))
                    .map_err(sql_error)?;
                Ok(())
            })
            .await
    }

    fn write_queue_depth(&self) -> usize {
        self.inner.depth.load(Ordering::Acquire)
    }

    async fn shutdown(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let (reply, done) = oneshot::channel();
        if self
            .inner
            .sender
            .send(Command::Shutdown(reply))
            .await
            .is_ok()
        {
            let _ = done.await;
        }
        self.inner.indexer.stop_without_waiting();
        if let Some(handle) = self.inner.indexer.take_thread() {
            tokio::task::spawn_blocking(move || handle.join())
                .await
                .map_err(|e| Error::internal(format!("joining the search indexer: {e}")))?
                .map_err(|_| Error::internal("the search indexer panicked"))?;
        }
        let handle = self
            .inner
            .writer_thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(handle) = handle {
            tokio::task::spawn_blocking(move || handle.join())
                .await
                .map_err(|e| Error::internal(format!("joining the sqlite writer: {e}")))?
                .map_err(|_| Error::internal("the sqlite writer panicked"))?;
        }
        self.inner.checkpointer.stop_without_waiting();
        if let Some(handle) = self.inner.checkpointer.take_thread() {
            tokio::task::spawn_blocking(move || handle.join())
                .await
                .map_err(|e| Error::internal(format!("joining the sqlite checkpointer: {e}")))?
                .map_err(|_| Error::internal("the sqlite checkpointer panicked"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_that_cannot_take_writes_is_unavailable() {
        let failure = |code| {
            sql_error(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
            .kind
        };
        for code in [
            rusqlite::ffi::SQLITE_FULL,
            rusqlite::ffi::SQLITE_READONLY,
            rusqlite::ffi::SQLITE_IOERR,
            rusqlite::ffi::SQLITE_BUSY,
        ] {
            assert_eq!(failure(code), ErrorKind::Unavailable, "code {code}");
        }
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_CONSTRAINT),
            ErrorKind::Internal
        );
    }
}
