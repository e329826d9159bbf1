//! The internal JSON API of the web UI, under `/api/ui/projects/{project_id}/…`. Query
//! parameters use the public API's names (`userId`, `filter`, `orderBy`, …) so a view's URL
//! maps onto the store queries directly; responses reuse the public API's JSON shapes and
//! add what the pages need (token totals and scores per trace, users, latency percentiles).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use spindle_core::merge::{tiebreak_of, Stamp};
use spindle_core::time::format_iso;
use spindle_core::{Error, Level, ObservationType, WriteBatch};
use spindle_store::accounts::{new_token, token_hash, Membership, Role, SavedView, User};
use spindle_store::{
    Filter, FilterValue, MetricsQuery, ObservationQuery, ScoreQuery, ScoreRange, SessionQuery,
    TraceQuery,
};
use std::collections::HashMap;

use super::session::{accounts, project_access, ProjectAccess, SignedIn};
use crate::api::{self, PageResponse, TraceFields};
use crate::bootstrap::insert_key;
use crate::error::ApiResult;
use crate::routes::body::{fresh_id, now_micros};
use crate::routes::params::Params;
use crate::state::AppState;

async fn access(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: &str,
) -> Result<ProjectAccess, Error> {
    project_access(state, signed_in, project_id).await
}

fn number(params: &Params, key: &str) -> Result<Option<f64>, Error> {
    params.parsed(key, |text| text.parse::<f64>().ok(), "a number")
}

/// `scoreName` / `scoreMin` / `scoreMax`: traces with a score of that name in the range.
fn score_range(params: &Params) -> Result<Option<ScoreRange>, Error> {
    let Some(name) = params.string("scoreName").filter(|name| !name.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(ScoreRange {
        name,
        min: number(params, "scoreMin")?,
        max: number(params, "scoreMax")?,
    }))
}

/// `GET …/traces`: the public list parameters plus `scoreName`, `scoreMin`, `scoreMax`;
/// each trace comes with its token totals and its scores' values.
pub async fn list_traces(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let filters = params.filters()?;
    let query = TraceQuery {
        page: params.page()?,
        limit: params.limit(200)?,
        user_id: params.string("userId"),
        name: params.string("name"),
        session_id: params.string("sessionId"),
        version: params.string("version"),
        release: params.string("release"),
        tags: params.all("tags"),
        environments: params.all("environment"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        order_by: params.order_by()?,
        filters,
        search: params
            .string("search")
            .filter(|text| !text.trim().is_empty()),
        score: score_range(&params)?,
    };
    let page = state.store.list_traces(&access.project_id, &query).await?;
    let trace_ids: Vec<String> = page
        .items
        .iter()
        .map(|view| view.record.id.clone())
        .collect();
    let accounts = accounts(&state)?;
    let tokens = accounts
        .trace_tokens(&access.project_id, &trace_ids)
        .await?;
    let mut scores_by_trace: HashMap<String, Vec<Value>> = HashMap::new();
    if !trace_ids.is_empty() {
        let scores = state
            .store
            .list_scores(
                &access.project_id,
                &ScoreQuery {
                    page: 1,
                    limit: 1000,
                    filters: vec![Filter {
                        column: "traceId".to_owned(),
                        operator: "any of".to_owned(),
                        value: FilterValue::Strings(trace_ids.clone()),
                        key: None,
                    }],
                    ..ScoreQuery::default()
                },
            )
            .await?;
        for score in scores.items {
            let Some(trace_id) = score.record.trace_id.clone() else {
                continue;
            };
            scores_by_trace.entry(trace_id).or_default().push(json!({
                "name": score.record.name,
                "value": score.record.value,
                "stringValue": score.record.string_value,
            }));
        }
    }
    let fields = TraceFields {
        io: false,
        scores: false,
        observations: false,
        metrics: true,
    };
    let project = access.project_id.clone();
    let response = PageResponse::from_page(page, |view| {
        let id = view.record.id.clone();
        let mut item =
            serde_json::to_value(api::trace_summary(view, &project, fields)).unwrap_or(Value::Null);
        if let Value::Object(object) = &mut item {
            object.remove("input");
            object.remove("output");
            object.remove("metadata");
            let totals = tokens.get(&id).copied().unwrap_or_default();
            object.insert(
                "tokens".to_owned(),
                json!({"input": totals.input, "output": totals.output, "total": totals.total}),
            );
            object.insert(
                "scores".to_owned(),
                Value::Array(scores_by_trace.get(&id).cloned().unwrap_or_default()),
            );
        }
        item
    });
    Ok(Json(serde_json::to_value(response).unwrap_or(Value::Null)))
}

/// `GET …/traces/{id}`: the trace with its input and output, all its scores, and all its
/// observations without their input, output and metadata: a trace of thousands of large
/// generations stays a small answer, and the page fetches one observation's payloads when
/// it is selected (`GET …/observations/{id}`).
pub async fn get_trace(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, trace_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let mut view = state
        .store
        .get_trace(&access.project_id, &trace_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("trace {trace_id:?}")))?;
    for observation in &mut view.observations {
        observation.record.input = None;
        observation.record.output = None;
        observation.record.metadata = Default::default();
    }
    Ok(Json(api::trace_detail(view, &access.project_id)).into_response())
}

