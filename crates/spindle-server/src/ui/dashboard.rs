//! The dashboard of the web UI, answered entirely by the metrics query
//! (`Store::query_metrics`): each panel is one metrics request over the range, the time
//! buckets and the filters the page chose, so the numbers are those of the metrics API and
//! nothing here reads or aggregates rows itself.
//!
//! A filter narrows every panel whose view has the field: trace name, user, tags,
//! environment and release every view (through the joined trace for observations and
//! scores); the model the generation panels; metadata (`key = value`) the trace panels, the
//! only view whose metadata is the trace's.

use serde::Serialize;
use spindle_core::time::{format_iso, now_micros, Micros};
use spindle_core::{Error, ErrorKind};
use spindle_store::metrics::{
    Aggregation, Granularity, MetricSelection, MetricsOrder, MetricsRequest, MetricsRow,
    MetricsValue, MetricsVersion, MetricsView, MAX_ROW_LIMIT, TIME_DIMENSION,
};
use spindle_store::{Direction, Filter, FilterValue, Store};
use std::collections::BTreeMap;

use crate::routes::params::{any_of, Params};

/// The range shown when the request names none: the last seven days.
const DEFAULT_RANGE_MICROS: Micros = 7 * 86_400_000_000;
/// Rows of each latency table.
const LATENCY_ROWS: u32 = 50;

/// The dashboard's time bucket: what the page offers.
const GRANULARITIES: [Granularity; 3] = [Granularity::Hour, Granularity::Day, Granularity::Week];

/// What the dashboard filters on, each field optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DashboardFilters {
    pub trace_name: Option<String>,
    pub user_id: Option<String>,
    /// Every tag must be present.
    pub tags: Vec<String>,
    pub environment: Option<String>,
    pub release: Option<String>,
    pub model: Option<String>,
    /// A trace metadata key and the value it must hold.
    pub metadata: Option<(String, String)>,
}

/// A dashboard request: the range, its time bucket and the filters.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardQuery {
    pub from: Micros,
    pub to: Micros,
    pub granularity: Granularity,
    pub filters: DashboardFilters,
}

impl DashboardQuery {
    /// `fromTimestamp`, `toTimestamp` (the last seven days by default), `granularity`
    /// (`hour`, `day` or `week`; `day` by default), `name`, `userId`, `tag` (repeated),
    /// `environment`, `release`, `model`, `metadataKey` with `metadataValue`.
    pub fn parse(params: &Params) -> Result<DashboardQuery, Error> {
        let to = params.timestamp("toTimestamp")?.unwrap_or_else(now_micros);
        let from = params
            .timestamp("fromTimestamp")?
            .unwrap_or(to - DEFAULT_RANGE_MICROS);
        if from >= to {
            return Err(Error::invalid(
                "fromTimestamp",
                "must be before toTimestamp",
            ));
        }
        let granularity = params
            .parsed(
                "granularity",
                |text| {
                    Granularity::parse(text)
                        .filter(|granularity| GRANULARITIES.contains(granularity))
                },
                "hour, day or week",
            )?
            .unwrap_or(Granularity::Day);
        if buckets(granularity, from, to) > i64::from(MAX_ROW_LIMIT) {
            return Err(Error::invalid(
                "granularity",
                format!(
                    "{} buckets would exceed {MAX_ROW_LIMIT} over this range; choose a wider one",
                    granularity.name()
                ),
            ));
        }
        let metadata = match (params.string("metadataKey"), params.get("metadataValue")) {
            (Some(key), Some(value)) => Some((key, value.to_owned())),
            (Some(_), None) => {
                return Err(Error::invalid(
                    "metadataValue",
                    "is required with metadataKey",
                ))
            }
            (None, _) => None,
        };
        Ok(DashboardQuery {
            from,
            to,
            granularity,
            filters: DashboardFilters {
                trace_name: params.string("name"),
                user_id: params.string("userId"),
                tags: params.each("tag"),
                environment: params.string("environment"),
                release: params.string("release"),
                model: params.string("model"),
                metadata,
            },
        })
    }
}

