//! The read queries: traces with their derived fields, observations (page or keyset),
//! scores, sessions and daily metrics. Each runs on one read connection.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use spindle_core::time::Micros;
use spindle_core::{Error, Level};
use std::collections::{BTreeMap, HashMap};

use super::{query_rows, sql_error};
use crate::sql::reads::{
    decode_observation_view, decode_score_view, decode_trace_view, OBSERVATION_FROM,
    OBSERVATION_TRACE_CONTEXT, SCORE_FROM, SCORE_TRACE_CONTEXT,
};
use crate::sql::rows::{OBSERVATION_COLUMNS, SCORE_COLUMNS, TRACE_COLUMNS};
use crate::sql::{
    compile_filter, compile_filters, level_of_rank, like_escape, rank_of, Dialect, Sql,
    OBSERVATION_FILTER_COLUMNS, OBSERVATION_LEVEL, SCORE_FILTER_COLUMNS, TRACE_COST,
    TRACE_FILTER_COLUMNS, TRACE_LATENCY,
};
use crate::trace_index::{is_error_level, IndexedTerm, SplitQuery};
use crate::{
    Cursor, DailyMetrics, Direction, MetricsQuery, ModelUsage, ObservationQuery, ObservationView,
    Page, Result, ScoreQuery, ScoreRange, ScoreView, SessionQuery, SessionView, TraceQuery,
    TraceView,
};

/// The default page size when a query asks for 0 items.
const DEFAULT_LIMIT: u32 = 50;

const DIALECT: Dialect = Dialect::Sqlite;

/// Page number (from 1), limit and row offset of a page request.
fn paging(page: u32, limit: u32) -> (u32, u32, i64) {
    let page = page.max(1);
    let limit = if limit == 0 { DEFAULT_LIMIT } else { limit };
    (page, limit, i64::from(page - 1) * i64::from(limit))
}

fn count(connection: &Connection, sql: &Sql) -> Result<u64> {
    let total: i64 = connection
        .prepare_cached(&sql.text)
        .and_then(|mut statement| {
            statement.query_row(params_from_iter(sql.params.iter()), |row| row.get(0))
        })
        .map_err(sql_error)?;
    Ok(u64::try_from(total).unwrap_or(0))
}

/// Above this many traces in a score range, a list page walks the traces in time order
/// rather than fetching and sorting every match.
const SCORE_RANGE_WALK_ABOVE: u64 = 1_000;

/// Traces with a score of the range's name and a value in it, through the index on
/// `(project_id, name, value)`.
fn score_range_condition(project_id: &str, range: &ScoreRange, id_expr: &str) -> Sql {
    let mut condition = Sql::new(
        DIALECT,
        &format!("{id_expr} IN (SELECT s.trace_id FROM scores s WHERE s.project_id = "),
    );
    condition
        .bind(project_id.to_owned())
        .push(" AND s.name = ")
        .bind(range.name.clone());
    if let Some(min) = range.min {
        condition.push(" AND s.value >= ").bind(min);
    }
    if let Some(max) = range.max {
        condition.push(" AND s.value <= ").bind(max);
    }
    condition.push(")");
    condition
}

/// Search: an exact trace id, or a case-insensitive (ASCII) substring of the input or output
/// of the trace or of one of its observations. A scan, paid only by searching queries; a
/// full-text index (FTS5) was measured to cut the write throughput about tenfold on
/// realistic text, and one over each trace's distinct words per write (PostgreSQL's design)
/// still by 17 to 19 % (BENCHMARKS.md, "Search on SQLite"), so the write path stays free of it.
fn search_condition(search: &str) -> Sql {
    let pattern = format!("%{}%", like_escape(search));
    let mut condition = Sql::new(DIALECT, "(t.id = ");
    condition.bind(search.to_owned());
    for column in ["t.input", "t.output"] {
        condition
            .push(&format!(" OR {column} LIKE "))
            .bind(pattern.clone())
            .push(" ESCAPE '\\'");
    }
    condition.push(
        " OR EXISTS (SELECT 1 FROM observations o2 WHERE o2.project_id = t.project_id \
         AND o2.trace_id = t.id AND (o2.input LIKE ",
    );
    condition
        .bind(pattern.clone())
        .push(" ESCAPE '\\' OR o2.output LIKE ")
        .bind(pattern)
        .push(" ESCAPE '\\')))");
    condition
}

