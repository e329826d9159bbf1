//! The Rust SDK's datasets and experiments against the real `spindle` binary, on SQLite and on
//! PostgreSQL: the experiment example creates a dataset and runs over it, and the stored run
//! (its run items, the traces they link with the items' input and the task's output, the item
//! scores and the run score) is read back through the public API; the dataset calls page,
//! leave archived items out of experiments and fail with typed errors. Fails (never skips) when
//! PostgreSQL is not reachable.

mod postgres_support;
mod process_support;

#[allow(dead_code)]
#[path = "../../spindle/examples/experiment.rs"]
mod experiment;

use futures::TryStreamExt;
use postgres_support::FreshDatabase;
use process_support::{free_port, postgres_client, serve, serve_on_postgres, Server};
use serde_json::{json, Value};
use spindle::{
    CreateDataset, CreateDatasetItem, DatasetError, DatasetItemStatus, ExperimentItem, Score,
};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

/// A running server with the `pg` project's keys, and what keeps its data alive.
struct Running {
    port: u16,
    _server: Server,
    _data: Option<tempfile::TempDir>,
    _database: Option<FreshDatabase>,
}

fn on_sqlite() -> Running {
    let data = tempfile::tempdir().expect("data dir");
    let port = free_port();
    let mut server = Server(
        serve(port, "pg", "pk-lf-pg", "sk-lf-pg")
            .arg("--data-dir")
            .arg(data.path())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server"),
    );
    postgres_client(port).wait_healthy(&mut server.0, Duration::from_secs(60));
    Running {
        port,
        _server: server,
        _data: Some(data),
        _database: None,
    }
}

fn on_postgres() -> Running {
    let database = FreshDatabase::create();
    let port = free_port();
    let server = serve_on_postgres(&database.url(), port, 4);
    Running {
        port,
        _server: server,
        _data: None,
        _database: Some(database),
    }
}

impl Running {
    fn client(&self) -> spindle::Client {
        spindle::Client::builder()
            .public_key("pk-lf-pg")
            .secret_key("sk-lf-pg")
            .base_url(format!("http://127.0.0.1:{}", self.port))
            .build()
            .expect("SDK client")
    }

