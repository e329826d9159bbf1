//! The read queries on PostgreSQL: traces with their derived fields, observations (page or
//! keyset), scores, sessions and daily metrics, with the SQLite backend's semantics (NULLs
//! sort first ascending and last descending, text by code point).

use deadpool_postgres::{Client, GenericClient, StatementCache, Transaction};
use futures::StreamExt;
use tokio_postgres::{Row, Statement};

use super::{decode_rows, pg_error};
use spindle_store::reading::{self, Counter, ReadConnection};
use spindle_store::search::{self, query_words, SearchConditions};
use spindle_store::sql::reads::{self, all_tags, paging, NULL_TIMESTAMP_KEY};
use spindle_store::sql::rows::TRACE_COLUMNS;
use spindle_store::sql::{ColumnIndex, Dialect, Indexed, Sql};
use spindle_store::trace_index::{IndexedTerm, SplitQuery};
use spindle_store::{Direction, Page, Result, TraceQuery, TraceView};

const DIALECT: Dialect = Dialect::Postgres;

/// A pooled connection, or a transaction on one, with its cache of prepared statements.
pub(crate) trait Cached: GenericClient + Sync {
    fn statement_cache(&self) -> &StatementCache;
}

impl Cached for Client {
    fn statement_cache(&self) -> &StatementCache {
        &self.statement_cache
    }
}

impl Cached for Transaction<'_> {
    fn statement_cache(&self) -> &StatementCache {
        &self.statement_cache
    }
}

/// A connection running the shared reads.
pub(crate) struct Reader<'c, C>(pub(crate) &'c C);

