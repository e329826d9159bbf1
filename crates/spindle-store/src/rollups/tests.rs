//! Unit tests of the rollup deltas: the signed deltas of random changes sum to a
//! recomputation, and the latency buckets keep their stated error bound.

use super::*;
use spindle_core::rng::Rng as SplitMix64;
use spindle_core::{ObservationType, ScoreSource};

#[test]
fn every_latency_is_within_the_relative_error_of_its_bucket() {
    let mut rng = SplitMix64::new(7);
    for _ in 0..100_000 {
        let micros = (1 + (rng.next_u64() % 10_000_000_000) as i64) >> rng.below(30);
        let millis = micros.max(1) as f64 / 1000.0;
        let bucket = latency_bucket(micros.max(1));
        let read = bucket_millis(bucket);
        assert!(
            (read - millis).abs() <= millis * RELATIVE_ERROR * (1.0 + 1e-9),
            "{micros} µs read as {read} ms (bucket {bucket})"
        );
    }
    assert_eq!(latency_bucket(0), ZERO_BUCKET);
    assert_eq!(latency_bucket(-5), ZERO_BUCKET);
    assert_eq!(bucket_millis(ZERO_BUCKET), 0.0);
    assert!(latency_bucket(1000) <= 0 && latency_bucket(1001) == 1);
}

#[test]
fn hours_and_costs() {
    assert_eq!(hour_of(None), NO_HOUR);
    assert_eq!(hour_of(Some(HOUR_MICROS + 5)), HOUR_MICROS);
    assert_eq!(hour_of(Some(-1)), -HOUR_MICROS);
    assert_eq!(cost_nanos(Some(0.000_000_002_4)), 2);
    assert_eq!(cost_nanos(Some(1.5)), 1_500_000_000);
    assert_eq!(cost_nanos(Some(f64::NAN)), 0);
    assert_eq!(cost_nanos(None), 0);
}

fn random_observation(rng: &mut SplitMix64, id: usize) -> ObservationRecord {
    let maybe = |rng: &mut SplitMix64, items: &[&str]| {
        (!rng.chance(20)).then(|| rng.pick(items).to_owned())
    };
    let start = (rng.below(4 * HOUR_MICROS as u64) as i64).max(1);
    let mut record = ObservationRecord {
        id: format!("o{id}"),
        start_time: (!rng.chance(5)).then_some(start),
        end_time: rng
            .chance(80)
            .then(|| start + rng.below(60_000_000) as i64 - 1_000),
        environment: maybe(rng, &["default", "prod"]),
        observation_type: Some(if rng.chance(50) {
            ObservationType::Generation
        } else {
            ObservationType::Span
        }),
        name: maybe(rng, &["chat", "embed", "tool"]),
        model: maybe(rng, &["gpt-4o", "claude"]),
        prompt_name: maybe(rng, &["greeting"]),
        prompt_version: rng.chance(50).then(|| rng.below(3) as i64 + 1),
        level: (!rng.chance(30)).then(|| Level::ALL[rng.below(Level::ALL.len() as u64) as usize]),
        ..ObservationRecord::default()
    };
    if rng.chance(70) {
        record.usage_details = Some(BTreeMap::from([
            ("input".to_owned(), rng.below(1000) as i64),
            ("output".to_owned(), rng.below(1000) as i64),
        ]));
    }
    if rng.chance(50) {
        record.cost_details = Some(BTreeMap::from([(
            "total".to_owned(),
            rng.below(1_000_000) as f64 / 1e7,
        )]));
    }
    record
}

fn random_score(rng: &mut SplitMix64, id: usize) -> ScoreRecord {
    let data_type = [
        ScoreDataType::Numeric,
        ScoreDataType::Categorical,
        ScoreDataType::Boolean,
    ][rng.below(3) as usize];
    ScoreRecord {
        id: format!("s{id}"),
        timestamp: Some(rng.below(4 * HOUR_MICROS as u64) as i64),
        environment: Some("default".to_owned()),
        name: Some(rng.pick(&["quality", "safety"]).to_owned()),
        source: Some(ScoreSource::Api),
        data_type: Some(data_type),
        value: Some(rng.below(5) as f64 / 4.0),
        string_value: (data_type != ScoreDataType::Numeric)
            .then(|| rng.pick(&["good", "bad"]).to_owned()),
        ..ScoreRecord::default()
    }
}

