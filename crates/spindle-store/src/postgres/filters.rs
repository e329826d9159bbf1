//! Advanced filters (`filter=[{column, operator, value, key}]`) compiled to PostgreSQL
//! conditions with bound parameters, and the small SQL builder the read queries share.
//!
//! The semantics are the SQLite backend's: NULL text compares as the empty string, `LIKE`
//! operators ignore ASCII case, `!=` on numbers is true for NULL, and errors name the field.

use bytes::BytesMut;
use spindle_core::{Error, Level};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use crate::{Filter, FilterValue, Result};

/// One bound parameter. Every placeholder is written with an explicit cast to its type.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Texts(Vec<String>),
    Ints(Vec<i64>),
}

impl Param {
    fn cast(&self) -> &'static str {
        match self {
            Param::Text(_) => "text",
            Param::Int(_) => "int8",
            Param::Float(_) => "float8",
            Param::Bool(_) => "bool",
            Param::Texts(_) => "text[]",
            Param::Ints(_) => "int8[]",
        }
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Text(v) => v.to_sql(ty, out),
            Param::Int(v) => v.to_sql(ty, out),
            Param::Float(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::Texts(v) => v.to_sql(ty, out),
            Param::Ints(v) => v.to_sql(ty, out),
        }
    }

    // Placeholders carry explicit casts, so the server always asks for the matching type.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Param::Text(value)
    }
}
impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Param::Text(value.to_owned())
    }
}
impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Param::Int(value)
    }
}
impl From<f64> for Param {
    fn from(value: f64) -> Self {
        Param::Float(value)
    }
}
impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Param::Bool(value)
    }
}
impl From<Vec<String>> for Param {
    fn from(value: Vec<String>) -> Self {
        Param::Texts(value)
    }
}
impl From<Vec<i64>> for Param {
    fn from(value: Vec<i64>) -> Self {
        Param::Ints(value)
    }
}

/// SQL text with its parameters. Placeholders are written as `$?` and numbered when the
/// statement is finished, so fragments can be combined in any order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

const PLACEHOLDER: &str = "$?";

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

    /// Appends a placeholder bound to `value`, cast to its type.
    pub fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        let value = value.into();
        self.text.push('(');
        self.text.push_str(PLACEHOLDER);
        self.text.push_str("::");
        self.text.push_str(value.cast());
        self.text.push(')');
        self.params.push(value);
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

    /// The statement with numbered placeholders, and its parameters.
    pub fn finish(&self) -> (String, Vec<&(dyn ToSql + Sync)>) {
        let mut text = String::with_capacity(self.text.len() + 8);
        let mut rest = self.text.as_str();
        let mut number = 0;
        while let Some(position) = rest.find(PLACEHOLDER) {
            number += 1;
            text.push_str(&rest[..position]);
            text.push('$');
            text.push_str(&number.to_string());
            rest = &rest[position + PLACEHOLDER.len()..];
        }
        text.push_str(rest);
        debug_assert_eq!(number, self.params.len());
        let params = self
            .params
            .iter()
            .map(|p| p as &(dyn ToSql + Sync))
            .collect();
        (text, params)
    }
}

