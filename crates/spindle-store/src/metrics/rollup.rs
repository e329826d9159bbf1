//! Plans answered from the rollups the writers keep (`rollups.rs`): the traces view, the
//! observations view and the score views, when every dimension, filter and metric is a
//! rolled-up column.
//!
//! The whole hours of the range come from the rollup rows and the partial first and last
//! hours from the raw rows, both selected as one relation (`UNION ALL`, rows of the same
//! columns) that the shared statements of [`compute`](super::compute) group, order, limit
//! and fill as they do the raw rows. Counts and sums are those of the raw rows (a cost is
//! summed in nano-USD per observation, so within a nano-USD per observation). Latency
//! percentiles come from the rollups' log buckets (each stands for its observations within
//! [`RELATIVE_ERROR`], 1 %) and the exact latencies of the partial hours, so they are within
//! 1 % of the raw rows' percentiles (both interpolate between the closest ranks).
//!
//! The rollups store `''` for absent text and 0 for an absent prompt version; the relation
//! reads them back as NULL, and a rolled-up sum of 0 as NULL too: a sum over rows that all
//! report none or 0 (tokens, cost) answers NULL where the raw rows may answer 0. An empty
//! text (a name `""`) reads as none, and a prompt version 0 too. An observation's level is
//! stored as the view reads it (`DEFAULT` when absent), and a boolean score's
//! `booleanValue`, `(value <> 0)`, as `true`, `false` or `''` in its `string_value` key.
//!
//! The latency buckets (observations' and traces') are kept per hour and per UTC day: a plan
//! whose time buckets are whole days (none, days, weeks, months) reads the whole days of its
//! range from the day rows (a day's buckets in one row each instead of in up to 24) and only
//! the whole hours outside them from the hourly rows.
//!
//! The traces view reads the trace rollups (`rollups/traces.rs`): per trace name,
//! environment and release, the traces' count and the sums of what their `trace_totals` rows
//! hold (observations, ERROR observations, tokens, cost), and their latencies (a trace's
//! latency as the raw view reads it, from its totals row) in log buckets; its partial hours
//! are the raw traces joined to their totals rows.
//!
//! A plan with one filter on an attribute of its rows' traces, equal to one non-empty value
//! (the user, trace name, release or one tag of observations and scores; the user or one
//! tag of traces, or a trace metadata key the project rolls up, once its sweep is done:
//! `metadata_rollups`), and otherwise covered, reads the attribute rollups
//! (`rollups/attributes.rs`, `trace_attribute_rollups`): the same columns under that
//! attribute's value, the partial hours from the raw rows joined to their traces. The
//! observations' latencies there are the generations' only, so an observation plan with a
//! latency must be filtered to generations.
//!
//! Plans it does not cover — trace-level dimensions of the observations and scores (trace
//! name, user, tags, release, …), two trace-attribute filters or one that is not equal to one
//! value, the traces' sessions, versions and metadata, buckets finer than an hour, ranges
//! without a whole hour, other measures and aggregations — and projects whose rollups are
//! still being built (`rollups_pending`) are declined, for [`RawRows`](super::RawRows) to
//! answer.

use spindle_core::time::Micros;

use super::compute::{self, Input, MetricInput};
use super::views::DimensionKind;
use super::{Aggregation, Granularity, MetricsRow, MetricsSource, MetricsView, Plan};
use crate::query::FilterValue;
use crate::reading::ReadConnection;
use crate::rollups::{metadata_attribute, DAY_MICROS, HOUR_MICROS, METADATA_KIND, RELATIVE_ERROR};
use crate::sql::{compile_filter, Column, ColumnKind, Dialect, Expr, Sql};
use crate::trace_index::{unquoted, INDEXED_METADATA_CHARS};
use crate::Result;

/// Answers the plans the rollups cover (see the module's documentation).
pub struct RollupSource<'c, C>(pub &'c C);

impl<C: ReadConnection> MetricsSource for RollupSource<'_, C> {
    async fn answer(&self, project_id: &str, plan: &Plan) -> Result<Option<Vec<MetricsRow>>> {
        let connection = self.0;
        let Some(rolled) = Rolled::of(plan.view.view) else {
            return Ok(None);
        };
        let Some(hours) = WholeHours::of(plan.from, plan.to) else {
            return Ok(None);
        };
        // The view's own rollups, else those keyed by one trace attribute the plan filters on.
        let (rolled, attribute) = if rolled.covers(plan, None) {
            (rolled, None)
        } else {
            match Attribute::of(plan) {
                Some((attributes, attribute))
                    if attributes.covers(plan, Some(attribute.index))
                        && attribute.holds_latency_of(plan) =>
                {
                    (attributes, Some(attribute))
                }
                _ => return Ok(None),
            }
        };
        if crate::rollups_sql::is_pending(connection, project_id).await? {
            return Ok(None);
        }
        if let Some(key) = attribute.as_ref().and_then(|a| a.metadata_key.as_deref()) {
            if !crate::metadata_rollups::is_ready(connection, project_id, key).await? {
                return Ok(None);
            }
        }
        let input = rolled.input(
            connection.dialect(),
            project_id,
            plan,
            hours,
            attribute.as_ref(),
        )?;
        compute::answer_from(connection, plan, &input)
            .await
            .map(Some)
    }
}

