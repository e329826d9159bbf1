//! The statements of a run's metrics (see [`crate::run_metrics`]), written once for both
//! dialects: each run item's observations summed in one grouped pass (by the
//! `observations_by_trace` index), the scores of its trace (by `scores_by_trace`), and for a
//! comparison the outputs of the page's traces. Folding into summaries happens in Rust.

use std::collections::HashMap;

use spindle_core::dataset::DatasetRun;
use spindle_core::Error;

use super::{
    both_equal, count_rows, dataset_by_name, paged, run_of, select_named, ItemRow, Named,
    ITEMS_OF_DATASETS,
};
use crate::datasets::PageRequest;
use crate::executor::{columns_and_codec, Executor};
use crate::run_metrics::{
    numeric_summary, summarize_scores, ComparedItem, RunAggregates, RunComparison, RunItemMetrics,
    ScoreValue, MAX_COMPARED_RUNS,
};
use crate::sql::{Dialect, Sql};
use crate::{Page, Result};

/// A run item with the sums of its observations.
struct MeasuredRow {
    run_item_id: String,
    run_id: String,
    dataset_item_id: String,
    trace_id: String,
    observation_id: Option<String>,
    created_at: i64,
    first_start: Option<i64>,
    last_end: Option<i64>,
    total_cost: Option<f64>,
    input_tokens: i64,
    output_tokens: i64,
    total_tokens: i64,
}

columns_and_codec!(_ => MeasuredRow {
    run_item_id: text,
    run_id: text,
    dataset_item_id: text,
    trace_id: text,
    observation_id: opt_text,
    created_at: int,
    first_start: opt_int,
    last_end: opt_int,
    total_cost: opt_float,
    input_tokens: int,
    output_tokens: int,
    total_tokens: int,
});

/// A score of a run item's trace.
struct ScoreRow {
    run_item_id: String,
    name: String,
    data_type: Option<String>,
    value: Option<f64>,
    string_value: Option<String>,
}

columns_and_codec!(_ => ScoreRow {
    run_item_id: text,
    name: text,
    data_type: opt_text,
    value: opt_float,
    string_value: opt_text,
});

impl ScoreRow {
    /// A score without a data type is numeric, as Langfuse reads it.
    fn into_value(self) -> ScoreValue {
        ScoreValue {
            name: self.name,
            data_type: self.data_type.unwrap_or_else(|| "NUMERIC".to_owned()),
            value: self.value,
            string_value: self.string_value,
        }
    }
}

impl MeasuredRow {
    /// From the first start to the last end of the observations, in seconds.
    fn latency_seconds(&self) -> Option<f64> {
        match (self.first_start, self.last_end) {
            (Some(start), Some(end)) if end >= start => Some((end - start) as f64 / 1e6),
            _ => None,
        }
    }
}

/// The output of a run item's trace or observation.
struct OutputRow {
    run_item_id: String,
    output: Option<String>,
}

columns_and_codec!(_ => OutputRow {
    run_item_id: text,
    output: opt_text,
});

/// `WHERE ri.project_id = … AND ri.run_id IN runs [AND ri.dataset_item_id IN items]`.
fn run_items_where(
    sql: &mut Sql,
    project_id: &str,
    run_ids: &[String],
    item_ids: Option<&[String]>,
) {
    sql.push(" WHERE ri.project_id = ")
        .bind(project_id)
        .push(" AND ");
    sql.in_list("ri.run_id", run_ids.to_vec(), false);
    if let Some(item_ids) = item_ids {
        sql.push(" AND ");
        sql.in_list("ri.dataset_item_id", item_ids.to_vec(), false);
    }
}

