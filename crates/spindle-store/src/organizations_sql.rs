//! The statements of organizations' administration, written once for both dialects:
//! organization memberships, organization API keys, projects with metadata, the marking of
//! deleted projects and the batched purge of their data. `Catalog` and `Accounts` call
//! them for every [`Executor`].

use spindle_core::time::Micros;
use spindle_core::{Error, ErrorKind};

use crate::accounts::{OrganizationMembership, Role, User};
use crate::accounts_sql::{changed_any, PROJECT_SELECT};
use crate::executor::{columns_and_codec, first, Executor, FromRow, Single, ToRow};
use crate::organizations::{OrganizationApiKey, ProjectDetails, ProjectUpdate};
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::statements::{insert, qualified};
use crate::{Organization, Project, Result};

columns_and_codec!(ORGANIZATION_KEY_COLUMNS => OrganizationApiKey {
    public_key: text,
    organization_id: text,
    secret_hash: text,
    secret_hint: text,
    note: opt_text,
    created_at: int,
    revoked_at: opt_int,
});

const ORGANIZATION_MEMBERSHIP_COLUMNS: &str = "organization_id, user_id, role";

/// A deleted project's tables with many rows, purged a batch per transaction.
const BIG_TABLES: &[&str] = &[
    "trace_totals",
    "scores",
    "observations",
    "traces",
    "media",
    "media_blobs",
    "dataset_run_items",
    "dataset_item_media",
    "dataset_item_versions",
    "dataset_items",
    "comments",
    "annotation_queue_items",
];

/// A deleted project's other tables, emptied in the transaction that marks it purged
/// (the trace index tables last: deleting traces maintains them).
const SMALL_TABLES: &[&str] = &[
    "models",
    "prompt_dependencies",
    "prompt_labels",
    "prompt_tags",
    "prompts",
    "prompt_heads",
    "dataset_runs",
    "datasets",
    "annotation_queue_assignments",
    "annotation_queues",
    "score_configs",
    "saved_views",
    "memberships",
    "trace_tags",
    "trace_metadata",
    "trace_tag_counts",
    // Without a rowid on SQLite, so not batched; a few rows per hour and key.
    "observation_rollups",
    "observation_latency_buckets",
    "observation_latency_days",
    "score_rollups",
    "prompt_score_rollups",
    "trace_rollups",
    "trace_latency_buckets",
    "trace_latency_days",
    "people_rollups",
    "trace_model_rollups",
    "observation_attribute_rollups",
    "observation_attribute_buckets",
    "observation_attribute_days",
    "score_attribute_rollups",
    "trace_attribute_rollups",
    "trace_attribute_buckets",
    "trace_attribute_days",
    "session_totals",
    "rollups_pending",
    "rolled_metadata_keys",
    "metadata_sweeps",
];

/// The tables only one dialect has.
fn dialect_tables(dialect: Dialect) -> (&'static [&'static str], &'static [&'static str]) {
    match dialect {
        Dialect::Sqlite => (&[], &["project_stats", "resources"]),
        Dialect::Postgres => (&["trace_search"], &["project_counts"]),
    }
}

fn role(row: &impl RowAccess) -> Result<Role> {
    let text = row.text("role")?;
    Role::parse(&text).ok_or_else(|| Error::internal(format!("stored role {text:?}")))
}

impl FromRow for OrganizationMembership {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(OrganizationMembership {
            organization_id: row.text("organization_id")?,
            user_id: row.text("user_id")?,
            role: role(row)?,
        })
    }
}

impl FromRow for ProjectDetails {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        let project = Project::from_row(row)?;
        Ok(ProjectDetails {
            metadata: row.opt_text("metadata")?,
            updated_at: row.opt_int("updated_at")?.unwrap_or(project.created_at),
            project,
        })
    }
}

impl FromRow for Organization {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(Organization {
            id: row.text("id")?,
            name: row.text("name")?,
        })
    }
}

fn conflict(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Conflict, message)
}

// --- organizations and their projects ---

pub async fn get_organization(
    db: &impl Executor,
    organization_id: &str,
) -> Result<Option<Organization>> {
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT id, name FROM organizations WHERE id = ",
    );
    sql.bind(organization_id);
    first(db, sql).await
}

pub async fn list_organizations(db: &impl Executor) -> Result<Vec<Organization>> {
    db.select(Sql::new(
        db.dialect(),
        "SELECT id, name FROM organizations ORDER BY created_at, id",
    ))
    .await
}

