//! The distinct values of a column that start with a prefix: the suggestions of the web UI's
//! filter builder (trace names, users, sessions, tags, environments, releases, versions,
//! models, score names, metadata keys). One statement per column, written once for both
//! dialects; [`crate::Accounts::distinct_values`] runs it.
//!
//! A column with an index that starts with the project (names, users, sessions, score names,
//! and the index tables of tags and metadata keys) is read from it in order; the others
//! (environments, releases, versions, models, observation names) from the newest
//! [`SAMPLED_ROWS`] rows only, so a suggestion never scans a whole project.

use spindle_core::Error;

use crate::sql::{like_escape, Dialect, Sql};
use crate::Result;

/// How many of the newest rows the columns without an index are read from.
pub const SAMPLED_ROWS: u32 = 10_000;

/// At most this many values per answer.
pub const MAX_SUGGESTIONS: u32 = 100;

/// A column whose values the filter builder suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueColumn {
    TraceName,
    UserId,
    SessionId,
    Tags,
    Environment,
    Release,
    Version,
    Model,
    ObservationName,
    ScoreName,
    MetadataKey,
}

/// Where a column's values are read: an indexed column of a table, or a column of a sample
/// of a table's newest rows.
enum Source {
    Indexed {
        table: &'static str,
        column: &'static str,
    },
    Sampled {
        table: &'static str,
        column: &'static str,
        newest_first: &'static str,
    },
}

impl ValueColumn {
    /// Every column, by its public name.
    pub const ALL: [(ValueColumn, &'static str); 11] = [
        (ValueColumn::TraceName, "traceName"),
        (ValueColumn::UserId, "userId"),
        (ValueColumn::SessionId, "sessionId"),
        (ValueColumn::Tags, "tags"),
        (ValueColumn::Environment, "environment"),
        (ValueColumn::Release, "release"),
        (ValueColumn::Version, "version"),
        (ValueColumn::Model, "model"),
        (ValueColumn::ObservationName, "observationName"),
        (ValueColumn::ScoreName, "scoreName"),
        (ValueColumn::MetadataKey, "metadataKey"),
    ];

    /// The column of a public name; an error naming `field` and the known names otherwise.
    pub fn parse(name: &str, field: &str) -> Result<ValueColumn> {
        ValueColumn::ALL
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(column, _)| *column)
            .ok_or_else(|| {
                let known: Vec<&str> = ValueColumn::ALL.iter().map(|(_, known)| *known).collect();
                Error::invalid(
                    field,
                    format!(
                        "unknown column {name:?} (expected one of {})",
                        known.join(", ")
                    ),
                )
            })
    }

    fn source(self) -> Source {
        let indexed = |table, column| Source::Indexed { table, column };
        let traces = |column| Source::Sampled {
            table: "traces",
            column,
            newest_first: "timestamp DESC",
        };
        let observations = |column| Source::Sampled {
            table: "observations",
            column,
            newest_first: "sort_time DESC",
        };
        match self {
            ValueColumn::TraceName => indexed("traces", "name"),
            ValueColumn::UserId => indexed("traces", "user_id"),
            ValueColumn::SessionId => indexed("traces", "session_id"),
            ValueColumn::ScoreName => indexed("scores", "name"),
            ValueColumn::Tags => indexed("trace_tag_counts", "tag"),
            ValueColumn::MetadataKey => indexed("trace_metadata", "key"),
            ValueColumn::Environment => traces("environment"),
            ValueColumn::Release => traces("release"),
            ValueColumn::Version => traces("version"),
            ValueColumn::Model => observations("model"),
            ValueColumn::ObservationName => observations("name"),
        }
    }
}

/// The statement of the distinct non-empty values of `column` in the project starting with
/// `prefix` (ignoring ASCII case), in order, at most `limit` (1 to [`MAX_SUGGESTIONS`]);
/// it selects one column, `value`.
pub fn distinct_values_statement(
    dialect: Dialect,
    project_id: &str,
    column: ValueColumn,
    prefix: &str,
    limit: u32,
) -> Sql {
    let limit = limit.clamp(1, MAX_SUGGESTIONS);
    let pattern = format!("{}%", like_escape(prefix));
    let mut sql = match column.source() {
        Source::Indexed { table, column } => {
            let mut sql = Sql::new(
                dialect,
                &format!("SELECT {column} AS value FROM {table} WHERE project_id = "),
            );
            sql.bind(project_id)
                .push(&format!(
                    " AND {column} IS NOT NULL AND {column} != '' AND "
                ))
                .like(column, pattern, false)
                .push(&format!(" GROUP BY {column}"));
            // PostgreSQL keeps a tag's count in shards, some of which may be negative.
            if table == "trace_tag_counts" {
                sql.push(" HAVING sum(trace_count) > 0");
            }
            sql
        }
        Source::Sampled {
            table,
            column,
            newest_first,
        } => {
            let mut sql = Sql::new(
                dialect,
                &format!(
                    "SELECT DISTINCT value FROM (SELECT {column} AS value FROM {table} \
                     WHERE project_id = "
                ),
            );
            sql.bind(project_id)
                .push(&format!(
                    " ORDER BY {newest_first} LIMIT {SAMPLED_ROWS}) sampled \
                     WHERE value IS NOT NULL AND value != '' AND "
                ))
                .like("value", pattern, false);
            sql
        }
    };
    sql.push(" ORDER BY value LIMIT ").bind(i64::from(limit));
    sql
}
