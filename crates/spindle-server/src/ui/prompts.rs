//! The web UI's prompt routes, under `/api/ui/projects/{project_id}/prompts`: the list (name
//! search, folders as `folder/` prefixes, a tag), one prompt with all its versions, the
//! per-version metrics of the generations that used them, those generations page by page,
//! a new version, labels given to a version (moved from the one that held them) or taken
//! from it (never `latest`), deletes.
//! Writes go through [`crate::prompts::PromptService`] like the public API's, so the served
//! prompt cache never answers with what the UI changed. Members may change prompts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spindle_core::prompt::{check_label, PromptSelector, ResolvedPrompt};
use spindle_core::Error;
use spindle_store::prompts::{PromptQuery, PromptVersionMetrics};
use spindle_store::{Filter, FilterValue};

use super::responses::Deleted;
use super::session::ProjectAccess;
use crate::dto::prompts::{prompt_json, prompt_list_json};
use crate::dto::{self, PageResponse};
use crate::error::{found, ApiResult};
use crate::routes::params::{observation_query, Params, PROMPTS_MAX_LIMIT, UI_MAX_LIMIT};
use crate::state::AppState;
use spindle_store::accounts::Permission;

/// The most versions one prompt page shows.
const MAX_VERSIONS: u32 = 100;

/// `GET …/prompts?search&tag&page&limit`: prompts by name, in the public list's shape.
pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<Value>> {
    let query = PromptQuery {
        page: params.page()?,
        limit: params.limit(PROMPTS_MAX_LIMIT)?,
        search: params.string("search").filter(|text| !text.is_empty()),
        tag: params.string("tag").filter(|text| !text.is_empty()),
        ..PromptQuery::default()
    };
    let page = state.prompts.list(&access.project_id, &query).await?;
    Ok(Json(prompt_list_json(&page)))
}

/// One prompt with its versions, newest first, references intact.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptDetail {
    pub name: String,
    #[serde(rename = "type")]
    pub prompt_type: &'static str,
    pub tags: Vec<String>,
    /// Each as the public API answers it (`resolve=false`).
    pub versions: Vec<Value>,
}

/// `GET …/prompts/{name}`
pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, name)): Path<(String, String)>,
) -> ApiResult<Json<PromptDetail>> {
    let query = PromptQuery {
        page: 1,
        limit: 1,
        name: Some(name.clone()),
        ..PromptQuery::default()
    };
    let listed = state.prompts.list(&access.project_id, &query).await?;
    let meta = found(listed.items.into_iter().next(), "prompt", &name)?;
    let mut versions = Vec::new();
    for number in meta.versions.iter().rev().take(MAX_VERSIONS as usize) {
        let version = state
            .prompts
            .store()
            .get_prompt(
                &access.project_id,
                &name,
                &PromptSelector::Version(*number),
                false,
            )
            .await?;
        if let Some(version) = version {
            versions.push(prompt_json(&version));
        }
    }
    Ok(Json(PromptDetail {
        name: meta.name,
        prompt_type: meta.prompt_type.as_str(),
        tags: meta.tags,
        versions,
    }))
}

/// The mean of one score name's numeric values.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreAverageRow {
    pub name: String,
    pub average: f64,
    pub count: u64,
}

/// What the generations that used a version add up to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionMetricsRow {
    pub version: i64,
    pub generations: u64,
    /// Seconds.
    pub latency_p50: Option<f64>,
    pub latency_p90: Option<f64>,
    pub latency_p99: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub total_cost: f64,
    pub first_used: Option<String>,
    pub last_used: Option<String>,
    pub scores: Vec<ScoreAverageRow>,
}

impl VersionMetricsRow {
    fn of(metrics: PromptVersionMetrics) -> Self {
        let iso = |micros: Option<i64>| micros.map(spindle_core::time::format_iso);
        VersionMetricsRow {
            version: metrics.version,
            generations: metrics.generations,
            latency_p50: metrics.latency_p50,
            latency_p90: metrics.latency_p90,
            latency_p99: metrics.latency_p99,
            input_tokens: metrics.input_tokens,
            output_tokens: metrics.output_tokens,
            total_tokens: metrics.total_tokens,
            total_cost: metrics.total_cost,
            first_used: iso(metrics.first_used),
            last_used: iso(metrics.last_used),
            scores: metrics
                .scores
                .into_iter()
                .map(|score| ScoreAverageRow {
                    name: score.name,
                    average: score.average,
                    count: score.count,
                })
                .collect(),
        }
    }
}

