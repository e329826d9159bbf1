//! The administration API, authenticated by organization keys (`OrganizationAuth`):
//! `/api/public/organizations/…` (projects, memberships, keys) and the project routes
//! `POST /api/public/projects`, `PUT`/`DELETE /api/public/projects/{projectId}` with the
//! project's keys and memberships. Project keys are refused with 403, as Langfuse does.
//! Every project path names a live project of the key's organization, or answers 404.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use spindle_core::time::{format_iso, now_micros};
use spindle_core::Error;
use spindle_store::accounts::{Membership, OrganizationMembership, Role, User};
use spindle_store::audit::resource;
use spindle_store::organizations::{ProjectDetails, ProjectUpdate};
use spindle_store::{ApiKey, KeySummary, Project};

use crate::audit::{project_change, Audit};
use crate::auth::OrganizationAuth;
use crate::bootstrap::{api_key, fresh_key_pair};
use crate::error::ApiResult;
use crate::state::AppState;

/// The shortest and longest project names, in characters.
const PROJECT_NAME_CHARS: (usize, usize) = (3, 60);

/// The JSON object of a request body.
fn object(body: &Bytes) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::invalid("body", "expected a JSON object")),
        Err(error) => Err(Error::invalid("body", format!("not JSON: {error}"))),
    }
}

fn required_text(body: &Map<String, Value>, field: &str) -> Result<String, Error> {
    match body.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        None | Some(Value::Null) => Err(Error::invalid(field, "is required")),
        Some(_) => Err(Error::invalid(field, "expected a string")),
    }
}

fn optional_text(body: &Map<String, Value>, field: &str) -> Result<Option<String>, Error> {
    match body.get(field) {
        Some(Value::String(text)) => Ok(Some(text.clone())),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(Error::invalid(field, "expected a string")),
    }
}

fn project_name(body: &Map<String, Value>) -> Result<String, Error> {
    let name = required_text(body, "name")?;
    let chars = name.trim().chars().count();
    if chars < PROJECT_NAME_CHARS.0 || chars > PROJECT_NAME_CHARS.1 {
        return Err(Error::invalid(
            "name",
            "Invalid project name. Should be between 3 and 60 characters.",
        ));
    }
    Ok(name.trim().to_owned())
}

/// `retention`: absent, or 0 (keep everything) or at least 3 days.
fn retention(body: &Map<String, Value>) -> Result<Option<Option<u32>>, Error> {
    let invalid = || Error::invalid("retention", "must be 0 or at least 3 days");
    match body.get("retention") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            let days = number
                .as_u64()
                .and_then(|days| u32::try_from(days).ok())
                .ok_or_else(invalid)?;
            match days {
                0 => Ok(Some(None)),
                1 | 2 => Err(invalid()),
                days => Ok(Some(Some(days))),
            }
        }
        Some(_) => Err(invalid()),
    }
}

/// `metadata`: absent, a JSON object, or a string holding one; kept as JSON text.
fn metadata(body: &Map<String, Value>) -> Result<Option<String>, Error> {
    let invalid = || {
        Error::invalid(
            "metadata",
            "Invalid metadata. Should be a valid JSON object.",
        )
    };
    match body.get("metadata") {
        None => Ok(None),
        Some(Value::Object(object)) => Ok(Some(Value::Object(object.clone()).to_string())),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => Ok(Some(Value::Object(object).to_string())),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

fn role(body: &Map<String, Value>) -> Result<Role, Error> {
    let text = required_text(body, "role")?;
    Role::parse(&text).ok_or_else(|| {
        Error::invalid(
            "role",
            format!("unknown role {text:?}; expected OWNER, ADMIN, MEMBER, VIEWER or NONE"),
        )
    })
}

fn metadata_json(metadata: Option<&str>) -> Value {
    metadata
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| json!({}))
}

/// A project as the project routes answer it (Langfuse's `Project`).
fn project_json(details: &ProjectDetails) -> Value {
    let project = &details.project;
    let mut out = json!({
        "id": project.id,
        "name": project.name,
        "organization": {"id": project.organization.id, "name": project.organization.name},
        "metadata": metadata_json(details.metadata.as_deref()),
    });
    if let Some(days) = project.retention_days.filter(|days| *days > 0) {
        out["retentionDays"] = json!(days);
    }
    out
}

fn membership_json(user: &User, role: Role) -> Value {
    json!({
        "userId": user.id,
        "role": role.as_str(),
        "email": user.email,
        "name": user.name.clone().unwrap_or_default(),
    })
}

/// A key as listed: never its secret, only the hint (`sk-lf-...abcd`).
fn key_summary(key: &KeySummary<'_>) -> Value {
    json!({
        "id": key.public_key,
        "createdAt": format_iso(key.created_at),
        "expiresAt": null,
        "lastUsedAt": null,
        "note": key.note,
        "publicKey": key.public_key,
        "displaySecretKey": format!("sk-lf-...{}", key.secret_hint),
    })
}

/// `{apiKeys: [...]}` of the live keys among `keys`.
fn live_keys<'a>(keys: impl Iterator<Item = KeySummary<'a>>) -> Json<Value> {
    let keys: Vec<Value> = keys
        .filter(|key| key.revoked_at.is_none())
        .map(|key| key_summary(&key))
        .collect();
    Json(json!({ "apiKeys": keys }))
}

