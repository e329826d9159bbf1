//! The write path: a batch is merged with the stored rows in one transaction, so that any
//! number of writers, in this process or in other instances, never lose or duplicate data.
//!
//! Per table, the batch's records (folded per id, in id order) are first compared with the
//! stored rows without locking; records that change nothing are dropped (the merge is
//! idempotent and monotone, so a record dominated by a stored row stays dominated). New ids
//! are inserted with one multi-row `INSERT ... ON CONFLICT DO NOTHING`; ids that exist, or
//! that another transaction inserted meanwhile, are locked with `SELECT ... FOR UPDATE`,
//! merged with `spindle_core`'s merge and written back with one multi-row `UPDATE`.
//! A transaction that PostgreSQL aborts for a deadlock or serialization failure is retried.

use deadpool_postgres::{Client, Transaction};
use spindle_core::review::QueueItemCompletion;
use spindle_core::time::Micros;
use spindle_core::{
    Error, ExperimentRunItem, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch,
};
use spindle_cost::Pricer;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use tokio_postgres::types::ToSql;

use super::clean::{clean_observation, clean_score, clean_trace};
use super::reads::Reader;
use super::{decode_rows, is_conflict, now_micros, pg_error, postgres_execute};
use spindle_store::rollups::{ObservationFacts, Rollups, ScoreFacts};
use spindle_store::rollups_sql;
use spindle_store::search::{observation_text, trace_text, SearchChanges, SearchText};
use spindle_store::sql::rows::{
    decode_observation, decode_score, decode_trace, Cell, Encoded, EncodedObservation,
    EncodedScore, EncodedTrace, ReadColumns, Stored, OBSERVATION_COLUMNS, SCORE_COLUMNS,
    TRACE_COLUMNS, WEAKEST_STAMP,
};
use spindle_store::sql::{Dialect, RowAccess, Sql};
use spindle_store::trace_totals::{self, TotalsChange};
use spindle_store::writing::WriteConnection;
use spindle_store::Result;
use spindle_store::{datasets_sql, models_sql, reviews_sql};

/// How often a transaction aborted by a deadlock or serialization failure is retried.
const MAX_ATTEMPTS: u32 = 8;

