//! The metrics query of `GET /api/public/metrics` (v1) and `GET /api/public/v2/metrics`:
//! rows of a view grouped by dimensions (and by a time bucket) with aggregated measures.
//!
//! Planning and answering are apart. [`plan`] checks a [`MetricsRequest`] against the view
//! declarations of [`views`] and resolves it into a [`Plan`] (dimensions, metrics, filters,
//! time bucket, order, limits); every client error is found there. A [`MetricsSource`]
//! answers a plan: [`RawRows`] answers every plan from the raw rows over a
//! [`ReadConnection`], with one statement written once for both dialects; [`RollupSource`]
//! answers the plans the writer-kept rollups cover (observations and scores by their own
//! columns, hourly or coarser; latency percentiles within 1 %) and declines the others.
//!
//! Aggregates run in SQL, except where a dialect has none: percentiles are
//! `percentile_cont` on PostgreSQL and worked out in Rust on SQLite, and histograms are
//! binned in Rust on both, from a second statement streamed one row at a time (see
//! [`compute`] for the memory bounds).

mod compute;
mod rollup;
pub mod views;

use spindle_core::time::Micros;

use crate::reading::ReadConnection;
use crate::sql::{compile_filter, Column, ColumnKind};
use crate::sql::{Dialect, Sql};
use crate::trace_index::IndexedTerm;
use crate::{Direction, Error, Filter, Result};
use views::{DimensionKind, DimensionSpec, MeasureSpec, ViewSpec};

pub use compute::{MAX_GROUPS_SORTED_IN_MEMORY, MAX_HELD_VALUES};
pub use rollup::{RollupSource, PERCENTILE_RELATIVE_ERROR};

/// The version of the API a query came through: v2 has no traces view and refuses
/// high-cardinality grouping dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsVersion {
    V1,
    V2,
}

/// The rows a query aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsView {
    Traces,
    Observations,
    ScoresNumeric,
    ScoresBoolean,
    ScoresCategorical,
}

impl MetricsView {
    pub const ALL: [MetricsView; 5] = [
        MetricsView::Traces,
        MetricsView::Observations,
        MetricsView::ScoresNumeric,
        MetricsView::ScoresBoolean,
        MetricsView::ScoresCategorical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MetricsView::Traces => "traces",
            MetricsView::Observations => "observations",
            MetricsView::ScoresNumeric => "scores-numeric",
            MetricsView::ScoresBoolean => "scores-boolean",
            MetricsView::ScoresCategorical => "scores-categorical",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        MetricsView::ALL
            .into_iter()
            .find(|view| view.name() == text)
    }
}

/// How a measure is aggregated over the rows of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Avg,
    Count,
    Max,
    Min,
    P50,
    P75,
    P90,
    P95,
    P99,
    Histogram,
}

impl Aggregation {
    pub const ALL: [Aggregation; 11] = [
        Aggregation::Sum,
        Aggregation::Avg,
        Aggregation::Count,
        Aggregation::Max,
        Aggregation::Min,
        Aggregation::P50,
        Aggregation::P75,
        Aggregation::P90,
        Aggregation::P95,
        Aggregation::P99,
        Aggregation::Histogram,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Avg => "avg",
            Aggregation::Count => "count",
            Aggregation::Max => "max",
            Aggregation::Min => "min",
            Aggregation::P50 => "p50",
            Aggregation::P75 => "p75",
            Aggregation::P90 => "p90",
            Aggregation::P95 => "p95",
            Aggregation::P99 => "p99",
            Aggregation::Histogram => "histogram",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Aggregation::ALL.into_iter().find(|a| a.name() == text)
    }

    /// The fraction of a percentile.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Aggregation::P50 => Some(0.5),
            Aggregation::P75 => Some(0.75),
            Aggregation::P90 => Some(0.9),
            Aggregation::P95 => Some(0.95),
            Aggregation::P99 => Some(0.99),
            _ => None,
        }
    }
}

