//! Experiments: a task run over every item of a dataset (or of a plain list) with bounded
//! concurrency, each item traced as its own trace and linked to its dataset item by a run item,
//! evaluators scoring each item and the run as a whole, as the official SDKs'
//! `run_experiment` does.

mod result;

use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use futures::{FutureExt as _, StreamExt as _};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use spindle_semconv as semconv;

pub use result::{EvaluatorFailure, ExperimentResult, ItemResult, ScoreSummary};

use crate::client::Client;
use crate::dataset::{CreateDatasetRunItem, Dataset, DatasetItem, DatasetItemStatus};
use crate::json;
use crate::observation::{iso_micros, Level, Observation, ObservationType, ObservationUpdate};
use crate::propagation::{propagate_attributes_async, PropagatedAttributes};
use crate::score::Score;

/// Items run at once unless [`Experiment::max_concurrency`] says otherwise (Python's default).
pub const DEFAULT_MAX_CONCURRENCY: usize = 50;

/// The failure of an item whose input is `null`.
const MISSING_INPUT: &str = "the item has no input";

/// The environment of experiment traces.
const EXPERIMENT_ENVIRONMENT: &str = "sdk-experiment";

/// One input of an experiment, with the output expected for it: a dataset item, or an item of a
/// plain list.
///
/// ```
/// let item = spindle::ExperimentItem::new(&serde_json::json!({"country": "France"}))
///     .expected_output(&"Paris")
///     .metadata(&serde_json::json!({"continent": "Europe"}));
/// assert_eq!(item.expected_output, "Paris");
/// assert!(item.dataset_item_id.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExperimentItem {
    /// The task's input.
    pub input: Value,
    /// What the task should answer (`null` when unknown).
    pub expected_output: Value,
    /// Any JSON (`null` when none).
    pub metadata: Value,
    /// The dataset item it comes from; only such items get run items.
    pub dataset_item_id: Option<String>,
    /// The dataset it comes from.
    pub dataset_id: Option<String>,
}

impl ExperimentItem {
    /// An item with this input (`null` if it cannot be serialized).
    ///
    /// ```
    /// let item = spindle::ExperimentItem::new(&"What is 2 + 2?");
    /// assert_eq!(item.input, "What is 2 + 2?");
    /// ```
    pub fn new<T: Serialize + ?Sized>(input: &T) -> Self {
        Self {
            input: json::json_value(input, "experiment item input").unwrap_or_default(),
            expected_output: Value::Null,
            metadata: Value::Null,
            dataset_item_id: None,
            dataset_id: None,
        }
    }

    json_setters! {
        /// Sets the expected output.
        ///
        /// ```
        /// let _item = spindle::ExperimentItem::new(&"2 + 2").expected_output(&4);
        /// ```
        expected_output(expected_output) => expected_output = json::json_value(expected_output, "experiment item expected output").unwrap_or_default();

        /// Sets the metadata.
        ///
        /// ```
        /// let _item = spindle::ExperimentItem::new(&"2 + 2").metadata(&serde_json::json!({"k": 1}));
        /// ```
        metadata(metadata) => metadata = json::json_value(metadata, "experiment item metadata").unwrap_or_default();
    }

    /// The experiment item id: the dataset item's id, else the first 16 hex characters of the
    /// SHA-256 of the input's JSON text.
    fn item_id(&self) -> String {
        match &self.dataset_item_id {
            Some(id) => id.clone(),
            None => {
                let text = json::python_json(&self.input).unwrap_or_default();
                hex::encode(Sha256::digest(text.as_bytes()))[..16].to_owned()
            }
        }
    }
}

impl From<DatasetItem> for ExperimentItem {
    fn from(item: DatasetItem) -> Self {
        Self {
            input: item.input,
            expected_output: item.expected_output,
            metadata: item.metadata,
            dataset_item_id: Some(item.id),
            dataset_id: Some(item.dataset_id),
        }
    }
}

