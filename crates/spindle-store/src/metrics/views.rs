//! The views of the metrics query: for each, the rows it reads, its time column, the
//! dimensions it groups by and filters on, and the measures it aggregates, as SQL
//! expressions over one row (`t` traces, `o` observations, `s` scores).

use crate::sql::{Dialect, Expr, TRACE_COST, TRACE_LATENCY};

use super::{MetricsVersion, MetricsView};

/// What a dimension holds, and so how its text is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionKind {
    Text,
    Integer,
    Float,
    Boolean,
    /// A JSON array of strings (tags).
    Tags,
}

/// In which versions of the API a dimension exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Both,
    /// In v2 only.
    V2,
    /// In both, but v2 refuses it as a grouping dimension (a filter only).
    V2FilterOnly,
}

/// A dimension: its public name, kind and expression (a `float8` on PostgreSQL for numbers).
#[derive(Debug, Clone, Copy)]
pub struct DimensionSpec {
    pub name: &'static str,
    pub kind: DimensionKind,
    pub expr: Expr,
    pub availability: Availability,
}

impl DimensionSpec {
    /// Whether the dimension exists in `version` (as a filter column at least).
    pub fn exists_in(&self, version: MetricsVersion) -> bool {
        !matches!(
            (self.availability, version),
            (Availability::V2, MetricsVersion::V1)
        )
    }

    /// Whether the dimension may group rows in `version`.
    pub fn groups_in(&self, version: MetricsVersion) -> bool {
        self.exists_in(version)
            && !(self.availability == Availability::V2FilterOnly && version == MetricsVersion::V2)
    }
}

/// A measure: its public name and the per-row numeric expression (a `float8` on
/// PostgreSQL; durations in milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct MeasureSpec {
    pub name: &'static str,
    pub expr: Expr,
    /// Whole numbers: sums, minima and maxima are reported as integers.
    pub integer: bool,
    /// A factor the expression is multiplied by (seconds to milliseconds).
    pub scale: f64,
}

impl MeasureSpec {
    /// The per-row value in `dialect`.
    pub fn sql(&self, dialect: Dialect) -> String {
        let expr = self.expr.of(dialect);
        if self.scale == 1.0 {
            expr.to_owned()
        } else {
            format!("({expr} * {:?})", self.scale)
        }
    }
}

/// A view of the metrics query.
#[derive(Debug)]
pub struct ViewSpec {
    pub view: MetricsView,
    /// The `FROM` clause: the view's table with the joins its dimensions read.
    pub from: &'static str,
    /// The project column of the view's table.
    pub project_column: &'static str,
    /// The time column (microseconds) that `fromTimestamp`/`toTimestamp` bound and
    /// `timeDimension` buckets.
    pub time_column: &'static str,
    /// A condition every row of the view meets (the score data types of a score view).
    pub segment: Option<&'static str>,
    /// The metadata column, filtered with `type: "stringObject"` and a `key`.
    pub metadata_column: Expr,
    pub dimensions: &'static [DimensionSpec],
    pub measures: &'static [MeasureSpec],
}

impl ViewSpec {
    pub fn of(view: MetricsView) -> &'static ViewSpec {
        match view {
            MetricsView::Traces => &TRACES,
            MetricsView::Observations => &OBSERVATIONS,
            MetricsView::ScoresNumeric => &SCORES_NUMERIC,
            MetricsView::ScoresBoolean => &SCORES_BOOLEAN,
            MetricsView::ScoresCategorical => &SCORES_CATEGORICAL,
        }
    }

    pub fn dimension(&self, name: &str) -> Option<&'static DimensionSpec> {
        self.dimensions.iter().find(|d| d.name == name)
    }

    pub fn measure(&self, name: &str) -> Option<&'static MeasureSpec> {
        self.measures.iter().find(|m| m.name == name)
    }
}

use Availability::{Both, V2FilterOnly, V2};
use DimensionKind::{Boolean, Float, Integer, Tags, Text};

const fn dimension(
    name: &'static str,
    kind: DimensionKind,
    expr: &'static str,
    availability: Availability,
) -> DimensionSpec {
    DimensionSpec {
        name,
        kind,
        expr: Expr::same(expr),
        availability,
    }
}

const fn dimension_per_dialect(
    name: &'static str,
    kind: DimensionKind,
    expr: Expr,
    availability: Availability,
) -> DimensionSpec {
    DimensionSpec {
        name,
        kind,
        expr,
        availability,
    }
}

const fn measure(name: &'static str, expr: Expr, integer: bool) -> MeasureSpec {
    MeasureSpec {
        name,
        expr,
        integer,
        scale: 1.0,
    }
}

