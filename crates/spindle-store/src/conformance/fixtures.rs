//! Builders of records and patches for the conformance cases, and a small seeded generator.

use spindle_core::merge::Stamp;
use spindle_core::time::Micros;
use spindle_core::{ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};

/// 2026-01-01T00:00:00Z, the base time of the fixtures.
pub const BASE: Micros = 1_767_225_600_000_000;
/// One second in microseconds.
pub const SECOND: Micros = 1_000_000;
/// One day in microseconds.
pub const DAY: Micros = 86_400 * SECOND;

/// An explicit create stamp at `at`.
pub fn create_stamp(at: Micros) -> Stamp {
    Stamp::explicit(at, Stamp::RANK_CREATE, at as u64 ^ 0x5bd1_e995)
}

/// An explicit update stamp at `at`.
pub fn update_stamp(at: Micros) -> Stamp {
    Stamp::explicit(at, Stamp::RANK_UPDATE, at as u64 ^ 0x1b87_3593)
}

/// A trace patch: `edit` sets fields, which all get `stamp`.
pub fn trace(id: &str, stamp: Stamp, edit: impl FnOnce(&mut TraceRecord)) -> TraceRecord {
    let mut record = TraceRecord::new(id);
    edit(&mut record);
    record.stamp_unstamped(stamp);
    record
}

/// An observation patch: `edit` sets fields, which all get `stamp`.
pub fn observation(
    id: &str,
    stamp: Stamp,
    edit: impl FnOnce(&mut ObservationRecord),
) -> ObservationRecord {
    let mut record = ObservationRecord::new(id);
    edit(&mut record);
    record.stamp_unstamped(stamp);
    record
}

/// A score patch: `edit` sets fields, which all get `stamp`.
pub fn score(id: &str, stamp: Stamp, edit: impl FnOnce(&mut ScoreRecord)) -> ScoreRecord {
    let mut record = ScoreRecord::new(id);
    edit(&mut record);
    record.stamp_unstamped(stamp);
    record
}

/// A created trace with a timestamp, name and environment.
pub fn simple_trace(id: &str, timestamp: Micros, name: &str) -> TraceRecord {
    trace(id, create_stamp(timestamp), |t| {
        t.timestamp = Some(timestamp);
        t.name = Some(name.to_owned());
        t.environment = Some("default".to_owned());
    })
}

/// A created span of `trace_id`.
pub fn simple_observation(
    id: &str,
    trace_id: &str,
    start: Micros,
    end: Option<Micros>,
) -> ObservationRecord {
    observation(id, create_stamp(start), |o| {
        o.trace_id = Some(trace_id.to_owned());
        o.start_time = Some(start);
        o.end_time = end;
        o.name = Some(format!("span-{id}"));
        o.environment = Some("default".to_owned());
        o.observation_type = Some(spindle_core::ObservationType::Span);
    })
}

/// A batch of one trace, at `at` and named `name`, with `count` observations of it (ids
/// The search tests' many traces sharing a common word: `count` traces `c0`, `c1`, … whose
/// input is `common word{i}` and user `u{i % 3}`, at `at + (i · 7919 mod count)` (so the write
/// order is not the time order), and `late`, newer than all, whose input is `Common`.
pub struct CommonWordTraces {
    pub traces: Vec<TraceRecord>,
    pub late: TraceRecord,
    /// Every id, newest first.
    pub newest: Vec<String>,
}

impl CommonWordTraces {
    pub fn new(count: i64, at: Micros) -> CommonWordTraces {
        let time = |i: i64| at + (i * 7_919) % count;
        let traces = (0..count)
            .map(|i| {
                trace(&format!("c{i}"), create_stamp(time(i)), |t| {
                    t.timestamp = Some(time(i));
                    t.input = Some(format!("common word{i}"));
                    t.user_id = Some(format!("u{}", i % 3));
                })
            })
            .collect();
        let late = trace("late", create_stamp(at + count), |t| {
            t.timestamp = Some(at + count);
            t.input = Some("Common".into());
        });
        let mut older: Vec<i64> = (0..count).collect();
        older.sort_by_key(|&i| std::cmp::Reverse(time(i)));
        let newest = std::iter::once("late".to_owned())
            .chain(older.into_iter().map(|i| format!("c{i}")))
            .collect();
        CommonWordTraces {
            traces,
            late,
            newest,
        }
    }

