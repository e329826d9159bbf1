//! Prometheus metrics: counters and histograms kept in memory, rendered in the text format
//! at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    counters: BTreeMap<(&'static str, Labels), f64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

/// The server's metrics registry.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Help texts, one per metric name.
const HELP: &[(&str, &str, &str)] = &[
    (
        "spindle_ingested_events_total",
        "counter",
        "Events (spans, batch events, scores) accepted, by endpoint",
    ),
    (
        "spindle_ingested_bytes_total",
        "counter",
        "Request body bytes accepted, by endpoint",
    ),
    (
        "spindle_rejected_requests_total",
        "counter",
        "Requests rejected, by endpoint and reason",
    ),
    (
        "spindle_rejected_events_total",
        "counter",
        "Events of a batch rejected as invalid, by endpoint",
    ),
    (
        "spindle_commit_latency_seconds",
        "histogram",
        "Time from handing a batch to the store until it is committed",
    ),
    (
        "spindle_http_request_duration_seconds",
        "histogram",
        "HTTP request latency, by route and status",
    ),
    (
        "spindle_write_queue_depth",
        "gauge",
        "Write batches waiting to be committed",
    ),
];

impl Metrics {
    pub fn add(&self, name: &'static str, labels: Labels, value: f64) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.counters.entry((name, labels)).or_default() += value;
        }
    }

    pub fn observe(&self, name: &'static str, labels: Labels, seconds: f64) {
        if let Ok(mut inner) = self.inner.lock() {
            let histogram = inner.histograms.entry((name, labels)).or_default();
            if histogram.buckets.is_empty() {
                histogram.buckets = vec![0; LATENCY_BUCKETS.len()];
            }
            for (index, bound) in LATENCY_BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    histogram.buckets[index] += 1;
                }
            }
            histogram.sum += seconds;
            histogram.count += 1;
        }
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render(&self, write_queue_depth: usize) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if *name == "spindle_write_queue_depth" {
                let _ = writeln!(out, "{name} {write_queue_depth}");
                continue;
            }
            for ((metric, labels), value) in &inner.counters {
                if metric == name {
                    let _ = writeln!(out, "{name}{} {value}", render_labels(labels, None));
                }
            }
            for ((metric, labels), histogram) in &inner.histograms {
                if metric != name {
                    continue;
                }
                for (index, bound) in LATENCY_BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {}",
                        render_labels(labels, Some(&bound.to_string())),
                        histogram.buckets[index]
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    render_labels(labels, Some("+Inf")),
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "{name}_sum{} {}",
                    render_labels(labels, None),
                    histogram.sum
                );
                let _ = writeln!(
                    out,
                    "{name}_count{} {}",
                    render_labels(labels, None),
                    histogram.count
                );
            }
        }
        out
    }
}

fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
