//! The accounts' statements, written once for both dialects: users, sessions, sign-in
//! links, memberships, saved views, the UI's aggregates (token totals of traces; the users
//! and sessions lists are in `people_sql.rs`), and the organizations,
//! projects and API keys of [`crate::Store`]; one column list and one row codec per entity.
//!
//! [`Accounts`] is implemented here, once, for every backend that can run the statements
//! (an [`Executor`]); the backends' `Store` implementations call the functions below for
//! organizations, projects and keys.

use async_trait::async_trait;
use spindle_core::time::Micros;
use spindle_core::Error;
use std::collections::HashMap;

use crate::accounts::{
    Accounts, Membership, OrganizationMembership, Role, SavedView, TokenTotals, UiSession, User,
};
use crate::executor::{columns_and_codec, first, Executor, FromRow, Single, ToRow};
use crate::organizations_sql;
use crate::people::{GroupTotals, Grouping, TotalsQuery};
use crate::people_sql::{rollup_totals_statements, session_totals_statements, totals_statements};
use crate::rollups_sql;
use crate::secret::ServerSecret;
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::statements::{delete_where, insert, upsert, SUM_AS_INTEGER};
use crate::{now_micros, ApiKey, Organization, Page, Project, Result};

// --- column lists and row codecs ---

columns_and_codec!(USER_COLUMNS => User {
    id: text,
    email: text,
    name: opt_text,
    password_hash: opt_text,
    is_admin: boolean,
    created_at: int,
});

columns_and_codec!(SESSION_COLUMNS => UiSession {
    token_hash: text,
    user_id: text,
    csrf_token: text,
    created_at: int,
    expires_at: int,
});

columns_and_codec!(VIEW_COLUMNS => SavedView {
    id: text,
    project_id: text,
    user_id: text,
    page: text,
    name: text,
    query: text,
    created_at: int,
});

columns_and_codec!(API_KEY_COLUMNS => ApiKey {
    public_key: text,
    project_id: text,
    secret_hash: text,
    secret_hint: text,
    note: opt_text,
    created_at: int,
    revoked_at: opt_int,
});

const LINK_COLUMNS: &str = "token_hash, user_id, expires_at";
const MEMBERSHIP_COLUMNS: &str = "user_id, project_id, role";
const ORGANIZATION_COLUMNS: &str = "id, name, created_at";
const PROJECT_COLUMNS: &str = "id, organization_id, name, retention_days, created_at";

/// Projects with their organization's name.
pub(crate) const PROJECT_SELECT: &str = "SELECT p.id, p.name, p.retention_days, p.created_at, \
     p.organization_id, g.name AS organization_name, p.metadata, p.updated_at \
     FROM projects p LEFT JOIN organizations g ON g.id = p.organization_id";

/// The name of the server secret's row in `server_secrets`.
const SERVER_SECRET: &str = "server";

fn role(row: &impl RowAccess) -> Result<Role> {
    Ok(Role::parse(&row.text("role")?).unwrap_or(Role::Member))
}

impl FromRow for Membership {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(Membership {
            user_id: row.text("user_id")?,
            project_id: row.text("project_id")?,
            role: role(row)?,
        })
    }
}

impl FromRow for (User, Role) {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok((User::from_row(row)?, role(row)?))
    }
}

impl FromRow for Project {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(Project {
            id: row.text("id")?,
            name: row.text("name")?,
            retention_days: row
                .opt_int("retention_days")?
                .and_then(|days| u32::try_from(days).ok()),
            created_at: row.int("created_at")?,
            organization: Organization {
                id: row.text("organization_id")?,
                name: row.opt_text("organization_name")?.unwrap_or_default(),
            },
        })
    }
}

impl FromRow for (String, TokenTotals) {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        let totals = TokenTotals {
            input: row.int("input")?,
            output: row.int("output")?,
            total: row.int("total")?,
        };
        Ok((row.text("trace_id")?, totals))
    }
}

// --- statements ---

fn select_users(dialect: Dialect, rest: &str) -> Sql {
    Sql::new(dialect, &format!("SELECT {USER_COLUMNS} FROM users {rest}"))
}

