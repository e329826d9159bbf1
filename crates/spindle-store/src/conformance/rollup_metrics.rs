//! Conformance of the metrics answered from the rollups: over random rows and random plans
//! (ranges that start and end inside an hour, filters, groupings, time buckets, orders and
//! limits), the rollups answer what the raw rows answer: the same rows, the same counts and
//! sums (costs within a nano-USD per observation, a sum of none or zeros NULL or 0), and
//! percentiles within the rollups' relative error; for the observations, the scores and the
//! traces (their names, environments, releases, error counts and latencies). (An empty text
//! reads as none from the rollups, so the rows here have none.) Observations have every level
//! or none (read as `DEFAULT`), and boolean scores carry a label as text, so `booleanValue`,
//! `(value <> 0)`, is the value's and not the text's.

use std::collections::BTreeMap;
use std::sync::Arc;

use spindle_core::{Level, ObservationType, ScoreDataType, ScoreSource, WriteBatch};

use super::fixtures::*;
use super::Harness;
use crate::metrics::{
    Aggregation, Granularity, MetricSelection, MetricsOrder, MetricsRequest, MetricsRow,
    MetricsValue, MetricsVersion, MetricsView, Sources, PERCENTILE_RELATIVE_ERROR,
};
use crate::{Direction, Filter, FilterValue, Store};

const P: &str = "project-rollup-metrics";
const HOUR: i64 = 3600 * SECOND;
/// The span of the seeded rows: four days from `BASE`.
const SPAN: i64 = 4 * DAY;

fn pick_option(rng: &mut Rng, items: &[&str], none_percent: u64) -> Option<String> {
    (!rng.chance(none_percent)).then(|| rng.pick(items).to_owned())
}

/// Random traces of `project` over four days from `BASE` (observations of every type and
/// level, environments `default` and `staging` or none, models `m-alpha`, `m-beta`,
/// `m-gamma` or none; numeric, boolean and categorical scores), then a deletion (rollup rows
/// back at 0).
pub async fn seed_rolled_up_rows(store: &Arc<dyn Store>, project: &str, rng: &mut Rng) {
    for batch_index in 0..6 {
        let mut batch = WriteBatch::default();
        for trace_index in 0..40 {
            let trace_id = format!("t{batch_index}-{trace_index}");
            let at = BASE + rng.below(SPAN as u64) as i64;
            let (name, environment, release) = (
                pick_option(rng, &["chat", "embed"], 10),
                pick_option(rng, &["default", "staging"], 20),
                pick_option(rng, &["r1", "r2"], 40),
            );
            let user_id = pick_option(rng, &["u1", "u2"], 25);
            batch.traces.push(trace(&trace_id, create_stamp(at), |t| {
                t.timestamp = Some(at);
                // Tags without a draw (the plans' draws stay as they were).
                t.tags = match trace_index % 3 {
                    0 => ["a".to_owned()].into(),
                    1 => ["a".to_owned(), "b".to_owned()].into(),
                    _ => Default::default(),
                };
                // Metadata without a draw too: JSON strings, a number, none.
                let metadata: &[(&str, &str)] = match trace_index % 4 {
                    0 => &[("tenant", "\"acme\"")],
                    1 => &[("tenant", "\"globex\""), ("tier", "2")],
                    2 => &[("tenant", "\"acme\""), ("tier", "\"gold\"")],
                    _ => &[],
                };
                t.metadata = metadata
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                    .collect();
                t.user_id = user_id;
                t.name = name;
                t.environment = environment;
                t.release = release;
            }));
            for index in 0..1 + rng.below(5) {
                let start = at + rng.below(3 * HOUR as u64) as i64;
                let end = rng
                    .chance(85)
                    .then(|| start + rng.below(20 * SECOND as u64) as i64);
                let usage = rng.chance(60).then(|| {
                    BTreeMap::from([
                        ("input".to_owned(), rng.below(3) as i64 * 100),
                        ("output".to_owned(), rng.below(400) as i64),
                    ])
                });
                // Whole micro-dollars, some zero: sums exact in nano-USD.
                let cost = rng.chance(50).then(|| rng.below(5000) as f64 / 1e6);
                let observation_type = [
                    ObservationType::Generation,
                    ObservationType::Span,
                    ObservationType::Event,
                ][rng.below(3) as usize];
                let (environment, name, model) = (
                    pick_option(rng, &["default", "staging"], 20),
                    pick_option(rng, &["plan", "answer", "search"], 15),
                    pick_option(rng, &["m-alpha", "m-beta", "m-gamma"], 30),
                );
                let prompt = rng.chance(30).then(|| {
                    (
                        rng.pick(&["greet", "sum"]).to_owned(),
                        rng.below(3) as i64 + 1,
                    )
                });
                // Often no level (read as DEFAULT), else any, errors among them.
                let level = rng
                    .chance(60)
                    .then(|| Level::ALL[rng.below(Level::ALL.len() as u64) as usize]);
                let id = format!("{trace_id}-o{index}");
                batch
                    .observations
                    .push(observation(&id, create_stamp(at), |o| {
                        o.trace_id = Some(trace_id.clone());
                        o.start_time = Some(start);
                        o.end_time = end;
                        o.environment = environment;
                        o.observation_type = Some(observation_type);
                        o.name = name;
                        o.model = model;
                        o.level = level;
                        o.usage_details = usage;
                        o.cost_details = cost.map(|c| BTreeMap::from([("total".to_owned(), c)]));
                        if let Some((prompt_name, version)) = prompt {
                            o.prompt_name = Some(prompt_name);
                            o.prompt_version = Some(version);
                        }
                    }));
            }
            for index in 0..rng.below(3) {
                let data_type = [
                    ScoreDataType::Numeric,
                    ScoreDataType::Categorical,
                    ScoreDataType::Boolean,
                ][rng.below(3) as usize];
                let timestamp = at + rng.below(2 * HOUR as u64) as i64;
                let (environment, name, label) = (
                    pick_option(rng, &["default", "staging"], 20),
                    rng.pick(&["quality", "safety"]).to_owned(),
                    rng.pick(&["good", "bad", "meh"]).to_owned(),
                );
                let source = [ScoreSource::Api, ScoreSource::Annotation][rng.below(2) as usize];
                // A boolean's text (a label here) is not its value: `booleanValue` is the value's.
                let value = match data_type {
                    ScoreDataType::Boolean => (!rng.chance(10)).then(|| rng.below(2) as f64),
                    _ => Some(rng.below(100) as f64 / 8.0),
                };
                let id = format!("{trace_id}-s{index}");
                batch.scores.push(score(&id, create_stamp(at), |s| {
                    s.trace_id = Some(trace_id.clone());
                    s.timestamp = Some(timestamp);
                    s.environment = environment;
                    s.name = Some(name);
                    s.source = Some(source);
                    s.data_type = Some(data_type);
                    s.value = value;
                    if data_type != ScoreDataType::Numeric {
                        s.string_value = Some(label);
                    }
                }));
            }
        }
        store.write(project, batch).await.expect("write");
    }
    let doomed: Vec<String> = (0..10).map(|index| format!("t0-{index}")).collect();
    store.delete_traces(project, &doomed).await.expect("delete");
}

