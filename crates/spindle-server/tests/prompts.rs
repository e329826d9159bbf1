//! `/api/public/v2/prompts` through the whole HTTP stack: create, get by label and version
//! (ETag, 304, cache headers, folder names URL-encoded), list, label updates, deletes,
//! composition, the errors that name the field, and the link from generations to the prompt
//! version they used.

mod support;

use axum::body::Body;
use axum::http::{header, Request};
use serde_json::{json, Value};
use support::{basic, expect_error, PK1, PK2, SK1, SK2};

async fn send(
    app: &support::TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    extra: &[(header::HeaderName, &str)],
) -> support::Response {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, basic(PK1, SK1))
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in extra {
        builder = builder.header(name, *value);
    }
    let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
    app.send(builder.body(body).expect("request")).await
}

async fn get_if_none_match(app: &support::TestApp, path: &str, etag: &str) -> support::Response {
    send(app, "GET", path, None, &[(header::IF_NONE_MATCH, etag)]).await
}

async fn expect_get_error(app: &support::TestApp, path: &str, status: u16, message_start: &str) {
    expect_error(app.get(path).await, status, message_start).await;
}

async fn create(app: &support::TestApp, body: Value) -> Value {
    let response = send(app, "POST", "/api/public/v2/prompts", Some(&body), &[]).await;
    assert_eq!(response.status.as_u16(), 201, "{}", response.text());
    response.json()
}

#[tokio::test]
async fn create_get_and_serve_with_etags() {
    let app = support::app().await;
    let created = create(
        &app,
        json!({"name": "movie-critic", "prompt": "Rate {{movie}}", "labels": ["production"],
               "tags": ["film"], "config": {"model": "gpt-4o"}, "commitMessage": "first"}),
    )
    .await;
    assert_eq!(created["version"], 1);
    assert_eq!(created["type"], "text");
    assert_eq!(created["labels"], json!(["latest", "production"]));
    assert_eq!(created["tags"], json!(["film"]));
    assert_eq!(created["config"], json!({"model": "gpt-4o"}));
    assert_eq!(created["commitMessage"], "first");
    assert_eq!(created["isActive"], true);
    assert_eq!(created["resolutionGraph"], Value::Null);
    assert_eq!(created["projectId"], "p1");
    assert_eq!(created["createdBy"], "API");

    let fetched = app.get("/api/public/v2/prompts/movie-critic").await;
    assert_eq!(fetched.status.as_u16(), 200);
    assert_eq!(fetched.json()["prompt"], "Rate {{movie}}");
    assert_eq!(fetched.json()["id"], created["id"]);
    let etag = fetched.headers[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        fetched.headers[header::CACHE_CONTROL],
        "max-age=0, must-revalidate"
    );
    let vary: Vec<&str> = fetched
        .headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    assert!(vary.contains(&"Authorization"), "{vary:?}");
    assert_eq!(fetched.headers[header::CONTENT_TYPE], "application/json");

    // The same answer again (from the cache), then a 304 for a client that has it.
    let again = app.get("/api/public/v2/prompts/movie-critic").await;
    assert_eq!(again.body, fetched.body);
    let not_modified = get_if_none_match(&app, "/api/public/v2/prompts/movie-critic", &etag).await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.headers[header::ETAG], etag.as_str());

    // A new production version changes the answer and its ETag at once.
    create(
        &app,
        json!({"name": "movie-critic", "prompt": "Review {{movie}}", "labels": ["production"]}),
    )
    .await;
    let changed = get_if_none_match(&app, "/api/public/v2/prompts/movie-critic", &etag).await;
    assert_eq!(changed.status.as_u16(), 200);
    assert_eq!(changed.json()["prompt"], "Review {{movie}}");
    assert_eq!(changed.json()["version"], 2);
    assert_eq!(changed.json()["tags"], json!(["film"]));
    assert_ne!(changed.headers[header::ETAG], etag.as_str());

    let by_version = app
        .get("/api/public/v2/prompts/movie-critic?version=1")
        .await;
    assert_eq!(by_version.json()["prompt"], "Rate {{movie}}");
    assert_eq!(by_version.json()["labels"], json!([]));
    assert_eq!(by_version.json()["isActive"], false);
    let latest = app
        .get("/api/public/v2/prompts/movie-critic?label=latest")
        .await;
    assert_eq!(latest.json()["version"], 2);

    // Another project sees nothing.
    let other = app
        .get_as("/api/public/v2/prompts/movie-critic", PK2, SK2)
        .await;
    expect_error(
        other,
        404,
        "Prompt not found: 'movie-critic' with label 'production'",
    )
    .await;
    let body = app.get("/api/public/v2/prompts/absent?version=3").await;
    assert_eq!(body.json()["error"], "LangfuseNotFoundError");
    expect_error(body, 404, "Prompt not found: 'absent' with version 3").await;
}

