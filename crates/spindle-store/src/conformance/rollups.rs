//! Conformance of the writer-kept rollups: after every change (creates, late and
//! out-of-order updates of observations and traces, observations before their trace, score
//! upserts, deletions, retention, cost recomputation), the stored rollup rows equal the
//! rollups worked out afresh from the raw rows, and the daily metrics they answer equal the
//! raw rows'.

use super::daily_metrics::assert_daily_sources_agree;
use super::fixtures::*;
use super::Harness;
use crate::rollups::{Rollups, ScoreRollup};
use crate::{CustomModel, Store, WriteBatch};
use spindle_core::{
    Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource, TraceRecord,
};
use std::collections::BTreeMap;
use std::sync::Arc;

const P: &str = "project-a";
const HOUR: i64 = 3600 * SECOND;

/// Panics naming `step` when the stored rollups differ from a rebuild (score value sums,
/// the one float, within rounding); returns the stored ones.
pub async fn assert_rollups_match(store: &Arc<dyn Store>, project: &str, step: &str) -> Rollups {
    let stored = store.stored_rollups(project).await.expect("stored rollups");
    let rebuilt = store
        .recomputed_rollups(project)
        .await
        .expect("recomputed rollups");
    assert_same_rollups(&stored, &rebuilt, step);
    stored
}

fn assert_same_rollups(stored: &Rollups, rebuilt: &Rollups, step: &str) {
    assert_eq!(stored.traces, rebuilt.traces, "{step}: trace rollups");
    assert_eq!(
        stored.observation_days, rebuilt.observation_days,
        "{step}: observation latency days"
    );
    assert_eq!(
        stored.trace_days, rebuilt.trace_days,
        "{step}: trace latency days"
    );
    assert_eq!(stored.people, rebuilt.people, "{step}: people rollups");
    assert_eq!(
        stored.trace_models, rebuilt.trace_models,
        "{step}: trace model rollups"
    );
    assert_eq!(
        stored.attributes, rebuilt.attributes,
        "{step}: attribute rollups"
    );
    assert_eq!(
        stored.attribute_days, rebuilt.attribute_days,
        "{step}: attribute latency days"
    );
    assert_eq!(
        stored.trace_attributes, rebuilt.trace_attributes,
        "{step}: trace attribute rollups"
    );
    assert_eq!(
        stored.trace_attribute_days, rebuilt.trace_attribute_days,
        "{step}: trace attribute latency days"
    );
    for (key, row) in &rebuilt.observations {
        assert_eq!(stored.observations.get(key), Some(row), "{step}: {key:?}");
    }
    for (key, row) in &stored.observations {
        assert!(
            rebuilt.observations.contains_key(key),
            "{step}: stored {key:?} {row:?} is not in the raw rows"
        );
    }
    let score = |row: &ScoreRollup| ((row.count, row.value_count), row.value_sum);
    assert_same_sums(
        &stored.scores,
        &rebuilt.scores,
        score,
        &format!("{step}: scores"),
    );
    assert_same_sums(
        &stored.score_attributes,
        &rebuilt.score_attributes,
        score,
        &format!("{step}: score attributes"),
    );
    assert_same_sums(
        &stored.prompt_scores,
        &rebuilt.prompt_scores,
        |row| ((row.count, 0), row.value_sum),
        &format!("{step}: prompt scores"),
    );
}

/// Panics naming `what` unless `stored` and `rebuilt` have the same keys, and each key the
/// same counts and a value sum within floating-point rounding (`sums` reads both).
fn assert_same_sums<K: std::fmt::Debug + Ord, R>(
    stored: &BTreeMap<K, R>,
    rebuilt: &BTreeMap<K, R>,
    sums: impl Fn(&R) -> ((i64, i64), f64),
    what: &str,
) {
    let stored_keys: Vec<_> = stored.keys().collect();
    let rebuilt_keys: Vec<_> = rebuilt.keys().collect();
    assert_eq!(stored_keys, rebuilt_keys, "{what}: keys");
    for (key, row) in rebuilt {
        let ((counts, sum), (kept_counts, kept_sum)) = (sums(row), sums(&stored[key]));
        assert_eq!(kept_counts, counts, "{what}: {key:?}");
        assert!(
            (kept_sum - sum).abs() <= 1e-9 * (1.0 + sum.abs()),
            "{what}: {key:?} value sum {kept_sum} != {sum}"
        );
    }
}

