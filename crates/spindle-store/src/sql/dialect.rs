//! The SQL dialects Spindle speaks, and the small differences between them that are words
//! rather than structure (the structural ones are [`super::Sql`]'s helpers).

/// The database a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?` placeholders, JSON as text read with `json_each`, booleans as 0/1.
    Sqlite,
    /// PostgreSQL: `$n` placeholders with explicit casts, JSONB, arrays, real booleans.
    Postgres,
}

impl Dialect {
    /// The operator of "differs from, NULL counting as a value": `IS NOT` on SQLite,
    /// `IS DISTINCT FROM` on PostgreSQL.
    pub fn is_distinct_from(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS NOT",
            Dialect::Postgres => "IS DISTINCT FROM",
        }
    }

    /// The locking clause that ends a `SELECT` picking rows to change: on PostgreSQL, rows
    /// another transaction holds are passed over (` FOR UPDATE SKIP LOCKED`); SQLite's one
    /// writer never runs two such statements at once, and gets nothing.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The literal of a boolean.
    pub fn boolean(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Sqlite, false) => "0",
            (Dialect::Sqlite, true) => "1",
            (Dialect::Postgres, false) => "false",
            (Dialect::Postgres, true) => "true",
        }
    }

    /// `expr` written so that the planner does not answer it from an index (SQLite's unary
    /// `+`); PostgreSQL's planner takes no such hint, and gets `expr` unchanged.
    pub fn without_index(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("+{expr}"),
            Dialect::Postgres => expr.to_owned(),
        }
    }

    /// The cast that makes a JSON column read as text (`::text` on PostgreSQL's JSONB,
    /// nothing on SQLite, where JSON is text).
    pub fn json_as_text(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "::text",
        }
    }

    /// The entries of a JSON object column as a table source with the text columns `key`
    /// and `value` (a string value without its quotes), for the alias `alias`.
    pub fn json_entries(self, object_expr: &str, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({object_expr}) {alias}"),
            Dialect::Postgres => format!("jsonb_each_text({object_expr}) {alias}"),
        }
    }

    /// An input or output column read as its text: SQLite may store it packed, read through
    /// the backend's `spindle_payload` function; PostgreSQL compresses it itself (TOAST).
    pub fn payload(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("spindle_payload({column})"),
            Dialect::Postgres => column.to_owned(),
        }
    }

    /// A sort direction with NULLs ordered as SQLite orders them (first ascending, last
    /// descending), which PostgreSQL has to be told.
    pub fn order(self, direction: crate::Direction) -> &'static str {
        match (self, direction) {
            (Dialect::Sqlite, crate::Direction::Asc) => "ASC",
            (Dialect::Sqlite, crate::Direction::Desc) => "DESC",
            (Dialect::Postgres, crate::Direction::Asc) => "ASC NULLS FIRST",
            (Dialect::Postgres, crate::Direction::Desc) => "DESC NULLS LAST",
        }
    }
}
