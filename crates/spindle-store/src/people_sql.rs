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
//!
//! A query the people rollups can answer ([`rollup_totals_statements`]: sorted and bounded on
//! the count, tokens or cost, or the id, without a score and, for sessions, without a user)
//! sums instead the `people_rollups` rows (per id, UTC day and environment, kept by the
//! writers: `rollups/people.rs`) of the whole days inside its range, and the `trace_totals`
//! rows of the partial days at its edges (`trace_totals_by_time`). Only the page's groups
//! then read their first and last times and latest end from `trace_totals`, a few seeks
//! each (`trace_totals_by_user`, `trace_totals_by_user_end`, `trace_totals_by_session`),
//! since minima and maxima cannot be rolled up as deltas.

use crate::executor::FromRow;
use crate::people::{GroupTotals, Grouping, ScoreFilter, TotalsColumn, TotalsQuery};
use crate::rollups::{day_of, DAY_MICROS};
use crate::sql::{like_escape, Dialect, RowAccess, Sql};
use crate::statements::{TextList, DISTINCT_TEXTS, SUM_AS_FLOAT, SUM_AS_INTEGER};
use crate::Result;
use spindle_core::time::Micros;

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
    environment_and_range(sql, query, TRACE_TIME);
}

/// ` AND tt.environment = … AND <time> >= from AND <time> < to`: the query's environment and
/// range, `time` being how the trace's time is written ([`TRACE_TIME`], or hidden from the
/// index choice where another index serves the statement better).
fn environment_and_range(sql: &mut Sql, query: &TotalsQuery, time: &str) {
    if let Some(environment) = &query.environment {
        sql.push(" AND tt.environment = ")
            .bind(environment.as_str());
    }
    if let Some(from) = query.from_timestamp {
        sql.push(&format!(" AND {time} >= ")).bind(from);
    }
    if let Some(to) = query.to_timestamp {
        sql.push(&format!(" AND {time} < ")).bind(to);
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

/// The token and cost sums of the `trace_totals` rows `tt` of a group.
fn token_and_cost_sums(dialect: Dialect) -> String {
    format!(
        "{} AS input_tokens, {} AS output_tokens, {} AS total_tokens, {} AS total_cost",
        SUM_AS_INTEGER.of(dialect, "tt.usage_input"),
        SUM_AS_INTEGER.of(dialect, "tt.usage_output"),
        SUM_AS_INTEGER.of(dialect, "tt.usage_total"),
        SUM_AS_FLOAT.of(dialect, "tt.total_cost"),
    )
}

/// The sums of the `trace_totals` rows `tt` of a group.
fn sums(dialect: Dialect) -> String {
    format!(
        "{}, max(tt.last_end) AS last_end, {} AS users",
        token_and_cost_sums(dialect),
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

    let mut page = Sql::new(dialect, "");
    page_of(&grouped, query, limit, offset, &mut page);
    (count_of(&grouped, query), page)
}

/// The page of the grouped rows `grouped` within the query's bounds (`SELECT g.* … ORDER BY
/// … LIMIT … OFFSET …`), appended to `page`.
fn page_of(grouped: &Sql, query: &TotalsQuery, limit: u32, offset: i64, page: &mut Sql) {
    page.push("SELECT g.* FROM (").append(grouped).push(") g");
    bound_conditions(page, query);
    page.push(&order(grouped.dialect(), query, "g"));
    page.push(" LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
}

/// The count of the groups of `grouped` within the query's bounds.
fn count_of(grouped: &Sql, query: &TotalsQuery) -> Sql {
    let mut count = Sql::new(grouped.dialect(), "SELECT count(*) AS value FROM (");
    count.append(grouped).push(") g");
    bound_conditions(&mut count, query);
    count
}

/// Whether the people rollups answer the query: its bounds are on totals they sum (the
/// count, tokens, cost), its sort on anything but a score (the first or last time is one
/// index seek per group, [`seen_groups`]), it names no score, a sessions query no user, and
/// no empty environment (the rollups key an absent one as `''`).
fn rollups_answer(grouping: Grouping, query: &TotalsQuery) -> bool {
    let summed = |column| {
        matches!(
            column,
            TotalsColumn::Traces | TotalsColumn::Tokens | TotalsColumn::Cost
        )
    };
    query.score.is_none()
        && !(grouping == Grouping::Session && query.user_id.is_some())
        && query.environment.as_deref() != Some("")
        && query.order_by != TotalsColumn::Score
        && query.bounds.iter().all(|bound| summed(bound.column))
}

/// The whole UTC days inside a range, `[start, end)` (`None` for no bound), or `None` when
/// the range holds no whole day.
fn whole_days(
    from: Option<Micros>,
    to: Option<Micros>,
) -> Option<(Option<Micros>, Option<Micros>)> {
    let start = match from {
        None => None,
        Some(from) => {
            let day = from.div_euclid(DAY_MICROS).checked_mul(DAY_MICROS)?;
            Some(if day == from {
                day
            } else {
                day.checked_add(DAY_MICROS)?
            })
        }
    };
    let end = match to {
        None => None,
        Some(to) => Some(to.div_euclid(DAY_MICROS).checked_mul(DAY_MICROS)?),
    };
    debug_assert!(start.is_none_or(|start| day_of(start) == start));
    match (start, end) {
        (Some(start), Some(end)) if start >= end => None,
        days => Some(days),
    }
}

/// The columns every part of the rollups' relation selects, in order.
const PART_COLUMNS: &str = "id, traces, input_tokens, output_tokens, total_tokens, \
     cost_nanos, cost";

/// A float 0, typed so that PostgreSQL's `UNION ALL` agrees with `trace_totals.total_cost`.
fn zero_float(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "0.0",
        Dialect::Postgres => "CAST(0 AS double precision)",
    }
}

/// The `people_rollups` rows of the whole days `[start, end)` the query covers.
fn rollup_part(
    dialect: Dialect,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    (start, end): (Option<Micros>, Option<Micros>),
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT p.id AS id, p.trace_count AS traces, p.input_tokens AS input_tokens, \
             p.output_tokens AS output_tokens, p.total_tokens AS total_tokens, \
             p.cost_nanos AS cost_nanos, {} AS cost FROM people_rollups p \
             WHERE p.project_id = ",
            zero_float(dialect)
        ),
    );
    sql.bind(project_id)
        .push(" AND p.kind = ")
        .bind(grouping.kind())
        .push(" AND p.trace_count > 0");
    if let Some(search) = &query.search {
        sql.push(" AND ")
            .like("p.id", format!("%{}%", like_escape(search)), false);
    }
    if let Some(id) = &query.id {
        sql.push(" AND p.id = ").bind(id.as_str());
    }
    if let Some(environment) = &query.environment {
        sql.push(" AND p.environment = ").bind(environment.as_str());
    }
    if let Some(start) = start {
        sql.push(" AND p.day >= ").bind(start);
    }
    if let Some(end) = end {
        sql.push(" AND p.day < ").bind(end);
    }
    sql
}

/// The `trace_totals` rows of the query's traces from `from` to before `to` (a partial day
/// at an edge of its range), as the rows of the rollups' relation.
fn edge_part(
    dialect: Dialect,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    from: Option<Micros>,
    to: Option<Micros>,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT {} AS id, 1 AS traces, tt.usage_input AS input_tokens, \
             tt.usage_output AS output_tokens, tt.usage_total AS total_tokens, \
             0 AS cost_nanos, tt.total_cost AS cost FROM trace_totals tt WHERE ",
            key_column(grouping)
        ),
    );
    let edge = TotalsQuery {
        from_timestamp: from,
        to_timestamp: to,
        ..query.clone()
    };
    trace_conditions(&mut sql, project_id, grouping, &edge);
    sql
}