impl From<&DatasetItem> for ExperimentItem {
    fn from(item: &DatasetItem) -> Self {
        Self::from(item.clone())
    }
}

/// What an item-level evaluator gets: the item's input, the task's output, the expected output
/// and the item's metadata.
///
/// ```
/// let input = spindle::EvaluatorInput {
///     input: serde_json::json!("2 + 2"),
///     output: serde_json::json!(4),
///     expected_output: serde_json::json!(4),
///     metadata: serde_json::Value::Null,
/// };
/// assert_eq!(input.output, input.expected_output);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvaluatorInput {
    /// The item's input.
    pub input: Value,
    /// The task's output.
    pub output: Value,
    /// The item's expected output (`null` when none).
    pub expected_output: Value,
    /// The item's metadata (`null` when none).
    pub metadata: Value,
}

/// What an evaluator may return: one score, several, or none.
///
/// ```
/// use spindle::IntoEvaluations;
/// assert_eq!(spindle::Score::numeric("a", 1.0).into_evaluations().len(), 1);
/// assert!(None::<spindle::Score>.into_evaluations().is_empty());
/// ```
pub trait IntoEvaluations {
    /// The scores.
    fn into_evaluations(self) -> Vec<Score>;
}

impl IntoEvaluations for Score {
    fn into_evaluations(self) -> Vec<Score> {
        vec![self]
    }
}

impl IntoEvaluations for Vec<Score> {
    fn into_evaluations(self) -> Vec<Score> {
        self
    }
}

impl IntoEvaluations for Option<Score> {
    fn into_evaluations(self) -> Vec<Score> {
        self.into_iter().collect()
    }
}

type Evaluations = Pin<Box<dyn Future<Output = Result<Vec<Score>, String>> + Send>>;
/// An evaluator of `A` (an item's [`EvaluatorInput`], or every item's result), its name kept
/// next to it.
type Evaluator<A> = (String, Arc<dyn Fn(A) -> Evaluations + Send + Sync>);
type ItemEvaluator = Evaluator<EvaluatorInput>;
type RunEvaluator = Evaluator<Arc<[ItemResult]>>;

/// An evaluator function, boxed: its future boxed, its error turned into its message.
fn evaluator_of<A, F, Fut, R, E>(name: String, evaluator: F) -> Evaluator<A>
where
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoEvaluations,
    E: Display,
{
    let boxed = move |argument: A| -> Evaluations {
        let future = evaluator(argument);
        Box::pin(async move {
            future
                .await
                .map(IntoEvaluations::into_evaluations)
                .map_err(|error| error.to_string())
        })
    };
    (name, Arc::new(boxed))
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    format!("panicked: {message}")
}

/// An experiment to run: made by [`Client::experiment`], given items (a dataset's or a list),
/// evaluators and settings, then [`run`](Self::run) with the task.
///
/// ```
/// use spindle::{ExperimentItem, Score};
/// # async fn example() {
/// let result = spindle::get_client()
///     .experiment("arithmetic")
///     .items([ExperimentItem::new(&"2 + 2").expected_output(&"4")])
///     .max_concurrency(4)
///     .evaluator("exact-match", |evaluation| async move {
///         Ok::<_, std::convert::Infallible>(Score::boolean(
///             "exact-match",
///             evaluation.output == evaluation.expected_output,
///         ))
///     })
///     .run(|item| async move { Ok::<_, std::io::Error>(format!("{}", 4)) })
///     .await;
/// println!("{result}");
/// # }
/// ```
#[must_use = "an experiment does nothing until run"]
pub struct Experiment {
    client: Client,
    name: String,
    run_name: Option<String>,
    description: Option<String>,
    metadata: Option<Value>,
    max_concurrency: usize,
    items: Vec<ExperimentItem>,
    dataset_version: Option<SystemTime>,
    evaluators: Vec<ItemEvaluator>,
    run_evaluators: Vec<RunEvaluator>,
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn names<T>(evaluators: &[(String, T)]) -> Vec<&str> {
            evaluators.iter().map(|(name, _)| name.as_str()).collect()
        }
        formatter
            .debug_struct("Experiment")
            .field("name", &self.name)
            .field("run_name", &self.run_name)
            .field("items", &self.items.len())
            .field("max_concurrency", &self.max_concurrency)
            .field("evaluators", &names(&self.evaluators))
            .field("run_evaluators", &names(&self.run_evaluators))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts describing an experiment named `name` sent through this client.
    ///
    /// ```
    /// let _experiment = spindle::get_client().experiment("capital-cities");
    /// ```
    pub fn experiment(&self, name: impl Into<String>) -> Experiment {
        Experiment {
            client: self.clone(),
            name: name.into(),
            run_name: None,
            description: None,
            metadata: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            items: Vec::new(),
            dataset_version: None,
            evaluators: Vec::new(),
            run_evaluators: Vec::new(),
        }
    }
}

