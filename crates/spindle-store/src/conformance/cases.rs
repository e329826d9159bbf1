//! The conformance cases. Each takes a [`Harness`], opens its store and asserts behaviour.

use super::fixtures::*;
use super::Harness;
use crate::secret::ServerSecret;
use crate::SecretCheck;
use crate::{
    ApiKey, Cursor, Direction, ErrorKind, Filter, FilterValue, MediaRecord, MetricsQuery,
    ObservationQuery, OrderBy, Organization, Project, ScoreQuery, ScoreRange, SessionQuery, Store,
    TraceQuery, WriteBatch,
};
use spindle_core::merge::Stamp;
use spindle_core::{
    Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource, TraceRecord,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const P: &str = "project-a";
const Q: &str = "project-b";

async fn write(store: &Arc<dyn Store>, project: &str, batch: WriteBatch) {
    store
        .write(project, batch)
        .await
        .unwrap_or_else(|e| panic!("write failed: {e:?}"));
}

async fn trace_ids(store: &Arc<dyn Store>, query: &TraceQuery) -> Vec<String> {
    store
        .list_traces(P, query)
        .await
        .unwrap_or_else(|e| panic!("list_traces({query:?}) failed: {e:?}"))
        .items
        .into_iter()
        .map(|t| t.record.id)
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn full_trace(id: &str) -> TraceRecord {
    trace(id, create_stamp(BASE), |t| {
        t.timestamp = Some(BASE);
        t.environment = Some("production".into());
        t.name = Some("chat".into());
        t.user_id = Some("user-1".into());
        t.session_id = Some("session-1".into());
        t.release = Some("r1".into());
        t.version = Some("v1".into());
        t.public = Some(true);
        t.bookmarked = Some(false);
        t.input = Some(r#"{"question":"why?"}"#.into());
        t.output = Some("because".into());
        t.external_id = Some("ext-1".into());
        t.tags = ["a", "b"].iter().map(|s| (*s).to_owned()).collect();
        t.metadata
            .insert("json".into(), r#"{"nested":[1,2]}"#.into());
        t.metadata
            .insert("plain".into(), "text with \"quotes\" and ünïcode".into());
    })
}

fn full_observation(id: &str, trace_id: &str) -> ObservationRecord {
    observation(id, update_stamp(BASE + 5), |o| {
        o.trace_id = Some(trace_id.into());
        o.start_time = Some(BASE + SECOND);
        o.environment = Some("production".into());
        o.observation_type = Some(ObservationType::Generation);
        o.parent_observation_id = Some("parent-span".into());
        o.name = Some("llm".into());
        o.end_time = Some(BASE + 3 * SECOND);
        o.completion_start_time = Some(BASE + 2 * SECOND);
        o.level = Some(Level::Warning);
        o.status_message = Some("slow".into());
        o.version = Some("v2".into());
        o.model = Some("gpt-4o".into());
        o.model_parameters = Some(r#"{"temperature":0.7}"#.into());
        o.usage_details = Some(
            [("input".to_owned(), 10), ("output".to_owned(), 20)]
                .into_iter()
                .collect(),
        );
        o.cost_details = Some(
            [("input".to_owned(), 0.1), ("output".to_owned(), 0.2)]
                .into_iter()
                .collect(),
        );
        o.prompt_name = Some("prompt".into());
        o.prompt_version = Some(3);
        o.input = Some("[1,2,3]".into());
        o.output = Some("null".into());
        o.metadata.insert("k".into(), "v".into());
    })
}

fn full_score(id: &str, trace_id: &str) -> ScoreRecord {
    score(id, create_stamp(BASE + 7), |s| {
        s.timestamp = Some(BASE + 7);
        s.environment = Some("production".into());
        s.name = Some("quality".into());
        s.value = Some(0.25);
        s.string_value = Some("meh".into());
        s.data_type = Some(ScoreDataType::Numeric);
        s.source = Some(ScoreSource::Annotation);
        s.trace_id = Some(trace_id.into());
        s.observation_id = Some("obs-1".into());
        s.session_id = Some("session-1".into());
        s.dataset_run_id = Some("run-1".into());
        s.comment = Some("ok".into());
        s.config_id = Some("config-1".into());
        s.queue_id = Some("queue-1".into());
        s.author_user_id = Some("author".into());
        s.execution_trace_id = Some("exec-1".into());
        s.metadata.insert("m".into(), "1".into());
    })
}

/// Every field of every record type survives a write and a read.
pub async fn round_trip_every_field(harness: &Harness) {
    let store = harness.open().await;
    let trace_record = full_trace("trace-1");
    let observation_record = full_observation("obs-1", "trace-1");
    let score_record = full_score("score-1", "trace-1");
    write(
        &store,
        P,
        WriteBatch {
            traces: vec![trace_record.clone()],
            observations: vec![observation_record.clone()],
            scores: vec![score_record.clone()],
            run_items: Vec::new(),
            completions: Vec::new(),
        },
    )
    .await;
    // The store adds what it derives: the matched price entry (the cost was given).
    let mut observation_record = observation_record;
    observation_record.derived = spindle_core::DerivedCost {
        model_id: Some("openai-gpt-4o".to_owned()),
        prices: [
            ("input".to_owned(), 2.5e-6),
            ("input_cached_tokens".to_owned(), 1.25e-6),
            ("output".to_owned(), 10e-6),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };

    let stored = store.get_trace(P, "trace-1").await.expect("get_trace");
    let stored = stored.expect("the trace exists");
    assert_eq!(stored.record, trace_record);
    assert!(stored.created_at > 0 && stored.updated_at >= stored.created_at);
    assert_eq!(stored.observations.len(), 1);
    assert_eq!(stored.observations[0].record, observation_record);
    assert_eq!(stored.scores.len(), 1);
    assert_eq!(stored.scores[0].record, score_record);

    let observation_view = store
        .get_observation(P, "obs-1")
        .await
        .expect("get_observation")
        .expect("the observation exists");
    assert_eq!(observation_view.record, observation_record);
    assert_eq!(observation_view.trace_name.as_deref(), Some("chat"));
    assert_eq!(observation_view.user_id.as_deref(), Some("user-1"));
    assert_eq!(observation_view.session_id.as_deref(), Some("session-1"));
    assert_eq!(observation_view.release.as_deref(), Some("r1"));
    assert_eq!(observation_view.tags, strings(&["a", "b"]));

    let score_view = store
        .get_score(P, "score-1")
        .await
        .expect("get_score")
        .expect("the score exists");
    assert_eq!(score_view.record, score_record);
    assert_eq!(score_view.trace_user_id.as_deref(), Some("user-1"));
    assert_eq!(score_view.trace_tags, strings(&["a", "b"]));
    assert_eq!(score_view.trace_environment.as_deref(), Some("production"));
    assert_eq!(score_view.trace_session_id.as_deref(), Some("session-1"));

    assert_eq!(store.get_trace(P, "missing").await.expect("get"), None);
    assert_eq!(
        store.get_observation(P, "missing").await.expect("get"),
        None
    );
    assert_eq!(store.get_score(P, "missing").await.expect("get"), None);
}

/// Long inputs and outputs, and the resource and scope metadata an OpenTelemetry exporter
/// repeats on every span, read back as written whatever form the store keeps them in (SQLite
/// packs the ones and shares the others): by id, in lists, through merges, searched and
/// filtered.
pub async fn payloads_and_shared_metadata_read_as_written(harness: &Harness) {
    let store = harness.open().await;
    let resource = r#"{"service.name":"unknown_service:python","telemetry.sdk.language":"python"}"#;
    let scope = r#"{"name":"langfuse-sdk","version":"5.0.4","attributes":{}}"#;
    let long = |words: &str| {
        format!(
            "[{{\"role\":\"user\",\"content\":\"{}\"}}]",
            words.repeat(40)
        )
    };
    let span = |id: &str, service: &str, edit: &dyn Fn(&mut ObservationRecord)| {
        observation(id, create_stamp(BASE + 1), |o| {
            o.trace_id = Some("trace-1".into());
            o.start_time = Some(BASE + 1);
            o.name = Some(id.into());
            o.input = Some(long("what is the weather like in Paris today? "));
            o.output = Some(long("sunny and warm, with a light breeze. "));
            o.metadata
                .insert("resourceAttributes".into(), service.into());
            o.metadata.insert("scope".into(), scope.into());
            o.metadata
                .insert("request_id".into(), format!("request of {id}"));
            edit(o);
        })
    };
    let other_resource = r#"{"service.name":"billing"}"#;
    let trace_record = trace("trace-1", create_stamp(BASE), |t| {
        t.timestamp = Some(BASE);
        t.name = Some("chat".into());
        t.input = Some(long("a trace input that is long enough to pack "));
        t.output = Some(long("a trace output that is long enough to pack "));
    });
    let spans = vec![
        span("obs-1", resource, &|_| {}),
        span("obs-2", resource, &|o| {
            o.output = Some(long("the needle is somewhere in here "));
        }),
        span("obs-3", other_resource, &|o| {
            o.metadata.remove("scope");
        }),
        span("obs-4", resource, &|o| {
            o.metadata.clear();
            o.input = Some("short".into());
        }),
    ];
    for project in [P, Q] {
        write(
            &store,
            project,
            WriteBatch {
                traces: vec![trace_record.clone()],
                observations: spans.clone(),
                ..WriteBatch::default()
            },
        )
        .await;
    }
    let read = store
        .get_trace(P, "trace-1")
        .await
        .expect("get_trace")
        .expect("the trace exists");
    assert_eq!(read.record, trace_record);
    let by_id = |view: &crate::TraceView| -> BTreeMap<String, ObservationRecord> {
        view.observations
            .iter()
            .map(|o| {
                let mut record = o.record.clone();
                record.derived = Default::default();
                (record.id.clone(), record)
            })
            .collect()
    };
    let expected: BTreeMap<String, ObservationRecord> =
        spans.iter().map(|o| (o.id.clone(), o.clone())).collect();
    assert_eq!(by_id(&read), expected);
    let listed = store
        .list_observations(P, &ObservationQuery::default())
        .await
        .expect("list_observations");
    assert_eq!(listed.items.len(), 4);
    for item in &listed.items {
        assert_eq!(item.record.metadata, expected[&item.record.id].metadata);
        assert_eq!(item.record.input, expected[&item.record.id].input);
    }

    // A merge keeps the shared keys and changes the others.
    write(
        &store,
        P,
        WriteBatch {
            observations: vec![observation("obs-1", update_stamp(BASE + 2), |o| {
                o.output = Some(long("an updated output "));
                o.metadata
                    .insert("scope".into(), "{\"name\":\"other\"}".into());
                o.metadata.insert("extra".into(), "x".into());
            })],
            ..WriteBatch::default()
        },
    )
    .await;
    let merged = store
        .get_observation(P, "obs-1")
        .await
        .expect("get_observation")
        .expect("the observation exists")
        .record;
    assert_eq!(merged.output, Some(long("an updated output ")));
    assert_eq!(merged.input, expected["obs-1"].input);
    let mut metadata = expected["obs-1"].metadata.clone();
    metadata.insert("scope".into(), "{\"name\":\"other\"}".into());
    metadata.insert("extra".into(), "x".into());
    assert_eq!(merged.metadata, metadata);
    let unchanged = store
        .get_observation(Q, "obs-1")
        .await
        .expect("get_observation")
        .expect("the observation exists")
        .record;
    assert_eq!(unchanged.metadata, expected["obs-1"].metadata);

    // Searched and filtered on what they hold.
    let search = TraceQuery {
        search: Some("NEEDLE IS".into()),
        ..TraceQuery::default()
    };
    assert_eq!(trace_ids(&store, &search).await, strings(&["trace-1"]));
    let search = TraceQuery {
        search: Some("haystack".into()),
        ..TraceQuery::default()
    };
    assert!(trace_ids(&store, &search).await.is_empty());
    let with_metadata = |key: &str, value: &str| ObservationQuery {
        filters: vec![Filter {
            key: Some(key.into()),
            ..Filter::new("metadata", "=", text(value))
        }],
        ..ObservationQuery::default()
    };
    let ids = |page: crate::Page<crate::ObservationView>| -> Vec<String> {
        sorted(page.items.into_iter().map(|o| o.record.id).collect())
    };
    let cases: [(&str, &str, &[&str]); 4] = [
        ("resourceAttributes", other_resource, &["obs-3"]),
        ("scope", scope, &["obs-2"]),
        ("request_id", "request of obs-3", &["obs-3"]),
        ("extra", "x", &["obs-1"]),
    ];
    for (key, value, expected_ids) in cases {
        let page = store
            .list_observations(P, &with_metadata(key, value))
            .await
            .expect("filtered list");
        assert_eq!(ids(page), strings(expected_ids), "{key} = {value}");
    }
}

/// A trace's tree is the trace as `get_trace` reads it, but its observations come without
/// input, output and metadata; the trace keeps its own.
pub async fn trace_tree_leaves_out_payloads(harness: &Harness) {
    let store = harness.open().await;
    let child = observation("obs-2", create_stamp(BASE + 2), |o| {
        o.trace_id = Some("trace-1".into());
        o.parent_observation_id = Some("obs-1".into());
        o.start_time = Some(BASE + 2);
        o.name = Some("child".into());
        o.input = Some("a large input".into());
        o.output = Some("a large output".into());
        o.metadata.insert("k".into(), "v".into());
    });
    write(
        &store,
        P,
        WriteBatch {
            traces: vec![full_trace("trace-1")],
            observations: vec![full_observation("obs-1", "trace-1"), child],
            scores: vec![full_score("score-1", "trace-1")],
            run_items: Vec::new(),
            completions: Vec::new(),
        },
    )
    .await;

    let full = store
        .get_trace(P, "trace-1")
        .await
        .expect("get_trace")
        .expect("the trace exists");
    assert!(full
        .observations
        .iter()
        .all(|o| o.record.input.is_some() && o.record.output.is_some()));
    assert!(full
        .observations
        .iter()
        .all(|o| !o.record.metadata.is_empty()));
    let tree = store
        .get_trace_tree(P, "trace-1")
        .await
        .expect("get_trace_tree")
        .expect("the trace exists");
    let mut expected = full.clone();
    for observation in &mut expected.observations {
        observation.record.input = None;
        observation.record.output = None;
        observation.record.metadata = Default::default();
    }
    assert_eq!(tree, expected);
    assert!(tree.record.input.is_some() && tree.record.output.is_some());
    assert_eq!(tree.observations.len(), 2);
    assert_eq!(tree.scores.len(), 1);

    assert_eq!(store.get_trace_tree(P, "missing").await.expect("get"), None);
    assert_eq!(store.get_trace_tree(Q, "trace-1").await.expect("get"), None);
}

/// Updates before creates, children before parents and parents in later writes all merge.
pub async fn merge_across_separate_writes(harness: &Harness) {
    let store = harness.open().await;
    let create = trace("t1", create_stamp(BASE), |t| {
        t.timestamp = Some(BASE);
        t.name = Some("created".into());
        t.tags.insert("from-create".into());
        t.metadata.insert("k".into(), "create".into());
    });
    let update = trace("t1", update_stamp(BASE + SECOND), |t| {
        t.name = Some("updated".into());
        t.user_id = Some("u".into());
        t.timestamp = Some(BASE + SECOND);
        t.tags.insert("from-update".into());
        t.metadata.insert("k".into(), "update".into());
    });
    // The child arrives first, then the update, then the create of its trace.
    let child = simple_observation("o1", "t1", BASE + 2 * SECOND, Some(BASE + 3 * SECOND));
    let child_update = observation("o1", update_stamp(BASE + 4 * SECOND), |o| {
        o.output = Some("done".into());
        o.level = Some(Level::Error);
    });
    write(&store, P, batch_of_observations(vec![child_update.clone()])).await;
    write(&store, P, batch_of_observations(vec![child.clone()])).await;
    write(&store, P, batch_of_traces(vec![update.clone()])).await;
    write(&store, P, batch_of_traces(vec![create.clone()])).await;

    let mut expected = create;
    expected.merge(update);
    let stored = store
        .get_trace(P, "t1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.record, expected);
    assert_eq!(stored.record.name.as_deref(), Some("updated"));
    assert_eq!(
        stored.record.timestamp,
        Some(BASE),
        "timestamp is write-once"
    );
    assert_eq!(stored.record.user_id.as_deref(), Some("u"));
    assert_eq!(
        stored.record.metadata.get("k").map(String::as_str),
        Some("update")
    );
    assert_eq!(stored.record.tags.len(), 2);

    let mut expected_child = child;
    expected_child.merge(child_update);
    assert_eq!(stored.observations.len(), 1);
    assert_eq!(stored.observations[0].record, expected_child);
    assert_eq!(stored.level, Level::Error);

    // A write that repeats a stored patch changes nothing (idempotence).
    write(&store, P, batch_of_traces(vec![expected.clone()])).await;
    let again = store
        .get_trace(P, "t1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(again.record, expected);
    assert_eq!(
        again.created_at, stored.created_at,
        "created_at never changes"
    );
    assert_eq!(
        again.updated_at, stored.updated_at,
        "a write that changes nothing does not touch updated_at"
    );
}

/// A random set of patches for a few traces, observations and scores.
fn random_patches(rng: &mut Rng) -> Vec<WriteBatch> {
    let names = ["alpha", "beta", "gamma", "delta"];
    let mut patches = Vec::new();
    for t in 0..3 {
        let id = format!("trace-{t}");
        for _ in 0..(2 + rng.below(4)) {
            let at = BASE + rng.below(50) as i64 * SECOND;
            let stamp = if rng.chance(50) {
                create_stamp(at)
            } else {
                update_stamp(at)
            };
            let stamp = if rng.chance(20) {
                stamp.implicit()
            } else {
                stamp
            };
            let stamp = Stamp {
                tiebreak: rng.next_u64(),
                ..stamp
            };
            let record = trace(&id, stamp, |r| {
                if rng.chance(60) {
                    r.timestamp = Some(at);
                }
                if rng.chance(60) {
                    r.name = Some(names[rng.below(4) as usize].to_owned());
                }
                if rng.chance(40) {
                    r.user_id = Some(format!("user-{}", rng.below(3)));
                }
                if rng.chance(40) {
                    r.input = Some(format!("input-{}", rng.below(100)));
                }
                if rng.chance(30) {
                    r.public = Some(rng.chance(50));
                }
                if rng.chance(40) {
                    r.tags.insert(format!("tag-{}", rng.below(4)));
                }
                if rng.chance(50) {
                    r.metadata
                        .insert(format!("k{}", rng.below(3)), format!("v{}", rng.below(9)));
                }
            });
            patches.push(batch_of_traces(vec![record]));
        }
    }
    for o in 0..8 {
        let id = format!("obs-{o}");
        let trace_id = format!("trace-{}", o % 3);
        for _ in 0..(1 + rng.below(4)) {
            let at = BASE + rng.below(50) as i64 * SECOND;
            let stamp = Stamp {
                tiebreak: rng.next_u64(),
                ..if rng.chance(50) {
                    create_stamp(at)
                } else {
                    update_stamp(at)
                }
            };
            let record = observation(&id, stamp, |r| {
                if rng.chance(70) {
                    r.trace_id = Some(trace_id.clone());
                }
                if rng.chance(60) {
                    r.start_time = Some(at);
                }
                if rng.chance(50) {
                    r.end_time = Some(at + rng.below(5) as i64 * SECOND);
                }
                if rng.chance(50) {
                    r.name = Some(names[rng.below(4) as usize].to_owned());
                }
                if rng.chance(40) {
                    r.level = Some(Level::ALL[rng.below(4) as usize]);
                }
                if rng.chance(40) {
                    r.cost_details = Some(
                        [("total".to_owned(), rng.below(1000) as f64 / 7.0)]
                            .into_iter()
                            .collect(),
                    );
                }
                if rng.chance(40) {
                    r.usage_details = Some(
                        [("input".to_owned(), rng.below(100) as i64)]
                            .into_iter()
                            .collect(),
                    );
                }
                if rng.chance(40) {
                    r.metadata.insert("m".into(), format!("{}", rng.below(5)));
                }
            });
            patches.push(batch_of_observations(vec![record]));
        }
    }
    for s in 0..3 {
        let id = format!("score-{s}");
        for _ in 0..(1 + rng.below(3)) {
            let at = BASE + rng.below(50) as i64 * SECOND;
            let stamp = Stamp {
                tiebreak: rng.next_u64(),
                ..create_stamp(at)
            };
            let record = score(&id, stamp, |r| {
                r.trace_id = Some(format!("trace-{s}"));
                if rng.chance(60) {
                    r.value = Some(rng.below(10) as f64 / 3.0);
                }
                if rng.chance(60) {
                    r.name = Some(names[rng.below(4) as usize].to_owned());
                }
                if rng.chance(60) {
                    r.timestamp = Some(at);
                }
            });
            patches.push(batch_of_scores(vec![record]));
        }
    }
    patches
}

/// A project's traces, observations and scores by id.
type Snapshot = (
    BTreeMap<String, TraceRecord>,
    BTreeMap<String, ObservationRecord>,
    BTreeMap<String, ScoreRecord>,
);

/// Everything stored in a project, as records keyed by id.
async fn snapshot(store: &Arc<dyn Store>, project: &str) -> Snapshot {
    let query = TraceQuery::with_limit(1000);
    let traces = store
        .list_traces(project, &query)
        .await
        .expect("list traces");
    let observations = store
        .list_observations(project, &ObservationQuery::with_limit(1000))
        .await
        .expect("list observations");
    let scores = store
        .list_scores(
            project,
            &ScoreQuery {
                limit: 1000,
                ..ScoreQuery::default()
            },
        )
        .await
        .expect("list scores");
    (
        traces
            .items
            .into_iter()
            .map(|t| (t.record.id.clone(), t.record))
            .collect(),
        observations
            .items
            .into_iter()
            .map(|o| (o.record.id.clone(), o.record))
            .collect(),
        scores
            .items
            .into_iter()
            .map(|s| (s.record.id.clone(), s.record))
            .collect(),
    )
}

/// The same patches, shuffled and split differently across writes, give the same data.
pub async fn order_and_splits_do_not_matter(harness: &Harness) {
    let store = harness.open().await;
    for seed in 1..=6u64 {
        let mut rng = Rng::new(seed * 7919);
        let patches = random_patches(&mut rng);
        // The reference: every patch merged in memory, in generation order.
        let mut reference = WriteBatch::default();
        for patch in &patches {
            reference.extend(patch.clone());
        }
        reference.coalesce();

        let mut first: Option<Snapshot> = None;
        for attempt in 0..4u64 {
            let project = format!("order-{seed}-{attempt}");
            let mut shuffled = patches.clone();
            rng.shuffle(&mut shuffled);
            let mut pending = WriteBatch::default();
            for patch in shuffled {
                pending.extend(patch);
                if rng.chance(40) {
                    write(&store, &project, std::mem::take(&mut pending)).await;
                }
            }
            write(&store, &project, pending).await;
            let stored = snapshot(&store, &project).await;
            let expected_traces: BTreeMap<String, TraceRecord> = reference
                .traces
                .iter()
                .map(|t| (t.id.clone(), t.clone()))
                .collect();
            let expected_observations: BTreeMap<String, ObservationRecord> = reference
                .observations
                .iter()
                .map(|o| (o.id.clone(), o.clone()))
                .collect();
            let expected_scores: BTreeMap<String, ScoreRecord> = reference
                .scores
                .iter()
                .map(|s| (s.id.clone(), s.clone()))
                .collect();
            assert_eq!(
                stored.0, expected_traces,
                "traces, seed {seed} attempt {attempt}"
            );
            assert_eq!(
                stored.1, expected_observations,
                "observations, seed {seed} attempt {attempt}"
            );
            assert_eq!(
                stored.2, expected_scores,
                "scores, seed {seed} attempt {attempt}"
            );
            match &first {
                None => first = Some(stored),
                Some(first) => assert_eq!(first, &stored, "seed {seed} attempt {attempt}"),
            }
        }
    }
}

/// One project never sees another's data, even by id.
pub async fn project_isolation(harness: &Harness) {
    let store = harness.open().await;
    write(
        &store,
        P,
        WriteBatch {
            traces: vec![full_trace("shared-id")],
            observations: vec![full_observation("obs-1", "shared-id")],
            scores: vec![full_score("score-1", "shared-id")],
            run_items: Vec::new(),
            completions: Vec::new(),
        },
    )
    .await;
    let other = trace("shared-id", create_stamp(BASE), |t| {
        t.name = Some("project b".into());
        t.timestamp = Some(BASE);
        t.session_id = Some("session-b".into());
    });
    write(&store, Q, batch_of_traces(vec![other])).await;

    let b = store
        .get_trace(Q, "shared-id")
        .await
        .expect("get")
        .expect("b's trace");
    assert_eq!(b.record.name.as_deref(), Some("project b"));
    assert!(b.observations.is_empty() && b.scores.is_empty());
    assert!(b.observation_ids.is_empty() && b.score_ids.is_empty());
    assert_eq!(store.get_observation(Q, "obs-1").await.expect("get"), None);
    assert_eq!(store.get_score(Q, "score-1").await.expect("get"), None);
    let list = store
        .list_traces(Q, &TraceQuery::default())
        .await
        .expect("list");
    assert_eq!(list.total_items, 1);
    let observations = store
        .list_observations(Q, &ObservationQuery::default())
        .await
        .expect("list");
    assert_eq!(observations.total_items, 0);
    let scores = store
        .list_scores(Q, &ScoreQuery::default())
        .await
        .expect("list");
    assert_eq!(scores.total_items, 0);
    let sessions = store
        .list_sessions(Q, &SessionQuery::default())
        .await
        .expect("sessions");
    assert_eq!(
        sessions
            .items
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        vec!["session-b"]
    );
    assert_eq!(store.get_session(Q, "session-1").await.expect("get"), None);
    assert_eq!(
        store
            .delete_traces(Q, &strings(&["obs-1", "missing"]))
            .await
            .expect("delete"),
        0
    );
    assert!(!store.delete_score(Q, "score-1").await.expect("delete"));
    let a = store
        .get_trace(P, "shared-id")
        .await
        .expect("get")
        .expect("a's trace");
    assert_eq!(a.record.name.as_deref(), Some("chat"));
    assert_eq!(a.scores.len(), 1);
    assert_eq!(
        store
            .get_score(P, "score-1")
            .await
            .expect("get")
            .map(|s| s.record.id),
        Some("score-1".into())
    );
}

/// id, name, user, session, environment, tags, release, public.
type TraceSpec<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
    &'a str,
    bool,
);

/// Five traces with distinct fields, used by the query and filter cases.
async fn seed_filter_traces(store: &Arc<dyn Store>) {
    let mut traces = Vec::new();
    let specs: [TraceSpec; 5] = [
        ("t1", "chat", "alice", "s1", "prod", &["a", "b"], "r1", true),
        ("t2", "chat-v2", "bob", "s1", "dev", &["b"], "r2", false),
        ("t3", "search", "alice", "s2", "prod", &["c"], "r1", false),
        ("t4", "Search Tool", "carol", "s3", "prod", &[], "r3", true),
        (
            "t5",
            "50% off_sale",
            "dave",
            "",
            "dev",
            &["a", "c"],
            "r2",
            false,
        ),
    ];
    for (index, (id, name, user, session, env, tags, release, public)) in specs.iter().enumerate() {
        let at = BASE + index as i64 * 10 * SECOND;
        traces.push(trace(id, create_stamp(at), |t| {
            t.timestamp = Some(at);
            t.name = Some((*name).to_owned());
            t.user_id = Some((*user).to_owned());
            if !session.is_empty() {
                t.session_id = Some((*session).to_owned());
            }
            t.environment = Some((*env).to_owned());
            t.tags = tags.iter().map(|s| (*s).to_owned()).collect();
            t.release = Some((*release).to_owned());
            t.version = Some(format!("v{index}"));
            t.public = Some(*public);
            t.bookmarked = Some(index == 2);
            t.metadata
                .insert("team".into(), format!("\"team-{}\"", index % 2));
            t.metadata.insert("plain".into(), format!("value {index}"));
            // Numbers and booleans as the SDKs send them: bare, or JSON-quoted.
            let number = if index == 2 {
                format!("\"{}\"", index * 10)
            } else {
                format!("{}", index * 10)
            };
            t.metadata.insert("count".into(), number);
            t.metadata
                .insert("flag".into(), (index % 2 == 0).to_string());
            t.input = Some(format!("question number {index}"));
        }));
    }
    let observations = vec![
        // t1: latency 4 s, cost 1.5 (total), level WARNING.
        observation("o1", create_stamp(BASE), |o| {
            o.trace_id = Some("t1".into());
            o.start_time = Some(BASE);
            o.end_time = Some(BASE + 4 * SECOND);
            o.level = Some(Level::Warning);
            o.cost_details = Some(
                [("total".to_owned(), 1.5), ("input".to_owned(), 1.0)]
                    .into_iter()
                    .collect(),
            );
        }),
        // t2: latency 1 s, cost 0.25 (sum of parts), level ERROR; output has a needle.
        observation("o2", create_stamp(BASE), |o| {
            o.trace_id = Some("t2".into());
            o.start_time = Some(BASE + 10 * SECOND);
            o.end_time = Some(BASE + 11 * SECOND);
            o.level = Some(Level::Error);
            o.output = Some("the Needle in the haystack".into());
            o.cost_details = Some(
                [("input".to_owned(), 0.125), ("output".to_owned(), 0.125)]
                    .into_iter()
                    .collect(),
            );
        }),
        // t3: latency 0, no cost, DEBUG.
        observation("o3", create_stamp(BASE), |o| {
            o.trace_id = Some("t3".into());
            o.start_time = Some(BASE + 20 * SECOND);
            o.level = Some(Level::Debug);
        }),
    ];
    write(
        store,
        P,
        WriteBatch {
            traces,
            observations,
            scores: Vec::new(),
            run_items: Vec::new(),
            completions: Vec::new(),
        },
    )
    .await;
}

/// The plain query parameters of the trace list.
pub async fn trace_query_parameters(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let cases: Vec<(TraceQuery, &[&str])> = vec![
        (TraceQuery::default(), &["t1", "t2", "t3", "t4", "t5"]),
        (
            TraceQuery {
                user_id: Some("alice".into()),
                ..Default::default()
            },
            &["t1", "t3"],
        ),
        (
            TraceQuery {
                name: Some("chat".into()),
                ..Default::default()
            },
            &["t1"],
        ),
        (
            TraceQuery {
                session_id: Some("s1".into()),
                ..Default::default()
            },
            &["t1", "t2"],
        ),
        (
            TraceQuery {
                version: Some("v3".into()),
                ..Default::default()
            },
            &["t4"],
        ),
        (
            TraceQuery {
                release: Some("r2".into()),
                ..Default::default()
            },
            &["t2", "t5"],
        ),
        (
            TraceQuery {
                tags: strings(&["a"]),
                ..Default::default()
            },
            &["t1", "t5"],
        ),
        (
            TraceQuery {
                tags: strings(&["a", "c"]),
                ..Default::default()
            },
            &["t5"],
        ),
        (
            TraceQuery {
                environments: strings(&["dev"]),
                ..Default::default()
            },
            &["t2", "t5"],
        ),
        (
            TraceQuery {
                environments: strings(&["dev", "prod"]),
                ..Default::default()
            },
            &["t1", "t2", "t3", "t4", "t5"],
        ),
        (
            TraceQuery {
                from_timestamp: Some(BASE + 10 * SECOND),
                to_timestamp: Some(BASE + 30 * SECOND),
                ..Default::default()
            },
            &["t2", "t3"],
        ),
        (
            TraceQuery {
                user_id: Some("alice".into()),
                environments: strings(&["prod"]),
                release: Some("r1".into()),
                ..Default::default()
            },
            &["t1", "t3"],
        ),
        (
            TraceQuery {
                user_id: Some("nobody".into()),
                ..Default::default()
            },
            &[],
        ),
    ];
    for (query, expected) in cases {
        let page = store.list_traces(P, &query).await.expect("list");
        let ids = sorted(page.items.iter().map(|t| t.record.id.clone()).collect());
        assert_eq!(ids, strings(expected), "{query:?}");
        assert_eq!(page.total_items, expected.len() as u64, "{query:?}");
    }
}

fn text(value: &str) -> FilterValue {
    FilterValue::String(value.into())
}

fn list(values: &[&str]) -> FilterValue {
    FilterValue::Strings(strings(values))
}

/// Traces with a score of a name in a value range, with exact totals beyond any page.
pub async fn traces_by_score_range(harness: &Harness) {
    let store = harness.open().await;
    let traces = (0..30)
        .map(|i| simple_trace(&format!("t{i:02}"), BASE + i64::from(i) * DAY, "chat"))
        .collect();
    write(&store, P, batch_of_traces(traces)).await;
    let scores = (0..30)
        .map(|i| {
            score(&format!("s{i:02}"), create_stamp(BASE), |s| {
                s.trace_id = Some(format!("t{i:02}"));
                s.name = Some(if i % 2 == 0 { "quality" } else { "other" }.into());
                s.value = Some(f64::from(i) / 10.0);
                s.data_type = Some(ScoreDataType::Numeric);
            })
        })
        .collect();
    write(&store, P, batch_of_scores(scores)).await;
    let by_score = |name: &str, min: Option<f64>, max: Option<f64>, limit: u32| TraceQuery {
        limit,
        score: Some(ScoreRange {
            name: name.into(),
            min,
            max,
        }),
        ..TraceQuery::default()
    };
    assert_eq!(
        sorted(trace_ids(&store, &by_score("quality", Some(1.0), Some(1.4), 50)).await),
        strings(&["t10", "t12", "t14"])
    );
    assert_eq!(
        sorted(trace_ids(&store, &by_score("quality", None, Some(0.2), 50)).await),
        strings(&["t00", "t02"])
    );
    assert!(trace_ids(&store, &by_score("absent", None, None, 50))
        .await
        .is_empty());
    // A page of the newest, and the exact total of every match.
    let page = store
        .list_traces(P, &by_score("quality", Some(0.5), None, 3))
        .await
        .expect("page");
    assert_eq!(page.total_items, 12);
    assert!(!page.total_is_estimate);
    let ids: Vec<&str> = page.items.iter().map(|t| t.record.id.as_str()).collect();
    assert_eq!(ids, ["t28", "t26", "t24"]);

    // Past `SCORE_RANGE_EXACT_UP_TO` scores in a range that is the list's only condition, the
    // total is their count, marked as an estimate (here most scores name no stored trace);
    // the page is still exact. With another condition, the total stays exact.
    let many = crate::sql::reads::SCORE_RANGE_EXACT_UP_TO + 5;
    let scores = (0..many)
        .map(|i| {
            score(&format!("m{i:05}"), create_stamp(BASE), |s| {
                s.trace_id = Some(format!("t{:02}", i % 40));
                s.name = Some("many".into());
                s.value = Some(1.0);
                s.data_type = Some(ScoreDataType::Numeric);
            })
        })
        .collect();
    write(&store, P, batch_of_scores(scores)).await;
    let page = store
        .list_traces(P, &by_score("many", Some(0.5), None, 2))
        .await
        .expect("estimated page");
    assert_eq!(page.total_items, many);
    assert!(page.total_is_estimate);
    let ids: Vec<&str> = page.items.iter().map(|t| t.record.id.as_str()).collect();
    assert_eq!(ids, ["t29", "t28"]);
    // Values spread over the range: the estimate scales the first scores in value order
    // (10,001 of them, 0 to 10,000 here) by the width of the range's values, as if the others
    // were as dense (here they are ten times sparser: 1,999 more up to 29,990).
    let scores = (0..12_000_u32)
        .map(|i| {
            score(&format!("v{i:05}"), create_stamp(BASE), |s| {
                s.trace_id = Some(format!("t{:02}", i % 40));
                s.name = Some("spread".into());
                s.value = Some(match i {
                    0..=10_000 => f64::from(i),
                    _ => 10_000.0 + f64::from(i - 10_000) * 10.0,
                });
                s.data_type = Some(ScoreDataType::Numeric);
            })
        })
        .collect();
    write(&store, P, batch_of_scores(scores)).await;
    // 12,000 and 10,051 scores in these ranges.
    for (max, expected) in [(29_990.0, 29_993), (10_500.0, 10_501)] {
        let page = store
            .list_traces(P, &by_score("spread", Some(0.0), Some(max), 2))
            .await
            .expect("estimated page");
        assert_eq!(page.total_items, expected, "up to {max}");
        assert!(page.total_is_estimate);
    }
    let narrowed = TraceQuery {
        name: Some("chat".into()),
        ..by_score("many", Some(0.5), None, 2)
    };
    let page = store.list_traces(P, &narrowed).await.expect("exact page");
    assert_eq!(
        page.total_items, 30,
        "every stored trace has a score of the name"
    );
    assert!(!page.total_is_estimate);
}

/// Every filter column and operator of the trace list.
pub async fn trace_filters(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let metadata = |operator: &str, key: &str, value: &str| Filter {
        key: Some(key.into()),
        ..Filter::new("metadata", operator, text(value))
    };
    let cases: Vec<(Vec<Filter>, &[&str])> = vec![
        (vec![Filter::new("id", "=", text("t2"))], &["t2"]),
        (
            vec![Filter::new("id", "!=", text("t2"))],
            &["t1", "t3", "t4", "t5"],
        ),
        (vec![Filter::new("name", "=", text("chat"))], &["t1"]),
        (
            vec![Filter::new("name", "contains", text("chat"))],
            &["t1", "t2"],
        ),
        (
            vec![Filter::new("name", "contains", text("SEARCH"))],
            &["t3", "t4"],
        ),
        (
            vec![Filter::new("name", "does not contain", text("chat"))],
            &["t3", "t4", "t5"],
        ),
        (
            vec![Filter::new("name", "starts with", text("search"))],
            &["t3", "t4"],
        ),
        (vec![Filter::new("name", "ends with", text("v2"))], &["t2"]),
        (vec![Filter::new("name", "contains", text("%"))], &["t5"]),
        (vec![Filter::new("name", "contains", text("_"))], &["t5"]),
        (
            vec![Filter::new("name", "any of", list(&["chat", "search"]))],
            &["t1", "t3"],
        ),
        (
            vec![Filter::new("name", "none of", list(&["chat", "search"]))],
            &["t2", "t4", "t5"],
        ),
        (
            vec![Filter::new("userId", "=", text("alice"))],
            &["t1", "t3"],
        ),
        (
            vec![Filter::new("sessionId", "any of", list(&["s1", "s3"]))],
            &["t1", "t2", "t4"],
        ),
        (vec![Filter::new("sessionId", "=", text(""))], &["t5"]),
        (
            vec![Filter::new("release", "!=", text("r1"))],
            &["t2", "t4", "t5"],
        ),
        (
            vec![Filter::new("version", "starts with", text("v"))],
            &["t1", "t2", "t3", "t4", "t5"],
        ),
        (
            vec![Filter::new("environment", "=", text("dev"))],
            &["t2", "t5"],
        ),
        (
            vec![Filter::new(
                "timestamp",
                ">=",
                FilterValue::Datetime(BASE + 20 * SECOND),
            )],
            &["t3", "t4", "t5"],
        ),
        (
            vec![Filter::new(
                "timestamp",
                "<",
                FilterValue::Datetime(BASE + 20 * SECOND),
            )],
            &["t1", "t2"],
        ),
        (
            vec![Filter::new(
                "timestamp",
                "=",
                FilterValue::Datetime(BASE + 10 * SECOND),
            )],
            &["t2"],
        ),
        (
            vec![Filter::new(
                "timestamp",
                ">",
                FilterValue::Datetime(BASE + 30 * SECOND),
            )],
            &["t5"],
        ),
        (
            vec![Filter::new("timestamp", "<=", FilterValue::Datetime(BASE))],
            &["t1"],
        ),
        (
            vec![Filter::new("tags", "any of", list(&["a", "c"]))],
            &["t1", "t3", "t5"],
        ),
        (
            vec![Filter::new("tags", "all of", list(&["a", "c"]))],
            &["t5"],
        ),
        (
            vec![Filter::new("tags", "all of", list(&["b"]))],
            &["t1", "t2"],
        ),
        (
            vec![Filter::new("tags", "none of", list(&["a", "b"]))],
            &["t3", "t4"],
        ),
        (vec![metadata("=", "team", "team-0")], &["t1", "t3", "t5"]),
        (vec![metadata("=", "plain", "value 3")], &["t4"]),
        (vec![metadata("contains", "plain", "ue 1")], &["t2"]),
        (
            vec![metadata("does not contain", "plain", "value 1")],
            &["t1", "t3", "t4", "t5"],
        ),
        (
            vec![metadata("starts with", "plain", "value")],
            &["t1", "t2", "t3", "t4", "t5"],
        ),
        (vec![metadata("ends with", "plain", "4")], &["t5"]),
        (vec![metadata("=", "missing", "x")], &[]),
        (
            vec![Filter {
                key: Some("count".into()),
                ..Filter::new("metadata", ">=", FilterValue::Number(20.0))
            }],
            &["t3", "t4", "t5"],
        ),
        (
            vec![Filter {
                key: Some("count".into()),
                ..Filter::new("metadata", "=", FilterValue::Number(10.0))
            }],
            &["t2"],
        ),
        (
            vec![Filter {
                key: Some("flag".into()),
                ..Filter::new("metadata", "=", FilterValue::Boolean(true))
            }],
            &["t1", "t3", "t5"],
        ),
        (
            vec![Filter::new("bookmarked", "=", FilterValue::Boolean(true))],
            &["t3"],
        ),
        (
            vec![Filter::new("public", "=", FilterValue::Boolean(true))],
            &["t1", "t4"],
        ),
        (
            vec![Filter::new("public", "!=", FilterValue::Boolean(true))],
            &["t2", "t3", "t5"],
        ),
        (vec![Filter::new("level", "=", text("ERROR"))], &["t2"]),
        (
            vec![Filter::new("level", "any of", list(&["WARNING", "ERROR"]))],
            &["t1", "t2"],
        ),
        (
            vec![Filter::new("level", "=", text("DEFAULT"))],
            &["t4", "t5"],
        ),
        (
            vec![Filter::new("level", "none of", list(&["DEFAULT"]))],
            &["t1", "t2", "t3"],
        ),
        (
            vec![Filter::new("latency", ">", FilterValue::Number(2.0))],
            &["t1"],
        ),
        (
            vec![Filter::new("latency", ">=", FilterValue::Number(1.0))],
            &["t1", "t2"],
        ),
        (
            vec![Filter::new("latency", "=", FilterValue::Number(0.0))],
            &["t3"],
        ),
        (
            vec![Filter::new("totalCost", ">", FilterValue::Number(0.0))],
            &["t1", "t2"],
        ),
        (
            vec![Filter::new("totalCost", "=", FilterValue::Number(0.25))],
            &["t2"],
        ),
        (
            vec![Filter::new("totalCost", "<", FilterValue::Number(1.0))],
            &["t2", "t3", "t4", "t5"],
        ),
        (
            vec![
                Filter::new("userId", "=", text("alice")),
                Filter::new("tags", "any of", list(&["c"])),
            ],
            &["t3"],
        ),
    ];
    for (filters, expected) in cases {
        let query = TraceQuery {
            filters: filters.clone(),
            ..TraceQuery::default()
        };
        let page = store.list_traces(P, &query).await.expect("list");
        let ids = sorted(page.items.iter().map(|t| t.record.id.clone()).collect());
        assert_eq!(ids, strings(expected), "{filters:?}");
        assert_eq!(page.total_items, expected.len() as u64, "{filters:?}");
    }
}

/// Unknown columns, operators and ill-typed values are `InvalidArgument` naming the field.
pub async fn invalid_filters_name_the_field(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let cases: Vec<(Filter, &str)> = vec![
        (
            Filter::new("foo", "=", text("x")),
            "filter[1].column: unknown column \"foo\"",
        ),
        (
            Filter::new("name", "~=", text("x")),
            "filter[1].operator: unknown operator \"~=\"",
        ),
        (Filter::new("latency", ">", text("x")), "filter[1].value:"),
        (Filter::new("timestamp", ">", text("x")), "filter[1].value:"),
        (
            Filter::new("tags", "contains", list(&["a"])),
            "filter[1].operator:",
        ),
        (Filter::new("metadata", "=", text("x")), "filter[1].key:"),
        (Filter::new("level", "=", text("LOUD")), "filter[1].value:"),
        (
            Filter::new("bookmarked", "=", text("yes")),
            "filter[1].value:",
        ),
    ];
    for (bad, expected) in cases {
        let query = TraceQuery {
            filters: vec![Filter::new("name", "=", text("chat")), bad.clone()],
            ..TraceQuery::default()
        };
        let error = store
            .list_traces(P, &query)
            .await
            .expect_err("an invalid filter is an error");
        assert_eq!(error.kind, ErrorKind::InvalidArgument, "{bad:?}");
        assert!(
            error.message.starts_with(expected),
            "{bad:?}: {}",
            error.message
        );
    }
    let error = store
        .list_traces(
            P,
            &TraceQuery {
                order_by: Some(OrderBy {
                    column: "colour".into(),
                    direction: Direction::Asc,
                }),
                ..TraceQuery::default()
            },
        )
        .await
        .expect_err("an unknown order column is an error");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(error.message.contains("colour"), "{}", error.message);
    let error = store
        .list_observations(
            P,
            &ObservationQuery {
                filters: vec![Filter::new("nope", "=", text("x"))],
                ..ObservationQuery::default()
            },
        )
        .await
        .expect_err("unknown observation column");
    assert!(error
        .message
        .starts_with("filter[0].column: unknown column \"nope\""));
    let error = store
        .list_scores(
            P,
            &ScoreQuery {
                value: Some(("~".into(), 1.0)),
                ..ScoreQuery::default()
            },
        )
        .await
        .expect_err("unknown score operator");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
}

/// Sorting on every order column, both directions, and page totals.
pub async fn trace_ordering_and_pagination(harness: &Harness) {
    use Direction::{Asc, Desc};
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let order = |column: &str, direction: Direction| TraceQuery {
        order_by: Some(OrderBy {
            column: column.into(),
            direction,
        }),
        limit: 10,
        ..TraceQuery::default()
    };
    assert_eq!(
        trace_ids(&store, &TraceQuery::default()).await,
        strings(&["t5", "t4", "t3", "t2", "t1"]),
        "newest first by default"
    );
    let cases: [(&str, Direction, [&str; 5]); 11] = [
        ("timestamp", Asc, ["t1", "t2", "t3", "t4", "t5"]),
        ("timestamp", Desc, ["t5", "t4", "t3", "t2", "t1"]),
        ("name", Asc, ["t5", "t4", "t1", "t2", "t3"]),
        ("userId", Desc, ["t5", "t4", "t2", "t3", "t1"]),
        ("id", Desc, ["t5", "t4", "t3", "t2", "t1"]),
        ("release", Asc, ["t1", "t3", "t2", "t5", "t4"]),
        ("version", Desc, ["t5", "t4", "t3", "t2", "t1"]),
        ("latency", Desc, ["t1", "t2", "t3", "t5", "t4"]),
        ("totalCost", Desc, ["t1", "t2", "t5", "t4", "t3"]),
        ("sessionId", Asc, ["t5", "t1", "t2", "t3", "t4"]),
        ("environment", Asc, ["t2", "t5", "t1", "t3", "t4"]),
    ];
    for (column, direction, expected) in cases {
        let query = order(column, direction);
        assert_eq!(
            trace_ids(&store, &query).await,
            strings(&expected),
            "{:?}",
            query.order_by
        );
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let result = store
            .list_traces(
                P,
                &TraceQuery {
                    page,
                    limit: 2,
                    ..TraceQuery::default()
                },
            )
            .await
            .expect("page");
        assert_eq!(result.total_items, 5);
        assert_eq!(result.total_pages(), 3);
        assert_eq!((result.page, result.limit), (page, 2));
        assert_eq!(result.items.len(), if page == 3 { 1 } else { 2 });
        seen.extend(result.items.into_iter().map(|t| t.record.id));
    }
    assert_eq!(seen, strings(&["t5", "t4", "t3", "t2", "t1"]));
    let beyond = store
        .list_traces(
            P,
            &TraceQuery {
                page: 9,
                limit: 2,
                ..TraceQuery::default()
            },
        )
        .await
        .expect("page");
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total_items, 5);
    let filtered = store
        .list_traces(
            P,
            &TraceQuery {
                environments: strings(&["prod"]),
                limit: 1,
                ..TraceQuery::default()
            },
        )
        .await
        .expect("page");
    assert_eq!(filtered.total_items, 3);
    assert_eq!(filtered.items.len(), 1);
}

/// Search matches trace and observation input/output, case-insensitively.
pub async fn trace_search(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let search = |text: &str| TraceQuery {
        search: Some(text.into()),
        ..TraceQuery::default()
    };
    assert_eq!(
        sorted(trace_ids(&store, &search("needle")).await),
        strings(&["t2"])
    );
    assert_eq!(
        sorted(trace_ids(&store, &search("NUMBER 3")).await),
        strings(&["t4"])
    );
    assert_eq!(
        sorted(trace_ids(&store, &search("question")).await),
        strings(&["t1", "t2", "t3", "t4", "t5"])
    );
    assert!(trace_ids(&store, &search("absent words")).await.is_empty());
    let page = store
        .list_traces(P, &search("needle"))
        .await
        .expect("search");
    assert_eq!(page.total_items, 1);
    // A word's beginning matches, and so does a trace id.
    assert_eq!(
        sorted(trace_ids(&store, &search("needl")).await),
        strings(&["t2"])
    );
    assert_eq!(
        sorted(trace_ids(&store, &search("t4")).await),
        strings(&["t4"])
    );
    // Query syntax in the text is just text: never an error.
    for text in [
        "\"",
        "AND OR NOT",
        "a* (b) NEAR(c d)",
        "%",
        "-x:y",
        "'; DROP TABLE traces; --",
    ] {
        store
            .list_traces(P, &search(text))
            .await
            .unwrap_or_else(|e| panic!("search {text:?}: {e:?}"));
    }
    assert!(trace_ids(&store, &search("%")).await.is_empty());
    // Updated input replaces the old words; deleted traces are gone from results.
    write(
        &store,
        P,
        batch_of_traces(vec![trace("t3", update_stamp(BASE + DAY), |t| {
            t.input = Some("replaced words".into());
        })]),
    )
    .await;
    store
        .delete_traces(P, &strings(&["t4"]))
        .await
        .expect("delete");
    assert_eq!(
        sorted(trace_ids(&store, &search("question")).await),
        strings(&["t1", "t2", "t5"])
    );
    assert_eq!(
        sorted(trace_ids(&store, &search("REPLACED")).await),
        strings(&["t3"])
    );
    // Observations deleted with their trace no longer match either.
    store
        .delete_traces(P, &strings(&["t2"]))
        .await
        .expect("delete");
    assert!(trace_ids(&store, &search("needle")).await.is_empty());
    // An observation's output replaced by an update: the old words no longer match, the new
    // ones do; text given later to an observation that had none matches too.
    write(
        &store,
        P,
        batch_of_observations(vec![
            observation("o-words", create_stamp(BASE), |o| {
                o.trace_id = Some("t1".into());
                o.output = Some("zebrafish quokka".into());
            }),
            observation("o-later", create_stamp(BASE), |o| {
                o.trace_id = Some("t5".into());
                o.name = Some("no text yet".into());
            }),
        ]),
    )
    .await;
    assert_eq!(
        sorted(trace_ids(&store, &search("quokka")).await),
        strings(&["t1"])
    );
    write(
        &store,
        P,
        batch_of_observations(vec![
            observation("o-words", update_stamp(BASE + DAY), |o| {
                o.output = Some("axolotl".into());
            }),
            observation("o-later", update_stamp(BASE + DAY), |o| {
                o.input = Some("pangolin".into());
            }),
        ]),
    )
    .await;
    assert!(trace_ids(&store, &search("quokka")).await.is_empty());
    assert_eq!(
        sorted(trace_ids(&store, &search("axolotl")).await),
        strings(&["t1"])
    );
    assert_eq!(
        sorted(trace_ids(&store, &search("pangolin")).await),
        strings(&["t5"])
    );
    // The trace's other words are still found after the rebuild.
    assert_eq!(
        sorted(trace_ids(&store, &search("question")).await),
        strings(&["t1", "t5"])
    );
    // Text of a later write to the trace is found too.
    write(
        &store,
        P,
        batch_of_observations(vec![observation("o-kiwi", create_stamp(BASE), |o| {
            o.trace_id = Some("t5".into());
            o.output = Some("kiwi".into());
        })]),
    )
    .await;
    assert_eq!(
        sorted(trace_ids(&store, &search("kiwi")).await),
        strings(&["t5"])
    );
    assert!(trace_ids(&store, &search("kiwi axolotl")).await.is_empty());
    // Words, not substrings: case and accents ignored, the words in any order and in any of
    // the trace's records, a phrase searched as its words, only the last word a prefix.
    write(
        &store,
        P,
        batch_of_observations(vec![observation("o-accents", create_stamp(BASE), |o| {
            o.trace_id = Some("t5".into());
            o.input = Some("Crème BRÛLÉE, naïve café".into());
        })]),
    )
    .await;
    for text in [
        "creme brulee",
        "CRÈME",
        "cafe naive",
        "\"brûlée crème\"",
        "kiwi caf",
    ] {
        assert_eq!(
            sorted(trace_ids(&store, &search(text)).await),
            strings(&["t5"]),
            "{text:?}"
        );
    }
    for text in ["crem brulee", "rème", "cafés"] {
        assert!(
            trace_ids(&store, &search(text)).await.is_empty(),
            "{text:?}"
        );
    }
}

/// Metadata is searched as input and output are: each key and its value, of the trace and
/// of its observations, as words (case and accents folded, any order, the last word a
/// prefix); the resource and scope attributes of OpenTelemetry exporters are not. Changed
/// values replace their words, new keys add theirs, and counts are exact.
pub async fn trace_search_covers_metadata(harness: &Harness) {
    let store = harness.open().await;
    let metadata = |entries: &[(&str, &str)]| -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    };
    write(
        &store,
        P,
        batch_of_traces(vec![
            trace("m1", create_stamp(BASE), |t| {
                t.timestamp = Some(BASE);
                t.input = Some("hello".into());
                t.metadata = metadata(&[
                    ("customer", "Zoë MÜLLER"),
                    ("tier", "gold plan"),
                    ("limits", r#"{"daily": "100%"}"#),
                ]);
            }),
            trace("m2", create_stamp(BASE + 1), |t| {
                t.timestamp = Some(BASE + 1);
                t.input = Some("hello".into());
            }),
            trace("m3", create_stamp(BASE + 2), |t| {
                t.timestamp = Some(BASE + 2);
                t.metadata = metadata(&[("team_name", "platform")]);
            }),
        ]),
    )
    .await;
    write(
        &store,
        P,
        batch_of_observations(vec![observation("om2", create_stamp(BASE + 1), |o| {
            o.trace_id = Some("m2".into());
            o.metadata = metadata(&[
                ("tool", "Weather lookup"),
                ("resourceAttributes", r#"{"service.name":"hiddensvc"}"#),
                ("scope", r#"{"name":"hiddenscope"}"#),
            ]);
        })]),
    )
    .await;
    let search = |text: &str| TraceQuery {
        search: Some(text.into()),
        ..TraceQuery::default()
    };
    let check = |expected: &'static [&'static str], texts: &'static [&'static str]| {
        let store = Arc::clone(&store);
        async move {
            for text in texts {
                let page = store
                    .list_traces(P, &search(text))
                    .await
                    .unwrap_or_else(|e| panic!("search {text:?}: {e:?}"));
                let ids = sorted(page.items.iter().map(|t| t.record.id.clone()).collect());
                assert_eq!(ids, strings(expected), "{text:?}");
                assert_eq!(page.total_items, expected.len() as u64, "total of {text:?}");
                assert!(!page.total_is_estimate, "{text:?}: counted");
            }
        }
    };
    check(
        &["m1"],
        &[
            "zoe",
            "MULLER",
            "Zoë Müller",
            "muller zoe",
            "\"gold plan\"",
            "plan gold",
            "gold pl",
            "customer",
            "hello zoe",
            "daily 100",
        ],
    )
    .await;
    check(
        &["m2"],
        &["weather", "WEATHER LOOK", "tool", "hello weather"],
    )
    .await;
    check(&["m3"], &["platform", "team", "name platf"]).await;
    check(&["m1", "m2"], &["hello"]).await;
    check(
        &[],
        &[
            "hiddensvc",
            "hiddenscope",
            "resourceattributes",
            "zoe weather",
            "gol plan",
            "muller zoey",
        ],
    )
    .await;
    // Text without a word is a substring of a searched key or value, not of the column's
    // JSON (which the backends spell differently).
    check(&["m1"], &["%"]).await;
    check(&[], &["\":\""]).await;
    // A changed value replaces its words; a new key adds its own.
    write(
        &store,
        P,
        batch_of_traces(vec![trace("m1", update_stamp(BASE + DAY), |t| {
            t.metadata = metadata(&[("tier", "silver")]);
        })]),
    )
    .await;
    write(
        &store,
        P,
        batch_of_observations(vec![observation("om2", update_stamp(BASE + DAY), |o| {
            o.metadata = metadata(&[("region", "eu-west")]);
        })]),
    )
    .await;
    check(&[], &["gold", "plan"]).await;
    check(&["m1"], &["silver", "zoe silver"]).await;
    check(&["m2"], &["west", "eu west weather"]).await;
}

/// Lists filtered by several tags and metadata values count and page exactly, whether the
/// terms' index rows are about as many (SQLite merges them) or one term has far more rows
/// than another (each row of the first is probed in the others), with and without a time
/// range, and with a metadata value spelled both ways (two index ranges).
pub async fn index_term_combinations_count_exactly(harness: &Harness) {
    let store = harness.open().await;
    let mut rng = Rng::new(41);
    let mut traces = Vec::new();
    for index in 0..240 {
        let at = BASE + index * SECOND;
        let mut tags = BTreeSet::new();
        for (tag, percent) in [("common", 80), ("half", 50), ("rare", 4)] {
            if rng.chance(percent) {
                tags.insert(tag.to_owned());
            }
        }
        let team = rng.pick(&["team-0", "team-1", "team-2"]);
        let gold = rng.chance(5);
        traces.push(trace(&format!("m{index:03}"), create_stamp(at), |t| {
            // A few traces without a time, which sort last and no range holds.
            t.timestamp = (index % 40 != 7).then_some(at);
            t.tags = tags;
            t.metadata.insert("team".into(), format!("\"{team}\""));
            if gold {
                t.metadata.insert("tier".into(), "\"gold\"".into());
            }
        }));
    }
    write(&store, P, batch_of_traces(traces.clone())).await;
    let metadata = |key: &str, value: &str| Filter {
        key: Some(key.into()),
        ..Filter::new("metadata", "=", text(value))
    };
    let tag_sets: [&[&str]; 5] = [
        &["common", "half"],
        &["half", "common"],
        &["common", "rare"],
        &["rare", "common", "half"],
        &["half"],
    ];
    let filter_sets: [&[(&str, &str)]; 4] = [
        &[],
        &[("team", "team-0")],
        &[("tier", "gold")],
        &[("team", "\"team-1\"")],
    ];
    let ranges = [
        (None, None),
        (Some(BASE + 30 * SECOND), None),
        (Some(BASE + 30 * SECOND), Some(BASE + 200 * SECOND)),
    ];
    for tags in tag_sets {
        for filters in filter_sets {
            for (from, to) in ranges {
                let query = TraceQuery {
                    tags: strings(tags),
                    filters: filters
                        .iter()
                        .map(|(key, value)| metadata(key, value))
                        .collect(),
                    from_timestamp: from,
                    to_timestamp: to,
                    limit: 5,
                    ..TraceQuery::default()
                };
                let mut expected: Vec<&TraceRecord> = traces
                    .iter()
                    .filter(|t| tags.iter().all(|tag| t.tags.contains(*tag)))
                    .filter(|t| {
                        filters.iter().all(|(key, value)| {
                            let stored = t.metadata.get(*key).map(String::as_str);
                            stored.is_some_and(|stored| {
                                stored == *value || stored.trim_matches('"') == *value
                            })
                        })
                    })
                    .filter(|t| from.is_none_or(|from| t.timestamp.is_some_and(|at| at >= from)))
                    .filter(|t| to.is_none_or(|to| t.timestamp.is_some_and(|at| at < to)))
                    .collect();
                expected.sort_by(|a, b| {
                    (b.timestamp.unwrap_or(i64::MIN), &b.id)
                        .cmp(&(a.timestamp.unwrap_or(i64::MIN), &a.id))
                });
                let page = store.list_traces(P, &query).await.expect("list");
                assert_eq!(page.total_items, expected.len() as u64, "{query:?}");
                let ids: Vec<&str> = page.items.iter().map(|t| t.record.id.as_str()).collect();
                let expected_ids: Vec<&str> =
                    expected.iter().take(5).map(|t| t.id.as_str()).collect();
                assert_eq!(ids, expected_ids, "{query:?}");
            }
        }
    }
}

/// Latency, total cost, level, observation and score ids are derived from the children.
pub async fn derived_trace_fields(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    write(
        &store,
        P,
        batch_of_scores(vec![
            score("s-b", create_stamp(BASE + 2), |s| {
                s.trace_id = Some("t1".into());
                s.timestamp = Some(BASE + 2);
                s.value = Some(1.0);
            }),
            score("s-a", create_stamp(BASE + 1), |s| {
                s.trace_id = Some("t1".into());
                s.timestamp = Some(BASE + 1);
                s.value = Some(1.0);
            }),
        ]),
    )
    .await;
    // A second observation of t1 that starts earlier and has no end.
    write(
        &store,
        P,
        batch_of_observations(vec![observation("o0", create_stamp(BASE), |o| {
            o.trace_id = Some("t1".into());
            o.start_time = Some(BASE - SECOND);
            o.cost_details = Some([("total".to_owned(), 0.5)].into_iter().collect());
        })]),
    )
    .await;
    let page = store
        .list_traces(P, &TraceQuery::default())
        .await
        .expect("list");
    let by_id: BTreeMap<String, _> = page
        .items
        .into_iter()
        .map(|t| (t.record.id.clone(), t))
        .collect();
    let t1 = &by_id["t1"];
    assert_eq!(t1.latency_seconds, Some(5.0));
    assert!((t1.total_cost - 2.0).abs() < 1e-9, "{}", t1.total_cost);
    assert_eq!(t1.level, Level::Warning);
    assert_eq!(t1.observation_ids, strings(&["o0", "o1"]));
    assert_eq!(sorted(t1.score_ids.clone()), strings(&["s-a", "s-b"]));
    let t2 = &by_id["t2"];
    assert_eq!(t2.latency_seconds, Some(1.0));
    assert!((t2.total_cost - 0.25).abs() < 1e-9);
    assert_eq!(t2.level, Level::Error);
    let t3 = &by_id["t3"];
    assert_eq!(t3.latency_seconds, Some(0.0));
    assert_eq!(t3.total_cost, 0.0);
    assert_eq!(t3.level, Level::Debug);
    let t4 = &by_id["t4"];
    assert_eq!(t4.latency_seconds, None);
    assert_eq!(t4.total_cost, 0.0);
    assert_eq!(t4.level, Level::Default);
    assert!(t4.observation_ids.is_empty() && t4.score_ids.is_empty());
    assert!(
        t1.observations.is_empty(),
        "lists do not fill full observations"
    );

    let full = store
        .get_trace(P, "t1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(full.latency_seconds, Some(5.0));
    assert_eq!(
        full.observations
            .iter()
            .map(|o| o.record.id.as_str())
            .collect::<Vec<_>>(),
        vec!["o0", "o1"],
        "observations ordered by start time"
    );
    assert_eq!(full.scores.len(), 2);
}

/// Every observation query parameter, v1 pages and trace context.
pub async fn observation_queries(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let extra = vec![
        observation("child", create_stamp(BASE), |o| {
            o.trace_id = Some("t1".into());
            o.parent_observation_id = Some("o1".into());
            o.start_time = Some(BASE + 2 * SECOND);
            o.observation_type = Some(ObservationType::Generation);
            o.name = Some("llm-call".into());
            o.version = Some("v9".into());
            o.environment = Some("dev".into());
            o.model = Some("gpt".into());
            o.level = Some(Level::Warning);
        }),
        observation("event", create_stamp(BASE), |o| {
            o.trace_id = Some("t3".into());
            o.parent_observation_id = Some("o3".into());
            o.start_time = Some(BASE + 25 * SECOND);
            o.observation_type = Some(ObservationType::Event);
            o.name = Some("log".into());
            o.environment = Some("prod".into());
        }),
    ];
    write(&store, P, batch_of_observations(extra)).await;
    let ids = |page: crate::Page<crate::ObservationView>| {
        sorted(page.items.into_iter().map(|o| o.record.id).collect())
    };
    let cases: Vec<(ObservationQuery, &[&str])> = vec![
        (
            ObservationQuery::default(),
            &["child", "event", "o1", "o2", "o3"],
        ),
        (
            ObservationQuery {
                observation_type: Some(ObservationType::Generation),
                ..Default::default()
            },
            &["child"],
        ),
        (
            ObservationQuery {
                name: Some("log".into()),
                ..Default::default()
            },
            &["event"],
        ),
        (
            ObservationQuery {
                user_id: Some("alice".into()),
                ..Default::default()
            },
            &["child", "event", "o1", "o3"],
        ),
        (
            ObservationQuery {
                session_id: Some("s1".into()),
                ..Default::default()
            },
            &["child", "o1", "o2"],
        ),
        (
            ObservationQuery {
                level: Some(Level::Warning),
                ..Default::default()
            },
            &["child", "o1"],
        ),
        (
            ObservationQuery {
                level: Some(Level::Default),
                ..Default::default()
            },
            &["event"],
        ),
        (
            ObservationQuery {
                trace_id: Some("t1".into()),
                ..Default::default()
            },
            &["child", "o1"],
        ),
        (
            ObservationQuery {
                version: Some("v9".into()),
                ..Default::default()
            },
            &["child"],
        ),
        (
            ObservationQuery {
                parent_observation_id: Some("o3".into()),
                ..Default::default()
            },
            &["event"],
        ),
        (
            ObservationQuery {
                is_root: Some(true),
                ..Default::default()
            },
            &["o1", "o2", "o3"],
        ),
        (
            ObservationQuery {
                is_root: Some(false),
                ..Default::default()
            },
            &["child", "event"],
        ),
        (
            ObservationQuery {
                environments: strings(&["dev", "prod"]),
                ..Default::default()
            },
            &["child", "event"],
        ),
        (
            ObservationQuery {
                from_start_time: Some(BASE + 2 * SECOND),
                to_start_time: Some(BASE + 20 * SECOND),
                ..Default::default()
            },
            &["child", "o2"],
        ),
        (
            ObservationQuery {
                filters: vec![Filter::new("model", "=", text("gpt"))],
                ..Default::default()
            },
            &["child"],
        ),
        (
            ObservationQuery {
                filters: vec![Filter::new("traceName", "starts with", text("chat"))],
                ..Default::default()
            },
            &["child", "o1", "o2"],
        ),
        (
            ObservationQuery {
                filters: vec![Filter::new(
                    "type",
                    "any of",
                    list(&["EVENT", "GENERATION"]),
                )],
                ..Default::default()
            },
            &["child", "event"],
        ),
        (
            ObservationQuery {
                filters: vec![Filter::new("level", "=", text("ERROR"))],
                ..Default::default()
            },
            &["o2"],
        ),
        (
            ObservationQuery {
                filters: vec![Filter::new("totalCost", ">", FilterValue::Number(1.0))],
                ..Default::default()
            },
            &["o1"],
        ),
        (
            ObservationQuery {
                filters: vec![Filter::new(
                    "startTime",
                    ">=",
                    FilterValue::Datetime(BASE + 20 * SECOND),
                )],
                ..Default::default()
            },
            &["event", "o3"],
        ),
    ];
    for (query, expected) in cases {
        let page = store.list_observations(P, &query).await.expect("list");
        assert_eq!(page.total_items, expected.len() as u64, "{query:?}");
        assert_eq!(ids(page), strings(expected), "{query:?}");
    }
    let page = store
        .list_observations(
            P,
            &ObservationQuery {
                limit: 2,
                page: 2,
                ..Default::default()
            },
        )
        .await
        .expect("page 2");
    assert_eq!(page.total_items, 5);
    assert_eq!(
        page.items
            .iter()
            .map(|o| o.record.id.as_str())
            .collect::<Vec<_>>(),
        vec!["o2", "child"],
        "newest start time first"
    );
    let child = store
        .get_observation(P, "child")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(child.trace_name.as_deref(), Some("chat"));
    assert_eq!(child.user_id.as_deref(), Some("alice"));
    assert_eq!(child.session_id.as_deref(), Some("s1"));
    assert_eq!(child.tags, strings(&["a", "b"]));
    assert_eq!(child.release.as_deref(), Some("r1"));
}

/// Keyset pagination visits every observation exactly once, ties on start time included.
pub async fn observation_cursor_visits_every_row_once(harness: &Harness) {
    let store = harness.open().await;
    let mut observations = Vec::new();
    for index in 0..37 {
        // Groups of equal start times, and a few without a start time.
        let start = (index % 5 != 4).then_some(BASE + (index / 3) as i64 * SECOND);
        observations.push(observation(
            &format!("o{index:02}"),
            create_stamp(BASE),
            |o| {
                o.trace_id = Some(format!("t{}", index % 4));
                o.start_time = start;
            },
        ));
    }
    write(&store, P, batch_of_observations(observations)).await;
    for limit in [1u32, 4, 10, 50] {
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<Cursor> = None;
        let mut previous: Option<(i64, String)> = None;
        for _ in 0..100 {
            let page = store
                .list_observations(
                    P,
                    &ObservationQuery {
                        limit,
                        after: after.clone(),
                        ..ObservationQuery::default()
                    },
                )
                .await
                .expect("page");
            assert_eq!(page.total_items, 37);
            for item in &page.items {
                let key = (
                    item.record.start_time.unwrap_or(i64::MIN),
                    item.record.id.clone(),
                );
                if let Some(previous) = &previous {
                    assert!(
                        key < *previous,
                        "descending order: {key:?} after {previous:?}"
                    );
                }
                previous = Some(key);
                seen.push(item.record.id.clone());
            }
            match page.next_cursor {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(seen.len(), 37, "limit {limit}: every row");
        assert_eq!(unique.len(), 37, "limit {limit}: no row twice");
    }
    let filtered = store
        .list_observations(
            P,
            &ObservationQuery {
                trace_id: Some("t1".into()),
                limit: 3,
                ..ObservationQuery::default()
            },
        )
        .await
        .expect("page");
    assert_eq!(filtered.total_items, 9);
    let rest = store
        .list_observations(
            P,
            &ObservationQuery {
                trace_id: Some("t1".into()),
                limit: 100,
                after: filtered.next_cursor.clone(),
                ..ObservationQuery::default()
            },
        )
        .await
        .expect("rest");
    assert_eq!(rest.items.len(), 6);
    assert!(rest.next_cursor.is_none());
}

/// Scores of each data type, the score query parameters and trace context.
pub async fn scores_of_every_data_type(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let make = |id: &str,
                data_type: ScoreDataType,
                value: Option<f64>,
                string_value: Option<&str>,
                trace_id: &str,
                at: i64| {
        score(id, create_stamp(BASE + at), |s| {
            s.timestamp = Some(BASE + at);
            s.name = Some(format!("{}-score", data_type.as_str().to_lowercase()));
            s.data_type = Some(data_type);
            s.value = value;
            s.string_value = string_value.map(str::to_owned);
            s.trace_id = Some(trace_id.to_owned());
            s.source = Some(if at % 2 == 0 {
                ScoreSource::Api
            } else {
                ScoreSource::Eval
            });
            s.environment = Some("prod".into());
        })
    };
    let scores = vec![
        make("numeric", ScoreDataType::Numeric, Some(0.75), None, "t1", 1),
        make(
            "categorical",
            ScoreDataType::Categorical,
            Some(0.0),
            Some("good"),
            "t2",
            2,
        ),
        make(
            "boolean",
            ScoreDataType::Boolean,
            Some(1.0),
            Some("True"),
            "t3",
            3,
        ),
        make(
            "text",
            ScoreDataType::Text,
            None,
            Some("free text"),
            "t4",
            4,
        ),
        make(
            "correction",
            ScoreDataType::Correction,
            None,
            Some("fixed output"),
            "t1",
            5,
        ),
        score("session-score", create_stamp(BASE + 6), |s| {
            s.timestamp = Some(BASE + 6);
            s.name = Some("session-quality".into());
            s.value = Some(3.0);
            s.data_type = Some(ScoreDataType::Numeric);
            s.session_id = Some("s1".into());
            s.config_id = Some("cfg".into());
        }),
        score("run-score", create_stamp(BASE + 8), |s| {
            s.timestamp = Some(BASE + 8);
            s.name = Some("run".into());
            s.value = Some(-2.5);
            s.data_type = Some(ScoreDataType::Numeric);
            s.dataset_run_id = Some("run-1".into());
            s.observation_id = Some("o1".into());
            s.queue_id = Some("queue".into());
            s.trace_id = Some("t1".into());
        }),
    ];
    write(&store, P, batch_of_scores(scores.clone())).await;
    for expected in &scores {
        let stored = store
            .get_score(P, &expected.id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(&stored.record, expected, "{}", expected.id);
    }
    let ids = |page: crate::Page<crate::ScoreView>| {
        sorted(page.items.into_iter().map(|s| s.record.id).collect())
    };
    let cases: Vec<(ScoreQuery, &[&str])> = vec![
        (
            ScoreQuery::default(),
            &[
                "boolean",
                "categorical",
                "correction",
                "numeric",
                "run-score",
                "session-score",
                "text",
            ],
        ),
        (
            ScoreQuery {
                data_type: Some(ScoreDataType::Categorical),
                ..Default::default()
            },
            &["categorical"],
        ),
        (
            ScoreQuery {
                name: Some("text-score".into()),
                ..Default::default()
            },
            &["text"],
        ),
        (
            ScoreQuery {
                user_id: Some("alice".into()),
                ..Default::default()
            },
            &["boolean", "correction", "numeric", "run-score"],
        ),
        (
            ScoreQuery {
                source: Some(ScoreSource::Eval),
                ..Default::default()
            },
            &["boolean", "correction", "numeric"],
        ),
        (
            ScoreQuery {
                config_id: Some("cfg".into()),
                ..Default::default()
            },
            &["session-score"],
        ),
        (
            ScoreQuery {
                queue_id: Some("queue".into()),
                ..Default::default()
            },
            &["run-score"],
        ),
        (
            ScoreQuery {
                trace_tags: strings(&["b"]),
                ..Default::default()
            },
            &["categorical", "correction", "numeric", "run-score"],
        ),
        (
            ScoreQuery {
                environments: strings(&["prod"]),
                ..Default::default()
            },
            &["boolean", "categorical", "correction", "numeric", "text"],
        ),
        (
            ScoreQuery {
                from_timestamp: Some(BASE + 3),
                to_timestamp: Some(BASE + 6),
                ..Default::default()
            },
            &["boolean", "correction", "text"],
        ),
        (
            ScoreQuery {
                value: Some((">".into(), 0.5)),
                ..Default::default()
            },
            &["boolean", "numeric", "session-score"],
        ),
        (
            ScoreQuery {
                value: Some(("<=".into(), 0.0)),
                ..Default::default()
            },
            &["categorical", "run-score"],
        ),
        (
            ScoreQuery {
                value: Some(("=".into(), 0.75)),
                ..Default::default()
            },
            &["numeric"],
        ),
        (
            ScoreQuery {
                score_ids: strings(&["text", "numeric", "nope"]),
                ..Default::default()
            },
            &["numeric", "text"],
        ),
        (
            ScoreQuery {
                session_id: Some("s1".into()),
                ..Default::default()
            },
            &["session-score"],
        ),
        (
            ScoreQuery {
                trace_id: Some("t1".into()),
                ..Default::default()
            },
            &["correction", "numeric", "run-score"],
        ),
        (
            ScoreQuery {
                observation_ids: strings(&["o1"]),
                ..Default::default()
            },
            &["run-score"],
        ),
        (
            ScoreQuery {
                dataset_run_id: Some("run-1".into()),
                ..Default::default()
            },
            &["run-score"],
        ),
        (
            ScoreQuery {
                filters: vec![Filter::new("stringValue", "contains", text("text"))],
                ..Default::default()
            },
            &["text"],
        ),
        (
            ScoreQuery {
                filters: vec![Filter::new("value", "<", FilterValue::Number(0.0))],
                ..Default::default()
            },
            &["run-score"],
        ),
    ];
    for (query, expected) in cases {
        let page = store.list_scores(P, &query).await.expect("list scores");
        assert_eq!(page.total_items, expected.len() as u64, "{query:?}");
        assert_eq!(ids(page), strings(expected), "{query:?}");
    }
    let newest_first = store
        .list_scores(
            P,
            &ScoreQuery {
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        newest_first
            .items
            .iter()
            .map(|s| s.record.id.as_str())
            .collect::<Vec<_>>(),
        vec!["run-score", "session-score"]
    );
    let numeric = store
        .get_score(P, "numeric")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(numeric.trace_user_id.as_deref(), Some("alice"));
    assert_eq!(numeric.trace_session_id.as_deref(), Some("s1"));
    let session_score = store
        .get_score(P, "session-score")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(session_score.trace_user_id, None);
    assert!(session_score.trace_tags.is_empty());
}

/// Sessions are the distinct session ids of traces.
pub async fn sessions(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let page = store
        .list_sessions(P, &SessionQuery::default())
        .await
        .expect("sessions");
    assert_eq!(page.total_items, 3);
    let listed: Vec<(String, i64, String)> = page
        .items
        .iter()
        .map(|s| (s.id.clone(), s.created_at, s.environment.clone()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("s3".to_owned(), BASE + 30 * SECOND, "prod".to_owned()),
            ("s2".to_owned(), BASE + 20 * SECOND, "prod".to_owned()),
            ("s1".to_owned(), BASE, "prod".to_owned()),
        ]
    );
    let filtered = store
        .list_sessions(
            P,
            &SessionQuery {
                from_timestamp: Some(BASE + SECOND),
                to_timestamp: Some(BASE + 30 * SECOND),
                ..SessionQuery::default()
            },
        )
        .await
        .expect("sessions");
    assert_eq!(
        filtered
            .items
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        vec!["s2"]
    );
    let dev = store
        .list_sessions(
            P,
            &SessionQuery {
                environments: strings(&["dev"]),
                ..SessionQuery::default()
            },
        )
        .await
        .expect("sessions");
    assert_eq!(
        dev.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec!["s1"]
    );
    let paged = store
        .list_sessions(
            P,
            &SessionQuery {
                page: 2,
                limit: 2,
                ..SessionQuery::default()
            },
        )
        .await
        .expect("sessions");
    assert_eq!(paged.items.len(), 1);
    assert_eq!(paged.total_items, 3);

    let s1 = store
        .get_session(P, "s1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(s1.created_at, BASE);
    assert_eq!(s1.environment, "prod");
    assert_eq!(
        s1.traces
            .iter()
            .map(|t| t.record.id.as_str())
            .collect::<Vec<_>>(),
        vec!["t1", "t2"]
    );
    assert_eq!(s1.traces[0].observation_ids, strings(&["o1"]));
    assert_eq!(store.get_session(P, "nope").await.expect("get"), None);
}

/// Daily metrics: per UTC day, newest first, with usage per model.
pub async fn daily_metrics(harness: &Harness) {
    let store = harness.open().await;
    let day1 = BASE + 3600 * SECOND;
    let day2 = BASE + DAY + 7200 * SECOND;
    let generation = |id: &str,
                      trace_id: &str,
                      at: i64,
                      model: Option<&str>,
                      input: i64,
                      output: i64,
                      cost: f64| {
        observation(id, create_stamp(at), |o| {
            o.trace_id = Some(trace_id.to_owned());
            o.start_time = Some(at);
            o.model = model.map(str::to_owned);
            o.usage_details = Some(
                [("input".to_owned(), input), ("output".to_owned(), output)]
                    .into_iter()
                    .collect(),
            );
            o.cost_details = Some([("total".to_owned(), cost)].into_iter().collect());
        })
    };
    let mut tagged = simple_trace("a", day1, "chat");
    tagged.tags.insert("x".into());
    tagged.user_id = Some("u1".into());
    tagged.stamp_unstamped(create_stamp(day1));
    write(
        &store,
        P,
        WriteBatch {
            traces: vec![
                tagged,
                simple_trace("b", day1 + SECOND, "other"),
                simple_trace("c", day2, "chat"),
            ],
            observations: vec![
                generation("a1", "a", day1, Some("gpt"), 10, 5, 1.0),
                generation("a2", "a", day1, Some("claude"), 1, 2, 0.5),
                generation("b1", "b", day1, Some("gpt"), 3, 4, 0.25),
                generation("b2", "b", day1, None, 0, 0, 0.0),
                generation("c1", "c", day2, Some("gpt"), 100, 50, 2.0),
            ],
            scores: Vec::new(),
            run_items: Vec::new(),
            completions: Vec::new(),
        },
    )
    .await;
    let page = store
        .daily_metrics(P, &MetricsQuery::default())
        .await
        .expect("metrics");
    assert_eq!(page.total_items, 2);
    assert_eq!(page.items.len(), 2);
    let newest = &page.items[0];
    assert_eq!(newest.date, "2026-01-02");
    assert_eq!((newest.count_traces, newest.count_observations), (1, 1));
    assert!((newest.total_cost - 2.0).abs() < 1e-9);
    let oldest = &page.items[1];
    assert_eq!(oldest.date, "2026-01-01");
    assert_eq!((oldest.count_traces, oldest.count_observations), (2, 4));
    assert!((oldest.total_cost - 1.75).abs() < 1e-9);
    let gpt = oldest
        .usage
        .iter()
        .find(|u| u.model == "gpt")
        .expect("gpt usage");
    assert_eq!(
        (gpt.input_usage, gpt.output_usage, gpt.total_usage),
        (13, 9, 22)
    );
    assert_eq!((gpt.count_traces, gpt.count_observations), (2, 2));
    assert!((gpt.total_cost - 1.25).abs() < 1e-9);
    assert_eq!(
        oldest.usage.len(),
        2,
        "observations without a model have no usage entry"
    );
    let chat_only = store
        .daily_metrics(
            P,
            &MetricsQuery {
                trace_name: Some("chat".into()),
                ..MetricsQuery::default()
            },
        )
        .await
        .expect("metrics");
    assert_eq!(
        chat_only
            .items
            .iter()
            .map(|d| d.count_traces)
            .collect::<Vec<_>>(),
        vec![1, 1]
    );
    let tagged_only = store
        .daily_metrics(
            P,
            &MetricsQuery {
                tags: strings(&["x"]),
                user_id: Some("u1".into()),
                ..MetricsQuery::default()
            },
        )
        .await
        .expect("metrics");
    assert_eq!(tagged_only.total_items, 1);
    assert_eq!(tagged_only.items[0].count_observations, 2);
    let ranged = store
        .daily_metrics(
            P,
            &MetricsQuery {
                from_timestamp: Some(BASE + DAY),
                ..MetricsQuery::default()
            },
        )
        .await
        .expect("metrics");
    assert_eq!(
        ranged
            .items
            .iter()
            .map(|d| d.date.as_str())
            .collect::<Vec<_>>(),
        vec!["2026-01-02"]
    );
    let second_page = store
        .daily_metrics(
            P,
            &MetricsQuery {
                page: 2,
                limit: 1,
                ..MetricsQuery::default()
            },
        )
        .await
        .expect("metrics");
    assert_eq!(
        second_page
            .items
            .iter()
            .map(|d| d.date.as_str())
            .collect::<Vec<_>>(),
        vec!["2026-01-01"]
    );
}

/// Tag and metadata filters (served by index tables) follow merges, timestamp changes and
/// deletes, list newest first, combine with each other and with other conditions, and count
/// exactly.
pub async fn tag_and_metadata_filters_follow_writes(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    let metadata = |key: &str, value: &str| Filter {
        key: Some(key.into()),
        ..Filter::new("metadata", "=", text(value))
    };
    let by_tags = |tags: &[&str]| TraceQuery {
        tags: strings(tags),
        ..TraceQuery::default()
    };
    let by_filters = |filters: Vec<Filter>| TraceQuery {
        filters,
        ..TraceQuery::default()
    };
    let check = |query: TraceQuery, expected: &'static [&'static str]| {
        let store = store.clone();
        async move {
            let page = store.list_traces(P, &query).await.expect("list");
            let ids: Vec<String> = page.items.iter().map(|t| t.record.id.clone()).collect();
            assert_eq!(ids, strings(expected), "{query:?}");
            assert_eq!(page.total_items, expected.len() as u64, "{query:?}");
        }
    };
    // Newest first, as the unfiltered list.
    check(by_tags(&["a"]), &["t5", "t1"]).await;
    check(by_tags(&["a", "c"]), &["t5"]).await;
    check(by_tags(&["a", "missing"]), &[]).await;
    check(
        by_filters(vec![Filter::new("tags", "all of", list(&["b"]))]),
        &["t2", "t1"],
    )
    .await;
    check(
        by_filters(vec![Filter::new("tags", "any of", list(&["c"]))]),
        &["t5", "t3"],
    )
    .await;
    check(
        by_filters(vec![metadata("team", "team-0")]),
        &["t5", "t3", "t1"],
    )
    .await;
    // The stored value is JSON text or plain text; either spelling of the filter finds it.
    check(
        by_filters(vec![metadata("team", "\"team-1\"")]),
        &["t4", "t2"],
    )
    .await;
    check(by_filters(vec![metadata("plain", "value 3")]), &["t4"]).await;
    check(
        TraceQuery {
            tags: strings(&["c"]),
            filters: vec![metadata("team", "team-0")],
            ..TraceQuery::default()
        },
        &["t5", "t3"],
    )
    .await;
    check(
        TraceQuery {
            tags: strings(&["a"]),
            user_id: Some("alice".into()),
            ..TraceQuery::default()
        },
        &["t1"],
    )
    .await;
    check(
        TraceQuery {
            tags: strings(&["a"]),
            environments: strings(&["dev"]),
            ..TraceQuery::default()
        },
        &["t5"],
    )
    .await;
    check(
        TraceQuery {
            tags: strings(&["a"]),
            from_timestamp: Some(BASE + SECOND),
            ..TraceQuery::default()
        },
        &["t5"],
    )
    .await;
    check(
        TraceQuery {
            filters: vec![metadata("team", "team-0")],
            to_timestamp: Some(BASE + 25 * SECOND),
            ..TraceQuery::default()
        },
        &["t3", "t1"],
    )
    .await;
    // Paging through a tag's traces.
    let second = store
        .list_traces(
            P,
            &TraceQuery {
                tags: strings(&["a"]),
                page: 2,
                limit: 1,
                ..TraceQuery::default()
            },
        )
        .await
        .expect("page 2");
    assert_eq!(
        second
            .items
            .iter()
            .map(|t| t.record.id.as_str())
            .collect::<Vec<_>>(),
        ["t1"]
    );
    assert_eq!(second.total_items, 2);

    // A merge adds a tag, changes a metadata value and moves a trace earlier in time.
    write(
        &store,
        P,
        batch_of_traces(vec![
            trace("t2", update_stamp(BASE + DAY), |t| {
                t.tags = ["a".to_owned()].into_iter().collect();
                t.metadata.insert("team".into(), "\"team-0\"".into());
            }),
            trace("t4", create_stamp(BASE - DAY), |t| {
                t.timestamp = Some(BASE - DAY);
            }),
        ]),
    )
    .await;
    check(by_tags(&["a"]), &["t5", "t2", "t1"]).await;
    check(by_tags(&["b"]), &["t2", "t1"]).await;
    check(
        by_filters(vec![metadata("team", "team-0")]),
        &["t5", "t3", "t2", "t1"],
    )
    .await;
    check(by_filters(vec![metadata("team", "team-1")]), &["t4"]).await;
    check(
        TraceQuery {
            filters: vec![metadata("team", "team-1")],
            from_timestamp: Some(BASE),
            ..TraceQuery::default()
        },
        &[],
    )
    .await;

    // Deleted traces leave nothing behind in either index.
    store
        .delete_traces(P, &strings(&["t1", "t4"]))
        .await
        .expect("delete");
    check(by_tags(&["a"]), &["t5", "t2"]).await;
    check(by_tags(&["b"]), &["t2"]).await;
    check(by_filters(vec![metadata("team", "team-1")]), &[]).await;
    check(
        by_filters(vec![metadata("team", "team-0")]),
        &["t5", "t3", "t2"],
    )
    .await;
    // Another project's traces with the same tags stay apart.
    write(
        &store,
        Q,
        batch_of_traces(vec![trace("q1", create_stamp(BASE), |t| {
            t.timestamp = Some(BASE);
            t.tags = ["a".to_owned()].into_iter().collect();
            t.metadata.insert("team".into(), "\"team-0\"".into());
        })]),
    )
    .await;
    check(by_tags(&["a"]), &["t5", "t2"]).await;
    check(
        by_filters(vec![metadata("team", "team-0")]),
        &["t5", "t3", "t2"],
    )
    .await;
}

/// Deleting traces removes their observations and scores; scores delete on their own too.
pub async fn delete_traces_and_scores(harness: &Harness) {
    let store = harness.open().await;
    seed_filter_traces(&store).await;
    write(
        &store,
        P,
        batch_of_scores(vec![
            full_score("score-t1", "t1"),
            full_score("score-t3", "t3"),
        ]),
    )
    .await;
    let deleted = store
        .delete_traces(P, &strings(&["t1", "t2", "missing"]))
        .await
        .expect("delete");
    assert_eq!(deleted, 2);
    assert_eq!(store.get_trace(P, "t1").await.expect("get"), None);
    assert_eq!(store.get_observation(P, "o1").await.expect("get"), None);
    assert_eq!(store.get_observation(P, "o2").await.expect("get"), None);
    assert_eq!(store.get_score(P, "score-t1").await.expect("get"), None);
    assert!(store.get_observation(P, "o3").await.expect("get").is_some());
    let remaining = store
        .list_traces(P, &TraceQuery::default())
        .await
        .expect("list");
    assert_eq!(remaining.total_items, 3);
    assert_eq!(
        sorted(remaining.items.into_iter().map(|t| t.record.id).collect()),
        strings(&["t3", "t4", "t5"])
    );
    assert!(store.delete_score(P, "score-t3").await.expect("delete"));
    assert!(!store
        .delete_score(P, "score-t3")
        .await
        .expect("delete again"));
    assert_eq!(store.get_score(P, "score-t3").await.expect("get"), None);
    // A deleted trace can be written again.
    write(
        &store,
        P,
        batch_of_traces(vec![simple_trace("t1", BASE, "again")]),
    )
    .await;
    let list = store
        .list_traces(P, &TraceQuery::default())
        .await
        .expect("list");
    assert_eq!(list.total_items, 4);
}

/// Organizations, projects and API keys.
pub async fn a_project_and_its_key_are_created_together(harness: &Harness) {
    let store = harness.open().await;
    let project = Project {
        id: "first".into(),
        name: "First".into(),
        organization: Organization {
            id: "org-first".into(),
            name: "Org".into(),
        },
        retention_days: None,
        created_at: BASE,
    };
    let key = ApiKey {
        public_key: "pk-lf-first".into(),
        secret_hash: ApiKey::unpeppered_hash("pk-lf-first", "sk"),
        secret_hint: "..sk".into(),
        project_id: "first".into(),
        note: None,
        created_at: BASE,
        revoked_at: None,
    };
    store
        .create_project_with_key(&project, &key)
        .await
        .expect("create");
    assert_eq!(
        store.get_project("first").await.expect("get"),
        Some(project.clone())
    );
    assert_eq!(
        store.list_api_keys(Some("first")).await.expect("keys"),
        vec![key.clone()]
    );
    // Again with another key: the project stays as it is and gains the key.
    let second = ApiKey {
        public_key: "pk-lf-second".into(),
        created_at: BASE + 1,
        ..key.clone()
    };
    let renamed = Project {
        name: "Renamed".into(),
        ..project.clone()
    };
    store
        .create_project_with_key(&renamed, &second)
        .await
        .expect("again");
    assert_eq!(
        store.get_project("first").await.expect("get"),
        Some(project)
    );
    assert_eq!(
        store.list_api_keys(Some("first")).await.expect("keys"),
        vec![key, second]
    );
}

pub async fn projects_and_keys(harness: &Harness) {
    let store = harness.open().await;
    let organization = Organization {
        id: "org-1".into(),
        name: "Org".into(),
    };
    store.upsert_organization(&organization).await.expect("org");
    store
        .upsert_organization(&organization)
        .await
        .expect("org again");
    let project = Project {
        id: "proj-1".into(),
        name: "Project".into(),
        organization: organization.clone(),
        retention_days: Some(30),
        created_at: BASE,
    };
    store.upsert_project(&project).await.expect("project");
    let renamed = Project {
        name: "Renamed".into(),
        ..project.clone()
    };
    store.upsert_project(&renamed).await.expect("project again");
    assert_eq!(
        store.get_project("proj-1").await.expect("get"),
        Some(project.clone())
    );
    assert_eq!(store.get_project("nope").await.expect("get"), None);
    let second = Project {
        id: "proj-2".into(),
        name: "Second".into(),
        organization: Organization {
            id: "org-2".into(),
            name: "Other org".into(),
        },
        retention_days: None,
        created_at: BASE + 1,
    };
    store
        .upsert_project(&second)
        .await
        .expect("second project with its org");
    assert_eq!(
        store.list_projects().await.expect("list"),
        vec![project.clone(), second.clone()]
    );

    let secret = "sk-lf-secret-value";
    let pepper = ServerSecret::random();
    let key = ApiKey {
        public_key: "pk-lf-1".into(),
        secret_hash: ApiKey::hash_secret(&pepper, "pk-lf-1", secret),
        secret_hint: "alue".into(),
        project_id: "proj-1".into(),
        note: Some("ci".into()),
        created_at: BASE,
        revoked_at: None,
    };
    store.insert_api_key(&key).await.expect("insert");
    store
        .insert_api_key(&key)
        .await
        .expect("the same key again is a no-op");
    let clash = ApiKey {
        project_id: "proj-2".into(),
        ..key.clone()
    };
    let error = store
        .insert_api_key(&clash)
        .await
        .expect_err("another project's key");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    let orphan = ApiKey {
        public_key: "pk-lf-orphan".into(),
        project_id: "no-such-project".into(),
        ..key.clone()
    };
    let error = store
        .insert_api_key(&orphan)
        .await
        .expect_err("unknown project");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);

    let stored = store
        .get_api_key("pk-lf-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored, key);
    assert_eq!(stored.check(&pepper, secret), SecretCheck::Matches);
    assert_eq!(stored.check(&pepper, "sk-lf-wrong"), SecretCheck::Wrong);
    assert_eq!(
        stored.check(&ServerSecret::random(), secret),
        SecretCheck::Wrong,
        "the hash is peppered: without the server secret it cannot be checked"
    );
    assert_eq!(store.get_api_key("pk-nope").await.expect("get"), None);

    let other_key = ApiKey {
        public_key: "pk-lf-2".into(),
        secret_hash: ApiKey::unpeppered_hash("pk-lf-2", "sk-2"),
        project_id: "proj-2".into(),
        created_at: BASE + 1,
        ..key.clone()
    };
    store.insert_api_key(&other_key).await.expect("insert");
    // A hash of before the pepper is replaced once, and only while it is still stored.
    assert_eq!(
        other_key.check(&pepper, "sk-2"),
        SecretCheck::MatchesUnpeppered
    );
    let peppered = ApiKey::hash_secret(&pepper, "pk-lf-2", "sk-2");
    assert!(store
        .replace_api_key_hash("pk-lf-2", &other_key.secret_hash, &peppered)
        .await
        .expect("rehash"));
    assert!(!store
        .replace_api_key_hash("pk-lf-2", &other_key.secret_hash, "sha256:stale")
        .await
        .expect("stale rehash"));
    let other_key = ApiKey {
        secret_hash: peppered,
        ..other_key
    };
    assert_eq!(
        store.get_api_key("pk-lf-2").await.expect("get").as_ref(),
        Some(&other_key)
    );
    assert_eq!(other_key.check(&pepper, "sk-2"), SecretCheck::Matches);
    assert_eq!(store.list_api_keys(None).await.expect("list").len(), 2);
    assert_eq!(
        store.list_api_keys(Some("proj-2")).await.expect("list"),
        vec![other_key.clone()]
    );
    assert!(store
        .list_api_keys(Some("nope"))
        .await
        .expect("list")
        .is_empty());

    assert!(store
        .revoke_api_key("pk-lf-1", BASE + 5)
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_api_key("pk-lf-1", BASE + 6)
        .await
        .expect("revoke twice"));
    assert!(!store
        .revoke_api_key("pk-nope", BASE)
        .await
        .expect("revoke unknown"));
    let revoked = store
        .get_api_key("pk-lf-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(revoked.revoked_at, Some(BASE + 5));
}

/// Media metadata and bytes.
pub async fn media(harness: &Harness) {
    let store = harness.open().await;
    let media = MediaRecord {
        id: "media-1".into(),
        project_id: P.into(),
        sha256_hash: "hash".into(),
        content_type: "image/png".into(),
        content_length: 4,
        trace_id: Some("t1".into()),
        observation_id: None,
        field: Some("input".into()),
        uploaded_at: None,
        upload_http_status: None,
        created_at: BASE,
    };
    assert_eq!(store.upsert_media(&media).await.expect("upsert"), media);
    let again = MediaRecord {
        content_type: "image/jpeg".into(),
        created_at: BASE + 1,
        ..media.clone()
    };
    assert_eq!(
        store.upsert_media(&again).await.expect("upsert again"),
        media,
        "the first wins"
    );
    assert_eq!(
        store.get_media(P, "media-1").await.expect("get"),
        Some(media.clone())
    );
    assert_eq!(store.get_media(Q, "media-1").await.expect("get"), None);
    assert_eq!(
        store.get_media_bytes(P, "media-1").await.expect("bytes"),
        None
    );
    let bytes = vec![0x89, 0x50, 0x4e, 0x47];
    store
        .put_media_bytes(P, "media-1", bytes.clone(), BASE + 9)
        .await
        .expect("put");
    assert_eq!(
        store.get_media_bytes(P, "media-1").await.expect("bytes"),
        Some(bytes)
    );
    assert_eq!(
        store.get_media_bytes(Q, "media-1").await.expect("bytes"),
        None
    );
    let uploaded = store
        .get_media(P, "media-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(uploaded.uploaded_at, Some(BASE + 9));
    let error = store
        .put_media_bytes(P, "unknown", vec![1], BASE)
        .await
        .expect_err("bytes for unknown media");
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert!(store
        .mark_media_uploaded(P, "media-1", BASE + 20, Some(201))
        .await
        .expect("mark"));
    assert!(!store
        .mark_media_uploaded(Q, "media-1", BASE + 20, Some(201))
        .await
        .expect("mark"));
    let marked = store
        .get_media(P, "media-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (marked.uploaded_at, marked.upload_http_status),
        (Some(BASE + 20), Some(201))
    );
}

/// A batch of `size` small observations for trace `trace_id`, ids prefixed by `prefix`.
fn flood_batch(prefix: &str, trace_id: &str, size: usize) -> WriteBatch {
    let mut batch = batch_of_observations(
        (0..size)
            .map(|i| {
                observation(&format!("{prefix}-{i}"), create_stamp(BASE), |o| {
                    o.trace_id = Some(trace_id.to_owned());
                    o.start_time = Some(BASE + i as i64);
                    o.input = Some("x".repeat(2000));
                })
            })
            .collect(),
    );
    batch.traces.push(simple_trace(trace_id, BASE, "flood"));
    batch
}

/// A saturated write queue answers `Overloaded` at once; every acknowledged write persists.
pub async fn overload_is_reported_and_acknowledged_writes_persist(harness: &Harness) {
    let store = harness.open_with_queue(1).await;
    let mut acknowledged: Vec<String> = Vec::new();
    let mut overloaded = 0usize;
    for round in 0..20 {
        let mut tasks = Vec::new();
        for writer in 0..24 {
            let store = Arc::clone(&store);
            let trace_id = format!("flood-{round}-{writer}");
            tasks.push(tokio::spawn(async move {
                let result = store.write(P, flood_batch(&trace_id, &trace_id, 50)).await;
                (trace_id, result)
            }));
        }
        for task in tasks {
            let (trace_id, result) = task.await.expect("task");
            match result {
                Ok(()) => acknowledged.push(trace_id),
                Err(error) => {
                    assert_eq!(error.kind, ErrorKind::Overloaded, "{error:?}");
                    overloaded += 1;
                }
            }
        }
        if overloaded > 0 && !acknowledged.is_empty() {
            break;
        }
    }
    assert!(
        overloaded > 0,
        "a flood on a queue of one is refused at some point"
    );
    assert!(!acknowledged.is_empty(), "some writes get through");
    for trace_id in &acknowledged {
        let stored = store
            .get_trace(P, trace_id)
            .await
            .expect("get")
            .expect("acknowledged");
        assert_eq!(stored.observation_ids.len(), 50, "{trace_id}");
    }
    assert_eq!(store.write_queue_depth(), 0);
}

/// Shutdown commits what is queued, then refuses writes.
pub async fn shutdown_commits_queued_writes(harness: &Harness) {
    let store = harness.open().await;
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let trace_id = format!("queued-{writer}");
            let result = store.write(P, flood_batch(&trace_id, &trace_id, 20)).await;
            (trace_id, result)
        }));
    }
    tokio::task::yield_now().await;
    store.shutdown().await.expect("shutdown");
    let mut acknowledged = Vec::new();
    for task in tasks {
        let (trace_id, result) = task.await.expect("task");
        match result {
            Ok(()) => acknowledged.push(trace_id),
            Err(error) => assert!(
                matches!(error.kind, ErrorKind::Unavailable | ErrorKind::Overloaded),
                "{error:?}"
            ),
        }
    }
    let error = store
        .write(P, flood_batch("late", "late", 1))
        .await
        .expect_err("writes after shutdown are refused");
    assert_eq!(error.kind, ErrorKind::Unavailable);
    store
        .shutdown()
        .await
        .expect("a second shutdown is harmless");
    drop(store);

    let reopened = harness.open().await;
    for trace_id in &acknowledged {
        let stored = reopened
            .get_trace(P, trace_id)
            .await
            .expect("get")
            .expect("committed");
        assert_eq!(stored.observation_ids.len(), 20);
    }
    let all = reopened
        .list_traces(P, &TraceQuery::default())
        .await
        .expect("list");
    assert_eq!(
        all.total_items as usize,
        acknowledged.len(),
        "nothing unacknowledged either"
    );
    assert_eq!(reopened.write_queue_depth(), 0);
    reopened.shutdown().await.expect("shutdown");
}

/// Observations and scores sorted on each sortable column, both directions (NULLs as the
/// smallest value), a sorted page after the first, a sort with a condition on the trace, and
/// the errors of an unknown column and of a sort with a cursor.
pub async fn observation_and_score_ordering(harness: &Harness) {
    let store = harness.open().await;
    let mut batch = trace_with_observations("ot", "sorted", BASE, create_stamp(BASE), 0, |_, _| {});
    batch.traces[0].user_id = Some("sorter".into());
    let generation = |id: &str,
                      (start, end): (i64, Option<i64>),
                      name: &str,
                      model: Option<&str>,
                      cost_and_usage: Option<(f64, i64, i64)>| {
        observation(id, create_stamp(BASE), |o| {
            o.trace_id = Some("ot".into());
            o.start_time = Some(BASE + start * SECOND);
            o.end_time = end.map(|end| BASE + end * SECOND);
            o.name = Some(name.to_owned());
            o.model = model.map(str::to_owned);
            o.observation_type = Some(ObservationType::Generation);
            if let Some((cost, input, output)) = cost_and_usage {
                o.cost_details = Some([("total".to_owned(), cost)].into_iter().collect());
                o.usage_details = Some(
                    [("input".to_owned(), input), ("output".to_owned(), output)]
                        .into_iter()
                        .collect(),
                );
            }
        })
    };
    let a = generation(
        "a",
        (1, Some(2)),
        "beta",
        Some("model-b"),
        Some((0.3, 30, 5)),
    );
    let b = generation(
        "b",
        (2, Some(5)),
        "alpha",
        Some("model-a"),
        Some((0.1, 10, 50)),
    );
    let c = generation("c", (3, None), "gamma", None, None);
    batch.observations = vec![a, b, c];
    batch.scores = [
        ("s1", 1, "b", 2.0),
        ("s2", 2, "a", 3.0),
        ("s3", 3, "c", 1.0),
    ]
    .into_iter()
    .map(|(id, at, name, value)| {
        score(id, create_stamp(BASE + at * SECOND), |s| {
            s.timestamp = Some(BASE + at * SECOND);
            s.name = Some(name.into());
            s.value = Some(value);
            s.data_type = Some(ScoreDataType::Numeric);
            s.source = Some(ScoreSource::Api);
            s.trace_id = Some("ot".into());
        })
    })
    .collect();
    write(&store, P, batch).await;
    let order = |column: &str, direction: Direction| {
        Some(OrderBy {
            column: column.into(),
            direction,
        })
    };
    use Direction::{Asc, Desc};
    let observation_cases: &[(&str, Direction, &[&str])] = &[
        ("startTime", Asc, &["a", "b", "c"]),
        ("startTime", Desc, &["c", "b", "a"]),
        ("name", Asc, &["b", "a", "c"]),
        ("name", Desc, &["c", "a", "b"]),
        ("model", Asc, &["c", "b", "a"]),
        ("model", Desc, &["a", "b", "c"]),
        ("latency", Desc, &["b", "a", "c"]),
        ("latency", Asc, &["c", "a", "b"]),
        ("totalCost", Desc, &["a", "b", "c"]),
        ("inputTokens", Asc, &["c", "b", "a"]),
        ("outputTokens", Desc, &["b", "a", "c"]),
        ("totalTokens", Desc, &["b", "a", "c"]),
    ];
    for (column, direction, expected) in observation_cases {
        let query = ObservationQuery {
            order_by: order(column, *direction),
            ..ObservationQuery::default()
        };
        let page = store.list_observations(P, &query).await.expect("sorted");
        let ids: Vec<String> = page.items.into_iter().map(|o| o.record.id).collect();
        assert_eq!(ids, strings(expected), "{column} {direction:?}");
    }
    let second = store
        .list_observations(
            P,
            &ObservationQuery {
                page: 2,
                limit: 2,
                user_id: Some("sorter".into()),
                order_by: order("name", Asc),
                ..ObservationQuery::default()
            },
        )
        .await
        .expect("second sorted page");
    assert_eq!(second.total_items, 3);
    let ids: Vec<String> = second.items.into_iter().map(|o| o.record.id).collect();
    assert_eq!(ids, strings(&["c"]));

    let score_cases: &[(&str, Direction, &[&str])] = &[
        ("timestamp", Asc, &["s1", "s2", "s3"]),
        ("timestamp", Desc, &["s3", "s2", "s1"]),
        ("name", Asc, &["s2", "s1", "s3"]),
        ("value", Desc, &["s2", "s1", "s3"]),
        ("value", Asc, &["s3", "s1", "s2"]),
    ];
    for (column, direction, expected) in score_cases {
        for user_id in [None, Some("sorter".to_owned())] {
            let query = ScoreQuery {
                order_by: order(column, *direction),
                user_id: user_id.clone(),
                ..ScoreQuery::default()
            };
            let page = store.list_scores(P, &query).await.expect("sorted scores");
            let ids: Vec<String> = page.items.into_iter().map(|s| s.record.id).collect();
            assert_eq!(ids, strings(expected), "{column} {direction:?} {user_id:?}");
        }
    }
    let second = store
        .list_scores(
            P,
            &ScoreQuery {
                page: 2,
                limit: 2,
                order_by: order("value", Desc),
                ..ScoreQuery::default()
            },
        )
        .await
        .expect("second sorted page of scores");
    let ids: Vec<String> = second.items.into_iter().map(|s| s.record.id).collect();
    assert_eq!((second.total_items, ids), (3, strings(&["s3"])));

    let error = store
        .list_observations(
            P,
            &ObservationQuery {
                order_by: order("colour", Asc),
                ..ObservationQuery::default()
            },
        )
        .await
        .expect_err("an unknown observation sort column is an error");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(error.message.contains("colour"), "{}", error.message);
    let error = store
        .list_scores(
            P,
            &ScoreQuery {
                order_by: order("comment", Asc),
                ..ScoreQuery::default()
            },
        )
        .await
        .expect_err("an unsortable score column is an error");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    let error = store
        .list_observations(
            P,
            &ObservationQuery {
                after: Some(Cursor {
                    time: BASE,
                    id: "a".into(),
                }),
                order_by: order("name", Asc),
                ..ObservationQuery::default()
            },
        )
        .await
        .expect_err("a sort with a cursor is an error");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_patches_are_deterministic() {
        let a = random_patches(&mut Rng::new(3));
        let b = random_patches(&mut Rng::new(3));
        assert_eq!(a, b);
        assert!(a.len() > 10);
    }
}
