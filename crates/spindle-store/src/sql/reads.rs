//! The read side both backends share: the statements of the list and get queries of
//! observations, scores and sessions, the conditions every list uses, and the decoding of
//! rows into views. A backend runs the statements (and reads the project counters a total
//! may come from); only the traces list, whose planner differs, is built per backend.

use spindle_core::time::Micros;
use spindle_core::{Error, Level};

use crate::rollups::NO_HOUR;
use crate::statements::SUM_AS_INTEGER;
use crate::trace_index::IndexedTerm;

use super::rows::{
    decode_json, decode_observation, decode_score, decode_trace, ReadColumns, OBSERVATION_COLUMNS,
    OBSERVATION_TREE_COLUMNS, SCORE_COLUMNS, TRACE_COLUMNS,
};
use super::{
    compile_filters, level_of_rank, rank_of, Column, Dialect, Expr, RowAccess, Sql,
    OBSERVATION_FILTER_COLUMNS, OBSERVATION_LEVEL, SCORE_FILTER_COLUMNS,
    SCORE_FILTER_COLUMNS_OF_TRACE,
};
use crate::{
    Cursor, Direction, ObservationQuery, ObservationView, OrderBy, Page, Result, ScoreQuery,
    ScoreView, SessionQuery, SessionView, TraceView,
};

/// The default page size when a query asks for 0 items.
const DEFAULT_LIMIT: u32 = 50;

/// Page number (from 1), limit and row offset of a page request.
pub fn paging(page: u32, limit: u32) -> (u32, u32, i64) {
    let page = page.max(1);
    let limit = if limit == 0 { DEFAULT_LIMIT } else { limit };
    (page, limit, i64::from(page - 1) * i64::from(limit))
}

/// Appends `AND <expr> = <value>` when there is a value.
pub fn equals(sql: &mut Sql, expr: &str, value: &Option<String>) {
    if let Some(value) = value {
        let mut condition = sql.fragment(&format!("{expr} = "));
        condition.bind(value.as_str());
        sql.and(condition);
    }
}

/// Appends `AND <expr> IN <values>` when there are values.
pub fn any_of(sql: &mut Sql, expr: &str, values: &[String]) {
    if !values.is_empty() {
        let mut condition = sql.fragment("");
        condition.in_list(expr, values.to_vec(), false);
        sql.and(condition);
    }
}

/// Appends `AND <expr> >= from` and `AND <expr> < to` for the bounds given.
pub fn time_range(sql: &mut Sql, expr: &str, from: Option<Micros>, to: Option<Micros>) {
    if let Some(from) = from {
        let mut condition = sql.fragment(&format!("{expr} >= "));
        condition.bind(from);
        sql.and(condition);
    }
    if let Some(to) = to {
        let mut condition = sql.fragment(&format!("{expr} < "));
        condition.bind(to);
        sql.and(condition);
    }
}

/// Appends `AND every tag is in <tags_expr>` (a JSON array): one `EXISTS` per tag on
/// SQLite, one `?&` on PostgreSQL.
pub fn all_tags(sql: &mut Sql, tags_expr: &str, tags: &[String]) {
    match sql.dialect() {
        Dialect::Sqlite => {
            for tag in tags {
                let mut condition = sql.fragment(&format!(
                    "EXISTS (SELECT 1 FROM json_each({tags_expr}) WHERE value = "
                ));
                condition.bind(tag.as_str()).push(")");
                sql.and(condition);
            }
        }
        Dialect::Postgres => {
            if tags.is_empty() {
                return;
            }
            let mut condition = sql.fragment(&format!("({tags_expr} ?& "));
            condition.bind(tags.to_vec()).push(")");
            sql.and(condition);
        }
    }
}

/// Where the total of a page comes from.
pub enum Total {
    /// The project's kept count of observations (an unfiltered list).
    ProjectObservations,
    /// A `count(*)` statement.
    Count(Sql),
}

/// The statements of one page of a list.
pub struct ListStatements {
    pub total: Total,
    pub select: Sql,
    pub page: u32,
    pub limit: u32,
}

impl ListStatements {
    /// The page of `items`, all the select returned.
    pub fn page_of<T>(&self, items: Vec<T>, total_items: u64) -> Page<T> {
        Page::counted(items, self.page, self.limit, total_items)
    }
}

/// The `ORDER BY` of a list sorted by `order_by`: its column read as the list's filters read
/// it (`columns`) when `sortable` names it, with `id` breaking ties in the same direction;
/// `default` without a sort. NULLs sort as the smallest value on both backends.
fn sorted_by(
    dialect: Dialect,
    order_by: Option<&OrderBy>,
    columns: &[Column],
    sortable: &[(&str, Option<&'static str>)],
    id: &str,
    default: &str,
) -> Result<String> {
    let Some(order) = order_by else {
        return Ok(default.to_owned());
    };
    let known = sortable
        .iter()
        .find(|(name, _)| *name == order.column)
        .and_then(|(name, expr)| match expr {
            Some(expr) => Some(*expr),
            None => columns
                .iter()
                .find(|column| column.name == *name)
                .map(|column| column.expr.of(dialect)),
        });
    let Some(expr) = known else {
        let names: Vec<&str> = sortable.iter().map(|(name, _)| *name).collect();
        return Err(Error::invalid(
            "orderBy.column",
            format!(
                "unknown column {:?} (expected one of {})",
                order.column,
                names.join(", ")
            ),
        ));
    };
    let tiebreak = match order.direction {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    };
    Ok(format!(
        "{expr} {}, {id} {tiebreak}",
        dialect.order(order.direction)
    ))
}

/// The columns an observations list sorts on; `startTime` through the keyset sort key (its
/// index; observations without a start time sort as the oldest).
const OBSERVATION_SORT_COLUMNS: &[(&str, Option<&str>)] = &[
    ("startTime", Some("o.sort_time")),
    ("name", None),
    ("model", None),
    ("latency", None),
    ("totalCost", None),
    ("inputTokens", None),
    ("outputTokens", None),
    ("totalTokens", None),
];

/// The columns a scores list sorts on.
const SCORE_SORT_COLUMNS: &[(&str, Option<&str>)] =
    &[("timestamp", None), ("name", None), ("value", None)];

// --- traces ---

/// The sort key `trace_tags` and `trace_metadata` keep for a trace's timestamp (NULL as the
/// smallest bigint, so it sorts as `ORDER BY t.timestamp` sorts NULL).
pub const NULL_TIMESTAMP_KEY: i64 = i64::MIN;

/// Appends the conditions of a traces list every plan shares: the plain fields, the time
/// range, and the filters the index tables do not answer (`other_filters`, each with its
/// position in `filter=`). Search, tags and score ranges are the planner's.
pub fn trace_conditions(
    conditions: &mut Sql,
    project_id: &str,
    query: &crate::TraceQuery,
    other_filters: &[(usize, &crate::Filter)],
) -> Result<()> {
    let dialect = conditions.dialect();
    equals(conditions, "t.user_id", &query.user_id);
    equals(conditions, "t.name", &query.name);
    equals(conditions, "t.session_id", &query.session_id);
    equals(conditions, "t.version", &query.version);
    equals(conditions, "t.release", &query.release);
    any_of(conditions, "t.environment", &query.environments);
    time_range(
        conditions,
        "t.timestamp",
        query.from_timestamp,
        query.to_timestamp,
    );
    if let Some(has_comments) = query.has_comments {
        // One seek per trace in `comments_by_object` (project, object type, object id).
        let mut commented = Sql::new(
            dialect,
            if has_comments {
                "t.id IN (SELECT c.object_id FROM comments c WHERE c.project_id = "
            } else {
                "t.id NOT IN (SELECT c.object_id FROM comments c WHERE c.project_id = "
            },
        );
        commented
            .bind(project_id)
            .push(" AND c.object_type = 'TRACE')");
        conditions.and(commented);
    }
    for (index, filter) in other_filters {
        if crate::trace_index::is_error_level(filter) {
            let mut with_errors = Sql::new(
                dialect,
                "t.id IN (SELECT o3.trace_id FROM observations o3 WHERE o3.project_id = ",
            );
            with_errors
                .bind(project_id)
                .push(" AND o3.level = 'ERROR')");
            conditions.and(with_errors);
            continue;
        }
        conditions.and(super::compile_trace_filter(
            dialect, project_id, *index, filter,
        )?);
    }
    Ok(())
}

/// The expression and direction a traces list is ordered by (`orderBy`, newest first by
/// default).
pub fn trace_order(
    dialect: Dialect,
    query: &crate::TraceQuery,
) -> Result<(&'static str, Direction)> {
    let Some(order) = &query.order_by else {
        return Ok(("t.timestamp", Direction::Desc));
    };
    let expr = match order.column.as_str() {
        "timestamp" => "t.timestamp",
        "name" => "t.name",
        "userId" => "t.user_id",
        "sessionId" => "t.session_id",
        "release" => "t.release",
        "version" => "t.version",
        "environment" => "t.environment",
        "id" => "t.id",
        "latency" => super::TRACE_LATENCY.of(dialect),
        "totalCost" => super::TRACE_COST.of(dialect),
        other => {
            return Err(Error::invalid(
                "orderBy.column",
                format!(
                    "unknown column {other:?} (expected one of timestamp, name, userId, \
                     sessionId, release, version, environment, latency, totalCost, id)"
                ),
            ))
        }
    };
    Ok((expr, order.direction))
}

/// The `trace_totals` column (`tt`) a traces list sorted on a trace total walks in order
/// (an index per column), instead of working the total out for every trace.
pub fn totals_order_column(query: &crate::TraceQuery) -> Option<&'static str> {
    match query.order_by.as_ref()?.column.as_str() {
        "latency" => Some("tt.latency"),
        "totalCost" => Some("tt.total_cost"),
        _ => None,
    }
}

/// The join that keeps the table on its left outer: SQLite's `CROSS JOIN` (its planner never
/// reorders one), a plain `JOIN` on PostgreSQL.
fn left_outer_join(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "CROSS JOIN",
        Dialect::Postgres => "JOIN",
    }
}

