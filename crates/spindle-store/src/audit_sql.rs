//! The audit log's statements, written once for both dialects: an entry appended, and an
//! organization's entries read a page at a time, newest first (by time, then by id, which
//! grows with the order of recording), filtered by project and resource type.

use spindle_core::Error;

use crate::audit::{Actor, AuditEntry, AuditQuery, NewAuditEntry, ProjectChange};
use crate::executor::{rows_and_count, Executor, FromRow};
use crate::sql::reads::paging;
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::statements::{insert, insert_select};
use crate::{Page, Result};

const COLUMNS: &str = "organization_id, project_id, actor_kind, actor_id, action, \
                       resource_type, resource_id, details, created_at";

impl FromRow for AuditEntry {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        let id = row.int("id")?;
        let kind = row.text("actor_kind")?;
        let actor = Actor::parse(&kind, row.text("actor_id")?)
            .ok_or_else(|| Error::internal(format!("audit entry {id}: actor kind {kind:?}")))?;
        let details = row
            .opt_text("details")?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|_| Error::internal(format!("audit entry {id}: unreadable details")))?;
        Ok(AuditEntry {
            id,
            entry: NewAuditEntry {
                organization_id: row.text("organization_id")?,
                project_id: row.opt_text("project_id")?,
                actor,
                action: row.text("action")?,
                resource_type: row.text("resource_type")?,
                resource_id: row.text("resource_id")?,
                details,
                created_at: row.int("created_at")?,
            },
        })
    }
}

pub async fn record(db: &impl Executor, entry: &NewAuditEntry) -> Result<()> {
    let details = entry.details.as_ref().map(|details| details.to_string());
    let sql = insert(
        db.dialect(),
        "audit_log",
        COLUMNS,
        [
            Param::from(&entry.organization_id),
            Param::from(entry.project_id.as_deref()),
            Param::from(entry.actor.kind()),
            Param::from(entry.actor.id()),
            Param::from(&entry.action),
            Param::from(&entry.resource_type),
            Param::from(&entry.resource_id),
            Param::from(details.as_deref()),
            Param::from(entry.created_at),
        ],
    );
    db.modify(vec![sql]).await?;
    Ok(())
}

/// The statement that records `change`, for the statement list (one transaction) that makes
/// it: the organization is read from the project by the insert itself, and nothing is
/// written unless `condition` holds when it runs (put it before the statements that would
/// make the condition false, e.g. before a `DELETE`, with an `EXISTS` of what it deletes).
pub fn project_entry(dialect: Dialect, change: &ProjectChange<'_>, condition: Option<Sql>) -> Sql {
    let details = change.details.as_ref().map(|details| details.to_string());
    let mut sql = insert_select(
        dialect,
        "audit_log",
        COLUMNS,
        [
            Param::from(None::<&str>),
            Param::from(change.project_id),
            Param::from(change.actor.kind()),
            Param::from(change.actor.id()),
            Param::from(change.action),
            Param::from(change.resource_type),
            Param::from(change.resource_id),
            Param::from(details.as_deref()),
            Param::from(change.created_at),
        ],
        &[("organization_id", Sql::new(dialect, "o.organization_id"))],
    );
    sql.push(" FROM projects o WHERE o.id = ")
        .bind(change.project_id);
    if let Some(condition) = condition {
        sql.and(condition);
    }
    sql
}

/// ` WHERE …` with the query's filters, for both the rows and their count.
fn filtered(db: &impl Executor, select: &str, query: &AuditQuery) -> Sql {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("{select} FROM audit_log WHERE organization_id = "),
    );
    sql.bind(&query.organization_id);
    if let Some(project_id) = &query.project_id {
        sql.push(" AND project_id = ").bind(project_id);
    }
    if let Some(resource_type) = &query.resource_type {
        sql.push(" AND resource_type = ").bind(resource_type);
    }
    sql
}

pub async fn list(db: &impl Executor, query: &AuditQuery) -> Result<Page<AuditEntry>> {
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut rows = filtered(db, &format!("SELECT id, {COLUMNS}"), query);
    rows.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let count = filtered(db, "SELECT count(*) AS value", query);
    let (items, total) = rows_and_count(db, rows, count).await?;
    Ok(Page::counted(items, page, limit, total))
}
