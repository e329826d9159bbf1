//! The UI's models page: the project's custom models beside the built-in prices, the switch
//! that turns built-in prices off, and the recomputation of costs over a time range.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use spindle_core::Error;
use spindle_store::audit::resource;

use super::responses::{BuiltinPrices, Changed, Deleted, Models};
use super::session::ProjectAccess;
use crate::error::ApiResult;
use crate::routes::body::fresh_id;
use crate::routes::models::{all_models, custom_json, model_from_body, optional_time};
use crate::state::AppState;
use spindle_store::accounts::Permission;

/// `GET …/models`: every model that can price the project's generations, and the switch.
pub async fn list(State(state): State<AppState>, access: ProjectAccess) -> ApiResult<Json<Models>> {
    let models = all_models(state.store.as_ref(), &access.project_id).await?;
    let builtin_prices = state.store.builtin_prices(&access.project_id).await?;
    Ok(Json(Models {
        data: models,
        builtin_prices,
    }))
}

/// `POST …/models`: a custom model (the public API's body).
pub async fn create(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    access.require(Permission::ManageSettings)?;
    let model = model_from_body(&access.project_id, fresh_id(), &body)?;
    state.store.put_model(&model).await?;
    access
        .record(
            &state,
            "created",
            resource::MODEL,
            &model.id,
            Some(json!({ "modelName": model.model_name })),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(custom_json(&model))))
}

/// `DELETE …/models/{id}`: deletes a custom model.
pub async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, model_id)): Path<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    access.require(Permission::ManageSettings)?;
    if !state
        .store
        .delete_model(&access.project_id, &model_id)
        .await?
    {
        return Err(Error::not_found(format!("custom model {model_id:?}")).into());
    }
    access
        .record(&state, "deleted", resource::MODEL, &model_id, None)
        .await?;
    Ok(Json(Deleted { deleted: true }))
}

/// `PUT …/pricing`: `{"builtinPrices": false}` turns the built-in prices off.
pub async fn set_pricing(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<Json<BuiltinPrices>> {
    access.require(Permission::ManageSettings)?;
    let enabled = body["builtinPrices"]
        .as_bool()
        .ok_or_else(|| Error::invalid("builtinPrices", "must be true or false"))?;
    state
        .store
        .set_builtin_prices(&access.project_id, enabled)
        .await?;
    access
        .record(
            &state,
            "updated",
            resource::PROJECT,
            &access.project_id,
            Some(json!({ "builtinPrices": enabled })),
        )
        .await?;
    Ok(Json(BuiltinPrices {
        builtin_prices: enabled,
    }))
}

/// `POST …/pricing/recompute`: `{"from": ISO?, "to": ISO?}` applies today's prices to the
/// generations that start in the range; answers how many changed.
pub async fn recompute(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<Json<Changed>> {
    access.require(Permission::ManageSettings)?;
    let from = optional_time(&body, "from")?;
    let to = optional_time(&body, "to")?;
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(Error::invalid("to", "must be after from").into());
        }
    }
    let changed = state
        .store
        .recompute_costs(&access.project_id, from, to)
        .await?;
    Ok(Json(Changed { changed }))
}