/// The head of a traces-list statement sorted on a [`totals_order_column`]: the project's
/// `trace_totals` rows joined to their traces (SQLite's `CROSS JOIN` keeps the totals
/// outer). The trace conditions follow; the order is the caller's, on `tt`.
pub fn totals_source(dialect: Dialect, project_id: &str, what: &str) -> Sql {
    let join = left_outer_join(dialect);
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT {what} FROM trace_totals tt {join} traces t \
             ON t.project_id = tt.project_id AND t.id = tt.trace_id WHERE tt.project_id = "
        ),
    );
    sql.bind(project_id).push(" AND ");
    sql
}

/// Above this many scores in a score range that is a traces list's only condition, the
/// list's total is the count of those scores, marked as an estimate, instead of the exact
/// count of their distinct traces (a probe of the traces per score).
pub const SCORE_RANGE_EXACT_UP_TO: u64 = 10_000;

/// Above this many traces in a score range, a list page in time order walks the traces in
/// that order rather than fetching and sorting every match.
const SCORE_RANGE_WALK_ABOVE: u64 = 1_000;

/// Whether a page of a score-range list walks the traces in time order: when it is in that
/// order, no index table drives it, and `matches` traces are in the range (or estimated).
pub fn score_range_walks(time_order_without_driver: bool, matches: u64) -> bool {
    time_order_without_driver && matches > SCORE_RANGE_WALK_ABOVE
}

/// Whether a walking page (see [`score_range_walks`]) at `offset` probes each walked trace's
/// scores instead of gathering every match first: walking, a page meets its matches about
/// every `project_traces / matches` traces, so it probes when that reaches the page's end
/// through fewer traces than there are matches to gather.
pub fn score_range_probes(offset: i64, limit: u32, project_traces: u64, matches: u64) -> bool {
    let reach = u64::try_from(offset)
        .unwrap_or(0)
        .saturating_add(u64::from(limit));
    u128::from(reach.max(1)) * u128::from(project_traces)
        < u128::from(matches) * u128::from(matches)
}

/// Whether the query's score range is its only condition: no other filter, term, search or
/// time range narrows the traces.
pub fn score_range_alone(query: &crate::TraceQuery) -> bool {
    query.score.is_some()
        && narrows_nothing(&crate::TraceQuery {
            score: None,
            ..query.clone()
        })
}

/// Whether the query's search is its only condition: no filter, term, score range or time
/// range narrows the traces.
pub fn search_alone(query: &crate::TraceQuery) -> bool {
    query
        .search
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        && narrows_nothing(&crate::TraceQuery {
            search: None,
            ..query.clone()
        })
}

/// Whether no filter, term, search, score range or time range of `query` narrows the traces.
fn narrows_nothing(query: &crate::TraceQuery) -> bool {
    let split = crate::trace_index::SplitQuery::of(query);
    split.terms.is_empty()
        && !split.needs_trace_rows(query)
        && query.from_timestamp.is_none()
        && query.to_timestamp.is_none()
}

/// The count of the scores in a score range (a range of the index on `(project_id, name,
/// value)`): at least the traces they name, and as many when each trace has one score of the
/// name in the range; the estimate of [`score_range_alone`] lists.
pub fn score_range_count(dialect: Dialect, project_id: &str, range: &crate::ScoreRange) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT count(*) FROM scores s WHERE s.project_id = ",
    );
    sql.bind(project_id);
    in_score_range(&mut sql, range);
    sql
}

/// The first [`SCORE_RANGE_EXACT_UP_TO`] + 1 scores of a range in value order (an index
/// range): how many there are, `n`, and the greatest of their values, `v`.
pub fn score_range_sample(dialect: Dialect, project_id: &str, range: &crate::ScoreRange) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT count(*) AS n, max(x.v) AS v FROM (SELECT s.value AS v FROM scores s \
         WHERE s.project_id = ",
    );
    sql.bind(project_id);
    in_score_range(&mut sql, range);
    sql.push(" ORDER BY s.value LIMIT ")
        .bind(SCORE_RANGE_EXACT_UP_TO as i64 + 1)
        .push(") x");
    sql
}

/// The least and the greatest value of a range's scores, `lo` and `hi` (one index seek
/// each).
pub fn score_range_bounds(dialect: Dialect, project_id: &str, range: &crate::ScoreRange) -> Sql {
    let mut sql = Sql::new(dialect, "SELECT ");
    for (separator, aggregate, alias) in [("", "min", "lo"), (", ", "max", "hi")] {
        sql.push(&format!(
            "{separator}(SELECT {aggregate}(s.value) FROM scores s WHERE s.project_id = "
        ))
        .bind(project_id);
        in_score_range(&mut sql, range);
        sql.push(&format!(") AS {alias}"));
    }
    sql
}

/// How many scores a range holds, estimated from its first `sampled` scores in value order
/// (the greatest of them `last`) and its least and greatest values, as if the values were
/// spread evenly: `None` when they are not spread (the sample's values all equal the least),
/// so the scores must be counted.
pub fn score_range_estimate(sampled: u64, last: f64, lo: f64, hi: f64) -> Option<u64> {
    let (sample_width, width) = (last - lo, hi - lo);
    if !(sample_width > 0.0 && width.is_finite() && width >= sample_width) {
        return None;
    }
    let estimate = (sampled as f64 * width / sample_width).round();
    Some((estimate as u64).max(sampled))
}

/// ` AND s.name = … AND s.value >= min AND s.value <= max`: the score `s` is in the range.
fn in_score_range(sql: &mut Sql, range: &crate::ScoreRange) {
    sql.push(" AND s.name = ").bind(range.name.as_str());
    if let Some(min) = range.min {
        sql.push(" AND s.value >= ").bind(min);
    }
    if let Some(max) = range.max {
        sql.push(" AND s.value <= ").bind(max);
    }
}

/// Traces with a score of the range's name and a value in it, through the index on
/// `(project_id, name, value)`; `id_expr` is the trace id tested.
pub fn score_range_condition(
    dialect: Dialect,
    project_id: &str,
    range: &crate::ScoreRange,
    id_expr: &str,
) -> Sql {
    let mut condition = Sql::new(
        dialect,
        &format!("{id_expr} IN (SELECT s.trace_id FROM scores s WHERE s.project_id = "),
    );
    condition.bind(project_id);
    in_score_range(&mut condition, range);
    condition.push(")");
    condition
}

/// Traces `t` with a score of the range's name and a value in it, probed per trace through
/// the index on `(project_id, trace_id)`: for a list that walks the traces in time order
/// and meets a match every few traces, cheaper than gathering every match first.
pub fn score_range_probe(dialect: Dialect, project_id: &str, range: &crate::ScoreRange) -> Sql {
    let mut condition = Sql::new(
        dialect,
        "EXISTS (SELECT 1 FROM scores s WHERE s.project_id = ",
    );
    condition.bind(project_id).push(" AND s.trace_id = t.id");
    in_score_range(&mut condition, range);
    condition.push(")");
    condition
}

