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

use super::{additive_upsert, Rollups, TraceFacts};
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
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
}

impl PeopleRollup {
    fn sums(&self) -> [i64; 5] {
        [
            self.count,
            self.input_tokens,
            self.output_tokens,
            self.total_tokens,
            self.cost_nanos,
        ]
    }

    pub(super) fn is_zero(&self) -> bool {
        self.sums().iter().all(|sum| *sum == 0)
    }

    /// The row of the sums read with [`PEOPLE_SUMS`].
    pub fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(PeopleRollup {
            count: row.int("trace_count")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            total_tokens: row.int("total_tokens")?,
            cost_nanos: row.int("cost_nanos")?,
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
            row.count += sign;
            row.input_tokens = row.input_tokens.wrapping_add(sign * facts.input_tokens);
            row.output_tokens = row.output_tokens.wrapping_add(sign * facts.output_tokens);
            row.total_tokens = row.total_tokens.wrapping_add(sign * facts.total_tokens);
            row.cost_nanos = row.cost_nanos.wrapping_add(sign * facts.cost_nanos);
            if row.is_zero() {
                self.people.remove(&key);
            }
        }
    }

    /// The additive upserts of the people rollup deltas, in key order.
    pub(super) fn people_statements(&self, dialect: Dialect, statements: &mut Vec<Sql>) {
        for (key, row) in &self.people {
            if row.is_zero() {
                continue;
            }
            let mut values = key.params();
            values.extend(row.sums().map(Param::Int));
            statements.push(additive_upsert(
                dialect,
                "people_rollups",
                PEOPLE_KEY_COLUMNS,
                &PEOPLE_SUMS,
                values,
            ));
        }
    }
}
