//! The single writer thread: it owns the write connection, takes commands from a bounded
//! channel and commits write batches in groups (one transaction for several batches).
//!
//! A batch's sender hears `Ok` only after the transaction holding it has committed.

use rusqlite::{
    params, params_from_iter, CachedStatement, Connection, Transaction, TransactionBehavior,
};
use spindle_core::time::Micros;
use spindle_core::{Error, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};
use spindle_cost::Pricer;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

use super::payload::{PackedTexts, Packer, Payload, Prepacked};
use super::reads::Reader;
use super::{now_micros, sql_error, sqlite_execute};
use spindle_store::reading::complete;
use spindle_store::rollups::{ObservationFacts, Rollups, ScoreFacts};
use spindle_store::rollups_sql;
use spindle_store::sql::rows::{
    decode_observation, decode_score, decode_trace, Cell, Encoded, EncodedObservation,
    EncodedScore, EncodedTrace, ReadColumns, Stored, OBSERVATION_COLUMNS, SCORE_COLUMNS,
    TRACE_COLUMNS, WEAKEST_STAMP,
};
use spindle_store::sql::{ColumnIndex, Dialect, Indexed, Sql};
use spindle_store::trace_totals::{self, TotalsChange};
use spindle_store::writing::WriteConnection;
use spindle_store::Result;
use spindle_store::{datasets_sql, models_sql, reviews_sql};

