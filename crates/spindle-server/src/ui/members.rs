//! Members and roles in the UI API: a project's members (organization members with their
//! role there, and users with a role of their own in the project), invitations that carry
//! a role, role changes and removals; an organization's members (invited with a role) and
//! its API keys; new organizations (instance admins).
//!
//! Managing members needs ADMIN; making, changing or removing an owner needs OWNER; an
//! organization's last owner cannot be removed or demoted (the store refuses it).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use spindle_core::time::now_micros;
use spindle_core::Error;
use spindle_store::accounts::{
    effective_role, new_token, token_hash, Membership, OrganizationMembership, Permission, Role,
    User,
};
use spindle_store::audit::{resource, Actor};
use spindle_store::Organization;
use std::collections::BTreeMap;

use super::responses::{
    role_name, DataList, Invited, KeyRow, MeOrganization, Member, NewKey, Revoked,
};
use super::session::{path_parameter, require, ProjectAccess, SignedIn, UserRoles};
use crate::audit::{role_change, Audit};
use crate::bootstrap::{fresh_key_pair, organization_api_key};
use crate::error::{found, ApiError, ApiResult};
use crate::routes::admin::{organization_role, remove_organization_role, set_organization_role};
use crate::routes::body::fresh_id;
use crate::state::AppState;

/// How long an invitation link stays valid: 7 days.
const INVITE_SECONDS: i64 = 7 * 24 * 3600;

fn parse_role(text: Option<&str>) -> Result<Role, Error> {
    let Some(text) = text else {
        return Ok(Role::Member);
    };
    match Role::parse(text) {
        Some(Role::NoAccess) | None => Err(Error::invalid(
            "role",
            format!("unknown role {text:?}; expected owner, admin, member or viewer"),
        )),
        Some(role) => Ok(role),
    }
}

/// Fails unless the acting role may give `new_role` to someone whose role is now `current`:
/// owners alone make, change or remove owners.
fn check_change(acting: Role, current: Option<Role>, new_role: Option<Role>) -> Result<(), Error> {
    require(acting, Permission::ManageMembers)?;
    if current == Some(Role::Owner) || new_role == Some(Role::Owner) {
        require(acting, Permission::ManageOwners)?;
    }
    Ok(())
}

/// The project's members: every organization member with access and every user with a
/// role of their own there, each with their role in the project.
async fn project_members(
    state: &AppState,
    project_id: &str,
) -> Result<Vec<(User, Role, Option<Role>)>, Error> {
    let project = state.store.get_project(project_id).await?;
    let project = found(project, "project", project_id)?;
    let mut users: BTreeMap<String, (User, Option<Role>, Option<Role>)> = BTreeMap::new();
    for (user, role) in state
        .accounts
        .organization_members(&project.organization.id)
        .await?
    {
        users.insert(user.email.to_lowercase(), (user, Some(role), None));
    }
    for (user, role) in state.accounts.members_of_project(project_id).await? {
        users
            .entry(user.email.to_lowercase())
            .or_insert_with(|| (user, None, None))
            .2 = Some(role);
    }
    Ok(users
        .into_values()
        .filter_map(|(user, organization_role, project_role)| {
            let role = effective_role(user.is_admin, organization_role, project_role)?;
            Some((user, role, project_role))
        })
        .collect())
}

/// The role `user_id` has in the project now, if any.
async fn current_role(
    state: &AppState,
    project_id: &str,
    user_id: &str,
) -> Result<Option<Role>, Error> {
    Ok(project_members(state, project_id)
        .await?
        .into_iter()
        .find(|(user, ..)| user.id == user_id)
        .map(|(_, role, _)| role))
}

