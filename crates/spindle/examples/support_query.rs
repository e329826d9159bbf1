//! Support-query pipeline (seed 000): a trace with user, session, tags and metadata, a retrieval
//! step with a rerank event, an LLM answer with usage, a tool call with a nested database lookup,
//! and a helpfulness score. A fake LLM stands in for the model.
//!
//! Run: `LANGFUSE_PUBLIC_KEY=… LANGFUSE_SECRET_KEY=… LANGFUSE_BASE_URL=http://localhost:3000 \
//! cargo run -p spindle --example support_query`

mod setup;

use serde_json::json;
use spindle::{Level, ObservationType, ObservationUpdate, PropagatedAttributes, Score};

/// A deterministic stand-in for a chat model: answers from the first context line.
fn fake_llm(question: &str, context: &[&str]) -> (String, u32, u32) {
    let answer = format!(
        "{} (re: {question})",
        context.first().copied().unwrap_or("no context")
    );
    let prompt_tokens =
        (question.len() + context.iter().map(|c| c.len()).sum::<usize>()) as u32 / 4;
    let completion_tokens = answer.len() as u32 / 4;
    (answer, prompt_tokens, completion_tokens)
}

/// Handles one support question and returns the answer.
pub fn run(question: &str) -> String {
    let attributes = PropagatedAttributes::new()
        .user_id("user_123")
        .session_id("session_abc")
        .metadata("plan", "pro")
        .metadata("source", "web-chat")
        .tags(["support", "production"])
        .trace_name("support-query");
    spindle::observation("support-query")
        .input(&json!({"question": question}))
        .run(|trace| {
            spindle::propagate_attributes(attributes, || {
                let documents = spindle::observation("retrieval")
                    .as_type(ObservationType::Retriever)
                    .input(&json!({"query": question}))
                    .run(|retrieval| {
                        let documents = vec![
                            "Reset via Settings > Security > Change Password",
                            "Send a password-reset email from the login page",
                        ];
                        retrieval
                            .child("rerank")
                            .metadata(&json!({"candidates_before": 10, "candidates_after": 2}))
                            .event();
                        retrieval.set_output(&documents);
                        documents
                    });
                let answer = spindle::observation("llm-answer")
                    .as_type(ObservationType::Generation)
                    .input(&json!({"context": documents, "question": question}))
                    .run(|generation| {
                        let (answer, input_tokens, output_tokens) = fake_llm(question, &documents);
                        generation.update(
                            ObservationUpdate::new()
                                .model("fake-llm")
                                .output(&answer)
                                .usage_details(&json!({
                                    "input": input_tokens,
                                    "output": output_tokens,
                                    "total": input_tokens + output_tokens
                                })),
                        );
                        generation
                            .child("token-count")
                            .with(ObservationUpdate::new().level(Level::Debug))
                            .metadata(&json!({"tokens": input_tokens + output_tokens}))
                            .event();
                        answer
                    });
                spindle::observation("tool-call")
                    .as_type(ObservationType::Tool)
                    .input(&json!({"cmd": "GET /users/123"}))
                    .run(|tool| {
                        let user = spindle::observation("db-lookup")
                            .input(&json!({"query": "SELECT name FROM users WHERE id = 123"}))
                            .run(|lookup| {
                                let user = json!({"name": "Alice"});
                                lookup.set_output(&user);
                                user
                            });
                        tool.set_output(&json!({"status": 200, "body": user}));
                        tool.set_metadata(&json!({"service": "users-api", "latency_ms": 42}));
                    });
                trace.set_output(&answer);
                trace.score_trace(
                    Score::numeric("helpfulness", 0.92).comment("answered correctly with context"),
                );
                answer
            })
        })
}

#[allow(dead_code)]
fn main() {
    let client = setup::install_client_from_env();
    println!("{}", run("How do I reset my password?"));
    client.flush();
}
