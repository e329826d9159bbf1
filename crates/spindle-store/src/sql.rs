//! The SQL layer both backends share: statements are built once, in terms of a neutral
//! [`Param`] and one [`Sql`] builder, and rendered for a [`Dialect`]; each backend only
//! executes them.
//!
//! - [`Param`]: a bound value (text, integer, float, boolean, bytes, NULL, lists of text or
//!   integers), converted to a rusqlite value or a tokio-postgres `ToSql` at execution.
//! - [`Sql`]: statement text with its parameters. `push` appends text, `bind` a placeholder,
//!   `and`/`append` combine fragments; the dialect's helpers (`in_list`, `like`, `json_key`,
//!   …) write the constructs the two databases spell differently.
//! - [`Dialect`]: SQLite or PostgreSQL, and what really differs between them.
//! - [`RowAccess`] (in `row`): typed reads of a result column by name, for both drivers'
//!   rows, with [`ColumnIndex`] resolving names to positions once per statement.
//!
//! A statement is built with the dialect it will run on:
//!
//! ```text
//! let mut sql = Sql::new(dialect, "SELECT id FROM traces t WHERE t.project_id = ");
//! sql.bind(project_id).push(" AND ");
//! sql.in_list("t.environment", environments, false);
//! // SQLite: `... = ? AND t.environment IN (SELECT value FROM json_each(?))`
//! // PostgreSQL: `... = ($1::text) AND (t.environment = ANY(($2::text[])))`
//! ```

mod dialect;
mod filters;
mod param;
pub mod reads;
mod row;
pub mod rows;

pub use dialect::Dialect;
pub use filters::*;
pub use param::Param;
pub use row::{
    ColumnIndex, ColumnValue, DriverRow, Indexed, PostgresValue, RowAccess, SqliteValue,
};

/// The marker of a PostgreSQL placeholder until [`Sql::finish`] numbers it.
const PG_PLACEHOLDER: &str = "$?";

