//! The rollups' statements, written once for both dialects: deletes that return what the
//! deleted rows added (so a deletion subtracts them in its transaction), the rebuild of a
//! project's rollups from its raw rows (the start-up step for databases older than the
//! rollups, and the conformance suite's oracle), and the read of the stored rollup rows.
//! The trace rollups follow `trace_totals` (see `trace_totals.rs`), whose statements
//! return what they change.

use std::collections::BTreeMap;

use crate::executor::{Executor, Single};
use crate::reading::ReadConnection;
use crate::rollups::{
    days_of, Histogram, ObservationRollup, ScoreAttributeKey, TraceRollup, OBSERVATION_SUMS,
    SCORE_ATTRIBUTE_KEY_COLUMNS,
};
use crate::rollups::{
    AttributeKey, ByTrace, LinkedScore, ObservationFacts, ObservationKey, PeopleKey, PeopleRollup,
    PromptLink, PromptScoreKey, Rollups, ScoreFacts, ScoreKey, SessionKey, SessionTotals,
    TraceAttributeKey, TraceFacts, TraceKey, TraceModelKey, TraceModelRollup, ATTRIBUTE_DAYS_TABLE,
    ATTRIBUTE_KEY_COLUMNS, ATTRIBUTE_SUMS, OBSERVATION_FACT_COLUMNS, OBSERVATION_KEY_COLUMNS,
    PEOPLE_KEY_COLUMNS, PEOPLE_SUMS, PROMPT_SCORE_KEY_COLUMNS, SCORE_FACT_COLUMNS,
    SCORE_KEY_COLUMNS, SESSION_COLUMNS, TRACE_ATTRIBUTE_DAYS_TABLE, TRACE_ATTRIBUTE_KEY_COLUMNS,
    TRACE_KEY_COLUMNS, TRACE_MODEL_KEY_COLUMNS, TRACE_MODEL_SUMS, TRACE_SUMS,
};
use crate::sql::{Dialect, Param, RowAccess, Sql};
use crate::trace_totals;
use crate::Result;

/// A table whose rows are rolled up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolledUp {
    Observations,
    Scores,
}

impl RolledUp {
    fn table(self) -> &'static str {
        match self {
            RolledUp::Observations => "observations",
            RolledUp::Scores => "scores",
        }
    }

    fn fact_columns(self) -> &'static str {
        match self {
            RolledUp::Observations => OBSERVATION_FACT_COLUMNS,
            RolledUp::Scores => SCORE_FACT_COLUMNS,
        }
    }

    /// Adds (`sign` 1) or subtracts (-1) one row read with [`Self::fact_columns`].
    fn fold(
        self,
        rollups: &mut Rollups,
        project_id: &str,
        row: &impl RowAccess,
        sign: i8,
    ) -> Result<()> {
        match self {
            RolledUp::Observations => {
                let facts = ObservationFacts::from_row(project_id, row)?;
                let (before, after) = signed(&facts, sign);
                rollups.observation(before, after);
            }
            RolledUp::Scores => {
                let facts = ScoreFacts::from_row(project_id, row)?;
                let (before, after) = signed(&facts, sign);
                rollups.score(before, after);
            }
        }
        Ok(())
    }
}

/// A row's facts as a change: removed (`sign` negative) or added.
fn signed<T>(facts: &T, sign: i8) -> (Option<&T>, Option<&T>) {
    if sign < 0 {
        (Some(facts), None)
    } else {
        (None, Some(facts))
    }
}

/// `DELETE FROM <table> WHERE project_id = … AND <column> IN ids RETURNING <facts>`.
pub fn delete_returning(
    dialect: Dialect,
    rolled: RolledUp,
    project_id: &str,
    column: &str,
    ids: &[String],
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!("DELETE FROM {} WHERE project_id = ", rolled.table()),
    );
    sql.bind(project_id)
        .push(" AND ")
        .in_list(column, Param::Texts(ids.to_vec()), false);
    sql.push(&format!(" RETURNING {}", rolled.fact_columns()));
    sql
}

