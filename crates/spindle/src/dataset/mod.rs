//! Datasets: fetching a dataset and its items (page by page, or all collected), creating
//! datasets, items and run items, and reading runs back, over the public dataset API
//! (`/api/public/v2/datasets`, `/api/public/dataset-items`, `/api/public/dataset-run-items`,
//! `/api/public/datasets/{name}/runs`).

mod api;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use api::DatasetApi;

use crate::client::Client;
use crate::json;
use crate::observation::iso_micros;

/// Items fetched per request when collecting a dataset, as the Python SDK does.
pub const DEFAULT_DATASET_PAGE_SIZE: u32 = 50;

/// Why a dataset call failed.
///
/// ```
/// let error = spindle::DatasetError::NotFound { message: "Dataset not found".into() };
/// assert_eq!(error.to_string(), "not found: Dataset not found");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The client is disabled (no keys, or tracing turned off), so it cannot reach a server.
    #[error("the client is disabled, datasets cannot be reached")]
    Disabled,
    /// The call was awaited outside a tokio runtime, which the HTTP client needs.
    #[error("dataset calls must be awaited on a tokio runtime")]
    NoRuntime,
    /// The dataset, item or run does not exist.
    #[error("not found: {message}")]
    NotFound {
        /// The server's explanation.
        message: String,
    },
    /// The server refused the request (bad input, wrong keys): retrying will not help.
    #[error("the server refused the request ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The server's explanation, naming the field and the reason.
        message: String,
    },
    /// The server could not be reached or failed (connection, timeout, 5xx, 429).
    #[error("the server is unavailable: {reason}")]
    Unreachable {
        /// What went wrong.
        reason: String,
    },
    /// The server answered something that does not fit the dataset API.
    #[error("unexpected answer from the server: {reason}")]
    InvalidResponse {
        /// What did not fit.
        reason: String,
    },
}

/// Whether an item takes part in experiments.
///
/// ```
/// assert_eq!(spindle::DatasetItemStatus::default(), spindle::DatasetItemStatus::Active);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DatasetItemStatus {
    /// Used by experiments (the default).
    #[default]
    Active,
    /// Kept, but left out of experiments.
    Archived,
}

/// A dataset, with its items when fetched with [`Client::get_dataset`].
///
/// ```
/// # async fn example() -> Result<(), spindle::DatasetError> {
/// let dataset = spindle::get_client().get_dataset("capital-cities").await?;
/// for item in &dataset.items {
///     println!("{} -> {}", item.input, item.expected_output);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Dataset {
    /// The server's id.
    pub id: String,
    /// The unique name (folders are `/`-separated).
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Any JSON (`null` when none).
    #[serde(default)]
    pub metadata: Value,
    /// The JSON schema items' input must follow (`null` when none).
    #[serde(default)]
    pub input_schema: Value,
    /// The JSON schema items' expected output must follow (`null` when none).
    #[serde(default)]
    pub expected_output_schema: Value,
    /// When it was created (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// When it last changed (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
    /// Its items, newest first as the server lists them (empty from [`Client::create_dataset`]).
    #[serde(skip)]
    pub items: Vec<DatasetItem>,
    /// The point in time the items were read at, when one was asked for; experiments over this
    /// dataset send it as the run items' `datasetVersion`.
    #[serde(skip)]
    pub version: Option<SystemTime>,
}

/// One item of a dataset: an input, the output expected for it, and metadata.
///
/// ```
/// let item: spindle::DatasetItem = serde_json::from_value(serde_json::json!({
///     "id": "item-1", "datasetId": "ds-1", "datasetName": "capital-cities",
///     "status": "ACTIVE", "input": {"country": "France"}, "expectedOutput": "Paris"
/// })).unwrap();
/// assert_eq!(item.expected_output, "Paris");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatasetItem {
    /// The item's id.
    pub id: String,
    /// The dataset's id.
    pub dataset_id: String,
    /// The dataset's name.
    #[serde(default)]
    pub dataset_name: String,
    /// Active or archived.
    #[serde(default)]
    pub status: DatasetItemStatus,
    /// The input (`null` when none).
    #[serde(default)]
    pub input: Value,
    /// The expected output (`null` when none).
    #[serde(default)]
    pub expected_output: Value,
    /// Any JSON (`null` when none).
    #[serde(default)]
    pub metadata: Value,
    /// The trace the item was taken from.
    #[serde(default)]
    pub source_trace_id: Option<String>,
    /// The observation the item was taken from.
    #[serde(default)]
    pub source_observation_id: Option<String>,
    /// When it was created (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// When it last changed (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
}

