//! The web UI's dataset run routes, under `/api/ui/projects/{project_id}/datasets/{name}`:
//! one run's aggregates with its items page by page, and the comparison of 2 to 5 runs item
//! by item (input, expected output, each run's output, scores, latency, cost).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;
use spindle_core::Error;
use spindle_store::datasets::PageRequest;
use spindle_store::run_metrics::MAX_COMPARED_RUNS;

use super::session::ProjectAccess;
use crate::dto::datasets::{run_aggregates_json, run_comparison_json};
use crate::error::{found, ApiResult};
use crate::routes::params::{Params, PUBLIC_MAX_LIMIT};
use crate::state::AppState;

fn page_request(params: &Params) -> Result<PageRequest, Error> {
    Ok(PageRequest {
        page: params.page()?,
        limit: params.limit(PUBLIC_MAX_LIMIT)?,
    })
}

/// `GET …/datasets/{name}/runs/{run}?page&limit`: the run's aggregates over all its items,
/// and a page of its items (`items`, in the comparison's shape with one run).
pub async fn run(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name, run_name)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
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
    let mut value = run_aggregates_json(&aggregates);
    value["items"] = run_comparison_json(&found(items, "dataset", &dataset_name)?);
    Ok(Json(value))
}

/// `GET …/datasets/{name}/compare?runs=a,b[,…]&page&limit`: 2 to 5 runs (in the order
/// asked) and a page of the items any of them ran; each run's aggregates come from the run
/// route.
pub async fn compare(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, dataset_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let run_names = params.all("runs");
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
    Ok(Json(run_comparison_json(&found(
        comparison,
        "dataset",
        &dataset_name,
    )?)))
}