/// Runs a delete that returns [`RolledUp`]'s fact columns (see [`delete_returning`]) and
/// subtracts the deleted rows from `rollups`; returns how many rows went.
pub async fn subtract_deleted(
    db: &impl ReadConnection,
    rolled: RolledUp,
    project_id: &str,
    delete: &Sql,
    rollups: &mut Rollups,
) -> Result<u64> {
    let mut deleted = 0;
    db.each_row(delete, |row| {
        deleted += 1;
        rolled.fold(rollups, project_id, row, -1)
    })
    .await?;
    Ok(deleted)
}

/// Subtracts one deleted row, read with [`RolledUp`]'s fact columns among others.
pub fn subtract_row(
    rollups: &mut Rollups,
    rolled: RolledUp,
    project_id: &str,
    row: &impl RowAccess,
) -> Result<()> {
    rolled.fold(rollups, project_id, row, -1)
}

/// Works out the prompt score deltas of the changed prompt links and counted scores that
/// `rollups` collected (see [`crate::rollups::PromptLinkChanges`]), against the rows stored
/// now in their traces, and adds them to `rollups`. Runs in the write's transaction after
/// its writes; on PostgreSQL, with the traces' locks held
/// (`trace_totals::lock_statement`), so concurrent writers of one trace take turns and each
/// sees what the other committed. Reads the prompt links of the changed traces (one seek per
/// trace in `observations_by_trace`, the trace's observations read) and, only for traces
/// where a link changed, their scores (`scores_by_trace`).
pub async fn resolve_prompt_scores(
    db: &impl ReadConnection,
    project_id: &str,
    rollups: &mut Rollups,
) -> Result<()> {
    let changes = std::mem::take(&mut rollups.prompt_links);
    let traces = changes.traces();
    if traces.is_empty() {
        return Ok(());
    }
    let dialect = db.dialect();
    let links_sql = prompt_links_statement(dialect, project_id, traces);
    let mut links: ByTrace<PromptLink> = ByTrace::new();
    db.each_row(&links_sql, |row| {
        let trace_id = row.text("trace_id")?;
        let link = PromptLink {
            trace_id: trace_id.clone(),
            prompt_name: row.text("prompt_name")?,
            prompt_version: row.int("prompt_version")?,
        };
        links
            .entry(trace_id)
            .or_default()
            .insert(row.text("id")?, link);
        Ok(())
    })
    .await?;
    let mut scores: ByTrace<LinkedScore> = ByTrace::new();
    let relinked = changes.traces_with_link_changes();
    if !relinked.is_empty() {
        let mut scores_sql = Sql::new(
            dialect,
            &format!("SELECT {SCORE_FACT_COLUMNS} FROM scores WHERE project_id = "),
        );
        scores_sql.bind(project_id).push(" AND ");
        scores_sql.in_list("trace_id", relinked, false);
        db.each_row(&scores_sql, |row| {
            let facts = ScoreFacts::from_row(project_id, row)?;
            if let Some(linked) = facts.linked {
                scores
                    .entry(linked.trace_id.clone())
                    .or_default()
                    .insert(facts.id, linked);
            }
            Ok(())
        })
        .await?;
    }
    for (key, delta) in changes.deltas(project_id, &links, &scores) {
        let row = rollups.prompt_scores.entry(key).or_default();
        row.count += delta.count;
        row.value_sum += delta.value_sum;
    }
    Ok(())
}

/// The prompt links of the observations of some traces: a seek per trace in
/// `observations_by_trace`. The prompt name is kept from SQLite's index choice, which would
/// otherwise take it for a reason to walk the prompt indexes (partial on it) over every
/// linked observation of the project.
pub fn prompt_links_statement(dialect: Dialect, project_id: &str, traces: Vec<String>) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT trace_id, id, prompt_name, prompt_version FROM observations \
         WHERE project_id = ",
    );
    sql.bind(project_id).push(" AND ");
    sql.in_list("trace_id", traces, false).push(&format!(
        " AND {} IS NOT NULL AND prompt_version IS NOT NULL",
        dialect.without_index("prompt_name")
    ));
    sql
}

/// The statements that add `rollups` to the tables, after resolving its prompt score
/// changes ([`resolve_prompt_scores`]).
pub async fn resolved_statements(
    db: &impl ReadConnection,
    project_id: &str,
    rollups: &mut Rollups,
) -> Result<Vec<Sql>> {
    resolve_prompt_scores(db, project_id, rollups).await?;
    Ok(rollups.statements(db.dialect()))
}

