//! `/api/public/models`: the project's custom models (create, replace, delete) and the
//! built-in price table (read only), in Langfuse's shapes. Prices are USD per unit.

use super::body::{fresh_id, now_micros};
use super::ingest::JsonRequest;
use super::params::Params;
use crate::auth::{FullAuth, ProjectAuth};
use crate::dto::message_json;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};
use spindle_core::time::{format_iso, parse_iso, Micros};
use spindle_core::{Error, ErrorKind};
use spindle_cost::{CustomModel, ModelPrice};
use spindle_store::Store;
use std::collections::BTreeMap;

fn price_map(prices: &BTreeMap<String, f64>) -> Value {
    Value::Object(
        prices
            .iter()
            .map(|(key, price)| (key.clone(), json!({"price": price})))
            .collect(),
    )
}

fn tier_json(
    id: &str,
    name: &str,
    priority: i64,
    conditions: Value,
    prices: &BTreeMap<String, f64>,
) -> Value {
    json!({
        "id": id,
        "name": name,
        "isDefault": priority == 0,
        "priority": priority,
        "conditions": conditions,
        "prices": prices,
    })
}

/// A custom model as Langfuse returns it.
pub fn custom_json(model: &CustomModel) -> Value {
    let mut tiers = vec![tier_json(
        &format!("{}-default", model.id),
        "Standard",
        0,
        json!([]),
        &model.prices,
    )];
    tiers.extend(model.pricing_tiers.iter().map(|tier| {
        tier_json(
            &tier.id,
            &tier.name,
            tier.priority,
            json!(tier.conditions),
            &tier.prices,
        )
    }));
    let tokenizer_config = model
        .tokenizer_config
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .unwrap_or(Value::Null);
    json!({
        "id": model.id,
        "modelName": model.model_name,
        "matchPattern": model.match_pattern,
        "startDate": model.start_date.map(format_iso),
        "unit": model.unit.as_deref().unwrap_or("TOKENS"),
        "inputPrice": model.prices.get("input"),
        "outputPrice": model.prices.get("output"),
        "totalPrice": model.prices.get("total"),
        "tokenizerId": model.tokenizer_id,
        "tokenizerConfig": tokenizer_config,
        "isLangfuseManaged": false,
        "createdAt": format_iso(model.created_at),
        "prices": price_map(&model.prices),
        "pricingTiers": tiers,
    })
}

/// A built-in entry as Langfuse returns its managed models, plus where its prices come from.
pub fn builtin_json(entry: &ModelPrice) -> Value {
    let mut tiers = vec![tier_json(
        &format!("{}-default", entry.id),
        "Standard",
        0,
        json!([]),
        &entry.prices,
    )];
    for (index, tier) in entry.tiers.iter().enumerate() {
        let conditions: Vec<Value> = tier
            .conditions
            .iter()
            .map(|condition| {
                let pattern = match condition.usage.as_str() {
                    "input_total" => "^input".to_owned(),
                    "output_total" => "^output".to_owned(),
                    other => format!("^{other}$"),
                };
                json!({
                    "usageDetailPattern": pattern,
                    "operator": condition.operator.as_str(),
                    "value": condition.value,
                    "caseSensitive": false,
                })
            })
            .collect();
        tiers.push(tier_json(
            &format!("{}-tier-{}", entry.id, index + 1),
            &tier.name,
            index as i64 + 1,
            Value::Array(conditions),
            &tier.prices,
        ));
    }
    json!({
        "id": entry.id,
        "modelName": entry.model_name,
        "matchPattern": entry.match_pattern,
        "startDate": entry.start_date.map(format_iso),
        "unit": "TOKENS",
        "inputPrice": entry.prices.get("input"),
        "outputPrice": entry.prices.get("output"),
        "totalPrice": entry.prices.get("total"),
        "tokenizerId": entry.tokenizer.as_ref().map(|_| "openai"),
        "tokenizerConfig": entry.tokenizer.as_ref().map(|encoding| json!({"encoding": encoding})),
        "isLangfuseManaged": true,
        "createdAt": format_iso(entry.start_date.unwrap_or(0)),
        "prices": price_map(&entry.prices),
        "pricingTiers": tiers,
        "source": entry.source,
    })
}

