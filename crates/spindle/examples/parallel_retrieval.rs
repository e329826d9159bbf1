//! Parallel retrieval on tokio (seed 000): concurrent branches (`join!`, `join_all`) each get
//! their own child, and `spindle::spawn` keeps the parent across `tokio::spawn`.
//!
//! Run: `LANGFUSE_PUBLIC_KEY=… LANGFUSE_SECRET_KEY=… cargo run -p spindle --example parallel_retrieval`

mod setup;

use spindle::observe;

#[observe(as_type = "retriever")]
async fn vector_search(question: &str) -> Vec<String> {
    tokio::task::yield_now().await;
    vec![format!("vector hit for {question}")]
}

#[observe(as_type = "retriever")]
async fn keyword_search(question: &str) -> Vec<String> {
    tokio::task::yield_now().await;
    vec![format!("keyword hit for {question}")]
}

#[observe(as_type = "tool")]
async fn fetch_page(page: u32) -> String {
    tokio::task::yield_now().await;
    format!("page {page}")
}

#[observe(as_type = "generation")]
async fn summarize(hits: Vec<String>) -> String {
    tokio::task::yield_now().await;
    format!("{} hits summarized", hits.len())
}

/// Retrieves in parallel, then summarizes: the root observation of the trace.
#[observe(name = "parallel-retrieval")]
pub async fn run(question: String) -> String {
    let (vector, keyword) = tokio::join!(vector_search(&question), keyword_search(&question));
    let pages = futures::future::join_all((1..=2).map(fetch_page)).await;
    let background = spindle::spawn(fetch_page(3)).await.unwrap_or_default();
    let mut hits = vector;
    hits.extend(keyword);
    hits.extend(pages);
    hits.push(background);
    summarize(hits).await
}

#[allow(dead_code)]
fn main() {
    let client = setup::install_client_from_env();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!("{}", runtime.block_on(run("What is Langfuse?".to_owned())));
    client.flush();
}
