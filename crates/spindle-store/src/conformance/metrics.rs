//! Conformance cases of the metrics query (`Store::query_metrics`): counts, sums,
//! percentiles, histograms, time buckets, filters, ordering and limits over seeded rows.

use std::sync::Arc;

use spindle_core::{Level, ObservationType, ScoreDataType, WriteBatch};

use super::fixtures::{
    create_stamp, observation, score, simple_trace, trace_with_observations, BASE, DAY, SECOND,
};
use super::Harness;
use crate::metrics::{
    Aggregation, Granularity, MetricSelection, MetricsOrder, MetricsRequest, MetricsRow,
    MetricsValue, MetricsVersion, MetricsView,
};
use crate::{Direction, Filter, FilterValue, Store};

const P: &str = "project-metrics";
const HOUR: i64 = 3600 * SECOND;

/// Three traces in the range (two `chat` on day one, one `embed` on day two) and one before
/// it; five observations in the range and one before; numeric, boolean and categorical
/// scores.
async fn seed(store: &Arc<dyn Store>) {
    let mut t1 = simple_trace("t1", BASE + HOUR, "chat");
    t1.user_id = Some("u1".into());
    t1.tags.insert("a".into());
    t1.stamp_unstamped(create_stamp(BASE + HOUR));
    let mut t2 = simple_trace("t2", BASE + 2 * HOUR, "chat");
    t2.user_id = Some("u2".into());
    t2.tags.insert("b".into());
    t2.stamp_unstamped(create_stamp(BASE + 2 * HOUR));
    let t3 = simple_trace("t3", BASE + DAY + HOUR, "embed");
    let t4 = simple_trace("t4", BASE - HOUR, "chat");
    let generation = |id: &str,
                      trace: &str,
                      start: i64,
                      millis: i64,
                      model: &str,
                      usage: (i64, i64),
                      cost: f64| {
        observation(id, create_stamp(start), |o| {
            o.trace_id = Some(trace.to_owned());
            o.start_time = Some(start);
            o.end_time = Some(start + millis * 1000);
            o.observation_type = Some(ObservationType::Generation);
            o.name = Some("llm".to_owned());
            o.model = Some(model.to_owned());
            o.usage_details = Some(
                [
                    ("input".to_owned(), usage.0),
                    ("output".to_owned(), usage.1),
                    ("total".to_owned(), usage.0 + usage.1),
                ]
                .into_iter()
                .collect(),
            );
            o.cost_details = Some(
                [("input".to_owned(), cost / 4.0), ("total".to_owned(), cost)]
                    .into_iter()
                    .collect(),
            );
        })
    };
    let mut g4 = generation("g4", "t3", BASE + DAY + HOUR, 3000, "gpt", (100, 50), 4.0);
    g4.level = Some(Level::Error);
    g4.metadata.insert("team".into(), "search".into());
    g4.stamp_unstamped(create_stamp(BASE + DAY + HOUR));
    let span = observation("s1", create_stamp(BASE + 2 * HOUR), |o| {
        o.trace_id = Some("t2".to_owned());
        o.start_time = Some(BASE + 2 * HOUR);
        o.end_time = Some(BASE + 2 * HOUR + 10 * SECOND);
        o.observation_type = Some(ObservationType::Span);
        o.name = Some("work".to_owned());
    });
    let numeric = |id: &str, trace: &str, name: &str, data_type, value: f64| {
        score(id, create_stamp(BASE + 3 * HOUR), |s| {
            s.trace_id = Some(trace.to_owned());
            s.timestamp = Some(BASE + 3 * HOUR);
            s.name = Some(name.to_owned());
            s.value = Some(value);
            s.data_type = Some(data_type);
        })
    };
    let categorical = |id: &str, trace: &str, value: &str| {
        score(id, create_stamp(BASE + 3 * HOUR), |s| {
            s.trace_id = Some(trace.to_owned());
            s.timestamp = Some(BASE + 3 * HOUR);
            s.name = Some("mood".to_owned());
            s.string_value = Some(value.to_owned());
            s.data_type = Some(ScoreDataType::Categorical);
        })
    };
    let batch = WriteBatch {
        traces: vec![t1, t2, t3, t4],
        observations: vec![
            generation("g1", "t1", BASE + HOUR, 1000, "gpt", (10, 5), 1.0),
            generation("g2", "t1", BASE + HOUR, 2000, "gpt", (20, 10), 2.0),
            generation("g3", "t2", BASE + 2 * HOUR, 4000, "claude", (1, 1), 0.5),
            span,
            g4,
            generation("g5", "t4", BASE - HOUR, 500, "gpt", (7, 7), 9.0),
        ],
        scores: vec![
            numeric("sc1", "t1", "quality", ScoreDataType::Numeric, 0.2),
            numeric("sc2", "t2", "quality", ScoreDataType::Numeric, 0.8),
            numeric("sc3", "t1", "ok", ScoreDataType::Boolean, 1.0),
            categorical("sc4", "t1", "happy"),
            categorical("sc5", "t2", "sad"),
            categorical("sc6", "t3", "happy"),
        ],
        run_items: Vec::new(),
        completions: Vec::new(),
    };
    store.write(P, batch).await.expect("seed the metrics rows");
}

