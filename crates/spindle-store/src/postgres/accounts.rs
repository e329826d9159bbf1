//! [`Accounts`] for the PostgreSQL backend: the SQLite backend's queries on the pool.

use async_trait::async_trait;
use spindle_core::time::Micros;
use spindle_core::Error;
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::Row;

use super::{now_micros, pg_error, PostgresStore};
use crate::accounts::{
    Accounts, LatencyReport, LatencyStats, Membership, Role, SavedView, SessionStats, TokenTotals,
    UiSession, User, UserSummary,
};
use crate::{Page, Result};

const USER_SELECT: &str = "SELECT id, email, name, password_hash, is_admin, created_at FROM users";

fn user_from_row(row: &Row) -> Result<User> {
    Ok(User {
        id: row.try_get(0).map_err(pg_error)?,
        email: row.try_get(1).map_err(pg_error)?,
        name: row.try_get(2).map_err(pg_error)?,
        password_hash: row.try_get(3).map_err(pg_error)?,
        is_admin: row.try_get(4).map_err(pg_error)?,
        created_at: row.try_get(5).map_err(pg_error)?,
    })
}

fn role_of(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Member)
}

/// Rows read at most for latency percentiles, so one dashboard request stays bounded.
const LATENCY_ROW_LIMIT: i64 = 200_000;

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency_stats(groups: BTreeMap<String, (Vec<f64>, u64)>) -> Vec<LatencyStats> {
    let mut stats: Vec<LatencyStats> = groups
        .into_iter()
        .map(|(key, (mut values, errors))| {
            values.sort_by(f64::total_cmp);
            LatencyStats {
                count: values.len() as u64,
                errors,
                p50: percentile(&values, 0.50),
                p90: percentile(&values, 0.90),
                p99: percentile(&values, 0.99),
                key,
            }
        })
        .collect();
    stats.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    stats
}

fn session_from_row(row: &Row) -> Result<UiSession> {
    Ok(UiSession {
        token_hash: row.try_get(0).map_err(pg_error)?,
        user_id: row.try_get(1).map_err(pg_error)?,
        csrf_token: row.try_get(2).map_err(pg_error)?,
        created_at: row.try_get(3).map_err(pg_error)?,
        expires_at: row.try_get(4).map_err(pg_error)?,
    })
}