/// Merges `batch` into the project's rows and commits.
pub(crate) async fn apply(
    client: &mut Client,
    pricer: &Pricer,
    project_id: &str,
    batch: WriteBatch,
) -> Result<()> {
    let traces = fold(batch.traces, |r| &r.id, TraceRecord::merge, weak_trace);
    let mut observations = fold(
        batch.observations,
        |r| &r.id,
        ObservationRecord::merge,
        weak_observation,
    );
    let pricing = if observations.is_empty() {
        Arc::default()
    } else {
        models_sql::pricing(&Reader(&*client), pricer, project_id).await?
    };
    for observation in &mut observations {
        observation.derived = pricer.derive(&pricing, observation);
    }
    let finish = |record: &mut ObservationRecord| {
        record.derived = pricer.derive(&pricing, record);
    };
    let scores = fold(batch.scores, |r| &r.id, ScoreRecord::merge, weak_score);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = apply_once(
            client,
            project_id,
            (
                &traces,
                &observations,
                &scores,
                &batch.run_items,
                &batch.completions,
            ),
            &finish,
        )
        .await;
        match result {
            Err(error) if is_conflict(&error) && attempt < MAX_ATTEMPTS => {
                tracing::debug!(%error, attempt, "write transaction conflicted, retrying");
                let pause = 2u64.pow(attempt.min(6)) + u64::from(rand::random::<u8>() % 8);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
}

/// The records of one write, folded by id.
type Folded<'a> = (
    &'a [TraceRecord],
    &'a [ObservationRecord],
    &'a [ScoreRecord],
    &'a [ExperimentRunItem],
    &'a [QueueItemCompletion],
);

async fn apply_once(
    client: &mut Client,
    project_id: &str,
    (traces, observations, scores, run_items, completions): Folded<'_>,
    finish_observation: &(dyn Fn(&mut ObservationRecord) + Sync),
) -> Result<()> {
    let transaction = client.transaction().await.map_err(pg_error)?;
    let now = now_micros();
    let mut changes = Changes::default();
    let new_traces =
        merge_rows(&transaction, project_id, traces, now, &|_| {}, &mut changes).await?;
    let new_observations = merge_rows(
        &transaction,
        project_id,
        observations,
        now,
        finish_observation,
        &mut changes,
    )
    .await?;
    merge_rows(&transaction, project_id, scores, now, &|_| {}, &mut changes).await?;
    let observation_traces = std::mem::take(&mut changes.rollups.observation_traces);
    let touched = trace_totals::touched_trace_ids(
        &Reader(&transaction),
        project_id,
        traces
            .iter()
            .map(|r| r.id.as_str())
            .chain(observation_traces.iter().map(String::as_str)),
        observations.iter(),
    )
    .await?;
    // Every trace whose totals or prompt score averages this write works out, locked in one
    // statement in key order (two lock statements could wait for each other in a cycle).
    let mut locked = touched.clone();
    locked.extend(changes.rollups.prompt_links.traces());
    locked.sort_unstable();
    locked.dedup();
    if !locked.is_empty() {
        postgres_execute(
            &transaction,
            &trace_totals::lock_statement(project_id, &locked),
        )
        .await?;
    }
    lock_and_refresh(
        &transaction,
        project_id,
        &touched,
        false,
        &mut changes.rollups,
    )
    .await?;
    changes.flush(&transaction, project_id).await?;
    for link in run_items {
        let [run, run_item] =
            datasets_sql::experiment_run_item_statements(Dialect::Postgres, project_id, link, now);
        postgres_execute(&transaction, &run).await?;
        if postgres_execute(&transaction, &run_item).await? == 0 {
            datasets_sql::log_unlinked(link);
        }
    }
    for completion in completions {
        let complete =
            reviews_sql::complete_item_statement(Dialect::Postgres, project_id, completion, now);
        if postgres_execute(&transaction, &complete).await? == 0 {
            return Err(reviews_sql::completion_refused(completion));
        }
    }
    add_counts(&transaction, project_id, new_traces, new_observations).await?;
    transaction.commit().await.map_err(pg_error)
}

/// A transaction runs the shared write steps ([`spindle_store::writing`]), locking the
/// `trace_totals` rows it recomputes.
impl WriteConnection for Reader<'_, Transaction<'_>> {
    async fn execute(&self, sql: &Sql) -> Result<u64> {
        postgres_execute(self.0, sql).await
    }

    async fn apply_totals(
        &self,
        project_id: &str,
        trace_ids: &[String],
        change: TotalsChange,
        rollups: &mut Rollups,
    ) -> Result<()> {
        let forget = change == TotalsChange::Forget;
        lock_and_refresh(self.0, project_id, trace_ids, forget, rollups).await
    }

    async fn add_rollups(&self, project_id: &str, rollups: &mut Rollups) -> Result<()> {
        add_rollups(self.0, project_id, rollups).await
    }
}

/// Recomputes the `trace_totals` rows of `trace_ids` (sorted), or deletes them when
/// `forget`, holding the traces' locks; the rows' changes go to the trace rollups of
/// `rollups`, which the caller adds with the transaction's other rollups.
pub(crate) async fn lock_and_refresh(
    transaction: &Transaction<'_>,
    project_id: &str,
    trace_ids: &[String],
    forget: bool,
    rollups: &mut Rollups,
) -> Result<()> {
    if trace_ids.is_empty() {
        return Ok(());
    }
    postgres_execute(
        transaction,
        &trace_totals::lock_statement(project_id, trace_ids),
    )
    .await?;
    let change = if forget {
        TotalsChange::Forget
    } else {
        TotalsChange::Refresh
    };
    trace_totals::apply(&Reader(transaction), project_id, trace_ids, change, rollups).await
}

fn weak_trace(record: &mut TraceRecord) {
    clean_trace(record);
    record.stamp_unstamped(WEAKEST_STAMP);
}
fn weak_observation(record: &mut ObservationRecord) {
    clean_observation(record);
    record.stamp_unstamped(WEAKEST_STAMP);
}
fn weak_score(record: &mut ScoreRecord) {
    clean_score(record);
    record.stamp_unstamped(WEAKEST_STAMP);
}

/// Folds each id's patches into one record (unstamped fields get the weakest stamp first),
/// sorted by id so that every transaction takes its row locks in the same order.
fn fold<R>(
    records: Vec<R>,
    id: fn(&R) -> &String,
    merge: fn(&mut R, R),
    weaken: fn(&mut R),
) -> Vec<R> {
    let mut by_id: BTreeMap<String, R> = BTreeMap::new();
    for mut patch in records {
        weaken(&mut patch);
        match by_id.get_mut(id(&patch)) {
            Some(folded) => merge(folded, patch),
            None => {
                by_id.insert(id(&patch).clone(), patch);
            }
        }
    }
    by_id.into_values().collect()
}

/// What a transaction's merges change besides the rows: the search words of its traces and
/// the rollups, collected in Rust and written once at its end.
#[derive(Default)]
pub(crate) struct Changes<'r> {
    pub search: SearchChanges<'r>,
    pub rollups: Rollups,
}