/// The sums of the rollups' relation `x` per id, the cost in nano-USD and in USD added.
fn rollup_sums(dialect: Dialect) -> String {
    let cost = match dialect {
        Dialect::Sqlite => {
            "coalesce(sum(x.cost_nanos), 0) / 1e9 + coalesce(sum(x.cost), 0.0)".to_owned()
        }
        Dialect::Postgres => "coalesce(sum(x.cost_nanos), 0)::float8 / 1e9 \
             + coalesce(sum(x.cost), 0.0)::float8"
            .to_owned(),
    };
    format!(
        "{} AS traces, {} AS input_tokens, {} AS output_tokens, {} AS total_tokens, \
         {cost} AS total_cost",
        SUM_AS_INTEGER.of(dialect, "x.traces"),
        SUM_AS_INTEGER.of(dialect, "x.input_tokens"),
        SUM_AS_INTEGER.of(dialect, "x.output_tokens"),
        SUM_AS_INTEGER.of(dialect, "x.total_tokens"),
    )
}

/// `(SELECT <column> FROM trace_totals tt WHERE <the group g.id's traces in the query's
/// range> ORDER BY <order> LIMIT 1)`: one seek in an index of the group's key.
fn group_seek(
    sql: &mut Sql,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    column: &str,
    order: &str,
) {
    sql.push(&format!("(SELECT {column} FROM trace_totals tt WHERE "));
    group_traces(sql, project_id, grouping, query, TRACE_TIME);
    sql.push(&format!(" ORDER BY {order} LIMIT 1)"));
}

