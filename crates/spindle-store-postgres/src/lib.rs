//! The PostgreSQL backend: a connection pool, versioned migrations applied under an
//! advisory lock, and writes that merge with the stored rows inside row-locking
//! transactions, so any number of `spindle serve` instances can share one database.
//!
//! No state that another instance could contradict lives in the process: every read goes
//! to the database, and every write merges with what is stored at commit time. A write is
//! acknowledged only after its transaction committed.

mod accounts;
mod clean;
pub mod copy;
mod reads;
mod rollups;
mod schema;
mod search;
mod writer;

use async_trait::async_trait;
use deadpool_postgres::{
    Client, GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Transaction,
};
use reads::Reader;
use spindle_core::review::ObjectType;
use spindle_core::time::{now_micros, Micros};
use spindle_core::{Error, ErrorKind, WriteBatch};
use spindle_cost::Pricer;
pub(crate) use spindle_store::drivers::postgres::{is_conflict, pg_error};
use spindle_store::executor::FromRow;
use spindle_store::metrics::{self, MetricsRequest, MetricsRow, Sources};
use spindle_store::rollups::{Rollups, OBSERVATION_FACT_COLUMNS, SCORE_FACT_COLUMNS};
use spindle_store::rollups_sql::{self, RolledUp};
use spindle_store::sql::reads::Payloads;
use spindle_store::sql::rows::{insert_media, mark_media_uploaded};
use spindle_store::sql::{ColumnIndex, Dialect, Indexed, Sql};
use spindle_store::{reading, reviews_sql, writing};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_postgres::NoTls;

pub use schema::SCHEMA_VERSION;
use spindle_store::{
    DailyMetrics, MediaRecord, MetricsQuery, ObservationQuery, ObservationView, Page, Result,
    ScoreQuery, ScoreView, SessionQuery, SessionView, Store, TraceQuery, TraceView,
};

/// Tuning of a [`PostgresStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Connections in the pool (shared by reads and writes).
    pub pool_size: usize,
    /// Write batches in flight at once (waiting for a connection or committing); past this,
    /// `write` fails with `Overloaded`.
    pub queue_capacity: usize,
    /// The schema to use instead of the connection's default `search_path` (created when
    /// missing). Tests use one schema per case.
    pub schema: Option<String>,
    /// The longest each statement of a metrics query (`query_metrics`) may run
    /// (`statement_timeout`); past it, the query answers [`metrics::over_time_limit`].
    /// `None`: no limit.
    pub metrics_time_limit: Option<Duration>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 16,
            queue_capacity: 64,
            schema: None,
            metrics_time_limit: Some(metrics::DEFAULT_TIME_LIMIT),
        }
    }
}

/// The PostgreSQL implementation of [`Store`].
pub struct PostgresStore {
    pool: Pool,
    writes: Arc<Semaphore>,
    /// Connections writes may hold at once: the rest of the pool stays free for reads.
    write_connections: Semaphore,
    queue_capacity: u32,
    in_flight: Arc<AtomicUsize>,
    closed: AtomicBool,
    schema: Option<String>,
    pricer: Arc<Pricer>,
    metrics_time_limit: Option<Duration>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Connects once, creates the schema if asked and applies pending migrations.
async fn prepare(
    config: tokio_postgres::Config,
    schema: Option<String>,
) -> Result<Vec<&'static str>> {
    let (mut client, connection) = config.connect(NoTls).await.map_err(pg_error)?;
    let connection = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "migration connection closed");
        }
    });
    if let Some(schema) = &schema {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .or_else(|e| {
                // Two instances creating the schema at once: the loser sees a duplicate.
                if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                    Ok(())
                } else {
                    Err(pg_error(e))
                }
            })?;
    }
    let applied = match schema::migrate(&mut client).await {
        Ok(applied) => match rollups::build_pending(&mut client).await {
            Ok(()) => search::add_pending_metadata(&mut client)
                .await
                .map(|()| applied),
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    drop(client);
    let _ = connection.await;
    applied
}

/// The projects listed in `table` (a start-up step's queue of projects, such as
/// `rollups_pending`), in order.
pub(crate) async fn pending_projects(
    client: &tokio_postgres::Client,
    table: &str,
) -> Result<Vec<String>> {
    client
        .query(
            &format!("SELECT project_id FROM {table} ORDER BY project_id"),
            &[],
        )
        .await
        .map_err(pg_error)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<std::result::Result<_, _>>()
        .map_err(pg_error)
}

/// Starts a start-up step's transaction for one project: writes to `tables` held off
/// (`SHARE` mode), then the project's row of `table` locked; `None` when another instance
/// took the project meanwhile (its row is gone).
pub(crate) async fn claim_pending<'c>(
    client: &'c mut tokio_postgres::Client,
    table: &str,
    tables: &str,
    project_id: &str,
) -> Result<Option<tokio_postgres::Transaction<'c>>> {
    let transaction = client.transaction().await.map_err(pg_error)?;
    transaction
        .batch_execute(&format!("LOCK TABLE {tables} IN SHARE MODE"))
        .await
        .map_err(pg_error)?;
    let still_pending = transaction
        .query(
            &format!("SELECT 1 FROM {table} WHERE project_id = $1 FOR UPDATE"),
            &[&project_id],
        )
        .await
        .map_err(pg_error)?;
    Ok((!still_pending.is_empty()).then_some(transaction))
}

