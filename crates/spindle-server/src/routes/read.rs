//! Read endpoints of the public API: traces, observations, scores, sessions, metrics,
//! projects. Each handler parses parameters, calls the store once, and converts the result.

use super::params::Params;
use crate::api::{self, ObservationFields, PageResponse, TraceFields};
use crate::auth::FullAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use spindle_core::{Error, Level, ObservationType, ScoreDataType, ScoreSource};
use spindle_store::{Cursor, MetricsQuery, ObservationQuery, ScoreQuery, SessionQuery, TraceQuery};

pub async fn list_traces(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let query = TraceQuery {
        page: params.page()?,
        limit: params.limit(100)?,
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
        filters: params.filters()?,
        search: params.string("search"),
        score: None,
    };
    let fields = TraceFields::parse(params.get("fields"));
    let page = state.store.list_traces(&auth.project_id, &query).await?;
    let project_id = auth.project_id.clone();
    Ok(Json(PageResponse::from_page(page, |view| {
        api::trace_summary(view, &project_id, fields)
    }))
    .into_response())
}

pub async fn get_trace(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(trace_id): Path<String>,
) -> ApiResult<Response> {
    let view = state
        .store
        .get_trace(&auth.project_id, &trace_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("trace {trace_id:?}")))?;
    Ok(Json(api::trace_detail(view, &auth.project_id)).into_response())
}

