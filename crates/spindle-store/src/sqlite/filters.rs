//! Advanced filters (`filter=[{column, operator, value, key}]`) compiled to SQL conditions
//! with bound parameters, and the small SQL builder the read queries share.

use rusqlite::types::Value;
use spindle_core::{Error, Level};

use crate::{Filter, FilterValue, Result};

/// SQL text with its positional parameters.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends raw SQL.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a `?` bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.params.push(value.into());
        self
    }

    /// Appends `(SELECT value FROM json_each(?))` bound to `values` as one JSON array, so a
    /// list of any length is one parameter (an empty list matches nothing).
    pub fn bind_list<V: Into<serde_json::Value>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        let array = serde_json::Value::Array(values.into_iter().map(Into::into).collect());
        self.text.push_str("(SELECT value FROM json_each(");
        self.bind(array.to_string());
        self.text.push_str("))");
        self
    }

    /// Appends `AND <condition>`.
    pub fn and(&mut self, condition: Sql) -> &mut Self {
        self.text.push_str(" AND ");
        self.text.push_str(&condition.text);
        self.params.extend(condition.params);
        self
    }

    /// Appends another fragment.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.params.extend(other.params.iter().cloned());
        self
    }
}

/// What a filterable column holds, and the SQL expression that reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ColumnKind {
    /// Text; NULL compares as the empty string.
    Text(&'static str),
    Number(&'static str),
    Datetime(&'static str),
    Boolean(&'static str),
    /// A JSON array of strings (tags).
    Array(&'static str),
    /// A JSON object of strings (metadata), filtered by `key`.
    Object(&'static str),
    /// A level rank expression (see [`rank_of`]), compared with level names.
    Level(&'static str),
}

/// A filterable column: its public name and kind.
pub(crate) type Column = (&'static str, ColumnKind);

/// The rank of a level: 0 = DEBUG, 1 = DEFAULT, 2 = WARNING, 3 = ERROR.
pub(crate) fn rank_of(level: Level) -> i64 {
    match level {
        Level::Debug => 0,
        Level::Default => 1,
        Level::Warning => 2,
        Level::Error => 3,
    }
}

/// The level of a rank from [`rank_of`].
pub(crate) fn level_of_rank(rank: i64) -> Level {
    match rank {
        0 => Level::Debug,
        2 => Level::Warning,
        3 => Level::Error,
        _ => Level::Default,
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Compiles every filter into one `AND`-joined condition appended to `sql`.
pub(crate) fn compile_filters(sql: &mut Sql, filters: &[Filter], columns: &[Column]) -> Result<()> {
    for (index, filter) in filters.iter().enumerate() {
        let condition = compile_filter(index, filter, columns)?;
        sql.and(condition);
    }
    Ok(())
}

/// Compiles the filter at position `index` of `filter=` (the position names it in errors).
pub(crate) fn compile_filter(index: usize, filter: &Filter, columns: &[Column]) -> Result<Sql> {
    let field = |part: &str| format!("filter[{index}].{part}");
    let Some((_, kind)) = columns.iter().find(|(name, _)| *name == filter.column) else {
        let known: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        return Err(Error::invalid(
            field("column"),
            format!(
                "unknown column {:?} (expected one of {})",
                filter.column,
                known.join(", ")
            ),
        ));
    };
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
    let mut sql = Sql::default();
    match *kind {
        ColumnKind::Text(expr) => {
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
                            expr.to_owned()
                        } else {
                            value_expr.clone()
                        };
                    let not = if operator == "none of" { "NOT " } else { "" };
                    sql.push(&format!("{expr_tested} {not}IN "))
                        .bind_list(values);
                }
                op => {
                    let FilterValue::String(text) = &filter.value else {
                        return Err(if OPS.contains(&op) {
                            wrong_value("a string")
                        } else {
                            unknown_operator(OPS)
                        });
                    };
                    string_condition(&mut sql, &value_expr, op, text)
                        .ok_or_else(|| unknown_operator(OPS))?;
                }
            }
        }
        ColumnKind::Number(expr) | ColumnKind::Datetime(expr) => {
            const OPS: &[&str] = &["=", "!=", ">", "<", ">=", "<=", "is null", "is not null"];
            let is_datetime = matches!(kind, ColumnKind::Datetime(_));
            match operator.as_str() {
                "is null" => {
                    sql.push(&format!("{expr} IS NULL"));
                }
                "is not null" => {
                    sql.push(&format!("{expr} IS NOT NULL"));
                }
                "=" | "!=" | ">" | "<" | ">=" | "<=" => {
                    let value: Value = match (&filter.value, is_datetime) {
                        (FilterValue::Datetime(micros), true) => Value::Integer(*micros),
                        (FilterValue::Number(number), false) if number.is_finite() => {
                            Value::Real(*number)
                        }
                        (FilterValue::Number(number), true) if number.is_finite() => {
                            Value::Integer(*number as i64)
                        }
                        (_, true) => return Err(wrong_value("a datetime")),
                        (_, false) => return Err(wrong_value("a finite number")),
                    };
                    let op = if operator == "!=" {
                        "IS NOT"
                    } else {
                        operator.as_str()
                    };
                    sql.push(&format!("{expr} {op} ")).bind(value);
                }
                _ => return Err(unknown_operator(OPS)),
            }
        }
        ColumnKind::Boolean(expr) => {
            const OPS: &[&str] = &["=", "!="];
            let FilterValue::Boolean(flag) = filter.value else {
                if !OPS.contains(&operator.as_str()) {
                    return Err(unknown_operator(OPS));
                }
                return Err(wrong_value("a boolean"));
            };
            match operator.as_str() {
                "=" => sql.push(&format!("coalesce({expr}, 0) = ")).bind(flag),
                "!=" => sql.push(&format!("coalesce({expr}, 0) != ")).bind(flag),
                _ => return Err(unknown_operator(OPS)),
            };
        }
        ColumnKind::Array(expr) => {
            const OPS: &[&str] = &["any of", "all of", "none of"];
            if !OPS.contains(&operator.as_str()) {
                return Err(unknown_operator(OPS));
            }
            let values =
                strings_of(&filter.value).ok_or_else(|| wrong_value("a list of strings"))?;
            match operator.as_str() {
                "any of" => {
                    sql.push(&format!(
                        "EXISTS (SELECT 1 FROM json_each({expr}) WHERE value IN "
                    ))
                    .bind_list(values)
                    .push(")");
                }
                "none of" => {
                    sql.push(&format!(
                        "NOT EXISTS (SELECT 1 FROM json_each({expr}) WHERE value IN "
                    ))
                    .bind_list(values)
                    .push(")");
                }
                _ => {
                    let mut distinct = values.clone();
                    distinct.sort();
                    distinct.dedup();
                    let count = distinct.len() as i64;
                    sql.push(&format!(
                        "(SELECT count(DISTINCT value) FROM json_each({expr}) WHERE value IN "
                    ))
                    .bind_list(distinct)
                    .push(") = ")
                    .bind(count);
                }
            }
        }
        ColumnKind::Object(expr) => {
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
            let mut lookup = Sql::new(&format!(
                "coalesce((SELECT j.value FROM json_each({expr}) j WHERE j.key = "
            ));
            lookup.bind(key.to_owned()).push("), '')");
            match (&filter.value, operator.as_str()) {
                // A metadata value is stored as JSON text or plain text: match either.
                (FilterValue::String(text), "=" | "!=") => {
                    let not = if operator == "!=" { "NOT " } else { "" };
                    sql.push(&format!("{not}("))
                        .append(&lookup)
                        .push(" = ")
                        .bind(text.clone())
                        .push(" OR ")
                        .append(&lookup)
                        .push(" = json_quote(")
                        .bind(text.clone())
                        .push("))");
                }
                (FilterValue::String(text), op) => {
                    let mut inner = Sql::default();
                    if string_condition(&mut inner, "__lookup__", op, text).is_none() {
                        return Err(wrong_value("a number"));
                    }
                    let (before, after) = inner
                        .text
                        .split_once("__lookup__")
                        .map(|(b, a)| (b.to_owned(), a.to_owned()))
                        .unwrap_or_default();
                    sql.push(&before).append(&lookup);
                    sql.text.push_str(&after);
                    sql.params.extend(inner.params);
                }
                // numberObject: the value read as a number (quoted numbers too).
                (FilterValue::Number(number), "=" | "!=" | ">" | "<" | ">=" | "<=")
                    if number.is_finite() =>
                {
                    sql.push("CAST(trim(")
                        .append(&lookup)
                        .push(&format!(", '\"') AS REAL) {operator} "))
                        .bind(*number);
                }
                // booleanObject: `true`/`false`, quoted or not.
                (FilterValue::Boolean(flag), "=" | "!=") => {
                    let expected = if *flag { "true" } else { "false" };
                    sql.push("(lower(trim(")
                        .append(&lookup)
                        .push(&format!(", '\"')) {operator} "))
                        .bind(expected.to_owned())
                        .push(")");
                }
                (FilterValue::Number(_), _) => return Err(wrong_value("a finite number")),
                (FilterValue::Boolean(_), _) => return Err(wrong_value("a string")),
                _ => return Err(wrong_value("a string, number or boolean")),
            }
        }
        ColumnKind::Level(rank_expr) => {
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
                    sql.push(&format!("{rank_expr} {} ", operator)).bind(rank);
                }
                "any of" | "none of" => {
                    let values =
                        strings_of(&filter.value).ok_or_else(|| wrong_value("a list of levels"))?;
                    let ranks = values
                        .iter()
                        .map(|v| parse(v))
                        .collect::<Result<Vec<i64>>>()?;
                    let not = if operator == "none of" { "NOT " } else { "" };
                    sql.push(&format!("{rank_expr} {not}IN ")).bind_list(ranks);
                }
                _ => return Err(unknown_operator(OPS)),
            }
        }
    }
    Ok(sql)
}

/// Appends `<expr> <op> ?` for the single-string operators; `None` for an unknown operator.
fn string_condition(sql: &mut Sql, expr: &str, operator: &str, text: &str) -> Option<()> {
    match operator {
        "=" => {
            sql.push(&format!("{expr} = ")).bind(text.to_owned());
        }
        "!=" => {
            sql.push(&format!("{expr} != ")).bind(text.to_owned());
        }
        "contains" => {
            sql.push(&format!("{expr} LIKE "))
                .bind(format!("%{}%", like_escape(text)))
                .push(" ESCAPE '\\'");
        }
        "does not contain" => {
            sql.push(&format!("{expr} NOT LIKE "))
                .bind(format!("%{}%", like_escape(text)))
                .push(" ESCAPE '\\'");
        }
        "starts with" => {
            sql.push(&format!("{expr} LIKE "))
                .bind(format!("{}%", like_escape(text)))
                .push(" ESCAPE '\\'");
        }
        "ends with" => {
            sql.push(&format!("{expr} LIKE "))
                .bind(format!("%{}", like_escape(text)))
                .push(" ESCAPE '\\'");
        }
        _ => return None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        ("name", ColumnKind::Text("t.name")),
        ("latency", ColumnKind::Number("lat")),
        ("tags", ColumnKind::Array("t.tags")),
        ("metadata", ColumnKind::Object("t.metadata")),
    ];

    fn filter(column: &str, operator: &str, value: FilterValue) -> Filter {
        Filter {
            column: column.into(),
            operator: operator.into(),
            value,
            key: None,
        }
    }

    fn check_error(filter: Filter, expected: &str) {
        let mut sql = Sql::default();
        let error = compile_filters(&mut sql, &[filter], COLUMNS).err();
        let message = error.map(|e| e.message).unwrap_or_default();
        assert!(message.starts_with(expected), "{message}");
    }

    #[test]
    fn errors_name_the_field() {
        check_error(
            filter("foo", "=", FilterValue::String("x".into())),
            "filter[0].column: unknown column \"foo\"",
        );
        check_error(
            filter("name", "~", FilterValue::String("x".into())),
            "filter[0].operator: unknown operator \"~\"",
        );
        check_error(
            filter("latency", ">", FilterValue::String("x".into())),
            "filter[0].value: expected a finite number",
        );
        check_error(
            filter("tags", "=", FilterValue::Strings(vec![])),
            "filter[0].operator: unknown operator \"=\"",
        );
        check_error(
            filter("metadata", "=", FilterValue::String("x".into())),
            "filter[0].key: required",
        );
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
        let mut sql = Sql::default();
        let mut f = filter("metadata", "starts with", FilterValue::String("a%".into()));
        f.key = Some("k".into());
        compile_filters(&mut sql, &[f], COLUMNS).expect("compiles");
        assert!(sql.text.contains("LIKE ? ESCAPE"), "{}", sql.text);
        assert_eq!(sql.params.len(), 2);
    }
}