/// `tt.project_id = … AND <key> = g.id AND …`: the traces of the group `g` in the query's
/// range and environment (see [`environment_and_range`] for `time`).
fn group_traces(
    sql: &mut Sql,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    time: &str,
) {
    sql.push("tt.project_id = ")
        .bind(project_id)
        .push(&format!(" AND {} = g.id", key_column(grouping)));
    environment_and_range(sql, query, time);
}

/// The count of the groups a query matches and its page of groups, from the people rollups
/// (see the module's documentation), or `None` when they cannot answer it (the caller then
/// takes [`totals_statements`]). The caller checks that the project's rollups are built.
pub fn rollup_totals_statements(
    dialect: Dialect,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    limit: u32,
    offset: i64,
) -> Option<(Sql, Sql)> {
    if !rollups_answer(grouping, query) {
        return None;
    }
    let days = whole_days(query.from_timestamp, query.to_timestamp)?;
    let mut grouped = Sql::new(
        dialect,
        &format!(
            "SELECT x.id AS id, {} FROM (SELECT {PART_COLUMNS} FROM (",
            rollup_sums(dialect)
        ),
    );
    grouped.append(&rollup_part(dialect, project_id, grouping, query, days));
    let (start, end) = days;
    // The partial days at the edges: from the range's start to the first whole day, and
    // from the end of the last whole day to the range's end.
    let edges = [(query.from_timestamp, start), (end, query.to_timestamp)];
    for (from, to) in edges {
        if let (Some(from), Some(to)) = (from, to) {
            if from < to {
                grouped.push(" UNION ALL ").append(&edge_part(
                    dialect,
                    project_id,
                    grouping,
                    query,
                    Some(from),
                    Some(to),
                ));
            }
        }
    }
    grouped.push(") parts) x GROUP BY x.id");

    let mut page = Sql::new(
        dialect,
        "SELECT g.id AS id, g.traces AS traces, g.input_tokens AS input_tokens, \
         g.output_tokens AS output_tokens, g.total_tokens AS total_tokens, \
         g.total_cost AS total_cost, ",
    );
    group_seek(
        &mut page,
        project_id,
        grouping,
        query,
        TRACE_TIME,
        &format!("{TRACE_TIME} ASC"),
    );
    page.push(" AS first_seen, ");
    group_seek(
        &mut page,
        project_id,
        grouping,
        query,
        TRACE_TIME,
        &format!("{TRACE_TIME} DESC"),
    );
    page.push(" AS last_seen, ");
    // Walks the group's ends from the latest until one of its traces is in the range (a
    // user's in `trace_totals_by_user_end`; SQLite would rather take the range of times in
    // `trace_totals_by_user` and sort all of it).
    page.push("(SELECT tt.last_end FROM trace_totals tt WHERE ");
    let unindexed_time = dialect.without_index(TRACE_TIME);
    group_traces(&mut page, project_id, grouping, query, &unindexed_time);
    page.push(" AND tt.last_end IS NOT NULL ORDER BY tt.last_end DESC LIMIT 1) AS last_end, ");
    match grouping {
        // A user's traces have one user.
        Grouping::User => page.push(match dialect {
            Dialect::Sqlite => "g.id",
            Dialect::Postgres => "ARRAY[g.id]",
        }),
        Grouping::Session => {
            page.push(&format!(
                "(SELECT {} FROM trace_totals tt WHERE ",
                DISTINCT_TEXTS.of(dialect, "tt.user_id")
            ));
            group_traces(&mut page, project_id, grouping, query, TRACE_TIME);
            page.push(")")
        }
    };
    page.push(&format!(
        " AS users, {} AS score_average FROM (",
        null_float(dialect)
    ));
    // A sort by time chooses the page among the groups with their times; the count needs none.
    let seen = seen_groups(&grouped, project_id, grouping, query);
    page_of(
        seen.as_ref().unwrap_or(&grouped),
        query,
        limit,
        offset,
        &mut page,
    );
    let count = count_of(&grouped, query);
    page.push(") g");
    page.push(&order(dialect, query, "g"));
    Some((count, page))
}