fn text_filter(column: &str, rng: &mut Rng, values: &[&str]) -> Filter {
    let (operator, value) = match rng.below(4) {
        0 => ("=", FilterValue::String(rng.pick(values).to_owned())),
        1 => ("!=", FilterValue::String(rng.pick(values).to_owned())),
        2 => (
            "any of",
            FilterValue::Strings(vec![
                rng.pick(values).to_owned(),
                rng.pick(values).to_owned(),
            ]),
        ),
        _ => ("is null", FilterValue::Null),
    };
    Filter::new(column, operator, value)
}

/// A random plan of the rows the rollups hold.
fn random_request(rng: &mut Rng) -> MetricsRequest {
    let view = [
        MetricsView::Observations,
        MetricsView::Observations,
        MetricsView::Traces,
        MetricsView::Traces,
        MetricsView::ScoresNumeric,
        MetricsView::ScoresBoolean,
        MetricsView::ScoresCategorical,
    ][rng.below(7) as usize];
    let (dimension_choices, metric_choices): (&[&str], &[(&str, Aggregation)]) = match view {
        MetricsView::Traces => (
            &["name", "environment", "release"],
            &[
                ("count", Aggregation::Count),
                ("count", Aggregation::Sum),
                ("observationsCount", Aggregation::Sum),
                ("errorCount", Aggregation::Sum),
                ("totalTokens", Aggregation::Sum),
                ("totalCost", Aggregation::Sum),
                ("latency", Aggregation::P50),
                ("latency", Aggregation::P95),
                ("latency", Aggregation::P99),
            ],
        ),
        MetricsView::Observations => (
            &[
                "environment",
                "type",
                "name",
                "providedModelName",
                "promptName",
                "promptVersion",
                "level",
            ],
            &[
                ("count", Aggregation::Count),
                ("count", Aggregation::Sum),
                ("inputTokens", Aggregation::Sum),
                ("outputTokens", Aggregation::Sum),
                ("totalTokens", Aggregation::Sum),
                ("totalCost", Aggregation::Sum),
                ("latency", Aggregation::P50),
                ("latency", Aggregation::P90),
                ("latency", Aggregation::P95),
                ("latency", Aggregation::P99),
            ],
        ),
        MetricsView::ScoresCategorical => (
            &["environment", "name", "source", "dataType", "stringValue"],
            &[("count", Aggregation::Count)],
        ),
        MetricsView::ScoresBoolean => (
            &["environment", "name", "source", "booleanValue"],
            &[
                ("count", Aggregation::Count),
                ("value", Aggregation::Avg),
                ("value", Aggregation::Count),
            ],
        ),
        _ => (
            &["environment", "name", "source", "dataType"],
            &[
                ("count", Aggregation::Count),
                ("value", Aggregation::Avg),
                ("value", Aggregation::Sum),
                ("value", Aggregation::Count),
            ],
        ),
    };
    let mut dimensions: Vec<String> = Vec::new();
    for _ in 0..rng.below(3) {
        let dimension = rng.pick(dimension_choices).to_owned();
        if !dimensions.contains(&dimension) {
            dimensions.push(dimension);
        }
    }
    let mut metrics: Vec<MetricSelection> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let (measure, aggregation) =
            metric_choices[rng.below(metric_choices.len() as u64) as usize];
        if !metrics
            .iter()
            .any(|m| m.measure == measure && m.aggregation == aggregation)
        {
            metrics.push(MetricSelection {
                measure: measure.to_owned(),
                aggregation,
            });
        }
    }
    let mut filters = Vec::new();
    for _ in 0..rng.below(3) {
        filters.push(match (view, rng.below(5)) {
            (MetricsView::Observations, 0) => text_filter("type", rng, &["GENERATION", "SPAN"]),
            (MetricsView::Observations, 3) => {
                text_filter("level", rng, &["ERROR", "DEFAULT", "WARNING"])
            }
            (MetricsView::ScoresBoolean, 3) => Filter::new(
                "booleanValue",
                rng.pick(&["=", "!="]),
                FilterValue::Boolean(rng.chance(50)),
            ),
            (MetricsView::Observations, 1) => {
                text_filter("providedModelName", rng, &["m-alpha", "m-beta"])
            }
            (MetricsView::Observations, 2) => Filter::new(
                "promptVersion",
                rng.pick(&[">", "=", "!="]),
                FilterValue::Number(rng.below(3) as f64 + 1.0),
            ),
            (MetricsView::Traces, 0) => text_filter("name", rng, &["chat", "embed"]),
            (MetricsView::Traces, 1) => text_filter("release", rng, &["r1", "r2"]),
            (MetricsView::Observations | MetricsView::Traces, _) => {
                text_filter("environment", rng, &["default", "staging"])
            }
            (_, 0) => text_filter("name", rng, &["quality", "safety"]),
            (_, 1) => text_filter("source", rng, &["API", "ANNOTATION"]),
            _ => text_filter("environment", rng, &["default", "staging"]),
        });
    }
    // Ranges that start and end inside an hour, now and then on one.
    let mut from = BASE - HOUR + rng.below((SPAN / 2) as u64) as i64;
    if rng.chance(20) {
        from -= from.rem_euclid(HOUR);
    }
    let mut to = from + 2 * HOUR + rng.below((SPAN / 2) as u64) as i64;
    if rng.chance(20) {
        to -= to.rem_euclid(HOUR) + 1;
    }
    let granularity = [
        None,
        None,
        Some(Granularity::Hour),
        Some(Granularity::Day),
        Some(Granularity::Week),
        Some(Granularity::Month),
    ][rng.below(6) as usize];
    // Orders by counts and keys only: a cost or percentile may tie differently.
    let mut order_by = Vec::new();
    if rng.chance(40) {
        if let Some(count) = metrics
            .iter()
            .find(|m| m.measure == "count" && m.aggregation == Aggregation::Count)
        {
            order_by.push(MetricsOrder {
                field: format!("count_{}", count.measure),
                direction: Direction::Desc,
            });
        }
    }
    // Without one, rows are ordered by the first metric: by the keys instead.
    if order_by.is_empty() && granularity.is_none() {
        if let Some(first) = dimensions.first() {
            order_by.push(MetricsOrder {
                field: first.clone(),
                direction: Direction::Asc,
            });
        }
    }
    MetricsRequest {
        version: MetricsVersion::V1,
        view,
        dimensions,
        metrics,
        filters,
        granularity,
        from,
        to,
        order_by,
        bins: None,
        row_limit: rng.chance(30).then(|| 1 + rng.below(8) as u32),
    }
}

