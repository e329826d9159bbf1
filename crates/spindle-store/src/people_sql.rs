//! The statements of the users and sessions lists ([`crate::people`]), written once for both
//! dialects: the project's traces grouped by user or session id, with their count, first and
//! last time, and their observations' tokens and cost.
//!
//! Sorted and bounded only on what the traces hold (count, times, id), a page is chosen from
//! the grouped traces alone and only its groups join their observations; sorted or bounded on
//! tokens or cost, every group joins its observations before the page is chosen.

use crate::executor::FromRow;
use crate::people::{GroupTotals, Grouping, TotalsColumn, TotalsQuery};
use crate::sql::{like_escape, Dialect, RowAccess, Sql};
use crate::statements::{TextList, DISTINCT_TEXTS, GROUPED_TOO, SUM_AS_FLOAT, SUM_AS_INTEGER};
use crate::Result;

/// A trace's time: its timestamp, or its creation when it has none.
const TRACE_TIME: &str = "coalesce(t.timestamp, t.created_at)";

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
        })
    }
}

fn key_column(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::User => "t.user_id",
        Grouping::Session => "t.session_id",
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
    }
}

/// `t.project_id = … AND <the group's key is set> AND …`: the traces a query covers.
fn trace_conditions(sql: &mut Sql, project_id: &str, grouping: Grouping, query: &TotalsQuery) {
    let key = key_column(grouping);
    sql.push("t.project_id = ")
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
        sql.push(" AND t.session_id IN (SELECT u.session_id FROM traces u WHERE u.project_id = ")
            .bind(project_id)
            .push(" AND u.user_id = ")
            .bind(user_id.as_str())
            .push(")");
    }
    if let Some(environment) = &query.environment {
        sql.push(" AND t.environment = ").bind(environment.as_str());
    }
    if let Some(from) = query.from_timestamp {
        sql.push(&format!(" AND {TRACE_TIME} >= ")).bind(from);
    }
    if let Some(to) = query.to_timestamp {
        sql.push(&format!(" AND {TRACE_TIME} < ")).bind(to);
    }
}

/// ` WHERE <bounds>` on the grouped rows `g` (or nothing without bounds); only the bounds on
/// trace totals when `traces_only`.
fn bound_conditions(sql: &mut Sql, query: &TotalsQuery, traces_only: bool) {
    let mut first = true;
    for bound in &query.bounds {
        if traces_only && bound.column.from_observations() {
            continue;
        }
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

/// The sums of the observations `o` of the traces `t` of a group.
fn observation_sums(dialect: Dialect) -> String {
    format!(
        "{} AS input_tokens, {} AS output_tokens, {} AS total_tokens, {} AS total_cost, \
         max(coalesce(o.end_time, o.start_time)) AS last_end, {} AS users",
        SUM_AS_INTEGER.of(dialect, "o.usage_input"),
        SUM_AS_INTEGER.of(dialect, "o.usage_output"),
        SUM_AS_INTEGER.of(dialect, "o.usage_total"),
        SUM_AS_FLOAT.of(dialect, "o.total_cost"),
        DISTINCT_TEXTS.of(dialect, "t.user_id"),
    )
}

const OBSERVATIONS_OF_T: &str =
    " LEFT JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id";

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
    let needs_observations = query.order_by.from_observations()
        || query
            .bounds
            .iter()
            .any(|bound| bound.column.from_observations());
    let mut grouped = Sql::new(
        dialect,
        &format!(
            // Joined to the observations, a trace is in as many rows as it has observations.
            "SELECT {key} AS id, {} AS traces, min({TRACE_TIME}) AS first_seen, \
             max({TRACE_TIME}) AS last_seen",
            if needs_observations {
                "count(DISTINCT t.id)"
            } else {
                "count(*)"
            }
        ),
    );
    if needs_observations {
        grouped.push(&format!(
            ", {} FROM traces t{OBSERVATIONS_OF_T}",
            observation_sums(dialect)
        ));
    } else {
        grouped.push(" FROM traces t");
    }
    grouped.push(" WHERE ");
    trace_conditions(&mut grouped, project_id, grouping, query);
    grouped.push(&format!(" GROUP BY {key}"));

    let mut count = Sql::new(dialect, "SELECT count(*) AS value FROM (");
    count.append(&grouped).push(") g");
    bound_conditions(&mut count, query, false);

    let mut page = Sql::new(dialect, "");
    if needs_observations {
        page.push("SELECT g.* FROM (").append(&grouped).push(") g");
        bound_conditions(&mut page, query, false);
        page.push(&order(dialect, query, "g"));
        page.push(" LIMIT ")
            .bind(i64::from(limit))
            .push(" OFFSET ")
            .bind(offset);
        return (count, page);
    }
    // The page from the traces alone, then its groups' observations.
    page.push("WITH g AS (SELECT g.* FROM (")
        .append(&grouped)
        .push(") g");
    bound_conditions(&mut page, query, true);
    page.push(&order(dialect, query, "g"));
    page.push(" LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    page.push(&format!(
        ") SELECT g.id, g.traces, g.first_seen, g.last_seen, {} FROM g JOIN traces t ON {key} = g.id AND ",
        observation_sums(dialect)
    ));
    trace_conditions(&mut page, project_id, grouping, query);
    page.push(&format!(
        "{OBSERVATIONS_OF_T} GROUP BY g.id{}",
        GROUPED_TOO.of(dialect, "g.traces, g.first_seen, g.last_seen")
    ));
    page.push(&order(dialect, query, "g"));
    (count, page)
}