/// The bound of a percentile's relative error, from the rollups' buckets.
pub const PERCENTILE_RELATIVE_ERROR: f64 = RELATIVE_ERROR;

/// The whole hours `start..end` inside a range `from..=to`, and its partial edges.
#[derive(Debug, Clone, Copy)]
struct WholeHours {
    from: Micros,
    to: Micros,
    start: Micros,
    end: Micros,
}

impl WholeHours {
    /// `None` when the range holds no whole hour.
    fn of(from: Micros, to: Micros) -> Option<Self> {
        let start = ceil_to(from, HOUR_MICROS)?;
        let end = to.checked_add(1)?.div_euclid(HOUR_MICROS) * HOUR_MICROS;
        (start < end).then_some(WholeHours {
            from,
            to,
            start,
            end,
        })
    }

    /// The whole UTC days `first..end` inside the whole hours, `None` without one.
    fn days(self) -> Option<(Micros, Micros)> {
        let first = ceil_to(self.start, DAY_MICROS)?;
        let end = self.end.div_euclid(DAY_MICROS) * DAY_MICROS;
        (first < end).then_some((first, end))
    }

    /// The partial hours, each `(first, last)` inclusive.
    fn edges(self) -> Vec<(Micros, Micros)> {
        let mut edges = Vec::new();
        if self.from < self.start {
            edges.push((self.from, self.start - 1));
        }
        if self.end <= self.to {
            edges.push((self.end, self.to));
        }
        edges
    }
}

/// The first multiple of `grain` at or after `at` (`None` past the end of time).
fn ceil_to(at: Micros, grain: Micros) -> Option<Micros> {
    let floor = at.div_euclid(grain) * grain;
    if floor < at {
        floor.checked_add(grain)
    } else {
        Some(floor)
    }
}

/// A column of the relation both branches select (`x.{name}`): its expression over a
/// rollup row `r` and over a raw row.
struct Selected {
    name: &'static str,
    rollup: Expr,
    raw: Expr,
}

const fn selected(name: &'static str, rollup: &'static str, raw: &'static str) -> Selected {
    Selected {
        name,
        rollup: Expr::same(rollup),
        raw: Expr::same(raw),
    }
}

/// A text key column: `''` in the rollups read as NULL.
macro_rules! text_key {
    ($column:literal, $raw:literal) => {
        selected($column, concat!("nullif(r.", $column, ", '')"), $raw)
    };
}

/// The rollups of a view: their tables, the columns of the relation, and which dimensions
/// and measures they answer.
struct Rolled {
    view: MetricsView,
    rollup_table: &'static str,
    /// The latency buckets (observations and traces), and the count column of a bucket row.
    buckets_table: Option<(&'static str, &'static str)>,
    /// The same buckets per UTC day (`hour` the start of the day), read for the whole days of
    /// a range whose time buckets are days or longer.
    day_buckets_table: Option<&'static str>,
    /// The count of a rollup row.
    rollup_count: &'static str,
    /// A condition of the view's rows on a rollup row (the score data types).
    rollup_segment: Option<&'static str>,
    raw_table: Expr,
    raw_project: &'static str,
    /// The raw rows' time column that bounds the partial hours (an indexed one).
    raw_range: &'static str,
    /// The key columns, `tm` (the time) first.
    keys: &'static [Selected],
    /// The summed columns.
    sums: &'static [Selected],
    /// The dimensions, each a filter column too.
    dimensions: &'static [RolledDimension],
}

/// A dimension of the rollups: the key column that holds it and its filter column over a
/// rollup row (named as the dimension; `''` for absent text compares as NULL does).
#[derive(Clone, Copy)]
struct RolledDimension {
    key: &'static str,
    filter: Column,
}

/// A text dimension named `$name`, held in the key column `$key`.
macro_rules! text_dimension {
    ($name:literal, $key:literal) => {
        RolledDimension {
            key: $key,
            filter: Column::new($name, ColumnKind::Text, concat!("r.", $key)),
        }
    };
}

