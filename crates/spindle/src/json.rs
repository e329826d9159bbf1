//! JSON encodings of attribute values, byte for byte like the Python SDK 5.x.
//!
//! Input, output, model parameters, usage and cost are written like Python's `json.dumps`
//! (`", "` and `": "` separators); metadata values are compact JSON; a value that is a JSON
//! string is sent raw for input and output.

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use std::io;

/// A serde_json formatter writing Python's default `json.dumps` separators.
struct PythonFormatter;

/// Python's `", "` between array items and object entries, nothing before the first.
fn item_separator<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        item_separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        item_separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Appends `value` to `buffer` as JSON written by `formatter`.
fn serialize_into<T: Serialize + ?Sized, F: Formatter>(
    buffer: &mut Vec<u8>,
    value: &T,
    formatter: F,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        buffer, formatter,
    ))
}

/// `value` as JSON text written by `formatter`; `None` (and a warning) when it cannot be
/// serialized, so the attribute is skipped.
fn attribute_json<T: Serialize + ?Sized, F: Formatter>(
    value: &T,
    formatter: F,
    capacity: usize,
) -> Option<String> {
    let mut buffer = Vec::with_capacity(capacity);
    match serialize_into(&mut buffer, value, formatter) {
        Ok(()) => String::from_utf8(buffer).ok(),
        Err(error) => {
            tracing::warn!(%error, "value not serializable as json, attribute skipped");
            None
        }
    }
}

/// Serializes `value` like Python's `json.dumps`; `None` when it cannot be serialized.
pub(crate) fn python_json<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    attribute_json(value, PythonFormatter, 64)
}

/// Appends `value` to `buffer` like Python's `json.dumps`; `false` (and a warning) on failure.
pub(crate) fn write_python_json<T: Serialize + ?Sized>(buffer: &mut Vec<u8>, value: &T) -> bool {
    match serialize_into(buffer, value, PythonFormatter) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "value not serializable as json, captured as null");
            false
        }
    }
}

/// Serializes `value` as compact JSON (metadata values); `None` when it cannot be serialized.
pub(crate) fn compact_json<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    attribute_json(value, CompactFormatter, 32)
}

/// `value` as a JSON value; `None` (and a warning naming `what`) when it cannot be
/// serialized, so the caller leaves it out.
pub(crate) fn json_value<T: Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Option<serde_json::Value> {
    match serde_json::to_value(value) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(%error, what, "value not serializable, left out");
            None
        }
    }
}

/// Encodes an input or output value: a JSON string is sent raw, `null` is omitted, anything
/// else is Python-style JSON text.
pub(crate) fn io_value<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let text = python_json(value)?;
    if text == "null" {
        return None;
    }
    if text.starts_with('"') {
        return serde_json::from_str::<String>(&text).ok();
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_python(value: serde_json::Value, expected: &str) {
        assert_eq!(python_json(&value).as_deref(), Some(expected));
    }

    #[test]
    fn python_separators() {
        check_python(
            json!({"args": [21], "kwargs": {}}),
            r#"{"args": [21], "kwargs": {}}"#,
        );
        check_python(
            json!([{"role": "user", "content": "hi"}]),
            r#"[{"role": "user", "content": "hi"}]"#,
        );
        check_python(
            json!({"temperature": 0.2, "max_tokens": 100, "stream": false}),
            r#"{"temperature": 0.2, "max_tokens": 100, "stream": false}"#,
        );
        check_python(
            json!({"input": 0.001, "total": 1.0}),
            r#"{"input": 0.001, "total": 1.0}"#,
        );
    }

    #[test]
    fn metadata_is_compact() {
        assert_eq!(
            compact_json(&json!({"a": [1, 2]})).as_deref(),
            Some(r#"{"a":[1,2]}"#)
        );
        assert_eq!(compact_json("s").as_deref(), Some(r#""s""#));
        assert_eq!(compact_json(&1).as_deref(), Some("1"));
        assert_eq!(compact_json(&true).as_deref(), Some("true"));
    }

    #[test]
    fn io_strings_are_raw_and_null_is_omitted() {
        assert_eq!(
            io_value("answer to why?").as_deref(),
            Some("answer to why?")
        );
        assert_eq!(io_value(&Option::<i32>::None), None);
        assert_eq!(
            io_value(&json!({"doubled": 42})).as_deref(),
            Some(r#"{"doubled": 42}"#)
        );
    }
}
