//! The prompts' statements, written once for both dialects, and [`Prompts`] implemented once
//! for every backend that can run them (an [`Executor`]).
//!
//! A new version's transaction first bumps its name's row in `prompt_heads` (on PostgreSQL
//! that row lock makes concurrent creates of one name wait for each other) and numbers the
//! version from it; labels move by an upsert keyed by the label, so one version holds each.
//! Checks that need reads (references, what a delete would break) run before the
//! transaction; the type a new version must keep is checked before it for the message and
//! enforced inside it, after the head's update; everything a request writes commits together,
//! its audit entry included (labels set or removed, versions deleted).

use async_trait::async_trait;
use spindle_core::prompt::{
    references, substitute, NewPrompt, PromptNode, PromptSelector, PromptType, PromptVersion,
    ResolutionGraph, ResolvedPrompt, LATEST_LABEL, MAX_NESTING_DEPTH,
};
use spindle_core::Error;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;

use crate::audit::{resource, Actor, ProjectChange};
use crate::audit_sql::project_entry;
use crate::executor::{columns_and_codec, rows_and_count, Executor, Single, ToRow};
use crate::prompts::{PromptMeta, PromptQuery, PromptVersionMetrics, Prompts, ScoreAverage};
use crate::sql::{like_escape, Dialect, Sql};
use crate::statements::{insert_select, qualified, SUM_AS_FLOAT, SUM_AS_INTEGER};
use crate::{new_uuid, now_micros, Page, Result};

// --- column lists and row codecs ---

/// A `prompts` row.
struct PromptRow {
    project_id: String,
    name: String,
    version: i64,
    id: String,
    prompt_type: String,
    prompt: String,
    config: String,
    commit_message: Option<String>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(PROMPT_COLUMNS => PromptRow {
    project_id: text,
    name: text,
    version: int,
    id: text,
    prompt_type: text,
    prompt: text,
    config: text,
    commit_message: opt_text,
    created_by: text,
    created_at: int,
    updated_at: int,
});

impl PromptRow {
    fn into_version(self, mut labels: Vec<String>, tags: Vec<String>) -> Result<PromptVersion> {
        let prompt_type = PromptType::parse(&self.prompt_type).ok_or_else(|| {
            Error::internal(format!(
                "prompt {:?}: unknown type {:?}",
                self.name, self.prompt_type
            ))
        })?;
        labels.sort();
        Ok(PromptVersion {
            id: self.id,
            project_id: self.project_id,
            name: self.name,
            version: self.version,
            prompt_type,
            prompt: self.prompt,
            config: self.config,
            labels,
            tags,
            commit_message: self.commit_message,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A label (of a version) or a tag (of a prompt), from the unions below.
struct Mark {
    kind: String,
    name: String,
    version: Option<i64>,
    value: String,
}

columns_and_codec!(_ => Mark {
    kind: text,
    name: text,
    version: opt_int,
    value: text,
});

/// A version of the list: what [`PromptMeta`] gathers per prompt.
struct ListedVersion {
    name: String,
    version: i64,
    prompt_type: String,
    config: String,
    updated_at: i64,
}

columns_and_codec!(_ => ListedVersion {
    name: text,
    version: int,
    prompt_type: text,
    config: text,
    updated_at: int,
});

/// A version and one of its labels (none: `None`), for a delete's checks.
struct VersionLabel {
    version: i64,
    label: Option<String>,
}

columns_and_codec!(_ => VersionLabel { version: int, label: opt_text });

/// A reference another version makes to the prompt being deleted.
struct Dependent {
    name: String,
    version: i64,
    child_label: Option<String>,
    child_version: Option<i64>,
}

columns_and_codec!(_ => Dependent {
    name: text,
    version: int,
    child_label: opt_text,
    child_version: opt_int,
});

impl Dependent {
    /// `"parent" version 2 references "name" label "production"`.
    fn describe(&self, name: &str) -> String {
        let target = match (&self.child_version, &self.child_label) {
            (Some(version), _) => format!("version {version}"),
            (None, label) => format!("label {:?}", label.as_deref().unwrap_or_default()),
        };
        format!(
            "{:?} version {} references {name:?} {target}",
            self.name, self.version
        )
    }
}

/// Fails with `InvalidArgument` on `field` when a change would break references
/// (`broken`, described by [`Dependent::describe`]).
fn refuse_broken(broken: Vec<String>, field: &str, what: &str, remedy: &str) -> Result<()> {
    if broken.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        field,
        format!(
            "other prompts reference {what} ({}); {remedy}",
            broken.join("; ")
        ),
    ))
}

/// The references other prompts make to prompt `name`.
fn dependents_of(dialect: Dialect, project_id: &str, name: &str) -> Sql {
    let mut dependents = Sql::new(
        dialect,
        "SELECT d.name AS name, d.version AS version, d.child_label AS child_label, \
         d.child_version AS child_version FROM prompt_dependencies d WHERE d.project_id = ",
    );
    dependents
        .bind(project_id)
        .push(" AND d.child_name = ")
        .bind(name)
        .push(" AND d.name <> ")
        .bind(name);
    dependents
}

/// A version's id.
struct VersionId {
    name: String,
    version: i64,
    id: String,
}

columns_and_codec!(_ => VersionId { name: text, version: int, id: text });

/// A row of [`metrics_totals_statement`] or [`rollup_totals_statement`]: one version's
/// totals (`timed`, `first_used` and `last_used` are read by [`version_span_statement`] in
/// the second case).
struct VersionTotalsRow {
    version: i64,
    generations: i64,
    timed: i64,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    total_tokens: Option<i64>,
    total_cost: Option<f64>,
    first_used: Option<i64>,
    last_used: Option<i64>,
}

columns_and_codec!(_ => VersionTotalsRow {
    version: int,
    generations: int,
    timed: int,
    input_tokens: opt_int,
    output_tokens: opt_int,
    total_tokens: opt_int,
    total_cost: opt_float,
    first_used: opt_int,
    last_used: opt_int,
});

/// A row of [`rollup_totals_statement`].
struct RollupTotalsRow {
    version: i64,
    generations: i64,
    input_tokens: i64,
    output_tokens: i64,
    total_tokens: i64,
    cost_nanos: i64,
}

columns_and_codec!(_ => RollupTotalsRow {
    version: int,
    generations: int,
    input_tokens: int,
    output_tokens: int,
    total_tokens: int,
    cost_nanos: int,
});

/// The row of [`version_span_statement`].
struct VersionSpanRow {
    first_used: Option<i64>,
    last_used: Option<i64>,
    untimed: i64,
}

columns_and_codec!(_ => VersionSpanRow { first_used: opt_int, last_used: opt_int, untimed: int });

/// The row of [`latency_percentiles_statement`], in microseconds.
struct LatencyPercentilesRow {
    p50: Option<i64>,
    p90: Option<i64>,
    p99: Option<i64>,
}

columns_and_codec!(_ => LatencyPercentilesRow { p50: opt_int, p90: opt_int, p99: opt_int });

/// A row of [`prompt_scores_statement`]: the average of one score name over a version's
/// generations.
struct VersionScoreRow {
    version: i64,
    score_name: String,
    count: i64,
    score_average: Option<f64>,
}

columns_and_codec!(_ => VersionScoreRow {
    version: int,
    score_name: text,
    count: int,
    score_average: opt_float,
});

// --- statements ---

/// The latency of an observation, written exactly as `observations_by_prompt_latency`
/// indexes it, so both databases read it from the index.
const LATENCY: &str = "(end_time - start_time)";

/// Appends the observations linked to prompt `name`: the leading columns of
/// `observations_by_prompt_latency`.
fn push_linked_to_prompt(sql: &mut Sql, project_id: &str, name: &str) {
    sql.push("project_id = ")
        .bind(project_id)
        .push(" AND prompt_name = ")
        .bind(name);
}

/// Per version of prompt `name`, the totals over the observations linked to it, and how many
/// of them have a latency; one pass over `observations_by_prompt_latency`.
pub fn metrics_totals_statement(dialect: Dialect, project_id: &str, name: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT prompt_version AS version, count(*) AS generations, count({LATENCY}) AS timed, \
             {} AS input_tokens, {} AS output_tokens, {} AS total_tokens, {} AS total_cost, \
             min(start_time) AS first_used, max(start_time) AS last_used \
             FROM observations WHERE ",
            SUM_AS_INTEGER.of(dialect, "usage_input"),
            SUM_AS_INTEGER.of(dialect, "usage_output"),
            SUM_AS_INTEGER.of(dialect, "usage_total"),
            SUM_AS_FLOAT.of(dialect, "total_cost"),
        ),
    );
    push_linked_to_prompt(&mut sql, project_id, name);
    sql.push(" AND prompt_version IS NOT NULL GROUP BY prompt_version");
    sql
}

/// Per version of prompt `name`, the totals of the observations linked to it from
/// `observation_rollups`, which the writers keep exact (cost in nano-USD): a few rows per hour
/// instead of one index entry per observation. Only for a project whose rollups are built
/// (not in `rollups_pending`).
pub fn rollup_totals_statement(dialect: Dialect, project_id: &str, name: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT prompt_version AS version, {} AS generations, {} AS input_tokens, \
             {} AS output_tokens, {} AS total_tokens, {} AS cost_nanos \
             FROM observation_rollups WHERE project_id = ",
            SUM_AS_INTEGER.of(dialect, "observation_count"),
            SUM_AS_INTEGER.of(dialect, "input_tokens"),
            SUM_AS_INTEGER.of(dialect, "output_tokens"),
            SUM_AS_INTEGER.of(dialect, "total_tokens"),
            SUM_AS_INTEGER.of(dialect, "cost_nanos"),
        ),
    );
    sql.bind(project_id)
        .push(" AND prompt_name = ")
        .bind(name)
        .push(" AND prompt_version <> 0 GROUP BY prompt_version HAVING sum(observation_count) > 0");
    sql
}