fn metric(measure: &str, aggregation: Aggregation) -> MetricSelection {
    MetricSelection {
        measure: measure.to_owned(),
        aggregation,
    }
}

fn order(field: &str, direction: Direction) -> MetricsOrder {
    MetricsOrder {
        field: field.to_owned(),
        direction,
    }
}

/// A v1 query of `view` over the two seeded days.
fn request(
    view: MetricsView,
    dimensions: &[&str],
    metrics: Vec<MetricSelection>,
) -> MetricsRequest {
    MetricsRequest {
        version: MetricsVersion::V1,
        view,
        dimensions: dimensions.iter().map(|d| (*d).to_owned()).collect(),
        metrics,
        filters: Vec::new(),
        granularity: None,
        from: BASE,
        to: BASE + 2 * DAY,
        order_by: Vec::new(),
        bins: None,
        row_limit: None,
    }
}

async fn run(store: &Arc<dyn Store>, request: &MetricsRequest) -> Vec<MetricsRow> {
    store
        .query_metrics(P, request)
        .await
        .unwrap_or_else(|e| panic!("query_metrics({request:?}) failed: {e:?}"))
}

/// The values of the column `name`, a row each.
fn column<'r>(rows: &'r [MetricsRow], name: &str) -> Vec<&'r MetricsValue> {
    rows.iter().map(|row| value(row, name)).collect()
}

/// The values of the columns `names`, a row each.
fn columns<'r, const N: usize>(
    rows: &'r [MetricsRow],
    names: [&str; N],
) -> Vec<[&'r MetricsValue; N]> {
    rows.iter()
        .map(|row| names.map(|name| value(row, name)))
        .collect()
}

fn value<'r>(row: &'r MetricsRow, name: &str) -> &'r MetricsValue {
    row.iter()
        .find(|(column, _)| column == name)
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no {name} in {row:?}"))
}

fn text(text: &str) -> MetricsValue {
    MetricsValue::Text(text.to_owned())
}

fn float(row: &MetricsRow, name: &str) -> f64 {
    match value(row, name) {
        MetricsValue::Float(number) => *number,
        other => panic!("{name} is {other:?}, not a number"),
    }
}

fn assert_close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

