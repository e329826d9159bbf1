//! Datasets as experiments through the whole HTTP stack: items validated against the dataset's
//! JSON Schemas, run items with the dataset version they ran on, `GET /api/public/experiments`
//! and `/api/public/experiment-items`, and the UI API's datasets (list with counts, creation,
//! item writes, runs with aggregates), run aggregates and run comparison.

mod support;

use serde_json::{json, Value};
use spindle_store::accounts::Role;
use support::{expect_error, get_error, get_ok as get, post_error, post_ok as post};

#[tokio::test]
async fn items_must_match_the_dataset_schemas() {
    let app = support::app().await;
    post_error(
        &app,
        "/api/public/v2/datasets",
        json!({"name": "bad", "inputSchema": {"type": 12}}),
        400,
        "inputSchema: not a valid JSON Schema",
    )
    .await;
    let schema = json!({
        "type": "object",
        "properties": {"country": {"type": "string", "pattern": "^[A-Z]"}},
        "required": ["country"],
    });
    let dataset = post(
        &app,
        "/api/public/v2/datasets",
        json!({"name": "capitals", "inputSchema": schema,
               "expectedOutputSchema": {"type": "string"}}),
    )
    .await;
    assert_eq!(dataset["inputSchema"], schema);
    assert_eq!(dataset["expectedOutputSchema"], json!({"type": "string"}));

    post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "capitals", "id": "it", "input": {"country": "Italy"},
               "expectedOutput": "Rome"}),
    )
    .await;
    for (body, message) in [
        (
            json!({"datasetName": "capitals", "input": {"country": 3}, "expectedOutput": "x"}),
            "input: does not match the dataset's inputSchema: /country: value is not of type \"string\"",
        ),
        (
            json!({"datasetName": "capitals", "input": {"country": "spain"}, "expectedOutput": "x"}),
            "input: does not match the dataset's inputSchema: /country:",
        ),
        (
            json!({"datasetName": "capitals", "input": {"country": "Spain"}, "expectedOutput": 1}),
            "expectedOutput: does not match the dataset's expectedOutputSchema: /:",
        ),
        (
            json!({"datasetName": "capitals", "expectedOutput": "Madrid"}),
            "input: does not match the dataset's inputSchema: /: value is not of type \"object\"",
        ),
        // An update validates what the item would become: here the stored input with a new,
        // invalid expected output.
        (
            json!({"datasetName": "capitals", "id": "it", "expectedOutput": ["Rome"]}),
            "expectedOutput: does not match",
        ),
    ] {
        post_error(&app, "/api/public/dataset-items", body, 400, message).await;
    }
    // An update that leaves the input out keeps the stored, valid one.
    let updated = post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "capitals", "id": "it", "expectedOutput": "Roma"}),
    )
    .await;
    assert_eq!(updated["input"], json!({"country": "Italy"}));
    assert_eq!(updated["expectedOutput"], "Roma");
}

/// A signed-in owner of project `p1`: the session cookie and the CSRF token.
async fn owner_session(app: &support::TestApp) -> (String, String) {
    support::add_user(
        app.state.accounts.as_ref(),
        "owner",
        "owner@example.com",
        "correct horse battery",
        false,
        1,
    )
    .await;
    support::add_membership(app.state.accounts.as_ref(), "owner", "p1", Role::Owner).await;
    support::ui_session(
        &app.router,
        support::sign_in_request("owner@example.com", "correct horse battery"),
    )
    .await
}