    /// `GET path` with the project's key; fails unless it answers 200.
    fn get(&self, path: &str) -> Value {
        let (status, body) = postgres_client(self.port)
            .request("GET", path, "application/json", None)
            .expect("request");
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "GET {path}: {text}");
        serde_json::from_slice(&body).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The example's experiment, then everything it stored, read back through the public API.
fn experiment_is_stored(server: &Running) {
    let client = server.client();
    let runtime = runtime();
    let (dataset, result) = runtime.block_on(async {
        let dataset = experiment::create_dataset(&client).await.expect("dataset");
        let result = experiment::run_experiment(&client, &dataset, "baseline").await;
        (dataset, result)
    });
    assert_eq!(dataset.items.len(), 3);
    assert_eq!(
        dataset.description.as_deref(),
        Some("countries and their capitals")
    );

    // the result
    assert_eq!(
        (result.name.as_str(), result.run_name.as_str()),
        ("capital-cities", "baseline")
    );
    assert_eq!(result.item_results.len(), 3);
    assert_eq!(result.failed_items(), 0);
    let summaries = result.score_summaries();
    let exact = &summaries["exact-match"];
    assert_eq!(exact.count, 3);
    assert!((exact.mean.expect("mean") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(result.run_evaluations.len(), 1);
    let run_id = result.dataset_run_id.clone().expect("a dataset run");
    let printed = result.to_string();
    assert!(printed.contains("items: 3 (0 failed)"), "{printed}");
    assert!(
        printed.contains("exact-match: mean 0.667 (n=3)"),
        "{printed}"
    );
    assert!(printed.contains("accuracy=0.66"), "{printed}");

    // the run and its run items
    let run = server.get("/api/public/datasets/capital-cities/runs/baseline");
    assert_eq!(run["id"], run_id);
    assert_eq!(run["description"], "fake LLM, no retrieval");
    assert_eq!(run["metadata"], json!({"model": "fake-llm"}));
    let run_items = run["datasetRunItems"].as_array().expect("run items");
    assert_eq!(run_items.len(), 3);
    let by_item: BTreeMap<&str, &Value> = run_items
        .iter()
        .map(|run_item| {
            (
                run_item["datasetItemId"].as_str().expect("item id"),
                run_item,
            )
        })
        .collect();
    for (id, country, capital, _) in experiment::CAPITALS {
        let item_result = result
            .item_results
            .iter()
            .find(|item| item.item.dataset_item_id.as_deref() == Some(id))
            .expect("a result per item");
        let run_item = by_item[id];
        let trace_id = item_result.trace_id.as_deref().expect("trace id");
        let task_id = item_result
            .observation_id
            .as_deref()
            .expect("task observation");
        assert_eq!(run_item["traceId"], trace_id, "{id}");
        assert_eq!(run_item["observationId"], task_id, "{id}");
        assert_eq!(run_item["datasetRunId"], run_id);

        // the linked trace: the item's input, the task's output, the spans of the run
        let trace = server.get(&format!("/api/public/traces/{trace_id}"));
        assert_eq!(trace["input"], json!({"country": country}), "{id}");
        let answer = if capital == "Lima" {
            "I don't know"
        } else {
            capital
        };
        assert_eq!(trace["output"], answer, "{id}");
        assert_eq!(trace["environment"], "sdk-experiment");
        let observations = trace["observations"].as_array().expect("observations");
        let named = |name: &str| {
            observations
                .iter()
                .find(|observation| observation["name"] == name)
                .unwrap_or_else(|| panic!("no {name} in {trace}"))
        };
        let task = named("experiment-item-task");
        assert_eq!(task["id"], task_id);
        assert_eq!(
            task["parentObservationId"],
            named("experiment-item-run")["id"]
        );
        assert_eq!(task["output"], answer);
        assert_eq!(task["metadata"]["dataset_item_id"], id);
        assert_eq!(task["metadata"]["experiment_run_name"], "baseline");
        assert_eq!(named("fake-llm")["parentObservationId"], task_id);
        assert_eq!(named("fake-llm")["type"], "GENERATION");
        let evaluator = named("exact-match");
        assert_eq!(evaluator["type"], "EVALUATOR");
        assert_eq!(
            evaluator["parentObservationId"],
            named("experiment-item-evaluation")["id"]
        );

        // the item's score, on the task's observation
        let scores = trace["scores"].as_array().expect("scores");
        assert_eq!(scores.len(), 1, "{scores:?}");
        assert_eq!(scores[0]["name"], "exact-match");
        assert_eq!(scores[0]["observationId"], task_id);
        let expected = if capital == "Lima" { 0.0 } else { 1.0 };
        assert_eq!(scores[0]["value"], json!(expected), "{id}");
        assert_eq!(scores[0]["comment"], format!("expected \"{capital}\""));
    }

    // the run's score
    let run_scores = server.get(&format!("/api/public/v2/scores?datasetRunId={run_id}"));
    let run_scores = run_scores["data"].as_array().expect("scores");
    assert_eq!(run_scores.len(), 1, "{run_scores:?}");
    assert_eq!(run_scores[0]["name"], "accuracy");
    assert!((run_scores[0]["value"].as_f64().expect("value") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(run_scores[0]["datasetRunId"], run_id);
}

/// Paging, archived items, dataset versions on run items, and the typed errors.
fn dataset_calls(server: &Running) {
    let client = server.client();
    runtime().block_on(async {
        client
            .create_dataset(CreateDataset::new("qa/paged").input_schema(&json!({"type": "object"})))
            .await
            .expect("dataset");
        let before_items = std::time::SystemTime::now();
        for index in 0..5 {
            let mut item = CreateDatasetItem::new("qa/paged")
                .id(format!("paged-{index}"))
                .input(&json!({"n": index}))
                .expected_output(&(index * 2))
                .source_trace_id(format!("source-{index}"));
            if index == 4 {
                item = item.status(DatasetItemStatus::Archived);
            }
            client.create_dataset_item(item).await.expect("item");
        }

        let mut pages = client.dataset_items("qa/paged").page_size(2);
        let mut sizes = Vec::new();
        while let Some(page) = pages.next_page().await.expect("page") {
            sizes.push(page.len());
        }
        assert_eq!(sizes, [2, 2, 1]);
        assert!(pages.next_page().await.expect("after the end").is_none());
        let streamed: Vec<spindle::DatasetItem> = client
            .dataset_items("qa/paged")
            .page_size(2)
            .into_stream()
            .try_collect()
            .await
            .expect("streamed items");
        assert_eq!(streamed.len(), 5);

        let dataset = client
            .get_dataset("qa/paged")
            .page_size(3)
            .await
            .expect("dataset");
        assert_eq!(dataset.name, "qa/paged");
        assert_eq!(dataset.input_schema, json!({"type": "object"}));
        let mut ids: Vec<&str> = dataset.items.iter().map(|item| item.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["paged-0", "paged-1", "paged-2", "paged-3", "paged-4"]);
        let earlier = client
            .get_dataset("qa/paged")
            .version(before_items)
            .await
            .expect("dataset at a version");
        assert_eq!(earlier.version, Some(before_items));
        assert!(earlier.items.is_empty(), "{:?}", earlier.items);
        let item = client.get_dataset_item("paged-3").await.expect("item");
        assert_eq!(
            (
                item.input,
                item.expected_output,
                item.source_trace_id.as_deref()
            ),
            (json!({"n": 3}), json!(6), Some("source-3"))
        );

        // archived items are left out; a plain list of items gets no run items
        let version = std::time::SystemTime::now();
        let result = client
            .experiment("doubling")
            .dataset(&dataset)
            .dataset_version(version)
            .run_name("versioned")
            .run(|item| async move {
                let n = item.input["n"].as_i64().ok_or("no n")?;
                Ok::<_, &str>(n * 2)
            })
            .await;
        assert_eq!(result.item_results.len(), 4);
        assert!(result
            .item_results
            .iter()
            .all(|item| item.dataset_run_id.is_some()));
        let run = client
            .get_dataset_run("qa/paged", "versioned")
            .await
            .expect("run");
        assert_eq!(run.dataset_run_items.len(), 4);
        let plain = client
            .experiment("plain")
            .items([ExperimentItem::new(&json!({"n": 1}))])
            .evaluator("always", |_| async {
                Ok::<_, String>(Score::boolean("ok", true))
            })
            .run(|item| async move { Ok::<_, String>(item.input) })
            .await;
        assert_eq!(plain.dataset_run_id, None);
        assert!(plain.item_results[0].trace_id.is_some());

        // typed errors
        let missing = client.get_dataset("no-such-dataset").await;
        assert!(
            matches!(missing, Err(DatasetError::NotFound { .. })),
            "{missing:?}"
        );
        let refused = client.create_dataset(CreateDataset::new("  ")).await;
        match refused {
            Err(DatasetError::Rejected { status, message }) => {
                assert_eq!(status, 400);
                assert!(message.contains("name"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let no_dataset = client
            .create_dataset_item(CreateDatasetItem::new("no-such-dataset").input(&1))
            .await;
        assert!(no_dataset.is_err(), "{no_dataset:?}");
    });
    // the plain run's trace is stored with its item's score
    let plain_trace = server.get("/api/public/traces?name=experiment-item-run&limit=100");
    assert!(
        plain_trace["data"]
            .as_array()
            .expect("traces")
            .iter()
            .any(|trace| trace["input"] == json!({"n": 1})),
        "{plain_trace}"
    );
}

#[test]
fn experiment_is_stored_on_sqlite() {
    experiment_is_stored(&on_sqlite());
}

#[test]
fn experiment_is_stored_on_postgres() {
    experiment_is_stored(&on_postgres());
}

#[test]
fn dataset_calls_on_sqlite() {
    dataset_calls(&on_sqlite());
}

#[test]
fn dataset_calls_on_postgres() {
    dataset_calls(&on_postgres());
}
