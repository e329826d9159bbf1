//! Advanced filters (`filter=[{column, operator, value, key}]`) compiled to SQL conditions
//! with bound parameters, for either dialect, and the filterable columns of each list.
//!
//! The semantics are the same on both databases: NULL text compares as the empty string,
//! `LIKE` operators ignore ASCII case, `!=` on numbers is true for NULL, and errors name the
//! field (`filter[2].value: expected a finite number for operator ">"`).

use spindle_core::{Error, Level};

use super::{like_escape, Dialect, Param, Sql};
use crate::{Filter, FilterValue, Result};

/// An SQL expression: the same text on both dialects, or spelled once per dialect.
#[derive(Debug, Clone, Copy)]
pub struct Expr {
    sqlite: &'static str,
    postgres: &'static str,
}

impl Expr {
    pub const fn same(text: &'static str) -> Self {
        Expr {
            sqlite: text,
            postgres: text,
        }
    }

    pub const fn per_dialect(sqlite: &'static str, postgres: &'static str) -> Self {
        Expr { sqlite, postgres }
    }

    pub fn of(self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

/// What a filterable column holds, and so which operators and values it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text; NULL compares as the empty string.
    Text,
    /// A number (a `float8` expression on PostgreSQL).
    Number,
    /// Microseconds since the epoch, compared with datetimes.
    Datetime,
    Boolean,
    /// A JSON array of strings (tags).
    Array,
    /// A JSON object of strings (metadata), filtered by `key`.
    Object,
    /// A level rank expression (see [`rank_of`]), compared with level names.
    Level,
}

/// A filterable column: its public name, kind and the expression that reads it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub expr: Expr,
    /// A trace column read from the trace's prompt-linked observations (`o3`): see
    /// [`compile_trace_filter`].
    pub of_prompt_observations: bool,
}

impl Column {
    pub const fn new(name: &'static str, kind: ColumnKind, expr: &'static str) -> Self {
        Column::per_dialect(name, kind, Expr::same(expr))
    }

    pub const fn per_dialect(name: &'static str, kind: ColumnKind, expr: Expr) -> Self {
        Column {
            name,
            kind,
            expr,
            of_prompt_observations: false,
        }
    }

    /// A trace column whose expression reads an observation `o3` linked to a prompt.
    pub const fn of_prompt_observations(name: &'static str, kind: ColumnKind, expr: Expr) -> Self {
        Column {
            name,
            kind,
            expr,
            of_prompt_observations: true,
        }
    }
}

/// The rank of a level: 0 = DEBUG, 1 = DEFAULT, 2 = WARNING, 3 = ERROR.
pub fn rank_of(level: Level) -> i64 {
    match level {
        Level::Debug => 0,
        Level::Default => 1,
        Level::Warning => 2,
        Level::Error => 3,
    }
}

/// The level of a rank from [`rank_of`].
pub fn level_of_rank(rank: i64) -> Level {
    match rank {
        0 => Level::Debug,
        2 => Level::Warning,
        3 => Level::Error,
        _ => Level::Default,
    }
}

/// Compiles every filter into one `AND`-joined condition appended to `sql`.
pub fn compile_filters(sql: &mut Sql, filters: &[Filter], columns: &[Column]) -> Result<()> {
    for (index, filter) in filters.iter().enumerate() {
        let condition = compile_filter(sql.dialect(), index, filter, columns)?;
        sql.and(condition);
    }
    Ok(())
}