/// The first and last use of `version` of prompt `name` (two seeks in
/// `observations_by_prompt`) and how many of its observations have no latency (the end of
/// its part of `observations_by_prompt_latency`, where the NULLs are).
pub fn version_span_statement(dialect: Dialect, project_id: &str, name: &str, version: i64) -> Sql {
    let mut sql = Sql::new(dialect, "SELECT ");
    for (index, (alias, select, rest)) in [
        ("first_used", "min(start_time)", ""),
        ("last_used", "max(start_time)", ""),
        (
            "untimed",
            "count(*)",
            " AND (end_time - start_time) IS NULL",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        if index > 0 {
            sql.push(", ");
        }
        sql.push(&format!("(SELECT {select} FROM observations WHERE "));
        push_linked_to_prompt(&mut sql, project_id, name);
        sql.push(" AND prompt_version = ")
            .bind(version)
            .push(&format!("{rest}) AS {alias}"));
    }
    sql
}

/// Each version's totals: from the rollups with a version's span and latency count read from
/// the indexes, or, while the project's rollups are pending, in one pass over the index.
async fn version_totals(
    db: &impl Executor,
    project_id: &str,
    name: &str,
) -> Result<Vec<VersionTotalsRow>> {
    let dialect = db.dialect();
    if crate::rollups_sql::is_pending_on(db, project_id).await? {
        return db
            .select(metrics_totals_statement(dialect, project_id, name))
            .await;
    }
    let rollups: Vec<RollupTotalsRow> = db
        .select(rollup_totals_statement(dialect, project_id, name))
        .await?;
    let mut totals = Vec::with_capacity(rollups.len());
    for row in rollups {
        let span: Vec<VersionSpanRow> = db
            .select(version_span_statement(
                dialect,
                project_id,
                name,
                row.version,
            ))
            .await?;
        let span = span.into_iter().next();
        totals.push(VersionTotalsRow {
            version: row.version,
            generations: row.generations,
            timed: (row.generations - span.as_ref().map_or(0, |s| s.untimed)).max(0),
            input_tokens: Some(row.input_tokens),
            output_tokens: Some(row.output_tokens),
            total_tokens: Some(row.total_tokens),
            total_cost: Some(row.cost_nanos as f64 / 1e9),
            first_used: span.as_ref().and_then(|s| s.first_used),
            last_used: span.as_ref().and_then(|s| s.last_used),
        });
    }
    Ok(totals)
}

/// Where the nearest-rank percentile `percent` of `timed` ordered values (`timed` > 0) stands,
/// as the index direction to walk and the zero-based offset from that end: its rank is
/// ceil(timed × percent / 100) counted from the smallest, and a rank past the middle is
/// reached from the largest end in fewer steps (the value is the same whichever way ties lie).
fn nearest_rank_step(timed: i64, percent: i64) -> (&'static str, i64) {
    debug_assert!(timed > 0 && (1..=100).contains(&percent));
    let rank = (timed * percent + 99) / 100;
    if rank - 1 <= timed - rank {
        ("ASC", rank - 1)
    } else {
        ("DESC", timed - rank)
    }
}

/// The nearest-rank latency percentiles 50, 90 and 99 of `version` of prompt `name`, which
/// has `timed` observations with a latency: each the value at its offset from the nearer end
/// of the version's part of `observations_by_prompt_latency`, walked in order without a sort.
pub fn latency_percentiles_statement(
    dialect: Dialect,
    project_id: &str,
    name: &str,
    version: i64,
    timed: i64,
) -> Sql {
    let mut sql = Sql::new(dialect, "SELECT ");
    for (index, percent) in [50, 90, 99].into_iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        let (direction, offset) = nearest_rank_step(timed, percent);
        sql.push(&format!("(SELECT {LATENCY} FROM observations WHERE "));
        push_linked_to_prompt(&mut sql, project_id, name);
        sql.push(" AND prompt_version = ")
            .bind(version)
            .push(&format!(
                " AND {LATENCY} IS NOT NULL ORDER BY {LATENCY} {direction} LIMIT 1 OFFSET "
            ))
            .bind(offset)
            .push(&format!(") AS p{percent}"));
    }
    sql
}