impl Experiment {
    /// Runs over the dataset's active items (archived ones are left out), linking each to its
    /// trace in a dataset run; the dataset's version, if it was fetched at one, is sent as the
    /// run items' `datasetVersion`.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let client = spindle::get_client();
    /// let dataset = client.get_dataset("capital-cities").await?;
    /// let _experiment = client.experiment("capitals").dataset(&dataset);
    /// # Ok(()) }
    /// ```
    pub fn dataset(mut self, dataset: &Dataset) -> Self {
        self.items = dataset
            .items
            .iter()
            .filter(|item| item.status == DatasetItemStatus::Active)
            .map(ExperimentItem::from)
            .collect();
        if dataset.version.is_some() {
            self.dataset_version = dataset.version;
        }
        self
    }

    /// Runs over these items (dataset items among them get run items).
    ///
    /// ```
    /// let _experiment = spindle::get_client()
    ///     .experiment("e")
    ///     .items([spindle::ExperimentItem::new(&"a"), spindle::ExperimentItem::new(&"b")]);
    /// ```
    pub fn items(mut self, items: impl IntoIterator<Item = ExperimentItem>) -> Self {
        self.items = items.into_iter().collect();
        self
    }

    setters! {
        /// Names the run (default: the experiment's name and the start time, as Python does);
        /// for a dataset this is the dataset run's name.
        ///
        /// ```
        /// let _experiment = spindle::get_client().experiment("e").run_name("baseline");
        /// ```
        run_name(run_name: impl Into<String>) => run_name = Some(run_name.into());

        /// Describes the run.
        ///
        /// ```
        /// let _experiment = spindle::get_client().experiment("e").description("first prompt");
        /// ```
        description(description: impl Into<String>) => description = Some(description.into());

        /// How many items run at once (default 50, at least 1).
        ///
        /// ```
        /// let _experiment = spindle::get_client().experiment("e").max_concurrency(4);
        /// ```
        max_concurrency(limit: usize) => max_concurrency = limit.max(1);

        /// The dataset version sent with the run items (set by [`dataset`](Self::dataset)
        /// when the dataset was fetched at a version).
        ///
        /// ```
        /// let _experiment = spindle::get_client()
        ///     .experiment("e")
        ///     .dataset_version(std::time::SystemTime::now());
        /// ```
        dataset_version(version: SystemTime) => dataset_version = Some(version);
    }

    json_setters! {
        /// Sets the run's metadata (sent with the run items, and on every item's observations).
        ///
        /// ```
        /// let _experiment = spindle::get_client()
        ///     .experiment("e")
        ///     .metadata(&serde_json::json!({"model": "fake-llm"}));
        /// ```
        metadata(metadata) => metadata = json::json_value(metadata, "experiment metadata");
    }