#[tokio::test]
async fn runs_read_as_experiments_and_their_aggregates() {
    let app = support::app().await;
    let dataset = post(&app, "/api/public/v2/datasets", json!({"name": "qa"})).await;
    let first = post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "qa", "id": "q1", "input": {"q": "capital of Italy?"},
               "expectedOutput": "Rome", "metadata": {"level": "easy"}}),
    )
    .await;
    post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "qa", "id": "q1", "input": {"q": "capital of Italy, please?"}}),
    )
    .await;
    post(
        &app,
        "/api/public/dataset-items",
        json!({"datasetName": "qa", "id": "q2", "input": {"q": "capital of Spain?"}}),
    )
    .await;
    let batch = json!({"batch": [
        {"id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",
         "body": {"id": "t1", "name": "task", "input": {"q": "capital of Italy?"},
                  "output": "Rome", "metadata": {"model": "small"}}},
        {"id": "e2", "type": "generation-create", "timestamp": "2026-01-01T00:00:00Z",
         "body": {"id": "g1", "traceId": "t1", "name": "llm",
                  "startTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:00:02Z",
                  "usageDetails": {"input": 10, "output": 5},
                  "costDetails": {"total": 0.25}}},
        {"id": "e3", "type": "score-create", "timestamp": "2026-01-01T00:00:03Z",
         "body": {"id": "s1", "traceId": "t1", "name": "exact", "value": 1,
                  "dataType": "BOOLEAN"}},
        {"id": "e4", "type": "score-create", "timestamp": "2026-01-01T00:00:03Z",
         "body": {"id": "s2", "traceId": "t2", "name": "exact", "value": 0,
                  "dataType": "BOOLEAN"}},
    ]});
    let ingested = app.post_json("/api/public/ingestion", &batch).await;
    assert_eq!(ingested.json()["errors"], json!([]));

    // The first run ran q1 as it first was; the second ran q1 and q2 as they are now.
    let version = first["updatedAt"].as_str().expect("a time").to_owned();
    let pinned = post(
        &app,
        "/api/public/dataset-run-items",
        json!({"runName": "baseline", "datasetItemId": "q1", "traceId": "t1",
               "datasetVersion": version, "metadata": {"model": "small"},
               "createdAt": "2026-01-01T00:00:05Z"}),
    )
    .await;
    assert_eq!(pinned["datasetVersion"], version);
    for (item, trace) in [("q1", "t2"), ("q2", "t3")] {
        let latest = post(
            &app,
            "/api/public/dataset-run-items",
            json!({"runName": "candidate", "datasetItemId": item, "traceId": trace,
                   "createdAt": "2026-01-01T00:00:10Z"}),
        )
        .await;
        assert_ne!(latest["datasetVersion"], Value::Null);
    }
    post_error(
        &app,
        "/api/public/dataset-run-items",
        json!({"runName": "early", "datasetItemId": "q2", "traceId": "t",
               "datasetVersion": version}),
        404,
        "dataset item \"q2\" at dataset version",
    )
    .await;

    get_error(
        &app,
        "/api/public/experiments",
        400,
        "fromStartTime: is required",
    )
    .await;
    let experiments = get(
        &app,
        "/api/public/experiments?fromStartTime=2026-01-01T00:00:00Z&fields=metadata",
    )
    .await;
    let names = support::texts_in(&experiments, "data", "name");
    assert_eq!(
        names,
        vec!["candidate", "baseline"],
        "latest activity first"
    );
    let baseline = &experiments["data"][1];
    assert_eq!(baseline["itemCount"], 1);
    assert_eq!(baseline["datasetId"], dataset["id"]);
    assert_eq!(baseline["startTime"], "2026-01-01T00:00:05.000Z");
    assert_eq!(baseline["metadata"], json!({"model": "small"}));
    assert_eq!(experiments["meta"], json!({}), "one page");
    let paged = get(
        &app,
        "/api/public/experiments?fromStartTime=2026-01-01T00:00:00Z&limit=1",
    )
    .await;
    let cursor = paged["meta"]["cursor"].as_str().expect("a next page");
    let second = get(
        &app,
        &format!(
            "/api/public/experiments?fromStartTime=2026-01-01T00:00:00Z&limit=1&cursor={cursor}"
        ),
    )
    .await;
    assert_eq!(second["data"][0]["name"], "baseline");
    assert_eq!(second["data"][0].get("metadata"), None, "core only");

    let items = get(
        &app,
        "/api/public/experiment-items?fromStartTime=2026-01-01T00:00:00Z\
         &experimentName=baseline&fields=core,dataset,io,itemMetadata,scores",
    )
    .await;
    let item = &items["data"][0];
    assert_eq!(item["traceId"], "t1");
    assert_eq!(item["experimentName"], "baseline");
    assert_eq!(item["experimentItemId"], "q1");
    assert_eq!(item["experimentDatasetId"], dataset["id"]);
    assert_eq!(item["experimentItemVersion"], version);
    assert_eq!(item["input"], json!({"q": "capital of Italy?"}));
    assert_eq!(item["output"], "Rome");
    assert_eq!(item["expectedOutput"], "Rome");
    assert_eq!(item["experimentItemMetadata"], json!({"level": "easy"}));
    assert_eq!(item["scores"][0]["name"], "exact");
    let core = get(
        &app,
        "/api/public/experiment-items?fromStartTime=2026-01-01T00:00:00Z&experimentItemId=q2",
    )
    .await;
    assert_eq!(core["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(core["data"][0].get("input"), None, "io only when asked for");
    get_error(
        &app,
        "/api/public/experiment-items?fromStartTime=2026-01-01T00:00:00Z&fields=all",
        400,
        "fields: unknown field group \"all\"",
    )
    .await;

    // The UI API: one run's aggregates with its items, and the comparison of runs.
    let (cookie, _) = owner_session(&app).await;
    let ui_get = |path: &str| {
        let path = format!("/api/ui/projects/p1/datasets/qa{path}");
        support::send(&app.router, support::cookie_get(&path, &cookie))
    };
    let run = ui_get("/runs/baseline").await;
    assert_eq!(run.status.as_u16(), 200, "{}", run.text());
    let run = run.json();
    assert_eq!(run["itemCount"], 1);
    assert_eq!(run["latency"]["mean"], 2.0);
    assert_eq!(run["totalCost"], 0.25);
    assert_eq!(run["usage"]["total"], 15);
    assert_eq!(run["scores"][0]["name"], "exact");
    assert_eq!(run["scores"][0]["trueRate"], 1.0);
    assert_eq!(run["items"]["data"][0]["runs"][0]["output"], "Rome");

    // Runs are named one parameter each, so a name may hold a comma.
    post(
        &app,
        "/api/public/dataset-run-items",
        json!({"runName": "baseline,candidate", "datasetItemId": "q2", "traceId": "t3"}),
    )
    .await;
    let compared = ui_get("/compare?runs=baseline&runs=candidate").await;
    assert_eq!(compared.status.as_u16(), 200, "{}", compared.text());
    let compared = compared.json();
    assert_eq!(compared["meta"]["totalItems"], 2);
    let compared_item = |id: &str| support::item_where(&compared, "data", "datasetItemId", id);
    let q1 = compared_item("q1");
    assert_eq!(q1["expectedOutput"], "Rome");
    assert_eq!(q1["runs"][0]["traceId"], "t1");
    assert_eq!(q1["runs"][1]["traceId"], "t2");
    assert_eq!(q1["runs"][1]["scores"][0]["trueRate"], 0.0);
    let q2 = compared_item("q2");
    assert_eq!(q2["runs"][0], Value::Null, "baseline did not run q2");
    let with_comma = ui_get("/compare?runs=baseline%2Ccandidate&runs=baseline").await;
    assert_eq!(with_comma.status.as_u16(), 200, "{}", with_comma.text());
    let with_comma = with_comma.json();
    assert_eq!(with_comma["runs"][0]["name"], "baseline,candidate");
    assert_eq!(with_comma["runs"][1]["name"], "baseline");
    assert_eq!(with_comma["meta"]["totalItems"], 2);

    let one_run = ui_get("/compare?runs=baseline").await;
    assert_eq!(one_run.status.as_u16(), 400);
    assert!(one_run.text().contains("runs: name 2 to 5 runs"));
}

#[tokio::test]
async fn the_ui_lists_creates_and_edits_datasets_and_aggregates_their_runs() {
    let app = support::app().await;
    let (cookie, csrf) = owner_session(&app).await;
    let write = |path: &str, body: Value| {
        let path = format!("/api/ui/projects/p1{path}");
        support::send(
            &app.router,
            support::ui_write("POST", &path, &cookie, Some(&csrf), &body),
        )
    };
    let read = |path: &str| {
        let path = format!("/api/ui/projects/p1{path}");
        support::send(&app.router, support::cookie_get(&path, &cookie))
    };

    let created = write(
        "/datasets",
        json!({"name": "ui-set", "description": "from the UI"}),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text());
    assert_eq!(created.json()["description"], "from the UI");

    // An item from a trace; the dataset is the path's, whatever the body names.
    let added = write(
        "/datasets/ui-set/items",
        json!({"datasetName": "elsewhere", "input": {"q": "one?"}, "expectedOutput": "1",
               "sourceTraceId": "t1"}),
    )
    .await;
    assert_eq!(added.status.as_u16(), 200, "{}", added.text());
    let added = added.json();
    assert_eq!(added["datasetName"], "ui-set");
    assert_eq!(added["sourceTraceId"], "t1");
    let item_id = added["id"].as_str().expect("an id").to_owned();

    let edited = write(
        "/datasets/ui-set/items",
        json!({"id": item_id, "expectedOutput": "one"}),
    )
    .await
    .json();
    assert_eq!(edited["expectedOutput"], "one");
    assert_eq!(
        edited["input"]["q"], "one?",
        "an edit keeps what it does not give"
    );
    // Archived items take no new runs: run it first.
    post(
        &app,
        "/api/public/dataset-run-items",
        json!({"runName": "r1", "datasetItemId": item_id, "traceId": "t1"}),
    )
    .await;
    let archived = write(
        "/datasets/ui-set/items",
        json!({"id": item_id, "status": "ARCHIVED"}),
    )
    .await
    .json();
    assert_eq!(archived["status"], "ARCHIVED");

    expect_error(
        write("/datasets/ui-set/items", json!([1])).await,
        400,
        "body: must be a JSON object",
    )
    .await;
    let missing = write("/datasets/nowhere/items", json!({"input": 1})).await;
    assert_eq!(missing.status.as_u16(), 404, "{}", missing.text());

    let items = read("/datasets/ui-set/items").await.json();
    assert_eq!(items["meta"]["totalItems"], 1);
    assert_eq!(items["data"][0]["status"], "ARCHIVED");

    let listed = read("/datasets").await.json();
    assert_eq!(listed["meta"]["totalItems"], 1);
    assert_eq!(listed["data"][0]["name"], "ui-set");
    assert_eq!(listed["data"][0]["itemCount"], 1);
    assert_eq!(listed["data"][0]["runCount"], 1);

    let runs = read("/datasets/ui-set/runs").await.json();
    assert_eq!(runs["data"][0]["name"], "r1");
    assert_eq!(runs["data"][0]["itemCount"], 1);
    let unknown = read("/datasets/nowhere/runs").await;
    assert_eq!(unknown.status.as_u16(), 404);
}
