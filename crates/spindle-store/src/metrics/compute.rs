//! A plan answered from the raw rows: one grouped statement for the aggregates SQL has, and
//! for each metric SQL cannot aggregate (histograms; percentiles on SQLite) a statement of
//! its values, streamed one row at a time into per-group state.
//!
//! Memory is bounded in bytes, not by the rows read: a histogram holds its bin counts per
//! group (at most [`MAX_BINS`](super::MAX_BINS) × 8 bytes), and the values held for
//! percentiles computed in Rust number at most [`MAX_HELD_VALUES`] per query (8 MiB of
//! `f64`), beyond which the query is refused with a message asking for a narrower range or
//! more filters. Only the values of the groups answered are held. When such a percentile
//! orders the rows, the groups are sorted in memory, at most
//! [`MAX_GROUPS_SORTED_IN_MEMORY`] of them.

use std::collections::HashMap;

use spindle_core::time::{format_iso, Micros};

use super::{
    compile_query_filter, Aggregation, Granularity, MetricsRow, MetricsValue, OrderKey, Plan,
    TIME_DIMENSION,
};
use crate::reading::ReadConnection;
use crate::rollups::bucket_millis;
use crate::sql::reads::{driver_source, term_probe};
use crate::sql::{Dialect, RowAccess, Sql};
use crate::trace_index::IndexedTerm;
use crate::{Direction, Error, Result};

use super::views::DimensionKind;

/// Values held at most per query for percentiles computed in Rust (8 MiB of `f64`).
pub const MAX_HELD_VALUES: usize = 1 << 20;
/// Groups at most when rows are ordered by a metric computed in Rust.
pub const MAX_GROUPS_SORTED_IN_MEMORY: usize = 10_000;

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// 1970-01-01 was a Thursday: three days after a Monday.
const MONDAY_OFFSET: i64 = 3 * DAY;

/// Whether `aggregation` is computed in Rust on `dialect` rather than in SQL.
fn in_rust(dialect: Dialect, aggregation: Aggregation) -> bool {
    aggregation == Aggregation::Histogram
        || (dialect == Dialect::Sqlite && aggregation.quantile().is_some())
}

/// The start of the bucket holding the microsecond column `column`, in microseconds.
fn bucket_sql(dialect: Dialect, granularity: Granularity, column: &str) -> String {
    let fixed = |width: i64| format!("({column} - ({column} % {width}))");
    match granularity {
        Granularity::Minute => fixed(MINUTE),
        Granularity::Hour => fixed(HOUR),
        Granularity::Day | Granularity::Auto => fixed(DAY),
        Granularity::Week => format!("({column} - (({column} + {MONDAY_OFFSET}) % {WEEK}))"),
        Granularity::Month => match dialect {
            Dialect::Sqlite => format!(
                "(CAST(strftime('%s', {column} / 1000000, 'unixepoch', 'start of month') \
                 AS INTEGER) * 1000000)"
            ),
            Dialect::Postgres => format!(
                "(extract(epoch from date_trunc('month', \
                 to_timestamp({column} / 1000000.0) AT TIME ZONE 'UTC')) * 1000000)::int8"
            ),
        },
    }
}

/// The start of the bucket holding `at` (what [`bucket_sql`] computes).
fn bucket_of(granularity: Granularity, at: Micros) -> Micros {
    match granularity {
        Granularity::Minute => at - at.rem_euclid(MINUTE),
        Granularity::Hour => at - at.rem_euclid(HOUR),
        Granularity::Day | Granularity::Auto => at - at.rem_euclid(DAY),
        Granularity::Week => at - (at + MONDAY_OFFSET).rem_euclid(WEEK),
        Granularity::Month => {
            let (year, month, _) = civil_from_days(at.div_euclid(DAY));
            days_from_civil(year, month, 1) * DAY
        }
    }
}

