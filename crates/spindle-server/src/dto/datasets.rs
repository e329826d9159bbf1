//! The dataset API's response bodies: `Dataset`, `DatasetItem`, `DatasetRun`,
//! `DatasetRunWithItems` and `DatasetRunItem` of the API definition, and the `{data, meta}`
//! pages of each; a run's aggregates and the comparison of runs (the UI API's).

use serde_json::{json, Value};
use spindle_core::dataset::{Dataset, DatasetItem, DatasetRun, DatasetRunItem};
use spindle_core::time::format_iso;
use spindle_store::run_metrics::{
    NumericSummary, RunAggregates, RunComparison, RunItemMetrics, ScoreSummary,
};
use spindle_store::Page;

use super::{parse_lenient, stored_json, PageResponse};

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

/// An item, with an empty `mediaReferences` that `routes::datasets::items_with_media` fills.
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

fn histogram_json(summary: &NumericSummary) -> Value {
    json!({
        "mean": summary.mean,
        "min": summary.min,
        "max": summary.max,
        "histogram": summary.histogram.iter().map(|bin| json!({
            "lower": bin.lower,
            "upper": bin.upper,
            "count": bin.count,
        })).collect::<Vec<_>>(),
    })
}

/// A score name's summary: `numeric` (mean, bounds, histogram) for numeric and boolean
/// scores, `categories` (value and count) for categorical and boolean ones, `trueRate` for
/// boolean ones.
pub fn score_summary_json(summary: &ScoreSummary) -> Value {
    json!({
        "name": summary.name,
        "dataType": summary.data_type,
        "count": summary.count,
        "numeric": summary.numeric.as_ref().map(histogram_json),
        "categories": summary.categories.iter().map(|(value, count)| json!({
            "value": value,
            "count": count,
        })).collect::<Vec<_>>(),
        "trueRate": summary.true_rate,
    })
}

/// A run's aggregates: the run, its item count, latency (seconds), cost, tokens and scores.
pub fn run_aggregates_json(aggregates: &RunAggregates) -> Value {
    let mut value = run_json(&aggregates.run);
    value["itemCount"] = json!(aggregates.item_count);
    value["latency"] = aggregates
        .latency
        .as_ref()
        .map_or(Value::Null, histogram_json);
    value["totalCost"] = json!(aggregates.total_cost);
    value["meanCost"] = json!(aggregates.mean_cost);
    value["usage"] = json!({
        "input": aggregates.input_tokens,
        "output": aggregates.output_tokens,
        "total": aggregates.total_tokens,
    });
    value["scores"] = aggregates.scores.iter().map(score_summary_json).collect();
    value
}

/// What one run item measured, with the output of its trace (or observation).
pub fn run_item_metrics_json(metrics: &RunItemMetrics) -> Value {
    json!({
        "runItemId": metrics.run_item_id,
        "datasetRunId": metrics.run_id,
        "traceId": metrics.trace_id,
        "observationId": metrics.observation_id,
        "output": metrics.output.as_deref().map_or(Value::Null, parse_lenient),
        "latency": metrics.latency_seconds,
        "totalCost": metrics.total_cost,
        "usage": {
            "input": metrics.input_tokens,
            "output": metrics.output_tokens,
            "total": metrics.total_tokens,
        },
        "scores": metrics.scores.iter().map(score_summary_json).collect::<Vec<_>>(),
        "createdAt": format_iso(metrics.created_at),
    })
}

/// A comparison page: the runs, and per dataset item its input, expected output and each
/// run's result (`null` where a run did not run the item), in the order of `runs`.
pub fn run_comparison_json(comparison: &RunComparison) -> Value {
    let items = &comparison.items;
    json!({
        "runs": comparison.runs.iter().map(run_json).collect::<Vec<_>>(),
        "data": items.items.iter().map(|compared| json!({
            "datasetItemId": compared.item.id,
            "status": compared.item.status.as_str(),
            "input": optional_json(&compared.item.input),
            "expectedOutput": optional_json(&compared.item.expected_output),
            "runs": compared.runs.iter().map(|run| {
                run.as_ref().map_or(Value::Null, run_item_metrics_json)
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "meta": {
            "page": items.page,
            "limit": items.limit,
            "totalItems": items.total_items,
            "totalPages": items.total_items.div_ceil(u64::from(items.limit.max(1))),
        },
    })
}
