//! Delivery: 100,000 observations from 8 tasks all arrive after `flush()`, and a server that
//! answers 503 twice then 200 loses nothing; non-retryable refusals drop only their batch.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::Receiver;

/// Starts a receiver that first fails `failures` times, ends `per_task` observations from each
/// of `tasks` concurrent tokio tasks, and flushes.
fn deliver(failures: usize, tasks: usize, per_task: usize) -> (Receiver, spindle::Client) {
    let receiver = Receiver::start(failures);
    let client = receiver.client();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|task| {
                let client = client.clone();
                tokio::spawn(async move {
                    for index in 0..per_task {
                        client
                            .observation(format!("obs-{task}-{index}"))
                            .start()
                            .end();
                        if index % 1_000 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    client.flush();
    (receiver, client)
}

#[test]
fn hundred_thousand_observations_from_eight_tasks_all_arrive() {
    let (receiver, client) = deliver(0, 8, 12_500);
    assert_eq!(client.dropped_count(), 0);
    let spans = receiver.spans();
    assert_eq!(spans.len(), 100_000);
    let names: HashSet<String> = spans.into_iter().map(|span| span.name).collect();
    assert_eq!(names.len(), 100_000);
    assert!(names.contains("obs-7-12499"));
    let requests = receiver.requests();
    assert!(requests.len() >= 100_000 / 512, "batched by flush_at");
}

#[test]
fn server_answering_503_twice_loses_nothing() {
    let (receiver, _client) = deliver(2, 8, 1_000);
    assert_eq!(receiver.spans().len(), 8_000);
    let statuses: Vec<u16> = receiver
        .requests()
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(&statuses[..3], &[503, 503, 200]);
}

#[test]
fn scores_are_retried_too() {
    let receiver = Receiver::start(1);
    let client = receiver.client();
    client.create_score(spindle::Score::numeric("retried", 1.0).session_id("s"));
    client.flush();
    assert_eq!(receiver.scores().len(), 1);
}

#[test]
fn flush_interval_sends_without_flush() {
    let receiver = Receiver::start(0);
    let client = receiver
        .builder()
        .flush_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    client.observation("interval-span").start().end();
    // no flush(): wait for the exporter's timer, polling without asserting on time
    while receiver.spans().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(receiver.span_named("interval-span").name, "interval-span");
}

#[test]
fn unreachable_server_gives_up_without_blocking_forever() {
    let client = spindle::Client::builder()
        .public_key("pk")
        .secret_key("sk")
        .base_url("http://127.0.0.1:9")
        .max_attempts(2)
        .retry_initial_backoff(Duration::from_millis(1))
        .build()
        .unwrap();
    client.observation("lost").start().end();
    client.flush();
    client.shutdown();
    client.observation("after-shutdown").start().end();
    client.flush();
    assert_eq!(client.dropped_count(), 1);
}

#[test]
fn full_queue_drops_and_counts() {
    let receiver = Receiver::start(0);
    let client = receiver
        .builder()
        .max_queue_size(10)
        .flush_at(1)
        .build()
        .unwrap();
    // hold the exporter inside its first request, so nothing drains the queue meanwhile
    receiver.pause();
    client.observation("q-first").start().end();
    while receiver.arrived() == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    for index in 0..1_000 {
        client.observation(format!("q-{index}")).start().end();
    }
    assert_eq!(
        client.dropped_count(),
        990,
        "10 fit in the queue, the rest are dropped"
    );
    receiver.resume();
    client.flush();
    assert_eq!(receiver.spans().len(), 11);
}

#[test]
fn async_flush() {
    let receiver = Receiver::start(0);
    let client = receiver.client();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        client
            .observation("async-flushed")
            .run_async(|_| async {})
            .await;
        client.flush_async().await;
    });
    assert_eq!(receiver.span_named("async-flushed").name, "async-flushed");
}

#[test]
fn large_observations_are_split_across_requests() {
    let receiver = Receiver::start(0);
    let client = receiver.client();
    let big_input = "x".repeat(1024 * 1024);
    for index in 0..12 {
        client
            .observation(format!("big-{index}"))
            .input(&big_input)
            .start()
            .end();
    }
    client.flush();
    let spans = receiver.spans();
    assert_eq!(spans.len(), 12);
    assert!(spans
        .iter()
        .all(|span| span.string("langfuse.observation.input").map(str::len) == Some(1024 * 1024)));
    assert!(
        receiver.requests().len() >= 3,
        "at most 4 MiB of spans per request"
    );
}

#[test]
fn extreme_settings_do_not_panic() {
    let receiver = Receiver::start(0);
    let client = receiver
        .builder()
        .flush_interval(Duration::MAX)
        .flush_at(usize::MAX)
        .build()
        .unwrap();
    client.observation("extreme").start().end();
    client.flush();
    assert_eq!(receiver.span_named("extreme").name, "extreme");
}

#[test]
fn retry_after_is_honoured() {
    // the backoff alone would wait an hour: finishing at all shows Retry-After: 0 was used
    let receiver = Receiver::start_with_retry_after(2, "0");
    let client = receiver
        .builder()
        .retry_initial_backoff(Duration::from_secs(3600))
        .build()
        .unwrap();
    client.observation("after-retry-after").start().end();
    client.flush();
    assert_eq!(
        receiver.span_named("after-retry-after").name,
        "after-retry-after"
    );
    let statuses: Vec<u16> = receiver
        .requests()
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
}