/// A job run on the writer's connection, outside any group (keys, deletes, media, ...).
pub(crate) type ExecJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// What the writer thread is asked to do.
pub(crate) enum Command {
    /// Merge a batch into a project's data; reply after commit. The sender keeps its own
    /// reference to the batch, so the batch is freed on its thread, not the writer's.
    Write {
        project_id: String,
        batch: Arc<WriteBatch>,
        /// The batch's payloads packed ahead (empty when compression is off).
        prepacked: Arc<Prepacked>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Run a job on the connection; the job replies itself.
    Exec(ExecJob),
    /// Stop taking commands, commit what is queued, then reply and exit.
    Shutdown(oneshot::Sender<()>),
}

/// One queued write.
struct WriteJob {
    project_id: String,
    batch: Arc<WriteBatch>,
    prepacked: Arc<Prepacked>,
    reply: oneshot::Sender<Result<()>>,
}

/// The writer thread's state.
pub(crate) struct Writer {
    pub connection: Connection,
    pub receiver: mpsc::Receiver<Command>,
    /// Write batches sent but not yet taken by the writer.
    pub depth: Arc<AtomicUsize>,
    pub max_group_batches: usize,
    /// Prices observations after they are merged.
    pub pricer: Arc<Pricer>,
    /// Packs inputs and outputs as zstd frames (`payload.rs`); `None` writes them as text.
    pub packer: Option<Arc<Packer>>,
}

impl Writer {
    /// Runs until shut down or until every sender is gone.
    pub fn run(mut self) {
        let mut held: Option<Command> = None;
        loop {
            let command = match held.take() {
                Some(command) => command,
                None => match self.receiver.blocking_recv() {
                    Some(command) => command,
                    None => return,
                },
            };
            match command {
                Command::Exec(job) => job(&mut self.connection),
                Command::Shutdown(reply) => {
                    self.receiver.close();
                    self.drain_after_close();
                    let _ = reply.send(());
                    return;
                }
                Command::Write {
                    project_id,
                    batch,
                    prepacked,
                    reply,
                } => {
                    self.depth.fetch_sub(1, Ordering::AcqRel);
                    let mut group = vec![WriteJob {
                        project_id,
                        batch,
                        prepacked,
                        reply,
                    }];
                    while group.len() < self.max_group_batches {
                        match self.receiver.try_recv() {
                            Ok(Command::Write {
                                project_id,
                                batch,
                                prepacked,
                                reply,
                            }) => {
                                self.depth.fetch_sub(1, Ordering::AcqRel);
                                group.push(WriteJob {
                                    project_id,
                                    batch,
                                    prepacked,
                                    reply,
                                });
                            }
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_group(group);
                }
            }
        }
    }

    /// After `close`, handles every command still in the channel.
    fn drain_after_close(&mut self) {
        let mut group = Vec::new();
        while let Ok(command) = self.receiver.try_recv() {
            match command {
                Command::Write {
                    project_id,
                    batch,
                    prepacked,
                    reply,
                } => {
                    self.depth.fetch_sub(1, Ordering::AcqRel);
                    group.push(WriteJob {
                        project_id,
                        batch,
                        prepacked,
                        reply,
                    });
                    if group.len() >= self.max_group_batches {
                        self.commit_group(std::mem::take(&mut group));
                    }
                }
                Command::Exec(job) => {
                    if !group.is_empty() {
                        self.commit_group(std::mem::take(&mut group));
                    }
                    job(&mut self.connection);
                }
                Command::Shutdown(reply) => {
                    let _ = reply.send(());
                }
            }
        }
        if !group.is_empty() {
            self.commit_group(group);
        }
    }

    /// Commits the group in one transaction; if that fails, retries each batch on its own so
    /// one bad batch does not fail the others.
    fn commit_group(&mut self, group: Vec<WriteJob>) {
        let all: Vec<Job<'_>> = group
            .iter()
            .map(|job| {
                (
                    job.project_id.as_str(),
                    job.batch.as_ref(),
                    job.prepacked.as_ref(),
                )
            })
            .collect();
        let result = apply(
            &mut self.connection,
            &self.pricer,
            self.packer.as_ref(),
            &all,
        );
        drop(all);
        if result.is_ok() || group.len() == 1 {
            for job in group {
                // Release the batch first: the sender then holds the last reference.
                drop(job.batch);
                drop(job.prepacked);
                let _ = job.reply.send(result.clone());
            }
            return;
        }
        if let Err(error) = &result {
            tracing::warn!(%error, batches = group.len(), "group commit failed, retrying batches one by one");
        }
        for job in group {
            let result = apply(
                &mut self.connection,
                &self.pricer,
                self.packer.as_ref(),
                &[(
                    job.project_id.as_str(),
                    job.batch.as_ref(),
                    job.prepacked.as_ref(),
                )],
            );
            drop(job.batch);
            drop(job.prepacked);
            let _ = job.reply.send(result);
        }
    }
}

/// The prepared statements of one write transaction.
struct Statements<'c> {
    traces: TableStatements<'c>,
    observations: TableStatements<'c>,
    scores: TableStatements<'c>,
}

/// The statements of one table, and the result columns of its select.
struct TableStatements<'c> {
    select: CachedStatement<'c>,
    insert: CachedStatement<'c>,
    upsert: CachedStatement<'c>,
    stored_columns: ColumnIndex,
}

impl<'c> Statements<'c> {
    fn prepare(transaction: &'c Transaction<'_>) -> Result<Self> {
        let prepare = |sql: &TableSql| -> Result<TableStatements<'c>> {
            let select = transaction.prepare_cached(&sql.select).map_err(sql_error)?;
            let stored_columns = ColumnIndex::of_statement(&select);
            Ok(TableStatements {
                select,
                insert: transaction.prepare_cached(&sql.insert).map_err(sql_error)?,
                upsert: transaction.prepare_cached(&sql.upsert).map_err(sql_error)?,
                stored_columns,
            })
        };
        let [traces, observations, scores] = write_sql();
        Ok(Statements {
            traces: prepare(traces)?,
            observations: prepare(observations)?,
            scores: prepare(scores)?,
        })
    }
}

/// The write statements of one table, made from its shared column lists.
struct TableSql {
    /// The stored row of `(?1 project, ?2 id)`.
    select: String,
    /// An insert that does nothing when the row exists.
    insert: String,
    /// An insert that rewrites every column but `created_at` when the row exists.
    upsert: String,
}