/// Each run item with the time span, cost and tokens of its trace's observations (only the
/// observation it names, when it names one), and the named scores of the run items' traces,
/// read on one connection.
async fn measured_with_scores(
    db: &impl Executor,
    project_id: &str,
    run_ids: &[String],
    item_ids: Option<&[String]>,
) -> Result<(Vec<MeasuredRow>, Vec<ScoreRow>)> {
    let dialect = db.dialect();
    let mut measured = Sql::new(
        dialect,
        "SELECT ri.id AS run_item_id, ri.run_id, ri.dataset_item_id, ri.trace_id, \
         ri.observation_id, ri.created_at, \
         min(o.start_time) AS first_start, max(o.end_time) AS last_end, \
         sum(o.total_cost) AS total_cost, \
         CAST(coalesce(sum(o.usage_input), 0) AS bigint) AS input_tokens, \
         CAST(coalesce(sum(o.usage_output), 0) AS bigint) AS output_tokens, \
         CAST(coalesce(sum(o.usage_total), 0) AS bigint) AS total_tokens \
         FROM dataset_run_items ri LEFT JOIN observations o \
         ON o.project_id = ri.project_id AND o.trace_id = ri.trace_id \
         AND (ri.observation_id IS NULL OR o.id = ri.observation_id)",
    );
    run_items_where(&mut measured, project_id, run_ids, item_ids);
    measured.push(
        " GROUP BY ri.id, ri.run_id, ri.dataset_item_id, ri.trace_id, ri.observation_id, \
         ri.created_at",
    );
    let mut scores = Sql::new(
        dialect,
        "SELECT ri.id AS run_item_id, s.name, s.data_type, s.value, s.string_value \
         FROM dataset_run_items ri JOIN scores s \
         ON s.project_id = ri.project_id AND s.trace_id = ri.trace_id",
    );
    run_items_where(&mut scores, project_id, run_ids, item_ids);
    scores.push(" AND s.name IS NOT NULL");
    db.select_pair(measured, scores).await
}

/// The output of each run item's observation, or of its trace.
fn item_outputs(
    dialect: Dialect,
    project_id: &str,
    run_ids: &[String],
    item_ids: &[String],
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT ri.id AS run_item_id, \
             CASE WHEN ri.observation_id IS NULL THEN {} ELSE {} END AS output \
             FROM dataset_run_items ri \
             LEFT JOIN traces t ON t.project_id = ri.project_id AND t.id = ri.trace_id \
             LEFT JOIN observations o ON o.project_id = ri.project_id \
             AND o.id = ri.observation_id",
            dialect.payload("t.output"),
            dialect.payload("o.output"),
        ),
    );
    run_items_where(&mut sql, project_id, run_ids, Some(item_ids));
    sql
}

/// The metrics of the run items of `run_ids` (of `item_ids` only, when given), each with the
/// summaries of its scores (outputs are left for the caller to read).
async fn measure(
    db: &impl Executor,
    project_id: &str,
    run_ids: &[String],
    item_ids: Option<&[String]>,
) -> Result<Vec<RunItemMetrics>> {
    let (rows, scores) = measured_with_scores(db, project_id, run_ids, item_ids).await?;
    let mut scores_by_item: HashMap<String, Vec<ScoreValue>> = HashMap::new();
    for score in scores {
        scores_by_item
            .entry(score.run_item_id.clone())
            .or_default()
            .push(score.into_value());
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let values = scores_by_item.remove(&row.run_item_id).unwrap_or_default();
            let latency_seconds = row.latency_seconds();
            RunItemMetrics {
                run_item_id: row.run_item_id,
                run_id: row.run_id,
                dataset_item_id: row.dataset_item_id,
                trace_id: row.trace_id,
                observation_id: row.observation_id,
                latency_seconds,
                total_cost: row.total_cost,
                input_tokens: row.input_tokens,
                output_tokens: row.output_tokens,
                total_tokens: row.total_tokens,
                output: None,
                scores: summarize_scores(&values),
                created_at: row.created_at,
            }
        })
        .collect())
}