    /// Checks that a search of `common` with a user filter lists that user's traces and
    /// counts them exactly (a third of `count`).
    pub async fn assert_counted_with_a_user(&self, store: &impl crate::Store, project_id: &str) {
        let found = store
            .list_traces(project_id, &Self::query("common", Some("u1"), 1))
            .await
            .expect("search");
        assert_eq!(found.total_items, self.traces.len() as u64 / 3);
        assert!(!found.total_is_estimate, "counted");
        assert!(found
            .items
            .iter()
            .all(|t| t.record.user_id.as_deref() == Some("u1")));
    }

    /// A page of 50 traces matching `search`, of user `user` when given.
    pub fn query(search: &str, user: Option<&str>, page: u32) -> crate::TraceQuery {
        crate::TraceQuery {
            search: Some(search.to_owned()),
            user_id: user.map(str::to_owned),
            page,
            limit: 50,
            ..crate::TraceQuery::default()
        }
    }
}

/// `{trace_id}-{index}`) whose other fields `edit` sets; every field gets `stamp`.
pub fn trace_with_observations(
    trace_id: &str,
    name: &str,
    at: Micros,
    stamp: Stamp,
    count: usize,
    edit: impl Fn(usize, &mut ObservationRecord),
) -> WriteBatch {
    let trace = trace(trace_id, stamp, |t| {
        t.timestamp = Some(at);
        t.name = Some(name.to_owned());
    });
    let observations = (0..count)
        .map(|index| {
            observation(&format!("{trace_id}-{index}"), stamp, |o| {
                o.trace_id = Some(trace_id.to_owned());
                edit(index, o);
            })
        })
        .collect();
    WriteBatch {
        traces: vec![trace],
        observations,
        scores: Vec::new(),
        run_items: Vec::new(),
        completions: Vec::new(),
    }
}

pub fn batch_of_traces(traces: Vec<TraceRecord>) -> WriteBatch {
    WriteBatch {
        traces,
        ..WriteBatch::default()
    }
}

pub fn batch_of_observations(observations: Vec<ObservationRecord>) -> WriteBatch {
    WriteBatch {
        observations,
        ..WriteBatch::default()
    }
}

pub fn batch_of_scores(scores: Vec<ScoreRecord>) -> WriteBatch {
    WriteBatch {
        scores,
        ..WriteBatch::default()
    }
}

/// Creates project `id` (of organization `org`) for cases that need the project's row.
pub async fn create_project(store: &std::sync::Arc<dyn crate::Store>, id: &str) {
    store
        .upsert_project(&crate::Project {
            id: id.to_owned(),
            name: id.to_owned(),
            organization: crate::Organization {
                id: "org".to_owned(),
                name: "org".to_owned(),
            },
            retention_days: None,
            created_at: BASE,
        })
        .await
        .expect("upsert_project");
}

/// A trace with five observations over two names and two hours' worth of latencies, with
/// usage, and one numeric score: rows of every rollup table.
/// The SQL (both dialects) that makes a database look as one from before the rollups: every
/// rollup table emptied, the totals rows without the columns migrations added since, and
/// `project` pending, as a migration that adds a rollup leaves it.
pub fn as_before_the_rollups(project: &str) -> String {
    let mut sql: String = crate::rollups_sql::ROLLUP_TABLES
        .iter()
        .map(|table| format!("DELETE FROM {table};\n"))
        .collect();
    sql.push_str(
        "UPDATE trace_totals SET name = NULL, release = NULL, error_count = 0, models = NULL, \
         tags = NULL, breakdown = NULL, score_breakdown = NULL;\n",
    );
    sql.push_str(&format!(
        "INSERT INTO rollups_pending (project_id) VALUES ('{}');",
        project.replace('\'', "''")
    ));
    sql
}

