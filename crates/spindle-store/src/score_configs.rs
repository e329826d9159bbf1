//! Score configs: the [`ScoreConfigs`] trait (a project's configs, created, read, listed and
//! patched). Both backends implement it with the same statements (`score_configs_sql.rs`).
//! Separate from [`crate::Store`]: the ingest path reads configs through it only when a score
//! names one.

use async_trait::async_trait;
use spindle_core::score_config::{NewScoreConfig, ScoreConfig, ScoreConfigPatch};

use crate::datasets::PageRequest;
use crate::{Page, Result};

/// Storage of score configs. A config of another project is never seen: it is as absent as
/// one that does not exist. Lists are newest first.
#[async_trait]
pub trait ScoreConfigs: Send + Sync + 'static {
    /// Stores a config (checked by [`NewScoreConfig::checked`] first) with a new id.
    async fn create_score_config(
        &self,
        project_id: &str,
        config: &NewScoreConfig,
    ) -> Result<ScoreConfig>;

    async fn get_score_config(&self, project_id: &str, id: &str) -> Result<Option<ScoreConfig>>;

    async fn list_score_configs(
        &self,
        project_id: &str,
        page: PageRequest,
    ) -> Result<Page<ScoreConfig>>;

    /// The configs of `ids` that exist (in no particular order), in one read.
    async fn score_configs_by_ids(
        &self,
        project_id: &str,
        ids: &[String],
    ) -> Result<Vec<ScoreConfig>>;

    /// Applies `patch` to the stored config, checked as a whole ([`ScoreConfig::patched`]):
    /// `None` when there is no such config, `InvalidArgument` when the result would be
    /// invalid. Concurrent patches of one config apply one after the other, each checked
    /// against the other's result.
    async fn update_score_config(
        &self,
        project_id: &str,
        id: &str,
        patch: &ScoreConfigPatch,
    ) -> Result<Option<ScoreConfig>>;
}