/// `GET …/observations/{id}`: one observation with its input, output and metadata.
pub async fn get_observation(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, observation_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let view = state
        .store
        .get_observation(&access.project_id, &observation_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("observation {observation_id:?}")))?;
    Ok(Json(api::observation_v1(view, &access.project_id)).into_response())
}

/// `GET …/observations`: the public v1 parameters.
pub async fn list_observations(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let query = ObservationQuery {
        page: params.page()?,
        limit: params.limit(200)?,
        after: None,
        observation_type: params.parsed(
            "type",
            ObservationType::parse,
            "an observation type such as GENERATION",
        )?,
        name: params.string("name"),
        user_id: params.string("userId"),
        session_id: params.string("sessionId"),
        level: params.parsed(
            "level",
            Level::parse,
            "one of DEBUG, DEFAULT, WARNING, ERROR",
        )?,
        trace_id: params.string("traceId"),
        version: params.string("version"),
        parent_observation_id: None,
        is_root: None,
        environments: params.all("environment"),
        from_start_time: params.timestamp("fromStartTime")?,
        to_start_time: params.timestamp("toStartTime")?,
        filters: params.filters()?,
    };
    let page = state
        .store
        .list_observations(&access.project_id, &query)
        .await?;
    let project = access.project_id.clone();
    Ok(Json(PageResponse::from_page(page, |view| {
        let mut observation = api::observation_v1(view, &project);
        observation.input = Value::Null;
        observation.output = Value::Null;
        observation
    }))
    .into_response())
}

/// `GET …/scores`: `name`, `traceId`, `source`, `page`, `limit`, `filter`.
pub async fn list_scores(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let query = ScoreQuery {
        page: params.page()?,
        limit: params.limit(200)?,
        name: params.string("name"),
        trace_id: params.string("traceId"),
        user_id: params.string("userId"),
        filters: params.filters()?,
        ..ScoreQuery::default()
    };
    let page = state.store.list_scores(&access.project_id, &query).await?;
    let project = access.project_id.clone();
    Ok(Json(PageResponse::from_page(page, |view| {
        api::score_v1(view, &project)
    }))
    .into_response())
}

/// `POST …/scores`: an annotation `{traceId, observationId?, name, value, dataType?,
/// comment?}`; its source is `ANNOTATION` and its author the signed-in user.
pub async fn create_score(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    Json(body): Json<Map<String, Value>>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let mut object = Map::new();
    for key in [
        "traceId",
        "observationId",
        "sessionId",
        "name",
        "value",
        "dataType",
        "comment",
    ] {
        if let Some(value) = body.get(key).filter(|value| !value.is_null()) {
            object.insert(key.to_owned(), value.clone());
        }
    }
    if !object.contains_key("traceId") && !object.contains_key("sessionId") {
        return Err(Error::invalid("traceId", "is required").into());
    }
    object.insert("source".to_owned(), json!("ANNOTATION"));
    object.insert("authorUserId".to_owned(), json!(signed_in.user.id));
    let now = now_micros();
    let stamp = Stamp::explicit(
        now,
        Stamp::RANK_CREATE,
        tiebreak_of(Value::Object(object.clone()).to_string().as_bytes()),
    );
    let mut new_id = fresh_id;
    let score = spindle_ingest::score::parse_score(&object, "body", now, stamp, &mut new_id)?;
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
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

/// Image types shown inline; everything else (SVG included, which can carry script) is
/// only offered as a download.
const INLINE_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// `GET …/media/{id}`: the bytes of an uploaded media object, for `<img>` tags of the app.
pub async fn media_content(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, media_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let media = state
        .store
        .get_media(&access.project_id, &media_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("media {media_id:?}")))?;
    let bytes = state
        .store
        .get_media_bytes(&access.project_id, &media_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("content of media {media_id:?}")))?;
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