pub async fn metrics_counts_sums_and_percentiles(harness: &Harness) {
    let store = harness.open().await;
    seed(&store).await;
    let mut query = request(
        MetricsView::Observations,
        &["providedModelName"],
        vec![
            metric("count", Aggregation::Count),
            metric("totalTokens", Aggregation::Sum),
            metric("totalCost", Aggregation::Sum),
            metric("inputCost", Aggregation::Sum),
            metric("latency", Aggregation::P50),
            metric("latency", Aggregation::P90),
            metric("latency", Aggregation::Max),
            metric("latency", Aggregation::Avg),
        ],
    );
    query.order_by = vec![order("providedModelName", Direction::Asc)];
    let rows = run(&store, &query).await;
    let models = column(&rows, "providedModelName");
    // NULL sorts first ascending on both backends.
    assert_eq!(models, [&MetricsValue::Null, &text("claude"), &text("gpt")]);
    let gpt = &rows[2];
    assert_eq!(
        gpt.iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        [
            "providedModelName",
            "count_count",
            "sum_totalTokens",
            "sum_totalCost",
            "sum_inputCost",
            "p50_latency",
            "p90_latency",
            "max_latency",
            "avg_latency"
        ]
    );
    assert_eq!(value(gpt, "count_count"), &MetricsValue::Count(3));
    assert_eq!(value(gpt, "sum_totalTokens"), &MetricsValue::Integer(195));
    assert_close(float(gpt, "sum_totalCost"), 7.0);
    assert_close(float(gpt, "sum_inputCost"), 1.75);
    // Latencies 1000, 2000 and 3000 ms: interpolated between ranks.
    assert_close(float(gpt, "p50_latency"), 2000.0);
    assert_close(float(gpt, "p90_latency"), 2800.0);
    assert_close(float(gpt, "max_latency"), 3000.0);
    assert_close(float(gpt, "avg_latency"), 2000.0);
    let span = &rows[0];
    assert_eq!(value(span, "count_count"), &MetricsValue::Count(1));
    assert_eq!(value(span, "sum_totalTokens"), &MetricsValue::Null);
    assert_close(float(span, "p50_latency"), 10_000.0);

    // The traces view: one row per trace, its latency over its observations.
    let traces = run(
        &store,
        &request(
            MetricsView::Traces,
            &["name"],
            vec![
                metric("count", Aggregation::Count),
                metric("latency", Aggregation::Max),
                metric("totalCost", Aggregation::Sum),
                metric("observationsCount", Aggregation::Sum),
                metric("errorCount", Aggregation::Sum),
            ],
        ),
    )
    .await;
    // The default order: the first metric, descending.
    assert_eq!(traces.len(), 2);
    assert_eq!(value(&traces[0], "name"), &text("chat"));
    assert_eq!(value(&traces[0], "count_count"), &MetricsValue::Count(2));
    assert_close(float(&traces[0], "max_latency"), 10_000.0);
    assert_close(float(&traces[0], "sum_totalCost"), 3.5);
    assert_eq!(
        value(&traces[0], "sum_observationsCount"),
        &MetricsValue::Integer(4)
    );
    assert_eq!(
        value(&traces[0], "sum_errorCount"),
        &MetricsValue::Integer(0)
    );
    assert_eq!(value(&traces[1], "name"), &text("embed"));
    assert_eq!(value(&traces[1], "count_count"), &MetricsValue::Count(1));
    // Its generation at level ERROR (a Spindle measure).
    assert_eq!(
        value(&traces[1], "sum_errorCount"),
        &MetricsValue::Integer(1)
    );

    // Another project sees none of these rows.
    let other = store
        .query_metrics(
            "project-metrics-other",
            &request(
                MetricsView::Observations,
                &[],
                vec![metric("count", Aggregation::Count)],
            ),
        )
        .await
        .expect("another project's query");
    assert_eq!(
        other,
        vec![vec![("count_count".to_owned(), MetricsValue::Count(0))]]
    );

    // Without dimensions: one row, even over no rows.
    let mut empty = request(
        MetricsView::Traces,
        &[],
        vec![metric("count", Aggregation::Count)],
    );
    empty.from = BASE + 10 * DAY;
    empty.to = BASE + 11 * DAY;
    let rows = run(&store, &empty).await;
    assert_eq!(
        rows,
        vec![vec![("count_count".to_owned(), MetricsValue::Count(0))]]
    );
}

