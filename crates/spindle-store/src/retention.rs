//! Per-project retention: traces older than a project's `retention_days` are deleted with
//! their observations and scores, a small batch at a time, through
//! [`Store::delete_older_than`], so ingestion never waits behind one long delete. The history
//! of dataset items is bounded by the same window: versions that no read from the cutoff on
//! needs and no run item ran on go through [`Datasets::prune_item_versions`].

use spindle_core::time::Micros;
use std::sync::Arc;
use std::time::Duration;

use crate::datasets::Datasets;
use crate::{Result, Store};

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// How retention runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionOptions {
    /// Traces deleted per call (and transaction).
    pub batch_traces: u32,
    /// Dataset item versions deleted per statement.
    pub batch_item_versions: u32,
    /// Pause between batches, leaving room for ingestion.
    pub pause: Duration,
}

impl Default for RetentionOptions {
    fn default() -> Self {
        RetentionOptions {
            batch_traces: 200,
            batch_item_versions: 1000,
            pause: Duration::from_millis(20),
        }
    }
}

/// Deletes every project's data older than its retention, as of `now`: traces, and the
/// dataset item versions only earlier reads needed; returns how many traces went.
pub async fn enforce(
    store: &dyn Store,
    datasets: &dyn Datasets,
    now: Micros,
    options: RetentionOptions,
) -> Result<u64> {
    let mut deleted = 0;
    for project in store.list_projects().await? {
        let Some(days) = project.retention_days.filter(|days| *days > 0) else {
            continue;
        };
        let cutoff = now.saturating_sub(i64::from(days).saturating_mul(DAY_MICROS));
        let traces = in_batches(options.batch_traces, options.pause, |batch| {
            store.delete_older_than(&project.id, cutoff, batch)
        })
        .await?;
        if traces > 0 {
            tracing::info!(project = %project.id, days, deleted = traces, "retention deleted old traces");
        }
        deleted += traces;
        let pruned = in_batches(options.batch_item_versions, options.pause, |batch| {
            datasets.prune_item_versions(&project.id, cutoff, batch)
        })
        .await?;
        if pruned > 0 {
            tracing::info!(project = %project.id, days, pruned, "retention pruned dataset item versions");
        }
    }
    Ok(deleted)
}

/// Calls `delete` (which removes at most the batch it is given) until it removes less than a
/// whole batch, pausing between calls; how many rows went.
async fn in_batches<F, Deleting>(batch: u32, pause: Duration, mut delete: F) -> Result<u64>
where
    F: FnMut(u32) -> Deleting,
    Deleting: std::future::Future<Output = Result<u64>>,
{
    let batch = batch.max(1);
    let mut total = 0;
    loop {
        let removed = delete(batch).await?;
        total += removed;
        if removed < u64::from(batch) {
            return Ok(total);
        }
        tokio::time::sleep(pause).await;
    }
}

/// Runs [`enforce`] every `every` until the store shuts down (errors are logged and retried
/// at the next round). Several instances may run it at once: deletes are idempotent.
pub async fn run(
    store: Arc<dyn Store>,
    datasets: Arc<dyn Datasets>,
    every: Duration,
    options: RetentionOptions,
) {
    loop {
        let now = spindle_core::time::now_micros();
        if let Err(error) = enforce(store.as_ref(), datasets.as_ref(), now, options).await {
            if store.ready().await.is_err() {
                return;
            }
            tracing::warn!(%error, "retention round failed");
        }
        tokio::time::sleep(every).await;
    }
}
