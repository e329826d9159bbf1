//! The experiments lists' statements (see [`crate::experiments`]), written once for both
//! dialects: runs grouped over their run items in the time range (by
//! `dataset_run_items_by_run`), and run items joined with their run, item and trace.

use super::{paged, Named, RunItemRow, RunRow, RUN_COLUMNS, RUN_ITEM_COLUMNS};
use crate::executor::{columns_and_codec, rows_and_count, Executor, FromRow};
use crate::experiments::{Experiment, ExperimentItem, ExperimentItemQuery, ExperimentQuery};
use crate::sql::{RowAccess, Sql};
use crate::statements::qualified;
use crate::{Page, Result};

/// A run with its run items' span and count in the range.
struct ExperimentRow {
    run: Named<RunRow>,
    start_time: i64,
    end_time: i64,
    item_count: i64,
}

impl FromRow for ExperimentRow {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(ExperimentRow {
            run: Named::from_row(row)?,
            start_time: row.int("start_time")?,
            end_time: row.int("end_time")?,
            item_count: row.int("item_count")?,
        })
    }
}

/// What an experiment item reads besides its run item.
struct ItemContext {
    dataset_id: String,
    run_description: Option<String>,
    run_metadata: Option<String>,
    item_input: Option<String>,
    item_expected_output: Option<String>,
    item_metadata: Option<String>,
    trace_input: Option<String>,
    trace_output: Option<String>,
    trace_metadata: Option<String>,
    trace_environment: Option<String>,
}

columns_and_codec!(_ => ItemContext {
    dataset_id: text,
    run_description: opt_text,
    run_metadata: opt_text,
    item_input: opt_text,
    item_expected_output: opt_text,
    item_metadata: opt_text,
    trace_input: opt_text,
    trace_output: opt_text,
    trace_metadata: opt_text,
    trace_environment: opt_text,
});

struct ItemRow {
    run_item: Named<RunItemRow>,
    context: ItemContext,
}

impl FromRow for ItemRow {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(ItemRow {
            run_item: Named::from_row(row)?,
            context: ItemContext::from_row(row)?,
        })
    }
}

/// ` AND ri.created_at >= from [AND ri.created_at < to]` and ` AND <column> IN <list>` for
/// each non-empty list.
fn conditions(sql: &mut Sql, from: i64, to: Option<i64>, lists: &[(&str, &Vec<String>)]) {
    sql.push(" AND ri.created_at >= ").bind(from);
    if let Some(to) = to {
        sql.push(" AND ri.created_at < ").bind(to);
    }
    for (column, values) in lists {
        if !values.is_empty() {
            sql.push(" AND ");
            sql.in_list(column, (*values).clone(), false);
        }
    }
}

pub(super) async fn list_experiments(
    db: &impl Executor,
    project_id: &str,
    query: &ExperimentQuery,
) -> Result<Page<Experiment>> {
    let dialect = db.dialect();
    let lists = [
        ("r.id", &query.ids),
        ("r.name", &query.names),
        ("r.dataset_id", &query.dataset_ids),
    ];
    let from_where = "FROM dataset_runs r \
         JOIN dataset_run_items ri ON ri.project_id = r.project_id AND ri.run_id = r.id \
         WHERE r.project_id = ";
    let run_columns = qualified("r", RUN_COLUMNS);
    let mut rows = Sql::new(
        dialect,
        &format!(
            "SELECT {run_columns}, \
             (SELECT d.name FROM datasets d WHERE d.project_id = r.project_id \
             AND d.id = r.dataset_id) AS owner_name, \
             min(ri.created_at) AS start_time, max(ri.created_at) AS end_time, \
             count(*) AS item_count {from_where}"
        ),
    );
    rows.bind(project_id);
    conditions(&mut rows, query.from, query.to, &lists);
    rows.push(&format!(" GROUP BY {run_columns}"));
    let mut count = Sql::new(
        dialect,
        &format!("SELECT count(DISTINCT r.id) AS value {from_where}"),
    );
    count.bind(project_id);
    conditions(&mut count, query.from, query.to, &lists);
    // Latest activity first.
    let (page, limit, offset) = crate::sql::reads::paging(query.page.page, query.page.limit);
    rows.push(" ORDER BY end_time DESC, r.id LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let (found, total) = rows_and_count::<ExperimentRow>(db, rows, count).await?;
    let experiments = found
        .into_iter()
        .map(|row| Experiment {
            run: row.run.into_run(),
            start_time: row.start_time,
            end_time: row.end_time,
            item_count: row.item_count.max(0) as u64,
        })
        .collect();
    Ok(Page::counted(experiments, page, limit, total))
}

pub(super) async fn list_experiment_items(
    db: &impl Executor,
    project_id: &str,
    query: &ExperimentItemQuery,
) -> Result<Page<ExperimentItem>> {
    let dialect = db.dialect();
    let lists = [
        ("ri.run_id", &query.experiment_ids),
        ("r.name", &query.experiment_names),
        ("ri.dataset_item_id", &query.item_ids),
        ("r.dataset_id", &query.dataset_ids),
    ];
    let runs = "FROM dataset_run_items ri \
         JOIN dataset_runs r ON r.project_id = ri.project_id AND r.id = ri.run_id";
    let mut rows = Sql::new(
        dialect,
        &format!(
            "SELECT {}, r.name AS owner_name, r.dataset_id, \
             r.description AS run_description, r.metadata AS run_metadata, \
             i.input AS item_input, i.expected_output AS item_expected_output, \
             i.metadata AS item_metadata, {trace_input} AS trace_input, \
             {trace_output} AS trace_output, \
             t.metadata{json_as_text} AS trace_metadata, \
             t.environment AS trace_environment {runs} \
             LEFT JOIN dataset_items i ON i.project_id = ri.project_id \
             AND i.id = ri.dataset_item_id \
             LEFT JOIN traces t ON t.project_id = ri.project_id AND t.id = ri.trace_id \
             WHERE ri.project_id = ",
            qualified("ri", RUN_ITEM_COLUMNS),
            json_as_text = dialect.json_as_text(),
            trace_input = dialect.payload("t.input"),
            trace_output = dialect.payload("t.output"),
        ),
    );
    rows.bind(project_id);
    conditions(&mut rows, query.from, query.to, &lists);
    let mut count = Sql::new(
        dialect,
        &format!("SELECT count(*) AS value {runs} WHERE ri.project_id = "),
    );
    count.bind(project_id);
    conditions(&mut count, query.from, query.to, &lists);
    let page: Page<ItemRow> = paged(db, rows, count, "ri", query.page).await?;
    Ok(page.map(|row| {
        let context = row.context;
        ExperimentItem {
            run_item: row.run_item.into_run_item(),
            dataset_id: context.dataset_id,
            run_description: context.run_description,
            run_metadata: context.run_metadata,
            item_input: context.item_input,
            item_expected_output: context.item_expected_output,
            item_metadata: context.item_metadata,
            trace_input: context.trace_input,
            trace_output: context.trace_output,
            trace_metadata: context.trace_metadata,
            trace_environment: context.trace_environment,
        }
    }))
}