/// `{data: [...]}` of the metrics.
#[derive(Debug, Serialize)]
pub struct MetricsList {
    pub data: Vec<VersionMetricsRow>,
}

/// `GET …/prompts/{name}/metrics`: per version that generations used, ascending.
pub async fn metrics(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, name)): Path<(String, String)>,
) -> ApiResult<Json<MetricsList>> {
    let metrics = state
        .prompts
        .store()
        .prompt_metrics(&access.project_id, &name)
        .await?;
    Ok(Json(MetricsList {
        data: metrics.into_iter().map(VersionMetricsRow::of).collect(),
    }))
}

/// The version number of a path, positive.
fn version_of(text: &str) -> Result<i64, Error> {
    text.parse::<i64>()
        .ok()
        .filter(|version| *version >= 1)
        .ok_or_else(|| Error::invalid("version", "must be a positive integer"))
}

/// `GET …/prompts/{name}/versions/{version}/generations?page&limit`: the observations linked
/// to the version, newest first, without their input and output.
pub async fn generations(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, name, version)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::Observation>>> {
    let version = version_of(&version)?;
    let mut query = observation_query(&params, UI_MAX_LIMIT)?;
    query.filters.push(Filter {
        column: "promptName".to_owned(),
        operator: "=".to_owned(),
        value: FilterValue::String(name),
        key: None,
    });
    query.filters.push(Filter {
        column: "promptVersion".to_owned(),
        operator: "=".to_owned(),
        value: FilterValue::Number(version as f64),
        key: None,
    });
    super::handlers::observations_without_payloads(&state, &access.project_id, &query).await
}

/// `POST …/prompts`: the next version of a prompt, with the public API's body; its author is
/// the signed-in user.
pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    access.require(Permission::EditPrompts)?;
    let prompt = spindle_ingest::prompt::parse_create_prompt(&body)?;
    let version = state
        .prompts
        .create(
            &access.project_id,
            &prompt,
            &access.user_id,
            &access.actor(),
        )
        .await?;
    let created = prompt_json(&ResolvedPrompt {
        version,
        graph: None,
    });
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LabelsBody {
    labels: Vec<String>,
}

/// `POST …/prompts/{name}/versions/{version}/labels` `{labels}`: the version takes these
/// labels, each leaving the version that held it (moving `production` is one request).
pub async fn add_labels(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, name, version)): Path<(String, String, String)>,
    Json(body): Json<LabelsBody>,
) -> ApiResult<Json<Value>> {
    access.require(Permission::EditPrompts)?;
    let version = version_of(&version)?;
    if body.labels.is_empty() {
        return Err(Error::invalid("labels", "must name at least one label").into());
    }
    for label in &body.labels {
        check_label(label, "labels")?;
    }
    let updated = state
        .prompts
        .add_labels(
            &access.project_id,
            &name,
            version,
            &body.labels,
            &access.actor(),
        )
        .await?;
    let updated = found(updated, "prompt version", &format!("{name} {version}"))?;
    Ok(Json(prompt_json(&ResolvedPrompt {
        version: updated,
        graph: None,
    })))
}

/// `DELETE …/prompts/{name}/versions/{version}/labels/{label}`: the version loses the label
/// (no version holds it afterwards); `latest` stays. Answers the version as it is now.
pub async fn remove_label(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, name, version, label)): Path<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    access.require(Permission::EditPrompts)?;
    let version = version_of(&version)?;
    check_label(&label, "label")?;
    let removed = state
        .prompts
        .store()
        .remove_prompt_label(&access.project_id, &name, version, &label, &access.actor())
        .await;
    let updated = state.prompts.written(removed)?;
    let updated = found(updated, "prompt version", &format!("{name} {version}"))?;
    Ok(Json(prompt_json(&ResolvedPrompt {
        version: updated,
        graph: None,
    })))
}

/// `DELETE …/prompts/{name}?version=`: every version, or one.
pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, name)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Deleted>> {
    access.require(Permission::EditPrompts)?;
    let selector = match params.get("version") {
        None => None,
        Some(text) => Some(PromptSelector::Version(version_of(text)?)),
    };
    let deleted = state
        .prompts
        .delete(
            &access.project_id,
            &name,
            selector.as_ref(),
            &access.actor(),
        )
        .await?;
    if deleted == 0 {
        return Err(Error::not_found(format!("prompt {name:?}")).into());
    }
    Ok(Json(Deleted {
        deleted: deleted > 0,
    }))
}
