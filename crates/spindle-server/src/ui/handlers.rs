//! The handlers of the web UI's internal JSON API, under `/api/ui/projects/{project_id}/…`.
//! Lists take the public API's parameters, parsed by the same functions
//! ([`crate::routes::params`]), so a view's URL maps onto the store queries directly;
//! responses reuse the public API's JSON shapes and add what the pages need
//! ([`super::responses`]: token totals and scores per trace, users, latency percentiles).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use spindle_core::merge::{tiebreak_of, Stamp};
use spindle_core::time::now_micros;
use spindle_core::{Error, ScoreRecord, WriteBatch};
use spindle_store::accounts::SavedView;
use spindle_store::audit::resource;
use spindle_store::people::{GroupTotals, Grouping, TotalsQuery};
use spindle_store::suggestions::{ValueColumn, MAX_SUGGESTIONS};
use spindle_store::ScoreQuery;
use std::collections::HashMap;

use super::dashboard::{self, Dashboard, DashboardQuery};
use super::responses::{
    Created, DataList, Deleted, DeletedCount, KeyRow, NewKey, Previews, Revoked, ScoreValue,
    TotalsRow, TraceRow, ViewRow,
};
use super::session::ProjectAccess;
use crate::bootstrap::insert_key;
use crate::dto::{self, PageResponse, TraceFields};
use crate::error::{found, ApiResult};
use crate::routes::body::fresh_id;
use crate::routes::ingest::named_score_configs;
use crate::routes::params::{
    any_of, observation_query, score_query, score_range, totals_query, trace_query, Params,
    UI_MAX_LIMIT,
};
use crate::routes::read::{scores_page, session_with_traces};
use crate::state::AppState;
use spindle_store::accounts::Permission;

