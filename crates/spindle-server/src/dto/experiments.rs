//! The experiments API's response bodies: `Experiment` and `ExperimentItem` of
//! `experiments.yml`, the optional field groups only when asked for.

use serde_json::{json, Map, Value};
use spindle_core::time::format_iso;
use spindle_store::experiments::{Experiment, ExperimentItem};

use super::{parse_lenient, stored_json};

/// Stored JSON text, or `null`.
fn optional_json(text: &Option<String>) -> Value {
    text.as_deref().map_or(Value::Null, stored_json)
}

/// A trace's stored metadata map (an object of JSON texts) as one object, each value parsed
/// as the trace endpoints parse it; `null` without a trace.
fn trace_metadata(text: &Option<String>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    match serde_json::from_str::<Map<String, Value>>(text) {
        Ok(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match value {
                    Value::String(inner) => (key, parse_lenient(&inner)),
                    other => (key, other),
                })
                .collect(),
        ),
        Err(_) => Value::Null,
    }
}

/// An experiment (a dataset run) with its run items' span and count in the range;
/// `metadata` with the `metadata` group.
pub fn experiment_json(experiment: &Experiment, with_metadata: bool) -> Value {
    let run = &experiment.run;
    let mut value = json!({
        "id": run.id,
        "name": run.name,
        "description": run.description,
        "startTime": format_iso(experiment.start_time),
        "endTime": format_iso(experiment.end_time),
        "itemCount": experiment.item_count,
        "datasetId": run.dataset_id,
    });
    if with_metadata {
        value["metadata"] = optional_json(&run.metadata);
    }
    value
}

/// The optional groups of an experiment item.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemFields {
    pub dataset: bool,
    pub io: bool,
    pub metadata: bool,
    pub item_metadata: bool,
    pub experiment_metadata: bool,
}

/// An experiment item (a run item): its trace's environment, the run, the dataset item and,
/// with `io`, the trace's input (the item's when the trace has none) and output with the
/// item's expected output.
pub fn experiment_item_json(item: &ExperimentItem, fields: ItemFields) -> Value {
    let run_item = &item.run_item;
    let mut value = json!({
        "id": run_item.id,
        "traceId": run_item.trace_id,
        "startTime": format_iso(run_item.created_at),
        "endTime": Value::Null,
        "level": "DEFAULT",
        "environment": item.trace_environment.as_deref().unwrap_or("default"),
        "experimentId": run_item.run_id,
        "experimentName": run_item.run_name,
        "experimentItemId": run_item.dataset_item_id,
    });
    if fields.dataset {
        value["experimentDatasetId"] = json!(item.dataset_id);
        value["experimentItemVersion"] = json!(run_item.dataset_version.map(format_iso));
    }
    if fields.io {
        let input = item.trace_input.as_ref().or(item.item_input.as_ref());
        value["input"] = input.map_or(Value::Null, |text| parse_lenient(text));
        value["output"] = item
            .trace_output
            .as_deref()
            .map_or(Value::Null, parse_lenient);
        value["expectedOutput"] = optional_json(&item.item_expected_output);
    }
    if fields.metadata {
        value["metadata"] = trace_metadata(&item.trace_metadata);
    }
    if fields.item_metadata {
        value["experimentItemMetadata"] = optional_json(&item.item_metadata);
    }
    if fields.experiment_metadata {
        value["experimentMetadata"] = optional_json(&item.run_metadata);
        value["experimentDescription"] = json!(item.run_description);
    }
    value
}
