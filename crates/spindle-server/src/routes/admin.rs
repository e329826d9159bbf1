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
use serde_json::{json, Value};
use spindle_core::time::{format_iso, now_micros};
use spindle_core::Error;
use spindle_ingest::admin::{
    parse_key_body, parse_membership_body, parse_project_body, KeyBody, MembershipBody, ProjectBody,
};
use spindle_store::accounts::{Membership, OrganizationMembership, Role, User};
use spindle_store::audit::resource;
use spindle_store::organizations::{ProjectDetails, ProjectUpdate};
use spindle_store::{ApiKey, KeySummary, Project};

use crate::audit::{project_change, Audit};
use crate::auth::OrganizationAuth;
use crate::bootstrap::{api_key, fresh_key_pair};
use crate::error::ApiResult;
use crate::state::AppState;

/// The user and the role a `{userId, role}` membership body names.
fn user_and_role(body: &[u8]) -> Result<(String, Role), Error> {
    let MembershipBody { user_id, role } = parse_membership_body(body, true)?;
    let text = role.as_deref().unwrap_or_default();
    let role = Role::parse(text).ok_or_else(|| {
        Error::invalid(
            "role",
            format!("unknown role {text:?}; expected OWNER, ADMIN, MEMBER, VIEWER or NONE"),
        )
    })?;
    Ok((user_id, role))
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

/// `{memberships: [...]}` of these members.
fn memberships_json(members: &[(User, Role)]) -> Json<Value> {
    let memberships: Vec<Value> = members
        .iter()
        .map(|(user, role)| membership_json(user, *role))
        .collect();
    Json(json!({ "memberships": memberships }))
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
pub(crate) async fn organization_role(
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

/// Gives `user_id` the role in the organization.
pub(crate) async fn set_organization_role(
    state: &AppState,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<(), Error> {
    state
        .accounts
        .set_organization_membership(
            &OrganizationMembership {
                organization_id: organization_id.to_owned(),
                user_id: user_id.to_owned(),
                role,
            },
            now_micros(),
        )
        .await
}

/// Removes the user from the organization; when they were a member, `audit` records it with
/// their `previous` role. Whether they were.
pub(crate) async fn remove_organization_role(
    state: &AppState,
    audit: &Audit,
    organization_id: &str,
    user_id: &str,
    previous: Option<Role>,
) -> Result<bool, Error> {
    let removed = state
        .accounts
        .remove_organization_membership(organization_id, user_id)
        .await?;
    if removed {
        let details = previous.map(|role| json!({ "previousRole": role.as_str() }));
        audit
            .record(
                state,
                "removed",
                resource::ORGANIZATION_MEMBERSHIP,
                user_id,
                details,
            )
            .await?;
    }
    Ok(removed)
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
    Ok(memberships_json(&members))
}

/// `PUT /api/public/organizations/memberships` `{userId, role}`: adds or changes a member;
/// 404 when there is no such user, 409 for the last owner.
pub async fn put_organization_membership(
    State(state): State<AppState>,
    auth: OrganizationAuth,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (user_id, role) = user_and_role(&body)?;
    let user = state
        .accounts
        .get_user(&user_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("userId: user {user_id:?}")))?;
    let previous = organization_role(&state, &auth.organization_id, &user.id).await?;
    set_organization_role(&state, &auth.organization_id, &user.id, role).await?;
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
    let user_id = parse_membership_body(&body, false)?.user_id;
    let previous = organization_role(&state, &auth.organization_id, &user_id).await?;
    let audit = Audit::by_key(&auth);
    remove_organization_role(&state, &audit, &auth.organization_id, &user_id, previous).await?;
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
    let ProjectBody {
        name,
        retention,
        metadata,
    } = parse_project_body(&body)?;
    let retention_days = retention.flatten();
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
    let body = parse_project_body(&body)?;
    let update = ProjectUpdate {
        name: Some(body.name),
        retention_days: body.retention,
        metadata: body.metadata,
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
    let KeyBody { note, key_pair } = parse_key_body(&body)?;
    let (public_key, secret_key) = key_pair.unwrap_or_else(fresh_key_pair);
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
    let revoked = state.auth.revoke_project_key(&key.public_key).await?;
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
    Ok(memberships_json(&members))
}

/// The user's membership of the organization, or 404 as Langfuse answers.
async fn organization_member(
    state: &AppState,
    auth: &OrganizationAuth,
    user_id: &str,
) -> Result<User, Error> {
    let is_member = organization_role(state, &auth.organization_id, user_id)
        .await?
        .is_some();
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
    let (user_id, role) = user_and_role(&body)?;
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
    let user_id = parse_membership_body(&body, false)?.user_id;
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