/// Every model of the project: its custom ones (newest first), then the built-in ones.
pub async fn all_models(store: &dyn Store, project_id: &str) -> Result<Vec<Value>, Error> {
    let mut custom = store.list_models(project_id).await?;
    custom.reverse();
    Ok(custom
        .iter()
        .map(custom_json)
        .chain(
            spindle_cost::builtin_table()
                .models
                .iter()
                .map(builtin_json),
        )
        .collect())
}

/// Reads a create (or replace) request into a model of `project_id` with id `id`, created now.
pub fn model_from_body(project_id: &str, id: String, body: &Value) -> Result<CustomModel, Error> {
    spindle_ingest::model::parse_model(project_id, id, body, now_micros())
}

/// The largest model body.
const MAX_MODEL_BODY: usize = 1 << 20;

/// Reads and parses a model body, the model to be stored under `id`.
async fn model_body(
    state: &AppState,
    auth: &ProjectAuth,
    request: JsonRequest,
    id: String,
) -> ApiResult<CustomModel> {
    let project_id = auth.project_id.clone();
    request
        .parse(state, auth, MAX_MODEL_BODY, move |bytes| {
            spindle_ingest::model::parse_model_body(&project_id, id, bytes, now_micros())
        })
        .await
}

fn is_builtin(id: &str) -> bool {
    spindle_cost::builtin_entry(id).is_some()
}

/// `GET /api/public/models`
pub async fn list(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw.as_deref())?;
    let page = params.page()?;
    let limit = params.limit(100)?;
    let models = all_models(state.store.as_ref(), &auth.project_id).await?;
    let total = models.len() as u64;
    let start = (u64::from(page) - 1).saturating_mul(u64::from(limit));
    let data: Vec<Value> = models
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(limit as usize)
        .collect();
    Ok(Json(json!({
        "data": data,
        "meta": {
            "page": page,
            "limit": limit,
            "totalItems": total,
            "totalPages": total.div_ceil(u64::from(limit.max(1))),
        },
    })))
}

/// `POST /api/public/models`
pub async fn create(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let model = model_body(&state, &auth, request, fresh_id()).await?;
    state.store.put_model(&model).await?;
    Ok(Json(custom_json(&model)))
}

/// `PUT /api/public/models/{id}`: creates or replaces a custom model under its id.
pub async fn upsert(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    if is_builtin(&id) {
        return Err(Error::invalid("id", "built-in models cannot be modified; create a model of your own with the same match pattern to override it").into());
    }
    let mut model = model_body(&state, &auth, request, id.clone()).await?;
    if let Some(existing) = state
        .store
        .list_models(&auth.project_id)
        .await?
        .into_iter()
        .find(|existing| existing.id == id)
    {
        model.created_at = existing.created_at;
    }
    state.store.put_model(&model).await?;
    Ok(Json(custom_json(&model)))
}

/// `GET /api/public/models/{id}`
pub async fn get(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if let Some(model) = state
        .store
        .list_models(&auth.project_id)
        .await?
        .iter()
        .find(|model| model.id == id)
    {
        return Ok(Json(custom_json(model)));
    }
    spindle_cost::builtin_entry(&id)
        .map(|entry| Json(builtin_json(entry)))
        .ok_or_else(|| Error::not_found(format!("model {id:?}")).into())
}

/// `DELETE /api/public/models/{id}`
pub async fn delete(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if state.store.delete_model(&auth.project_id, &id).await? {
        return Ok(message_json("Model successfully deleted"));
    }
    if is_builtin(&id) {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("model {id:?} is built in and cannot be deleted; create a model with the same match pattern to override it, or switch built-in prices off for the project"),
        )
        .into());
    }
    Err(Error::not_found(format!("model {id:?}")).into())
}

/// Parses an optional ISO time field of a JSON body.
pub fn optional_time(body: &Value, key: &str) -> Result<Option<Micros>, Error> {
    match &body[key] {
        Value::Null => Ok(None),
        Value::String(text) => parse_iso(text)
            .map(Some)
            .ok_or_else(|| Error::invalid(key, "must be an ISO 8601 time")),
        _ => Err(Error::invalid(key, "must be an ISO 8601 time")),
    }
}
