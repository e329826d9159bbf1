//! The audit log: who changed what in an organization and its projects, and when. An entry
//! names its actor (a signed-in user, an organization key or a project key), the action, the
//! resource (its type and id) and a few details (a JSON object: a role, a name, …).
//!
//! Changes to a project's prompts and datasets are recorded by the store call that makes
//! them, in the same transaction ([`ProjectChange`], `audit_sql::project_entry`): the call
//! takes the [`Actor`] and the entry commits or rolls back with the change. The other
//! changes (keys, members and roles, projects and their settings, models, score configs)
//! are recorded by the server's handlers right after the store call that made them
//! returned success: their store calls are several statements with checks in between
//! (an owner that must remain, a name that must be free) that do not take an actor yet, so
//! the entry is written once the change is known to have happened, never for a refused or
//! empty one. Entries are only ever added, and those of a deleted project stay after its
//! purge.
//!
//! Both backends store them with the same statements (`audit_sql.rs`), through
//! [`crate::accounts::Accounts`].

use spindle_core::time::Micros;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, by id.
    User(String),
    /// An organization API key, by public key.
    OrganizationKey(String),
    /// A project API key, by public key.
    ProjectKey(String),
}

impl Actor {
    /// The stored kind: `USER`, `ORGANIZATION_KEY` or `PROJECT_KEY`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "USER",
            Actor::OrganizationKey(_) => "ORGANIZATION_KEY",
            Actor::ProjectKey(_) => "PROJECT_KEY",
        }
    }

    /// The user's id or the key's public key.
    pub fn id(&self) -> &str {
        match self {
            Actor::User(id) | Actor::OrganizationKey(id) | Actor::ProjectKey(id) => id,
        }
    }

    /// The actor of a stored kind and id; `None` for an unknown kind.
    pub fn parse(kind: &str, id: String) -> Option<Actor> {
        match kind {
            "USER" => Some(Actor::User(id)),
            "ORGANIZATION_KEY" => Some(Actor::OrganizationKey(id)),
            "PROJECT_KEY" => Some(Actor::ProjectKey(id)),
            _ => None,
        }
    }
}

/// The resource types the log knows, as stored and filtered on.
pub mod resource {
    /// A project API key (id: its public key).
    pub const API_KEY: &str = "api_key";
    /// An organization API key (id: its public key).
    pub const ORGANIZATION_API_KEY: &str = "organization_api_key";
    /// A user's role of their own in a project (id: the user's id).
    pub const PROJECT_MEMBERSHIP: &str = "project_membership";
    /// A user's organization role (id: the user's id).
    pub const ORGANIZATION_MEMBERSHIP: &str = "organization_membership";
    /// A project: created, renamed, its settings changed, deleted (id: the project's id).
    pub const PROJECT: &str = "project";
    /// A custom model with its prices (id: the model's id).
    pub const MODEL: &str = "model";
    /// A score config (id: the config's id).
    pub const SCORE_CONFIG: &str = "score_config";
    /// A prompt: labels set or removed, versions deleted (id: the prompt's name).
    pub const PROMPT: &str = "prompt";
    /// A dataset item, deleted (id: the item's id).
    pub const DATASET_ITEM: &str = "dataset_item";
    /// A dataset run, deleted (id: the run's id).
    pub const DATASET_RUN: &str = "dataset_run";
    /// An organization, created (id: the organization's id).
    pub const ORGANIZATION: &str = "organization";
    /// Every type above, in that order.
    pub const ALL: [&str; 11] = [
        API_KEY,
        ORGANIZATION_API_KEY,
        PROJECT_MEMBERSHIP,
        ORGANIZATION_MEMBERSHIP,
        PROJECT,
        MODEL,
        SCORE_CONFIG,
        PROMPT,
        DATASET_ITEM,
        DATASET_RUN,
        ORGANIZATION,
    ];
}

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub organization_id: String,
    /// The project the change concerns, if it concerns one.
    pub project_id: Option<String>,
    pub actor: Actor,
    /// What happened, lower case: `created`, `revoked`, `updated`, `deleted`, `removed`, …
    pub action: String,
    /// One of [`resource`]'s types.
    pub resource_type: String,
    pub resource_id: String,
    /// A JSON object with what the change set, or `None`.
    pub details: Option<serde_json::Value>,
    pub created_at: Micros,
}

/// A change to one of a project's resources, recorded by the store call that makes it, in
/// its transaction (the organization is the project's, read when the entry is written).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectChange<'a> {
    pub project_id: &'a str,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub details: Option<serde_json::Value>,
    pub created_at: Micros,
}

/// A recorded change, with its id (ids grow with the order of recording).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
}

/// A read of an organization's log, newest first; every filter given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditQuery {
    pub organization_id: String,
    pub project_id: Option<String>,
    pub resource_type: Option<String>,
    /// 1-based; 0 is the first page.
    pub page: u32,
    /// 0 is the default (50).
    pub limit: u32,
}