/// Whether a rolled-up value is the raw rows' (see the module's documentation).
fn agrees(name: &str, rolled: &MetricsValue, raw: &MetricsValue) -> bool {
    use MetricsValue::{Float, Integer, Null};
    let percentile = ["p50_", "p75_", "p90_", "p95_", "p99_"]
        .iter()
        .any(|prefix| name.starts_with(prefix));
    match (rolled, raw) {
        (Float(a), Float(b)) if percentile => {
            (a - b).abs() <= b.abs() * PERCENTILE_RELATIVE_ERROR + 1e-9
        }
        (Float(a), Float(b)) => (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
        (Null, Integer(0)) | (Integer(0), Null) => name.starts_with("sum_"),
        (Null, Float(b)) | (Float(b), Null) => name.starts_with("sum_") && *b == 0.0,
        _ => rolled == raw,
    }
}

/// Panics naming `what` unless the rows the rollups answered are the raw rows' within the
/// bounds of the module's documentation (for other suites that compare the two sources).
pub fn assert_rolled_up_rows_agree(rolled: &[MetricsRow], raw: &[MetricsRow], what: &str) {
    assert_eq!(rolled.len(), raw.len(), "{what}: rows\n{rolled:?}\n{raw:?}");
    for (rolled_row, raw_row) in rolled.iter().zip(raw) {
        let names = |row: &MetricsRow| row.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(rolled_row), names(raw_row), "{what}");
        for ((name, a), (_, b)) in rolled_row.iter().zip(raw_row) {
            assert!(
                agrees(name, a, b),
                "{what}: {name} is {a:?} from the rollups, {b:?} from the raw rows\n\
                 {rolled_row:?}\n{raw_row:?}"
            );
        }
    }
}

