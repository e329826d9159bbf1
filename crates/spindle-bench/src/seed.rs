//! Seeding a SQLite data directory straight through `SqliteStore`, as the query benchmark and
//! the `seed_read` example do: the store, the bench project, LLM generations, and batches
//! written while the next one is built.

use crate::generate::{Rng, TAGS};
use crate::server::PROJECT_ID;
use spindle_core::{ObservationType, ScoreDataType, ScoreRecord, ScoreSource};
use spindle_store::{ObservationRecord, Organization, Project, Store, TraceRecord, WriteBatch};
use spindle_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A score sent through the API at `at` on the trace `trace_id`, not stamped yet.
pub fn api_score(
    id: String,
    at: i64,
    name: &str,
    value: f64,
    data_type: ScoreDataType,
    trace_id: String,
) -> ScoreRecord {
    let mut score = ScoreRecord::new(id);
    score.timestamp = Some(at);
    score.name = Some(name.to_owned());
    score.value = Some(value);
    score.data_type = Some(data_type);
    score.source = Some(ScoreSource::Api);
    score.trace_id = Some(trace_id);
    score
}

/// Tenants of the `tenant` trace metadata.
pub const TENANTS: &[&str] = &["acme", "globex", "initech", "umbrella"];

/// Opens `dir` for seeding: commits do not wait for the disk (a seed that fails is redone).
pub fn open_store(dir: &Path) -> spindle_store::Result<SqliteStore> {
    SqliteStore::open(
        dir,
        SqliteOptions {
            synchronous_full: false,
            ..SqliteOptions::default()
        },
    )
}

/// Creates the default organization and the bench project ([`PROJECT_ID`]).
pub async fn create_project(store: &impl Store, created_at: i64) -> anyhow::Result<()> {
    let organization = Organization {
        id: "default-org".to_owned(),
        name: "Default Organization".to_owned(),
    };
    store.upsert_organization(&organization).await?;
    store
        .upsert_project(&Project {
            id: PROJECT_ID.to_owned(),
            name: PROJECT_ID.to_owned(),
            organization,
            retention_days: None,
            created_at,
        })
        .await?;
    Ok(())
}

/// The names and types a trace's observations after its first generation take in turn:
/// spans, tools and more generations, so that metrics group by name and type.
const CHILD_KINDS: &[(&str, ObservationType)] = &[
    ("retrieve", ObservationType::Span),
    ("llm-call", ObservationType::Generation),
    ("search-tool", ObservationType::Tool),
    ("rerank", ObservationType::Span),
    ("summarize", ObservationType::Generation),
];

/// Turns the `child`-th observation after a trace's first generation (counted from 1) into
/// the kind [`CHILD_KINDS`] gives it; one that is not a generation loses model, usage and cost.
pub fn make_child(observation: &mut ObservationRecord, child: usize) {
    let (name, kind) = CHILD_KINDS[(child - 1) % CHILD_KINDS.len()];
    observation.name = Some(name.to_owned());
    observation.observation_type = Some(kind);
    if kind != ObservationType::Generation {
        observation.model = None;
        observation.usage_details = None;
        observation.cost_details = None;
    }
}

/// Words of `words` (each ending in its own separator) picked until the text is at least
/// `chars` bytes long: prose for examples whose text only needs to be there.
pub fn picked_words(rng: &mut Rng, chars: usize, words: &[&str]) -> String {
    let mut text = String::with_capacity(chars + 8);
    while text.len() < chars {
        text.push_str(rng.pick(words));
    }
    text
}

/// Fills an observation as an LLM call: `llm-call` on `gpt-4o` or `gpt-4o-mini`, token usage,
/// cost, and a chat message of `prose` in and out.
pub fn fill_generation(
    observation: &mut ObservationRecord,
    rng: &mut Rng,
    prose: fn(&mut Rng, usize) -> String,
) {
    observation.environment = Some("default".to_owned());
    observation.observation_type = Some(ObservationType::Generation);
    observation.name = Some("llm-call".to_owned());
    observation.model = Some(rng.pick(&["gpt-4o", "gpt-4o-mini"]).to_owned());
    let input_tokens = 200 + rng.below(800) as i64;
    let output_tokens = 50 + rng.below(300) as i64;
    observation.usage_details = Some(
        [
            ("input".to_owned(), input_tokens),
            ("output".to_owned(), output_tokens),
            ("total".to_owned(), input_tokens + output_tokens),
        ]
        .into_iter()
        .collect(),
    );
    observation.cost_details = Some(
        [("total".to_owned(), input_tokens as f64 * 2.5e-6)]
            .into_iter()
            .collect(),
    );
    observation.input = Some(format!(
        "[{{\"role\": \"user\", \"content\": {}}}]",
        serde_json::Value::String(prose(rng, 300))
    ));
    observation.output = Some(format!(
        "{{\"role\": \"assistant\", \"content\": {}}}",
        serde_json::Value::String(prose(rng, 300))
    ));
}

/// Fills a trace of an LLM app at `at`: a name, the user `user_id` draws, session
/// `index / 4`, a release, two tags, `tenant` metadata (and `region` when `regions` is not
/// empty), and a question and an answer of `prose`.
pub fn fill_trace(
    trace: &mut TraceRecord,
    rng: &mut Rng,
    at: i64,
    index: usize,
    user_id: fn(&mut Rng) -> String,
    regions: &[&str],
    prose: fn(&mut Rng, usize) -> String,
) {
    trace.timestamp = Some(at);
    trace.environment = Some("default".to_owned());
    trace.name = Some(
        rng.pick(&["support-chat", "rag-answer", "order-agent"])
            .to_owned(),
    );
    trace.user_id = Some(user_id(rng));
    trace.session_id = Some(format!("session-{:06}", index / 4));
    trace.release = Some("rel-2.14.0".to_owned());
    trace.tags.insert(rng.pick(TAGS).to_owned());
    trace.tags.insert(rng.pick(TAGS).to_owned());
    trace
        .metadata
        .insert("tenant".to_owned(), format!("\"{}\"", rng.pick(TENANTS)));
    if !regions.is_empty() {
        trace
            .metadata
            .insert("region".to_owned(), format!("\"{}\"", rng.pick(regions)));
    }
    trace
        .metadata
        .insert("app_version".to_owned(), "\"2.14.0\"".to_owned());
    trace.input = Some(format!(
        "{{\"question\": {}}}",
        serde_json::Value::String(prose(rng, 160))
    ));
    trace.output = Some(serde_json::Value::String(prose(rng, 240)).to_string());
}

/// Writes `traces` traces in batches of `batch_traces`, `batch(first, count)` building each
/// while the writer thread commits the previous one; reports progress every 10 s, timed from
/// `started`.
pub async fn write_batches<S: Store>(
    store: &Arc<S>,
    traces: usize,
    batch_traces: usize,
    started: Instant,
    mut batch: impl FnMut(usize, usize) -> WriteBatch,
) -> anyhow::Result<()> {
    let mut in_flight: Option<tokio::task::JoinHandle<spindle_store::Result<()>>> = None;
    let mut first = 0;
    let mut last_report = Instant::now();
    while first < traces {
        let count = batch_traces.max(1).min(traces - first);
        let next = batch(first, count);
        if let Some(previous) = in_flight.take() {
            previous.await??;
        }
        let writer = store.clone();
        in_flight = Some(tokio::spawn(
            async move { writer.write(PROJECT_ID, next).await },
        ));
        first += count;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "seeded {first}/{traces} traces in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Some(previous) = in_flight.take() {
        previous.await??;
    }
    Ok(())
}
