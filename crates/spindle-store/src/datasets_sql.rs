//! The datasets' statements, written once for both dialects, and [`Datasets`] implemented once
//! for every backend that can run them (an [`Executor`]).
//!
//! Datasets are upserted by name and items by id (`ON CONFLICT … DO UPDATE`, keeping what a
//! request leaves out); a run is upserted by its dataset and name in the transaction that
//! inserts its first run item. Reads join the dataset's or the run's name in. A deletion of
//! an item or a run writes its audit entry in its own transaction.

use async_trait::async_trait;
use spindle_core::dataset::{
    Dataset, DatasetItem, DatasetRun, DatasetRunItem, ItemStatus, NewDataset, NewDatasetItem,
    NewRunItem,
};
use spindle_core::time::format_iso;
use spindle_core::{Error, ExperimentRunItem};

use crate::audit::{resource, Actor, ProjectChange};
use crate::audit_sql::project_entry;
use crate::datasets::{DatasetItemQuery, DatasetSummary, Datasets, ItemMediaLink, PageRequest};
use crate::executor::{columns_and_codec, first, rows_and_count, Executor, FromRow, Single, ToRow};
use crate::experiments::{Experiment, ExperimentItem, ExperimentItemQuery, ExperimentQuery};
use crate::run_metrics::{RunAggregates, RunComparison};
use crate::sql::reads::paging;
use crate::sql::{Dialect, RowAccess, Sql};
use crate::statements::{insert, insert_select, on_conflict_update, qualified};
use crate::{new_uuid, now_micros, MediaRecord, Page, Result};

mod experiments;
mod media;
mod run_metrics;

// --- column lists and row codecs ---

columns_and_codec!(DATASET_COLUMNS => Dataset {
    id: text,
    project_id: text,
    name: text,
    description: opt_text,
    metadata: opt_text,
    input_schema: opt_text,
    expected_output_schema: opt_text,
    created_at: int,
    updated_at: int,
});

/// A dataset with its counts, as [`list_dataset_summaries`] selects it.
struct SummaryRow {
    dataset: Dataset,
    item_count: i64,
    run_count: i64,
}

impl FromRow for SummaryRow {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(SummaryRow {
            dataset: Dataset::from_row(row)?,
            item_count: row.int("item_count")?,
            run_count: row.int("run_count")?,
        })
    }
}

