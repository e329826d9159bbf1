//! Query and result types of the read side, independent of any wire format.

use spindle_core::time::Micros;
use spindle_core::{
    Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource, TraceRecord,
};

/// One page of results. `total_items` counts every match, not just this page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub limit: u32,
    pub total_items: u64,
    /// Whether `total_items` is an estimate rather than an exact count (SQLite's total of a
    /// search for common words, see ARCHITECTURE.md "Search").
    pub total_is_estimate: bool,
    /// For keyset-paginated queries: where the next page starts, if there is one.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page of `items` among `total_items` counted exactly, with no cursor.
    pub fn counted(items: Vec<T>, page: u32, limit: u32, total_items: u64) -> Page<T> {
        Page {
            items,
            page,
            limit,
            total_items,
            total_is_estimate: false,
            next_cursor: None,
        }
    }

    /// The same page with each item converted.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(convert).collect(),
            page: self.page,
            limit: self.limit,
            total_items: self.total_items,
            total_is_estimate: self.total_is_estimate,
            next_cursor: self.next_cursor,
        }
    }

    /// The same page with each item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(convert)
                .collect::<Result<_, E>>()?,
            page: self.page,
            limit: self.limit,
            total_items: self.total_items,
            total_is_estimate: self.total_is_estimate,
            next_cursor: self.next_cursor,
        })
    }

    pub fn total_pages(&self) -> u64 {
        if self.limit == 0 {
            0
        } else {
            self.total_items.div_ceil(u64::from(self.limit))
        }
    }
}

/// A keyset position: the last row of the previous page, in the query's descending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub time: Micros,
    pub id: String,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A sort: a column of the public API (`timestamp`, `name`, `latency`, ...) and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub column: String,
    pub direction: Direction,
}

/// The value side of an advanced filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    String(String),
    Number(f64),
    Boolean(bool),
    Datetime(Micros),
    Strings(Vec<String>),
    Null,
}

/// One condition of the `filter` query parameter: `{type, column, operator, value, key?}`.
/// Conditions combine with AND. Columns use the public API's camelCase names.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: String,
    pub operator: String,
    pub value: FilterValue,
    /// For object columns (`metadata`): the key inside the object.
    pub key: Option<String>,
}

impl Filter {
    /// A condition on a column that is not an object (no `key`).
    pub fn new(column: &str, operator: &str, value: FilterValue) -> Filter {
        Filter {
            column: column.to_owned(),
            operator: operator.to_owned(),
            value,
            key: None,
        }
    }
}

/// `GET /api/public/traces` parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceQuery {
    pub page: u32,
    pub limit: u32,
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub session_id: Option<String>,
    pub version: Option<String>,
    pub release: Option<String>,
    /// Every tag must be present.
    pub tags: Vec<String>,
    /// Any of these environments.
    pub environments: Vec<String>,
    pub from_timestamp: Option<Micros>,
    pub to_timestamp: Option<Micros>,
    pub order_by: Option<OrderBy>,
    pub filters: Vec<Filter>,
    /// Full-text search over input and output.
    pub search: Option<String>,
    /// Only traces with a score of this name whose value lies in the range.
    pub score: Option<ScoreRange>,
    /// Only traces with comments on them (`Some(true)`) or only those without (`Some(false)`).
    pub has_comments: Option<bool>,
}

impl TraceQuery {
    /// No filter, pages of `limit` traces.
    pub fn with_limit(limit: u32) -> Self {
        TraceQuery {
            limit,
            ..TraceQuery::default()
        }
    }
}

/// A score name and an optional value range (bounds included).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreRange {
    pub name: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `GET /api/public/observations` and `/v2/observations` parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservationQuery {
    pub page: u32,
    pub limit: u32,
    /// Keyset pagination (v2); when set, `page` is ignored.
    pub after: Option<Cursor>,
    pub observation_type: Option<ObservationType>,
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub level: Option<Level>,
    pub trace_id: Option<String>,
    pub version: Option<String>,
    pub parent_observation_id: Option<String>,
    pub is_root: Option<bool>,
    pub environments: Vec<String>,
    pub from_start_time: Option<Micros>,
    pub to_start_time: Option<Micros>,
    pub filters: Vec<Filter>,
    /// The sort (`startTime`, `name`, `model`, `latency`, `totalCost`, `inputTokens`,
    /// `outputTokens`, `totalTokens`); newest first without one. Not with `after`.
    pub order_by: Option<OrderBy>,
}

