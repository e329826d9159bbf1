//! Signing in and out of the web UI: the session cookie (HttpOnly, SameSite=Lax), the
//! [`SignedIn`] extractor, CSRF checks for writes, and project access.

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use spindle_core::time::{now_micros, Micros};
use spindle_core::{Error, ErrorKind};
use spindle_store::accounts::{
    effective_role, hash_password, new_token, token_hash, verify_password, Accounts, Membership,
    OrganizationMembership, Permission, Role, UiSession, User,
};
use spindle_store::audit::Actor;
use spindle_store::secret::constant_time_eq;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::responses::{role_name, Done, Me, MeOrganization, MeProject, MeUser};
use super::CSRF_HEADER;
use crate::audit::Audit;
use crate::error::{ApiError, ApiResult};
use crate::routes::body::blocking;
use crate::state::AppState;
use spindle_store::Project;

/// The session cookie's name.
pub const COOKIE: &str = "spindle_session";

/// How long a session lasts: 14 days.
pub const SESSION_SECONDS: i64 = 14 * 24 * 3600;

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Slows password guessing per account and per client address without locking the owner
/// out. Every attempt is charged before its password is checked, in the same step as the
/// check of the delays (one lock), so concurrent attempts cannot all be checked. Past
/// [`SignInGuard::FREE_FAILURES`] failures, the next attempt for the account or from the
/// address must wait a delay that doubles with every further failure, up to
/// [`SignInGuard::ACCOUNT_MAX_DELAY`] per account (short: the owner waits at most that, however
/// many addresses guess) and [`SignInGuard::ADDRESS_MAX_DELAY`] per address (long: one address
/// guessing across many accounts slows to a crawl). A success clears the account's failures
/// and takes back its own charge from the address; failures are forgotten after
/// [`SignInGuard::FORGET_AFTER`] without any. Unknown emails cost the same password work as
/// known ones, so timing does not tell which accounts exist.
pub struct SignInGuard {
    tracked: Mutex<Tracked>,
    clock: Box<dyn Fn() -> Instant + Send + Sync>,
    dummy_hash: OnceLock<Option<String>>,
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard::with_clock(Instant::now)
    }
}

/// The failures of each account (its normalized email) and each client address.
#[derive(Default)]
struct Tracked {
    accounts: HashMap<String, Failures>,
    addresses: HashMap<String, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// A sign-in attempt that passed the guard; report how it ended with
/// [`SignInGuard::succeeded`] (a failure needs no report: it was charged up front).
#[derive(Debug)]
pub struct Attempt {
    account: String,
    address: String,
}

impl SignInGuard {
    /// Failures per account and per address before any delay.
    pub const FREE_FAILURES: u32 = 5;
    /// The delay after the first failure past the free ones; it doubles with every further one.
    pub const FIRST_DELAY: Duration = Duration::from_secs(1);
    /// The longest delay an account's failures impose.
    pub const ACCOUNT_MAX_DELAY: Duration = Duration::from_secs(60);
    /// The longest delay an address's failures impose.
    pub const ADDRESS_MAX_DELAY: Duration = Duration::from_secs(15 * 60);
    /// Failures are forgotten after this long without one.
    pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
    /// Accounts and addresses tracked at most (each map).
    const TRACKED_LIMIT: usize = 10_000;

    /// A guard reading time from `clock` (tests move it forward instead of waiting).
    pub fn with_clock(clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        SignInGuard {
            tracked: Mutex::new(Tracked::default()),
            clock: Box::new(clock),
            dummy_hash: OnceLock::new(),
        }
    }

    fn account_key(email: &str) -> String {
        email.trim().to_ascii_lowercase()
    }