/// SQL text for one dialect with its bound parameters, in placeholder order.
///
/// Fragments of one statement may be built separately and combined in any order with
/// [`Sql::and`] and [`Sql::append`]: PostgreSQL's `$n` are numbered only by [`Sql::finish`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    dialect: Dialect,
    /// The text; PostgreSQL placeholders are still written `$?`.
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    /// A statement (or fragment) for `dialect` starting with `text`.
    pub fn new(dialect: Dialect, text: &str) -> Self {
        Sql {
            dialect,
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// An empty fragment of the same dialect.
    pub fn fragment(&self, text: &str) -> Sql {
        Sql::new(self.dialect, text)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Appends raw SQL.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value` (`?` on SQLite, `($n::type)` on PostgreSQL).
    /// NULL is written as the literal `NULL` and binds nothing.
    pub fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        let value = value.into();
        if matches!(value, Param::Null) {
            self.text.push_str("NULL");
            return self;
        }
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                self.text.push('(');
                self.text.push_str(PG_PLACEHOLDER);
                self.text.push_str("::");
                self.text.push_str(value.pg_type());
                self.text.push(')');
            }
        }
        self.params.push(value);
        self
    }

    /// Appends ` AND <condition>`.
    pub fn and(&mut self, condition: Sql) -> &mut Self {
        debug_assert_eq!(self.dialect, condition.dialect);
        self.text.push_str(" AND ");
        self.text.push_str(&condition.text);
        self.params.extend(condition.params);
        self
    }

    /// Appends another fragment (its text and its parameters).
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        debug_assert_eq!(self.dialect, other.dialect);
        self.text.push_str(&other.text);
        self.params.extend(other.params.iter().cloned());
        self
    }

    /// The statement's final text: PostgreSQL's placeholders numbered `$1`, `$2`, … in
    /// order; SQLite's text as built.
    pub fn finish_text(&self) -> std::borrow::Cow<'_, str> {
        if self.dialect == Dialect::Sqlite {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut text = String::with_capacity(self.text.len() + 8);
        let mut rest = self.text.as_str();
        let mut number = 0;
        while let Some(position) = rest.find(PG_PLACEHOLDER) {
            number += 1;
            text.push_str(&rest[..position]);
            text.push('$');
            text.push_str(&number.to_string());
            rest = &rest[position + PG_PLACEHOLDER.len()..];
        }
        text.push_str(rest);
        debug_assert_eq!(number, self.params.len());
        std::borrow::Cow::Owned(text)
    }

    // --- the constructs the dialects spell differently ---

    /// Appends `<expr> IN <values>` (`NOT IN` when `negated`), the list bound as one
    /// parameter whatever its length (an empty list matches nothing).
    /// SQLite: `expr IN (SELECT value FROM json_each(?))`; PostgreSQL: `(expr = ANY($n))`.
    pub fn in_list(&mut self, expr: &str, values: impl Into<Param>, negated: bool) -> &mut Self {
        let not = if negated { "NOT " } else { "" };
        match self.dialect {
            Dialect::Sqlite => self
                .push(&format!("{expr} {not}IN (SELECT value FROM json_each("))
                .bind(values)
                .push("))"),
            Dialect::Postgres => self
                .push(&format!("{not}({expr} = ANY("))
                .bind(values)
                .push("))"),
        }
    }

    /// Appends whether the JSON array of strings `array_expr` holds any of `values`.
    pub fn array_any(&mut self, array_expr: &str, values: Vec<String>) -> &mut Self {
        self.array_overlap(array_expr, values, false)
    }

    /// Appends whether the JSON array of strings `array_expr` holds none of `values`.
    pub fn array_none(&mut self, array_expr: &str, values: Vec<String>) -> &mut Self {
        self.array_overlap(array_expr, values, true)
    }

    fn array_overlap(&mut self, array_expr: &str, values: Vec<String>, negated: bool) -> &mut Self {
        let not = if negated { "NOT " } else { "" };
        match self.dialect {
            Dialect::Sqlite => self
                .push(&format!(
                    "{not}EXISTS (SELECT 1 FROM json_each({array_expr}) WHERE value IN "
                ))
                .push("(SELECT value FROM json_each(")
                .bind(values)
                .push(")))"),
            Dialect::Postgres => self
                .push(&format!("{not}({array_expr} ?| "))
                .bind(values)
                .push(")"),
        }
    }

    /// Appends whether the JSON array of strings `array_expr` holds all of `values`.
    pub fn array_all(&mut self, array_expr: &str, mut values: Vec<String>) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => {
                values.sort();
                values.dedup();
                let count = values.len() as i64;
                self.push(&format!(
                    "(SELECT count(DISTINCT value) FROM json_each({array_expr}) WHERE value IN "
                ))
                .push("(SELECT value FROM json_each(")
                .bind(values)
                .push("))) = ")
                .bind(count)
            }
            Dialect::Postgres => self
                .push(&format!("({array_expr} ?& "))
                .bind(values)
                .push(")"),
        }
    }

    /// Appends the text value of `key` in the JSON object `object_expr` (NULL when absent).
    /// SQLite: `(SELECT j.value FROM json_each(expr) j WHERE j.key = ?)`; PostgreSQL:
    /// `expr ->> $n`.
    pub fn json_key(&mut self, object_expr: &str, key: &str) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self
                .push(&format!(
                    "(SELECT j.value FROM json_each({object_expr}) j WHERE j.key = "
                ))
                .bind(key)
                .push(")"),
            Dialect::Postgres => self.push(&format!("{object_expr} ->> ")).bind(key),
        }
    }

    /// Appends `text` bound and quoted as a JSON string.
    pub fn json_quoted(&mut self, text: &str) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.push("json_quote(").bind(text).push(")"),
            Dialect::Postgres => self.push("to_jsonb(").bind(text).push(")::text"),
        }
    }

    /// Appends `inner` with surrounding double quotes trimmed.
    pub fn trim_quotes(&mut self, inner: &Sql) -> &mut Self {
        let function = match self.dialect {
            Dialect::Sqlite => "trim(",
            Dialect::Postgres => "btrim(",
        };
        self.push(function).append(inner).push(", '\"')")
    }

    /// Appends the number at the start of the text `inner`, the way SQLite's
    /// `CAST(… AS REAL)` reads it: the longest numeric prefix, 0 when there is none.
    pub fn text_to_number(&mut self, inner: &Sql) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.push("CAST(").append(inner).push(" AS REAL)"),
            Dialect::Postgres => self.push("coalesce(substring(ltrim(").append(inner).push(
                ") from '^[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?')::float8, 0)",
            ),
        }
    }

    /// Appends `<expr> LIKE <pattern>` (`NOT LIKE` when `negated`), ignoring ASCII case;
    /// `pattern` is bound as given (escape its text with [`like_escape`]).
    /// SQLite: `LIKE ? ESCAPE '\'`; PostgreSQL: `ILIKE` (its default escape is `\`).
    pub fn like(&mut self, expr: &str, pattern: String, negated: bool) -> &mut Self {
        let not = if negated { "NOT " } else { "" };
        match self.dialect {
            Dialect::Sqlite => self
                .push(&format!("{expr} {not}LIKE "))
                .bind(pattern)
                .push(" ESCAPE '\\'"),
            Dialect::Postgres => self.push(&format!("{expr} {not}ILIKE ")).bind(pattern),
        }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE` pattern whose escape character is `\`.
pub fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new(Dialect::Postgres, "a = ");
        sql.bind("x").push(" AND b = ").bind(3i64);
        let (text, params) = sql.finish();
        assert_eq!(text, "a = ($1::text) AND b = ($2::int8)");
        assert_eq!(params.len(), 2);
    }

    #[test]
    fn lists_are_one_parameter() {
        let mut sqlite = Sql::new(Dialect::Sqlite, "");
        sqlite.in_list("t.environment", vec!["a".to_owned()], false);
        assert_eq!(
            sqlite.text,
            "t.environment IN (SELECT value FROM json_each(?))"
        );
        let mut postgres = Sql::new(Dialect::Postgres, "");
        postgres.in_list("t.environment", vec!["a".to_owned()], true);
        assert_eq!(
            postgres.finish_text(),
            "NOT (t.environment = ANY(($1::text[])))"
        );
    }
}
