//! The score config API through the whole HTTP stack (create, list, get, patch, errors that
//! name the field, project isolation), and scores that name a config on every write path:
//! batch ingestion (the event's error in the 207, the rest stored), `POST /api/public/scores`
//! (one object: a 400; an array: a 207), read back with their config id.

mod support;

use axum::body::Body;
use axum::http::{header, Request};
use serde_json::{json, Value};
use support::{
    basic, expect_error, get_ok as get, post_error, post_ok as post, PK1, PK2, SK1, SK2,
};

fn patch(path: &str, body: &Value, (public_key, secret_key): (&str, &str)) -> Request<Body> {
    Request::patch(path)
        .header(header::AUTHORIZATION, basic(public_key, secret_key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn create_configs(app: &support::TestApp) -> (String, String, String) {
    let numeric = post(
        app,
        "/api/public/score-configs",
        json!({"name": "accuracy", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1,
               "description": "share of right answers"}),
    )
    .await;
    let categorical = post(
        app,
        "/api/public/score-configs",
        json!({"name": "tone", "dataType": "CATEGORICAL",
               "categories": [{"label": "rude", "value": 0}, {"label": "polite", "value": 1}]}),
    )
    .await;
    let boolean = post(
        app,
        "/api/public/score-configs",
        json!({"name": "correct", "dataType": "BOOLEAN"}),
    )
    .await;
    let id = |config: &Value| config["id"].as_str().expect("id").to_owned();
    (id(&numeric), id(&categorical), id(&boolean))
}

#[tokio::test]
async fn score_configs_are_created_listed_read_and_patched() {
    let app = support::app().await;
    let (numeric_id, categorical_id, boolean_id) = create_configs(&app).await;
    let numeric = get(&app, &format!("/api/public/score-configs/{numeric_id}")).await;
    assert_eq!(numeric["name"], "accuracy");
    assert_eq!(numeric["dataType"], "NUMERIC");
    assert_eq!(numeric["projectId"], "p1");
    assert_eq!(numeric["isArchived"], false);
    assert_eq!(
        (numeric["minValue"].as_f64(), numeric["maxValue"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    assert_eq!(numeric["categories"], Value::Null);
    assert_eq!(numeric["description"], "share of right answers");
    let boolean = get(&app, &format!("/api/public/score-configs/{boolean_id}")).await;
    assert_eq!(
        boolean["categories"],
        json!([{"label": "True", "value": 1.0}, {"label": "False", "value": 0.0}])
    );
    let categorical = get(&app, &format!("/api/public/score-configs/{categorical_id}")).await;
    assert_eq!(categorical["categories"][1]["label"], "polite");

    let page = get(&app, "/api/public/score-configs?page=2&limit=2").await;
    assert_eq!(
        page["meta"],
        json!({"page": 2, "limit": 2, "totalItems": 3, "totalPages": 2})
    );
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));

    let archived = app
        .send(patch(
            &format!("/api/public/score-configs/{numeric_id}"),
            &json!({"isArchived": true, "maxValue": 5}),
            (PK1, SK1),
        ))
        .await;
    assert_eq!(archived.status.as_u16(), 200, "{}", archived.text());
    let archived = archived.json();
    assert_eq!(archived["isArchived"], true);
    assert_eq!(archived["maxValue"].as_f64(), Some(5.0));
    assert_eq!(archived["createdAt"], numeric["createdAt"]);

    // Invalid patches name the field and change nothing.
    expect_error(
        app.send(patch(
            &format!("/api/public/score-configs/{numeric_id}"),
            &json!({"minValue": 9}),
            (PK1, SK1),
        ))
        .await,
        400,
        "maxValue: must be greater than minValue",
    )
    .await;
    expect_error(
        app.send(patch(
            &format!("/api/public/score-configs/{categorical_id}"),
            &json!({"categories": [{"label": "a", "value": 1}, {"label": "b", "value": 1}]}),
            (PK1, SK1),
        ))
        .await,
        400,
        "categories[1].value: duplicate value 1",
    )
    .await;
    let unchanged = get(&app, &format!("/api/public/score-configs/{numeric_id}")).await;
    assert_eq!(unchanged, archived);

    // Another project's key sees a 404, for reads and for patches.
    expect_error(
        app.get_as(&format!("/api/public/score-configs/{numeric_id}"), PK2, SK2)
            .await,
        404,
        "score config",
    )
    .await;
    expect_error(
        app.send(patch(
            &format!("/api/public/score-configs/{numeric_id}"),
            &json!({"isArchived": false}),
            (PK2, SK2),
        ))
        .await,
        404,
        "score config",
    )
    .await;
    let other = app
        .get_as("/api/public/score-configs", PK2, SK2)
        .await
        .json();
    assert_eq!(other["meta"]["totalItems"], 0);
}

#[tokio::test]
async fn bad_config_bodies_name_the_field() {
    let app = support::app().await;
    let cases = [
        (
            json!({"name": "r", "dataType": "NUMERIC", "minValue": 3, "maxValue": 1}),
            "maxValue: must be greater than minValue",
        ),
        (
            json!({"name": "c", "dataType": "CATEGORICAL", "categories": []}),
            "categories: at least one category is required",
        ),
        (
            json!({"name": "c", "dataType": "CATEGORICAL",
                   "categories": [{"label": "a", "value": 0}, {"label": "a", "value": 1}]}),
            "categories[1].label: duplicate label",
        ),
        (
            json!({"name": "x", "dataType": "PERCENT"}),
            "dataType: \"PERCENT\" is not one of",
        ),
        (
            json!({"name": "b", "dataType": "BOOLEAN", "categories": [{"label": "y", "value": 1}]}),
            "categories: are generated for BOOLEAN configs",
        ),
    ];
    for (body, message) in cases {
        post_error(&app, "/api/public/score-configs", body, 400, message).await;
    }
    let list = get(&app, "/api/public/score-configs").await;
    assert_eq!(list["meta"]["totalItems"], 0, "nothing half-written");
}

fn score_event(id: &str, body: Value) -> Value {
    json!({"id": id, "type": "score-create", "timestamp": "2026-01-01T00:00:00Z", "body": body})
}

#[tokio::test]
async fn scores_naming_a_config_are_checked_on_every_write_path() {
    let app = support::app().await;
    let (numeric_id, categorical_id, boolean_id) = create_configs(&app).await;
    let archived = post(
        &app,
        "/api/public/score-configs",
        json!({"name": "old", "dataType": "NUMERIC"}),
    )
    .await;
    let archived_id = archived["id"].as_str().expect("id").to_owned();
    let response = app
        .send(patch(
            &format!("/api/public/score-configs/{archived_id}"),
            &json!({"isArchived": true}),
            (PK1, SK1),
        ))
        .await;
    assert_eq!(response.status.as_u16(), 200);

    // Batch ingestion: each bad event is reported, the good ones stored.
    let batch = json!({"batch": [
        score_event("e1", json!({"id": "s1", "traceId": "t1", "name": "accuracy", "value": 0.5, "configId": numeric_id})),
        score_event("e2", json!({"id": "s2", "traceId": "t1", "name": "tone", "value": "polite", "configId": categorical_id, "queueId": "q1"})),
        score_event("e3", json!({"id": "s3", "traceId": "t1", "name": "accuracy", "value": 1.5, "configId": numeric_id})),
        score_event("e4", json!({"id": "s4", "traceId": "t1", "name": "tone", "value": "snarky", "configId": categorical_id})),
        score_event("e5", json!({"id": "s5", "traceId": "t1", "name": "correct", "value": 1, "dataType": "NUMERIC", "configId": boolean_id})),
        score_event("e6", json!({"id": "s6", "traceId": "t1", "name": "x", "value": 1, "configId": "nope"})),
        score_event("e7", json!({"id": "s7", "traceId": "t1", "name": "old", "value": 1, "configId": archived_id})),
        score_event("e8", json!({"id": "s8", "traceId": "t1", "name": "correct", "value": 0, "configId": boolean_id})),
    ]});
    let response = app.post_json("/api/public/ingestion", &batch).await;
    assert_eq!(response.status.as_u16(), 207);
    let body = response.json();
    let mut successes = support::texts_in(&body, "successes", "id");
    successes.sort();
    assert_eq!(successes, ["e1", "e2", "e8"]);
    let errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            assert_eq!(error["status"], 400);
            (
                error["id"].as_str().expect("id").to_owned(),
                error["error"].as_str().expect("error").to_owned(),
            )
        })
        .collect();
    let expected = [
        (
            "e3",
            "batch[2].body.value: 1.5 is above the maximum 1 of score config \"accuracy\"",
        ),
        (
            "e4",
            "batch[3].body.value: \"snarky\" is not a category of score config \"tone\"",
        ),
        (
            "e5",
            "batch[4].body.dataType: NUMERIC does not match the data type BOOLEAN",
        ),
        (
            "e6",
            "batch[5].body.configId: no score config \"nope\" in this project",
        ),
        ("e7", "batch[6].body.configId: score config"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:?}");
    for ((id, message), (expected_id, start)) in errors.iter().zip(expected) {
        assert_eq!(id, expected_id);
        assert!(
            message.starts_with(start),
            "{message:?} should start with {start:?}"
        );
    }

    // A categorical score given by its label gets the category's value; all read back with
    // their config id, on v1, v2 and v3 (details and annotation groups).
    let tone = get(&app, "/api/public/v2/scores?name=tone").await;
    assert_eq!(tone["data"][0]["value"].as_f64(), Some(1.0));
    assert_eq!(tone["data"][0]["stringValue"], "polite");
    assert_eq!(tone["data"][0]["configId"], categorical_id.as_str());
    assert_eq!(tone["data"][0]["queueId"], "q1");
    let by_config = get(
        &app,
        &format!("/api/public/v2/scores?configId={numeric_id}"),
    )
    .await;
    assert_eq!(by_config["meta"]["totalItems"], 1);
    let v3 = get(
        &app,
        "/api/public/v3/scores?name=correct&fields=details,annotation",
    )
    .await;
    assert_eq!(v3["data"][0]["value"], false);
    assert_eq!(v3["data"][0]["dataType"], "BOOLEAN");
    assert_eq!(v3["data"][0]["configId"], boolean_id.as_str());
    assert_eq!(v3["data"][0]["queueId"], Value::Null);
    assert_eq!(v3["data"][0]["authorUserId"], Value::Null);

    // POST /api/public/scores: one object is a 400 naming the field, an array a 207.
    post_error(
        &app,
        "/api/public/scores",
        json!({"traceId": "t1", "name": "accuracy", "value": -1, "configId": numeric_id}),
        400,
        "body.value: -1 is below the minimum 0 of score config \"accuracy\"",
    )
    .await;
    let one = app
        .post_json(
            "/api/public/scores",
            &json!({"id": "s9", "traceId": "t1", "name": "whatever", "value": 0, "configId": categorical_id}),
        )
        .await;
    assert_eq!(one.status.as_u16(), 200, "{}", one.text());
    let stored = get(&app, "/api/public/v2/scores/s9").await;
    assert_eq!(stored["name"], "tone", "the config's name wins");
    assert_eq!(
        stored["stringValue"], "rude",
        "a category given by value gets its label"
    );
    let many = app
        .post_json(
            "/api/public/scores",
            &json!([
                {"id": "s10", "traceId": "t1", "name": "accuracy", "value": 1, "configId": numeric_id},
                {"id": "s11", "traceId": "t1", "name": "tone", "value": 7, "configId": categorical_id},
            ]),
        )
        .await;
    assert_eq!(many.status.as_u16(), 207, "{}", many.text());
    let many = many.json();
    assert_eq!(
        (many["accepted"].clone(), many["rejected"].clone()),
        (json!(1), json!(1))
    );
    assert!(many["errors"][0]["message"]
        .as_str()
        .expect("message")
        .starts_with("[1].value: 7 is not a category of score config \"tone\""));
    let missing = app.get("/api/public/v2/scores/s11").await;
    assert_eq!(missing.status.as_u16(), 404);

    // Another project's key cannot use the config.
    let response = app
        .post_json_as(
            "/api/public/scores",
            &json!({"traceId": "t1", "name": "accuracy", "value": 0.5, "configId": numeric_id}),
            PK2,
            SK2,
        )
        .await;
    expect_error(response, 400, "body.configId: no score config").await;
}
