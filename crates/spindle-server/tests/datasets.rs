//! The dataset API through the whole HTTP stack: datasets by name (URL-encoded names with
//! slashes), items upserted by id and listed by dataset or source, runs created by their first
//! run item, deletes, Langfuse's page shape, errors that name the field, and project isolation.

mod support;

use serde_json::{json, Value};
use support::{expect_error, get_ok as get, post_ok as post, PK1, PK2, SK1, SK2};

#[tokio::test]
async fn datasets_are_created_updated_listed_and_read_by_encoded_name() {
    let app = support::app().await;
    let created = post(
        &app,
        "/api/public/v2/datasets",
        json!({"name": "qa/capitals", "description": "capitals", "metadata": {"owner": "geo"}}),
    )
    .await;
    assert_eq!(created["name"], "qa/capitals");
    assert_eq!(created["projectId"], "p1");
    assert_eq!(created["metadata"], json!({"owner": "geo"}));
    assert_eq!(created["inputSchema"], Value::Null);

    let updated = post(
        &app,
        "/api/public/v2/datasets",
        json!({"name": "qa/capitals", "description": "world capitals"}),
    )
    .await;
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["description"], "world capitals");
    assert_eq!(updated["metadata"], json!({"owner": "geo"}));

    let read = get(&app, "/api/public/v2/datasets/qa%2Fcapitals").await;
    assert_eq!(read, updated);
    expect_error(
        app.get("/api/public/v2/datasets/qa").await,
        404,
        "dataset \"qa\" not found",
    )
    .await;

    post(&app, "/api/public/v2/datasets", json!({"name": "other"})).await;
    let page = get(&app, "/api/public/v2/datasets?page=2&limit=1").await;
    assert_eq!(
        page["meta"],
        json!({"page": 2, "limit": 1, "totalItems": 2, "totalPages": 2})
    );
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));

    expect_error(
        app.post_json("/api/public/v2/datasets", &json!({"description": "x"}))
            .await,
        400,
        "name: is required",
    )
    .await;
    expect_error(
        app.get("/api/public/v2/datasets?limit=0").await,
        400,
        "limit:",
    )
    .await;

    // Another project's keys see nothing of it.
    let foreign = app
        .get_as("/api/public/v2/datasets/qa%2Fcapitals", PK2, SK2)
        .await;
    assert_eq!(foreign.status.as_u16(), 404);
    let listed = app.get_as("/api/public/v2/datasets", PK2, SK2).await.json();
    assert_eq!(listed["meta"]["totalItems"], 0);
}

#[tokio::test]
async fn items_are_upserted_filtered_read_and_deleted() {
    let app = support::app().await;
    post(&app, "/api/public/v2/datasets", json!({"name": "capitals"})).await;
    expect_error(
        app.post_json(
            "/api/public/dataset-items",
            &json!({"datasetName": "absent", "input": 1}),
        )
        .await,
        404,
        "dataset \"absent\" not found",
    )
    .await;
    let generated = post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "capitals", "input": {"country": "Italy"}, "expectedOutput": "Rome"}),
    )
    .await;
    assert_eq!(generated["status"], "ACTIVE");
    assert_eq!(generated["input"], json!({"country": "Italy"}));
    assert_eq!(generated["expectedOutput"], "Rome");
    assert_eq!(generated["metadata"], Value::Null);
    assert_eq!(generated["datasetName"], "capitals");
    assert_eq!(generated["mediaReferences"], json!([]));

    post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "capitals", "id": "france", "input": {"country": "France"},
               "sourceTraceId": "trace-1", "sourceObservationId": "obs-1"}),
    )
    .await;
    let archived = post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "capitals", "id": "france", "status": "ARCHIVED"}),
    )
    .await;
    assert_eq!(archived["status"], "ARCHIVED");
    assert_eq!(archived["input"], json!({"country": "France"}));

    expect_error(
        app.post_json(
            "/api/public/dataset-items",
            &json!({"datasetName": "capitals", "status": "DONE"}),
        )
        .await,
        400,
        "status: must be \"ACTIVE\" or \"ARCHIVED\"",
    )
    .await;

    let page = get(
        &app,
        "/api/public/dataset-items?datasetName=capitals&page=1&limit=1",
    )
    .await;
    assert_eq!(page["meta"]["totalItems"], 2);
    assert_eq!(page["meta"]["totalPages"], 2);
    let by_trace = get(&app, "/api/public/dataset-items?sourceTraceId=trace-1").await;
    assert_eq!(by_trace["data"][0]["id"], "france");
    let by_observation = get(&app, "/api/public/dataset-items?sourceObservationId=obs-2").await;
    assert_eq!(by_observation["meta"]["totalItems"], 0);
    expect_error(
        app.get("/api/public/dataset-items?datasetName=absent")
            .await,
        404,
        "dataset \"absent\" not found",
    )
    .await;
    let before = get(
        &app,
        "/api/public/dataset-items?datasetName=capitals&version=2000-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(before["meta"]["totalItems"], 0, "no item existed then");
    let later = get(
        &app,
        "/api/public/dataset-items?datasetName=capitals&version=2999-01-01T00:00:00.000Z",
    )
    .await;
    assert_eq!(later["meta"]["totalItems"], 2, "every item as it is now");
    expect_error(
        app.get("/api/public/dataset-items?datasetName=capitals&version=yesterday")
            .await,
        400,
        "version:",
    )
    .await;

    let read = get(&app, "/api/public/dataset-items/france").await;
    assert_eq!(read, archived);
    assert_eq!(
        app.get_as("/api/public/dataset-items/france", PK2, SK2)
            .await
            .status
            .as_u16(),
        404
    );
    assert_eq!(
        app.delete_as("/api/public/dataset-items/france", PK2, SK2)
            .await
            .status
            .as_u16(),
        404
    );
    let deleted = app
        .delete_as("/api/public/dataset-items/france", PK1, SK1)
        .await;
    assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
    assert_eq!(
        deleted.json()["message"],
        "Dataset item successfully deleted"
    );
    expect_error(
        app.get("/api/public/dataset-items/france").await,
        404,
        "dataset item \"france\" not found",
    )
    .await;
}

