//! The examples, run against the in-process receiver, with their exact trees and scores (and,
//! for the experiment, the run items it posts).

// Each example includes `examples/setup` (its `main`'s client set-up), so it loads once per
// example here.
#![allow(clippy::duplicate_mod)]

mod support;

#[allow(dead_code)]
#[path = "../examples/error_handling.rs"]
mod error_handling;
#[allow(dead_code)]
#[path = "../examples/experiment.rs"]
mod experiment;
#[allow(dead_code)]
#[path = "../examples/parallel_retrieval.rs"]
mod parallel_retrieval;
#[allow(dead_code)]
#[path = "../examples/rag_pipeline.rs"]
mod rag_pipeline;
#[allow(dead_code)]
#[path = "../examples/support_query.rs"]
mod support_query;

use serde_json::json;
use support::{Receiver, RecordedSpan};

fn setup() -> &'static Receiver {
    support::global_receiver()
}

/// The spans of the trace whose root is named `root`, by name.
fn tree(
    receiver: &Receiver,
    root: &str,
) -> (
    RecordedSpan,
    std::collections::BTreeMap<String, RecordedSpan>,
) {
    let root = receiver.span_named(root);
    let spans = receiver
        .trace(&root.trace_id)
        .into_iter()
        .map(|span| (span.name.clone(), span))
        .collect();
    (root, spans)
}

fn parent_name(
    spans: &std::collections::BTreeMap<String, RecordedSpan>,
    name: &str,
) -> Option<String> {
    let parent_id = &spans[name].parent_span_id;
    spans
        .values()
        .find(|span| &span.span_id == parent_id)
        .map(|span| span.name.clone())
}