#[tokio::test]
async fn chat_prompts_folders_and_label_updates() {
    let app = support::app().await;
    let created = create(
        &app,
        json!({"name": "team/support/assistant", "type": "chat",
               "prompt": [{"role": "system", "content": "You help with {{product}}"},
                          {"type": "placeholder", "name": "history"}]}),
    )
    .await;
    assert_eq!(created["type"], "chat");
    assert_eq!(created["labels"], json!(["latest"]));
    let path = "/api/public/v2/prompts/team%2Fsupport%2Fassistant";
    let fetched = app.get(&format!("{path}?label=latest")).await;
    assert_eq!(fetched.status.as_u16(), 200, "{}", fetched.text());
    assert_eq!(
        fetched.json()["prompt"],
        json!([{"role": "system", "content": "You help with {{product}}"},
               {"type": "placeholder", "name": "history"}])
    );
    expect_get_error(&app, path, 404, "Prompt not found").await;

    let updated = send(
        &app,
        "PATCH",
        &format!("{path}/versions/1"),
        Some(&json!({"newLabels": ["production", "staging"]})),
        &[],
    )
    .await;
    assert_eq!(updated.status.as_u16(), 200, "{}", updated.text());
    assert_eq!(
        updated.json()["labels"],
        json!(["latest", "production", "staging"])
    );
    // The update reaches the served answer at once.
    assert_eq!(app.get(path).await.status.as_u16(), 200);

    for (version, new_labels, status, message_start) in [
        (
            "5",
            json!(["x"]),
            404,
            "Prompt 'team/support/assistant' version 5 not found",
        ),
        ("1", json!(["latest"]), 400, "newLabels: "),
        ("x", json!([]), 400, "version: must be a positive integer"),
        (
            "1",
            json!(["Not Valid"]),
            400,
            "newLabels[0]: must be lowercase",
        ),
    ] {
        let version_path = format!("{path}/versions/{version}");
        let body = json!({ "newLabels": new_labels });
        let response = send(&app, "PATCH", &version_path, Some(&body), &[]).await;
        expect_error(response, status, message_start).await;
    }
}