/// An exact trace id, or a case-insensitive (ASCII) substring of the input or output, or of
/// a searched metadata key or value, of the trace or of one of its observations: a scan
/// (SQLite's search, and PostgreSQL's for search text without words).
pub fn substring_search(dialect: Dialect, search: &str) -> Sql {
    let pattern = format!("%{}%", super::like_escape(search));
    let mut condition = Sql::new(dialect, "(t.id = ");
    condition.bind(search);
    for column in ["t.input", "t.output"] {
        condition
            .push(" OR ")
            .like(&dialect.payload(column), pattern.clone(), false);
    }
    condition.push(" OR ");
    metadata_substring(&mut condition, "t.metadata", &pattern);
    condition.push(
        " OR EXISTS (SELECT 1 FROM observations o2 WHERE o2.project_id = t.project_id \
         AND o2.trace_id = t.id AND (",
    );
    condition
        .like(&dialect.payload("o2.input"), pattern.clone(), false)
        .push(" OR ")
        .like(&dialect.payload("o2.output"), pattern.clone(), false)
        .push(" OR ");
    metadata_substring(&mut condition, "o2.metadata", &pattern);
    condition.push(")))");
    condition
}

/// Whether a searched key or value of the metadata column `column` holds `pattern`.
fn metadata_substring(condition: &mut Sql, column: &str, pattern: &str) {
    let dialect = condition.dialect();
    let shared: Vec<String> = crate::search::unsearched_metadata_keys()
        .map(|key| format!("'{key}'"))
        .collect();
    condition.push(&format!(
        "EXISTS (SELECT 1 FROM {} WHERE m.key NOT IN ({}) AND (",
        dialect.json_entries(column, "m"),
        shared.join(", ")
    ));
    condition
        .like("m.key", pattern.to_owned(), false)
        .push(" OR ")
        .like("m.value", pattern.to_owned(), false)
        .push("))");
}

/// The head of a traces-list statement reading `what`: from the index table of `driver`
/// joined to the traces in the index's order (SQLite's `CROSS JOIN` keeps the index table
/// outer), with the driver's conditions and time range, or from the traces alone. The
/// trace conditions follow.
pub fn trace_source(
    dialect: Dialect,
    project_id: &str,
    query: &crate::TraceQuery,
    driver: Option<&IndexedTerm>,
    what: &str,
) -> Sql {
    let Some(driver) = driver else {
        return Sql::new(dialect, &format!("SELECT {what} FROM traces t WHERE "));
    };
    let (source, mut source_conditions) = driver_source(dialect, project_id, driver);
    index_time_range(&mut source_conditions, query);
    let join = left_outer_join(dialect);
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT {what} FROM {source} {join} traces t \
             ON t.project_id = d.project_id AND t.id = d.trace_id WHERE "
        ),
    );
    sql.append(&source_conditions).push(" AND ");
    sql
}

/// The count of a traces list the index tables answer alone: the driver's index rows of
/// the time range that every other term's probe finds.
pub fn index_count(
    dialect: Dialect,
    project_id: &str,
    query: &crate::TraceQuery,
    terms: &[IndexedTerm],
    driver: &IndexedTerm,
) -> Sql {
    let mut count = index_rows(dialect, project_id, query, driver, "count(*)");
    for term in terms.iter().filter(|term| *term != driver) {
        count.and(term_probe(dialect, project_id, term, "d.trace_id", "d.ts"));
    }
    count
}

/// Whether the index rows of `term` are one range in `(ts, trace_id)` order: a tag, or a
/// metadata key with one value.
pub fn is_one_range(term: &IndexedTerm) -> bool {
    match term {
        IndexedTerm::Tag(_) => true,
        IndexedTerm::Metadata { values, .. } => values.len() == 1,
    }
}

/// The exact number of traces that have an index row of every one of `terms` (each
/// [`is_one_range`]) in the query's time range: the terms' rows intersected in their shared
/// `(ts, trace_id)` order. SQLite runs `INTERSECT … ORDER BY` over such ranges as a merge,
/// reading each term's rows once, where [`index_count`] seeks the other terms' rows once
/// for each row of its driver.
pub fn index_intersection_count(
    dialect: Dialect,
    project_id: &str,
    query: &crate::TraceQuery,
    terms: &[IndexedTerm],
) -> Sql {
    let mut count = Sql::new(dialect, "SELECT count(*) FROM (");
    for (index, term) in terms.iter().enumerate() {
        if index > 0 {
            count.push(" INTERSECT ");
        }
        count.append(&index_rows(
            dialect,
            project_id,
            query,
            term,
            "d.ts, d.trace_id",
        ));
    }
    count.push(" ORDER BY 1, 2) i");
    count
}

/// How many index rows `term` has in the query's time range, counting no further than
/// `cap`.
pub fn index_rows_capped(
    dialect: Dialect,
    project_id: &str,
    query: &crate::TraceQuery,
    term: &IndexedTerm,
    cap: u64,
) -> Sql {
    let mut count = Sql::new(dialect, "SELECT count(*) FROM (");
    count.append(&index_rows(dialect, project_id, query, term, "1"));
    count
        .push(" LIMIT ")
        .bind(i64::try_from(cap).unwrap_or(i64::MAX))
        .push(") c");
    count
}

/// `SELECT {columns}` of the index rows of `term` in the query's time range, as `d`.
fn index_rows(
    dialect: Dialect,
    project_id: &str,
    query: &crate::TraceQuery,
    term: &IndexedTerm,
    columns: &str,
) -> Sql {
    let (source, conditions) = driver_source(dialect, project_id, term);
    let mut rows = Sql::new(dialect, &format!("SELECT {columns} FROM {source} WHERE "));
    rows.append(&conditions);
    index_time_range(&mut rows, query);
    rows
}

/// `EXISTS` of an index row of `term` for the trace whose id and sort key are `id_expr` and
/// `ts_expr` (a primary-key lookup).
pub fn term_probe(
    dialect: Dialect,
    project_id: &str,
    term: &IndexedTerm,
    id_expr: &str,
    ts_expr: &str,
) -> Sql {
    let mut probe = Sql::new(dialect, "");
    match term {
        IndexedTerm::Tag(tag) => {
            probe
                .push("EXISTS (SELECT 1 FROM trace_tags g WHERE g.project_id = ")
                .bind(project_id)
                .push(" AND g.tag = ")
                .bind(tag.as_str());
        }
        IndexedTerm::Metadata { key, values } => {
            probe
                .push("EXISTS (SELECT 1 FROM trace_metadata g WHERE g.project_id = ")
                .bind(project_id)
                .push(" AND g.key = ")
                .bind(key.as_str());
            metadata_values(&mut probe, "g.value", values);
        }
    }
    probe.push(&format!(
        " AND g.ts = {ts_expr} AND g.trace_id = {id_expr})"
    ));
    probe
}

fn metadata_values(sql: &mut Sql, expr: &str, values: &[String]) {
    match values {
        [one] => {
            sql.push(&format!(" AND {expr} = ")).bind(one.as_str());
        }
        many => {
            sql.push(" AND ").in_list(expr, many.to_vec(), false);
        }
    }
}

/// `FROM <index table> d` and the conditions that select `term`'s rows of the project.
pub fn driver_source(
    dialect: Dialect,
    project_id: &str,
    term: &IndexedTerm,
) -> (&'static str, Sql) {
    let mut conditions = Sql::new(dialect, "d.project_id = ");
    conditions.bind(project_id);
    match term {
        IndexedTerm::Tag(tag) => {
            conditions.push(" AND d.tag = ").bind(tag.as_str());
            ("trace_tags d", conditions)
        }
        IndexedTerm::Metadata { key, values } => {
            conditions.push(" AND d.key = ").bind(key.as_str());
            metadata_values(&mut conditions, "d.value", values);
            ("trace_metadata d", conditions)
        }
    }
}

/// The query's time range on the index rows' sort key (NULL timestamps never match).
pub fn index_time_range(sql: &mut Sql, query: &crate::TraceQuery) {
    if let Some(from) = query.from_timestamp {
        sql.push(" AND d.ts >= ").bind(from);
    }
    if let Some(to) = query.to_timestamp {
        sql.push(" AND d.ts < ")
            .bind(to)
            .push(" AND d.ts > ")
            .bind(NULL_TIMESTAMP_KEY);
    }
}