/// A tag or metadata filter of the traces view that the index tables answer (some match
/// nothing), or one they do not.
fn index_filter(rng: &mut Rng, indexed: bool) -> Filter {
    let filter = |column: &str, operator: &str, value: FilterValue, key: Option<&str>| Filter {
        column: column.to_owned(),
        operator: operator.to_owned(),
        value,
        key: key.map(str::to_owned),
    };
    let text = |value: &str| FilterValue::String(value.to_owned());
    if !indexed {
        return match rng.below(3) {
            0 => filter("metadata", "!=", text("acme"), Some("tenant")),
            1 => filter("metadata", "=", text(""), Some("tier")),
            _ => filter(
                "tags",
                "none of",
                FilterValue::Strings(vec!["b".into()]),
                None,
            ),
        };
    }
    match rng.below(7) {
        0 => filter("metadata", "=", text("acme"), Some("tenant")),
        1 => filter("metadata", "=", text("\"globex\""), Some("tenant")),
        2 => filter("metadata", "=", text("gold"), Some("tier")),
        3 => filter("metadata", "=", text("2"), Some("tier")),
        4 => filter("metadata", "=", text("nobody"), Some("tenant")),
        5 => filter(
            "tags",
            "any of",
            FilterValue::Strings(vec!["b".into()]),
            None,
        ),
        _ => filter(
            "tags",
            "all of",
            FilterValue::Strings(vec!["a".into(), "b".into()]),
            None,
        ),
    }
}

/// Traces plans the rollups cannot answer (a user filter other than one user, a user or
/// session dimension, tag and metadata filters the index tables answer) but the
/// `trace_totals` rows can: answered from them, they equal the raw rows' answers. One user
/// (`userId = …`) is the trace attribute rollups' (the same). Tag and metadata filters the
/// index tables do not answer leave the plan to the raw rows.
pub async fn trace_metrics_from_totals_equal_the_raw_rows(harness: &Harness) {
    let (store, mut rng) = seeded(harness, P, 11).await;
    let mut nonempty = 0;
    let mut indexed = 0;
    let mut counted_from_index = 0;
    for index in 0..90 {
        let mut request = random_request(&mut rng);
        if request.view != MetricsView::Traces {
            continue;
        }
        // Some plans only count traces by time: with index filters, the index rows alone.
        let counted = rng.chance(30);
        if counted {
            request.dimensions.clear();
            request.filters.clear();
            request.order_by.clear();
            request.metrics = vec![MetricSelection {
                measure: "count".to_owned(),
                aggregation: Aggregation::Count,
            }];
            request.granularity =
                [None, Some(Granularity::Hour), Some(Granularity::Day)][rng.below(3) as usize];
        } else if rng.chance(50) {
            request
                .filters
                .push(text_filter("userId", &mut rng, &["u1", "u2"]));
        } else {
            request
                .dimensions
                .push(rng.pick(&["userId", "sessionId"]).to_owned());
        }
        let index_filters = rng.below(3);
        for _ in 0..index_filters {
            request.filters.push(index_filter(&mut rng, true));
        }
        let plan = crate::metrics::plan(&request).expect("plan");
        let on_totals = crate::metrics::on_trace_totals(&plan);
        assert!(on_totals.is_some(), "plan {index}: the totals rows hold it");
        let narrowed = on_totals.is_some_and(|totals| !totals.terms.is_empty());
        indexed += usize::from(narrowed);
        counted_from_index += usize::from(narrowed && counted);
        let mut unindexed = plan.clone();
        unindexed.filters.push(index_filter(&mut rng, false));
        assert!(
            crate::metrics::on_trace_totals(&unindexed).is_none(),
            "plan {index}: {:?} is not the index tables'",
            unindexed.filters.last()
        );
        let what = format!("plan {index}: {request:?}");
        let one_user = request
            .filters
            .iter()
            .any(|filter| filter.column == "userId" && filter.operator == "=");
        let rolled = store
            .query_metrics_from(P, &request, Sources::Rollups)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        if index_filters == 0 && !counted {
            assert_eq!(
                rolled.is_some(),
                one_user,
                "{what}: the rollups hold one user's traces, no other plan of users"
            );
        }
        let (_, raw) =
            assert_answered_as_the_raw_rows(&store, P, &request, Sources::Any, &what).await;
        nonempty += usize::from(!raw.is_empty());
    }
    assert!(nonempty > 5, "{nonempty} plans with rows");
    assert!(indexed > 5, "{indexed} plans narrowed by the index tables");
    assert!(
        counted_from_index > 2,
        "{counted_from_index} counts from the index rows alone"
    );
}