/// The random changes of one run.
struct Run {
    rng: Rng,
    /// Each observation's id and trace, for later updates.
    observations: Vec<(String, String)>,
    scores: Vec<(String, String)>,
    traces: Vec<String>,
    /// The next event time: later events carry later update stamps.
    clock: i64,
}

impl Run {
    fn tick(&mut self) -> i64 {
        self.clock += 1 + self.rng.below(1000) as i64;
        self.clock
    }

    fn start_time(&mut self) -> i64 {
        BASE + self.rng.below(6) as i64 * HOUR + self.rng.below(HOUR as u64) as i64
    }

    fn usage(&mut self) -> Option<BTreeMap<String, i64>> {
        self.rng.chance(70).then(|| {
            BTreeMap::from([
                ("input".to_owned(), self.rng.below(2000) as i64),
                ("output".to_owned(), self.rng.below(500) as i64),
            ])
        })
    }

    /// No level now and then (keyed `DEFAULT`), else any.
    fn level(&mut self) -> Option<Level> {
        (!self.rng.chance(40)).then(|| Level::ALL[self.rng.below(Level::ALL.len() as u64) as usize])
    }

    /// A user of the people rollups, or none now and then (or an empty one).
    fn user(&mut self) -> Option<String> {
        (!self.rng.chance(20)).then(|| self.rng.pick(&["ann", "bo", "cy", ""]).to_owned())
    }

    fn session(&mut self) -> Option<String> {
        (!self.rng.chance(20)).then(|| self.rng.pick(&["s1", "s2", "s3"]).to_owned())
    }

    fn model(&mut self) -> Option<String> {
        let models = ["gpt-4o", "house-model", "unknown-model"];
        (!self.rng.chance(25)).then(|| self.rng.pick(&models).to_owned())
    }

    fn new_trace(&mut self) -> WriteBatch {
        let trace_id = format!("t{}", self.traces.len());
        let at = self.start_time();
        // Now and then the observations come first and the trace with a later update.
        let mut batch = if self.rng.chance(15) {
            WriteBatch::default()
        } else {
            let mut created = simple_trace(&trace_id, at, "chat");
            created.user_id = self.user();
            created.session_id = self.session();
            // Every other trace tagged (without a draw: the run's other draws stay as
            // they were).
            if self.traces.len().is_multiple_of(2) {
                created.tags = [["red", "blue"][self.traces.len() / 2 % 2].to_owned()].into();
            }
            batch_of_traces(vec![created])
        };
        for _ in 0..1 + self.rng.below(3) {
            let id = format!("o{}", self.observations.len());
            let start = at + self.rng.below(10 * SECOND as u64) as i64;
            let stamp = create_stamp(self.tick());
            let end = self
                .rng
                .chance(80)
                .then(|| start + self.rng.below(30 * SECOND as u64) as i64);
            let (model, usage, level) = (self.model(), self.usage(), self.level());
            let cost = self
                .rng
                .chance(20)
                .then(|| self.rng.below(1000) as f64 / 1e4);
            let generation = self.rng.chance(60);
            let name = self.rng.pick(&["plan", "answer", "search"]).to_owned();
            // Often linked to a version (two of one trace now and then to the same one).
            let prompt = self.rng.chance(40).then(|| {
                let name = self.rng.pick(&["greeting", "farewell"]).to_owned();
                (name, self.rng.below(2) as i64 + 1)
            });
            batch.observations.push(observation(&id, stamp, |o| {
                o.trace_id = Some(trace_id.clone());
                o.start_time = Some(start);
                o.end_time = end;
                o.environment = Some("default".to_owned());
                o.observation_type = Some(if generation {
                    ObservationType::Generation
                } else {
                    ObservationType::Span
                });
                o.name = Some(name);
                o.model = model;
                o.level = level;
                o.usage_details = usage;
                o.cost_details = cost.map(|c| BTreeMap::from([("total".to_owned(), c)]));
                if let Some((prompt_name, prompt_version)) = prompt {
                    o.prompt_name = Some(prompt_name);
                    o.prompt_version = Some(prompt_version);
                }
            }));
            self.observations.push((id, trace_id.clone()));
        }
        self.traces.push(trace_id);
        batch
    }

