//! The dataset API through the whole HTTP stack: datasets by name (URL-encoded names with
//! slashes), items upserted by id and listed by dataset or source, runs created by their first
//! run item, deletes, Langfuse's page shape, errors that name the field, and project isolation.

mod support;

use serde_json::{json, Value};
use support::{
    expect_error, get_error, get_ok as get, post_error, post_ok as post, TestApp, PK1, PK2, SK1,
    SK2,
};

/// Deletes `path` with the first project's key, answered by `message`; then reading it is a
/// 404 whose message starts with `not_found`.
async fn assert_deleted(app: &TestApp, path: &str, message: &str, not_found: &str) {
    let deleted = app.delete_as(path, PK1, SK1).await;
    assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text());
    assert_eq!(deleted.json()["message"], message);
    get_error(app, path, 404, not_found).await;
}

/// Project 2's keys can neither read nor delete `path`, a resource of project 1: both 404.
async fn assert_hidden_from_project_2(app: &TestApp, path: &str) {
    let read = app.get_as(path, PK2, SK2).await;
    assert_eq!(read.status.as_u16(), 404, "GET {path}: {}", read.text());
    let deleted = app.delete_as(path, PK2, SK2).await;
    assert_eq!(
        deleted.status.as_u16(),
        404,
        "DELETE {path}: {}",
        deleted.text()
    );
}

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
    get_error(
        &app,
        "/api/public/v2/datasets/qa",
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

    post_error(
        &app,
        "/api/public/v2/datasets",
        json!({"description": "x"}),
        400,
        "name: is required",
    )
    .await;
    get_error(&app, "/api/public/v2/datasets?limit=0", 400, "limit:").await;

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
    post_error(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "absent", "input": 1}),
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

    post_error(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "capitals", "status": "DONE"}),
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
    get_error(
        &app,
        "/api/public/dataset-items?datasetName=absent",
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
    get_error(
        &app,
        "/api/public/dataset-items?datasetName=capitals&version=yesterday",
        400,
        "version:",
    )
    .await;

    let read = get(&app, "/api/public/dataset-items/france").await;
    assert_eq!(read, archived);
    assert_hidden_from_project_2(&app, "/api/public/dataset-items/france").await;
    assert_deleted(
        &app,
        "/api/public/dataset-items/france",
        "Dataset item successfully deleted",
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

    for (body, status, message) in [
        (
            json!({"runName": "run 1", "datasetItemId": "old", "traceId": "t"}),
            404,
            "dataset item \"old\" not found",
        ),
        (
            json!({"runName": "run 1", "datasetItemId": "q1"}),
            400,
            "traceId: is required",
        ),
        (
            json!({"runName": "run 1", "datasetItemId": "absent", "traceId": "t"}),
            404,
            "dataset item \"absent\" not found",
        ),
    ] {
        post_error(&app, "/api/public/dataset-run-items", body, status, message).await;
    }

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
    get_error(
        &app,
        &format!("/api/public/dataset-run-items?datasetId={dataset_id}"),
        400,
        "runName: is required",
    )
    .await;
    get_error(
        &app,
        &format!("/api/public/dataset-run-items?datasetId={dataset_id}&runName=absent"),
        404,
        "dataset run \"absent\" not found",
    )
    .await;
    assert_hidden_from_project_2(&app, "/api/public/datasets/eval%2Fqa/runs/run%201").await;

    assert_deleted(
        &app,
        "/api/public/datasets/eval%2Fqa/runs/run%201",
        "Dataset run successfully deleted",
        "dataset run \"run 1\" not found",
    )
    .await;
    let none = get(&app, "/api/public/datasets/eval%2Fqa/runs").await;
    assert_eq!(none["meta"]["totalItems"], 0);
}

/// Registers `bytes` as media of `p1` with `context` (a trace or a dataset item) and uploads
/// them; the media id.
async fn upload_media(app: &support::TestApp, bytes: &[u8], context: Value) -> String {
    use axum::body::Body;
    use axum::http::Request;
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes));
    let mut body = json!({"contentType": "image/png", "contentLength": bytes.len(),
                          "sha256Hash": hash});
    for (key, value) in context.as_object().expect("an object") {
        body[key] = value.clone();
    }
    let created = post(app, "/api/public/media", body).await;
    let media_id = created["mediaId"].as_str().expect("an id").to_owned();
    if let Some(url) = created["uploadUrl"].as_str() {
        let path = url.trim_start_matches("http://test").to_owned();
        let put = app
            .send(Request::put(path).body(Body::from(bytes.to_vec())).unwrap())
            .await;
        assert_eq!(put.status.as_u16(), 200, "{}", put.text());
    }
    media_id
}