/// Random creates, changes and deletes of rows, their deltas summed, equal the rollups of
/// the rows left, computed afresh.
#[test]
fn summed_deltas_equal_recomputation() {
    for seed in 0..50 {
        let mut rng = SplitMix64::new(seed);
        let mut observations: BTreeMap<usize, ObservationFacts> = BTreeMap::new();
        let mut scores: BTreeMap<usize, ScoreFacts> = BTreeMap::new();
        let mut kept = Rollups::default();
        for _ in 0..300 {
            let id = rng.below(40) as usize;
            if rng.chance(50) {
                let after = (!rng.chance(20)).then(|| {
                    let record = random_observation(&mut rng, id);
                    ObservationFacts::of("p", &record, &DerivedCost::default())
                });
                let before = observations.remove(&id);
                kept.observation(before.as_ref(), after.as_ref());
                if let Some(after) = after {
                    observations.insert(id, after);
                }
            } else {
                let after =
                    (!rng.chance(20)).then(|| ScoreFacts::of("p", &random_score(&mut rng, id)));
                let before = scores.remove(&id);
                kept.score(before.as_ref(), after.as_ref());
                if let Some(after) = after {
                    scores.insert(id, after);
                }
            }
        }
        let mut fresh = Rollups::default();
        for facts in observations.values() {
            fresh.observation(None, Some(facts));
        }
        for facts in scores.values() {
            fresh.score(None, Some(facts));
        }
        kept.normalize();
        fresh.normalize();
        assert_eq!(kept.observations, fresh.observations, "seed {seed}");
        assert_eq!(kept.scores.len(), fresh.scores.len(), "seed {seed}");
        for ((kept_key, kept_row), (fresh_key, fresh_row)) in kept.scores.iter().zip(&fresh.scores)
        {
            assert_eq!(kept_key, fresh_key);
            assert_eq!(
                (kept_row.count, kept_row.value_count),
                (fresh_row.count, fresh_row.value_count)
            );
            assert!((kept_row.value_sum - fresh_row.value_sum).abs() < 1e-9);
        }
    }
}

#[test]
fn facts_read_the_effective_usage_and_cost() {
    let record = ObservationRecord {
        start_time: Some(HOUR_MICROS + 10),
        end_time: Some(HOUR_MICROS + 2_010),
        model: Some("gpt-4o".to_owned()),
        ..ObservationRecord::default()
    };
    let derived = DerivedCost {
        inferred_usage: BTreeMap::from([("input".to_owned(), 3), ("output".to_owned(), 4)]),
        calculated_cost: BTreeMap::from([("total".to_owned(), 0.25)]),
        ..DerivedCost::default()
    };
    let facts = ObservationFacts::of("p", &record, &derived);
    assert_eq!(facts.key.hour, HOUR_MICROS);
    assert_eq!(facts.key.model, "gpt-4o");
    assert_eq!(facts.key.name, "");
    assert_eq!(
        facts.usage,
        Usage {
            input_tokens: 3,
            output_tokens: 4,
            total_tokens: 7,
            cost_nanos: 250_000_000,
        }
    );
    assert_eq!(facts.latency_bucket, Some(latency_bucket(2_000)));
}

#[test]
fn categorical_scores_keep_their_string_value_and_booleans_whether_theirs_is_not_0() {
    let mut score = ScoreRecord {
        data_type: Some(ScoreDataType::Categorical),
        string_value: Some("good".to_owned()),
        value: Some(f64::INFINITY),
        ..ScoreRecord::default()
    };
    let facts = ScoreFacts::of("p", &score);
    assert_eq!(facts.key.string_value, "good");
    assert_eq!(facts.value, None);
    score.data_type = Some(ScoreDataType::Numeric);
    assert_eq!(ScoreFacts::of("p", &score).key.string_value, "");
    // A boolean: `(value <> 0)` whatever its text says, none without a value.
    score.data_type = Some(ScoreDataType::Boolean);
    score.string_value = Some("False".to_owned());
    for (value, key) in [
        (Some(1.0), "true"),
        (Some(0.0), "false"),
        (Some(-0.0), "false"),
        (Some(0.5), "true"),
        (Some(f64::INFINITY), "true"),
        (Some(f64::NAN), ""),
        (None, ""),
    ] {
        score.value = value;
        assert_eq!(
            ScoreFacts::of("p", &score).key.string_value,
            key,
            "{value:?}"
        );
    }
}