pub fn rolled_up_batch() -> WriteBatch {
    let at = BASE;
    let stamp = Stamp::explicit(at, Stamp::RANK_CREATE, 1);
    let mut batch = trace_with_observations("t1", "chat", at, stamp, 5, |i, o| {
        o.start_time = Some(at + i as i64 * SECOND);
        o.end_time = Some(at + (2 * i as i64 + 1) * SECOND);
        o.name = Some(format!("step-{}", i % 2));
        if i % 2 == 0 {
            o.prompt_name = Some("greeting".to_owned());
            o.prompt_version = Some(1);
        }
        o.usage_details = Some(std::collections::BTreeMap::from([(
            "input".to_owned(),
            10 * i as i64,
        )]));
    });
    batch.traces[0].user_id = Some("ann".to_owned());
    batch.traces[0].session_id = Some("s-1".to_owned());
    batch.scores.push(score("s1", stamp, |s| {
        s.trace_id = Some("t1".to_owned());
        s.timestamp = Some(at);
        s.name = Some("quality".to_owned());
        s.value = Some(0.5);
    }));
    batch
}

/// Writes [`rolled_up_batch`] to `project` and returns the rollups the writer kept, checked to
/// hold a row of each kind the batch makes.
pub async fn write_rolled_up(store: &dyn crate::Store, project: &str) -> crate::rollups::Rollups {
    store
        .write(project, rolled_up_batch())
        .await
        .expect("write");
    let kept = store.stored_rollups(project).await.expect("stored");
    assert_eq!(kept.observations.len(), 2);
    assert_eq!(kept.prompt_scores.len(), 1);
    assert_eq!(kept.traces.len(), 1);
    assert_eq!(kept.people.len(), 2, "its user and its session");
    assert_eq!(kept.trace_models.len(), 1, "its observations, of no model");
    assert_eq!(kept.sessions.len(), 1, "its session");
    kept
}

/// After [`rolled_up_batch`]: its trace renamed, with a release, and an ERROR observation.
pub fn renaming_batch() -> WriteBatch {
    let stamp = Stamp::explicit(BASE + DAY, Stamp::RANK_UPDATE, 1);
    let mut batch = batch_of_traces(vec![trace("t1", stamp, |t| {
        t.name = Some("renamed".to_owned());
        t.release = Some("v2".to_owned());
    })]);
    batch.observations.push(observation("t1-error", stamp, |o| {
        o.trace_id = Some("t1".to_owned());
        o.start_time = Some(BASE);
        o.level = Some(spindle_core::Level::Error);
    }));
    batch
}

/// Writes [`renaming_batch`] to `project` and asserts that the rollups `store` then holds are
/// a rebuild from its raw rows, the trace's row renamed with one error: after a migration,
/// later deltas start from the totals rows it gave new columns.
pub async fn assert_renaming_rolls_up(store: &dyn crate::Store, project: &str) {
    store.write(project, renaming_batch()).await.expect("write");
    let stored = store.stored_rollups(project).await.expect("stored");
    assert_eq!(
        stored,
        store.recomputed_rollups(project).await.expect("rebuilt")
    );
    let (key, row) = stored.traces.iter().next().expect("a trace row");
    assert_eq!((key.name.as_str(), row.error_count), ("renamed", 1));
}

/// [`rolled_up_batch`] with an observation at level `ERROR` and two boolean scores whose text
/// says the opposite of their value: rollup keys the tables before level keys lacked or
/// filled differently.
pub fn leveled_batch() -> WriteBatch {
    let mut batch = rolled_up_batch();
    let stamp = Stamp::explicit(BASE, Stamp::RANK_CREATE, 1);
    batch.observations[1].level = Some(spindle_core::Level::Error);
    batch.observations[1].stamp_unstamped(stamp);
    for (id, value, text) in [("s2", 0.0, "True"), ("s3", 1.0, "False")] {
        batch.scores.push(score(id, stamp, |s| {
            s.trace_id = Some("t1".to_owned());
            s.timestamp = Some(BASE);
            s.name = Some("helpful".to_owned());
            s.data_type = Some(spindle_core::ScoreDataType::Boolean);
            s.value = Some(value);
            s.string_value = Some(text.to_owned());
        }));
    }
    batch
}