pub async fn delete_trace(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(trace_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let deleted = state
        .store
        .delete_traces(&auth.project_id, std::slice::from_ref(&trace_id))
        .await?;
    if deleted == 0 {
        return Err(Error::not_found(format!("trace {trace_id:?}")).into());
    }
    Ok(Json(json!({"message": "Trace deleted successfully"})))
}

pub async fn delete_traces(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|error| Error::invalid("body", format!("invalid JSON: {error}")))?;
    let ids = value
        .get("traceIds")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("traceIds", "is required and must be an array of strings"))?
        .iter()
        .enumerate()
        .map(|(index, id)| {
            id.as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::invalid(format!("traceIds[{index}]"), "expected a string"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() || ids.len() > 1000 {
        return Err(Error::invalid("traceIds", "must hold 1 to 1000 ids").into());
    }
    state.store.delete_traces(&auth.project_id, &ids).await?;
    Ok(Json(json!({"message": "Traces deleted successfully"})))
}

fn observation_query(params: &Params) -> Result<ObservationQuery, Error> {
    Ok(ObservationQuery {
        page: params.page()?,
        limit: 50,
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
        parent_observation_id: params.string("parentObservationId"),
        is_root: params.boolean("isRootObservation")?,
        environments: params.all("environment"),
        from_start_time: params.timestamp("fromStartTime")?,
        to_start_time: params.timestamp("toStartTime")?,
        filters: params.filters()?,
    })
}

pub async fn list_observations(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let mut query = observation_query(&params)?;
    query.limit = params.limit(100)?;
    let page = state
        .store
        .list_observations(&auth.project_id, &query)
        .await?;
    let project_id = auth.project_id.clone();
    Ok(Json(PageResponse::from_page(page, |view| {
        api::observation_v1(view, &project_id)
    }))
    .into_response())
}

pub async fn get_observation(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(observation_id): Path<String>,
) -> ApiResult<Response> {
    let view = state
        .store
        .get_observation(&auth.project_id, &observation_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("observation {observation_id:?}")))?;
    Ok(Json(api::observation_v1(view, &auth.project_id)).into_response())
}

fn encode_cursor(cursor: &Cursor) -> String {
    let json = json!({"lastStartTime": cursor.time, "lastId": cursor.id}).to_string();
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn decode_cursor(text: &str) -> Result<Cursor, Error> {
    let invalid = || Error::invalid("cursor", "not a cursor returned by this endpoint");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    Ok(Cursor {
        time: value
            .get("lastStartTime")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?,
        id: value
            .get("lastId")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?
            .to_owned(),
    })
}

pub async fn list_observations_v2(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let mut query = observation_query(&params)?;
    query.limit = params.limit(1000)?;
    query.after = params.get("cursor").map(decode_cursor).transpose()?;
    let fields = ObservationFields::parse(params.get("fields"))?;
    let expand_metadata = params.boolean("expandMetadata")?.unwrap_or(false);
    let page = state
        .store
        .list_observations(&auth.project_id, &query)
        .await?;
    let cursor = page.next_cursor.as_ref().map(encode_cursor);
    let data: Vec<Value> = page
        .items
        .into_iter()
        .map(|view| api::observation_v2(view, &auth.project_id, &fields, expand_metadata))
        .collect();
    Ok(Json(api::CursorResponse {
        data,
        meta: api::CursorMeta { cursor },
    })
    .into_response())
}

fn score_query(params: &Params) -> Result<ScoreQuery, Error> {
    let value = match params.get("value") {
        None => None,
        Some(text) => {
            let number = text
                .parse::<f64>()
                .map_err(|_| Error::invalid("value", "expected a number"))?;
            let operator = params.get("operator").unwrap_or("=");
            if !["<", ">", "<=", ">=", "!=", "="].contains(&operator) {
                return Err(Error::invalid(
                    "operator",
                    "expected one of <, >, <=, >=, !=, =",
                ));
            }
            Some((operator.to_owned(), number))
        }
    };
    Ok(ScoreQuery {
        page: params.page()?,
        limit: params.limit(100)?,
        user_id: params.string("userId"),
        name: params.string("name"),
        data_type: params.parsed(
            "dataType",
            ScoreDataType::parse,
            "one of NUMERIC, CATEGORICAL, BOOLEAN, CORRECTION, TEXT",
        )?,
        source: params.parsed("source", ScoreSource::parse, "one of API, EVAL, ANNOTATION")?,
        config_id: params.string("configId"),
        queue_id: params.string("queueId"),
        trace_tags: params.all("traceTags"),
        environments: params.all("environment"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        value,
        score_ids: params.all("scoreIds"),
        session_id: params.string("sessionId"),
        trace_id: params.string("traceId"),
        observation_ids: params.all("observationId"),
        dataset_run_id: params.string("datasetRunId"),
        filters: params.filters()?,
    })
}

pub async fn list_scores(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let query = score_query(&params)?;
    let page = state.store.list_scores(&auth.project_id, &query).await?;
    let project_id = auth.project_id.clone();
    Ok(Json(PageResponse::from_page(page, |view| {
        api::score_v1(view, &project_id)
    }))
    .into_response())
}

pub async fn get_score(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(score_id): Path<String>,
) -> ApiResult<Response> {
    let view = state
        .store
        .get_score(&auth.project_id, &score_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("score {score_id:?}")))?;
    Ok(Json(api::score_v1(view, &auth.project_id)).into_response())
}

pub async fn delete_score(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(score_id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state
        .store
        .delete_score(&auth.project_id, &score_id)
        .await?
    {
        return Err(Error::not_found(format!("score {score_id:?}")).into());
    }
    Ok(Json(json!({"message": "Score deleted successfully"})))
}

pub async fn list_sessions(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let query = SessionQuery {
        page: params.page()?,
        limit: params.limit(100)?,
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        environments: params.all("environment"),
    };
    let page = state.store.list_sessions(&auth.project_id, &query).await?;
    let project_id = auth.project_id.clone();
    Ok(Json(PageResponse::from_page(page, |view| {
        api::session(view, &project_id, false)
    }))
    .into_response())
}

pub async fn get_session(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let view = state
        .store
        .get_session(&auth.project_id, &session_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("session {session_id:?}")))?;
    Ok(Json(api::session(view, &auth.project_id, true)).into_response())
}

pub async fn daily_metrics(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let query = MetricsQuery {
        page: params.page()?,
        limit: params.limit(100)?,
        trace_name: params.string("traceName"),
        user_id: params.string("userId"),
        tags: params.all("tags"),
        environments: params.all("environment"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
    };
    let page = state.store.daily_metrics(&auth.project_id, &query).await?;
    Ok(Json(PageResponse::from_page(page, api::daily_metrics)).into_response())
}

/// `GET /api/public/projects`: the project the key belongs to (the SDKs' `auth_check`).
pub async fn projects(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
) -> ApiResult<Json<Value>> {
    let project = state
        .store
        .get_project(&auth.project_id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    Ok(Json(json!({"data": [{
        "id": project.id,
        "name": project.name,
        "organization": {"id": project.organization.id, "name": project.organization.name},
        "metadata": {},
        "retentionDays": project.retention_days,
    }]})))
}

/// `GET /api/public/v3/scores`: comma-list filters, typed values, an opaque cursor.
pub async fn list_scores_v3(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    use spindle_store::{Filter, FilterValue};
    let params = Params::parse(raw.as_deref())?;
    let fields = api::ScoreV3Fields::parse(params.get("fields"))?;
    let limit = params.limit(100)?;
    let page = match params.get("cursor") {
        None => 1,
        Some(text) => {
            let invalid = || Error::invalid("cursor", "not a cursor returned by this endpoint");
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| invalid())?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
            value
                .get("page")
                .and_then(Value::as_u64)
                .and_then(|page| u32::try_from(page).ok())
                .filter(|page| *page >= 1)
                .ok_or_else(invalid)?
        }
    };
    let mut filters = Vec::new();
    let mut any_of = |parameter: &str, column: &str, upper: bool| {
        let values: Vec<String> = params
            .all(parameter)
            .into_iter()
            .map(|value| {
                if upper {
                    value.to_ascii_uppercase()
                } else {
                    value
                }
            })
            .collect();
        if !values.is_empty() {
            filters.push(Filter {
                column: column.to_owned(),
                operator: "any of".to_owned(),
                value: FilterValue::Strings(values),
                key: None,
            });
        }
    };
    any_of("id", "id", false);
    any_of("name", "name", false);
    any_of("source", "source", true);
    any_of("dataType", "dataType", true);
    any_of("environment", "environment", false);
    any_of("configId", "configId", false);
    any_of("queueId", "queueId", false);
    any_of("authorUserId", "authorUserId", false);
    any_of("traceId", "traceId", false);
    any_of("sessionId", "sessionId", false);
    any_of("observationId", "observationId", false);
    any_of("experimentId", "datasetRunId", false);
    if !params.all("observationId").is_empty() && params.all("traceId").is_empty() {
        return Err(Error::invalid("observationId", "requires traceId").into());
    }
    let data_types = params.all("dataType");
    let single_type = (data_types.len() == 1).then(|| data_types[0].to_ascii_uppercase());
    for (parameter, operator) in [("valueMin", ">="), ("valueMax", "<=")] {
        if let Some(bound) =
            params.parsed(parameter, |text| text.parse::<f64>().ok(), "a number")?
        {
            if single_type.as_deref() != Some("NUMERIC") {
                return Err(Error::invalid(parameter, "requires dataType=NUMERIC").into());
            }
            filters.push(Filter {
                column: "value".to_owned(),
                operator: operator.to_owned(),
                value: FilterValue::Number(bound),
                key: None,
            });
        }
    }
    let values = params.all("value");
    if !values.is_empty() {
        match single_type.as_deref() {
            Some("CATEGORICAL") => filters.push(Filter {
                column: "stringValue".to_owned(),
                operator: "any of".to_owned(),
                value: FilterValue::Strings(values),
                key: None,
            }),
            Some("BOOLEAN") | Some("NUMERIC") if values.len() == 1 => {
                let number = match (single_type.as_deref(), values[0].as_str()) {
                    (Some("BOOLEAN"), "true") => 1.0,
                    (Some("BOOLEAN"), "false") => 0.0,
                    (Some("NUMERIC"), text) => text
                        .parse::<f64>()
                        .ok()
                        .filter(|number| number.is_finite())
                        .ok_or_else(|| Error::invalid("value", "must be a finite number"))?,
                    _ => return Err(Error::invalid("value", "must be true or false").into()),
                };
                filters.push(Filter {
                    column: "value".to_owned(),
                    operator: "=".to_owned(),
                    value: FilterValue::Number(number),
                    key: None,
                });
            }
            Some("BOOLEAN") | Some("NUMERIC") => {
                return Err(Error::invalid(
                    "value",
                    "takes one value for NUMERIC and BOOLEAN scores",
                )
                .into())
            }
            _ => {
                return Err(Error::invalid(
                    "value",
                    "requires a single dataType of NUMERIC, BOOLEAN or CATEGORICAL",
                )
                .into())
            }
        }
    }
    let query = ScoreQuery {
        page,
        limit,
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        filters,
        ..ScoreQuery::default()
    };
    let result = state.store.list_scores(&auth.project_id, &query).await?;
    let has_more = u64::from(page) * u64::from(limit) < result.total_items;
    let cursor = has_more.then(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"page": page + 1}).to_string())
    });
    let data: Vec<Value> = result
        .items
        .into_iter()
        .map(|view| api::score_v3(view, &auth.project_id, fields))
        .collect();
    Ok(Json(json!({"data": data, "meta": {"limit": limit, "cursor": cursor}})).into_response())
}
