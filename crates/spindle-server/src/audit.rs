//! Recording changes in the audit log ([`spindle_store::audit`]) from the handlers that make
//! them: a handler names who acts and where, then records each change once the store call
//! that made it succeeded. A failure to record answers the request with an error, so a
//! change is never silently missing from the log. This is for the changes whose store calls
//! take no actor yet (keys, members and roles, organizations, projects and their settings,
//! models, score configs): their entry is a second transaction after the change's. Prompt
//! and dataset changes are recorded by their store calls instead, in their own transaction.

use serde_json::{json, Map, Value};
use spindle_core::time::now_micros;
use spindle_core::Error;
use spindle_store::accounts::Role;
use spindle_store::audit::{Actor, NewAuditEntry};
use spindle_store::organizations::ProjectDetails;

use crate::auth::OrganizationAuth;
use crate::error::found;
use crate::state::AppState;

/// Who acts, in which organization and (optionally) which project.
#[derive(Debug, Clone)]
pub struct Audit {
    actor: Actor,
    organization_id: String,
    project_id: Option<String>,
}

impl Audit {
    /// Changes of the organization itself (its keys, its members).
    pub fn organization(actor: Actor, organization_id: &str) -> Self {
        Audit {
            actor,
            organization_id: organization_id.to_owned(),
            project_id: None,
        }
    }

    /// Changes made with an organization key (the administration API).
    pub fn by_key(auth: &OrganizationAuth) -> Self {
        Audit::organization(
            Actor::OrganizationKey(auth.public_key.clone()),
            &auth.organization_id,
        )
    }

    /// The same actor, acting in one of the organization's projects.
    pub fn in_project(&self, project_id: &str) -> Self {
        Audit {
            project_id: Some(project_id.to_owned()),
            ..self.clone()
        }
    }

    /// A user acting in a project (its organization is looked up).
    pub async fn user_in_project(
        state: &AppState,
        user_id: &str,
        project_id: &str,
    ) -> Result<Self, Error> {
        let project = state.store.get_project(project_id).await?;
        let project = found(project, "project", project_id)?;
        Ok(
            Audit::organization(Actor::User(user_id.to_owned()), &project.organization.id)
                .in_project(project_id),
        )
    }

    /// Records that `action` happened to the resource, with `details` (a JSON object).
    pub async fn record(
        &self,
        state: &AppState,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        details: Option<Value>,
    ) -> Result<(), Error> {
        state
            .accounts
            .record_audit(&NewAuditEntry {
                organization_id: self.organization_id.clone(),
                project_id: self.project_id.clone(),
                actor: self.actor.clone(),
                action: action.to_owned(),
                resource_type: resource_type.to_owned(),
                resource_id: resource_id.to_owned(),
                details,
                created_at: now_micros(),
            })
            .await
    }

    /// Records that `user_id` was given `role` in the resource (`previous` before it, if
    /// any): `added` or `role_changed`, with the roles as details.
    pub async fn record_role(
        &self,
        state: &AppState,
        resource_type: &str,
        user_id: &str,
        role: Role,
        previous: Option<Role>,
    ) -> Result<(), Error> {
        let action = role_given_action(previous);
        let details = role_change(role, previous);
        self.record(state, action, resource_type, user_id, Some(details))
            .await
    }
}

/// The action of a role given: `role_changed` when the user had one, else `added`.
fn role_given_action(previous: Option<Role>) -> &'static str {
    if previous.is_some() {
        "role_changed"
    } else {
        "added"
    }
}

/// The details of a role given: `{role, previousRole}` (`null` when the user had none).
pub fn role_change(role: Role, previous: Option<Role>) -> Value {
    json!({ "role": role.as_str(), "previousRole": previous.map(Role::as_str) })
}

/// The details of a project's change: each field that changed, `{from, to}`.
pub fn project_change(before: &ProjectDetails, after: &ProjectDetails) -> Value {
    let mut changes = Map::new();
    let mut changed = |field: &str, from: Value, to: Value| {
        if from != to {
            changes.insert(field.to_owned(), json!({ "from": from, "to": to }));
        }
    };
    changed(
        "name",
        json!(before.project.name),
        json!(after.project.name),
    );
    changed(
        "retentionDays",
        json!(before.project.retention_days),
        json!(after.project.retention_days),
    );
    changed("metadata", json!(before.metadata), json!(after.metadata));
    Value::Object(changes)
}
