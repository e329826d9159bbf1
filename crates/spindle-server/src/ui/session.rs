//! Signing in and out of the web UI: the session cookie (HttpOnly, SameSite=Lax), the
//! [`SignedIn`] extractor, CSRF checks for writes, and project access.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use spindle_core::time::{now_micros, Micros};
use spindle_core::{Error, ErrorKind};
use spindle_store::accounts::{
    hash_password, new_token, token_hash, verify_password, Accounts, Role, UiSession, User,
};
use spindle_store::secret::constant_time_eq;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::responses::{Done, Me, MeProject, MeUser};
use super::CSRF_HEADER;
use crate::error::{ApiError, ApiResult};
use crate::routes::body::blocking;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "spindle_session";

/// How long a session lasts: 14 days.
pub const SESSION_SECONDS: i64 = 14 * 24 * 3600;

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Brute-force protection of sign-in: at most [`SignInGuard::MAX_FAILURES`] failed attempts
/// per email within [`SignInGuard::WINDOW`], and the same password work for unknown emails
/// as for known ones, so timing does not tell which accounts exist.
#[derive(Default)]
pub struct SignInGuard {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    dummy_hash: OnceLock<Option<String>>,
}

impl SignInGuard {
    pub const MAX_FAILURES: u32 = 8;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    const TRACKED_LIMIT: usize = 10_000;

    fn key(email: &str) -> String {
        email.trim().to_ascii_lowercase()
    }

    /// Whether this email has used up its failed attempts.
    pub fn blocked(&self, email: &str) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures
            .get(&Self::key(email))
            .is_some_and(|(count, since)| {
                *count >= Self::MAX_FAILURES && since.elapsed() < Self::WINDOW
            })
    }

    fn failed(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= Self::TRACKED_LIMIT {
            failures.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        let entry = failures
            .entry(Self::key(email))
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Self::WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    fn succeeded(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Self::key(email));
    }

    /// A hash to verify against when the email has no password, made once.
    fn dummy_hash(&self) -> Option<String> {
        self.dummy_hash
            .get_or_init(|| hash_password("no such account").ok())
            .clone()
    }
}

fn unauthenticated() -> Error {
    Error::new(ErrorKind::Unauthenticated, "not signed in")
}

/// The value of the session cookie, if the request has one.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Refuses a request whose `Origin` names another host than the one it was sent to.
fn check_origin(headers: &HeaderMap) -> Result<(), Error> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    if origin_host == host {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::PermissionDenied,
            "cross-origin request refused",
        ))
    }
}

fn csrf_refused() -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        "missing or wrong x-spindle-csrf header",
    )
}

/// A request from a signed-in browser. For methods other than GET and HEAD it also checks
/// the CSRF header against the session's token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: UiSession,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let accounts = &state.accounts;
        let token = session_token(&parts.headers).ok_or_else(unauthenticated)?;
        let session = accounts
            .get_session(&token_hash(token), now_micros())
            .await?
            .ok_or_else(unauthenticated)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            check_origin(&parts.headers)?;
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent.is_empty() || !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes())
            {
                return Err(csrf_refused().into());
            }
        }
        let user = accounts
            .get_user(&session.user_id)
            .await?
            .ok_or_else(unauthenticated)?;
        Ok(SignedIn { user, session })
    }
}

/// What a signed-in user may do in the project of the request's path
/// (`/api/ui/projects/{project_id}/…`). As an extractor it signs the request in first
/// ([`SignedIn`], with its CSRF check), then checks the project access.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub project_id: String,
    pub role: Role,
    /// The signed-in user.
    pub user_id: String,
}

impl ProjectAccess {
    /// Fails unless the user owns the project (keys, members, prices).
    pub fn require_owner(&self) -> Result<(), Error> {
        if self.role == Role::Owner {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::PermissionDenied,
                "only a project owner may do this",
            ))
        }
    }
}

impl FromRequestParts<AppState> for ProjectAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Error::invalid("path", rejection.body_text()))?;
        let project_id = path
            .get("project_id")
            .ok_or_else(|| Error::internal("UI route without a project"))?;
        Ok(project_access(state, &signed_in, project_id).await?)
    }
}

/// The signed-in user's access to `project_id`: admins own every project, others need a
/// membership. Unknown projects and projects without access are both "not found", so a
/// user cannot probe which projects exist.
pub async fn project_access(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: &str,
) -> Result<ProjectAccess, Error> {
    let not_found = || Error::not_found(format!("project {project_id:?}"));
    if state.store.get_project(project_id).await?.is_none() {
        return Err(not_found());
    }
    let access = |role| ProjectAccess {
        project_id: project_id.to_owned(),
        role,
        user_id: signed_in.user.id.clone(),
    };
    if signed_in.user.is_admin {
        return Ok(access(Role::Owner));
    }
    let memberships = state
        .accounts
        .memberships_of_user(&signed_in.user.id)
        .await?;
    memberships
        .into_iter()
        .find(|membership| membership.project_id == project_id)
        .map(|membership| access(membership.role))
        .ok_or_else(not_found)
}

/// Whether the browser reached us over HTTPS (directly or through a proxy that says so):
/// then the cookie is `Secure` too.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
        || headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|origin| origin.starts_with("https://"))
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("spindle_session=; Path=/; Max-Age=0"))
}