/// Observation and score plans filtered on one attribute of their traces (user, trace name,
/// release, one tag), and traces plans filtered on one user or tag, are answered by the
/// attribute rollups and agree with the raw rows; two such filters, or another operator, are
/// declined.
pub async fn metrics_by_trace_attribute_equal_the_raw_rows(harness: &Harness) {
    let (store, mut rng) = seeded(harness, P, 13).await;
    let attribute = |rng: &mut Rng, traces: bool| -> Filter {
        let choice = match traces {
            // A user or a tag.
            true => [0, 3, 4][rng.below(3) as usize],
            false => rng.below(5),
        };
        let (column, operator, value) = match choice {
            0 => (
                "userId",
                "=",
                FilterValue::String(rng.pick(&["u1", "u2"]).to_owned()),
            ),
            1 => (
                "traceName",
                "=",
                FilterValue::String(rng.pick(&["chat", "embed"]).to_owned()),
            ),
            2 => (
                "traceRelease",
                "=",
                FilterValue::String(rng.pick(&["r1", "r2"]).to_owned()),
            ),
            3 => (
                "tags",
                "any of",
                FilterValue::Strings(vec![rng.pick(&["a", "b"]).to_owned()]),
            ),
            _ => (
                "tags",
                "all of",
                FilterValue::Strings(vec![rng.pick(&["a", "b"]).to_owned()]),
            ),
        };
        Filter::new(column, operator, value)
    };
    let mut answered = 0;
    let mut with_rows = 0;
    let mut trace_plans = 0;
    let mut score_plans = 0;
    while answered < 160 {
        let mut request = random_request(&mut rng);
        let traces = request.view == MetricsView::Traces;
        let observations = request.view == MetricsView::Observations;
        // What the attribute rollups do not key: the observations' names and prompts.
        let keyed =
            |name: &str| !observations || !matches!(name, "name" | "promptName" | "promptVersion");
        request.dimensions.retain(|dimension| keyed(dimension));
        request.filters.retain(|filter| keyed(&filter.column));
        request.order_by.retain(|order| keyed(&order.field));
        let at = rng.below(request.filters.len() as u64 + 1) as usize;
        request.filters.insert(at, attribute(&mut rng, traces));
        // The attribute rollups hold the generations' latencies only.
        let latency = request.metrics.iter().any(|m| m.measure == "latency");
        if observations && latency {
            request.filters.retain(|filter| filter.column != "type");
            request.filters.push(Filter::new(
                "type",
                "any of",
                FilterValue::Strings(vec!["GENERATION".to_owned()]),
            ));
        }
        let what = format!("plan {answered}: {request:?}");
        let raw = assert_rollups_answer(&store, P, &request, &what).await;
        answered += 1;
        trace_plans += usize::from(traces);
        score_plans += usize::from(!traces && !observations);
        // Some value of a metric that is not none or zero.
        with_rows += usize::from(raw.iter().flat_map(|row| row.iter()).any(|(name, value)| {
            request.metrics.iter().any(|m| name.ends_with(&m.measure))
                && !matches!(
                    value,
                    MetricsValue::Null
                        | MetricsValue::Count(0)
                        | MetricsValue::Integer(0)
                        | MetricsValue::Float(0.0)
                )
        }));
    }
    assert!(
        with_rows > 60 && trace_plans > 20 && score_plans > 40,
        "{with_rows} plans with rows, {trace_plans} of traces, {score_plans} of scores"
    );

    // Two attributes, an attribute that is not equal to one value, or the latency of other
    // observations than generations: declined.
    let request = |filters: Vec<Filter>| MetricsRequest {
        version: MetricsVersion::V1,
        view: MetricsView::Observations,
        dimensions: vec!["providedModelName".to_owned()],
        metrics: vec![
            MetricSelection {
                measure: "count".to_owned(),
                aggregation: Aggregation::Count,
            },
            MetricSelection {
                measure: "latency".to_owned(),
                aggregation: Aggregation::P50,
            },
        ],
        filters,
        granularity: None,
        from: BASE,
        to: BASE + SPAN,
        order_by: Vec::new(),
        bins: None,
        row_limit: None,
    };
    let equal = |column: &str, operator: &str, value: &str| {
        Filter::new(column, operator, FilterValue::String(value.to_owned()))
    };
    for filters in [
        vec![equal("userId", "=", "u1"), equal("traceName", "=", "chat")],
        vec![equal("userId", "=", "u1"), equal("type", "=", "SPAN")],
        vec![equal("userId", "!=", "u1")],
        vec![equal("userId", "=", "")],
        vec![Filter {
            value: FilterValue::Strings(vec!["a".to_owned(), "b".to_owned()]),
            ..equal("tags", "any of", "")
        }],
    ] {
        let request = request(filters);
        let declined = store
            .query_metrics_from(P, &request, Sources::Rollups)
            .await
            .expect("query");
        assert!(declined.is_none(), "{request:?}");
        let what = format!("{request:?}");
        assert_answered_as_the_raw_rows(&store, P, &request, Sources::Any, &what).await;
    }
}