/// The organization's live projects (only `project_id` when given), oldest first.
pub async fn organization_projects(
    db: &impl Executor,
    organization_id: &str,
    project_id: Option<&str>,
) -> Result<Vec<ProjectDetails>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("{PROJECT_SELECT} WHERE p.deleted_at IS NULL AND p.organization_id = "),
    );
    sql.bind(organization_id);
    if let Some(project_id) = project_id {
        sql.push(" AND p.id = ").bind(project_id);
    }
    sql.push(" ORDER BY p.created_at, p.id");
    db.select(sql).await
}

/// The id of a live project of the organization named `name`, other than `except`.
async fn project_named(
    db: &impl Executor,
    organization_id: &str,
    name: &str,
    except: &str,
) -> Result<Option<String>> {
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT id AS value FROM projects WHERE deleted_at IS NULL AND organization_id = ",
    );
    sql.bind(organization_id)
        .push(" AND name = ")
        .bind(name)
        .push(" AND id <> ")
        .bind(except);
    Ok(first::<Single<String>>(db, sql).await?.map(|id| id.0))
}

pub async fn create_project(
    db: &impl Executor,
    project: &Project,
    metadata: Option<&str>,
) -> Result<()> {
    if get_organization(db, &project.organization.id)
        .await?
        .is_none()
    {
        return Err(Error::not_found(format!(
            "organization {:?}",
            project.organization.id
        )));
    }
    if project_named(db, &project.organization.id, &project.name, &project.id)
        .await?
        .is_some()
    {
        return Err(conflict(
            "A project with this name already exists in your organization",
        ));
    }
    let mut sql = insert(
        db.dialect(),
        "projects",
        "id, organization_id, name, retention_days, created_at, metadata, updated_at",
        [
            Param::from(&project.id),
            Param::from(&project.organization.id),
            Param::from(&project.name),
            Param::from(project.retention_days.map(i64::from)),
            Param::from(project.created_at),
            Param::from(metadata),
            Param::from(project.created_at),
        ],
    );
    sql.push(" ON CONFLICT DO NOTHING");
    if !changed_any(db, sql).await? {
        return Err(conflict(format!(
            "a project with id {:?} exists",
            project.id
        )));
    }
    Ok(())
}

pub async fn update_project(
    db: &impl Executor,
    project_id: &str,
    update: &ProjectUpdate,
    at: Micros,
) -> Result<Option<ProjectDetails>> {
    let mut find = Sql::new(
        db.dialect(),
        "SELECT organization_id AS value FROM projects WHERE deleted_at IS NULL AND id = ",
    );
    find.bind(project_id);
    let Some(Single(organization_id)) = first::<Single<String>>(db, find).await? else {
        return Ok(None);
    };
    if let Some(name) = &update.name {
        if project_named(db, &organization_id, name, project_id)
            .await?
            .is_some()
        {
            return Err(conflict(
                "A project with this name already exists in your organization",
            ));
        }
    }
    let mut sql = Sql::new(db.dialect(), "UPDATE projects SET updated_at = ");
    sql.bind(at);
    if let Some(name) = &update.name {
        sql.push(", name = ").bind(name);
    }
    if let Some(retention_days) = update.retention_days {
        sql.push(", retention_days = ")
            .bind(retention_days.map(i64::from));
    }
    if let Some(metadata) = &update.metadata {
        sql.push(", metadata = ").bind(metadata);
    }
    sql.push(" WHERE deleted_at IS NULL AND id = ")
        .bind(project_id);
    if !changed_any(db, sql).await? {
        return Ok(None);
    }
    let projects = organization_projects(db, &organization_id, Some(project_id)).await?;
    Ok(projects.into_iter().next())
}

pub async fn mark_project_deleted(
    db: &impl Executor,
    project_id: &str,
    at: Micros,
) -> Result<bool> {
    let mut mark = Sql::new(db.dialect(), "UPDATE projects SET deleted_at = ");
    mark.bind(at)
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(project_id);
    let mut keys = Sql::new(db.dialect(), "DELETE FROM api_keys WHERE project_id = ");
    keys.bind(project_id);
    let changed = db.modify(vec![mark, keys]).await?;
    Ok(changed.first().copied().unwrap_or(0) > 0)
}

pub async fn projects_to_purge(db: &impl Executor) -> Result<Vec<String>> {
    let rows: Vec<Single<String>> = db
        .select(Sql::new(
            db.dialect(),
            "SELECT id AS value FROM projects \
             WHERE deleted_at IS NOT NULL AND purged_at IS NULL ORDER BY deleted_at, id",
        ))
        .await?;
    Ok(rows.into_iter().map(|id| id.0).collect())
}

