//! The single writer thread: it owns the write connection, takes commands from a bounded
//! channel and commits write batches in groups (one transaction for several batches).
//!
//! A batch's sender hears `Ok` only after the transaction holding it has committed.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use spindle_core::time::Micros;
use spindle_core::{Error, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use super::rows::{
    ObservationRow, ScoreRow, TraceRow, OBSERVATION_COLUMNS, SCORE_COLUMNS, TRACE_COLUMNS,
    WEAKEST_STAMP,
};
use super::{now_micros, sql_error};
use crate::Result;

/// A job run on the writer's connection, outside any group (keys, deletes, media, ...).
pub(crate) type ExecJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// What the writer thread is asked to do.
pub(crate) enum Command {
    /// Merge a batch into a project's data; reply after commit.
    Write {
        project_id: String,
        batch: WriteBatch,
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
    batch: WriteBatch,
    reply: oneshot::Sender<Result<()>>,
}

/// The writer thread's state.
pub(crate) struct Writer {
    pub connection: Connection,
    pub receiver: mpsc::Receiver<Command>,
    /// Write batches sent but not yet taken by the writer.
    pub depth: Arc<AtomicUsize>,
    pub max_group_batches: usize,
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
        if group.len() == 1 {
            for job in group {
                let result = apply(&mut self.connection, vec![(job.project_id, job.batch)]);
                let _ = job.reply.send(result);
            }
            return;
        }
        let batches: Vec<(String, WriteBatch)> = group
            .iter()
            .map(|job| (job.project_id.clone(), job.batch.clone()))
            .collect();
        match apply(&mut self.connection, batches) {
            Ok(()) => {
                for job in group {
                    let _ = job.reply.send(Ok(()));
                }
            }
            Err(error) => {
                tracing::warn!(%error, batches = group.len(), "group commit failed, retrying batches one by one");
                for job in group {
                    let result = apply(&mut self.connection, vec![(job.project_id, job.batch)]);
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// Merges the batches into the database in one transaction and commits it.
fn apply(connection: &mut Connection, batches: Vec<(String, WriteBatch)>) -> Result<()> {
    let mut by_project: BTreeMap<String, WriteBatch> = BTreeMap::new();
    for (project_id, batch) in batches {
        by_project.entry(project_id).or_default().extend(batch);
    }
    let now = now_micros();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)?;
    for (project_id, mut batch) in by_project {
        batch.coalesce();
        let mut new_traces: i64 = 0;
        for trace in batch.traces {
            if upsert_trace(&transaction, &project_id, trace, now)? {
                new_traces += 1;
            }
        }
        for observation in batch.observations {
            upsert_observation(&transaction, &project_id, observation, now)?;
        }
        for score in batch.scores {
            upsert_score(&transaction, &project_id, score, now)?;
        }
        if new_traces > 0 {
            add_trace_count(&transaction, &project_id, new_traces)?;
        }
    }
    transaction.commit().map_err(sql_error)
}

/// Adds `delta` to the project's trace counter.
pub(crate) fn add_trace_count(
    transaction: &Transaction<'_>,
    project_id: &str,
    delta: i64,
) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO project_stats (project_id, trace_count) VALUES (?1, max(?2, 0))
             ON CONFLICT (project_id) DO UPDATE
             SET trace_count = max(trace_count + ?2, 0)",
        )
        .and_then(|mut statement| statement.execute(params![project_id, delta]))
        .map_err(sql_error)?;
    Ok(())
}

/// Merges one trace patch; returns whether the trace is new.
fn upsert_trace(
    transaction: &Transaction<'_>,
    project_id: &str,
    mut incoming: TraceRecord,
    now: Micros,
) -> Result<bool> {
    incoming.stamp_unstamped(WEAKEST_STAMP);
    let existing = {
        let mut select = transaction
            .prepare_cached(&format!(
                "SELECT {TRACE_COLUMNS} FROM traces t WHERE t.project_id = ?1 AND t.id = ?2"
            ))
            .map_err(sql_error)?;
        select
            .query_row(params![project_id, incoming.id], |row| {
                TraceRow::read(row, 0)
            })
            .optional()
            .map_err(sql_error)?
    };
    let (merged, created_at, is_new) = match existing {
        Some(row) => {
            let created_at = row.created_at;
            let mut stored = row.into_record()?;
            stored.merge(incoming);
            (stored, created_at, false)
        }
        None => (incoming, now, true),
    };
    let row = TraceRow::from_record(&merged, created_at, now);
    let mut upsert = transaction
        .prepare_cached(
            "INSERT INTO traces (project_id, id, timestamp, environment, name, user_id,
                 session_id, release, version, public, bookmarked, external_id, created_at,
                 updated_at, tags, metadata, input, output, stamps)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19)
             ON CONFLICT (project_id, id) DO UPDATE SET
                 timestamp = excluded.timestamp, environment = excluded.environment,
                 name = excluded.name, user_id = excluded.user_id,
                 session_id = excluded.session_id, release = excluded.release,
                 version = excluded.version, public = excluded.public,
                 bookmarked = excluded.bookmarked, external_id = excluded.external_id,
                 updated_at = excluded.updated_at, tags = excluded.tags,
                 metadata = excluded.metadata, input = excluded.input,
                 output = excluded.output, stamps = excluded.stamps",
        )
        .map_err(sql_error)?;
    upsert
        .execute(params![
            project_id,
            row.id,
            row.timestamp,
            row.environment,
            row.name,
            row.user_id,
            row.session_id,
            row.release,
            row.version,
            row.public,
            row.bookmarked,
            row.external_id,
            row.created_at,
            row.updated_at,
            row.tags,
            row.metadata,
            row.input,
            row.output,
            row.stamps,
        ])
        .map_err(sql_error)?;
    Ok(is_new)
}

fn upsert_observation(
    transaction: &Transaction<'_>,
    project_id: &str,
    mut incoming: ObservationRecord,
    now: Micros,
) -> Result<()> {
    incoming.stamp_unstamped(WEAKEST_STAMP);
    let existing = {
        let mut select = transaction
            .prepare_cached(&format!(
                "SELECT {OBSERVATION_COLUMNS} FROM observations o
                 WHERE o.project_id = ?1 AND o.id = ?2"
            ))
            .map_err(sql_error)?;
        select
            .query_row(params![project_id, incoming.id], |row| {
                ObservationRow::read(row, 0)
            })
            .optional()
            .map_err(sql_error)?
    };
    let (merged, created_at) = match existing {
        Some(row) => {
            let created_at = row.created_at;
            let mut stored = row.into_record()?;
            stored.merge(incoming);
            (stored, created_at)
        }
        None => (incoming, now),
    };
    let row = ObservationRow::from_record(&merged, created_at, now);
    let mut upsert = transaction
        .prepare_cached(
            "INSERT INTO observations (project_id, id, trace_id, start_time, end_time,
                 environment, type, parent_observation_id, name, completion_start_time, level,
                 version, model, prompt_name, prompt_version, total_cost, usage_input,
                 usage_output, usage_total, created_at, updated_at, status_message,
                 model_parameters, usage_details, cost_details, metadata, input, output, stamps)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)
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
                 model_parameters = excluded.model_parameters,
                 usage_details = excluded.usage_details, cost_details = excluded.cost_details,
                 metadata = excluded.metadata, input = excluded.input,
                 output = excluded.output, stamps = excluded.stamps",
        )
        .map_err(sql_error)?;
    upsert
        .execute(params![
            project_id,
            row.id,
            row.trace_id,
            row.start_time,
            row.end_time,
            row.environment,
            row.observation_type,
            row.parent_observation_id,
            row.name,
            row.completion_start_time,
            row.level,
            row.version,
            row.model,
            row.prompt_name,
            row.prompt_version,
            row.total_cost,
            row.usage_input,
            row.usage_output,
            row.usage_total,
            row.created_at,
            row.updated_at,
            row.status_message,
            row.model_parameters,
            row.usage_details,
            row.cost_details,
            row.metadata,
            row.input,
            row.output,
            row.stamps,
        ])
        .map_err(sql_error)?;
    Ok(())
}