/// `GET …/sessions`.
pub async fn list_sessions(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let query = SessionQuery {
        page: params.page()?,
        limit: params.limit(200)?,
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        environments: params.all("environment"),
    };
    let page = state
        .store
        .list_sessions(&access.project_id, &query)
        .await?;
    let ids: Vec<String> = page.items.iter().map(|view| view.id.clone()).collect();
    let stats = accounts(&state)?
        .session_stats(&access.project_id, &ids)
        .await?;
    let project = access.project_id.clone();
    let response = PageResponse::from_page(page, |view| {
        let totals = stats.get(&view.id).cloned();
        let mut item =
            serde_json::to_value(api::session(view, &project, false)).unwrap_or(Value::Null);
        if let (Value::Object(object), Some(totals)) = (&mut item, totals) {
            let duration = match (totals.first, totals.last) {
                (Some(first), Some(last)) => Some((last - first).max(0) as f64 / 1e6),
                _ => None,
            };
            object.insert("traceCount".to_owned(), json!(totals.traces));
            object.insert("userIds".to_owned(), json!(totals.users));
            object.insert("durationSeconds".to_owned(), json!(duration));
            object.insert("totalCost".to_owned(), json!(totals.total_cost));
        }
        item
    });
    Ok(Json(serde_json::to_value(response).unwrap_or(Value::Null)).into_response())
}

/// `GET …/sessions/{id}`: the session's traces with their input and output, oldest first,
/// so the page can replay the conversation.
pub async fn get_session(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, session_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    let view = state
        .store
        .get_session(&access.project_id, &session_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("session {session_id:?}")))?;
    let mut session = api::session(view, &access.project_id, true);
    if let Some(traces) = session.traces.as_mut() {
        traces.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    }
    Ok(Json(session).into_response())
}

/// `GET …/users`: the project's end users with traces, tokens, cost, first and last seen.
pub async fn list_users(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let page = accounts(&state)?
        .user_summaries(&access.project_id, params.page()?, params.limit(200)?)
        .await?;
    let response = PageResponse::from_page(page, |user| {
        json!({
            "userId": user.user_id,
            "traces": user.traces,
            "firstSeen": user.first_seen.map(format_iso),
            "lastSeen": user.last_seen.map(format_iso),
            "inputTokens": user.input_tokens,
            "outputTokens": user.output_tokens,
            "totalTokens": user.total_tokens,
            "totalCost": user.total_cost,
        })
    });
    Ok(Json(serde_json::to_value(response).unwrap_or(Value::Null)))
}

fn level_filter(level: &str) -> Filter {
    Filter {
        column: "level".to_owned(),
        operator: "any of".to_owned(),
        value: FilterValue::Strings(vec![level.to_owned()]),
        key: None,
    }
}

/// `GET …/dashboard?fromTimestamp&toTimestamp`: daily counts, cost and usage by model,
/// latency percentiles by trace name and by model, and the error rate.
pub async fn dashboard(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let from = params.timestamp("fromTimestamp")?;
    let to = params.timestamp("toTimestamp")?;
    let daily = state
        .store
        .daily_metrics(
            &access.project_id,
            &MetricsQuery {
                page: 1,
                limit: 366,
                from_timestamp: from,
                to_timestamp: to,
                ..MetricsQuery::default()
            },
        )
        .await?;
    let count = |filters: Vec<Filter>| TraceQuery {
        page: 1,
        limit: 1,
        from_timestamp: from,
        to_timestamp: to,
        filters,
        ..TraceQuery::default()
    };
    let traces = state
        .store
        .list_traces(&access.project_id, &count(Vec::new()))
        .await?
        .total_items;
    let errors = state
        .store
        .list_traces(&access.project_id, &count(vec![level_filter("ERROR")]))
        .await?
        .total_items;
    let latency = accounts(&state)?
        .latency_report(&access.project_id, from, to)
        .await?;
    let stats = |items: Vec<spindle_store::accounts::LatencyStats>| -> Vec<Value> {
        items
            .into_iter()
            .map(|item| {
                json!({"key": item.key, "count": item.count, "errors": item.errors,
                       "p50": item.p50, "p90": item.p90, "p99": item.p99})
            })
            .collect()
    };
    let mut days: Vec<api::DailyMetricsItem> =
        daily.items.into_iter().map(api::daily_metrics).collect();
    days.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(Json(json!({
        "daily": days,
        "traces": traces,
        "errorTraces": errors,
        "latencyByTraceName": stats(latency.by_trace_name),
        "latencyByModel": stats(latency.by_model),
    })))
}

fn key_json(key: &spindle_store::ApiKey) -> Value {
    json!({
        "publicKey": key.public_key,
        "secretHint": key.secret_hint,
        "note": key.note,
        "createdAt": format_iso(key.created_at),
        "revokedAt": key.revoked_at.map(format_iso),
    })
}

/// `GET …/keys`: the project's keys (never their secrets).
pub async fn list_keys(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let keys = state.store.list_api_keys(Some(&access.project_id)).await?;
    Ok(Json(
        json!({"data": keys.iter().map(key_json).collect::<Vec<_>>()}),
    ))
}

