//! Typed access to the fields of a JSON body, with errors that name the field's path.

use serde_json::{Map, Value};
use spindle_core::time::{parse_iso, Micros};
use spindle_core::Error;

/// A JSON object and its path in the request (`batch[3].body`).
pub struct Fields<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
}

/// Largest id length accepted, as Langfuse does.
pub const MAX_ID_LEN: usize = 800;

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>, path: &'a str) -> Self {
        Fields { map, path }
    }

    /// The path of `key` (just `key` in a body's top-level object, whose path is empty).
    pub fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            return key.to_owned();
        }
        format!("{}.{key}", self.path)
    }

    /// What `read` (one of the readers below, such as [`Fields::string`]) finds under `key`,
    /// which must be there: absent (or `null`), it is an error naming the field.
    pub fn required<T>(
        &self,
        key: &str,
        read: impl FnOnce(&Self, &str) -> Result<Option<T>, Error>,
    ) -> Result<T, Error> {
        read(self, key)?.ok_or_else(|| Error::invalid(self.field(key), "is required"))
    }

    /// The raw value; `null` counts as absent.
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(Error::invalid(self.field(key), "expected a string")),
        }
    }

    /// A string, also accepting numbers and booleans (converted to text).
    pub fn string_lenient(&self, key: &str) -> Result<Option<String>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(Value::Bool(flag)) => Ok(Some(flag.to_string())),
            Some(_) => Err(Error::invalid(self.field(key), "expected a string")),
        }
    }

    /// An entity id: 1 to 800 characters, no carriage return.
    pub fn id(&self, key: &str) -> Result<Option<String>, Error> {
        let Some(id) = self.string_lenient(key)? else {
            return Ok(None);
        };
        check_id(&id, &self.field(key))?;
        Ok(Some(id))
    }

    pub fn timestamp(&self, key: &str) -> Result<Option<Micros>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(text)) => parse_iso(text)
                .map(Some)
                .ok_or_else(|| Error::invalid(self.field(key), "not an ISO-8601 timestamp")),
            Some(_) => Err(Error::invalid(
                self.field(key),
                "expected an ISO-8601 timestamp string",
            )),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(Error::invalid(self.field(key), "expected a boolean")),
        }
    }

    pub fn number(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(number)) => Ok(number.as_f64()),
            Some(_) => Err(Error::invalid(self.field(key), "expected a number")),
        }
    }

    pub fn integer(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(number)) => number
                .as_i64()
                .or_else(|| {
                    number
                        .as_f64()
                        .filter(|v| v.fract() == 0.0)
                        .map(|v| v as i64)
                })
                .map(Some)
                .ok_or_else(|| Error::invalid(self.field(key), "expected an integer")),
            Some(Value::String(text)) => text
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| Error::invalid(self.field(key), "expected an integer")),
            Some(_) => Err(Error::invalid(self.field(key), "expected an integer")),
        }
    }

    pub fn string_array(&self, key: &str) -> Result<Option<Vec<String>>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(text) => Ok(text.clone()),
                    _ => Err(Error::invalid(
                        format!("{}[{index}]", self.field(key)),
                        "expected a string",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(Error::invalid(
                self.field(key),
                "expected an array of strings",
            )),
        }
    }

    pub fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(Error::invalid(self.field(key), "expected an object")),
        }
    }
}

/// A request body that must be one JSON object.
pub fn json_object_body(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::invalid("body", "expected a JSON object")),
        Err(error) => Err(Error::invalid("body", format!("invalid JSON: {error}"))),
    }
}

/// Checks an id's shape.
pub fn check_id(id: &str, field: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(
            field,
            format!("longer than {MAX_ID_LEN} characters"),
        ));
    }
    if id.contains('\r') || id.contains('\n') {
        return Err(Error::invalid(field, "must not contain line breaks"));
    }
    Ok(())
}

/// Input, output and metadata values as stored: strings as they are, anything else as JSON.
pub fn value_to_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// An input or output as stored: strings as they are, other JSON as text. An empty string is no
/// value, as in Langfuse, which skips empty input/output when it merges an object's events.
pub fn io_text(value: Option<&Value>) -> Option<String> {
    value
        .filter(|value| value.as_str() != Some(""))
        .map(value_to_text)
}

/// Metadata of any JSON shape into the stored string map: objects by key, arrays by index,
/// any other value under the key `metadata`.
pub fn metadata_map(value: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                if !value.is_null() {
                    out.insert(key.clone(), value_to_text(value));
                }
            }
        }
        Some(Value::Array(items)) => {
            for (index, value) in items.iter().enumerate() {
                out.insert(index.to_string(), value_to_text(value));
            }
        }
        Some(other) => {
            out.insert("metadata".to_owned(), value_to_text(other));
        }
    }
    out
}