/// How many buckets of `granularity` the range `from..to` spans (about).
fn buckets(granularity: Granularity, from: Micros, to: Micros) -> i64 {
    const HOUR: i64 = 3_600_000_000;
    let width = match granularity {
        Granularity::Hour => HOUR,
        Granularity::Week => 7 * 24 * HOUR,
        _ => 24 * HOUR,
    };
    (to - from) / width + 2
}

/// The column a dashboard field filters in each view (`None`: the view has no such field).
struct FieldColumns {
    traces: Option<&'static str>,
    observations: Option<&'static str>,
    scores: Option<&'static str>,
}

impl FieldColumns {
    fn of(&self, view: MetricsView) -> Option<&'static str> {
        match view {
            MetricsView::Traces => self.traces,
            MetricsView::Observations => self.observations,
            _ => self.scores,
        }
    }
}

const fn everywhere(traces: &'static str, joined: &'static str) -> FieldColumns {
    FieldColumns {
        traces: Some(traces),
        observations: Some(joined),
        scores: Some(joined),
    }
}

const NAME: FieldColumns = everywhere("name", "traceName");
const USER: FieldColumns = everywhere("userId", "userId");
const TAGS: FieldColumns = everywhere("tags", "tags");
const ENVIRONMENT: FieldColumns = everywhere("environment", "environment");
const RELEASE: FieldColumns = everywhere("release", "traceRelease");
const MODEL: FieldColumns = FieldColumns {
    traces: None,
    observations: Some("providedModelName"),
    scores: None,
};
const METADATA: FieldColumns = FieldColumns {
    traces: Some("metadata"),
    observations: None,
    scores: None,
};

impl DashboardFilters {
    /// The conditions of the metrics query of `view`.
    pub fn for_view(&self, view: MetricsView) -> Vec<Filter> {
        let mut filters = Vec::new();
        let equals = |column: &str, value: &str| Filter {
            column: column.to_owned(),
            operator: "=".to_owned(),
            value: FilterValue::String(value.to_owned()),
            key: None,
        };
        let plain = [
            (&NAME, &self.trace_name),
            (&USER, &self.user_id),
            (&ENVIRONMENT, &self.environment),
            (&RELEASE, &self.release),
            (&MODEL, &self.model),
        ];
        for (columns, value) in plain {
            if let (Some(column), Some(value)) = (columns.of(view), value) {
                filters.push(equals(column, value));
            }
        }
        if let (Some(column), false) = (TAGS.of(view), self.tags.is_empty()) {
            filters.push(Filter {
                operator: "all of".to_owned(),
                ..any_of(column, self.tags.clone())
            });
        }
        if let (Some(column), Some((key, value))) = (METADATA.of(view), &self.metadata) {
            filters.push(Filter {
                key: Some(key.clone()),
                ..equals(column, value)
            });
        }
        filters
    }
}

/// One metrics request of the dashboard.
struct Panel<'q> {
    query: &'q DashboardQuery,
    view: MetricsView,
    dimensions: &'static [&'static str],
    metrics: &'static [(&'static str, Aggregation)],
    over_time: bool,
    filters: Vec<Filter>,
    order_by: Option<(&'static str, Direction)>,
    row_limit: u32,
}