/// The user's role in the organization, if they are a member.
async fn organization_role(
    state: &AppState,
    organization_id: &str,
    user_id: &str,
) -> Result<Option<Role>, Error> {
    Ok(state
        .accounts
        .organization_memberships_of_user(user_id)
        .await?
        .into_iter()
        .find(|membership| membership.organization_id == organization_id)
        .map(|membership| membership.role))
}

/// The live project of the key's organization, or 404.
async fn organization_project(
    state: &AppState,
    auth: &OrganizationAuth,
    project_id: &str,
) -> Result<ProjectDetails, Error> {
    state
        .store
        .get_organization_project(&auth.organization_id, project_id)
        .await?
        .ok_or_else(|| Error::not_found("Project (or you don't have access to it)"))
}

// --- organizations ---

/// `GET /api/public/organizations/projects`
pub async fn organization_projects(
    State(state): State<AppState>,
    auth: OrganizationAuth,
) -> ApiResult<Json<Value>> {
    let projects = state
        .store
        .organization_projects(&auth.organization_id)
        .await?;
    let projects: Vec<Value> = projects
        .iter()
        .map(|details| {
            json!({
                "id": details.project.id,
                "name": details.project.name,
                "metadata": metadata_json(details.metadata.as_deref()),
                "createdAt": format_iso(details.project.created_at),
                "updatedAt": format_iso(details.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({ "projects": projects })))
}

/// `GET /api/public/organizations/apiKeys`: the organization's live keys.
pub async fn organization_keys(
    State(state): State<AppState>,
    auth: OrganizationAuth,
) -> ApiResult<Json<Value>> {
    let keys = state
        .store
        .list_organization_api_keys(&auth.organization_id)
        .await?;
    Ok(live_keys(keys.iter().map(|key| key.summary())))
}

/// `GET /api/public/organizations/memberships`
pub async fn organization_memberships(
    State(state): State<AppState>,
    auth: OrganizationAuth,
) -> ApiResult<Json<Value>> {
    let members = state
        .accounts
        .organization_members(&auth.organization_id)
        .await?;
    let memberships: Vec<Value> = members
        .iter()
        .map(|(user, role)| membership_json(user, *role))
        .collect();
    Ok(Json(json!({ "memberships": memberships })))
}

/// `PUT /api/public/organizations/memberships` `{userId, role}`: adds or changes a member;
/// 404 when there is no such user, 409 for the last owner.
pub async fn put_organization_membership(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = object(&body)?;
    let user_id = required_text(&body, "userId")?;
    let role = role(&body)?;
    let user = state
        .accounts
        .get_user(&user_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("userId: user {user_id:?}")))?;
    let previous = organization_role(&state, &auth.organization_id, &user.id).await?;
    state
        .accounts
        .set_organization_membership(
            &OrganizationMembership {
                organization_id: auth.organization_id.clone(),
                user_id: user.id.clone(),
                role,
            },
            now_micros(),
        )
        .await?;
    Audit::by_key(&auth)
        .record_role(
            &state,
            resource::ORGANIZATION_MEMBERSHIP,
            &user.id,
            role,
            previous,
        )
        .await?;
    Ok(Json(membership_json(&user, role)))
}

/// `DELETE /api/public/organizations/memberships` `{userId}`
pub async fn delete_organization_membership(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = object(&body)?;
    let user_id = required_text(&body, "userId")?;
    let previous = organization_role(&state, &auth.organization_id, &user_id).await?;
    if state
        .accounts
        .remove_organization_membership(&auth.organization_id, &user_id)
        .await?
    {
        Audit::by_key(&auth)
            .record(
                &state,
                "removed",
                resource::ORGANIZATION_MEMBERSHIP,
                &user_id,
                previous.map(|role| json!({ "previousRole": role.as_str() })),
            )
            .await?;
    }
    Ok(Json(json!({
        "message": "Membership deleted successfully",
        "userId": user_id,
    })))
}

// --- projects ---

/// `POST /api/public/projects` `{name, metadata?, retention?}`: 201 with the project; 409
/// when the organization has a project with that name.
pub async fn create_project(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    body: Bytes,
) -> ApiResult<Response> {
    let body = object(&body)?;
    let name = project_name(&body)?;
    let retention_days = retention(&body)?.flatten();
    let metadata = metadata(&body)?;
    let organization = state
        .store
        .get_organization(&auth.organization_id)
        .await?
        .ok_or_else(|| Error::not_found("organization"))?;
    let now = now_micros();
    let project = Project {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        organization,
        retention_days,
        created_at: now,
    };
    state
        .store
        .create_project(&project, metadata.as_deref())
        .await?;
    Audit::by_key(&auth)
        .in_project(&project.id)
        .record(
            &state,
            "created",
            resource::PROJECT,
            &project.id,
            Some(json!({ "name": project.name, "retentionDays": project.retention_days })),
        )
        .await?;
    let details = ProjectDetails {
        project,
        metadata,
        updated_at: now,
    };
    Ok((StatusCode::CREATED, Json(project_json(&details))).into_response())
}

/// `PUT /api/public/projects/{projectId}` `{name, metadata?, retention?}`
pub async fn update_project(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let before = organization_project(&state, &auth, &project_id).await?;
    let body = object(&body)?;
    let update = ProjectUpdate {
        name: Some(project_name(&body)?),
        retention_days: retention(&body)?,
        metadata: metadata(&body)?,
    };
    let details = state
        .store
        .update_project(&project_id, &update, now_micros())
        .await?
        .ok_or_else(|| Error::not_found("Project (or you don't have access to it)"))?;
    Audit::by_key(&auth)
        .in_project(&project_id)
        .record(
            &state,
            "updated",
            resource::PROJECT,
            &project_id,
            Some(project_change(&before, &details)),
        )
        .await?;
    Ok(Json(project_json(&details)))
}

/// `DELETE /api/public/projects/{projectId}`: 202; the project and its keys stop working at
/// once, its data goes in the background.
pub async fn delete_project(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
) -> ApiResult<Response> {
    let project = organization_project(&state, &auth, &project_id).await?;
    if state
        .store
        .mark_project_deleted(&project_id, now_micros())
        .await?
    {
        Audit::by_key(&auth)
            .in_project(&project_id)
            .record(
                &state,
                "deleted",
                resource::PROJECT,
                &project_id,
                Some(json!({ "name": project.project.name })),
            )
            .await?;
    }
    state.auth.invalidate();
    state.purge_wakeup.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "success": true,
            "message": "Project deletion has been initiated and is being processed asynchronously",
        })),
    )
        .into_response())
}