/// Creates a session for `user_id`; returns the cookie to set.
async fn start_session(
    accounts: &dyn Accounts,
    user_id: &str,
    secure: bool,
) -> Result<HeaderValue, Error> {
    let token = new_token();
    let now: Micros = now_micros();
    accounts
        .create_session(&UiSession {
            token_hash: token_hash(&token),
            user_id: user_id.to_owned(),
            csrf_token: new_token(),
            created_at: now,
            expires_at: now + SESSION_SECONDS * 1_000_000,
        })
        .await?;
    // Sweeping here keeps the table small without a background task.
    if let Err(error) = accounts.delete_expired(now).await {
        tracing::warn!(%error, "cannot delete expired sessions");
    }
    Ok(session_cookie(&token, SESSION_SECONDS, secure))
}

#[derive(Debug, Deserialize)]
pub struct SignInBody {
    email: String,
    password: String,
}

/// `POST /api/ui/auth/sign-in` `{email, password}`: sets the session cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    check_origin(&headers)?;
    // A custom header cannot be sent cross-site without a CORS preflight, which this
    // route never grants: this stops login CSRF.
    if headers.get(CSRF_HEADER).is_none() {
        return Err(csrf_refused().into());
    }
    let body: SignInBody = serde_json::from_slice(&body).map_err(|error| {
        Error::invalid("body", format!("expected {{email, password}}: {error}"))
    })?;
    let accounts = &state.accounts;
    let guard = state.sign_in_guard.clone();
    if guard.blocked(&body.email) {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            "too many failed sign-ins for this email; try again in 15 minutes",
        )
        .into());
    }
    let user = accounts.get_user_by_email(&body.email).await?;
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
    let password = body.password;
    let verify_guard = guard.clone();
    let matches = blocking(move || {
        Ok(match stored_hash {
            Some(hash) => verify_password(&hash, &password),
            None => {
                if let Some(dummy) = verify_guard.dummy_hash() {
                    verify_password(&dummy, &password);
                }
                false
            }
        })
    })
    .await?;
    let Some(user) = user.filter(|_| matches) else {
        guard.failed(&body.email);
        return Err(Error::new(ErrorKind::Unauthenticated, "wrong email or password").into());
    };
    guard.succeeded(&body.email);
    let cookie = start_session(accounts.as_ref(), &user.id, over_https(&headers)).await?;
    let mut response = Json(Done::OK).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /api/ui/auth/sign-out`: ends the session and clears the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed_in: SignedIn,
) -> ApiResult<Response> {
    state
        .accounts
        .delete_session(&signed_in.session.token_hash)
        .await?;
    let mut response = Json(Done::OK).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, over_https(&headers)),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    token: String,
}

/// `GET /api/ui/auth/link?token=…`: a one-time sign-in link (first start, invitations).
pub async fn sign_in_with_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LinkQuery>,
) -> ApiResult<Response> {
    let accounts = &state.accounts;
    let user_id = accounts
        .consume_sign_in_link(&token_hash(&query.token), now_micros())
        .await?
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unauthenticated,
                "this sign-in link is unknown, used or expired",
            )
        })?;
    let cookie = start_session(accounts.as_ref(), &user_id, over_https(&headers)).await?;
    let mut response = Redirect::to("/settings?welcome=1").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `GET /api/ui/me`: the user, the CSRF token for writes, and the projects they can open.
pub async fn me(State(state): State<AppState>, signed_in: SignedIn) -> ApiResult<Json<Me>> {
    let projects = state.store.list_projects().await?;
    let memberships = state
        .accounts
        .memberships_of_user(&signed_in.user.id)
        .await?;
    let visible = projects
        .into_iter()
        .filter_map(|project| {
            let role = if signed_in.user.is_admin {
                Some(Role::Owner)
            } else {
                memberships
                    .iter()
                    .find(|m| m.project_id == project.id)
                    .map(|m| m.role)
            }?;
            Some(MeProject {
                id: project.id,
                name: project.name,
                role: role.as_str(),
            })
        })
        .collect();
    let user = signed_in.user;
    Ok(Json(Me {
        user: MeUser {
            id: user.id,
            email: user.email,
            name: user.name,
            admin: user.is_admin,
            has_password: user.password_hash.is_some(),
        },
        csrf_token: signed_in.session.csrf_token,
        projects: visible,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordBody {
    password: String,
    /// Required when the user has a password already.
    current_password: Option<String>,
}

/// `POST /api/ui/me/password` `{currentPassword, password}`: a user with a password must give
/// it (a user who signed in with a one-time link and has none sets a first one without).
/// The user's other sessions end; this one stays.
pub async fn set_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Json(body): Json<PasswordBody>,
) -> ApiResult<Json<Done>> {
    if body.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        )
        .into());
    }
    if let Some(stored_hash) = signed_in.user.password_hash.clone() {
        let current = body
            .current_password
            .filter(|current| !current.is_empty())
            .ok_or_else(|| {
                Error::invalid("currentPassword", "is required to change the password")
            })?;
        let matches = blocking(move || Ok(verify_password(&stored_hash, &current))).await?;
        if !matches {
            return Err(Error::invalid("currentPassword", "is not the current password").into());
        }
    }
    let password = body.password;
    let hash = blocking(move || hash_password(&password)).await?;
    state
        .accounts
        .set_password_hash(&signed_in.user.id, &hash)
        .await?;
    state
        .accounts
        .delete_other_sessions(&signed_in.user.id, &signed_in.session.token_hash)
        .await?;
    Ok(Json(Done::OK))
}