/// Whether the one statement changed a row.
pub(crate) async fn changed_any(db: &impl Executor, sql: Sql) -> Result<bool> {
    Ok(db.modify(vec![sql]).await?.iter().sum::<u64>() > 0)
}

fn trace_tokens_statement(dialect: Dialect, project_id: &str, trace_ids: &[String]) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT trace_id, {} AS input, {} AS output, {} AS total
             FROM observations WHERE project_id = ",
            SUM_AS_INTEGER.of(dialect, "usage_input"),
            SUM_AS_INTEGER.of(dialect, "usage_output"),
            SUM_AS_INTEGER.of(dialect, "usage_total"),
        ),
    );
    sql.bind(project_id).push(" AND ");
    sql.in_list("trace_id", trace_ids.to_vec(), false)
        .push(" GROUP BY trace_id");
    sql
}

#[async_trait]
impl<E: Executor> Accounts for E {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut sql = insert(self.dialect(), "users", USER_COLUMNS, user.values());
        // Both databases hold emails unique ignoring ASCII case.
        sql.push(" ON CONFLICT DO NOTHING");
        if !changed_any(self, sql).await? {
            return Err(Error::invalid("email", "a user with this email exists"));
        }
        Ok(())
    }

    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        let mut sql = select_users(self.dialect(), "WHERE id = ");
        sql.bind(user_id);
        first(self, sql).await
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        // SQLite's email column compares ignoring case (COLLATE NOCASE, under its unique
        // index); PostgreSQL's unique index is on lower(email).
        let mut sql = select_users(self.dialect(), "WHERE ");
        match self.dialect() {
            Dialect::Sqlite => sql.push("email = ").bind(email.trim()),
            Dialect::Postgres => sql
                .push("lower(email) = lower(")
                .bind(email.trim())
                .push(")"),
        };
        first(self, sql).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.select(select_users(self.dialect(), "ORDER BY created_at, id"))
            .await
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect(), "UPDATE users SET password_hash = ");
        sql.bind(password_hash).push(" WHERE id = ").bind(user_id);
        changed_any(self, sql).await
    }

    async fn create_session(&self, session: &UiSession) -> Result<()> {
        let sql = insert(
            self.dialect(),
            "ui_sessions",
            SESSION_COLUMNS,
            session.values(),
        );
        self.modify(vec![sql]).await.map(drop)
    }

    async fn get_session(&self, token_hash: &str, now: Micros) -> Result<Option<UiSession>> {
        let mut sql = Sql::new(
            self.dialect(),
            &format!("SELECT {SESSION_COLUMNS} FROM ui_sessions WHERE token_hash = "),
        );
        sql.bind(token_hash).push(" AND expires_at > ").bind(now);
        first(self, sql).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let sql = delete_where(self.dialect(), "ui_sessions", &[("token_hash", token_hash)]);
        changed_any(self, sql).await
    }

    async fn delete_other_sessions(&self, user_id: &str, keep_token_hash: &str) -> Result<u64> {
        let mut sql = Sql::new(self.dialect(), "DELETE FROM ui_sessions WHERE user_id = ");
        sql.bind(user_id)
            .push(" AND token_hash <> ")
            .bind(keep_token_hash);
        Ok(self.modify(vec![sql]).await?.iter().sum())
    }

    async fn delete_expired(&self, now: Micros) -> Result<u64> {
        let mut sessions = Sql::new(
            self.dialect(),
            "DELETE FROM ui_sessions WHERE expires_at <= ",
        );
        sessions.bind(now);
        let mut links = Sql::new(
            self.dialect(),
            "DELETE FROM sign_in_links WHERE expires_at <= ",
        );
        links.bind(now).push(" OR used_at IS NOT NULL");
        Ok(self.modify(vec![sessions, links]).await?.iter().sum())
    }

    async fn create_sign_in_link(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: Micros,
    ) -> Result<()> {
        let sql = insert(
            self.dialect(),
            "sign_in_links",
            LINK_COLUMNS,
            [token_hash.into(), user_id.into(), expires_at.into()],
        );
        self.modify(vec![sql]).await.map(drop)
    }

    async fn consume_sign_in_link(&self, token_hash: &str, now: Micros) -> Result<Option<String>> {
        // One statement: of two consumers of the same link, only one gets the user.
        let mut sql = Sql::new(self.dialect(), "UPDATE sign_in_links SET used_at = ");
        sql.bind(now)
            .push(" WHERE token_hash = ")
            .bind(token_hash)
            .push(" AND used_at IS NULL AND expires_at > ")
            .bind(now)
            .push(" RETURNING user_id AS value");
        let rows: Vec<Single<String>> = self.modify_returning(sql).await?;
        Ok(rows.into_iter().next().map(|user| user.0))
    }

    async fn set_membership(&self, membership: &Membership, now: Micros) -> Result<()> {
        let sql = upsert(
            self.dialect(),
            "memberships",
            "user_id, project_id, role, created_at",
            [
                Param::from(&membership.user_id),
                Param::from(&membership.project_id),
                Param::from(membership.role.as_str()),
                Param::from(now),
            ],
            "user_id, project_id",
            &["role"],
        );
        self.modify(vec![sql]).await.map(drop)
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>> {
        let mut sql = Sql::new(
            self.dialect(),
            &format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE user_id = "),
        );
        sql.bind(user_id).push(" ORDER BY project_id");
        self.select(sql).await
    }

    async fn members_of_project(&self, project_id: &str) -> Result<Vec<(User, Role)>> {
        let memberships = ("memberships", "project_id");
        organizations_sql::members(self, memberships, project_id, USER_COLUMNS).await
    }

    async fn remove_membership(&self, user_id: &str, project_id: &str) -> Result<bool> {
        let conditions = [("user_id", user_id), ("project_id", project_id)];
        let sql = delete_where(self.dialect(), "memberships", &conditions);
        changed_any(self, sql).await
    }

    async fn set_organization_membership(
        &self,
        membership: &OrganizationMembership,
        now: Micros,
    ) -> Result<()> {
        organizations_sql::set_organization_membership(self, membership, now).await
    }

    async fn organization_memberships_of_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<OrganizationMembership>> {
        organizations_sql::organization_memberships_of_user(self, user_id).await
    }

    async fn organization_members(&self, organization_id: &str) -> Result<Vec<(User, Role)>> {
        let memberships = ("organization_memberships", "organization_id");
        organizations_sql::members(self, memberships, organization_id, USER_COLUMNS).await
    }

    async fn remove_organization_membership(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<bool> {
        organizations_sql::remove_organization_membership(self, organization_id, user_id).await
    }

    async fn save_view(&self, view: &SavedView) -> Result<()> {
        let sql = upsert(
            self.dialect(),
            "saved_views",
            VIEW_COLUMNS,
            view.values(),
            "id",
            &["name", "query"],
        );
        self.modify(vec![sql]).await.map(drop)
    }

    async fn list_views(&self, project_id: &str, page: &str) -> Result<Vec<SavedView>> {
        let mut sql = Sql::new(
            self.dialect(),
            &format!("SELECT {VIEW_COLUMNS} FROM saved_views WHERE project_id = "),
        );
        sql.bind(project_id)
            .push(" AND page = ")
            .bind(page)
            .push(" ORDER BY created_at, id");
        self.select(sql).await
    }

    async fn delete_view(&self, project_id: &str, view_id: &str) -> Result<bool> {
        let conditions = [("project_id", project_id), ("id", view_id)];
        let sql = delete_where(self.dialect(), "saved_views", &conditions);
        changed_any(self, sql).await
    }

    async fn record_audit(&self, entry: &crate::audit::NewAuditEntry) -> Result<()> {
        crate::audit_sql::record(self, entry).await
    }

    async fn audit_log(
        &self,
        query: &crate::audit::AuditQuery,
    ) -> Result<Page<crate::audit::AuditEntry>> {
        crate::audit_sql::list(self, query).await
    }

    async fn server_secret(&self, fresh: &ServerSecret) -> Result<ServerSecret> {
        let mut create = insert(
            self.dialect(),
            "server_secrets",
            "name, value, created_at",
            [
                Param::from(SERVER_SECRET),
                Param::from(fresh.to_hex()),
                Param::from(now_micros()),
            ],
        );
        // Of instances starting together, the first insert wins and all read it back.
        create.push(" ON CONFLICT DO NOTHING");
        self.modify(vec![create]).await?;
        let mut read = Sql::new(
            self.dialect(),
            "SELECT value FROM server_secrets WHERE name = ",
        );
        read.bind(SERVER_SECRET);
        let Single(value) = first::<Single<String>>(self, read)
            .await?
            .ok_or_else(|| Error::internal("the server secret was not stored"))?;
        ServerSecret::from_hex(&value)
            .ok_or_else(|| Error::internal("the stored server secret is not 64 hex characters"))
    }

    async fn group_totals(
        &self,
        project_id: &str,
        grouping: Grouping,
        query: &TotalsQuery,
    ) -> Result<Page<GroupTotals>> {
        let page = query.page.max(1);
        let limit = if query.limit == 0 { 50 } else { query.limit };
        let offset = i64::from(page - 1) * i64::from(limit);
        let dialect = self.dialect();
        // The session totals or the people rollups answer when they can and the project's
        // rollups are built.
        let from_rollups =
            match session_totals_statements(dialect, project_id, grouping, query, limit, offset)
                .or_else(|| {
                    rollup_totals_statements(dialect, project_id, grouping, query, limit, offset)
                }) {
                Some(statements) => {
                    (!rollups_sql::is_pending_on(self, project_id).await?).then_some(statements)
                }
                None => None,
            };
        let (count, rows) = from_rollups.unwrap_or_else(|| {
            totals_statements(dialect, project_id, grouping, query, limit, offset)
        });
        let (total, items): (Vec<Single<i64>>, _) = self.select_pair(count, rows).await?;
        let total = total.first().map_or(0, |total| total.0);
        let total = u64::try_from(total).unwrap_or(0);
        Ok(Page::counted(items, page, limit, total))
    }

    async fn trace_tokens(
        &self,
        project_id: &str,
        trace_ids: &[String],
    ) -> Result<HashMap<String, TokenTotals>> {
        if trace_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, TokenTotals)> = self
            .select(trace_tokens_statement(
                self.dialect(),
                project_id,
                trace_ids,
            ))
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn distinct_values(
        &self,
        project_id: &str,
        column: crate::suggestions::ValueColumn,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>> {
        let sql = crate::suggestions::distinct_values_statement(
            self.dialect(),
            project_id,
            column,
            prefix,
            limit,
        );
        let values: Vec<Single<String>> = self.select(sql).await?;
        Ok(values.into_iter().map(|Single(value)| value).collect())
    }
}

// --- organizations, projects and API keys, for the backends' `Store` ---

pub async fn upsert_organization(db: &impl Executor, organization: &Organization) -> Result<()> {
    let sql = upsert(
        db.dialect(),
        "organizations",
        ORGANIZATION_COLUMNS,
        [
            Param::from(&organization.id),
            Param::from(&organization.name),
            Param::from(now_micros()),
        ],
        "id",
        &["name"],
    );
    db.modify(vec![sql]).await.map(drop)
}

/// The statements that create the project and its organization unless they exist.
fn project_statements(dialect: Dialect, project: &Project) -> [Sql; 2] {
    let mut organization = insert(
        dialect,
        "organizations",
        ORGANIZATION_COLUMNS,
        [
            Param::from(&project.organization.id),
            Param::from(&project.organization.name),
            Param::from(project.created_at),
        ],
    );
    organization.push(" ON CONFLICT DO NOTHING");
    let mut row = insert(
        dialect,
        "projects",
        PROJECT_COLUMNS,
        [
            Param::from(&project.id),
            Param::from(&project.organization.id),
            Param::from(&project.name),
            Param::from(project.retention_days.map(i64::from)),
            Param::from(project.created_at),
        ],
    );
    row.push(" ON CONFLICT DO NOTHING");
    [organization, row]
}

/// Creates the project (and its organization) unless it exists, and the key, in one
/// transaction: either both are there afterwards or neither is new.
pub async fn create_project_with_key(
    db: &impl Executor,
    project: &Project,
    key: &ApiKey,
) -> Result<()> {
    debug_assert_eq!(project.id, key.project_id);
    let mut statements = Vec::from(project_statements(db.dialect(), project));
    let mut key_row = insert(db.dialect(), "api_keys", API_KEY_COLUMNS, key.values());
    key_row.push(" ON CONFLICT (public_key) DO NOTHING");
    statements.push(key_row);
    db.modify(statements).await.map(drop)
}

/// Creates the project and its organization, leaving either as it is when it exists.
pub async fn upsert_project(db: &impl Executor, project: &Project) -> Result<()> {
    db.modify(Vec::from(project_statements(db.dialect(), project)))
        .await
        .map(drop)
}

pub async fn get_project(db: &impl Executor, project_id: &str) -> Result<Option<Project>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("{PROJECT_SELECT} WHERE p.deleted_at IS NULL AND p.id = "),
    );
    sql.bind(project_id);
    first(db, sql).await
}