impl<'q> Panel<'q> {
    fn new(
        query: &'q DashboardQuery,
        view: MetricsView,
        dimensions: &'static [&'static str],
        metrics: &'static [(&'static str, Aggregation)],
    ) -> Self {
        Panel {
            query,
            view,
            dimensions,
            metrics,
            over_time: false,
            filters: Vec::new(),
            order_by: None,
            row_limit: MAX_ROW_LIMIT,
        }
    }

    fn over_time(self) -> Self {
        Panel {
            over_time: true,
            ..self
        }
    }

    fn only(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    fn top(self, by: &'static str, rows: u32) -> Self {
        Panel {
            order_by: Some((by, Direction::Desc)),
            row_limit: rows,
            ..self
        }
    }

    fn request(&self) -> MetricsRequest {
        let mut filters = self.query.filters.for_view(self.view);
        filters.extend(self.filters.iter().cloned());
        MetricsRequest {
            version: MetricsVersion::V1,
            view: self.view,
            dimensions: self.dimensions.iter().map(|d| (*d).to_owned()).collect(),
            metrics: self
                .metrics
                .iter()
                .map(|(measure, aggregation)| MetricSelection {
                    measure: (*measure).to_owned(),
                    aggregation: *aggregation,
                })
                .collect(),
            filters,
            granularity: self.over_time.then_some(self.query.granularity),
            from: self.query.from,
            to: self.query.to,
            order_by: self
                .order_by
                .iter()
                .map(|(field, direction)| MetricsOrder {
                    field: (*field).to_owned(),
                    direction: *direction,
                })
                .collect(),
            bins: None,
            row_limit: Some(self.row_limit),
        }
    }

    async fn rows(&self, store: &dyn Store, project_id: &str) -> Result<Vec<MetricsRow>, Error> {
        store.query_metrics(project_id, &self.request()).await
    }

    /// [`Panel::rows`], or none and the reason the metrics query refused the request.
    async fn answered(
        &self,
        store: &dyn Store,
        project_id: &str,
    ) -> Result<(Vec<MetricsRow>, Option<String>), Error> {
        refused_as_note(self.rows(store, project_id)).await
    }
}

use Aggregation::{Avg, Count, Sum, P50, P90, P95, P99};

const COUNT: &[(&str, Aggregation)] = &[("count", Count)];
const LATENCY: &[(&str, Aggregation)] = &[
    ("count", Count),
    ("latency", P50),
    ("latency", P90),
    ("latency", P95),
    ("latency", P99),
];
/// The trace names' latencies with their observations at level `ERROR` (the traces view's
/// `errorCount`, so the rollups answer both).
const TRACE_LATENCY: &[(&str, Aggregation)] = &[
    ("count", Count),
    ("latency", P50),
    ("latency", P90),
    ("latency", P95),
    ("latency", P99),
    ("errorCount", Sum),
];
const USAGE: &[(&str, Aggregation)] = &[("count", Count), ("totalCost", Sum), ("totalTokens", Sum)];

/// Generations: observations of type `GENERATION`.
fn generations() -> Filter {
    any_of("type", vec!["GENERATION".to_owned()])
}

/// Observations at level `ERROR`.
fn errors() -> Filter {
    any_of("level", vec!["ERROR".to_owned()])
}

/// The dashboard over one range: every panel's rows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub from: String,
    pub to: String,
    pub granularity: &'static str,
    /// Traces in the range.
    pub traces: u64,
    pub traces_over_time: Vec<TimeCount>,
    /// Observations at level `ERROR` in the range.
    pub errors: u64,
    pub generations_over_time: Vec<ModelUsage>,
    pub generations_by_model: Vec<ModelUsage>,
    pub latency_by_trace_name: Vec<Latency>,
    pub latency_by_model: Vec<Latency>,
    /// Why a panel is empty or cut short, by the field of the answer it fills (`errors`,
    /// `tracesOverTime`, `generationsByModel`, …): the metrics query refused a request of it
    /// (percentiles over more values than a query may hold on this backend, or longer than
    /// the server lets a metrics query run), whose rows are then empty and counts 0; or its
    /// rows reached the row limit.
    pub notes: BTreeMap<&'static str, String>,
    /// Scores in the range (numeric, boolean and categorical).
    pub scores: u64,
    pub scores_over_time: Vec<TimeCount>,
    pub scores_by_name: Vec<ScoreSummary>,
}

/// A count in one time bucket (its start: a date, or a timestamp for hours).
#[derive(Debug, Serialize, PartialEq)]
pub struct TimeCount {
    pub time: String,
    pub count: u64,
}

/// Generations of one model, in one time bucket or over the range.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelUsage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub model: Option<String>,
    pub count: u64,
    pub total_cost: f64,
    pub total_tokens: u64,
}

