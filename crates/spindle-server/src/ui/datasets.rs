//! The web UI's dataset routes, under `/api/ui/projects/{project_id}/datasets`: the datasets
//! with their item and run counts, creation, a dataset's items page by page and their writes
//! (add, edit, archive, add from a trace or observation), its runs with their aggregates, one
//! run's aggregates with its items, and the comparison of 2 to 5 runs item by item (input,
//! expected output, each run's output, scores, latency, cost). Bodies are the public API's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use spindle_core::Error;
use spindle_store::accounts::Permission;
use spindle_store::datasets::DatasetItemQuery;
use spindle_store::run_metrics::MAX_COMPARED_RUNS;
use spindle_store::Page;

use super::responses::{DatasetRow, RunWithItems};
use super::session::ProjectAccess;
use crate::dto::datasets::{
    dataset_json, item_json, page_json, run_aggregates_json, run_comparison_json, run_json,
};
use crate::dto::{found_json, PageResponse};
use crate::error::{found, ApiResult};
use crate::routes::datasets::upsert_checked_item;
use crate::routes::params::{page_request, Params};
use crate::state::AppState;

/// `page`'s page with `rows` for its items.
fn page_with<T, R>(page: &Page<T>, rows: Vec<R>) -> PageResponse<R> {
    PageResponse::from_page(
        Page {
            items: rows,
            page: page.page,
            limit: page.limit,
            total_items: page.total_items,
            total_is_estimate: false,
            next_cursor: None,
        },
        |row| row,
    )
}

/// `GET …/datasets?page&limit`: the datasets, newest first, each with `itemCount` and
/// `runCount` (read with the page in one statement).
pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<DatasetRow>>> {
    let datasets = state
        .datasets
        .list_dataset_summaries(&access.project_id, page_request(&params)?)
        .await?;
    let counted = datasets
        .items
        .iter()
        .map(|summary| DatasetRow {
            dataset: dataset_json(&summary.dataset),
            item_count: summary.item_count,
            run_count: summary.run_count,
        })
        .collect();
    Ok(Json(page_with(&datasets, counted)))
}

/// `POST …/datasets`: creates a dataset (or updates the one of that name).
pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    access.require(Permission::EditDatasets)?;
    let dataset = spindle_ingest::dataset::parse_dataset_body(body.to_string().as_bytes())?;
    let stored = state
        .datasets
        .upsert_dataset(&access.project_id, &dataset)
        .await?;
    Ok((StatusCode::CREATED, Json(dataset_json(&stored))))
}

/// `GET …/datasets/{name}`: the dataset.
pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let dataset = state
        .datasets
        .get_dataset(&access.project_id, &dataset_name)
        .await?;
    found_json(dataset, "dataset", &dataset_name, dataset_json)
}

/// `GET …/datasets/{name}/items?page&limit`: the dataset's items (archived ones too), newest
/// first.
pub async fn items(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let query = DatasetItemQuery {
        page: page_request(&params)?,
        dataset_name: Some(dataset_name),
        ..DatasetItemQuery::default()
    };
    let page = state
        .datasets
        .list_dataset_items(&access.project_id, &query)
        .await?;
    Ok(Json(page_json(page, item_json)))
}

/// `POST …/datasets/{name}/items`: adds an item, or with an `id` edits it (`status`
/// `ARCHIVED` archives it); `sourceTraceId` and `sourceObservationId` record where it came
/// from. The public API's body; the dataset is the path's.
pub async fn upsert_item(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name)): Path<(String, String)>,
    Json(mut body): Json<Value>,
) -> ApiResult<Json<Value>> {
    access.require(Permission::EditDatasets)?;
    let Some(object) = body.as_object_mut() else {
        return Err(Error::invalid("body", "must be a JSON object").into());
    };
    object.insert("datasetName".into(), Value::String(dataset_name));
    let item = spindle_ingest::dataset::parse_dataset_item_body(body.to_string().as_bytes())?;
    let stored = upsert_checked_item(&state, &access.project_id, &item).await?;
    Ok(Json(item_json(&stored)))
}

/// `GET …/datasets/{name}/runs?page&limit`: the dataset's runs, newest first, each with its
/// aggregates (item count, latency, cost, tokens, scores).
pub async fn runs(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<PageResponse<Value>>> {
    let project_id = &access.project_id;
    let runs = state
        .datasets
        .list_dataset_runs(project_id, &dataset_name, page_request(&params)?)
        .await?;
    let runs = found(runs, "dataset", &dataset_name)?;
    let mut aggregated = Vec::with_capacity(runs.items.len());
    for run in &runs.items {
        let aggregates = state
            .datasets
            .run_aggregates(project_id, &dataset_name, &run.name)
            .await?;
        aggregated.push(aggregates.map_or_else(|| run_json(run), |a| run_aggregates_json(&a)));
    }
    Ok(Json(page_with(&runs, aggregated)))
}

/// `GET …/datasets/{name}/runs/{run}?page&limit`: the run's aggregates over all its items,
/// and a page of its items (`items`, in the comparison's shape with one run).
pub async fn run(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name, run_name)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<RunWithItems>> {
    let page = page_request(&params)?;
    let aggregates = state
        .datasets
        .run_aggregates(&access.project_id, &dataset_name, &run_name)
        .await?;
    let aggregates = found(aggregates, "dataset run", &run_name)?;
    let items = state
        .datasets
        .compare_runs(
            &access.project_id,
            &dataset_name,
            std::slice::from_ref(&run_name),
            page,
        )
        .await?;
    Ok(Json(RunWithItems {
        aggregates: run_aggregates_json(&aggregates),
        items: run_comparison_json(&found(items, "dataset", &dataset_name)?),
    }))
}

/// `GET …/datasets/{name}/compare?runs=a&runs=b[&runs=…]&page&limit`: 2 to 5 runs (in the
/// order asked, one parameter each, so a name may hold a comma) and a page of the items any
/// of them ran; each run's aggregates come from the run route.
pub async fn compare(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let run_names = params.each("runs");
    if !(2..=MAX_COMPARED_RUNS).contains(&run_names.len()) {
        return Err(Error::invalid(
            "runs",
            format!("name 2 to {MAX_COMPARED_RUNS} runs to compare"),
        )
        .into());
    }
    let page = page_request(&params)?;
    let comparison = state
        .datasets
        .compare_runs(&access.project_id, &dataset_name, &run_names, page)
        .await?;
    found_json(comparison, "dataset", &dataset_name, run_comparison_json)
}