pub async fn list_projects(db: &impl Executor) -> Result<Vec<Project>> {
    db.select(Sql::new(
        db.dialect(),
        &format!("{PROJECT_SELECT} WHERE p.deleted_at IS NULL ORDER BY p.created_at, p.id"),
    ))
    .await
}

/// Creates a key: `InvalidArgument` when the public key exists for another project or the
/// project is unknown; nothing happens when the same key exists already.
pub async fn insert_api_key(db: &impl Executor, key: &ApiKey) -> Result<()> {
    let dialect = db.dialect();
    let mut project = Sql::new(
        dialect,
        "SELECT id AS value FROM projects WHERE deleted_at IS NULL AND id = ",
    );
    project.bind(&key.project_id);
    let project_exists = !db.select::<Single<String>>(project).await?.is_empty();
    let inserted = if project_exists {
        let mut sql = insert(dialect, "api_keys", API_KEY_COLUMNS, key.values());
        sql.push(" ON CONFLICT (public_key) DO NOTHING");
        changed_any(db, sql).await?
    } else {
        false
    };
    if inserted {
        return Ok(());
    }
    let mut existing = Sql::new(
        dialect,
        "SELECT project_id AS value FROM api_keys WHERE public_key = ",
    );
    existing.bind(&key.public_key);
    match first::<Single<String>>(db, existing).await? {
        Some(Single(project_id)) if project_id == key.project_id => Ok(()),
        Some(_) => Err(Error::invalid(
            "publicKey",
            "already exists for another project",
        )),
        None => Err(Error::invalid(
            "projectId",
            format!("unknown project {:?}", key.project_id),
        )),
    }
}

