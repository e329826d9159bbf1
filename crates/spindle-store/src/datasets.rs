//! Datasets: the [`Datasets`] trait (datasets by name, their items, runs that link items to
//! traces) and its query types.
//!
//! Both backends implement it with the same statements (`datasets_sql.rs`). Separate from
//! [`crate::Store`]: the ingest path never needs it.

use async_trait::async_trait;
use spindle_core::dataset::{
    Dataset, DatasetItem, DatasetRun, DatasetRunItem, NewDataset, NewDatasetItem, NewRunItem,
};

use crate::audit::Actor;
use crate::experiments::{Experiment, ExperimentItem, ExperimentItemQuery, ExperimentQuery};
use crate::run_metrics::{RunAggregates, RunComparison};
use crate::{MediaRecord, Page, Result};

/// A page request: `page` from 1, `limit` rows (0: the default of 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
}

/// `GET /api/public/dataset-items` parameters: every filter given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DatasetItemQuery {
    pub page: PageRequest,
    pub dataset_name: Option<String>,
    pub source_trace_id: Option<String>,
    pub source_observation_id: Option<String>,
    /// Read the items as they were at this time (microseconds): items deleted by then are
    /// gone, each other item has the state of its last write up to then.
    pub version: Option<i64>,
}

/// A dataset with the number of its items (archived ones too) and of its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSummary {
    pub dataset: Dataset,
    pub item_count: u64,
    pub run_count: u64,
}

pub use spindle_core::dataset::ITEM_MEDIA_FIELDS;

/// Media registered for a dataset item: the item need not exist yet (the SDKs upload before
/// they create it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMediaLink {
    pub dataset_id: String,
    pub dataset_item_id: String,
    pub media_id: String,
    /// One of [`ITEM_MEDIA_FIELDS`].
    pub field: String,
}

/// Storage of datasets, their items and runs. Lists are newest first. A dataset, item or run
/// of another project is never seen: it is as absent as one that does not exist.
#[async_trait]
pub trait Datasets: Send + Sync + 'static {
    /// Creates the dataset, or updates the one of that name with what the request gives.
    async fn upsert_dataset(&self, project_id: &str, dataset: &NewDataset) -> Result<Dataset>;

    async fn get_dataset(&self, project_id: &str, name: &str) -> Result<Option<Dataset>>;

    async fn list_datasets(&self, project_id: &str, page: PageRequest) -> Result<Page<Dataset>>;

    /// [`list_datasets`](Self::list_datasets) with each dataset's item and run counts, in one
    /// statement (and the total in a second).
    async fn list_dataset_summaries(
        &self,
        project_id: &str,
        page: PageRequest,
    ) -> Result<Page<DatasetSummary>>;

    /// Creates an item, or updates the item its id names. Fails with `NotFound` when the
    /// dataset does not exist and with `InvalidArgument` when the id names an item of another
    /// dataset.
    async fn upsert_dataset_item(
        &self,
        project_id: &str,
        item: &NewDatasetItem,
    ) -> Result<DatasetItem>;

    async fn get_dataset_item(&self, project_id: &str, id: &str) -> Result<Option<DatasetItem>>;

    /// Fails with `NotFound` when the query names a dataset that does not exist.
    async fn list_dataset_items(
        &self,
        project_id: &str,
        query: &DatasetItemQuery,
    ) -> Result<Page<DatasetItem>>;

    /// Deletes an item, its run items and its media links; `false` when there was no such
    /// item. The deletion is in the audit log, by `by`, in the same transaction.
    async fn delete_dataset_item(&self, project_id: &str, id: &str, by: &Actor) -> Result<bool>;

    /// Records that media was uploaded for an item (once per item, media and field). Fails
    /// with `NotFound` when the project has no dataset of that id.
    async fn link_item_media(&self, project_id: &str, link: &ItemMediaLink) -> Result<()>;

    /// The media links of an item, by media id then field.
    async fn item_media_links(&self, project_id: &str, item_id: &str)
        -> Result<Vec<ItemMediaLink>>;

    /// The media among `media_ids` whose content was uploaded: what the references in items'
    /// fields resolve to.
    async fn uploaded_media(
        &self,
        project_id: &str,
        media_ids: &[String],
    ) -> Result<Vec<MediaRecord>>;

    /// Deletes up to `max_rows` item versions that no answer from `cutoff` on needs: versions
    /// another version replaced by then, and tombstones by then with nothing before them. A
    /// version a run item ran on is kept. Returns how many went.
    async fn prune_item_versions(
        &self,
        project_id: &str,
        cutoff: i64,
        max_rows: u32,
    ) -> Result<u64>;

    /// Links a trace to an item under a run, creating the run on first use. The trace need
    /// not exist yet. Fails with `NotFound` when the item does not exist (or the observation
    /// that should give the trace id), and with `InvalidArgument` when the item is archived
    /// or neither a trace nor an observation is named.
    async fn create_run_item(&self, project_id: &str, item: &NewRunItem) -> Result<DatasetRunItem>;

    /// The runs of a dataset; `None` when the dataset does not exist.
    async fn list_dataset_runs(
        &self,
        project_id: &str,
        dataset_name: &str,
        page: PageRequest,
    ) -> Result<Option<Page<DatasetRun>>>;

    /// A run of a dataset and all its items; `None` when either does not exist.
    async fn get_dataset_run(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_name: &str,
    ) -> Result<Option<(DatasetRun, Vec<DatasetRunItem>)>>;

    /// Deletes a run and its items; `false` when there was no such run. The deletion is in
    /// the audit log, by `by`, in the same transaction.
    async fn delete_dataset_run(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_name: &str,
        by: &Actor,
    ) -> Result<bool>;

    /// The items of the run `run_name` of the dataset with id `dataset_id`; `None` when the
    /// run does not exist.
    async fn list_run_items(
        &self,
        project_id: &str,
        dataset_id: &str,
        run_name: &str,
        page: PageRequest,
    ) -> Result<Option<Page<DatasetRunItem>>>;

    /// A run's aggregates over all its items (latency, cost, tokens, score summaries); `None`
    /// when the dataset or the run does not exist.
    async fn run_aggregates(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_name: &str,
    ) -> Result<Option<RunAggregates>>;

    /// A page of the dataset items any of the named runs (1 to
    /// [`MAX_COMPARED_RUNS`](crate::run_metrics::MAX_COMPARED_RUNS)) ran, each with every
    /// run's latest run item for it: metrics, output and scores. `None` when the dataset does
    /// not exist; fails with `NotFound` naming a run that does not.
    async fn compare_runs(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_names: &[String],
        page: PageRequest,
    ) -> Result<Option<RunComparison>>;

    /// The runs with run items created in the query's range, latest activity first.
    async fn list_experiments(
        &self,
        project_id: &str,
        query: &ExperimentQuery,
    ) -> Result<Page<Experiment>>;

    /// The run items created in the query's range, newest first, with their run, dataset item
    /// and trace.
    async fn list_experiment_items(
        &self,
        project_id: &str,
        query: &ExperimentItemQuery,
    ) -> Result<Page<ExperimentItem>>;
}