/// The rollups of a project worked out from its raw rows, streamed one row at a time (the
/// oracle the stored rollups must equal: nothing is written).
pub async fn recompute(db: &impl ReadConnection, project_id: &str) -> Result<Rollups> {
    let totals = trace_totals::recompute_statement(db.dialect(), project_id);
    recompute_with_totals(db, project_id, &totals).await
}

/// The rebuild of a project's rollups, in the rebuild's transaction: [`recompute`], except
/// that the traces' totals are those the recomputation of the project's `trace_totals` rows
/// returns (one pass over the traces and observations, which writes the rows the trace and
/// people rollups' later deltas start from, columns a migration added included). Then
/// [`replace_statements`] writes the rollups.
pub async fn rebuild(db: &impl ReadConnection, project_id: &str) -> Result<Rollups> {
    let totals = trace_totals::refresh_project_statement(db.dialect(), project_id);
    recompute_with_totals(db, project_id, &totals).await
}

/// The rollups of a project from its observations and scores, and from the totals rows that
/// `totals` reads or returns ([`TRACE_FACT_COLUMNS`]).
async fn recompute_with_totals(
    db: &impl ReadConnection,
    project_id: &str,
    totals: &Sql,
) -> Result<Rollups> {
    let mut rollups = Rollups::default();
    for rolled in [RolledUp::Observations, RolledUp::Scores] {
        let mut sql = Sql::new(
            db.dialect(),
            &format!(
                "SELECT {} FROM {} WHERE project_id = ",
                rolled.fact_columns(),
                rolled.table()
            ),
        );
        sql.bind(project_id);
        db.each_row(&sql, |row| rolled.fold(&mut rollups, project_id, row, 1))
            .await?;
    }
    // Folding rows records their links and traces; the averages are worked out by one join
    // instead, and the traces' totals below.
    rollups.prompt_links = Default::default();
    rollups.observation_traces.clear();
    let linked = recompute_prompt_scores_statement(db.dialect(), project_id);
    db.each_row(&linked, |row| {
        let key = PromptScoreKey {
            project_id: project_id.to_owned(),
            prompt_name: row.text("prompt_name")?,
            prompt_version: row.int("prompt_version")?,
            score_name: row.text("name")?,
        };
        let value = row.float("value")?;
        if value.is_finite() {
            let entry = rollups.prompt_scores.entry(key).or_default();
            entry.count += 1;
            entry.value_sum += value;
        }
        Ok(())
    })
    .await?;
    // The traces' totals summed afresh from their traces and observations.
    db.each_row(totals, |row| {
        rollups.trace(None, Some(&TraceFacts::from_row(project_id, row)?));
        Ok(())
    })
    .await?;
    rollups.normalize();
    rollups.observation_days = days_of(&rollups.observations);
    rollups.trace_days = days_of(&rollups.traces);
    rollups.attribute_days = days_of(&rollups.attributes);
    rollups.trace_attribute_days = days_of(&rollups.trace_attributes);
    Ok(rollups)
}

/// Each counted score of the project once per prompt version it counts for: joined to the
/// linked observations of its trace (all of them for a score of the trace, its own for a
/// score of an observation), without repeats.
fn recompute_prompt_scores_statement(dialect: Dialect, project_id: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT DISTINCT o.prompt_name AS prompt_name, o.prompt_version AS prompt_version, \
         s.id AS id, s.name AS name, s.value AS value \
         FROM scores s JOIN observations o ON o.project_id = s.project_id \
         AND o.trace_id = s.trace_id \
         AND (s.observation_id IS NULL OR s.observation_id = o.id) \
         WHERE s.project_id = ",
    );
    sql.bind(project_id).push(
        " AND o.prompt_name IS NOT NULL AND o.prompt_version IS NOT NULL \
         AND s.value IS NOT NULL AND s.name IS NOT NULL \
         AND coalesce(s.data_type, '') <> 'CATEGORICAL'",
    );
    sql
}