#[tokio::test]
async fn list_and_delete() {
    let app = support::app().await;
    for (name, labels, tags) in [
        ("a", json!(["production"]), json!(["x"])),
        ("a", json!([]), Value::Null),
        ("b", json!([]), json!(["y"])),
        ("c", json!(["production"]), json!([])),
    ] {
        create(
            &app,
            json!({"name": name, "prompt": "p", "labels": labels, "tags": tags}),
        )
        .await;
    }
    let listed = app.get("/api/public/v2/prompts").await.json();
    assert_eq!(
        listed["meta"],
        json!({"page": 1, "limit": 10, "totalItems": 3, "totalPages": 1})
    );
    assert_eq!(listed["pagination"], listed["meta"]);
    assert_eq!(listed["data"][0]["name"], "a");
    assert_eq!(listed["data"][0]["versions"], json!([1, 2]));
    assert_eq!(listed["data"][0]["labels"], json!(["latest", "production"]));
    assert_eq!(listed["data"][0]["tags"], json!(["x"]));
    assert_eq!(listed["data"][0]["type"], "text");
    assert!(listed["data"][0]["lastUpdatedAt"].as_str().is_some());
    assert_eq!(listed["data"][0]["lastConfig"], json!({}));
    let production = app
        .get("/api/public/v2/prompts?label=production&limit=1&page=2")
        .await
        .json();
    assert_eq!(production["meta"]["totalItems"], 2);
    assert_eq!(production["data"][0]["name"], "c");
    let tagged = app.get("/api/public/v2/prompts?tag=y").await.json();
    assert_eq!(tagged["data"].as_array().map(Vec::len), Some(1));
    for (bad_list, message_start) in [
        ("/api/public/v2/prompts?limit=101", "limit: "),
        ("/api/public/v2/prompts?fromUpdatedAt=x", "fromUpdatedAt: "),
    ] {
        expect_get_error(&app, bad_list, 400, message_start).await;
    }

    let deleted = send(
        &app,
        "DELETE",
        "/api/public/v2/prompts/a?version=2",
        None,
        &[],
    )
    .await;
    assert_eq!(deleted.status.as_u16(), 204, "{}", deleted.text());
    assert_eq!(
        app.get("/api/public/v2/prompts/a?label=latest")
            .await
            .json()["version"],
        1
    );
    let both = "/api/public/v2/prompts/a?version=1&label=production";
    let response = send(&app, "DELETE", both, None, &[]).await;
    expect_error(response, 400, "version: give either").await;
    let deleted = send(&app, "DELETE", "/api/public/v2/prompts/a", None, &[]).await;
    assert_eq!(deleted.status.as_u16(), 204);
    expect_get_error(
        &app,
        "/api/public/v2/prompts/a?label=latest",
        404,
        "Prompt not found",
    )
    .await;
    expect_error(
        send(&app, "DELETE", "/api/public/v2/prompts/a", None, &[]).await,
        404,
        "Prompt not found: 'a'",
    )
    .await;
}

#[tokio::test]
async fn composition_resolves_on_read_and_bad_input_names_the_field() {
    let app = support::app().await;
    create(
        &app,
        json!({"name": "tone", "prompt": "Be kind.", "labels": ["production"]}),
    )
    .await;
    create(
        &app,
        json!({"name": "reply", "prompt": "@@@langfusePrompt:name=tone|label=production@@@ Answer {{q}}",
               "labels": ["production"]}),
    )
    .await;
    let resolved = app.get("/api/public/v2/prompts/reply").await.json();
    assert_eq!(resolved["prompt"], "Be kind. Answer {{q}}");
    assert_eq!(resolved["resolutionGraph"]["root"]["name"], "reply");
    let raw = app
        .get("/api/public/v2/prompts/reply?resolve=false")
        .await
        .json();
    assert_eq!(
        raw["prompt"],
        "@@@langfusePrompt:name=tone|label=production@@@ Answer {{q}}"
    );
    assert_eq!(raw["resolutionGraph"], Value::Null);
    // A new production version of the embedded prompt shows in the composed one at once.
    create(
        &app,
        json!({"name": "tone", "prompt": "Be brief.", "labels": ["production"]}),
    )
    .await;
    assert_eq!(
        app.get("/api/public/v2/prompts/reply").await.json()["prompt"],
        "Be brief. Answer {{q}}"
    );
    expect_error(
        send(&app, "DELETE", "/api/public/v2/prompts/tone", None, &[]).await,
        400,
        "prompt: other prompts reference",
    )
    .await;

    for (body, message) in [
        (
            json!({"name": "x", "prompt": "@@@langfusePrompt:name=none|label=production@@@"}),
            "prompt: referenced prompt \"none\"",
        ),
        (
            json!({"name": "", "prompt": "p"}),
            "name: must not be empty",
        ),
        (
            json!({"name": "a|b", "prompt": "p"}),
            "name: cannot contain",
        ),
        (
            json!({"name": "c", "type": "chat", "prompt": [{"content": "x"}]}),
            "prompt[0].role: is required",
        ),
        (
            json!({"name": "c", "type": "chat", "prompt": [{"role": "user"}]}),
            "prompt[0].content: is required",
        ),
        (
            json!({"name": "c", "prompt": "p", "labels": ["UPPER"]}),
            "labels[0]: must be lowercase",
        ),
        (
            json!({"name": "tone", "type": "chat", "prompt": [{"role": "user", "content": "x"}]}),
            "type: prompt \"tone\" is a text prompt",
        ),
    ] {
        let response = send(&app, "POST", "/api/public/v2/prompts", Some(&body), &[]).await;
        assert_eq!(response.json()["error"], "InvalidRequestError");
        expect_error(response, 400, message).await;
    }
    let not_json = app
        .send(
            Request::post("/api/public/v2/prompts")
                .header(header::AUTHORIZATION, basic(PK1, SK1))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .expect("request"),
        )
        .await;
    expect_error(not_json, 400, "body: invalid JSON").await;
    expect_get_error(
        &app,
        "/api/public/v2/prompts/reply?version=0",
        400,
        "version: ",
    )
    .await;
    let both = app
        .get("/api/public/v2/prompts/tone?version=1&label=production")
        .await;
    assert_eq!(
        both.json()["version"],
        1,
        "the version wins, as in Langfuse"
    );
    expect_get_error(
        &app,
        "/api/public/v2/prompts/reply?label=NOPE",
        400,
        "label: ",
    )
    .await;
    // Nothing of the rejected requests was written.
    let listed = app.get("/api/public/v2/prompts").await.json();
    assert_eq!(support::texts_of(&listed, "name"), vec!["reply", "tone"]);
}