/// Random plans answered by the rollups and by the raw rows agree.
pub async fn metrics_from_rollups_equal_the_raw_rows(harness: &Harness) {
    let (store, mut rng) = seeded(harness, P, 7).await;
    let mut answered = 0;
    let mut edges_with_rows = 0;
    let mut traces_with_errors = 0;
    for index in 0..200 {
        let request = random_request(&mut rng);
        let what = format!("plan {index}: {request:?}");
        let raw = assert_rollups_answer(&store, P, &request, &what).await;
        answered += 1;
        let counted = |rows: &[MetricsRow]| {
            rows.iter()
                .flat_map(|row| row.iter())
                .any(|(name, value)| name == "count_count" && *value != MetricsValue::Count(0))
        };
        if request.from % HOUR != 0 && counted(&raw) {
            edges_with_rows += 1;
        }
        let errors = raw.iter().flat_map(|row| row.iter()).any(|(name, value)| {
            name == "sum_errorCount"
                && !matches!(value, MetricsValue::Integer(0) | MetricsValue::Null)
        });
        traces_with_errors += usize::from(errors);
    }
    assert!(
        answered == 200 && edges_with_rows > 20 && traces_with_errors > 5,
        "{edges_with_rows} {traces_with_errors}"
    );

    // The whole seeded span, every hour: the rollups hold the rows that are left.
    let everything = MetricsRequest {
        version: MetricsVersion::V1,
        view: MetricsView::Observations,
        dimensions: vec!["type".to_owned()],
        metrics: vec![MetricSelection {
            measure: "count".to_owned(),
            aggregation: Aggregation::Count,
        }],
        filters: Vec::new(),
        granularity: Some(Granularity::Hour),
        from: BASE - DAY,
        to: BASE + 2 * SPAN,
        order_by: Vec::new(),
        bins: None,
        row_limit: None,
    };
    assert_rollups_answer(&store, P, &everything, "everything").await;
    // The traces by name over the whole span: what the dashboard asks.
    let metric = |measure: &str, aggregation| MetricSelection {
        measure: measure.to_owned(),
        aggregation,
    };
    let traces_by_name = MetricsRequest {
        view: MetricsView::Traces,
        dimensions: vec!["name".to_owned()],
        metrics: vec![
            metric("count", Aggregation::Count),
            metric("errorCount", Aggregation::Sum),
            metric("latency", Aggregation::P50),
            metric("latency", Aggregation::P99),
        ],
        granularity: None,
        order_by: vec![MetricsOrder {
            field: "name".to_owned(),
            direction: Direction::Asc,
        }],
        ..everything.clone()
    };
    let raw = assert_rollups_answer(&store, P, &traces_by_name, "traces by name").await;
    assert_eq!(raw.len(), 3, "chat, embed and none: {raw:?}");

    // Every level and every boolean value (none among them) is rolled up and read back.
    let by = |view: MetricsView, dimension: &str| MetricsRequest {
        view,
        dimensions: vec![dimension.to_owned()],
        granularity: None,
        order_by: vec![MetricsOrder {
            field: dimension.to_owned(),
            direction: Direction::Asc,
        }],
        ..everything.clone()
    };
    for (request, keys) in [
        (
            by(MetricsView::Observations, "level"),
            ["DEBUG", "DEFAULT", "ERROR", "WARNING"]
                .map(|level| MetricsValue::Text(level.to_owned()))
                .to_vec(),
        ),
        (
            by(MetricsView::ScoresBoolean, "booleanValue"),
            vec![
                MetricsValue::Null,
                MetricsValue::Boolean(false),
                MetricsValue::Boolean(true),
            ],
        ),
    ] {
        let what = format!("{request:?}");
        let (rolled, _) =
            assert_answered_as_the_raw_rows(&store, P, &request, Sources::Rollups, &what).await;
        let read: Vec<MetricsValue> = rolled.iter().map(|row| row[0].1.clone()).collect();
        assert_eq!(read, keys, "{what}");
    }

    // Plans they do not cover are declined: a trace dimension of the observations, a trace's
    // user, a measure of the traces' own rows, a minute bucket, a range without a whole hour.
    let declined = [
        MetricsRequest {
            dimensions: vec!["traceName".to_owned()],
            ..everything.clone()
        },
        MetricsRequest {
            view: MetricsView::Traces,
            dimensions: vec!["userId".to_owned()],
            ..everything.clone()
        },
        MetricsRequest {
            view: MetricsView::Traces,
            dimensions: Vec::new(),
            metrics: vec![MetricSelection {
                measure: "scoresCount".to_owned(),
                aggregation: Aggregation::Sum,
            }],
            ..everything.clone()
        },
        MetricsRequest {
            view: MetricsView::Traces,
            dimensions: Vec::new(),
            metrics: vec![MetricSelection {
                measure: "latency".to_owned(),
                aggregation: Aggregation::Avg,
            }],
            ..everything.clone()
        },
        MetricsRequest {
            granularity: Some(Granularity::Minute),
            from: BASE,
            to: BASE + 3 * HOUR,
            ..everything.clone()
        },
        MetricsRequest {
            from: BASE + HOUR / 2,
            to: BASE + HOUR + HOUR / 2,
            ..everything.clone()
        },
    ];
    for request in declined {
        let rows = store
            .query_metrics_from(P, &request, Sources::Rollups)
            .await
            .expect("rollups");
        assert!(rows.is_none(), "{request:?}");
    }
}