/// The statements of one trace with its observations and scores.
pub struct TraceStatements {
    pub trace: Sql,
    /// Ordered by start time, those without one last.
    pub observations: Sql,
    /// Ordered by timestamp.
    pub scores: Sql,
}

/// Whether a trace's observations are read with their input, output and metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payloads {
    With,
    /// Input and output read as `None`, metadata as empty: the tree of a trace page.
    Without,
}

/// One trace, its observations (with or without their payloads) and its scores.
pub fn trace_by_id(
    dialect: Dialect,
    project_id: &str,
    trace_id: &str,
    payloads: Payloads,
) -> TraceStatements {
    let mut trace = Sql::new(
        dialect,
        &format!(
            "SELECT {} FROM traces t WHERE t.project_id = ",
            TRACE_COLUMNS.select(dialect)
        ),
    );
    trace.bind(project_id).push(" AND t.id = ").bind(trace_id);
    let starts_last = match dialect {
        Dialect::Sqlite => "o.start_time IS NULL, o.start_time",
        Dialect::Postgres => "o.start_time ASC NULLS LAST",
    };
    let observation_columns = match payloads {
        Payloads::With => &OBSERVATION_COLUMNS,
        Payloads::Without => &OBSERVATION_TREE_COLUMNS,
    };
    let mut observations = observations_where(dialect, observation_columns);
    observations
        .bind(project_id)
        .push(" AND o.trace_id = ")
        .bind(trace_id)
        .push(&format!(" ORDER BY {starts_last}, o.id"));
    let mut scores = scores_where(dialect);
    scores
        .bind(project_id)
        .push(" AND s.trace_id = ")
        .bind(trace_id)
        .push(&format!(
            " ORDER BY s.timestamp {}, s.id",
            dialect.order(Direction::Asc)
        ));
    TraceStatements {
        trace,
        observations,
        scores,
    }
}

/// `SELECT <observation with trace context> … WHERE o.project_id = `, to bind.
fn observations_where(dialect: Dialect, columns: &'static ReadColumns) -> Sql {
    Sql::new(
        dialect,
        &format!(
            "SELECT {}, {} {OBSERVATION_FROM} WHERE o.project_id = ",
            columns.select(dialect),
            OBSERVATION_TRACE_CONTEXT.of(dialect)
        ),
    )
}

/// `SELECT <score with trace context> … WHERE s.project_id = `, to bind.
fn scores_where(dialect: Dialect) -> Sql {
    Sql::new(
        dialect,
        &format!(
            "SELECT {}, {} {SCORE_FROM} WHERE s.project_id = ",
            SCORE_COLUMNS.select(dialect),
            SCORE_TRACE_CONTEXT.of(dialect)
        ),
    )
}

/// The statements of the fields a page of traces derives from its observations and scores:
/// latency, total cost, level, and their ids.
pub struct DerivedStatements {
    pub observations: Sql,
    pub scores: Sql,
}

pub fn derived_statements(
    dialect: Dialect,
    project_id: &str,
    views: &[TraceView],
) -> DerivedStatements {
    let ids: Vec<String> = views.iter().map(|v| v.record.id.clone()).collect();
    let mut observations = Sql::new(
        dialect,
        "SELECT o.trace_id, o.id, o.start_time, o.end_time, o.total_cost, o.level \
         FROM observations o WHERE o.project_id = ",
    );
    observations
        .bind(project_id)
        .push(" AND ")
        .in_list("o.trace_id", ids.clone(), false);
    let mut scores = Sql::new(
        dialect,
        "SELECT s.trace_id, s.id, s.timestamp FROM scores s WHERE s.project_id = ",
    );
    scores
        .bind(project_id)
        .push(" AND ")
        .in_list("s.trace_id", ids, false);
    DerivedStatements {
        observations,
        scores,
    }
}

/// What a trace's derived fields need of one observation.
pub struct ObservationSummary {
    trace_id: String,
    id: String,
    start: Option<Micros>,
    end: Option<Micros>,
    cost: Option<f64>,
    level: Option<String>,
}

/// A row of [`DerivedStatements::observations`].
pub fn decode_observation_summary(row: &impl RowAccess) -> Result<ObservationSummary> {
    Ok(ObservationSummary {
        trace_id: row.text("trace_id")?,
        id: row.text("id")?,
        start: row.opt_int("start_time")?,
        end: row.opt_int("end_time")?,
        cost: row.opt_float("total_cost")?,
        level: row.opt_text("level")?,
    })
}

/// A row of [`DerivedStatements::scores`]: trace id, id and timestamp.
pub fn decode_score_summary(row: &impl RowAccess) -> Result<(String, String, Option<Micros>)> {
    Ok((
        row.text("trace_id")?,
        row.text("id")?,
        row.opt_int("timestamp")?,
    ))
}

/// Per-trace accumulator of the derived fields.
#[derive(Default)]
struct Derived {
    min_start: Option<Micros>,
    max_end: Option<Micros>,
    total_cost: f64,
    /// The worst level rank seen; `None` without observations (the level is then DEFAULT).
    level_rank: Option<i64>,
    /// (start time, id), sorted before use (observations without a start time first).
    observations: Vec<(Micros, String)>,
    /// (timestamp, id), sorted before use.
    scores: Vec<(Option<Micros>, String)>,
}

/// Fills latency, total cost, level, observation and score ids of `views` from the rows of
/// [`derived_statements`].
pub fn apply_derived(
    views: &mut [TraceView],
    observations: Vec<ObservationSummary>,
    scores: Vec<(String, String, Option<Micros>)>,
) {
    let mut derived: std::collections::HashMap<String, Derived> = std::collections::HashMap::new();
    for o in observations {
        let entry = derived.entry(o.trace_id).or_default();
        if let Some(start) = o.start {
            let end = o.end.map_or(start, |end| end.max(start));
            entry.min_start = Some(entry.min_start.map_or(start, |m| m.min(start)));
            entry.max_end = Some(entry.max_end.map_or(end, |m| m.max(end)));
        }
        entry.total_cost += o.cost.unwrap_or(0.0);
        let rank = o.level.as_deref().and_then(Level::parse).map_or(1, rank_of);
        entry.level_rank = Some(entry.level_rank.map_or(rank, |worst| worst.max(rank)));
        entry.observations.push((o.start.unwrap_or(i64::MIN), o.id));
    }
    for (trace_id, id, timestamp) in scores {
        derived
            .entry(trace_id)
            .or_default()
            .scores
            .push((timestamp, id));
    }
    for view in views.iter_mut() {
        let Some(entry) = derived.remove(&view.record.id) else {
            continue;
        };
        view.latency_seconds = match (entry.min_start, entry.max_end) {
            (Some(start), Some(end)) => Some((end - start) as f64 / 1_000_000.0),
            _ => None,
        };
        view.total_cost = entry.total_cost;
        view.level = entry.level_rank.map_or(Level::Default, level_of_rank);
        let mut observations = entry.observations;
        observations.sort_unstable();
        view.observation_ids = observations.into_iter().map(|(_, id)| id).collect();
        let mut scores = entry.scores;
        scores.sort_unstable();
        view.score_ids = scores.into_iter().map(|(_, id)| id).collect();
    }
}

// --- observations ---