/// Decodes every row of one statement's result with `decode`, which reads columns by
/// name (resolved once for the statement).
pub(crate) fn decode_rows<T>(
    rows: &[tokio_postgres::Row],
    decode: impl Fn(&spindle_store::sql::Indexed<'_, tokio_postgres::Row>) -> Result<T>,
) -> Result<Vec<T>> {
    let columns = spindle_store::sql::ColumnIndex::of_rows(rows);
    rows.iter()
        .map(|row| decode(&spindle_store::sql::Indexed::new(row, &columns)))
        .collect()
}

/// The rows of `sql` on a PostgreSQL connection or transaction (the statement prepared once
/// per connection).
pub(crate) async fn postgres_rows<T: FromRow>(
    client: &impl GenericClient,
    sql: &Sql,
) -> Result<Vec<T>> {
    debug_assert_eq!(sql.dialect(), Dialect::Postgres);
    let (text, params) = sql.finish();
    let statement = client.prepare_cached(&text).await.map_err(pg_error)?;
    let rows = client.query(&statement, &params).await.map_err(pg_error)?;
    let columns = ColumnIndex::of_rows(&rows);
    rows.iter()
        .map(|row| T::from_row(&Indexed::new(row, &columns)))
        .collect()
}

/// Runs `sql` on a PostgreSQL connection or transaction; returns how many rows it changed.
pub(crate) async fn postgres_execute(client: &impl GenericClient, sql: &Sql) -> Result<u64> {
    debug_assert_eq!(sql.dialect(), Dialect::Postgres);
    let (text, params) = sql.finish();
    let statement = client.prepare_cached(&text).await.map_err(pg_error)?;
    client.execute(&statement, &params).await.map_err(pg_error)
}

fn pool_error(error: deadpool_postgres::PoolError) -> Error {
    match error {
        deadpool_postgres::PoolError::Backend(error) => pg_error(error),
        other => Error::new(ErrorKind::Unavailable, format!("postgres pool: {other}")),
    }
}

/// Whether `name` is a plain schema name (`[a-z_][a-z0-9_]*`, at most 63 bytes).
fn valid_schema_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Parses a `postgres://` URL; the message names `DATABASE_URL` without echoing secrets.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    url.parse::<tokio_postgres::Config>().map_err(|e| {
        Error::invalid(
            "DATABASE_URL",
            format!("not a valid PostgreSQL connection URL: {e}"),
        )
    })
}

impl PostgresStore {
    /// Connects to the database at `url`, applies pending migrations (under an advisory
    /// lock, so instances starting together do not race) and returns the store.
    pub async fn open(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        let (store, config) = PostgresStore::build(url, &options)?;
        prepare(config, options.schema).await?;
        Ok(store)
    }

