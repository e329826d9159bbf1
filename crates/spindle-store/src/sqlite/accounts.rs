//! [`Accounts`] for the SQLite backend.
//!
//! Writes go through the writer thread's `Exec` command like project and key writes do: they
//! are a few rows each, so they cost the writer nothing noticeable, and keeping one writer
//! means no second connection ever waits on SQLite's write lock (a separate connection would
//! contend with group commits and fail with `SQLITE_BUSY` under heavy ingestion). Reads use
//! the read pool.

use async_trait::async_trait;
use rusqlite::{params, params_from_iter, OptionalExtension};
use spindle_core::time::Micros;
use spindle_core::Error;
use std::collections::{BTreeMap, HashMap};

use super::{now_micros, sql_error, SqliteStore};
use crate::accounts::{
    Accounts, LatencyReport, LatencyStats, Membership, Role, SavedView, SessionStats, TokenTotals,
    UiSession, User, UserSummary,
};
use crate::{Page, Result};

const USER_SELECT: &str = "SELECT id, email, name, password_hash, is_admin, created_at FROM users";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        password_hash: row.get(3)?,
        is_admin: row.get(4)?,
        created_at: row.get(5)?,
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

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let user = user.clone();
        self.exec(move |tx| {
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1)",
                    params![user.email],
                    |row| row.get(0),
                )
                .map_err(sql_error)?;
            if taken {
                return Err(Error::invalid("email", "a user with this email exists"));
            }
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, is_admin, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.id,
                    user.email,
                    user.name,
                    user.password_hash,
                    user.is_admin,
                    user.created_at
                ],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        let user_id = user_id.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(&format!("{USER_SELECT} WHERE id = ?1"))
                .and_then(|mut s| s.query_row(params![user_id], user_from_row).optional())
                .map_err(sql_error)
        })
        .await
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(&format!("{USER_SELECT} WHERE email = ?1"))
                .and_then(|mut s| s.query_row(params![email], user_from_row).optional())
                .map_err(sql_error)
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(&format!("{USER_SELECT} ORDER BY created_at, id"))
                .map_err(sql_error)?;
            let rows = statement.query_map([], user_from_row).map_err(sql_error)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_error)
        })
        .await
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool> {
        let (user_id, password_hash) = (user_id.to_owned(), password_hash.to_owned());
        self.exec(move |tx| {
            tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![user_id, password_hash],
            )
            .map(|changed| changed > 0)
            .map_err(sql_error)
        })
        .await
    }

    async fn create_session(&self, session: &UiSession) -> Result<()> {
        let session = session.clone();
        self.exec(move |tx| {
            tx.execute(
                "INSERT INTO ui_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session.token_hash,
                    session.user_id,
                    session.csrf_token,
                    session.created_at,
                    session.expires_at
                ],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, token_hash: &str, now: Micros) -> Result<Option<UiSession>> {
        let token_hash = token_hash.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(
                    "SELECT token_hash, user_id, csrf_token, created_at, expires_at
                     FROM ui_sessions WHERE token_hash = ?1 AND expires_at > ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![token_hash, now], |row| {
                        Ok(UiSession {
                            token_hash: row.get(0)?,
                            user_id: row.get(1)?,
                            csrf_token: row.get(2)?,
                            created_at: row.get(3)?,
                            expires_at: row.get(4)?,
                        })
                    })
                    .optional()
                })
                .map_err(sql_error)
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let token_hash = token_hash.to_owned();
        self.exec(move |tx| {
            tx.execute(
                "DELETE FROM ui_sessions WHERE token_hash = ?1",
                params![token_hash],
            )
            .map(|changed| changed > 0)
            .map_err(sql_error)
        })
        .await
    }

    async fn delete_expired(&self, now: Micros) -> Result<u64> {
        self.exec(move |tx| {
            let sessions = tx
                .execute(
                    "DELETE FROM ui_sessions WHERE expires_at <= ?1",
                    params![now],
                )
                .map_err(sql_error)?;
            let links = tx
                .execute(
                    "DELETE FROM sign_in_links WHERE expires_at <= ?1 OR used_at IS NOT NULL",
                    params![now],
                )
                .map_err(sql_error)?;
            Ok((sessions + links) as u64)
        })
        .await
    }

    async fn create_sign_in_link(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: Micros,
    ) -> Result<()> {
        let (token_hash, user_id) = (token_hash.to_owned(), user_id.to_owned());
        self.exec(move |tx| {
            tx.execute(
                "INSERT INTO sign_in_links (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![token_hash, user_id, expires_at],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn consume_sign_in_link(&self, token_hash: &str, now: Micros) -> Result<Option<String>> {
        let token_hash = token_hash.to_owned();
        self.exec(move |tx| {
            let user_id: Option<String> = tx
                .query_row(
                    "SELECT user_id FROM sign_in_links
                     WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                    params![token_hash, now],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql_error)?;
            if user_id.is_some() {
                tx.execute(
                    "UPDATE sign_in_links SET used_at = ?2 WHERE token_hash = ?1",
                    params![token_hash, now],
                )
                .map_err(sql_error)?;
            }
            Ok(user_id)
        })
        .await
    }

    async fn set_membership(&self, membership: &Membership, now: Micros) -> Result<()> {
        let membership = membership.clone();
        self.exec(move |tx| {
            tx.execute(
                "INSERT INTO memberships (user_id, project_id, role, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role",
                params![
                    membership.user_id,
                    membership.project_id,
                    membership.role.as_str(),
                    now
                ],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>> {
        let user_id = user_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT user_id, project_id, role FROM memberships WHERE user_id = ?1
                     ORDER BY project_id",
                )
                .map_err(sql_error)?;
            let rows = statement
                .query_map(params![user_id], |row| {
                    Ok(Membership {
                        user_id: row.get(0)?,
                        project_id: row.get(1)?,
                        role: role_of(&row.get::<_, String>(2)?),
                    })
                })
                .map_err(sql_error)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_error)
        })
        .await
    }

    async fn members_of_project(&self, project_id: &str) -> Result<Vec<(User, Role)>> {
        let project_id = project_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT u.id, u.email, u.name, u.password_hash, u.is_admin, u.created_at,
                         m.role
                     FROM memberships m JOIN users u ON u.id = m.user_id
                     WHERE m.project_id = ?1 ORDER BY u.email",
                )
                .map_err(sql_error)?;
            let rows = statement
                .query_map(params![project_id], |row| {
                    Ok((user_from_row(row)?, role_of(&row.get::<_, String>(6)?)))
                })
                .map_err(sql_error)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_error)
        })
        .await
    }

    async fn remove_membership(&self, user_id: &str, project_id: &str) -> Result<bool> {
        let (user_id, project_id) = (user_id.to_owned(), project_id.to_owned());
        self.exec(move |tx| {
            tx.execute(
                "DELETE FROM memberships WHERE user_id = ?1 AND project_id = ?2",
                params![user_id, project_id],
            )
            .map(|changed| changed > 0)
            .map_err(sql_error)
        })
        .await
    }

    async fn save_view(&self, view: &SavedView) -> Result<()> {
        let view = view.clone();
        self.exec(move |tx| {
            tx.execute(
                "INSERT INTO saved_views (id, project_id, user_id, page, name, query, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, query = excluded.query",
                params![
                    view.id,
                    view.project_id,
                    view.user_id,
                    view.page,
                    view.name,
                    view.query,
                    view.created_at
                ],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn list_views(&self, project_id: &str, page: &str) -> Result<Vec<SavedView>> {
        let (project_id, page) = (project_id.to_owned(), page.to_owned());
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT id, project_id, user_id, page, name, query, created_at
                     FROM saved_views WHERE project_id = ?1 AND page = ?2
                     ORDER BY created_at, id",
                )
                .map_err(sql_error)?;
            let rows = statement
                .query_map(params![project_id, page], |row| {
                    Ok(SavedView {
                        id: row.get(0)?,
                        project_id: row.get(1)?,
                        user_id: row.get(2)?,
                        page: row.get(3)?,
                        name: row.get(4)?,
                        query: row.get(5)?,
                        created_at: row.get(6)?,
                    })
                })
                .map_err(sql_error)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_error)
        })
        .await
    }

    async fn delete_view(&self, project_id: &str, view_id: &str) -> Result<bool> {
        let (project_id, view_id) = (project_id.to_owned(), view_id.to_owned());
        self.exec(move |tx| {
            tx.execute(
                "DELETE FROM saved_views WHERE project_id = ?1 AND id = ?2",
                params![project_id, view_id],
            )
            .map(|changed| changed > 0)
            .map_err(sql_error)
        })
        .await
    }

    async fn user_summaries(
        &self,
        project_id: &str,
        page: u32,
        limit: u32,
    ) -> Result<Page<UserSummary>> {
        let project_id = project_id.to_owned();
        let page = page.max(1);
        let limit = if limit == 0 { 50 } else { limit };
        self.read(move |connection| {
            let total_items: u64 = connection
                .query_row(
                    "SELECT count(DISTINCT user_id) FROM traces
                     WHERE project_id = ?1 AND user_id IS NOT NULL AND user_id != ''",
                    params![project_id],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(sql_error)? as u64;
            let offset = i64::from(page - 1) * i64::from(limit);
            let mut statement = connection
                .prepare_cached(
                    "WITH u AS (
                         SELECT user_id, count(*) AS traces,
                             min(coalesce(timestamp, created_at)) AS first_seen,
                             max(coalesce(timestamp, created_at)) AS last_seen
                         FROM traces
                         WHERE project_id = ?1 AND user_id IS NOT NULL AND user_id != ''
                         GROUP BY user_id ORDER BY last_seen DESC, user_id LIMIT ?2 OFFSET ?3)
                     SELECT u.user_id, u.traces, u.first_seen, u.last_seen,
                         CAST(total(o.usage_input) AS INTEGER), CAST(total(o.usage_output) AS INTEGER),
                         CAST(total(o.usage_total) AS INTEGER), coalesce(sum(o.total_cost), 0.0)
                     FROM u
                     LEFT JOIN traces t ON t.project_id = ?1 AND t.user_id = u.user_id
                     LEFT JOIN observations o ON o.project_id = ?1 AND o.trace_id = t.id
                     GROUP BY u.user_id ORDER BY u.last_seen DESC, u.user_id",
                )
                .map_err(sql_error)?;
            let rows = statement
                .query_map(params![project_id, i64::from(limit), offset], |row| {
                    Ok(UserSummary {
                        user_id: row.get(0)?,
                        traces: row.get::<_, i64>(1)? as u64,
                        first_seen: row.get(2)?,
                        last_seen: row.get(3)?,
                        input_tokens: row.get(4)?,
                        output_tokens: row.get(5)?,
                        total_tokens: row.get(6)?,
                        total_cost: row.get(7)?,
                    })
                })
                .map_err(sql_error)?;
            let items = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_error)?;
            Ok(Page {
                items,
                page,
                limit,
                total_items,
                next_cursor: None,
            })
        })
        .await
    }

    async fn trace_tokens(
        &self,
        project_id: &str,
        trace_ids: &[String],
    ) -> Result<HashMap<String, TokenTotals>> {
        if trace_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut values: Vec<String> = Vec::with_capacity(trace_ids.len() + 1);
        values.push(project_id.to_owned());
        values.extend(trace_ids.iter().cloned());
        self.read(move |connection| {
            let placeholders = vec!["?"; values.len() - 1].join(", ");
            let mut statement = connection
                .prepare(&format!(
                    "SELECT trace_id, CAST(total(usage_input) AS INTEGER),
                         CAST(total(usage_output) AS INTEGER), CAST(total(usage_total) AS INTEGER)
                     FROM observations WHERE project_id = ? AND trace_id IN ({placeholders})
                     GROUP BY trace_id"
                ))
                .map_err(sql_error)?;
            let rows = statement
                .query_map(params_from_iter(values.iter()), |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        TokenTotals {
                            input: row.get(1)?,
                            output: row.get(2)?,
                            total: row.get(3)?,
                        },
                    ))
                })
                .map_err(sql_error)?;
            rows.collect::<rusqlite::Result<HashMap<_, _>>>()
                .map_err(sql_error)
        })
        .await
    }

    async fn session_stats(
        &self,
        project_id: &str,
        session_ids: &[String],
    ) -> Result<HashMap<String, SessionStats>> {
        if session_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut values: Vec<String> = Vec::with_capacity(session_ids.len() + 1);
        values.push(project_id.to_owned());
        values.extend(session_ids.iter().cloned());
        self.read(move |connection| {
            let placeholders = vec!["?"; values.len() - 1].join(", ");
            let mut stats: HashMap<String, SessionStats> = HashMap::new();
            let mut statement = connection
                .prepare(&format!(
                    "SELECT session_id, count(*), min(coalesce(timestamp, created_at)),
                         max(coalesce(timestamp, created_at)), group_concat(DISTINCT user_id)
                     FROM traces WHERE project_id = ? AND session_id IN ({placeholders})
                     GROUP BY session_id"
                ))
                .map_err(sql_error)?;
            let mut rows = statement
                .query(params_from_iter(values.iter()))
                .map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let session_id: String = row.get(0).map_err(sql_error)?;
                let users: Option<String> = row.get(4).map_err(sql_error)?;
                let mut users: Vec<String> = users
                    .unwrap_or_default()
                    .split(',')
                    .filter(|user| !user.is_empty())
                    .map(str::to_owned)
                    .collect();
                users.sort();
                stats.insert(
                    session_id,
                    SessionStats {
                        traces: row.get::<_, i64>(1).map_err(sql_error)? as u64,
                        first: row.get(2).map_err(sql_error)?,
                        last: row.get(3).map_err(sql_error)?,
                        users,
                        total_cost: 0.0,
                    },
                );
            }
            let mut statement = connection
                .prepare(&format!(
                    "SELECT t.session_id, coalesce(sum(o.total_cost), 0.0),
                         max(coalesce(o.end_time, o.start_time))
                     FROM traces t
                     JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id
                     WHERE t.project_id = ? AND t.session_id IN ({placeholders})
                     GROUP BY t.session_id"
                ))
                .map_err(sql_error)?;
            let mut rows = statement
                .query(params_from_iter(values.iter()))
                .map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let session_id: String = row.get(0).map_err(sql_error)?;
                let cost: f64 = row.get(1).map_err(sql_error)?;
                let last_end: Option<Micros> = row.get(2).map_err(sql_error)?;
                if let Some(entry) = stats.get_mut(&session_id) {
                    entry.total_cost = cost;
                    entry.last = entry.last.max(last_end);
                }
            }
            Ok(stats)
        })
        .await
    }

    async fn latency_report(
        &self,
        project_id: &str,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<LatencyReport> {
        let project_id = project_id.to_owned();
        let from = from.unwrap_or(i64::MIN);
        let to = to.unwrap_or_else(|| now_micros().saturating_add(86_400_000_000));
        self.read(move |connection| {
            let mut by_name: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
            let mut statement = connection
                .prepare_cached(
                    "SELECT coalesce(t.name, ''),
                         (max(coalesce(o.end_time, o.start_time)) - min(o.start_time)) / 1000000.0,
                         max(o.level = 'ERROR')
                     FROM traces t
                     JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id
                     WHERE t.project_id = ?1 AND coalesce(t.timestamp, t.created_at) >= ?2
                         AND coalesce(t.timestamp, t.created_at) < ?3
                     GROUP BY t.id LIMIT ?4",
                )
                .map_err(sql_error)?;
            let mut rows = statement
                .query(params![project_id, from, to, LATENCY_ROW_LIMIT])
                .map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let name: String = row.get(0).map_err(sql_error)?;
                let latency: Option<f64> = row.get(1).map_err(sql_error)?;
                let error: Option<bool> = row.get(2).map_err(sql_error)?;
                let entry = by_name.entry(name).or_default();
                entry.0.push(latency.unwrap_or(0.0));
                entry.1 += u64::from(error.unwrap_or(false));
            }
            let mut by_model: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
            let mut statement = connection
                .prepare_cached(
                    "SELECT model, (coalesce(end_time, start_time) - start_time) / 1000000.0,
                         level = 'ERROR'
                     FROM observations
                     WHERE project_id = ?1 AND model IS NOT NULL AND start_time >= ?2
                         AND start_time < ?3
                     LIMIT ?4",
                )
                .map_err(sql_error)?;
            let mut rows = statement
                .query(params![project_id, from, to, LATENCY_ROW_LIMIT])
                .map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let model: String = row.get(0).map_err(sql_error)?;
                let latency: Option<f64> = row.get(1).map_err(sql_error)?;
                let error: Option<bool> = row.get(2).map_err(sql_error)?;
                let entry = by_model.entry(model).or_default();
                entry.0.push(latency.unwrap_or(0.0));
                entry.1 += u64::from(error.unwrap_or(false));
            }
            Ok(LatencyReport {
                by_trace_name: latency_stats(by_name),
                by_model: latency_stats(by_model),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&values, 0.5), 5.0);
        assert_eq!(percentile(&values, 0.9), 9.0);
        assert_eq!(percentile(&values, 0.99), 10.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[3.0], 0.01), 3.0);
    }
}