#[async_trait]
impl Accounts for PostgresStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let client = self.client().await?;
        let inserted = client
            .execute(
                "INSERT INTO users (id, email, name, password_hash, is_admin, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &user.id,
                    &user.email,
                    &user.name,
                    &user.password_hash,
                    &user.is_admin,
                    &user.created_at,
                ],
            )
            .await
            .map_err(pg_error)?;
        if inserted == 0 {
            return Err(Error::invalid("email", "a user with this email exists"));
        }
        Ok(())
    }

    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("{USER_SELECT} WHERE id = $1"), &[&user_id])
            .await
            .map_err(pg_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("{USER_SELECT} WHERE lower(email) = lower($1)"),
                &[&email.trim()],
            )
            .await
            .map_err(pg_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let client = self.client().await?;
        let rows = client
            .query(&format!("{USER_SELECT} ORDER BY created_at, id"), &[])
            .await
            .map_err(pg_error)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                &[&user_id, &password_hash],
            )
            .await
            .map_err(pg_error)?;
        Ok(changed > 0)
    }

    async fn create_session(&self, session: &UiSession) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO ui_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &session.token_hash,
                    &session.user_id,
                    &session.csrf_token,
                    &session.created_at,
                    &session.expires_at,
                ],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    async fn get_session(&self, token_hash: &str, now: Micros) -> Result<Option<UiSession>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT token_hash, user_id, csrf_token, created_at, expires_at
                 FROM ui_sessions WHERE token_hash = $1 AND expires_at > $2",
                &[&token_hash, &now],
            )
            .await
            .map_err(pg_error)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "DELETE FROM ui_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await
            .map_err(pg_error)?;
        Ok(changed > 0)
    }

    async fn delete_expired(&self, now: Micros) -> Result<u64> {
        let client = self.client().await?;
        let sessions = client
            .execute("DELETE FROM ui_sessions WHERE expires_at <= $1", &[&now])
            .await
            .map_err(pg_error)?;
        let links = client
            .execute(
                "DELETE FROM sign_in_links WHERE expires_at <= $1 OR used_at IS NOT NULL",
                &[&now],
            )
            .await
            .map_err(pg_error)?;
        Ok(sessions + links)
    }

    async fn create_sign_in_link(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: Micros,
    ) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO sign_in_links (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                &[&token_hash, &user_id, &expires_at],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    async fn consume_sign_in_link(&self, token_hash: &str, now: Micros) -> Result<Option<String>> {
        let client = self.client().await?;
        // One statement: of two instances consuming the same link, only one gets the user.
        let row = client
            .query_opt(
                "UPDATE sign_in_links SET used_at = $2
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING user_id",
                &[&token_hash, &now],
            )
            .await
            .map_err(pg_error)?;
        row.map(|row| row.try_get(0).map_err(pg_error)).transpose()
    }

    async fn set_membership(&self, membership: &Membership, now: Micros) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO memberships (user_id, project_id, role, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role",
                &[
                    &membership.user_id,
                    &membership.project_id,
                    &membership.role.as_str(),
                    &now,
                ],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT user_id, project_id, role FROM memberships WHERE user_id = $1
                 ORDER BY project_id",
                &[&user_id],
            )
            .await
            .map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                Ok(Membership {
                    user_id: row.try_get(0).map_err(pg_error)?,
                    project_id: row.try_get(1).map_err(pg_error)?,
                    role: role_of(row.try_get(2).map_err(pg_error)?),
                })
            })
            .collect()
    }

    async fn members_of_project(&self, project_id: &str) -> Result<Vec<(User, Role)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT u.id, u.email, u.name, u.password_hash, u.is_admin, u.created_at, m.role
                 FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.project_id = $1 ORDER BY u.email",
                &[&project_id],
            )
            .await
            .map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                Ok((
                    user_from_row(row)?,
                    role_of(row.try_get(6).map_err(pg_error)?),
                ))
            })
            .collect()
    }

    async fn remove_membership(&self, user_id: &str, project_id: &str) -> Result<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "DELETE FROM memberships WHERE user_id = $1 AND project_id = $2",
                &[&user_id, &project_id],
            )
            .await
            .map_err(pg_error)?;
        Ok(changed > 0)
    }

    async fn save_view(&self, view: &SavedView) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO saved_views (id, project_id, user_id, page, name, query, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, query = excluded.query",
                &[
                    &view.id,
                    &view.project_id,
                    &view.user_id,
                    &view.page,
                    &view.name,
                    &view.query,
                    &view.created_at,
                ],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    async fn list_views(&self, project_id: &str, page: &str) -> Result<Vec<SavedView>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, project_id, user_id, page, name, query, created_at
                 FROM saved_views WHERE project_id = $1 AND page = $2 ORDER BY created_at, id",
                &[&project_id, &page],
            )
            .await
            .map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                Ok(SavedView {
                    id: row.try_get(0).map_err(pg_error)?,
                    project_id: row.try_get(1).map_err(pg_error)?,
                    user_id: row.try_get(2).map_err(pg_error)?,
                    page: row.try_get(3).map_err(pg_error)?,
                    name: row.try_get(4).map_err(pg_error)?,
                    query: row.try_get(5).map_err(pg_error)?,
                    created_at: row.try_get(6).map_err(pg_error)?,
                })
            })
            .collect()
    }

    async fn delete_view(&self, project_id: &str, view_id: &str) -> Result<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "DELETE FROM saved_views WHERE project_id = $1 AND id = $2",
                &[&project_id, &view_id],
            )
            .await
            .map_err(pg_error)?;
        Ok(changed > 0)
    }

    async fn user_summaries(
        &self,
        project_id: &str,
        page: u32,
        limit: u32,
    ) -> Result<Page<UserSummary>> {
        let page = page.max(1);
        let limit = if limit == 0 { 50 } else { limit };
        let offset = i64::from(page - 1) * i64::from(limit);
        let client = self.client().await?;
        let total: i64 = client
            .query_one(
                "SELECT count(DISTINCT user_id) FROM traces
                 WHERE project_id = $1 AND user_id IS NOT NULL AND user_id != ''",
                &[&project_id],
            )
            .await
            .map_err(pg_error)?
            .try_get(0)
            .map_err(pg_error)?;
        let rows = client
            .query(
                "WITH u AS (
                     SELECT user_id, count(*) AS traces,
                         min(coalesce(timestamp, created_at)) AS first_seen,
                         max(coalesce(timestamp, created_at)) AS last_seen
                     FROM traces
                     WHERE project_id = $1 AND user_id IS NOT NULL AND user_id != ''
                     GROUP BY user_id ORDER BY last_seen DESC, user_id LIMIT $2 OFFSET $3)
                 SELECT u.user_id, u.traces, u.first_seen, u.last_seen,
                     coalesce(sum(o.usage_input), 0)::int8, coalesce(sum(o.usage_output), 0)::int8,
                     coalesce(sum(o.usage_total), 0)::int8,
                     coalesce(sum(o.total_cost), 0.0)::float8
                 FROM u
                 LEFT JOIN traces t ON t.project_id = $1 AND t.user_id = u.user_id
                 LEFT JOIN observations o ON o.project_id = $1 AND o.trace_id = t.id
                 GROUP BY u.user_id, u.traces, u.first_seen, u.last_seen
                 ORDER BY u.last_seen DESC, u.user_id",
                &[&project_id, &i64::from(limit), &offset],
            )
            .await
            .map_err(pg_error)?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(UserSummary {
                    user_id: row.try_get(0).map_err(pg_error)?,
                    traces: u64::try_from(row.try_get::<_, i64>(1).map_err(pg_error)?).unwrap_or(0),
                    first_seen: row.try_get(2).map_err(pg_error)?,
                    last_seen: row.try_get(3).map_err(pg_error)?,
                    input_tokens: row.try_get(4).map_err(pg_error)?,
                    output_tokens: row.try_get(5).map_err(pg_error)?,
                    total_tokens: row.try_get(6).map_err(pg_error)?,
                    total_cost: row.try_get(7).map_err(pg_error)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            page,
            limit,
            total_items: u64::try_from(total).unwrap_or(0),
            next_cursor: None,
        })
    }

    async fn trace_tokens(
        &self,
        project_id: &str,
        trace_ids: &[String],
    ) -> Result<HashMap<String, TokenTotals>> {
        if trace_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT trace_id, coalesce(sum(usage_input), 0)::int8,
                     coalesce(sum(usage_output), 0)::int8, coalesce(sum(usage_total), 0)::int8
                 FROM observations WHERE project_id = $1 AND trace_id = ANY($2::text[])
                 GROUP BY trace_id",
                &[&project_id, &trace_ids],
            )
            .await
            .map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0).map_err(pg_error)?,
                    TokenTotals {
                        input: row.try_get(1).map_err(pg_error)?,
                        output: row.try_get(2).map_err(pg_error)?,
                        total: row.try_get(3).map_err(pg_error)?,
                    },
                ))
            })
            .collect()
    }

    async fn session_stats(
        &self,
        project_id: &str,
        session_ids: &[String],
    ) -> Result<HashMap<String, SessionStats>> {
        if session_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT session_id, count(*), min(coalesce(timestamp, created_at)),
                     max(coalesce(timestamp, created_at)),
                     array_remove(array_agg(DISTINCT user_id), NULL)
                 FROM traces WHERE project_id = $1 AND session_id = ANY($2::text[])
                 GROUP BY session_id",
                &[&project_id, &session_ids],
            )
            .await
            .map_err(pg_error)?;
        let mut stats: HashMap<String, SessionStats> = HashMap::new();
        for row in &rows {
            let mut users: Vec<String> = row.try_get(4).map_err(pg_error)?;
            users.retain(|user| !user.is_empty());
            users.sort();
            stats.insert(
                row.try_get(0).map_err(pg_error)?,
                SessionStats {
                    traces: u64::try_from(row.try_get::<_, i64>(1).map_err(pg_error)?).unwrap_or(0),
                    first: row.try_get(2).map_err(pg_error)?,
                    last: row.try_get(3).map_err(pg_error)?,
                    users,
                    total_cost: 0.0,
                },
            );
        }
        let rows = client
            .query(
                "SELECT t.session_id, coalesce(sum(o.total_cost), 0.0)::float8,
                     max(coalesce(o.end_time, o.start_time))
                 FROM traces t
                 JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id
                 WHERE t.project_id = $1 AND t.session_id = ANY($2::text[])
                 GROUP BY t.session_id",
                &[&project_id, &session_ids],
            )
            .await
            .map_err(pg_error)?;
        for row in &rows {
            let session_id: String = row.try_get(0).map_err(pg_error)?;
            let cost: f64 = row.try_get(1).map_err(pg_error)?;
            let last_end: Option<Micros> = row.try_get(2).map_err(pg_error)?;
            if let Some(entry) = stats.get_mut(&session_id) {
                entry.total_cost = cost;
                entry.last = entry.last.max(last_end);
            }
        }
        Ok(stats)
    }

    async fn latency_report(
        &self,
        project_id: &str,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<LatencyReport> {
        let from = from.unwrap_or(i64::MIN);
        let to = to.unwrap_or_else(|| now_micros().saturating_add(86_400_000_000));
        let client = self.client().await?;
        let mut by_name: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
        let rows = client
            .query(
                "SELECT coalesce(t.name, ''),
                     (max(coalesce(o.end_time, o.start_time)) - min(o.start_time))
                         / 1000000.0::float8,
                     bool_or(o.level = 'ERROR')
                 FROM traces t
                 JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id
                 WHERE t.project_id = $1 AND coalesce(t.timestamp, t.created_at) >= $2
                     AND coalesce(t.timestamp, t.created_at) < $3
                 GROUP BY t.id, t.name LIMIT $4",
                &[&project_id, &from, &to, &LATENCY_ROW_LIMIT],
            )
            .await
            .map_err(pg_error)?;
        for row in &rows {
            let name: String = row.try_get(0).map_err(pg_error)?;
            let latency: Option<f64> = row.try_get(1).map_err(pg_error)?;
            let error: Option<bool> = row.try_get(2).map_err(pg_error)?;
            let entry = by_name.entry(name).or_default();
            entry.0.push(latency.unwrap_or(0.0));
            entry.1 += u64::from(error.unwrap_or(false));
        }
        let mut by_model: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
        let rows = client
            .query(
                "SELECT model, (coalesce(end_time, start_time) - start_time) / 1000000.0::float8,
                     level = 'ERROR'
                 FROM observations
                 WHERE project_id = $1 AND model IS NOT NULL AND start_time >= $2
                     AND start_time < $3
                 LIMIT $4",
                &[&project_id, &from, &to, &LATENCY_ROW_LIMIT],
            )
            .await
            .map_err(pg_error)?;
        for row in &rows {
            let model: String = row.try_get(0).map_err(pg_error)?;
            let latency: Option<f64> = row.try_get(1).map_err(pg_error)?;
            let error: Option<bool> = row.try_get(2).map_err(pg_error)?;
            let entry = by_model.entry(model).or_default();
            entry.0.push(latency.unwrap_or(0.0));
            entry.1 += u64::from(error.unwrap_or(false));
        }
        Ok(LatencyReport {
            by_trace_name: latency_stats(by_name),
            by_model: latency_stats(by_model),
        })
    }
}