pub async fn metrics_time_buckets_fill_the_range(harness: &Harness) {
    let store = harness.open().await;
    seed(&store).await;
    let mut query = request(
        MetricsView::Traces,
        &[],
        vec![metric("count", Aggregation::Count)],
    );
    query.granularity = Some(Granularity::Day);
    let rows = run(&store, &query).await;
    let days = columns(&rows, ["time_dimension", "count_count"]);
    // `to` is 2026-01-03T00:00: its (empty) day is answered too.
    assert_eq!(
        days,
        [
            [&text("2026-01-01"), &MetricsValue::Count(2)],
            [&text("2026-01-02"), &MetricsValue::Count(1)],
            [&text("2026-01-03"), &MetricsValue::Count(0)],
        ]
    );

    // Hours with a dimension, ordered explicitly: no filling.
    let mut hours = request(
        MetricsView::Observations,
        &["type"],
        vec![metric("count", Aggregation::Count)],
    );
    hours.granularity = Some(Granularity::Hour);
    hours.order_by = vec![
        order("time_dimension", Direction::Desc),
        order("type", Direction::Asc),
    ];
    let rows = run(&store, &hours).await;
    let cells = columns(&rows, ["time_dimension", "type", "count_count"]);
    assert_eq!(
        cells,
        [
            [
                &text("2026-01-02T01:00:00.000Z"),
                &text("GENERATION"),
                &MetricsValue::Count(1)
            ],
            [
                &text("2026-01-01T02:00:00.000Z"),
                &text("GENERATION"),
                &MetricsValue::Count(1)
            ],
            [
                &text("2026-01-01T02:00:00.000Z"),
                &text("SPAN"),
                &MetricsValue::Count(1)
            ],
            [
                &text("2026-01-01T01:00:00.000Z"),
                &text("GENERATION"),
                &MetricsValue::Count(2)
            ],
        ]
    );

    // Months: one bucket for January.
    let mut months = request(
        MetricsView::Observations,
        &[],
        vec![metric("totalTokens", Aggregation::Sum)],
    );
    months.granularity = Some(Granularity::Month);
    let rows = run(&store, &months).await;
    assert_eq!(
        rows,
        vec![vec![
            ("time_dimension".to_owned(), text("2026-01-01")),
            ("sum_totalTokens".to_owned(), MetricsValue::Integer(197)),
        ]]
    );
}

pub async fn metrics_filters_ordering_and_limits(harness: &Harness) {
    let store = harness.open().await;
    seed(&store).await;
    let mut query = request(
        MetricsView::Observations,
        &["name"],
        vec![metric("count", Aggregation::Count)],
    );
    query.filters = vec![
        Filter::new("type", "=", FilterValue::String("GENERATION".into())),
        Filter::new(
            "tags",
            "any of",
            FilterValue::Strings(vec!["a".into(), "b".into()]),
        ),
        Filter::new("userId", "none of", FilterValue::Strings(vec!["u2".into()])),
    ];
    let rows = run(&store, &query).await;
    assert_eq!(
        rows,
        vec![vec![
            ("name".to_owned(), text("llm")),
            ("count_count".to_owned(), MetricsValue::Count(2)),
        ]]
    );

    // A level filter and a numeric one.
    query.filters = vec![Filter::new(
        "level",
        "=",
        FilterValue::String("ERROR".into()),
    )];
    let rows = run(&store, &query).await;
    assert_eq!(value(&rows[0], "count_count"), &MetricsValue::Count(1));

    // Metadata, by key.
    query.filters = vec![Filter {
        key: Some("team".into()),
        ..Filter::new("metadata", "=", FilterValue::String("search".into()))
    }];
    let rows = run(&store, &query).await;
    assert_eq!(value(&rows[0], "count_count"), &MetricsValue::Count(1));
    query.filters[0].key = Some("other".into());
    let rows = run(&store, &query).await;
    assert!(rows.is_empty(), "{rows:?}");

    // Ordered by a metric and cut by row_limit.
    let mut costly = request(
        MetricsView::Observations,
        &["providedModelName"],
        vec![metric("totalCost", Aggregation::Sum)],
    );
    costly.order_by = vec![order("sum_totalCost", Direction::Desc)];
    costly.row_limit = Some(1);
    let rows = run(&store, &costly).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(value(&rows[0], "providedModelName"), &text("gpt"));

    // Ordered by a percentile (in memory on SQLite), NULL groups included.
    let mut slowest = request(
        MetricsView::Observations,
        &["providedModelName"],
        vec![metric("latency", Aggregation::P50)],
    );
    slowest.row_limit = Some(2);
    let rows = run(&store, &slowest).await;
    let models = column(&rows, "providedModelName");
    assert_eq!(models, [&MetricsValue::Null, &text("claude")]);
    // The rollups answer this plan: a percentile within their 1 % bound.
    let p50 = float(&rows[1], "p50_latency");
    assert!(
        (p50 - 4000.0).abs() <= 4000.0 * crate::metrics::PERCENTILE_RELATIVE_ERROR,
        "{p50}"
    );

    // Tags group as a whole list.
    let tags = run(
        &store,
        &request(
            MetricsView::Traces,
            &["tags"],
            vec![metric("count", Aggregation::Count)],
        ),
    )
    .await;
    let lists = column(&tags, "tags");
    assert_eq!(
        lists,
        [
            &MetricsValue::Tags(vec!["a".to_owned()]),
            &MetricsValue::Tags(vec!["b".to_owned()]),
            &MetricsValue::Tags(Vec::new()),
        ]
    );

    // Bad names are refused, naming the field.
    let mut bad = request(
        MetricsView::Observations,
        &["nope"],
        vec![metric("count", Aggregation::Count)],
    );
    let error = store
        .query_metrics(P, &bad)
        .await
        .expect_err("unknown dimension");
    assert!(error
        .message
        .starts_with("query.dimensions[0].field: Invalid dimension"));
    bad.dimensions.clear();
    bad.filters = vec![Filter::new("latency", "=", FilterValue::Number(1.0))];
    let error = store
        .query_metrics(P, &bad)
        .await
        .expect_err("unknown filter column");
    assert!(error
        .message
        .starts_with("query.filters[0].column: Invalid filter column"));
}