/// A counter of `project_stats` (`trace_count` or `observation_count`).
fn project_counter(connection: &Connection, project_id: &str, column: &str) -> Result<u64> {
    let value = connection
        .prepare_cached(&format!(
            "SELECT {column} FROM project_stats WHERE project_id = ?1"
        ))
        .and_then(|mut statement| {
            statement
                .query_row(params![project_id], |row| row.get::<_, i64>(0))
                .optional()
        })
        .map_err(sql_error)?;
    Ok(value.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// Appends `AND every tag is in <tags_expr>`.
fn all_tags(sql: &mut Sql, tags_expr: &str, tags: &[String]) {
    for tag in tags {
        let mut condition = Sql::new(
            DIALECT,
            &format!("EXISTS (SELECT 1 FROM json_each({tags_expr}) WHERE value = "),
        );
        condition.bind(tag.clone()).push(")");
        sql.and(condition);
    }
}

fn equals(sql: &mut Sql, expr: &str, value: &Option<String>) {
    if let Some(value) = value {
        let mut condition = Sql::new(DIALECT, &format!("{expr} = "));
        condition.bind(value.clone());
        sql.and(condition);
    }
}

fn any_of(sql: &mut Sql, expr: &str, values: &[String]) {
    if !values.is_empty() {
        let mut condition = Sql::new(DIALECT, "");
        condition.in_list(expr, values.to_vec(), false);
        sql.and(condition);
    }
}

fn time_range(sql: &mut Sql, expr: &str, from: Option<Micros>, to: Option<Micros>) {
    if let Some(from) = from {
        let mut condition = Sql::new(DIALECT, &format!("{expr} >= "));
        condition.bind(from);
        sql.and(condition);
    }
    if let Some(to) = to {
        let mut condition = Sql::new(DIALECT, &format!("{expr} < "));
        condition.bind(to);
        sql.and(condition);
    }
}

// --- traces ---

/// The sort key `trace_tags` and `trace_metadata` keep for a trace's timestamp (NULL sorts
/// as the smallest value, as in `ORDER BY t.timestamp`).
const NULL_TIMESTAMP_KEY: i64 = i64::MIN;

/// `EXISTS` of an index row of `term` for the trace whose id and sort key are `id_expr` and
/// `ts_expr` (a primary-key lookup).
fn term_probe(project_id: &str, term: &IndexedTerm, id_expr: &str, ts_expr: &str) -> Sql {
    let mut probe = Sql::new(DIALECT, "");
    match term {
        IndexedTerm::Tag(tag) => {
            probe
                .push("EXISTS (SELECT 1 FROM trace_tags g WHERE g.project_id = ")
                .bind(project_id.to_owned())
                .push(" AND g.tag = ")
                .bind(tag.clone());
        }
        IndexedTerm::Metadata { key, values } => {
            probe
                .push("EXISTS (SELECT 1 FROM trace_metadata g WHERE g.project_id = ")
                .bind(project_id.to_owned())
                .push(" AND g.key = ")
                .bind(key.clone());
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
            sql.push(&format!(" AND {expr} = ")).bind(one.clone());
        }
        many => {
            sql.push(" AND ").in_list(expr, many.to_vec(), false);
        }
    }
}

/// `FROM <index table> d` and the conditions that select `term`'s rows of the project.
fn driver_source(project_id: &str, term: &IndexedTerm) -> (&'static str, Sql) {
    let mut conditions = Sql::new(DIALECT, "d.project_id = ");
    conditions.bind(project_id.to_owned());
    match term {
        IndexedTerm::Tag(tag) => {
            conditions.push(" AND d.tag = ").bind(tag.clone());
            ("trace_tags d", conditions)
        }
        IndexedTerm::Metadata { key, values } => {
            conditions.push(" AND d.key = ").bind(key.clone());
            metadata_values(&mut conditions, "d.value", values);
            ("trace_metadata d", conditions)
        }
    }
}

/// The exact number of traces matching a query the index tables answer alone: the kept
/// count of one tag, or the driver's index rows that every other term's probe finds.
fn count_from_index(
    connection: &Connection,
    project_id: &str,
    query: &TraceQuery,
    split: &SplitQuery<'_>,
    driver: &IndexedTerm,
) -> Result<u64> {
    let timeless = query.from_timestamp.is_none() && query.to_timestamp.is_none();
    if let (IndexedTerm::Tag(tag), [_], true) = (driver, split.terms.as_slice(), timeless) {
        let value = connection
            .prepare_cached(
                "SELECT trace_count FROM trace_tag_counts WHERE project_id = ?1 AND tag = ?2",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![project_id, tag], |row| row.get::<_, i64>(0))
                    .optional()
            })
            .map_err(sql_error)?;
        return Ok(value.map_or(0, |n| u64::try_from(n).unwrap_or(0)));
    }
    let (source, conditions) = driver_source(project_id, driver);
    let mut count_sql = Sql::new(DIALECT, &format!("SELECT count(*) FROM {source} WHERE "));
    count_sql.append(&conditions);
    index_time_range(&mut count_sql, query);
    for term in split.terms.iter().filter(|term| *term != driver) {
        count_sql.and(term_probe(project_id, term, "d.trace_id", "d.ts"));
    }
    count(connection, &count_sql)
}