    /// Like [`PostgresStore::open`], for callers outside the async runtime: the migrations
    /// run on a thread of their own (connections of the pool are made later, lazily, on
    /// the runtime that uses the store).
    pub fn open_blocking(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        let (store, config) = PostgresStore::build(url, &options)?;
        let schema = options.schema.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::internal(format!("starting a runtime for migrations: {e}")))?;
            runtime.block_on(prepare(config, schema))
        })
        .join()
        .map_err(|_| Error::internal("the migration thread panicked"))??;
        Ok(store)
    }

    /// The store with a lazy pool, and the connection settings for [`prepare`].
    fn build(
        url: &str,
        options: &PostgresOptions,
    ) -> Result<(PostgresStore, tokio_postgres::Config)> {
        let mut config = parse_url(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if let Some(schema) = &options.schema {
            if !valid_schema_name(schema) {
                return Err(Error::invalid(
                    "schema",
                    "expected lower-case letters, digits and underscores",
                ));
            }
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .build()
            .map_err(|e| Error::internal(format!("postgres pool: {e}")))?;
        let capacity = options.queue_capacity.clamp(1, Semaphore::MAX_PERMITS);
        let store = PostgresStore {
            pool,
            writes: Arc::new(Semaphore::new(capacity)),
            write_connections: Semaphore::new((options.pool_size.max(1) * 3 / 4).max(1)),
            queue_capacity: u32::try_from(capacity).unwrap_or(u32::MAX),
            in_flight: Arc::new(AtomicUsize::new(0)),
            closed: AtomicBool::new(false),
            schema: options.schema.clone(),
            pricer: Arc::new(Pricer::new()),
            metrics_time_limit: options.metrics_time_limit,
        };
        Ok((store, config))
    }

    /// Applies pending migrations to the database at `url` (in `schema`, if given) and
    /// returns the names of the migrations this call applied.
    pub async fn migrate(url: &str, schema: Option<String>) -> Result<Vec<&'static str>> {
        let (_store, config) = PostgresStore::build(
            url,
            &PostgresOptions {
                pool_size: 1,
                schema: schema.clone(),
                ..PostgresOptions::default()
            },
        )?;
        prepare(config, schema).await
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<Client> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs a shared write step ([`writing`]) in a transaction of its own.
    async fn write_step<T>(
        &self,
        step: impl AsyncFnOnce(&Reader<'_, Transaction<'_>>) -> Result<T>,
    ) -> Result<T> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg_error)?;
        let done = step(&Reader(&transaction)).await?;
        transaction.commit().await.map_err(pg_error)?;
        Ok(done)
    }
}

/// A pooled connection whose statements may each run at most a time limit
/// (`statement_timeout`). [`TimeBound::lift`] resets the limit and gives the connection back
/// to the pool; a bound dropped before that (its request went away) takes the connection out
/// of the pool instead, so that no later statement inherits the limit.
struct TimeBound(Option<Client>);

impl TimeBound {
    async fn set(client: Client, limit: Duration) -> Result<TimeBound> {
        let millis = limit.as_millis().max(1);
        client
            .batch_execute(&format!("SET statement_timeout = {millis}"))
            .await
            .map_err(pg_error)?;
        Ok(TimeBound(Some(client)))
    }

    fn client(&self) -> &Client {
        self.0
            .as_ref()
            .expect("a bound holds its connection until lifted")
    }

    async fn lift(mut self) -> Result<()> {
        // On an error the bound is dropped holding the connection, which leaves the pool.
        self.client()
            .batch_execute("RESET statement_timeout")
            .await
            .map_err(pg_error)?;
        // Back to the pool.
        drop(self.0.take());
        Ok(())
    }
}

