//! Accounts of the web UI: users with argon2id password hashes, sessions with an expiry,
//! organization memberships with their roles and project role overrides, one-time sign-in links and saved views, plus the few aggregates the
//! UI needs that the public read API does not offer (users of a project, token totals of
//! traces, latency percentiles).
//!
//! Secrets never reach the store in clear: passwords arrive as PHC hashes made by
//! [`hash_password`], session and link tokens as [`token_hash`]es.
//!
//! Both backends implement [`Accounts`] with the same statements (`accounts_sql.rs`).

use async_trait::async_trait;
use spindle_core::time::Micros;
use std::collections::HashMap;

use crate::{Page, Result};

/// A person who signs in to the web UI.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// PHC string of an argon2id hash; `None` until a password is set.
    pub password_hash: Option<String>,
    /// Admins see and manage every project.
    pub is_admin: bool,
    pub created_at: Micros,
}

/// A signed-in browser. The cookie holds the token; the store holds its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct UiSession {
    pub token_hash: String,
    pub user_id: String,
    /// Writes must echo this in the `x-spindle-csrf` header.
    pub csrf_token: String,
    pub created_at: Micros,
    pub expires_at: Micros,
}

/// What a member may do, in an organization or, as an override, in one project. Stored and
/// sent upper case (`OWNER`, …), as Langfuse spells them; read in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, managing owners and deleting the organization's projects included.
    Owner,
    /// Projects, API keys, members (but not owners) and settings, besides what members do.
    Admin,
    /// Reads, and writes scores, annotations, comments, prompts, datasets and saved views.
    Member,
    /// Reads only.
    Viewer,
    /// In an organization: no access to its projects except those with a project role.
    NoAccess,
}

/// What a request does, each with the least role that may do it (the README's role table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read traces, observations, scores, sessions, prompts, datasets, the dashboard.
    Read,
    /// Create and delete scores, annotations and comments.
    Annotate,
    /// Create prompts, move and remove their labels, delete prompts.
    EditPrompts,
    /// Create datasets; add, edit and archive their items.
    EditDatasets,
    /// Save and delete views.
    SaveViews,
    /// Create and revoke API keys (project and organization keys).
    ManageKeys,
    /// Invite members, change and remove their roles (owners excepted).
    ManageMembers,
    /// Change project settings: custom models and prices.
    ManageSettings,
    /// Delete traces (with their observations and scores).
    DeleteTraces,
    /// Make owners, change or remove an owner.
    ManageOwners,
}

impl Permission {
    /// Every permission, in the order of the README's table.
    pub const ALL: [Permission; 10] = [
        Permission::Read,
        Permission::Annotate,
        Permission::EditPrompts,
        Permission::EditDatasets,
        Permission::SaveViews,
        Permission::ManageKeys,
        Permission::ManageMembers,
        Permission::ManageSettings,
        Permission::DeleteTraces,
        Permission::ManageOwners,
    ];

    /// The least role that has this permission.
    pub fn least_role(self) -> Role {
        match self {
            Permission::Read => Role::Viewer,
            Permission::Annotate
            | Permission::EditPrompts
            | Permission::EditDatasets
            | Permission::SaveViews => Role::Member,
            Permission::ManageKeys
            | Permission::ManageMembers
            | Permission::ManageSettings
            | Permission::DeleteTraces => Role::Admin,
            Permission::ManageOwners => Role::Owner,
        }
    }
}

impl Role {
    /// The roles a membership may have, highest first.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Member,
        Role::Viewer,
        Role::NoAccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
            Role::Viewer => "VIEWER",
            Role::NoAccess => "NONE",
        }
    }

    /// Reads a role in any case; `None` for anything else.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
    }

    fn rank(self) -> u8 {
        match self {
            Role::NoAccess => 0,
            Role::Viewer => 1,
            Role::Member => 2,
            Role::Admin => 3,
            Role::Owner => 4,
        }
    }

    /// Whether this role has the permission.
    pub fn allows(self, permission: Permission) -> bool {
        self.rank() >= permission.least_role().rank()
    }

    /// Whether this role is at least `other`.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }
}

