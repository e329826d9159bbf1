//! The Rust SDK's examples (seed 000's support query, a RAG pipeline, parallel retrieval,
//! error handling) against the real server over a socket, checked through the public API.

// Each example includes `examples/setup` (its `main`'s client set-up), so it loads once per
// example here.
#![allow(clippy::duplicate_mod)]

mod support;

#[allow(dead_code)]
#[path = "../../spindle/examples/error_handling.rs"]
mod error_handling;
#[allow(dead_code)]
#[path = "../../spindle/examples/parallel_retrieval.rs"]
mod parallel_retrieval;
#[allow(dead_code)]
#[path = "../../spindle/examples/rag_pipeline.rs"]
mod rag_pipeline;
#[allow(dead_code)]
#[path = "../../spindle/examples/support_query.rs"]
mod support_query;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use support::SocketServer;

/// One server for the whole file, and the SDK's global client pointed at it.
fn server() -> &'static SocketServer {
    static SERVER: OnceLock<SocketServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = SocketServer::start(|router| router);
        assert!(server.client().install_global());
        server
    })
}

fn get(path: &str) -> Value {
    server().get_ok(path)
}

/// The stored trace named `name`, and its observations by name.
fn trace_named(name: &str) -> (Value, BTreeMap<String, Value>) {
    spindle::get_client().flush();
    let listed = get(&format!("/api/public/traces?name={name}"));
    assert_eq!(
        listed["meta"]["totalItems"], 1,
        "one trace named {name}: {listed}"
    );
    let id = listed["data"][0]["id"]
        .as_str()
        .expect("trace id")
        .to_owned();
    let trace = get(&format!("/api/public/traces/{id}"));
    let observations = trace["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .map(|observation| {
            (
                observation["name"].as_str().unwrap_or_default().to_owned(),
                observation.clone(),
            )
        })
        .collect();
    (trace, observations)
}

fn parent_of<'a>(observations: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    let parent_id = observations[name]["parentObservationId"].as_str()?;
    observations
        .iter()
        .find(|(_, observation)| observation["id"] == parent_id)
        .map(|(name, _)| name.as_str())
}

#[test]
fn support_query_pipeline() {
    server();
    let answer = support_query::run("How do I reset my password?");
    let (trace, observations) = trace_named("support-query");
    assert_eq!(trace["userId"], "user_123");
    assert_eq!(trace["sessionId"], "session_abc");
    assert_eq!(trace["tags"], json!(["production", "support"]));
    assert_eq!(trace["metadata"]["plan"], "pro");
    assert_eq!(trace["metadata"]["source"], "web-chat");
    assert_eq!(
        trace["input"],
        json!({"question": "How do I reset my password?"})
    );
    assert_eq!(trace["output"], json!(answer));
    let expected = [
        ("support-query", "SPAN", None),
        ("retrieval", "RETRIEVER", Some("support-query")),
        ("rerank", "EVENT", Some("retrieval")),
        ("llm-answer", "GENERATION", Some("support-query")),
        ("token-count", "EVENT", Some("llm-answer")),
        ("tool-call", "TOOL", Some("support-query")),
        ("db-lookup", "SPAN", Some("tool-call")),
    ];
    assert_eq!(
        observations.len(),
        expected.len(),
        "{:?}",
        observations.keys()
    );
    for (name, observation_type, parent) in expected {
        assert_eq!(observations[name]["type"], observation_type, "{name}");
        assert_eq!(parent_of(&observations, name), parent, "{name}");
    }
    let generation = &observations["llm-answer"];
    assert_eq!(generation["model"], "fake-llm");
    let usage = &generation["usageDetails"];
    assert!(usage["input"].as_i64().unwrap_or(0) > 0);
    assert_eq!(
        usage["total"].as_i64(),
        Some(usage["input"].as_i64().unwrap_or(0) + usage["output"].as_i64().unwrap_or(0))
    );
    assert_eq!(generation["output"], json!(answer));
    assert_eq!(observations["token-count"]["level"], "DEBUG");
    assert_eq!(
        observations["db-lookup"]["output"],
        json!({"name": "Alice"})
    );
    assert_eq!(
        observations["tool-call"]["metadata"]["service"],
        "users-api"
    );
    assert_eq!(observations["rerank"]["metadata"]["candidates_after"], 2);
    let scores = trace["scores"].as_array().expect("scores");
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0]["name"], "helpfulness");
    assert_eq!(scores[0]["value"], 0.92);
    assert_eq!(scores[0]["comment"], "answered correctly with context");
}

#[test]
fn rag_pipeline_with_observe() {
    server();
    rag_pipeline::run("What is Spindle?");
    let (trace, observations) = trace_named("rag-pipeline");
    assert_eq!(observations.len(), 4, "{:?}", observations.keys());
    for (name, observation) in &observations {
        if name != "rag-pipeline" {
            assert_eq!(
                parent_of(&observations, name),
                Some("rag-pipeline"),
                "{name}"
            );
            assert!(
                observation["input"].is_object(),
                "{name}: input captured as JSON"
            );
        }
    }
    assert!(observations
        .values()
        .any(|observation| observation["type"] == "GENERATION"));
    assert_eq!(trace["input"]["args"], json!(["What is Spindle?"]));
    assert_eq!(trace["scores"][0]["name"], "completeness");
    assert_eq!(trace["scores"][0]["value"], 0.85);
}

#[test]
fn parallel_retrieval_nests_concurrent_branches() {
    server();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(parallel_retrieval::run("What is Langfuse?".to_owned()));
    let trace_list = {
        spindle::get_client().flush();
        get("/api/public/traces?name=parallel-retrieval")
    };
    let id = trace_list["data"][0]["id"]
        .as_str()
        .expect("trace")
        .to_owned();
    let trace = get(&format!("/api/public/traces/{id}"));
    let observations = trace["observations"].as_array().expect("observations");
    let root = support::observation_named(&trace, "parallel-retrieval");
    let children: Vec<&Value> = observations
        .iter()
        .filter(|observation| observation["parentObservationId"] == root["id"])
        .collect();
    let fetches = children
        .iter()
        .filter(|child| child["name"] == "fetch_page")
        .count();
    assert_eq!(
        fetches, 3,
        "join_all branches and the spawned task each nest under the root"
    );
    assert!(children
        .iter()
        .any(|child| child["name"] == "summarize" && child["type"] == "GENERATION"));
    assert_eq!(
        observations.len(),
        children.len() + 1,
        "every observation is a direct child of the root"
    );
}

#[test]
fn errors_mark_observations() {
    server();
    let result = error_handling::run();
    assert!(result.is_err());
    let (trace, observations) = trace_named("error-handling");
    assert_eq!(trace["level"], "ERROR");
    let db_call = &observations["db-call"];
    assert_eq!(db_call["level"], "ERROR");
    assert_eq!(
        db_call["statusMessage"],
        "database error: relation \"users\" does not exist"
    );
    assert_eq!(parent_of(&observations, "run_query"), Some("db-call"));
    assert_eq!(observations["run_query"]["type"], "TOOL");
    assert_eq!(observations["run_query"]["level"], "ERROR");
    assert_eq!(observations["error-handling"]["level"], "ERROR");
    assert_eq!(trace["scores"][0]["name"], "error");
}