/// Per version of prompt `name` and score name, the count and average of the scores that
/// count for it, from `prompt_score_rollups` (kept by the writers; see
/// `rollups::LinkedScore` for which scores count).
pub fn prompt_scores_statement(dialect: Dialect, project_id: &str, name: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT prompt_version AS version, score_name, score_count AS count, \
         value_sum / score_count AS score_average FROM prompt_score_rollups \
         WHERE project_id = ",
    );
    sql.bind(project_id)
        .push(" AND prompt_name = ")
        .bind(name)
        .push(" AND score_count > 0");
    sql
}

/// Appends the version a selector names, for `version_expr` of prompt `name`: `= n`, or the
/// version that holds the label.
fn push_selected(
    sql: &mut Sql,
    version_expr: &str,
    project_id: &str,
    name: &str,
    selector: &PromptSelector,
) {
    match selector {
        PromptSelector::Version(version) => {
            sql.push(&format!(" AND {version_expr} = ")).bind(*version);
        }
        PromptSelector::Label(label) => {
            sql.push(&format!(
                " AND {version_expr} = (SELECT sl.version FROM prompt_labels sl WHERE sl.project_id = "
            ))
            .bind(project_id)
            .push(" AND sl.name = ")
            .bind(name)
            .push(" AND sl.label = ")
            .bind(label.as_str())
            .push(")");
        }
    }
}

/// The version row a selector names, and the labels of that version with the prompt's tags.
fn get_statements(
    dialect: Dialect,
    project_id: &str,
    name: &str,
    selector: &PromptSelector,
) -> (Sql, Sql) {
    let mut row = Sql::new(
        dialect,
        &format!(
            "SELECT {} FROM prompts p WHERE p.project_id = ",
            qualified("p", PROMPT_COLUMNS)
        ),
    );
    row.bind(project_id).push(" AND p.name = ").bind(name);
    push_selected(&mut row, "p.version", project_id, name, selector);

    let mut marks = Sql::new(
        dialect,
        "SELECT 'label' AS kind, l.name AS name, l.version AS version, l.label AS value \
         FROM prompt_labels l WHERE l.project_id = ",
    );
    marks.bind(project_id).push(" AND l.name = ").bind(name);
    push_selected(&mut marks, "l.version", project_id, name, selector);
    marks
        .push(
            " UNION ALL SELECT 'tag' AS kind, t.name AS name, NULL AS version, t.tag AS value \
             FROM prompt_tags t WHERE t.project_id = ",
        )
        .bind(project_id)
        .push(" AND t.name = ")
        .bind(name);
    (row, marks)
}

/// Labels and tags of [`Mark`] rows: (labels, tags), sorted.
fn split_marks(marks: Vec<Mark>) -> (Vec<String>, Vec<String>) {
    let mut labels = Vec::new();
    let mut tags = Vec::new();
    for mark in marks {
        if mark.kind == "label" {
            labels.push(mark.value);
        } else {
            tags.push(mark.value);
        }
    }
    labels.sort();
    tags.sort();
    (labels, tags)
}

/// The stored version a selector names, references intact.
async fn get_raw(
    db: &impl Executor,
    project_id: &str,
    name: &str,
    selector: &PromptSelector,
) -> Result<Option<PromptVersion>> {
    let (row, marks) = get_statements(db.dialect(), project_id, name, selector);
    let (rows, marks): (Vec<PromptRow>, Vec<Mark>) = db.select_pair(row, marks).await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let (labels, tags) = split_marks(marks);
    row.into_version(labels, tags).map(Some)
}

/// What resolving a prompt's references keeps track of.
struct Resolution {
    root: PromptNode,
    /// The versions being resolved, from the root down (a cycle revisits one).
    path: Vec<String>,
    dependencies: Vec<(String, Vec<PromptNode>)>,
}

type Resolving<'a> = Pin<Box<dyn Future<Output = Result<String>> + Send + 'a>>;