/// `GET …/members`: `{data: [{userId, email, role, projectRole}]}`.
pub async fn list_members(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> ApiResult<Json<DataList<Member>>> {
    let members = project_members(&state, &access.project_id).await?;
    Ok(Json(DataList::of(members, |(user, role, project_role)| {
        Member {
            user_id: user.id,
            email: user.email,
            role: role_name(role),
            project_role: project_role.map(role_name),
        }
    })))
}

#[derive(Debug, Deserialize)]
pub struct InviteBody {
    email: String,
    #[serde(default)]
    role: Option<String>,
}

/// Gives a user a role of their own in a project, making them a member of its organization
/// without access to its other projects when they are not one yet.
async fn set_project_role(
    state: &AppState,
    project_id: &str,
    user_id: &str,
    role: Role,
) -> Result<(), Error> {
    let now = now_micros();
    let project = state.store.get_project(project_id).await?;
    let project = found(project, "project", project_id)?;
    let in_organization = organization_role(state, &project.organization.id, user_id)
        .await?
        .is_some();
    if !in_organization {
        state
            .accounts
            .set_organization_membership(
                &OrganizationMembership {
                    organization_id: project.organization.id.clone(),
                    user_id: user_id.to_owned(),
                    role: Role::NoAccess,
                },
                now,
            )
            .await?;
    }
    state
        .accounts
        .set_membership(
            &Membership {
                user_id: user_id.to_owned(),
                project_id: project_id.to_owned(),
                role,
            },
            now,
        )
        .await
}

/// A new user for an invitation to `email`, without a password: their id and the one-time
/// sign-in path (valid [`INVITE_SECONDS`]) that lets them set one.
async fn create_invited_user(state: &AppState, email: &str) -> Result<(String, String), Error> {
    let now = now_micros();
    let user = User {
        id: fresh_id(),
        email: email.to_owned(),
        name: None,
        password_hash: None,
        is_admin: false,
        created_at: now,
    };
    state.accounts.create_user(&user).await?;
    let token = new_token();
    state
        .accounts
        .create_sign_in_link(
            &token_hash(&token),
            &user.id,
            now + INVITE_SECONDS * 1_000_000,
        )
        .await?;
    Ok((user.id, format!("/api/ui/auth/link?token={token}")))
}

/// The email address of an invitation, trimmed; `InvalidArgument` unless it looks like one.
fn invited_email(body: &InviteBody) -> Result<String, Error> {
    let email = body.email.trim().to_owned();
    if !email.contains('@') {
        return Err(Error::invalid("email", "expected an email address"));
    }
    Ok(email)
}

/// `POST …/members` `{email, role?}`: gives the user (created when needed) a role in the
/// project; a new user gets a one-time sign-in link (returned once) to set their password.
pub async fn invite_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    Json(body): Json<InviteBody>,
) -> ApiResult<Response> {
    let project = InviteTo::Project(&access.project_id);
    let invitation = invite(&state, access.role, project, &body).await?;
    let audit = access.audit(&state).await?;
    invitation
        .answer(&state, audit, resource::PROJECT_MEMBERSHIP)
        .await
}

/// Where an invitation gives its role: a project, or an organization (and so each of its
/// projects where the user has no role of their own).
#[derive(Clone, Copy)]
enum InviteTo<'a> {
    Project(&'a str),
    Organization(&'a str),
}

impl InviteTo<'_> {
    /// The role `user_id` has there now, if any.
    async fn current_role(self, state: &AppState, user_id: &str) -> Result<Option<Role>, Error> {
        match self {
            InviteTo::Project(project_id) => current_role(state, project_id, user_id).await,
            InviteTo::Organization(organization_id) => {
                organization_role(state, organization_id, user_id).await
            }
        }
    }

    /// Gives `user_id` the role there.
    async fn set_role(self, state: &AppState, user_id: &str, role: Role) -> Result<(), Error> {
        match self {
            InviteTo::Project(project_id) => {
                set_project_role(state, project_id, user_id, role).await
            }
            InviteTo::Organization(organization_id) => {
                set_organization_role(state, organization_id, user_id, role).await
            }
        }
    }
}