pub(super) async fn run_aggregates(
    db: &impl Executor,
    project_id: &str,
    dataset_name: &str,
    run_name: &str,
) -> Result<Option<RunAggregates>> {
    let Some(dataset) = dataset_by_name(db, project_id, dataset_name).await? else {
        return Ok(None);
    };
    let Some(run) = run_of(db, project_id, &dataset.id, run_name).await? else {
        return Ok(None);
    };
    let run_ids = [run.id.clone()];
    let (rows, scores) = measured_with_scores(db, project_id, &run_ids, None).await?;
    let latencies: Vec<f64> = rows
        .iter()
        .filter_map(MeasuredRow::latency_seconds)
        .collect();
    let costs: Vec<f64> = rows.iter().filter_map(|row| row.total_cost).collect();
    let total_cost: f64 = costs.iter().sum();
    let values: Vec<ScoreValue> = scores.into_iter().map(ScoreRow::into_value).collect();
    Ok(Some(RunAggregates {
        run,
        item_count: rows.len() as u64,
        latency: numeric_summary(&latencies),
        total_cost,
        mean_cost: (!costs.is_empty()).then(|| total_cost / costs.len() as f64),
        input_tokens: rows.iter().map(|row| row.input_tokens).sum(),
        output_tokens: rows.iter().map(|row| row.output_tokens).sum(),
        total_tokens: rows.iter().map(|row| row.total_tokens).sum(),
        scores: summarize_scores(&values),
    }))
}

pub(super) async fn compare_runs(
    db: &impl Executor,
    project_id: &str,
    dataset_name: &str,
    run_names: &[String],
    request: PageRequest,
) -> Result<Option<RunComparison>> {
    if run_names.is_empty() || run_names.len() > MAX_COMPARED_RUNS {
        return Err(Error::invalid(
            "runName",
            format!("name 1 to {MAX_COMPARED_RUNS} runs"),
        ));
    }
    let Some(dataset) = dataset_by_name(db, project_id, dataset_name).await? else {
        return Ok(None);
    };
    let mut runs: Vec<DatasetRun> = Vec::with_capacity(run_names.len());
    for name in run_names {
        let run = run_of(db, project_id, &dataset.id, name)
            .await?
            .ok_or_else(|| Error::not_found(format!("dataset run {name:?}")))?;
        runs.push(run);
    }
    let run_ids: Vec<String> = runs.iter().map(|run| run.id.clone()).collect();

    // The page of items that any of the runs ran.
    let dialect = db.dialect();
    let mut rows = select_named(dialect, project_id, ITEMS_OF_DATASETS);
    let mut count = count_rows(dialect, "dataset_items", "i", project_id);
    both_equal(&mut rows, &mut count, "i.dataset_id", &dataset.id);
    for sql in [&mut rows, &mut count] {
        sql.push(
            " AND EXISTS (SELECT 1 FROM dataset_run_items ri WHERE ri.project_id = i.project_id \
             AND ri.dataset_item_id = i.id AND ",
        );
        sql.in_list("ri.run_id", run_ids.clone(), false);
        sql.push(")");
    }
    let page: Page<Named<ItemRow>> = paged(db, rows, count, "i", request).await?;
    let items = page
        .items
        .into_iter()
        .map(Named::into_item)
        .collect::<Result<Vec<_>>>()?;
    let item_ids: Vec<String> = items.iter().map(|item| item.id.clone()).collect();

    let mut measured = measure(db, project_id, &run_ids, Some(&item_ids)).await?;
    let outputs: Vec<OutputRow> = db
        .select(item_outputs(dialect, project_id, &run_ids, &item_ids))
        .await?;
    let mut output_of: HashMap<String, Option<String>> = outputs
        .into_iter()
        .map(|row| (row.run_item_id, row.output))
        .collect();
    for metrics in &mut measured {
        metrics.output = output_of.remove(&metrics.run_item_id).flatten();
    }
    // The latest run item of each (run, item).
    let mut latest: HashMap<(String, String), RunItemMetrics> = HashMap::new();
    for metrics in measured {
        let key = (metrics.run_id.clone(), metrics.dataset_item_id.clone());
        let newer = latest.get(&key).is_none_or(|kept| {
            (metrics.created_at, &metrics.run_item_id) > (kept.created_at, &kept.run_item_id)
        });
        if newer {
            latest.insert(key, metrics);
        }
    }
    let compared = items
        .into_iter()
        .map(|item| {
            let per_run = run_ids
                .iter()
                .map(|run_id| latest.remove(&(run_id.clone(), item.id.clone())))
                .collect();
            ComparedItem {
                item,
                runs: per_run,
            }
        })
        .collect();
    Ok(Some(RunComparison {
        runs,
        items: Page::counted(compared, page.page, page.limit, page.total_items),
    }))
}