static OBSERVATIONS: Rolled = Rolled {
    view: MetricsView::Observations,
    rollup_table: "observation_rollups r",
    buckets_table: Some(("observation_latency_buckets r", "r.observation_count")),
    day_buckets_table: Some("observation_latency_days r"),
    rollup_count: "r.observation_count",
    rollup_segment: None,
    raw_table: Expr::same("observations o"),
    raw_project: "o.project_id",
    // `coalesce(start_time, i64::MIN)`: within a range, the start time.
    raw_range: "o.sort_time",
    keys: &[
        selected("tm", "r.hour", "o.start_time"),
        text_key!("environment", "o.environment"),
        text_key!("type", "o.type"),
        text_key!("name", "o.name"),
        text_key!("model", "o.model"),
        text_key!("prompt_name", "o.prompt_name"),
        selected(
            "prompt_version",
            "nullif(r.prompt_version, 0)",
            "o.prompt_version",
        ),
        // An absent level is stored as `DEFAULT`, as the view reads it.
        selected("level", "r.level", "coalesce(o.level, 'DEFAULT')"),
    ],
    sums: &[
        selected("cnt", "r.observation_count", "1"),
        selected("input_tokens", "nullif(r.input_tokens, 0)", "o.usage_input"),
        selected(
            "output_tokens",
            "nullif(r.output_tokens, 0)",
            "o.usage_output",
        ),
        selected("total_tokens", "nullif(r.total_tokens, 0)", "o.usage_total"),
        Selected {
            name: "cost",
            rollup: Expr::per_dialect(
                "(nullif(r.cost_nanos, 0) / 1e9)",
                "(nullif(r.cost_nanos, 0)::float8 / 1e9::float8)",
            ),
            raw: Expr::per_dialect("o.total_cost", "o.total_cost::float8"),
        },
    ],
    dimensions: &[
        text_dimension!("environment", "environment"),
        text_dimension!("type", "type"),
        text_dimension!("name", "name"),
        text_dimension!("providedModelName", "model"),
        text_dimension!("promptName", "prompt_name"),
        RolledDimension {
            key: "prompt_version",
            filter: Column::per_dialect(
                "promptVersion",
                ColumnKind::Number,
                Expr::per_dialect(
                    "nullif(r.prompt_version, 0)",
                    "nullif(r.prompt_version, 0)::float8",
                ),
            ),
        },
        text_dimension!("level", "level"),
    ],
};

/// The observations by an attribute of their trace (`rollups/attributes.rs`): the columns
/// of [`OBSERVATIONS`] but the name and prompt, which these rollups do not key; the
/// attribute's condition is [`Attribute`]'s.
static OBSERVATION_ATTRIBUTES: Rolled = Rolled {
    rollup_table: "observation_attribute_rollups r",
    buckets_table: Some(("observation_attribute_buckets r", "r.observation_count")),
    day_buckets_table: Some("observation_attribute_days r"),
    // The partial hours' observations with their traces, whose attribute they filter on
    // (an inner join: a filter on a trace's attribute keeps no row without a trace). On
    // SQLite a `CROSS JOIN`, so that the planner reads the partial hour's observations first
    // and seeks their traces, instead of every trace of a common name (millions of
    // observations) and their observations.
    raw_table: Expr::per_dialect(
        "observations o CROSS JOIN traces t \
         ON t.project_id = o.project_id AND t.id = o.trace_id",
        "observations o JOIN traces t ON t.project_id = o.project_id AND t.id = o.trace_id",
    ),
    keys: &[
        selected("tm", "r.hour", "o.start_time"),
        text_key!("environment", "o.environment"),
        text_key!("type", "o.type"),
        text_key!("model", "o.model"),
        selected("level", "r.level", "coalesce(o.level, 'DEFAULT')"),
    ],
    dimensions: &[
        text_dimension!("environment", "environment"),
        text_dimension!("type", "type"),
        text_dimension!("providedModelName", "model"),
        text_dimension!("level", "level"),
    ],
    ..OBSERVATIONS
};

/// The one filter of a plan that the attribute rollups answer: a trace's user, name,
/// release or one tag, equal to a non-empty value.
#[derive(Debug, Clone, PartialEq)]
struct Attribute {
    /// Its place among the plan's filters.
    index: usize,
    /// The rollups' `kind` (`user`, `name`, `release`, `tag` or `metadata`).
    kind: &'static str,
    /// The rollups' `value` (for metadata, [`metadata_attribute`] of the key and value).
    value: String,
    /// The metadata key, whose rollups are read only once ready.
    metadata_key: Option<String>,
}