/// The width of the time buckets of `timeDimension`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// Chosen from the length of the range, for about 50 buckets.
    Auto,
    Minute,
    Hour,
    Day,
    /// Weeks starting on Monday.
    Week,
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 6] = [
        Granularity::Auto,
        Granularity::Minute,
        Granularity::Hour,
        Granularity::Day,
        Granularity::Week,
        Granularity::Month,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Granularity::Auto => "auto",
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Granularity::ALL.into_iter().find(|g| g.name() == text)
    }

    /// `Auto` resolved for the range `from..to`, as Langfuse resolves it.
    fn resolve(self, from: Micros, to: Micros) -> Granularity {
        if self != Granularity::Auto {
            return self;
        }
        const HOUR: i64 = 3_600_000_000;
        let hours = (to - from) / HOUR;
        match hours {
            h if h < 2 => Granularity::Minute,
            h if h < 72 => Granularity::Hour,
            h if h < 1440 => Granularity::Day,
            h if h < 8760 => Granularity::Week,
            _ => Granularity::Month,
        }
    }
}

/// One metric of a query: a measure and its aggregation, answered as `{aggregation}_{measure}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSelection {
    pub measure: String,
    pub aggregation: Aggregation,
}

/// One key of `orderBy`: a dimension, a metric alias or `time_dimension`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsOrder {
    pub field: String,
    pub direction: Direction,
}

/// The output name of the time bucket.
pub const TIME_DIMENSION: &str = "time_dimension";
/// Rows a query answers at most, and by default in v2.
pub const MAX_ROW_LIMIT: u32 = 1000;
pub const DEFAULT_ROW_LIMIT_V2: u32 = 100;
/// Histogram bins at most, and by default.
pub const MAX_BINS: u32 = 100;
pub const DEFAULT_BINS: u32 = 10;

/// The time a metrics query may take by default (`SPINDLE_METRICS_QUERY_SECONDS`): the
/// rollups answer in milliseconds, so only a query over many raw rows comes near it.
pub const DEFAULT_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The answer to a metrics query stopped at its time limit `limit`: a client error, like
/// the other refusals of a query too large for this server, since the same query would take
/// as long again.
pub fn over_time_limit(limit: std::time::Duration) -> Error {
    let shown = if limit.subsec_nanos() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    };
    Error::invalid(
        "query",
        format!(
            "took longer than the {shown} a metrics query may take on this server \
             (SPINDLE_METRICS_QUERY_SECONDS); narrow the time range or the filters"
        ),
    )
}

/// A metrics query as the API takes it (the JSON of `query=` parsed, names not yet checked).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsRequest {
    pub version: MetricsVersion,
    pub view: MetricsView,
    /// The `field` of each of `dimensions`.
    pub dimensions: Vec<String>,
    pub metrics: Vec<MetricSelection>,
    pub filters: Vec<Filter>,
    pub granularity: Option<Granularity>,
    pub from: Micros,
    pub to: Micros,
    pub order_by: Vec<MetricsOrder>,
    /// `config.bins`.
    pub bins: Option<u32>,
    /// `config.row_limit`; without it v1 answers up to [`MAX_ROW_LIMIT`] rows and v2
    /// [`DEFAULT_ROW_LIMIT_V2`].
    pub row_limit: Option<u32>,
}

/// A value of an answered row.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricsValue {
    Null,
    Text(String),
    Integer(i64),
    /// The result of a `count` (Langfuse sends these as strings of digits).
    Count(i64),
    Float(f64),
    Boolean(bool),
    Tags(Vec<String>),
    /// `[lower, upper, height]` per bin.
    Histogram(Vec<[f64; 3]>),
}

/// An answered row: `(name, value)` pairs, the time bucket first, then the dimensions and
/// the metrics in the order the query named them.
pub type MetricsRow = Vec<(String, MetricsValue)>;

/// A metric of a plan.
#[derive(Debug, Clone)]
pub struct PlannedMetric {
    pub measure: &'static MeasureSpec,
    pub aggregation: Aggregation,
    /// `{aggregation}_{measure}`.
    pub alias: String,
}

/// What a plan orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKey {
    Time,
    Dimension(usize),
    Metric(usize),
}

