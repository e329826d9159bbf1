//! HTTP calls of the dataset API: one request each (no retries: creates are not idempotent
//! for server-chosen ids), answers parsed into the dataset types and failures mapped to
//! [`DatasetError`].

use std::time::SystemTime;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    CreateDataset, CreateDatasetItem, CreateDatasetRunItem, Dataset, DatasetError, DatasetItem,
    DatasetRun, DatasetRunItem,
};
use crate::api::{Failure, PublicApi};
use crate::observation::iso_micros;

/// The dataset endpoints of one server.
#[derive(Clone, Debug)]
pub(crate) struct DatasetApi {
    api: PublicApi,
}

/// One page of a list answer.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total_pages: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMeta {
    #[serde(default)]
    total_pages: u64,
}

#[derive(Deserialize)]
struct WirePage<T> {
    data: Vec<T>,
    meta: WireMeta,
}

/// A failed request told as a dataset error.
fn dataset_error(failure: Failure) -> DatasetError {
    match failure {
        Failure::NotFound { message } => DatasetError::NotFound { message },
        Failure::Unreachable { reason } => DatasetError::Unreachable { reason },
        Failure::Rejected { status, message } => DatasetError::Rejected { status, message },
    }
}

/// A request that got no answer, or whose answer broke off.
fn unreachable(error: reqwest::Error) -> DatasetError {
    DatasetError::Unreachable {
        reason: error.to_string(),
    }
}

/// Inserts `value` under `key` when there is one.
fn insert_some(body: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), value);
    }
}

fn dataset_body(dataset: &CreateDataset) -> Value {
    let mut body = Map::new();
    body.insert("name".into(), Value::String(dataset.name.clone()));
    insert_some(
        &mut body,
        "description",
        dataset.description.clone().map(Value::String),
    );
    insert_some(&mut body, "metadata", dataset.metadata.clone());
    insert_some(&mut body, "inputSchema", dataset.input_schema.clone());
    insert_some(
        &mut body,
        "expectedOutputSchema",
        dataset.expected_output_schema.clone(),
    );
    Value::Object(body)
}

fn item_body(item: &CreateDatasetItem) -> Value {
    let mut body = Map::new();
    body.insert(
        "datasetName".into(),
        Value::String(item.dataset_name.clone()),
    );
    insert_some(&mut body, "input", item.input.clone());
    insert_some(&mut body, "expectedOutput", item.expected_output.clone());
    insert_some(&mut body, "metadata", item.metadata.clone());
    insert_some(
        &mut body,
        "sourceTraceId",
        item.source_trace_id.clone().map(Value::String),
    );
    insert_some(
        &mut body,
        "sourceObservationId",
        item.source_observation_id.clone().map(Value::String),
    );
    insert_some(&mut body, "id", item.id.clone().map(Value::String));
    insert_some(
        &mut body,
        "status",
        item.status
            .map(|status| serde_json::to_value(status).unwrap_or(Value::Null)),
    );
    Value::Object(body)
}

impl DatasetApi {
    pub(crate) fn new(api: PublicApi) -> Self {
        Self { api }
    }

    /// One request; a 2xx body is parsed as `T`.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<T, DatasetError> {
        let mut request = self.api.request(method, url);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|error| DatasetError::InvalidResponse {
                reason: error.to_string(),
            });
        }
        Err(dataset_error(Failure::of_answer(status, &text)))
    }

    pub(crate) async fn get_dataset(&self, name: &str) -> Result<Dataset, DatasetError> {
        let url = self.api.url(&["v2", "datasets", name]);
        self.send(Method::GET, url, None).await
    }

    pub(crate) async fn create_dataset(
        &self,
        dataset: &CreateDataset,
    ) -> Result<Dataset, DatasetError> {
        let url = self.api.url(&["v2", "datasets"]);
        self.send(Method::POST, url, Some(&dataset_body(dataset)))
            .await
    }

    pub(crate) async fn list_items(
        &self,
        dataset_name: &str,
        page: u32,
        limit: u32,
        version: Option<SystemTime>,
    ) -> Result<Page<DatasetItem>, DatasetError> {
        let mut url = self.api.url(&["dataset-items"]);
        url.query_pairs_mut()
            .append_pair("datasetName", dataset_name)
            .append_pair("page", &page.to_string())
            .append_pair("limit", &limit.to_string());
        if let Some(version) = version {
            url.query_pairs_mut()
                .append_pair("version", &iso_micros(version));
        }
        let page: WirePage<DatasetItem> = self.send(Method::GET, url, None).await?;
        Ok(Page {
            items: page.data,
            total_pages: page.meta.total_pages,
        })
    }

    pub(crate) async fn create_item(
        &self,
        item: &CreateDatasetItem,
    ) -> Result<DatasetItem, DatasetError> {
        let url = self.api.url(&["dataset-items"]);
        self.send(Method::POST, url, Some(&item_body(item))).await
    }

    pub(crate) async fn get_item(&self, id: &str) -> Result<DatasetItem, DatasetError> {
        let url = self.api.url(&["dataset-items", id]);
        self.send(Method::GET, url, None).await
    }

    pub(crate) async fn create_run_item(
        &self,
        run_item: &CreateDatasetRunItem,
    ) -> Result<DatasetRunItem, DatasetError> {
        let url = self.api.url(&["dataset-run-items"]);
        self.send(Method::POST, url, Some(&run_item.to_wire()))
            .await
    }

    pub(crate) async fn get_run(
        &self,
        dataset_name: &str,
        run_name: &str,
    ) -> Result<DatasetRun, DatasetError> {
        let url = self.api.url(&["datasets", dataset_name, "runs", run_name]);
        self.send(Method::GET, url, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DatasetItemStatus;
    use serde_json::json;

    #[test]
    fn create_bodies_match_the_api() {
        assert_eq!(
            dataset_body(
                &CreateDataset::new("qa/capitals")
                    .description("d")
                    .metadata(&json!({"a": 1}))
                    .input_schema(&json!({"type": "object"}))
            ),
            json!({"name": "qa/capitals", "description": "d", "metadata": {"a": 1},
                   "inputSchema": {"type": "object"}})
        );
        assert_eq!(
            item_body(
                &CreateDatasetItem::new("qa/capitals")
                    .id("i-1")
                    .input(&json!({"country": "France"}))
                    .expected_output(&"Paris")
                    .source_trace_id("t")
                    .source_observation_id("o")
                    .status(DatasetItemStatus::Archived)
            ),
            json!({"datasetName": "qa/capitals", "input": {"country": "France"},
                   "expectedOutput": "Paris", "sourceTraceId": "t", "sourceObservationId": "o",
                   "id": "i-1", "status": "ARCHIVED"})
        );
        assert_eq!(
            item_body(&CreateDatasetItem::new("d")),
            json!({"datasetName": "d"})
        );
    }
}
