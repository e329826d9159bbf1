//! RAG pipeline with `#[observe]` (seed 000): embedding, vector search and generation nest
//! under the pipeline; the generation reports model and usage, the trace gets a score. A fake
//! LLM stands in for the model.
//!
//! Run: `LANGFUSE_PUBLIC_KEY=… LANGFUSE_SECRET_KEY=… cargo run -p spindle --example rag_pipeline`

mod setup;

use serde_json::json;
use spindle::{observe, ObservationUpdate, Score};

/// A deterministic stand-in for an embedding model.
#[observe(as_type = "embedding")]
fn embed_query(query: &str) -> Vec<f32> {
    spindle::update_current_generation(
        ObservationUpdate::new()
            .model("fake-embedding")
            .usage_details(&json!({"input": query.len() / 4})),
    );
    query
        .bytes()
        .take(4)
        .map(|byte| byte as f32 / 255.0)
        .collect()
}

#[observe(as_type = "retriever")]
fn search_vector_db(embedding: &[f32], top_k: usize) -> Vec<String> {
    (0..top_k)
        .map(|rank| format!("document {rank} near {:.2}", embedding[0]))
        .collect()
}

/// A deterministic stand-in for a chat model.
#[observe(as_type = "generation")]
fn generate_answer(question: &str, documents: &[String]) -> String {
    let answer = format!(
        "Based on {} documents: {question} is answered.",
        documents.len()
    );
    spindle::update_current_generation(
        ObservationUpdate::new()
            .model("fake-llm")
            .model_parameters(&json!({"temperature": 0.0}))
            .usage_details(&json!({"input": 42, "output": 9, "total": 51}))
            .cost_details(&json!({"input": 0.00042, "output": 0.00018, "total": 0.0006})),
    );
    answer
}

/// The pipeline: the root observation of the trace.
#[observe(name = "rag-pipeline")]
pub fn run(question: &str) -> String {
    let embedding = embed_query(question);
    let documents = search_vector_db(&embedding, 3);
    let answer = generate_answer(question, &documents);
    spindle::score_current_trace(Score::numeric("completeness", 0.85));
    answer
}

#[allow(dead_code)]
fn main() {
    let client = setup::install_client_from_env();
    println!("{}", run("What is Langfuse?"));
    client.flush();
}
