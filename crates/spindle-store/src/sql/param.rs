//! [`Param`], a bound value of either database, and its conversions to each driver's
//! parameter type.

use bytes::BytesMut;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// One bound parameter, neutral between the dialects.
///
/// On SQLite, lists bind as one JSON array text (read with `json_each`); on PostgreSQL every
/// placeholder carries a cast to [`Param::pg_type`], so the server never has to guess.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Texts(Vec<String>),
    Ints(Vec<i64>),
}

impl Param {
    /// The PostgreSQL type the placeholder is cast to.
    pub fn pg_type(&self) -> &'static str {
        match self {
            Param::Null | Param::Text(_) => "text",
            Param::Int(_) => "int8",
            Param::Float(_) => "float8",
            Param::Bool(_) => "bool",
            Param::Bytes(_) => "bytea",
            Param::Texts(_) => "text[]",
            Param::Ints(_) => "int8[]",
        }
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Param::Int(value) => ToSqlOutput::Borrowed(ValueRef::Integer(*value)),
            Param::Float(value) => ToSqlOutput::Borrowed(ValueRef::Real(*value)),
            Param::Bool(value) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*value))),
            Param::Bytes(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
            Param::Texts(values) => ToSqlOutput::from(json_array(values)),
            Param::Ints(values) => ToSqlOutput::from(json_array(values)),
        })
    }
}

/// A list as the JSON array text SQLite's `json_each` reads.
fn json_array<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Text(v) => v.to_sql(ty, out),
            Param::Int(v) => v.to_sql(ty, out),
            Param::Float(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::Bytes(v) => v.to_sql(ty, out),
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

macro_rules! param_from {
    ($($source:ty => $variant:ident),* $(,)?) => {
        $(impl From<$source> for Param {
            fn from(value: $source) -> Self {
                Param::$variant(value)
            }
        })*
    };
}

param_from! {
    String => Text,
    i64 => Int,
    f64 => Float,
    bool => Bool,
    Vec<u8> => Bytes,
    Vec<String> => Texts,
    Vec<i64> => Ints,
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Param::Text(value.to_owned())
    }
}

impl From<&String> for Param {
    fn from(value: &String) -> Self {
        Param::Text(value.clone())
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(value: Option<T>) -> Self {
        value.map_or(Param::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_bind_as_json_on_sqlite() {
        let connection = rusqlite::Connection::open_in_memory().expect("opens");
        let texts = Param::Texts(vec!["a".into(), "b\"".into()]);
        let count: i64 = connection
            .query_row("SELECT count(*) FROM json_each(?)", [&texts], |row| {
                row.get(0)
            })
            .expect("runs");
        assert_eq!(count, 2);
        let ints = Param::Ints(vec![3, 1]);
        let sum: i64 = connection
            .query_row("SELECT sum(value) FROM json_each(?)", [&ints], |row| {
                row.get(0)
            })
            .expect("runs");
        assert_eq!(sum, 4);
    }
}
