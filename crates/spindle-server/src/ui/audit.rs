//! The audit log in the UI API, read-only, for admins and owners (`Permission::ManageMembers`):
//! `GET /api/ui/organizations/{organization_id}/audit-log` (the whole organization) and
//! `GET /api/ui/projects/{project_id}/audit-log` (that project's entries), newest first, with
//! `page`, `limit` (at most 100), `resourceType` and, for the organization, `projectId`.

use axum::extract::State;
use axum::Json;
use spindle_core::time::format_iso;
use spindle_core::Error;
use spindle_store::accounts::Permission;
use spindle_store::audit::{resource, AuditEntry, AuditQuery};
use std::collections::HashMap;

use super::members::OrganizationAccess;
use super::responses::AuditRow;
use super::session::{require, ProjectAccess};
use crate::dto::PageResponse;
use crate::error::{found, ApiResult};
use crate::routes::params::Params;
use crate::state::AppState;

/// At most this many entries a page.
const MAX_LIMIT: u32 = 100;

fn query(
    params: &Params,
    organization_id: String,
    project_id: Option<String>,
) -> Result<AuditQuery, Error> {
    let resource_type = params.string("resourceType");
    if let Some(resource_type) = &resource_type {
        if !resource::ALL.contains(&resource_type.as_str()) {
            return Err(Error::invalid(
                "resourceType",
                format!(
                    "unknown resource type {resource_type:?}; expected one of {}",
                    resource::ALL.join(", ")
                ),
            ));
        }
    }
    Ok(AuditQuery {
        organization_id,
        project_id,
        resource_type,
        page: params.page()?,
        limit: params.limit(MAX_LIMIT)?,
    })
}

async fn read(state: &AppState, query: &AuditQuery) -> ApiResult<Json<PageResponse<AuditRow>>> {
    let page = state.accounts.audit_log(query).await?;
    // Users are named by email; a user deleted since shows by id alone.
    let mut emails: HashMap<String, Option<String>> = HashMap::new();
    for entry in &page.items {
        if let spindle_store::audit::Actor::User(id) = &entry.entry.actor {
            if !emails.contains_key(id) {
                let email = state.accounts.get_user(id).await?.map(|user| user.email);
                emails.insert(id.clone(), email);
            }
        }
    }
    Ok(Json(PageResponse::from_page(page, |entry: AuditEntry| {
        let entry_id = entry.id;
        let entry = entry.entry;
        AuditRow {
            id: entry_id,
            created_at: format_iso(entry.created_at),
            project_id: entry.project_id,
            actor_kind: entry.actor.kind(),
            actor_email: emails.get(entry.actor.id()).cloned().flatten(),
            actor_id: entry.actor.id().to_owned(),
            action: entry.action,
            resource_type: entry.resource_type,
            resource_id: entry.resource_id,
            details: entry.details,
        }
    })))
}

/// `GET /api/ui/organizations/{organization_id}/audit-log`
pub async fn organization_log(
    State(state): State<AppState>,
    access: OrganizationAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<AuditRow>>> {
    require(access.role, Permission::ManageMembers)?;
    let query = query(&params, access.organization_id, params.string("projectId"))?;
    read(&state, &query).await
}

/// `GET /api/ui/projects/{project_id}/audit-log`
pub async fn project_log(
    State(state): State<AppState>,
    access: ProjectAccess,
    params: Params,
) -> ApiResult<Json<PageResponse<AuditRow>>> {
    access.require(Permission::ManageMembers)?;
    let project = state.store.get_project(&access.project_id).await?;
    let project = found(project, "project", &access.project_id)?;
    let query = query(&params, project.organization.id, Some(access.project_id))?;
    read(&state, &query).await
}