/// A run of a dataset (an experiment's results), with its run items when fetched with
/// [`Client::get_dataset_run`].
///
/// ```
/// # async fn example() -> Result<(), spindle::DatasetError> {
/// let run = spindle::get_client().get_dataset_run("capital-cities", "baseline").await?;
/// println!("{} items in run {}", run.dataset_run_items.len(), run.name);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatasetRun {
    /// The run's id (what run-level scores name as `datasetRunId`).
    pub id: String,
    /// The run's name, unique per dataset.
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Any JSON (`null` when none).
    #[serde(default)]
    pub metadata: Value,
    /// The dataset's id.
    pub dataset_id: String,
    /// The dataset's name.
    #[serde(default)]
    pub dataset_name: String,
    /// When it was created (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// When it last changed (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
    /// Its run items.
    #[serde(default)]
    pub dataset_run_items: Vec<DatasetRunItem>,
}

/// The link between a dataset item and the trace (and observation) a run made for it.
///
/// ```
/// let item: spindle::DatasetRunItem = serde_json::from_value(serde_json::json!({
///     "id": "ri-1", "datasetRunId": "run-1", "datasetRunName": "baseline",
///     "datasetItemId": "item-1", "traceId": "abc", "observationId": null
/// })).unwrap();
/// assert_eq!(item.trace_id.as_deref(), Some("abc"));
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatasetRunItem {
    /// The run item's id.
    pub id: String,
    /// The run's id.
    pub dataset_run_id: String,
    /// The run's name.
    #[serde(default)]
    pub dataset_run_name: String,
    /// The dataset item's id.
    pub dataset_item_id: String,
    /// The linked trace.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// The linked observation.
    #[serde(default)]
    pub observation_id: Option<String>,
    /// When it was created (ISO 8601).
    #[serde(default)]
    pub created_at: String,
}

/// A dataset to create (or update: the name is the key) with [`Client::create_dataset`].
///
/// ```
/// let _dataset = spindle::CreateDataset::new("capital-cities")
///     .description("countries and their capitals")
///     .metadata(&serde_json::json!({"owner": "geo-team"}));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct CreateDataset {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) metadata: Option<Value>,
    pub(crate) input_schema: Option<Value>,
    pub(crate) expected_output_schema: Option<Value>,
}

impl CreateDataset {
    /// A dataset named `name`.
    ///
    /// ```
    /// let _dataset = spindle::CreateDataset::new("qa/regressions");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            metadata: None,
            input_schema: None,
            expected_output_schema: None,
        }
    }

    setters! {
        /// Sets the description.
        ///
        /// ```
        /// let _dataset = spindle::CreateDataset::new("d").description("golden answers");
        /// ```
        description(description: impl Into<String>) => description = Some(description.into());
    }

    json_setters! {
        /// Sets the metadata (any JSON; skipped with a warning if it cannot be serialized).
        ///
        /// ```
        /// let _dataset = spindle::CreateDataset::new("d").metadata(&serde_json::json!({"v": 2}));
        /// ```
        metadata(metadata) => metadata = json::json_value(metadata, "dataset metadata");

        /// Sets the JSON schema every item's input must follow.
        ///
        /// ```
        /// let _dataset = spindle::CreateDataset::new("d")
        ///     .input_schema(&serde_json::json!({"type": "object"}));
        /// ```
        input_schema(schema) => input_schema = json::json_value(schema, "dataset input schema");

        /// Sets the JSON schema every item's expected output must follow.
        ///
        /// ```
        /// let _dataset = spindle::CreateDataset::new("d")
        ///     .expected_output_schema(&serde_json::json!({"type": "string"}));
        /// ```
        expected_output_schema(schema) => expected_output_schema = json::json_value(schema, "dataset expected output schema");
    }
}

