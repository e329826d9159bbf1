//! 1,000 concurrent tasks, each a nested `#[observe]` tree with concurrent branches, must give
//! 1,000 correct and separate traces.

mod support;

use std::collections::HashMap;

use spindle::observe;
use support::{Receiver, RecordedSpan};

#[observe(as_type = "retriever")]
async fn lookup(task: u32, branch: u32) -> String {
    tokio::task::yield_now().await;
    leaf(task, branch).await
}

#[observe(as_type = "tool")]
async fn leaf(task: u32, branch: u32) -> String {
    tokio::task::yield_now().await;
    format!("{task}-{branch}")
}

#[observe(name = "task-root")]
async fn task_root(task: u32) -> Vec<String> {
    let (left, right) = tokio::join!(lookup(task, 0), lookup(task, 1));
    vec![left, right]
}

#[test]
fn thousand_concurrent_tasks_make_thousand_separate_trees() {
    let receiver = Receiver::start(0);
    let client = receiver.client();
    assert!(client.install_global());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let handles: Vec<_> = (0..1000u32)
            .map(|task| tokio::spawn(task_root(task)))
            .collect();
        for (task, handle) in handles.into_iter().enumerate() {
            assert_eq!(
                handle.await.unwrap(),
                vec![format!("{task}-0"), format!("{task}-1")]
            );
        }
    });
    client.flush();
    assert_eq!(client.dropped_count(), 0);

    let spans = receiver.spans();
    assert_eq!(spans.len(), 5000);
    let mut traces: HashMap<String, Vec<RecordedSpan>> = HashMap::new();
    for span in spans {
        traces.entry(span.trace_id.clone()).or_default().push(span);
    }
    assert_eq!(traces.len(), 1000);
    let mut seen_tasks = Vec::new();
    for spans in traces.values() {
        assert_eq!(spans.len(), 5);
        let roots: Vec<&RecordedSpan> = spans
            .iter()
            .filter(|span| span.name == "task-root")
            .collect();
        assert_eq!(roots.len(), 1);
        let root = roots[0];
        assert_eq!(root.parent_span_id, "");
        let input = root.json("langfuse.observation.input").unwrap();
        let task = input["args"][0].as_u64().unwrap();
        seen_tasks.push(task);
        let lookups: Vec<&RecordedSpan> =
            spans.iter().filter(|span| span.name == "lookup").collect();
        assert_eq!(lookups.len(), 2);
        for lookup in &lookups {
            assert_eq!(lookup.parent_span_id, root.span_id);
            let lookup_input = lookup.json("langfuse.observation.input").unwrap();
            assert_eq!(lookup_input["args"][0].as_u64(), Some(task));
            let leaves: Vec<&RecordedSpan> = spans
                .iter()
                .filter(|span| span.name == "leaf" && span.parent_span_id == lookup.span_id)
                .collect();
            assert_eq!(leaves.len(), 1, "one leaf under each lookup");
            let expected = format!("{task}-{}", lookup_input["args"][1]);
            assert_eq!(
                leaves[0].string("langfuse.observation.output"),
                Some(expected.as_str())
            );
            assert_eq!(
                lookup.string("langfuse.observation.output"),
                Some(expected.as_str())
            );
        }
    }
    seen_tasks.sort_unstable();
    assert_eq!(seen_tasks, (0..1000).collect::<Vec<u64>>());
}