impl Attribute {
    /// Whether the attribute rollups hold the latencies `plan` asks for: the observation
    /// attribute rollups keep only generations' (a filter must keep the plan to them).
    fn holds_latency_of(&self, plan: &Plan) -> bool {
        let latency = plan
            .metrics
            .iter()
            .any(|metric| metric.measure.name == "latency");
        if plan.view.view != MetricsView::Observations || !latency {
            return true;
        }
        plan.filters.iter().any(|filter| {
            filter.column == "type"
                && match (filter.operator.as_str(), &filter.value) {
                    ("=", FilterValue::String(value)) => value == "GENERATION",
                    ("any of", FilterValue::Strings(values)) => {
                        !values.is_empty() && values.iter().all(|value| value == "GENERATION")
                    }
                    _ => false,
                }
        })
    }

    /// The attribute rollups of the plan's view and the plan's one attribute filter, if it
    /// has exactly one (two would need rows keyed by both): the user, trace name, release
    /// or tag of the observations and scores, the traces' user or tag (their name and
    /// release are dimensions of the trace rollups).
    fn of(plan: &Plan) -> Option<(&'static Rolled, Attribute)> {
        let (rolled, observations) = match plan.view.view {
            MetricsView::Observations => (&OBSERVATION_ATTRIBUTES, true),
            MetricsView::Traces => (&TRACE_ATTRIBUTES, false),
            MetricsView::ScoresNumeric => (&SCORES_NUMERIC_ATTRIBUTES, true),
            MetricsView::ScoresBoolean => (&SCORES_BOOLEAN_ATTRIBUTES, true),
            MetricsView::ScoresCategorical => (&SCORES_CATEGORICAL_ATTRIBUTES, true),
        };
        let mut found = plan
            .filters
            .iter()
            .enumerate()
            .filter_map(|(index, filter)| {
                let kind = match filter.column.as_str() {
                    "userId" => "user",
                    "tags" => "tag",
                    "traceName" if observations => "name",
                    "traceRelease" | "release" if observations => "release",
                    "metadata" if !observations => METADATA_KIND,
                    _ => return None,
                };
                Some((index, kind, filter))
            });
        let (index, kind, filter) = found.next()?;
        if found.next().is_some() || filter.key.is_some() != (kind == METADATA_KIND) {
            return None;
        }
        let value = match (kind, filter.operator.as_str(), &filter.value) {
            ("tag", "any of" | "all of", FilterValue::Strings(values)) if values.len() == 1 => {
                values[0].clone()
            }
            ("user" | "name" | "release", "=", FilterValue::String(value)) => value.clone(),
            // Only a value `trace_metadata` would hold as it is (see `indexed_terms`).
            (METADATA_KIND, "=", FilterValue::String(value))
                if unquoted(value) == value.as_str()
                    && value.chars().count() <= INDEXED_METADATA_CHARS =>
            {
                value.clone()
            }
            _ => return None,
        };
        if value.is_empty() {
            return None;
        }
        // A metadata value is keyed with its key (`filter.key` is set only for metadata).
        let value = match &filter.key {
            Some(key) => metadata_attribute(key, &value),
            None => value,
        };
        let metadata_key = filter.key.clone();
        Some((
            rolled,
            Attribute {
                index,
                kind,
                value,
                metadata_key,
            },
        ))
    }
}

static TRACES: Rolled = Rolled {
    view: MetricsView::Traces,
    rollup_table: "trace_rollups r",
    buckets_table: Some(("trace_latency_buckets r", "r.trace_count")),
    day_buckets_table: Some("trace_latency_days r"),
    rollup_count: "r.trace_count",
    rollup_segment: None,
    // Each trace with its totals row (which every trace has from its first write on).
    raw_table: Expr::same(
        "traces t LEFT JOIN trace_totals tt ON tt.project_id = t.project_id \
         AND tt.trace_id = t.id",
    ),
    raw_project: "t.project_id",
    raw_range: "t.timestamp",
    keys: &[
        selected("tm", "r.hour", "t.timestamp"),
        text_key!("environment", "t.environment"),
        text_key!("name", "t.name"),
        text_key!("release", "t.release"),
    ],
    sums: &[
        selected("cnt", "r.trace_count", "1"),
        selected(
            "observations",
            "r.observation_count",
            "coalesce(tt.observation_count, 0)",
        ),
        selected("errors", "r.error_count", "coalesce(tt.error_count, 0)"),
        selected(
            "total_tokens",
            "nullif(r.total_tokens, 0)",
            "nullif(tt.usage_total, 0)",
        ),
        Selected {
            name: "cost",
            rollup: Expr::per_dialect(
                "(nullif(r.cost_nanos, 0) / 1e9)",
                "(nullif(r.cost_nanos, 0)::float8 / 1e9::float8)",
            ),
            raw: Expr::per_dialect(
                "coalesce(tt.total_cost, 0.0)",
                "coalesce(tt.total_cost, 0.0)::float8",
            ),
        },
    ],
    dimensions: &[
        text_dimension!("name", "name"),
        text_dimension!("environment", "environment"),
        text_dimension!("release", "release"),
    ],
};