#[tokio::test]
async fn item_media_is_linked_on_upload_and_resolved_on_read() {
    let app = support::app().await;
    let dataset = post(&app, "/api/public/v2/datasets", json!({"name": "pictures"})).await;
    let dataset_id = dataset["id"].as_str().expect("an id");
    let item_context =
        |field: &str| json!({"datasetId": dataset_id, "datasetItemId": "photo-1", "field": field});
    // The SDKs upload before they create the item.
    let image = upload_media(&app, b"\x89PNG one", item_context("input")).await;
    let expected = upload_media(&app, b"\x89PNG two", item_context("expectedOutput")).await;
    // Registered, never uploaded: its reference stays a plain string.
    let registered = post(
        &app,
        "/api/public/media",
        json!({"contentType": "image/png", "contentLength": 3,
               "sha256Hash": "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
               "datasetId": dataset_id, "datasetItemId": "photo-1", "field": "metadata"}),
    )
    .await;
    let reference = |id: &str| format!("@@@langfuseMedia:type=image/png|id={id}|source=bytes@@@");
    let created = post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "pictures", "id": "photo-1",
               "input": {"question": "what is it?", "image": reference(&image),
                         "caption": format!("see {}", reference(&image))},
               "expectedOutput": [reference(&expected)],
               "metadata": reference(registered["mediaId"].as_str().expect("an id"))}),
    )
    .await;
    let references = created["mediaReferences"].as_array().expect("references");
    assert_eq!(references.len(), 2, "{references:?}");
    assert_eq!(references[0]["field"], "input");
    assert_eq!(references[0]["jsonPath"], "$['image']");
    assert_eq!(references[0]["referenceString"], reference(&image));
    assert_eq!(references[0]["media"]["mediaId"], image.as_str());
    assert_eq!(references[0]["media"]["contentType"], "image/png");
    assert_eq!(references[0]["media"]["contentLength"], 8);
    assert_eq!(references[1]["field"], "expectedOutput");
    assert_eq!(references[1]["jsonPath"], "$[0]");
    // The download URL works without credentials.
    let url = references[0]["media"]["url"]
        .as_str()
        .expect("a url")
        .trim_start_matches("http://test")
        .to_owned();
    let content = app
        .send(
            axum::http::Request::get(&url)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(content.status.as_u16(), 200);
    assert_eq!(content.body, b"\x89PNG one");

    let read = get(&app, "/api/public/dataset-items/photo-1").await;
    assert_eq!(read["mediaReferences"].as_array().map(Vec::len), Some(2));
    let listed = get(&app, "/api/public/dataset-items?datasetName=pictures").await;
    assert_eq!(
        listed["data"][0]["mediaReferences"][0]["jsonPath"],
        "$['image']"
    );
    // Another project resolves nothing of it, even through the same reference.
    let foreign = app
        .post_json_as(
            "/api/public/v2/datasets",
            &json!({"name": "pictures"}),
            PK2,
            SK2,
        )
        .await;
    assert_eq!(foreign.status.as_u16(), 200);
    let foreign_item = app
        .post_json_as(
            "/api/public/dataset-items",
            &json!({"datasetName": "pictures", "input": reference(&image)}),
            PK2,
            SK2,
        )
        .await
        .json();
    assert_eq!(foreign_item["mediaReferences"], json!([]));

    // The context is checked: both ids, not with a trace, a field of an item, a dataset of
    // the project.
    let register = |context: Value| {
        let mut body = json!({"contentType": "image/png", "contentLength": 3,
                              "sha256Hash": "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="});
        for (key, value) in context.as_object().expect("an object") {
            body[key] = value.clone();
        }
        let app = &app;
        async move { app.post_json("/api/public/media", &body).await }
    };
    for (context, status, message) in [
        (
            json!({"datasetItemId": "photo-1", "field": "input"}),
            400,
            "datasetId: is required",
        ),
        (
            json!({"datasetId": dataset_id, "field": "input"}),
            400,
            "datasetItemId: is required",
        ),
        (
            json!({"datasetId": dataset_id, "datasetItemId": "photo-1", "traceId": "t1",
                   "field": "input"}),
            400,
            "traceId: must be absent",
        ),
        (
            json!({"datasetId": dataset_id, "datasetItemId": "photo-1", "field": "output"}),
            400,
            "field: must be one of input, expectedOutput, metadata",
        ),
        (
            json!({"datasetId": "no-such-dataset", "datasetItemId": "photo-1",
                   "field": "input"}),
            404,
            "dataset \"no-such-dataset\" not found",
        ),
    ] {
        expect_error(register(context).await, status, message).await;
    }
    let foreign_link = app
        .post_json_as(
            "/api/public/media",
            &json!({"contentType": "image/png", "contentLength": 3,
                    "sha256Hash": "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
                    "datasetId": dataset_id, "datasetItemId": "x", "field": "input"}),
            PK2,
            SK2,
        )
        .await;
    assert_eq!(foreign_link.status.as_u16(), 404);
    assert_eq!(
        app.state
            .datasets
            .item_media_links("p1", "photo-1")
            .await
            .expect("links")
            .len(),
        3
    );
}
