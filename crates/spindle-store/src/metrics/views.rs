//! The views of the metrics query: for each, the rows it reads, its time column, the
//! dimensions it groups by and filters on, and the measures it aggregates, as SQL
//! expressions over one row (`t` traces, `o` observations, `s` scores).

use crate::sql::{Expr, TRACE_COST};

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
    pub metadata_column: &'static str,
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
    }
}

/// The tags of the trace `t` joined to an observation or score (`[]` without a trace).
const JOINED_TAGS: Expr =
    Expr::per_dialect("coalesce(t.tags, '[]')", "coalesce(t.tags, '[]'::jsonb)");

const fn month_of(sqlite: &'static str, postgres: &'static str) -> Expr {
    Expr::per_dialect(sqlite, postgres)
}

/// A per-row duration in milliseconds between two microsecond columns.
const fn millis(sqlite: &'static str, postgres: &'static str) -> Expr {
    Expr::per_dialect(sqlite, postgres)
}

const COUNT: MeasureSpec = measure("count", Expr::per_dialect("1", "1::float8"), true);

// --- traces ---

static TRACES: ViewSpec = ViewSpec {
    view: MetricsView::Traces,
    from: "traces t",
    project_column: "t.project_id",
    time_column: "t.timestamp",
    segment: None,
    metadata_column: "t.metadata",
    dimensions: &[
        dimension("id", Text, "t.id", Both),
        dimension("name", Text, "t.name", Both),
        dimension("tags", Tags, "t.tags", Both),
        dimension("userId", Text, "t.user_id", Both),
        dimension("sessionId", Text, "t.session_id", Both),
        dimension("release", Text, "t.release", Both),
        dimension("version", Text, "t.version", Both),
        dimension("environment", Text, "t.environment", Both),
        dimension_per_dialect(
            "timestampMonth",
            Text,
            month_of(
                "strftime('%Y-%m', t.timestamp / 1000000.0, 'unixepoch')",
                "to_char(to_timestamp(t.timestamp / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM')",
            ),
            Both,
        ),
    ],
    measures: &[
        COUNT,
        measure(
            "observationsCount",
            Expr::per_dialect(
                "(SELECT count(*) FROM observations o2 \
                 WHERE o2.project_id = t.project_id AND o2.trace_id = t.id)",
                "(SELECT count(*) FROM observations o2 \
                 WHERE o2.project_id = t.project_id AND o2.trace_id = t.id)::float8",
            ),
            true,
        ),
        measure(
            "scoresCount",
            Expr::per_dialect(
                "(SELECT count(*) FROM scores s2 \
                 WHERE s2.project_id = t.project_id AND s2.trace_id = t.id)",
                "(SELECT count(*) FROM scores s2 \
                 WHERE s2.project_id = t.project_id AND s2.trace_id = t.id)::float8",
            ),
            true,
        ),
        measure("latency", TRACE_LATENCY_MILLIS, false),
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
    ],
};

/// The latency of the trace `t` in milliseconds: [`TRACE_LATENCY`](crate::sql::filters::TRACE_LATENCY)
/// (seconds) scaled, spelled out because `const` strings cannot be concatenated.
const TRACE_LATENCY_MILLIS: Expr = Expr::per_dialect(
    "((SELECT (max(coalesce(max(o2.end_time, o2.start_time), \
         o2.start_time)) - min(o2.start_time)) / 1000.0 FROM observations o2 \
         WHERE o2.project_id = t.project_id AND o2.trace_id = t.id))",
    "((SELECT (max(greatest(o2.end_time, o2.start_time)) \
         - min(o2.start_time)) / 1000.0::float8 FROM observations o2 \
         WHERE o2.project_id = t.project_id AND o2.trace_id = t.id))",
);

// --- observations ---