    /// Adds an item-level evaluator: called for each item whose task succeeded, its scores
    /// sent for the item's trace. An error is recorded for that item and the run goes on.
    ///
    /// ```
    /// let _experiment = spindle::get_client().experiment("e").evaluator("length", |evaluation| async move {
    ///     let length = evaluation.output.as_str().map_or(0, str::len);
    ///     Ok::<_, String>(spindle::Score::numeric("length", length as f64))
    /// });
    /// ```
    pub fn evaluator<F, Fut, R, E>(mut self, name: impl Into<String>, evaluator: F) -> Self
    where
        F: Fn(EvaluatorInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: IntoEvaluations,
        E: Display,
    {
        self.evaluators.push(evaluator_of(name.into(), evaluator));
        self
    }

    /// Adds a run-level evaluator: called once with every item's result, its scores sent for
    /// the dataset run (as `datasetRunId` scores; kept only in the result when no item was
    /// linked to a dataset run).
    ///
    /// ```
    /// let _experiment = spindle::get_client().experiment("e").run_evaluator(
    ///     "failed-items",
    ///     |results| async move {
    ///         let failed = results.iter().filter(|result| result.output.is_err()).count();
    ///         Ok::<_, String>(spindle::Score::numeric("failed-items", failed as f64))
    ///     },
    /// );
    /// ```
    pub fn run_evaluator<F, Fut, R, E>(mut self, name: impl Into<String>, evaluator: F) -> Self
    where
        F: Fn(Arc<[ItemResult]>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: IntoEvaluations,
        E: Display,
    {
        self.run_evaluators
            .push(evaluator_of(name.into(), evaluator));
        self
    }

    /// Runs `task` on every item, at most [`max_concurrency`](Self::max_concurrency) at once,
    /// then the evaluators; sends the traces, run items and scores and flushes them before
    /// returning. A task or evaluator that fails (or panics) is recorded for its item; the run
    /// goes on.
    ///
    /// Each item becomes a trace: an `experiment-item-run` span with the item's input and the
    /// task's output, the task running inside its child `experiment-item-task` (which the run
    /// item and the scores name), and the evaluators under `experiment-item-evaluation`.
    ///
    /// ```
    /// # async fn example() {
    /// let result = spindle::get_client()
    ///     .experiment("echo")
    ///     .items([spindle::ExperimentItem::new(&"hello")])
    ///     .run(|item| async move { Ok::<_, std::io::Error>(item.input) })
    ///     .await;
    /// assert_eq!(result.item_results[0].output, Ok(serde_json::json!("hello")));
    /// # }
    /// ```
    pub async fn run<F, Fut, O, E>(self, task: F) -> ExperimentResult
    where
        F: Fn(ExperimentItem) -> Fut,
        Fut: Future<Output = Result<O, E>>,
        O: Serialize,
        E: Display,
    {
        let run_name = self
            .run_name
            .clone()
            .unwrap_or_else(|| format!("{} - {}", self.name, iso_micros(SystemTime::now())));
        let context = RunContext {
            client: &self.client,
            name: &self.name,
            run_name: &run_name,
            description: self.description.as_deref(),
            metadata: self.metadata.as_ref(),
            dataset_version: self.dataset_version,
            evaluators: &self.evaluators,
            fallback_experiment_id: crate::ids::new_trace_id()[..16].to_owned(),
        };
        let context = &context;
        let task = &task;
        let mut item_results: Vec<(usize, ItemResult)> =
            futures::stream::iter(self.items.iter().cloned().enumerate())
                .map(|(index, item)| async move {
                    // every span of the item, the task's and the evaluators' own included
                    let environment =
                        PropagatedAttributes::new().environment(EXPERIMENT_ENVIRONMENT);
                    let result =
                        propagate_attributes_async(environment, context.run_item(item, task)).await;
                    (index, result)
                })
                .buffer_unordered(self.max_concurrency)
                .collect()
                .await;
        item_results.sort_by_key(|(index, _)| *index);
        let item_results: Arc<[ItemResult]> =
            item_results.into_iter().map(|(_, result)| result).collect();
        let dataset_run_id = item_results
            .iter()
            .find_map(|result| result.dataset_run_id.clone());

        let mut run_evaluations = Vec::new();
        let mut run_evaluator_failures = Vec::new();
        for (name, evaluator) in &self.run_evaluators {
            let evaluated = AssertUnwindSafe(evaluator(item_results.clone()))
                .catch_unwind()
                .await;
            match evaluated.unwrap_or_else(|payload| Err(panic_message(payload.as_ref()))) {
                Ok(scores) => run_evaluations.extend(scores),
                Err(message) => {
                    tracing::warn!(evaluator = %name, %message, "run evaluator failed");
                    run_evaluator_failures.push(EvaluatorFailure {
                        evaluator: name.clone(),
                        message,
                    });
                }
            }
        }
        if let Some(run_id) = &dataset_run_id {
            for score in &run_evaluations {
                self.client
                    .create_score(score.clone().dataset_run_id(run_id.clone()));
            }
        }
        self.client.flush_async().await;
        ExperimentResult {
            name: self.name.clone(),
            run_name,
            description: self.description.clone(),
            item_results: item_results.to_vec(),
            run_evaluations,
            run_evaluator_failures,
            dataset_run_id,
        }
    }
}

/// What every item of one run shares.
struct RunContext<'a> {
    client: &'a Client,
    name: &'a str,
    run_name: &'a str,
    description: Option<&'a str>,
    metadata: Option<&'a Value>,
    dataset_version: Option<SystemTime>,
    evaluators: &'a [ItemEvaluator],
    /// The experiment id of items not linked to a dataset run.
    fallback_experiment_id: String,
}

impl RunContext<'_> {
    /// The metadata of an item's observations: the item's (when an object), the run's, and
    /// the experiment's names and dataset ids.
    fn observation_metadata(&self, item: &ExperimentItem) -> Value {
        let mut metadata = Map::new();
        for source in [Some(&item.metadata), self.metadata].into_iter().flatten() {
            if let Value::Object(entries) = source {
                metadata.extend(entries.clone());
            }
        }
        metadata.insert("experiment_name".into(), self.name.into());
        metadata.insert("experiment_run_name".into(), self.run_name.into());
        if let (Some(dataset_id), Some(item_id)) = (&item.dataset_id, &item.dataset_item_id) {
            metadata.insert("dataset_id".into(), dataset_id.as_str().into());
            metadata.insert("dataset_item_id".into(), item_id.as_str().into());
        }
        Value::Object(metadata)
    }

