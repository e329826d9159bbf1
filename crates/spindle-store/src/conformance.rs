//! The store conformance suite: the behaviour every [`Store`] backend must have, run as one
//! `#[tokio::test]` per case by [`conformance_suite!`](crate::conformance_suite).
//!
//! A backend's test file passes a constructor, a closure from [`OpenOptions`] to a future of
//! the store:
//!
//! ```text
//! spindle_store::conformance_suite!(|options: spindle_store::conformance::OpenOptions| async move {
//!     let mut sqlite = SqliteOptions::default();
//!     if let Some(capacity) = options.queue_capacity {
//!         sqlite.queue_capacity = capacity;
//!     }
//!     SqliteStore::open(&options.dir, sqlite).expect("open the store")
//! });
//! ```

pub mod accounts;
mod cases;
mod cost;
mod daily_metrics;
pub mod datasets;
pub mod fixtures;
mod metrics;
pub mod organizations;
pub mod prompts;
pub mod reviews;
mod rollup_metrics;
mod rollups;
pub mod score_configs;

pub use cases::*;
pub use cost::*;
pub use daily_metrics::*;
pub use metrics::*;
pub use rollup_metrics::*;
pub use rollups::*;

use crate::Store;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// What a case asks of the backend's constructor.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// A directory private to the case; opening it again reopens the same data.
    pub dir: PathBuf,
    /// A write-queue capacity to use instead of the default (the overload case sets 1).
    pub queue_capacity: Option<usize>,
    /// A time limit of metrics queries to use instead of the backend's default.
    pub metrics_time_limit: Option<std::time::Duration>,
}

/// A backend constructor; implemented by every `Fn(OpenOptions) -> impl Future<Output = S>`.
pub trait Constructor: Send + Sync {
    fn open(&self, options: OpenOptions) -> Pin<Box<dyn Future<Output = Arc<dyn Store>> + Send>>;
}

impl<F, Fut, S> Constructor for F
where
    F: Fn(OpenOptions) -> Fut + Send + Sync,
    Fut: Future<Output = S> + Send + 'static,
    S: Store,
{
    fn open(&self, options: OpenOptions) -> Pin<Box<dyn Future<Output = Arc<dyn Store>> + Send>> {
        let future = self(options);
        Box::pin(async move { Arc::new(future.await) as Arc<dyn Store> })
    }
}

/// One case's environment: the constructor and a private temporary directory.
pub struct Harness {
    constructor: Box<dyn Constructor>,
    dir: tempfile::TempDir,
}

impl Harness {
    /// Panics when no temporary directory can be made (this is test support code).
    pub fn new(constructor: impl Constructor + 'static) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("spindle-conformance-")
            .tempdir()
            .expect("create a temporary directory");
        Harness {
            constructor: Box::new(constructor),
            dir,
        }
    }

    /// Opens the case's store with default options.
    pub async fn open(&self) -> Arc<dyn Store> {
        self.constructor
            .open(OpenOptions {
                dir: self.dir.path().to_path_buf(),
                queue_capacity: None,
                metrics_time_limit: None,
            })
            .await
    }

    /// Opens the case's store with metrics queries limited to `limit`.
    pub async fn open_with_metrics_limit(&self, limit: std::time::Duration) -> Arc<dyn Store> {
        self.constructor
            .open(OpenOptions {
                dir: self.dir.path().to_path_buf(),
                queue_capacity: None,
                metrics_time_limit: Some(limit),
            })
            .await
    }

    /// Opens the case's store with a write queue of `capacity` batches.
    pub async fn open_with_queue(&self, capacity: usize) -> Arc<dyn Store> {
        self.constructor
            .open(OpenOptions {
                dir: self.dir.path().to_path_buf(),
                queue_capacity: Some(capacity),
                metrics_time_limit: None,
            })
            .await
    }
}

/// Expands to one `#[tokio::test]` per conformance case for the backend built by
/// `$constructor` (see the module docs). The calling crate needs `tokio` with `macros` and
/// `rt-multi-thread`.
#[macro_export]
macro_rules! conformance_suite {
    ($constructor:expr) => {
        $crate::__conformance_cases!(
            $constructor;
            round_trip_every_field,
            payloads_and_shared_metadata_read_as_written,
            trace_tree_leaves_out_payloads,
            merge_across_separate_writes,
            order_and_splits_do_not_matter,
            project_isolation,
            trace_query_parameters,
            trace_filters,
            traces_by_score_range,
            invalid_filters_name_the_field,
            trace_ordering_and_pagination,
            trace_search,
            trace_search_covers_metadata,
            tag_and_metadata_filters_follow_writes,
            index_term_combinations_count_exactly,
            derived_trace_fields,
            observation_queries,
            observation_cursor_visits_every_row_once,
            observation_and_score_ordering,
            scores_of_every_data_type,
            sessions,
            daily_metrics,
            daily_metrics_from_rollups_equal_the_raw_rows,
            delete_traces_and_scores,
            projects_and_keys,
            a_project_and_its_key_are_created_together,
            media,
            overload_is_reported_and_acknowledged_writes_persist,
            shutdown_commits_queued_writes,
            cost_from_builtin_prices,
            inferred_usage_with_tokenizer,
            custom_models_and_builtin_switch,
            recompute_costs_over_a_range,
            metrics_counts_sums_and_percentiles,
            metrics_time_buckets_fill_the_range,
            metrics_filters_ordering_and_limits,
            metrics_histograms_and_scores,
            metrics_stop_at_their_time_limit,
            rollups_hold_counts_tokens_cost_and_latency,
            rollups_equal_a_rebuild_after_every_change,
            metrics_from_rollups_equal_the_raw_rows,
            metrics_by_trace_attribute_equal_the_raw_rows,
            metrics_by_rolled_metadata_equal_the_raw_rows,
            trace_metrics_from_totals_equal_the_raw_rows,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($constructor:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let harness = $crate::conformance::Harness::new($constructor);
                $crate::conformance::$case(&harness).await;
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per case of the suite module `$module` (prompts,
/// datasets), each on a store opened by `$open` from a private directory and shut down after
/// the case. The calling crate needs `tokio` with `macros` and `rt-multi-thread`.
#[doc(hidden)]
#[macro_export]
macro_rules! __module_conformance_cases {
    ($module:ident, $open:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let dir = $crate::conformance::accounts::case_dir();
                let store = std::sync::Arc::new(($open)(dir.path().to_path_buf()).await);
                $crate::conformance::$module::$case(store.clone()).await;
                $crate::Store::shutdown(store.as_ref()).await.expect("shutdown");
            }
        )*
    };
}