/// `GET /api/public/projects/{projectId}/apiKeys`: the project's live keys.
pub async fn project_keys(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    organization_project(&state, &auth, &project_id).await?;
    let keys = state.store.list_api_keys(Some(&project_id)).await?;
    Ok(live_keys(keys.iter().map(|key| key.summary())))
}

/// `POST /api/public/projects/{projectId}/apiKeys` `{note?, publicKey?, secretKey?}`: 201
/// with the secret key, shown this once; 409 when the public key is taken.
pub async fn create_project_key(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    organization_project(&state, &auth, &project_id).await?;
    let body = if body.is_empty() {
        Map::new()
    } else {
        object(&body)?
    };
    let note = optional_text(&body, "note")?;
    let (public_key, secret_key) = match (
        optional_text(&body, "publicKey")?,
        optional_text(&body, "secretKey")?,
    ) {
        (None, None) => fresh_key_pair(),
        (Some(public_key), Some(secret_key)) => {
            if !public_key.starts_with("pk-lf-") {
                return Err(Error::invalid("publicKey", "must start with 'pk-lf-'").into());
            }
            if !secret_key.starts_with("sk-lf-") {
                return Err(Error::invalid("secretKey", "must start with 'sk-lf-'").into());
            }
            (public_key, secret_key)
        }
        (None, Some(_)) => {
            return Err(Error::invalid("publicKey", "is required with secretKey").into())
        }
        (Some(_), None) => {
            return Err(Error::invalid("secretKey", "is required with publicKey").into())
        }
    };
    let taken = state.store.get_api_key(&public_key).await?.is_some()
        || state
            .store
            .get_organization_api_key(&public_key)
            .await?
            .is_some();
    if taken {
        return Err(Error::new(
            spindle_core::ErrorKind::Conflict,
            "API key with the provided publicKey or secretKey already exists",
        )
        .into());
    }
    let now = now_micros();
    let key = ApiKey {
        note: note.clone(),
        ..api_key(
            &state.server_secret,
            &project_id,
            &public_key,
            &secret_key,
            now,
        )
    };
    state.store.insert_api_key(&key).await?;
    state.auth.invalidate();
    Audit::by_key(&auth)
        .in_project(&project_id)
        .record(
            &state,
            "created",
            resource::API_KEY,
            &public_key,
            Some(json!({ "note": note })),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": public_key,
            "createdAt": format_iso(now),
            "publicKey": public_key,
            "secretKey": secret_key,
            "displaySecretKey": format!("sk-lf-...{}", key.secret_hint),
            "note": note,
        })),
    )
        .into_response())
}