impl ObservationQuery {
    /// No filter, pages of `limit` observations.
    pub fn with_limit(limit: u32) -> Self {
        ObservationQuery {
            limit,
            ..ObservationQuery::default()
        }
    }
}

/// `GET /api/public/scores` and `/v2/scores` parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreQuery {
    pub page: u32,
    pub limit: u32,
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub data_type: Option<ScoreDataType>,
    pub source: Option<ScoreSource>,
    pub config_id: Option<String>,
    pub queue_id: Option<String>,
    pub trace_tags: Vec<String>,
    pub environments: Vec<String>,
    pub from_timestamp: Option<Micros>,
    pub to_timestamp: Option<Micros>,
    /// Compare `value` with `operator` (`<`, `>`, `<=`, `>=`, `!=`, `=`).
    pub value: Option<(String, f64)>,
    pub score_ids: Vec<String>,
    pub session_id: Option<String>,
    pub trace_id: Option<String>,
    pub observation_ids: Vec<String>,
    pub dataset_run_id: Option<String>,
    pub filters: Vec<Filter>,
    /// The sort (`timestamp`, `name`, `value`); newest first without one.
    pub order_by: Option<OrderBy>,
}

/// `GET /api/public/sessions` parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionQuery {
    pub page: u32,
    pub limit: u32,
    pub from_timestamp: Option<Micros>,
    pub to_timestamp: Option<Micros>,
    pub environments: Vec<String>,
}

/// `GET /api/public/metrics/daily` parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsQuery {
    pub page: u32,
    pub limit: u32,
    pub trace_name: Option<String>,
    pub user_id: Option<String>,
    pub tags: Vec<String>,
    pub environments: Vec<String>,
    pub from_timestamp: Option<Micros>,
    pub to_timestamp: Option<Micros>,
}

/// A stored trace with the fields derived from its observations and scores.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceView {
    pub record: TraceRecord,
    pub created_at: Micros,
    pub updated_at: Micros,
    /// Seconds from the earliest start to the latest end of its observations.
    pub latency_seconds: Option<f64>,
    /// Sum of the observations' total costs.
    pub total_cost: f64,
    /// The worst level among its observations (`DEFAULT` when it has none).
    pub level: Level,
    pub observation_ids: Vec<String>,
    pub score_ids: Vec<String>,
    /// Filled by `get_trace` only: the full observations, ordered by start time.
    pub observations: Vec<ObservationView>,
    /// Filled by `get_trace` only: the full scores.
    pub scores: Vec<ScoreView>,
}

/// A stored observation.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationView {
    pub record: ObservationRecord,
    pub created_at: Micros,
    pub updated_at: Micros,
    /// Trace-level context for v2 observations: the trace's name, user, session and tags.
    pub trace_name: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub tags: Vec<String>,
    pub release: Option<String>,
}

/// A stored score, with the trace context the v1/v2 score endpoints return.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreView {
    pub record: ScoreRecord,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub trace_user_id: Option<String>,
    pub trace_tags: Vec<String>,
    pub trace_environment: Option<String>,
    pub trace_session_id: Option<String>,
}

/// A session: the traces that share a session id.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub id: String,
    /// The timestamp of its earliest trace.
    pub created_at: Micros,
    pub environment: String,
    /// Filled by `get_session` only.
    pub traces: Vec<TraceView>,
}

/// Usage and cost of one model on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelUsage {
    pub model: String,
    pub input_usage: i64,
    pub output_usage: i64,
    pub total_usage: i64,
    pub count_traces: u64,
    pub count_observations: u64,
    pub total_cost: f64,
}

/// One day of `GET /api/public/metrics/daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyMetrics {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub count_traces: u64,
    pub count_observations: u64,
    pub total_cost: f64,
    pub usage: Vec<ModelUsage>,
}