#[test]
fn an_observation_without_a_level_is_keyed_default() {
    let mut record = ObservationRecord::default();
    let facts = |record: &ObservationRecord| {
        ObservationFacts::of("p", record, &DerivedCost::default())
            .key
            .level
    };
    assert_eq!(facts(&record), "DEFAULT");
    record.level = Some(Level::Error);
    assert_eq!(facts(&record), "ERROR");
}

#[test]
fn statements_add_in_key_order() {
    let mut rollups = Rollups::default();
    for name in ["b", "a"] {
        let record = ObservationRecord {
            name: Some(name.to_owned()),
            start_time: Some(1),
            end_time: Some(5_000),
            ..ObservationRecord::default()
        };
        rollups.observation(
            None,
            Some(&ObservationFacts::of("p", &record, &DerivedCost::default())),
        );
    }
    let statements = rollups.statements(Dialect::Sqlite);
    // One statement a table, a row per name: the sums, the hours' latency buckets, the days'.
    assert_eq!(statements.len(), 3);
    let text = statements[0].finish_text();
    assert!(text.contains(
        "ON CONFLICT (project_id, hour, environment, type, name, model, prompt_name, \
         prompt_version, level) DO UPDATE SET observation_count = observation_rollups.observation_count \
         + excluded.observation_count"
    ));
    // Rows of 9 key columns and 5 sums, in key order.
    assert_eq!(statements[0].params.len(), 28);
    assert_eq!(
        statements[0].params[4],
        crate::sql::Param::Text("a".to_owned())
    );
    assert_eq!(
        statements[0].params[14 + 4],
        crate::sql::Param::Text("b".to_owned())
    );
    // The day rows last (9 key columns, the bucket and its count), in key order too.
    let days = &statements[2];
    assert!(days
        .finish_text()
        .starts_with("INSERT INTO observation_latency_days"));
    for (row, name) in ["a", "b"].into_iter().enumerate() {
        assert_eq!(
            days.params[row * 11 + 4],
            crate::sql::Param::Text(name.to_owned())
        );
        assert_eq!(
            days.params[row * 11 + 1],
            crate::sql::Param::Int(0),
            "the day of hour 0"
        );
    }
}

#[test]
fn a_changed_score_value_moves_the_sum_under_the_same_counts() {
    let mut score = ScoreRecord {
        name: Some("quality".to_owned()),
        data_type: Some(ScoreDataType::Numeric),
        value: Some(8.0),
        ..ScoreRecord::default()
    };
    let before = ScoreFacts::of("p", &score);
    score.value = Some(12.0);
    let after = ScoreFacts::of("p", &score);
    let mut delta = Rollups::default();
    delta.score(Some(&before), Some(&after));
    let row = &delta.scores[&after.key];
    assert_eq!((row.count, row.value_count, row.value_sum), (0, 0, 4.0));
    assert_eq!(delta.statements(Dialect::Sqlite).len(), 1);
}

fn link(trace_id: &str, version: i64) -> PromptLink {
    PromptLink {
        trace_id: trace_id.to_owned(),
        prompt_name: "greet".to_owned(),
        prompt_version: version,
    }
}

fn linked_score(observation_id: Option<&str>, value: f64) -> LinkedScore {
    LinkedScore {
        trace_id: "t".to_owned(),
        observation_id: observation_id.map(str::to_owned),
        name: "quality".to_owned(),
        value,
    }
}

/// Rows of trace `t` by id.
fn of_trace<T: Clone>(rows: &[(&str, T)]) -> ByTrace<T> {
    let rows = rows.iter().map(|(id, row)| (id.to_string(), row.clone()));
    BTreeMap::from([("t".to_owned(), rows.collect())])
}

/// The (count, value sum) deltas per version of `changes` against the stored rows of
/// trace `t` after them.
fn version_deltas(
    changes: &PromptLinkChanges,
    links: &[(&str, PromptLink)],
    scores: &[(&str, LinkedScore)],
) -> Vec<(i64, i64, f64)> {
    let (links, scores) = (of_trace(links), of_trace(scores));
    changes
        .deltas("p", &links, &scores)
        .into_iter()
        .map(|(key, row)| (key.prompt_version, row.count, row.value_sum))
        .collect()
}