/// Compiles the filter at position `index` of `filter=` (the position names it in errors).
pub fn compile_filter(
    dialect: Dialect,
    index: usize,
    filter: &Filter,
    columns: &[Column],
) -> Result<Sql> {
    let field = |part: &str| format!("filter[{index}].{part}");
    let Some(column) = columns.iter().find(|column| column.name == filter.column) else {
        let known: Vec<&str> = columns.iter().map(|column| column.name).collect();
        return Err(Error::invalid(
            field("column"),
            format!(
                "unknown column {:?} (expected one of {})",
                filter.column,
                known.join(", ")
            ),
        ));
    };
    let expr = column.expr.of(dialect);
    let operator = filter.operator.trim().to_ascii_lowercase();
    let unknown_operator = |allowed: &[&str]| {
        Error::invalid(
            field("operator"),
            format!(
                "unknown operator {:?} for column {:?} (expected one of {})",
                filter.operator,
                filter.column,
                allowed.join(", ")
            ),
        )
    };
    let wrong_value = |expected: &str| {
        Error::invalid(
            field("value"),
            format!("expected {expected} for operator {:?}", filter.operator),
        )
    };
    let mut sql = Sql::new(dialect, "");
    match column.kind {
        ColumnKind::Text => {
            const OPS: &[&str] = &[
                "=",
                "!=",
                "contains",
                "does not contain",
                "starts with",
                "ends with",
                "any of",
                "none of",
                "is null",
                "is not null",
            ];
            let value_expr = format!("coalesce({expr}, '')");
            match operator.as_str() {
                "is null" => {
                    sql.push(&format!("({expr} IS NULL OR {expr} = '')"));
                }
                "is not null" => {
                    sql.push(&format!("({expr} IS NOT NULL AND {expr} != '')"));
                }
                "any of" | "none of" => {
                    let values = strings_of(&filter.value)
                        .ok_or_else(|| wrong_value("a list of strings"))?;
                    // Without "" in the list, `expr IN` is the same test, and an index on
                    // the column serves it.
                    let expr_tested =
                        if operator == "any of" && !values.iter().any(String::is_empty) {
                            expr
                        } else {
                            value_expr.as_str()
                        };
                    sql.in_list(expr_tested, values, operator == "none of");
                }
                op => {
                    let FilterValue::String(text) = &filter.value else {
                        return Err(if OPS.contains(&op) {
                            wrong_value("a string")
                        } else {
                            unknown_operator(OPS)
                        });
                    };
                    if op == "=" && !text.is_empty() {
                        // NULL reads as "", so for any other text `expr =` is the same
                        // test, and an index on the column serves it.
                        sql.push(&format!("{expr} = ")).bind(text.as_str());
                    } else {
                        string_condition(&mut sql, &Sql::new(dialect, &value_expr), op, text)
                            .ok_or_else(|| unknown_operator(OPS))?;
                    }
                }
            }
        }
        ColumnKind::Number | ColumnKind::Datetime => {
            const OPS: &[&str] = &["=", "!=", ">", "<", ">=", "<=", "is null", "is not null"];
            let is_datetime = column.kind == ColumnKind::Datetime;
            match operator.as_str() {
                "is null" => {
                    sql.push(&format!("{expr} IS NULL"));
                }
                "is not null" => {
                    sql.push(&format!("{expr} IS NOT NULL"));
                }
                "=" | "!=" | ">" | "<" | ">=" | "<=" => {
                    let value: Param = match (&filter.value, is_datetime) {
                        (FilterValue::Datetime(micros), true) => Param::Int(*micros),
                        (FilterValue::Number(number), false) if number.is_finite() => {
                            Param::Float(*number)
                        }
                        (FilterValue::Number(number), true) if number.is_finite() => {
                            Param::Int(*number as i64)
                        }
                        (_, true) => return Err(wrong_value("a datetime")),
                        (_, false) => return Err(wrong_value("a finite number")),
                    };
                    let op = if operator == "!=" {
                        dialect.is_distinct_from()
                    } else {
                        operator.as_str()
                    };
                    sql.push(&format!("{expr} {op} ")).bind(value);
                }
                _ => return Err(unknown_operator(OPS)),
            }
        }
        ColumnKind::Boolean => {
            const OPS: &[&str] = &["=", "!="];
            let FilterValue::Boolean(flag) = filter.value else {
                if !OPS.contains(&operator.as_str()) {
                    return Err(unknown_operator(OPS));
                }
                return Err(wrong_value("a boolean"));
            };
            if !OPS.contains(&operator.as_str()) {
                return Err(unknown_operator(OPS));
            }
            let unset = dialect.boolean(false);
            sql.push(&format!("coalesce({expr}, {unset}) {operator} "))
                .bind(flag);
        }
        ColumnKind::Array => {
            const OPS: &[&str] = &["any of", "all of", "none of"];
            if !OPS.contains(&operator.as_str()) {
                return Err(unknown_operator(OPS));
            }
            let values =
                strings_of(&filter.value).ok_or_else(|| wrong_value("a list of strings"))?;
            match operator.as_str() {
                "any of" => sql.array_any(expr, values),
                "none of" => sql.array_none(expr, values),
                _ => sql.array_all(expr, values),
            };
        }
        ColumnKind::Object => {
            const OPS: &[&str] = &[
                "=",
                "!=",
                "contains",
                "does not contain",
                "starts with",
                "ends with",
                ">",
                "<",
                ">=",
                "<=",
            ];
            let Some(key) = filter.key.as_deref() else {
                return Err(Error::invalid(
                    field("key"),
                    "required for an object column",
                ));
            };
            if !OPS.contains(&operator.as_str()) {
                return Err(unknown_operator(OPS));
            }
            let mut lookup = Sql::new(dialect, "coalesce(");
            lookup.json_key(expr, key).push(", '')");
            match (&filter.value, operator.as_str()) {
                // A metadata value is stored as JSON text or plain text: match either.
                (FilterValue::String(text), "=" | "!=") => {
                    let not = if operator == "!=" { "NOT " } else { "" };
                    sql.push(&format!("{not}("))
                        .append(&lookup)
                        .push(" = ")
                        .bind(text.as_str())
                        .push(" OR ")
                        .append(&lookup)
                        .push(" = ")
                        .json_quoted(text)
                        .push(")");
                }
                (FilterValue::String(text), op) => {
                    if string_condition(&mut sql, &lookup, op, text).is_none() {
                        return Err(wrong_value("a number"));
                    }
                }
                // numberObject: the value read as a number (quoted numbers too).
                (FilterValue::Number(number), "=" | "!=" | ">" | "<" | ">=" | "<=")
                    if number.is_finite() =>
                {
                    let mut trimmed = Sql::new(dialect, "");
                    trimmed.trim_quotes(&lookup);
                    sql.text_to_number(&trimmed)
                        .push(&format!(" {operator} "))
                        .bind(*number);
                }
                // booleanObject: `true`/`false`, quoted or not.
                (FilterValue::Boolean(flag), "=" | "!=") => {
                    let expected = if *flag { "true" } else { "false" };
                    sql.push("(lower(")
                        .trim_quotes(&lookup)
                        .push(&format!(") {operator} "))
                        .bind(expected)
                        .push(")");
                }
                (FilterValue::Number(_), _) => return Err(wrong_value("a finite number")),
                (FilterValue::Boolean(_), _) => return Err(wrong_value("a string")),
                _ => return Err(wrong_value("a string, number or boolean")),
            }
        }
        ColumnKind::Level => {
            const OPS: &[&str] = &["=", "!=", "any of", "none of"];
            let parse = |text: &str| {
                Level::parse(text).map(rank_of).ok_or_else(|| {
                    Error::invalid(
                        field("value"),
                        format!(
                            "unknown level {text:?} (expected DEBUG, DEFAULT, WARNING or ERROR)"
                        ),
                    )
                })
            };
            match operator.as_str() {
                "=" | "!=" => {
                    let FilterValue::String(text) = &filter.value else {
                        return Err(wrong_value("a level"));
                    };
                    let rank = parse(text)?;
                    sql.push(&format!("{expr} {operator} ")).bind(rank);
                }
                "any of" | "none of" => {
                    let values =
                        strings_of(&filter.value).ok_or_else(|| wrong_value("a list of levels"))?;
                    let ranks = values
                        .iter()
                        .map(|v| parse(v))
                        .collect::<Result<Vec<i64>>>()?;
                    sql.in_list(expr, ranks, operator == "none of");
                }
                _ => return Err(unknown_operator(OPS)),
            }
        }
    }
    Ok(sql)
}