/// `GET …/traces`: the public list parameters plus `scoreName`, `scoreMin`, `scoreMax` and
/// `hasComments` (`true` or `false`); each trace comes with its token totals, its scores' values, its number of comments and
/// the first characters of its input and output.
pub async fn list_traces(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<TraceRow>>> {
    let mut query = trace_query(&params, UI_MAX_LIMIT)?;
    query.search = query.search.filter(|text| !text.trim().is_empty());
    query.score = score_range(&params)?;
    query.has_comments = params.boolean("hasComments")?;
    let page = state.store.list_traces(&access.project_id, &query).await?;
    let trace_ids: Vec<String> = page
        .items
        .iter()
        .map(|view| view.record.id.clone())
        .collect();
    let tokens = state
        .accounts
        .trace_tokens(&access.project_id, &trace_ids)
        .await?;
    let scores_by_trace = trace_scores(&state, &access.project_id, &trace_ids).await?;
    let comments = super::reviews::comment_counts(
        &state,
        &access.project_id,
        spindle_core::review::ObjectType::Trace,
        &trace_ids,
    )
    .await?;
    let fields = TraceFields {
        io: false,
        scores: false,
        observations: false,
        metrics: true,
    };
    Ok(Json(PageResponse::from_page(page, |view| {
        let id = view.record.id.clone();
        let scores = scores_by_trace.get(&id).cloned().unwrap_or_default();
        let previews = Previews::of(view.record.input.as_deref(), view.record.output.as_deref());
        TraceRow::new(
            dto::trace_without_observations(view, &access.project_id, fields, scores, |_, _| ()),
            tokens.get(&id).copied().unwrap_or_default(),
            comments.get(&id).copied().unwrap_or_default(),
            previews,
        )
    })))
}

/// `POST …/traces/delete` `{traceIds}`: deletes 1 to 1,000 traces of the project with their
/// observations and scores (admins and owners; the traces table's bulk delete).
pub async fn delete_traces(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<DeleteTraces>,
) -> ApiResult<Json<DeletedCount>> {
    access.require(Permission::DeleteTraces)?;
    check_bulk_ids("traceIds", &body.trace_ids)?;
    let deleted = state
        .store
        .delete_traces(&access.project_id, &body.trace_ids)
        .await?;
    Ok(Json(DeletedCount { deleted }))
}

/// The ids of a bulk delete: 1 to 1,000 of them.
fn check_bulk_ids(field: &str, ids: &[String]) -> Result<(), Error> {
    if ids.is_empty() || ids.len() > 1000 {
        return Err(Error::invalid(field, "must hold 1 to 1000 ids"));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteTraces {
    trace_ids: Vec<String>,
}

/// `POST …/scores/delete` `{scoreIds}`: deletes 1 to 1,000 scores of the project (members,
/// who may delete scores; the scores table's bulk delete). Answers how many existed.
pub async fn delete_scores(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<DeleteScores>,
) -> ApiResult<Json<DeletedCount>> {
    access.require(Permission::Annotate)?;
    check_bulk_ids("scoreIds", &body.score_ids)?;
    let mut deleted = 0;
    for score_id in &body.score_ids {
        if state
            .store
            .delete_score(&access.project_id, score_id)
            .await?
        {
            deleted += 1;
        }
    }
    Ok(Json(DeletedCount { deleted }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteScores {
    score_ids: Vec<String>,
}

/// `GET …/values?column=traceName&prefix=ch&limit=20`: the distinct values of a column that
/// start with the prefix (ignoring ASCII case), for the filter builder's suggestions.
pub async fn distinct_values(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<DataList<String>>> {
    let column_name = params
        .string("column")
        .ok_or_else(|| Error::invalid("column", "is required"))?;
    let column = ValueColumn::parse(&column_name, "column")?;
    let prefix = params.string("prefix").unwrap_or_default();
    if prefix.chars().count() > 200 {
        return Err(Error::invalid("prefix", "must be at most 200 characters").into());
    }
    let limit = params.limit(MAX_SUGGESTIONS)?;
    let values = state
        .accounts
        .distinct_values(&access.project_id, column, &prefix, limit)
        .await?;
    Ok(Json(DataList::of(values, |value| value)))
}

/// The values of the scores of these traces (at most 1,000 in all), by trace id.
async fn trace_scores(
    state: &AppState,
    project_id: &str,
    trace_ids: &[String],
) -> Result<HashMap<String, Vec<ScoreValue>>, Error> {
    let mut scores_by_trace: HashMap<String, Vec<ScoreValue>> = HashMap::new();
    if trace_ids.is_empty() {
        return Ok(scores_by_trace);
    }
    let query = ScoreQuery {
        page: 1,
        limit: 1000,
        filters: vec![any_of("traceId", trace_ids.to_vec())],
        ..ScoreQuery::default()
    };
    let scores = state.store.list_scores(project_id, &query).await?;
    for score in scores.items {
        if let Some(trace_id) = score.record.trace_id.clone() {
            scores_by_trace
                .entry(trace_id)
                .or_default()
                .push(ScoreValue::of(score));
        }
    }
    Ok(scores_by_trace)
}

/// `GET …/traces/{id}`: the trace with its input and output, all its scores, and all its
/// observations without their input, output and metadata (the store does not even read
/// them): a trace of thousands of large generations stays a small answer, and the page fetches one observation's payloads when
/// it is selected (`GET …/observations/{id}`).
pub async fn get_trace(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, trace_id)): Path<(String, String)>,
) -> ApiResult<Json<dto::TraceDetail>> {
    let view = state
        .store
        .get_trace_tree(&access.project_id, &trace_id)
        .await?;
    let view = found(view, "trace", &trace_id)?;
    Ok(Json(dto::trace_detail(view, &access.project_id)))
}

/// `GET …/observations/{id}`: one observation with its input, output and metadata.
pub async fn get_observation(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, observation_id)): Path<(String, String)>,
) -> ApiResult<Json<dto::Observation>> {
    let view = state
        .store
        .get_observation(&access.project_id, &observation_id)
        .await?;
    let view = found(view, "observation", &observation_id)?;
    Ok(Json(dto::observation_v1(view, &access.project_id)))
}

/// `GET …/observations`: the public v1 parameters and `orderBy=<column>.<asc|desc>`
/// (`startTime`, `name`, `model`, `latency`, `totalCost`, `inputTokens`, `outputTokens`,
/// `totalTokens`).
pub async fn list_observations(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::Observation>>> {
    let mut query = observation_query(&params, UI_MAX_LIMIT)?;
    query.order_by = params.order_by()?;
    observations_without_payloads(&state, &access.project_id, &query).await
}

/// A page of observations in the public v1 shape, without input and output (the UI's lists
/// show neither; a row's page loads them).
pub(crate) async fn observations_without_payloads(
    state: &AppState,
    project_id: &str,
    query: &spindle_store::ObservationQuery,
) -> ApiResult<Json<PageResponse<dto::Observation>>> {
    let page = state.store.list_observations(project_id, query).await?;
    Ok(Json(PageResponse::from_page(page, |mut view| {
        view.record.input = None;
        view.record.output = None;
        dto::observation_v1(view, project_id)
    })))
}

/// `GET …/scores`: the public v1 parameters and `orderBy=<column>.<asc|desc>` (`timestamp`,
/// `name`, `value`).
pub async fn list_scores(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<dto::Score>>> {
    let mut query = score_query(&params, UI_MAX_LIMIT)?;
    query.order_by = params.order_by()?;
    scores_page(&state, &access.project_id, &query).await
}

/// `POST …/scores`: an annotation `{traceId, observationId?, name, value, dataType?,
/// comment?, configId?}`; its source is `ANNOTATION` and its author the signed-in user. A
/// score naming a config is checked against it, as on the public API.
pub async fn create_score(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Map<String, Value>>,
) -> ApiResult<Response> {
    access.require(Permission::Annotate)?;
    let mut object = Map::new();
    for key in [
        "traceId",
        "observationId",
        "sessionId",
        "name",
        "value",
        "dataType",
        "comment",
        "configId",
    ] {
        if let Some(value) = body.get(key).filter(|value| !value.is_null()) {
            object.insert(key.to_owned(), value.clone());
        }
    }
    let score = annotation_score(&state, &access, object, "body").await?;
    let id = score.id.clone();
    state
        .store
        .write(
            &access.project_id,
            WriteBatch {
                scores: vec![score],
                ..WriteBatch::default()
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

/// An annotation score by the signed-in user from a score body (`traceId` or `sessionId`
/// required), checked against its config when it names one; `path` prefixes the fields of
/// its errors.
pub(crate) async fn annotation_score(
    state: &AppState,
    access: &ProjectAccess,
    mut object: Map<String, Value>,
    path: &str,
) -> ApiResult<ScoreRecord> {
    if !object.contains_key("traceId") && !object.contains_key("sessionId") {
        return Err(Error::invalid(format!("{path}.traceId"), "is required").into());
    }
    object.insert("source".to_owned(), json!("ANNOTATION"));
    let now = now_micros();
    let stamp = Stamp::explicit(
        now,
        Stamp::RANK_CREATE,
        tiebreak_of(Value::Object(object.clone()).to_string().as_bytes()),
    );
    let mut new_id = fresh_id;
    let score = spindle_ingest::score::parse_score(&object, path, now, stamp, &mut new_id)?;
    let config_ids = spindle_ingest::score::config_ids(score.pending());
    let configs = named_score_configs(state, &access.project_id, config_ids).await?;
    let mut score = score.resolve(&configs)?;
    score.author_user_id = Some(access.user_id.clone());
    Ok(score)
}

/// Image types shown inline; everything else (SVG included, which can carry script) is
/// only offered as a download.
const INLINE_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// `GET …/media/{id}`: the bytes of an uploaded media object, for `<img>` tags of the app.
pub async fn media_content(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, media_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let media = state.store.get_media(&access.project_id, &media_id).await?;
    let media = found(media, "media", &media_id)?;
    let bytes = state
        .store
        .get_media_bytes(&access.project_id, &media_id)
        .await?;
    let bytes = found(bytes, "content of media", &media_id)?;
    let content_type = media.content_type.to_ascii_lowercase();
    let inline = INLINE_IMAGE_TYPES.contains(&content_type.as_str());
    let (content_type, disposition) = if inline {
        (content_type, "inline")
    } else {
        ("application/octet-stream".to_owned(), "attachment")
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition.to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `GET …/sessions`: the sessions with the totals of their traces, searched, bounded and
/// sorted on those totals ([`totals_query`]).
pub async fn list_sessions(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<TotalsRow>>> {
    list_totals(&state, &access, &params, Grouping::Session).await
}

async fn list_totals(
    state: &AppState,
    access: &ProjectAccess,
    params: &Params,
    grouping: Grouping,
) -> ApiResult<Json<PageResponse<TotalsRow>>> {
    let query = totals_query(params, UI_MAX_LIMIT)?;
    let page = state
        .accounts
        .group_totals(&access.project_id, grouping, &query)
        .await?;
    Ok(Json(PageResponse::from_page(page, TotalsRow::of)))
}

/// `GET …/sessions/{id}`: the session's traces with their input and output, oldest first,
/// so the page can replay the conversation.
pub async fn get_session(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, session_id)): Path<(String, String)>,
) -> ApiResult<Json<dto::Session<dto::TraceSummary>>> {
    let mut session = session_with_traces(&state, &access.project_id, &session_id).await?;
    if let Some(traces) = session.traces.as_mut() {
        traces.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    }
    Ok(Json(session))
}

/// `GET …/users`: the project's end users with their traces, tokens, cost, first and last
/// seen, searched, bounded and sorted on those totals ([`totals_query`]).
pub async fn list_users(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<TotalsRow>>> {
    list_totals(&state, &access, &params, Grouping::User).await
}

/// `GET …/users/{id}?fromTimestamp&toTimestamp`: the totals of all of the user's traces in
/// the range (zeros when there are none).
pub async fn get_user(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, user_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<TotalsRow>> {
    let query = TotalsQuery {
        id: Some(user_id.clone()),
        limit: 1,
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        ..TotalsQuery::default()
    };
    let totals = state
        .accounts
        .group_totals(&access.project_id, Grouping::User, &query)
        .await?
        .items
        .pop()
        .unwrap_or(GroupTotals {
            id: user_id,
            ..GroupTotals::default()
        });
    Ok(Json(TotalsRow::of(totals)))
}

/// `GET …/dashboard`: the dashboard's panels over a range, a time bucket and filters (see
/// [`super::dashboard::DashboardQuery::parse`]), answered by the metrics query.
pub async fn dashboard(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<Dashboard>> {
    let query = DashboardQuery::parse(&params)?;
    Ok(Json(
        dashboard::answer(state.store.as_ref(), &access.project_id, &query).await?,
    ))
}

/// `GET …/keys`: the project's keys (never their secrets).
pub async fn list_keys(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<DataList<KeyRow>>> {
    let keys = state.store.list_api_keys(Some(&access.project_id)).await?;
    Ok(Json(DataList::of(&keys, KeyRow::of)))
}

/// `POST …/keys`: a new key pair; the only answer that ever holds the secret key.
pub async fn create_key(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Response> {
    access.require(Permission::ManageKeys)?;
    let public_key = format!("pk-lf-{}", uuid::Uuid::new_v4());
    let secret_key = format!("sk-lf-{}", uuid::Uuid::new_v4());
    insert_key(
        state.store.as_ref(),
        &state.server_secret,
        &access.project_id,
        &public_key,
        &secret_key,
        now_micros(),
    )
    .await
    .map_err(|error| Error::internal(format!("creating a key: {error}")))?;
    access
        .record(&state, "created", resource::API_KEY, &public_key, None)
        .await?;
    Ok(NewKey {
        public_key,
        secret_key,
    }
    .created())
}

/// `DELETE …/keys/{public_key}`: revokes a key of this project.
pub async fn revoke_key(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, public_key)): Path<(String, String)>,
) -> ApiResult<Json<Revoked>> {
    access.require(Permission::ManageKeys)?;
    let key = state
        .store
        .get_api_key(&public_key)
        .await?
        .filter(|key| key.project_id == access.project_id)
        .ok_or_else(|| Error::not_found(format!("key {public_key:?}")))?;
    let revoked = state.auth.revoke_project_key(&key.public_key).await?;
    if revoked {
        access
            .record(&state, "revoked", resource::API_KEY, &key.public_key, None)
            .await?;
    }
    Ok(Json(Revoked { revoked }))
}

#[derive(Debug, Deserialize)]
pub struct ViewBody {
    page: String,
    name: String,
    query: String,
}

/// `GET …/views?page=traces`: saved views of a page.
pub async fn list_views(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<DataList<ViewRow>>> {
    let page = params.string("page").unwrap_or_else(|| "traces".to_owned());
    let views = state.accounts.list_views(&access.project_id, &page).await?;
    Ok(Json(DataList::of(&views, ViewRow::of)))
}

/// `POST …/views` `{page, name, query}`.
pub async fn save_view(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<ViewBody>,
) -> ApiResult<Response> {
    access.require(Permission::SaveViews)?;
    if body.name.trim().is_empty() {
        return Err(Error::invalid("name", "must not be empty").into());
    }
    let view = SavedView {
        id: fresh_id(),
        project_id: access.project_id.clone(),
        user_id: access.user_id.clone(),
        page: body.page,
        name: body.name.trim().to_owned(),
        query: body.query,
        created_at: now_micros(),
    };
    state.accounts.save_view(&view).await?;
    Ok((StatusCode::CREATED, Json(ViewRow::of(&view))).into_response())
}

/// `DELETE …/views/{id}`.
pub async fn delete_view(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, view_id)): Path<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    access.require(Permission::SaveViews)?;
    let deleted = state
        .accounts
        .delete_view(&access.project_id, &view_id)
        .await?;
    Ok(Json(Deleted { deleted }))
}