impl Drop for TimeBound {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn write(&self, project_id: &str, batch: WriteBatch) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(writer::store_closed());
        }
        if batch.is_empty() {
            return Ok(());
        }
        let permit = match Arc::clone(&self.writes).try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                return Err(Error::new(ErrorKind::Overloaded, "the write queue is full"))
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(writer::store_closed()),
        };
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let _in_flight = InFlight(Arc::clone(&self.in_flight));
        let result = async {
            let batch = spindle_store::derived::count_ahead(&self.pricer, batch).await?;
            let _connection = self
                .write_connections
                .acquire()
                .await
                .map_err(|_| writer::store_closed())?;
            let mut client = self.client().await?;
            writer::apply(&mut client, &self.pricer, project_id, batch).await
        }
        .await;
        drop(permit);
        result
    }

    async fn delete_traces(&self, project_id: &str, trace_ids: &[String]) -> Result<u64> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg_error)?;
        let (deleted, deleted_observations) =
            delete_trace_rows(&transaction, project_id, trace_ids).await?;
        writer::add_counts(&transaction, project_id, -deleted, -deleted_observations).await?;
        transaction.commit().await.map_err(pg_error)?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }

    async fn recompute_costs(
        &self,
        project_id: &str,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<u64> {
        writing::reprice_in_chunks(from, to, |range, after| {
            self.write_step(async move |tx| {
                writing::reprice_chunk(tx, &self.pricer, project_id, range, after).await
            })
        })
        .await
    }

    async fn sweep_metadata_rollups(
        &self,
        project_id: &str,
        max_traces: u32,
    ) -> Result<Option<usize>> {
        self.write_step(async |tx| writing::sweep_metadata_step(tx, project_id, max_traces).await)
            .await
    }

    async fn delete_score(&self, project_id: &str, score_id: &str) -> Result<bool> {
        self.write_step(async |tx| writing::delete_score(tx, project_id, score_id).await)
            .await
    }

    async fn delete_older_than(
        &self,
        project_id: &str,
        cutoff: Micros,
        max_traces: u32,
    ) -> Result<u64> {
        let limit = i64::from(max_traces.max(1));
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg_error)?;
        // Rows a writer holds are skipped, not waited for: the next round takes them.
        let doomed: Vec<String> = transaction
            .query(
                "SELECT id FROM traces WHERE project_id = $1 AND timestamp < $2
                 ORDER BY timestamp ASC NULLS FIRST LIMIT $3 FOR UPDATE SKIP LOCKED",
                &[&project_id, &cutoff, &limit],
            )
            .await
            .map_err(pg_error)?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<std::result::Result<_, _>>()
            .map_err(pg_error)?;
        let (deleted, mut deleted_observations) =
            delete_trace_rows(&transaction, project_id, &doomed).await?;
        // Observations and scores whose trace is gone (or never came) age out too; the
        // search words of those traces are worked out again from what is left.
        let mut rollups = Rollups::default();
        for (table, time) in [("observations", "start_time"), ("scores", "timestamp")] {
            let (rolled, facts) = if table == "observations" {
                (RolledUp::Observations, OBSERVATION_FACT_COLUMNS)
            } else {
                (RolledUp::Scores, SCORE_FACT_COLUMNS)
            };
            let orphans = transaction
                .query(
                    &format!(
                        "DELETE FROM {table} WHERE ctid IN (SELECT x.ctid FROM {table} x
                         WHERE x.project_id = $1 AND x.{time} < $2 AND NOT EXISTS (
                             SELECT 1 FROM traces t
                             WHERE t.project_id = x.project_id AND t.id = x.trace_id)
                         LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING trace_id, id, {facts}"
                    ),
                    &[&project_id, &cutoff, &limit],
                )
                .await
                .map_err(pg_error)?;
            let columns = ColumnIndex::of_rows(&orphans);
            for row in &orphans {
                let row = Indexed::new(row, &columns);
                rollups_sql::subtract_row(&mut rollups, rolled, project_id, &row)?;
            }
            if table == "observations" {
                deleted_observations += i64::try_from(orphans.len()).unwrap_or(i64::MAX);
                let mut traces = BTreeSet::new();
                for row in &orphans {
                    traces.extend(row.try_get::<_, Option<String>>(0).map_err(pg_error)?);
                }
                search::rebuild(&transaction, project_id, traces).await?;
                let ids: Vec<String> = orphans
                    .iter()
                    .map(|row| row.try_get(1))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(pg_error)?;
                let forget = reviews_sql::forget_objects_statements(
                    Dialect::Postgres,
                    project_id,
                    ObjectType::Observation,
                    &ids,
                );
                for statement in &forget {
                    postgres_execute(&transaction, statement).await?;
                }
            }
        }
        writer::add_rollups(&transaction, project_id, &mut rollups).await?;
        writer::add_counts(&transaction, project_id, -deleted, -deleted_observations).await?;
        transaction.commit().await.map_err(pg_error)?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }

    async fn stored_rollups(&self, project_id: &str) -> Result<Rollups> {
        let client = self.client().await?;
        rollups_sql::stored(&Reader(&client), project_id).await
    }

    async fn recomputed_rollups(&self, project_id: &str) -> Result<Rollups> {
        let client = self.client().await?;
        rollups_sql::recompute(&Reader(&client), project_id).await
    }

    async fn list_traces(&self, project_id: &str, query: &TraceQuery) -> Result<Page<TraceView>> {
        let client = self.client().await?;
        reads::list_traces(&client, project_id, query).await
    }

    async fn get_trace(&self, project_id: &str, trace_id: &str) -> Result<Option<TraceView>> {
        let client = self.client().await?;
        reading::get_trace(&Reader(&client), project_id, trace_id, Payloads::With).await
    }

    async fn get_trace_tree(&self, project_id: &str, trace_id: &str) -> Result<Option<TraceView>> {
        let client = self.client().await?;
        reading::get_trace(&Reader(&client), project_id, trace_id, Payloads::Without).await
    }

    async fn list_observations(
        &self,
        project_id: &str,
        query: &ObservationQuery,
    ) -> Result<Page<ObservationView>> {
        let client = self.client().await?;
        reading::list(&Reader(&client), project_id, query).await
    }

    async fn get_observation(
        &self,
        project_id: &str,
        observation_id: &str,
    ) -> Result<Option<ObservationView>> {
        let client = self.client().await?;
        reading::get(&Reader(&client), project_id, observation_id).await
    }

    async fn list_scores(&self, project_id: &str, query: &ScoreQuery) -> Result<Page<ScoreView>> {
        let client = self.client().await?;
        reading::list(&Reader(&client), project_id, query).await
    }

    async fn get_score(&self, project_id: &str, score_id: &str) -> Result<Option<ScoreView>> {
        let client = self.client().await?;
        reading::get(&Reader(&client), project_id, score_id).await
    }

    async fn list_sessions(
        &self,
        project_id: &str,
        query: &SessionQuery,
    ) -> Result<Page<SessionView>> {
        let client = self.client().await?;
        reading::list(&Reader(&client), project_id, query).await
    }

    async fn get_session(&self, project_id: &str, session_id: &str) -> Result<Option<SessionView>> {
        let client = self.client().await?;
        reading::get_session(&Reader(&client), project_id, session_id).await
    }

    async fn daily_metrics_from(
        &self,
        project_id: &str,
        query: &MetricsQuery,
        sources: Sources,
    ) -> Result<Option<Page<DailyMetrics>>> {
        let client = self.client().await?;
        reading::daily_metrics(&Reader(&client), project_id, query, sources).await
    }

    async fn query_metrics_from(
        &self,
        project_id: &str,
        request: &MetricsRequest,
        sources: Sources,
    ) -> Result<Option<Vec<MetricsRow>>> {
        let client = self.client().await?;
        let Some(limit) = self.metrics_time_limit else {
            return metrics::query_from(&Reader(&client), project_id, request, sources).await;
        };
        let bounded = TimeBound::set(client, limit).await?;
        let started = Instant::now();
        let answer =
            metrics::query_from(&Reader(bounded.client()), project_id, request, sources).await;
        bounded.lift().await?;
        match answer {
            Err(_) if started.elapsed() >= limit => Err(metrics::over_time_limit(limit)),
            answer => answer,
        }
    }

    async fn upsert_media(&self, media: &MediaRecord) -> Result<MediaRecord> {
        let client = self.client().await?;
        postgres_execute(&client, &insert_media(Dialect::Postgres, media)).await?;
        reading::media(&Reader(&client), &media.project_id, &media.id)
            .await?
            .ok_or_else(|| Error::internal("media row missing after its insert"))
    }

    async fn get_media(&self, project_id: &str, media_id: &str) -> Result<Option<MediaRecord>> {
        let client = self.client().await?;
        reading::media(&Reader(&client), project_id, media_id).await
    }

    async fn put_media_bytes(
        &self,
        project_id: &str,
        media_id: &str,
        bytes: Vec<u8>,
        at: Micros,
    ) -> Result<()> {
        self.write_step(async |tx| {
            writing::put_media_bytes(tx, project_id, media_id, bytes, at).await
        })
        .await
    }

    async fn get_media_bytes(&self, project_id: &str, media_id: &str) -> Result<Option<Vec<u8>>> {
        let client = self.client().await?;
        reading::media_bytes(&Reader(&client), project_id, media_id).await
    }

    async fn mark_media_uploaded(
        &self,
        project_id: &str,
        media_id: &str,
        at: Micros,
        http_status: Option<i64>,
    ) -> Result<bool> {
        let client = self.client().await?;
        let uploaded =
            mark_media_uploaded(Dialect::Postgres, project_id, media_id, at, http_status);
        Ok(postgres_execute(&client, &uploaded).await? > 0)
    }

    async fn ready(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(writer::store_closed());
        }
        let client = self.client().await?;
        client.execute("SELECT 1", &[]).await.map_err(pg_error)?;
        Ok(())
    }

    fn write_queue_depth(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    async fn shutdown(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // Every write in flight holds a permit: taking them all waits for their commits.
        let all = self
            .writes
            .acquire_many(self.queue_capacity)
            .await
            .map_err(|_| writer::store_closed())?;
        drop(all);
        self.writes.close();
        Ok(())
    }
}