/// A page of observations: offset or keyset (`after`), newest first. The select reads one
/// row more than the page, which tells whether there is a next page.
pub fn observation_list(
    dialect: Dialect,
    project_id: &str,
    query: &ObservationQuery,
) -> Result<ListStatements> {
    let observation_columns = OBSERVATION_COLUMNS.select(dialect);
    let observation_trace_context = OBSERVATION_TRACE_CONTEXT.of(dialect);
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut conditions = Sql::new(dialect, "o.project_id = ");
    conditions.bind(project_id);
    if let Some(observation_type) = query.observation_type {
        let mut condition = Sql::new(dialect, "o.type = ");
        condition.bind(observation_type.as_str());
        conditions.and(condition);
    }
    equals(&mut conditions, "o.name", &query.name);
    equals(&mut conditions, "t.user_id", &query.user_id);
    equals(&mut conditions, "t.session_id", &query.session_id);
    if let Some(level) = query.level {
        let mut condition = Sql::new(dialect, &format!("{} = ", OBSERVATION_LEVEL.of(dialect)));
        condition.bind(rank_of(level));
        conditions.and(condition);
    }
    equals(&mut conditions, "o.trace_id", &query.trace_id);
    equals(&mut conditions, "o.version", &query.version);
    equals(
        &mut conditions,
        "o.parent_observation_id",
        &query.parent_observation_id,
    );
    match query.is_root {
        Some(true) => {
            conditions.and(Sql::new(
                dialect,
                "(o.parent_observation_id IS NULL OR o.parent_observation_id = '')",
            ));
        }
        Some(false) => {
            conditions.and(Sql::new(
                dialect,
                "(o.parent_observation_id IS NOT NULL AND o.parent_observation_id != '')",
            ));
        }
        None => {}
    }
    any_of(&mut conditions, "o.environment", &query.environments);
    time_range(
        &mut conditions,
        "o.start_time",
        query.from_start_time,
        query.to_start_time,
    );
    compile_filters(&mut conditions, &query.filters, OBSERVATION_FILTER_COLUMNS)?;

    let unfiltered = query.observation_type.is_none()
        && query.name.is_none()
        && query.user_id.is_none()
        && query.session_id.is_none()
        && query.level.is_none()
        && query.trace_id.is_none()
        && query.version.is_none()
        && query.parent_observation_id.is_none()
        && query.is_root.is_none()
        && query.environments.is_empty()
        && query.from_start_time.is_none()
        && query.to_start_time.is_none()
        && query.filters.is_empty();
    let total = if unfiltered {
        Total::ProjectObservations
    } else {
        let needs_trace = conditions.text.contains("t.");
        let mut count_sql = Sql::new(
            dialect,
            if needs_trace {
                "SELECT count(*) FROM observations o LEFT JOIN traces t \
                 ON t.project_id = o.project_id AND t.id = o.trace_id WHERE "
            } else {
                "SELECT count(*) FROM observations o WHERE "
            },
        );
        count_sql.append(&conditions);
        Total::Count(count_sql)
    };

    let mut select = Sql::new(
        dialect,
        &format!(
            "SELECT {observation_columns}, {observation_trace_context} {OBSERVATION_FROM} WHERE "
        ),
    );
    select.append(&conditions);
    if let Some(cursor) = &query.after {
        select
            .push(" AND (o.sort_time, o.id) < (")
            .bind(cursor.time)
            .push(", ")
            .bind(cursor.id.as_str())
            .push(")");
    }
    if query.after.is_some() && query.order_by.is_some() {
        return Err(Error::invalid(
            "orderBy",
            "a cursor pages in the default order only",
        ));
    }
    let order = sorted_by(
        dialect,
        query.order_by.as_ref(),
        OBSERVATION_FILTER_COLUMNS,
        OBSERVATION_SORT_COLUMNS,
        "o.id",
        "o.sort_time DESC, o.id DESC",
    )?;
    select.push(&format!(" ORDER BY {order} LIMIT "));
    select.bind(i64::from(limit) + 1);
    if query.after.is_none() {
        select.push(" OFFSET ").bind(offset);
    }
    Ok(ListStatements {
        total,
        select,
        page,
        limit,
    })
}

/// The page of observations the select of [`observation_list`] returned, with the cursor
/// of the next page when there is one.
pub fn observation_page(
    list: &ListStatements,
    mut items: Vec<ObservationView>,
    total_items: u64,
) -> Page<ObservationView> {
    let limit = list.limit as usize;
    let has_more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if has_more {
        items.last().map(|last| Cursor {
            time: last.record.start_time.unwrap_or(i64::MIN),
            id: last.record.id.clone(),
        })
    } else {
        None
    };
    Page {
        next_cursor,
        ..list.page_of(items, total_items)
    }
}

/// One observation with its trace context.
pub fn observation_by_id(dialect: Dialect, project_id: &str, observation_id: &str) -> Sql {
    let mut select = observations_where(dialect, &OBSERVATION_COLUMNS);
    select
        .bind(project_id)
        .push(" AND o.id = ")
        .bind(observation_id);
    select
}

// --- scores ---

/// A page of scores, newest first.
///
/// SQLite counts and orders the scores alone when no condition reads their trace (from an
/// index when one covers the conditions, `scores_by_name_value` for a name and a value
/// range) and joins the traces of the page's rows only; PostgreSQL's planner does that from
/// the plain join.
pub fn score_list(
    dialect: Dialect,
    project_id: &str,
    query: &ScoreQuery,
) -> Result<ListStatements> {
    let score_columns = SCORE_COLUMNS.select(dialect);
    let score_trace_context = SCORE_TRACE_CONTEXT.of(dialect);
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut conditions = Sql::new(dialect, "s.project_id = ");
    conditions.bind(project_id);
    equals(&mut conditions, "t.user_id", &query.user_id);
    equals(&mut conditions, "s.name", &query.name);
    if let Some(data_type) = query.data_type {
        let mut condition = Sql::new(dialect, "s.data_type = ");
        condition.bind(data_type.as_str());
        conditions.and(condition);
    }
    if let Some(source) = query.source {
        let mut condition = Sql::new(dialect, "s.source = ");
        condition.bind(source.as_str());
        conditions.and(condition);
    }
    equals(&mut conditions, "s.config_id", &query.config_id);
    equals(&mut conditions, "s.queue_id", &query.queue_id);
    all_tags(&mut conditions, JOINED_TAGS.of(dialect), &query.trace_tags);
    any_of(&mut conditions, "s.environment", &query.environments);
    time_range(
        &mut conditions,
        "s.timestamp",
        query.from_timestamp,
        query.to_timestamp,
    );
    if let Some((operator, value)) = &query.value {
        let operator = match operator.trim() {
            op @ ("<" | ">" | "<=" | ">=" | "=") => op,
            "!=" => dialect.is_distinct_from(),
            other => {
                return Err(Error::invalid(
                    "operator",
                    format!("unknown operator {other:?} (expected one of <, >, <=, >=, !=, =)"),
                ))
            }
        };
        if !value.is_finite() {
            return Err(Error::invalid("value", "not a finite number"));
        }
        let mut condition = Sql::new(dialect, &format!("s.value {operator} "));
        condition.bind(*value);
        conditions.and(condition);
    }
    any_of(&mut conditions, "s.id", &query.score_ids);
    equals(&mut conditions, "s.session_id", &query.session_id);
    equals(&mut conditions, "s.trace_id", &query.trace_id);
    any_of(&mut conditions, "s.observation_id", &query.observation_ids);
    equals(&mut conditions, "s.dataset_run_id", &query.dataset_run_id);
    compile_filters(&mut conditions, &query.filters, SCORE_FILTER_COLUMNS)?;

    let order = sorted_by(
        dialect,
        query.order_by.as_ref(),
        SCORE_FILTER_COLUMNS,
        SCORE_SORT_COLUMNS,
        "s.id",
        &format!("s.timestamp {}, s.id DESC", dialect.order(Direction::Desc)),
    )?;
    let (count_sql, select) = match dialect {
        Dialect::Sqlite => {
            let needs_trace = query.user_id.is_some()
                || !query.trace_tags.is_empty()
                || query
                    .filters
                    .iter()
                    .any(|f| SCORE_FILTER_COLUMNS_OF_TRACE.contains(&f.column.as_str()));
            let from = if needs_trace {
                SCORE_FROM
            } else {
                "FROM scores s"
            };
            let mut count_sql = Sql::new(dialect, &format!("SELECT count(*) {from} WHERE "));
            count_sql.append(&conditions);
            let mut select = Sql::new(
                dialect,
                &format!(
                    "SELECT {score_columns}, {score_trace_context} {SCORE_FROM} \
                     WHERE s.project_id = "
                ),
            );
            select
                .bind(project_id)
                .push(&format!(" AND s.id IN (SELECT s.id {from} WHERE "))
                .append(&conditions)
                .push(&format!(" ORDER BY {order} LIMIT "))
                .bind(i64::from(limit))
                .push(" OFFSET ")
                .bind(offset)
                .push(&format!(") ORDER BY {order}"));
            (count_sql, select)
        }
        Dialect::Postgres => {
            let mut count_sql = Sql::new(dialect, &format!("SELECT count(*) {SCORE_FROM} WHERE "));
            count_sql.append(&conditions);
            let mut select = Sql::new(
                dialect,
                &format!("SELECT {score_columns}, {score_trace_context} {SCORE_FROM} WHERE "),
            );
            select
                .append(&conditions)
                .push(&format!(" ORDER BY {order} LIMIT "))
                .bind(i64::from(limit))
                .push(" OFFSET ")
                .bind(offset);
            (count_sql, select)
        }
    };
    Ok(ListStatements {
        total: Total::Count(count_sql),
        select,
        page,
        limit,
    })
}