pub async fn metrics_histograms_and_scores(harness: &Harness) {
    let store = harness.open().await;
    seed(&store).await;
    let mut histogram = request(
        MetricsView::Observations,
        &[],
        vec![metric("latency", Aggregation::Histogram)],
    );
    histogram.bins = Some(2);
    let rows = run(&store, &histogram).await;
    // 1000, 2000, 3000, 4000 and 10000 ms in two bins of 4500 ms.
    assert_eq!(
        value(&rows[0], "histogram_latency"),
        &MetricsValue::Histogram(vec![[1000.0, 5500.0, 4.0], [5500.0, 10_000.0, 1.0]])
    );

    // Percentiles and a histogram of one measure in one request (the percentiles share one
    // read of the values): each answer is the one the metric gets alone, by model (the raw
    // rows, with the histogram) and without it (the rollups).
    let (p50, p95, p99) = (Aggregation::P50, Aggregation::P95, Aggregation::P99);
    let by_model = |aggregations: &[Aggregation]| {
        let mut request = request(
            MetricsView::Observations,
            &["providedModelName"],
            aggregations
                .iter()
                .map(|aggregation| metric("latency", *aggregation))
                .collect(),
        );
        request.bins = Some(2);
        request
    };
    for together in [
        vec![p99, Aggregation::Histogram, p50, p95],
        vec![p95, p50, p99],
    ] {
        let rows = run(&store, &by_model(&together)).await;
        assert!(rows.len() >= 2, "{rows:?}");
        for aggregation in &together {
            let alone = run(&store, &by_model(&[*aggregation])).await;
            assert_eq!(alone.len(), rows.len(), "{aggregation:?}");
            for (row, alone) in rows.iter().zip(&alone) {
                let name = &alone[1].0;
                assert_eq!(
                    value(row, "providedModelName"),
                    value(alone, "providedModelName")
                );
                match (value(row, name), value(alone, name)) {
                    // Alone, a percentile may come from the rollups' buckets: within their
                    // bound of the raw rows' answer.
                    (MetricsValue::Float(a), MetricsValue::Float(b)) => assert!(
                        (a - b).abs() <= b.abs() * 2.0 * crate::metrics::PERCENTILE_RELATIVE_ERROR,
                        "{name} in {together:?}: {a} together, {b} alone"
                    ),
                    (a, b) => assert_eq!(a, b, "{name} in {together:?}"),
                }
            }
        }
    }

    let mut numeric = request(
        MetricsView::ScoresNumeric,
        &["name"],
        vec![
            metric("value", Aggregation::Avg),
            metric("count", Aggregation::Count),
        ],
    );
    numeric.order_by = vec![order("name", Direction::Asc)];
    let rows = run(&store, &numeric).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(value(&rows[0], "name"), &text("ok"));
    assert_close(float(&rows[0], "avg_value"), 1.0);
    assert_eq!(value(&rows[1], "name"), &text("quality"));
    assert_close(float(&rows[1], "avg_value"), 0.5);
    assert_eq!(value(&rows[1], "count_count"), &MetricsValue::Count(2));

    let mut categorical = request(
        MetricsView::ScoresCategorical,
        &["stringValue", "traceName"],
        vec![metric("count", Aggregation::Count)],
    );
    categorical.order_by = vec![
        order("count_count", Direction::Desc),
        order("traceName", Direction::Asc),
    ];
    let rows = run(&store, &categorical).await;
    let cells = columns(&rows, ["stringValue", "traceName", "count_count"]);
    assert_eq!(
        cells,
        [
            [&text("happy"), &text("chat"), &MetricsValue::Count(1)],
            [&text("sad"), &text("chat"), &MetricsValue::Count(1)],
            [&text("happy"), &text("embed"), &MetricsValue::Count(1)],
        ]
    );

    let boolean = run(
        &store,
        &request(
            MetricsView::ScoresBoolean,
            &["booleanValue"],
            vec![metric("count", Aggregation::Count)],
        ),
    )
    .await;
    assert_eq!(
        value(&boolean[0], "booleanValue"),
        &MetricsValue::Boolean(true)
    );

    // v2: semantic roots as a dimension.
    let mut roots = request(
        MetricsView::Observations,
        &["isRootObservation"],
        vec![metric("count", Aggregation::Count)],
    );
    roots.version = MetricsVersion::V2;
    let rows = run(&store, &roots).await;
    assert_eq!(
        rows,
        vec![vec![
            ("isRootObservation".to_owned(), MetricsValue::Boolean(true)),
            ("count_count".to_owned(), MetricsValue::Count(5)),
        ]]
    );
}

