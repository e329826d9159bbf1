//! Background delivery: a bounded queue feeding one exporter thread that batches observations
//! (OTLP/HTTP protobuf, gzip) and scores (JSON array), retries with backoff and answers flushes.
//!
//! The queue never blocks the instrumented code and never grows past its bound: when it is full
//! new items are dropped, counted and logged. The exporter thread owns its own single-threaded
//! tokio runtime, so delivery works the same from sync programs and from any async runtime.

pub(crate) use spindle_otlp as otlp;
mod sender;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::config::Config;
use sender::HttpSender;

/// Largest number of scores sent in one request.
const MAX_SCORES_PER_REQUEST: usize = 100;

/// When the next timed flush is due (a huge interval means "practically never", not a panic).
fn next_deadline(interval: std::time::Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(interval)
        .or_else(|| now.checked_add(std::time::Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Largest encoded (uncompressed) OTLP request the exporter builds; a single larger span is
/// still sent alone.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// How many spans from the front of `spans` go in the next request: at most `max_spans`, and
/// at most `max_bytes` encoded, but always at least one.
fn batch_len(spans: &[otlp::Span], max_spans: usize, max_bytes: usize) -> usize {
    use prost::Message as _;
    let mut bytes = 0usize;
    for (index, span) in spans.iter().take(max_spans).enumerate() {
        bytes += span.encoded_len() + 8;
        if bytes > max_bytes {
            return index.max(1);
        }
    }
    spans.len().min(max_spans)
}

/// One item of the export queue.
pub(crate) enum Message {
    Span(Box<otlp::Span>),
    Score(Box<serde_json::Value>),
    Flush(Ack),
    Shutdown(Ack),
}

/// How the exporter tells a waiting caller that a flush is done.
pub(crate) enum Ack {
    Blocking(SyncSender<()>),
    Async(tokio::sync::oneshot::Sender<()>),
}

impl Ack {
    fn send(self) {
        match self {
            Ack::Blocking(sender) => {
                let _ = sender.send(());
            }
            Ack::Async(sender) => {
                let _ = sender.send(());
            }
        }
    }
}

/// The producer side of the queue plus the exporter thread's handle.
pub(crate) struct Exporter {
    sender: SyncSender<Message>,
    dropped: AtomicU64,
    shut_down: AtomicBool,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Exporter {
    pub(crate) fn start(config: Config) -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel(config.max_queue_size);
        let worker = std::thread::Builder::new()
            .name("spindle-exporter".to_owned())
            .spawn(move || run_worker(config, receiver))
            .map_err(|error| tracing::error!(%error, "could not start the spindle exporter thread"))
            .ok();
        Self {
            sender,
            dropped: AtomicU64::new(0),
            shut_down: AtomicBool::new(false),
            worker: Mutex::new(worker),
        }
    }

    /// Queues one item without blocking; a full queue drops it and counts the drop.
    pub(crate) fn enqueue(&self, message: Message) {
        match self.sender.try_send(message) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(dropped, "spindle export queue full or closed, item dropped");
                }
            }
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends the message `message` makes of a blocking acknowledgement and waits until the
    /// exporter thread answers it (at once when that thread is gone).
    fn send_and_wait(&self, message: fn(Ack) -> Message) {
        let (ack_sender, ack_receiver) = std::sync::mpsc::sync_channel(1);
        if self.sender.send(message(Ack::Blocking(ack_sender))).is_ok() {
            let _ = ack_receiver.recv();
        }
    }

    /// Blocks until everything queued before this call has been sent (or given up on).
    pub(crate) fn flush(&self) {
        if self.shut_down.load(Ordering::Acquire) {
            return;
        }
        self.send_and_wait(Message::Flush);
    }

    /// Waits, without blocking the async runtime, until everything queued before this call has
    /// been sent (or given up on).
    pub(crate) async fn flush_async(&self) {
        if self.shut_down.load(Ordering::Acquire) {
            return;
        }
        let (ack_sender, ack_receiver) = tokio::sync::oneshot::channel();
        let mut message = Message::Flush(Ack::Async(ack_sender));
        loop {
            match self.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(returned)) => {
                    message = returned;
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
        let _ = ack_receiver.await;
    }

    /// Flushes, then stops the exporter thread; later items are dropped.
    pub(crate) fn shutdown(&self) {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return;
        }
        self.send_and_wait(Message::Shutdown);
        let worker = self.worker.lock().ok().and_then(|mut guard| guard.take());
        if let Some(worker) = worker {
            let _ = worker.join();
        }
    }
}

thread_local! {
    static IS_EXPORTER_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is the exporter's (whose own `tracing` spans must not be recorded).
pub(crate) fn is_exporter_thread() -> bool {
    IS_EXPORTER_THREAD
        .try_with(std::cell::Cell::get)
        .unwrap_or(false)
}

/// The exporter thread: collects items, sends a batch at `flush_at` or every `flush_interval`.
fn run_worker(config: Config, receiver: Receiver<Message>) {
    let _ = IS_EXPORTER_THREAD.try_with(|flag| flag.set(true));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "could not start the spindle exporter runtime, nothing will be sent");
            return;
        }
    };
    let Some(sender) = HttpSender::new(&config) else {
        return;
    };
    let mut spans: Vec<otlp::Span> = Vec::with_capacity(config.flush_at.min(4096));
    let mut scores: Vec<serde_json::Value> = Vec::new();
    let mut deadline = next_deadline(config.flush_interval);
    let send_all = |spans: &mut Vec<otlp::Span>, scores: &mut Vec<serde_json::Value>| {
        while !spans.is_empty() {
            let take = batch_len(spans, config.flush_at, MAX_REQUEST_BYTES);
            let batch: Vec<otlp::Span> = spans.drain(..take).collect();
            runtime.block_on(sender.send_spans(batch));
        }
        while !scores.is_empty() {
            let take = scores.len().min(MAX_SCORES_PER_REQUEST);
            let batch: Vec<serde_json::Value> = scores.drain(..take).collect();
            runtime.block_on(sender.send_scores(batch));
        }
    };
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(wait) {
            Ok(Message::Span(span)) => {
                spans.push(*span);
                if spans.len() >= config.flush_at {
                    send_all(&mut spans, &mut Vec::new());
                }
            }
            Ok(Message::Score(score)) => {
                scores.push(*score);
                if scores.len() >= MAX_SCORES_PER_REQUEST {
                    send_all(&mut Vec::new(), &mut scores);
                }
            }
            Ok(Message::Flush(ack)) => {
                send_all(&mut spans, &mut scores);
                ack.send();
                deadline = next_deadline(config.flush_interval);
            }
            Ok(Message::Shutdown(ack)) => {
                send_all(&mut spans, &mut scores);
                ack.send();
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                send_all(&mut spans, &mut scores);
                deadline = next_deadline(config.flush_interval);
            }
            Err(RecvTimeoutError::Disconnected) => {
                send_all(&mut spans, &mut scores);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_with_name_len(len: usize) -> otlp::Span {
        otlp::Span {
            name: "x".repeat(len),
            ..Default::default()
        }
    }

    #[test]
    fn batches_respect_count_and_size() {
        let small: Vec<otlp::Span> = (0..10).map(|_| span_with_name_len(10)).collect();
        assert_eq!(batch_len(&small, 4, 1_000_000), 4);
        assert_eq!(batch_len(&small, 100, 1_000_000), 10);
        let large: Vec<otlp::Span> = (0..10).map(|_| span_with_name_len(1_000)).collect();
        assert_eq!(batch_len(&large, 100, 2_500), 2);
        assert_eq!(
            batch_len(&large, 100, 10),
            1,
            "one oversized span is sent alone"
        );
    }
}