/// Compiles a filter of the traces list ([`TRACE_FILTER_COLUMNS`]). A column of the trace's
/// prompt-linked observations matches the traces holding at least one such observation that
/// matches; a negative operator (`!=`, `none of`, `does not contain`, `is null`) matches the
/// traces holding none that matches its positive form. Either way the observations are read
/// once from the partial index `observations_by_prompt`, as a semi-join on the trace id.
pub fn compile_trace_filter(
    dialect: Dialect,
    project_id: &str,
    index: usize,
    filter: &Filter,
) -> Result<Sql> {
    let linked = TRACE_FILTER_COLUMNS
        .iter()
        .any(|column| column.name == filter.column && column.of_prompt_observations);
    if !linked {
        return compile_filter(dialect, index, filter, TRACE_FILTER_COLUMNS);
    }
    let operator = filter.operator.trim().to_ascii_lowercase();
    let positive = match operator.as_str() {
        "!=" => Some("="),
        "none of" => Some("any of"),
        "does not contain" => Some("contains"),
        "is null" => Some("is not null"),
        _ => None,
    };
    let condition = match positive {
        Some(positive) => {
            let positive_filter = Filter {
                operator: positive.to_owned(),
                ..filter.clone()
            };
            compile_filter(dialect, index, &positive_filter, TRACE_FILTER_COLUMNS)?
        }
        None => compile_filter(dialect, index, filter, TRACE_FILTER_COLUMNS)?,
    };
    let not = if positive.is_some() { "NOT " } else { "" };
    let mut sql = Sql::new(
        dialect,
        &format!("t.id {not}IN (SELECT o3.trace_id FROM observations o3 WHERE o3.project_id = "),
    );
    sql.bind(project_id)
        .push(" AND o3.prompt_name IS NOT NULL AND o3.trace_id IS NOT NULL AND ")
        .append(&condition)
        .push(")");
    Ok(sql)
}