fn upsert_score(
    transaction: &Transaction<'_>,
    project_id: &str,
    mut incoming: ScoreRecord,
    now: Micros,
) -> Result<()> {
    incoming.stamp_unstamped(WEAKEST_STAMP);
    let existing = {
        let mut select = transaction
            .prepare_cached(&format!(
                "SELECT {SCORE_COLUMNS} FROM scores s WHERE s.project_id = ?1 AND s.id = ?2"
            ))
            .map_err(sql_error)?;
        select
            .query_row(params![project_id, incoming.id], |row| {
                ScoreRow::read(row, 0)
            })
            .optional()
            .map_err(sql_error)?
    };
    let (merged, created_at) = match existing {
        Some(row) => {
            let created_at = row.created_at;
            let mut stored = row.into_record()?;
            stored.merge(incoming);
            (stored, created_at)
        }
        None => (incoming, now),
    };
    let row = ScoreRow::from_record(&merged, created_at, now);
    let mut upsert = transaction
        .prepare_cached(
            "INSERT INTO scores (project_id, id, timestamp, environment, name, value,
                 string_value, data_type, source, trace_id, observation_id, session_id,
                 dataset_run_id, config_id, queue_id, author_user_id, execution_trace_id,
                 created_at, updated_at, comment, metadata, stamps)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22)
             ON CONFLICT (project_id, id) DO UPDATE SET
                 timestamp = excluded.timestamp, environment = excluded.environment,
                 name = excluded.name, value = excluded.value,
                 string_value = excluded.string_value, data_type = excluded.data_type,
                 source = excluded.source, trace_id = excluded.trace_id,
                 observation_id = excluded.observation_id, session_id = excluded.session_id,
                 dataset_run_id = excluded.dataset_run_id, config_id = excluded.config_id,
                 queue_id = excluded.queue_id, author_user_id = excluded.author_user_id,
                 execution_trace_id = excluded.execution_trace_id,
                 updated_at = excluded.updated_at, comment = excluded.comment,
                 metadata = excluded.metadata, stamps = excluded.stamps",
        )
        .map_err(sql_error)?;
    upsert
        .execute(params![
            project_id,
            row.id,
            row.timestamp,
            row.environment,
            row.name,
            row.value,
            row.string_value,
            row.data_type,
            row.source,
            row.trace_id,
            row.observation_id,
            row.session_id,
            row.dataset_run_id,
            row.config_id,
            row.queue_id,
            row.author_user_id,
            row.execution_trace_id,
            row.created_at,
            row.updated_at,
            row.comment,
            row.metadata,
            row.stamps,
        ])
        .map_err(sql_error)?;
    Ok(())
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
