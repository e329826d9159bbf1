//! The statements of the users and sessions lists ([`crate::people`]), written once for both
//! dialects: the project's traces grouped by user or session id, with their count, first and
//! last time, and their observations' tokens and cost.
//!
//! Every total is read from `trace_totals` (one row per trace, with copies of the trace's
//! time, user, session and environment: see [`crate::trace_totals`]), so a list groups one
//! narrow row per trace and never joins the observations.
//!
//! A query naming a score joins the groups to the averages of that score, grouped by the same
//! key from the scores of the covered traces (`scores_by_trace`), and for sessions the scores
//! naming a session and no trace too.

use crate::executor::FromRow;
use crate::people::{GroupTotals, Grouping, ScoreFilter, TotalsColumn, TotalsQuery};
use crate::sql::{like_escape, Dialect, RowAccess, Sql};
use crate::statements::{TextList, DISTINCT_TEXTS, SUM_AS_FLOAT, SUM_AS_INTEGER};
use crate::Result;

/// A trace's time: its timestamp, or its creation when it has none.
const TRACE_TIME: &str = "tt.trace_time";

impl FromRow for GroupTotals {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        let mut users = row.get::<TextList>("users")?.0;
        users.retain(|user| !user.is_empty());
        users.sort();
        users.dedup();
        Ok(GroupTotals {
            id: row.text("id")?,
            traces: u64::try_from(row.int("traces")?).unwrap_or(0),
            first_seen: row.opt_int("first_seen")?,
            last_seen: row.opt_int("last_seen")?,
            last_end: row.opt_int("last_end")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            total_tokens: row.int("total_tokens")?,
            total_cost: row.float("total_cost")?,
            users,
            score_average: row.opt_float("score_average")?,
        })
    }
}

fn key_column(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::User => "tt.user_id",
        Grouping::Session => "tt.session_id",
    }
}

/// The name of a total in the grouped rows.
fn total_name(column: TotalsColumn) -> &'static str {
    match column {
        TotalsColumn::Id => "id",
        TotalsColumn::Traces => "traces",
        TotalsColumn::Tokens => "total_tokens",
        TotalsColumn::Cost => "total_cost",
        TotalsColumn::FirstSeen => "first_seen",
        TotalsColumn::LastSeen => "last_seen",
        TotalsColumn::Score => "score_average",
    }
}

/// `tt.project_id = … AND <the group's key is set> AND …`: the traces a query covers.
fn trace_conditions(sql: &mut Sql, project_id: &str, grouping: Grouping, query: &TotalsQuery) {
    let key = key_column(grouping);
    sql.push("tt.project_id = ")
        .bind(project_id)
        .push(&format!(" AND {key} IS NOT NULL AND {key} != ''"));
    if let Some(search) = &query.search {
        sql.push(" AND ")
            .like(key, format!("%{}%", like_escape(search)), false);
    }
    if let Some(id) = &query.id {
        sql.push(&format!(" AND {key} = ")).bind(id.as_str());
    }
    if let (Grouping::Session, Some(user_id)) = (grouping, &query.user_id) {
        sql.push(" AND tt.session_id IN (SELECT u.session_id FROM traces u WHERE u.project_id = ")
            .bind(project_id)
            .push(" AND u.user_id = ")
            .bind(user_id.as_str())
            .push(")");
    }
    if let Some(environment) = &query.environment {
        sql.push(" AND tt.environment = ")
            .bind(environment.as_str());
    }
    if let Some(from) = query.from_timestamp {
        sql.push(&format!(" AND {TRACE_TIME} >= ")).bind(from);
    }
    if let Some(to) = query.to_timestamp {
        sql.push(&format!(" AND {TRACE_TIME} < ")).bind(to);
    }
}

/// ` WHERE <bounds>` on the grouped rows `g` (or nothing without bounds).
fn bound_conditions(sql: &mut Sql, query: &TotalsQuery) {
    let mut first = true;
    if let Some(score) = &query.score {
        for (value, operator) in [(score.min, ">="), (score.max, "<=")] {
            let Some(value) = value else { continue };
            sql.push(if first { " WHERE " } else { " AND " });
            first = false;
            sql.push(&format!("g.score_average {operator} "))
                .bind(value);
        }
        if score.value.is_some() {
            sql.push(if first { " WHERE " } else { " AND " });
            first = false;
            sql.push("g.score_matches > 0");
        }
    }
    for bound in &query.bounds {
        let name = format!("g.{}", total_name(bound.column));
        for (value, operator) in [(bound.min, ">="), (bound.max, "<=")] {
            let Some(value) = value else { continue };
            sql.push(if first { " WHERE " } else { " AND " });
            first = false;
            sql.push(&format!("{name} {operator} "));
            if bound.column.is_time() || bound.column == TotalsColumn::Traces {
                // Whole numbers compare as integers (a time in microseconds, a count).
                sql.bind(value.floor() as i64);
            } else {
                sql.bind(value);
            }
        }
    }
}