/// The traces under one of their users or tags (`trace_attribute_rollups`): the columns of
/// [`TRACES`]; the attribute's condition is [`Attribute`]'s.
static TRACE_ATTRIBUTES: Rolled = Rolled {
    rollup_table: "trace_attribute_rollups r",
    buckets_table: Some(("trace_attribute_buckets r", "r.trace_count")),
    day_buckets_table: Some("trace_attribute_days r"),
    ..TRACES
};

/// The key columns every score view reads, then the value's of one view.
macro_rules! score_keys {
    ($value:expr) => {
        &[
            selected("tm", "r.hour", "s.timestamp"),
            text_key!("environment", "s.environment"),
            text_key!("name", "s.name"),
            text_key!("source", "s.source"),
            text_key!("data_type", "s.data_type"),
            $value,
        ]
    };
}

const SCORE_SUMS: &[Selected] = &[
    selected("cnt", "r.score_count", "1"),
    selected(
        "value_count",
        "r.value_count",
        "(CASE WHEN s.value IS NULL THEN 0 ELSE 1 END)",
    ),
    Selected {
        name: "value_sum",
        rollup: Expr::same("(CASE WHEN r.value_count <> 0 THEN r.value_sum END)"),
        raw: Expr::per_dialect("s.value", "s.value::float8"),
    },
];

/// The dimensions of every score view the rollups answer, then the value's of one view.
macro_rules! score_dimensions {
    ($($extra:expr),*) => {
        &[
            text_dimension!("environment", "environment"),
            text_dimension!("name", "name"),
            text_dimension!("source", "source"),
            text_dimension!("dataType", "data_type"),
            $($extra),*
        ]
    };
}

static SCORES_NUMERIC: Rolled = Rolled {
    rollup_segment: Some("r.data_type IN ('', 'NUMERIC', 'BOOLEAN')"),
    ..SCORES
};

/// A boolean score's `string_value` key is `(value <> 0)` ([`crate::rollups::boolean_key`]),
/// read back as the view's `booleanValue` is computed: 1/0 on SQLite, a boolean on
/// PostgreSQL, NULL without a value.
const BOOLEAN_VALUE: Expr = Expr::per_dialect(
    "(CASE r.string_value WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)",
    "(CASE r.string_value WHEN 'true' THEN true WHEN 'false' THEN false END)",
);

static SCORES_BOOLEAN: Rolled = Rolled {
    view: MetricsView::ScoresBoolean,
    rollup_segment: Some("r.data_type = 'BOOLEAN'"),
    keys: score_keys!(Selected {
        name: "boolean_value",
        rollup: BOOLEAN_VALUE,
        raw: Expr::same("(s.value <> 0)"),
    }),
    dimensions: score_dimensions!(RolledDimension {
        key: "boolean_value",
        filter: Column::per_dialect("booleanValue", ColumnKind::Boolean, BOOLEAN_VALUE),
    }),
    ..SCORES
};

static SCORES_CATEGORICAL: Rolled = Rolled {
    view: MetricsView::ScoresCategorical,
    rollup_segment: Some("r.data_type = 'CATEGORICAL'"),
    dimensions: score_dimensions!(text_dimension!("stringValue", "string_value")),
    ..SCORES
};

/// The partial hours' scores with their traces, whose attribute they filter on (as
/// [`OBSERVATION_ATTRIBUTES`]' raw rows: an inner join, on SQLite in this order).
const SCORES_WITH_TRACES: Expr = Expr::per_dialect(
    "scores s CROSS JOIN traces t ON t.project_id = s.project_id AND t.id = s.trace_id",
    "scores s JOIN traces t ON t.project_id = s.project_id AND t.id = s.trace_id",
);

/// The score views under an attribute of the scores' traces (`score_attribute_rollups`):
/// the columns of the score views; the attribute's condition is [`Attribute`]'s.
static SCORES_NUMERIC_ATTRIBUTES: Rolled = Rolled {
    rollup_table: "score_attribute_rollups r",
    raw_table: SCORES_WITH_TRACES,
    ..SCORES_NUMERIC
};

static SCORES_BOOLEAN_ATTRIBUTES: Rolled = Rolled {
    rollup_table: "score_attribute_rollups r",
    raw_table: SCORES_WITH_TRACES,
    ..SCORES_BOOLEAN
};