/// The stored rollup rows of a project (rows that count nothing left out).
pub async fn stored(db: &impl ReadConnection, project_id: &str) -> Result<Rollups> {
    let dialect = db.dialect();
    let select = |table: &str, columns: &str| {
        let mut sql = Sql::new(
            dialect,
            &format!("SELECT {columns} FROM {table} WHERE project_id = "),
        );
        sql.bind(project_id);
        sql
    };
    let mut rollups = Rollups::default();
    (rollups.observations, rollups.observation_days) = stored_histograms(
        db,
        project_id,
        HistogramRead {
            tables: [
                "observation_rollups",
                "observation_latency_buckets",
                crate::rollups::OBSERVATION_DAYS_TABLE,
            ],
            key: OBSERVATION_KEY_COLUMNS,
            sums: &OBSERVATION_SUMS,
            count: "observation_count",
        },
        |row| observation_key(row),
        |row| ObservationRollup::from_sums(row),
    )
    .await?;
    let scores = select(
        "score_rollups",
        &format!("{SCORE_KEY_COLUMNS}, score_count, value_count, value_sum"),
    );
    db.each_row(&scores, |row| {
        let key = ScoreKey {
            project_id: row.text("project_id")?,
            hour: row.int("hour")?,
            environment: row.text("environment")?,
            name: row.text("name")?,
            source: row.text("source")?,
            data_type: row.text("data_type")?,
            string_value: row.text("string_value")?,
        };
        let entry = rollups.scores.entry(key).or_default();
        entry.count = row.int("score_count")?;
        entry.value_count = row.int("value_count")?;
        entry.value_sum = row.float("value_sum")?;
        Ok(())
    })
    .await?;
    let prompt_scores = select(
        "prompt_score_rollups",
        &format!("{PROMPT_SCORE_KEY_COLUMNS}, score_count, value_sum"),
    );
    db.each_row(&prompt_scores, |row| {
        let key = PromptScoreKey {
            project_id: row.text("project_id")?,
            prompt_name: row.text("prompt_name")?,
            prompt_version: row.int("prompt_version")?,
            score_name: row.text("score_name")?,
        };
        let entry = rollups.prompt_scores.entry(key).or_default();
        entry.count = row.int("score_count")?;
        entry.value_sum = row.float("value_sum")?;
        Ok(())
    })
    .await?;
    (rollups.traces, rollups.trace_days) = stored_histograms(
        db,
        project_id,
        HistogramRead {
            tables: [
                "trace_rollups",
                "trace_latency_buckets",
                crate::rollups::TRACE_DAYS_TABLE,
            ],
            key: TRACE_KEY_COLUMNS,
            sums: &TRACE_SUMS,
            count: "trace_count",
        },
        |row| TraceKey::from_row(row),
        |row| TraceRollup::from_sums(row),
    )
    .await?;
    let people = select(
        "people_rollups",
        &format!("{PEOPLE_KEY_COLUMNS}, {}", PEOPLE_SUMS.join(", ")),
    );
    db.each_row(&people, |row| {
        rollups
            .people
            .insert(PeopleKey::from_row(row)?, PeopleRollup::from_row(row)?);
        Ok(())
    })
    .await?;
    let trace_models = select(
        "trace_model_rollups",
        &format!("{TRACE_MODEL_KEY_COLUMNS}, {}", TRACE_MODEL_SUMS.join(", ")),
    );
    db.each_row(&trace_models, |row| {
        rollups.trace_models.insert(
            TraceModelKey::from_row(row)?,
            TraceModelRollup::from_row(row)?,
        );
        Ok(())
    })
    .await?;
    (rollups.attributes, rollups.attribute_days) = stored_histograms(
        db,
        project_id,
        HistogramRead {
            tables: [
                "observation_attribute_rollups",
                "observation_attribute_buckets",
                ATTRIBUTE_DAYS_TABLE,
            ],
            key: ATTRIBUTE_KEY_COLUMNS,
            sums: &ATTRIBUTE_SUMS,
            count: "observation_count",
        },
        |row| AttributeKey::from_row(row),
        |row| ObservationRollup::from_sums(row),
    )
    .await?;
    let score_attributes = select(
        "score_attribute_rollups",
        &format!("{SCORE_ATTRIBUTE_KEY_COLUMNS}, score_count, value_count, value_sum"),
    );
    db.each_row(&score_attributes, |row| {
        let entry = rollups
            .score_attributes
            .entry(ScoreAttributeKey::from_row(row)?)
            .or_default();
        entry.count = row.int("score_count")?;
        entry.value_count = row.int("value_count")?;
        entry.value_sum = row.float("value_sum")?;
        Ok(())
    })
    .await?;
    (rollups.trace_attributes, rollups.trace_attribute_days) = stored_histograms(
        db,
        project_id,
        HistogramRead {
            tables: [
                "trace_attribute_rollups",
                "trace_attribute_buckets",
                TRACE_ATTRIBUTE_DAYS_TABLE,
            ],
            key: TRACE_ATTRIBUTE_KEY_COLUMNS,
            sums: &TRACE_SUMS,
            count: "trace_count",
        },
        |row| TraceAttributeKey::from_row(row),
        |row| TraceRollup::from_sums(row),
    )
    .await?;
    let sessions = select("session_totals", SESSION_COLUMNS);
    db.each_row(&sessions, |row| {
        rollups
            .sessions
            .insert(SessionKey::from_row(row)?, SessionTotals::from_row(row)?);
        Ok(())
    })
    .await?;
    rollups.normalize();
    Ok(rollups)
}