/// Appends `<expr> <op> <text>` for the single-string operators; `None` (and nothing
/// appended) for an unknown operator. Pattern operators ignore ASCII case.
fn string_condition(sql: &mut Sql, expr: &Sql, operator: &str, text: &str) -> Option<()> {
    let (pattern, negated) = match operator {
        "=" | "!=" => {
            sql.append(expr).push(&format!(" {operator} ")).bind(text);
            return Some(());
        }
        "contains" => (format!("%{}%", like_escape(text)), false),
        "does not contain" => (format!("%{}%", like_escape(text)), true),
        "starts with" => (format!("{}%", like_escape(text)), false),
        "ends with" => (format!("%{}", like_escape(text)), false),
        _ => return None,
    };
    // `like` writes ` LIKE …` after the (empty) expression it is given.
    sql.append(expr).like("", pattern, negated);
    Some(())
}

/// The strings of a list value; a single string counts as a list of one.
fn strings_of(value: &FilterValue) -> Option<Vec<String>> {
    match value {
        FilterValue::Strings(values) => Some(values.clone()),
        FilterValue::String(value) => Some(vec![value.clone()]),
        _ => None,
    }
}

// --- the filterable columns of each list ---

/// Seconds from the earliest start to the latest end of a trace's observations (`t`), NULL
/// without observations: read from its `trace_totals` row.
pub const TRACE_LATENCY: Expr = Expr::per_dialect(
    "(SELECT tt2.latency / 1000000.0 FROM trace_totals tt2 \
     WHERE tt2.project_id = t.project_id AND tt2.trace_id = t.id)",
    "(SELECT tt2.latency / 1000000.0::float8 FROM trace_totals tt2 \
     WHERE tt2.project_id = t.project_id AND tt2.trace_id = t.id)",
);

/// The sum of a trace's observation costs (`t`), 0 without observations: read from its
/// `trace_totals` row (PostgreSQL sums over `numeric` there, so the sum does not depend on
/// row order; SQLite's `sum()` compensates rounding errors too).
pub const TRACE_COST: Expr = Expr::same(
    "coalesce((SELECT tt2.total_cost FROM trace_totals tt2 \
     WHERE tt2.project_id = t.project_id AND tt2.trace_id = t.id), 0.0)",
);

/// The worst level rank of a trace's observations (1 = DEFAULT without observations): read
/// from its `trace_totals` row.
pub const TRACE_LEVEL: Expr = Expr::same(
    "coalesce((SELECT tt2.level_rank FROM trace_totals tt2 \
     WHERE tt2.project_id = t.project_id AND tt2.trace_id = t.id), 1)",
);

/// The level rank of an observation (`o`).
pub const OBSERVATION_LEVEL: Expr = Expr::per_dialect(
    "(CASE o.level WHEN 'DEBUG' THEN 0 WHEN 'WARNING' THEN 2 WHEN 'ERROR' THEN 3 ELSE 1 END)",
    "(CASE o.level WHEN 'DEBUG' THEN 0 WHEN 'WARNING' THEN 2 \
     WHEN 'ERROR' THEN 3 ELSE 1 END)::int8",
);

/// The tags of the trace `t` joined to an observation or score (`[]` without a trace).
const JOINED_TRACE_TAGS: Expr =
    Expr::per_dialect("coalesce(t.tags, '[]')", "coalesce(t.tags, '[]'::jsonb)");

use ColumnKind::{Array, Boolean, Datetime, Number, Object, Text};

