//! Accounts of the web UI: users with argon2id password hashes, sessions with an expiry,
//! project memberships, one-time sign-in links and saved views, plus the few aggregates the
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

/// What a member may do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, keys and members included.
    Owner,
    /// Read and annotate.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A user's access to a project.
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

/// One end user (the traces' `userId`) of a project, aggregated over their traces.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub user_id: String,
    pub traces: u64,
    pub first_seen: Option<Micros>,
    pub last_seen: Option<Micros>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub total_cost: f64,
}

/// Token totals of one trace's observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenTotals {
    pub input: i64,
    pub output: i64,
    pub total: i64,
}

/// Totals of one session's traces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionStats {
    pub traces: u64,
    /// Distinct user ids, sorted.
    pub users: Vec<String>,
    /// The earliest trace timestamp.
    pub first: Option<Micros>,
    /// The latest trace timestamp or observation end.
    pub last: Option<Micros>,
    pub total_cost: f64,
}

/// Latency percentiles of one group (a trace name or a model), in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyStats {
    pub key: String,
    pub count: u64,
    pub errors: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// Latency percentiles over a time range, by trace name and by model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LatencyReport {
    pub by_trace_name: Vec<LatencyStats>,
    pub by_model: Vec<LatencyStats>,
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

    // --- saved views ---
    async fn save_view(&self, view: &SavedView) -> Result<()>;
    /// The views of a project's page, oldest first.
    async fn list_views(&self, project_id: &str, page: &str) -> Result<Vec<SavedView>>;
    async fn delete_view(&self, project_id: &str, view_id: &str) -> Result<bool>;

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
    /// The project's end users, most recently seen first.
    async fn user_summaries(
        &self,
        project_id: &str,
        page: u32,
        limit: u32,
    ) -> Result<Page<UserSummary>>;
    /// Token totals of these traces' observations (traces without usage are absent).
    async fn trace_tokens(
        &self,
        project_id: &str,
        trace_ids: &[String],
    ) -> Result<HashMap<String, TokenTotals>>;
    /// Totals of these sessions (sessions without traces are absent). The default knows
    /// none, and the sessions list then shows no totals: a backend added later keeps
    /// compiling and answers with empty totals until it implements this.
    async fn session_stats(
        &self,
        _project_id: &str,
        _session_ids: &[String],
    ) -> Result<HashMap<String, SessionStats>> {
        Ok(HashMap::new())
    }
    /// Trace latency by trace name and generation latency by model, for traces and
    /// observations starting in `[from, to)`.
    async fn latency_report(
        &self,
        project_id: &str,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<LatencyReport>;
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
    fn tokens_are_random_and_hashed() {
        let (first, second) = (new_token(), new_token());
        assert_ne!(first, second);
        assert_eq!(first.len(), 43);
        assert_eq!(token_hash(&first).len(), 64);
        assert_ne!(token_hash(&first), first);
    }
}
