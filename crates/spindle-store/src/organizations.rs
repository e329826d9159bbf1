//! Organizations' administration: organization API keys, projects with their metadata and
//! lifecycle, and the background purge of deleted projects.
//!
//! A deleted project is marked at once (`deleted_at`): it is no longer listed nor read, and
//! its keys are gone in the same transaction. Its data goes afterwards, a batch per
//! transaction ([`purge`]); what is left to purge is read from the projects table each
//! round, so a restart carries on where the last one stopped.

use spindle_core::time::Micros;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::secret::ServerSecret;
use crate::{check_secret, Project, Result, SecretCheck, Store};

/// An organization-scoped API key pair: it authenticates the administration API of its
/// organization and nothing else. Only a hash of the secret key is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationApiKey {
    pub public_key: String,
    pub organization_id: String,
    /// Hashed like a project key's secret ([`crate::ApiKey::hash_secret`]).
    pub secret_hash: String,
    /// The last four characters of the secret key.
    pub secret_hint: String,
    pub note: Option<String>,
    pub created_at: Micros,
    pub revoked_at: Option<Micros>,
}

impl OrganizationApiKey {
    pub fn summary(&self) -> crate::KeySummary<'_> {
        crate::KeySummary {
            public_key: &self.public_key,
            secret_hint: &self.secret_hint,
            note: self.note.as_deref(),
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }
    }

    /// Whether `secret_key` is this key's secret.
    pub fn matches(&self, server_secret: &ServerSecret, secret_key: &str) -> bool {
        check_secret(
            server_secret,
            &self.public_key,
            &self.secret_hash,
            secret_key,
        ) != SecretCheck::Wrong
    }
}

/// A project as the administration API shows it: with its metadata (a JSON object, as
/// text) and when it last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectDetails {
    pub project: Project,
    pub metadata: Option<String>,
    pub updated_at: Micros,
}

/// A change of a project; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the retention (keeps everything).
    pub retention_days: Option<Option<u32>>,
    pub metadata: Option<String>,
}

/// How the purge of deleted projects runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeOptions {
    /// Rows deleted per table and transaction.
    pub batch_rows: u32,
    /// Pause between batches, leaving room for ingestion: at least this long.
    pub pause: Duration,
    /// And at least this many times as long as the batch took, so the purge holds the
    /// database for at most 1 / (1 + n) of the time however slow it is under load.
    pub pause_per_batch_time: u32,
}

impl Default for PurgeOptions {
    fn default() -> Self {
        PurgeOptions {
            batch_rows: 500,
            pause: Duration::from_millis(20),
            pause_per_batch_time: 4,
        }
    }
}

/// Removes the data of every deleted project, a batch at a time, until none is left;
/// returns how many rows went. Each project is marked purged in the transaction that finds
/// it empty. Several instances may run it at once: every batch deletes what is there.
pub async fn purge(store: &dyn Store, options: PurgeOptions) -> Result<u64> {
    let mut removed = 0;
    for project_id in store.projects_to_purge().await? {
        loop {
            let started = Instant::now();
            let batch = store
                .purge_project_batch(&project_id, options.batch_rows.max(1))
                .await?;
            if batch == 0 {
                break;
            }
            removed += batch;
            let paced = started.elapsed() * options.pause_per_batch_time;
            tokio::time::sleep(options.pause.max(paced)).await;
        }
        tracing::info!(project = %project_id, removed, "deleted project purged");
    }
    Ok(removed)
}

/// Runs [`purge`] now, then whenever `wakeup` is notified or `every` passed, until the
/// store shuts down (errors are logged and retried at the next round).
pub async fn run_purge(
    store: Arc<dyn Store>,
    every: Duration,
    options: PurgeOptions,
    wakeup: Arc<tokio::sync::Notify>,
) {
    loop {
        if let Err(error) = purge(store.as_ref(), options).await {
            if store.ready().await.is_err() {
                return;
            }
            tracing::warn!(%error, "project purge round failed");
        }
        tokio::select! {
            () = wakeup.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}
