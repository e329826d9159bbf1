//! OTLP/HTTP JSON bodies to the [`Export`] view.
//!
//! Lenient where exporters differ: ids as hex (or base64, converted), integers and timestamps
//! as JSON numbers or decimal strings, camelCase or snake_case keys.

use super::decoded::{Attr, Attrs, Event, Export, ResourceSpans, Scope, ScopeSpans, Span};
use serde_json::{Map, Value};
use spindle_core::Error;

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`. Errors name the offending field.
pub fn decode(body: &[u8]) -> Result<Export, Error> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|error| Error::invalid("body", format!("invalid JSON: {error}")))?;
    let root = root
        .as_object()
        .ok_or_else(|| Error::invalid("body", "expected a JSON object"))?;
    let mut export = Export::default();
    for (resource_index, resource_spans) in array(root, &["resourceSpans", "resource_spans"], "")?
        .iter()
        .enumerate()
    {
        let path = format!("resourceSpans[{resource_index}]");
        let resource_spans = object(resource_spans, &path)?;
        let resource = match get(resource_spans, &["resource"]) {
            Some(resource) => attrs(
                object(resource, &format!("{path}.resource"))?,
                &format!("{path}.resource"),
            )?,
            None => Attrs::default(),
        };
        let mut scope_spans_out = Vec::new();
        for (scope_index, scope_spans) in array(
            resource_spans,
            &["scopeSpans", "scope_spans", "instrumentationLibrarySpans"],
            &path,
        )?
        .iter()
        .enumerate()
        {
            let path = format!("{path}.scopeSpans[{scope_index}]");
            let scope_spans = object(scope_spans, &path)?;
            let scope = match get(scope_spans, &["scope", "instrumentationLibrary"]) {
                Some(scope) => {
                    let scope_path = format!("{path}.scope");
                    let scope = object(scope, &scope_path)?;
                    Scope {
                        name: string(scope, "name", &scope_path)?.unwrap_or_default(),
                        version: string(scope, "version", &scope_path)?.unwrap_or_default(),
                        attributes: attrs(scope, &scope_path)?,
                    }
                }
                None => Scope::default(),
            };
            let mut spans = Vec::new();
            for (span_index, span) in array(scope_spans, &["spans"], &path)?.iter().enumerate() {
                let path = format!("{path}.spans[{span_index}]");
                spans.push(convert_span(object(span, &path)?, &path)?);
            }
            scope_spans_out.push(ScopeSpans { scope, spans });
        }
        export.resource_spans.push(ResourceSpans {
            resource,
            scope_spans: scope_spans_out,
        });
    }
    Ok(export)
}

fn convert_span(span: &Map<String, Value>, path: &str) -> Result<Span, Error> {
    let trace_id = id(span, &["traceId", "trace_id"], 16, path)?
        .ok_or_else(|| Error::invalid(format!("{path}.traceId"), "is required"))?;
    let span_id = id(span, &["spanId", "span_id"], 8, path)?
        .ok_or_else(|| Error::invalid(format!("{path}.spanId"), "is required"))?;
    let parent_span_id = id(span, &["parentSpanId", "parent_span_id"], 8, path)?;
    let (status_code, status_message) = match get(span, &["status"]) {
        Some(Value::Object(status)) => (
            match status.get("code") {
                Some(code) => status_code(code).ok_or_else(|| {
                    Error::invalid(format!("{path}.status.code"), "expected a status code")
                })?,
                None => 0,
            },
            string(status, "message", &format!("{path}.status"))?.unwrap_or_default(),
        ),
        Some(Value::Null) | None => (0, String::new()),
        Some(_) => {
            return Err(Error::invalid(
                format!("{path}.status"),
                "expected an object",
            ))
        }
    };
    let mut events = Vec::new();
    for (event_index, event) in array(span, &["events"], path)?.iter().enumerate() {
        let event_path = format!("{path}.events[{event_index}]");
        let event = object(event, &event_path)?;
        events.push(Event {
            name: string(event, "name", &event_path)?.unwrap_or_default(),
            time_unix_nano: nanos(event, &["timeUnixNano", "time_unix_nano"], &event_path)?
                .unwrap_or(0),
            attributes: attrs(event, &event_path)?,
        });
    }
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name: string(span, "name", path)?.unwrap_or_default(),
        start_time_unix_nano: nanos(span, &["startTimeUnixNano", "start_time_unix_nano"], path)?
            .unwrap_or(0),
        end_time_unix_nano: nanos(span, &["endTimeUnixNano", "end_time_unix_nano"], path)?
            .unwrap_or(0),
        attributes: attrs(span, path)?,
        events,
        status_code,
        status_message,
    })
}

fn status_code(value: &Value) -> Option<i32> {
    match value {
        Value::Number(number) => number.as_i64().map(|code| code as i32),
        Value::String(text) => match text.as_str() {
            "STATUS_CODE_UNSET" => Some(0),
            "STATUS_CODE_OK" => Some(1),
            "STATUS_CODE_ERROR" => Some(2),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

fn get<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|key| map.get(*key))
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Error> {
    value
        .as_object()
        .ok_or_else(|| Error::invalid(path_or_body(path), "expected an object"))
}

fn path_or_body(path: &str) -> &str {
    if path.is_empty() {
        "body"
    } else {
        path
    }
}

fn array<'a>(map: &'a Map<String, Value>, keys: &[&str], path: &str) -> Result<&'a [Value], Error> {
    match get(map, keys) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(values)) => Ok(values),
        Some(_) => Err(Error::invalid(join(path, keys[0]), "expected an array")),
    }
}

/// The items of an array value's or a key-value list's `values` (none when it is absent);
/// anything but an array there, even `null`, is an error at `path`.
fn listed<'a>(values: Option<&'a Value>, path: &str) -> Result<&'a [Value], Error> {
    match values {
        None => Ok(&[]),
        Some(items) => items
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| Error::invalid(path.to_owned(), "expected an array")),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn string(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, Error> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(Error::invalid(join(path, key), "expected a string")),
    }
}

fn nanos(map: &Map<String, Value>, keys: &[&str], path: &str) -> Result<Option<u64>, Error> {
    match get(map, keys) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number
            .as_u64()
            .or_else(|| number.as_f64().filter(|v| *v >= 0.0).map(|v| v as u64))
            .map(Some)
            .ok_or_else(|| Error::invalid(join(path, keys[0]), "expected a non-negative integer")),
        Some(Value::String(text)) => text.parse::<u64>().map(Some).map_err(|_| {
            Error::invalid(
                join(path, keys[0]),
                "expected a decimal nanosecond timestamp",
            )
        }),
        Some(_) => Err(Error::invalid(
            join(path, keys[0]),
            "expected a nanosecond timestamp",
        )),
    }
}

/// Reads an id given as hex (the OTLP/JSON rule) or base64 (what generic protobuf-JSON
/// mappers produce). `None` when absent or empty.
fn id(
    map: &Map<String, Value>,
    keys: &[&str],
    bytes: usize,
    path: &str,
) -> Result<Option<String>, Error> {
    let field = join(path, keys[0]);
    let text = match get(map, keys) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text,
        Some(_) => return Err(Error::invalid(field, "expected a hex string")),
    };
    if text.is_empty() {
        return Ok(None);
    }
    let hex_len = bytes * 2;
    if text.len() == hex_len && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        if text.bytes().all(|b| b == b'0') {
            return if bytes == 8 {
                Ok(None)
            } else {
                Err(Error::invalid(field, "must not be all zeros"))
            };
        }
        return Ok(Some(text.to_ascii_lowercase()));
    }
    use base64::Engine;
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(text) {
        if decoded.len() == bytes {
            return Ok(Some(hex::encode(decoded)));
        }
    }
    Err(Error::invalid(
        field,
        format!(
            "expected {hex_len} hex characters, got {:?}",
            truncate(text)
        ),
    ))
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn attrs(map: &Map<String, Value>, path: &str) -> Result<Attrs, Error> {
    let mut out = Vec::new();
    for (index, key_value) in array(map, &["attributes"], path)?.iter().enumerate() {
        let item_path = format!("{}.attributes[{index}]", path_or_body(path));
        let key_value = object(key_value, &item_path)?;
        let key = string(key_value, "key", &item_path)?
            .ok_or_else(|| Error::invalid(format!("{item_path}.key"), "is required"))?;
        if let Some(value) = key_value.get("value") {
            if let Some(value) = any_value(value, &format!("{item_path}.value"))? {
                out.push((key, value));
            }
        }
    }
    Ok(Attrs(out))
}

fn any_value(value: &Value, path: &str) -> Result<Option<Attr>, Error> {
    let map = match value {
        Value::Null => return Ok(None),
        Value::Object(map) => map,
        _ => return Err(Error::invalid(path, "expected an AnyValue object")),
    };
    let Some((kind, inner)) = map.iter().next() else {
        return Ok(None);
    };
    let attr =
        match kind.as_str() {
            "stringValue" | "string_value" => match inner {
                Value::String(text) => Attr::Str(text.clone()),
                Value::Null => return Ok(None),
                other => Attr::Str(other.to_string()),
            },
            "boolValue" | "bool_value" => match inner {
                Value::Bool(flag) => Attr::Bool(*flag),
                Value::String(text) => Attr::Bool(text == "true"),
                _ => {
                    return Err(Error::invalid(
                        format!("{path}.boolValue"),
                        "expected a boolean",
                    ))
                }
            },
            "intValue" | "int_value" => match inner {
                Value::Number(number) => match number.as_i64() {
                    Some(int) => Attr::Int(int),
                    None => Attr::Double(number.as_f64().unwrap_or(0.0)),
                },
                Value::String(text) => Attr::Int(text.parse().map_err(|_| {
                    Error::invalid(format!("{path}.intValue"), "expected an integer")
                })?),
                Value::Object(long) => {
                    // protobuf.js Long: {low, high}
                    let low = long.get("low").and_then(Value::as_i64).unwrap_or(0) as u32;
                    let high = long.get("high").and_then(Value::as_i64).unwrap_or(0) as u32;
                    Attr::Int(((u64::from(high) << 32) | u64::from(low)) as i64)
                }
                _ => {
                    return Err(Error::invalid(
                        format!("{path}.intValue"),
                        "expected an integer",
                    ))
                }
            },
            "doubleValue" | "double_value" => match inner {
                Value::Number(number) => Attr::Double(number.as_f64().unwrap_or(0.0)),
                Value::String(text) => Attr::Double(text.parse().map_err(|_| {
                    Error::invalid(format!("{path}.doubleValue"), "expected a number")
                })?),
                _ => {
                    return Err(Error::invalid(
                        format!("{path}.doubleValue"),
                        "expected a number",
                    ))
                }
            },
            "arrayValue" | "array_value" => {
                let items_path = format!("{path}.arrayValue.values");
                let mut values = Vec::new();
                for (index, item) in listed(inner.get("values"), &items_path)?.iter().enumerate() {
                    if let Some(item) = any_value(item, &format!("{items_path}[{index}]"))? {
                        values.push(item);
                    }
                }
                Attr::Array(values)
            }
            "kvlistValue" | "kvlist_value" => {
                let inner = object(inner, &format!("{path}.kvlistValue"))?;
                let items_path = format!("{path}.kvlistValue.values");
                let mut entries = Vec::new();
                for (index, item) in listed(inner.get("values"), &items_path)?.iter().enumerate() {
                    let item_path = format!("{items_path}[{index}]");
                    let item = object(item, &item_path)?;
                    let key = string(item, "key", &item_path)?.unwrap_or_default();
                    if let Some(value) = item.get("value") {
                        if let Some(value) = any_value(value, &format!("{item_path}.value"))? {
                            entries.push((key, value));
                        }
                    }
                }
                Attr::Map(entries)
            }
            "bytesValue" | "bytes_value" => {
                use base64::Engine;
                let text = inner.as_str().unwrap_or_default();
                Attr::Bytes(
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|_| {
                            Error::invalid(format!("{path}.bytesValue"), "expected base64")
                        })?,
                )
            }
            other => {
                return Err(Error::invalid(
                    path,
                    format!("unknown AnyValue kind {:?}", truncate(other)),
                ))
            }
        };
    Ok(Some(attr))
}