/// Latency percentiles of a trace name or a model, in seconds, with its count and the
/// observations at level `ERROR` under it (of the traces in the range for a trace name, in
/// the range for a model).
#[derive(Debug, Serialize)]
pub struct Latency {
    pub key: Option<String>,
    pub count: u64,
    pub errors: u64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// The scores of one name and data type: count and average (numeric and boolean, where the
/// average of a boolean is the share of true), and counts per value (boolean and
/// categorical).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreSummary {
    pub name: String,
    pub data_type: String,
    pub count: u64,
    pub average: Option<f64>,
    pub values: Vec<ValueCount>,
}

#[derive(Debug, Serialize)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

fn value<'r>(row: &'r MetricsRow, name: &str) -> Option<&'r MetricsValue> {
    row.iter()
        .find(|(column, _)| column == name)
        .map(|(_, value)| value)
}

fn number(row: &MetricsRow, name: &str) -> Option<f64> {
    match value(row, name)? {
        MetricsValue::Count(count) => Some(*count as f64),
        MetricsValue::Integer(integer) => Some(*integer as f64),
        MetricsValue::Float(float) => Some(*float),
        _ => None,
    }
}

fn whole(row: &MetricsRow, name: &str) -> u64 {
    number(row, name).map_or(0, |n| n.max(0.0) as u64)
}