impl TableSql {
    /// `extra`: columns only SQLite writes, after the shared ones (bound after them too).
    fn of<E: Encoded>(read: &'static ReadColumns, alias: &str, extra: &[&'static str]) -> Self {
        let names: Vec<&str> = E::COLUMNS
            .iter()
            .map(|c| c.name)
            .chain(extra.iter().copied())
            .collect();
        let placeholders: Vec<String> = (1..=names.len() + 3).map(|n| format!("?{n}")).collect();
        let head = format!(
            "INSERT INTO {table} (project_id, {names}, created_at, updated_at) VALUES ({values})",
            table = E::TABLE,
            names = names.join(", "),
            values = placeholders.join(", "),
        );
        let sets: Vec<String> = names[1..]
            .iter()
            .chain(["updated_at"].iter())
            .map(|name| format!("{name} = excluded.{name}"))
            .collect();
        TableSql {
            select: format!(
                "SELECT {columns} FROM {table} {alias} WHERE {alias}.project_id = ?1 \
                 AND {alias}.id = ?2",
                columns = read.select(Dialect::Sqlite),
                table = E::TABLE,
            ),
            insert: format!("{head} ON CONFLICT (project_id, id) DO NOTHING"),
            upsert: format!(
                "{head} ON CONFLICT (project_id, id) DO UPDATE SET {}",
                sets.join(", ")
            ),
        }
    }
}

/// The write statements of traces, observations and scores.
fn write_sql() -> &'static [TableSql; 3] {
    static SQL: OnceLock<[TableSql; 3]> = OnceLock::new();
    SQL.get_or_init(|| {
        [
            TableSql::of::<EncodedTrace<'_>>(&TRACE_COLUMNS, "t", &[]),
            TableSql::of::<EncodedObservation<'_>>(&OBSERVATION_COLUMNS, "o", &["resource_id"]),
            TableSql::of::<EncodedScore<'_>>(&SCORE_COLUMNS, "s", &[]),
        ]
    })
}

/// Writes one encoded record: `project_id`, its columns, `created_at` and `updated_at`.
fn execute_row<E: Encoded>(
    statement: &mut CachedStatement<'_>,
    project_id: &str,
    encoded: &E,
    packing: &Packing<'_, '_>,
    created_at: Micros,
    now: Micros,
) -> Result<usize> {
    execute_row_with(
        statement,
        project_id,
        encoded,
        packing,
        &[],
        created_at,
        now,
    )
}

/// How a write binds payloads: the store's packer (`None`: as text) and what the group's
/// batches packed ahead.
struct Packing<'p, 't> {
    packer: Option<&'p Arc<Packer>>,
    texts: &'p PackedTexts<'t>,
}

/// [`execute_row`] with the values of the table's SQLite-only columns (`TableSql::of`).
fn execute_row_with<E: Encoded>(
    statement: &mut CachedStatement<'_>,
    project_id: &str,
    encoded: &E,
    packing: &Packing<'_, '_>,
    extra: &[Cell<'_>],
    created_at: Micros,
    now: Micros,
) -> Result<usize> {
    let columns = E::COLUMNS.iter().map(|column| column.name);
    let cells = std::iter::once(Bound::Cell(Cell::Text(Some(project_id))))
        .chain(columns.zip(encoded.cells()).map(|(name, cell)| match cell {
            Cell::Text(text) if PACKED_COLUMNS.contains(&name) => {
                Bound::Payload(packing.texts.payload(packing.packer, text))
            }
            cell => Bound::Cell(cell),
        }))
        .chain(extra.iter().copied().map(Bound::Cell))
        .chain([created_at, now].map(|time| Bound::Cell(Cell::Int(Some(time)))));
    statement
        .execute(params_from_iter(cells))
        .map_err(sql_error)
}

/// The columns written packed when that is smaller (`payload.rs`), read through
/// `spindle_payload`.
const PACKED_COLUMNS: [&str; 2] = ["input", "output"];

/// A value bound to a write: a shared cell, or a payload that may be packed.
enum Bound<'a> {
    Cell(Cell<'a>),
    Payload(Payload<'a>),
}

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Bound::Cell(cell) => cell.to_sql(),
            Bound::Payload(payload) => payload.to_sql(),
        }
    }
}

