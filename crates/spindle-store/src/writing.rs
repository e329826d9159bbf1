//! The write steps written once for both backends: each runs in one transaction of a
//! [`WriteConnection`], which a backend implements with how it executes (SQLite on its
//! writer's connection, PostgreSQL on a pooled connection's transaction, locking the
//! `trace_totals` rows it recomputes). The backend opens and commits the transaction around
//! a step; [`reprice_in_chunks`] loops over the chunks of a cost recomputation, the metadata
//! sweep's caller over its steps.

use std::future::Future;

use spindle_core::time::Micros;
use spindle_cost::Pricer;

use crate::metadata_rollups::{self, SweepStep};
use crate::models_sql::{self, Position};
use crate::reading::ReadConnection;
use crate::rollups::Rollups;
use crate::rollups_sql::{self, RolledUp};
use crate::sql::{rows, Sql};
use crate::trace_totals::TotalsChange;
use crate::{Error, Result};

/// Observations repriced per transaction by [`reprice_chunk`]: ingestion goes on in between
/// (SQLite's writer) and row locks are held briefly (PostgreSQL).
pub const RECOMPUTE_CHUNK: u32 = 500;

/// One transaction the shared write steps run in.
#[allow(async_fn_in_trait)]
pub trait WriteConnection: ReadConnection {
    /// Runs a statement that writes; the rows it changed.
    async fn execute(&self, sql: &Sql) -> Result<u64>;

    /// Recomputes (or deletes) the `trace_totals` rows of `trace_ids`, their change added to
    /// `rollups` ([`crate::trace_totals::apply`], after the backend's row locks).
    async fn apply_totals(
        &self,
        project_id: &str,
        trace_ids: &[String],
        change: TotalsChange,
        rollups: &mut Rollups,
    ) -> Result<()>;

    /// Adds the changes gathered in `rollups` to the rollup tables.
    async fn add_rollups(&self, project_id: &str, rollups: &mut Rollups) -> Result<()>;
}

/// Reprices the next chunk of the project's observations in `range` after `after` with the
/// current prices, refreshing their traces' totals and the rollups: the observations whose
/// cost changed and where the next chunk starts (`None` after the last).
pub async fn reprice_chunk(
    tx: &impl WriteConnection,
    pricer: &Pricer,
    project_id: &str,
    range: (Micros, Micros),
    after: Option<Position>,
) -> Result<(u64, Option<Position>)> {
    let repriced =
        models_sql::recompute_chunk(tx, pricer, project_id, range, after, RECOMPUTE_CHUNK).await?;
    for update in &repriced.statements {
        tx.execute(update).await?;
    }
    let mut rollups = Rollups::default();
    tx.apply_totals(
        project_id,
        &repriced.trace_ids,
        TotalsChange::Refresh,
        &mut rollups,
    )
    .await?;
    tx.add_rollups(project_id, &mut rollups).await?;
    Ok((repriced.changed, repriced.next))
}

/// Reprices the project's observations in `range` chunk after chunk, `reprice` running the
/// chunk after a position ([`reprice_chunk`], in a transaction of its own): the observations
/// whose cost changed.
pub async fn reprice_in_chunks<Chunk>(
    from: Option<Micros>,
    to: Option<Micros>,
    mut reprice: impl FnMut((Micros, Micros), Option<Position>) -> Chunk,
) -> Result<u64>
where
    Chunk: Future<Output = Result<(u64, Option<Position>)>>,
{
    let range = (from.unwrap_or(Micros::MIN), to.unwrap_or(Micros::MAX));
    let mut after = None;
    let mut changed = 0;
    loop {
        let (count, next) = reprice(range, after).await?;
        changed += count;
        if next.is_none() {
            return Ok(changed);
        }
        after = next;
    }
}

/// Stores the bytes of a media record and marks it uploaded at `at` (HTTP 200); `NotFound`
/// when there is no such record.
pub async fn put_media_bytes(
    tx: &impl WriteConnection,
    project_id: &str,
    media_id: &str,
    bytes: Vec<u8>,
    at: Micros,
) -> Result<()> {
    let dialect = tx.dialect();
    let uploaded = rows::mark_media_uploaded(dialect, project_id, media_id, at, Some(200));
    if tx.execute(&uploaded).await? == 0 {
        return Err(Error::not_found(format!("media {media_id:?}")));
    }
    tx.execute(&rows::put_media_bytes(dialect, project_id, media_id, bytes))
        .await?;
    Ok(())
}

/// One step of the project's metadata rollup sweep ([`metadata_rollups::next_step`]): the
/// traces it recomputed, `None` when no sweep runs or this step finished it.
pub async fn sweep_metadata_step(
    tx: &impl WriteConnection,
    project_id: &str,
    max_traces: u32,
) -> Result<Option<usize>> {
    match metadata_rollups::next_step(tx, project_id, max_traces).await? {
        SweepStep::Idle => Ok(None),
        SweepStep::Done { finish } => {
            for statement in &finish {
                tx.execute(statement).await?;
            }
            Ok(None)
        }
        SweepStep::Chunk { trace_ids, advance } => {
            let mut rollups = Rollups::default();
            tx.apply_totals(project_id, &trace_ids, TotalsChange::Refresh, &mut rollups)
                .await?;
            tx.add_rollups(project_id, &mut rollups).await?;
            tx.execute(&advance).await?;
            Ok(Some(trace_ids.len()))
        }
    }
}

/// Deletes one score, taking it out of the rollups and its trace's totals row; whether it
/// existed.
pub async fn delete_score(
    tx: &impl WriteConnection,
    project_id: &str,
    score_id: &str,
) -> Result<bool> {
    let mut rollups = Rollups::default();
    let delete = rollups_sql::delete_returning(
        tx.dialect(),
        RolledUp::Scores,
        project_id,
        "id",
        &[score_id.to_owned()],
    );
    let deleted =
        rollups_sql::subtract_deleted(tx, RolledUp::Scores, project_id, &delete, &mut rollups)
            .await?;
    // Its trace's totals row (score breakdown) recomputed without it.
    let traces: Vec<String> = std::mem::take(&mut rollups.observation_traces)
        .into_iter()
        .collect();
    tx.apply_totals(project_id, &traces, TotalsChange::Refresh, &mut rollups)
        .await?;
    tx.add_rollups(project_id, &mut rollups).await?;
    Ok(deleted > 0)
}
