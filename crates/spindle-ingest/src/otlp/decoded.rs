//! A format-neutral view of an OTLP export: what the protobuf and JSON decoders both produce
//! and what the span mapper reads.

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Str(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Array(Vec<Attr>),
    Map(Vec<(String, Attr)>),
    Bytes(Vec<u8>),
}

impl Attr {
    /// The value as a string: strings as they are, everything else as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Attr::Str(text) => text.clone(),
            other => other.to_json().to_string(),
        }
    }

    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Attr::Str(text) => Some(text),
            _ => None,
        }
    }

    /// An integer from an int, a whole double or a decimal string.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Attr::Int(value) => Some(*value),
            Attr::Double(value) if value.fract() == 0.0 && value.is_finite() => Some(*value as i64),
            Attr::Str(text) => text.trim().parse::<i64>().ok().or_else(|| {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.fract() == 0.0 && v.is_finite())
                    .map(|v| v as i64)
            }),
            _ => None,
        }
    }

    /// A number from an int, a double or a numeric string.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Attr::Int(value) => Some(*value as f64),
            Attr::Double(value) => Some(*value),
            Attr::Str(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        }
    }

    /// A boolean from a bool or the strings `true`/`false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Attr::Bool(value) => Some(*value),
            Attr::Str(text) if text.eq_ignore_ascii_case("true") => Some(true),
            Attr::Str(text) if text.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The value as JSON. NaN and infinities become strings, bytes become base64.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Attr::Str(text) => Value::String(text.clone()),
            Attr::Bool(value) => Value::Bool(*value),
            Attr::Int(value) => Value::from(*value),
            Attr::Double(value) => serde_json::Number::from_f64(*value)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(value.to_string())),
            Attr::Array(values) => Value::Array(values.iter().map(Attr::to_json).collect()),
            Attr::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
            Attr::Bytes(bytes) => {
                use base64::Engine;
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }
}

/// Attributes in the order they were sent. Later duplicates win on lookup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attrs(pub Vec<(String, Attr)>);

impl Attrs {
    pub fn get(&self, key: &str) -> Option<&Attr> {
        self.0
            .iter()
            .rev()
            .find(|(candidate, _)| candidate == key)
            .map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Attr)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value))
    }

    pub fn to_json_object(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .iter()
            .map(|(key, value)| (key.clone(), value.to_json()))
            .collect()
    }
}

/// A span event (Langfuse SDKs send none; other instrumentations carry messages in them).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub time_unix_nano: u64,
    pub attributes: Attrs,
}

/// One span, with ids as lowercase hex.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: Attrs,
    pub events: Vec<Event>,
    /// 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: String,
}

/// The instrumentation scope of a group of spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub name: String,
    pub version: String,
    pub attributes: Attrs,
}

/// Spans of one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeSpans {
    pub scope: Scope,
    pub spans: Vec<Span>,
}

/// Spans of one resource (process).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSpans {
    pub resource: Attrs,
    pub scope_spans: Vec<ScopeSpans>,
}

/// A whole export request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Export {
    pub resource_spans: Vec<ResourceSpans>,
}

impl Export {
    pub fn span_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum()
    }
}