/// ` ORDER BY <the total> <direction>, g.id` (`g` being the grouped rows).
fn order(dialect: Dialect, query: &TotalsQuery, alias: &str) -> String {
    format!(
        " ORDER BY {alias}.{} {}, {alias}.id ASC",
        total_name(query.order_by),
        dialect.order(query.direction)
    )
}

/// The sums of the `trace_totals` rows `tt` of a group.
fn sums(dialect: Dialect) -> String {
    format!(
        "{} AS input_tokens, {} AS output_tokens, {} AS total_tokens, {} AS total_cost, \
         max(tt.last_end) AS last_end, {} AS users",
        SUM_AS_INTEGER.of(dialect, "tt.usage_input"),
        SUM_AS_INTEGER.of(dialect, "tt.usage_output"),
        SUM_AS_INTEGER.of(dialect, "tt.usage_total"),
        SUM_AS_FLOAT.of(dialect, "tt.total_cost"),
        DISTINCT_TEXTS.of(dialect, "tt.user_id"),
    )
}

/// The value of a score `s` as its average counts it: numeric and boolean scores' values, NULL
/// for the other types (a category's value, when a config gave one, is not a measure).
const SCORE_NUMBER: &str =
    "CASE WHEN coalesce(s.data_type, 'NUMERIC') IN ('NUMERIC', 'BOOLEAN') THEN s.value END";

/// `1` for a score of `s` with the wanted string value, else `0` (always `0` without one).
fn score_match(sql: &mut Sql, score: &ScoreFilter) {
    match &score.value {
        Some(value) => {
            sql.push("CASE WHEN s.string_value = ")
                .bind(value.as_str())
                .push(" THEN 1 ELSE 0 END");
        }
        None => {
            sql.push("0");
        }
    }
}

/// The score's average (`score_average`) and count of scores with the wanted value
/// (`score_matches`) per group id: the scores of the name on the covered traces (and their
/// observations), and for sessions the scores naming the session and no trace.
fn score_averages(
    dialect: Dialect,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    score: &ScoreFilter,
) -> Sql {
    let key = key_column(grouping);
    let mut sql = Sql::new(
        dialect,
        "SELECT x.id AS id, avg(x.number) AS score_average, sum(x.matched) AS score_matches \
         FROM (",
    );
    sql.push(&format!("SELECT {key} AS id, {SCORE_NUMBER} AS number, "));
    score_match(&mut sql, score);
    sql.push(
        " AS matched FROM trace_totals tt JOIN scores s ON s.project_id = tt.project_id \
         AND s.trace_id = tt.trace_id WHERE ",
    );
    trace_conditions(&mut sql, project_id, grouping, query);
    sql.push(" AND s.name = ").bind(score.name.as_str());
    if grouping == Grouping::Session {
        sql.push(&format!(
            " UNION ALL SELECT s.session_id AS id, {SCORE_NUMBER} AS number, "
        ));
        score_match(&mut sql, score);
        sql.push(" AS matched FROM scores s WHERE s.project_id = ")
            .bind(project_id)
            .push(" AND s.name = ")
            .bind(score.name.as_str())
            .push(
                " AND s.session_id IS NOT NULL AND s.session_id != '' \
                 AND (s.trace_id IS NULL OR s.trace_id = '')",
            );
    }
    sql.push(") x GROUP BY x.id");
    sql
}

/// A NULL typed as a float, the score average of rows of a query without a score.
fn null_float(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "CAST(NULL AS REAL)",
        Dialect::Postgres => "CAST(NULL AS double precision)",
    }
}

/// The count of the groups a query matches, and its page of groups with their totals.
pub fn totals_statements(
    dialect: Dialect,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    limit: u32,
    offset: i64,
) -> (Sql, Sql) {
    let key = key_column(grouping);
    let score_column = match query.score {
        Some(_) => String::new(),
        None => format!(", {} AS score_average", null_float(dialect)),
    };
    let mut grouped = Sql::new(
        dialect,
        &format!(
            "SELECT {key} AS id, count(*) AS traces, min({TRACE_TIME}) AS first_seen, \
             max({TRACE_TIME}) AS last_seen, {}{score_column} FROM trace_totals tt WHERE ",
            sums(dialect)
        ),
    );
    trace_conditions(&mut grouped, project_id, grouping, query);
    grouped.push(&format!(" GROUP BY {key}"));
    if let Some(score) = &query.score {
        let mut joined = Sql::new(
            dialect,
            "SELECT g.*, sc.score_average AS score_average, sc.score_matches AS score_matches \
             FROM (",
        );
        joined
            .append(&grouped)
            .push(") g LEFT JOIN (")
            .append(&score_averages(dialect, project_id, grouping, query, score))
            .push(") sc ON sc.id = g.id");
        grouped = joined;
    }

    let mut count = Sql::new(dialect, "SELECT count(*) AS value FROM (");
    count.append(&grouped).push(") g");
    bound_conditions(&mut count, query);

    let mut page = Sql::new(dialect, "SELECT g.* FROM (");
    page.append(&grouped).push(") g");
    bound_conditions(&mut page, query);
    page.push(&order(dialect, query, "g"));
    page.push(" LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    (count, page)
}