pub async fn get_api_key(db: &impl Executor, public_key: &str) -> Result<Option<ApiKey>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE public_key = "),
    );
    sql.bind(public_key);
    first(db, sql).await
}

/// The keys of a project, or of every project.
pub async fn list_api_keys(db: &impl Executor, project_id: Option<&str>) -> Result<Vec<ApiKey>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("SELECT {API_KEY_COLUMNS} FROM api_keys"),
    );
    if let Some(project_id) = project_id {
        sql.push(" WHERE project_id = ").bind(project_id);
    }
    sql.push(" ORDER BY created_at, public_key");
    db.select(sql).await
}

/// Marks a key revoked; whether a live key was revoked.
pub async fn revoke_api_key(db: &impl Executor, public_key: &str, at: Micros) -> Result<bool> {
    let mut sql = Sql::new(db.dialect(), "UPDATE api_keys SET revoked_at = ");
    sql.bind(at)
        .push(" WHERE public_key = ")
        .bind(public_key)
        .push(" AND revoked_at IS NULL");
    changed_any(db, sql).await
}

/// Stores a key's new secret hash if the stored one is still `old_hash`.
pub async fn replace_api_key_hash(
    db: &impl Executor,
    public_key: &str,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool> {
    let mut sql = Sql::new(db.dialect(), "UPDATE api_keys SET secret_hash = ");
    sql.bind(new_hash)
        .push(" WHERE public_key = ")
        .bind(public_key)
        .push(" AND secret_hash = ")
        .bind(old_hash);
    changed_any(db, sql).await
}