static SCORES_CATEGORICAL_ATTRIBUTES: Rolled = Rolled {
    rollup_table: "score_attribute_rollups r",
    raw_table: SCORES_WITH_TRACES,
    ..SCORES_CATEGORICAL
};

/// The fields the score views share (a `const` for `..` in the statics).
const SCORES: Rolled = Rolled {
    view: MetricsView::ScoresNumeric,
    rollup_table: "score_rollups r",
    buckets_table: None,
    day_buckets_table: None,
    rollup_count: "r.score_count",
    rollup_segment: None,
    raw_table: Expr::same("scores s"),
    raw_project: "s.project_id",
    raw_range: "s.timestamp",
    keys: score_keys!(text_key!("string_value", "s.string_value")),
    sums: SCORE_SUMS,
    dimensions: score_dimensions!(),
};

impl Rolled {
    fn of(view: MetricsView) -> Option<&'static Rolled> {
        match view {
            MetricsView::Observations => Some(&OBSERVATIONS),
            MetricsView::ScoresNumeric => Some(&SCORES_NUMERIC),
            MetricsView::ScoresBoolean => Some(&SCORES_BOOLEAN),
            MetricsView::ScoresCategorical => Some(&SCORES_CATEGORICAL),
            MetricsView::Traces => Some(&TRACES),
        }
    }

    fn dimension(&self, name: &str) -> Option<&'static str> {
        self.dimensions
            .iter()
            .find(|dimension| dimension.filter.name == name)
            .map(|dimension| dimension.key)
    }

    /// The metric as the relation computes it, `None` when the rollups do not hold it.
    fn metric(&self, dialect: Dialect, measure: &str, aggregation: Aggregation) -> Option<Agg> {
        use Aggregation::{Avg, Count, Sum};
        let sum = |column: &str| Agg::Sql(float(dialect, &format!("sum(x.{column})")));
        let (observations, traces) = (
            self.view == MetricsView::Observations,
            self.view == MetricsView::Traces,
        );
        let scores = !observations && !traces;
        Some(match (measure, aggregation) {
            // A count over no rows is 0, a sum NULL (as SQL's `count` and `sum`).
            ("count", Count) => Agg::Sql(float(dialect, "coalesce(sum(x.cnt), 0)")),
            ("count", Sum) => sum("cnt"),
            ("inputTokens", Sum) if observations => sum("input_tokens"),
            ("outputTokens", Sum) if observations => sum("output_tokens"),
            ("totalTokens", Sum) if !scores => sum("total_tokens"),
            ("totalCost", Sum) if !scores => sum("cost"),
            ("observationsCount", Sum) if traces => sum("observations"),
            ("errorCount", Sum) if traces => sum("errors"),
            ("latency", percentile) if !scores && percentile.quantile().is_some() => Agg::Latency,
            ("value", Sum) if scores => sum("value_sum"),
            ("value", Count) if scores => {
                Agg::Sql(float(dialect, "coalesce(sum(x.value_count), 0)"))
            }
            ("value", Avg) if scores => Agg::Sql(float(
                dialect,
                "(sum(x.value_sum) / nullif(sum(x.value_count), 0))",
            )),
            _ => return None,
        })
    }

    /// Whether every dimension, filter and metric of `plan` is rolled up, and its time
    /// buckets are whole hours.
    /// The filter at `attribute`, if any, is the attribute's ([`Attribute`]), which the
    /// caller checked.
    fn covers(&self, plan: &Plan, attribute: Option<usize>) -> bool {
        debug_assert_eq!(plan.view.view, self.view);
        let granularity = !matches!(plan.granularity, Some(Granularity::Minute));
        let dimensions = plan
            .dimensions
            .iter()
            .all(|dimension| self.dimension(dimension.name).is_some());
        let filters = plan.filters.iter().enumerate().all(|(index, filter)| {
            Some(index) == attribute || self.dimension(&filter.column).is_some()
        });
        let metrics = plan.metrics.iter().all(|metric| {
            self.metric(Dialect::Sqlite, metric.measure.name, metric.aggregation)
                .is_some()
        });
        granularity && dimensions && filters && metrics
    }

    /// The statements' rows: the rollup rows of the whole hours and the raw rows of the
    /// partial ones.
    fn input(
        &self,
        dialect: Dialect,
        project_id: &str,
        plan: &Plan,
        hours: WholeHours,
        attribute: Option<&Attribute>,
    ) -> Result<Input> {
        let sums: Vec<String> = self.sums.iter().map(|sum| sum.name.to_owned()).collect();
        let rollup_sums: Vec<String> = self
            .sums
            .iter()
            .map(|sum| sum.rollup.of(dialect).to_owned())
            .collect();
        let raw_sums: Vec<String> = self
            .sums
            .iter()
            .map(|sum| sum.raw.of(dialect).to_owned())
            .collect();
        let rows = self.relation(
            dialect,
            project_id,
            plan,
            hours,
            attribute,
            Branch {
                table: self.rollup_table,
                count: self.rollup_count,
                columns: &rollup_sums,
                condition: None,
                days: None,
            },
            Branch {
                table: self.raw_table.of(dialect),
                count: "",
                columns: &raw_sums,
                condition: None,
                days: None,
            },
            &sums,
        )?;
        let mut metrics = Vec::with_capacity(plan.metrics.len());
        for metric in &plan.metrics {
            let computed = self.metric(dialect, metric.measure.name, metric.aggregation);
            metrics.push(match computed {
                Some(Agg::Sql(aggregate)) => MetricInput::Aggregate(aggregate),
                Some(Agg::Latency) => {
                    let value = metric.measure.sql(dialect);
                    let (null_float, null_int) = match dialect {
                        Dialect::Sqlite => ("NULL", "NULL"),
                        Dialect::Postgres => ("NULL::float8", "NULL::int8"),
                    };
                    let Some((buckets_table, bucket_count)) = self.buckets_table else {
                        return Err(crate::Error::internal("a latency without buckets"));
                    };
                    let bucket_columns = [
                        null_float.to_owned(),
                        "r.bucket".to_owned(),
                        bucket_count.to_owned(),
                    ];
                    let raw_columns = [value.clone(), null_int.to_owned(), "1".to_owned()];
                    let not_null = format!("{value} IS NOT NULL");
                    let rows = self.relation(
                        dialect,
                        project_id,
                        plan,
                        hours,
                        attribute,
                        Branch {
                            table: buckets_table,
                            count: bucket_count,
                            columns: &bucket_columns,
                            condition: None,
                            days: self.day_buckets_table.filter(|_| in_days(plan.granularity)),
                        },
                        Branch {
                            table: self.raw_table.of(dialect),
                            count: "",
                            columns: &raw_columns,
                            condition: Some(&not_null),
                            days: None,
                        },
                        &["v".to_owned(), "b".to_owned(), "w".to_owned()],
                    )?;
                    MetricInput::Weighted { rows }
                }
                None => {
                    return Err(crate::Error::internal(
                        "a rollup plan has a metric the rollups do not hold",
                    ))
                }
            });
        }
        let dimensions = plan
            .dimensions
            .iter()
            .map(|dimension| {
                let column = self.dimension(dimension.name).unwrap_or("tm");
                match (dimension.kind, dialect) {
                    (DimensionKind::Integer, Dialect::Postgres) => format!("x.{column}::float8"),
                    _ => format!("x.{column}"),
                }
            })
            .collect();
        Ok(Input {
            rows,
            time_column: "x.tm".to_owned(),
            dimensions,
            metrics,
        })
    }

    /// `FROM (rollup rows UNION ALL raw rows of each partial hour) x`: the key columns and
    /// `columns` (named `names`) of each branch, the plan's filters applied in each.
    #[allow(clippy::too_many_arguments)]
    fn relation(
        &self,
        dialect: Dialect,
        project_id: &str,
        plan: &Plan,
        hours: WholeHours,
        attribute: Option<&Attribute>,
        rollup: Branch<'_>,
        raw: Branch<'_>,
        names: &[String],
    ) -> Result<Sql> {
        let select = |branch: &Branch<'_>, of_rollup: bool| {
            let keys = self.keys.iter().map(|key| {
                let expr = if of_rollup { key.rollup } else { key.raw };
                format!("{} AS {}", expr.of(dialect), key.name)
            });
            let values = branch
                .columns
                .iter()
                .zip(names)
                .map(|(expr, name)| format!("{expr} AS {name}"));
            let list: Vec<String> = keys.chain(values).collect();
            format!("SELECT {} FROM {} WHERE ", list.join(", "), branch.table)
        };

        // The rollup rows: of the whole days from the day table when there is one, of the
        // other whole hours from the hourly table.
        let mut spans = Vec::new();
        match rollup.days.zip(hours.days()) {
            Some((day_table, (first_day, end_day))) => {
                spans.push((day_table, first_day, end_day));
                spans.push((rollup.table, hours.start, first_day));
                spans.push((rollup.table, end_day, hours.end));
            }
            None => spans.push((rollup.table, hours.start, hours.end)),
        }
        let filter_columns: Vec<Column> = self.dimensions.iter().map(|d| d.filter).collect();
        let mut sql = Sql::new(dialect, "FROM (");
        let mut first = true;
        for (table, from, to) in spans {
            if from >= to {
                continue;
            }
            if !first {
                sql.push(" UNION ALL ");
            }
            first = false;
            let branch = Branch { table, ..rollup };
            sql.push(&select(&branch, true))
                .push("r.project_id = ")
                .bind(project_id);
            if let Some(attribute) = attribute {
                sql.push(" AND r.kind = ")
                    .bind(attribute.kind)
                    .push(" AND r.value = ")
                    .bind(attribute.value.as_str());
            }
            sql.push(" AND r.hour >= ")
                .bind(from)
                .push(" AND r.hour < ")
                .bind(to);
            sql.push(&format!(" AND {} <> 0", rollup.count));
            if let Some(segment) = self.rollup_segment {
                sql.push(&format!(" AND {segment}"));
            }
            for (index, filter) in plan.filters.iter().enumerate() {
                if Some(index) != attribute.map(|attribute| attribute.index) {
                    sql.and(compile_filter(dialect, index, filter, &filter_columns)?);
                }
            }
        }
        for (first, last) in hours.edges() {
            let time = self.raw_range;
            sql.push(" UNION ALL ")
                .push(&select(&raw, false))
                .push(&format!("{} = ", self.raw_project))
                .bind(project_id)
                .push(&format!(" AND {time} >= "))
                .bind(first)
                .push(&format!(" AND {time} <= "))
                .bind(last);
            if let Some(segment) = plan.view.segment {
                sql.push(&format!(" AND {segment}"));
            }
            if let Some(condition) = raw.condition {
                sql.push(&format!(" AND {condition}"));
            }
            for (index, filter) in plan.filters.iter().enumerate() {
                sql.and(super::compile_query_filter(
                    dialect,
                    plan.view,
                    plan.version,
                    index,
                    filter,
                )?);
            }
        }
        sql.push(") x");
        Ok(sql)
    }
}