/// A store of `harness` with `project` created and [`seed_rolled_up_rows`] written to it by
/// a generator from `seed`; the store and the generator, for the plans of a case.
async fn seeded(harness: &Harness, project: &str, seed: u64) -> (Arc<dyn Store>, Rng) {
    let store = harness.open().await;
    create_project(&store, project).await;
    let mut rng = Rng::new(seed);
    seed_rolled_up_rows(&store, project, &mut rng).await;
    (store, rng)
}

/// Asserts that the rollups answer `request` (not declined) as the raw rows do; returns the
/// raw rows' answer.
async fn assert_rollups_answer(
    store: &Arc<dyn Store>,
    project: &str,
    request: &MetricsRequest,
    what: &str,
) -> Vec<MetricsRow> {
    assert_answered_as_the_raw_rows(store, project, request, Sources::Rollups, what)
        .await
        .1
}

/// Asserts that `sources` answer `request` (not declined) as the raw rows do; returns both
/// answers, the one of `sources` first.
async fn assert_answered_as_the_raw_rows(
    store: &Arc<dyn Store>,
    project: &str,
    request: &MetricsRequest,
    sources: Sources,
    what: &str,
) -> (Vec<MetricsRow>, Vec<MetricsRow>) {
    let answered = store
        .query_metrics_from(project, request, sources)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
        .unwrap_or_else(|| panic!("{what}: declined"));
    let raw = store
        .query_metrics_from(project, request, Sources::RawRows)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
        .expect("the raw rows answer every plan");
    assert_rolled_up_rows_agree(&answered, &raw, what);
    (answered, raw)
}

/// A metadata filter of the traces view.
fn metadata_filter(key: &str, value: &str) -> Filter {
    Filter {
        column: "metadata".to_owned(),
        operator: "=".to_owned(),
        value: FilterValue::String(value.to_owned()),
        key: Some(key.to_owned()),
    }
}

/// Runs the project's sweep of its rolled-up metadata to its end, `between` called after
/// each step; returns the steps.
async fn sweep_to_the_end<F, Fut>(store: &Arc<dyn Store>, project: &str, mut between: F) -> usize
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut steps = 0;
    while store
        .sweep_metadata_rollups(project, 7)
        .await
        .expect("sweep")
        .is_some()
    {
        steps += 1;
        between(steps).await;
        assert!(steps < 1000, "the sweep does not end");
    }
    steps
}