/// Gives the invited user (created when needed, with a one-time sign-in link) the body's
/// role where `to` says, when the `acting` role may give it.
async fn invite(
    state: &AppState,
    acting: Role,
    to: InviteTo<'_>,
    body: &InviteBody,
) -> Result<Invitation, Error> {
    require(acting, Permission::ManageMembers)?;
    let email = invited_email(body)?;
    let role = parse_role(body.role.as_deref())?;
    let (user_id, link, previous) = match state.accounts.get_user_by_email(&email).await? {
        Some(user) => {
            let current = to.current_role(state, &user.id).await?;
            check_change(acting, current, Some(role))?;
            (user.id, None, current)
        }
        None => {
            check_change(acting, None, Some(role))?;
            let (user_id, link) = create_invited_user(state, &email).await?;
            (user_id, Some(link), None)
        }
    };
    to.set_role(state, &user_id, role).await?;
    Ok(Invitation {
        user_id,
        email,
        role,
        previous,
        sign_in_path: link,
    })
}

/// A role given to a user by an invitation: what the audit log records and the answer says.
struct Invitation {
    user_id: String,
    email: String,
    role: Role,
    previous: Option<Role>,
    sign_in_path: Option<String>,
}

impl Invitation {
    /// Records the invitation in the audit log (as `resource`) and answers it with 201.
    async fn answer(self, state: &AppState, audit: Audit, resource: &str) -> ApiResult<Response> {
        let mut details = role_change(self.role, self.previous);
        details["email"] = self.email.clone().into();
        audit
            .record(state, "invited", resource, &self.user_id, Some(details))
            .await?;
        Ok((
            StatusCode::CREATED,
            Json(Invited {
                email: self.email,
                role: role_name(self.role),
                sign_in_path: self.sign_in_path,
            }),
        )
            .into_response())
    }
}

#[derive(Debug, Deserialize)]
pub struct RoleBody {
    role: Option<String>,
}

/// `PUT …/members/{user_id}` `{role}`: changes the user's role in the project.
pub async fn update_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, user_id)): Path<(String, String)>,
    Json(body): Json<RoleBody>,
) -> ApiResult<Json<Member>> {
    access.require(Permission::ManageMembers)?;
    let role = parse_role(Some(body.role.as_deref().unwrap_or("")))?;
    let current = current_role(&state, &access.project_id, &user_id).await?;
    if current.is_none() {
        return Err(Error::not_found(format!("member {user_id:?}")).into());
    }
    check_change(access.role, current, Some(role))?;
    set_project_role(&state, &access.project_id, &user_id, role).await?;
    access
        .record(
            &state,
            "role_changed",
            resource::PROJECT_MEMBERSHIP,
            &user_id,
            Some(role_change(role, current)),
        )
        .await?;
    let (user, role, project_role) = project_members(&state, &access.project_id)
        .await?
        .into_iter()
        .find(|(user, ..)| user.id == user_id)
        .ok_or_else(|| Error::not_found(format!("member {user_id:?}")))?;
    Ok(Json(Member {
        user_id: user.id,
        email: user.email,
        role: role_name(role),
        project_role: project_role.map(role_name),
    }))
}

/// `DELETE …/members/{user_id}`: removes the user's own role in the project (their
/// organization role applies again); 404 when they have none.
pub async fn remove_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, user_id)): Path<(String, String)>,
) -> ApiResult<Json<super::responses::Deleted>> {
    access.require(Permission::ManageMembers)?;
    let current = current_role(&state, &access.project_id, &user_id).await?;
    check_change(access.role, current, None)?;
    let deleted = state
        .accounts
        .remove_membership(&user_id, &access.project_id)
        .await?;
    if !deleted {
        return Err(Error::not_found(format!("project role of {user_id:?}")).into());
    }
    access
        .record(
            &state,
            "removed",
            resource::PROJECT_MEMBERSHIP,
            &user_id,
            current.map(|role| json!({ "previousRole": role.as_str() })),
        )
        .await?;
    Ok(Json(super::responses::Deleted { deleted }))
}