/// For a query sorted by the first or last time: the groups `grouped` with that time, each
/// one index seek in the group's traces of the range (`trace_totals_by_user` or
/// `trace_totals_by_session`), so the page is chosen from all of them; `None` for the other
/// sorts.
fn seen_groups(
    grouped: &Sql,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
) -> Option<Sql> {
    let order = match query.order_by {
        TotalsColumn::FirstSeen => "ASC",
        TotalsColumn::LastSeen => "DESC",
        _ => return None,
    };
    let mut seen = Sql::new(grouped.dialect(), "SELECT g.*, ");
    group_seek(
        &mut seen,
        project_id,
        grouping,
        query,
        TRACE_TIME,
        &format!("{TRACE_TIME} {order}"),
    );
    seen.push(&format!(" AS {} FROM (", total_name(query.order_by)))
        .append(grouped)
        .push(") g");
    Some(seen)
}

/// Whether the session totals answer the query: a sessions query naming no score, user or
/// environment (a session's totals are over all its traces, whatever their environment).
fn session_totals_answer(grouping: Grouping, query: &TotalsQuery) -> bool {
    grouping == Grouping::Session
        && query.score.is_none()
        && query.user_id.is_none()
        && query.environment.is_none()
        && query.order_by != TotalsColumn::Score
        && query
            .bounds
            .iter()
            .all(|bound| bound.column != TotalsColumn::Score)
}

/// The columns of the session parts `g` the page reads, in order.
const SESSION_PART_COLUMNS: &str = "g.id AS id, g.traces AS traces, \
     g.input_tokens AS input_tokens, g.output_tokens AS output_tokens, \
     g.total_tokens AS total_tokens, g.total_cost AS total_cost, g.first_seen AS first_seen, \
     g.last_seen AS last_seen";

/// ` AND <the session s's id matches the query's search and id>`.
fn session_id_conditions(sql: &mut Sql, query: &TotalsQuery) {
    if let Some(search) = &query.search {
        sql.push(" AND ")
            .like("s.session_id", format!("%{}%", like_escape(search)), false);
    }
    if let Some(id) = &query.id {
        sql.push(" AND s.session_id = ").bind(id.as_str());
    }
}

/// The sessions of `session_totals` the query's range contains whole, as rows `g` with the
/// page's columns and `cost_key` (the cost in nano-USD, which `session_totals_by_cost`
/// orders), within the query's bounds. The times are hidden from the index choice where
/// they are not the statement's range (SQLite would rather take a one-sided range of them
/// than the index that counts or sorts).
fn contained_sessions(
    dialect: Dialect,
    project_id: &str,
    query: &TotalsQuery,
    sorted: bool,
) -> Sql {
    let cost = match dialect {
        Dialect::Sqlite => "s.cost_nanos / 1e9",
        Dialect::Postgres => "s.cost_nanos::float8 / 1e9",
    };
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT g.* FROM (SELECT s.session_id AS id, s.trace_count AS traces, \
             s.input_tokens AS input_tokens, s.output_tokens AS output_tokens, \
             s.total_tokens AS total_tokens, {cost} AS total_cost, s.first_time AS first_seen, \
             s.last_time AS last_seen, s.cost_nanos AS cost_key FROM session_totals s \
             WHERE s.project_id = "
        ),
    );
    sql.bind(project_id).push(" AND s.trace_count > 0");
    let (first, last) = if sorted {
        (
            dialect.without_index("s.first_time"),
            dialect.without_index("s.last_time"),
        )
    } else {
        (
            "s.first_time".to_owned(),
            dialect.without_index("s.last_time"),
        )
    };
    if let Some(from) = query.from_timestamp {
        sql.push(&format!(" AND {first} >= ")).bind(from);
    }
    if let Some(to) = query.to_timestamp {
        sql.push(&format!(" AND {last} < ")).bind(to);
    }
    session_id_conditions(&mut sql, query);
    sql.push(") g");
    bound_conditions(&mut sql, query);
    sql
}

