//! The dataset API: `/api/public/v2/datasets` (create or update by name, list, get; names
//! with slashes come URL-encoded), `/api/public/dataset-items` (create or upsert by id, list,
//! get, delete), `/api/public/dataset-run-items` (link a trace to an item under a run, list a
//! run's items) and `/api/public/datasets/{datasetName}/runs…` (list, get, delete runs).
//! Shapes and statuses follow Langfuse's.

use super::body::blocking;
use super::ingest::JsonRequest;
use super::params::{dataset_item_query, page_request, Params};
use crate::auth::FullAuth;
use crate::dto::datasets::{
    dataset_json, item_json, page_json, run_item_json, run_json, run_with_items_json,
};
use crate::dto::{found_json, message_json, PageResponse};
use crate::error::{found, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use spindle_core::dataset::{DatasetItem, NewDatasetItem};
use spindle_core::media::find_references;
use spindle_core::Error;
use spindle_ingest::dataset::{
    parse_dataset_body, parse_dataset_item_body, parse_run_item_body, validate_against_schema,
};
use spindle_store::datasets::ITEM_MEDIA_FIELDS;
use spindle_store::Page;
use std::collections::{BTreeSet, HashMap};

/// The largest dataset, item or run item body.
const MAX_DATASET_BODY: usize = 4 << 20;

/// `POST /api/public/v2/datasets`
pub async fn create_dataset(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let dataset = request
        .parse(&state, &auth, MAX_DATASET_BODY, parse_dataset_body)
        .await?;
    let stored = state
        .datasets
        .upsert_dataset(&auth.project_id, &dataset)
        .await?;
    Ok(Json(dataset_json(&stored)))
}

/// `GET /api/public/v2/datasets`
pub async fn list_datasets(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let page = state
        .datasets
        .list_datasets(&auth.project_id, page_request(&params)?)
        .await?;
    Ok(Json(page_json(page, dataset_json)))
}

/// `GET /api/public/v2/datasets/{datasetName}`
pub async fn get_dataset(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let dataset = state.datasets.get_dataset(&auth.project_id, &name).await?;
    found_json(dataset, "dataset", &name, dataset_json)
}

/// `POST /api/public/dataset-items`
pub async fn create_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let item = request
        .parse(&state, &auth, MAX_DATASET_BODY, parse_dataset_item_body)
        .await?;
    let stored = upsert_checked_item(&state, &auth.project_id, &item).await?;
    Ok(Json(
        one_item_with_media(&state, &auth.project_id, &stored).await?,
    ))
}

/// Items as the API shows them, each with its `mediaReferences`: the strings of its input,
/// expected output and metadata that are each one media reference, with the uploaded media
/// each names and a download URL (the media of all the items read at once). A reference to
/// media the project does not have, or whose bytes never arrived, stays a plain string.
pub(crate) async fn items_with_media(
    state: &AppState,
    project_id: &str,
    items: &[DatasetItem],
) -> ApiResult<Vec<Value>> {
    let mut values: Vec<Value> = items.iter().map(item_json).collect();
    let mut found = Vec::new();
    for (index, value) in values.iter().enumerate() {
        for field in ITEM_MEDIA_FIELDS {
            for reference in find_references(&value[field]) {
                found.push((index, field, reference));
            }
        }
    }
    if found.is_empty() {
        return Ok(values);
    }
    let ids: BTreeSet<String> = found
        .iter()
        .map(|(_, _, found)| found.reference.media_id.clone())
        .collect();
    let ids: Vec<String> = ids.into_iter().collect();
    let media: HashMap<String, Value> = state
        .datasets
        .uploaded_media(project_id, &ids)
        .await?
        .into_iter()
        .map(|media| {
            let (url, url_expiry) = super::media::signed_download_url(state, &media);
            let value = json!({
                "mediaId": media.id,
                "contentType": media.content_type,
                "contentLength": media.content_length,
                "url": url,
                "urlExpiry": url_expiry,
            });
            (media.id, value)
        })
        .collect();
    for (index, field, reference) in found {
        let Some(resolved) = media.get(&reference.reference.media_id) else {
            continue;
        };
        if let Some(Value::Array(references)) = values[index].get_mut("mediaReferences") {
            references.push(json!({
                "field": field,
                "referenceString": reference.reference_string,
                "jsonPath": reference.json_path,
                "media": resolved,
            }));
        }
    }
    Ok(values)
}

/// [`items_with_media`] of one item.
async fn one_item_with_media(
    state: &AppState,
    project_id: &str,
    item: &DatasetItem,
) -> ApiResult<Value> {
    let mut values = items_with_media(state, project_id, std::slice::from_ref(item)).await?;
    Ok(values.pop().unwrap_or(Value::Null))
}

/// Creates or updates the item once it passed its dataset's schemas
/// ([`check_item_schemas`]).
pub(crate) async fn upsert_checked_item(
    state: &AppState,
    project_id: &str,
    item: &NewDatasetItem,
) -> ApiResult<DatasetItem> {
    check_item_schemas(state, project_id, item).await?;
    Ok(state.datasets.upsert_dataset_item(project_id, item).await?)
}