fn observation_key(row: &impl RowAccess) -> Result<ObservationKey> {
    Ok(ObservationKey {
        project_id: row.text("project_id")?,
        hour: row.int("hour")?,
        environment: row.text("environment")?,
        observation_type: row.text("type")?,
        name: row.text("name")?,
        model: row.text("model")?,
        prompt_name: row.text("prompt_name")?,
        prompt_version: row.int("prompt_version")?,
        level: row.text("level")?,
    })
}

/// The tables of a rollup with latency buckets: its sums' table, its hourly buckets' table
/// and its daily buckets' table (`[sums, buckets, days]`), their key columns (the buckets'
/// add `bucket`), the summed columns and the count column of a bucket row.
struct HistogramRead<'a> {
    tables: [&'a str; 3],
    key: &'a str,
    sums: &'a [&'a str],
    count: &'a str,
}

/// The stored rows of a rollup with latency buckets ([`HistogramRead`]): each key's sums
/// (read by `sums`) with its hourly buckets, and the daily buckets by key; keys read by
/// `key`.
async fn stored_histograms<C: ReadConnection, K: Ord, R: Default + Histogram>(
    db: &C,
    project_id: &str,
    read: HistogramRead<'_>,
    key: impl for<'r> Fn(&C::Row<'r>) -> Result<K>,
    sums: impl for<'r> Fn(&C::Row<'r>) -> Result<R>,
) -> Result<(BTreeMap<K, R>, BTreeMap<K, BTreeMap<i64, i64>>)> {
    let [sums_table, buckets_table, days_table] = read.tables;
    let select = |table: &str, columns: &str| {
        let mut sql = Sql::new(
            db.dialect(),
            &format!("SELECT {columns} FROM {table} WHERE project_id = "),
        );
        sql.bind(project_id);
        sql
    };
    let mut rows: BTreeMap<K, R> = BTreeMap::new();
    let sums_sql = select(
        sums_table,
        &format!("{}, {}", read.key, read.sums.join(", ")),
    );
    db.each_row(&sums_sql, |row| {
        rows.insert(key(row)?, sums(row)?);
        Ok(())
    })
    .await?;
    let buckets = select(
        buckets_table,
        &format!("{}, bucket, {}", read.key, read.count),
    );
    db.each_row(&buckets, |row| {
        rows.entry(key(row)?)
            .or_default()
            .latency_mut()
            .insert(row.int("bucket")?, row.int(read.count)?);
        Ok(())
    })
    .await?;
    let days = select(days_table, &format!("{}, bucket, {}", read.key, read.count));
    let days = stored_days(db, &days, read.count, key).await?;
    Ok((rows, days))
}

/// The rows of a table of latency buckets per day that `sql` selects (with `bucket` and the
/// count column `count`), by key (read by `key`) and bucket; rows at 0 left out.
async fn stored_days<C: ReadConnection, K: Ord>(
    db: &C,
    sql: &Sql,
    count: &str,
    key: impl for<'r> Fn(&C::Row<'r>) -> Result<K>,
) -> Result<BTreeMap<K, BTreeMap<i64, i64>>> {
    let mut days: BTreeMap<K, BTreeMap<i64, i64>> = BTreeMap::new();
    db.each_row(sql, |row| {
        let value = row.int(count)?;
        if value != 0 {
            days.entry(key(row)?)
                .or_default()
                .insert(row.int("bucket")?, value);
        }
        Ok(())
    })
    .await?;
    Ok(days)
}