/// A checked query, ready for a [`MetricsSource`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub view: &'static ViewSpec,
    pub version: MetricsVersion,
    pub dimensions: Vec<&'static DimensionSpec>,
    pub metrics: Vec<PlannedMetric>,
    pub filters: Vec<Filter>,
    pub from: Micros,
    pub to: Micros,
    /// The time bucket (never `Auto`).
    pub granularity: Option<Granularity>,
    pub order: Vec<(OrderKey, Direction)>,
    /// Whether empty time buckets between `from` and `to` are answered too (with a time
    /// dimension and no explicit `orderBy`, as Langfuse fills them).
    pub fill_time: bool,
    pub bins: u32,
    pub row_limit: u32,
}

/// Answers plans.
#[allow(async_fn_in_trait)]
pub trait MetricsSource {
    /// The rows of `plan` in project `project_id`, or `None` when this source cannot answer
    /// it (a source of rollups that do not cover its view, dimensions or range).
    async fn answer(&self, project_id: &str, plan: &Plan) -> Result<Option<Vec<MetricsRow>>>;
}

/// Answers every plan from the raw rows.
pub struct RawRows<'c, C>(pub &'c C);

impl<C: ReadConnection> MetricsSource for RawRows<'_, C> {
    async fn answer(&self, project_id: &str, plan: &Plan) -> Result<Option<Vec<MetricsRow>>> {
        compute::answer(self.0, project_id, plan).await.map(Some)
    }
}

/// Which sources may answer a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// The rollups when they cover the plan, else the raw rows.
    Any,
    /// The raw rows only.
    RawRows,
    /// The rollups only: `None` when they do not cover the plan.
    Rollups,
}

/// Plans `request` and answers it on `connection`: from the rollups when they cover the
/// plan ([`RollupSource`]), else from the raw rows.
pub async fn query(
    connection: &impl ReadConnection,
    project_id: &str,
    request: &MetricsRequest,
) -> Result<Vec<MetricsRow>> {
    let rows = query_from(connection, project_id, request, Sources::Any).await?;
    rows.ok_or_else(|| Error::internal("the raw rows declined a metrics plan"))
}

/// A traces plan read from `trace_totals` ([`views::TRACE_TOTALS`]): the plan on those rows
/// without its tag and metadata filters, and those filters as the terms of the index tables
/// that answer them (`trace_tags`, `trace_metadata`; see [`compute::indexed_input`]).
#[derive(Debug, Clone)]
pub struct TotalsPlan {
    pub plan: Plan,
    pub terms: Vec<IndexedTerm>,
}

