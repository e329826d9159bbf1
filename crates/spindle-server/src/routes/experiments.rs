//! The experiments API: `GET /api/public/experiments` (dataset runs with their run items in a
//! time range, latest activity first) and `GET /api/public/experiment-items` (those run items,
//! newest first), each with optional field groups and the v3 scores' `{"page": n}` cursor.
//! Shapes follow Langfuse's `experiments.yml`.

use super::params::{Params, PUBLIC_MAX_LIMIT};
use super::read::{decode_page_cursor, encode_page_cursor};
use crate::auth::FullAuth;
use crate::dto::experiments::{experiment_item_json, experiment_json, ItemFields};
use crate::dto::{self, ScoreV3Fields};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use spindle_core::time::Micros;
use spindle_core::Error;
use spindle_store::datasets::PageRequest;
use spindle_store::experiments::{ExperimentItemQuery, ExperimentQuery};
use spindle_store::{Page, ScoreQuery};

/// The most scores one experiment or item lists.
const MAX_SCORE_LIMIT: u32 = 50;

/// The field groups of an experiment.
const EXPERIMENT_GROUPS: &[&str] = &["core", "metadata", "scores"];

/// The field groups of an experiment item.
const ITEM_GROUPS: &[&str] = &[
    "core",
    "dataset",
    "io",
    "metadata",
    "itemMetadata",
    "experimentMetadata",
    "scores",
];

/// The field groups a request names (`fields=a,b`), each checked against `known`.
fn field_groups(params: &Params, known: &[&str]) -> Result<Option<Vec<String>>, Error> {
    let Some(text) = params.get("fields") else {
        return Ok(None);
    };
    let groups: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|group| !group.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unknown) = groups.iter().find(|group| !known.contains(&group.as_str())) {
        return Err(Error::invalid(
            "fields",
            format!(
                "unknown field group {unknown:?}; expected any of {}",
                known.join(", ")
            ),
        ));
    }
    Ok(Some(groups))
}

/// The page the cursor names (the first without one), the page size and the range.
struct Window {
    page: PageRequest,
    score_limit: u32,
    from: Micros,
    to: Option<Micros>,
}

fn window(params: &Params) -> Result<Window, Error> {
    if params.get("filter").is_some() {
        return Err(Error::invalid(
            "filter",
            "structured filters are not supported; use the list parameters",
        ));
    }
    let page = match params.get("cursor") {
        None => 1,
        Some(text) => decode_page_cursor(text)?,
    };
    let score_limit = match params.get("scoreLimit") {
        None => MAX_SCORE_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_SCORE_LIMIT).contains(limit))
            .ok_or_else(|| {
                Error::invalid(
                    "scoreLimit",
                    format!("must be between 1 and {MAX_SCORE_LIMIT}"),
                )
            })?,
    };
    Ok(Window {
        page: PageRequest {
            page,
            limit: params.limit(PUBLIC_MAX_LIMIT)?,
        },
        score_limit,
        from: params
            .timestamp("fromStartTime")?
            .ok_or_else(|| Error::invalid("fromStartTime", "is required"))?,
        to: params.timestamp("toStartTime")?,
    })
}

/// `{data, meta: {cursor}}`, the cursor present when there are more.
fn cursor_page<T>(page: &Page<T>, data: Vec<Value>) -> Value {
    let more = u64::from(page.page) * u64::from(page.limit) < page.total_items;
    let mut meta = json!({});
    if more {
        meta["cursor"] = json!(encode_page_cursor(page.page + 1));
    }
    json!({ "data": data, "meta": meta })
}

/// Up to `limit` scores matching `query`, as v3 scores with their subject.
async fn scores_v3(
    state: &AppState,
    project_id: &str,
    query: ScoreQuery,
    limit: u32,
) -> ApiResult<Value> {
    let query = ScoreQuery {
        page: 1,
        limit,
        ..query
    };
    let scores = state.store.list_scores(project_id, &query).await?;
    let fields = ScoreV3Fields {
        subject: true,
        ..ScoreV3Fields::default()
    };
    Ok(scores
        .items
        .into_iter()
        .map(|view| dto::score_v3(view, project_id, fields))
        .collect())
}

/// `GET /api/public/experiments`
pub async fn list(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let groups = field_groups(&params, EXPERIMENT_GROUPS)?.unwrap_or_default();
    let window = window(&params)?;
    let query = ExperimentQuery {
        page: window.page,
        from: window.from,
        to: window.to,
        ids: params.all("id"),
        names: params.all("name"),
        dataset_ids: params.all("datasetId"),
    };
    let page = state
        .datasets
        .list_experiments(&auth.project_id, &query)
        .await?;
    let with_metadata = groups.iter().any(|group| group == "metadata");
    let with_scores = groups.iter().any(|group| group == "scores");
    let mut data = Vec::with_capacity(page.items.len());
    for experiment in &page.items {
        let mut value = experiment_json(experiment, with_metadata);
        if with_scores {
            let query = ScoreQuery {
                dataset_run_id: Some(experiment.run.id.clone()),
                ..ScoreQuery::default()
            };
            value["scores"] =
                scores_v3(&state, &auth.project_id, query, window.score_limit).await?;
        }
        data.push(value);
    }
    Ok(Json(cursor_page(&page, data)))
}

/// `GET /api/public/experiment-items`
pub async fn list_items(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let groups = field_groups(&params, ITEM_GROUPS)?
        .unwrap_or_else(|| vec!["core".to_owned(), "dataset".to_owned()]);
    let has = |name: &str| groups.iter().any(|group| group == name);
    let fields = ItemFields {
        dataset: has("dataset"),
        io: has("io"),
        metadata: has("metadata"),
        item_metadata: has("itemMetadata"),
        experiment_metadata: has("experimentMetadata"),
    };
    let window = window(&params)?;
    let query = ExperimentItemQuery {
        page: window.page,
        from: window.from,
        to: window.to,
        experiment_ids: params.all("experimentId"),
        experiment_names: params.all("experimentName"),
        item_ids: params.all("experimentItemId"),
        dataset_ids: params.all("datasetId"),
    };
    let page = state
        .datasets
        .list_experiment_items(&auth.project_id, &query)
        .await?;
    let mut data = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let mut value = experiment_item_json(item, fields);
        if has("scores") {
            let query = ScoreQuery {
                trace_id: Some(item.run_item.trace_id.clone()),
                ..ScoreQuery::default()
            };
            value["scores"] =
                scores_v3(&state, &auth.project_id, query, window.score_limit).await?;
        }
        data.push(value);
    }
    Ok(Json(cursor_page(&page, data)))
}
