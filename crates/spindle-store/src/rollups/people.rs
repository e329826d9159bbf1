//! The people rollups: per project, kind (user or session), id, UTC day of the trace's time
//! and environment, the count of traces and the sums the users and sessions lists show
//! (input, output and total tokens, cost in nano-USD).
//!
//! Like the trace rollups ([`super::traces`]) they are the deltas of `trace_totals` rows:
//! [`Rollups::trace`] adds the difference of each refreshed or deleted row, so a trace whose
//! user, session, time or environment changes moves its whole contribution. The first and
//! last times of a group are minima and maxima, which no delta keeps; the lists read them
//! for their page's groups from `trace_totals` (`people_sql.rs`).

use spindle_core::time::Micros;

use super::{AdditiveUpserts, Rollups, TraceFacts, Usage};
use crate::people::Grouping;
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::{Error, Result};

/// One UTC day in microseconds: the time grain of the people rollups.
pub const DAY_MICROS: Micros = 24 * super::HOUR_MICROS;

/// The start of the UTC day of a time.
pub fn day_of(time: Micros) -> Micros {
    time.div_euclid(DAY_MICROS) * DAY_MICROS
}

/// The dimensions of a people rollup row; an absent environment is `""`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeopleKey {
    pub project_id: String,
    pub kind: Grouping,
    /// The user or session id (never empty).
    pub id: String,
    /// The start of the UTC day of the trace's time ([`day_of`]).
    pub day: Micros,
    pub environment: String,
}

/// The sums of one people rollup row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeopleRollup {
    pub count: i64,
    pub usage: Usage,
}

impl PeopleRollup {
    /// In the order of the tables' columns: traces, then [`Usage::sums`].
    fn sums(&self) -> [i64; 5] {
        let [input, output, total, cost] = self.usage.sums();
        [self.count, input, output, total, cost]
    }

    pub(super) fn is_zero(&self) -> bool {
        self.count == 0 && self.usage.is_zero()
    }

    /// Adds `sign` (1, or -1 to take away) times one trace with `usage`.
    pub(super) fn add_trace(&mut self, usage: &Usage, sign: i64) {
        self.count += sign;
        self.usage.add(usage, sign);
    }

    /// The row of the sums read with [`PEOPLE_SUMS`].
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(PeopleRollup {
            count: row.int("trace_count")?,
            usage: Usage::from_row(row)?,
        })
    }
}

impl PeopleKey {
    /// The values of [`PEOPLE_KEY_COLUMNS`].
    fn params(&self) -> Vec<Param> {
        vec![
            self.project_id.as_str().into(),
            self.kind.kind().into(),
            self.id.as_str().into(),
            self.day.into(),
            self.environment.as_str().into(),
        ]
    }

    /// The key of a stored row of `people_rollups`.
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        let kind = row.text("kind")?;
        Ok(PeopleKey {
            project_id: row.text("project_id")?,
            kind: Grouping::of_kind(&kind)
                .ok_or_else(|| Error::internal(format!("people_rollups: unknown kind {kind}")))?,
            id: row.text("id")?,
            day: row.int("day")?,
            environment: row.text("environment")?,
        })
    }
}

/// The key columns of `people_rollups`.
pub const PEOPLE_KEY_COLUMNS: &str = "project_id, kind, id, day, environment";

/// The summed columns of `people_rollups`, in the order of [`PeopleRollup::sums`].
pub const PEOPLE_SUMS: [&str; 5] = [
    "trace_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_nanos",
];

impl Rollups {
    /// Adds (`sign` 1) or subtracts (-1) what one `trace_totals` row adds to the people
    /// rollups: one row for its user and one for its session, when it has them.
    pub(super) fn people(&mut self, facts: &TraceFacts, sign: i64) {
        for (kind, id) in [
            (Grouping::User, &facts.user_id),
            (Grouping::Session, &facts.session_id),
        ] {
            let Some(id) = id.as_ref().filter(|id| !id.is_empty()) else {
                continue;
            };
            let key = PeopleKey {
                project_id: facts.key.project_id.clone(),
                kind,
                id: id.clone(),
                day: day_of(facts.trace_time),
                environment: facts.key.environment.clone(),
            };
            let row = self.people.entry(key.clone()).or_default();
            row.add_trace(&facts.usage, sign);
            if row.is_zero() {
                self.people.remove(&key);
            }
        }
    }

    /// The additive upserts of the people rollup deltas, in key order.
    pub(super) fn people_statements(&self, dialect: Dialect, statements: &mut Vec<Sql>) {
        let mut upserts = AdditiveUpserts::new("people_rollups", PEOPLE_KEY_COLUMNS, &PEOPLE_SUMS);
        for (key, row) in &self.people {
            if row.is_zero() {
                continue;
            }
            let mut values = key.params();
            values.extend(row.sums().map(Param::Int));
            upserts.push(values);
        }
        upserts.write(dialect, statements);
    }
}

