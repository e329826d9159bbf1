//! Prompt management: the [`Prompts`] trait (versions of text and chat prompts, labels that
//! one version holds at a time, tags per prompt, references between prompts resolved on
//! read) and its query and list types.
//!
//! Both backends implement it with the same statements (`prompts_sql.rs`). Separate from
//! [`crate::Store`]: the ingest path never needs it.

use async_trait::async_trait;
use spindle_core::prompt::{NewPrompt, PromptSelector, PromptType, PromptVersion, ResolvedPrompt};
use spindle_core::time::Micros;
use std::collections::HashMap;

use crate::audit::Actor;
use crate::{Page, Result};

/// `GET /api/public/v2/prompts` parameters: every filter applies to versions, and a prompt
/// is listed with the versions that pass them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromptQuery {
    /// Starts at 1.
    pub page: u32,
    pub limit: u32,
    pub name: Option<String>,
    /// Names that contain this text, ignoring ASCII case (the web UI's search; a folder is
    /// searched as `folder/`).
    pub search: Option<String>,
    pub version: Option<i64>,
    pub label: Option<String>,
    pub tag: Option<String>,
    /// Versions created or updated at or after this time.
    pub from_updated_at: Option<Micros>,
    /// Versions created or updated before this time.
    pub to_updated_at: Option<Micros>,
}

/// One prompt of a list: the versions that matched, with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMeta {
    pub name: String,
    pub prompt_type: PromptType,
    /// Ascending.
    pub versions: Vec<i64>,
    /// The labels of the listed versions, sorted.
    pub labels: Vec<String>,
    /// Sorted.
    pub tags: Vec<String>,
    pub last_updated_at: Micros,
    /// JSON text: the config of the newest listed version.
    pub last_config: String,
}

/// What the generations that used one version of a prompt add up to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromptVersionMetrics {
    pub version: i64,
    /// Observations linked to the version.
    pub generations: u64,
    /// Nearest-rank latency percentiles in seconds, over the generations with a start and
    /// an end time (`None` without any).
    pub latency_p50: Option<f64>,
    pub latency_p90: Option<f64>,
    pub latency_p99: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub total_cost: f64,
    /// The earliest and latest start time of its generations.
    pub first_used: Option<Micros>,
    pub last_used: Option<Micros>,
    /// Numeric scores of its generations and of the traces that hold them, by name.
    pub scores: Vec<ScoreAverage>,
}

/// The mean of the numeric scores of one name.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreAverage {
    pub name: String,
    pub average: f64,
    pub count: u64,
}

/// Storage of prompts.
#[async_trait]
pub trait Prompts: Send + Sync + 'static {
    /// Stores the next version of a prompt (version 1 for a new name), labelled `latest` and
    /// with the labels asked for (which leave the versions that held them), in one
    /// transaction. Fails with `InvalidArgument` when the prompt existed with another type, or
    /// when a reference in its content is missing, not a text prompt, circular or nested too
    /// deeply. Returns the stored version, references intact. When labels are asked for
    /// (besides `latest`), their move is in the audit log, by `by`, in the same transaction.
    async fn create_prompt(
        &self,
        project_id: &str,
        prompt: &NewPrompt,
        created_by: &str,
        by: &Actor,
    ) -> Result<PromptVersion>;

    /// The version of a prompt that `selector` names; with `resolve`, its references replaced
    /// by the prompts they name (and the graph of what was embedded).
    async fn get_prompt(
        &self,
        project_id: &str,
        name: &str,
        selector: &PromptSelector,
        resolve: bool,
    ) -> Result<Option<ResolvedPrompt>>;

    /// Prompts with the versions that pass the query's filters, by name.
    async fn list_prompts(&self, project_id: &str, query: &PromptQuery)
        -> Result<Page<PromptMeta>>;

    /// Gives a version these labels too (each leaves the version that held it); `None` when
    /// the version does not exist. The change is in the audit log, by `by`, in the same
    /// transaction (as for every change below).
    async fn add_prompt_labels(
        &self,
        project_id: &str,
        name: &str,
        version: i64,
        labels: &[String],
        by: &Actor,
    ) -> Result<Option<PromptVersion>>;

    /// Takes `label` from the version (nothing when it does not hold it); `None` when the
    /// version does not exist. Fails with `InvalidArgument` for `latest`, and when another
    /// prompt references the prompt by this label.
    async fn remove_prompt_label(
        &self,
        project_id: &str,
        name: &str,
        version: i64,
        label: &str,
        by: &Actor,
    ) -> Result<Option<PromptVersion>>;

    /// Deletes a prompt's versions: all of them, or the one `selector` names. When versions
    /// remain, the newest of them holds `latest`. Fails with `InvalidArgument` when another
    /// prompt references a version or label that would go. Returns how many versions went.
    async fn delete_prompt(
        &self,
        project_id: &str,
        name: &str,
        selector: Option<&PromptSelector>,
        by: &Actor,
    ) -> Result<u64>;

    /// Whether other processes may change the same prompts (several servers on one
    /// database): a cache in front of the reads must then expire soon.
    fn written_by_other_processes(&self) -> bool;

    /// Per version of prompt `name` that generations used, ascending: their count, latency
    /// percentiles, tokens, cost and score averages. One statement over the observations
    /// linked to the prompt (index `observations_by_prompt`).
    async fn prompt_metrics(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Vec<PromptVersionMetrics>>;

    /// The ids of the stored versions among `(name, version)` pairs (absent when not stored).
    async fn prompt_ids(
        &self,
        project_id: &str,
        versions: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), String>>;
}