impl Changes<'_> {
    /// Writes the search rows and adds the rollup deltas (in key order, so concurrent
    /// transactions lock rollup rows in one order).
    pub async fn flush(mut self, transaction: &Transaction<'_>, project_id: &str) -> Result<()> {
        super::search::flush(self.search, transaction, project_id).await?;
        add_rollups(transaction, project_id, &mut self.rollups).await
    }
}

/// Adds rollup deltas in `transaction`: the prompt score changes first resolved against the
/// stored rows under their traces' locks (see `rollups_sql::resolve_prompt_scores`; a lock
/// the transaction holds already is taken again without waiting), then every delta in key
/// order.
pub(crate) async fn add_rollups(
    transaction: &Transaction<'_>,
    project_id: &str,
    rollups: &mut Rollups,
) -> Result<()> {
    let traces = rollups.prompt_links.traces();
    if !traces.is_empty() {
        postgres_execute(
            transaction,
            &trace_totals::lock_statement(project_id, &traces),
        )
        .await?;
    }
    let statements =
        rollups_sql::resolved_statements(&Reader(transaction), project_id, rollups).await?;
    if let Some(lock) = trace_totals::session_lock_statement(project_id, rollups) {
        postgres_execute(transaction, &lock).await?;
    }
    for statement in statements {
        postgres_execute(transaction, &statement).await?;
    }
    Ok(())
}

/// One column of a multi-row statement: its name, the array type it is sent as, the
/// expression that reads it from the `unnest` row `u`, and the values.
pub(crate) struct ColumnArray<'r> {
    pub name: &'static str,
    pub array_type: &'static str,
    pub expr: String,
    pub values: Vec<Cell<'r>>,
}

/// The columns of encoded records (`id` first), each as one array of values.
fn column_arrays<'r, C: Encoded>(encoded: &'r [C]) -> Vec<ColumnArray<'r>> {
    let mut values: Vec<Vec<Cell<'r>>> = C::COLUMNS
        .iter()
        .map(|_| Vec::with_capacity(encoded.len()))
        .collect();
    for record in encoded {
        for (column, cell) in values.iter_mut().zip(record.cells()) {
            column.push(cell);
        }
    }
    C::COLUMNS
        .iter()
        .zip(values)
        .map(|(column, values)| ColumnArray {
            name: column.name,
            array_type: column.kind.pg_array_type(),
            expr: if column.jsonb {
                format!("u.{}::jsonb", column.name)
            } else {
                format!("u.{}", column.name)
            },
            values,
        })
        .collect()
}

/// The `unnest` arguments of column arrays bound from `$3` on (`$3::text[]`, …) and the
/// names of the unnested columns.
fn unnest_of<'c>(columns: &'c [ColumnArray<'_>]) -> (Vec<String>, Vec<&'c str>) {
    let arrays = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 3, c.array_type))
        .collect();
    (arrays, columns.iter().map(|c| c.name).collect())
}

/// `$1` the project, `$2` the time of the write, then the column arrays.
fn params_of<'p>(
    project_id: &'p &str,
    now: &'p Micros,
    columns: &'p [ColumnArray<'_>],
) -> Vec<&'p (dyn ToSql + Sync)> {
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![project_id, now];
    params.extend(columns.iter().map(|c| &c.values as &(dyn ToSql + Sync)));
    params
}

/// A record type stored in one table.
pub(crate) trait Entity: Clone + PartialEq + Send + Sync + Sized {
    /// The record encoded for writing.
    type Row<'a>: Encoded
    where
        Self: 'a;
    const TABLE: &'static str;
    /// The shared column list of the table, for the alias `ALIAS`.
    const COLUMNS: &'static ReadColumns;
    const ALIAS: &'static str;
    fn id(&self) -> &str;
    fn read(row: &impl RowAccess) -> Result<Stored<Self>>;
    fn merge_from(&mut self, other: Self);
    /// Replaces text PostgreSQL cannot store.
    fn clean(&mut self);
    fn encode(&self) -> Self::Row<'_>;
    /// The trace this record's input and output are searched under, and those texts.
    fn search_text(&self) -> Option<SearchText<'_>>;
    /// Adds the change from `before` to `after` (`None`: no row) to the rollups.
    fn roll(rollups: &mut Rollups, project_id: &str, before: Option<&Self>, after: Option<&Self>);
}