/// An item to create in a dataset (or to update, when its id exists) with
/// [`Client::create_dataset_item`].
///
/// ```
/// let _item = spindle::CreateDatasetItem::new("capital-cities")
///     .input(&serde_json::json!({"country": "France"}))
///     .expected_output(&"Paris")
///     .metadata(&serde_json::json!({"continent": "Europe"}));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct CreateDatasetItem {
    pub(crate) dataset_name: String,
    pub(crate) id: Option<String>,
    pub(crate) input: Option<Value>,
    pub(crate) expected_output: Option<Value>,
    pub(crate) metadata: Option<Value>,
    pub(crate) source_trace_id: Option<String>,
    pub(crate) source_observation_id: Option<String>,
    pub(crate) status: Option<DatasetItemStatus>,
}

impl CreateDatasetItem {
    /// An item of the dataset named `dataset_name`.
    ///
    /// ```
    /// let _item = spindle::CreateDatasetItem::new("capital-cities");
    /// ```
    pub fn new(dataset_name: impl Into<String>) -> Self {
        Self {
            dataset_name: dataset_name.into(),
            id: None,
            input: None,
            expected_output: None,
            metadata: None,
            source_trace_id: None,
            source_observation_id: None,
            status: None,
        }
    }

    json_setters! {
        /// Sets the input (any JSON; skipped with a warning if it cannot be serialized).
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").input(&"What is 2 + 2?");
        /// ```
        input(input) => input = json::json_value(input, "dataset item input");

        /// Sets the expected output.
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").expected_output(&4);
        /// ```
        expected_output(expected_output) => expected_output = json::json_value(expected_output, "dataset item expected output");

        /// Sets the metadata.
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").metadata(&serde_json::json!({"k": 1}));
        /// ```
        metadata(metadata) => metadata = json::json_value(metadata, "dataset item metadata");
    }

    setters! {
        /// Sets the item's id (default: the server chooses one); an existing id is updated.
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").id("item-1");
        /// ```
        id(id: impl Into<String>) => id = Some(id.into());

        /// Records the trace the item was taken from.
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").source_trace_id("abc");
        /// ```
        source_trace_id(trace_id: impl Into<String>) => source_trace_id = Some(trace_id.into());

        /// Records the observation the item was taken from.
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").source_observation_id("def");
        /// ```
        source_observation_id(observation_id: impl Into<String>) => source_observation_id = Some(observation_id.into());

        /// Sets the status (default active).
        ///
        /// ```
        /// let _item = spindle::CreateDatasetItem::new("d").status(spindle::DatasetItemStatus::Archived);
        /// ```
        status(status: DatasetItemStatus) => status = Some(status);
    }
}

/// A run item to create with [`Client::create_dataset_run_item`]: links a dataset item to
/// the trace a run made for it, creating the run on its first item. Experiments make these.
///
/// ```
/// let _run_item = spindle::CreateDatasetRunItem::new("baseline", "item-1")
///     .trace_id("0af7651916cd43dd8448eb211c80319c")
///     .run_description("first prompt");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct CreateDatasetRunItem {
    pub(crate) run_name: String,
    pub(crate) dataset_item_id: String,
    pub(crate) run_description: Option<String>,
    pub(crate) metadata: Option<Value>,
    pub(crate) trace_id: Option<String>,
    pub(crate) observation_id: Option<String>,
    pub(crate) dataset_version: Option<SystemTime>,
}

impl CreateDatasetRunItem {
    /// A run item of the run `run_name` for the item `dataset_item_id`.
    ///
    /// ```
    /// let _run_item = spindle::CreateDatasetRunItem::new("baseline", "item-1");
    /// ```
    pub fn new(run_name: impl Into<String>, dataset_item_id: impl Into<String>) -> Self {
        Self {
            run_name: run_name.into(),
            dataset_item_id: dataset_item_id.into(),
            run_description: None,
            metadata: None,
            trace_id: None,
            observation_id: None,
            dataset_version: None,
        }
    }

    json_setters! {
        /// Sets the run's metadata (updates the run when it exists).
        ///
        /// ```
        /// let _run_item = spindle::CreateDatasetRunItem::new("r", "i")
        ///     .metadata(&serde_json::json!({"model": "fake-llm"}));
        /// ```
        metadata(metadata) => metadata = json::json_value(metadata, "dataset run metadata");
    }