/// Groups records by id, keeping first-seen order: each entity's patches together.
fn by_id<'r, R>(records: impl Iterator<Item = &'r R>, id: fn(&R) -> &str) -> Vec<Vec<&'r R>>
where
    R: 'r,
{
    let mut index: HashMap<&'r str, usize> = HashMap::new();
    let mut groups: Vec<Vec<&'r R>> = Vec::new();
    for record in records {
        match index.get(id(record)) {
            Some(&position) => groups[position].push(record),
            None => {
                index.insert(id(record), groups.len());
                groups.push(vec![record]);
            }
        }
    }
    groups
}

/// Folds the stored record (if any) and every patch into one record. A lone new patch is
/// borrowed as it is; merging clones, after giving unstamped fields the weakest stamp.
/// Returns `None` when there is nothing to write: no patches, or a stored record that the
/// patches leave unchanged (a retried request, a repeated shallow trace).
fn fold<'r, R: Clone + PartialEq>(
    stored: Option<R>,
    patches: &[&'r R],
    stamp: fn(&mut R),
    merge: fn(&mut R, R),
) -> Option<Cow<'r, R>> {
    let (first, rest) = patches.split_first()?;
    let Some(stored) = stored else {
        if rest.is_empty() {
            return Some(Cow::Borrowed(*first));
        }
        let mut merged = (*first).clone();
        stamp(&mut merged);
        for patch in rest {
            let mut patch = (*patch).clone();
            stamp(&mut patch);
            merge(&mut merged, patch);
        }
        return Some(Cow::Owned(merged));
    };
    let mut merged = stored.clone();
    for patch in patches {
        let mut patch = (*patch).clone();
        stamp(&mut patch);
        merge(&mut merged, patch);
    }
    if merged == stored {
        return None;
    }
    Some(Cow::Owned(merged))
}

/// A batch to write: its project, the batch, its payloads packed ahead.
type Job<'a> = (&'a str, &'a WriteBatch, &'a Prepacked);