/// One score with its trace context.
pub fn score_by_id(dialect: Dialect, project_id: &str, score_id: &str) -> Sql {
    let mut select = scores_where(dialect);
    select.bind(project_id).push(" AND s.id = ").bind(score_id);
    select
}

/// The tags of the trace `t` joined to a score (`[]` without a trace).
const JOINED_TAGS: Expr =
    Expr::per_dialect("coalesce(t.tags, '[]')", "coalesce(t.tags, '[]'::jsonb)");

// --- sessions ---

/// The environment of a session: that of its earliest trace (SQLite's bare column beside
/// `min()`).
const SESSION_ENVIRONMENT: Expr = Expr::per_dialect(
    "t.environment",
    "(array_agg(t.environment ORDER BY t.timestamp ASC NULLS LAST, t.id))[1]",
);

/// A page of sessions, the most recently started first.
pub fn session_list(dialect: Dialect, project_id: &str, query: &SessionQuery) -> ListStatements {
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut grouped = Sql::new(
        dialect,
        &format!(
            "SELECT t.session_id AS id, min(t.timestamp) AS created_at, \
             {} AS environment FROM traces t WHERE t.project_id = ",
            SESSION_ENVIRONMENT.of(dialect)
        ),
    );
    grouped.bind(project_id);
    grouped.push(" AND t.session_id IS NOT NULL AND t.session_id != ''");
    any_of(&mut grouped, "t.environment", &query.environments);
    grouped.push(&format!(
        " GROUP BY t.session_id HAVING {}",
        dialect.boolean(true)
    ));
    time_range(
        &mut grouped,
        "min(t.timestamp)",
        query.from_timestamp,
        query.to_timestamp,
    );
    let mut count_sql = Sql::new(dialect, "SELECT count(*) FROM (");
    count_sql.append(&grouped).push(") g");
    let mut select = Sql::new(dialect, "SELECT id, created_at, environment FROM (");
    select
        .append(&grouped)
        .push(&format!(
            ") g ORDER BY created_at {}, id DESC LIMIT ",
            dialect.order(Direction::Desc)
        ))
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    ListStatements {
        total: Total::Count(count_sql),
        select,
        page,
        limit,
    }
}

/// One session, and its traces in time order.
pub fn session_by_id(dialect: Dialect, project_id: &str, session_id: &str) -> (Sql, Sql) {
    let mut session = Sql::new(
        dialect,
        &format!(
            "SELECT t.session_id AS id, min(t.timestamp) AS created_at, \
             {} AS environment FROM traces t WHERE t.project_id = ",
            SESSION_ENVIRONMENT.of(dialect)
        ),
    );
    session
        .bind(project_id)
        .push(" AND t.session_id = ")
        .bind(session_id)
        .push(" GROUP BY t.session_id");
    let mut traces = Sql::new(
        dialect,
        &format!(
            "SELECT {} FROM traces t WHERE t.project_id = ",
            TRACE_COLUMNS.select(dialect)
        ),
    );
    traces
        .bind(project_id)
        .push(" AND t.session_id = ")
        .bind(session_id)
        .push(&format!(
            " ORDER BY t.timestamp {}, t.id",
            dialect.order(Direction::Asc)
        ));
    (session, traces)
}

/// A row of [`session_list`] or [`session_by_id`].
pub fn decode_session(row: &impl RowAccess) -> Result<SessionView> {
    Ok(SessionView {
        id: row.text("id")?,
        created_at: row.opt_int("created_at")?.unwrap_or(0),
        environment: row
            .opt_text("environment")?
            .unwrap_or_else(|| "default".to_owned()),
        traces: Vec::new(),
    })
}

/// The trace context an observation list reads beside each observation (alias `t`).
pub const OBSERVATION_TRACE_CONTEXT: Expr = Expr::per_dialect(
    "t.name AS trace_name, t.user_id AS trace_user_id, t.session_id AS trace_session_id, \
     t.tags AS trace_tags, t.release AS trace_release",
    "t.name AS trace_name, t.user_id AS trace_user_id, t.session_id AS trace_session_id, \
     t.tags::text AS trace_tags, t.release AS trace_release",
);

/// Observations with their trace, which may be missing.
pub const OBSERVATION_FROM: &str = "FROM observations o LEFT JOIN traces t \
     ON t.project_id = o.project_id AND t.id = o.trace_id";

/// The trace context a score list reads beside each score (alias `t`).
pub const SCORE_TRACE_CONTEXT: Expr = Expr::per_dialect(
    "t.user_id AS trace_user_id, t.tags AS trace_tags, t.environment AS trace_environment, \
     t.session_id AS trace_session_id",
    "t.user_id AS trace_user_id, t.tags::text AS trace_tags, \
     t.environment AS trace_environment, t.session_id AS trace_session_id",
);

/// Scores with their trace, which may be missing.
pub const SCORE_FROM: &str =
    "FROM scores s LEFT JOIN traces t ON t.project_id = s.project_id AND t.id = s.trace_id";

/// A trace row ([`super::rows::TRACE_COLUMNS`]) as a view; the derived fields are filled
/// in later.
pub fn decode_trace_view(row: &impl RowAccess) -> Result<TraceView> {
    let stored = decode_trace(row)?;
    Ok(TraceView {
        record: stored.record,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        latency_seconds: None,
        total_cost: 0.0,
        level: Level::Default,
        observation_ids: Vec::new(),
        score_ids: Vec::new(),
        observations: Vec::new(),
        scores: Vec::new(),
    })
}

/// An observation row followed by [`OBSERVATION_TRACE_CONTEXT`].
pub fn decode_observation_view(row: &impl RowAccess) -> Result<ObservationView> {
    let stored = decode_observation(row)?;
    Ok(ObservationView {
        record: stored.record,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        trace_name: row.opt_text("trace_name")?,
        user_id: row.opt_text("trace_user_id")?,
        session_id: row.opt_text("trace_session_id")?,
        tags: parse_tags(row.opt_text("trace_tags")?.as_deref())?,
        release: row.opt_text("trace_release")?,
    })
}

/// A score row followed by [`SCORE_TRACE_CONTEXT`].
pub fn decode_score_view(row: &impl RowAccess) -> Result<ScoreView> {
    let stored = decode_score(row)?;
    Ok(ScoreView {
        record: stored.record,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        trace_user_id: row.opt_text("trace_user_id")?,
        trace_tags: parse_tags(row.opt_text("trace_tags")?.as_deref())?,
        trace_environment: row.opt_text("trace_environment")?,
        trace_session_id: row.opt_text("trace_session_id")?,
    })
}

fn parse_tags(text: Option<&str>) -> Result<Vec<String>> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => decode_json(text, "traces.tags"),
    }
}

// --- daily metrics ---

/// The UTC day of a trace: `YYYY-MM-DD` on SQLite, days since the epoch on PostgreSQL.
const DAY_OF_TRACE: Expr = Expr::per_dialect(
    "strftime('%Y-%m-%d', t.timestamp / 1000000.0, 'unixepoch')",
    "floor(t.timestamp / 86400000000.0)::int8",
);

/// A day's observations, traces, cost and usage per model (`o` joined to `t`). PostgreSQL
/// sums costs over `numeric`, so the sum does not depend on row order (SQLite's `sum()`
/// compensates rounding errors too).
const USAGE_OF_DAY: Expr = Expr::per_dialect(
    "count(*) AS observations, count(DISTINCT t.id) AS traces, \
     coalesce(sum(o.total_cost), 0.0) AS cost, \
     CAST(total(o.usage_input) AS INTEGER) AS input_usage, \
     CAST(total(o.usage_output) AS INTEGER) AS output_usage, \
     CAST(total(o.usage_total) AS INTEGER) AS total_usage",
    "count(*) AS observations, count(DISTINCT t.id) AS traces, \
     coalesce(sum(o.total_cost::numeric), 0.0)::float8 AS cost, \
     coalesce(sum(o.usage_input), 0)::int8 AS input_usage, \
     coalesce(sum(o.usage_output), 0)::int8 AS output_usage, \
     coalesce(sum(o.usage_total), 0)::int8 AS total_usage",
);