    setters! {
        /// Sets the run's description (updates the run when it exists).
        ///
        /// ```
        /// let _run_item = spindle::CreateDatasetRunItem::new("r", "i").run_description("v2 prompt");
        /// ```
        run_description(description: impl Into<String>) => run_description = Some(description.into());

        /// Links the trace made for the item.
        ///
        /// ```
        /// let _run_item = spindle::CreateDatasetRunItem::new("r", "i").trace_id("abc");
        /// ```
        trace_id(trace_id: impl Into<String>) => trace_id = Some(trace_id.into());

        /// Links the observation made for the item.
        ///
        /// ```
        /// let _run_item = spindle::CreateDatasetRunItem::new("r", "i").observation_id("def");
        /// ```
        observation_id(observation_id: impl Into<String>) => observation_id = Some(observation_id.into());

        /// The version of the dataset the run used (sent as `datasetVersion`).
        ///
        /// ```
        /// let _run_item = spindle::CreateDatasetRunItem::new("r", "i")
        ///     .dataset_version(std::time::SystemTime::now());
        /// ```
        dataset_version(version: SystemTime) => dataset_version = Some(version);
    }

    pub(crate) fn to_wire(&self) -> Value {
        let mut body = serde_json::Map::new();
        body.insert("runName".into(), Value::String(self.run_name.clone()));
        let optional = [
            (
                "runDescription",
                self.run_description.clone().map(Value::String),
            ),
            ("metadata", self.metadata.clone()),
            (
                "datasetItemId",
                Some(Value::String(self.dataset_item_id.clone())),
            ),
            (
                "observationId",
                self.observation_id.clone().map(Value::String),
            ),
            ("traceId", self.trace_id.clone().map(Value::String)),
            (
                "datasetVersion",
                self.dataset_version
                    .map(|version| Value::String(iso_micros(version))),
            ),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                body.insert(key.into(), value);
            }
        }
        Value::Object(body)
    }
}

/// A dataset fetch, awaited for the dataset with all its items; made by
/// [`Client::get_dataset`].
///
/// ```
/// # async fn example() -> Result<(), spindle::DatasetError> {
/// let dataset = spindle::get_client()
///     .get_dataset("capital-cities")
///     .page_size(100)
///     .await?;
/// # let _ = dataset;
/// # Ok(()) }
/// ```
#[must_use = "a dataset fetch does nothing until awaited"]
#[derive(Debug)]
pub struct GetDataset<'a> {
    client: &'a Client,
    name: String,
    page_size: u32,
    version: Option<SystemTime>,
}

impl GetDataset<'_> {
    setters! {
        /// Items fetched per request (default 50, at least 1).
        ///
        /// ```
        /// let _fetch = spindle::get_client().get_dataset("d").page_size(10);
        /// ```
        page_size(page_size: u32) => page_size = page_size.max(1);

        /// Reads the items as they were at this time (and sends it as the `datasetVersion` of
        /// experiments over the dataset).
        ///
        /// ```
        /// let _fetch = spindle::get_client().get_dataset("d").version(std::time::SystemTime::now());
        /// ```
        version(version: SystemTime) => version = Some(version);
    }

    async fn run(self) -> Result<Dataset, DatasetError> {
        let api = self.client.datasets()?;
        let mut dataset = api.get_dataset(&self.name).await?;
        let mut pages = DatasetItemPages {
            api: Some(api.clone()),
            dataset_name: self.name,
            page_size: self.page_size,
            version: self.version,
            next_page: 1,
            done: false,
        };
        dataset.items = pages.collect().await?;
        dataset.version = self.version;
        Ok(dataset)
    }
}

impl<'a> IntoFuture for GetDataset<'a> {
    type Output = Result<Dataset, DatasetError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A dataset's items, one page per request, in the server's order (newest first); made by
/// [`Client::dataset_items`].
///
/// ```
/// # async fn example() -> Result<(), spindle::DatasetError> {
/// let mut pages = spindle::get_client().dataset_items("capital-cities").page_size(20);
/// while let Some(page) = pages.next_page().await? {
///     for item in page {
///         println!("{}", item.id);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DatasetItemPages {
    api: Option<DatasetApi>,
    dataset_name: String,
    page_size: u32,
    version: Option<SystemTime>,
    next_page: u32,
    done: bool,
}