    /// A patch of an existing observation: late fields, a changed model, usage, cost or end
    /// time; with an older stamp than what is stored now and then (out of order).
    fn observation_update(&mut self) -> Option<ObservationRecord> {
        if self.observations.is_empty() {
            return None;
        }
        let (id, trace_id) =
            self.observations[self.rng.below(self.observations.len() as u64) as usize].clone();
        let at = if self.rng.chance(20) {
            BASE + self.rng.below(1000) as i64
        } else {
            self.tick()
        };
        let stamp = if self.rng.chance(15) {
            create_stamp(at)
        } else {
            update_stamp(at)
        };
        let change = self.rng.below(7);
        let start = self.start_time();
        let end = start + self.rng.below(20 * SECOND as u64) as i64;
        let (model, usage, level) = (self.model(), self.usage(), self.level());
        let cost = self.rng.below(1000) as f64 / 1e4;
        let prompt_version = self.rng.below(3) as i64 + 1;
        Some(observation(&id, stamp, |o| {
            o.trace_id = Some(trace_id);
            match change {
                0 => o.end_time = Some(end),
                1 => o.model = model,
                2 => o.usage_details = usage,
                3 => o.cost_details = Some(BTreeMap::from([("total".to_owned(), cost)])),
                4 => {
                    o.prompt_name = Some("greeting".to_owned());
                    o.prompt_version = Some(prompt_version);
                }
                5 => o.output = Some("a late output".to_owned()),
                // A late level (an error found at the end), or none: the stored one stays.
                6 => o.level = level,
                _ => {
                    // A create that arrives after its updates, with first-write fields.
                    o.start_time = Some(start);
                    o.environment = Some("staging".to_owned());
                    o.name = Some("late".to_owned());
                }
            }
        }))
    }

    /// A patch of a trace: a new name, release, environment, timestamp (the trace's hour and
    /// day), user or session, or its first write after its observations; older than what is
    /// stored now and then.
    fn trace_update(&mut self) -> Option<TraceRecord> {
        if self.traces.is_empty() {
            return None;
        }
        let trace_id = self.traces[self.rng.below(self.traces.len() as u64) as usize].clone();
        // Later than the traces' creation (stamped with their timestamps) mostly.
        let at = if self.rng.chance(20) {
            BASE + self.rng.below(1000) as i64
        } else {
            self.tick() + 7 * HOUR
        };
        let change = self.rng.below(7);
        let name = self.rng.pick(&["chat", "search", "agent"]).to_owned();
        let release = self.rng.pick(&["v1", "v2"]).to_owned();
        let environment = self.rng.pick(&["default", "staging"]).to_owned();
        // Now and then a day or two later (another day of the people rollups).
        let timestamp = self.start_time() + self.rng.below(3) as i64 * 24 * HOUR;
        let (user, session) = (self.user(), self.session());
        // Tagged again with the name's change (without a draw).
        let tag = ["red", "green"][(at % 2) as usize].to_owned();
        Some(trace(&trace_id, update_stamp(at), |t| match change {
            0 => t.name = Some(name),
            1 => t.release = Some(release),
            2 => t.environment = Some(environment),
            3 => t.timestamp = Some(timestamp),
            4 => t.user_id = user,
            5 => t.session_id = session,
            _ => {
                t.tags = [tag].into();
                t.name = Some(name);
                t.release = Some(release);
                t.timestamp = Some(timestamp);
            }
        }))
    }