/// The content of `node` (JSON text) with its references replaced, recursively; errors say
/// which reference failed, as `InvalidArgument` on `prompt`.
fn resolve_content<'a, E: Executor>(
    db: &'a E,
    project_id: &'a str,
    node: PromptNode,
    content: String,
    level: usize,
    state: &'a mut Resolution,
) -> Resolving<'a> {
    Box::pin(async move {
        if level >= MAX_NESTING_DEPTH {
            return Err(Error::invalid(
                "prompt",
                format!("references nest deeper than {MAX_NESTING_DEPTH} levels"),
            ));
        }
        if state.path.contains(&node.id)
            || (node.name == state.root.name && node.id != state.root.id)
        {
            return Err(Error::invalid(
                "prompt",
                format!(
                    "circular reference involving prompt {:?} version {}",
                    node.name, node.version
                ),
            ));
        }
        let found = references(&content);
        if found.is_empty() {
            return Ok(content);
        }
        state.path.push(node.id.clone());
        let mut resolved = content;
        for reference in found {
            let described = match &reference.selector {
                PromptSelector::Version(version) => {
                    format!("{:?} version {version}", reference.name)
                }
                PromptSelector::Label(label) => format!("{:?} label {label:?}", reference.name),
            };
            let Some(child) = get_raw(db, project_id, &reference.name, &reference.selector).await?
            else {
                return Err(Error::invalid(
                    "prompt",
                    format!("referenced prompt {described} does not exist"),
                ));
            };
            if child.prompt_type != PromptType::Text {
                return Err(Error::invalid(
                    "prompt",
                    format!("referenced prompt {described} is not a text prompt"),
                ));
            }
            let child_node = PromptNode {
                id: child.id.clone(),
                name: child.name.clone(),
                version: child.version,
            };
            match state
                .dependencies
                .iter_mut()
                .find(|(parent, _)| *parent == node.id)
            {
                Some((_, children)) => children.push(child_node.clone()),
                None => state
                    .dependencies
                    .push((node.id.clone(), vec![child_node.clone()])),
            }
            let child_json = resolve_content(
                db,
                project_id,
                child_node,
                child.prompt.clone(),
                level + 1,
                state,
            )
            .await?;
            let child_text: String = serde_json::from_str(&child_json).map_err(|error| {
                Error::internal(format!(
                    "prompt {:?}: stored text is not a JSON string: {error}",
                    child.name
                ))
            })?;
            resolved = substitute(
                &resolved,
                &child.name,
                child.version,
                &child.labels,
                &child_text,
            );
        }
        state.path.pop();
        Ok(resolved)
    })
}

/// `version` with its references resolved, and the graph of what it embedded.
async fn resolve(db: &impl Executor, version: PromptVersion) -> Result<ResolvedPrompt> {
    if references(&version.prompt).is_empty() {
        return Ok(ResolvedPrompt {
            version,
            graph: None,
        });
    }
    let root = PromptNode {
        id: version.id.clone(),
        name: version.name.clone(),
        version: version.version,
    };
    let mut state = Resolution {
        root: root.clone(),
        path: Vec::new(),
        dependencies: Vec::new(),
    };
    let project_id = version.project_id.clone();
    let content = resolve_content(
        db,
        &project_id,
        root.clone(),
        version.prompt.clone(),
        0,
        &mut state,
    )
    .await?;
    let graph = (!state.dependencies.is_empty()).then_some(ResolutionGraph {
        root,
        dependencies: state.dependencies,
    });
    Ok(ResolvedPrompt {
        version: PromptVersion {
            prompt: content,
            ..version
        },
        graph,
    })
}

/// `UPDATE prompts SET updated_at = now` for the versions of `name` that hold any of
/// `labels` (they are about to lose them), or that are `also`.
fn touch_holders(
    dialect: Dialect,
    project_id: &str,
    name: &str,
    labels: &[String],
    also: Option<i64>,
    now: i64,
) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE prompts SET updated_at = ");
    sql.bind(now)
        .push(" WHERE project_id = ")
        .bind(project_id)
        .push(" AND name = ")
        .bind(name)
        .push(" AND (version IN (SELECT h.version FROM prompt_labels h WHERE h.project_id = ")
        .bind(project_id)
        .push(" AND h.name = ")
        .bind(name)
        .push(" AND ")
        .in_list("h.label", labels.to_vec(), false)
        .push(")");
    if let Some(version) = also {
        sql.push(" OR version = ").bind(version);
    }
    sql.push(")");
    sql
}

/// Moves `label` of prompt `name` to a version: `version_sql`, an expression of the
/// version (bound by the caller's fragment).
fn move_label(
    dialect: Dialect,
    project_id: &str,
    name: &str,
    label: &str,
    version: LabelTarget,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "INSERT INTO prompt_labels (project_id, name, label, version) SELECT ",
    );
    sql.bind(project_id)
        .push(", ")
        .bind(name)
        .push(", ")
        .bind(label);
    match version {
        LabelTarget::Version(version) => {
            sql.push(", ").bind(version).push(" WHERE 1 = 1");
        }
        LabelTarget::Head => {
            sql.push(", h.last_version FROM prompt_heads h WHERE h.project_id = ")
                .bind(project_id)
                .push(" AND h.name = ")
                .bind(name);
        }
        LabelTarget::Newest => {
            sql.push(", p.version FROM prompts p WHERE p.project_id = ")
                .bind(project_id)
                .push(" AND p.name = ")
                .bind(name)
                .push(
                    " AND p.version = (SELECT max(m.version) FROM prompts m WHERE m.project_id = ",
                )
                .bind(project_id)
                .push(" AND m.name = ")
                .bind(name)
                .push(")");
        }
    }
    sql.push(" ON CONFLICT (project_id, name, label) DO UPDATE SET version = excluded.version");
    sql
}

/// Which version a label moves to.
enum LabelTarget {
    Version(i64),
    /// The version being created (its name's last version number).
    Head,
    /// The newest stored version.
    Newest,
}

