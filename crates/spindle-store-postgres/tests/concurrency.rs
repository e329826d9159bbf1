//! Two `PostgresStore`s on one database (as two server instances would be) with 8
//! concurrent writers sending interleaved creates and updates of the same traces,
//! observations and scores: both end with the same, complete trees, equal to merging every
//! patch in memory, and with rollups (the trace rollups included) equal to a rebuild.

mod support;

use spindle_core::merge::Stamp;
use spindle_core::{Level, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};
use spindle_store::conformance::fixtures::{
    batch_of_observations, batch_of_scores, batch_of_traces,
};
use spindle_store::{ErrorKind, Organization, Project, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

const PROJECT: &str = "p-concurrency";
const BASE: i64 = 1_700_000_000_000_000;
const TRACES: usize = 6;
const OBSERVATIONS_PER_TRACE: usize = 24;
const WRITERS: usize = 8;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn stamp(at: i64, rank: u8, tiebreak: u64) -> Stamp {
    Stamp::explicit(at, rank, tiebreak)
}

/// Every patch the writers send: creates, updates and shallow patches of each entity.
fn patches(rng: &mut Rng) -> Vec<WriteBatch> {
    let mut out = Vec::new();
    let mut tiebreak = 0u64;
    let mut next_tiebreak = || {
        tiebreak += 1;
        tiebreak
    };
    for t in 0..TRACES {
        let trace_id = format!("trace-{t}");
        for version in 0..4i64 {
            let at = BASE + version * 1_000 + rng.below(500) as i64;
            let mut trace = TraceRecord::new(&trace_id);
            trace.timestamp = Some(at);
            trace.name = Some(format!("name-{t}-{version}"));
            trace.output = Some(format!("output {version} of {t}"));
            trace
                .metadata
                .insert(format!("k{version}"), format!("v{version}"));
            trace
                .metadata
                .insert("shared".into(), format!("s{version}"));
            trace.tags.insert(format!("tag-{version}"));
            if version == 0 {
                trace.user_id = Some(format!("user-{t}"));
                trace.input = Some(format!("question {t}"));
            }
            trace.stamp_unstamped(stamp(at, u8::from(version > 0), next_tiebreak()));
            out.push(batch_of_traces(vec![trace]));
        }
        for o in 0..OBSERVATIONS_PER_TRACE {
            let id = format!("obs-{t}-{o}");
            let start = BASE + (o as i64) * 10_000;
            let mut create = ObservationRecord::new(&id);
            create.trace_id = Some(trace_id.clone());
            create.start_time = Some(start);
            create.name = Some(format!("step {o}"));
            create.input = Some(format!("in {o}"));
            if o > 0 {
                create.parent_observation_id = Some(format!("obs-{t}-0"));
            }
            create.stamp_unstamped(stamp(start, Stamp::RANK_CREATE, next_tiebreak()));
            let mut update = ObservationRecord::new(&id);
            update.end_time = Some(start + 5_000 + rng.below(1_000) as i64);
            update.output = Some(format!("out {o}"));
            update.level = Some(if o % 5 == 0 {
                Level::Warning
            } else if o % 7 == 0 {
                Level::Error
            } else {
                Level::Default
            });
            update.usage_details = Some(BTreeMap::from([("input".to_owned(), o as i64)]));
            // Linked to a prompt version by its late update, racing its trace's scores.
            if o % 3 == 0 {
                update.prompt_name = Some("greet".to_owned());
                update.prompt_version = Some(o as i64 % 2 + 1);
            }
            update.stamp_unstamped(stamp(start + 5_000, Stamp::RANK_UPDATE, next_tiebreak()));
            // Each span also says "this trace exists", as OTLP ingestion does.
            let shallow = TraceRecord::shallow(
                &trace_id,
                start,
                stamp(start, Stamp::RANK_CREATE, next_tiebreak()),
            );
            out.push(WriteBatch {
                traces: vec![shallow],
                observations: vec![create],
                ..WriteBatch::default()
            });
            out.push(batch_of_observations(vec![update]));
            if o % 4 == 0 {
                let mut score = ScoreRecord::new(format!("score-{t}-{o}"));
                score.trace_id = Some(trace_id.clone());
                score.observation_id = Some(id.clone());
                score.name = Some("helpful".into());
                score.value = Some(o as f64 / 4.0);
                score.stamp_unstamped(stamp(start, Stamp::RANK_CREATE, next_tiebreak()));
                out.push(batch_of_scores(vec![score]));
            }
        }
        for s in 0..3i64 {
            let mut score = ScoreRecord::new(format!("score-{t}"));
            score.trace_id = Some(trace_id.clone());
            score.name = Some("quality".into());
            score.value = Some(s as f64);
            score.timestamp = Some(BASE + s);
            score.stamp_unstamped(stamp(BASE + s * 100, Stamp::RANK_UPDATE, next_tiebreak()));
            out.push(batch_of_scores(vec![score]));
        }
    }
    // Interleave: shuffle, then group a few patches per request.
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1);
        out.swap(i, j);
    }
    let mut requests = Vec::new();
    let mut current = WriteBatch::default();
    for patch in out {
        current.extend(patch);
        if current.len() > rng.below(6) {
            requests.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        requests.push(current);
    }
    requests
}