/// Traces plans filtered on a rolled-up metadata key read the trace attribute rollups once
/// the key's sweep is done, and answer what the raw rows answer; the rollups equal a rebuild
/// after the keys change and the sweep runs while writes change the traces' metadata.
pub async fn metrics_by_rolled_metadata_equal_the_raw_rows(harness: &Harness) {
    const M: &str = "project-metadata-rollups";
    let (store, mut rng) = seeded(harness, M, 29).await;
    super::assert_rollups_match(&store, M, "seeded").await;
    let by_tenant = |value: &str| MetricsRequest {
        version: MetricsVersion::V1,
        view: MetricsView::Traces,
        dimensions: vec!["name".to_owned()],
        metrics: vec![
            MetricSelection {
                measure: "count".to_owned(),
                aggregation: Aggregation::Count,
            },
            MetricSelection {
                measure: "latency".to_owned(),
                aggregation: Aggregation::P95,
            },
        ],
        filters: vec![metadata_filter("tenant", value)],
        granularity: None,
        from: BASE + HOUR / 3,
        to: BASE + SPAN,
        order_by: Vec::new(),
        bins: None,
        row_limit: None,
    };
    let declines = |request: MetricsRequest| {
        let store = store.clone();
        async move {
            let rows = store
                .query_metrics_from(M, &request, Sources::Rollups)
                .await
                .expect("query");
            assert!(rows.is_none(), "{request:?}");
        }
    };
    // Not rolled up: declined.
    declines(by_tenant("acme")).await;

    let keys = |list: &[&str]| list.iter().map(|key| (*key).to_owned()).collect::<Vec<_>>();
    let listed = store
        .set_rolled_metadata_keys(M, &keys(&["tenant", "tier", "tenant"]), BASE)
        .await
        .expect("set keys");
    let names: Vec<(&str, bool)> = listed.iter().map(|k| (k.key.as_str(), k.ready)).collect();
    assert_eq!(names, [("tenant", false), ("tier", false)]);
    assert_eq!(store.metadata_sweeps().await.expect("sweeps"), [M]);
    // Listed but not swept yet: still declined.
    declines(by_tenant("acme")).await;

    // The sweep, while writes move traces between tenants, add traces and delete some.
    let steps = sweep_to_the_end(&store, M, |step| {
        let store = store.clone();
        async move {
            if step % 3 != 0 {
                return;
            }
            let at = BASE + step as i64 * HOUR;
            let mut batch = WriteBatch::default();
            for (index, tenant) in ["\"globex\"", "\"acme\"", "\"initech\""].iter().enumerate() {
                let id = format!("t{}-{}", (step + index) % 6, (step * 7 + index) % 40);
                batch.traces.push(trace(&id, update_stamp(at), |t| {
                    t.metadata = [("tenant".to_owned(), (*tenant).to_owned())].into();
                }));
            }
            let new_id = format!("s{step}");
            batch.traces.push(trace(&new_id, create_stamp(at), |t| {
                t.timestamp = Some(at);
                t.name = Some("chat".to_owned());
                t.metadata = [("tenant".to_owned(), "\"acme\"".to_owned())].into();
            }));
            batch
                .observations
                .push(observation(&format!("{new_id}-o"), create_stamp(at), |o| {
                    o.trace_id = Some(new_id.clone());
                    o.start_time = Some(at + SECOND);
                    o.end_time = Some(at + 3 * SECOND);
                }));
            store.write(M, batch).await.expect("write");
            let doomed = format!("t{}-{}", step % 6, 39 - step % 30);
            store.delete_traces(M, &[doomed]).await.expect("delete");
        }
    })
    .await;
    assert!(steps > 20, "{steps} steps");
    assert!(store.metadata_sweeps().await.expect("sweeps").is_empty());
    let listed = store.rolled_metadata_keys(M).await.expect("keys");
    assert!(listed.iter().all(|key| key.ready), "{listed:?}");
    let stored = super::assert_rollups_match(&store, M, "swept").await;
    assert!(
        stored
            .trace_attributes
            .keys()
            .any(|key| key.kind == "metadata" && key.value == r#"["tier","gold"]"#),
        "the tier is rolled up"
    );

    // Random traces plans with a metadata filter: the rollups answer what the raw rows do.
    let mut answered = 0;
    while answered < 60 {
        let mut request = random_request(&mut rng);
        if request.view != MetricsView::Traces {
            continue;
        }
        let pairs = [
            ("tenant", "acme"),
            ("tenant", "globex"),
            ("tenant", "initech"),
            ("tier", "gold"),
            ("tier", "nobody"),
        ];
        let (key, value) = pairs[rng.below(pairs.len() as u64) as usize];
        let at = rng.below(request.filters.len() as u64 + 1) as usize;
        request.filters.insert(at, metadata_filter(key, value));
        let what = format!("plan {answered}: {request:?}");
        assert_rollups_answer(&store, M, &request, &what).await;
        answered += 1;
    }
    let acme = store
        .query_metrics_from(M, &by_tenant("acme"), Sources::Rollups)
        .await
        .expect("query")
        .expect("answered");
    assert!(!acme.is_empty(), "acme has traces");

    // A quoted value, a key not rolled up, a second attribute: declined.
    declines(by_tenant("\"acme\"")).await;
    declines(MetricsRequest {
        filters: vec![metadata_filter("region", "eu")],
        ..by_tenant("acme")
    })
    .await;
    declines(MetricsRequest {
        filters: vec![
            metadata_filter("tenant", "acme"),
            Filter::new("userId", "=", FilterValue::String("u1".to_owned())),
        ],
        ..by_tenant("acme")
    })
    .await;

    // The tier dropped: its plans declined at once, the tenant's still answered; after the
    // sweep the rollups hold no tier and still equal a rebuild.
    let listed = store
        .set_rolled_metadata_keys(M, &keys(&["tenant"]), BASE + DAY)
        .await
        .expect("set keys");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].ready, "the tenant stays ready");
    declines(MetricsRequest {
        filters: vec![metadata_filter("tier", "gold")],
        ..by_tenant("acme")
    })
    .await;
    assert!(store
        .query_metrics_from(M, &by_tenant("acme"), Sources::Rollups)
        .await
        .expect("query")
        .is_some());
    sweep_to_the_end(&store, M, |_| async {}).await;
    let stored = super::assert_rollups_match(&store, M, "tier dropped").await;
    assert!(
        !stored
            .trace_attributes
            .keys()
            .any(|key| key.value.starts_with(r#"["tier""#)),
        "no tier left"
    );
    // An invalid list is refused with the field named.
    let error = store
        .set_rolled_metadata_keys(M, &keys(&["tenant", ""]), BASE)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("keys[1]"), "{error}");
}