impl<C: Cached> ReadConnection for Reader<'_, C> {
    type Row<'r> = Indexed<'r, Row>;

    fn dialect(&self) -> Dialect {
        DIALECT
    }

    async fn rows<T>(
        &self,
        sql: &Sql,
        decode: impl Fn(&Self::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        decode_rows(&query(self.0, sql).await?, decode)
    }

    async fn each_row(
        &self,
        sql: &Sql,
        visit: impl FnMut(&Self::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let (text, params) = sql.finish();
        let statement = prepare(self.0, &text).await?;
        visit_rows(
            &statement,
            self.0.query_raw(&statement, params).await,
            visit,
        )
        .await
    }

    async fn count(&self, sql: &Sql) -> Result<u64> {
        count(self.0, sql).await
    }

    async fn project_count(&self, project_id: &str, counter: Counter) -> Result<u64> {
        let column = match counter {
            Counter::Traces => "traces",
            Counter::Observations => "observations",
        };
        project_counter(self.0, project_id, column).await
    }
}

/// Calls `visit` with each row of a statement's stream (as the query of `statement`
/// returned it) in turn, read by column name.
pub(crate) async fn visit_rows(
    statement: &Statement,
    rows: std::result::Result<tokio_postgres::RowStream, tokio_postgres::Error>,
    mut visit: impl FnMut(&Indexed<'_, Row>) -> Result<()>,
) -> Result<()> {
    let rows = rows.map_err(pg_error)?;
    let columns = ColumnIndex::new(statement.columns().iter().map(|column| column.name()));
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.next().await {
        visit(&Indexed::new(&row.map_err(pg_error)?, &columns))?;
    }
    Ok(())
}

/// Prepared statements kept per connection; filters make many statement shapes, so the
/// cache is emptied when it grows past this.
const STATEMENT_CACHE_LIMIT: usize = 256;

/// `text` prepared on `client`, through its bounded cache of statements.
async fn prepare(client: &impl Cached, text: &str) -> Result<Statement> {
    if client.statement_cache().size() > STATEMENT_CACHE_LIMIT {
        client.statement_cache().clear();
    }
    client.prepare_cached(text).await.map_err(pg_error)
}

async fn query(client: &impl Cached, sql: &Sql) -> Result<Vec<Row>> {
    let (text, params) = sql.finish();
    let statement = prepare(client, &text).await?;
    client.query(&statement, &params).await.map_err(pg_error)
}

async fn count(client: &impl Cached, sql: &Sql) -> Result<u64> {
    let rows = query(client, sql).await?;
    let total: i64 = match rows.first() {
        Some(row) => row.try_get(0).map_err(pg_error)?,
        None => 0,
    };
    Ok(u64::try_from(total).unwrap_or(0))
}

/// A project's count of `traces` or `observations` (the sum of its counter shards).
async fn project_counter(client: &impl Cached, project_id: &str, column: &str) -> Result<u64> {
    let mut sql = Sql::new(
        DIALECT,
        &format!("SELECT coalesce(sum({column}), 0)::int8 FROM project_counts WHERE project_id = "),
    );
    sql.bind(project_id.to_owned());
    count(client, &sql).await
}

/// One `tsquery` per word of a user's search text (see [`query_words`]).
fn tsqueries_of(words: &[(String, bool)]) -> Vec<String> {
    words
        .iter()
        .map(|(word, prefix)| {
            if *prefix {
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
async fn search_condition(
    client: &Client,
    project_id: &str,
    search: &str,
) -> Result<SearchConditions> {
    let words = query_words(search);
    if words.is_empty() {
        return Ok(SearchConditions {
            gathered: reads::substring_search(DIALECT, search),
            probing: None,
            estimate: 0,
        });
    }
    let queries = tsqueries_of(&words);
    // The lexemes are the writer's normalized words, taken verbatim (no parser). Each word's
    // traces come from the GIN index of `trace_search`; their intersection is gathered first,
    // so the trace table is probed by primary key, not scanned.
    let mut gathered = Sql::new(DIALECT, "t.id IN (SELECT ");
    gathered.bind(search.to_owned()).push(" UNION ALL (");
    each_word(
        &mut gathered,
        project_id,
        &queries,
        " INTERSECT ",
        ("SELECT s.trace_id FROM trace_search s WHERE ", ""),
    );
    gathered.push("))");
    let mut estimate = words_estimate(client, &words).await?;
    let mut probing = None;
    if estimate >= search::PROBE_FROM_MATCHES {
        let project_traces = project_counter(client, project_id, "traces").await?;
        estimate = estimate.min(project_traces);
        if search::probes_each_trace(estimate, project_traces) {
            // One probe of `trace_search_by_trace` per word and walked trace.
            let mut sql = Sql::new(DIALECT, "(t.id = ");
            sql.bind(search.to_owned()).push(" OR (");
            each_word(
                &mut sql,
                project_id,
                &queries,
                " AND ",
                (
                    "EXISTS (SELECT 1 FROM trace_search s WHERE s.trace_id = t.id AND ",
                    ")",
                ),
            );
            sql.push("))");
            probing = Some(sql);
        }
    }
    Ok(SearchConditions {
        gathered,
        probing,
        estimate,
    })
}

/// One clause per word's `tsquery`, joined by `separator`: `around.0`, the condition that
/// `trace_search` rows `s` of the project hold the word, then `around.1`.
fn each_word(
    sql: &mut Sql,
    project_id: &str,
    queries: &[String],
    separator: &str,
    around: (&str, &str),
) {
    for (index, query) in queries.iter().enumerate() {
        if index > 0 {
            sql.push(separator);
        }
        sql.push(around.0)
            .push("s.project_id = ")
            .bind(project_id.to_owned())
            .push(" AND s.words @@ ")
            .bind(query.to_owned())
            .push("::tsquery")
            .push(around.1);
    }
}

/// How many `trace_search` rows the planner's statistics say hold the least common of
/// `words` (a prefix: any of the frequent words it starts with); 0 when they do not list
/// one of the words among the frequent ones or the table has not been analyzed yet.
async fn words_estimate(client: &Client, words: &[(String, bool)]) -> Result<u64> {
    let sql = Sql::new(
        DIALECT,
        "SELECT st.most_common_elems::text::text[], st.most_common_elem_freqs::float8[], \
         greatest(c.reltuples, 0)::float8 \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname \
         AND st.attname = 'words' WHERE c.oid = 'trace_search'::regclass",
    );
    let rows = query(client, &sql).await?;
    let Some(row) = rows.first() else {
        return Ok(0);
    };
    let lexemes: Option<Vec<String>> = row.try_get(0).map_err(pg_error)?;
    let frequencies: Option<Vec<f64>> = row.try_get(1).map_err(pg_error)?;
    let rows_analyzed: f64 = row.try_get(2).map_err(pg_error)?;
    let (Some(lexemes), Some(frequencies)) = (lexemes, frequencies) else {
        return Ok(0);
    };
    // The frequencies of the lexemes come first (three summary numbers follow them).
    let frequent: Vec<(&str, f64)> = lexemes
        .iter()
        .map(String::as_str)
        .zip(frequencies.iter().copied())
        .collect();
    let share = words
        .iter()
        .map(|(word, prefix)| {
            frequent
                .iter()
                .filter(|(lexeme, _)| match prefix {
                    true => lexeme.starts_with(word.as_str()),
                    false => lexeme == word,
                })
                .map(|(_, frequency)| frequency)
                .sum::<f64>()
                .min(1.0)
        })
        .fold(1.0_f64, f64::min);
    Ok((share * rows_analyzed) as u64)
}

/// `ASC NULLS FIRST` or `DESC NULLS LAST`: SQLite's order of NULLs.
fn direction_sql(direction: Direction) -> &'static str {
    match direction {
        Direction::Asc => "ASC NULLS FIRST",
        Direction::Desc => "DESC NULLS LAST",
    }
}

// --- traces ---

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
    let count_sql = reads::index_count(DIALECT, project_id, query, &split.terms, driver);
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
    reads::trace_conditions(&mut conditions, project_id, q, &split.other_filters)?;
    // The count reads the gathered matches, the page may probe them in its order instead;
    // a search alone that matches many traces answers the statistics' estimate as its total.
    let mut page_conditions = conditions.clone();
    let mut estimated_total = None;
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let search = search_condition(client, project_id, search).await?;
        // The estimate is at most the project's traces already.
        estimated_total = search.apply(q, u64::MAX, &mut conditions, &mut page_conditions);
    }
    let (order_expr, direction) = reads::trace_order(DIALECT, q)?;

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
    // A score range alone matching many scores: an estimate of how many.
    if let Some(range) = q.score.as_ref().filter(|_| reads::score_range_alone(q)) {
        if let Some(estimate) =
            reading::score_range_total(&Reader(client), project_id, range).await?
        {
            estimated_total = Some(estimate);
        }
    }
    let total_items = if unfiltered {
        project_counter(client, project_id, "traces").await?
    } else if let Some(estimate) = estimated_total {
        estimate
    } else if let Some(driver) = driver.filter(|_| index_only) {
        count_from_index(client, project_id, q, &split, driver).await?
    } else {
        let mut count_sql = Sql::new(DIALECT, "SELECT count(*) FROM traces t WHERE ");
        count_sql.append(&conditions);
        if let Some(range) = &q.score {
            count_sql.and(reads::score_range_condition(
                DIALECT, project_id, range, "t.id",
            ));
        }
        for term in &split.terms {
            count_sql.and(reads::term_probe(
                DIALECT, project_id, term, "t.id", &trace_ts,
            ));
        }
        count(client, &count_sql).await?
    };

    if let Some(range) = &q.score {
        // Many matches in time order: walk the traces and probe each one's scores when that
        // reaches the page sooner than gathering every match; otherwise gather them.
        let walk =
            reads::score_range_walks(driver.is_none() && order_expr == "t.timestamp", total_items);
        let probes = walk && {
            let traces = project_counter(client, project_id, "traces").await?;
            reads::score_range_probes(offset, limit, traces, total_items)
        };
        page_conditions.and(if probes {
            reads::score_range_probe(DIALECT, project_id, range)
        } else {
            reads::score_range_condition(DIALECT, project_id, range, "t.id")
        });
    }
    let totals_order = reads::totals_order_column(q).filter(|_| driver.is_none());
    let mut select = match totals_order {
        Some(_) => reads::totals_source(DIALECT, project_id, trace_columns),
        None => reads::trace_source(DIALECT, project_id, q, driver, trace_columns),
    };
    select.append(&page_conditions);
    for term in split.terms.iter().filter(|term| Some(*term) != driver) {
        match driver {
            Some(_) => select.and(reads::term_probe(
                DIALECT,
                project_id,
                term,
                "d.trace_id",
                "d.ts",
            )),
            None => select.and(reads::term_probe(
                DIALECT, project_id, term, "t.id", &trace_ts,
            )),
        };
    }
    match (driver, totals_order) {
        (Some(_), _) => select.push(&format!(
            " ORDER BY d.ts {id_direction}, d.trace_id {id_direction} LIMIT "
        )),
        // `total_cost` is never NULL: without a NULLS clause, `trace_totals_by_cost` walked
        // either way gives the order (`DESC NULLS LAST` made PostgreSQL sort every row).
        // `latency` may be NULL; its index keeps NULLs first, which both directions need.
        (None, Some(column)) => {
            let direction = if column == "tt.total_cost" {
                id_direction
            } else {
                direction
            };
            select.push(&format!(
                " ORDER BY {column} {direction}, tt.trace_id {id_direction} LIMIT "
            ))
        }
        (None, None) => select.push(&format!(
            " ORDER BY {order_expr} {direction}, t.id {id_direction} LIMIT "
        )),
    };
    // PostgreSQL counts every match, except a search or a score range alone that matches
    // many traces or scores.
    let total_is_estimate = estimated_total.is_some();
    reading::trace_page(
        &Reader(client),
        project_id,
        select,
        (page, limit, offset),
        total_items,
        total_is_estimate,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_a_safe_tsquery() {
        let of = |text: &str| tsqueries_of(&query_words(text));
        assert_eq!(of("NUMBER 3"), ["'number'", "'3':*"]);
        assert_eq!(of("'; DROP--"), ["'drop':*"]);
        assert!(of("% \"").is_empty());
    }
}
