//! The annotation queue and comment API through the whole HTTP stack: errors that name the
//! field, unknown queues and objects as 404s, and project isolation (another project's key
//! sees none of a project's queues, items or comments, and cannot comment on its objects).

mod support;

use serde_json::{json, Value};
use support::{expect_error, PK1, PK2, SK1, SK2};

/// A score config of project 1, for the queues to name.
async fn config_id(app: &support::TestApp) -> String {
    let config = support::post_ok(
        app,
        "/api/public/score-configs",
        json!({"name": "quality", "dataType": "NUMERIC"}),
    )
    .await;
    config["id"].as_str().expect("config id").to_owned()
}

/// The queue `triage` of project 1, of the score config `config`.
async fn triage_queue(app: &support::TestApp, config: &str) -> Value {
    support::post_ok(
        app,
        "/api/public/annotation-queues",
        json!({"name": "triage", "scoreConfigIds": [config]}),
    )
    .await
}

#[tokio::test]
async fn bodies_and_parameters_are_refused_naming_the_field() {
    let app = support::app().await;
    let config = config_id(&app).await;
    let queue = triage_queue(&app, &config).await;
    let items = format!(
        "/api/public/annotation-queues/{}/items",
        queue["id"].as_str().unwrap()
    );
    for (path, body, message) in [
        (
            items.as_str(),
            json!({"objectId": "t", "objectType": "PROMPT"}),
            "objectType: ",
        ),
        (
            items.as_str(),
            json!({"objectType": "TRACE"}),
            "objectId: is required",
        ),
        (
            items.as_str(),
            json!({"objectId": "t", "objectType": "TRACE", "status": "DONE"}),
            "status: ",
        ),
        (
            "/api/public/annotation-queues",
            json!({"name": "triage", "scoreConfigIds": [config]}),
            "name: ",
        ),
        (
            "/api/public/annotation-queues",
            json!({"name": "other", "scoreConfigIds": "c1"}),
            "scoreConfigIds: ",
        ),
        (
            "/api/public/annotation-queues",
            json!({"name": "other", "scoreConfigIds": [config, "absent-config"]}),
            "scoreConfigIds: no score config with id \"absent-config\"",
        ),
        (
            "/api/public/comments",
            json!({"projectId": "p1", "objectType": "TRACE", "objectId": "t", "content": ""}),
            "content: must not be empty",
        ),
        (
            "/api/public/comments",
            json!({"projectId": "p1", "objectType": "SCORE", "objectId": "t", "content": "x"}),
            "objectType: ",
        ),
    ] {
        expect_error(app.post_json(path, &body).await, 400, message).await;
    }
    expect_error(
        app.get(&format!("{items}?status=open")).await,
        400,
        "status: ",
    )
    .await;
    expect_error(
        app.get("/api/public/comments?objectType=trace").await,
        400,
        "objectType: ",
    )
    .await;
    expect_error(
        app.get("/api/public/comments?objectId=t").await,
        400,
        "objectType: is required",
    )
    .await;
    let listed = app.get(&items).await.json();
    assert_eq!(
        listed["meta"]["totalItems"], 0,
        "nothing refused was written"
    );
}

#[tokio::test]
async fn another_project_sees_nothing_and_cannot_comment_on_its_objects() {
    let app = support::app().await;
    let config = config_id(&app).await;
    support::ingest_as(
        &app.router,
        PK1,
        SK1,
        json!([{"id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",
                "body": {"id": "t1", "name": "chat", "sessionId": "s1"}}]),
    )
    .await;
    let queue = triage_queue(&app, &config).await;
    let queue_id = queue["id"].as_str().unwrap().to_owned();
    let item = support::post_ok(
        &app,
        &format!("/api/public/annotation-queues/{queue_id}/items"),
        json!({"objectId": "t1", "objectType": "TRACE"}),
    )
    .await;
    let comment = support::post_ok(
        &app,
        "/api/public/comments",
        json!({"projectId": "p1", "objectType": "SESSION", "objectId": "s1", "content": "ok"}),
    )
    .await;

    let item_path = format!(
        "/api/public/annotation-queues/{queue_id}/items/{}",
        item["id"].as_str().unwrap()
    );
    for path in [
        format!("/api/public/annotation-queues/{queue_id}"),
        format!("/api/public/annotation-queues/{queue_id}/items"),
        item_path.clone(),
        format!("/api/public/comments/{}", comment["id"].as_str().unwrap()),
    ] {
        let response = app.get_as(&path, PK2, SK2).await;
        assert_eq!(response.status.as_u16(), 404, "{path}: {}", response.text());
    }
    let removed = app.delete_as(&item_path, PK2, SK2).await;
    assert_eq!(removed.status.as_u16(), 404);
    assert_eq!(
        app.get_as("/api/public/annotation-queues", PK2, SK2)
            .await
            .json()["meta"]["totalItems"],
        0
    );
    assert_eq!(
        app.get_as("/api/public/comments", PK2, SK2).await.json()["meta"]["totalItems"],
        0
    );
    for (object_type, object_id) in [("TRACE", "t1"), ("SESSION", "s1")] {
        expect_error(
            app.post_json_as(
                "/api/public/comments",
                &json!({"projectId": "p2", "objectType": object_type, "objectId": object_id,
                        "content": "x"}),
                PK2,
                SK2,
            )
            .await,
            404,
            "objectId: ",
        )
        .await;
    }
    expect_error(
        app.post_json_as(
            &format!("/api/public/annotation-queues/{queue_id}/items"),
            &json!({"objectId": "t1", "objectType": "TRACE"}),
            PK2,
            SK2,
        )
        .await,
        404,
        "annotation queue ",
    )
    .await;
    // The item is still there for its own project.
    assert_eq!(app.get(&item_path).await.status.as_u16(), 200);
}