// --- organizations ---

/// A signed-in user's role in the organization of the path
/// (`/api/ui/organizations/{organization_id}/…`); unknown organizations and organizations
/// the user is no member of are both "not found".
#[derive(Debug, Clone)]
pub struct OrganizationAccess {
    pub organization_id: String,
    pub role: Role,
    /// The signed-in user.
    pub user_id: String,
}

impl OrganizationAccess {
    /// The signed-in user acting in the organization, for the audit log.
    pub fn audit(&self) -> Audit {
        Audit::organization(Actor::User(self.user_id.clone()), &self.organization_id)
    }
}

impl FromRequestParts<AppState> for OrganizationAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let organization_id = path_parameter(parts, state, "organization_id").await?;
        let not_found = || Error::not_found(format!("organization {organization_id:?}"));
        if state
            .store
            .get_organization(&organization_id)
            .await?
            .is_none()
        {
            return Err(not_found().into());
        }
        let role = UserRoles::of(state, &signed_in.user)
            .await?
            .in_organization(&organization_id)
            .filter(|role| *role != Role::NoAccess)
            .ok_or_else(not_found)?;
        Ok(OrganizationAccess {
            organization_id,
            role,
            user_id: signed_in.user.id.clone(),
        })
    }
}

/// `GET /api/ui/organizations/{organization_id}/members`
pub async fn organization_members(
    State(state): State<AppState>,
    access: OrganizationAccess,
) -> ApiResult<Json<DataList<Member>>> {
    let members = state
        .accounts
        .organization_members(&access.organization_id)
        .await?;
    Ok(Json(DataList::of(members, |(user, role)| Member {
        user_id: user.id,
        email: user.email,
        role: role_name(role),
        project_role: None,
    })))
}

/// `POST /api/ui/organizations/{organization_id}/members` `{email, role?}`: gives the user
/// (created when needed, with a one-time sign-in link returned once) a role in the
/// organization, and so in each of its projects where they have no role of their own.
pub async fn invite_organization_member(
    State(state): State<AppState>,
    access: OrganizationAccess,
    Json(body): Json<InviteBody>,
) -> ApiResult<Response> {
    let organization = InviteTo::Organization(&access.organization_id);
    let invitation = invite(&state, access.role, organization, &body).await?;
    invitation
        .answer(&state, access.audit(), resource::ORGANIZATION_MEMBERSHIP)
        .await
}

#[derive(Debug, Deserialize)]
pub struct OrganizationBody {
    name: Option<String>,
}

/// The longest organization name, in characters.
const MAX_ORGANIZATION_NAME: usize = 200;

/// `POST /api/ui/organizations` `{name}` (instance admins): a new organization, with a
/// fresh id; the admin owns it as they own every organization.
pub async fn create_organization(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Json(body): Json<OrganizationBody>,
) -> ApiResult<Response> {
    if !signed_in.user.is_admin {
        return Err(Error::new(
            spindle_core::ErrorKind::PermissionDenied,
            "user: only instance admins create organizations",
        )
        .into());
    }
    let name = body.name.as_deref().unwrap_or("").trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_ORGANIZATION_NAME {
        return Err(Error::invalid(
            "name",
            format!("expected 1 to {MAX_ORGANIZATION_NAME} characters"),
        )
        .into());
    }
    let organization = Organization {
        id: fresh_id(),
        name,
    };
    state.store.upsert_organization(&organization).await?;
    Audit::organization(Actor::User(signed_in.user.id.clone()), &organization.id)
        .record(
            &state,
            "created",
            resource::ORGANIZATION,
            &organization.id,
            Some(json!({ "name": organization.name })),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(MeOrganization {
            id: organization.id,
            name: organization.name,
            role: role_name(Role::Owner),
        }),
    )
        .into_response())
}