    fn score(&mut self) -> Option<ScoreRecord> {
        if self.traces.is_empty() {
            return None;
        }
        let (id, trace_id) = if !self.scores.is_empty() && self.rng.chance(40) {
            let index = self.rng.below(self.scores.len() as u64) as usize;
            // Now and then moved to another trace (its trace is last-writer-wins); without a
            // draw, so the run's other draws stay as they were.
            if index % 4 == 1 {
                let other = (index + self.traces.len() / 2) % self.traces.len();
                self.scores[index].1 = self.traces[other].clone();
            }
            self.scores[index].clone()
        } else {
            let trace_id = self.traces[self.rng.below(self.traces.len() as u64) as usize].clone();
            let id = format!("s{}", self.scores.len());
            self.scores.push((id.clone(), trace_id.clone()));
            (id, trace_id)
        };
        let data_type = [
            ScoreDataType::Numeric,
            ScoreDataType::Categorical,
            ScoreDataType::Boolean,
        ][self.rng.below(3) as usize];
        let stamp = update_stamp(self.tick());
        // A boolean's value is 0 or 1, and its text a label that says nothing of it.
        let value = match data_type {
            ScoreDataType::Boolean => self.rng.below(2) as f64,
            _ => self.rng.below(100) as f64 / 8.0,
        };
        let label = self.rng.pick(&["good", "bad"]).to_owned();
        let name = self.rng.pick(&["quality", "safety"]).to_owned();
        let timestamp = self.start_time();
        // A score of one of the trace's observations now and then (or of one of another
        // trace's, which links nothing).
        let observation_id = self
            .rng
            .chance(35)
            .then(|| {
                let of_trace: Vec<&String> = self
                    .observations
                    .iter()
                    .filter(|(_, trace)| *trace == trace_id || self.rng.chance(5))
                    .map(|(id, _)| id)
                    .collect();
                (!of_trace.is_empty())
                    .then(|| of_trace[self.rng.below(of_trace.len() as u64) as usize].clone())
            })
            .flatten();
        Some(score(&id, stamp, |s| {
            s.trace_id = Some(trace_id);
            s.observation_id = observation_id;
            s.timestamp = Some(timestamp);
            s.environment = Some("default".to_owned());
            s.name = Some(name);
            s.source = Some(ScoreSource::Api);
            s.data_type = Some(data_type);
            s.value = Some(value);
            if data_type != ScoreDataType::Numeric {
                s.string_value = Some(label);
            }
        }))
    }
}

fn house_model(price: f64) -> CustomModel {
    CustomModel {
        id: "house".to_owned(),
        project_id: P.to_owned(),
        model_name: "house-model".to_owned(),
        match_pattern: "(?i)^house-model$".to_owned(),
        start_date: None,
        unit: Some("TOKENS".to_owned()),
        prices: BTreeMap::from([
            ("input".to_owned(), price),
            ("output".to_owned(), price * 2.0),
        ]),
        tokenizer_id: None,
        tokenizer_config: None,
        pricing_tiers: Vec::new(),
        created_at: BASE,
    }
}

