//! `/api/public/models` and cost tracking through the whole HTTP stack: custom models are
//! created, replaced, listed and deleted per project; built-in ones are read-only; the
//! generations ingested afterwards carry the cost of the matched model.

mod support;

use axum::body::Body;
use axum::http::{header, Request};
use serde_json::{json, Value};
use support::{basic, PK1, PK2, SK1, SK2};

async fn send_json(
    app: &support::TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> support::Response {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, basic(PK1, SK1))
        .header(header::CONTENT_TYPE, "application/json");
    let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
    app.send(builder.body(body).expect("request")).await
}

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {actual}"));
    assert!(
        (actual - expected).abs() <= 1e-12 + expected.abs() * 1e-9,
        "{what}: {actual} != {expected}"
    );
}

async fn ingest(app: &support::TestApp, events: Value) {
    let response = app
        .post_json("/api/public/ingestion", &json!({ "batch": events }))
        .await;
    assert_eq!(response.status.as_u16(), 207, "{:?}", response.json());
    assert_eq!(response.json()["errors"], json!([]));
}

fn generation(id: &str, model: &str, usage: Option<Value>) -> Value {
    let mut body = json!({
        "id": id, "traceId": "t1", "name": id, "model": model,
        "startTime": "2026-11-21T10:00:00Z", "endTime": "2026-11-21T10:00:01Z",
        "input": "hello world",
        "output": "The quick brown fox jumps over the lazy dog.",
    });
    if let Some(usage) = usage {
        body["usageDetails"] = usage;
    }
    json!({"id": format!("e-{id}"), "type": "generation-create",
           "timestamp": "2026-11-21T10:00:00Z", "body": body})
}

