//! The read queries on PostgreSQL: traces with their derived fields, observations (page or
//! keyset), scores, sessions and daily metrics, with the SQLite backend's semantics (NULLs
//! sort first ascending and last descending, text by code point).

use deadpool_postgres::Client;
use spindle_core::time::{format_iso, Micros};
use spindle_core::{Error, Level};
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::Row;

use super::{decode_rows, pg_error};
use crate::search::query_words;
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

const DIALECT: Dialect = Dialect::Postgres;

/// Page number (from 1), limit and row offset of a page request.
fn paging(page: u32, limit: u32) -> (u32, u32, i64) {
    let page = page.max(1);
    let limit = if limit == 0 { DEFAULT_LIMIT } else { limit };
    (page, limit, i64::from(page - 1) * i64::from(limit))
}

/// Prepared statements kept per connection; filters make many statement shapes, so the
/// cache is emptied when it grows past this.
const STATEMENT_CACHE_LIMIT: usize = 256;

async fn query(client: &Client, sql: &Sql) -> Result<Vec<Row>> {
    if client.statement_cache.size() > STATEMENT_CACHE_LIMIT {
        client.statement_cache.clear();
    }
    let (text, params) = sql.finish();
    let statement = client.prepare_cached(&text).await.map_err(pg_error)?;
    client.query(&statement, &params).await.map_err(pg_error)
}

async fn count(client: &Client, sql: &Sql) -> Result<u64> {
    let rows = query(client, sql).await?;
    let total: i64 = match rows.first() {
        Some(row) => row.try_get(0).map_err(pg_error)?,
        None => 0,
    };
    Ok(u64::try_from(total).unwrap_or(0))
}

/// A project's count of `traces` or `observations` (the sum of its counter shards).
async fn project_counter(client: &Client, project_id: &str, column: &str) -> Result<u64> {
    let mut sql = Sql::new(
        DIALECT,
        &format!("SELECT coalesce(sum({column}), 0)::int8 FROM project_counts WHERE project_id = "),
    );
    sql.bind(project_id.to_owned());
    count(client, &sql).await
}