/// Random sequences of every kind of change keep the stored rollups equal to a rebuild from
/// the raw rows after each step.
pub async fn rollups_equal_a_rebuild_after_every_change(harness: &Harness) {
    let store = harness.open().await;
    create_project(&store, P).await;
    store
        .put_model(&house_model(1e-6))
        .await
        .expect("put_model");
    // The levels and boolean values the stored rows held at some step.
    let mut levels = std::collections::BTreeSet::new();
    let mut booleans = std::collections::BTreeSet::new();
    for seed in [1, 2, 3] {
        let mut run = Run {
            rng: Rng::new(seed),
            observations: Vec::new(),
            scores: Vec::new(),
            traces: Vec::new(),
            clock: BASE + seed as i64 * 1_000_000,
        };
        for step in 0..70 {
            let kind = run.rng.below(112);
            let what = match kind {
                0..=29 => {
                    let batch = run.new_trace();
                    store.write(P, batch).await.expect("write");
                    "create"
                }
                30..=54 => {
                    // Several patches in one batch, some of one observation.
                    let mut batch = WriteBatch::default();
                    for _ in 0..1 + run.rng.below(3) {
                        batch.observations.extend(run.observation_update());
                    }
                    store.write(P, batch).await.expect("write");
                    "update"
                }
                55..=69 => {
                    let batch = batch_of_scores(run.score().into_iter().collect());
                    store.write(P, batch).await.expect("write");
                    "score"
                }
                70..=74 => {
                    // Scores and observation patches in one transaction.
                    let mut batch = batch_of_scores(run.score().into_iter().collect());
                    batch.scores.extend(run.score());
                    batch.observations.extend(run.observation_update());
                    batch.observations.extend(run.observation_update());
                    store.write(P, batch).await.expect("write");
                    "scores and updates"
                }
                75..=82 if !run.traces.is_empty() => {
                    let doomed =
                        run.traces[run.rng.below(run.traces.len() as u64) as usize].clone();
                    store.delete_traces(P, &[doomed]).await.expect("delete");
                    "delete traces"
                }
                83..=87 => {
                    let cutoff = BASE + run.rng.below(3) as i64 * HOUR;
                    store
                        .delete_older_than(P, cutoff, 2)
                        .await
                        .expect("retention");
                    "retention"
                }
                88..=92 if !run.scores.is_empty() => {
                    let (id, _) =
                        run.scores[run.rng.below(run.scores.len() as u64) as usize].clone();
                    store.delete_score(P, &id).await.expect("delete score");
                    "delete score"
                }
                93..=96 => {
                    let price = (1 + run.rng.below(5)) as f64 * 1e-6;
                    store
                        .put_model(&house_model(price))
                        .await
                        .expect("put_model");
                    store
                        .recompute_costs(P, None, None)
                        .await
                        .expect("recompute");
                    "recompute"
                }
                100..=111 => {
                    // Trace patches, with an observation patch now and then.
                    let mut batch = WriteBatch::default();
                    batch.traces.extend(run.trace_update());
                    if run.rng.chance(30) {
                        batch.traces.extend(run.trace_update());
                        batch.observations.extend(run.observation_update());
                    }
                    store.write(P, batch).await.expect("write");
                    "trace update"
                }
                _ => {
                    // A trace's observations created and patched in one batch.
                    let mut batch = run.new_trace();
                    let patches: Vec<ObservationRecord> = batch
                        .observations
                        .iter()
                        .map(|created| {
                            observation(&created.id, update_stamp(BASE), |o| {
                                o.trace_id = created.trace_id.clone();
                                o.end_time = created.start_time.map(|start| start + SECOND);
                                o.usage_details = Some(BTreeMap::from([("input".to_owned(), 1)]));
                            })
                        })
                        .collect();
                    batch.observations.extend(patches);
                    store.write(P, batch).await.expect("write");
                    "repeat"
                }
            };
            let step_name = format!("seed {seed} step {step} ({what})");
            let stored = assert_rollups_match(&store, P, &step_name).await;
            // The daily metrics from the rollups, over all days and a range cut inside hours.
            let from = BASE + run.rng.below(2 * DAY as u64) as i64;
            let ranged = crate::MetricsQuery {
                from_timestamp: Some(from),
                to_timestamp: Some(from + 2 * HOUR + run.rng.below(DAY as u64) as i64),
                ..crate::MetricsQuery::default()
            };
            for query in [crate::MetricsQuery::default(), ranged] {
                assert_daily_sources_agree(&store, P, &query, &step_name).await;
            }
            levels.extend(stored.observations.into_keys().map(|key| key.level));
            booleans.extend(
                stored
                    .scores
                    .into_keys()
                    .filter(|key| key.data_type == "BOOLEAN")
                    .map(|key| key.string_value),
            );
        }
    }
    let every_level: std::collections::BTreeSet<String> = Level::ALL
        .iter()
        .map(|level| level.as_str().to_owned())
        .collect();
    assert_eq!(levels, every_level);
    assert_eq!(booleans, ["false".to_owned(), "true".to_owned()].into());
    // The run made rows of every kind.
    let stored = store.stored_rollups(P).await.expect("stored");
    assert!(stored
        .observations
        .values()
        .any(|row| !row.latency.is_empty()));
    assert!(stored
        .observations
        .values()
        .any(|row| row.usage.cost_nanos > 0));
    assert!(!stored.scores.is_empty());
    assert!(stored.prompt_scores.len() > 1, "{:?}", stored.prompt_scores);
    // Observations under every attribute of their traces, with latencies.
    let kinds: std::collections::BTreeSet<&str> = stored
        .attributes
        .keys()
        .map(|key| key.kind.as_str())
        .collect();
    assert_eq!(kinds, ["name", "release", "tag", "user"].into());
    assert!(stored
        .attributes
        .values()
        .any(|row| !row.latency.is_empty()));
    assert!(!stored.attribute_days.is_empty());
    let kinds: std::collections::BTreeSet<&str> = stored
        .trace_attributes
        .keys()
        .map(|key| key.kind.as_str())
        .collect();
    assert_eq!(kinds, ["tag", "user"].into());
    let kinds: std::collections::BTreeSet<&str> = stored
        .score_attributes
        .keys()
        .map(|key| key.kind.as_str())
        .collect();
    assert_eq!(kinds, ["name", "release", "tag", "user"].into());
    assert!(stored
        .trace_attributes
        .values()
        .any(|row| !row.latency.is_empty()));
    // Traces under several names and releases, with errors, latencies and costs.
    let names: std::collections::BTreeSet<&str> =
        stored.traces.keys().map(|key| key.name.as_str()).collect();
    assert!(names.len() >= 3, "{names:?}");
    assert!(stored.traces.keys().any(|key| !key.release.is_empty()));
    assert!(stored.traces.values().any(|row| row.error_count > 0));
    assert!(stored.traces.values().any(|row| !row.latency.is_empty()));
    assert!(stored.traces.values().any(|row| row.cost_nanos > 0));
    // Per model too, several models with costs.
    let models: std::collections::BTreeSet<&str> = stored
        .trace_models
        .keys()
        .map(|key| key.model.as_str())
        .collect();
    assert!(models.len() >= 2, "{models:?}");
    assert!(stored
        .trace_models
        .values()
        .any(|row| row.totals.usage.cost_nanos > 0 && row.trace_count > 0));
}