impl DatasetItemPages {
    setters! {
        /// Items per request (default 50, at least 1).
        ///
        /// ```
        /// let _pages = spindle::get_client().dataset_items("d").page_size(10);
        /// ```
        page_size(page_size: u32) => page_size = page_size.max(1);

        /// Reads the items as they were at this time.
        ///
        /// ```
        /// let _pages = spindle::get_client().dataset_items("d").version(std::time::SystemTime::now());
        /// ```
        version(version: SystemTime) => version = Some(version);
    }

    /// The next page, or `None` after the last one.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let first = spindle::get_client().dataset_items("d").next_page().await?;
    /// # let _ = first;
    /// # Ok(()) }
    /// ```
    pub async fn next_page(&mut self) -> Result<Option<Vec<DatasetItem>>, DatasetError> {
        if self.done {
            return Ok(None);
        }
        let api = self.api.as_ref().ok_or(DatasetError::Disabled)?;
        tokio::runtime::Handle::try_current().map_err(|_| DatasetError::NoRuntime)?;
        let page = api
            .list_items(
                &self.dataset_name,
                self.next_page,
                self.page_size,
                self.version,
            )
            .await?;
        // a page past the last (or an empty one) ends the listing, so it always ends
        self.done = u64::from(self.next_page) >= page.total_pages || page.items.is_empty();
        self.next_page += 1;
        if page.items.is_empty() {
            return Ok(None);
        }
        Ok(Some(page.items))
    }

    /// The remaining items one by one, each page fetched when the one before is used up; an
    /// error ends the stream.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let items = spindle::get_client().dataset_items("capital-cities").into_stream();
    /// futures::pin_mut!(items);
    /// while let Some(item) = items.try_next().await? {
    ///     println!("{}", item.input);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_stream(
        self,
    ) -> impl futures::Stream<Item = Result<DatasetItem, DatasetError>> + Send {
        use futures::TryStreamExt;
        futures::stream::try_unfold(self, |mut pages| async move {
            let page = pages.next_page().await?;
            Ok(page.map(|items| {
                let items = futures::stream::iter(items.into_iter().map(Ok));
                (items, pages)
            }))
        })
        .try_flatten()
    }

    /// Every remaining item.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let items = spindle::get_client().dataset_items("d").collect().await?;
    /// # let _ = items;
    /// # Ok(()) }
    /// ```
    pub async fn collect(&mut self) -> Result<Vec<DatasetItem>, DatasetError> {
        let mut items = Vec::new();
        while let Some(page) = self.next_page().await? {
            items.extend(page);
        }
        Ok(items)
    }
}

impl Client {
    /// The dataset API, or why it cannot be called.
    pub(crate) fn datasets(&self) -> Result<&DatasetApi, DatasetError> {
        let api = self
            .inner
            .as_ref()
            .and_then(|inner| inner.datasets.as_ref())
            .ok_or(DatasetError::Disabled)?;
        tokio::runtime::Handle::try_current().map_err(|_| DatasetError::NoRuntime)?;
        Ok(api)
    }

