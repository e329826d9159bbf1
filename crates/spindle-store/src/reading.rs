//! The reads both backends run alike (a trace with its derived fields, observations, scores,
//! sessions, daily metrics), written once over a [`ReadConnection`]: the statements of
//! [`sql::reads`](crate::sql::reads) run one after another on one connection. PostgreSQL's
//! connection awaits its driver; SQLite's answers at once, on a read thread, where
//! [`complete`] runs the read. The traces list keeps a planner per backend.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use crate::metrics::Sources;
use crate::sql::reads::{
    self, decode_observation_view, decode_score_view, decode_session, decode_trace_view,
    ListStatements, Payloads, Total,
};
use crate::sql::{rows, Dialect, RowAccess, Sql};
use crate::{
    DailyMetrics, Error, MediaRecord, MetricsQuery, ObservationQuery, ObservationView, Page,
    Result, ScoreQuery, ScoreView, SessionQuery, SessionView, TraceView,
};

/// A count a backend keeps per project instead of counting rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Traces,
    Observations,
}

/// One connection the statements of a read run on, one after another.
#[allow(async_fn_in_trait)]
pub trait ReadConnection {
    /// A result row, read by column name.
    type Row<'r>: RowAccess;

    /// The dialect of its statements.
    fn dialect(&self) -> Dialect;

