//! [`Param`], a bound value of either database (each driver's conversion lives in
//! `crate::drivers`).

/// One bound parameter, neutral between the dialects.
///
/// On SQLite, lists bind as one JSON array text (read with `json_each`); on PostgreSQL every
/// placeholder carries a cast to [`Param::pg_type`], so the server never has to guess.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
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