/// The sessions that straddle an end of the query's range (a trace before it and one in or
/// after it), summed over their traces in the range from `trace_totals`, as rows `g` within
/// the query's bounds; `None` without a range. They are found by their last time, from the
/// range's start on (those active in the range).
fn straddling_sessions(dialect: Dialect, project_id: &str, query: &TotalsQuery) -> Option<Sql> {
    let lowest = query.from_timestamp.or(query.to_timestamp)?;
    let mut sessions = Sql::new(
        dialect,
        "SELECT s.session_id FROM session_totals s WHERE s.project_id = ",
    );
    let first = dialect.without_index("s.first_time");
    // A session without traces has no times, so no condition on its count is needed (and
    // none is wanted: `session_totals_by_last` answers the statement without the rows).
    sessions
        .bind(project_id)
        .push(" AND s.last_time >= ")
        .bind(lowest)
        .push(" AND (");
    let mut any = false;
    if let Some(from) = query.from_timestamp {
        sessions.push(&format!("{first} < ")).bind(from);
        any = true;
    }
    if let Some(to) = query.to_timestamp {
        if any {
            sessions.push(" OR ");
        }
        sessions
            .push("(s.last_time >= ")
            .bind(to)
            .push(&format!(" AND {first} < "))
            .bind(to)
            .push(")");
    }
    sessions.push(")");
    session_id_conditions(&mut sessions, query);

    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT g.* FROM (SELECT tt.session_id AS id, count(*) AS traces, {}, \
             min({TRACE_TIME}) AS first_seen, max({TRACE_TIME}) AS last_seen \
             FROM trace_totals tt WHERE tt.project_id = ",
            token_and_cost_sums(dialect),
        ),
    );
    sql.bind(project_id)
        .push(" AND tt.session_id IN (")
        .append(&sessions)
        .push(")");
    environment_and_range(&mut sql, query, TRACE_TIME);
    sql.push(" GROUP BY tt.session_id) g");
    bound_conditions(&mut sql, query);
    Some(sql)
}