fn text(row: &MetricsRow, name: &str) -> Option<String> {
    match value(row, name)? {
        MetricsValue::Text(text) => Some(text.clone()),
        MetricsValue::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn time_counts(rows: &[MetricsRow]) -> Vec<TimeCount> {
    rows.iter()
        .map(|row| TimeCount {
            time: text(row, TIME_DIMENSION).unwrap_or_default(),
            count: whole(row, "count_count"),
        })
        .collect()
}

fn model_usage(row: &MetricsRow) -> ModelUsage {
    ModelUsage {
        time: text(row, TIME_DIMENSION),
        model: text(row, "providedModelName"),
        count: whole(row, "count_count"),
        total_cost: number(row, "sum_totalCost").unwrap_or(0.0),
        total_tokens: whole(row, "sum_totalTokens"),
    }
}

/// Latency rows (milliseconds in the metrics answer, seconds here) with the error counts
/// `errors_of` gives for each row and its key.
fn latencies(
    rows: &[MetricsRow],
    key: &str,
    errors_of: impl Fn(&MetricsRow, &Option<String>) -> u64,
) -> Vec<Latency> {
    let seconds = |row: &MetricsRow, alias: &str| number(row, alias).map(|ms| ms / 1000.0);
    rows.iter()
        .map(|row| {
            let name = text(row, key);
            Latency {
                errors: errors_of(row, &name),
                key: name,
                count: whole(row, "count_count"),
                p50: seconds(row, "p50_latency"),
                p90: seconds(row, "p90_latency"),
                p95: seconds(row, "p95_latency"),
                p99: seconds(row, "p99_latency"),
            }
        })
        .collect()
}

/// The scores by name: numeric (and boolean) counts and averages, then the values of
/// booleans and categories.
fn score_summaries(
    numeric: &[MetricsRow],
    booleans: &[MetricsRow],
    categories: &[MetricsRow],
) -> Vec<ScoreSummary> {
    let mut summaries: BTreeMap<(String, String), ScoreSummary> = BTreeMap::new();
    for row in numeric {
        let name = text(row, "name").unwrap_or_default();
        let data_type = text(row, "dataType").unwrap_or_else(|| "NUMERIC".to_owned());
        summaries.insert(
            (name.clone(), data_type.clone()),
            ScoreSummary {
                name,
                data_type,
                count: whole(row, "count_count"),
                average: number(row, "avg_value"),
                values: Vec::new(),
            },
        );
    }
    let mut add_values = |rows: &[MetricsRow], data_type: &str, value_column: &str| {
        for row in rows {
            let name = text(row, "name").unwrap_or_default();
            let count = whole(row, "count_count");
            let summary = summaries
                .entry((name.clone(), data_type.to_owned()))
                .or_insert_with(|| ScoreSummary {
                    name,
                    data_type: data_type.to_owned(),
                    count: 0,
                    average: None,
                    values: Vec::new(),
                });
            if data_type == "CATEGORICAL" {
                summary.count += count;
            }
            summary.values.push(ValueCount {
                value: text(row, value_column).unwrap_or_default(),
                count,
            });
        }
    };
    add_values(booleans, "BOOLEAN", "booleanValue");
    add_values(categories, "CATEGORICAL", "stringValue");
    let mut summaries: Vec<ScoreSummary> = summaries.into_values().collect();
    for summary in &mut summaries {
        summary
            .values
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    }
    summaries
}

/// The dashboard's metrics requests, one per panel.
struct Panels<'q> {
    traces_over_time: Panel<'q>,
    generations_over_time: Panel<'q>,
    generations_by_model: Panel<'q>,
    latency_by_name: Panel<'q>,
    latency_by_model: Panel<'q>,
    errors_total: Panel<'q>,
    errors_by_model: Panel<'q>,
    numeric_over_time: Panel<'q>,
    categorical_over_time: Panel<'q>,
    numeric_by_name: Panel<'q>,
    booleans: Panel<'q>,
    categories: Panel<'q>,
}

impl<'q> Panels<'q> {
    fn of(query: &'q DashboardQuery) -> Self {
        use MetricsView::{Observations, ScoresBoolean, ScoresCategorical, ScoresNumeric, Traces};
        const SCORE_VALUES: &[(&str, Aggregation)] = &[("count", Count), ("value", Avg)];
        Panels {
            traces_over_time: Panel::new(query, Traces, &[], COUNT).over_time(),
            generations_over_time: Panel::new(query, Observations, &["providedModelName"], USAGE)
                .over_time()
                .only(generations()),
            generations_by_model: Panel::new(query, Observations, &["providedModelName"], USAGE)
                .only(generations())
                .top("sum_totalCost", MAX_ROW_LIMIT),
            latency_by_name: Panel::new(query, Traces, &["name"], TRACE_LATENCY)
                .top("count_count", LATENCY_ROWS),
            latency_by_model: Panel::new(query, Observations, &["providedModelName"], LATENCY)
                .only(generations())
                .top("count_count", LATENCY_ROWS),
            errors_total: Panel::new(query, Observations, &[], COUNT).only(errors()),
            errors_by_model: Panel::new(query, Observations, &["providedModelName"], COUNT)
                .only(errors())
                .only(generations())
                .top("count_count", MAX_ROW_LIMIT),
            numeric_over_time: Panel::new(query, ScoresNumeric, &[], COUNT).over_time(),
            categorical_over_time: Panel::new(query, ScoresCategorical, &[], COUNT).over_time(),
            numeric_by_name: Panel::new(query, ScoresNumeric, &["name", "dataType"], SCORE_VALUES),
            booleans: Panel::new(query, ScoresBoolean, &["name", "booleanValue"], COUNT),
            categories: Panel::new(query, ScoresCategorical, &["name", "stringValue"], COUNT),
        }
    }

    fn named(&self) -> [(&'static str, &Panel<'q>); 12] {
        [
            ("tracesOverTime", &self.traces_over_time),
            ("generationsOverTime", &self.generations_over_time),
            ("generationsByModel", &self.generations_by_model),
            ("latencyByTraceName", &self.latency_by_name),
            ("latencyByModel", &self.latency_by_model),
            ("errorsTotal", &self.errors_total),
            ("errorsByModel", &self.errors_by_model),
            ("numericScoresOverTime", &self.numeric_over_time),
            ("categoricalScoresOverTime", &self.categorical_over_time),
            ("numericScoresByName", &self.numeric_by_name),
            ("booleanScoresByName", &self.booleans),
            ("categoricalScoresByName", &self.categories),
        ]
    }
}

/// The metrics requests the dashboard of `query` makes, each named after its panel (tests
/// check which of them the rollups answer).
pub fn requests(query: &DashboardQuery) -> Vec<(&'static str, MetricsRequest)> {
    Panels::of(query)
        .named()
        .into_iter()
        .map(|(name, panel)| (name, panel.request()))
        .collect()
}

/// Answers the dashboard of `project_id`: twelve metrics requests, run together.
pub async fn answer(
    store: &dyn Store,
    project_id: &str,
    query: &DashboardQuery,
) -> Result<Dashboard, Error> {
    let panels = Panels::of(query);
    let (
        traces_over_time,
        generations_over_time,
        generations_by_model,
        latency_by_name,
        latency_by_model,
        errors_total,
        errors_by_model,
    ) = futures::try_join!(
        panels.traces_over_time.answered(store, project_id),
        panels.generations_over_time.answered(store, project_id),
        panels.generations_by_model.answered(store, project_id),
        panels.latency_by_name.answered(store, project_id),
        panels.latency_by_model.answered(store, project_id),
        panels.errors_total.answered(store, project_id),
        panels.errors_by_model.answered(store, project_id),
    )?;
    let (numeric_over_time, categorical_over_time, numeric_by_name, booleans, categories) = futures::try_join!(
        panels.numeric_over_time.answered(store, project_id),
        panels.categorical_over_time.answered(store, project_id),
        panels.numeric_by_name.answered(store, project_id),
        panels.booleans.answered(store, project_id),
        panels.categories.answered(store, project_id),
    )?;
    // Each field of the answer with the first refusal of the requests it is made of.
    let mut notes = BTreeMap::new();
    for (field, note) in [
        ("tracesOverTime", &traces_over_time.1),
        ("generationsOverTime", &generations_over_time.1),
        ("generationsByModel", &generations_by_model.1),
        ("latencyByTraceName", &latency_by_name.1),
        ("latencyByModel", &latency_by_model.1),
        ("latencyByModel", &errors_by_model.1),
        ("errors", &errors_total.1),
        ("scoresOverTime", &numeric_over_time.1),
        ("scoresOverTime", &categorical_over_time.1),
        ("scoresByName", &numeric_by_name.1),
        ("scoresByName", &booleans.1),
        ("scoresByName", &categories.1),
    ] {
        if let Some(note) = note {
            notes.entry(field).or_insert_with(|| note.clone());
        }
    }
    // Buckets × models beyond the row limit: the last buckets are missing.
    if generations_over_time.0.len() >= MAX_ROW_LIMIT as usize {
        notes.entry("generationsOverTime").or_insert_with(|| {
            format!(
                "more than {MAX_ROW_LIMIT} buckets × models: the last buckets are left out; \
             choose a shorter range or a model"
            )
        });
    }
    let traces_over_time = time_counts(&traces_over_time.0);
    let model_errors: BTreeMap<Option<String>, u64> = errors_by_model
        .0
        .iter()
        .map(|row| (text(row, "providedModelName"), whole(row, "count_count")))
        .collect();
    // Both score series have the same buckets (same range and granularity, filled).
    let mut scores_over_time = time_counts(&numeric_over_time.0);
    for (bucket, categorical) in scores_over_time
        .iter_mut()
        .zip(time_counts(&categorical_over_time.0))
    {
        debug_assert_eq!(bucket.time, categorical.time);
        bucket.count += categorical.count;
    }
    Ok(Dashboard {
        from: format_iso(query.from),
        to: format_iso(query.to),
        granularity: query.granularity.name(),
        traces: traces_over_time.iter().map(|bucket| bucket.count).sum(),
        traces_over_time,
        errors: errors_total
            .0
            .first()
            .map_or(0, |row| whole(row, "count_count")),
        generations_over_time: generations_over_time.0.iter().map(model_usage).collect(),
        generations_by_model: generations_by_model.0.iter().map(model_usage).collect(),
        latency_by_trace_name: latencies(&latency_by_name.0, "name", |row, _| {
            whole(row, "sum_errorCount")
        }),
        latency_by_model: latencies(&latency_by_model.0, "providedModelName", |_, model| {
            model_errors.get(model).copied().unwrap_or(0)
        }),
        notes,
        scores: scores_over_time.iter().map(|bucket| bucket.count).sum(),
        scores_over_time,
        scores_by_name: score_summaries(&numeric_by_name.0, &booleans.0, &categories.0),
    })
}

/// The rows of a panel, or none and the reason when the metrics query refused the panel's
/// request as too large for this backend or too long to answer (the rest of the dashboard
/// is still answered).
async fn refused_as_note(
    rows: impl std::future::Future<Output = Result<Vec<MetricsRow>, Error>>,
) -> Result<(Vec<MetricsRow>, Option<String>), Error> {
    match rows.await {
        Ok(rows) => Ok((rows, None)),
        Err(error) if error.kind == ErrorKind::InvalidArgument => {
            Ok((Vec::new(), Some(error.message)))
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> Result<DashboardQuery, Error> {
        DashboardQuery::parse(&Params::parse(Some(text)).expect("params"))
    }

    #[test]
    fn each_filter_reaches_the_views_that_have_its_field() {
        let parsed = query(
            "fromTimestamp=2026-01-01T00:00:00Z&toTimestamp=2026-01-02T00:00:00Z&granularity=hour\
             &name=chat&userId=u&tag=a&tag=b,c&environment=prod&release=r1&model=gpt\
             &metadataKey=team&metadataValue=x",
        )
        .expect("query");
        assert_eq!(parsed.granularity, Granularity::Hour);
        assert_eq!(parsed.filters.tags, vec!["a".to_owned(), "b,c".to_owned()]);
        let columns = |view| -> Vec<String> {
            parsed
                .filters
                .for_view(view)
                .into_iter()
                .map(|filter| filter.column)
                .collect()
        };
        assert_eq!(
            columns(MetricsView::Traces),
            [
                "name",
                "userId",
                "environment",
                "release",
                "tags",
                "metadata"
            ]
        );
        assert_eq!(
            columns(MetricsView::Observations),
            [
                "traceName",
                "userId",
                "environment",
                "traceRelease",
                "providedModelName",
                "tags"
            ]
        );
        assert_eq!(
            columns(MetricsView::ScoresCategorical),
            ["traceName", "userId", "environment", "traceRelease", "tags"]
        );
    }

    #[test]
    fn every_panel_plans() {
        let parsed =
            query("name=chat&tag=a&model=gpt&metadataKey=k&metadataValue=v").expect("query");
        for view in MetricsView::ALL {
            let panel = Panel::new(&parsed, view, &[], COUNT).over_time();
            spindle_store::metrics::plan(&panel.request())
                .unwrap_or_else(|error| panic!("{view:?}: {error:?}"));
        }
    }

    #[tokio::test]
    async fn a_refused_panel_becomes_a_note_and_other_errors_stay_errors() {
        let refused =
            refused_as_note(async { Err(Error::invalid("query.fromTimestamp", "too many")) })
                .await
                .expect("a note");
        assert_eq!(refused.0, Vec::<MetricsRow>::new());
        assert_eq!(refused.1.as_deref(), Some("query.fromTimestamp: too many"));
        let failed = refused_as_note(async { Err(Error::internal("disk")) }).await;
        assert_eq!(
            failed.map_err(|error| error.kind).err(),
            Some(ErrorKind::Internal)
        );
    }

    #[test]
    fn bad_ranges_and_granularities_are_refused() {
        for (text, field) in [
            (
                "fromTimestamp=2026-01-02T00:00:00Z&toTimestamp=2026-01-01T00:00:00Z",
                "fromTimestamp",
            ),
            ("granularity=minute", "granularity"),
            (
                "fromTimestamp=2020-01-01T00:00:00Z&toTimestamp=2026-01-01T00:00:00Z&granularity=hour",
                "granularity",
            ),
            ("metadataKey=k", "metadataValue"),
        ] {
            let error = query(text).expect_err(text);
            assert!(error.message.starts_with(field), "{text}: {}", error.message);
        }
    }
}