#[test]
fn a_score_counts_once_per_version_of_its_trace() {
    // A trace score on a trace with two generations of version 1 and one of version 2.
    let links = [
        ("g1", link("t", 1)),
        ("g2", link("t", 1)),
        ("g3", link("t", 2)),
    ];
    let mut changes = PromptLinkChanges::default();
    let score = linked_score(None, 0.5);
    changes
        .scores
        .insert("s".to_owned(), (None, Some(score.clone())));
    assert_eq!(
        version_deltas(&changes, &links, &[("s", score)]),
        vec![(1, 1, 0.5), (2, 1, 0.5)]
    );
    // A score of one generation counts for its version only.
    let mut changes = PromptLinkChanges::default();
    let score = linked_score(Some("g3"), 2.0);
    changes
        .scores
        .insert("s".to_owned(), (None, Some(score.clone())));
    assert_eq!(
        version_deltas(&changes, &links, &[("s", score)]),
        vec![(2, 1, 2.0)]
    );
}

#[test]
fn a_moved_link_moves_the_trace_scores_only_when_its_version_is_left_empty() {
    let score = linked_score(None, 0.5);
    let stored_scores = [("s", score)];
    // g2 moves from version 1 to 3; g1 still holds version 1 in the trace.
    let mut changes = PromptLinkChanges::default();
    changes
        .observations
        .insert("g2".to_owned(), (Some(link("t", 1)), Some(link("t", 3))));
    let links = [("g1", link("t", 1)), ("g2", link("t", 3))];
    assert_eq!(
        version_deltas(&changes, &links, &stored_scores),
        vec![(3, 1, 0.5)]
    );
    // Then g1 goes (its trace elsewhere): version 1 loses the score.
    let mut changes = PromptLinkChanges::default();
    changes
        .observations
        .insert("g1".to_owned(), (Some(link("t", 1)), None));
    let links = [("g2", link("t", 3))];
    assert_eq!(
        version_deltas(&changes, &links, &stored_scores),
        vec![(1, -1, -0.5)]
    );
}

#[test]
fn only_the_first_before_and_last_after_of_a_row_count() {
    let mut rollups = Rollups::default();
    let facts = |value: Option<f64>, name: &str| {
        ScoreFacts::of(
            "p",
            &ScoreRecord {
                id: "s".to_owned(),
                trace_id: Some("t".to_owned()),
                name: Some(name.to_owned()),
                value,
                ..ScoreRecord::default()
            },
        )
    };
    let (first, second, third) = (
        facts(Some(1.0), "quality"),
        facts(None, "quality"),
        facts(Some(1.0), "quality"),
    );
    rollups.score(Some(&first), Some(&second));
    rollups.score(Some(&second), Some(&third));
    // Back where it started: nothing moves.
    assert_eq!(
        rollups.prompt_links.scores["s"],
        (first.linked.clone(), third.linked.clone())
    );
    let links = BTreeMap::from([(
        "t".to_owned(),
        BTreeMap::from([("g".to_owned(), link("t", 1))]),
    )]);
    assert!(rollups
        .prompt_links
        .deltas("p", &links, &ByTrace::new())
        .is_empty());
    // A categorical score or one without a value counts nowhere.
    let mut categorical = facts(Some(1.0), "verdict");
    assert!(categorical.linked.is_some());
    categorical = ScoreFacts::of(
        "p",
        &ScoreRecord {
            id: "c".to_owned(),
            trace_id: Some("t".to_owned()),
            name: Some("verdict".to_owned()),
            value: Some(1.0),
            data_type: Some(ScoreDataType::Categorical),
            ..ScoreRecord::default()
        },
    );
    assert_eq!(categorical.linked, None);
    assert_eq!(second.linked, None);
}

#[test]
fn upserts_go_in_chunks_of_powers_of_two_in_order() {
    let mut upserts = AdditiveUpserts::new("t", "k", &["n"]);
    for index in 0..100_i64 {
        upserts.push(vec![Param::Int(index), Param::Int(1)]);
    }
    let mut statements = Vec::new();
    upserts.write(Dialect::Postgres, &mut statements);
    let rows: Vec<usize> = statements.iter().map(|sql| sql.params.len() / 2).collect();
    assert_eq!(rows, [64, 32, 4]);
    let keys: Vec<Param> = statements
        .iter()
        .flat_map(|sql| sql.params.iter().step_by(2).cloned())
        .collect();
    assert_eq!(keys, (0..100).map(Param::Int).collect::<Vec<_>>());
    assert!(statements[2]
        .finish_text()
        .ends_with("ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n"));
}