impl Entity for TraceRecord {
    type Row<'a> = EncodedTrace<'a>;
    const TABLE: &'static str = EncodedTrace::TABLE;
    const COLUMNS: &'static ReadColumns = &TRACE_COLUMNS;
    const ALIAS: &'static str = "t";
    fn clean(&mut self) {
        clean_trace(self);
    }
    fn search_text(&self) -> Option<SearchText<'_>> {
        trace_text(self)
    }
    /// Traces are not rolled up (their fields are no rollup dimension).
    fn roll(_: &mut Rollups, _: &str, _: Option<&Self>, _: Option<&Self>) {}
    fn id(&self) -> &str {
        &self.id
    }
    fn read(row: &impl RowAccess) -> Result<Stored<Self>> {
        decode_trace(row)
    }
    fn merge_from(&mut self, other: Self) {
        self.merge(other);
    }
    fn encode(&self) -> EncodedTrace<'_> {
        EncodedTrace::new(self)
    }
}

impl Entity for ObservationRecord {
    type Row<'a> = EncodedObservation<'a>;
    const TABLE: &'static str = EncodedObservation::TABLE;
    const COLUMNS: &'static ReadColumns = &OBSERVATION_COLUMNS;
    const ALIAS: &'static str = "o";
    fn clean(&mut self) {
        clean_observation(self);
    }
    fn search_text(&self) -> Option<SearchText<'_>> {
        observation_text(self)
    }
    /// With the record's own derived cost (worked out before it is written).
    fn roll(rollups: &mut Rollups, project_id: &str, before: Option<&Self>, after: Option<&Self>) {
        let facts = |r: &Self| ObservationFacts::of(project_id, r, &r.derived);
        rollups.observation(before.map(facts).as_ref(), after.map(facts).as_ref());
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn read(row: &impl RowAccess) -> Result<Stored<Self>> {
        decode_observation(row)
    }
    fn merge_from(&mut self, other: Self) {
        self.merge(other);
    }
    /// With the record's own derived cost, which the writer works out before.
    fn encode(&self) -> EncodedObservation<'_> {
        EncodedObservation::new(self, &self.derived)
    }
}

impl Entity for ScoreRecord {
    type Row<'a> = EncodedScore<'a>;
    const TABLE: &'static str = EncodedScore::TABLE;
    const COLUMNS: &'static ReadColumns = &SCORE_COLUMNS;
    const ALIAS: &'static str = "s";
    fn clean(&mut self) {
        clean_score(self);
    }
    fn search_text(&self) -> Option<SearchText<'_>> {
        None
    }
    fn roll(rollups: &mut Rollups, project_id: &str, before: Option<&Self>, after: Option<&Self>) {
        let facts = |r: &Self| ScoreFacts::of(project_id, r);
        rollups.score(before.map(facts).as_ref(), after.map(facts).as_ref());
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn read(row: &impl RowAccess) -> Result<Stored<Self>> {
        decode_score(row)
    }
    fn merge_from(&mut self, other: Self) {
        self.merge(other);
    }
    fn encode(&self) -> EncodedScore<'_> {
        EncodedScore::new(self)
    }
}

/// Reads the stored rows of `ids`, locking them when `lock` is set.
async fn select_rows<E: Entity>(
    transaction: &Transaction<'_>,
    project_id: &str,
    ids: &[&str],
    lock: bool,
) -> Result<HashMap<String, Stored<E>>> {
    let a = E::ALIAS;
    let sql = format!(
        "SELECT {columns} FROM {table} {a} WHERE {a}.project_id = $1 AND {a}.id = ANY($2::text[]) \
         ORDER BY {a}.id{lock}",
        columns = E::COLUMNS.select(Dialect::Postgres),
        table = E::TABLE,
        lock = if lock { " FOR UPDATE" } else { "" },
    );
    let statement = transaction.prepare_cached(&sql).await.map_err(pg_error)?;
    let rows = transaction
        .query(&statement, &[&project_id, &ids])
        .await
        .map_err(pg_error)?;
    let mut stored = HashMap::with_capacity(rows.len());
    for entry in decode_rows(&rows, |row| E::read(row))? {
        stored.insert(entry.record.id().to_owned(), entry);
    }
    Ok(stored)
}