/// One side of the relation: its table and the expressions of its value columns.
#[derive(Clone, Copy)]
struct Branch<'a> {
    table: &'static str,
    /// The count of a rollup row (rows at 0 are left over and read as absent); unused for
    /// the raw rows.
    count: &'static str,
    columns: &'a [String],
    /// A further condition of the raw rows.
    condition: Option<&'a str>,
    /// The rollup's table per day, for the whole days of the range (the hourly table then
    /// holds only the whole hours outside them).
    days: Option<&'static str>,
}

/// Whether time buckets of `granularity` (none: the whole range) are made of whole UTC
/// days, so that a day's rollup rows fall in one bucket.
fn in_days(granularity: Option<Granularity>) -> bool {
    matches!(
        granularity,
        None | Some(Granularity::Day | Granularity::Week | Granularity::Month)
    )
}

/// How the relation computes a metric.
enum Agg {
    Sql(String),
    /// A latency percentile, from the buckets.
    Latency,
}

/// An aggregate as a `float8` on PostgreSQL.
fn float(dialect: Dialect, aggregate: &str) -> String {
    match dialect {
        Dialect::Sqlite => aggregate.to_owned(),
        Dialect::Postgres => format!("({aggregate})::float8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Micros = HOUR_MICROS;

    #[test]
    fn whole_hours_and_edges() {
        let hours = WholeHours::of(10 * H + 5, 13 * H + 7).unwrap();
        assert_eq!((hours.start, hours.end), (11 * H, 13 * H));
        assert_eq!(
            hours.edges(),
            vec![(10 * H + 5, 11 * H - 1), (13 * H, 13 * H + 7)]
        );
        let aligned = WholeHours::of(10 * H, 12 * H - 1).unwrap();
        assert_eq!((aligned.start, aligned.end), (10 * H, 12 * H));
        assert!(aligned.edges().is_empty());
        // `to` is inclusive: its own microsecond is an edge.
        let inclusive = WholeHours::of(10 * H, 12 * H).unwrap();
        assert_eq!(inclusive.edges(), vec![(12 * H, 12 * H)]);
        assert!(WholeHours::of(10 * H + 5, 11 * H + 5).is_none());
        // Whole days inside the whole hours: none in a few hours, two in 10:05 on day 0 to
        // 13:07 on day 3, and every one of an aligned range.
        assert_eq!(hours.days(), None);
        let day = DAY_MICROS;
        let days = WholeHours::of(10 * H + 5, 3 * day + 13 * H + 7).unwrap();
        assert_eq!(days.days(), Some((day, 3 * day)));
        let aligned_days = WholeHours::of(day, 3 * day - 1).unwrap();
        assert_eq!(aligned_days.days(), Some((day, 3 * day)));
        assert_eq!(WholeHours::of(-day, H - 1).unwrap().days(), Some((-day, 0)));
        assert!(WholeHours::of(10 * H + 5, 10 * H + 50).is_none());
    }
}