/// Merges the batches into the database in one transaction and commits it.
fn apply(
    connection: &mut Connection,
    pricer: &Pricer,
    packer: Option<&Arc<Packer>>,
    batches: &[Job<'_>],
) -> Result<()> {
    let mut by_project: BTreeMap<&str, Vec<&WriteBatch>> = BTreeMap::new();
    let mut texts = PackedTexts::default();
    for (project_id, batch, prepacked) in batches {
        by_project.entry(project_id).or_default().push(batch);
        texts.add(batch, prepacked);
    }
    let packing = Packing {
        packer,
        texts: &texts,
    };
    let now = now_micros();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)?;
    // The dictionaries payloads may be packed with, in the transaction of those payloads.
    let dictionaries = match packer {
        Some(packer) => packer.save(&transaction, now).map_err(sql_error)?,
        None => Vec::new(),
    };
    {
        let mut statements = Statements::prepare(&transaction)?;
        for (project_id, batches) in by_project {
            let mut new_traces: i64 = 0;
            let mut new_observations: i64 = 0;
            let traces = by_id(batches.iter().flat_map(|b| b.traces.iter()), |r| &r.id);
            for patches in traces {
                if let Written::Inserted(_) = upsert(
                    &mut statements.traces,
                    project_id,
                    &patches,
                    now,
                    (|r| &r.id, weakest_trace, TraceRecord::merge),
                    |row| decode_trace(row),
                    |statement, record, created_at| {
                        let encoded = EncodedTrace::new(record);
                        execute_row(statement, project_id, &encoded, &packing, created_at, now)
                    },
                )? {
                    new_traces += 1;
                }
            }
            let observations = by_id(batches.iter().flat_map(|b| b.observations.iter()), |r| {
                &r.id
            });
            let pricing = if observations.is_empty() {
                Arc::default()
            } else {
                complete(models_sql::pricing(
                    &Reader(&transaction),
                    pricer,
                    project_id,
                ))?
            };
            let mut rollups = Rollups::default();
            let resources = RefCell::new(Resources::default());
            // The facts of the observation last written, priced as it was written.
            let written_facts: RefCell<Option<ObservationFacts>> = RefCell::new(None);
            for patches in observations {
                let written = upsert(
                    &mut statements.observations,
                    project_id,
                    &patches,
                    now,
                    (|r| &r.id, weakest_observation, ObservationRecord::merge),
                    |row| decode_observation(row),
                    // Priced without cloning the record: the derived cost is written
                    // beside its own fields.
                    |statement, record, created_at| {
                        let derived = pricer.derive(pricing.as_ref(), record);
                        let encoded = EncodedObservation::sharing_resource(record, &derived);
                        let resource_id = match encoded.shared_metadata() {
                            Some(shared) => Some(resources.borrow_mut().id(
                                &transaction,
                                project_id,
                                shared,
                            )?),
                            None => None,
                        };
                        written_facts
                            .replace(Some(ObservationFacts::of(project_id, record, &derived)));
                        execute_row_with(
                            statement,
                            project_id,
                            &encoded,
                            &packing,
                            &[Cell::Int(resource_id)],
                            created_at,
                            now,
                        )
                    },
                )?;
                let after = written_facts.take();
                match written {
                    Written::Unchanged => {}
                    Written::Inserted(_) => {
                        new_observations += 1;
                        rollups.observation(None, after.as_ref());
                    }
                    Written::Merged { before, .. } => {
                        let before = ObservationFacts::of(project_id, &before, &before.derived);
                        rollups.observation(Some(&before), after.as_ref());
                    }
                }
            }
            let scores = by_id(batches.iter().flat_map(|b| b.scores.iter()), |r| &r.id);
            for patches in scores {
                let written = upsert(
                    &mut statements.scores,
                    project_id,
                    &patches,
                    now,
                    (|r| &r.id, weakest_score, ScoreRecord::merge),
                    |row| decode_score(row),
                    |statement, record, created_at| {
                        let encoded = EncodedScore::new(record);
                        execute_row(statement, project_id, &encoded, &packing, created_at, now)
                    },
                )?;
                match written {
                    Written::Unchanged => {}
                    Written::Inserted(after) => {
                        rollups.score(None, Some(&ScoreFacts::of(project_id, &after)));
                    }
                    Written::Merged { before, after } => rollups.score(
                        Some(&ScoreFacts::of(project_id, &before)),
                        Some(&ScoreFacts::of(project_id, &after)),
                    ),
                }
            }
            for link in batches.iter().flat_map(|b| b.run_items.iter()) {
                let [run, run_item] = datasets_sql::experiment_run_item_statements(
                    Dialect::Sqlite,
                    project_id,
                    link,
                    now,
                );
                sqlite_execute(&transaction, &run)?;
                if sqlite_execute(&transaction, &run_item)? == 0 {
                    datasets_sql::log_unlinked(link);
                }
            }
            for completion in batches.iter().flat_map(|b| b.completions.iter()) {
                let complete = reviews_sql::complete_item_statement(
                    Dialect::Sqlite,
                    project_id,
                    completion,
                    now,
                );
                if sqlite_execute(&transaction, &complete)? == 0 {
                    return Err(reviews_sql::completion_refused(completion));
                }
            }
            if new_traces > 0 || new_observations > 0 {
                add_counts(&transaction, project_id, new_traces, new_observations)?;
            }
            refresh_trace_totals(&transaction, project_id, &batches, &mut rollups)?;
            add_rollups(&transaction, project_id, &mut rollups)?;
        }
    }
    transaction.commit().map_err(sql_error)?;
    if let Some(packer) = packer {
        packer.saved(&dictionaries);
    }
    Ok(())
}

/// The `resources` rows one transaction found or added, by their metadata: an
/// observation's shared metadata keys (`EncodedObservation::sharing_resource`) cost a
/// lookup per distinct value and transaction (for the [`RESOURCES_REMEMBERED`] last used).
#[derive(Default)]
struct Resources {
    /// The rows found, the last one used first: the spans of one export share theirs.
    ids: Vec<(String, i64)>,
}