/// The bucket after the one starting at `start`.
fn next_bucket(granularity: Granularity, start: Micros) -> Micros {
    match granularity {
        Granularity::Minute => start + MINUTE,
        Granularity::Hour => start + HOUR,
        Granularity::Day | Granularity::Auto => start + DAY,
        Granularity::Week => start + WEEK,
        Granularity::Month => {
            let (year, month, _) = civil_from_days(start.div_euclid(DAY));
            let (year, month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            days_from_civil(year, month, 1) * DAY
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A bucket start as Langfuse answers it: a date for days, weeks and months, a datetime
/// for minutes and hours.
fn format_bucket(granularity: Granularity, start: Micros) -> String {
    let iso = format_iso(start);
    match granularity {
        Granularity::Minute | Granularity::Hour => iso,
        _ => iso.get(..10).map(str::to_owned).unwrap_or(iso),
    }
}

/// The dimension expression as text, the form every dimension is grouped and read in.
fn as_text(dialect: Dialect, expr: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("CAST({expr} AS TEXT)"),
        Dialect::Postgres => format!("({expr})::text"),
    }
}

/// The condition every statement of the plan shares: project, range, segment, filters.
fn conditions(dialect: Dialect, project_id: &str, plan: &Plan) -> Result<Sql> {
    let view = plan.view;
    let time = view.time_column;
    let mut sql = Sql::new(dialect, &format!("{} = ", view.project_column));
    sql.bind(project_id)
        .push(&format!(" AND {time} >= "))
        .bind(plan.from)
        .push(&format!(" AND {time} <= "))
        .bind(plan.to);
    if let Some(segment) = view.segment {
        sql.push(&format!(" AND {segment}"));
    }
    for (index, filter) in plan.filters.iter().enumerate() {
        let condition = compile_query_filter(dialect, view, plan.version, index, filter)?;
        sql.and(condition);
    }
    Ok(sql)
}

/// The `SELECT` list of the group keys: the time bucket and the dimensions as text.
fn key_columns(dialect: Dialect, plan: &Plan, input: &Input) -> Vec<String> {
    let mut columns = Vec::new();
    if let Some(granularity) = plan.granularity {
        columns.push(format!(
            "{} AS {TIME_DIMENSION}",
            bucket_sql(dialect, granularity, &input.time_column)
        ));
    }
    for (index, expr) in input.dimensions.iter().enumerate() {
        columns.push(format!("{} AS d{index}", as_text(dialect, expr)));
    }
    columns
}

/// The names the key columns are grouped by.
fn key_names(plan: &Plan) -> Vec<String> {
    let mut names = Vec::new();
    if plan.granularity.is_some() {
        names.push(TIME_DIMENSION.to_owned());
    }
    names.extend((0..plan.dimensions.len()).map(|index| format!("d{index}")));
    names
}

/// How the statements of a plan compute one of its metrics.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum MetricInput {
    /// In SQL, by this aggregate over the rows (a `float8` on PostgreSQL).
    Aggregate(String),
    /// In Rust, from the values `value` of the rows of `rows` (`FROM … WHERE …`, the values
    /// that are NULL left out); the grouped statement reads their count, minimum and maximum.
    Values { value: String, rows: Sql },
    /// In Rust, from weighted values: the rows of `rows` (`FROM …`) have the plan's key
    /// columns, a value `v` or a latency bucket `b` (its value [`bucket_millis`]), and a
    /// weight `w`. Only percentiles are computed this way.
    Weighted { rows: Sql },
}

impl MetricInput {
    fn in_rust(&self) -> bool {
        !matches!(self, MetricInput::Aggregate(_))
    }
}

/// Where the statements of a plan read their rows: the raw rows of its view
/// ([`raw_input`]), or a source that stands for them exactly (rollups).
#[derive(Debug, Clone)]
pub(super) struct Input {
    /// `FROM … WHERE …` of the grouped statement: the rows of the plan, every condition
    /// applied.
    pub rows: Sql,
    /// The time column (microseconds) of those rows, bucketed by the plan's granularity.
    pub time_column: String,
    /// Per dimension of the plan, its expression over those rows.
    pub dimensions: Vec<String>,
    /// Per metric of the plan.
    pub metrics: Vec<MetricInput>,
}

/// The raw rows of the plan's view.
pub(super) fn raw_input(dialect: Dialect, project_id: &str, plan: &Plan) -> Result<Input> {
    let mut rows = Sql::new(dialect, &format!("FROM {} WHERE ", plan.view.from));
    rows.append(&conditions(dialect, project_id, plan)?);
    Ok(input_of(dialect, plan, rows))
}

/// The rows of a traces plan on `trace_totals` ([`super::views::TRACE_TOTALS`], aliased `t`)
/// whose traces also match every one of `terms` (tags and metadata values the index tables
/// answer, the plan's filters without them): the first term's index rows in the range, each
/// joined to its trace's totals row, the other terms probed; with a filter on one user or
/// session, that one's totals rows probing every term. `terms` empty: [`raw_input`].
pub(super) fn indexed_input(
    dialect: Dialect,
    project_id: &str,
    plan: &Plan,
    terms: &[IndexedTerm],
) -> Result<Input> {
    let Some((driver, others)) = terms.split_first() else {
        return raw_input(dialect, project_id, plan);
    };
    // One user's or one session's traces are fewer than a tag's or a metadata value's, and
    // indexed: read them, and probe every term.
    if plan.filters.iter().any(names_one_user_or_session) {
        let mut rows = Sql::new(dialect, &format!("FROM {} WHERE ", plan.view.from));
        rows.append(&conditions(dialect, project_id, plan)?);
        for term in terms {
            // The range's traces have a timestamp: their index rows' sort key is it.
            rows.and(term_probe(
                dialect,
                project_id,
                term,
                "t.trace_id",
                "t.timestamp",
            ));
        }
        return Ok(input_of(dialect, plan, rows));
    }
    let (source, driver_conditions) = driver_source(dialect, project_id, driver);
    // A count of the traces by time alone needs nothing of their totals rows: the index rows
    // (one per trace and term, in the trace's time) are counted.
    let index_alone = plan.dimensions.is_empty()
        && plan.filters.is_empty()
        && plan
            .metrics
            .iter()
            .all(|metric| metric.measure.name == "count");
    // The driver's index rows of the range.
    let mut driven = driver_conditions;
    driven
        .push(" AND d.ts >= ")
        .bind(plan.from)
        .push(" AND d.ts <= ")
        .bind(plan.to)
        .push(" AND d.ts > ")
        .bind(crate::sql::reads::NULL_TIMESTAMP_KEY);
    for term in others {
        driven.and(term_probe(dialect, project_id, term, "d.trace_id", "d.ts"));
    }
    let rows = match (index_alone, dialect) {
        (true, _) => {
            let mut rows = Sql::new(dialect, &format!("FROM {source} WHERE "));
            rows.append(&driven);
            rows
        }
        // Each index row joined to its totals row by primary key, in this order. SQLite
        // looks them up in the order of the trace ids (sorted first: the lookups then walk
        // the primary key's pages in order, about half the time of looking them up in the
        // order of time); PostgreSQL plans the join itself.
        (false, Dialect::Sqlite) => {
            let mut rows = Sql::new(
                dialect,
                &format!("FROM (SELECT d.project_id, d.trace_id, d.ts FROM {source} WHERE "),
            );
            rows.append(&driven).push(&format!(
                " ORDER BY d.trace_id) d CROSS JOIN {} WHERE \
                 t.project_id = d.project_id AND t.trace_id = d.trace_id AND ",
                plan.view.from
            ));
            rows.append(&conditions(dialect, project_id, plan)?);
            rows
        }
        (false, Dialect::Postgres) => {
            let mut rows = Sql::new(
                dialect,
                &format!("FROM {source} CROSS JOIN {} WHERE ", plan.view.from),
            );
            rows.append(&driven)
                .push(" AND t.project_id = d.project_id AND t.trace_id = d.trace_id AND ")
                .append(&conditions(dialect, project_id, plan)?);
            rows
        }
    };
    let mut input = input_of(dialect, plan, rows);
    if index_alone {
        "d.ts".clone_into(&mut input.time_column);
    }
    Ok(input)
}

/// Whether `filter` keeps the traces of one user or one session (`userId = …`,
/// `sessionId = …`), which `trace_totals` indexes.
fn names_one_user_or_session(filter: &crate::Filter) -> bool {
    matches!(filter.column.as_str(), "userId" | "sessionId")
        && filter.operator.trim() == "="
        && matches!(filter.value, crate::FilterValue::String(_))
}

/// The input of `plan` from `rows` (`FROM … WHERE …`, every condition applied).
fn input_of(dialect: Dialect, plan: &Plan, rows: Sql) -> Input {
    let metrics = plan
        .metrics
        .iter()
        .map(|metric| {
            let value = metric.measure.sql(dialect);
            if in_rust(dialect, metric.aggregation) {
                let mut values = rows.clone();
                values.push(&format!(" AND {value} IS NOT NULL"));
                return MetricInput::Values {
                    value,
                    rows: values,
                };
            }
            MetricInput::Aggregate(match (metric.aggregation, dialect) {
                (Aggregation::Sum, _) => format!("sum({value})"),
                (Aggregation::Avg, _) => format!("avg({value})"),
                (Aggregation::Count, Dialect::Sqlite) => format!("count({value})"),
                (Aggregation::Count, Dialect::Postgres) => format!("count({value})::float8"),
                (Aggregation::Max, _) => format!("max({value})"),
                (Aggregation::Min, _) => format!("min({value})"),
                (percentile, _) => {
                    let fraction = percentile.quantile().unwrap_or(0.5);
                    format!("percentile_cont({fraction}) WITHIN GROUP (ORDER BY {value})")
                }
            })
        })
        .collect();
    Input {
        rows,
        time_column: plan.view.time_column.to_owned(),
        dimensions: plan
            .dimensions
            .iter()
            .map(|dimension| dimension.expr.of(dialect).to_owned())
            .collect(),
        metrics,
    }
}

/// The aggregate column(s) of metric `index`: `m{index}` when SQL aggregates it, the count,
/// minimum and maximum of its values (`n`, `lo`, `hi`) when Rust computes it from them,
/// none for weighted values.
fn metric_columns(input: &Input, index: usize) -> Vec<String> {
    match &input.metrics[index] {
        MetricInput::Aggregate(aggregate) => vec![format!("{aggregate} AS m{index}")],
        MetricInput::Values { value, .. } => vec![
            format!("count({value}) AS n{index}"),
            format!("min({value}) AS lo{index}"),
            format!("max({value}) AS hi{index}"),
        ],
        MetricInput::Weighted { .. } => Vec::new(),
    }
}

/// A group as the grouped statement reads it.
struct Group {
    key: String,
    time: Option<Micros>,
    dimensions: Vec<Option<String>>,
    /// Per metric: the SQL aggregate, or for the Rust side the count, minimum and maximum.
    sql_values: Vec<Option<f64>>,
    counts: Vec<i64>,
    bounds: Vec<(f64, f64)>,
    /// Per metric computed in Rust: its result.
    rust_values: Vec<MetricsValue>,
}

/// The key a row's time bucket and dimension texts make (the same for both statements).
fn group_key(
    row: &impl RowAccess,
    plan: &Plan,
) -> Result<(String, Option<Micros>, Vec<Option<String>>)> {
    let mut key = String::new();
    let time = match plan.granularity {
        Some(_) => Some(row.int(TIME_DIMENSION)?),
        None => None,
    };
    if let Some(time) = time {
        key.push_str(&time.to_string());
    }
    let mut dimensions = Vec::with_capacity(plan.dimensions.len());
    for index in 0..plan.dimensions.len() {
        let text = row.opt_text(&format!("d{index}"))?;
        key.push('\u{0}');
        match &text {
            Some(text) => {
                key.push('\u{2}');
                key.push_str(text);
            }
            None => key.push('\u{1}'),
        }
        dimensions.push(text);
    }
    Ok((key, time, dimensions))
}

/// Answers a traces plan on `trace_totals` narrowed by index `terms` ([`indexed_input`]).
pub async fn answer_indexed(
    connection: &impl ReadConnection,
    project_id: &str,
    plan: &Plan,
    terms: &[IndexedTerm],
) -> Result<Vec<MetricsRow>> {
    let input = indexed_input(connection.dialect(), project_id, plan, terms)?;
    answer_from(connection, plan, &input).await
}

/// Answers `plan` from the raw rows.
pub async fn answer(
    connection: &impl ReadConnection,
    project_id: &str,
    plan: &Plan,
) -> Result<Vec<MetricsRow>> {
    let input = raw_input(connection.dialect(), project_id, plan)?;
    answer_from(connection, plan, &input).await
}

/// Answers `plan` from the rows of `input`: the grouped statement, the metrics computed in
/// Rust, the order, the limit and the empty time buckets.
pub(super) async fn answer_from(
    connection: &impl ReadConnection,
    plan: &Plan,
    input: &Input,
) -> Result<Vec<MetricsRow>> {
    let dialect = connection.dialect();
    let in_rust = |index: usize| input.metrics[index].in_rust();
    let rust_metrics: Vec<usize> = (0..plan.metrics.len()).filter(|i| in_rust(*i)).collect();
    let sorted_in_sql = plan.order.iter().all(|(key, _)| match key {
        OrderKey::Metric(index) => !in_rust(*index),
        _ => true,
    });

    // The grouped statement.
    let mut select = key_columns(dialect, plan, input);
    for index in 0..plan.metrics.len() {
        select.extend(metric_columns(input, index));
    }
    let keys = key_names(plan);
    if select.is_empty() {
        // Weighted metrics only, without a group key: one group of every row.
        select.push("count(*) AS rows_read".to_owned());
    }
    let mut sql = Sql::new(dialect, &format!("SELECT {} ", select.join(", ")));
    sql.append(&input.rows);
    if !keys.is_empty() {
        sql.push(&format!(" GROUP BY {}", keys.join(", ")));
    }
    let limit = if sorted_in_sql {
        let mut order: Vec<String> = plan
            .order
            .iter()
            .map(|(key, direction)| {
                let name = match key {
                    OrderKey::Time => TIME_DIMENSION.to_owned(),
                    OrderKey::Dimension(index) => format!("d{index}"),
                    OrderKey::Metric(index) => format!("m{index}"),
                };
                format!("{name} {}", dialect.order(*direction))
            })
            .collect();
        // Every group key last, so that the order (and so the limit) is deterministic.
        order.extend(
            keys.iter()
                .map(|k| format!("{k} {}", dialect.order(Direction::Asc))),
        );
        if !order.is_empty() {
            sql.push(&format!(" ORDER BY {}", order.join(", ")));
        }
        plan.row_limit as usize
    } else {
        MAX_GROUPS_SORTED_IN_MEMORY + 1
    };
    sql.push(" LIMIT ").bind(limit as i64);

    let metrics_count = plan.metrics.len();
    let mut groups = connection
        .rows(&sql, |row| {
            let (key, time, dimensions) = group_key(row, plan)?;
            let mut sql_values = vec![None; metrics_count];
            let mut counts = vec![0; metrics_count];
            let mut bounds = vec![(0.0, 0.0); metrics_count];
            for (index, metric) in input.metrics.iter().enumerate() {
                match metric {
                    MetricInput::Aggregate(_) => {
                        sql_values[index] = row.opt_float(&format!("m{index}"))?;
                    }
                    MetricInput::Values { .. } => {
                        counts[index] = row.int(&format!("n{index}"))?;
                        bounds[index] = (
                            row.opt_float(&format!("lo{index}"))?.unwrap_or(0.0),
                            row.opt_float(&format!("hi{index}"))?.unwrap_or(0.0),
                        );
                    }
                    MetricInput::Weighted { .. } => {}
                }
            }
            Ok(Group {
                key,
                time,
                dimensions,
                sql_values,
                counts,
                bounds,
                rust_values: Vec::new(),
            })
        })
        .await?;
    if !sorted_in_sql && groups.len() > MAX_GROUPS_SORTED_IN_MEMORY {
        return Err(Error::invalid(
            "query.orderBy",
            format!(
                "ordering by a percentile over more than {MAX_GROUPS_SORTED_IN_MEMORY} groups \
                 is not supported on this backend; add filters or order by another field"
            ),
        ));
    }

    // The metrics computed in Rust: one streamed statement per input, shared by the
    // percentiles of one measure (a latency's p50, p90, p95 and p99 read its rows once).
    let positions: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(at, group)| (group.key.as_str(), at))
        .collect();
    let mut results: Vec<Vec<MetricsValue>> =
        vec![vec![MetricsValue::Null; rust_metrics.len()]; groups.len()];
    let mut held = 0usize;
    for read in shared_reads(plan, input, &rust_metrics) {
        // `read` holds positions in `rust_metrics`; the first metric stands for them all.
        let index = rust_metrics[read[0]];
        let metric = &plan.metrics[index];
        let mut states: Vec<State> = groups
            .iter()
            .map(|group| {
                let counted = matches!(input.metrics[index], MetricInput::Values { .. });
                State::new(metric.aggregation, plan.bins, group, index, counted)
            })
            .collect();
        match &input.metrics[index] {
            MetricInput::Values { value, rows } => {
                if metric.aggregation != Aggregation::Histogram {
                    let wanted: usize = groups
                        .iter()
                        .map(|group| usize::try_from(group.counts[index]).unwrap_or(0))
                        .sum();
                    held += wanted;
                    if held > MAX_HELD_VALUES {
                        return Err(Error::invalid(
                            "query.fromTimestamp",
                            format!(
                                "{} needs more than {MAX_HELD_VALUES} values on this backend; \
                                 narrow the time range or add filters",
                                metric.alias
                            ),
                        ));
                    }
                }
                let mut select = key_columns(dialect, plan, input);
                select.push(format!("{value} AS v"));
                let mut values_sql = Sql::new(dialect, &format!("SELECT {} ", select.join(", ")));
                values_sql.append(rows);
                connection
                    .each_row(&values_sql, |row| {
                        let (key, _, _) = group_key(row, plan)?;
                        if let Some(&at) = positions.get(key.as_str()) {
                            states[at].add(row.float("v")?, 1);
                        }
                        Ok(())
                    })
                    .await?;
            }
            MetricInput::Weighted { rows } => {
                // Summed per group and value in SQL: the rows of a bucket over many hours
                // come back as one.
                let mut select = key_columns(dialect, plan, input);
                let weight = match dialect {
                    Dialect::Sqlite => "sum(w) AS w",
                    Dialect::Postgres => "sum(w)::int8 AS w",
                };
                select.extend(["v".to_owned(), "b".to_owned(), weight.to_owned()]);
                let mut values_sql = Sql::new(dialect, &format!("SELECT {} ", select.join(", ")));
                values_sql.append(rows);
                let mut grouped = key_names(plan);
                grouped.extend(["v".to_owned(), "b".to_owned()]);
                values_sql.push(&format!(" GROUP BY {}", grouped.join(", ")));
                connection
                    .each_row(&values_sql, |row| {
                        let (key, _, _) = group_key(row, plan)?;
                        if let Some(&at) = positions.get(key.as_str()) {
                            let value = match row.opt_int("b")? {
                                Some(bucket) => bucket_millis(bucket),
                                None => row.float("v")?,
                            };
                            states[at].add(value, row.int("w")?);
                        }
                        Ok(())
                    })
                    .await?;
            }
            MetricInput::Aggregate(_) => {}
        }
        let aggregations: Vec<Aggregation> = read
            .iter()
            .map(|&position| plan.metrics[rust_metrics[position]].aggregation)
            .collect();
        for (at, state) in states.into_iter().enumerate() {
            for (&position, value) in read.iter().zip(state.finish(&aggregations)) {
                results[at][position] = value;
            }
        }
    }
    for (group, values) in groups.iter_mut().zip(results) {
        group.rust_values = values;
    }

    if !sorted_in_sql {
        sort_groups(&mut groups, plan, input);
        groups.truncate(plan.row_limit as usize);
    }
    let mut rows: Vec<MetricsRow> = groups
        .iter()
        .map(|group| output_row(plan, input, group))
        .collect::<Result<_>>()?;
    if plan.fill_time {
        rows = fill_time(plan, &groups, rows);
    }
    Ok(rows)
}

/// The Rust-computed metrics grouped by the statement that reads their values: positions in
/// `rust_metrics`, in order. Percentiles of one input share a read; a histogram reads alone
/// (its bins are bounded per metric).
fn shared_reads(plan: &Plan, input: &Input, rust_metrics: &[usize]) -> Vec<Vec<usize>> {
    let mut reads: Vec<Vec<usize>> = Vec::new();
    for (position, &index) in rust_metrics.iter().enumerate() {
        let histogram = plan.metrics[index].aggregation == Aggregation::Histogram;
        let shared = (!histogram)
            .then(|| {
                reads.iter_mut().find(|read| {
                    let first = rust_metrics[read[0]];
                    plan.metrics[first].aggregation != Aggregation::Histogram
                        && input.metrics[first] == input.metrics[index]
                })
            })
            .flatten();
        match shared {
            Some(read) => read.push(position),
            None => reads.push(vec![position]),
        }
    }
    reads
}

/// Sorts groups by the plan's order, in memory (when a metric computed in Rust orders them),
/// with the SQL order's NULL placement and the group keys last.
fn sort_groups(groups: &mut [Group], plan: &Plan, input: &Input) {
    let in_rust = |index: usize| input.metrics[index].in_rust();
    let rust_position = |metric: usize| (0..metric).filter(|&index| in_rust(index)).count();
    let number = |group: &Group, metric: usize| -> Option<f64> {
        if in_rust(metric) {
            match group.rust_values.get(rust_position(metric)) {
                Some(MetricsValue::Float(value)) => Some(*value),
                _ => None,
            }
        } else {
            group.sql_values[metric]
        }
    };
    groups.sort_by(|a, b| {
        for (key, direction) in &plan.order {
            let ordering = match key {
                OrderKey::Time => a.time.cmp(&b.time),
                OrderKey::Dimension(index) => a.dimensions[*index].cmp(&b.dimensions[*index]),
                OrderKey::Metric(index) => {
                    // NULL first ascending, last descending (SQLite's order).
                    match (number(a, *index), number(b, *index)) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        (None, Some(_)) => std::cmp::Ordering::Less,
                        (Some(_), None) => std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    }
                }
            };
            let ordering = match direction {
                Direction::Asc => ordering,
                Direction::Desc => ordering.reverse(),
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        a.time
            .cmp(&b.time)
            .then_with(|| a.dimensions.cmp(&b.dimensions))
    });
}

/// The per-group state of a metric computed in Rust.
enum State {
    /// The values of a percentile with their weights, at most as many (by weight) as the
    /// grouped statement counted when it counted them (`limit`).
    Values {
        values: Vec<f64>,
        weighted: Vec<(f64, i64)>,
        limit: Option<usize>,
    },
    Bins {
        low: f64,
        high: f64,
        counts: Vec<u64>,
    },
}

impl State {
    /// `counted`: whether the grouped statement counted the values (all but weighted ones).
    fn new(
        aggregation: Aggregation,
        bins: u32,
        group: &Group,
        metric: usize,
        counted: bool,
    ) -> State {
        if aggregation == Aggregation::Histogram {
            let (low, high) = group.bounds[metric];
            let bins = if high > low { bins as usize } else { 1 };
            State::Bins {
                low,
                high,
                counts: vec![0; bins],
            }
        } else {
            let count = usize::try_from(group.counts[metric]).unwrap_or(0);
            State::Values {
                values: Vec::with_capacity(count),
                weighted: Vec::new(),
                limit: counted.then_some(count),
            }
        }
    }

    fn add(&mut self, value: f64, weight: i64) {
        match self {
            State::Values {
                values,
                weighted,
                limit,
            } => {
                if weight != 1 {
                    if weight > 0 {
                        weighted.push((value, weight));
                    }
                    return;
                }
                // The grouped statement counted these rows; never hold more than it did.
                if limit.is_none_or(|limit| values.len() < limit) {
                    values.push(value);
                }
            }
            State::Bins { low, high, counts } => {
                let bins = counts.len();
                let at = if *high > *low {
                    (((value - *low) / (*high - *low)) * bins as f64).floor()
                } else {
                    0.0
                };
                let at = if at.is_finite() {
                    (at.max(0.0) as usize).min(bins - 1)
                } else {
                    0
                };
                counts[at] += 1;
            }
        }
    }

    /// The value of each of `aggregations` (several percentiles of one read, or one
    /// histogram).
    fn finish(self, aggregations: &[Aggregation]) -> Vec<MetricsValue> {
        match self {
            State::Values {
                mut values,
                mut weighted,
                ..
            } => {
                if !weighted.is_empty() {
                    weighted.extend(values.drain(..).map(|value| (value, 1)));
                }
                aggregations
                    .iter()
                    .map(|aggregation| {
                        let Some(fraction) = aggregation.quantile() else {
                            return MetricsValue::Null;
                        };
                        let answer = if weighted.is_empty() {
                            percentile(&mut values, fraction)
                        } else {
                            weighted_percentile(&mut weighted, fraction)
                        };
                        match answer {
                            Some(value) => MetricsValue::Float(value),
                            None => MetricsValue::Null,
                        }
                    })
                    .collect()
            }
            State::Bins { low, high, counts } => {
                let bins = counts.len();
                let width = if bins > 0 {
                    (high - low) / bins as f64
                } else {
                    0.0
                };
                let histogram = counts
                    .into_iter()
                    .enumerate()
                    .filter(|(_, count)| *count > 0)
                    .map(|(at, count)| {
                        let lower = low + width * at as f64;
                        let upper = if at + 1 == bins { high } else { lower + width };
                        [lower, upper, count as f64]
                    })
                    .collect();
                vec![MetricsValue::Histogram(histogram)]
            }
        }
    }
}

/// The percentile `fraction` of `values` with linear interpolation between the closest
/// ranks (PostgreSQL's `percentile_cont`).
pub fn percentile(values: &mut [f64], fraction: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let position = fraction * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let low = values[below];
    let high = values[above.min(values.len() - 1)];
    Some(low + (high - low) * (position - below as f64))
}

/// [`percentile`] of values that each stand for `weight` equal values.
pub fn weighted_percentile(values: &mut [(f64, i64)], fraction: f64) -> Option<f64> {
    let total: i64 = values.iter().map(|(_, weight)| *weight).sum();
    if total <= 0 {
        return None;
    }
    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // The value of the rank (from 0) `rank`.
    let at_rank = |rank: i64| {
        let mut seen = 0;
        for (value, weight) in values.iter() {
            seen += weight;
            if rank < seen {
                return *value;
            }
        }
        values[values.len() - 1].0
    };
    let position = fraction * (total - 1) as f64;
    let below = position.floor() as i64;
    let low = at_rank(below);
    let high = at_rank((position.ceil() as i64).min(total - 1));
    Some(low + (high - low) * (position - below as f64))
}

/// The answered row of a group.
fn output_row(plan: &Plan, input: &Input, group: &Group) -> Result<MetricsRow> {
    let mut row = Vec::with_capacity(1 + plan.dimensions.len() + plan.metrics.len());
    if let (Some(granularity), Some(time)) = (plan.granularity, group.time) {
        row.push((
            TIME_DIMENSION.to_owned(),
            MetricsValue::Text(format_bucket(granularity, time)),
        ));
    }
    for (dimension, text) in plan.dimensions.iter().zip(&group.dimensions) {
        row.push((
            dimension.name.to_owned(),
            dimension_value(dimension.kind, text)?,
        ));
    }
    let mut rust_values = group.rust_values.iter();
    for (index, metric) in plan.metrics.iter().enumerate() {
        let value = if input.metrics[index].in_rust() {
            rust_values.next().cloned().unwrap_or(MetricsValue::Null)
        } else {
            metric_value(
                metric.aggregation,
                metric.measure.integer,
                group.sql_values[index],
            )
        };
        row.push((metric.alias.clone(), value));
    }
    Ok(row)
}

/// A dimension's text read back as its kind.
fn dimension_value(kind: DimensionKind, text: &Option<String>) -> Result<MetricsValue> {
    let Some(text) = text else {
        return Ok(match kind {
            DimensionKind::Tags => MetricsValue::Tags(Vec::new()),
            _ => MetricsValue::Null,
        });
    };
    let bad = || Error::internal(format!("metrics dimension read back as {text:?}"));
    Ok(match kind {
        DimensionKind::Text => MetricsValue::Text(text.clone()),
        DimensionKind::Integer => match text.parse::<f64>() {
            Ok(number) => MetricsValue::Integer(number as i64),
            Err(_) => return Err(bad()),
        },
        DimensionKind::Float => MetricsValue::Float(text.parse::<f64>().map_err(|_| bad())?),
        DimensionKind::Boolean => MetricsValue::Boolean(matches!(text.as_str(), "1" | "true")),
        DimensionKind::Tags => {
            MetricsValue::Tags(serde_json::from_str::<Vec<String>>(text).map_err(|_| bad())?)
        }
    })
}

/// An SQL aggregate as answered: counts as counts, whole-number sums and extremes as
/// integers, the rest as numbers.
fn metric_value(aggregation: Aggregation, integer: bool, value: Option<f64>) -> MetricsValue {
    let Some(value) = value else {
        return MetricsValue::Null;
    };
    match aggregation {
        Aggregation::Count => MetricsValue::Count(value as i64),
        Aggregation::Sum | Aggregation::Max | Aggregation::Min if integer => {
            MetricsValue::Integer(value.round() as i64)
        }
        _ => MetricsValue::Float(value),
    }
}

/// Adds a row for every empty time bucket from `from` to `to` (zero counts and sums,
/// NULL otherwise), in time order, up to the row limit.
fn fill_time(plan: &Plan, groups: &[Group], rows: Vec<MetricsRow>) -> Vec<MetricsRow> {
    let Some(granularity) = plan.granularity else {
        return rows;
    };
    let limit = plan.row_limit as usize;
    let mut filled = Vec::with_capacity(limit.min(rows.len() * 2 + 64));
    let mut answered = groups.iter().map(|group| group.time).zip(rows).peekable();
    let mut bucket = bucket_of(granularity, plan.from);
    let mut covered = false;
    while filled.len() < limit {
        let next_time = answered.peek().and_then(|(time, _)| *time);
        if let Some(time) = next_time {
            if time <= bucket || bucket > plan.to {
                covered |= time == bucket;
                if let Some((_, row)) = answered.next() {
                    filled.push(row);
                }
                continue;
            }
        }
        if bucket > plan.to {
            break;
        }
        if !covered {
            filled.push(empty_row(plan, granularity, bucket));
        }
        bucket = next_bucket(granularity, bucket);
        covered = false;
    }
    filled
}

/// The row of an empty time bucket.
fn empty_row(plan: &Plan, granularity: Granularity, bucket: Micros) -> MetricsRow {
    let mut row = vec![(
        TIME_DIMENSION.to_owned(),
        MetricsValue::Text(format_bucket(granularity, bucket)),
    )];
    for dimension in &plan.dimensions {
        let empty = match dimension.kind {
            DimensionKind::Tags => MetricsValue::Tags(Vec::new()),
            _ => MetricsValue::Null,
        };
        row.push((dimension.name.to_owned(), empty));
    }
    for metric in &plan.metrics {
        let value = match metric.aggregation {
            Aggregation::Count => MetricsValue::Count(0),
            Aggregation::Sum if metric.measure.integer => MetricsValue::Integer(0),
            Aggregation::Sum => MetricsValue::Float(0.0),
            Aggregation::Histogram => MetricsValue::Histogram(Vec::new()),
            _ => MetricsValue::Null,
        };
        row.push((metric.alias.clone(), value));
    }
    row
}

#[cfg(test)]
pub(super) mod calendar_tests {
    use super::*;

    /// The bucket of `at` and the one after it, as answered.
    fn check(granularity: Granularity, at: Micros, expected: &str, next: &str) {
        let bucket = bucket_of(granularity, at);
        assert_eq!(
            format_bucket(granularity, bucket),
            expected,
            "{granularity:?}"
        );
        let after = next_bucket(granularity, bucket);
        assert_eq!(
            format_bucket(granularity, after),
            next,
            "{granularity:?} next"
        );
    }

    #[test]
    fn buckets_follow_the_calendar() {
        // 2026-01-31T13:45:10Z, a Saturday.
        let at = days_from_civil(2026, 1, 31) * DAY + 13 * HOUR + 45 * MINUTE + 10_000_000;
        check(
            Granularity::Minute,
            at,
            "2026-01-31T13:45:00.000Z",
            "2026-01-31T13:46:00.000Z",
        );
        check(
            Granularity::Hour,
            at,
            "2026-01-31T13:00:00.000Z",
            "2026-01-31T14:00:00.000Z",
        );
        check(Granularity::Day, at, "2026-01-31", "2026-02-01");
        check(Granularity::Week, at, "2026-01-26", "2026-02-02");
        check(Granularity::Month, at, "2026-01-01", "2026-02-01");
        check(
            Granularity::Month,
            days_from_civil(2025, 12, 9) * DAY,
            "2025-12-01",
            "2026-01-01",
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let mut values = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&mut values, 0.5), Some(2.5));
        assert_eq!(percentile(&mut values, 0.0), Some(1.0));
        assert_eq!(percentile(&mut values, 1.0), Some(4.0));
        assert!((percentile(&mut values, 0.9).unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(percentile(&mut [], 0.5), None);
    }

    #[test]
    fn weighted_percentiles_are_those_of_the_repeated_values() {
        let weighted = [(3.0, 2), (1.0, 1), (10.0, 3), (2.0, 1)];
        let mut repeated: Vec<f64> = weighted
            .iter()
            .flat_map(|(value, weight)| std::iter::repeat_n(*value, *weight as usize))
            .collect();
        for fraction in [0.0, 0.1, 0.5, 0.75, 0.9, 0.99, 1.0] {
            assert_eq!(
                weighted_percentile(&mut weighted.clone(), fraction),
                percentile(&mut repeated, fraction),
                "{fraction}"
            );
        }
        assert_eq!(weighted_percentile(&mut [], 0.5), None);
        assert_eq!(weighted_percentile(&mut [(1.0, 0)], 0.5), None);
    }
}