/// The statements that store a new version (the caller checked it).
fn create_statements(
    dialect: Dialect,
    project_id: &str,
    prompt: &NewPrompt,
    row: &PromptRow,
    now: i64,
) -> Vec<Sql> {
    let name = prompt.name.as_str();
    let mut statements = Vec::new();

    let mut head = Sql::new(
        dialect,
        "INSERT INTO prompt_heads (project_id, name, last_version, updated_at) VALUES (",
    );
    head.bind(project_id)
        .push(", ")
        .bind(name)
        .push(", 1, ")
        .bind(now)
        .push(
            ") ON CONFLICT (project_id, name) DO UPDATE SET \
             last_version = prompt_heads.last_version + 1, updated_at = excluded.updated_at",
        );
    statements.push(head);

    // The row's values, its version taken from the head just bumped.
    // NULL (refused by the column) when a stored version has another type: run after the
    // head's update, this sees the versions of every create that went before.
    let mut checked_type = Sql::new(
        dialect,
        "CASE WHEN EXISTS (SELECT 1 FROM prompts q WHERE q.project_id = ",
    );
    checked_type
        .bind(project_id)
        .push(" AND q.name = ")
        .bind(name)
        .push(" AND q.prompt_type <> ")
        .bind(prompt.prompt_type.as_str())
        .push(") THEN NULL ELSE ")
        .bind(prompt.prompt_type.as_str())
        .push(" END");
    let version = Sql::new(dialect, "h.last_version");
    let mut insert = insert_select(
        dialect,
        "prompts",
        PROMPT_COLUMNS,
        row.values(),
        &[("version", version), ("prompt_type", checked_type)],
    );
    insert
        .push(" FROM prompt_heads h WHERE h.project_id = ")
        .bind(project_id)
        .push(" AND h.name = ")
        .bind(name);
    statements.push(insert);

    let mut labels = prompt.labels.clone();
    labels.push(LATEST_LABEL.to_owned());
    statements.push(touch_holders(dialect, project_id, name, &labels, None, now));
    for label in &labels {
        statements.push(move_label(
            dialect,
            project_id,
            name,
            label,
            LabelTarget::Head,
        ));
    }

    if let Some(tags) = &prompt.tags {
        let mut clear = Sql::new(dialect, "DELETE FROM prompt_tags WHERE project_id = ");
        clear.bind(project_id).push(" AND name = ").bind(name);
        statements.push(clear);
        for tag in tags {
            let mut insert = Sql::new(
                dialect,
                "INSERT INTO prompt_tags (project_id, name, tag) VALUES (",
            );
            insert
                .bind(project_id)
                .push(", ")
                .bind(name)
                .push(", ")
                .bind(tag.as_str())
                .push(")");
            statements.push(insert);
        }
    }

    for reference in references(&prompt.prompt) {
        let (label, version) = match reference.selector {
            PromptSelector::Version(version) => (None, Some(version)),
            PromptSelector::Label(label) => (Some(label), None),
        };
        let mut insert = Sql::new(
            dialect,
            "INSERT INTO prompt_dependencies \
             (project_id, name, version, child_name, child_label, child_version) SELECT ",
        );
        insert
            .bind(project_id)
            .push(", ")
            .bind(name)
            .push(", h.last_version, ")
            .bind(reference.name)
            .push(", ")
            .bind(label)
            .push(", ")
            .bind(version)
            .push(" FROM prompt_heads h WHERE h.project_id = ")
            .bind(project_id)
            .push(" AND h.name = ")
            .bind(name);
        statements.push(insert);
    }
    statements
}

/// The newest version's type, if the prompt exists.
async fn current_type(db: &impl Executor, project_id: &str, name: &str) -> Result<Option<String>> {
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT prompt_type AS value FROM prompts WHERE project_id = ",
    );
    sql.bind(project_id)
        .push(" AND name = ")
        .bind(name)
        .push(" ORDER BY version DESC LIMIT 1");
    let rows: Vec<Single<String>> = db.select(sql).await?;
    Ok(rows.into_iter().next().map(|single| single.0))
}

/// Fails with `InvalidArgument` when stored versions of the prompt have another type.
async fn check_type(db: &impl Executor, project_id: &str, prompt: &NewPrompt) -> Result<()> {
    match current_type(db, project_id, &prompt.name).await? {
        Some(existing) if existing != prompt.prompt_type.as_str() => Err(Error::invalid(
            "type",
            format!(
                "prompt {:?} is a {existing} prompt; its versions keep one type (create a prompt with another name)",
                prompt.name
            ),
        )),
        _ => Ok(()),
    }
}

/// The audit entry of a change to prompt `name`, for its transaction (see
/// [`project_entry`]).
fn prompt_entry(
    dialect: Dialect,
    project_id: &str,
    name: &str,
    by: &Actor,
    action: &str,
    details: serde_json::Value,
    condition: Option<Sql>,
) -> Sql {
    project_entry(
        dialect,
        &ProjectChange {
            project_id,
            actor: by,
            action,
            resource_type: resource::PROMPT,
            resource_id: name,
            details: Some(details),
            created_at: now_micros(),
        },
        condition,
    )
}

/// `EXISTS (SELECT 1 FROM prompt_labels …)`: version `version` of `name` holds `label`.
fn holds_label(dialect: Dialect, project_id: &str, name: &str, version: i64, label: &str) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "EXISTS (SELECT 1 FROM prompt_labels x WHERE x.project_id = ",
    );
    sql.bind(project_id)
        .push(" AND x.name = ")
        .bind(name)
        .push(" AND x.label = ")
        .bind(label)
        .push(" AND x.version = ")
        .bind(version)
        .push(")");
    sql
}

async fn create(
    db: &impl Executor,
    project_id: &str,
    prompt: &NewPrompt,
    created_by: &str,
    by: &Actor,
) -> Result<PromptVersion> {
    check_type(db, project_id, prompt).await?;
    let id = new_uuid();
    // Resolving the content now finds missing, non-text, circular and too deep references.
    if !references(&prompt.prompt).is_empty() {
        let mut state = Resolution {
            root: PromptNode {
                id: id.clone(),
                name: prompt.name.clone(),
                version: 0,
            },
            path: Vec::new(),
            dependencies: Vec::new(),
        };
        let root = state.root.clone();
        resolve_content(db, project_id, root, prompt.prompt.clone(), 0, &mut state).await?;
    }
    let now = now_micros();
    let row = PromptRow {
        project_id: project_id.to_owned(),
        name: prompt.name.clone(),
        version: 0,
        id: id.clone(),
        prompt_type: prompt.prompt_type.as_str().to_owned(),
        prompt: prompt.prompt.clone(),
        config: prompt.config.clone(),
        commit_message: prompt.commit_message.clone(),
        created_by: created_by.to_owned(),
        created_at: now,
        updated_at: now,
    };
    let mut statements = create_statements(db.dialect(), project_id, prompt, &row, now);
    if !prompt.labels.is_empty() {
        let mut created_version = Sql::new(
            db.dialect(),
            "EXISTS (SELECT 1 FROM prompts c WHERE c.project_id = ",
        );
        created_version
            .bind(project_id)
            .push(" AND c.id = ")
            .bind(id.as_str())
            .push(")");
        statements.push(prompt_entry(
            db.dialect(),
            project_id,
            &prompt.name,
            by,
            "labels_set",
            serde_json::json!({ "versionId": id, "labels": prompt.labels }),
            Some(created_version),
        ));
    }
    let created = db.modify(statements).await;
    if let Err(error) = created {
        // A concurrent create of the other type that committed first makes the insert
        // refuse this one inside the transaction; say why.
        check_type(db, project_id, prompt).await?;
        return Err(error);
    }
    let mut sql = Sql::new(
        db.dialect(),
        "SELECT version AS value FROM prompts WHERE project_id = ",
    );
    sql.bind(project_id).push(" AND id = ").bind(id.as_str());
    let version = db
        .select::<Single<i64>>(sql)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::internal(format!(
                "prompt {:?}: created version not found",
                prompt.name
            ))
        })?
        .0;
    get_raw(
        db,
        project_id,
        &prompt.name,
        &PromptSelector::Version(version),
    )
    .await?
    .ok_or_else(|| {
        Error::internal(format!(
            "prompt {:?}: created version not found",
            prompt.name
        ))
    })
}