/// Deletes the traces of `trace_ids` in `transaction` with their observations, scores,
/// search rows, and the comments and queue items of the traces, their observations and the
/// sessions they leave empty. Returns how many traces and observations went.
async fn delete_trace_rows(
    transaction: &Transaction<'_>,
    project_id: &str,
    trace_ids: &[String],
) -> Result<(i64, i64)> {
    if trace_ids.is_empty() {
        return Ok((0, 0));
    }
    // Their comments and queue items first: finding them reads the traces.
    for statement in reviews_sql::forget_traces_statements(Dialect::Postgres, project_id, trace_ids)
    {
        postgres_execute(transaction, &statement).await?;
    }
    let mut sorted_ids = trace_ids.to_vec();
    sorted_ids.sort_unstable();
    sorted_ids.dedup();
    // The totals rows, then scores and observations, each subtracted from the rollups.
    let mut rollups = Rollups::default();
    writer::lock_and_refresh(transaction, project_id, &sorted_ids, true, &mut rollups).await?;
    let mut deleted_observations = 0;
    for rolled in [RolledUp::Scores, RolledUp::Observations] {
        let delete = rollups_sql::delete_returning(
            Dialect::Postgres,
            rolled,
            project_id,
            "trace_id",
            trace_ids,
        );
        let deleted = rollups_sql::subtract_deleted(
            &Reader(transaction),
            rolled,
            project_id,
            &delete,
            &mut rollups,
        )
        .await?;
        if rolled == RolledUp::Observations {
            deleted_observations = deleted;
        }
    }
    writer::add_rollups(transaction, project_id, &mut rollups).await?;
    let deleted = transaction
        .execute(
            "DELETE FROM traces WHERE project_id = $1 AND id = ANY($2::text[])",
            &[&project_id, &trace_ids],
        )
        .await
        .map_err(pg_error)?;
    search::forget(transaction, project_id, trace_ids).await?;
    Ok((
        i64::try_from(deleted).unwrap_or(i64::MAX),
        i64::try_from(deleted_observations).unwrap_or(i64::MAX),
    ))
}

/// Counts a write in flight until dropped (also when the caller's future is cancelled).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