/// `POST …/keys`: a new key pair; the only answer that ever holds the secret key.
pub async fn create_key(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    access.require_owner()?;
    let public_key = format!("pk-lf-{}", uuid::Uuid::new_v4());
    let secret_key = format!("sk-lf-{}", uuid::Uuid::new_v4());
    insert_key(
        state.store.as_ref(),
        &access.project_id,
        &public_key,
        &secret_key,
        now_micros(),
    )
    .await
    .map_err(|error| Error::internal(format!("creating a key: {error}")))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"publicKey": public_key, "secretKey": secret_key})),
    )
        .into_response())
}

/// `DELETE …/keys/{public_key}`: revokes a key of this project.
pub async fn revoke_key(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, public_key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    access.require_owner()?;
    let key = state
        .store
        .get_api_key(&public_key)
        .await?
        .filter(|key| key.project_id == access.project_id)
        .ok_or_else(|| Error::not_found(format!("key {public_key:?}")))?;
    let revoked = state
        .store
        .revoke_api_key(&key.public_key, now_micros())
        .await?;
    state.auth.invalidate();
    Ok(Json(json!({"revoked": revoked})))
}

#[derive(Debug, Deserialize)]
pub struct ViewBody {
    page: String,
    name: String,
    query: String,
}

fn view_json(view: &SavedView) -> Value {
    json!({"id": view.id, "page": view.page, "name": view.name, "query": view.query})
}

/// `GET …/views?page=traces`: saved views of a page.
pub async fn list_views(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let params = Params::parse(raw.as_deref())?;
    let page = params.string("page").unwrap_or_else(|| "traces".to_owned());
    let views = accounts(&state)?
        .list_views(&access.project_id, &page)
        .await?;
    Ok(Json(
        json!({"data": views.iter().map(view_json).collect::<Vec<_>>()}),
    ))
}

/// `POST …/views` `{page, name, query}`.
pub async fn save_view(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    Json(body): Json<ViewBody>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    if body.name.trim().is_empty() {
        return Err(Error::invalid("name", "must not be empty").into());
    }
    let view = SavedView {
        id: fresh_id(),
        project_id: access.project_id.clone(),
        user_id: signed_in.user.id.clone(),
        page: body.page,
        name: body.name.trim().to_owned(),
        query: body.query,
        created_at: now_micros(),
    };
    accounts(&state)?.save_view(&view).await?;
    Ok((StatusCode::CREATED, Json(view_json(&view))).into_response())
}

/// `DELETE …/views/{id}`.
pub async fn delete_view(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, view_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let deleted = accounts(&state)?
        .delete_view(&access.project_id, &view_id)
        .await?;
    Ok(Json(json!({"deleted": deleted})))
}

/// `GET …/members`.
pub async fn list_members(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let access = access(&state, &signed_in, &project_id).await?;
    let members = accounts(&state)?
        .members_of_project(&access.project_id)
        .await?;
    let data: Vec<Value> = members
        .into_iter()
        .map(|(user, role)| json!({"email": user.email, "role": role.as_str()}))
        .collect();
    Ok(Json(json!({"data": data})))
}

#[derive(Debug, Deserialize)]
pub struct InviteBody {
    email: String,
    #[serde(default)]
    role: Option<String>,
}

/// How long an invitation link stays valid: 7 days.
const INVITE_SECONDS: i64 = 7 * 24 * 3600;

/// `POST …/members` `{email, role?}`: adds a member, creating the user when needed; a new
/// user gets a one-time sign-in link (returned once) to set their password.
pub async fn invite_member(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<String>,
    Json(body): Json<InviteBody>,
) -> ApiResult<Response> {
    let access = access(&state, &signed_in, &project_id).await?;
    access.require_owner()?;
    let email = body.email.trim().to_owned();
    if !email.contains('@') {
        return Err(Error::invalid("email", "expected an email address").into());
    }
    let role = match body.role.as_deref() {
        None => Role::Member,
        Some(text) => {
            Role::parse(text).ok_or_else(|| Error::invalid("role", "expected owner or member"))?
        }
    };
    let accounts = accounts(&state)?;
    let now = now_micros();
    let (user_id, link) = match accounts.get_user_by_email(&email).await? {
        Some(user) => (user.id, None),
        None => {
            let user = User {
                id: fresh_id(),
                email: email.clone(),
                name: None,
                password_hash: None,
                is_admin: false,
                created_at: now,
            };
            accounts.create_user(&user).await?;
            let token = new_token();
            accounts
                .create_sign_in_link(
                    &token_hash(&token),
                    &user.id,
                    now + INVITE_SECONDS * 1_000_000,
                )
                .await?;
            (user.id, Some(format!("/api/ui/auth/link?token={token}")))
        }
    };
    accounts
        .set_membership(
            &Membership {
                user_id,
                project_id: access.project_id.clone(),
                role,
            },
            now,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"email": email, "role": role.as_str(), "signInPath": link})),
    )
        .into_response())
}