/// The tags of the trace `t` joined to an observation or score (`[]` without a trace).
const JOINED_TAGS: Expr =
    Expr::per_dialect("coalesce(t.tags, '[]')", "coalesce(t.tags, '[]'::jsonb)");

/// The UTC date of a microsecond column as text in `strftime`'s format (`%Y-%m`) and
/// `to_char`'s (`YYYY-MM`).
macro_rules! date_text {
    ($column:literal, $sqlite:literal, $postgres:literal) => {
        Expr::per_dialect(
            concat!(
                "strftime('",
                $sqlite,
                "', ",
                $column,
                " / 1000000.0, 'unixepoch')"
            ),
            concat!(
                "to_char(to_timestamp(",
                $column,
                " / 1000000.0) AT TIME ZONE 'UTC', '",
                $postgres,
                "')"
            ),
        )
    };
}

/// The milliseconds from one microsecond column to another.
macro_rules! millis {
    ($from:literal, $to:literal) => {
        Expr::per_dialect(
            concat!("((", $to, " - ", $from, ") / 1000.0)"),
            concat!("((", $to, " - ", $from, ") / 1000.0::float8)"),
        )
    };
}

/// A column as a number (`float8` on PostgreSQL).
macro_rules! number {
    ($column:literal) => {
        Expr::per_dialect($column, concat!($column, "::float8"))
    };
}

/// The count of the rows of `$table $alias` whose `$key` is the row's `$id`.
macro_rules! count_of {
    ($table:literal, $key:literal, $owner:literal) => {
        Expr::per_dialect(
            concat!(
                "(SELECT count(*) FROM ",
                $table,
                " x WHERE x.project_id = ",
                $owner,
                ".project_id AND x.",
                $key,
                " = ",
                $owner,
                ".id)"
            ),
            concat!(
                "(SELECT count(*) FROM ",
                $table,
                " x WHERE x.project_id = ",
                $owner,
                ".project_id AND x.",
                $key,
                " = ",
                $owner,
                ".id)::float8"
            ),
        )
    };
}

const COUNT: MeasureSpec = measure("count", Expr::per_dialect("1", "1::float8"), true);

// --- traces ---

/// The dimensions the traces view has on `traces` and on `trace_totals` alike, followed by
/// those of one of them.
macro_rules! trace_dimensions {
    ($($only:expr),* $(,)?) => {
        &[
            dimension("name", Text, "t.name", Both),
            dimension("userId", Text, "t.user_id", Both),
            dimension("sessionId", Text, "t.session_id", Both),
            dimension("release", Text, "t.release", Both),
            dimension("environment", Text, "t.environment", Both),
            dimension_per_dialect(
                "timestampMonth",
                Text,
                date_text!("t.timestamp", "%Y-%m", "YYYY-MM"),
                Both,
            ),
            $($only),*
        ]
    };
}

static TRACES: ViewSpec = ViewSpec {
    view: MetricsView::Traces,
    from: "traces t",
    project_column: "t.project_id",
    time_column: "t.timestamp",
    segment: None,
    metadata_column: Expr::same("t.metadata"),
    dimensions: trace_dimensions![
        dimension("id", Text, "t.id", Both),
        dimension("tags", Tags, "t.tags", Both),
        dimension("version", Text, "t.version", Both),
    ],
    measures: &[
        COUNT,
        measure(
            "observationsCount",
            count_of!("observations", "trace_id", "t"),
            true,
        ),
        measure("scoresCount", count_of!("scores", "trace_id", "t"), true),
        MeasureSpec {
            scale: 1000.0,
            ..measure("latency", TRACE_LATENCY, false)
        },
        measure(
            "totalTokens",
            Expr::per_dialect(
                "(SELECT sum(o2.usage_total) FROM observations o2 \
                 WHERE o2.project_id = t.project_id AND o2.trace_id = t.id)",
                "(SELECT sum(o2.usage_total) FROM observations o2 \
                 WHERE o2.project_id = t.project_id AND o2.trace_id = t.id)::float8",
            ),
            true,
        ),
        measure("totalCost", TRACE_COST, false),
        // A Spindle extension: the trace's observations at level ERROR.
        measure("errorCount", TRACE_ERRORS, true),
    ],
};