static OBSERVATIONS: ViewSpec = ViewSpec {
    view: MetricsView::Observations,
    from: "observations o LEFT JOIN traces t \
           ON t.project_id = o.project_id AND t.id = o.trace_id",
    project_column: "o.project_id",
    time_column: "o.start_time",
    segment: None,
    metadata_column: "o.metadata",
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
        dimension_per_dialect(
            "promptVersion",
            Integer,
            Expr::per_dialect("o.prompt_version", "o.prompt_version::float8"),
            Both,
        ),
        dimension("userId", Text, "t.user_id", V2FilterOnly),
        dimension("sessionId", Text, "t.session_id", V2FilterOnly),
        dimension("traceRelease", Text, "t.release", Both),
        dimension("traceVersion", Text, "t.version", Both),
        dimension_per_dialect(
            "startTimeMonth",
            Text,
            month_of(
                "strftime('%Y-%m', o.start_time / 1000000.0, 'unixepoch')",
                "to_char(to_timestamp(o.start_time / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM')",
            ),
            Both,
        ),
    ],
    measures: &[
        COUNT,
        measure(
            "latency",
            millis(
                "((o.end_time - o.start_time) / 1000.0)",
                "((o.end_time - o.start_time) / 1000.0::float8)",
            ),
            false,
        ),
        measure(
            "streamingLatency",
            millis(
                "((o.end_time - o.completion_start_time) / 1000.0)",
                "((o.end_time - o.completion_start_time) / 1000.0::float8)",
            ),
            false,
        ),
        measure(
            "timeToFirstToken",
            millis(
                "((o.completion_start_time - o.start_time) / 1000.0)",
                "((o.completion_start_time - o.start_time) / 1000.0::float8)",
            ),
            false,
        ),
        measure(
            "inputTokens",
            Expr::per_dialect("o.usage_input", "o.usage_input::float8"),
            true,
        ),
        measure(
            "outputTokens",
            Expr::per_dialect("o.usage_output", "o.usage_output::float8"),
            true,
        ),
        measure(
            "totalTokens",
            Expr::per_dialect("o.usage_total", "o.usage_total::float8"),
            true,
        ),
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
        measure(
            "totalCost",
            Expr::per_dialect("o.total_cost", "o.total_cost::float8"),
            false,
        ),
        measure(
            "countScores",
            Expr::per_dialect(
                "(SELECT count(*) FROM scores s2 \
                 WHERE s2.project_id = o.project_id AND s2.observation_id = o.id)",
                "(SELECT count(*) FROM scores s2 \
                 WHERE s2.project_id = o.project_id AND s2.observation_id = o.id)::float8",
            ),
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
                month_of(
                    "strftime('%Y-%m', s.timestamp / 1000000.0, 'unixepoch')",
                    "to_char(to_timestamp(s.timestamp / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM')",
                ),
                Both,
            ),
            dimension_per_dialect(
                "timestampDay",
                Text,
                month_of(
                    "strftime('%Y-%m-%d', s.timestamp / 1000000.0, 'unixepoch')",
                    "to_char(to_timestamp(s.timestamp / 1000000.0) AT TIME ZONE 'UTC', \
                     'YYYY-MM-DD')",
                ),
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
                Expr::per_dialect("o.prompt_version", "o.prompt_version::float8"),
                Both,
            ),
            $($value),*
        ]
    };
}

const SCORE_VALUE: MeasureSpec = measure(
    "value",
    Expr::per_dialect("s.value", "s.value::float8"),
    false,
);

static SCORES_NUMERIC: ViewSpec = ViewSpec {
    view: MetricsView::ScoresNumeric,
    from: SCORES_FROM,
    project_column: "s.project_id",
    time_column: "s.timestamp",
    segment: Some("coalesce(s.data_type, 'NUMERIC') IN ('NUMERIC', 'BOOLEAN')"),
    metadata_column: "s.metadata",
    dimensions: score_dimensions![dimension_per_dialect(
        "value",
        Float,
        Expr::per_dialect("s.value", "s.value::float8"),
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
    metadata_column: "s.metadata",
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
    metadata_column: "s.metadata",
    dimensions: score_dimensions![dimension("stringValue", Text, "s.string_value", Both)],
    measures: &[COUNT],
};

/// Whether `version` serves `view` (v2 has no traces view).
pub fn serves(version: MetricsVersion, view: MetricsView) -> bool {
    !(version == MetricsVersion::V2 && view == MetricsView::Traces)
}