#[tokio::test]
async fn runs_start_with_their_first_item_and_can_be_read_and_deleted() {
    let app = support::app().await;
    let dataset = post(&app, "/api/public/v2/datasets", json!({"name": "eval/qa"})).await;
    for (id, status) in [("q1", "ACTIVE"), ("q2", "ACTIVE"), ("old", "ARCHIVED")] {
        post(
            &app,
            "/api/public/dataset-items",
            json!({"datasetName": "eval/qa", "id": id, "input": id, "status": status}),
        )
        .await;
    }
    let first = post(
        &app,
        "/api/public/dataset-run-items",
        json!({"runName": "run 1", "runDescription": "baseline", "metadata": {"model": "a"},
               "datasetItemId": "q1", "traceId": "not-yet-ingested"}),
    )
    .await;
    assert_eq!(first["datasetRunName"], "run 1");
    assert_eq!(first["datasetItemId"], "q1");
    assert_eq!(first["traceId"], "not-yet-ingested");
    assert_eq!(first["observationId"], Value::Null);
    let second = post(
        &app,
        "/api/public/dataset-run-items",
        json!({"runName": "run 1", "datasetItemId": "q2", "traceId": "t2", "observationId": "o2"}),
    )
    .await;
    assert_eq!(second["datasetRunId"], first["datasetRunId"]);

    expect_error(
        app.post_json(
            "/api/public/dataset-run-items",
            &json!({"runName": "run 1", "datasetItemId": "old", "traceId": "t"}),
        )
        .await,
        404,
        "dataset item \"old\" not found",
    )
    .await;
    expect_error(
        app.post_json(
            "/api/public/dataset-run-items",
            &json!({"runName": "run 1", "datasetItemId": "q1"}),
        )
        .await,
        400,
        "traceId: is required",
    )
    .await;
    expect_error(
        app.post_json(
            "/api/public/dataset-run-items",
            &json!({"runName": "run 1", "datasetItemId": "absent", "traceId": "t"}),
        )
        .await,
        404,
        "dataset item \"absent\" not found",
    )
    .await;

    let runs = get(&app, "/api/public/datasets/eval%2Fqa/runs").await;
    assert_eq!(runs["meta"]["totalItems"], 1);
    assert_eq!(runs["data"][0]["name"], "run 1");
    assert_eq!(runs["data"][0]["description"], "baseline");
    assert_eq!(runs["data"][0]["metadata"], json!({"model": "a"}));
    assert_eq!(runs["data"][0]["datasetName"], "eval/qa");

    let run = get(&app, "/api/public/datasets/eval%2Fqa/runs/run%201").await;
    assert_eq!(run["id"], first["datasetRunId"]);
    assert_eq!(run["datasetRunItems"].as_array().map(Vec::len), Some(2));

    let dataset_id = dataset["id"].as_str().expect("an id");
    let items = get(
        &app,
        &format!("/api/public/dataset-run-items?datasetId={dataset_id}&runName=run%201&limit=1"),
    )
    .await;
    assert_eq!(
        items["meta"],
        json!({"page": 1, "limit": 1, "totalItems": 2, "totalPages": 2})
    );
    expect_error(
        app.get(&format!(
            "/api/public/dataset-run-items?datasetId={dataset_id}"
        ))
        .await,
        400,
        "runName: is required",
    )
    .await;
    expect_error(
        app.get(&format!(
            "/api/public/dataset-run-items?datasetId={dataset_id}&runName=absent"
        ))
        .await,
        404,
        "dataset run \"absent\" not found",
    )
    .await;
    assert_eq!(
        app.get_as("/api/public/datasets/eval%2Fqa/runs/run%201", PK2, SK2)
            .await
            .status
            .as_u16(),
        404
    );

    let deleted = app
        .delete_as("/api/public/datasets/eval%2Fqa/runs/run%201", PK1, SK1)
        .await;
    assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
    assert_eq!(
        deleted.json()["message"],
        "Dataset run successfully deleted"
    );
    expect_error(
        app.get("/api/public/datasets/eval%2Fqa/runs/run%201").await,
        404,
        "dataset run \"run 1\" not found",
    )
    .await;
    let none = get(&app, "/api/public/datasets/eval%2Fqa/runs").await;
    assert_eq!(none["meta"]["totalItems"], 0);
}