/// What a filterable column holds, and the SQL expression that reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ColumnKind {
    /// Text; NULL compares as the empty string.
    Text(&'static str),
    /// A `float8` expression.
    Number(&'static str),
    Datetime(&'static str),
    Boolean(&'static str),
    /// A JSONB array of strings (tags).
    Array(&'static str),
    /// A JSONB object of strings (metadata), filtered by `key`.
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

/// Escapes `%`, `_` and `\` for a `LIKE` pattern (PostgreSQL's default escape is `\`).
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

/// A number read from the start of a text the way SQLite's `CAST(... AS REAL)` does: the
/// longest numeric prefix, 0 when there is none.
fn numeric_prefix(expr: &str) -> String {
    format!(
        "coalesce(substring(ltrim({expr}) from '^[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?')::float8, 0)"
    )
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
                    // Without "" in the list, `expr = ANY` is the same test, and an index on
                    // the column serves it.
                    let expr_tested =
                        if operator == "any of" && !values.iter().any(String::is_empty) {
                            expr.to_owned()
                        } else {
                            value_expr.clone()
                        };
                    let not = if operator == "none of" { "NOT " } else { "" };
                    sql.push(&format!("{not}({expr_tested} = ANY("))
                        .bind(values)
                        .push("))");
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
                        "IS DISTINCT FROM"
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
                "=" => sql.push(&format!("coalesce({expr}, false) = ")).bind(flag),
                "!=" => sql.push(&format!("coalesce({expr}, false) != ")).bind(flag),
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
                    sql.push(&format!("({expr} ?| ")).bind(values).push(")");
                }
                "none of" => {
                    sql.push(&format!("NOT ({expr} ?| ")).bind(values).push(")");
                }
                _ => {
                    sql.push(&format!("({expr} ?& ")).bind(values).push(")");
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
            let mut lookup = Sql::new(&format!("coalesce({expr} ->> "));
            lookup.bind(key.to_owned()).push(", '')");
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
                        .push(" = to_jsonb(")
                        .bind(text.clone())
                        .push(")::text)");
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
                    let mut trimmed = Sql::new("btrim(");
                    trimmed.append(&lookup).push(", '\"')");
                    let number_expr = numeric_prefix(&trimmed.text);
                    sql.text.push_str(&number_expr);
                    sql.params.extend(trimmed.params);
                    sql.push(&format!(" {operator} ")).bind(*number);
                }
                // booleanObject: `true`/`false`, quoted or not.
                (FilterValue::Boolean(flag), "=" | "!=") => {
                    let expected = if *flag { "true" } else { "false" };
                    sql.push("(lower(btrim(")
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
                    sql.push(&format!("{not}({rank_expr} = ANY("))
                        .bind(ranks)
                        .push("))");
                }
                _ => return Err(unknown_operator(OPS)),
            }
        }
    }
    Ok(sql)
}

/// Appends `<expr> <op> $?` for the single-string operators; `None` for an unknown operator.
/// Pattern operators use `ILIKE` with the "C" collation: ASCII case is ignored, as with
/// SQLite's `LIKE`.
fn string_condition(sql: &mut Sql, expr: &str, operator: &str, text: &str) -> Option<()> {
    match operator {
        "=" => {
            sql.push(&format!("{expr} = ")).bind(text.to_owned());
        }
        "!=" => {
            sql.push(&format!("{expr} != ")).bind(text.to_owned());
        }
        "contains" => {
            sql.push(&format!("{expr} ILIKE "))
                .bind(format!("%{}%", like_escape(text)));
        }
        "does not contain" => {
            sql.push(&format!("{expr} NOT ILIKE "))
                .bind(format!("%{}%", like_escape(text)));
        }
        "starts with" => {
            sql.push(&format!("{expr} ILIKE "))
                .bind(format!("{}%", like_escape(text)));
        }
        "ends with" => {
            sql.push(&format!("{expr} ILIKE "))
                .bind(format!("%{}", like_escape(text)));
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

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("a = ");
        sql.bind("x").push(" AND b = ").bind(3i64);
        let (text, params) = sql.finish();
        assert_eq!(text, "a = ($1::text) AND b = ($2::int8)");
        assert_eq!(params.len(), 2);
    }

    #[test]
    fn errors_name_the_field() {
        let columns: &[Column] = &[("name", ColumnKind::Text("t.name"))];
        let filter = Filter {
            column: "foo".into(),
            operator: "=".into(),
            value: FilterValue::String("x".into()),
            key: None,
        };
        let error = compile_filters(&mut Sql::default(), &[filter], columns).err();
        let message = error.map(|e| e.message).unwrap_or_default();
        assert!(
            message.starts_with("filter[0].column: unknown column"),
            "{message}"
        );
    }
}