/// Deletes at most `limit` of the project's rows of `table`.
fn delete_batch(dialect: Dialect, table: &str, project_id: &str, limit: u32) -> Sql {
    // SQLite's rowid and PostgreSQL's ctid name a row without its key.
    let row = match dialect {
        Dialect::Sqlite => "rowid",
        Dialect::Postgres => "ctid",
    };
    let mut sql = Sql::new(
        dialect,
        &format!(
            "DELETE FROM {table} WHERE {row} IN \
             (SELECT {row} FROM {table} WHERE project_id = "
        ),
    );
    sql.bind(project_id)
        .push(" LIMIT ")
        .bind(i64::from(limit))
        .push(")");
    sql
}

pub async fn purge_project_batch(
    db: &impl Executor,
    project_id: &str,
    batch_rows: u32,
) -> Result<u64> {
    let dialect = db.dialect();
    let mut pending = Sql::new(
        dialect,
        "SELECT id AS value FROM projects \
         WHERE deleted_at IS NOT NULL AND purged_at IS NULL AND id = ",
    );
    pending.bind(project_id);
    if first::<Single<String>>(db, pending).await?.is_none() {
        return Ok(0);
    }
    let (big_extra, small_extra) = dialect_tables(dialect);
    let batches = BIG_TABLES
        .iter()
        .chain(big_extra)
        .map(|table| delete_batch(dialect, table, project_id, batch_rows.max(1)))
        .collect();
    let removed: u64 = db.modify(batches).await?.iter().sum();
    if removed > 0 {
        return Ok(removed);
    }
    let mut statements: Vec<Sql> = SMALL_TABLES
        .iter()
        .chain(small_extra)
        .map(|table| {
            let mut sql = Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
            sql.bind(project_id);
            sql
        })
        .collect();
    let mut done = Sql::new(dialect, "UPDATE projects SET purged_at = ");
    done.bind(crate::now_micros())
        .push(" WHERE purged_at IS NULL AND id = ")
        .bind(project_id);
    statements.push(done);
    let changed = db.modify(statements).await?;
    // The last count is the project's own row, not data.
    Ok(changed[..changed.len() - 1].iter().sum())
}

// --- organization API keys ---

pub async fn insert_organization_api_key(
    db: &impl Executor,
    key: &OrganizationApiKey,
) -> Result<()> {
    if get_organization(db, &key.organization_id).await?.is_none() {
        return Err(Error::invalid(
            "organizationId",
            format!("unknown organization {:?}", key.organization_id),
        ));
    }
    if crate::accounts_sql::get_api_key(db, &key.public_key)
        .await?
        .is_some()
    {
        return Err(Error::invalid("publicKey", "already exists"));
    }
    let mut sql = insert(
        db.dialect(),
        "organization_api_keys",
        ORGANIZATION_KEY_COLUMNS,
        key.values(),
    );
    sql.push(" ON CONFLICT (public_key) DO NOTHING");
    if !changed_any(db, sql).await? {
        return Err(Error::invalid("publicKey", "already exists"));
    }
    Ok(())
}

pub async fn get_organization_api_key(
    db: &impl Executor,
    public_key: &str,
) -> Result<Option<OrganizationApiKey>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {ORGANIZATION_KEY_COLUMNS} FROM organization_api_keys WHERE public_key = "
        ),
    );
    sql.bind(public_key);
    first(db, sql).await
}

pub async fn list_organization_api_keys(
    db: &impl Executor,
    organization_id: &str,
) -> Result<Vec<OrganizationApiKey>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {ORGANIZATION_KEY_COLUMNS} FROM organization_api_keys WHERE organization_id = "
        ),
    );
    sql.bind(organization_id)
        .push(" ORDER BY created_at, public_key");
    db.select(sql).await
}

pub async fn revoke_organization_api_key(
    db: &impl Executor,
    organization_id: &str,
    public_key: &str,
    at: Micros,
) -> Result<bool> {
    let mut sql = Sql::new(
        db.dialect(),
        "UPDATE organization_api_keys SET revoked_at = ",
    );
    sql.bind(at)
        .push(" WHERE organization_id = ")
        .bind(organization_id)
        .push(" AND public_key = ")
        .bind(public_key)
        .push(" AND revoked_at IS NULL");
    changed_any(db, sql).await
}

// --- organization memberships ---