/// Appends the conditions of a list query on versions `p`.
fn push_list_filters(sql: &mut Sql, project_id: &str, query: &PromptQuery) {
    sql.push(" p.project_id = ").bind(project_id);
    if let Some(name) = &query.name {
        sql.push(" AND p.name = ").bind(name.as_str());
    }
    if let Some(search) = query.search.as_deref().filter(|search| !search.is_empty()) {
        sql.push(" AND ")
            .like("p.name", format!("%{}%", like_escape(search)), false);
    }
    if let Some(version) = query.version {
        sql.push(" AND p.version = ").bind(version);
    }
    if let Some(label) = &query.label {
        sql.push(
            " AND EXISTS (SELECT 1 FROM prompt_labels fl WHERE fl.project_id = p.project_id \
             AND fl.name = p.name AND fl.version = p.version AND fl.label = ",
        )
        .bind(label.as_str())
        .push(")");
    }
    if let Some(tag) = &query.tag {
        sql.push(
            " AND EXISTS (SELECT 1 FROM prompt_tags ft WHERE ft.project_id = p.project_id \
             AND ft.name = p.name AND ft.tag = ",
        )
        .bind(tag.as_str())
        .push(")");
    }
    if let Some(from) = query.from_updated_at {
        sql.push(" AND p.updated_at >= ").bind(from);
    }
    if let Some(to) = query.to_updated_at {
        sql.push(" AND p.updated_at < ").bind(to);
    }
}

async fn list(
    db: &impl Executor,
    project_id: &str,
    query: &PromptQuery,
) -> Result<Page<PromptMeta>> {
    let dialect = db.dialect();
    let limit = query.limit.max(1);
    let offset = i64::from(query.page.max(1) - 1) * i64::from(limit);
    let mut names = Sql::new(dialect, "SELECT p.name AS value FROM prompts p WHERE");
    push_list_filters(&mut names, project_id, query);
    names
        .push(" GROUP BY p.name ORDER BY p.name LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let mut count = Sql::new(
        dialect,
        "SELECT count(DISTINCT p.name) AS value FROM prompts p WHERE",
    );
    push_list_filters(&mut count, project_id, query);
    let (names, total_items) = rows_and_count::<Single<String>>(db, names, count).await?;
    let names: Vec<String> = names.into_iter().map(|single| single.0).collect();
    let mut page = Page::counted(Vec::new(), query.page.max(1), limit, total_items);
    if names.is_empty() {
        return Ok(page);
    }

    let mut versions = Sql::new(
        dialect,
        "SELECT p.name AS name, p.version AS version, p.prompt_type AS prompt_type, \
         p.config AS config, p.updated_at AS updated_at FROM prompts p WHERE",
    );
    push_list_filters(&mut versions, project_id, query);
    versions
        .push(" AND ")
        .in_list("p.name", names.clone(), false)
        .push(" ORDER BY p.name, p.version");
    let mut marks = Sql::new(
        dialect,
        "SELECT 'label' AS kind, l.name AS name, l.version AS version, l.label AS value \
         FROM prompt_labels l WHERE l.project_id = ",
    );
    marks
        .bind(project_id)
        .push(" AND ")
        .in_list("l.name", names.clone(), false)
        .push(
            " UNION ALL SELECT 'tag' AS kind, t.name AS name, NULL AS version, t.tag AS value \
             FROM prompt_tags t WHERE t.project_id = ",
        )
        .bind(project_id)
        .push(" AND ")
        .in_list("t.name", names.clone(), false);
    let (versions, marks): (Vec<ListedVersion>, Vec<Mark>) =
        db.select_pair(versions, marks).await?;

    let mut labels_of: HashMap<(String, i64), Vec<String>> = HashMap::new();
    let mut tags_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for mark in marks {
        match (mark.kind.as_str(), mark.version) {
            ("label", Some(version)) => labels_of
                .entry((mark.name, version))
                .or_default()
                .push(mark.value),
            _ => {
                tags_of.entry(mark.name).or_default().insert(mark.value);
            }
        }
    }
    let mut by_name: BTreeMap<String, PromptMeta> = BTreeMap::new();
    for listed in versions {
        let prompt_type = PromptType::parse(&listed.prompt_type).unwrap_or(PromptType::Text);
        let labels = labels_of
            .remove(&(listed.name.clone(), listed.version))
            .unwrap_or_default();
        let meta = by_name
            .entry(listed.name.clone())
            .or_insert_with(|| PromptMeta {
                name: listed.name.clone(),
                prompt_type,
                versions: Vec::new(),
                labels: Vec::new(),
                tags: tags_of
                    .get(&listed.name)
                    .map(|tags| tags.iter().cloned().collect())
                    .unwrap_or_default(),
                last_updated_at: listed.updated_at,
                last_config: listed.config.clone(),
            });
        // Rows come by ascending version: the last one seen is the newest.
        meta.versions.push(listed.version);
        meta.labels.extend(labels);
        meta.last_updated_at = meta.last_updated_at.max(listed.updated_at);
        meta.last_config = listed.config;
        meta.prompt_type = prompt_type;
    }
    page.items = by_name
        .into_values()
        .map(|mut meta| {
            meta.labels.sort();
            meta.labels.dedup();
            meta
        })
        .collect();
    Ok(page)
}