/// `DELETE /api/public/projects/{projectId}/apiKeys/{apiKeyId}` (the id is the public key)
pub async fn delete_project_key(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path((project_id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    organization_project(&state, &auth, &project_id).await?;
    let key = state
        .store
        .get_api_key(&key_id)
        .await?
        .filter(|key| key.project_id == project_id && key.revoked_at.is_none())
        .ok_or_else(|| Error::not_found("API key"))?;
    let revoked = state
        .store
        .revoke_api_key(&key.public_key, now_micros())
        .await?;
    state.auth.invalidate();
    if revoked {
        Audit::by_key(&auth)
            .in_project(&project_id)
            .record(&state, "revoked", resource::API_KEY, &key.public_key, None)
            .await?;
    }
    Ok(Json(json!({ "success": true })))
}

/// `GET /api/public/projects/{projectId}/memberships`: the project's own roles.
pub async fn project_memberships(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    organization_project(&state, &auth, &project_id).await?;
    let members = state.accounts.members_of_project(&project_id).await?;
    let memberships: Vec<Value> = members
        .iter()
        .map(|(user, role)| membership_json(user, *role))
        .collect();
    Ok(Json(json!({ "memberships": memberships })))
}

/// The user's membership of the organization, or 404 as Langfuse answers.
async fn organization_member(
    state: &AppState,
    auth: &OrganizationAuth,
    user_id: &str,
) -> Result<User, Error> {
    let is_member = state
        .accounts
        .organization_memberships_of_user(user_id)
        .await?
        .iter()
        .any(|membership| membership.organization_id == auth.organization_id);
    let user = state.accounts.get_user(user_id).await?;
    match user {
        Some(user) if is_member => Ok(user),
        _ => Err(Error::not_found(format!(
            "userId: user {user_id:?} as a member of this organization"
        ))),
    }
}

/// `PUT /api/public/projects/{projectId}/memberships` `{userId, role}`: the user must be a
/// member of the organization (404 otherwise).
pub async fn put_project_membership(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    organization_project(&state, &auth, &project_id).await?;
    let body = object(&body)?;
    let user_id = required_text(&body, "userId")?;
    let role = role(&body)?;
    let user = organization_member(&state, &auth, &user_id).await?;
    let previous = state
        .accounts
        .memberships_of_user(&user.id)
        .await?
        .into_iter()
        .find(|membership| membership.project_id == project_id)
        .map(|membership| membership.role);
    state
        .accounts
        .set_membership(
            &Membership {
                user_id: user.id.clone(),
                project_id: project_id.clone(),
                role,
            },
            now_micros(),
        )
        .await?;
    Audit::by_key(&auth)
        .in_project(&project_id)
        .record_role(
            &state,
            resource::PROJECT_MEMBERSHIP,
            &user.id,
            role,
            previous,
        )
        .await?;
    Ok(Json(membership_json(&user, role)))
}

/// `DELETE /api/public/projects/{projectId}/memberships` `{userId}`: 404 when the user has
/// no role of their own in the project.
pub async fn delete_project_membership(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    organization_project(&state, &auth, &project_id).await?;
    let body = object(&body)?;
    let user_id = required_text(&body, "userId")?;
    if !state
        .accounts
        .remove_membership(&user_id, &project_id)
        .await?
    {
        return Err(Error::not_found("Project membership").into());
    }
    Audit::by_key(&auth)
        .in_project(&project_id)
        .record(
            &state,
            "removed",
            resource::PROJECT_MEMBERSHIP,
            &user_id,
            None,
        )
        .await?;
    Ok(Json(json!({
        "message": "Project membership deleted successfully",
        "userId": user_id,
    })))
}