/// The UTC day of a rollup row's hour `r.hour`, as [`DAY_OF_TRACE`] spells a day.
const DAY_OF_HOUR: Expr = Expr::per_dialect(
    "strftime('%Y-%m-%d', r.hour / 1000000, 'unixepoch')",
    "floor(r.hour / 86400000000.0)::int8",
);

/// The day's cost of the usage relation `x`: its rolled-up nano-USD and its raw rows' USD.
const COST_OF_RELATION: Expr = Expr::per_dialect(
    "(total(x.cost_nanos) / 1000000000.0 + total(x.cost)) AS cost",
    "(coalesce(sum(x.cost_nanos), 0)::float8 / 1000000000.0::float8 \
     + coalesce(sum(x.cost), 0.0)::float8) AS cost",
);

/// The statements of a page of daily metrics: the days (newest first) with their trace
/// counts, then the usage of those days per model; from the raw rows ([`metrics_list`]) or
/// from the rollups ([`metrics_from_rollups`]).
pub struct MetricsStatements {
    pub count: Sql,
    pub days: Sql,
    pub page: u32,
    pub limit: u32,
    conditions: Sql,
    /// From the rollups: the usage rows of the whole hours and of the partial ones, one
    /// relation (`(… UNION ALL …)`) of the raw usage statement's columns plus `cost_nanos`.
    rolled_usage: Option<Sql>,
}

/// A day as the statements read it: its date, and the key the usage statement matches.
pub enum DayKey {
    Date,
    Number(i64),
}

/// The conditions on the traces `t` of a daily metrics query, in `from..to`.
fn day_trace_conditions(
    dialect: Dialect,
    project_id: &str,
    query: &crate::MetricsQuery,
    from: Option<Micros>,
    to: Option<Micros>,
) -> Sql {
    let mut conditions = Sql::new(dialect, "t.project_id = ");
    conditions.bind(project_id);
    conditions.push(" AND t.timestamp IS NOT NULL");
    equals(&mut conditions, "t.name", &query.trace_name);
    equals(&mut conditions, "t.user_id", &query.user_id);
    all_tags(&mut conditions, "t.tags", &query.tags);
    any_of(&mut conditions, "t.environment", &query.environments);
    time_range(&mut conditions, "t.timestamp", from, to);
    conditions
}

/// The raw usage rows of the traces matching `conditions`, per day and model (the columns
/// [`MetricsStatements::decode_usage`] reads); the caller appends further conditions, then
/// [`USAGE_GROUPING`]. `more` adds columns (`, <expr> AS <name>`).
fn raw_usage(dialect: Dialect, conditions: &Sql, more: &str) -> Sql {
    let mut usage = Sql::new(
        dialect,
        &format!(
            "SELECT {} AS day, o.model AS model, {}{more} \
             FROM traces t JOIN observations o \
             ON o.project_id = t.project_id AND o.trace_id = t.id WHERE ",
            DAY_OF_TRACE.of(dialect),
            USAGE_OF_DAY.of(dialect)
        ),
    );
    usage.append(conditions);
    usage
}

/// The grouping of [`raw_usage`].
const USAGE_GROUPING: &str = " GROUP BY day, o.model";

pub fn metrics_list(
    dialect: Dialect,
    project_id: &str,
    query: &crate::MetricsQuery,
) -> MetricsStatements {
    let (page, limit, offset) = paging(query.page, query.limit);
    let day_of_trace = DAY_OF_TRACE.of(dialect);
    let conditions = day_trace_conditions(
        dialect,
        project_id,
        query,
        query.from_timestamp,
        query.to_timestamp,
    );
    let mut count = Sql::new(
        dialect,
        &format!("SELECT count(DISTINCT {day_of_trace}) FROM traces t WHERE "),
    );
    count.append(&conditions);
    let mut days = Sql::new(
        dialect,
        &format!("SELECT {day_of_trace} AS day, count(*) AS traces FROM traces t WHERE "),
    );
    days.append(&conditions)
        .push(" GROUP BY day ORDER BY day DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    MetricsStatements {
        count,
        days,
        page,
        limit,
        conditions,
        rolled_usage: None,
    }
}

/// The whole hours of a daily metrics range (`start..end`, either side open) that the
/// rollups answer, and its partial first and last hours (`from..to` each) that the raw rows
/// answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RolledRange {
    start: Option<Micros>,
    end: Option<Micros>,
    edges: Vec<(Micros, Micros)>,
}

impl RolledRange {
    /// `None` when the range `from..to` holds no whole hour.
    fn of(from: Option<Micros>, to: Option<Micros>) -> Option<Self> {
        use crate::rollups::HOUR_MICROS;
        let start = match from {
            None => None,
            Some(from) => Some(
                from.div_euclid(HOUR_MICROS)
                    .checked_add(i64::from(from.rem_euclid(HOUR_MICROS) != 0))?
                    .checked_mul(HOUR_MICROS)?,
            ),
        };
        let end = match to {
            None => None,
            Some(to) => Some(to.div_euclid(HOUR_MICROS).checked_mul(HOUR_MICROS)?),
        };
        if let (Some(start), Some(end)) = (start, end) {
            if start >= end {
                return None;
            }
        }
        let mut edges = Vec::new();
        if let (Some(from), Some(start)) = (from, start) {
            if from < start {
                edges.push((from, start));
            }
        }
        if let (Some(end), Some(to)) = (end, to) {
            if end < to {
                edges.push((end, to));
            }
        }
        Some(RolledRange { start, end, edges })
    }
}