pub const TRACE_FILTER_COLUMNS: &[Column] = &[
    Column::new("id", Text, "t.id"),
    Column::new("name", Text, "t.name"),
    Column::new("timestamp", Datetime, "t.timestamp"),
    Column::new("userId", Text, "t.user_id"),
    Column::new("sessionId", Text, "t.session_id"),
    Column::new("release", Text, "t.release"),
    Column::new("version", Text, "t.version"),
    Column::new("environment", Text, "t.environment"),
    Column::new("externalId", Text, "t.external_id"),
    Column::new("tags", Array, "t.tags"),
    Column::new("metadata", Object, "t.metadata"),
    Column::new("bookmarked", Boolean, "t.bookmarked"),
    Column::new("public", Boolean, "t.public"),
    Column::per_dialect("level", ColumnKind::Level, TRACE_LEVEL),
    Column::per_dialect("latency", Number, TRACE_LATENCY),
    Column::per_dialect("totalCost", Number, TRACE_COST),
    Column::of_prompt_observations("promptName", Text, Expr::same("o3.prompt_name")),
    Column::of_prompt_observations(
        "promptVersion",
        Number,
        Expr::per_dialect("o3.prompt_version", "o3.prompt_version::float8"),
    ),
];

pub const OBSERVATION_FILTER_COLUMNS: &[Column] = &[
    Column::new("id", Text, "o.id"),
    Column::new("traceId", Text, "o.trace_id"),
    Column::new("name", Text, "o.name"),
    Column::new("type", Text, "o.type"),
    Column::new("parentObservationId", Text, "o.parent_observation_id"),
    Column::new("startTime", Datetime, "o.start_time"),
    Column::new("endTime", Datetime, "o.end_time"),
    Column::new("completionStartTime", Datetime, "o.completion_start_time"),
    Column::per_dialect("level", ColumnKind::Level, OBSERVATION_LEVEL),
    Column::new("statusMessage", Text, "o.status_message"),
    Column::new("version", Text, "o.version"),
    Column::new("environment", Text, "o.environment"),
    Column::new("model", Text, "o.model"),
    Column::new("promptName", Text, "o.prompt_name"),
    Column::per_dialect(
        "promptVersion",
        Number,
        Expr::per_dialect("o.prompt_version", "o.prompt_version::float8"),
    ),
    Column::per_dialect(
        "metadata",
        Object,
        Expr::per_dialect(super::rows::OBSERVATION_METADATA_SQLITE, "o.metadata"),
    ),
    Column::per_dialect(
        "totalCost",
        Number,
        Expr::per_dialect(
            "coalesce(o.total_cost, 0.0)",
            "coalesce(o.total_cost, 0.0)::float8",
        ),
    ),
    Column::per_dialect(
        "latency",
        Number,
        Expr::per_dialect(
            "((o.end_time - o.start_time) / 1000000.0)",
            "((o.end_time - o.start_time) / 1000000.0::float8)",
        ),
    ),
    Column::per_dialect(
        "inputTokens",
        Number,
        Expr::per_dialect("o.usage_input", "o.usage_input::float8"),
    ),
    Column::per_dialect(
        "outputTokens",
        Number,
        Expr::per_dialect("o.usage_output", "o.usage_output::float8"),
    ),
    Column::per_dialect(
        "totalTokens",
        Number,
        Expr::per_dialect("o.usage_total", "o.usage_total::float8"),
    ),
    Column::new("userId", Text, "t.user_id"),
    Column::new("sessionId", Text, "t.session_id"),
    Column::new("traceName", Text, "t.name"),
    Column::per_dialect("tags", Array, JOINED_TRACE_TAGS),
];

/// The columns of [`SCORE_FILTER_COLUMNS`] that read the score's trace.
pub const SCORE_FILTER_COLUMNS_OF_TRACE: &[&str] = &["userId", "traceName", "tags"];

pub const SCORE_FILTER_COLUMNS: &[Column] = &[
    Column::new("id", Text, "s.id"),
    Column::new("name", Text, "s.name"),
    Column::new("value", Number, "s.value"),
    Column::new("stringValue", Text, "s.string_value"),
    Column::new("dataType", Text, "s.data_type"),
    Column::new("source", Text, "s.source"),
    Column::new("timestamp", Datetime, "s.timestamp"),
    Column::new("traceId", Text, "s.trace_id"),
    Column::new("observationId", Text, "s.observation_id"),
    Column::new("sessionId", Text, "s.session_id"),
    Column::new("datasetRunId", Text, "s.dataset_run_id"),
    Column::new("environment", Text, "s.environment"),
    Column::new("configId", Text, "s.config_id"),
    Column::new("queueId", Text, "s.queue_id"),
    Column::new("comment", Text, "s.comment"),
    Column::new("authorUserId", Text, "s.author_user_id"),
    Column::new("metadata", Object, "s.metadata"),
    Column::new("userId", Text, "t.user_id"),
    Column::new("traceName", Text, "t.name"),
    Column::per_dialect("tags", Array, JOINED_TRACE_TAGS),
];

#[cfg(test)]
mod tests;