/// A metrics query stopped at the store's time limit answers a client error naming the
/// limit's setting; the store reads on as before, and the same query answers under a longer
/// limit.
pub async fn metrics_stop_at_their_time_limit(harness: &Harness) {
    const TRACES: usize = 40;
    const SPANS: usize = 500;
    let store = harness.open().await;
    for t in 0..TRACES {
        let mut batch = trace_with_observations(
            &format!("slow-{t}"),
            "chat",
            BASE + HOUR,
            create_stamp(BASE + HOUR),
            SPANS,
            |o, span| {
                span.start_time = Some(BASE + HOUR + o as i64 * SECOND);
                span.end_time = Some(BASE + HOUR + (o as i64 + 1 + t as i64) * SECOND);
                span.observation_type = Some(ObservationType::Span);
                span.name = Some(format!("step-{}", o % 7));
            },
        );
        batch.traces[0].user_id = Some("u-slow".into());
        store
            .write(P, batch)
            .await
            .expect("write a trace of many spans");
    }
    store.shutdown().await.expect("shutdown");
    // A user filter: the rollups do not key on it, so the raw rows (20,000 of them) answer.
    let mut slow = request(
        MetricsView::Observations,
        &["name"],
        vec![
            metric("count", Aggregation::Count),
            metric("latency", Aggregation::P95),
        ],
    );
    slow.filters.push(Filter::new(
        "userId",
        "=",
        FilterValue::String("u-slow".to_owned()),
    ));

    let bounded = harness
        .open_with_metrics_limit(std::time::Duration::from_millis(1))
        .await;
    let error = bounded
        .query_metrics(P, &slow)
        .await
        .expect_err("a query over 20,000 raw rows stops at a 1 ms limit");
    assert_eq!(
        error.kind,
        spindle_core::ErrorKind::InvalidArgument,
        "{error:?}"
    );
    assert!(
        error
            .message
            .starts_with("query: took longer than the 1 ms")
            && error.message.contains("SPINDLE_METRICS_QUERY_SECONDS"),
        "{error:?}"
    );
    // The connections it ran on read on without the limit.
    for _ in 0..4 {
        let page = bounded
            .list_traces(
                P,
                &crate::TraceQuery {
                    limit: 100,
                    ..crate::TraceQuery::default()
                },
            )
            .await
            .expect("list the traces after a stopped query");
        assert_eq!(page.items.len(), TRACES.min(100));
    }
    bounded.shutdown().await.expect("shutdown");

    let store = harness.open().await;
    let rows = run(&store, &slow).await;
    assert_eq!(rows.len(), 7, "{rows:?}");
    let counted: i64 = rows
        .iter()
        .map(|row| match value(row, "count_count") {
            MetricsValue::Count(count) => *count,
            other => panic!("count_count is {other:?}"),
        })
        .sum();
    assert_eq!(counted, (TRACES * SPANS) as i64);
}