/// The merge of every patch, per id.
fn expected(requests: &[WriteBatch]) -> WriteBatch {
    let mut all = WriteBatch::default();
    for request in requests {
        all.extend(request.clone());
    }
    all.coalesce();
    all
}

async fn write_with_retry(store: &Arc<dyn Store>, batch: WriteBatch) {
    loop {
        match store.write(PROJECT, batch.clone()).await {
            Ok(()) => return,
            Err(error) if error.kind == ErrorKind::Overloaded => tokio::task::yield_now().await,
            Err(error) => panic!("write failed: {error:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_eight_writers_end_with_identical_complete_trees() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // Both open (and migrate) the fresh schema at the same moment.
    let (first, second) = tokio::join!(
        support::open_in(dir.path(), None),
        support::open_in(dir.path(), None)
    );
    let first: Arc<dyn Store> = Arc::new(first);
    let second: Arc<dyn Store> = Arc::new(second);
    first
        .upsert_project(&Project {
            id: PROJECT.into(),
            name: "concurrency".into(),
            organization: Organization {
                id: "o".into(),
                name: "o".into(),
            },
            retention_days: None,
            created_at: BASE,
        })
        .await
        .expect("project");

    let requests = patches(&mut Rng(0x5eed_1234_abcd_0001));
    let want = expected(&requests);
    let mut lanes: Vec<Vec<WriteBatch>> = vec![Vec::new(); WRITERS];
    for (index, request) in requests.into_iter().enumerate() {
        lanes[index % WRITERS].push(request);
    }
    let mut tasks = Vec::new();
    for (writer, lane) in lanes.into_iter().enumerate() {
        let stores = [Arc::clone(&first), Arc::clone(&second)];
        tasks.push(tokio::spawn(async move {
            for (index, batch) in lane.into_iter().enumerate() {
                // Alternate instances within each writer, so every trace gets writes from both.
                let store = &stores[(writer + index) % 2];
                write_with_retry(store, batch).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task");
    }

    let want_traces: BTreeMap<&str, &TraceRecord> =
        want.traces.iter().map(|t| (t.id.as_str(), t)).collect();
    for (trace_id, want_trace) in &want_traces {
        let mut want_observations: Vec<&ObservationRecord> = want
            .observations
            .iter()
            .filter(|o| o.trace_id.as_deref() == Some(trace_id))
            .collect();
        want_observations.sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
        let mut want_scores: Vec<&ScoreRecord> = want
            .scores
            .iter()
            .filter(|s| s.trace_id.as_deref() == Some(trace_id))
            .collect();
        want_scores.sort_by(|a, b| a.id.cmp(&b.id));
        let mut views = Vec::new();
        for store in [&first, &second] {
            let view = store
                .get_trace(PROJECT, trace_id)
                .await
                .expect("get trace")
                .expect("trace exists");
            assert_eq!(&&view.record, want_trace, "trace {trace_id}");
            let got: Vec<&ObservationRecord> =
                view.observations.iter().map(|o| &o.record).collect();
            assert_eq!(got, want_observations, "observations of {trace_id}");
            assert_eq!(view.observations.len(), OBSERVATIONS_PER_TRACE);
            let mut got: Vec<&ScoreRecord> = view.scores.iter().map(|s| &s.record).collect();
            got.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(got, want_scores, "scores of {trace_id}");
            views.push(view);
        }
        assert_eq!(views[0], views[1], "both instances see the same tree");
    }
    let all = second
        .list_traces(PROJECT, &Default::default())
        .await
        .expect("list");
    assert_eq!(
        all.total_items as usize, TRACES,
        "no duplicate or missing trace"
    );
    let observations = first
        .list_observations(PROJECT, &Default::default())
        .await
        .expect("list observations");
    assert_eq!(
        observations.total_items as usize,
        TRACES * OBSERVATIONS_PER_TRACE
    );
    // The rollups the writers kept (prompt score averages included, which each write works
    // out from the other rows of its traces) equal a rebuild.
    spindle_store::conformance::assert_rollups_match(&first, PROJECT, "concurrent writes").await;
    let kept = first.stored_rollups(PROJECT).await.expect("rollups");
    assert_eq!(kept.prompt_scores.len(), 3, "{:?}", kept.prompt_scores);
    // The trace rollups follow each trace's totals row, recomputed in turn under the trace's
    // lock: every trace under its last name, with its errors.
    let traces: i64 = kept.traces.values().map(|row| row.count).sum();
    assert_eq!(traces as usize, TRACES, "{:?}", kept.traces);
    assert!(kept.traces.keys().all(|key| key.name.ends_with("-3")));
    assert!(kept.traces.values().any(|row| row.error_count > 0));
    first.shutdown().await.expect("shutdown");
    second.shutdown().await.expect("shutdown");
}
