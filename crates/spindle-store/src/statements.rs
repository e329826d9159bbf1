//! Statement pieces the accounts and models statements need besides [`Sql`]'s own: inserts
//! and upserts from a column list, the aggregates the two dialects spell differently (and
//! [`TextList`], the column type one of them reads back as), row locks and keyset positions.

use crate::sql::{Dialect, Param, Sql};

/// `INSERT INTO <table> (<columns>) VALUES (…)`, one placeholder per value, in order.
pub fn insert(
    dialect: Dialect,
    table: &str,
    columns: &str,
    values: impl IntoIterator<Item = Param>,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!("INSERT INTO {table} ({columns}) VALUES ("),
    );
    let mut count = 0;
    for value in values {
        if count > 0 {
            sql.push(", ");
        }
        sql.bind(value);
        count += 1;
    }
    sql.push(")");
    debug_assert_eq!(count, columns.split(", ").count(), "one value per column");
    sql
}

/// `INSERT INTO <table> (<columns>) SELECT …`: the values in column order, except that each
/// column named in `computed` takes its expression instead (a fragment of the same dialect,
/// over the `FROM … WHERE …` the caller appends).
pub fn insert_select(
    dialect: Dialect,
    table: &str,
    columns: &str,
    values: impl IntoIterator<Item = Param>,
    computed: &[(&str, Sql)],
) -> Sql {
    let mut sql = Sql::new(dialect, &format!("INSERT INTO {table} ({columns}) SELECT "));
    for (index, (column, value)) in columns.split(", ").zip(values).enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        match computed.iter().find(|(name, _)| *name == column) {
            Some((_, expression)) => sql.append(expression),
            None => sql.bind(value),
        };
    }
    sql
}

/// [`insert`] that updates `updated` (columns, from the new row) when a row with the same
/// `key` exists. Both dialects spell it `ON CONFLICT (…) DO UPDATE SET c = excluded.c`.
pub fn upsert(
    dialect: Dialect,
    table: &str,
    columns: &str,
    values: impl IntoIterator<Item = Param>,
    key: &str,
    updated: &[&str],
) -> Sql {
    let mut sql = insert(dialect, table, columns, values);
    sql.push(&on_conflict_update(key, updated.iter().copied()));
    sql
}

/// ` ON CONFLICT (<key>) DO UPDATE SET c = excluded.c, …` for each of `updated`.
pub fn on_conflict_update<'a>(key: &str, updated: impl IntoIterator<Item = &'a str>) -> String {
    let set: Vec<String> = updated
        .into_iter()
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    format!(" ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", "))
}

/// `DELETE FROM <table> WHERE <column> = <value> AND …`.
pub fn delete_where(dialect: Dialect, table: &str, conditions: &[(&str, &str)]) -> Sql {
    let mut sql = Sql::new(dialect, &format!("DELETE FROM {table} WHERE "));
    for (index, (column, value)) in conditions.iter().enumerate() {
        let and = if index > 0 { " AND " } else { "" };
        sql.push(&format!("{and}{column} = ")).bind(*value);
    }
    sql
}

/// `columns` (a list like `"id, name"`) qualified with a table alias: `"u.id, u.name"`.
pub fn qualified(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An expression the two dialects spell differently: a template for SQLite and one for
/// PostgreSQL, in which `{}` stands for the expression it applies to.
pub struct Spelling(&'static str, &'static str);

impl Spelling {
    /// The spelling for `dialect`, applied to `expr`.
    pub fn of(&self, dialect: Dialect, expr: &str) -> String {
        let Spelling(sqlite, postgres) = self;
        match dialect {
            Dialect::Sqlite => sqlite.replace("{}", expr),
            Dialect::Postgres => postgres.replace("{}", expr),
        }
    }
}

/// The sum of an integer column as a 64-bit integer, 0 over no rows or only NULLs.
pub const SUM_AS_INTEGER: Spelling =
    Spelling("CAST(total({}) AS INTEGER)", "coalesce(sum({}), 0)::int8");
/// The sum of a float column, 0.0 over no rows or only NULLs.
pub const SUM_AS_FLOAT: Spelling =
    Spelling("coalesce(sum({}), 0.0)", "coalesce(sum({}), 0.0)::float8");
/// The distinct non-NULL text values of the group, read back as a [`TextList`]: a
/// comma-separated text on SQLite (`group_concat`), an array on PostgreSQL.
pub const DISTINCT_TEXTS: Spelling = Spelling(
    "group_concat(DISTINCT {})",
    "array_remove(array_agg(DISTINCT {}), NULL)",
);
/// Further `GROUP BY` columns PostgreSQL requires for selected columns that are neither
/// grouped nor aggregated (SQLite takes them from the group's rows, and grouping by the
/// fewest columns keeps its plan as it is).
pub const GROUPED_TOO: Spelling = Spelling("", ", {}");

/// The lock a read takes on the rows it is about to update: `FOR UPDATE` on PostgreSQL;
/// nothing on SQLite, whose single writer holds the database for the transaction.
pub fn lock_for_update(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE",
    }
}

/// Appends whether `(time_expr, id_expr)` sorts after `(time, id)`: a row comparison on
/// PostgreSQL, spelled out on SQLite (which answers it from the same index).
pub fn after_position(sql: &mut Sql, (time_expr, id_expr): (&str, &str), time: i64, id: &str) {
    match sql.dialect() {
        Dialect::Sqlite => sql
            .push(&format!("({time_expr} > "))
            .bind(time)
            .push(&format!(" OR ({time_expr} = "))
            .bind(time)
            .push(&format!(" AND {id_expr} > "))
            .bind(id)
            .push("))"),
        Dialect::Postgres => sql
            .push(&format!("({time_expr}, {id_expr}) > ("))
            .bind(time)
            .push(", ")
            .bind(id)
            .push(")"),
    };
}

/// The values of a [`distinct_texts`] column; empty for NULL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextList(pub Vec<String>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_name_their_columns_once() {
        let sql = upsert(
            Dialect::Postgres,
            "t",
            "id, name, note",
            [Param::from("a"), Param::from("b"), Param::Null],
            "id",
            &["name", "note"],
        );
        assert_eq!(
            sql.finish_text(),
            "INSERT INTO t (id, name, note) VALUES (($1::text), ($2::text), NULL) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, note = excluded.note"
        );
        assert_eq!(qualified("u", "id, name"), "u.id, u.name");
    }
}