/// Inserts the records whose id is free; returns the ids inserted.
pub(crate) async fn insert_rows<E: Entity>(
    transaction: &Transaction<'_>,
    project_id: &str,
    records: &[&E],
    now: Micros,
    times: Option<(&[Micros], &[Micros])>,
) -> Result<HashSet<String>> {
    if records.is_empty() {
        return Ok(HashSet::new());
    }
    let encoded: Vec<E::Row<'_>> = records.iter().map(|record| record.encode()).collect();
    let columns = column_arrays(&encoded);
    let mut names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let mut exprs: Vec<String> = columns.iter().map(|c| c.expr.clone()).collect();
    let (mut arrays, mut aliases) = unnest_of(&columns);
    let mut params = params_of(&project_id, &now, &columns);
    let created: Vec<Micros>;
    let updated: Vec<Micros>;
    names.push("created_at");
    names.push("updated_at");
    if let Some((created_at, updated_at)) = times {
        created = created_at.to_vec();
        updated = updated_at.to_vec();
        exprs.push("u.created_at".to_owned());
        exprs.push("coalesce(u.updated_at, $2::int8)".to_owned());
        arrays.push(format!("${}::int8[]", params.len() + 1));
        arrays.push(format!("${}::int8[]", params.len() + 2));
        aliases.push("created_at");
        aliases.push("updated_at");
        params.push(&created);
        params.push(&updated);
    } else {
        exprs.push("$2::int8".to_owned());
        exprs.push("$2::int8".to_owned());
    }
    let sql = format!(
        "INSERT INTO {table} (project_id, {names}) \
         SELECT $1, {exprs} FROM unnest({arrays}) AS u({aliases}) \
         ON CONFLICT (project_id, id) DO NOTHING RETURNING id",
        table = E::TABLE,
        names = names.join(", "),
        exprs = exprs.join(", "),
        arrays = arrays.join(", "),
        aliases = aliases.join(", "),
    );
    let statement = transaction.prepare_cached(&sql).await.map_err(pg_error)?;
    let rows = transaction
        .query(&statement, &params)
        .await
        .map_err(pg_error)?;
    rows.iter()
        .map(|row| row.try_get::<_, String>(0).map_err(pg_error))
        .collect()
}

/// Rewrites the stored rows of these records (all columns but `created_at`).
async fn update_rows<E: Entity>(
    transaction: &Transaction<'_>,
    project_id: &str,
    records: &[&E],
    now: Micros,
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let encoded: Vec<E::Row<'_>> = records.iter().map(|record| record.encode()).collect();
    let columns = column_arrays(&encoded);
    let sets: Vec<String> = columns
        .iter()
        .skip(1)
        .map(|c| format!("{} = {}", c.name, c.expr))
        .collect();
    let (arrays, aliases) = unnest_of(&columns);
    let sql = format!(
        "UPDATE {table} AS x SET updated_at = $2, {sets} FROM unnest({arrays}) AS u({aliases}) \
         WHERE x.project_id = $1 AND x.id = u.id",
        table = E::TABLE,
        sets = sets.join(", "),
        arrays = arrays.join(", "),
        aliases = aliases.join(", "),
    );
    let params = params_of(&project_id, &now, &columns);
    let statement = transaction.prepare_cached(&sql).await.map_err(pg_error)?;
    transaction
        .execute(&statement, &params)
        .await
        .map_err(pg_error)?;
    Ok(())
}