#[test]
fn support_query_tree() {
    let receiver = setup();
    let answer = support_query::run("How do I reset my password?");
    assert!(answer.starts_with("Reset via Settings"));
    spindle::get_client().flush();
    let (root, spans) = tree(receiver, "support-query");
    let names: Vec<&str> = spans.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "db-lookup",
            "llm-answer",
            "rerank",
            "retrieval",
            "support-query",
            "token-count",
            "tool-call"
        ]
    );
    for (child, parent) in [
        ("retrieval", "support-query"),
        ("rerank", "retrieval"),
        ("llm-answer", "support-query"),
        ("token-count", "llm-answer"),
        ("tool-call", "support-query"),
        ("db-lookup", "tool-call"),
    ] {
        assert_eq!(
            parent_name(&spans, child).as_deref(),
            Some(parent),
            "parent of {child}"
        );
    }
    let types = |name: &str| {
        spans[name]
            .string("langfuse.observation.type")
            .unwrap()
            .to_owned()
    };
    assert_eq!(types("retrieval"), "retriever");
    assert_eq!(types("llm-answer"), "generation");
    assert_eq!(types("rerank"), "event");
    assert_eq!(types("tool-call"), "tool");
    assert_eq!(types("db-lookup"), "span");
    for span in spans.values() {
        assert_eq!(span.string("user.id"), Some("user_123"), "{}", span.name);
        assert_eq!(span.string("session.id"), Some("session_abc"));
        assert_eq!(span.string("langfuse.trace.name"), Some("support-query"));
        assert_eq!(
            span.attributes["langfuse.trace.tags"],
            json!({"array": [{"string": "support"}, {"string": "production"}]})
        );
        assert_eq!(
            span.string("langfuse.trace.metadata.plan"),
            Some(r#""pro""#)
        );
        assert_eq!(
            span.string("langfuse.trace.metadata.source"),
            Some(r#""web-chat""#)
        );
    }
    assert_eq!(
        root.json("langfuse.observation.input"),
        Some(json!({"question": "How do I reset my password?"}))
    );
    assert_eq!(
        root.string("langfuse.observation.output"),
        Some(answer.as_str())
    );
    let generation = &spans["llm-answer"];
    assert_eq!(
        generation.string("langfuse.observation.model.name"),
        Some("fake-llm")
    );
    let usage = generation
        .json("langfuse.observation.usage_details")
        .unwrap();
    assert_eq!(
        usage["total"],
        json!(usage["input"].as_u64().unwrap() + usage["output"].as_u64().unwrap())
    );
    assert_eq!(
        spans["token-count"].string("langfuse.observation.level"),
        Some("DEBUG")
    );
    assert_eq!(
        spans["retrieval"].json("langfuse.observation.output"),
        Some(json!([
            "Reset via Settings > Security > Change Password",
            "Send a password-reset email from the login page"
        ]))
    );
    assert_eq!(
        spans["tool-call"].json("langfuse.observation.output"),
        Some(json!({"status": 200, "body": {"name": "Alice"}}))
    );
    assert_eq!(
        spans["tool-call"].string("langfuse.observation.metadata.latency_ms"),
        Some("42")
    );
    let score = receiver
        .scores()
        .into_iter()
        .find(|score| score["name"] == "helpfulness")
        .unwrap();
    assert_eq!(score["traceId"], json!(root.trace_id));
    assert_eq!(score["value"], json!(0.92));
    assert_eq!(score["comment"], "answered correctly with context");
}

#[test]
fn rag_pipeline_tree() {
    let receiver = setup();
    let answer = rag_pipeline::run("What is Langfuse?");
    assert_eq!(
        answer,
        "Based on 3 documents: What is Langfuse? is answered."
    );
    spindle::get_client().flush();
    let (root, spans) = tree(receiver, "rag-pipeline");
    assert_eq!(spans.len(), 4);
    for child in ["embed_query", "search_vector_db", "generate_answer"] {
        assert_eq!(parent_name(&spans, child).as_deref(), Some("rag-pipeline"));
    }
    assert_eq!(
        root.string("langfuse.observation.input"),
        Some(r#"{"args": ["What is Langfuse?"], "kwargs": {}}"#)
    );
    assert_eq!(
        root.string("langfuse.observation.output"),
        Some(answer.as_str())
    );
    let embedding = &spans["embed_query"];
    assert_eq!(
        embedding.string("langfuse.observation.type"),
        Some("embedding")
    );
    assert_eq!(
        embedding.string("langfuse.observation.model.name"),
        Some("fake-embedding")
    );
    let search = &spans["search_vector_db"];
    let search_input = search.json("langfuse.observation.input").unwrap();
    assert_eq!(search_input["args"][1], json!(3));
    assert_eq!(
        search
            .json("langfuse.observation.output")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let generation = &spans["generate_answer"];
    assert_eq!(
        generation.string("langfuse.observation.type"),
        Some("generation")
    );
    assert_eq!(
        generation.string("langfuse.observation.usage_details"),
        Some(r#"{"input": 42, "output": 9, "total": 51}"#)
    );
    assert_eq!(
        generation.string("langfuse.observation.cost_details"),
        Some(r#"{"input": 0.00042, "output": 0.00018, "total": 0.0006}"#)
    );
    assert_eq!(
        generation.string("langfuse.observation.model.parameters"),
        Some(r#"{"temperature": 0.0}"#)
    );
    let score = receiver
        .scores()
        .into_iter()
        .find(|score| score["name"] == "completeness")
        .unwrap();
    assert_eq!(score["traceId"], json!(root.trace_id));
    assert!(score.get("observationId").is_none());
}

#[test]
fn parallel_retrieval_tree() {
    let receiver = setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let summary = runtime.block_on(parallel_retrieval::run("q".to_owned()));
    assert_eq!(summary, "5 hits summarized");
    spindle::get_client().flush();
    let (root, _) = tree(receiver, "parallel-retrieval");
    let spans = receiver.trace(&root.trace_id);
    assert_eq!(spans.len(), 7);
    for span in spans
        .iter()
        .filter(|span| span.name != "parallel-retrieval")
    {
        assert_eq!(
            span.parent_span_id, root.span_id,
            "{} under the root",
            span.name
        );
    }
    let mut pages: Vec<String> = spans
        .iter()
        .filter(|span| span.name == "fetch_page")
        .map(|span| {
            span.string("langfuse.observation.output")
                .unwrap()
                .to_owned()
        })
        .collect();
    pages.sort();
    assert_eq!(pages, ["page 1", "page 2", "page 3"]);
}

#[test]
fn error_handling_tree() {
    let receiver = setup();
    let error = error_handling::run().unwrap_err();
    assert_eq!(
        error.to_string(),
        "database error: relation \"users\" does not exist"
    );
    spindle::get_client().flush();
    let (root, spans) = tree(receiver, "error-handling");
    assert_eq!(
        parent_name(&spans, "db-call").as_deref(),
        Some("error-handling")
    );
    assert_eq!(parent_name(&spans, "run_query").as_deref(), Some("db-call"));
    for name in ["error-handling", "db-call", "run_query"] {
        let span = &spans[name];
        assert_eq!(
            span.string("langfuse.observation.level"),
            Some("ERROR"),
            "{name}"
        );
        assert_eq!(span.status_code, 2);
        assert_eq!(span.status_message, error.to_string());
    }
    assert_eq!(
        spans["db-call"].json("langfuse.observation.output"),
        Some(json!({"error": error.to_string()}))
    );
    assert_eq!(root.string("langfuse.observation.output"), None);
    let score = receiver
        .scores()
        .into_iter()
        .find(|score| score["name"] == "error")
        .unwrap();
    assert_eq!(score["traceId"], json!(root.trace_id));
    assert_eq!(score["comment"], json!(error.to_string()));
}

#[test]
fn experiment_traces_links_and_scores() {
    let receiver = setup();
    let client = spindle::get_client();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (dataset, result) = runtime.block_on(async {
        let dataset = experiment::create_dataset(&client).await.expect("dataset");
        let result = experiment::run_experiment(&client, &dataset, "baseline").await;
        (dataset, result)
    });
    assert_eq!(dataset.items.len(), 3);
    assert_eq!(result.dataset_run_id.as_deref(), Some("run-baseline"));
    assert_eq!(result.failed_items(), 0);

    let run_items = receiver.run_items();
    assert_eq!(run_items.len(), 3);
    for (id, country, capital, continent) in experiment::CAPITALS {
        let item = result
            .item_results
            .iter()
            .find(|item| item.item.dataset_item_id.as_deref() == Some(id))
            .unwrap();
        let trace_id = item.trace_id.clone().unwrap();
        let task_id = item.observation_id.clone().unwrap();
        let run_item = run_items
            .iter()
            .find(|run_item| run_item["datasetItemId"] == id)
            .unwrap();
        assert_eq!(
            *run_item,
            json!({
                "runName": "baseline", "runDescription": "fake LLM, no retrieval",
                "metadata": {"model": "fake-llm"}, "datasetItemId": id,
                "observationId": task_id, "traceId": trace_id
            })
        );

        let spans: std::collections::BTreeMap<String, RecordedSpan> = receiver
            .trace(&trace_id)
            .into_iter()
            .map(|span| (span.name.clone(), span))
            .collect();
        let names: Vec<&str> = spans.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "exact-match",
                "experiment-item-evaluation",
                "experiment-item-run",
                "experiment-item-task",
                "fake-llm"
            ]
        );
        for (child, parent) in [
            ("experiment-item-task", "experiment-item-run"),
            ("fake-llm", "experiment-item-task"),
            ("experiment-item-evaluation", "experiment-item-run"),
            ("exact-match", "experiment-item-evaluation"),
        ] {
            assert_eq!(parent_name(&spans, child).as_deref(), Some(parent));
        }
        assert_eq!(spans["experiment-item-task"].span_id, task_id);
        for span in spans.values() {
            assert_eq!(
                span.string("langfuse.environment"),
                Some("sdk-experiment"),
                "{}",
                span.name
            );
        }
        let answer = if capital == "Lima" {
            "I don't know"
        } else {
            capital
        };
        for name in ["experiment-item-run", "experiment-item-task"] {
            let span = &spans[name];
            assert_eq!(
                span.json("langfuse.observation.input"),
                Some(json!({"country": country}))
            );
            assert_eq!(span.string("langfuse.observation.output"), Some(answer));
            assert_eq!(span.string("langfuse.experiment.id"), Some("run-baseline"));
            assert_eq!(span.string("langfuse.experiment.name"), Some("baseline"));
            assert_eq!(span.string("langfuse.experiment.item.id"), Some(id));
            assert_eq!(
                span.string("langfuse.experiment.dataset.id"),
                Some("ds-capital-cities")
            );
            assert_eq!(
                span.string("langfuse.experiment.item.expected_output"),
                Some(format!("\"{capital}\"").as_str())
            );
            assert_eq!(
                span.string("langfuse.experiment.item.root_observation_id"),
                Some(task_id.as_str())
            );
            assert_eq!(
                span.string("langfuse.observation.metadata.continent"),
                Some(format!("\"{continent}\"").as_str())
            );
            assert_eq!(
                span.string("langfuse.observation.metadata.dataset_item_id"),
                Some(format!("\"{id}\"").as_str())
            );
        }
        let evaluator = &spans["exact-match"];
        assert_eq!(
            evaluator.string("langfuse.observation.type"),
            Some("evaluator")
        );
        assert_eq!(
            evaluator.json("langfuse.observation.input").unwrap()["expected_output"],
            json!(capital)
        );
        let expected = if capital == "Lima" { 0.0 } else { 1.0 };
        assert_eq!(
            evaluator.json("langfuse.observation.output"),
            Some(json!([{"name": "exact-match", "value": expected,
                         "comment": format!("expected \"{capital}\"")}]))
        );
        let score = receiver
            .scores()
            .into_iter()
            .find(|score| score["name"] == "exact-match" && score["traceId"] == json!(trace_id))
            .unwrap();
        assert_eq!(score["observationId"], json!(task_id));
        assert_eq!(score["value"], json!(expected));
    }
    let accuracy = receiver
        .scores()
        .into_iter()
        .find(|score| score["name"] == "accuracy")
        .unwrap();
    assert_eq!(accuracy["datasetRunId"], "run-baseline");
    assert!(accuracy.get("traceId").is_none());
    assert!((accuracy["value"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
}
