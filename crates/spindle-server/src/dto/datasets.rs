//! The dataset API's response bodies: `Dataset`, `DatasetItem`, `DatasetRun`,
//! `DatasetRunWithItems` and `DatasetRunItem` of the API definition, and the `{data, meta}`
//! pages of each.

use serde_json::{json, Value};
use spindle_core::dataset::{Dataset, DatasetItem, DatasetRun, DatasetRunItem};
use spindle_core::time::format_iso;
use spindle_store::Page;

use super::{stored_json, PageResponse};

/// Stored JSON text, or `null` when there is none.
fn optional_json(text: &Option<String>) -> Value {
    text.as_deref().map_or(Value::Null, stored_json)
}

pub fn dataset_json(dataset: &Dataset) -> Value {
    json!({
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "metadata": optional_json(&dataset.metadata),
        "inputSchema": optional_json(&dataset.input_schema),
        "expectedOutputSchema": optional_json(&dataset.expected_output_schema),
        "projectId": dataset.project_id,
        "createdAt": format_iso(dataset.created_at),
        "updatedAt": format_iso(dataset.updated_at),
    })
}

/// An item; `mediaReferences` stays empty until items carry media.
pub fn item_json(item: &DatasetItem) -> Value {
    json!({
        "id": item.id,
        "status": item.status.as_str(),
        "input": optional_json(&item.input),
        "expectedOutput": optional_json(&item.expected_output),
        "metadata": optional_json(&item.metadata),
        "sourceTraceId": item.source_trace_id,
        "sourceObservationId": item.source_observation_id,
        "datasetId": item.dataset_id,
        "datasetName": item.dataset_name,
        "createdAt": format_iso(item.created_at),
        "updatedAt": format_iso(item.updated_at),
        "mediaReferences": [],
    })
}

pub fn run_json(run: &DatasetRun) -> Value {
    json!({
        "id": run.id,
        "name": run.name,
        "description": run.description,
        "metadata": optional_json(&run.metadata),
        "datasetId": run.dataset_id,
        "datasetName": run.dataset_name,
        "createdAt": format_iso(run.created_at),
        "updatedAt": format_iso(run.updated_at),
    })
}

/// A run with all its items.
pub fn run_with_items_json(run: &DatasetRun, items: &[DatasetRunItem]) -> Value {
    let mut value = run_json(run);
    value["datasetRunItems"] = items.iter().map(run_item_json).collect();
    value
}

/// A run item, with the version of the dataset item it ran on (`datasetVersion`).
pub fn run_item_json(item: &DatasetRunItem) -> Value {
    json!({
        "id": item.id,
        "datasetRunId": item.run_id,
        "datasetRunName": item.run_name,
        "datasetItemId": item.dataset_item_id,
        "traceId": item.trace_id,
        "observationId": item.observation_id,
        "datasetVersion": item.dataset_version.map(format_iso),
        "createdAt": format_iso(item.created_at),
        "updatedAt": format_iso(item.updated_at),
    })
}

/// A `{data, meta}` page of any of them.
pub fn page_json<T>(page: Page<T>, convert: impl Fn(&T) -> Value) -> PageResponse<Value> {
    PageResponse::from_page(page, |item| convert(&item))
}
