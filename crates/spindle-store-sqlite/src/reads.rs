//! The read queries: traces with their derived fields, observations (page or keyset),
//! scores, sessions and daily metrics. Each runs on one read connection.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::{query_rows, sql_error};
use spindle_store::reading::{self, Counter, ReadConnection};
use spindle_store::sql::reads::{self, paging, NULL_TIMESTAMP_KEY};
use spindle_store::sql::rows::TRACE_COLUMNS;
use spindle_store::sql::{Dialect, Indexed, Sql};
use spindle_store::trace_index::{IndexedTerm, SplitQuery};
use spindle_store::{Direction, Page, Result, TraceQuery, TraceView};

const DIALECT: Dialect = Dialect::Sqlite;

/// A read connection running the shared reads; it never waits, so a read on it runs to its
/// end in [`reading::complete`].
pub(crate) struct Reader<'c>(pub(crate) &'c Connection);

impl ReadConnection for Reader<'_> {
    type Row<'r> = Indexed<'r, rusqlite::Row<'r>>;

    fn dialect(&self) -> Dialect {
        DIALECT
    }

    async fn rows<T>(
        &self,
        sql: &Sql,
        decode: impl Fn(&Self::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        // One lifetime for the row and its borrow, as `Row<'r>` names them.
        query_rows(self.0, sql, |row| {
            decode(&Indexed::new(row.row, row.columns))
        })
    }

    async fn each_row(
        &self,
        sql: &Sql,
        visit: impl FnMut(&Self::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        // SQLite steps one row at a time: decoding each to `()` keeps none of them.
        let visit = std::cell::RefCell::new(visit);
        query_rows(self.0, sql, |row| {
            (visit.borrow_mut())(&Indexed::new(row.row, row.columns))
        })
        .map(drop)
    }

    async fn count(&self, sql: &Sql) -> Result<u64> {
        count(self.0, sql)
    }

    async fn project_count(&self, project_id: &str, counter: Counter) -> Result<u64> {
        let column = match counter {
            Counter::Traces => "trace_count",
            Counter::Observations => "observation_count",
        };
        project_counter(self.0, project_id, column)
    }
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

/// A counter of `project_stats` (`trace_count` or `observation_count`).
fn project_counter(connection: &Connection, project_id: &str, column: &str) -> Result<u64> {
    let sql = format!("SELECT {column} FROM project_stats WHERE project_id = ?1");
    kept_count(connection, &sql, params![project_id])
}

/// The count one row of `sql` holds, 0 without a row.
fn kept_count(connection: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<u64> {
    let value = connection
        .prepare_cached(sql)
        .and_then(|mut statement| {
            statement
                .query_row(params, |row| row.get::<_, i64>(0))
                .optional()
        })
        .map_err(sql_error)?;
    Ok(value.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

// --- traces ---

/// The exact number of traces matching a query the index tables answer alone: the kept
/// count of one tag, the terms' index rows merged when that reads fewer rows than probing
/// (see [`merge_is_cheaper`]), or the driver's index rows that every other term's probe
/// finds.
fn count_from_index(
    connection: &Connection,
    project_id: &str,
    query: &TraceQuery,
    split: &SplitQuery<'_>,
    driver: &IndexedTerm,
) -> Result<u64> {
    let timeless = query.from_timestamp.is_none() && query.to_timestamp.is_none();
    if let (IndexedTerm::Tag(tag), [_], true) = (driver, split.terms.as_slice(), timeless) {
        return kept_tag_count(connection, project_id, tag);
    }
    if merge_is_cheaper(connection, project_id, query, &split.terms, driver)? {
        let merged = reads::index_intersection_count(DIALECT, project_id, query, &split.terms);
        return count(connection, &merged);
    }
    let count_sql = reads::index_count(DIALECT, project_id, query, &split.terms, driver);
    count(connection, &count_sql)
}

/// A merge reads every term's index rows once, about a third of the time a probe of one
/// row takes per row; probing seeks each other term once per row of the driver.
const MERGE_ROWS_PER_PROBE: u64 = 3;

/// Whether merging the index rows of `terms` reads fewer than [`MERGE_ROWS_PER_PROBE`] rows
/// per row of `driver`, the cost of probing. Without a time range a tag's rows are its kept
/// count; otherwise, and for metadata values, the rows in the range are counted, the other
/// terms' no further than that budget (a few percent of what probing would cost). Only when
/// every term is one range of rows and the driver is a tag.
fn merge_is_cheaper(
    connection: &Connection,
    project_id: &str,
    query: &TraceQuery,
    terms: &[IndexedTerm],
    driver: &IndexedTerm,
) -> Result<bool> {
    if terms.len() < 2 || !terms.iter().all(reads::is_one_range) {
        return Ok(false);
    }
    if !matches!(driver, IndexedTerm::Tag(_)) {
        return Ok(false);
    }
    let timeless = query.from_timestamp.is_none() && query.to_timestamp.is_none();
    let rows_of = |term: &IndexedTerm, cap: u64| match term {
        IndexedTerm::Tag(tag) if timeless => kept_tag_count(connection, project_id, tag),
        _ => count(
            connection,
            &reads::index_rows_capped(DIALECT, project_id, query, term, cap),
        ),
    };
    let mut rows = rows_of(driver, u64::MAX)?;
    let budget = rows.saturating_mul(MERGE_ROWS_PER_PROBE);
    // The tags first: without a time range their sizes are kept.
    let tags = terms
        .iter()
        .filter(|term| matches!(term, IndexedTerm::Tag(_)) && *term != driver);
    let values = terms
        .iter()
        .filter(|term| matches!(term, IndexedTerm::Metadata { .. }));
    for term in tags.chain(values) {
        let left = budget.saturating_sub(rows).saturating_add(1);
        rows = rows.saturating_add(rows_of(term, left)?);
        if rows > budget {
            return Ok(false);
        }
    }
    Ok(true)
}

/// How many traces carry `tag`, as `trace_tag_counts` keeps it.
fn kept_tag_count(connection: &Connection, project_id: &str, tag: &str) -> Result<u64> {
    let sql = "SELECT trace_count FROM trace_tag_counts WHERE project_id = ?1 AND tag = ?2";
    kept_count(connection, sql, params![project_id, tag])
}

pub(crate) async fn list_traces(
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
    reads::trace_conditions(&mut conditions, project_id, query, &split.other_filters)?;
    // The count reads the gathered matches, the page may probe them in its order instead;
    // a search alone that matches many traces answers the index's estimate as its total.
    let mut page_conditions = conditions.clone();
    let mut estimated_total = None;
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let project_traces = project_counter(connection, project_id, "trace_count")?;
        let search = super::search::condition(connection, project_id, search, project_traces)?;
        estimated_total =
            search.apply(query, project_traces, &mut conditions, &mut page_conditions);
    }

    let (order_expr, direction) = reads::trace_order(DIALECT, query)?;

    let direction = match direction {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    };
    // A tag or metadata list in time order walks its index table in that order and reads
    // only the traces it returns; otherwise the terms are primary-key probes of the tables.
    let driver = split.driver(query).filter(|_| order_expr == "t.timestamp");

    // A score range alone matching many scores: an estimate of how many.
    if let Some(range) = query
        .score
        .as_ref()
        .filter(|_| reads::score_range_alone(query))
    {
        if let Some(estimate) =
            reading::score_range_total(&Reader(connection), project_id, range).await?
        {
            estimated_total = Some(estimate);
        }
    }
    let total_items = if unfiltered {
        project_counter(connection, project_id, "trace_count")?
    } else if let Some(estimate) = estimated_total {
        estimate
    } else if let Some(driver) = driver.filter(|_| !split.needs_trace_rows(query)) {
        count_from_index(connection, project_id, query, &split, driver)?
    } else {
        let mut count_sql = reads::trace_source(DIALECT, project_id, query, driver, "count(*)");
        count_sql.append(&conditions);
        if let Some(range) = &query.score {
            count_sql.and(reads::score_range_condition(
                DIALECT, project_id, range, "t.id",
            ));
        }
        for term in split.terms.iter().filter(|term| Some(*term) != driver) {
            count_sql.and(reads::term_probe(
                DIALECT,
                project_id,
                term,
                "t.id",
                &format!("coalesce(t.timestamp, {NULL_TIMESTAMP_KEY})"),
            ));
        }
        count(connection, &count_sql)?
    };

    let totals_order = reads::totals_order_column(query).filter(|_| driver.is_none());
    let mut select = match totals_order {
        Some(_) => reads::totals_source(DIALECT, project_id, trace_columns),
        None => reads::trace_source(DIALECT, project_id, query, driver, trace_columns),
    };
    select.append(&page_conditions);
    if let Some(range) = &query.score {
        // Many matches: walk the traces in time order and keep those in the score range
        // (`+` keeps SQLite from probing each matching id and sorting them all); few: probe.
        let walk =
            reads::score_range_walks(driver.is_none() && order_expr == "t.timestamp", total_items);
        let probes = walk && {
            let traces = project_counter(connection, project_id, "trace_count")?;
            reads::score_range_probes(offset, limit, traces, total_items)
        };
        if probes {
            select.and(reads::score_range_probe(DIALECT, project_id, range));
        } else {
            let id_expr = if walk {
                DIALECT.without_index("t.id")
            } else {
                "t.id".to_owned()
            };
            select.and(reads::score_range_condition(
                DIALECT, project_id, range, &id_expr,
            ));
        }
    }
    for term in split.terms.iter().filter(|term| Some(*term) != driver) {
        let (id_expr, ts_expr) = match driver {
            Some(_) => ("d.trace_id", "d.ts".to_owned()),
            None => (
                "t.id",
                format!("coalesce(t.timestamp, {NULL_TIMESTAMP_KEY})"),
            ),
        };
        select.and(reads::term_probe(
            DIALECT, project_id, term, id_expr, &ts_expr,
        ));
    }
    match (driver, totals_order) {
        (Some(_), _) => select.push(&format!(
            " ORDER BY d.ts {direction}, d.trace_id {direction} LIMIT "
        )),
        (None, Some(column)) => select.push(&format!(
            " ORDER BY {column} {direction}, tt.trace_id {direction} LIMIT "
        )),
        (None, None) => select.push(&format!(
            " ORDER BY {order_expr} {direction}, t.id {direction} LIMIT "
        )),
    };
    reading::trace_page(
        &Reader(connection),
        project_id,
        select,
        (page, limit, offset),
        total_items,
        estimated_total.is_some() && !unfiltered,
    )
    .await
}