/// The key of a session's all-time totals (`session_totals`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionKey {
    pub project_id: String,
    /// The session id (never empty).
    pub session_id: String,
}

/// A session's totals over all its traces: the sums of its people rollups without day or
/// environment, and the time of its first and last trace.
///
/// The sums are deltas like every rollup. The times are minima and maxima, which no delta
/// keeps: the statement that adds a delta recomputes them from the session's `trace_totals`
/// rows (two seeks in `trace_totals_by_session`), so in a delta they are only what the
/// added rows hold (the rebuild's and the stored rows' are the session's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTotals {
    pub sums: PeopleRollup,
    pub first_time: Option<Micros>,
    pub last_time: Option<Micros>,
}

/// The summed columns of `session_totals`, in the order of [`PeopleRollup::sums`].
pub const SESSION_SUMS: [&str; 5] = PEOPLE_SUMS;

/// The key and summed columns of `session_totals`, then its times.
pub const SESSION_COLUMNS: &str = "project_id, session_id, trace_count, input_tokens, \
     output_tokens, total_tokens, cost_nanos, first_time, last_time";

impl SessionKey {
    /// The key of a stored row read with [`SESSION_COLUMNS`].
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(SessionKey {
            project_id: row.text("project_id")?,
            session_id: row.text("session_id")?,
        })
    }
}

impl SessionTotals {
    /// The totals of a stored row read with [`SESSION_COLUMNS`].
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(SessionTotals {
            sums: PeopleRollup::from_row(row)?,
            first_time: row.opt_int("first_time")?,
            last_time: row.opt_int("last_time")?,
        })
    }
}

/// What of a `trace_totals` row the session totals depend on.
fn session_part(facts: &TraceFacts) -> Option<(&str, Micros, [i64; 4])> {
    let session_id = facts.session_id.as_deref().filter(|id| !id.is_empty())?;
    Some((session_id, facts.trace_time, facts.usage.sums()))
}

impl Rollups {
    /// Adds the change of one `trace_totals` row to the session totals. A change that moves
    /// nothing of them (the same session, time and sums) adds nothing; any other keeps an
    /// entry for each session it touches, even when its sums cancel (a trace whose time
    /// moved within its session), so that its statement recomputes the session's times.
    pub(super) fn sessions(&mut self, before: Option<&TraceFacts>, after: Option<&TraceFacts>) {
        if before.and_then(session_part) == after.and_then(session_part) {
            return;
        }
        for (facts, sign) in [(before, -1), (after, 1)] {
            let Some(facts) = facts else { continue };
            let Some((session_id, time, _)) = session_part(facts) else {
                continue;
            };
            let key = SessionKey {
                project_id: facts.key.project_id.clone(),
                session_id: session_id.to_owned(),
            };
            let row = self.sessions.entry(key).or_default();
            row.sums.add_trace(&facts.usage, sign);
            if sign > 0 {
                row.first_time = Some(row.first_time.map_or(time, |first| first.min(time)));
                row.last_time = Some(row.last_time.map_or(time, |last| last.max(time)));
            }
        }
    }

    /// The sessions these deltas touch, in key order.
    pub fn touched_sessions(&self) -> impl Iterator<Item = &SessionKey> {
        self.sessions.keys()
    }

    /// The upserts of the session totals' deltas, in key order: the sums added, the times
    /// recomputed from the session's `trace_totals` rows as the transaction left them (on
    /// PostgreSQL the writer first takes the sessions' locks ([`crate::trace_totals::session_lock_statement`]), so no concurrent
    /// writer's rows are missed), and NULL once the session has no trace left.
    pub(super) fn session_statements(&self, dialect: Dialect, statements: &mut Vec<Sql>) {
        for key in self.sessions.keys() {
            let row = &self.sessions[key];
            let mut sql = Sql::new(
                dialect,
                &format!("INSERT INTO session_totals ({SESSION_COLUMNS}) VALUES ("),
            );
            sql.bind(key.project_id.as_str())
                .push(", ")
                .bind(key.session_id.as_str());
            for sum in row.sums.sums() {
                sql.push(", ").bind(sum);
            }
            for order in ["ASC", "DESC"] {
                sql.push(", (SELECT tt.trace_time FROM trace_totals tt WHERE tt.project_id = ")
                    .bind(key.project_id.as_str())
                    .push(" AND tt.session_id = ")
                    .bind(key.session_id.as_str())
                    .push(&format!(" ORDER BY tt.trace_time {order} LIMIT 1)"));
            }
            let sets: Vec<String> = SESSION_SUMS
                .iter()
                .map(|sum| format!("{sum} = session_totals.{sum} + excluded.{sum}"))
                .collect();
            sql.push(&format!(
                ") ON CONFLICT (project_id, session_id) DO UPDATE SET {}, \
                 first_time = excluded.first_time, last_time = excluded.last_time",
                sets.join(", ")
            ));
            statements.push(sql);
        }
    }
}