/// The statements of a page of daily metrics from the rollups kept by the writers, when they
/// answer the query exactly: no user or tag filter (trace name and environment are
/// dimensions of `trace_rollups` and `trace_model_rollups`, whose `''` stands for both an
/// absent value and `""`, so a filter on `""` is declined), and a range holding a whole hour
/// (its partial first and last hours come from the raw rows). The days' trace counts come
/// from `trace_rollups`, their observations, cost and usage per model from
/// `trace_model_rollups`, each summed per UTC day of the hour. `None` for the raw path.
///
/// Costs: the rollups keep each trace's cost per model rounded to nano-USD, so a day's or a
/// model's cost is within a nano-USD per trace and model of the raw rows' float sum.
pub fn metrics_from_rollups(
    dialect: Dialect,
    project_id: &str,
    query: &crate::MetricsQuery,
) -> Option<MetricsStatements> {
    let empty_filter =
        query.trace_name.as_deref() == Some("") || query.environments.iter().any(String::is_empty);
    if query.user_id.is_some() || !query.tags.is_empty() || empty_filter {
        return None;
    }
    let range = RolledRange::of(query.from_timestamp, query.to_timestamp)?;
    let (page, limit, offset) = paging(query.page, query.limit);
    let rollup_rows = |table: &str, columns: &str| {
        let mut sql = Sql::new(
            dialect,
            &format!(
                "SELECT {} AS day, {columns} FROM {table} r WHERE r.project_id = ",
                DAY_OF_HOUR.of(dialect)
            ),
        );
        // Rows whose counts went back to 0 stay in the tables; they count nothing.
        sql.bind(project_id)
            .push(" AND r.trace_count <> 0 AND r.hour <> ")
            .bind(NO_HOUR);
        time_range(&mut sql, "r.hour", range.start, range.end);
        equals(&mut sql, "r.name", &query.trace_name);
        any_of(&mut sql, "r.environment", &query.environments);
        sql
    };
    let edge_conditions: Vec<Sql> = range
        .edges
        .iter()
        .map(|(from, to)| day_trace_conditions(dialect, project_id, query, Some(*from), Some(*to)))
        .collect();

    let mut traces = Sql::new(dialect, "(");
    traces.append(&rollup_rows("trace_rollups", "r.trace_count AS traces"));
    for conditions in &edge_conditions {
        traces.push(&format!(
            " UNION ALL SELECT {} AS day, 1 AS traces FROM traces t WHERE ",
            DAY_OF_TRACE.of(dialect)
        ));
        traces.append(conditions);
    }
    traces.push(") x");
    let sum = |column: &str| SUM_AS_INTEGER.of(dialect, column);
    let mut count = Sql::new(dialect, "SELECT count(*) FROM (SELECT x.day FROM ");
    count
        .append(&traces)
        .push(" GROUP BY x.day HAVING sum(x.traces) > 0) d");
    let mut days = Sql::new(
        dialect,
        &format!("SELECT x.day AS day, {} AS traces FROM ", sum("x.traces")),
    );
    days.append(&traces)
        .push(" GROUP BY x.day HAVING sum(x.traces) > 0 ORDER BY day DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);

    let mut usage = Sql::new(dialect, "(");
    usage.append(&rollup_rows(
        "trace_model_rollups",
        "r.model AS model, r.observation_count AS observations, r.trace_count AS traces, \
         CAST(0.0 AS DOUBLE PRECISION) AS cost, r.input_tokens AS input_usage, \
         r.output_tokens AS output_usage, r.total_tokens AS total_usage, \
         r.cost_nanos AS cost_nanos",
    ));
    for conditions in &edge_conditions {
        let mut raw = raw_usage(dialect, conditions, ", 0 AS cost_nanos");
        raw.push(USAGE_GROUPING);
        usage.push(" UNION ALL ").append(&raw);
    }
    usage.push(") x");
    Some(MetricsStatements {
        count,
        days,
        page,
        limit,
        conditions: Sql::new(dialect, ""),
        rolled_usage: Some(usage),
    })
}

impl MetricsStatements {
    /// A row of the days statement: the day's key and its metrics without usage yet.
    pub fn decode_day(&self, row: &impl RowAccess) -> Result<(DayKey, crate::DailyMetrics)> {
        let (key, date) = match self.conditions.dialect() {
            Dialect::Sqlite => (DayKey::Date, row.opt_text("day")?.unwrap_or_default()),
            Dialect::Postgres => {
                let day = row.int("day")?;
                (DayKey::Number(day), date_of_day(day))
            }
        };
        let metrics = crate::DailyMetrics {
            date,
            count_traces: u64::try_from(row.int("traces")?).unwrap_or(0),
            count_observations: 0,
            total_cost: 0.0,
            usage: Vec::new(),
        };
        Ok((key, metrics))
    }

    /// The usage per day and model of `days` (as [`Self::decode_day`] read them).
    pub fn usage(&self, days: &[(DayKey, crate::DailyMetrics)]) -> Sql {
        let dialect = self.conditions.dialect();
        let (mut usage, day): (Sql, &str) = match &self.rolled_usage {
            None => {
                let mut usage = raw_usage(dialect, &self.conditions, "");
                usage.push(" AND ");
                (usage, DAY_OF_TRACE.of(dialect))
            }
            Some(relation) => {
                let sum = |column: &str| SUM_AS_INTEGER.of(dialect, column);
                let mut usage = Sql::new(
                    dialect,
                    &format!(
                        "SELECT x.day AS day, x.model AS model, {} AS observations, \
                         {} AS traces, {}, {} AS input_usage, {} AS output_usage, \
                         {} AS total_usage FROM ",
                        sum("x.observations"),
                        sum("x.traces"),
                        COST_OF_RELATION.of(dialect),
                        sum("x.input_usage"),
                        sum("x.output_usage"),
                        sum("x.total_usage"),
                    ),
                );
                usage.append(relation).push(" WHERE ");
                (usage, "x.day")
            }
        };
        match dialect {
            Dialect::Sqlite => {
                let dates: Vec<String> = days.iter().map(|(_, day)| day.date.clone()).collect();
                usage.in_list(day, dates, false)
            }
            Dialect::Postgres => {
                let numbers: Vec<i64> = days
                    .iter()
                    .filter_map(|(key, _)| match key {
                        DayKey::Number(number) => Some(*number),
                        DayKey::Date => None,
                    })
                    .collect();
                usage.in_list(day, numbers, false)
            }
        };
        match self.rolled_usage {
            None => usage.push(" GROUP BY day, o.model ORDER BY day, o.model"),
            Some(_) => usage.push(" GROUP BY x.day, x.model ORDER BY x.day, x.model"),
        };
        usage
    }

    /// Adds the rows of [`Self::usage`] to their days and returns the page.
    pub fn page(
        &self,
        days: Vec<(DayKey, crate::DailyMetrics)>,
        usage_rows: Vec<(String, Option<String>, crate::ModelUsage)>,
        total_items: u64,
    ) -> Page<crate::DailyMetrics> {
        let mut per_day: std::collections::BTreeMap<String, (u64, f64, Vec<crate::ModelUsage>)> =
            std::collections::BTreeMap::new();
        for (date, model, usage) in usage_rows {
            let entry = per_day.entry(date).or_default();
            entry.0 += usage.count_observations;
            entry.1 += usage.total_cost;
            if let Some(model) = model.filter(|m| !m.is_empty()) {
                entry.2.push(crate::ModelUsage { model, ..usage });
            }
        }
        let mut items: Vec<crate::DailyMetrics> = days.into_iter().map(|(_, day)| day).collect();
        for day in &mut items {
            if let Some((observations, cost, usage)) = per_day.remove(&day.date) {
                day.count_observations = observations;
                day.total_cost = cost;
                day.usage = usage;
            }
        }
        Page::counted(items, self.page, self.limit, total_items)
    }

    /// A row of [`Self::usage`]: the day's date, the model and its usage.
    pub fn decode_usage(
        &self,
        row: &impl RowAccess,
    ) -> Result<(String, Option<String>, crate::ModelUsage)> {
        let date = match self.conditions.dialect() {
            Dialect::Sqlite => row.opt_text("day")?.unwrap_or_default(),
            Dialect::Postgres => date_of_day(row.int("day")?),
        };
        let model = row.opt_text("model")?;
        let observations = u64::try_from(row.int("observations")?).unwrap_or(0);
        let traces = u64::try_from(row.int("traces")?).unwrap_or(0);
        let total_cost = row.float("cost")?;
        let usage = crate::ModelUsage {
            model: String::new(),
            input_usage: row.int("input_usage")?,
            output_usage: row.int("output_usage")?,
            total_usage: row.int("total_usage")?,
            count_traces: traces,
            count_observations: observations,
            total_cost,
        };
        Ok((date, model, usage))
    }
}

/// `YYYY-MM-DD` of a day number.
fn date_of_day(day: i64) -> String {
    let iso = spindle_core::time::format_iso(day.saturating_mul(86_400_000_000));
    iso.get(..10).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_range_estimate_scales_its_sample_by_the_range_s_width() {
        // 10,001 of values 0.30 to 0.31 in a range of 0.30 to 0.35: about 50,005.
        assert_eq!(score_range_estimate(10_001, 0.31, 0.30, 0.35), Some(50_005));
        // The sample is the whole range: no more than it.
        assert_eq!(score_range_estimate(10_001, 0.35, 0.30, 0.35), Some(10_001));
        // Equal values (or a sample beyond the range's bounds) do not spread: count them.
        assert_eq!(score_range_estimate(10_001, 1.0, 1.0, 1.0), None);
        assert_eq!(score_range_estimate(10_001, 0.4, 0.30, 0.35), None);
        assert_eq!(score_range_estimate(10_001, f64::NAN, 0.30, 0.35), None);
    }

    #[test]
    fn paging_defaults() {
        assert_eq!(paging(0, 0), (1, 50, 0));
        assert_eq!(paging(3, 10), (3, 10, 20));
    }

    #[test]
    fn whole_hours_of_a_range_and_its_partial_edges() {
        const H: Micros = crate::rollups::HOUR_MICROS;
        let range = RolledRange::of(Some(10 * H + 5), Some(13 * H + 7)).unwrap();
        assert_eq!((range.start, range.end), (Some(11 * H), Some(13 * H)));
        assert_eq!(
            range.edges,
            vec![(10 * H + 5, 11 * H), (13 * H, 13 * H + 7)]
        );
        // `to` is exclusive: a range ending on an hour has no partial last hour.
        let aligned = RolledRange::of(Some(10 * H), Some(12 * H)).unwrap();
        assert!(aligned.edges.is_empty());
        let open = RolledRange::of(None, Some(2 * H + 1)).unwrap();
        assert_eq!((open.start, open.end), (None, Some(2 * H)));
        assert_eq!(open.edges, vec![(2 * H, 2 * H + 1)]);
        assert_eq!(
            RolledRange::of(None, None),
            Some(RolledRange {
                start: None,
                end: None,
                edges: Vec::new()
            })
        );
        assert_eq!(RolledRange::of(Some(10 * H + 5), Some(11 * H + 5)), None);
        assert_eq!(RolledRange::of(Some(10 * H), Some(10 * H)), None);
        assert_eq!(RolledRange::of(Some(i64::MAX - 1), None), None);
        assert_eq!(RolledRange::of(None, Some(i64::MIN)), None);
    }

    #[test]
    fn days_format_as_dates() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(19_000), "2022-01-08");
    }
}