impl Resources {
    /// The id of the project's row of `metadata`, added when missing.
    fn id(
        &mut self,
        transaction: &Transaction<'_>,
        project_id: &str,
        metadata: &str,
    ) -> Result<i64> {
        if let Some(index) = self.ids.iter().position(|(known, _)| known == metadata) {
            self.ids.swap(0, index);
            return Ok(self.ids[0].1);
        }
        transaction
            .prepare_cached(
                "INSERT INTO resources (project_id, metadata) VALUES (?1, ?2) \
                 ON CONFLICT (project_id, metadata) DO NOTHING",
            )
            .and_then(|mut insert| insert.execute(params![project_id, metadata]))
            .map_err(sql_error)?;
        let id: i64 = transaction
            .prepare_cached("SELECT id FROM resources WHERE project_id = ?1 AND metadata = ?2")
            .and_then(|mut select| {
                select.query_row(params![project_id, metadata], |row| row.get(0))
            })
            .map_err(sql_error)?;
        // A few remembered are enough; more would make a miss cost more than the lookup.
        self.ids.truncate(RESOURCES_REMEMBERED - 1);
        self.ids.insert(0, (metadata.to_owned(), id));
        Ok(id)
    }
}

/// How many `resources` rows a transaction remembers.
const RESOURCES_REMEMBERED: usize = 8;

/// Adds rollup deltas in the transaction, the prompt score changes resolved first against
/// the stored rows (`rollups_sql::resolve_prompt_scores`).
pub(crate) fn add_rollups(
    connection: &Connection,
    project_id: &str,
    rollups: &mut Rollups,
) -> Result<()> {
    let statements = complete(rollups_sql::resolved_statements(
        &Reader(connection),
        project_id,
        rollups,
    ))?;
    for statement in statements {
        sqlite_execute(connection, &statement)?;
    }
    Ok(())
}

/// The writer's transaction runs the shared write steps ([`spindle_store::writing`]); nothing
/// in it waits.
impl WriteConnection for Reader<'_> {
    async fn execute(&self, sql: &Sql) -> Result<u64> {
        sqlite_execute(self.0, sql)
    }

    async fn apply_totals(
        &self,
        project_id: &str,
        trace_ids: &[String],
        change: TotalsChange,
        rollups: &mut Rollups,
    ) -> Result<()> {
        trace_totals::apply(self, project_id, trace_ids, change, rollups).await
    }

    async fn add_rollups(&self, project_id: &str, rollups: &mut Rollups) -> Result<()> {
        add_rollups(self.0, project_id, rollups)
    }
}

/// Recomputes the `trace_totals` rows of the traces the project's batches touched (their
/// changes added to `rollups`), and queues those traces for the search index.
fn refresh_trace_totals(
    transaction: &Transaction<'_>,
    project_id: &str,
    batches: &[&WriteBatch],
    rollups: &mut Rollups,
) -> Result<()> {
    let touched = complete(trace_totals::touched_trace_ids(
        &Reader(transaction),
        project_id,
        batches
            .iter()
            .flat_map(|b| b.traces.iter().map(|r| r.id.as_str()))
            .chain(rollups.observation_traces.iter().map(String::as_str)),
        batches.iter().flat_map(|b| b.observations.iter()),
    ))?;
    rollups.observation_traces.clear();
    if touched.is_empty() {
        return Ok(());
    }
    complete(trace_totals::apply(
        &Reader(transaction),
        project_id,
        &touched,
        TotalsChange::Refresh,
        rollups,
    ))?;
    crate::search::enqueue(transaction, project_id, &touched)
}

/// Adds to the project's trace and observation counters.
pub(crate) fn add_counts(
    transaction: &Transaction<'_>,
    project_id: &str,
    traces: i64,
    observations: i64,
) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO project_stats (project_id, trace_count, observation_count)
             VALUES (?1, max(?2, 0), max(?3, 0))
             ON CONFLICT (project_id) DO UPDATE
             SET trace_count = max(trace_count + ?2, 0),
                 observation_count = max(observation_count + ?3, 0)",
        )
        .and_then(|mut statement| statement.execute(params![project_id, traces, observations]))
        .map_err(sql_error)?;
    Ok(())
}

fn weakest_trace(record: &mut TraceRecord) {
    record.stamp_unstamped(WEAKEST_STAMP);
}

