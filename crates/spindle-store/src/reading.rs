//! The reads both backends run alike (a trace with its derived fields, observations, scores,
//! sessions, daily metrics), written once over a [`ReadConnection`]: the statements of
//! [`sql::reads`](crate::sql::reads) run one after another on one connection. PostgreSQL's
//! connection awaits its driver; SQLite's answers at once, on a read thread, where
//! [`complete`] runs the read. The traces list keeps a planner per backend.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use crate::sql::reads::{
    self, decode_observation_view, decode_score_view, decode_session, decode_trace_view, Payloads,
    Total,
};
use crate::sql::{Dialect, RowAccess, Sql};
use crate::{
    DailyMetrics, Error, MetricsQuery, ObservationQuery, ObservationView, Page, Result, ScoreQuery,
    ScoreView, SessionQuery, SessionView, TraceView,
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

    /// The number a counting statement selects.
    async fn count(&self, sql: &Sql) -> Result<u64>;

    /// The project's kept count.
    async fn project_count(&self, project_id: &str, counter: Counter) -> Result<u64>;
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

// --- observations ---

pub async fn list_observations(
    connection: &impl ReadConnection,
    project_id: &str,
    query: &ObservationQuery,
) -> Result<Page<ObservationView>> {
    let list = reads::observation_list(connection.dialect(), project_id, query)?;
    let total_items = total(connection, project_id, &list.total).await?;
    let items = connection
        .rows(&list.select, |row| decode_observation_view(row))
        .await?;
    Ok(reads::observation_page(&list, items, total_items))
}

pub async fn get_observation(
    connection: &impl ReadConnection,
    project_id: &str,
    observation_id: &str,
) -> Result<Option<ObservationView>> {
    let select = reads::observation_by_id(connection.dialect(), project_id, observation_id);
    let mut found = connection
        .rows(&select, |row| decode_observation_view(row))
        .await?;
    Ok(found.pop())
}

// --- scores ---

pub async fn list_scores(
    connection: &impl ReadConnection,
    project_id: &str,
    query: &ScoreQuery,
) -> Result<Page<ScoreView>> {
    let list = reads::score_list(connection.dialect(), project_id, query)?;
    let total_items = total(connection, project_id, &list.total).await?;
    let items = connection
        .rows(&list.select, |row| decode_score_view(row))
        .await?;
    Ok(list.page_of(items, total_items))
}

pub async fn get_score(
    connection: &impl ReadConnection,
    project_id: &str,
    score_id: &str,
) -> Result<Option<ScoreView>> {
    let select = reads::score_by_id(connection.dialect(), project_id, score_id);
    let mut found = connection
        .rows(&select, |row| decode_score_view(row))
        .await?;
    Ok(found.pop())
}

// --- sessions ---

pub async fn list_sessions(
    connection: &impl ReadConnection,
    project_id: &str,
    query: &SessionQuery,
) -> Result<Page<SessionView>> {
    let list = reads::session_list(connection.dialect(), project_id, query);
    let total_items = total(connection, project_id, &list.total).await?;
    let items = connection
        .rows(&list.select, |row| decode_session(row))
        .await?;
    Ok(list.page_of(items, total_items))
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

pub async fn daily_metrics(
    connection: &impl ReadConnection,
    project_id: &str,
    query: &MetricsQuery,
) -> Result<Page<DailyMetrics>> {
    let metrics = reads::metrics_list(connection.dialect(), project_id, query);
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
    Ok(metrics.page(days, usage, total_items))
}