/// Merges folded records (one per id, sorted by id) into the table; `finish` completes a
/// merged record before it is written (an observation's derived cost).
async fn merge_rows<'r, E: Entity>(
    transaction: &Transaction<'_>,
    project_id: &str,
    records: &'r [E],
    now: Micros,
    finish: &(dyn Fn(&mut E) + Sync),
    changes: &mut Changes<'r>,
) -> Result<i64> {
    if records.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = records.iter().map(Entity::id).collect();
    let snapshot = select_rows::<E>(transaction, project_id, &ids, false).await?;
    let mut to_insert: Vec<&'r E> = Vec::new();
    let mut to_lock: Vec<&'r E> = Vec::new();
    for record in records {
        match snapshot.get(record.id()) {
            None => to_insert.push(record),
            Some(stored) => {
                let mut merged = stored.record.clone();
                merged.merge_from(record.clone());
                if merged != stored.record {
                    to_lock.push(record);
                }
            }
        }
    }
    drop(snapshot);
    // Each round inserts what is missing and merges what exists; a row inserted or deleted
    // by another transaction in between moves to the other list for the next round.
    let mut inserted_rows: i64 = 0;
    loop {
        if !to_insert.is_empty() {
            let inserted = insert_rows(transaction, project_id, &to_insert, now, None).await?;
            inserted_rows += i64::try_from(inserted.len()).unwrap_or(i64::MAX);
            for record in to_insert.iter().filter(|r| inserted.contains(r.id())) {
                changes.search.inserted(record.search_text());
                E::roll(&mut changes.rollups, project_id, None, Some(record));
            }
            to_lock.extend(to_insert.drain(..).filter(|r| !inserted.contains(r.id())));
            to_lock.sort_by(|a, b| a.id().cmp(b.id()));
        }
        if to_lock.is_empty() {
            return Ok(inserted_rows);
        }
        let lock_ids: Vec<&str> = to_lock.iter().map(|r| r.id()).collect();
        let locked = select_rows::<E>(transaction, project_id, &lock_ids, true).await?;
        let mut merged_rows: Vec<E> = Vec::with_capacity(to_lock.len());
        for record in to_lock.drain(..) {
            match locked.get(record.id()) {
                None => to_insert.push(record),
                Some(stored) => {
                    let mut merged = stored.record.clone();
                    merged.merge_from(record.clone());
                    if merged != stored.record {
                        finish(&mut merged);
                        changes
                            .search
                            .updated(stored.record.search_text(), merged.search_text());
                        E::roll(
                            &mut changes.rollups,
                            project_id,
                            Some(&stored.record),
                            Some(&merged),
                        );
                        merged_rows.push(merged);
                    }
                }
            }
        }
        let refs: Vec<&E> = merged_rows.iter().collect();
        update_rows(transaction, project_id, &refs, now).await?;
        if to_insert.is_empty() {
            return Ok(inserted_rows);
        }
    }
}

/// Writes complete stored records keeping their creation and update times (the copy from
/// SQLite); ids that exist already are merged with the stored rows instead.
pub(crate) async fn copy_rows<E: Entity>(
    transaction: &Transaction<'_>,
    project_id: &str,
    mut records: Vec<(E, Micros, Micros)>,
) -> Result<i64> {
    for (record, _, _) in records.iter_mut() {
        record.clean();
    }
    records.sort_by(|a, b| a.0.id().cmp(b.0.id()));
    records.dedup_by(|a, b| a.0.id() == b.0.id());
    let refs: Vec<&E> = records.iter().map(|(r, _, _)| r).collect();
    let created: Vec<Micros> = records.iter().map(|(_, c, _)| *c).collect();
    let updated: Vec<Micros> = records.iter().map(|(_, _, u)| *u).collect();
    let now = now_micros();
    let inserted = insert_rows(
        transaction,
        project_id,
        &refs,
        now,
        Some((&created, &updated)),
    )
    .await?;
    let (new, existing): (Vec<E>, Vec<E>) = records
        .into_iter()
        .map(|(r, _, _)| r)
        .partition(|r| inserted.contains(r.id()));
    let mut changes = Changes::default();
    for record in &new {
        changes.search.inserted(record.search_text());
        E::roll(&mut changes.rollups, project_id, None, Some(record));
    }
    let copied = i64::try_from(inserted.len()).unwrap_or(i64::MAX);
    let merged = merge_rows(
        transaction,
        project_id,
        &existing,
        now,
        &|_| {},
        &mut changes,
    )
    .await?;
    changes.flush(transaction, project_id).await?;
    Ok(copied + merged)
}

/// Shards of each project's counters (see migration 0005).
const COUNTER_SHARDS: u8 = 16;

/// Adds to the project's trace and observation counts, in a random shard.
pub(crate) async fn add_counts(
    transaction: &Transaction<'_>,
    project_id: &str,
    traces: i64,
    observations: i64,
) -> Result<()> {
    if traces == 0 && observations == 0 {
        return Ok(());
    }
    let shard = i16::from(rand::random::<u8>() % COUNTER_SHARDS);
    let statement = transaction
        .prepare_cached(
            "INSERT INTO project_counts (project_id, shard, traces, observations)
             VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, shard) DO UPDATE
             SET traces = project_counts.traces + excluded.traces,
                 observations = project_counts.observations + excluded.observations",
        )
        .await
        .map_err(pg_error)?;
    transaction
        .execute(&statement, &[&project_id, &shard, &traces, &observations])
        .await
        .map_err(pg_error)?;
    Ok(())
}

/// An error for writes that arrive after shutdown.
pub(crate) fn store_closed() -> Error {
    Error::new(
        spindle_core::ErrorKind::Unavailable,
        "the store is shutting down",
    )
}