    /// The rows of `sql`, each decoded by `decode`.
    async fn rows<T>(
        &self,
        sql: &Sql,
        decode: impl Fn(&Self::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>>;

    /// Calls `visit` with each row of `sql` in turn, holding one row at a time (streamed from
    /// the server on PostgreSQL): for reads that fold their rows instead of keeping them.
    async fn each_row(
        &self,
        sql: &Sql,
        visit: impl FnMut(&Self::Row<'_>) -> Result<()>,
    ) -> Result<()>;

    /// The number a counting statement selects.
    async fn count(&self, sql: &Sql) -> Result<u64>;

    /// The project's kept count.
    async fn project_count(&self, project_id: &str, counter: Counter) -> Result<u64>;
}

/// The estimated total of a traces list whose only condition is a score range holding more
/// than [`SCORE_RANGE_EXACT_UP_TO`](crate::sql::reads::SCORE_RANGE_EXACT_UP_TO) scores: about
/// how many scores it holds, from the first of them in value order and the range's least
/// and greatest values ([`score_range_estimate`](crate::sql::reads::score_range_estimate)),
/// or their count when the values do not spread (or the range is open at both ends, where
/// scores without a value count too). `None` when the range holds at most that many: the
/// list counts its traces exactly.
pub async fn score_range_total(
    connection: &impl ReadConnection,
    project_id: &str,
    range: &crate::ScoreRange,
) -> Result<Option<u64>> {
    use crate::sql::reads;
    let dialect = connection.dialect();
    let sample = reads::score_range_sample(dialect, project_id, range);
    let sampled = connection
        .rows(&sample, |row| Ok((row.int("n")?, row.opt_float("v")?)))
        .await?;
    let Some(&(count, last)) = sampled.first() else {
        return Ok(None);
    };
    let count = u64::try_from(count).unwrap_or(0);
    if count <= reads::SCORE_RANGE_EXACT_UP_TO {
        return Ok(None);
    }
    let open = range.min.is_none() && range.max.is_none();
    if let (Some(last), false) = (last, open) {
        let bounds = reads::score_range_bounds(dialect, project_id, range);
        let bounds = connection
            .rows(&bounds, |row| {
                Ok((row.opt_float("lo")?, row.opt_float("hi")?))
            })
            .await?;
        if let Some(&(Some(lo), Some(hi))) = bounds.first() {
            if let Some(estimate) = reads::score_range_estimate(count, last, lo, hi) {
                return Ok(Some(estimate));
            }
        }
    }
    let all = reads::score_range_count(dialect, project_id, range);
    connection.count(&all).await.map(Some)
}

/// Runs a read on a connection that never waits (SQLite's) to its end, on this thread.
pub fn complete<T>(read: impl Future<Output = Result<T>>) -> Result<T> {
    let mut read = std::pin::pin!(read);
    match read.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(Error::internal(
            "a read on a connection that never waits waited",
        )),
    }
}

/// The total of a page: counted, or the project's kept count.
async fn total(connection: &impl ReadConnection, project_id: &str, total: &Total) -> Result<u64> {
    match total {
        Total::ProjectObservations => {
            connection
                .project_count(project_id, Counter::Observations)
                .await
        }
        Total::Count(sql) => connection.count(sql).await,
    }
}

// --- traces ---

/// The traces `sql` selects ([`crate::sql::rows::TRACE_COLUMNS`]), without their derived
/// fields.
pub async fn traces(connection: &impl ReadConnection, sql: &Sql) -> Result<Vec<TraceView>> {
    connection.rows(sql, |row| decode_trace_view(row)).await
}

/// The page a traces list's statement selects, ending in ` LIMIT ` (its limit and offset,
/// from [`paging`](crate::sql::reads::paging), are bound here): its traces with their
/// derived fields, and the list's total.
pub async fn trace_page(
    connection: &impl ReadConnection,
    project_id: &str,
    mut select: Sql,
    (page, limit, offset): (u32, u32, i64),
    total_items: u64,
    total_is_estimate: bool,
) -> Result<Page<TraceView>> {
    select.bind(i64::from(limit)).push(" OFFSET ").bind(offset);
    let mut items = traces(connection, &select).await?;
    fill_derived(connection, project_id, &mut items).await?;
    Ok(Page {
        items,
        page,
        limit,
        total_items,
        total_is_estimate,
        next_cursor: None,
    })
}

/// Computes latency, total cost, level, observation and score ids for the given traces.
pub async fn fill_derived(
    connection: &impl ReadConnection,
    project_id: &str,
    views: &mut [TraceView],
) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let statements = reads::derived_statements(connection.dialect(), project_id, views);
    let observations = connection
        .rows(&statements.observations, |row| {
            reads::decode_observation_summary(row)
        })
        .await?;
    let scores = connection
        .rows(&statements.scores, |row| reads::decode_score_summary(row))
        .await?;
    reads::apply_derived(views, observations, scores);
    Ok(())
}

/// A trace with its observations (their payloads as `payloads` says) and scores.
pub async fn get_trace(
    connection: &impl ReadConnection,
    project_id: &str,
    trace_id: &str,
    payloads: Payloads,
) -> Result<Option<TraceView>> {
    let statements = reads::trace_by_id(connection.dialect(), project_id, trace_id, payloads);
    let mut views = traces(connection, &statements.trace).await?;
    fill_derived(connection, project_id, &mut views).await?;
    let Some(mut view) = views.pop() else {
        return Ok(None);
    };
    view.observations = connection
        .rows(&statements.observations, |row| decode_observation_view(row))
        .await?;
    view.scores = connection
        .rows(&statements.scores, |row| decode_score_view(row))
        .await?;
    Ok(Some(view))
}

// --- observations, scores and sessions ---

/// What the shared reads list a page of: observations, scores, sessions.
pub trait Listed: Sized {
    /// The query of a page.
    type Query;

    /// The statements of the page `query` asks for.
    fn list(dialect: Dialect, project_id: &str, query: &Self::Query) -> Result<ListStatements>;

    /// One row of the page's select.
    fn decode(row: &impl RowAccess) -> Result<Self>;

