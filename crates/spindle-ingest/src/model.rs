//! Custom model bodies (`POST /api/public/models`, `PUT /api/public/models/{id}` and the web
//! UI's pricing page) to [`CustomModel`]s. Errors name the field: `pricingTiers[1].priority:
//! must be a positive integer`.

use serde_json::Value;
use spindle_core::time::{parse_iso, Micros};
use spindle_core::Error;
use spindle_cost::{CustomCondition, CustomModel, CustomTier, TierOperator};
use std::collections::BTreeMap;

/// Units Langfuse accepts for a model's usage.
const UNITS: &[&str] = &[
    "TOKENS",
    "CHARACTERS",
    "MILLISECONDS",
    "SECONDS",
    "IMAGES",
    "REQUESTS",
];

fn price(value: &Value, field: &str) -> Result<Option<f64>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => number
            .as_f64()
            .filter(|price| price.is_finite() && *price >= 0.0)
            .map(Some)
            .ok_or_else(|| Error::invalid(field, "must be a non-negative number")),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|price| price.is_finite() && *price >= 0.0)
            .map(Some)
            .ok_or_else(|| Error::invalid(field, "must be a non-negative number")),
        _ => Err(Error::invalid(field, "must be a non-negative number")),
    }
}

fn prices_of(value: &Value, field: &str) -> Result<BTreeMap<String, f64>, Error> {
    let object = value
        .as_object()
        .ok_or_else(|| Error::invalid(field, "must be an object of usage type to price"))?;
    let mut prices = BTreeMap::new();
    for (key, value) in object {
        // Langfuse's `prices` shape is `{type: {price}}`; tiers use `{type: price}`.
        let value = value.get("price").unwrap_or(value);
        if let Some(price) = price(value, &format!("{field}.{key}"))? {
            prices.insert(key.clone(), price);
        }
    }
    Ok(prices)
}