    /// IPv4 addresses count one by one; IPv6 ones by their /64, which one host usually
    /// holds whole.
    fn address_key(address: Option<IpAddr>) -> String {
        match address {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let segments = v6.segments();
                    format!(
                        "{:x}:{:x}:{:x}:{:x}::/64",
                        segments[0], segments[1], segments[2], segments[3]
                    )
                }
            },
        }
    }

    /// How long until `failures` allow another attempt, if they do not now.
    fn wait(failures: Option<&Failures>, max: Duration, now: Instant) -> Duration {
        let Some(failures) = failures else {
            return Duration::ZERO;
        };
        if failures.count < Self::FREE_FAILURES
            || now.saturating_duration_since(failures.last) >= Self::FORGET_AFTER
        {
            return Duration::ZERO;
        }
        let doublings = (failures.count - Self::FREE_FAILURES).min(20);
        let delay = Self::FIRST_DELAY.saturating_mul(1 << doublings).min(max);
        (failures.last + delay).saturating_duration_since(now)
    }

    /// Checks the delays of the account and the address and, when both allow it, charges
    /// the attempt to both, in one step. `Err` carries how long to wait.
    pub fn begin(&self, email: &str, address: Option<IpAddr>) -> Result<Attempt, Duration> {
        let now = (self.clock)();
        let account = Self::account_key(email);
        let address = Self::address_key(address);
        let mut guard = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        let tracked = &mut *guard;
        let wait = Self::wait(tracked.accounts.get(&account), Self::ACCOUNT_MAX_DELAY, now).max(
            Self::wait(
                tracked.addresses.get(&address),
                Self::ADDRESS_MAX_DELAY,
                now,
            ),
        );
        if !wait.is_zero() {
            return Err(wait);
        }
        for (map, key) in [
            (&mut tracked.accounts, &account),
            (&mut tracked.addresses, &address),
        ] {
            Self::make_room(map, now);
            let failures = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.saturating_duration_since(failures.last) >= Self::FORGET_AFTER {
                failures.count = 0;
            }
            failures.count = failures.count.saturating_add(1);
            failures.last = now;
        }
        Ok(Attempt { account, address })
    }

    /// The attempt's password was right: the account's failures are cleared and the address
    /// gets this attempt's charge back.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut tracked = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        tracked.accounts.remove(&attempt.account);
        if let Some(failures) = tracked.addresses.get_mut(&attempt.address) {
            failures.count = failures.count.saturating_sub(1);
        }
    }

    /// Keeps a map under its limit: forgotten entries go first, then those with the fewest
    /// failures (the ones that slow nobody down yet).
    fn make_room(map: &mut HashMap<String, Failures>, now: Instant) {
        if map.len() < Self::TRACKED_LIMIT {
            return;
        }
        map.retain(|_, failures| now.saturating_duration_since(failures.last) < Self::FORGET_AFTER);
        if map.len() >= Self::TRACKED_LIMIT {
            map.retain(|_, failures| failures.count >= Self::FREE_FAILURES);
        }
        if map.len() >= Self::TRACKED_LIMIT {
            map.clear();
        }
    }

    /// A hash to verify against when the email has no password, made once.
    fn dummy_hash(&self) -> Option<String> {
        self.dummy_hash
            .get_or_init(|| hash_password("no such account").ok())
            .clone()
    }
}

/// The refusal of an attempt the guard holds back, with when to try again.
fn slowed_down(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError(Error::new(
        ErrorKind::RateLimited,
        format!("too many failed sign-ins; try again in {seconds} seconds"),
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// The client's address, when the server was started with connection info (tests without
/// a socket may add it to the request's extensions).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        ))
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
    /// Fails with 403 unless the user's role in the project has the permission.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        require(self.role, permission)
    }

    /// The signed-in user, as the audit log names who made a change.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id.clone())
    }

    /// The signed-in user acting in this project, for the audit log.
    pub async fn audit(&self, state: &AppState) -> Result<Audit, Error> {
        Audit::user_in_project(state, &self.user_id, &self.project_id).await
    }

    /// Records in the audit log that the signed-in user did `action` to a resource of this
    /// project, with `details` (a JSON object).
    pub async fn record(
        &self,
        state: &AppState,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        details: Option<Value>,
    ) -> Result<(), Error> {
        self.audit(state)
            .await?
            .record(state, action, resource_type, resource_id, details)
            .await
    }
}

/// Fails with 403 naming the least role that has the permission, unless `role` has it.
pub fn require(role: Role, permission: Permission) -> Result<(), Error> {
    if role.allows(permission) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "role: {} may not do this; it needs {} or higher",
                role.as_str(),
                permission.least_role().as_str()
            ),
        ))
    }
}

impl FromRequestParts<AppState> for ProjectAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let project_id = path_parameter(parts, state, "project_id").await?;
        Ok(project_access(state, &signed_in, &project_id).await?)
    }
}

