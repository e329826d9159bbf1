//! Score config bodies of the public API: a config to create (`POST
//! /api/public/score-configs`) and a patch (`PATCH /api/public/score-configs/{configId}`).
//! Errors name the field (`dataType: expected one of NUMERIC, CATEGORICAL, BOOLEAN, TEXT`);
//! `null` counts as absent. The rules a config follows as a whole are `spindle-core`'s.

use crate::fields::{json_object_body, Fields};
use serde_json::Value;
use spindle_core::score_config::{
    ConfigCategory, ConfigDataType, NewScoreConfig, ScoreConfigPatch,
};
use spindle_core::Error;

/// The categories of a body: an array of `{label, value}` objects.
fn categories(fields: &Fields, key: &str) -> Result<Option<Vec<ConfigCategory>>, Error> {
    let Some(value) = fields.value(key) else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(Error::invalid(
            fields.field(key),
            "expected an array of {label, value} objects",
        ));
    };
    let mut list = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("{}[{index}]", fields.field(key));
        let Value::Object(object) = item else {
            return Err(Error::invalid(&path, "expected a {label, value} object"));
        };
        let category = Fields::new(object, &path);
        let label = category.required("label", Fields::string)?;
        let value = category.required("value", Fields::number)?;
        list.push(ConfigCategory { label, value });
    }
    Ok(Some(list))
}

fn data_type(fields: &Fields) -> Result<ConfigDataType, Error> {
    let text = fields.required("dataType", Fields::string)?;
    ConfigDataType::parse(&text).ok_or_else(|| {
        Error::invalid(
            fields.field("dataType"),
            format!("{text:?} is not one of NUMERIC, CATEGORICAL, BOOLEAN, TEXT"),
        )
    })
}

/// Reads a config to create: `name`, `dataType`, `minValue`, `maxValue`, `categories`,
/// `description`, checked as a whole (boolean configs get their categories).
pub fn parse_score_config_body(bytes: &[u8]) -> Result<NewScoreConfig, Error> {
    let object = json_object_body(bytes)?;
    let fields = Fields::new(&object, "");
    let name = fields.required("name", Fields::string)?;
    NewScoreConfig {
        name,
        data_type: data_type(&fields)?,
        min_value: fields.number("minValue")?,
        max_value: fields.number("maxValue")?,
        categories: categories(&fields, "categories")?.unwrap_or_default(),
        description: fields.string("description")?,
    }
    .checked()
}

/// Reads a patch: `isArchived`, `name`, `minValue`, `maxValue`, `categories`,
/// `description`; at least one must be given. Checked against the stored config later.
pub fn parse_score_config_patch(bytes: &[u8]) -> Result<ScoreConfigPatch, Error> {
    let object = json_object_body(bytes)?;
    let fields = Fields::new(&object, "");
    if fields.value("dataType").is_some() {
        return Err(Error::invalid(
            "dataType",
            "cannot be changed; create a new score config instead",
        ));
    }
    let patch = ScoreConfigPatch {
        is_archived: fields.boolean("isArchived")?,
        name: fields.string("name")?,
        min_value: fields.number("minValue")?,
        max_value: fields.number("maxValue")?,
        categories: categories(&fields, "categories")?,
        description: fields.string("description")?,
    };
    if patch.is_empty() {
        return Err(Error::invalid(
            "body",
            "at least one field must be given to update a score config",
        ));
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(body: &str) -> String {
        match parse_score_config_body(body.as_bytes()) {
            Ok(config) => format!(
                "{} {} {:?} {:?} {}",
                config.name,
                config.data_type.as_str(),
                config.min_value,
                config.max_value,
                config.categories.len()
            ),
            Err(error) => error.message,
        }
    }

    #[test]
    fn create_bodies() {
        let cases = [
            (
                r#"{"name": "q", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1}"#,
                "q NUMERIC Some(0.0) Some(1.0) 0",
            ),
            (
                r#"{"name": "b", "dataType": "BOOLEAN", "description": null}"#,
                "b BOOLEAN None None 2",
            ),
            (
                r#"{"name": "c", "dataType": "CATEGORICAL", "categories": [{"label": "a", "value": 1}]}"#,
                "c CATEGORICAL None None 1",
            ),
            (
                r#"{"name": "c", "dataType": "CATEGORICAL"}"#,
                "categories: at least one category is required for CATEGORICAL configs",
            ),
            (
                r#"{"name": "c", "dataType": "CATEGORICAL", "categories": [{"label": "a"}]}"#,
                "categories[0].value: is required",
            ),
            (
                r#"{"name": "c", "dataType": "CATEGORICAL", "categories": {"a": 1}}"#,
                "categories: expected an array of {label, value} objects",
            ),
            (
                r#"{"name": "q", "dataType": "numeric"}"#,
                "dataType: \"numeric\" is not one of NUMERIC, CATEGORICAL, BOOLEAN, TEXT",
            ),
            (r#"{"dataType": "TEXT"}"#, "name: is required"),
            (r#"{"name": "q"}"#, "dataType: is required"),
            (
                r#"{"name": "q", "dataType": "NUMERIC", "minValue": "1"}"#,
                "minValue: expected a number",
            ),
            (
                r#"{"name": "q", "dataType": "NUMERIC", "minValue": 2, "maxValue": 1}"#,
                "maxValue: must be greater than minValue (1 is not above 2)",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(create(body), expected, "{body}");
        }
    }

    #[test]
    fn patch_bodies() {
        let patch = parse_score_config_patch(br#"{"isArchived": true, "minValue": null}"#).unwrap();
        assert_eq!(patch.is_archived, Some(true));
        assert_eq!(patch.min_value, None);
        for (body, expected) in [
            (
                "{}",
                "body: at least one field must be given to update a score config",
            ),
            (
                r#"{"dataType": "TEXT"}"#,
                "dataType: cannot be changed; create a new score config instead",
            ),
            (r#"{"isArchived": "yes"}"#, "isArchived: expected a boolean"),
        ] {
            assert_eq!(
                parse_score_config_patch(body.as_bytes())
                    .unwrap_err()
                    .message,
                expected
            );
        }
    }
}
