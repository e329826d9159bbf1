//! Custom model bodies: accepted shapes, and errors that name the field.

use super::*;
use serde_json::json;

fn check_error(body: Value, expect: &str) {
    let error = parse_model("p", "m".into(), &body, 0).unwrap_err();
    assert_eq!(error.message, expect);
}

#[test]
fn flat_prices_become_a_model() {
    let body = json!({
        "modelName": "my-model",
        "matchPattern": "(?i)^my-model$",
        "unit": "tokens",
        "inputPrice": 0.5,
        "outputPrice": "1.5",
        "startDate": "2024-01-01T00:00:00Z",
    });
    let model = parse_model("project", "id".into(), &body, 42).unwrap();
    assert_eq!(model.model_name, "my-model");
    assert_eq!(model.unit.as_deref(), Some("TOKENS"));
    assert_eq!(
        model.prices,
        BTreeMap::from([("input".to_owned(), 0.5), ("output".to_owned(), 1.5)])
    );
    assert!(model.start_date.is_some());
    assert_eq!(model.created_at, 42);
}

#[test]
fn tiers_need_one_default_and_conditions() {
    let tier = |is_default: bool, conditions: Value| {
        json!({"name": "t", "isDefault": is_default, "priority": 1,
               "conditions": conditions, "prices": {"input": 1.0}})
    };
    let body =
        |tiers: Vec<Value>| json!({"modelName": "m", "matchPattern": "m", "pricingTiers": tiers});
    let condition = json!([{"usageDetailPattern": "input", "operator": "gt", "value": 100}]);
    let model = parse_model(
        "p",
        "m".into(),
        &body(vec![tier(true, json!([])), tier(false, condition.clone())]),
        0,
    )
    .unwrap();
    assert_eq!(model.pricing_tiers.len(), 1);
    assert_eq!(model.pricing_tiers[0].id, "m-tier-1");
    check_error(
        body(vec![tier(false, condition)]),
        "pricingTiers: must hold exactly one default tier (isDefault: true)",
    );
    check_error(
        body(vec![tier(true, json!([])), tier(false, json!([]))]),
        "pricingTiers[1].conditions: a tier that is not the default needs at least one condition",
    );
}

#[test]
fn errors_name_the_field() {
    check_error(json!([]), "body: expected a JSON object");
    check_error(json!({"matchPattern": "m"}), "modelName: is required");
    check_error(json!({"modelName": "m"}), "matchPattern: is required");
    check_error(
        json!({"modelName": "m", "matchPattern": "m", "unit": "bytes"}),
        "unit: must be one of TOKENS, CHARACTERS, MILLISECONDS, SECONDS, IMAGES, REQUESTS",
    );
    check_error(
        json!({"modelName": "m", "matchPattern": "m", "totalPrice": 1, "inputPrice": 1}),
        "totalPrice: cannot be set together with inputPrice or outputPrice",
    );
    check_error(
        json!({"modelName": "m", "matchPattern": "m", "inputPrice": -1}),
        "inputPrice: must be a non-negative number",
    );
    check_error(
        json!({"modelName": "m", "matchPattern": "m", "tokenizerId": "other"}),
        "tokenizerId: must be openai or claude",
    );
    let error = parse_model_body("p", "m".into(), b"{", 0).unwrap_err();
    assert!(
        error.message.starts_with("body: invalid JSON"),
        "{}",
        error.message
    );
}