/// Reads a create (or replace) request body into a model of `project_id` with id `id`,
/// created at `created_at`.
pub fn parse_model(
    project_id: &str,
    id: String,
    body: &Value,
    created_at: Micros,
) -> Result<CustomModel, Error> {
    let object = body
        .as_object()
        .ok_or_else(|| Error::invalid("body", "expected a JSON object"))?;
    let empty = Value::Null;
    let get = |key: &str| object.get(key).unwrap_or(&empty);
    let text = |key: &str| -> Result<Option<String>, Error> {
        match get(key) {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text.clone())),
            _ => Err(Error::invalid(key, "must be a string")),
        }
    };
    let model_name = text("modelName")?
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| Error::invalid("modelName", "is required"))?;
    let match_pattern = text("matchPattern")?
        .filter(|pattern| !pattern.is_empty())
        .ok_or_else(|| Error::invalid("matchPattern", "is required"))?;
    let start_date = match text("startDate")? {
        None => None,
        Some(date) => Some(
            parse_iso(&date)
                .ok_or_else(|| Error::invalid("startDate", "must be an ISO 8601 date"))?,
        ),
    };
    let unit = text("unit")?.map(|unit| unit.to_ascii_uppercase());
    if let Some(unit) = &unit {
        if !UNITS.contains(&unit.as_str()) {
            return Err(Error::invalid(
                "unit",
                format!("must be one of {}", UNITS.join(", ")),
            ));
        }
    }
    let mut prices = BTreeMap::new();
    for (key, usage_type) in [
        ("inputPrice", "input"),
        ("outputPrice", "output"),
        ("totalPrice", "total"),
    ] {
        if let Some(price) = price(get(key), key)? {
            prices.insert(usage_type.to_owned(), price);
        }
    }
    if prices.contains_key("total")
        && (prices.contains_key("input") || prices.contains_key("output"))
    {
        return Err(Error::invalid(
            "totalPrice",
            "cannot be set together with inputPrice or outputPrice",
        ));
    }
    if !get("prices").is_null() {
        if !prices.is_empty() {
            return Err(Error::invalid(
                "prices",
                "cannot be set together with inputPrice, outputPrice or totalPrice",
            ));
        }
        prices = prices_of(get("prices"), "prices")?;
    }
    let mut pricing_tiers = Vec::new();
    if let Some(tiers) = get("pricingTiers").as_array() {
        if !prices.is_empty() {
            return Err(Error::invalid(
                "pricingTiers",
                "cannot be set together with flat prices (inputPrice, outputPrice, totalPrice, prices)",
            ));
        }
        let mut defaults = 0;
        for (index, tier) in tiers.iter().enumerate() {
            let field = format!("pricingTiers[{index}]");
            let tier_prices = prices_of(&tier["prices"], &format!("{field}.prices"))?;
            if tier["isDefault"].as_bool() == Some(true) {
                defaults += 1;
                prices = tier_prices;
                continue;
            }
            let name = tier["name"]
                .as_str()
                .filter(|name| !name.is_empty())
                .ok_or_else(|| Error::invalid(format!("{field}.name"), "is required"))?;
            let priority = tier["priority"]
                .as_i64()
                .filter(|priority| *priority > 0)
                .ok_or_else(|| {
                    Error::invalid(format!("{field}.priority"), "must be a positive integer")
                })?;
            let conditions = tier["conditions"]
                .as_array()
                .filter(|conditions| !conditions.is_empty())
                .ok_or_else(|| {
                    Error::invalid(
                        format!("{field}.conditions"),
                        "a tier that is not the default needs at least one condition",
                    )
                })?
                .iter()
                .enumerate()
                .map(|(position, condition)| {
                    let field = format!("{field}.conditions[{position}]");
                    let operator = condition["operator"].as_str().unwrap_or_default();
                    if TierOperator::parse(operator).is_none() {
                        return Err(Error::invalid(
                            format!("{field}.operator"),
                            "must be gt, gte, lt, lte, eq or neq",
                        ));
                    }
                    Ok(CustomCondition {
                        usage_detail_pattern: condition["usageDetailPattern"]
                            .as_str()
                            .filter(|pattern| !pattern.is_empty())
                            .ok_or_else(|| {
                                Error::invalid(format!("{field}.usageDetailPattern"), "is required")
                            })?
                            .to_owned(),
                        operator: operator.to_owned(),
                        value: condition["value"].as_f64().ok_or_else(|| {
                            Error::invalid(format!("{field}.value"), "must be a number")
                        })?,
                        case_sensitive: condition["caseSensitive"].as_bool().unwrap_or(false),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            pricing_tiers.push(CustomTier {
                id: format!("{id}-tier-{priority}"),
                name: name.to_owned(),
                priority,
                conditions,
                prices: tier_prices,
            });
        }
        if defaults != 1 {
            return Err(Error::invalid(
                "pricingTiers",
                "must hold exactly one default tier (isDefault: true)",
            ));
        }
    }
    let tokenizer_id = text("tokenizerId")?;
    if let Some(tokenizer) = &tokenizer_id {
        if !["openai", "claude"].contains(&tokenizer.as_str()) {
            return Err(Error::invalid("tokenizerId", "must be openai or claude"));
        }
    }
    let tokenizer_config = match get("tokenizerConfig") {
        Value::Null => None,
        Value::Object(config) => Some(Value::Object(config.clone()).to_string()),
        _ => return Err(Error::invalid("tokenizerConfig", "must be a JSON object")),
    };
    let model = CustomModel {
        id,
        project_id: project_id.to_owned(),
        model_name,
        match_pattern,
        start_date,
        unit,
        prices,
        tokenizer_id,
        tokenizer_config,
        pricing_tiers,
        created_at,
    };
    model.to_price().map_err(|reason| {
        let (field, reason) = reason
            .split_once(": ")
            .unwrap_or(("matchPattern", reason.as_str()));
        Error::invalid(field, reason)
    })?;
    Ok(model)
}

/// Parses a JSON request body (bytes) into a model; see [`parse_model`].
pub fn parse_model_body(
    project_id: &str,
    id: String,
    body: &[u8],
    created_at: Micros,
) -> Result<CustomModel, Error> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|error| Error::invalid("body", format!("invalid JSON: {error}")))?;
    parse_model(project_id, id, &body, created_at)
}

#[cfg(test)]
mod tests;