/// The tables of the rollups.
pub(crate) const ROLLUP_TABLES: [&str; 18] = [
    "observation_rollups",
    "observation_latency_buckets",
    crate::rollups::OBSERVATION_DAYS_TABLE,
    "score_rollups",
    "prompt_score_rollups",
    "trace_rollups",
    "trace_latency_buckets",
    crate::rollups::TRACE_DAYS_TABLE,
    "people_rollups",
    "trace_model_rollups",
    "observation_attribute_rollups",
    "observation_attribute_buckets",
    ATTRIBUTE_DAYS_TABLE,
    "score_attribute_rollups",
    "trace_attribute_rollups",
    "trace_attribute_buckets",
    TRACE_ATTRIBUTE_DAYS_TABLE,
    "session_totals",
];

/// The statements that replace a project's rollups with `rebuilt` (from [`rebuild`], in
/// the same transaction, which recomputed the project's `trace_totals` rows) and mark the
/// project built, and its rolled-up metadata keys ready (no sweep left to run).
pub fn replace_statements(dialect: Dialect, project_id: &str, rebuilt: &Rollups) -> Vec<Sql> {
    let mut statements = Vec::new();
    statements.extend(
        ROLLUP_TABLES
            .iter()
            .chain(&["rollups_pending"])
            .map(|table| {
                let mut sql =
                    Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
                sql.bind(project_id);
                sql
            }),
    );
    statements.extend(rebuilt.statements(dialect));
    // The rebuild recomputed every totals row with the listed metadata keys: a whole sweep.
    let mut ready = Sql::new(
        dialect,
        "UPDATE rolled_metadata_keys SET ready = 1 WHERE project_id = ",
    );
    ready.bind(project_id);
    let mut swept = Sql::new(dialect, "DELETE FROM metadata_sweeps WHERE project_id = ");
    swept.bind(project_id);
    statements.extend([ready, swept]);
    statements
}

/// How many `rollups_pending` rows name the project (0 or 1): while it has one, its rollups
/// are still to be built and reads take its raw rows instead.
pub fn pending_statement(dialect: Dialect, project_id: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT count(*) AS value FROM rollups_pending WHERE project_id = ",
    );
    sql.bind(project_id);
    sql
}

/// Whether the project's rollups are still to be built from its raw rows (reads then take
/// the raw rows).
pub async fn is_pending(db: &impl ReadConnection, project_id: &str) -> Result<bool> {
    Ok(db
        .count(&pending_statement(db.dialect(), project_id))
        .await?
        > 0)
}

/// [`is_pending`] over an [`Executor`].
pub async fn is_pending_on(db: &impl Executor, project_id: &str) -> Result<bool> {
    let rows: Vec<Single<i64>> = db
        .select(pending_statement(db.dialect(), project_id))
        .await?;
    Ok(rows.first().is_some_and(|row| row.0 > 0))
}

/// The projects whose rollups are still to be built from their raw rows.
pub fn pending_projects(dialect: Dialect) -> Sql {
    Sql::new(
        dialect,
        "SELECT project_id FROM rollups_pending ORDER BY project_id",
    )
}

/// Logs a project's rollups as built.
pub fn log_built(project_id: &str, rebuilt: &Rollups, remaining: usize) {
    tracing::info!(
        project_id,
        observation_rows = rebuilt.observations.len(),
        score_rows = rebuilt.scores.len(),
        trace_rows = rebuilt.traces.len(),
        people_rows = rebuilt.people.len(),
        trace_model_rows = rebuilt.trace_models.len(),
        attribute_rows = rebuilt.attributes.len(),
        trace_attribute_rows = rebuilt.trace_attributes.len(),
        score_attribute_rows = rebuilt.score_attributes.len(),
        session_rows = rebuilt.sessions.len(),
        remaining,
        "rollups built from raw rows"
    );
}