    /// The experiment attributes of an item's spans.
    fn experiment_attributes(&self, item: &ExperimentItem) -> ObservationUpdate {
        ObservationUpdate::new()
            .set_string(semconv::EXPERIMENT_NAME, Some(self.run_name.to_owned()))
            .set_string(
                semconv::EXPERIMENT_DESCRIPTION,
                self.description.map(str::to_owned),
            )
            .set_string(semconv::EXPERIMENT_DATASET_ID, item.dataset_id.clone())
            .set_string(semconv::EXPERIMENT_ITEM_ID, Some(item.item_id()))
            .set_string(
                semconv::EXPERIMENT_ITEM_EXPECTED_OUTPUT,
                (!item.expected_output.is_null())
                    .then(|| json::python_json(&item.expected_output))
                    .flatten(),
            )
    }

    /// Links a dataset item to its trace; the run's id, or `None` (logged) when it failed.
    async fn create_run_item(
        &self,
        item: &ExperimentItem,
        trace_id: Option<String>,
        observation_id: Option<String>,
    ) -> Option<String> {
        let (Some(item_id), Some(trace_id)) = (&item.dataset_item_id, trace_id) else {
            return None;
        };
        let mut run_item =
            CreateDatasetRunItem::new(self.run_name, item_id.clone()).trace_id(trace_id);
        run_item.run_description = self.description.map(str::to_owned);
        run_item.metadata = self.metadata.cloned();
        run_item.observation_id = observation_id;
        run_item.dataset_version = self.dataset_version;
        match self.client.create_dataset_run_item(run_item).await {
            Ok(created) => Some(created.dataset_run_id),
            Err(error) => {
                tracing::error!(dataset_item_id = %item_id, %error, "dataset run item not created");
                None
            }
        }
    }

