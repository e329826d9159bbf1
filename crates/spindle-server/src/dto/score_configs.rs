//! The score config API's response body: `ScoreConfig` of the API definition.

use serde_json::{json, Value};
use spindle_core::score_config::ScoreConfig;
use spindle_core::time::format_iso;

/// A config; `categories` is `null` for numeric and text configs.
pub fn score_config_json(config: &ScoreConfig) -> Value {
    let categories = if config.categories.is_empty() {
        Value::Null
    } else {
        config
            .categories
            .iter()
            .map(|category| json!({"label": category.label, "value": category.value}))
            .collect()
    };
    json!({
        "id": config.id,
        "name": config.name,
        "projectId": config.project_id,
        "dataType": config.data_type.as_str(),
        "isArchived": config.is_archived,
        "minValue": config.min_value,
        "maxValue": config.max_value,
        "categories": categories,
        "description": config.description,
        "createdAt": format_iso(config.created_at),
        "updatedAt": format_iso(config.updated_at),
    })
}