/// The query's time range on the index rows' sort key (NULL timestamps never match).
fn index_time_range(sql: &mut Sql, query: &TraceQuery) {
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

pub(crate) fn list_traces(
    connection: &Connection,
    project_id: &str,
    query: &TraceQuery,
) -> Result<Page<TraceView>> {
    let trace_columns = TRACE_COLUMNS.select(DIALECT);
    let (page, limit, offset) = paging(query.page, query.limit);
    let split = SplitQuery::of(query);
    let mut conditions = Sql::new(DIALECT, "t.project_id = ");
    conditions.bind(project_id.to_owned());
    let unfiltered = split.terms.is_empty()
        && !split.needs_trace_rows(query)
        && query.from_timestamp.is_none()
        && query.to_timestamp.is_none();
    equals(&mut conditions, "t.user_id", &query.user_id);
    equals(&mut conditions, "t.name", &query.name);
    equals(&mut conditions, "t.session_id", &query.session_id);
    equals(&mut conditions, "t.version", &query.version);
    equals(&mut conditions, "t.release", &query.release);
    any_of(&mut conditions, "t.environment", &query.environments);
    time_range(
        &mut conditions,
        "t.timestamp",
        query.from_timestamp,
        query.to_timestamp,
    );
    for (index, filter) in &split.other_filters {
        if is_error_level(filter) {
            let mut with_errors = Sql::new(
                DIALECT,
                "t.id IN (SELECT o3.trace_id FROM observations o3 WHERE o3.project_id = ",
            );
            with_errors
                .bind(project_id.to_owned())
                .push(" AND o3.level = 'ERROR')");
            conditions.and(with_errors);
            continue;
        }
        conditions.and(compile_filter(
            DIALECT,
            *index,
            filter,
            TRACE_FILTER_COLUMNS,
        )?);
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        conditions.and(search_condition(search));
    }

    let (order_expr, direction) = match &query.order_by {
        None => ("t.timestamp", Direction::Desc),
        Some(order) => {
            let expr = match order.column.as_str() {
                "timestamp" => "t.timestamp",
                "name" => "t.name",
                "userId" => "t.user_id",
                "sessionId" => "t.session_id",
                "release" => "t.release",
                "version" => "t.version",
                "id" => "t.id",
                "latency" => TRACE_LATENCY.of(DIALECT),
                "totalCost" => TRACE_COST.of(DIALECT),
                other => {
                    return Err(Error::invalid(
                        "orderBy.column",
                        format!(
                            "unknown column {other:?} (expected one of timestamp, name, userId, \
                             sessionId, release, version, latency, totalCost, id)"
                        ),
                    ))
                }
            };
            (expr, order.direction)
        }
    };
    let direction = match direction {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    };
    // A tag or metadata list in time order walks its index table in that order and reads
    // only the traces it returns; otherwise the terms are primary-key probes of the tables.
    let driver = split.driver(query).filter(|_| order_expr == "t.timestamp");

    let total_items = if unfiltered {
        project_counter(connection, project_id, "trace_count")?
    } else if let Some(driver) = driver.filter(|_| !split.needs_trace_rows(query)) {
        count_from_index(connection, project_id, query, &split, driver)?
    } else {
        let mut count_sql = match driver {
            Some(driver) => {
                let (source, mut source_conditions) = driver_source(project_id, driver);
                index_time_range(&mut source_conditions, query);
                let mut sql = Sql::new(
                    DIALECT,
                    &format!(
                        "SELECT count(*) FROM {source} CROSS JOIN traces t \
                     ON t.project_id = d.project_id AND t.id = d.trace_id WHERE "
                    ),
                );
                sql.append(&source_conditions).push(" AND ");
                sql
            }
            None => Sql::new(DIALECT, "SELECT count(*) FROM traces t WHERE "),
        };
        count_sql.append(&conditions);
        if let Some(range) = &query.score {
            count_sql.and(score_range_condition(project_id, range, "t.id"));
        }
        for term in split.terms.iter().filter(|term| Some(*term) != driver) {
            count_sql.and(term_probe(
                project_id,
                term,
                "t.id",
                &format!("coalesce(t.timestamp, {NULL_TIMESTAMP_KEY})"),
            ));
        }
        count(connection, &count_sql)?
    };

    let mut select = match driver {
        Some(driver) => {
            let (source, mut source_conditions) = driver_source(project_id, driver);
            index_time_range(&mut source_conditions, query);
            let mut sql = Sql::new(
                DIALECT,
                &format!(
                    "SELECT {trace_columns} FROM {source} CROSS JOIN traces t \
                 ON t.project_id = d.project_id AND t.id = d.trace_id WHERE "
                ),
            );
            sql.append(&source_conditions).push(" AND ");
            sql
        }
        None => Sql::new(
            DIALECT,
            &format!("SELECT {trace_columns} FROM traces t WHERE "),
        ),
    };
    select.append(&conditions);
    if let Some(range) = &query.score {
        // Many matches: walk the traces in time order and keep those in the score range
        // (`+` keeps SQLite from probing each matching id and sorting them all); few: probe.
        let walk =
            driver.is_none() && order_expr == "t.timestamp" && total_items > SCORE_RANGE_WALK_ABOVE;
        let id_expr = if walk { "+t.id" } else { "t.id" };
        select.and(score_range_condition(project_id, range, id_expr));
    }
    for term in split.terms.iter().filter(|term| Some(*term) != driver) {
        let (id_expr, ts_expr) = match driver {
            Some(_) => ("d.trace_id", "d.ts".to_owned()),
            None => (
                "t.id",
                format!("coalesce(t.timestamp, {NULL_TIMESTAMP_KEY})"),
            ),
        };
        select.and(term_probe(project_id, term, id_expr, &ts_expr));
    }
    match driver {
        Some(_) => select.push(&format!(
            " ORDER BY d.ts {direction}, d.trace_id {direction} LIMIT "
        )),
        None => select.push(&format!(
            " ORDER BY {order_expr} {direction}, t.id {direction} LIMIT "
        )),
    };
    select.bind(i64::from(limit)).push(" OFFSET ").bind(offset);
    let mut items = query_traces(connection, &select)?;
    fill_derived(connection, project_id, &mut items)?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

fn query_traces(connection: &Connection, sql: &Sql) -> Result<Vec<TraceView>> {
    query_rows(connection, sql, |row| decode_trace_view(row))
}

/// Per-trace accumulator of the derived fields.
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

impl Derived {
    fn new() -> Self {
        Derived {
            min_start: None,
            max_end: None,
            total_cost: 0.0,
            level_rank: None,
            observations: Vec::new(),
            scores: Vec::new(),
        }
    }
}

/// Computes latency, total cost, level, observation and score ids for the given traces only.
fn fill_derived(connection: &Connection, project_id: &str, views: &mut [TraceView]) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let ids = serde_json::Value::Array(
        views
            .iter()
            .map(|v| serde_json::Value::String(v.record.id.clone()))
            .collect(),
    )
    .to_string();
    let mut derived: HashMap<String, Derived> = HashMap::new();
    {
        let mut statement = connection
            .prepare_cached(
                "SELECT o.trace_id, o.id, o.start_time, o.end_time, o.total_cost, o.level
                 FROM observations o
                 WHERE o.project_id = ?1 AND o.trace_id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(sql_error)?;
        let mut rows = statement
            .query(params![project_id, ids])
            .map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let trace_id: String = row.get(0).map_err(sql_error)?;
            let id: String = row.get(1).map_err(sql_error)?;
            let start: Option<Micros> = row.get(2).map_err(sql_error)?;
            let end: Option<Micros> = row.get(3).map_err(sql_error)?;
            let cost: Option<f64> = row.get(4).map_err(sql_error)?;
            let level: Option<String> = row.get(5).map_err(sql_error)?;
            let entry = derived.entry(trace_id).or_insert_with(Derived::new);
            if let Some(start) = start {
                let end = end.map_or(start, |end| end.max(start));
                entry.min_start = Some(entry.min_start.map_or(start, |m| m.min(start)));
                entry.max_end = Some(entry.max_end.map_or(end, |m| m.max(end)));
            }
            entry.total_cost += cost.unwrap_or(0.0);
            let rank = level.as_deref().and_then(Level::parse).map_or(1, rank_of);
            entry.level_rank = Some(entry.level_rank.map_or(rank, |worst| worst.max(rank)));
            entry.observations.push((start.unwrap_or(i64::MIN), id));
        }
    }
    {
        let mut statement = connection
            .prepare_cached(
                "SELECT s.trace_id, s.id, s.timestamp FROM scores s
                 WHERE s.project_id = ?1 AND s.trace_id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(sql_error)?;
        let mut rows = statement
            .query(params![project_id, ids])
            .map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let trace_id: String = row.get(0).map_err(sql_error)?;
            let id: String = row.get(1).map_err(sql_error)?;
            let timestamp: Option<Micros> = row.get(2).map_err(sql_error)?;
            derived
                .entry(trace_id)
                .or_insert_with(Derived::new)
                .scores
                .push((timestamp, id));
        }
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
    Ok(())
}

pub(crate) fn get_trace(
    connection: &Connection,
    project_id: &str,
    trace_id: &str,
) -> Result<Option<TraceView>> {
    let observation_columns = OBSERVATION_COLUMNS.select(DIALECT);
    let observation_trace_context = OBSERVATION_TRACE_CONTEXT.of(DIALECT);
    let score_columns = SCORE_COLUMNS.select(DIALECT);
    let score_trace_context = SCORE_TRACE_CONTEXT.of(DIALECT);
    let trace_columns = TRACE_COLUMNS.select(DIALECT);
    let mut select = Sql::new(
        DIALECT,
        &format!("SELECT {trace_columns} FROM traces t WHERE t.project_id = "),
    );
    select
        .bind(project_id.to_owned())
        .push(" AND t.id = ")
        .bind(trace_id.to_owned());
    let mut views = query_traces(connection, &select)?;
    fill_derived(connection, project_id, &mut views)?;
    let Some(mut view) = views.pop() else {
        return Ok(None);
    };
    let mut observations = Sql::new(
        DIALECT,
        &format!(
            "SELECT {observation_columns}, {observation_trace_context} {OBSERVATION_FROM} \
         WHERE o.project_id = "
        ),
    );
    observations
        .bind(project_id.to_owned())
        .push(" AND o.trace_id = ")
        .bind(trace_id.to_owned())
        .push(" ORDER BY o.start_time IS NULL, o.start_time, o.id");
    view.observations = query_observations(connection, &observations)?;
    let mut scores = Sql::new(
        DIALECT,
        &format!(
            "SELECT {score_columns}, {score_trace_context} {SCORE_FROM} WHERE s.project_id = "
        ),
    );
    scores
        .bind(project_id.to_owned())
        .push(" AND s.trace_id = ")
        .bind(trace_id.to_owned())
        .push(" ORDER BY s.timestamp, s.id");
    view.scores = query_scores(connection, &scores)?;
    Ok(Some(view))
}

// --- observations ---

fn query_observations(connection: &Connection, sql: &Sql) -> Result<Vec<ObservationView>> {
    query_rows(connection, sql, |row| decode_observation_view(row))
}

pub(crate) fn list_observations(
    connection: &Connection,
    project_id: &str,
    query: &ObservationQuery,
) -> Result<Page<ObservationView>> {
    let observation_columns = OBSERVATION_COLUMNS.select(DIALECT);
    let observation_trace_context = OBSERVATION_TRACE_CONTEXT.of(DIALECT);
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut conditions = Sql::new(DIALECT, "o.project_id = ");
    conditions.bind(project_id.to_owned());
    if let Some(observation_type) = query.observation_type {
        let mut condition = Sql::new(DIALECT, "o.type = ");
        condition.bind(observation_type.as_str().to_owned());
        conditions.and(condition);
    }
    equals(&mut conditions, "o.name", &query.name);
    equals(&mut conditions, "t.user_id", &query.user_id);
    equals(&mut conditions, "t.session_id", &query.session_id);
    if let Some(level) = query.level {
        let mut condition = Sql::new(DIALECT, &format!("{} = ", OBSERVATION_LEVEL.of(DIALECT)));
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
                DIALECT,
                "(o.parent_observation_id IS NULL OR o.parent_observation_id = '')",
            ));
        }
        Some(false) => {
            conditions.and(Sql::new(
                DIALECT,
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
    let total_items = if unfiltered {
        project_counter(connection, project_id, "observation_count")?
    } else {
        let needs_trace = conditions.text.contains("t.");
        let mut count_sql = Sql::new(
            DIALECT,
            if needs_trace {
                "SELECT count(*) FROM observations o LEFT JOIN traces t \
             ON t.project_id = o.project_id AND t.id = o.trace_id WHERE "
            } else {
                "SELECT count(*) FROM observations o WHERE "
            },
        );
        count_sql.append(&conditions);
        count(connection, &count_sql)?
    };

    let mut select = Sql::new(
        DIALECT,
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
            .bind(cursor.id.clone())
            .push(")");
    }
    select.push(" ORDER BY o.sort_time DESC, o.id DESC LIMIT ");
    select.bind(i64::from(limit) + 1);
    if query.after.is_none() {
        select.push(" OFFSET ").bind(offset);
    }
    let mut items = query_observations(connection, &select)?;
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if has_more {
        items.last().map(|last| Cursor {
            time: last.record.start_time.unwrap_or(i64::MIN),
            id: last.record.id.clone(),
        })
    } else {
        None
    };
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor,
    })
}

pub(crate) fn get_observation(
    connection: &Connection,
    project_id: &str,
    observation_id: &str,
) -> Result<Option<ObservationView>> {
    let observation_columns = OBSERVATION_COLUMNS.select(DIALECT);
    let observation_trace_context = OBSERVATION_TRACE_CONTEXT.of(DIALECT);
    let mut select = Sql::new(
        DIALECT,
        &format!(
            "SELECT {observation_columns}, {observation_trace_context} {OBSERVATION_FROM} \
         WHERE o.project_id = "
        ),
    );
    select
        .bind(project_id.to_owned())
        .push(" AND o.id = ")
        .bind(observation_id.to_owned());
    Ok(query_observations(connection, &select)?.pop())
}

// --- scores ---

fn query_scores(connection: &Connection, sql: &Sql) -> Result<Vec<ScoreView>> {
    query_rows(connection, sql, |row| decode_score_view(row))
}

pub(crate) fn list_scores(
    connection: &Connection,
    project_id: &str,
    query: &ScoreQuery,
) -> Result<Page<ScoreView>> {
    let score_columns = SCORE_COLUMNS.select(DIALECT);
    let score_trace_context = SCORE_TRACE_CONTEXT.of(DIALECT);
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut conditions = Sql::new(DIALECT, "s.project_id = ");
    conditions.bind(project_id.to_owned());
    equals(&mut conditions, "t.user_id", &query.user_id);
    equals(&mut conditions, "s.name", &query.name);
    if let Some(data_type) = query.data_type {
        let mut condition = Sql::new(DIALECT, "s.data_type = ");
        condition.bind(data_type.as_str().to_owned());
        conditions.and(condition);
    }
    if let Some(source) = query.source {
        let mut condition = Sql::new(DIALECT, "s.source = ");
        condition.bind(source.as_str().to_owned());
        conditions.and(condition);
    }
    equals(&mut conditions, "s.config_id", &query.config_id);
    equals(&mut conditions, "s.queue_id", &query.queue_id);
    all_tags(&mut conditions, "coalesce(t.tags, '[]')", &query.trace_tags);
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
            "!=" => "IS NOT",
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
        let mut condition = Sql::new(DIALECT, &format!("s.value {operator} "));
        condition.bind(*value);
        conditions.and(condition);
    }
    any_of(&mut conditions, "s.id", &query.score_ids);
    equals(&mut conditions, "s.session_id", &query.session_id);
    equals(&mut conditions, "s.trace_id", &query.trace_id);
    any_of(&mut conditions, "s.observation_id", &query.observation_ids);
    equals(&mut conditions, "s.dataset_run_id", &query.dataset_run_id);
    compile_filters(&mut conditions, &query.filters, SCORE_FILTER_COLUMNS)?;

    // Conditions on the trace's columns need the join; the others count and order the
    // scores alone, from an index when one covers them (`scores_by_name_value` for a name
    // and a value range), and only the page's rows are read.
    let needs_trace = query.user_id.is_some()
        || !query.trace_tags.is_empty()
        || query
            .filters
            .iter()
            .any(|f| crate::sql::SCORE_FILTER_COLUMNS_OF_TRACE.contains(&f.column.as_str()));
    let from = if needs_trace {
        SCORE_FROM
    } else {
        "FROM scores s"
    };
    let mut count_sql = Sql::new(DIALECT, &format!("SELECT count(*) {from} WHERE "));
    count_sql.append(&conditions);
    let total_items = count(connection, &count_sql)?;
    let mut select = Sql::new(
        DIALECT,
        &format!(
            "SELECT {score_columns}, {score_trace_context} {SCORE_FROM} WHERE s.project_id = "
        ),
    );
    select
        .bind(project_id.to_owned())
        .push(&format!(" AND s.id IN (SELECT s.id {from} WHERE "))
        .append(&conditions)
        .push(" ORDER BY s.timestamp DESC, s.id DESC LIMIT ");
    select.bind(i64::from(limit)).push(" OFFSET ").bind(offset);
    select.push(") ORDER BY s.timestamp DESC, s.id DESC");
    let items = query_scores(connection, &select)?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

pub(crate) fn get_score(
    connection: &Connection,
    project_id: &str,
    score_id: &str,
) -> Result<Option<ScoreView>> {
    let score_columns = SCORE_COLUMNS.select(DIALECT);
    let score_trace_context = SCORE_TRACE_CONTEXT.of(DIALECT);
    let mut select = Sql::new(
        DIALECT,
        &format!(
            "SELECT {score_columns}, {score_trace_context} {SCORE_FROM} WHERE s.project_id = "
        ),
    );
    select
        .bind(project_id.to_owned())
        .push(" AND s.id = ")
        .bind(score_id.to_owned());
    Ok(query_scores(connection, &select)?.pop())
}

// --- sessions ---

pub(crate) fn list_sessions(
    connection: &Connection,
    project_id: &str,
    query: &SessionQuery,
) -> Result<Page<SessionView>> {
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut grouped = Sql::new(
        DIALECT,
        "SELECT t.session_id AS id, min(t.timestamp) AS created_at, t.environment AS environment \
         FROM traces t WHERE t.project_id = ",
    );
    grouped.bind(project_id.to_owned());
    grouped.push(" AND t.session_id IS NOT NULL AND t.session_id != ''");
    any_of(&mut grouped, "t.environment", &query.environments);
    grouped.push(" GROUP BY t.session_id HAVING 1");
    time_range(
        &mut grouped,
        "min(t.timestamp)",
        query.from_timestamp,
        query.to_timestamp,
    );
    let mut count_sql = Sql::new(DIALECT, "SELECT count(*) FROM (");
    count_sql.append(&grouped).push(")");
    let total_items = count(connection, &count_sql)?;
    let mut select = Sql::new(DIALECT, "SELECT id, created_at, environment FROM (");
    select
        .append(&grouped)
        .push(") ORDER BY created_at DESC, id DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let items = query_sessions(connection, &select)?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

fn query_sessions(connection: &Connection, sql: &Sql) -> Result<Vec<SessionView>> {
    let mut statement = connection.prepare_cached(&sql.text).map_err(sql_error)?;
    let rows = statement
        .query_map(params_from_iter(sql.params.iter()), |row| {
            Ok(SessionView {
                id: row.get(0)?,
                created_at: row.get::<_, Option<Micros>>(1)?.unwrap_or(0),
                environment: row
                    .get::<_, Option<String>>(2)?
                    .unwrap_or_else(|| "default".to_owned()),
                traces: Vec::new(),
            })
        })
        .map_err(sql_error)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_error)
}

pub(crate) fn get_session(
    connection: &Connection,
    project_id: &str,
    session_id: &str,
) -> Result<Option<SessionView>> {
    let trace_columns = TRACE_COLUMNS.select(DIALECT);
    let mut select = Sql::new(
        DIALECT,
        "SELECT t.session_id, min(t.timestamp), t.environment FROM traces t \
         WHERE t.project_id = ",
    );
    select
        .bind(project_id.to_owned())
        .push(" AND t.session_id = ")
        .bind(session_id.to_owned())
        .push(" GROUP BY t.session_id");
    let Some(mut session) = query_sessions(connection, &select)?.pop() else {
        return Ok(None);
    };
    let mut traces = Sql::new(
        DIALECT,
        &format!("SELECT {trace_columns} FROM traces t WHERE t.project_id = "),
    );
    traces
        .bind(project_id.to_owned())
        .push(" AND t.session_id = ")
        .bind(session_id.to_owned())
        .push(" ORDER BY t.timestamp, t.id");
    session.traces = query_traces(connection, &traces)?;
    fill_derived(connection, project_id, &mut session.traces)?;
    Ok(Some(session))
}

// --- daily metrics ---

const DAY_OF_TRACE: &str = "strftime('%Y-%m-%d', t.timestamp / 1000000.0, 'unixepoch')";

pub(crate) fn daily_metrics(
    connection: &Connection,
    project_id: &str,
    query: &MetricsQuery,
) -> Result<Page<DailyMetrics>> {
    let (page, limit, offset) = paging(query.page, query.limit);
    let mut conditions = Sql::new(DIALECT, "t.project_id = ");
    conditions.bind(project_id.to_owned());
    conditions.push(" AND t.timestamp IS NOT NULL");
    equals(&mut conditions, "t.name", &query.trace_name);
    equals(&mut conditions, "t.user_id", &query.user_id);
    all_tags(&mut conditions, "t.tags", &query.tags);
    any_of(&mut conditions, "t.environment", &query.environments);
    time_range(
        &mut conditions,
        "t.timestamp",
        query.from_timestamp,
        query.to_timestamp,
    );

    let mut count_sql = Sql::new(
        DIALECT,
        &format!("SELECT count(DISTINCT {DAY_OF_TRACE}) FROM traces t WHERE "),
    );
    count_sql.append(&conditions);
    let total_items = count(connection, &count_sql)?;

    let mut days_sql = Sql::new(
        DIALECT,
        &format!("SELECT {DAY_OF_TRACE} AS day, count(*) FROM traces t WHERE "),
    );
    days_sql
        .append(&conditions)
        .push(" GROUP BY day ORDER BY day DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let mut days: Vec<DailyMetrics> = {
        let mut statement = connection
            .prepare_cached(&days_sql.text)
            .map_err(sql_error)?;
        let rows = statement
            .query_map(params_from_iter(days_sql.params.iter()), |row| {
                Ok(DailyMetrics {
                    date: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    count_traces: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                    count_observations: 0,
                    total_cost: 0.0,
                    usage: Vec::new(),
                })
            })
            .map_err(sql_error)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql_error)?
    };
    if days.is_empty() {
        return Ok(Page {
            items: days,
            page,
            limit,
            total_items,
            next_cursor: None,
        });
    }

    let mut usage_sql = Sql::new(
        DIALECT,
        &format!(
            "SELECT {DAY_OF_TRACE} AS day, o.model, count(*), count(DISTINCT t.id), \
         coalesce(sum(o.total_cost), 0.0), CAST(total(o.usage_input) AS INTEGER), \
         CAST(total(o.usage_output) AS INTEGER), CAST(total(o.usage_total) AS INTEGER) \
         FROM traces t JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id \
         WHERE "
        ),
    );
    usage_sql.append(&conditions);
    let dates: Vec<String> = days.iter().map(|d| d.date.clone()).collect();
    usage_sql.push(" AND ").in_list(DAY_OF_TRACE, dates, false);
    usage_sql.push(" GROUP BY day, o.model ORDER BY day, o.model");
    let mut per_day: BTreeMap<String, (u64, f64, Vec<ModelUsage>)> = BTreeMap::new();
    {
        let mut statement = connection
            .prepare_cached(&usage_sql.text)
            .map_err(sql_error)?;
        let mut rows = statement
            .query(params_from_iter(usage_sql.params.iter()))
            .map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let day: Option<String> = row.get(0).map_err(sql_error)?;
            let model: Option<String> = row.get(1).map_err(sql_error)?;
            let observations: i64 = row.get(2).map_err(sql_error)?;
            let traces: i64 = row.get(3).map_err(sql_error)?;
            let cost: f64 = row.get(4).map_err(sql_error)?;
            let entry = per_day.entry(day.unwrap_or_default()).or_default();
            entry.0 += u64::try_from(observations).unwrap_or(0);
            entry.1 += cost;
            if let Some(model) = model.filter(|m| !m.is_empty()) {
                entry.2.push(ModelUsage {
                    model,
                    input_usage: row.get(5).map_err(sql_error)?,
                    output_usage: row.get(6).map_err(sql_error)?,
                    total_usage: row.get(7).map_err(sql_error)?,
                    count_traces: u64::try_from(traces).unwrap_or(0),
                    count_observations: u64::try_from(observations).unwrap_or(0),
                    total_cost: cost,
                });
            }
        }
    }
    for day in &mut days {
        if let Some((observations, cost, usage)) = per_day.remove(&day.date) {
            day.count_observations = observations;
            day.total_cost = cost;
            day.usage = usage;
        }
    }
    Ok(Page {
        items: days,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults() {
        assert_eq!(paging(0, 0), (1, 50, 0));
        assert_eq!(paging(3, 10), (3, 10, 20));
    }
}