/// The traces view read from `trace_totals` alone (one narrow row per trace carrying the
/// trace's time, name, user, session, environment and release and its observations'
/// totals), for plans whose every dimension, filter and measure it holds
/// ([`crate::metrics::on_trace_totals`]): the same values as [`TRACES`] without reading
/// the traces' rows or one more seek per trace.
pub static TRACE_TOTALS: ViewSpec = ViewSpec {
    view: MetricsView::Traces,
    from: "trace_totals t",
    project_column: "t.project_id",
    time_column: "t.timestamp",
    segment: None,
    // No metadata here: a plan filtering on it stays on `TRACES`.
    metadata_column: Expr::same("NULL"),
    dimensions: trace_dimensions![dimension("id", Text, "t.trace_id", Both)],
    measures: &[
        COUNT,
        measure("observationsCount", number!("t.observation_count"), true),
        MeasureSpec {
            scale: 1000.0,
            ..measure(
                "latency",
                Expr::per_dialect("(t.latency / 1000000.0)", "(t.latency / 1000000.0::float8)"),
                false,
            )
        },
        measure("totalTokens", number!("t.usage_total"), true),
        measure(
            "totalCost",
            Expr::same("coalesce(t.total_cost, 0.0)"),
            false,
        ),
        measure(
            "errorCount",
            Expr::per_dialect(
                "coalesce(t.error_count, 0)",
                "coalesce(t.error_count, 0)::float8",
            ),
            true,
        ),
    ],
};

/// The observations at level `ERROR` of the trace `t`: read from its `trace_totals` row.
const TRACE_ERRORS: Expr = Expr::per_dialect(
    "coalesce((SELECT tt2.error_count FROM trace_totals tt2 \
     WHERE tt2.project_id = t.project_id AND tt2.trace_id = t.id), 0)",
    "coalesce((SELECT tt2.error_count FROM trace_totals tt2 \
     WHERE tt2.project_id = t.project_id AND tt2.trace_id = t.id), 0)::float8",
);

// --- observations ---

static OBSERVATIONS: ViewSpec = ViewSpec {
    view: MetricsView::Observations,
    from: "observations o LEFT JOIN traces t \
           ON t.project_id = o.project_id AND t.id = o.trace_id",
    project_column: "o.project_id",
    time_column: "o.start_time",
    segment: None,
    metadata_column: Expr::per_dialect(crate::sql::rows::OBSERVATION_METADATA_SQLITE, "o.metadata"),
    dimensions: &[
        dimension("id", Text, "o.id", V2FilterOnly),
        dimension("traceId", Text, "o.trace_id", V2FilterOnly),
        dimension("traceName", Text, "t.name", Both),
        dimension("environment", Text, "o.environment", Both),
        dimension(
            "parentObservationId",
            Text,
            "o.parent_observation_id",
            V2FilterOnly,
        ),
        dimension_per_dialect(
            "isRootObservation",
            Boolean,
            Expr::same("(o.parent_observation_id IS NULL)"),
            V2,
        ),
        dimension("type", Text, "o.type", Both),
        dimension("name", Text, "o.name", Both),
        dimension("level", Text, "coalesce(o.level, 'DEFAULT')", Both),
        dimension("version", Text, "o.version", Both),
        dimension_per_dialect("tags", Tags, JOINED_TAGS, Both),
        dimension("release", Text, "t.release", V2),
        dimension("providedModelName", Text, "o.model", Both),
        dimension("promptName", Text, "o.prompt_name", Both),
        dimension_per_dialect("promptVersion", Integer, number!("o.prompt_version"), Both),
        dimension("userId", Text, "t.user_id", V2FilterOnly),
        dimension("sessionId", Text, "t.session_id", V2FilterOnly),
        dimension("traceRelease", Text, "t.release", Both),
        dimension("traceVersion", Text, "t.version", Both),
        dimension_per_dialect(
            "startTimeMonth",
            Text,
            date_text!("o.start_time", "%Y-%m", "YYYY-MM"),
            Both,
        ),
    ],
    measures: &[
        COUNT,
        measure("latency", millis!("o.start_time", "o.end_time"), false),
        measure(
            "streamingLatency",
            millis!("o.completion_start_time", "o.end_time"),
            false,
        ),
        measure(
            "timeToFirstToken",
            millis!("o.start_time", "o.completion_start_time"),
            false,
        ),
        measure("inputTokens", number!("o.usage_input"), true),
        measure("outputTokens", number!("o.usage_output"), true),
        measure("totalTokens", number!("o.usage_total"), true),
        measure(
            "outputTokensPerSecond",
            Expr::per_dialect(
                "(o.usage_output * 1000000.0 / nullif(o.end_time - o.completion_start_time, 0))",
                "(o.usage_output * 1000000.0::float8 \
                 / nullif(o.end_time - o.completion_start_time, 0))",
            ),
            false,
        ),
        measure(
            "tokensPerSecond",
            Expr::per_dialect(
                "(o.usage_total * 1000000.0 / nullif(o.end_time - o.start_time, 0))",
                "(o.usage_total * 1000000.0::float8 / nullif(o.end_time - o.start_time, 0))",
            ),
            false,
        ),
        measure(
            "inputCost",
            Expr::per_dialect(
                "coalesce(json_extract(o.cost_details, '$.input'), \
                 json_extract(o.derived, '$.calculatedCost.input'))",
                "coalesce((o.cost_details::jsonb ->> 'input')::float8, \
                 (o.derived::jsonb #>> '{calculatedCost,input}')::float8)",
            ),
            false,
        ),
        measure(
            "outputCost",
            Expr::per_dialect(
                "coalesce(json_extract(o.cost_details, '$.output'), \
                 json_extract(o.derived, '$.calculatedCost.output'))",
                "coalesce((o.cost_details::jsonb ->> 'output')::float8, \
                 (o.derived::jsonb #>> '{calculatedCost,output}')::float8)",
            ),
            false,
        ),
        measure("totalCost", number!("o.total_cost"), false),
        measure(
            "countScores",
            count_of!("scores", "observation_id", "o"),
            true,
        ),
    ],
};