    async fn run_item<F, Fut, O, E>(&self, item: ExperimentItem, task: &F) -> ItemResult
    where
        F: Fn(ExperimentItem) -> Fut,
        Fut: Future<Output = Result<O, E>>,
        O: Serialize,
        E: Display,
    {
        let metadata = self.observation_metadata(&item);
        let attributes = self.experiment_attributes(&item);
        let root = self
            .client
            .observation("experiment-item-run")
            .new_trace()
            .input(&item.input)
            .metadata(&metadata)
            .with(attributes.clone())
            .start();
        let trace_id = root.trace_id();
        let (root_handle, task_trace_id) = (root.clone(), trace_id.clone());
        let (item, output, observation_id, dataset_run_id) = root
            .child("experiment-item-task")
            .input(&item.input)
            .metadata(&metadata)
            .with(attributes)
            .run_async(|task_span| async move {
                let observation_id = task_span.id();
                if item.input.is_null() {
                    // as the official SDKs: an item without input is a failed item, not linked
                    let output = Err(MISSING_INPUT.to_owned());
                    record_output(&task_span, &output);
                    return (item, output, observation_id, None);
                }
                let dataset_run_id = self
                    .create_run_item(&item, task_trace_id, observation_id.clone())
                    .await;
                let experiment_id = dataset_run_id
                    .clone()
                    .unwrap_or_else(|| self.fallback_experiment_id.clone());
                let linked = ObservationUpdate::new()
                    .set_string(semconv::EXPERIMENT_ID, Some(experiment_id))
                    .set_string(
                        semconv::EXPERIMENT_ITEM_ROOT_OBSERVATION_ID,
                        observation_id.clone(),
                    );
                root_handle.update(linked.clone());
                task_span.update(linked);
                let ran = AssertUnwindSafe(task(item.clone())).catch_unwind().await;
                let output = match ran {
                    Ok(Ok(output)) => serde_json::to_value(&output)
                        .map_err(|error| format!("output not serializable: {error}")),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(payload) => Err(panic_message(payload.as_ref())),
                };
                record_output(&task_span, &output);
                (item, output, observation_id, dataset_run_id)
            })
            .await;
        record_output(&root, &output);
        let mut result = ItemResult {
            item,
            output,
            evaluations: Vec::new(),
            evaluator_failures: Vec::new(),
            trace_id,
            observation_id,
            dataset_run_id,
        };
        if let (Ok(output), false) = (&result.output, self.evaluators.is_empty()) {
            let input = EvaluatorInput {
                input: result.item.input.clone(),
                output: output.clone(),
                expected_output: result.item.expected_output.clone(),
                metadata: result.item.metadata.clone(),
            };
            let evaluation_span = root.child("experiment-item-evaluation").start();
            for (index, evaluator) in self.evaluators.iter().enumerate() {
                let evaluated = self
                    .evaluate(&evaluation_span, index, evaluator, input.clone())
                    .await;
                match evaluated {
                    Ok(scores) => result.evaluations.extend(scores),
                    Err(message) => result.evaluator_failures.push(EvaluatorFailure {
                        evaluator: evaluator.0.clone(),
                        message,
                    }),
                }
            }
            evaluation_span.end();
            if let Some(trace_id) = &result.trace_id {
                for score in &result.evaluations {
                    let mut score = score.clone().trace_id(trace_id.clone());
                    score.observation_id = result.observation_id.clone();
                    self.client.create_score(score);
                }
            }
        }
        root.end();
        result
    }