/// `plan` read from `trace_totals` when it is a traces plan whose every dimension and
/// measure those rows hold (not tags, version or the scores' count) and whose every filter
/// is on a column they hold or is one the index tables answer exactly (a tag, or a
/// metadata value short enough to be indexed: see [`crate::trace_index::indexed_terms`]);
/// `None` otherwise. The caller checks that the project's rollups are built (while they are
/// pending, the totals rows may lack columns a migration added).
pub fn on_trace_totals(plan: &Plan) -> Option<TotalsPlan> {
    if plan.view.view != MetricsView::Traces {
        return None;
    }
    let totals = &views::TRACE_TOTALS;
    let dimensions = plan
        .dimensions
        .iter()
        .map(|dimension| totals.dimension(dimension.name))
        .collect::<Option<Vec<_>>>()?;
    let metrics = plan
        .metrics
        .iter()
        .map(|metric| {
            Some(PlannedMetric {
                measure: totals.measure(metric.measure.name)?,
                aggregation: metric.aggregation,
                alias: metric.alias.clone(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let mut filters = Vec::new();
    let mut terms = Vec::new();
    for filter in &plan.filters {
        if totals.dimension(&filter.column).is_some() {
            filters.push(filter.clone());
            continue;
        }
        let indexed = crate::trace_index::indexed_terms(filter).filter(|t| !t.is_empty())?;
        for term in indexed {
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
    }
    Some(TotalsPlan {
        plan: Plan {
            view: totals,
            dimensions,
            metrics,
            filters,
            ..plan.clone()
        },
        terms,
    })
}

/// Plans `request` and answers it from `sources`; `None` when they decline it.
pub async fn query_from(
    connection: &impl ReadConnection,
    project_id: &str,
    request: &MetricsRequest,
    sources: Sources,
) -> Result<Option<Vec<MetricsRow>>> {
    let plan = plan(request)?;
    if sources != Sources::RawRows {
        let rows = RollupSource(connection).answer(project_id, &plan).await?;
        if rows.is_some() || sources == Sources::Rollups {
            return Ok(rows);
        }
        // A traces plan the totals rows hold reads them instead of the traces.
        if let Some(on_totals) = on_trace_totals(&plan) {
            if !crate::rollups_sql::is_pending(connection, project_id).await? {
                return compute::answer_indexed(
                    connection,
                    project_id,
                    &on_totals.plan,
                    &on_totals.terms,
                )
                .await
                .map(Some);
            }
        }
    }
    RawRows(connection).answer(project_id, &plan).await
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// Checks `request` against its view and resolves it. Errors name the field of the query
/// (`query.dimensions[1].field: Invalid dimension …`).
pub fn plan(request: &MetricsRequest) -> Result<Plan> {
    let version = request.version;
    if !views::serves(version, request.view) {
        let served = MetricsView::ALL
            .into_iter()
            .filter(|view| views::serves(version, *view))
            .map(MetricsView::name);
        return Err(Error::invalid(
            "query.view",
            format!(
                "Invalid view {:?}: the v2 metrics API has no such view (expected one of {})",
                request.view.name(),
                names(served)
            ),
        ));
    }
    let view = ViewSpec::of(request.view);
    let view_name = request.view.name();

    let mut dimensions: Vec<&'static DimensionSpec> = Vec::new();
    for (index, field) in request.dimensions.iter().enumerate() {
        let at = format!("query.dimensions[{index}].field");
        let Some(dimension) = view.dimension(field).filter(|d| d.exists_in(version)) else {
            let known = view
                .dimensions
                .iter()
                .filter(|d| d.groups_in(version))
                .map(|d| d.name);
            return Err(Error::invalid(
                at,
                format!(
                    "Invalid dimension {field:?} for view {view_name:?} (expected one of {})",
                    names(known)
                ),
            ));
        };
        if !dimension.groups_in(version) {
            return Err(Error::invalid(
                at,
                format!(
                    "dimension {field:?} has high cardinality and cannot group rows in the v2 \
                     metrics API; filter on it instead"
                ),
            ));
        }
        if dimensions.iter().any(|d| d.name == dimension.name) {
            return Err(Error::invalid(at, format!("duplicate dimension {field:?}")));
        }
        dimensions.push(dimension);
    }

    if request.metrics.is_empty() {
        return Err(Error::invalid(
            "query.metrics",
            "at least one metric is required",
        ));
    }
    let mut metrics: Vec<PlannedMetric> = Vec::new();
    for (index, selection) in request.metrics.iter().enumerate() {
        let Some(measure) = view.measure(&selection.measure) else {
            return Err(Error::invalid(
                format!("query.metrics[{index}].measure"),
                format!(
                    "Invalid metric {:?} for view {view_name:?} (expected one of {})",
                    selection.measure,
                    names(view.measures.iter().map(|m| m.name))
                ),
            ));
        };
        let alias = format!("{}_{}", selection.aggregation.name(), measure.name);
        if metrics.iter().any(|m| m.alias == alias) {
            return Err(Error::invalid(
                format!("query.metrics[{index}]"),
                format!("duplicate metric {alias:?}"),
            ));
        }
        metrics.push(PlannedMetric {
            measure,
            aggregation: selection.aggregation,
            alias,
        });
    }

    for (index, filter) in request.filters.iter().enumerate() {
        if !filter_columns(view, version)
            .iter()
            .any(|column| column.name == filter.column)
        {
            return Err(Error::invalid(
                format!("query.filters[{index}].column"),
                format!(
                    "Invalid filter column {:?} for view {view_name:?} (expected one of {})",
                    filter.column,
                    names(filter_columns(view, version).iter().map(|c| c.name))
                ),
            ));
        }
        // Compiled here so that a bad operator or value is refused before any read.
        compile_query_filter(Dialect::Sqlite, view, version, index, filter)?;
    }

    if request.from >= request.to {
        return Err(Error::invalid(
            "query.toTimestamp",
            "fromTimestamp must be before toTimestamp",
        ));
    }
    let bins = request.bins.unwrap_or(DEFAULT_BINS);
    if !(1..=MAX_BINS).contains(&bins) {
        return Err(Error::invalid(
            "query.config.bins",
            format!("expected a whole number from 1 to {MAX_BINS}"),
        ));
    }
    let row_limit = request.row_limit.unwrap_or(match version {
        MetricsVersion::V1 => MAX_ROW_LIMIT,
        MetricsVersion::V2 => DEFAULT_ROW_LIMIT_V2,
    });
    if !(1..=MAX_ROW_LIMIT).contains(&row_limit) {
        return Err(Error::invalid(
            "query.config.row_limit",
            format!("expected a whole number from 1 to {MAX_ROW_LIMIT}"),
        ));
    }
    let granularity = request
        .granularity
        .map(|g| g.resolve(request.from, request.to));

    let mut order = Vec::new();
    for (index, item) in request.order_by.iter().enumerate() {
        let key = if granularity.is_some() && item.field == TIME_DIMENSION {
            Some(OrderKey::Time)
        } else if let Some(at) = dimensions.iter().position(|d| d.name == item.field) {
            Some(OrderKey::Dimension(at))
        } else {
            metrics
                .iter()
                .position(|m| m.alias == item.field && m.aggregation != Aggregation::Histogram)
                .map(OrderKey::Metric)
        };
        let Some(key) = key else {
            let mut known: Vec<&str> = Vec::new();
            if granularity.is_some() {
                known.push(TIME_DIMENSION);
            }
            known.extend(dimensions.iter().map(|d| d.name));
            known.extend(
                metrics
                    .iter()
                    .filter(|m| m.aggregation != Aggregation::Histogram)
                    .map(|m| m.alias.as_str()),
            );
            return Err(Error::invalid(
                format!("query.orderBy[{index}].field"),
                format!(
                    "Invalid orderBy field: {:?}. Must be one of the dimension or metric fields \
                     ({})",
                    item.field,
                    known.join(", ")
                ),
            ));
        };
        order.push((key, item.direction));
    }
    let fill_time = granularity.is_some() && order.is_empty();
    if order.is_empty() {
        // Langfuse's default: the time bucket, else the first metric descending, else the
        // first dimension.
        if granularity.is_some() {
            order.push((OrderKey::Time, Direction::Asc));
        } else if let Some(at) = metrics
            .iter()
            .position(|m| m.aggregation != Aggregation::Histogram)
        {
            order.push((OrderKey::Metric(at), Direction::Desc));
        } else if !dimensions.is_empty() {
            order.push((OrderKey::Dimension(0), Direction::Asc));
        }
    }

    Ok(Plan {
        view,
        version,
        dimensions,
        metrics,
        filters: request.filters.clone(),
        from: request.from,
        to: request.to,
        granularity,
        order,
        fill_time,
        bins,
        row_limit,
    })
}

/// The columns a query of `view` filters on: its dimensions and its metadata.
fn filter_columns(view: &ViewSpec, version: MetricsVersion) -> Vec<Column> {
    let mut columns: Vec<Column> = view
        .dimensions
        .iter()
        .filter(|d| d.exists_in(version))
        .map(|d| {
            let kind = match d.kind {
                DimensionKind::Text => ColumnKind::Text,
                DimensionKind::Integer | DimensionKind::Float => ColumnKind::Number,
                DimensionKind::Boolean => ColumnKind::Boolean,
                DimensionKind::Tags => ColumnKind::Array,
            };
            Column::per_dialect(d.name, kind, d.expr)
        })
        .collect();
    columns.push(Column::per_dialect(
        "metadata",
        ColumnKind::Object,
        view.metadata_column,
    ));
    columns
}

/// A filter of the query compiled with the shared filter compiler; its errors name the
/// field as the query does (`query.filters[0].value: …`).
fn compile_query_filter(
    dialect: Dialect,
    view: &ViewSpec,
    version: MetricsVersion,
    index: usize,
    filter: &Filter,
) -> Result<Sql> {
    compile_filter(dialect, index, filter, &filter_columns(view, version)).map_err(|error| {
        let message = match error.message.strip_prefix("filter[") {
            Some(rest) => format!("query.filters[{rest}"),
            None => error.message,
        };
        Error::new(error.kind, message)
    })
}

#[cfg(test)]
mod tests;