// --- scores ---

const SCORES_FROM: &str = "scores s \
    LEFT JOIN traces t ON t.project_id = s.project_id AND t.id = s.trace_id \
    LEFT JOIN observations o ON o.project_id = s.project_id AND o.id = s.observation_id";

/// The dimensions every score view has, followed by the one of its values.
macro_rules! score_dimensions {
    ($($value:expr),* $(,)?) => {
        &[
            dimension("id", Text, "s.id", V2FilterOnly),
            dimension("environment", Text, "s.environment", Both),
            dimension("name", Text, "s.name", Both),
            dimension("source", Text, "s.source", Both),
            dimension("dataType", Text, "s.data_type", Both),
            dimension("traceId", Text, "s.trace_id", V2FilterOnly),
            dimension("configId", Text, "s.config_id", Both),
            dimension_per_dialect(
                "timestampMonth",
                Text,
                date_text!("s.timestamp", "%Y-%m", "YYYY-MM"),
                Both,
            ),
            dimension_per_dialect(
                "timestampDay",
                Text,
                date_text!("s.timestamp", "%Y-%m-%d", "YYYY-MM-DD"),
                Both,
            ),
            dimension("observationId", Text, "s.observation_id", V2FilterOnly),
            dimension("sessionId", Text, "coalesce(s.session_id, t.session_id)", V2FilterOnly),
            dimension("userId", Text, "t.user_id", V2FilterOnly),
            dimension("traceName", Text, "t.name", Both),
            dimension_per_dialect("tags", Tags, JOINED_TAGS, Both),
            dimension("traceRelease", Text, "t.release", Both),
            dimension("traceVersion", Text, "t.version", Both),
            dimension("observationName", Text, "o.name", Both),
            dimension("observationModelName", Text, "o.model", Both),
            dimension("observationPromptName", Text, "o.prompt_name", Both),
            dimension_per_dialect(
                "observationPromptVersion",
                Integer,
                number!("o.prompt_version"),
                Both,
            ),
            $($value),*
        ]
    };
}

const SCORE_VALUE: MeasureSpec = measure("value", number!("s.value"), false);

static SCORES_NUMERIC: ViewSpec = ViewSpec {
    view: MetricsView::ScoresNumeric,
    from: SCORES_FROM,
    project_column: "s.project_id",
    time_column: "s.timestamp",
    segment: Some("coalesce(s.data_type, 'NUMERIC') IN ('NUMERIC', 'BOOLEAN')"),
    metadata_column: Expr::same("s.metadata"),
    dimensions: score_dimensions![dimension_per_dialect(
        "value",
        Float,
        number!("s.value"),
        Both,
    )],
    measures: &[COUNT, SCORE_VALUE],
};

static SCORES_BOOLEAN: ViewSpec = ViewSpec {
    view: MetricsView::ScoresBoolean,
    from: SCORES_FROM,
    project_column: "s.project_id",
    time_column: "s.timestamp",
    segment: Some("s.data_type = 'BOOLEAN'"),
    metadata_column: Expr::same("s.metadata"),
    dimensions: score_dimensions![dimension_per_dialect(
        "booleanValue",
        Boolean,
        Expr::same("(s.value <> 0)"),
        Both,
    )],
    measures: &[COUNT, SCORE_VALUE],
};

static SCORES_CATEGORICAL: ViewSpec = ViewSpec {
    view: MetricsView::ScoresCategorical,
    from: SCORES_FROM,
    project_column: "s.project_id",
    time_column: "s.timestamp",
    segment: Some("s.data_type = 'CATEGORICAL'"),
    metadata_column: Expr::same("s.metadata"),
    dimensions: score_dimensions![dimension("stringValue", Text, "s.string_value", Both)],
    measures: &[COUNT],
};

/// Whether `version` serves `view` (v2 has no traces view).
pub fn serves(version: MetricsVersion, view: MetricsView) -> bool {
    !(version == MetricsVersion::V2 && view == MetricsView::Traces)
}