    /// Runs one evaluator inside an `evaluator` observation of its name.
    async fn evaluate(
        &self,
        parent: &Observation,
        index: usize,
        (name, evaluator): &ItemEvaluator,
        input: EvaluatorInput,
    ) -> Result<Vec<Score>, String> {
        parent
            .child(name)
            .as_type(ObservationType::Evaluator)
            .input(&input)
            .metadata(&serde_json::json!({"evaluator_kind": "item", "evaluator_index": index}))
            .run_async(|span| async move {
                let evaluated = AssertUnwindSafe(evaluator(input)).catch_unwind().await;
                let evaluated =
                    evaluated.unwrap_or_else(|payload| Err(panic_message(payload.as_ref())));
                match &evaluated {
                    Ok(scores) => {
                        let outputs: Vec<Value> =
                            scores.iter().map(Score::evaluation_json).collect();
                        span.set_output(&outputs);
                    }
                    Err(message) => {
                        tracing::warn!(evaluator = %name, %message, "evaluator failed");
                        span.update(
                            ObservationUpdate::new()
                                .output(&serde_json::json!({"error": message}))
                                .level(Level::Error)
                                .status_message(message.clone()),
                        );
                    }
                }
                evaluated
            })
            .await
    }
}

/// Sets an observation's output, or marks it failed.
fn record_output(observation: &Observation, output: &Result<Value, String>) {
    match output {
        Ok(output) => observation.set_output(output),
        Err(message) => observation.update(
            ObservationUpdate::new()
                .output(&format!("Error: {message}"))
                .level(Level::Error)
                .status_message(message.clone()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_ids_hash_the_input_when_no_dataset_item() {
        let item = ExperimentItem::new(&json!({"country": "France"}));
        let id = item.item_id();
        assert_eq!(id.len(), 16);
        assert_eq!(
            id,
            ExperimentItem::new(&json!({"country": "France"})).item_id()
        );
        assert_ne!(
            id,
            ExperimentItem::new(&json!({"country": "Spain"})).item_id()
        );
        let mut from_dataset = item;
        from_dataset.dataset_item_id = Some("item-1".into());
        assert_eq!(from_dataset.item_id(), "item-1");
    }

    async fn run_disabled(experiment: Experiment) -> ExperimentResult {
        experiment
            .max_concurrency(2)
            .evaluator("exact-match", |evaluation| async move {
                if evaluation.expected_output.is_null() {
                    return Err("no expected output");
                }
                Ok(Score::boolean(
                    "exact-match",
                    evaluation.output == evaluation.expected_output,
                ))
            })
            .evaluator("panics", |evaluation| async move {
                if evaluation.input == "2 + 2" {
                    panic!("judge crashed");
                }
                Ok::<_, String>(None)
            })
            .run_evaluator("accuracy", |results| async move {
                let summary = ExperimentResult {
                    name: String::new(),
                    run_name: String::new(),
                    description: None,
                    item_results: results.to_vec(),
                    run_evaluations: Vec::new(),
                    run_evaluator_failures: Vec::new(),
                    dataset_run_id: None,
                }
                .score_summaries();
                let mean = summary["exact-match"].mean.ok_or("no scores")?;
                Ok::<_, &str>(Score::numeric("accuracy", mean))
            })
            .run_evaluator("broken", |_| async move { Err::<Score, _>("always") })
            .run(|item| async move {
                match item.input.as_str() {
                    Some("1 / 0") => Err("division by zero".to_owned()),
                    Some("boom") => panic!("task crashed"),
                    Some("2 + 2") => Ok(json!("4")),
                    _ => Ok(json!("?")),
                }
            })
            .await
    }

    #[test]
    fn failures_are_recorded_per_item_and_the_run_goes_on() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let experiment = Client::disabled()
            .experiment("arithmetic")
            .run_name("r1")
            .items([
                ExperimentItem::new("2 + 2").expected_output("4"),
                ExperimentItem::new("1 / 0").expected_output("inf"),
                ExperimentItem::new("3 + 3").expected_output("6"),
                ExperimentItem::new("boom"),
                ExperimentItem::new("no expectation"),
                ExperimentItem::new(&Value::Null).expected_output("x"),
            ]);
        let result = runtime.block_on(run_disabled(experiment));
        assert_eq!(result.run_name, "r1");
        let outputs: Vec<_> = result
            .item_results
            .iter()
            .map(|item| item.output.clone())
            .collect();
        assert_eq!(
            outputs,
            [
                Ok(json!("4")),
                Err("division by zero".to_owned()),
                Ok(json!("?")),
                Err("panicked: task crashed".to_owned()),
                Ok(json!("?")),
                Err(MISSING_INPUT.to_owned()),
            ]
        );
        let scores: Vec<Vec<ScoreValueOf>> = result
            .item_results
            .iter()
            .map(|item| item.evaluations.iter().map(ScoreValueOf::of).collect())
            .collect();
        assert_eq!(
            scores,
            [
                vec![ScoreValueOf("exact-match".into(), json!(true))],
                vec![],
                vec![ScoreValueOf("exact-match".into(), json!(false))],
                vec![],
                vec![],
                vec![],
            ]
        );
        assert_eq!(
            result.item_results[0].evaluator_failures,
            [EvaluatorFailure {
                evaluator: "panics".into(),
                message: "panicked: judge crashed".into()
            }]
        );
        assert_eq!(
            result.item_results[4].evaluator_failures,
            [EvaluatorFailure {
                evaluator: "exact-match".into(),
                message: "no expected output".into()
            }]
        );
        assert_eq!(result.run_evaluations.len(), 1);
        assert_eq!(result.run_evaluations[0].name(), "accuracy");
        assert_eq!(
            result.run_evaluations[0].value(),
            &crate::ScoreValue::Numeric(0.5)
        );
        assert_eq!(
            result.run_evaluator_failures,
            [EvaluatorFailure {
                evaluator: "broken".into(),
                message: "always".into()
            }]
        );
        assert!(result
            .item_results
            .iter()
            .all(|item| item.trace_id.is_none()));
        assert_eq!(result.dataset_run_id, None);
    }

    #[test]
    fn at_most_max_concurrency_items_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let result = runtime.block_on(
            Client::disabled()
                .experiment("bounded")
                .items((0..10).map(|n| ExperimentItem::new(&n)))
                .max_concurrency(3)
                .run(|item| {
                    let (in_flight, most) = (in_flight.clone(), most.clone());
                    async move {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        for _ in 0..5 {
                            tokio::task::yield_now().await;
                        }
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, String>(item.input)
                    }
                }),
        );
        assert_eq!(most.load(Ordering::SeqCst), 3);
        let outputs: Vec<Value> = result
            .item_results
            .into_iter()
            .map(|item| item.output.unwrap())
            .collect();
        assert_eq!(outputs, (0..10).map(|n| json!(n)).collect::<Vec<_>>());
    }

    #[test]
    fn default_run_names_carry_the_experiment_name() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let result = runtime.block_on(
            Client::disabled()
                .experiment("nightly")
                .run(|item| async move { Ok::<_, String>(item.input) }),
        );
        assert!(
            result.run_name.starts_with("nightly - 20"),
            "{}",
            result.run_name
        );
        assert!(result.item_results.is_empty());
    }

    /// A score's name and value as JSON, comparable in assertions.
    #[derive(Debug, PartialEq)]
    struct ScoreValueOf(String, Value);

    impl ScoreValueOf {
        fn of(score: &Score) -> Self {
            let value = match score.value() {
                crate::ScoreValue::Numeric(number) => json!(number),
                crate::ScoreValue::Boolean(flag) => json!(flag),
                crate::ScoreValue::Categorical(label) => json!(label),
            };
            Self(score.name().to_owned(), value)
        }
    }
}
