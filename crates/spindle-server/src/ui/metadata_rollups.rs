//! The project's rolled-up metadata keys (`spindle_store::metadata_rollups`): the keys of
//! trace metadata whose values the dashboard and the metrics queries read from rollups when
//! they filter on them. Changing the list starts a sweep of the project's traces in the
//! background; a key is used once its sweep is done (`ready`).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use spindle_core::time::{format_iso, now_micros};
use spindle_core::Error;
use spindle_store::accounts::Permission;
use spindle_store::audit::resource;
use spindle_store::metadata_rollups::{RolledKey, MAX_KEYS};

use super::responses::{RolledMetadataKey, RolledMetadataKeys};
use super::session::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

async fn reply(
    state: &AppState,
    project_id: &str,
    keys: Vec<RolledKey>,
) -> ApiResult<Json<RolledMetadataKeys>> {
    // A key not ready yet has a sweep to come or running (only a sweep's end makes a key
    // ready). The sweeps are read after the keys, so a sweep that ended between the two reads
    // must not make the answer say that nothing runs while it shows a key still building: the
    // page refreshes only while `sweeping` holds.
    let sweeping = keys.iter().any(|key| !key.ready)
        || state
            .store
            .metadata_sweeps()
            .await?
            .iter()
            .any(|swept| swept == project_id);
    Ok(Json(RolledMetadataKeys {
        keys: keys
            .into_iter()
            .map(|key| RolledMetadataKey {
                key: key.key,
                ready: key.ready,
                created_at: format_iso(key.created_at),
            })
            .collect(),
        max_keys: MAX_KEYS,
        sweeping,
    }))
}

/// `GET …/rolled-metadata`: the keys, whether each is ready, and whether a sweep runs.
pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<RolledMetadataKeys>> {
    let keys = state.store.rolled_metadata_keys(&access.project_id).await?;
    reply(&state, &access.project_id, keys).await
}

/// `PUT …/rolled-metadata`: `{"keys": ["tenant", …]}` becomes the list (at most
/// [`MAX_KEYS`]); a change wakes the sweep.
pub async fn replace(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<Value>,
) -> ApiResult<Json<RolledMetadataKeys>> {
    access.require(Permission::ManageSettings)?;
    let list = body["keys"]
        .as_array()
        .ok_or_else(|| Error::invalid("keys", "must be an array of strings"))?;
    let mut keys = Vec::with_capacity(list.len());
    for (index, key) in list.iter().enumerate() {
        let key = key
            .as_str()
            .ok_or_else(|| Error::invalid(format!("keys[{index}]"), "must be a string"))?;
        keys.push(key.to_owned());
    }
    let stored = state
        .store
        .set_rolled_metadata_keys(&access.project_id, &keys, now_micros())
        .await?;
    state.sweep_wakeup.notify_one();
    access
        .record(
            &state,
            "updated",
            resource::PROJECT,
            &access.project_id,
            Some(
                json!({ "rolledMetadataKeys": stored.iter().map(|k| &k.key).collect::<Vec<_>>() }),
            ),
        )
        .await?;
    reply(&state, &access.project_id, stored).await
}