/// A user's role in a project: instance admins and organization owners own every project
/// of theirs; otherwise a project role overrides the organization role. `None` means no
/// access.
pub fn effective_role(
    is_admin: bool,
    organization_role: Option<Role>,
    project_role: Option<Role>,
) -> Option<Role> {
    if is_admin || organization_role == Some(Role::Owner) {
        return Some(Role::Owner);
    }
    project_role
        .or(organization_role)
        .filter(|role| *role != Role::NoAccess)
}

/// A user's membership of an organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationMembership {
    pub organization_id: String,
    pub user_id: String,
    pub role: Role,
}

/// A user's own role in one project, overriding their organization role there.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub user_id: String,
    pub project_id: String,
    pub role: Role,
}

/// A named filter set of a page (`traces`, `observations`, ...), kept as its URL query.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedView {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub page: String,
    pub name: String,
    pub query: String,
    pub created_at: Micros,
}

/// Token totals of one trace's observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenTotals {
    pub input: i64,
    pub output: i64,
    pub total: i64,
}

/// Storage of UI accounts. Separate from [`crate::Store`]: the ingest path never needs it.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    // --- users ---
    /// Creates a user; fails with `InvalidArgument` on `email` when the email is taken.
    async fn create_user(&self, user: &User) -> Result<()>;
    async fn get_user(&self, user_id: &str) -> Result<Option<User>>;
    /// Looks a user up by email, ignoring ASCII case.
    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool>;

    // --- sessions ---
    async fn create_session(&self, session: &UiSession) -> Result<()>;
    /// The session with this token hash, unless it expired before `now`.
    async fn get_session(&self, token_hash: &str, now: Micros) -> Result<Option<UiSession>>;
    async fn delete_session(&self, token_hash: &str) -> Result<bool>;
    /// Ends every session of the user except the one with `keep_token_hash` (pass `""` to
    /// end them all); returns how many ended.
    async fn delete_other_sessions(&self, user_id: &str, keep_token_hash: &str) -> Result<u64>;
    /// Deletes expired sessions and links; returns how many rows went.
    async fn delete_expired(&self, now: Micros) -> Result<u64>;

    // --- one-time sign-in links ---
    async fn create_sign_in_link(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: Micros,
    ) -> Result<()>;
    /// Marks the link used and returns its user, once; `None` if unknown, used or expired.
    async fn consume_sign_in_link(&self, token_hash: &str, now: Micros) -> Result<Option<String>>;

    // --- memberships ---
    /// Adds or changes a membership.
    async fn set_membership(&self, membership: &Membership, now: Micros) -> Result<()>;
    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>>;
    async fn members_of_project(&self, project_id: &str) -> Result<Vec<(User, Role)>>;
    async fn remove_membership(&self, user_id: &str, project_id: &str) -> Result<bool>;

    // --- organization memberships ---
    /// Adds or changes a user's organization role. Fails with `Conflict` when it would
    /// turn the organization's last owner into something else.
    async fn set_organization_membership(
        &self,
        membership: &OrganizationMembership,
        now: Micros,
    ) -> Result<()>;
    async fn organization_memberships_of_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<OrganizationMembership>>;
    /// The organization's members with their roles, by email.
    async fn organization_members(&self, organization_id: &str) -> Result<Vec<(User, Role)>>;
    /// Removes a user from an organization, with their project roles there; `false` when
    /// they were no member. Fails with `Conflict` for the organization's last owner.
    async fn remove_organization_membership(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<bool>;

    // --- saved views ---
    async fn save_view(&self, view: &SavedView) -> Result<()>;
    /// The views of a project's page, oldest first.
    async fn list_views(&self, project_id: &str, page: &str) -> Result<Vec<SavedView>>;
    async fn delete_view(&self, project_id: &str, view_id: &str) -> Result<bool>;

    // --- the audit log ---
    /// Appends an entry to the audit log ([`crate::audit`]).
    async fn record_audit(&self, entry: &crate::audit::NewAuditEntry) -> Result<()>;
    /// A page of an organization's audit log, newest first.
    async fn audit_log(
        &self,
        query: &crate::audit::AuditQuery,
    ) -> Result<Page<crate::audit::AuditEntry>>;

    // --- the server's own secret ---
    /// The server secret kept in the database: `fresh` is stored unless a secret is stored
    /// already, and the stored one is returned, so every caller (every instance sharing the
    /// database) gets the first one stored. A copy from SQLite passes the secret of the data
    /// dir, so the keys it copies keep working.
    async fn server_secret(
        &self,
        fresh: &crate::secret::ServerSecret,
    ) -> Result<crate::secret::ServerSecret>;

    // --- aggregates for the UI ---
    /// A page of the project's end users or sessions with the totals of their traces in the
    /// query's range: searched, bounded and sorted on those totals, in one statement.
    async fn group_totals(
        &self,
        project_id: &str,
        grouping: crate::people::Grouping,
        query: &crate::people::TotalsQuery,
    ) -> Result<Page<crate::people::GroupTotals>>;
    /// Token totals of these traces' observations (traces without usage are absent).
    async fn trace_tokens(
        &self,
        project_id: &str,
        trace_ids: &[String],
    ) -> Result<HashMap<String, TokenTotals>>;
    /// The distinct non-empty values of `column` in the project that start with `prefix`
    /// (ignoring ASCII case), in order, at most `limit` (see [`crate::suggestions`]).
    async fn distinct_values(
        &self,
        project_id: &str,
        column: crate::suggestions::ValueColumn,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>>;
}

/// Hashes a password with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| crate::Error::internal(format!("password salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| crate::Error::internal(format!("password hash: {e}")))
}