    /// The page of what the select returned.
    fn page(list: &ListStatements, items: Vec<Self>, total_items: u64) -> Page<Self> {
        list.page_of(items, total_items)
    }
}

/// What the shared reads also get by id: observations and scores.
pub trait Fetched: Listed {
    /// The select of the one with `id`.
    fn by_id(dialect: Dialect, project_id: &str, id: &str) -> Sql;
}

/// Declares a [`Listed`] type from its statements, its decoder and, when it has a cursor,
/// its page; with `by_id`, a [`Fetched`] one too.
macro_rules! listed {
    ($item:ty, $query:ty: $list:expr, $decode:path $(, page: $page:path)? $(, by_id: $by_id:path)?) => {
        impl Listed for $item {
            type Query = $query;

            fn list(dialect: Dialect, project_id: &str, query: &$query) -> Result<ListStatements> {
                ($list)(dialect, project_id, query)
            }

            fn decode(row: &impl RowAccess) -> Result<Self> {
                $decode(row)
            }

            $(fn page(list: &ListStatements, items: Vec<Self>, total_items: u64) -> Page<Self> {
                $page(list, items, total_items)
            })?
        }

        $(impl Fetched for $item {
            fn by_id(dialect: Dialect, project_id: &str, id: &str) -> Sql {
                $by_id(dialect, project_id, id)
            }
        })?
    };
}

listed!(ObservationView, ObservationQuery: reads::observation_list, decode_observation_view,
    page: reads::observation_page, by_id: reads::observation_by_id);
listed!(ScoreView, ScoreQuery: reads::score_list, decode_score_view, by_id: reads::score_by_id);
listed!(SessionView, SessionQuery: |dialect, project_id, query| {
    Ok(reads::session_list(dialect, project_id, query))
}, decode_session);

/// A page of observations, scores or sessions with its total.
pub async fn list<T: Listed>(
    connection: &impl ReadConnection,
    project_id: &str,
    query: &T::Query,
) -> Result<Page<T>> {
    let list = T::list(connection.dialect(), project_id, query)?;
    let total_items = total(connection, project_id, &list.total).await?;
    let items = connection.rows(&list.select, |row| T::decode(row)).await?;
    Ok(T::page(&list, items, total_items))
}

/// The observation or score with `id`.
pub async fn get<T: Fetched>(
    connection: &impl ReadConnection,
    project_id: &str,
    id: &str,
) -> Result<Option<T>> {
    let select = T::by_id(connection.dialect(), project_id, id);
    Ok(connection.rows(&select, |row| T::decode(row)).await?.pop())
}

/// The media record with this id.
pub async fn media(
    connection: &impl ReadConnection,
    project_id: &str,
    media_id: &str,
) -> Result<Option<MediaRecord>> {
    let select = rows::media_by_id(connection.dialect(), project_id, media_id);
    Ok(connection
        .rows(&select, |row| rows::decode_media(row))
        .await?
        .pop())
}

/// The stored bytes of a media record.
pub async fn media_bytes(
    connection: &impl ReadConnection,
    project_id: &str,
    media_id: &str,
) -> Result<Option<Vec<u8>>> {
    let select = rows::media_bytes(connection.dialect(), project_id, media_id);
    Ok(connection
        .rows(&select, |row| row.bytes("bytes"))
        .await?
        .pop())
}

/// A session with its traces (their derived fields filled in).
pub async fn get_session(
    connection: &impl ReadConnection,
    project_id: &str,
    session_id: &str,
) -> Result<Option<SessionView>> {
    let (session, session_traces) =
        reads::session_by_id(connection.dialect(), project_id, session_id);
    let Some(mut session) = connection
        .rows(&session, |row| decode_session(row))
        .await?
        .pop()
    else {
        return Ok(None);
    };
    session.traces = traces(connection, &session_traces).await?;
    fill_derived(connection, project_id, &mut session.traces).await?;
    Ok(Some(session))
}

// --- daily metrics ---

/// A page of daily metrics from `sources`: the rollups when they answer the query
/// (`reads::metrics_from_rollups`) and the project's rollups are built, else the raw rows;
/// `None` when the sources allowed decline it.
pub async fn daily_metrics(
    connection: &impl ReadConnection,
    project_id: &str,
    query: &MetricsQuery,
    sources: Sources,
) -> Result<Option<Page<DailyMetrics>>> {
    let dialect = connection.dialect();
    let rolled = match reads::metrics_from_rollups(dialect, project_id, query) {
        Some(rolled) if sources != Sources::RawRows => {
            (!crate::rollups_sql::is_pending(connection, project_id).await?).then_some(rolled)
        }
        _ => None,
    };
    let metrics = match rolled {
        Some(rolled) => rolled,
        None if sources == Sources::Rollups => return Ok(None),
        None => reads::metrics_list(dialect, project_id, query),
    };
    let total_items = connection.count(&metrics.count).await?;
    let days = connection
        .rows(&metrics.days, |row| metrics.decode_day(row))
        .await?;
    let usage = if days.is_empty() {
        Vec::new()
    } else {
        connection
            .rows(&metrics.usage(&days), |row| metrics.decode_usage(row))
            .await?
    };
    Ok(Some(metrics.page(days, usage, total_items)))
}