#[tokio::test]
async fn custom_models_price_new_generations_and_built_ins_are_read_only() {
    let app = support::app().await;

    // Built-in models are listed and readable, not writable.
    let listed = app.get("/api/public/models?limit=100").await;
    assert_eq!(listed.status.as_u16(), 200);
    let listed = listed.json();
    assert!(listed["meta"]["totalItems"].as_u64().unwrap_or(0) > 50);
    let gpt = app.get("/api/public/models/openai-gpt-4o").await.json();
    assert_eq!(gpt["isLangfuseManaged"], json!(true));
    close(&gpt["inputPrice"], 2.5e-6, "gpt-4o input price");
    close(
        &gpt["prices"]["output"]["price"],
        10e-6,
        "gpt-4o output price",
    );
    let refused = send_json(&app, "DELETE", "/api/public/models/openai-gpt-4o", None).await;
    assert_eq!(refused.status.as_u16(), 403);
    let refused = send_json(
        &app,
        "PUT",
        "/api/public/models/openai-gpt-4o",
        Some(&json!({"modelName": "x", "matchPattern": "x", "unit": "TOKENS"})),
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);

    // Bad input names the field.
    for (body, field) in [
        (json!({"matchPattern": "x"}), "modelName"),
        (
            json!({"modelName": "x", "matchPattern": "(unclosed"}),
            "matchPattern",
        ),
        (
            json!({"modelName": "x", "matchPattern": "x", "inputPrice": 1, "totalPrice": 2}),
            "totalPrice",
        ),
        (
            json!({"modelName": "x", "matchPattern": "x", "inputPrice": -1}),
            "inputPrice",
        ),
        (
            json!({"modelName": "x", "matchPattern": "x", "unit": "LITRES"}),
            "unit",
        ),
        (
            json!({"modelName": "x", "matchPattern": "x", "pricingTiers": [
                {"name": "a", "priority": 1, "conditions": [], "prices": {"input": 1}}]}),
            "pricingTiers[0].conditions",
        ),
    ] {
        let response = send_json(&app, "POST", "/api/public/models", Some(&body)).await;
        assert_eq!(response.status.as_u16(), 400, "{body}");
        let message = response.json()["message"].as_str().unwrap_or("").to_owned();
        assert!(message.contains(field), "{body}: {message}");
    }

    // A custom model, as the SDKs' API clients send it.
    let created = send_json(
        &app,
        "POST",
        "/api/public/models",
        Some(
            &json!({"modelName": "my-model", "matchPattern": "(?i)^my-model$",
                     "unit": "TOKENS", "inputPrice": 0.001, "outputPrice": 0.002}),
        ),
    )
    .await;
    assert_eq!(created.status.as_u16(), 200, "{:?}", created.json());
    let created = created.json();
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["isLangfuseManaged"], json!(false));
    close(
        &created["prices"]["input"]["price"],
        0.001,
        "custom input price",
    );
    assert_eq!(
        app.get(&format!("/api/public/models/{id}")).await.json()["modelName"],
        json!("my-model")
    );
    let first = app.get("/api/public/models?limit=1").await.json();
    assert_eq!(
        first["data"][0]["id"],
        json!(id),
        "custom models come first"
    );
    // Another project does not see it.
    let other = app
        .get_as(&format!("/api/public/models/{id}"), PK2, SK2)
        .await;
    assert_eq!(other.status.as_u16(), 404);

    ingest(
        &app,
        json!([
            {"id": "e-t1", "type": "trace-create", "timestamp": "2026-11-21T10:00:00Z",
             "body": {"id": "t1", "name": "chat"}},
            generation("builtin", "gpt-4o", Some(json!({"input": 1000, "output": 500}))),
            generation("custom", "my-model", Some(json!({"input": 10, "output": 5}))),
            generation("inferred", "gpt-4o", None),
        ]),
    )
    .await;
    let builtin = app.get("/api/public/observations/builtin").await.json();
    close(&builtin["calculatedTotalCost"], 0.0075, "gpt-4o cost");
    close(&builtin["calculatedInputCost"], 0.0025, "gpt-4o input cost");
    assert_eq!(builtin["modelId"], json!("openai-gpt-4o"));
    close(&builtin["inputPrice"], 2.5e-6, "price on the observation");
    assert_eq!(builtin["usageInferred"], json!(false));
    let custom = app.get("/api/public/observations/custom").await.json();
    close(&custom["calculatedTotalCost"], 0.02, "custom cost");
    assert_eq!(custom["modelId"], json!(id));
    let inferred = app.get("/api/public/observations/inferred").await.json();
    assert_eq!(inferred["usageInferred"], json!(true));
    assert_eq!(
        inferred["usageDetails"],
        json!({"input": 2, "output": 10, "total": 12})
    );
    close(
        &inferred["calculatedTotalCost"],
        2.0 * 2.5e-6 + 10.0 * 10e-6,
        "cost of inferred usage",
    );
    let trace = app.get("/api/public/traces/t1").await.json();
    close(
        &trace["totalCost"],
        0.0075 + 0.02 + 2.0 * 2.5e-6 + 10.0 * 10e-6,
        "trace total",
    );
    let v2 = app
        .get("/api/public/v2/observations?fields=core,model,usage&traceId=t1")
        .await
        .json();
    let v2_custom = support::item_where(&v2, "data", "id", "custom");
    assert_eq!(v2_custom["internalModelId"], json!(id));
    assert_eq!(v2_custom["inputPrice"], json!("0.001"));

    // Replacing the model by id changes the price of what is ingested afterwards.
    let replaced = send_json(
        &app,
        "PUT",
        &format!("/api/public/models/{id}"),
        Some(
            &json!({"modelName": "my-model", "matchPattern": "(?i)^my-model$",
                     "unit": "TOKENS", "pricingTiers": [
                        {"name": "Standard", "isDefault": true, "priority": 0, "conditions": [],
                         "prices": {"input": 0.01, "output": 0.02}},
                        {"name": "Large", "isDefault": false, "priority": 1,
                         "conditions": [{"usageDetailPattern": "input", "operator": "gt",
                                         "value": 100}],
                         "prices": {"input": 0.005, "output": 0.02}}]}),
        ),
    )
    .await;
    assert_eq!(replaced.status.as_u16(), 200, "{:?}", replaced.json());
    assert_eq!(replaced.json()["createdAt"], created["createdAt"]);
    ingest(
        &app,
        json!([
            generation(
                "custom-2",
                "my-model",
                Some(json!({"input": 10, "output": 5}))
            ),
            generation(
                "custom-large",
                "my-model",
                Some(json!({"input": 200, "output": 0}))
            ),
        ]),
    )
    .await;
    let second = app.get("/api/public/observations/custom-2").await.json();
    close(&second["calculatedTotalCost"], 0.2, "replaced price");
    let large = app
        .get("/api/public/observations/custom-large")
        .await
        .json();
    close(&large["calculatedTotalCost"], 1.0, "tier price");
    assert_eq!(large["usagePricingTierName"], json!("Large"));
    let earlier = app.get("/api/public/observations/custom").await.json();
    close(
        &earlier["calculatedTotalCost"],
        0.02,
        "earlier data keeps its price",
    );

    let deleted = send_json(&app, "DELETE", &format!("/api/public/models/{id}"), None).await;
    assert_eq!(deleted.status.as_u16(), 200);
    let gone = send_json(&app, "DELETE", &format!("/api/public/models/{id}"), None).await;
    assert_eq!(gone.status.as_u16(), 404);
}