/// The count of the sessions a query matches and its page of sessions, from the session
/// totals: the sessions its range contains whole, read sorted from `session_totals` (the
/// page's worth of them), and those straddling an end of its range, summed from their
/// traces in the range; then only the page's sessions read their users and latest end. The
/// count adds the contained sessions (counted in `session_totals_by_first`) and the
/// straddling ones with a trace in the range. `None` when the session totals cannot answer
/// the query (the caller then takes [`rollup_totals_statements`] or [`totals_statements`]).
/// The caller checks that the project's rollups are built.
pub fn session_totals_statements(
    dialect: Dialect,
    project_id: &str,
    grouping: Grouping,
    query: &TotalsQuery,
    limit: u32,
    offset: i64,
) -> Option<(Sql, Sql)> {
    if !session_totals_answer(grouping, query) {
        return None;
    }
    let straddling = straddling_sessions(dialect, project_id, query);

    let mut count = Sql::new(dialect, "SELECT (SELECT count(*) FROM (");
    count
        .append(&contained_sessions(dialect, project_id, query, false))
        .push(") c)");
    if let Some(straddling) = &straddling {
        count
            .push(" + (SELECT count(*) FROM (")
            .append(straddling)
            .push(") x)");
    }
    count.push(" AS value");

    // The contained sessions' first `offset + limit` in the page's order are all that can
    // reach the page.
    let sort_key = match query.order_by {
        TotalsColumn::Cost => "cost_key",
        column => total_name(column),
    };
    let mut contained = Sql::new(dialect, &format!("SELECT {SESSION_PART_COLUMNS} FROM ("));
    contained
        .append(&contained_sessions(dialect, project_id, query, true))
        .push(&format!(
            ") g ORDER BY g.{sort_key} {}, g.id ASC LIMIT ",
            dialect.order(query.direction)
        ))
        .bind(offset.saturating_add(i64::from(limit)));
    let mut parts = Sql::new(dialect, "SELECT * FROM (");
    parts.append(&contained).push(") a");
    if let Some(straddling) = &straddling {
        parts
            .push(&format!(" UNION ALL SELECT {SESSION_PART_COLUMNS} FROM ("))
            .append(straddling)
            .push(") g");
    }

    let mut page = Sql::new(
        dialect,
        "SELECT g.id AS id, g.traces AS traces, g.input_tokens AS input_tokens, \
         g.output_tokens AS output_tokens, g.total_tokens AS total_tokens, \
         g.total_cost AS total_cost, g.first_seen AS first_seen, g.last_seen AS last_seen, ",
    );
    page.push("(SELECT tt.last_end FROM trace_totals tt WHERE ");
    group_traces(&mut page, project_id, grouping, query, TRACE_TIME);
    page.push(" AND tt.last_end IS NOT NULL ORDER BY tt.last_end DESC LIMIT 1) AS last_end, ");
    page.push(&format!(
        "(SELECT {} FROM trace_totals tt WHERE ",
        DISTINCT_TEXTS.of(dialect, "tt.user_id")
    ));
    group_traces(&mut page, project_id, grouping, query, TRACE_TIME);
    page.push(&format!(
        ") AS users, {} AS score_average FROM (SELECT p.* FROM (",
        null_float(dialect)
    ));
    page.append(&parts).push(") p");
    page.push(&order(dialect, query, "p"));
    page.push(" LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    page.push(") g");
    page.push(&order(dialect, query, "g"));
    Some((count, page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::TotalsBound;
    use crate::Direction;

    const DAY: Micros = DAY_MICROS;

    #[test]
    fn whole_days_are_those_inside_the_range() {
        assert_eq!(whole_days(None, None), Some((None, None)));
        assert_eq!(
            whole_days(Some(DAY), Some(3 * DAY)),
            Some((Some(DAY), Some(3 * DAY))),
            "aligned bounds: every day"
        );
        assert_eq!(
            whole_days(Some(DAY + 1), Some(3 * DAY + 1)),
            Some((Some(2 * DAY), Some(3 * DAY)))
        );
        assert_eq!(
            whole_days(Some(-DAY - 1), None),
            Some((Some(-DAY), None)),
            "before 1970"
        );
        assert_eq!(whole_days(Some(DAY + 1), Some(2 * DAY - 1)), None);
        assert_eq!(whole_days(Some(DAY + 1), Some(2 * DAY)), None);
        assert_eq!(whole_days(Some(Micros::MAX), None), None, "no day after");
    }

    #[test]
    fn the_rollups_answer_summed_bounds_and_sorts_by_sums_ids_and_times() {
        let query = |order_by, score: Option<ScoreFilter>, user_id: Option<&str>| TotalsQuery {
            order_by,
            direction: Direction::Desc,
            score,
            user_id: user_id.map(str::to_owned),
            ..TotalsQuery::default()
        };
        let answers = |grouping, query: &TotalsQuery| {
            rollup_totals_statements(Dialect::Sqlite, "p", grouping, query, 50, 0).is_some()
        };
        assert!(answers(
            Grouping::User,
            &query(TotalsColumn::Cost, None, None)
        ));
        assert!(answers(
            Grouping::User,
            &query(TotalsColumn::Id, None, Some("u"))
        ));
        assert!(!answers(
            Grouping::Session,
            &query(TotalsColumn::Cost, None, Some("u"))
        ));
        assert!(answers(
            Grouping::User,
            &query(TotalsColumn::LastSeen, None, None)
        ));
        let bounded_by_time = TotalsQuery {
            bounds: vec![TotalsBound {
                column: TotalsColumn::LastSeen,
                min: Some(1.0),
                max: None,
            }],
            ..query(TotalsColumn::Cost, None, None)
        };
        assert!(!answers(Grouping::User, &bounded_by_time));
        let score = ScoreFilter {
            name: "quality".to_owned(),
            ..ScoreFilter::default()
        };
        assert!(!answers(
            Grouping::User,
            &query(TotalsColumn::Cost, Some(score), None)
        ));
        let first_seen = TotalsQuery {
            bounds: vec![crate::people::TotalsBound {
                column: TotalsColumn::FirstSeen,
                min: Some(1.0),
                max: None,
            }],
            ..query(TotalsColumn::Cost, None, None)
        };
        assert!(!answers(Grouping::User, &first_seen));
    }
}
