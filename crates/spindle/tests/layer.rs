//! The `tracing` layer: `#[tracing::instrument]` spans and `#[observe]` functions land in one
//! tree, `langfuse.*` fields become attributes and `ERROR` events mark the observation.

mod support;

use serde_json::json;
use spindle::observe;
use support::Receiver;
use tracing_subscriber::layer::SubscriberExt;

#[observe]
fn inner_observed(query: &str) -> usize {
    query.len()
}

#[tracing::instrument(fields(langfuse.observation.type = "retriever"))]
fn traced_retrieval(query: &str) -> usize {
    inner_observed(query)
}

#[tracing::instrument(fields(langfuse.observation.type = "tool", otel.name = "renamed-async"))]
async fn traced_async(n: u32) -> u32 {
    tokio::task::yield_now().await;
    n + 1
}

#[observe(name = "layer-root")]
fn layer_root() -> usize {
    let length = traced_retrieval("abc");
    let span = tracing::info_span!(
        "manual-tracing",
        user.id = "u-1",
        langfuse.trace.tags = "a,b",
        langfuse.observation.prompt.version = 3,
        k = 3
    );
    span.in_scope(|| tracing::error!("bad thing"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let next = runtime.block_on(traced_async(1));
    length + next as usize
}

#[test]
fn tracing_spans_join_observe_trees() {
    let receiver = Receiver::start(0);
    let client = receiver.client();
    assert!(client.install_global());
    let subscriber = tracing_subscriber::registry().with(spindle::SpindleLayer::new());
    let total = tracing::subscriber::with_default(subscriber, layer_root);
    assert_eq!(total, 5);
    client.flush();

    let root = receiver.span_named("layer-root");
    let retrieval = receiver.span_named("traced_retrieval");
    let inner = receiver.span_named("inner_observed");
    let manual = receiver.span_named("manual-tracing");
    let renamed = receiver.span_named("renamed-async");
    assert_eq!(retrieval.parent_span_id, root.span_id);
    assert_eq!(inner.parent_span_id, retrieval.span_id);
    assert_eq!(manual.parent_span_id, root.span_id);
    assert_eq!(renamed.parent_span_id, root.span_id);
    assert_eq!(
        retrieval.string("langfuse.observation.type"),
        Some("retriever")
    );
    assert!(retrieval
        .attributes
        .contains_key("langfuse.observation.metadata.query"));
    assert_eq!(renamed.string("langfuse.observation.type"), Some("tool"));
    assert_eq!(manual.string("user.id"), Some("u-1"));
    assert_eq!(
        manual.attributes["langfuse.trace.tags"],
        json!({"array": [{"string": "a"}, {"string": "b"}]})
    );
    assert_eq!(
        manual.attributes["langfuse.observation.prompt.version"],
        json!({"int": 3})
    );
    assert_eq!(manual.string("langfuse.observation.metadata.k"), Some("3"));
    assert_eq!(manual.string("langfuse.observation.level"), Some("ERROR"));
    assert_eq!(manual.status_message, "bad thing");
}