    /// Fetches a dataset and all its items (paged, 50 per request); await it.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let dataset = spindle::get_client().get_dataset("capital-cities").await?;
    /// println!("{} items", dataset.items.len());
    /// # Ok(()) }
    /// ```
    pub fn get_dataset(&self, name: impl Into<String>) -> GetDataset<'_> {
        GetDataset {
            client: self,
            name: name.into(),
            page_size: DEFAULT_DATASET_PAGE_SIZE,
            version: None,
        }
    }

    /// A dataset's items, fetched one page at a time as they are asked for.
    ///
    /// ```
    /// let _pages = spindle::get_client().dataset_items("capital-cities");
    /// ```
    pub fn dataset_items(&self, dataset_name: impl Into<String>) -> DatasetItemPages {
        DatasetItemPages {
            api: self.inner.as_ref().and_then(|inner| inner.datasets.clone()),
            dataset_name: dataset_name.into(),
            page_size: DEFAULT_DATASET_PAGE_SIZE,
            version: None,
            next_page: 1,
            done: false,
        }
    }

    /// Creates a dataset, or updates the one of that name.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let dataset = spindle::get_client()
    ///     .create_dataset(spindle::CreateDataset::new("capital-cities"))
    ///     .await?;
    /// # let _ = dataset;
    /// # Ok(()) }
    /// ```
    pub async fn create_dataset(&self, dataset: CreateDataset) -> Result<Dataset, DatasetError> {
        self.datasets()?.create_dataset(&dataset).await
    }

    /// Creates an item, or updates the one with its id.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let item = spindle::get_client()
    ///     .create_dataset_item(
    ///         spindle::CreateDatasetItem::new("capital-cities")
    ///             .input(&serde_json::json!({"country": "Japan"}))
    ///             .expected_output(&"Tokyo"),
    ///     )
    ///     .await?;
    /// # let _ = item;
    /// # Ok(()) }
    /// ```
    pub async fn create_dataset_item(
        &self,
        item: CreateDatasetItem,
    ) -> Result<DatasetItem, DatasetError> {
        self.datasets()?.create_item(&item).await
    }

    /// Fetches one item by id.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let item = spindle::get_client().get_dataset_item("item-1").await?;
    /// # let _ = item;
    /// # Ok(()) }
    /// ```
    pub async fn get_dataset_item(&self, id: &str) -> Result<DatasetItem, DatasetError> {
        self.datasets()?.get_item(id).await
    }

    /// Links a dataset item to a trace in a run (the run is created with its first item).
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let run_item = spindle::get_client()
    ///     .create_dataset_run_item(
    ///         spindle::CreateDatasetRunItem::new("baseline", "item-1").trace_id("abc"),
    ///     )
    ///     .await?;
    /// println!("run {}", run_item.dataset_run_id);
    /// # Ok(()) }
    /// ```
    pub async fn create_dataset_run_item(
        &self,
        run_item: CreateDatasetRunItem,
    ) -> Result<DatasetRunItem, DatasetError> {
        self.datasets()?.create_run_item(&run_item).await
    }

    /// Fetches a run of a dataset with its run items.
    ///
    /// ```
    /// # async fn example() -> Result<(), spindle::DatasetError> {
    /// let run = spindle::get_client().get_dataset_run("capital-cities", "baseline").await?;
    /// # let _ = run;
    /// # Ok(()) }
    /// ```
    pub async fn get_dataset_run(
        &self,
        dataset_name: &str,
        run_name: &str,
    ) -> Result<DatasetRun, DatasetError> {
        self.datasets()?.get_run(dataset_name, run_name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_item_bodies_match_the_api() {
        let version = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
        let body = CreateDatasetRunItem::new("baseline", "item-1")
            .run_description("first")
            .metadata(&json!({"model": "m"}))
            .trace_id("t")
            .observation_id("o")
            .dataset_version(version)
            .to_wire();
        assert_eq!(
            body,
            json!({
                "runName": "baseline", "runDescription": "first", "metadata": {"model": "m"},
                "datasetItemId": "item-1", "observationId": "o", "traceId": "t",
                "datasetVersion": "2026-01-01T00:00:00.000000Z"
            })
        );
        assert_eq!(
            CreateDatasetRunItem::new("r", "i").to_wire(),
            json!({"runName": "r", "datasetItemId": "i"})
        );
    }

    #[test]
    fn a_disabled_client_streams_one_error() {
        use futures::StreamExt;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let streamed: Vec<_> = runtime.block_on(
            Client::disabled()
                .dataset_items("d")
                .into_stream()
                .collect(),
        );
        assert_eq!(streamed, [Err(DatasetError::Disabled)]);
    }

    #[test]
    fn items_read_with_missing_fields_as_null() {
        let item: DatasetItem = serde_json::from_value(json!({
            "id": "i", "datasetId": "d", "status": "ARCHIVED", "input": null,
            "sourceTraceId": null, "mediaReferences": []
        }))
        .unwrap();
        assert_eq!(item.status, DatasetItemStatus::Archived);
        assert_eq!(
            (item.input, item.expected_output),
            (Value::Null, Value::Null)
        );
        assert!(item.source_trace_id.is_none());
    }
}
