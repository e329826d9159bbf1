//! The single writer thread: it owns the write connection, takes commands from a bounded
//! channel and commits write batches in groups (one transaction for several batches).
//!
//! A batch's sender hears `Ok` only after the transaction holding it has committed.

use rusqlite::{
    params, CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior,
};
use spindle_core::record::DerivedCost;
use spindle_core::time::Micros;
use spindle_core::{Error, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};
use spindle_cost::{Pricer, ProjectPricing};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use super::rows::{
    ObservationColumns, ObservationRow, ScoreColumns, ScoreRow, TraceColumns, TraceRow,
    WEAKEST_STAMP,
};
use super::{now_micros, sql_error};
use crate::Result;

/// A job run on the writer's connection, outside any group (keys, deletes, media, ...).
pub(crate) type ExecJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// What the writer thread is asked to do.
pub(crate) enum Command {
    /// Merge a batch into a project's data; reply after commit. The sender keeps its own
    /// reference to the batch, so the batch is freed on its thread, not the writer's.
    Write {
        project_id: String,
        batch: Arc<WriteBatch>,
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
                    reply,
                } => {
                    self.depth.fetch_sub(1, Ordering::AcqRel);
                    let mut group = vec![WriteJob {
                        project_id,
                        batch,
                        reply,
                    }];
                    while group.len() < self.max_group_batches {
                        match self.receiver.try_recv() {
                            Ok(Command::Write {
                                project_id,
                                batch,
                                reply,
                            }) => {
                                self.depth.fetch_sub(1, Ordering::AcqRel);
                                group.push(WriteJob {
                                    project_id,
                                    batch,
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
                    reply,
                } => {
                    self.depth.fetch_sub(1, Ordering::AcqRel);
                    group.push(WriteJob {
                        project_id,
                        batch,
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
        let all: Vec<(&str, &WriteBatch)> = group
            .iter()
            .map(|job| (job.project_id.as_str(), job.batch.as_ref()))
            .collect();
        let result = apply(&mut self.connection, &self.pricer, &all);
        drop(all);
        if result.is_ok() || group.len() == 1 {
            for job in group {
                // Release the batch first: the sender then holds the last reference.
                drop(job.batch);
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
                &[(job.project_id.as_str(), job.batch.as_ref())],
            );
            drop(job.batch);
            let _ = job.reply.send(result);
        }
    }
}

/// The prepared statements of one write transaction.
struct Statements<'c> {
    select_trace: CachedStatement<'c>,
    insert_trace: CachedStatement<'c>,
    upsert_trace: CachedStatement<'c>,
    select_observation: CachedStatement<'c>,
    insert_observation: CachedStatement<'c>,
    upsert_observation: CachedStatement<'c>,
    select_score: CachedStatement<'c>,
    insert_score: CachedStatement<'c>,
    upsert_score: CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(transaction: &'c Transaction<'_>) -> Result<Self> {
        let prepare = |sql: &str| transaction.prepare_cached(sql).map_err(sql_error);
        Ok(Statements {
            select_trace: prepare(SELECT_TRACE)?,
            insert_trace: prepare(&insert_if_new(UPSERT_TRACE))?,
            upsert_trace: prepare(UPSERT_TRACE)?,
            select_observation: prepare(SELECT_OBSERVATION)?,
            insert_observation: prepare(&insert_if_new(UPSERT_OBSERVATION))?,
            upsert_observation: prepare(UPSERT_OBSERVATION)?,
            select_score: prepare(SELECT_SCORE)?,
            insert_score: prepare(&insert_if_new(UPSERT_SCORE))?,
            upsert_score: prepare(UPSERT_SCORE)?,
        })
    }
}

/// The upsert turned into an insert that does nothing when the row exists.
fn insert_if_new(upsert: &str) -> String {
    let head = upsert.split("ON CONFLICT").next().unwrap_or(upsert);
    format!("{head} ON CONFLICT (project_id, id) DO NOTHING")
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

/// Merges the batches into the database in one transaction and commits it.
fn apply(
    connection: &mut Connection,
    pricer: &Pricer,
    batches: &[(&str, &WriteBatch)],
) -> Result<()> {
    let mut by_project: BTreeMap<&str, Vec<&WriteBatch>> = BTreeMap::new();
    for (project_id, batch) in batches {
        by_project.entry(project_id).or_default().push(batch);
    }
    let now = now_micros();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)?;
    {
        let mut statements = Statements::prepare(&transaction)?;
        for (project_id, batches) in by_project {
            let mut new_traces: i64 = 0;
            let mut new_observations: i64 = 0;
            let traces = by_id(batches.iter().flat_map(|b| b.traces.iter()), |r| &r.id);
            for patches in traces {
                if upsert_trace(&mut statements, project_id, &patches, now)? {
                    new_traces += 1;
                }
            }
            let observations = by_id(batches.iter().flat_map(|b| b.observations.iter()), |r| {
                &r.id
            });
            let pricing = if observations.is_empty() {
                Arc::default()
            } else {
                super::models::pricing(&transaction, pricer, project_id)?
            };
            let prices = (pricer, pricing.as_ref());
            for patches in observations {
                if upsert_observation(&mut statements, project_id, &patches, prices, now)? {
                    new_observations += 1;
                }
            }
            let scores = by_id(batches.iter().flat_map(|b| b.scores.iter()), |r| &r.id);
            for patches in scores {
                upsert_score(&mut statements, project_id, &patches, now)?;
            }
            if new_traces > 0 || new_observations > 0 {
                add_counts(&transaction, project_id, new_traces, new_observations)?;
            }
        }
    }
    transaction.commit().map_err(sql_error)
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

const SELECT_TRACE: &str = concat!(
    "SELECT t.id, t.timestamp, t.environment, t.name, t.user_id, t.session_id, t.release, ",
    "t.version, t.public, t.bookmarked, t.external_id, t.tags, t.metadata, t.input, t.output, ",
    "t.stamps, t.created_at, t.updated_at FROM traces t WHERE t.project_id = ?1 AND t.id = ?2"
);

const UPSERT_TRACE: &str = "INSERT INTO traces (project_id, id, timestamp, environment, name,
         user_id, session_id, release, version, public, bookmarked, external_id, created_at,
         updated_at, tags, metadata, input, output, stamps)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
         ?19)
     ON CONFLICT (project_id, id) DO UPDATE SET
         timestamp = excluded.timestamp, environment = excluded.environment,
         name = excluded.name, user_id = excluded.user_id, session_id = excluded.session_id,
         release = excluded.release, version = excluded.version, public = excluded.public,
         bookmarked = excluded.bookmarked, external_id = excluded.external_id,
         updated_at = excluded.updated_at, tags = excluded.tags, metadata = excluded.metadata,
         input = excluded.input, output = excluded.output, stamps = excluded.stamps";

/// Writes one trace's patches: inserted as they are when the trace is new (no read), else
/// merged with the stored trace. Returns whether the trace is new.
fn upsert_trace(
    statements: &mut Statements<'_>,
    project_id: &str,
    patches: &[&TraceRecord],
    now: Micros,
) -> Result<bool> {
    let Some(patch) = fold(None, patches, weakest_trace, TraceRecord::merge) else {
        return Ok(false);
    };
    if execute_trace(&mut statements.insert_trace, project_id, &patch, now, now)? == 1 {
        return Ok(true);
    }
    let stored = statements
        .select_trace
        .query_row(params![project_id, patch.id], |row| TraceRow::read(row, 0))
        .optional()
        .map_err(sql_error)?;
    let created_at = stored.as_ref().map_or(now, |row| row.created_at);
    let stored = stored.map(TraceRow::into_record).transpose()?;
    let Some(merged) = fold(stored, &[patch.as_ref()], weakest_trace, TraceRecord::merge) else {
        return Ok(false);
    };
    execute_trace(
        &mut statements.upsert_trace,
        project_id,
        &merged,
        created_at,
        now,
    )?;
    Ok(false)
}

fn execute_trace(
    statement: &mut CachedStatement<'_>,
    project_id: &str,
    record: &TraceRecord,
    created_at: Micros,
    now: Micros,
) -> Result<usize> {
    let columns = TraceColumns::new(record);
    let r = columns.record;
    statement
        .execute(params![
            project_id,
            r.id,
            r.timestamp,
            r.environment,
            r.name,
            r.user_id,
            r.session_id,
            r.release,
            r.version,
            r.public,
            r.bookmarked,
            r.external_id,
            created_at,
            now,
            columns.tags,
            columns.metadata,
            r.input,
            r.output,
            columns.stamps,
        ])
        .map_err(sql_error)
}

const SELECT_OBSERVATION: &str = concat!(
    "SELECT o.id, o.trace_id, o.start_time, o.environment, o.type, o.parent_observation_id, ",
    "o.name, o.end_time, o.completion_start_time, o.level, o.status_message, o.version, ",
    "o.model, o.model_parameters, o.usage_details, o.cost_details, o.prompt_name, ",
    "o.prompt_version, o.input, o.output, o.metadata, o.stamps, o.created_at, o.updated_at, ",
    "o.derived ",
    "FROM observations o WHERE o.project_id = ?1 AND o.id = ?2"
);

const UPSERT_OBSERVATION: &str = "INSERT INTO observations (project_id, id, trace_id,
         start_time, end_time, environment, type, parent_observation_id, name,
         completion_start_time, level, version, model, prompt_name, prompt_version, total_cost,
         usage_input, usage_output, usage_total, created_at, updated_at, status_message,
         model_parameters, usage_details, cost_details, metadata, input, output, stamps, derived)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
         ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)
     ON CONFLICT (project_id, id) DO UPDATE SET
         trace_id = excluded.trace_id, start_time = excluded.start_time,
         end_time = excluded.end_time, environment = excluded.environment,
         type = excluded.type, parent_observation_id = excluded.parent_observation_id,
         name = excluded.name, completion_start_time = excluded.completion_start_time,
         level = excluded.level, version = excluded.version, model = excluded.model,
         prompt_name = excluded.prompt_name, prompt_version = excluded.prompt_version,
         total_cost = excluded.total_cost, usage_input = excluded.usage_input,
         usage_output = excluded.usage_output, usage_total = excluded.usage_total,
         updated_at = excluded.updated_at, status_message = excluded.status_message,
         model_parameters = excluded.model_parameters, usage_details = excluded.usage_details,
         cost_details = excluded.cost_details, metadata = excluded.metadata,
         input = excluded.input, output = excluded.output, stamps = excluded.stamps,
         derived = excluded.derived";

/// Writes one observation's patches: inserted as they are when the observation is new (the
/// common case: an OTLP span is exported once), else merged with the stored one. Returns
/// whether it is new.
fn upsert_observation(
    statements: &mut Statements<'_>,
    project_id: &str,
    patches: &[&ObservationRecord],
    (pricer, pricing): (&Pricer, &ProjectPricing),
    now: Micros,
) -> Result<bool> {
    let Some(patch) = fold(None, patches, weakest_observation, ObservationRecord::merge) else {
        return Ok(false);
    };
    // Derived without cloning the patch: it is written beside the record's own fields.
    let derived = pricer.derive(pricing, &patch);
    if execute_observation(
        &mut statements.insert_observation,
        project_id,
        &patch,
        &derived,
        now,
        now,
    )? == 1
    {
        return Ok(true);
    }
    let stored = statements
        .select_observation
        .query_row(params![project_id, patch.id], |row| {
            ObservationRow::read(row, 0)
        })
        .optional()
        .map_err(sql_error)?;
    let created_at = stored.as_ref().map_or(now, |row| row.created_at);
    let stored = stored.map(ObservationRow::into_record).transpose()?;
    let Some(merged) = fold(
        stored,
        &[patch.as_ref()],
        weakest_observation,
        ObservationRecord::merge,
    ) else {
        return Ok(false);
    };
    let derived = pricer.derive(pricing, &merged);
    execute_observation(
        &mut statements.upsert_observation,
        project_id,
        &merged,
        &derived,
        created_at,
        now,
    )?;
    Ok(false)
}

fn execute_observation(
    statement: &mut CachedStatement<'_>,
    project_id: &str,
    record: &ObservationRecord,
    derived: &DerivedCost,
    created_at: Micros,
    now: Micros,
) -> Result<usize> {
    let columns = ObservationColumns::new(record, derived);
    let r = columns.record;
    statement
        .execute(params![
            project_id,
            r.id,
            r.trace_id,
            r.start_time,
            r.end_time,
            r.environment,
            columns.observation_type,
            r.parent_observation_id,
            r.name,
            r.completion_start_time,
            columns.level,
            r.version,
            r.model,
            r.prompt_name,
            r.prompt_version,
            columns.total_cost,
            columns.usage_input,
            columns.usage_output,
            columns.usage_total,
            created_at,
            now,
            r.status_message,
            r.model_parameters,
            columns.usage_details,
            columns.cost_details,
            columns.metadata,
            r.input,
            r.output,
            columns.stamps,
            columns.derived,
        ])
        .map_err(sql_error)
}

const SELECT_SCORE: &str = concat!(
    "SELECT s.id, s.timestamp, s.environment, s.name, s.value, s.string_value, s.data_type, ",
    "s.source, s.trace_id, s.observation_id, s.session_id, s.dataset_run_id, s.comment, ",
    "s.config_id, s.queue_id, s.author_user_id, s.execution_trace_id, s.metadata, s.stamps, ",
    "s.created_at, s.updated_at FROM scores s WHERE s.project_id = ?1 AND s.id = ?2"
);

const UPSERT_SCORE: &str = "INSERT INTO scores (project_id, id, timestamp, environment, name,
         value, string_value, data_type, source, trace_id, observation_id, session_id,
         dataset_run_id, config_id, queue_id, author_user_id, execution_trace_id, created_at,
         updated_at, comment, metadata, stamps)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
         ?19, ?20, ?21, ?22)
     ON CONFLICT (project_id, id) DO UPDATE SET
         timestamp = excluded.timestamp, environment = excluded.environment,
         name = excluded.name, value = excluded.value, string_value = excluded.string_value,
         data_type = excluded.data_type, source = excluded.source,
         trace_id = excluded.trace_id, observation_id = excluded.observation_id,
         session_id = excluded.session_id, dataset_run_id = excluded.dataset_run_id,
         config_id = excluded.config_id, queue_id = excluded.queue_id,
         author_user_id = excluded.author_user_id,
         execution_trace_id = excluded.execution_trace_id, updated_at = excluded.updated_at,
         comment = excluded.comment, metadata = excluded.metadata, stamps = excluded.stamps";

/// Writes one score's patches: inserted when new, else merged with the stored score.
fn upsert_score(
    statements: &mut Statements<'_>,
    project_id: &str,
    patches: &[&ScoreRecord],
    now: Micros,
) -> Result<()> {
    let Some(patch) = fold(None, patches, weakest_score, ScoreRecord::merge) else {
        return Ok(());
    };
    if execute_score(&mut statements.insert_score, project_id, &patch, now, now)? == 1 {
        return Ok(());
    }
    let stored = statements
        .select_score
        .query_row(params![project_id, patch.id], |row| ScoreRow::read(row, 0))
        .optional()
        .map_err(sql_error)?;
    let created_at = stored.as_ref().map_or(now, |row| row.created_at);
    let stored = stored.map(ScoreRow::into_record).transpose()?;
    let Some(merged) = fold(stored, &[patch.as_ref()], weakest_score, ScoreRecord::merge) else {
        return Ok(());
    };
    execute_score(
        &mut statements.upsert_score,
        project_id,
        &merged,
        created_at,
        now,
    )?;
    Ok(())
}

fn execute_score(
    statement: &mut CachedStatement<'_>,
    project_id: &str,
    record: &ScoreRecord,
    created_at: Micros,
    now: Micros,
) -> Result<usize> {
    let columns = ScoreColumns::new(record);
    let r = columns.record;
    statement
        .execute(params![
            project_id,
            r.id,
            r.timestamp,
            r.environment,
            r.name,
            columns.value,
            r.string_value,
            columns.data_type,
            columns.source,
            r.trace_id,
            r.observation_id,
            r.session_id,
            r.dataset_run_id,
            r.config_id,
            r.queue_id,
            r.author_user_id,
            r.execution_trace_id,
            created_at,
            now,
            r.comment,
            columns.metadata,
            columns.stamps,
        ])
        .map_err(sql_error)
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
    use super::super::rows::{OBSERVATION_COLUMNS, SCORE_COLUMNS, TRACE_COLUMNS};
    use super::*;

    fn squash(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn write_selects_read_the_row_columns() {
        assert!(squash(SELECT_TRACE).contains(&squash(TRACE_COLUMNS)));
        assert!(squash(SELECT_OBSERVATION).contains(&squash(OBSERVATION_COLUMNS)));
        assert!(squash(SELECT_SCORE).contains(&squash(SCORE_COLUMNS)));
    }
}