/// The parameter `name` of the request's path (`project_id`, `organization_id`).
pub async fn path_parameter(
    parts: &mut Parts,
    state: &AppState,
    name: &str,
) -> Result<String, Error> {
    let Path(mut path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|rejection| Error::invalid("path", rejection.body_text()))?;
    path.remove(name)
        .ok_or_else(|| Error::internal(format!("UI route without {name}")))
}

/// The signed-in user's access to `project_id`: instance admins and organization owners
/// own every project; otherwise a project role overrides the organization role
/// ([`effective_role`]). Unknown projects and projects without access are both "not found",
/// so a user cannot probe which projects exist.
pub async fn project_access(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: &str,
) -> Result<ProjectAccess, Error> {
    let not_found = || Error::not_found(format!("project {project_id:?}"));
    let project = state
        .store
        .get_project(project_id)
        .await?
        .ok_or_else(not_found)?;
    let roles = UserRoles::of(state, &signed_in.user).await?;
    let role = roles.in_project(&project).ok_or_else(not_found)?;
    Ok(ProjectAccess {
        project_id: project_id.to_owned(),
        role,
        user_id: signed_in.user.id.clone(),
    })
}

/// A user's organization and project roles, read once per request.
pub struct UserRoles {
    is_admin: bool,
    organizations: Vec<OrganizationMembership>,
    projects: Vec<Membership>,
}

impl UserRoles {
    pub async fn of(state: &AppState, user: &User) -> Result<UserRoles, Error> {
        Ok(UserRoles {
            is_admin: user.is_admin,
            organizations: state
                .accounts
                .organization_memberships_of_user(&user.id)
                .await?,
            projects: state.accounts.memberships_of_user(&user.id).await?,
        })
    }

    /// The user's role in an organization (instance admins own every one).
    pub fn in_organization(&self, organization_id: &str) -> Option<Role> {
        if self.is_admin {
            return Some(Role::Owner);
        }
        self.organizations
            .iter()
            .find(|membership| membership.organization_id == organization_id)
            .map(|membership| membership.role)
    }

    /// The user's role in a project, `None` without access.
    pub fn in_project(&self, project: &Project) -> Option<Role> {
        let project_role = self
            .projects
            .iter()
            .find(|membership| membership.project_id == project.id)
            .map(|membership| membership.role);
        effective_role(
            self.is_admin,
            self.in_organization(&project.organization.id),
            project_role,
        )
    }
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
    ClientAddress(address): ClientAddress,
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
    let attempt = match guard.begin(&body.email, address) {
        Ok(attempt) => attempt,
        Err(wait) => return Ok(slowed_down(wait)),
    };
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
        return Err(Error::new(ErrorKind::Unauthenticated, "wrong email or password").into());
    };
    guard.succeeded(attempt);
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
    let roles = UserRoles::of(&state, &signed_in.user).await?;
    let visible = projects
        .into_iter()
        .filter_map(|project| {
            let role = roles.in_project(&project)?;
            Some(MeProject {
                id: project.id,
                name: project.name,
                role: role_name(role),
                organization_id: project.organization.id,
                organization_name: project.organization.name,
            })
        })
        .collect();
    let organizations = state
        .store
        .list_organizations()
        .await?
        .into_iter()
        .filter_map(|organization| {
            let role = roles.in_organization(&organization.id)?;
            Some(MeOrganization {
                id: organization.id,
                name: organization.name,
                role: role_name(role),
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
        organizations,
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
    ClientAddress(address): ClientAddress,
    signed_in: SignedIn,
    Json(body): Json<PasswordBody>,
) -> ApiResult<Response> {
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
        // Guessing through a stolen session is slowed down like signing in.
        let attempt = match state.sign_in_guard.begin(&signed_in.user.email, address) {
            Ok(attempt) => attempt,
            Err(wait) => return Ok(slowed_down(wait)),
        };
        let matches = blocking(move || Ok(verify_password(&stored_hash, &current))).await?;
        if !matches {
            return Err(Error::invalid("currentPassword", "is not the current password").into());
        }
        state.sign_in_guard.succeeded(attempt);
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
    Ok(Json(Done::OK).into_response())
}
