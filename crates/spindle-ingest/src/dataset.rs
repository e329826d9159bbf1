//! Dataset bodies of the public API: a dataset (`POST /api/public/v2/datasets`), an item
//! (`POST /api/public/dataset-items`) and a run item (`POST /api/public/dataset-run-items`).
//! Errors name the field (`datasetName: is required`); JSON values (input, expected output,
//! metadata, schemas) are kept as JSON text, `null` counting as absent.

use crate::fields::{check_id, json_object_body, Fields};
use serde_json::Value;
use spindle_core::dataset::{ItemStatus, NewDataset, NewDatasetItem, NewRunItem};
use spindle_core::Error;

/// The longest item id, as Langfuse allows.
pub const MAX_ITEM_ID_LEN: usize = 255;

/// The longest dataset or run name.
pub const MAX_NAME_LEN: usize = 1000;

/// A required name: a non-empty string of at most [`MAX_NAME_LEN`] characters.
fn name(fields: &Fields, key: &str) -> Result<String, Error> {
    let name = fields.required(key, Fields::string)?;
    if name.trim().is_empty() {
        return Err(Error::invalid(fields.field(key), "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            fields.field(key),
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(name)
}

/// Any JSON value, as JSON text.
fn json_text(fields: &Fields, key: &str) -> Option<String> {
    fields.value(key).map(Value::to_string)
}

/// A JSON Schema: an object (or `true`/`false`) that compiles, as JSON text.
fn schema(fields: &Fields, key: &str) -> Result<Option<String>, Error> {
    match fields.value(key) {
        None => Ok(None),
        Some(value @ (Value::Object(_) | Value::Bool(_))) => {
            compile_schema(value, &fields.field(key))?;
            Ok(Some(value.to_string()))
        }
        Some(_) => Err(Error::invalid(
            fields.field(key),
            "must be a JSON Schema (an object)",
        )),
    }
}

/// The size limit of one compiled `pattern` of a schema.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// The most violations one error message lists.
const MAX_REPORTED_VIOLATIONS: usize = 3;

/// Compiles a dataset's JSON Schema with bounded work: its `pattern`s run on the linear-time
/// `regex` engine with a size limit, and no `$ref` is fetched (only references inside the
/// schema resolve). Errors name `field`.
pub fn compile_schema(schema: &Value, field: &str) -> Result<jsonschema::Validator, Error> {
    jsonschema::options()
        .with_pattern_options(jsonschema::PatternOptions::regex().size_limit(PATTERN_SIZE_LIMIT))
        .build(schema)
        .map_err(|error| Error::invalid(field, format!("not a valid JSON Schema: {error}")))
}

/// Checks `value` (JSON text; absent: `null`, as Langfuse validates it) against the stored
/// schema `schema_text` of the dataset field `schema_name`. The error names `field` and up to
/// three violations with their place in the value (`/country: value is not of type "string"`).
pub fn validate_against_schema(
    schema_text: &str,
    schema_name: &str,
    value: Option<&str>,
    field: &str,
) -> Result<(), Error> {
    let schema: Value = serde_json::from_str(schema_text)
        .map_err(|error| Error::internal(format!("stored {schema_name} is not JSON: {error}")))?;
    let validator = compile_schema(&schema, schema_name)?;
    let instance = match value {
        None => Value::Null,
        Some(text) => serde_json::from_str(text)
            .map_err(|error| Error::internal(format!("stored {field} is not JSON: {error}")))?,
    };
    let violations: Vec<String> = validator
        .iter_errors(&instance)
        .take(MAX_REPORTED_VIOLATIONS + 1)
        .map(|error| {
            let place = error.instance_path().to_string();
            let place = if place.is_empty() {
                "/".to_owned()
            } else {
                place
            };
            format!("{place}: {}", error.masked())
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    let more = if violations.len() > MAX_REPORTED_VIOLATIONS {
        "; …"
    } else {
        ""
    };
    let listed: Vec<&str> = violations
        .iter()
        .take(MAX_REPORTED_VIOLATIONS)
        .map(String::as_str)
        .collect();
    Err(Error::invalid(
        field,
        format!(
            "does not match the dataset's {schema_name}: {}{more}",
            listed.join("; ")
        ),
    ))
}

/// An id given by the client: 1 to `max` characters.
fn client_id(fields: &Fields, key: &str, max: usize) -> Result<Option<String>, Error> {
    let Some(id) = fields.string(key)? else {
        return Ok(None);
    };
    check_id(&id, &fields.field(key))?;
    if id.chars().count() > max {
        return Err(Error::invalid(
            fields.field(key),
            format!("must be at most {max} characters"),
        ));
    }
    Ok(Some(id))
}

/// Reads a dataset create-or-update body: `name`, `description`, `metadata`, `inputSchema`,
/// `expectedOutputSchema`.
pub fn parse_dataset_body(bytes: &[u8]) -> Result<NewDataset, Error> {
    let object = json_object_body(bytes)?;
    let fields = Fields::new(&object, "");
    Ok(NewDataset {
        name: name(&fields, "name")?,
        description: fields.string("description")?,
        metadata: json_text(&fields, "metadata"),
        input_schema: schema(&fields, "inputSchema")?,
        expected_output_schema: schema(&fields, "expectedOutputSchema")?,
    })
}

/// Reads a dataset item body: `datasetName`, `id`, `input`, `expectedOutput`, `metadata`,
/// `sourceTraceId`, `sourceObservationId`, `status` (`ACTIVE` or `ARCHIVED`).
pub fn parse_dataset_item_body(bytes: &[u8]) -> Result<NewDatasetItem, Error> {
    let object = json_object_body(bytes)?;
    let fields = Fields::new(&object, "");
    let status = match fields.string("status")? {
        None => None,
        Some(text) => Some(ItemStatus::parse(&text).ok_or_else(|| {
            Error::invalid(fields.field("status"), "must be \"ACTIVE\" or \"ARCHIVED\"")
        })?),
    };
    Ok(NewDatasetItem {
        dataset_name: name(&fields, "datasetName")?,
        id: client_id(&fields, "id", MAX_ITEM_ID_LEN)?,
        input: json_text(&fields, "input"),
        expected_output: json_text(&fields, "expectedOutput"),
        metadata: json_text(&fields, "metadata"),
        source_trace_id: fields.id("sourceTraceId")?,
        source_observation_id: fields.id("sourceObservationId")?,
        status,
    })
}

/// Reads a run item body: `runName`, `runDescription`, `metadata`, `datasetItemId`,
/// `traceId`, `observationId`, `createdAt`, `datasetVersion` (the time whose item versions
/// the run used).
pub fn parse_run_item_body(bytes: &[u8]) -> Result<NewRunItem, Error> {
    let object = json_object_body(bytes)?;
    let fields = Fields::new(&object, "");
    let dataset_item_id = fields.required("datasetItemId", Fields::id)?;
    Ok(NewRunItem {
        run_name: name(&fields, "runName")?,
        run_description: fields.string("runDescription")?,
        metadata: json_text(&fields, "metadata"),
        dataset_item_id,
        trace_id: fields.id("traceId")?,
        observation_id: fields.id("observationId")?,
        created_at: fields.timestamp("createdAt")?,
        dataset_version: fields.timestamp("datasetVersion")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
        result.expect_err("refused").message
    }

    #[test]
    fn datasets_keep_json_as_text_and_name_bad_fields() {
        let dataset = parse_dataset_body(
            br#"{"name":"qa/capitals","description":null,"metadata":{"a":[1,2]},"inputSchema":{"type":"object"}}"#,
        )
        .expect("valid");
        assert_eq!(dataset.name, "qa/capitals");
        assert_eq!(dataset.description, None);
        assert_eq!(dataset.metadata.as_deref(), Some(r#"{"a":[1,2]}"#));
        assert_eq!(
            dataset.input_schema.as_deref(),
            Some(r#"{"type":"object"}"#)
        );
        assert_eq!(dataset.expected_output_schema, None);

        for (body, message) in [
            (&br#"{}"#[..], "name: is required"),
            (br#"{"name":"  "}"#, "name: must not be empty"),
            (br#"{"name":7}"#, "name: expected a string"),
            (
                br#"{"name":"a","description":1}"#,
                "description: expected a string",
            ),
            (
                br#"{"name":"a","inputSchema":"x"}"#,
                "inputSchema: must be a JSON Schema (an object)",
            ),
            (br#"[]"#, "body: expected a JSON object"),
        ] {
            assert_eq!(error_of(parse_dataset_body(body)), message);
        }
        assert!(error_of(parse_dataset_body(b"{")).starts_with("body: invalid JSON"));
    }

    #[test]
    fn schemas_must_compile_and_values_must_match_them() {
        assert!(error_of(parse_dataset_body(
            br#"{"name":"a","inputSchema":{"type":"nonsense"}}"#
        ))
        .starts_with("inputSchema: not a valid JSON Schema: "));

        let schema = r#"{"type":"object","properties":{"country":{"type":"string"}},
                         "required":["country"]}"#;
        let check = |value: Option<&str>| {
            validate_against_schema(schema, "inputSchema", value, "input").map_err(|e| e.message)
        };
        assert_eq!(check(Some(r#"{"country":"Italy"}"#)), Ok(()));
        assert_eq!(
            check(Some(r#"{"country":3}"#)),
            Err(r#"input: does not match the dataset's inputSchema: /country: value is not of type "string""#.to_owned())
        );
        assert_eq!(
            check(None),
            Err(r#"input: does not match the dataset's inputSchema: /: value is not of type "object""#.to_owned()),
            "an absent value is validated as null"
        );
        let many = r#"{"type":"array","items":{"type":"string"}}"#;
        let error = validate_against_schema(
            many,
            "expectedOutputSchema",
            Some("[1,2,3,4,5]"),
            "expectedOutput",
        )
        .expect_err("five violations");
        assert!(error.message.ends_with("; …"), "{}", error.message);
        assert_eq!(error.message.matches("is not of type").count(), 3);
    }

    #[test]
    fn items_read_every_field_and_refuse_bad_ones() {
        let item = parse_dataset_item_body(
            br#"{"datasetName":"d","id":"i-1","input":"hi","expectedOutput":{"x":1},
                 "metadata":null,"sourceTraceId":"t","sourceObservationId":"o","status":"ARCHIVED"}"#,
        )
        .expect("valid");
        assert_eq!(
            item,
            NewDatasetItem {
                dataset_name: "d".to_owned(),
                id: Some("i-1".to_owned()),
                input: Some(r#""hi""#.to_owned()),
                expected_output: Some(r#"{"x":1}"#.to_owned()),
                metadata: None,
                source_trace_id: Some("t".to_owned()),
                source_observation_id: Some("o".to_owned()),
                status: Some(ItemStatus::Archived),
            }
        );
        let long_id = format!(r#"{{"datasetName":"d","id":"{}"}}"#, "x".repeat(256));
        for (body, message) in [
            (&br#"{"input":1}"#[..], "datasetName: is required"),
            (
                br#"{"datasetName":"d","status":"active"}"#,
                "status: must be \"ACTIVE\" or \"ARCHIVED\"",
            ),
            (br#"{"datasetName":"d","id":""}"#, "id: must not be empty"),
            (long_id.as_bytes(), "id: must be at most 255 characters"),
            (
                br#"{"datasetName":"d","sourceTraceId":[]}"#,
                "sourceTraceId: expected a string",
            ),
        ] {
            assert_eq!(error_of(parse_dataset_item_body(body)), message);
        }
    }

    #[test]
    fn run_items_need_a_run_and_an_item() {
        let item = parse_run_item_body(
            br#"{"runName":"r","datasetItemId":"i","traceId":"t","metadata":{"m":1},
                 "createdAt":"2026-01-01T00:00:00Z","datasetVersion":"2026-01-01T00:00:00Z"}"#,
        )
        .expect("valid");
        assert_eq!(item.run_name, "r");
        assert_eq!(item.dataset_item_id, "i");
        assert_eq!(item.trace_id.as_deref(), Some("t"));
        assert_eq!(item.metadata.as_deref(), Some(r#"{"m":1}"#));
        assert_eq!(item.created_at, Some(1_767_225_600_000_000));
        assert_eq!(item.dataset_version, Some(1_767_225_600_000_000));
        for (body, message) in [
            (&br#"{"runName":"r"}"#[..], "datasetItemId: is required"),
            (br#"{"datasetItemId":"i"}"#, "runName: is required"),
            (
                br#"{"runName":"r","datasetItemId":"i","createdAt":"yesterday"}"#,
                "createdAt: not an ISO-8601 timestamp",
            ),
            (
                br#"{"runName":"r","datasetItemId":"i","datasetVersion":3}"#,
                "datasetVersion: expected an ISO-8601 timestamp string",
            ),
        ] {
            assert_eq!(error_of(parse_run_item_body(body)), message);
        }
    }
}