/// `PUT /api/ui/organizations/{organization_id}/members/{user_id}` `{role}` (`none` too:
/// access only to the projects with a role of their own).
pub async fn update_organization_member(
    State(state): State<AppState>,
    access: OrganizationAccess,
    Path((_, user_id)): Path<(String, String)>,
    Json(body): Json<RoleBody>,
) -> ApiResult<Json<Member>> {
    let text = body.role.as_deref().unwrap_or("");
    let role = Role::parse(text).ok_or_else(|| {
        Error::invalid(
            "role",
            format!("unknown role {text:?}; expected owner, admin, member, viewer or none"),
        )
    })?;
    let members = state
        .accounts
        .organization_members(&access.organization_id)
        .await?;
    let (user, current) = members
        .into_iter()
        .find(|(user, _)| user.id == user_id)
        .ok_or_else(|| Error::not_found(format!("member {user_id:?}")))?;
    check_change(access.role, Some(current), Some(role))?;
    set_organization_role(&state, &access.organization_id, &user.id, role).await?;
    access
        .audit()
        .record_role(
            &state,
            resource::ORGANIZATION_MEMBERSHIP,
            &user.id,
            role,
            Some(current),
        )
        .await?;
    Ok(Json(Member {
        user_id: user.id,
        email: user.email,
        role: role_name(role),
        project_role: None,
    }))
}

/// `DELETE /api/ui/organizations/{organization_id}/members/{user_id}`: removes the user
/// from the organization and its projects; 409 for the last owner.
pub async fn remove_organization_member(
    State(state): State<AppState>,
    access: OrganizationAccess,
    Path((_, user_id)): Path<(String, String)>,
) -> ApiResult<Json<super::responses::Deleted>> {
    let current = organization_role(&state, &access.organization_id, &user_id).await?;
    check_change(access.role, current, None)?;
    let deleted = remove_organization_role(
        &state,
        &access.audit(),
        &access.organization_id,
        &user_id,
        current,
    )
    .await?;
    Ok(Json(super::responses::Deleted { deleted }))
}

/// `GET /api/ui/organizations/{organization_id}/keys` (admins and owners).
pub async fn organization_keys(
    State(state): State<AppState>,
    access: OrganizationAccess,
) -> ApiResult<Json<DataList<KeyRow>>> {
    require(access.role, Permission::ManageKeys)?;
    let keys = state
        .store
        .list_organization_api_keys(&access.organization_id)
        .await?;
    Ok(Json(DataList::of(&keys, KeyRow::of_organization)))
}

/// `POST /api/ui/organizations/{organization_id}/keys`: a new organization key; the secret
/// is shown this once.
pub async fn create_organization_key(
    State(state): State<AppState>,
    access: OrganizationAccess,
) -> ApiResult<Response> {
    require(access.role, Permission::ManageKeys)?;
    let (public_key, secret_key) = fresh_key_pair();
    let key = organization_api_key(
        &state.server_secret,
        &access.organization_id,
        &public_key,
        &secret_key,
        None,
        now_micros(),
    );
    state.store.insert_organization_api_key(&key).await?;
    access
        .audit()
        .record(
            &state,
            "created",
            resource::ORGANIZATION_API_KEY,
            &public_key,
            None,
        )
        .await?;
    Ok(NewKey {
        public_key,
        secret_key,
    }
    .created())
}

/// `DELETE /api/ui/organizations/{organization_id}/keys/{public_key}`
pub async fn revoke_organization_key(
    State(state): State<AppState>,
    access: OrganizationAccess,
    Path((_, public_key)): Path<(String, String)>,
) -> ApiResult<Json<Revoked>> {
    require(access.role, Permission::ManageKeys)?;
    let revoked = state
        .auth
        .revoke_organization_key(&access.organization_id, &public_key)
        .await?;
    if revoked {
        access
            .audit()
            .record(
                &state,
                "revoked",
                resource::ORGANIZATION_API_KEY,
                &public_key,
                None,
            )
            .await?;
    }
    Ok(Json(Revoked { revoked }))
}