/// Creates `project` (a migration marks the projects it finds), writes [`leveled_batch`] to
/// it and returns the rollups the writer kept, checked to hold an `ERROR` level and a boolean
/// keyed by its value.
pub async fn write_leveled(
    store: &std::sync::Arc<dyn crate::Store>,
    project: &str,
) -> crate::rollups::Rollups {
    create_project(store, project).await;
    store.write(project, leveled_batch()).await.expect("write");
    let kept = store.stored_rollups(project).await.expect("stored");
    assert!(kept.observations.keys().any(|key| key.level == "ERROR"));
    assert!(kept
        .scores
        .keys()
        .any(|key| key.data_type == "BOOLEAN" && key.string_value == "false"));
    kept
}

/// Asserts that the rollups `store` holds for `project` are `kept`, and a rebuild from its
/// raw rows.
pub async fn assert_rollups_are(
    store: &dyn crate::Store,
    project: &str,
    kept: &crate::rollups::Rollups,
) {
    let built = store.stored_rollups(project).await.expect("stored");
    assert_eq!(&built, kept);
    let rebuilt = store.recomputed_rollups(project).await.expect("rebuilt");
    assert_eq!(built, rebuilt);
}

/// Makes the observation rollup tables what they were before the level joined their keys,
/// with a stale row, and keys the boolean score rollups by their text as they were then (for
/// [`leveled_batch`]'s scores): SQL both backends take, for tests that upgrade such a
/// database.
pub const ROLLUPS_AS_BEFORE_LEVELS: &str = "
    DROP TABLE observation_latency_buckets;
    DROP TABLE observation_rollups;
    CREATE TABLE observation_rollups (
        project_id TEXT NOT NULL, hour BIGINT NOT NULL, environment TEXT NOT NULL,
        type TEXT NOT NULL, name TEXT NOT NULL, model TEXT NOT NULL,
        prompt_name TEXT NOT NULL, prompt_version BIGINT NOT NULL,
        observation_count BIGINT NOT NULL, input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL, cost_nanos BIGINT NOT NULL,
        PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name,
                     prompt_version));
    CREATE TABLE observation_latency_buckets (
        project_id TEXT NOT NULL, hour BIGINT NOT NULL, environment TEXT NOT NULL,
        type TEXT NOT NULL, name TEXT NOT NULL, model TEXT NOT NULL,
        prompt_name TEXT NOT NULL, prompt_version BIGINT NOT NULL, bucket BIGINT NOT NULL,
        observation_count BIGINT NOT NULL,
        PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name,
                     prompt_version, bucket));
    CREATE INDEX observation_rollups_by_prompt
        ON observation_rollups (project_id, prompt_name, prompt_version);
    INSERT INTO observation_rollups VALUES
        ('old-project', 0, '', '', 'stale', '', '', 0, 1, 0, 0, 0, 0);
    UPDATE score_rollups SET string_value = CASE string_value
        WHEN 'true' THEN 'False' WHEN 'false' THEN 'True' ELSE string_value END
        WHERE data_type = 'BOOLEAN';";

/// A deterministic pseudo-random generator (SplitMix64), so property cases are reproducible.
pub use spindle_core::rng::Rng;

/// Asserts that `result` is an error (`what` names the refused call) of `kind` whose message
/// starts with `start`.
pub fn assert_refused<T: std::fmt::Debug>(
    result: crate::Result<T>,
    what: &str,
    kind: crate::ErrorKind,
    start: &str,
) {
    let error = result.expect_err(what);
    assert_eq!(error.kind, kind, "{what}: {}", error.message);
    assert!(error.message.starts_with(start), "{}", error.message);
}