/// ` AND (<role stays or goes> OR another owner remains)`: the condition that keeps an
/// organization's last owner.
fn keeps_an_owner(sql: &mut Sql, organization_id: &str, user_id: &str) {
    sql.push(
        " AND (role <> 'OWNER' OR EXISTS (SELECT 1 FROM organization_memberships o \
         WHERE o.organization_id = ",
    )
    .bind(organization_id)
    .push(" AND o.role = 'OWNER' AND o.user_id <> ")
    .bind(user_id)
    .push("))");
}

async fn organization_membership(
    db: &impl Executor,
    organization_id: &str,
    user_id: &str,
) -> Result<Option<OrganizationMembership>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {ORGANIZATION_MEMBERSHIP_COLUMNS} FROM organization_memberships \
             WHERE organization_id = "
        ),
    );
    sql.bind(organization_id)
        .push(" AND user_id = ")
        .bind(user_id);
    first(db, sql).await
}

fn last_owner() -> Error {
    conflict("role: the organization's last owner cannot be removed or changed; make another owner first")
}

pub async fn set_organization_membership(
    db: &impl Executor,
    membership: &OrganizationMembership,
    now: Micros,
) -> Result<()> {
    let (organization_id, user_id) = (&membership.organization_id, &membership.user_id);
    let role = membership.role.as_str();
    // Two attempts: a concurrent insert of the same membership turns the insert into an
    // update.
    for _ in 0..2 {
        let mut update = Sql::new(db.dialect(), "UPDATE organization_memberships SET role = ");
        update
            .bind(role)
            .push(" WHERE organization_id = ")
            .bind(organization_id)
            .push(" AND user_id = ")
            .bind(user_id);
        if membership.role != Role::Owner {
            keeps_an_owner(&mut update, organization_id, user_id);
        }
        if changed_any(db, update).await? {
            return Ok(());
        }
        if organization_membership(db, organization_id, user_id)
            .await?
            .is_some()
        {
            return Err(last_owner());
        }
        let mut create = insert(
            db.dialect(),
            "organization_memberships",
            "organization_id, user_id, role, created_at",
            [
                Param::from(organization_id),
                Param::from(user_id),
                Param::from(role),
                Param::from(now),
            ],
        );
        create.push(" ON CONFLICT DO NOTHING");
        if changed_any(db, create).await? {
            return Ok(());
        }
    }
    Err(Error::internal("organization membership kept changing"))
}

pub async fn organization_memberships_of_user(
    db: &impl Executor,
    user_id: &str,
) -> Result<Vec<OrganizationMembership>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {ORGANIZATION_MEMBERSHIP_COLUMNS} FROM organization_memberships WHERE user_id = "
        ),
    );
    sql.bind(user_id).push(" ORDER BY organization_id");
    db.select(sql).await
}

/// The members of a project or an organization with their roles, by email: the rows of
/// `memberships_table` whose `owner_column` is `owner_id`, joined to their users.
pub async fn members(
    db: &impl Executor,
    (memberships_table, owner_column): (&str, &str),
    owner_id: &str,
    user_columns: &str,
) -> Result<Vec<(User, Role)>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {}, m.role FROM {memberships_table} m JOIN users u ON u.id = m.user_id
             WHERE m.{owner_column} = ",
            qualified("u", user_columns)
        ),
    );
    sql.bind(owner_id).push(" ORDER BY u.email");
    db.select(sql).await
}

pub async fn remove_organization_membership(
    db: &impl Executor,
    organization_id: &str,
    user_id: &str,
) -> Result<bool> {
    let mut remove = Sql::new(
        db.dialect(),
        "DELETE FROM organization_memberships WHERE organization_id = ",
    );
    remove
        .bind(organization_id)
        .push(" AND user_id = ")
        .bind(user_id);
    keeps_an_owner(&mut remove, organization_id, user_id);
    // The user's project roles in the organization's projects go with it.
    let mut projects = Sql::new(db.dialect(), "DELETE FROM memberships WHERE user_id = ");
    projects
        .bind(user_id)
        .push(" AND project_id IN (SELECT id FROM projects WHERE organization_id = ")
        .bind(organization_id)
        .push(") AND NOT EXISTS (SELECT 1 FROM organization_memberships WHERE organization_id = ")
        .bind(organization_id)
        .push(" AND user_id = ")
        .bind(user_id)
        .push(")");
    let changed = db.modify(vec![remove, projects]).await?;
    if changed.first().copied().unwrap_or(0) > 0 {
        return Ok(true);
    }
    if organization_membership(db, organization_id, user_id)
        .await?
        .is_some()
    {
        return Err(last_owner());
    }
    Ok(false)
}