/// A `dataset_items` row.
struct ItemRow {
    id: String,
    project_id: String,
    dataset_id: String,
    status: String,
    input: Option<String>,
    expected_output: Option<String>,
    metadata: Option<String>,
    source_trace_id: Option<String>,
    source_observation_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(ITEM_COLUMNS => ItemRow {
    id: text,
    project_id: text,
    dataset_id: text,
    status: text,
    input: opt_text,
    expected_output: opt_text,
    metadata: opt_text,
    source_trace_id: opt_text,
    source_observation_id: opt_text,
    created_at: int,
    updated_at: int,
});

/// A `dataset_runs` row.
struct RunRow {
    id: String,
    project_id: String,
    dataset_id: String,
    name: String,
    description: Option<String>,
    metadata: Option<String>,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(RUN_COLUMNS => RunRow {
    id: text,
    project_id: text,
    dataset_id: text,
    name: text,
    description: opt_text,
    metadata: opt_text,
    created_at: int,
    updated_at: int,
});

/// A `dataset_run_items` row.
struct RunItemRow {
    id: String,
    project_id: String,
    run_id: String,
    dataset_item_id: String,
    trace_id: String,
    observation_id: Option<String>,
    dataset_version: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(RUN_ITEM_COLUMNS => RunItemRow {
    id: text,
    project_id: text,
    run_id: text,
    dataset_item_id: text,
    trace_id: text,
    observation_id: opt_text,
    dataset_version: opt_int,
    created_at: int,
    updated_at: int,
});

/// A row with the name of what it belongs to joined in as `owner_name` (the dataset of an
/// item or a run, the run of a run item).
struct Named<T> {
    row: T,
    owner_name: String,
}

impl<T: FromRow> FromRow for Named<T> {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(Named {
            row: T::from_row(row)?,
            owner_name: row.text("owner_name")?,
        })
    }
}

impl Named<ItemRow> {
    fn into_item(self) -> Result<DatasetItem> {
        let row = self.row;
        let status = ItemStatus::parse(&row.status).ok_or_else(|| {
            Error::internal(format!(
                "dataset item {:?}: unknown status {:?}",
                row.id, row.status
            ))
        })?;
        Ok(DatasetItem {
            id: row.id,
            project_id: row.project_id,
            dataset_id: row.dataset_id,
            dataset_name: self.owner_name,
            status,
            input: row.input,
            expected_output: row.expected_output,
            metadata: row.metadata,
            source_trace_id: row.source_trace_id,
            source_observation_id: row.source_observation_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Named<RunRow> {
    fn into_run(self) -> DatasetRun {
        let row = self.row;
        DatasetRun {
            id: row.id,
            project_id: row.project_id,
            dataset_id: row.dataset_id,
            dataset_name: self.owner_name,
            name: row.name,
            description: row.description,
            metadata: row.metadata,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Named<RunItemRow> {
    fn into_run_item(self) -> DatasetRunItem {
        let row = self.row;
        DatasetRunItem {
            id: row.id,
            project_id: row.project_id,
            run_id: row.run_id,
            run_name: self.owner_name,
            dataset_item_id: row.dataset_item_id,
            trace_id: row.trace_id,
            observation_id: row.observation_id,
            dataset_version: row.dataset_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

// --- statements ---

/// ` ON CONFLICT (<key>) DO UPDATE SET` each of `kept` to the new value unless that is NULL,
/// and `updated_at` to the new one.
fn on_conflict_keep_absent(table: &str, key: &str, kept: &[&str]) -> String {
    let set: Vec<String> = kept
        .iter()
        .map(|column| format!("{column} = coalesce(excluded.{column}, {table}.{column})"))
        .collect();
    format!(
        " ON CONFLICT ({key}) DO UPDATE SET {}, updated_at = excluded.updated_at",
        set.join(", ")
    )
}

/// A table read with the name of what its rows belong to: `(table, alias, columns, the
/// column naming the owner's id)`.
type Joined = (&'static str, &'static str, &'static str, &'static str);

const ITEMS_OF_DATASETS: (Joined, &str) = (
    ("dataset_items", "i", ITEM_COLUMNS, "dataset_id"),
    "datasets",
);
const RUNS_OF_DATASETS: (Joined, &str) =
    (("dataset_runs", "r", RUN_COLUMNS, "dataset_id"), "datasets");
const ITEMS_OF_RUNS: (Joined, &str) = (
    ("dataset_run_items", "ri", RUN_ITEM_COLUMNS, "run_id"),
    "dataset_runs",
);

/// `SELECT <columns>, o.name AS owner_name FROM <table> <alias> JOIN <owner table> o … WHERE
/// <alias>.project_id = …` (the caller appends conditions).
fn select_named(dialect: Dialect, project_id: &str, joined: (Joined, &str)) -> Sql {
    select_named_with(dialect, project_id, joined, "")
}

/// [`select_named`] with more selected expressions (`extra`, each after a comma).
fn select_named_with(
    dialect: Dialect,
    project_id: &str,
    ((table, alias, columns, owner_key), owner_table): (Joined, &str),
    extra: &str,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT {}, o.name AS owner_name{extra} FROM {table} {alias} JOIN {owner_table} o \
             ON o.project_id = {alias}.project_id AND o.id = {alias}.{owner_key} \
             WHERE {alias}.project_id = ",
            qualified(alias, columns)
        ),
    );
    sql.bind(project_id);
    sql
}

/// `SELECT count(*) AS value FROM <table> <alias> WHERE <alias>.project_id = …`.
pub(crate) fn count_rows(dialect: Dialect, table: &str, alias: &str, project_id: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!("SELECT count(*) AS value FROM {table} {alias} WHERE {alias}.project_id = "),
    );
    sql.bind(project_id);
    sql
}

/// Appends `AND <column> = <value>` to both statements of a list: its rows and its count.
pub(crate) fn both_equal(rows: &mut Sql, count: &mut Sql, column: &str, value: &str) {
    for sql in [rows, count] {
        sql.push(&format!(" AND {column} = ")).bind(value);
    }
}

/// One page of `rows` (newest first by `<alias>.created_at`, then by id) with the number of
/// rows `count` finds.
pub(crate) async fn paged<T: FromRow>(
    db: &impl Executor,
    mut rows: Sql,
    count: Sql,
    alias: &str,
    request: PageRequest,
) -> Result<Page<T>> {
    let (page, limit, offset) = paging(request.page, request.limit);
    rows.push(&format!(
        " ORDER BY {alias}.created_at DESC, {alias}.id LIMIT "
    ))
    .bind(i64::from(limit))
    .push(" OFFSET ")
    .bind(offset);
    let (items, total) = rows_and_count(db, rows, count).await?;
    Ok(Page::counted(items, page, limit, total))
}

async fn dataset_by_name(
    db: &impl Executor,
    project_id: &str,
    name: &str,
) -> Result<Option<Dataset>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("SELECT {DATASET_COLUMNS} FROM datasets WHERE project_id = "),
    );
    sql.bind(project_id).push(" AND name = ").bind(name);
    first(db, sql).await
}

fn dataset_not_found(name: &str) -> Error {
    Error::not_found(format!("dataset {name:?}"))
}

async fn existing_dataset(db: &impl Executor, project_id: &str, name: &str) -> Result<Dataset> {
    dataset_by_name(db, project_id, name)
        .await?
        .ok_or_else(|| dataset_not_found(name))
}

async fn item_by_id(db: &impl Executor, project_id: &str, id: &str) -> Result<Option<DatasetItem>> {
    let mut sql = select_named(db.dialect(), project_id, ITEMS_OF_DATASETS);
    sql.push(" AND i.id = ").bind(id);
    first::<Named<ItemRow>>(db, sql)
        .await?
        .map(Named::into_item)
        .transpose()
}

/// Records the stored item `id` (when `condition` on it holds, `i` naming the item) as its
/// version valid from `now`, or marks it `deleted` from then; a version of the same
/// microsecond is replaced.
fn record_item_version(
    dialect: Dialect,
    project_id: &str,
    id: &str,
    condition: Sql,
    deleted: bool,
    now: i64,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "INSERT INTO dataset_item_versions ({ITEM_COLUMNS}, valid_from, deleted) SELECT {}, ",
            qualified("i", ITEM_COLUMNS)
        ),
    );
    sql.bind(now)
        .push(&format!(
            ", {} FROM dataset_items i WHERE i.project_id = ",
            i32::from(deleted)
        ))
        .bind(project_id)
        .push(" AND i.id = ")
        .bind(id)
        .and(condition);
    let replaced = ITEM_COLUMNS
        .split(", ")
        .chain(["deleted"])
        .filter(|column| !matches!(*column, "id" | "project_id"));
    sql.push(&on_conflict_update("project_id, id, valid_from", replaced));
    sql
}

/// `i.valid_from <= T AND i.deleted = 0 AND NOT EXISTS (a later version up to T)`: the
/// versions `i` in force at time `at`, each item's last up to then unless it marks a delete.
fn in_force_at(dialect: Dialect, at: i64) -> Sql {
    let mut sql = Sql::new(dialect, "i.valid_from <= ");
    sql.bind(at)
        .push(
            " AND i.deleted = 0 AND NOT EXISTS (SELECT 1 FROM dataset_item_versions n \
             WHERE n.project_id = i.project_id AND n.id = i.id \
             AND n.valid_from > i.valid_from AND n.valid_from <= ",
        )
        .bind(at)
        .push(")");
    sql
}

/// An item's state with the time from which it was valid.
struct VersionedItem {
    item: Named<ItemRow>,
    valid_from: i64,
}

impl FromRow for VersionedItem {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        Ok(VersionedItem {
            item: Named::from_row(row)?,
            valid_from: row.int("valid_from")?,
        })
    }
}

/// The item `id` as it was at time `at` (its last state up to then, unless deleted), with the
/// time from which that state was valid.
async fn item_version_at(
    db: &impl Executor,
    project_id: &str,
    id: &str,
    at: i64,
) -> Result<Option<(DatasetItem, i64)>> {
    let dialect = db.dialect();
    let ((_, alias, columns, owner_key), owner_table) = ITEMS_OF_DATASETS;
    let versions = (
        ("dataset_item_versions", alias, columns, owner_key),
        owner_table,
    );
    let mut sql = select_named_with(dialect, project_id, versions, ", i.valid_from");
    sql.push(" AND i.id = ")
        .bind(id)
        .and(in_force_at(dialect, at));
    let Some(found) = first::<VersionedItem>(db, sql).await? else {
        return Ok(None);
    };
    Ok(Some((found.item.into_item()?, found.valid_from)))
}

/// `DELETE FROM dataset_run_items WHERE project_id = … AND <condition>`.
fn delete_run_items_where(dialect: Dialect, project_id: &str, condition: Sql) -> Sql {
    let mut sql = Sql::new(dialect, "DELETE FROM dataset_run_items WHERE project_id = ");
    sql.bind(project_id).and(condition);
    sql
}

/// The audit entry of a deletion, for its transaction: written when `exists` holds, so put
/// it before the delete.
fn deletion_entry(
    dialect: Dialect,
    project_id: &str,
    by: &Actor,
    resource_type: &str,
    resource_id: &str,
    details: serde_json::Value,
    exists: Sql,
) -> Sql {
    project_entry(
        dialect,
        &ProjectChange {
            project_id,
            actor: by,
            action: "deleted",
            resource_type,
            resource_id,
            details: Some(details),
            created_at: now_micros(),
        },
        Some(exists),
    )
}

/// The datasets of a page, newest first, each with its item and run counts: the page is
/// chosen first, then the items and runs of only its datasets are counted in two grouped
/// subqueries joined to it, all in one statement.
async fn list_dataset_summaries(
    db: &impl Executor,
    project_id: &str,
    request: PageRequest,
) -> Result<Page<DatasetSummary>> {
    let dialect = db.dialect();
    let (page, limit, offset) = paging(request.page, request.limit);
    let mut rows = Sql::new(
        dialect,
        &format!(
            "WITH page AS (SELECT {} FROM datasets d WHERE d.project_id = ",
            qualified("d", DATASET_COLUMNS)
        ),
    );
    rows.bind(project_id)
        .push(" ORDER BY d.created_at DESC, d.id LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset)
        .push(&format!(
            ") SELECT {}, coalesce(ic.n, 0) AS item_count, coalesce(rc.n, 0) AS run_count \
             FROM page p",
            qualified("p", DATASET_COLUMNS)
        ));
    for (table, alias) in [("dataset_items", "ic"), ("dataset_runs", "rc")] {
        rows.push(&format!(
            " LEFT JOIN (SELECT x.dataset_id, count(*) AS n FROM {table} x \
             WHERE x.project_id = "
        ))
        .bind(project_id)
        .push(&format!(
            " AND x.dataset_id IN (SELECT id FROM page) GROUP BY x.dataset_id) {alias} \
             ON {alias}.dataset_id = p.id"
        ));
    }
    rows.push(" ORDER BY p.created_at DESC, p.id");
    let count = count_rows(dialect, "datasets", "d", project_id);
    let (items, total) = rows_and_count::<SummaryRow>(db, rows, count).await?;
    let summaries = items
        .into_iter()
        .map(|row| DatasetSummary {
            dataset: row.dataset,
            item_count: row.item_count.max(0) as u64,
            run_count: row.run_count.max(0) as u64,
        })
        .collect();
    Ok(Page::counted(summaries, page, limit, total))
}

/// The two deletes of [`Datasets::prune_item_versions`], run in one transaction: versions
/// that a later version up to `cutoff` replaced and no run item ran on, then tombstones up to
/// `cutoff` with no version of their item before them (the first statement may have just
/// removed those). Neither changes which state of an item is in force at any time from
/// `cutoff` on: a replaced version was in force only before its successor began.
fn prune_item_version_statements(
    dialect: Dialect,
    project_id: &str,
    cutoff: i64,
    max_rows: u32,
) -> [Sql; 2] {
    let doomed = || {
        let mut sql = Sql::new(
            dialect,
            "DELETE FROM dataset_item_versions WHERE project_id = ",
        );
        sql.bind(project_id).push(
            " AND (id, valid_from) IN (SELECT v.id, v.valid_from \
                 FROM dataset_item_versions v WHERE v.project_id = ",
        );
        sql
    };
    let mut replaced = doomed();
    replaced
        .bind(project_id)
        .push(" AND v.valid_from < ")
        .bind(cutoff)
        .push(
            " AND EXISTS (SELECT 1 FROM dataset_item_versions n \
             WHERE n.project_id = v.project_id AND n.id = v.id \
             AND n.valid_from > v.valid_from AND n.valid_from <= ",
        )
        .bind(cutoff)
        .push(
            ") AND NOT EXISTS (SELECT 1 FROM dataset_run_items ri \
             WHERE ri.project_id = v.project_id AND ri.dataset_item_id = v.id \
             AND ri.dataset_version = v.valid_from) LIMIT ",
        )
        .bind(i64::from(max_rows))
        .push(")");
    let mut tombstones = doomed();
    tombstones
        .bind(project_id)
        .push(" AND v.deleted = 1 AND v.valid_from <= ")
        .bind(cutoff)
        .push(
            " AND NOT EXISTS (SELECT 1 FROM dataset_item_versions e \
             WHERE e.project_id = v.project_id AND e.id = v.id \
             AND e.valid_from < v.valid_from) LIMIT ",
        )
        .bind(i64::from(max_rows))
        .push(")");
    [replaced, tombstones]
}

/// The trace of a stored observation.
async fn trace_of_observation(
    db: &impl Executor,
    project_id: &str,
    observation_id: &str,
) -> Result<Option<String>> {
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT trace_id AS value FROM observations WHERE project_id = ",
    );
    sql.bind(project_id)
        .push(" AND id = ")
        .bind(observation_id)
        .push(" AND trace_id IS NOT NULL");
    Ok(first::<Single<String>>(db, sql)
        .await?
        .map(|single| single.0))
}

/// The last time a dataset version covers (now when there is none). Times on the wire have
/// millisecond precision: a version of a whole millisecond covers all of it, so an item's own
/// `updatedAt` names the state it shows.
fn version_bound(version: Option<i64>) -> i64 {
    match version {
        None => i64::MAX,
        Some(version) if version % 1000 == 0 => version + 999,
        Some(version) => version,
    }
}

/// `i.id = … AND i.dataset_id = … AND i.status = 'ACTIVE' AND <in force at the version>`: the
/// version `i` (of `dataset_item_versions`) an experiment's span can link, when the dataset
/// has the item and it is active.
fn linkable_item(dialect: Dialect, link: &ExperimentRunItem) -> Sql {
    let mut sql = Sql::new(dialect, "i.id = ");
    sql.bind(link.dataset_item_id.as_str())
        .push(" AND i.dataset_id = ")
        .bind(link.dataset_id.as_str())
        .push(" AND i.status = ")
        .bind(ItemStatus::Active.as_str())
        .and(in_force_at(dialect, version_bound(link.dataset_version)));
    sql
}

/// The statements that write an experiment span's run item in the span's own transaction:
/// the run upserted by dataset and name (keeping the description and metadata a span leaves
/// out), then the run item, one per span (a span delivered again changes nothing). Both
/// insert only when the dataset has the item at the span's dataset version, so an unknown
/// dataset or item writes nothing and fails nothing.
pub fn experiment_run_item_statements(
    dialect: Dialect,
    project_id: &str,
    link: &ExperimentRunItem,
    now: i64,
) -> [Sql; 2] {
    let run = RunRow {
        id: new_uuid(),
        project_id: project_id.to_owned(),
        dataset_id: link.dataset_id.clone(),
        name: link.run_name.clone(),
        description: link.run_description.clone(),
        metadata: link.run_metadata.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut upsert_run = insert_select(dialect, "dataset_runs", RUN_COLUMNS, run.values(), &[]);
    upsert_run
        .push(" FROM dataset_item_versions i WHERE i.project_id = ")
        .bind(project_id)
        .and(linkable_item(dialect, link));
    upsert_run.push(&on_conflict_keep_absent(
        "dataset_runs",
        "project_id, dataset_id, name",
        &["description", "metadata"],
    ));
    let run_item = RunItemRow {
        id: link.run_item_id(),
        project_id: project_id.to_owned(),
        run_id: String::new(),
        dataset_item_id: link.dataset_item_id.clone(),
        trace_id: link.trace_id.clone(),
        observation_id: Some(link.observation_id.clone()),
        dataset_version: None,
        created_at: link.created_at,
        updated_at: link.created_at,
    };
    let mut insert_item = insert_select(
        dialect,
        "dataset_run_items",
        RUN_ITEM_COLUMNS,
        run_item.values(),
        &[
            ("run_id", Sql::new(dialect, "r.id")),
            ("dataset_version", Sql::new(dialect, "i.valid_from")),
        ],
    );
    insert_item
        .push(
            " FROM dataset_runs r JOIN dataset_item_versions i \
             ON i.project_id = r.project_id AND i.dataset_id = r.dataset_id \
             WHERE r.project_id = ",
        )
        .bind(project_id)
        .push(" AND r.dataset_id = ")
        .bind(link.dataset_id.as_str())
        .push(" AND r.name = ")
        .bind(link.run_name.as_str())
        .and(linkable_item(dialect, link));
    insert_item.push(" ON CONFLICT (project_id, id) DO NOTHING");
    [upsert_run, insert_item]
}

/// Notes an experiment span whose run item statement inserted nothing: it was linked before,
/// or the dataset has no such active item at its version.
pub fn log_unlinked(link: &ExperimentRunItem) {
    tracing::debug!(
        dataset_id = %link.dataset_id,
        dataset_item_id = %link.dataset_item_id,
        run = %link.run_name,
        trace_id = %link.trace_id,
        "experiment span added no run item: already linked, or no such active dataset item"
    );
}

/// The run `run_name` of the dataset with id `dataset_id`.
async fn run_of(
    db: &impl Executor,
    project_id: &str,
    dataset_id: &str,
    run_name: &str,
) -> Result<Option<DatasetRun>> {
    let mut sql = select_named(db.dialect(), project_id, RUNS_OF_DATASETS);
    sql.push(" AND r.dataset_id = ")
        .bind(dataset_id)
        .push(" AND r.name = ")
        .bind(run_name);
    Ok(first::<Named<RunRow>>(db, sql).await?.map(Named::into_run))
}

/// The run `run_name` of the dataset named `dataset_name`.
async fn run_by_names(
    db: &impl Executor,
    project_id: &str,
    dataset_name: &str,
    run_name: &str,
) -> Result<Option<DatasetRun>> {
    let Some(dataset) = dataset_by_name(db, project_id, dataset_name).await? else {
        return Ok(None);
    };
    run_of(db, project_id, &dataset.id, run_name).await
}

#[async_trait]
impl<E: Executor> Datasets for E {
    async fn upsert_dataset(&self, project_id: &str, dataset: &NewDataset) -> Result<Dataset> {
        let now = now_micros();
        let row = Dataset {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            name: dataset.name.clone(),
            description: dataset.description.clone(),
            metadata: dataset.metadata.clone(),
            input_schema: dataset.input_schema.clone(),
            expected_output_schema: dataset.expected_output_schema.clone(),
            created_at: now,
            updated_at: now,
        };
        let mut sql = insert(self.dialect(), "datasets", DATASET_COLUMNS, row.values());
        sql.push(&on_conflict_keep_absent(
            "datasets",
            "project_id, name",
            &[
                "description",
                "metadata",
                "input_schema",
                "expected_output_schema",
            ],
        ))
        .push(&format!(" RETURNING {DATASET_COLUMNS}"));
        self.modify_returning(sql)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::internal(format!("dataset {:?}: upsert returned no row", row.name))
            })
    }

    async fn get_dataset(&self, project_id: &str, name: &str) -> Result<Option<Dataset>> {
        dataset_by_name(self, project_id, name).await
    }

    async fn list_datasets(&self, project_id: &str, page: PageRequest) -> Result<Page<Dataset>> {
        let dialect = self.dialect();
        let mut rows = Sql::new(
            dialect,
            &format!(
                "SELECT {} FROM datasets d WHERE d.project_id = ",
                qualified("d", DATASET_COLUMNS)
            ),
        );
        rows.bind(project_id);
        let count = count_rows(dialect, "datasets", "d", project_id);
        paged(self, rows, count, "d", page).await
    }

    async fn list_dataset_summaries(
        &self,
        project_id: &str,
        page: PageRequest,
    ) -> Result<Page<DatasetSummary>> {
        list_dataset_summaries(self, project_id, page).await
    }

    async fn upsert_dataset_item(
        &self,
        project_id: &str,
        item: &NewDatasetItem,
    ) -> Result<DatasetItem> {
        let dataset = existing_dataset(self, project_id, &item.dataset_name).await?;
        let id = item.id.clone().unwrap_or_else(new_uuid);
        let now = now_micros();
        let row = ItemRow {
            id: id.clone(),
            project_id: project_id.to_owned(),
            dataset_id: dataset.id,
            status: item
                .status
                .unwrap_or(ItemStatus::Active)
                .as_str()
                .to_owned(),
            input: item.input.clone(),
            expected_output: item.expected_output.clone(),
            metadata: item.metadata.clone(),
            source_trace_id: item.source_trace_id.clone(),
            source_observation_id: item.source_observation_id.clone(),
            created_at: now,
            updated_at: now,
        };
        let mut sql = insert(self.dialect(), "dataset_items", ITEM_COLUMNS, row.values());
        sql.push(&on_conflict_keep_absent(
            "dataset_items",
            "project_id, id",
            &[
                "input",
                "expected_output",
                "metadata",
                "source_trace_id",
                "source_observation_id",
            ],
        ))
        // The status only changes when the request names one.
        .push(", status = coalesce(")
        .bind(item.status.map(ItemStatus::as_str))
        .push(", dataset_items.status) WHERE dataset_items.dataset_id = excluded.dataset_id");
        let mut of_dataset = Sql::new(self.dialect(), "i.dataset_id = ");
        of_dataset.bind(row.dataset_id.as_str());
        let version = record_item_version(self.dialect(), project_id, &id, of_dataset, false, now);
        let changed = self.modify(vec![sql, version]).await?;
        if changed.first().copied().unwrap_or(0) == 0 {
            return Err(Error::invalid(
                "id",
                format!(
                "{id:?} is the id of an item of another dataset; item ids are unique in a project"
            ),
            ));
        }
        item_by_id(self, project_id, &id)
            .await?
            .ok_or_else(|| Error::internal(format!("dataset item {id:?}: upserted but not found")))
    }

    async fn get_dataset_item(&self, project_id: &str, id: &str) -> Result<Option<DatasetItem>> {
        item_by_id(self, project_id, id).await
    }

    async fn list_dataset_items(
        &self,
        project_id: &str,
        query: &DatasetItemQuery,
    ) -> Result<Page<DatasetItem>> {
        let dialect = self.dialect();
        let (mut rows, mut count) = match query.version {
            None => (
                select_named(dialect, project_id, ITEMS_OF_DATASETS),
                count_rows(dialect, "dataset_items", "i", project_id),
            ),
            Some(at) => {
                let ((_, alias, columns, owner_key), owner_table) = ITEMS_OF_DATASETS;
                let versions = (
                    ("dataset_item_versions", alias, columns, owner_key),
                    owner_table,
                );
                let mut rows = select_named(dialect, project_id, versions);
                let mut count = count_rows(dialect, "dataset_item_versions", "i", project_id);
                rows.and(in_force_at(dialect, at));
                count.and(in_force_at(dialect, at));
                (rows, count)
            }
        };
        if let Some(name) = &query.dataset_name {
            let dataset = existing_dataset(self, project_id, name).await?;
            both_equal(&mut rows, &mut count, "i.dataset_id", &dataset.id);
        }
        if let Some(trace_id) = &query.source_trace_id {
            both_equal(&mut rows, &mut count, "i.source_trace_id", trace_id);
        }
        if let Some(observation_id) = &query.source_observation_id {
            both_equal(
                &mut rows,
                &mut count,
                "i.source_observation_id",
                observation_id,
            );
        }
        let page: Page<Named<ItemRow>> = paged(self, rows, count, "i", query.page).await?;
        page.try_map(Named::into_item)
    }

    async fn delete_dataset_item(&self, project_id: &str, id: &str, by: &Actor) -> Result<bool> {
        let dialect = self.dialect();
        let mut of_item = Sql::new(dialect, "dataset_item_id = ");
        of_item.bind(id);
        let mut item = Sql::new(dialect, "DELETE FROM dataset_items WHERE project_id = ");
        item.bind(project_id).push(" AND id = ").bind(id);
        let every = Sql::new(dialect, "1 = 1");
        let tombstone = record_item_version(dialect, project_id, id, every, true, now_micros());
        let mut exists = Sql::new(
            dialect,
            "EXISTS (SELECT 1 FROM dataset_items x WHERE x.project_id = ",
        );
        exists
            .bind(project_id)
            .push(" AND x.id = ")
            .bind(id)
            .push(")");
        let entry = deletion_entry(
            dialect,
            project_id,
            by,
            resource::DATASET_ITEM,
            id,
            serde_json::json!({}),
            exists,
        );
        let changed = self
            .modify(vec![
                delete_run_items_where(dialect, project_id, of_item),
                media::delete_item_links(dialect, project_id, id),
                tombstone,
                entry,
                item,
            ])
            .await?;
        Ok(changed.get(4).copied().unwrap_or(0) > 0)
    }

    async fn link_item_media(&self, project_id: &str, link: &ItemMediaLink) -> Result<()> {
        media::link_item_media(self, project_id, link).await
    }

    async fn item_media_links(
        &self,
        project_id: &str,
        item_id: &str,
    ) -> Result<Vec<ItemMediaLink>> {
        media::item_media_links(self, project_id, item_id).await
    }

    async fn uploaded_media(
        &self,
        project_id: &str,
        media_ids: &[String],
    ) -> Result<Vec<MediaRecord>> {
        media::uploaded_media(self, project_id, media_ids).await
    }

    async fn prune_item_versions(
        &self,
        project_id: &str,
        cutoff: i64,
        max_rows: u32,
    ) -> Result<u64> {
        let statements =
            prune_item_version_statements(self.dialect(), project_id, cutoff, max_rows.max(1));
        let changed = self.modify(statements.into()).await?;
        Ok(changed.iter().sum())
    }

    async fn create_run_item(
        &self,
        project_id: &str,
        request: &NewRunItem,
    ) -> Result<DatasetRunItem> {
        let dialect = self.dialect();
        // The item as it was at the requested version (now when none), which must be active:
        // archived items take no part in new runs and are as absent as deleted ones (a 404, as
        // in Langfuse).
        let at = version_bound(request.dataset_version);
        let (item, valid_from) = item_version_at(self, project_id, &request.dataset_item_id, at)
            .await?
            .filter(|(item, _)| item.status == ItemStatus::Active)
            .ok_or_else(|| {
                let version = match request.dataset_version {
                    Some(at) => format!(" at dataset version {}", format_iso(at)),
                    None => String::new(),
                };
                Error::not_found(format!(
                    "dataset item {:?}{version}",
                    request.dataset_item_id
                ))
            })?;
        let trace_id = match (&request.trace_id, &request.observation_id) {
            (Some(trace_id), _) => trace_id.clone(),
            (None, Some(observation_id)) => trace_of_observation(self, project_id, observation_id)
                .await?
                .ok_or_else(|| Error::not_found(format!("observation {observation_id:?}")))?,
            (None, None) => {
                return Err(Error::invalid(
                    "traceId",
                    "is required (or an observationId whose trace is stored)",
                ))
            }
        };
        let now = now_micros();
        let run = RunRow {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            dataset_id: item.dataset_id.clone(),
            name: request.run_name.clone(),
            description: request.run_description.clone(),
            metadata: request.metadata.clone(),
            created_at: now,
            updated_at: now,
        };
        let mut upsert_run = insert(dialect, "dataset_runs", RUN_COLUMNS, run.values());
        upsert_run.push(&on_conflict_keep_absent(
            "dataset_runs",
            "project_id, dataset_id, name",
            &["description", "metadata"],
        ));
        let created_at = request.created_at.unwrap_or(now);
        let run_item = RunItemRow {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            run_id: String::new(),
            dataset_item_id: item.id,
            trace_id,
            observation_id: request.observation_id.clone(),
            dataset_version: Some(valid_from),
            created_at,
            updated_at: created_at,
        };
        let mut insert_item = insert_select(
            dialect,
            "dataset_run_items",
            RUN_ITEM_COLUMNS,
            run_item.values(),
            &[("run_id", Sql::new(dialect, "r.id"))],
        );
        insert_item
            .push(" FROM dataset_runs r WHERE r.project_id = ")
            .bind(project_id)
            .push(" AND r.dataset_id = ")
            .bind(item.dataset_id.as_str())
            .push(" AND r.name = ")
            .bind(request.run_name.as_str());
        self.modify(vec![upsert_run, insert_item]).await?;
        let mut sql = select_named(dialect, project_id, ITEMS_OF_RUNS);
        sql.push(" AND ri.id = ").bind(run_item.id.as_str());
        first::<Named<RunItemRow>>(self, sql)
            .await?
            .map(Named::into_run_item)
            .ok_or_else(|| {
                Error::internal(format!("run item {:?}: created but not found", run_item.id))
            })
    }

    async fn list_dataset_runs(
        &self,
        project_id: &str,
        dataset_name: &str,
        request: PageRequest,
    ) -> Result<Option<Page<DatasetRun>>> {
        let Some(dataset) = dataset_by_name(self, project_id, dataset_name).await? else {
            return Ok(None);
        };
        let dialect = self.dialect();
        let mut rows = select_named(dialect, project_id, RUNS_OF_DATASETS);
        let mut count = count_rows(dialect, "dataset_runs", "r", project_id);
        both_equal(&mut rows, &mut count, "r.dataset_id", &dataset.id);
        let page: Page<Named<RunRow>> = paged(self, rows, count, "r", request).await?;
        Ok(Some(page.map(Named::into_run)))
    }

    async fn get_dataset_run(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_name: &str,
    ) -> Result<Option<(DatasetRun, Vec<DatasetRunItem>)>> {
        let Some(run) = run_by_names(self, project_id, dataset_name, run_name).await? else {
            return Ok(None);
        };
        let mut sql = select_named(self.dialect(), project_id, ITEMS_OF_RUNS);
        sql.push(" AND ri.run_id = ")
            .bind(run.id.as_str())
            .push(" ORDER BY ri.created_at DESC, ri.id");
        let items: Vec<Named<RunItemRow>> = self.select(sql).await?;
        Ok(Some((
            run,
            items.into_iter().map(Named::into_run_item).collect(),
        )))
    }

    async fn delete_dataset_run(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_name: &str,
        by: &Actor,
    ) -> Result<bool> {
        let Some(run) = run_by_names(self, project_id, dataset_name, run_name).await? else {
            return Ok(false);
        };
        let dialect = self.dialect();
        let mut of_run = Sql::new(dialect, "run_id = ");
        of_run.bind(run.id.as_str());
        let mut delete = Sql::new(dialect, "DELETE FROM dataset_runs WHERE project_id = ");
        delete
            .bind(project_id)
            .push(" AND id = ")
            .bind(run.id.as_str());
        let mut exists = Sql::new(
            dialect,
            "EXISTS (SELECT 1 FROM dataset_runs x WHERE x.project_id = ",
        );
        exists
            .bind(project_id)
            .push(" AND x.id = ")
            .bind(run.id.as_str())
            .push(")");
        let entry = deletion_entry(
            dialect,
            project_id,
            by,
            resource::DATASET_RUN,
            &run.id,
            serde_json::json!({ "dataset": dataset_name, "run": run_name }),
            exists,
        );
        let changed = self
            .modify(vec![
                delete_run_items_where(dialect, project_id, of_run),
                entry,
                delete,
            ])
            .await?;
        Ok(changed.get(2).copied().unwrap_or(0) > 0)
    }

    async fn list_run_items(
        &self,
        project_id: &str,
        dataset_id: &str,
        run_name: &str,
        request: PageRequest,
    ) -> Result<Option<Page<DatasetRunItem>>> {
        let Some(run) = run_of(self, project_id, dataset_id, run_name).await? else {
            return Ok(None);
        };
        let dialect = self.dialect();
        let mut rows = select_named(dialect, project_id, ITEMS_OF_RUNS);
        let mut count = count_rows(dialect, "dataset_run_items", "ri", project_id);
        both_equal(&mut rows, &mut count, "ri.run_id", &run.id);
        let page: Page<Named<RunItemRow>> = paged(self, rows, count, "ri", request).await?;
        Ok(Some(page.map(Named::into_run_item)))
    }

    async fn run_aggregates(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_name: &str,
    ) -> Result<Option<RunAggregates>> {
        run_metrics::run_aggregates(self, project_id, dataset_name, run_name).await
    }

    async fn compare_runs(
        &self,
        project_id: &str,
        dataset_name: &str,
        run_names: &[String],
        page: PageRequest,
    ) -> Result<Option<RunComparison>> {
        run_metrics::compare_runs(self, project_id, dataset_name, run_names, page).await
    }

    async fn list_experiments(
        &self,
        project_id: &str,
        query: &ExperimentQuery,
    ) -> Result<Page<Experiment>> {
        experiments::list_experiments(self, project_id, query).await
    }

    async fn list_experiment_items(
        &self,
        project_id: &str,
        query: &ExperimentItemQuery,
    ) -> Result<Page<ExperimentItem>> {
        experiments::list_experiment_items(self, project_id, query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_keep_what_a_request_leaves_out() {
        assert_eq!(
            on_conflict_keep_absent("datasets", "project_id, name", &["description"]),
            " ON CONFLICT (project_id, name) DO UPDATE SET \
             description = coalesce(excluded.description, datasets.description), \
             updated_at = excluded.updated_at"
        );
    }
}
