//! Experiments as `GET /api/public/experiments` and `/api/public/experiment-items` read them:
//! an experiment is a dataset run, an experiment item one of its run items, both seen within
//! a time range of the run items' creation. The query and result types; the statements are in
//! `datasets_sql/experiments.rs`.

use spindle_core::dataset::{DatasetRun, DatasetRunItem};
use spindle_core::time::Micros;

use crate::datasets::PageRequest;

/// The experiments (runs) with run items created in `[from, to)`; every list given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExperimentQuery {
    pub page: PageRequest,
    pub from: Micros,
    pub to: Option<Micros>,
    /// Run ids.
    pub ids: Vec<String>,
    /// Run names.
    pub names: Vec<String>,
    pub dataset_ids: Vec<String>,
}

/// A run with what it did in the queried range.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub run: DatasetRun,
    /// The first and last creation time of its run items in the range.
    pub start_time: Micros,
    pub end_time: Micros,
    pub item_count: u64,
}

/// The run items created in `[from, to)`; every list given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExperimentItemQuery {
    pub page: PageRequest,
    pub from: Micros,
    pub to: Option<Micros>,
    /// Run ids.
    pub experiment_ids: Vec<String>,
    /// Run names.
    pub experiment_names: Vec<String>,
    /// Dataset item ids.
    pub item_ids: Vec<String>,
    pub dataset_ids: Vec<String>,
}

/// A run item with its run, its dataset item and its trace (JSON text as stored).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentItem {
    pub run_item: DatasetRunItem,
    pub dataset_id: String,
    pub run_description: Option<String>,
    pub run_metadata: Option<String>,
    pub item_input: Option<String>,
    pub item_expected_output: Option<String>,
    pub item_metadata: Option<String>,
    /// `None` when the trace is not stored.
    pub trace_input: Option<String>,
    pub trace_output: Option<String>,
    /// The trace's metadata map (JSON text of an object of JSON texts).
    pub trace_metadata: Option<String>,
    pub trace_environment: Option<String>,
}