#[tokio::test]
async fn generations_link_to_the_prompt_version_they_used() {
    let app = support::app().await;
    let created = create(
        &app,
        json!({"name": "linked", "prompt": "p", "labels": ["production"]}),
    )
    .await;
    let events = json!({"batch": [
        {"id": "e1", "type": "trace-create", "timestamp": "2026-11-21T10:00:00Z",
         "body": {"id": "t1", "name": "t"}},
        {"id": "e2", "type": "generation-create", "timestamp": "2026-11-21T10:00:00Z",
         "body": {"id": "g1", "traceId": "t1", "name": "uses-prompt", "model": "gpt-4o",
                  "startTime": "2026-11-21T10:00:00Z", "promptName": "linked", "promptVersion": 1}},
        {"id": "e3", "type": "generation-create", "timestamp": "2026-11-21T10:00:00Z",
         "body": {"id": "g2", "traceId": "t1", "name": "unknown-prompt",
                  "startTime": "2026-11-21T10:00:01Z", "promptName": "linked", "promptVersion": 9}},
        {"id": "e4", "type": "generation-create", "timestamp": "2026-11-21T10:00:00Z",
         "body": {"id": "g3", "traceId": "t1", "name": "no-prompt", "startTime": "2026-11-21T10:00:02Z"}}
    ]});
    let response = app.post_json("/api/public/ingestion", &events).await;
    assert_eq!(response.status.as_u16(), 207, "{}", response.text());

    let observation = app.get("/api/public/observations/g1").await.json();
    assert_eq!(observation["promptId"], created["id"]);
    assert_eq!(observation["promptName"], "linked");
    assert_eq!(observation["promptVersion"], 1);
    let unknown = app.get("/api/public/observations/g2").await.json();
    assert_eq!(unknown["promptId"], Value::Null);
    assert_eq!(unknown["promptVersion"], 9);

    let trace = app.get("/api/public/traces/t1").await.json();
    let linked: Vec<&Value> = trace["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .filter(|observation| observation["promptId"] == created["id"])
        .collect();
    assert_eq!(linked.len(), 1);

    let by_prompt = app
        .get("/api/public/observations?promptName=linked&promptVersion=1")
        .await
        .json();
    assert_eq!(support::texts_of(&by_prompt, "id"), vec!["g1"]);
    assert_eq!(by_prompt["data"][0]["promptId"], created["id"]);
    let by_name = app
        .get("/api/public/observations?promptName=linked")
        .await
        .json();
    assert_eq!(by_name["meta"]["totalItems"], 2);
    expect_get_error(
        &app,
        "/api/public/observations?promptVersion=x",
        400,
        "promptVersion: ",
    )
    .await;

    let v2 = app
        .get("/api/public/v2/observations?fields=core,prompt&promptName=linked&promptVersion=1")
        .await
        .json();
    assert_eq!(v2["data"][0]["promptId"], created["id"]);
}