/// Traces with a score of the range's name and a value in it, through the index on
/// `(project_id, name, value)`.
fn score_range_condition(project_id: &str, range: &ScoreRange) -> Sql {
    let mut condition = Sql::new(
        DIALECT,
        "t.id IN (SELECT s.trace_id FROM scores s WHERE s.project_id = ",
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

/// One `tsquery` per word of a user's search text (see [`query_words`]); empty when the
/// text has no word characters.
fn tsqueries_of(search: &str) -> Vec<String> {
    query_words(search)
        .into_iter()
        .map(|(word, prefix)| {
            if prefix {
                format!("'{word}':*")
            } else {
                format!("'{word}'")
            }
        })
        .collect()
}

/// Search over trace and observation input and output (word-based, case- and
/// accent-insensitive, the last word as a prefix; every word somewhere in the trace), or an
/// exact trace id. Text without any word character falls back to a substring scan.
fn search_condition(project_id: &str, search: &str) -> Sql {
    let queries = tsqueries_of(search);
    if queries.is_empty() {
        return substring_condition(search);
    }
    // The lexemes are the writer's normalized words, taken verbatim (no parser). Each word's
    // traces come from the GIN index of `trace_search`; their intersection is gathered first,
    // so the trace table is probed by primary key, not scanned.
    let mut condition = Sql::new(DIALECT, "t.id IN (SELECT ");
    condition.bind(search.to_owned()).push(" UNION ALL (");
    for (index, query) in queries.into_iter().enumerate() {
        if index > 0 {
            condition.push(" INTERSECT ");
        }
        condition
            .push("SELECT s.trace_id FROM trace_search s WHERE s.project_id = ")
            .bind(project_id.to_owned())
            .push(" AND s.words @@ ")
            .bind(query)
            .push("::tsquery");
    }
    condition.push("))");
    condition
}

/// A case-insensitive substring of the input or output of the trace or of one of its
/// observations, or an exact trace id: a scan, for search text without words.
fn substring_condition(search: &str) -> Sql {
    let mut condition = Sql::new(DIALECT, "(t.id = ");
    condition.bind(search.to_owned());
    let pattern = format!("%{}%", like_escape(search));
    for column in ["t.input", "t.output"] {
        condition
            .push(&format!(" OR {column} ILIKE "))
            .bind(pattern.clone());
    }
    condition.push(
        " OR EXISTS (SELECT 1 FROM observations o2 WHERE o2.project_id = t.project_id \
         AND o2.trace_id = t.id AND (o2.input ILIKE ",
    );
    condition
        .bind(pattern.clone())
        .push(" OR o2.output ILIKE ")
        .bind(pattern)
        .push(")))");
    condition
}

/// Appends `AND every tag is in <tags_expr>`.
fn all_tags(sql: &mut Sql, tags_expr: &str, tags: &[String]) {
    if tags.is_empty() {
        return;
    }
    let mut condition = Sql::new(DIALECT, &format!("({tags_expr} ?& "));
    condition.bind(tags.to_vec()).push(")");
    sql.and(condition);
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
        let mut condition = Sql::new(DIALECT, &format!("{expr} = ANY("));
        condition.bind(values.to_vec()).push(")");
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

/// `ASC NULLS FIRST` or `DESC NULLS LAST`: SQLite's order of NULLs.
fn direction_sql(direction: Direction) -> &'static str {
    match direction {
        Direction::Asc => "ASC NULLS FIRST",
        Direction::Desc => "DESC NULLS LAST",
    }
}

// --- traces ---

/// The sort key `trace_tags` and `trace_metadata` keep for a trace's timestamp (NULL as the
/// smallest bigint, so it sorts last newest first and first oldest first, as the lists do).
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
            sql.push(&format!(" AND {expr} = ANY("))
                .bind(many.to_vec())
                .push(")");
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

/// The exact number of traces matching a query the index tables answer alone: the kept
/// count of one tag, or the driver's index rows that every other term's probe finds.
async fn count_from_index(
    client: &Client,
    project_id: &str,
    query: &TraceQuery,
    split: &SplitQuery<'_>,
    driver: &IndexedTerm,
) -> Result<u64> {
    let timeless = query.from_timestamp.is_none() && query.to_timestamp.is_none();
    if let (IndexedTerm::Tag(tag), [_], true) = (driver, split.terms.as_slice(), timeless) {
        let mut sql = Sql::new(
            DIALECT,
            "SELECT coalesce(sum(trace_count), 0)::int8 FROM trace_tag_counts \
             WHERE project_id = ",
        );
        sql.bind(project_id.to_owned())
            .push(" AND tag = ")
            .bind(tag.clone());
        return count(client, &sql).await;
    }
    let (source, conditions) = driver_source(project_id, driver);
    let mut count_sql = Sql::new(DIALECT, &format!("SELECT count(*) FROM {source} WHERE "));
    count_sql.append(&conditions);
    index_time_range(&mut count_sql, query);
    for term in split.terms.iter().filter(|term| *term != driver) {
        count_sql.and(term_probe(project_id, term, "d.trace_id", "d.ts"));
    }
    count(client, &count_sql).await
}

pub(crate) async fn list_traces(
    client: &Client,
    project_id: &str,
    query_params: &TraceQuery,
) -> Result<Page<TraceView>> {
    let trace_columns = TRACE_COLUMNS.select(DIALECT);
    let q = query_params;
    let (page, limit, offset) = paging(q.page, q.limit);
    let mut split = SplitQuery::of(q);
    let mut conditions = Sql::new(DIALECT, "t.project_id = ");
    conditions.bind(project_id.to_owned());
    // Several tags: the GIN index of `traces.tags` intersects them (and counts the result)
    // faster than probing `trace_tags` once per row of the first tag.
    let tags_on_rows = split.take_tags_if_several();
    all_tags(&mut conditions, "t.tags", &tags_on_rows);
    let index_only = tags_on_rows.is_empty() && !split.needs_trace_rows(q);
    equals(&mut conditions, "t.user_id", &q.user_id);
    equals(&mut conditions, "t.name", &q.name);
    equals(&mut conditions, "t.session_id", &q.session_id);
    equals(&mut conditions, "t.version", &q.version);
    equals(&mut conditions, "t.release", &q.release);
    any_of(&mut conditions, "t.environment", &q.environments);
    time_range(
        &mut conditions,
        "t.timestamp",
        q.from_timestamp,
        q.to_timestamp,
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
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        conditions.and(search_condition(project_id, search));
    }
    if let Some(range) = &q.score {
        conditions.and(score_range_condition(project_id, range));
    }
    let (order_expr, direction) = match &q.order_by {
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
    // Ids are never NULL: the tiebreak has no NULLS clause, so the time index serves it.
    let id_direction = match direction {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    };
    let direction = direction_sql(direction);
    let unfiltered = split.terms.is_empty()
        && index_only
        && q.from_timestamp.is_none()
        && q.to_timestamp.is_none();
    // A tag or metadata list in time order walks its index table in that order and reads
    // only the traces it returns; otherwise the terms are primary-key probes of the tables.
    let driver = split.driver(q).filter(|_| order_expr == "t.timestamp");
    let trace_ts = format!("coalesce(t.timestamp, '{NULL_TIMESTAMP_KEY}'::int8)");
    let total_items = if unfiltered {
        project_counter(client, project_id, "traces").await?
    } else if let Some(driver) = driver.filter(|_| index_only) {
        count_from_index(client, project_id, q, &split, driver).await?
    } else {
        let mut count_sql = Sql::new(DIALECT, "SELECT count(*) FROM traces t WHERE ");
        count_sql.append(&conditions);
        for term in &split.terms {
            count_sql.and(term_probe(project_id, term, "t.id", &trace_ts));
        }
        count(client, &count_sql).await?
    };

    let mut select = match driver {
        Some(driver) => {
            let (source, mut source_conditions) = driver_source(project_id, driver);
            index_time_range(&mut source_conditions, q);
            let mut sql = Sql::new(
                DIALECT,
                &format!(
                    "SELECT {trace_columns} FROM {source} JOIN traces t \
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
    for term in split.terms.iter().filter(|term| Some(*term) != driver) {
        match driver {
            Some(_) => select.and(term_probe(project_id, term, "d.trace_id", "d.ts")),
            None => select.and(term_probe(project_id, term, "t.id", &trace_ts)),
        };
    }
    match driver {
        Some(_) => select.push(&format!(
            " ORDER BY d.ts {id_direction}, d.trace_id {id_direction} LIMIT "
        )),
        None => select.push(&format!(
            " ORDER BY {order_expr} {direction}, t.id {id_direction} LIMIT "
        )),
    };
    select.bind(i64::from(limit)).push(" OFFSET ").bind(offset);
    let mut items = query_traces(client, &select).await?;
    fill_derived(client, project_id, &mut items).await?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

async fn query_traces(client: &Client, sql: &Sql) -> Result<Vec<TraceView>> {
    let rows = query(client, sql).await?;
    decode_rows(&rows, |row| decode_trace_view(row))
}

/// Per-trace accumulator of the derived fields.
#[derive(Default)]
struct Derived {
    min_start: Option<Micros>,
    max_end: Option<Micros>,
    total_cost: f64,
    level_rank: Option<i64>,
    observations: Vec<(Micros, String)>,
    scores: Vec<(Option<Micros>, String)>,
}

/// Computes latency, total cost, level, observation and score ids for the given traces.
async fn fill_derived(client: &Client, project_id: &str, views: &mut [TraceView]) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = views.iter().map(|v| v.record.id.as_str()).collect();
    let mut derived: HashMap<String, Derived> = HashMap::new();
    let statement = client
        .prepare_cached(
            "SELECT o.trace_id, o.id, o.start_time, o.end_time, o.total_cost, o.level
             FROM observations o WHERE o.project_id = $1 AND o.trace_id = ANY($2::text[])",
        )
        .await
        .map_err(pg_error)?;
    for row in client
        .query(&statement, &[&project_id, &ids])
        .await
        .map_err(pg_error)?
    {
        let trace_id: String = row.try_get(0).map_err(pg_error)?;
        let id: String = row.try_get(1).map_err(pg_error)?;
        let start: Option<Micros> = row.try_get(2).map_err(pg_error)?;
        let end: Option<Micros> = row.try_get(3).map_err(pg_error)?;
        let cost: Option<f64> = row.try_get(4).map_err(pg_error)?;
        let level: Option<String> = row.try_get(5).map_err(pg_error)?;
        let entry = derived.entry(trace_id).or_default();
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
    let statement = client
        .prepare_cached(
            "SELECT s.trace_id, s.id, s.timestamp FROM scores s
             WHERE s.project_id = $1 AND s.trace_id = ANY($2::text[])",
        )
        .await
        .map_err(pg_error)?;
    for row in client
        .query(&statement, &[&project_id, &ids])
        .await
        .map_err(pg_error)?
    {
        let trace_id: String = row.try_get(0).map_err(pg_error)?;
        let id: String = row.try_get(1).map_err(pg_error)?;
        let timestamp: Option<Micros> = row.try_get(2).map_err(pg_error)?;
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
    Ok(())
}

pub(crate) async fn get_trace(
    client: &Client,
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
    let mut views = query_traces(client, &select).await?;
    fill_derived(client, project_id, &mut views).await?;
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
        .push(" ORDER BY o.start_time ASC NULLS LAST, o.id");
    view.observations = query_observations(client, &observations).await?;
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
        .push(" ORDER BY s.timestamp ASC NULLS FIRST, s.id");
    view.scores = query_scores(client, &scores).await?;
    Ok(Some(view))
}

// --- observations ---

async fn query_observations(client: &Client, sql: &Sql) -> Result<Vec<ObservationView>> {
    let rows = query(client, sql).await?;
    decode_rows(&rows, |row| decode_observation_view(row))
}

pub(crate) async fn list_observations(
    client: &Client,
    project_id: &str,
    q: &ObservationQuery,
) -> Result<Page<ObservationView>> {
    let observation_columns = OBSERVATION_COLUMNS.select(DIALECT);
    let observation_trace_context = OBSERVATION_TRACE_CONTEXT.of(DIALECT);
    let (page, limit, offset) = paging(q.page, q.limit);
    let mut conditions = Sql::new(DIALECT, "o.project_id = ");
    conditions.bind(project_id.to_owned());
    if let Some(observation_type) = q.observation_type {
        let mut condition = Sql::new(DIALECT, "o.type = ");
        condition.bind(observation_type.as_str().to_owned());
        conditions.and(condition);
    }
    equals(&mut conditions, "o.name", &q.name);
    equals(&mut conditions, "t.user_id", &q.user_id);
    equals(&mut conditions, "t.session_id", &q.session_id);
    if let Some(level) = q.level {
        let mut condition = Sql::new(DIALECT, &format!("{} = ", OBSERVATION_LEVEL.of(DIALECT)));
        condition.bind(rank_of(level));
        conditions.and(condition);
    }
    equals(&mut conditions, "o.trace_id", &q.trace_id);
    equals(&mut conditions, "o.version", &q.version);
    equals(
        &mut conditions,
        "o.parent_observation_id",
        &q.parent_observation_id,
    );
    match q.is_root {
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
    any_of(&mut conditions, "o.environment", &q.environments);
    time_range(
        &mut conditions,
        "o.start_time",
        q.from_start_time,
        q.to_start_time,
    );
    compile_filters(&mut conditions, &q.filters, OBSERVATION_FILTER_COLUMNS)?;

    let unfiltered = q.observation_type.is_none()
        && q.name.is_none()
        && q.user_id.is_none()
        && q.session_id.is_none()
        && q.level.is_none()
        && q.trace_id.is_none()
        && q.version.is_none()
        && q.parent_observation_id.is_none()
        && q.is_root.is_none()
        && q.environments.is_empty()
        && q.from_start_time.is_none()
        && q.to_start_time.is_none()
        && q.filters.is_empty();
    let total_items = if unfiltered {
        project_counter(client, project_id, "observations").await?
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
        count(client, &count_sql).await?
    };

    let mut select = Sql::new(
        DIALECT,
        &format!(
            "SELECT {observation_columns}, {observation_trace_context} {OBSERVATION_FROM} WHERE "
        ),
    );
    select.append(&conditions);
    if let Some(cursor) = &q.after {
        select
            .push(" AND (o.sort_time, o.id) < (")
            .bind(cursor.time)
            .push(", ")
            .bind(cursor.id.clone())
            .push(")");
    }
    select.push(" ORDER BY o.sort_time DESC, o.id DESC LIMIT ");
    select.bind(i64::from(limit) + 1);
    if q.after.is_none() {
        select.push(" OFFSET ").bind(offset);
    }
    let mut items = query_observations(client, &select).await?;
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

pub(crate) async fn get_observation(
    client: &Client,
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
    Ok(query_observations(client, &select).await?.pop())
}

// --- scores ---

async fn query_scores(client: &Client, sql: &Sql) -> Result<Vec<ScoreView>> {
    let rows = query(client, sql).await?;
    decode_rows(&rows, |row| decode_score_view(row))
}

pub(crate) async fn list_scores(
    client: &Client,
    project_id: &str,
    q: &ScoreQuery,
) -> Result<Page<ScoreView>> {
    let score_columns = SCORE_COLUMNS.select(DIALECT);
    let score_trace_context = SCORE_TRACE_CONTEXT.of(DIALECT);
    let (page, limit, offset) = paging(q.page, q.limit);
    let mut conditions = Sql::new(DIALECT, "s.project_id = ");
    conditions.bind(project_id.to_owned());
    equals(&mut conditions, "t.user_id", &q.user_id);
    equals(&mut conditions, "s.name", &q.name);
    if let Some(data_type) = q.data_type {
        let mut condition = Sql::new(DIALECT, "s.data_type = ");
        condition.bind(data_type.as_str().to_owned());
        conditions.and(condition);
    }
    if let Some(source) = q.source {
        let mut condition = Sql::new(DIALECT, "s.source = ");
        condition.bind(source.as_str().to_owned());
        conditions.and(condition);
    }
    equals(&mut conditions, "s.config_id", &q.config_id);
    equals(&mut conditions, "s.queue_id", &q.queue_id);
    all_tags(
        &mut conditions,
        "coalesce(t.tags, '[]'::jsonb)",
        &q.trace_tags,
    );
    any_of(&mut conditions, "s.environment", &q.environments);
    time_range(
        &mut conditions,
        "s.timestamp",
        q.from_timestamp,
        q.to_timestamp,
    );
    if let Some((operator, value)) = &q.value {
        let operator = match operator.trim() {
            op @ ("<" | ">" | "<=" | ">=" | "=") => op,
            "!=" => "IS DISTINCT FROM",
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
    any_of(&mut conditions, "s.id", &q.score_ids);
    equals(&mut conditions, "s.session_id", &q.session_id);
    equals(&mut conditions, "s.trace_id", &q.trace_id);
    any_of(&mut conditions, "s.observation_id", &q.observation_ids);
    equals(&mut conditions, "s.dataset_run_id", &q.dataset_run_id);
    compile_filters(&mut conditions, &q.filters, SCORE_FILTER_COLUMNS)?;

    let mut count_sql = Sql::new(DIALECT, &format!("SELECT count(*) {SCORE_FROM} WHERE "));
    count_sql.append(&conditions);
    let total_items = count(client, &count_sql).await?;
    let mut select = Sql::new(
        DIALECT,
        &format!("SELECT {score_columns}, {score_trace_context} {SCORE_FROM} WHERE "),
    );
    select.append(&conditions);
    select.push(" ORDER BY s.timestamp DESC NULLS LAST, s.id DESC LIMIT ");
    select.bind(i64::from(limit)).push(" OFFSET ").bind(offset);
    let items = query_scores(client, &select).await?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

pub(crate) async fn get_score(
    client: &Client,
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
    Ok(query_scores(client, &select).await?.pop())
}

// --- sessions ---

/// The environment of a session: that of its earliest trace (SQLite's bare column beside
/// `min()`).
const SESSION_ENVIRONMENT: &str =
    "(array_agg(t.environment ORDER BY t.timestamp ASC NULLS LAST, t.id))[1]";

pub(crate) async fn list_sessions(
    client: &Client,
    project_id: &str,
    q: &SessionQuery,
) -> Result<Page<SessionView>> {
    let (page, limit, offset) = paging(q.page, q.limit);
    let mut grouped = Sql::new(
        DIALECT,
        &format!(
            "SELECT t.session_id AS id, min(t.timestamp) AS created_at, \
         {SESSION_ENVIRONMENT} AS environment FROM traces t WHERE t.project_id = "
        ),
    );
    grouped.bind(project_id.to_owned());
    grouped.push(" AND t.session_id IS NOT NULL AND t.session_id != ''");
    any_of(&mut grouped, "t.environment", &q.environments);
    grouped.push(" GROUP BY t.session_id HAVING true");
    time_range(
        &mut grouped,
        "min(t.timestamp)",
        q.from_timestamp,
        q.to_timestamp,
    );
    let mut count_sql = Sql::new(DIALECT, "SELECT count(*) FROM (");
    count_sql.append(&grouped).push(") g");
    let total_items = count(client, &count_sql).await?;
    let mut select = Sql::new(DIALECT, "SELECT id, created_at, environment FROM (");
    select
        .append(&grouped)
        .push(") g ORDER BY created_at DESC NULLS LAST, id DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let items = query_sessions(client, &select).await?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        next_cursor: None,
    })
}

async fn query_sessions(client: &Client, sql: &Sql) -> Result<Vec<SessionView>> {
    let rows = query(client, sql).await?;
    let mut sessions = Vec::with_capacity(rows.len());
    for row in &rows {
        sessions.push(SessionView {
            id: row.try_get(0).map_err(pg_error)?,
            created_at: row
                .try_get::<_, Option<Micros>>(1)
                .map_err(pg_error)?
                .unwrap_or(0),
            environment: row
                .try_get::<_, Option<String>>(2)
                .map_err(pg_error)?
                .unwrap_or_else(|| "default".to_owned()),
            traces: Vec::new(),
        });
    }
    Ok(sessions)
}

pub(crate) async fn get_session(
    client: &Client,
    project_id: &str,
    session_id: &str,
) -> Result<Option<SessionView>> {
    let trace_columns = TRACE_COLUMNS.select(DIALECT);
    let mut select = Sql::new(
        DIALECT,
        &format!(
            "SELECT t.session_id, min(t.timestamp), {SESSION_ENVIRONMENT} FROM traces t \
         WHERE t.project_id = "
        ),
    );
    select
        .bind(project_id.to_owned())
        .push(" AND t.session_id = ")
        .bind(session_id.to_owned())
        .push(" GROUP BY t.session_id");
    let Some(mut session) = query_sessions(client, &select).await?.pop() else {
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
        .push(" ORDER BY t.timestamp ASC NULLS FIRST, t.id");
    session.traces = query_traces(client, &traces).await?;
    fill_derived(client, project_id, &mut session.traces).await?;
    Ok(Some(session))
}

// --- daily metrics ---

/// The UTC day of a trace, as days since the epoch.
const DAY_OF_TRACE: &str = "floor(t.timestamp / 86400000000.0)::int8";

/// `YYYY-MM-DD` of a day number.
fn date_of_day(day: i64) -> String {
    let iso = format_iso(day.saturating_mul(86_400_000_000));
    iso.get(..10).unwrap_or_default().to_owned()
}

pub(crate) async fn daily_metrics(
    client: &Client,
    project_id: &str,
    q: &MetricsQuery,
) -> Result<Page<DailyMetrics>> {
    let (page, limit, offset) = paging(q.page, q.limit);
    let mut conditions = Sql::new(DIALECT, "t.project_id = ");
    conditions.bind(project_id.to_owned());
    conditions.push(" AND t.timestamp IS NOT NULL");
    equals(&mut conditions, "t.name", &q.trace_name);
    equals(&mut conditions, "t.user_id", &q.user_id);
    all_tags(&mut conditions, "t.tags", &q.tags);
    any_of(&mut conditions, "t.environment", &q.environments);
    time_range(
        &mut conditions,
        "t.timestamp",
        q.from_timestamp,
        q.to_timestamp,
    );

    let mut count_sql = Sql::new(
        DIALECT,
        &format!("SELECT count(DISTINCT {DAY_OF_TRACE}) FROM traces t WHERE "),
    );
    count_sql.append(&conditions);
    let total_items = count(client, &count_sql).await?;

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
    let mut day_numbers: Vec<i64> = Vec::new();
    let mut days: Vec<DailyMetrics> = Vec::new();
    for row in query(client, &days_sql).await? {
        let day: i64 = row.try_get(0).map_err(pg_error)?;
        let traces: i64 = row.try_get(1).map_err(pg_error)?;
        day_numbers.push(day);
        days.push(DailyMetrics {
            date: date_of_day(day),
            count_traces: u64::try_from(traces).unwrap_or(0),
            count_observations: 0,
            total_cost: 0.0,
            usage: Vec::new(),
        });
    }
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
         coalesce(sum(o.total_cost::numeric), 0.0)::float8, \
         coalesce(sum(o.usage_input), 0)::int8, \
         coalesce(sum(o.usage_output), 0)::int8, coalesce(sum(o.usage_total), 0)::int8 \
         FROM traces t JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id \
         WHERE "
        ),
    );
    usage_sql.append(&conditions);
    usage_sql.push(&format!(" AND {DAY_OF_TRACE} = ANY("));
    usage_sql.bind(day_numbers.clone()).push(")");
    usage_sql.push(" GROUP BY day, o.model ORDER BY day, o.model");
    let mut per_day: BTreeMap<i64, (u64, f64, Vec<ModelUsage>)> = BTreeMap::new();
    for row in query(client, &usage_sql).await? {
        let day: i64 = row.try_get(0).map_err(pg_error)?;
        let model: Option<String> = row.try_get(1).map_err(pg_error)?;
        let observations: i64 = row.try_get(2).map_err(pg_error)?;
        let traces: i64 = row.try_get(3).map_err(pg_error)?;
        let cost: f64 = row.try_get(4).map_err(pg_error)?;
        let entry = per_day.entry(day).or_default();
        entry.0 += u64::try_from(observations).unwrap_or(0);
        entry.1 += cost;
        if let Some(model) = model.filter(|m| !m.is_empty()) {
            entry.2.push(ModelUsage {
                model,
                input_usage: row.try_get(5).map_err(pg_error)?,
                output_usage: row.try_get(6).map_err(pg_error)?,
                total_usage: row.try_get(7).map_err(pg_error)?,
                count_traces: u64::try_from(traces).unwrap_or(0),
                count_observations: u64::try_from(observations).unwrap_or(0),
                total_cost: cost,
            });
        }
    }
    for (day, number) in days.iter_mut().zip(&day_numbers) {
        if let Some((observations, cost, usage)) = per_day.remove(number) {
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
    fn search_text_becomes_a_safe_tsquery() {
        assert_eq!(tsqueries_of("NUMBER 3"), ["'number'", "'3':*"]);
        assert_eq!(tsqueries_of("'; DROP--"), ["'drop':*"]);
        assert!(tsqueries_of("% \"").is_empty());
    }

    #[test]
    fn days_format_as_dates() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(19_000), "2022-01-08");
    }
}