/// Checks the item an upsert would store against its dataset's schemas, when it has any: the
/// input and expected output the request gives, else those of the stored item it updates,
/// else `null`. A 400 names the field and the violations.
async fn check_item_schemas(
    state: &AppState,
    project_id: &str,
    item: &NewDatasetItem,
) -> ApiResult<()> {
    let Some(dataset) = state
        .datasets
        .get_dataset(project_id, &item.dataset_name)
        .await?
    else {
        // The upsert answers 404.
        return Ok(());
    };
    if dataset.input_schema.is_none() && dataset.expected_output_schema.is_none() {
        return Ok(());
    }
    let stored = match &item.id {
        Some(id) if item.input.is_none() || item.expected_output.is_none() => state
            .datasets
            .get_dataset_item(project_id, id)
            .await?
            .filter(|stored| stored.dataset_id == dataset.id),
        _ => None,
    };
    let (stored_input, stored_expected) = stored
        .map(|stored| (stored.input, stored.expected_output))
        .unwrap_or_default();
    let input = item.input.clone().or(stored_input);
    let expected_output = item.expected_output.clone().or(stored_expected);
    blocking(move || {
        if let Some(schema) = &dataset.input_schema {
            validate_against_schema(schema, "inputSchema", input.as_deref(), "input")?;
        }
        if let Some(schema) = &dataset.expected_output_schema {
            validate_against_schema(
                schema,
                "expectedOutputSchema",
                expected_output.as_deref(),
                "expectedOutput",
            )?;
        }
        Ok(())
    })
    .await
}

/// `GET /api/public/dataset-items`
pub async fn list_items(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let query = dataset_item_query(&params)?;
    let page = state
        .datasets
        .list_dataset_items(&auth.project_id, &query)
        .await?;
    let values = items_with_media(&state, &auth.project_id, &page.items).await?;
    let page = Page {
        items: values,
        page: page.page,
        limit: page.limit,
        total_items: page.total_items,
        total_is_estimate: false,
        next_cursor: None,
    };
    Ok(Json(page_json(page, Value::clone)))
}

/// `GET /api/public/dataset-items/{id}`
pub async fn get_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let item = state
        .datasets
        .get_dataset_item(&auth.project_id, &id)
        .await?;
    let item = found(item, "dataset item", &id)?;
    Ok(Json(
        one_item_with_media(&state, &auth.project_id, &item).await?,
    ))
}

/// `DELETE /api/public/dataset-items/{id}`: the item and its run items.
pub async fn delete_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let gone = state
        .datasets
        .delete_dataset_item(&auth.project_id, &id, &auth.actor())
        .await?;
    found(gone.then_some(()), "dataset item", &id)?;
    Ok(message_json("Dataset item successfully deleted"))
}

/// `POST /api/public/dataset-run-items`
pub async fn create_run_item(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let run_item = request
        .parse(&state, &auth, MAX_DATASET_BODY, parse_run_item_body)
        .await?;
    let stored = state
        .datasets
        .create_run_item(&auth.project_id, &run_item)
        .await?;
    Ok(Json(run_item_json(&stored)))
}

/// `GET /api/public/dataset-run-items?datasetId=…&runName=…`
pub async fn list_run_items(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let dataset_id = params
        .string("datasetId")
        .ok_or_else(|| Error::invalid("datasetId", "is required"))?;
    let run_name = params
        .string("runName")
        .ok_or_else(|| Error::invalid("runName", "is required"))?;
    let page = state
        .datasets
        .list_run_items(
            &auth.project_id,
            &dataset_id,
            &run_name,
            page_request(&params)?,
        )
        .await?;
    Ok(Json(page_json(
        found(page, "dataset run", &run_name)?,
        run_item_json,
    )))
}

/// `GET /api/public/datasets/{datasetName}/runs`
pub async fn list_runs(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(dataset_name): Path<String>,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let page = state
        .datasets
        .list_dataset_runs(&auth.project_id, &dataset_name, page_request(&params)?)
        .await?;
    Ok(Json(page_json(
        found(page, "dataset", &dataset_name)?,
        run_json,
    )))
}

/// `GET /api/public/datasets/{datasetName}/runs/{runName}`: the run with all its items.
pub async fn get_run(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path((dataset_name, run_name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let run = state
        .datasets
        .get_dataset_run(&auth.project_id, &dataset_name, &run_name)
        .await?;
    let (run, items) = found(run, "dataset run", &run_name)?;
    Ok(Json(run_with_items_json(&run, &items)))
}

/// `DELETE /api/public/datasets/{datasetName}/runs/{runName}`: the run and its items.
pub async fn delete_run(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path((dataset_name, run_name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let gone = state
        .datasets
        .delete_dataset_run(&auth.project_id, &dataset_name, &run_name, &auth.actor())
        .await?;
    found(gone.then_some(()), "dataset run", &run_name)?;
    Ok(message_json("Dataset run successfully deleted"))
}