async fn delete(
    db: &impl Executor,
    project_id: &str,
    name: &str,
    selector: Option<&PromptSelector>,
    by: &Actor,
) -> Result<u64> {
    let dialect = db.dialect();
    let mut held = Sql::new(
        dialect,
        "SELECT p.version AS version, l.label AS label FROM prompts p \
         LEFT JOIN prompt_labels l ON l.project_id = p.project_id AND l.name = p.name \
         AND l.version = p.version WHERE p.project_id = ",
    );
    held.bind(project_id).push(" AND p.name = ").bind(name);
    let (held, dependents): (Vec<VersionLabel>, Vec<Dependent>) = db
        .select_pair(held, dependents_of(dialect, project_id, name))
        .await?;

    let all: BTreeSet<i64> = held.iter().map(|row| row.version).collect();
    let deleted: BTreeSet<i64> = match selector {
        None => all.clone(),
        Some(PromptSelector::Version(version)) => {
            all.iter().copied().filter(|v| v == version).collect()
        }
        Some(PromptSelector::Label(label)) => held
            .iter()
            .filter(|row| row.label.as_deref() == Some(label.as_str()))
            .map(|row| row.version)
            .collect(),
    };
    if deleted.is_empty() {
        return Ok(0);
    }
    let remains = all.len() > deleted.len();
    let label_survives = |label: &str| {
        (label == LATEST_LABEL && remains)
            || held
                .iter()
                .any(|row| row.label.as_deref() == Some(label) && !deleted.contains(&row.version))
    };
    let broken: Vec<String> = dependents
        .iter()
        .filter(
            |dependent| match (&dependent.child_version, &dependent.child_label) {
                (Some(version), _) => deleted.contains(version),
                (None, Some(label)) => !label_survives(label),
                (None, None) => false,
            },
        )
        .map(|dependent| dependent.describe(name))
        .collect();
    refuse_broken(
        broken,
        "prompt",
        "the versions to delete",
        "delete or change them first",
    )?;

    let now = now_micros();
    let versions: Vec<i64> = deleted.iter().copied().collect();
    let exists = |sql: &mut Sql| {
        sql.push("EXISTS (SELECT 1 FROM prompts e WHERE e.project_id = ")
            .bind(project_id)
            .push(" AND e.name = ")
            .bind(name)
            .push(")");
    };
    let mut statements = Vec::new();
    // The head first: its lock orders this delete with concurrent creates of the name.
    let mut head = Sql::new(dialect, "UPDATE prompt_heads SET updated_at = ");
    head.bind(now)
        .push(" WHERE project_id = ")
        .bind(project_id)
        .push(" AND name = ")
        .bind(name);
    statements.push(head);
    // Before the deletes: written only when some of the versions are still there.
    let mut still_there = Sql::new(
        dialect,
        "EXISTS (SELECT 1 FROM prompts d WHERE d.project_id = ",
    );
    still_there
        .bind(project_id)
        .push(" AND d.name = ")
        .bind(name)
        .push(" AND ")
        .in_list("d.version", versions.clone(), false)
        .push(")");
    statements.push(prompt_entry(
        dialect,
        project_id,
        name,
        by,
        "deleted",
        serde_json::json!({ "versions": versions, "allVersions": !remains }),
        Some(still_there),
    ));
    for table in ["prompts", "prompt_labels", "prompt_dependencies"] {
        let mut sql = Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
        sql.bind(project_id)
            .push(" AND name = ")
            .bind(name)
            .push(" AND ")
            .in_list("version", versions.clone(), false);
        statements.push(sql);
    }
    statements.push(move_label(
        dialect,
        project_id,
        name,
        LATEST_LABEL,
        LabelTarget::Newest,
    ));
    let mut renumber = Sql::new(
        dialect,
        "UPDATE prompt_heads SET last_version = (SELECT max(m.version) FROM prompts m WHERE m.project_id = ",
    );
    renumber
        .bind(project_id)
        .push(" AND m.name = ")
        .bind(name)
        .push(") WHERE project_id = ")
        .bind(project_id)
        .push(" AND name = ")
        .bind(name)
        .push(" AND ");
    exists(&mut renumber);
    statements.push(renumber);
    for table in ["prompt_tags", "prompt_heads"] {
        let mut sql = Sql::new(dialect, &format!("DELETE FROM {table} WHERE project_id = "));
        sql.bind(project_id)
            .push(" AND name = ")
            .bind(name)
            .push(" AND NOT ");
        exists(&mut sql);
        statements.push(sql);
    }
    let changed = db.modify(statements).await?;
    Ok(changed.get(2).copied().unwrap_or(0))
}

#[async_trait]
impl<E: Executor> Prompts for E {
    async fn create_prompt(
        &self,
        project_id: &str,
        prompt: &NewPrompt,
        created_by: &str,
        by: &Actor,
    ) -> Result<PromptVersion> {
        create(self, project_id, prompt, created_by, by).await
    }

    async fn get_prompt(
        &self,
        project_id: &str,
        name: &str,
        selector: &PromptSelector,
        resolve_references: bool,
    ) -> Result<Option<ResolvedPrompt>> {
        let Some(version) = get_raw(self, project_id, name, selector).await? else {
            return Ok(None);
        };
        if !resolve_references {
            return Ok(Some(ResolvedPrompt {
                version,
                graph: None,
            }));
        }
        resolve(self, version).await.map(Some)
    }

    async fn list_prompts(
        &self,
        project_id: &str,
        query: &PromptQuery,
    ) -> Result<Page<PromptMeta>> {
        list(self, project_id, query).await
    }

    async fn add_prompt_labels(
        &self,
        project_id: &str,
        name: &str,
        version: i64,
        labels: &[String],
        by: &Actor,
    ) -> Result<Option<PromptVersion>> {
        let selector = PromptSelector::Version(version);
        if get_raw(self, project_id, name, &selector).await?.is_none() {
            return Ok(None);
        }
        let dialect = self.dialect();
        let now = now_micros();
        let mut statements = vec![touch_holders(
            dialect,
            project_id,
            name,
            labels,
            Some(version),
            now,
        )];
        for label in labels {
            statements.push(move_label(
                dialect,
                project_id,
                name,
                label,
                LabelTarget::Version(version),
            ));
        }
        if !labels.is_empty() {
            let mut version_exists = Sql::new(
                dialect,
                "EXISTS (SELECT 1 FROM prompts v WHERE v.project_id = ",
            );
            version_exists
                .bind(project_id)
                .push(" AND v.name = ")
                .bind(name)
                .push(" AND v.version = ")
                .bind(version)
                .push(")");
            statements.push(prompt_entry(
                dialect,
                project_id,
                name,
                by,
                "labels_set",
                serde_json::json!({ "version": version, "labels": labels }),
                Some(version_exists),
            ));
        }
        self.modify(statements).await?;
        get_raw(self, project_id, name, &selector).await
    }

    async fn delete_prompt(
        &self,
        project_id: &str,
        name: &str,
        selector: Option<&PromptSelector>,
        by: &Actor,
    ) -> Result<u64> {
        delete(self, project_id, name, selector, by).await
    }