/// A few rows by hand: the numbers a rollup row holds.
pub async fn rollups_hold_counts_tokens_cost_and_latency(harness: &Harness) {
    let store = harness.open().await;
    let start = BASE + 2 * HOUR + 5 * SECOND;
    let generation = |id: &str, end: i64, input: i64| {
        observation(id, create_stamp(BASE), |o| {
            o.trace_id = Some("t".to_owned());
            o.start_time = Some(start);
            o.end_time = Some(end);
            o.environment = Some("default".to_owned());
            o.observation_type = Some(ObservationType::Generation);
            o.name = Some("answer".to_owned());
            o.model = Some("my-model".to_owned());
            o.usage_details = Some(BTreeMap::from([
                ("input".to_owned(), input),
                ("output".to_owned(), 1),
            ]));
            o.cost_details = Some(BTreeMap::from([("total".to_owned(), 0.5)]));
        })
    };
    store
        .write(
            P,
            batch_of_observations(vec![
                generation("a", start + 2 * SECOND, 10),
                generation("b", start + 2 * SECOND, 20),
            ]),
        )
        .await
        .expect("write");
    let stored = store.stored_rollups(P).await.expect("stored");
    assert_eq!(stored.observations.len(), 1);
    let (key, row) = stored.observations.iter().next().expect("a row");
    assert_eq!(key.hour, BASE + 2 * HOUR);
    assert_eq!(
        (
            key.environment.as_str(),
            key.observation_type.as_str(),
            key.name.as_str()
        ),
        ("default", "GENERATION", "answer")
    );
    assert_eq!(
        (
            key.model.as_str(),
            key.prompt_name.as_str(),
            key.prompt_version
        ),
        ("my-model", "", 0)
    );
    assert_eq!(
        key.level, "DEFAULT",
        "no level is keyed as the metrics read it"
    );
    assert_eq!(
        (
            row.count,
            row.usage.input_tokens,
            row.usage.output_tokens,
            row.usage.total_tokens,
            row.usage.cost_nanos
        ),
        (2, 30, 2, 32, 1_000_000_000)
    );
    let bucket = crate::rollups::latency_bucket(2 * SECOND);
    assert_eq!(row.latency, BTreeMap::from([(bucket, 2)]));
    // A later end time moves one count to another bucket.
    store
        .write(
            P,
            batch_of_observations(vec![observation("a", update_stamp(BASE + 1), |o| {
                o.end_time = Some(start + 9 * SECOND);
            })]),
        )
        .await
        .expect("write");
    let stored = store.stored_rollups(P).await.expect("stored");
    let row = stored.observations.values().next().expect("a row");
    assert_eq!(
        row.latency,
        BTreeMap::from([(bucket, 1), (crate::rollups::latency_bucket(9 * SECOND), 1)])
    );
    // A late level moves the observation to the row of its level.
    store
        .write(
            P,
            batch_of_observations(vec![observation("b", update_stamp(BASE + 2), |o| {
                o.level = Some(Level::Error);
            })]),
        )
        .await
        .expect("write");
    let stored = store.stored_rollups(P).await.expect("stored");
    let by_level: Vec<(&str, i64, i64)> = stored
        .observations
        .iter()
        .map(|(key, row)| (key.level.as_str(), row.count, row.usage.input_tokens))
        .collect();
    assert_eq!(by_level, [("DEFAULT", 1, 10), ("ERROR", 1, 20)]);
    store
        .delete_traces(P, &["t".to_owned()])
        .await
        .expect("delete");
    assert!(store.stored_rollups(P).await.expect("stored").is_empty());
}
