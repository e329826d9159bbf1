//! Per-project retention: traces older than a project's `retention_days` are deleted with
//! their observations and scores, a small batch at a time, through
//! [`Store::delete_older_than`], so ingestion never waits behind one long delete.

use spindle_core::time::Micros;
use std::sync::Arc;
use std::time::Duration;

use crate::{Result, Store};

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// How retention runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionOptions {
    /// Traces deleted per call (and transaction).
    pub batch_traces: u32,
    /// Pause between batches, leaving room for ingestion.
    pub pause: Duration,
}

impl Default for RetentionOptions {
    fn default() -> Self {
        RetentionOptions {
            batch_traces: 200,
            pause: Duration::from_millis(20),
        }
    }
}

/// Deletes every project's data older than its retention, as of `now`; returns how many
/// traces went.
pub async fn enforce(store: &dyn Store, now: Micros, options: RetentionOptions) -> Result<u64> {
    let mut deleted = 0;
    for project in store.list_projects().await? {
        let Some(days) = project.retention_days.filter(|days| *days > 0) else {
            continue;
        };
        let cutoff = now.saturating_sub(i64::from(days).saturating_mul(DAY_MICROS));
        loop {
            let batch = store
                .delete_older_than(&project.id, cutoff, options.batch_traces.max(1))
                .await?;
            deleted += batch;
            if batch < u64::from(options.batch_traces.max(1)) {
                break;
            }
            tokio::time::sleep(options.pause).await;
        }
        if deleted > 0 {
            tracing::info!(project = %project.id, days, deleted, "retention deleted old traces");
        }
    }
    Ok(deleted)
}

/// Runs [`enforce`] every `every` until the store shuts down (errors are logged and retried
/// at the next round). Several instances may run it at once: deletes are idempotent.
pub async fn run(store: Arc<dyn Store>, every: Duration, options: RetentionOptions) {
    loop {
        if let Err(error) = enforce(store.as_ref(), crate::now_micros(), options).await {
            if store.ready().await.is_err() {
                return;
            }
            tracing::warn!(%error, "retention round failed");
        }
        tokio::time::sleep(every).await;
    }
}