/// Whether `password` matches a PHC hash made by [`hash_password`].
pub fn verify_password(password_hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(password_hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The hash under which a session or link token is stored: sha256 hex.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A fresh random token: 32 bytes, base64url without padding.
pub fn new_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("not a phc string", "correct horse"));
        assert_ne!(
            hash,
            hash_password("correct horse").expect("hash"),
            "salted"
        );
    }

    #[test]
    fn roles_parse_in_any_case_and_rank() {
        assert_eq!(Role::parse("viewer"), Some(Role::Viewer));
        assert_eq!(Role::parse("OWNER"), Some(Role::Owner));
        assert_eq!(Role::parse("none"), Some(Role::NoAccess));
        assert_eq!(Role::parse("superuser"), None);
        assert!(Role::Admin.allows(Permission::ManageKeys));
        assert!(!Role::Admin.allows(Permission::ManageOwners));
        assert!(Role::Member.allows(Permission::Annotate));
        assert!(!Role::Viewer.allows(Permission::Annotate));
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::NoAccess.allows(Permission::Read));
    }

    #[test]
    fn project_roles_override_organization_roles_except_for_owners() {
        assert_eq!(effective_role(true, None, None), Some(Role::Owner));
        assert_eq!(
            effective_role(false, Some(Role::Owner), Some(Role::Viewer)),
            Some(Role::Owner)
        );
        assert_eq!(
            effective_role(false, Some(Role::Admin), Some(Role::Viewer)),
            Some(Role::Viewer)
        );
        assert_eq!(
            effective_role(false, Some(Role::NoAccess), Some(Role::Member)),
            Some(Role::Member)
        );
        assert_eq!(effective_role(false, Some(Role::NoAccess), None), None);
        assert_eq!(effective_role(false, None, None), None);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (first, second) = (new_token(), new_token());
        assert_ne!(first, second);
        assert_eq!(first.len(), 43);
        assert_eq!(token_hash(&first).len(), 64);
        assert_ne!(token_hash(&first), first);
    }
}