    async fn remove_prompt_label(
        &self,
        project_id: &str,
        name: &str,
        version: i64,
        label: &str,
        by: &Actor,
    ) -> Result<Option<PromptVersion>> {
        if label == LATEST_LABEL {
            return Err(Error::invalid(
                "label",
                "\"latest\" always marks the newest version and cannot be removed",
            ));
        }
        let selector = PromptSelector::Version(version);
        let Some(current) = get_raw(self, project_id, name, &selector).await? else {
            return Ok(None);
        };
        if !current.labels.iter().any(|held| held == label) {
            return Ok(Some(current));
        }
        let dialect = self.dialect();
        let dependents: Vec<Dependent> = self
            .select(dependents_of(dialect, project_id, name))
            .await?;
        let broken: Vec<String> = dependents
            .iter()
            .filter(|dependent| {
                dependent.child_version.is_none() && dependent.child_label.as_deref() == Some(label)
            })
            .map(|dependent| dependent.describe(name))
            .collect();
        refuse_broken(broken, "label", "the label to remove", "change them first")?;
        let labels = [label.to_owned()];
        let mut statements = vec![touch_holders(
            dialect,
            project_id,
            name,
            &labels,
            Some(version),
            now_micros(),
        )];
        // Before the delete: written only when the version still holds the label.
        statements.push(prompt_entry(
            dialect,
            project_id,
            name,
            by,
            "label_removed",
            serde_json::json!({ "version": version, "label": label }),
            Some(holds_label(dialect, project_id, name, version, label)),
        ));
        let mut remove = Sql::new(dialect, "DELETE FROM prompt_labels WHERE project_id = ");
        remove
            .bind(project_id)
            .push(" AND name = ")
            .bind(name)
            .push(" AND label = ")
            .bind(label)
            .push(" AND version = ")
            .bind(version);
        statements.push(remove);
        self.modify(statements).await?;
        get_raw(self, project_id, name, &selector).await
    }

    fn written_by_other_processes(&self) -> bool {
        self.dialect() == Dialect::Postgres
    }

    /// The per-version metrics of prompt `name`: the totals, each version's percentiles, and the
    /// score averages, in ascending versions with scores by name.
    async fn prompt_metrics(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Vec<PromptVersionMetrics>> {
        let dialect = self.dialect();
        let seconds = |micros: Option<i64>| micros.map(|micros| micros as f64 / 1_000_000.0);
        let totals = version_totals(self, project_id, name).await?;
        let mut versions: BTreeMap<i64, PromptVersionMetrics> = BTreeMap::new();
        for row in totals {
            let mut entry = PromptVersionMetrics {
                version: row.version,
                generations: row.generations.max(0) as u64,
                input_tokens: row.input_tokens.unwrap_or(0),
                output_tokens: row.output_tokens.unwrap_or(0),
                total_tokens: row.total_tokens.unwrap_or(0),
                total_cost: row.total_cost.unwrap_or(0.0),
                first_used: row.first_used,
                last_used: row.last_used,
                ..PromptVersionMetrics::default()
            };
            if row.timed > 0 {
                let percentiles: Vec<LatencyPercentilesRow> = self
                    .select(latency_percentiles_statement(
                        dialect,
                        project_id,
                        name,
                        row.version,
                        row.timed,
                    ))
                    .await?;
                if let Some(percentiles) = percentiles.into_iter().next() {
                    entry.latency_p50 = seconds(percentiles.p50);
                    entry.latency_p90 = seconds(percentiles.p90);
                    entry.latency_p99 = seconds(percentiles.p99);
                }
            }
            versions.insert(row.version, entry);
        }
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        let scores: Vec<VersionScoreRow> = self
            .select(prompt_scores_statement(dialect, project_id, name))
            .await?;
        for row in scores {
            if let Some(entry) = versions.get_mut(&row.version) {
                entry.scores.push(ScoreAverage {
                    name: row.score_name,
                    average: row.score_average.unwrap_or(0.0),
                    count: row.count.max(0) as u64,
                });
            }
        }
        let mut metrics: Vec<PromptVersionMetrics> = versions.into_values().collect();
        for entry in &mut metrics {
            entry.scores.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(metrics)
    }

    async fn prompt_ids(
        &self,
        project_id: &str,
        versions: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), String>> {
        if versions.is_empty() {
            return Ok(HashMap::new());
        }
        let names: Vec<String> = versions
            .iter()
            .map(|(name, _)| name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let numbers: Vec<i64> = versions
            .iter()
            .map(|(_, version)| *version)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut sql = Sql::new(
            self.dialect(),
            "SELECT name, version, id FROM prompts WHERE project_id = ",
        );
        sql.bind(project_id)
            .push(" AND ")
            .in_list("name", names, false)
            .push(" AND ")
            .in_list("version", numbers, false);
        let rows: Vec<VersionId> = self.select(sql).await?;
        let wanted: BTreeSet<&(String, i64)> = versions.iter().collect();
        Ok(rows
            .into_iter()
            .filter(|row| wanted.contains(&(row.name.clone(), row.version)))
            .map(|row| ((row.name, row.version), row.id))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_reached_from_the_nearer_end() {
        // Ranks ceil(n × p / 100), from 1: the offset from the smaller end, or from the larger.
        assert_eq!(nearest_rank_step(1, 50), ("ASC", 0));
        assert_eq!(nearest_rank_step(1, 99), ("ASC", 0));
        assert_eq!(nearest_rank_step(3, 50), ("ASC", 1));
        assert_eq!(nearest_rank_step(3, 90), ("DESC", 0));
        assert_eq!(nearest_rank_step(4, 50), ("ASC", 1));
        assert_eq!(nearest_rank_step(10, 90), ("DESC", 1));
        assert_eq!(nearest_rank_step(1000, 99), ("DESC", 10));
        assert_eq!(nearest_rank_step(98_000, 50), ("ASC", 48_999));
        assert_eq!(nearest_rank_step(98_000, 99), ("DESC", 980));
    }

    #[test]
    fn labels_move_by_upsert_on_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let sql = move_label(dialect, "p", "n", "production", LabelTarget::Version(3));
            let text = sql.finish_text();
            assert!(
                text.ends_with("ON CONFLICT (project_id, name, label) DO UPDATE SET version = excluded.version"),
                "{text}"
            );
        }
    }
}