fn weakest_observation(record: &mut ObservationRecord) {
    record.stamp_unstamped(WEAKEST_STAMP);
}

fn weakest_score(record: &mut ScoreRecord) {
    record.stamp_unstamped(WEAKEST_STAMP);
}

/// A record type's id, how it stamps unstamped fields, and how it merges.
type RecordFns<R> = (fn(&R) -> &str, fn(&mut R), fn(&mut R, R));

/// Writes one record's patches: inserted as they are when the record is new (the common
/// case, without a read: an OTLP span is exported once), else merged with the stored one.
/// `write` runs an insert or upsert statement for a record and its creation time (see
/// [`execute_row`]; an observation is priced first). Returns what was written.
fn upsert<'r, R: Clone + PartialEq>(
    table: &mut TableStatements<'_>,
    project_id: &str,
    patches: &[&'r R],
    now: Micros,
    (id, weakest, merge): RecordFns<R>,
    decode: impl Fn(&Indexed<'_, rusqlite::Row<'_>>) -> Result<Stored<R>>,
    write: impl Fn(&mut CachedStatement<'_>, &R, Micros) -> Result<usize>,
) -> Result<Written<'r, R>> {
    let Some(patch) = fold(None, patches, weakest, merge) else {
        return Ok(Written::Unchanged);
    };
    if write(&mut table.insert, &patch, now)? == 1 {
        return Ok(Written::Inserted(patch));
    }
    let stored = {
        let mut rows = table
            .select
            .query(params![project_id, id(&patch)])
            .map_err(sql_error)?;
        match rows.next().map_err(sql_error)? {
            Some(row) => Some(decode(&Indexed::new(row, &table.stored_columns))?),
            None => None,
        }
    };
    let created_at = stored.as_ref().map_or(now, |stored| stored.created_at);
    let Some(stored) = stored.map(|stored| stored.record) else {
        // Gone between the insert and the read: cannot happen on the one writer.
        let Some(merged) = fold(None, &[patch.as_ref()], weakest, merge) else {
            return Ok(Written::Unchanged);
        };
        write(&mut table.upsert, &merged, created_at)?;
        return Ok(Written::Inserted(Cow::Owned(merged.into_owned())));
    };
    let Some(merged) = fold(Some(stored.clone()), &[patch.as_ref()], weakest, merge) else {
        return Ok(Written::Unchanged);
    };
    write(&mut table.upsert, &merged, created_at)?;
    Ok(Written::Merged {
        before: stored,
        after: merged.into_owned(),
    })
}

/// What [`upsert`] wrote for one record.
enum Written<'r, R: Clone> {
    /// Nothing: the stored row already held every patch.
    Unchanged,
    /// A new row.
    Inserted(Cow<'r, R>),
    /// The stored row `before`, replaced by `after`.
    Merged { before: R, after: R },
}

/// Runs `job` in an immediate transaction on the writer's connection and commits it.
pub(crate) fn in_transaction<R>(
    connection: &mut Connection,
    job: impl FnOnce(&Transaction<'_>) -> Result<R>,
) -> Result<R> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)?;
    let result = job(&transaction)?;
    transaction.commit().map_err(sql_error)?;
    Ok(result)
}

/// An error for a writer that is gone.
pub(crate) fn writer_gone() -> Error {
    Error::new(
        spindle_core::ErrorKind::Unavailable,
        "the store is shutting down",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squash(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn write_selects_read_the_row_columns() {
        let [traces, observations, scores] = write_sql();
        let (select_trace, trace_columns) = (&traces.select, TRACE_COLUMNS.select(Dialect::Sqlite));
        let (select_observation, observation_columns) = (
            &observations.select,
            OBSERVATION_COLUMNS.select(Dialect::Sqlite),
        );
        let (select_score, score_columns) = (&scores.select, SCORE_COLUMNS.select(Dialect::Sqlite));
        assert!(squash(select_trace).contains(&squash(trace_columns)));
        assert!(squash(select_observation).contains(&squash(observation_columns)));
        assert!(squash(select_score).contains(&squash(score_columns)));
    }
}
