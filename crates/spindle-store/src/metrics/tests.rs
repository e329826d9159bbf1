//! Planning: names checked against the views, defaults, and the order Langfuse applies.

use super::*;

fn request(view: MetricsView) -> MetricsRequest {
    MetricsRequest {
        version: MetricsVersion::V1,
        view,
        dimensions: Vec::new(),
        metrics: vec![MetricSelection {
            measure: "count".to_owned(),
            aggregation: Aggregation::Count,
        }],
        filters: Vec::new(),
        granularity: None,
        from: 0,
        to: 3_600_000_000,
        order_by: Vec::new(),
        bins: None,
        row_limit: None,
    }
}

fn error_of(request: &MetricsRequest) -> String {
    plan(request).expect_err("refused").message
}

#[test]
fn unknown_names_are_refused_with_their_field() {
    let mut bad = request(MetricsView::Traces);
    bad.dimensions = vec!["name".to_owned(), "nope".to_owned()];
    assert!(error_of(&bad).starts_with("query.dimensions[1].field: Invalid dimension \"nope\""));

    let mut bad = request(MetricsView::Traces);
    bad.metrics[0].measure = "invalidMetric".to_owned();
    assert!(error_of(&bad).starts_with("query.metrics[0].measure: Invalid metric"));

    let mut bad = request(MetricsView::Traces);
    bad.filters = vec![Filter::new(
        "nonExistentColumn",
        "=",
        crate::FilterValue::String("x".to_owned()),
    )];
    assert!(error_of(&bad).starts_with("query.filters[0].column: Invalid filter column"));

    let mut bad = request(MetricsView::Traces);
    bad.filters = vec![Filter::new(
        "tags",
        "=",
        crate::FilterValue::String("x".to_owned()),
    )];
    assert!(
        error_of(&bad).starts_with("query.filters[0].operator:"),
        "{}",
        error_of(&bad)
    );

    let mut bad = request(MetricsView::Traces);
    bad.order_by = vec![MetricsOrder {
        field: "sum_count".to_owned(),
        direction: Direction::Asc,
    }];
    assert!(error_of(&bad).starts_with("query.orderBy[0].field: Invalid orderBy field"));

    let mut bad = request(MetricsView::Traces);
    bad.from = bad.to;
    assert!(error_of(&bad).starts_with("query.toTimestamp:"));

    let mut bad = request(MetricsView::Traces);
    bad.row_limit = Some(1001);
    assert!(error_of(&bad).starts_with("query.config.row_limit:"));
}

#[test]
fn version_two_has_no_traces_view_and_no_high_cardinality_groups() {
    let mut v2 = request(MetricsView::Traces);
    v2.version = MetricsVersion::V2;
    assert!(error_of(&v2).starts_with("query.view: Invalid view \"traces\""));

    let mut v2 = request(MetricsView::Observations);
    v2.version = MetricsVersion::V2;
    v2.dimensions = vec!["userId".to_owned()];
    assert!(error_of(&v2).contains("high cardinality"));
    v2.dimensions = vec!["isRootObservation".to_owned()];
    assert!(plan(&v2).is_ok());
    // A high-cardinality dimension still filters.
    v2.filters = vec![Filter::new(
        "userId",
        "=",
        crate::FilterValue::String("u".to_owned()),
    )];
    assert!(plan(&v2).is_ok());

    let mut v1 = request(MetricsView::Observations);
    v1.dimensions = vec!["isRootObservation".to_owned()];
    assert!(error_of(&v1).contains("Invalid dimension"));
}

#[test]
fn defaults_follow_langfuse() {
    let mut query = request(MetricsView::Observations);
    query.dimensions = vec!["name".to_owned()];
    let planned = plan(&query).expect("plan");
    assert_eq!(planned.order, vec![(OrderKey::Metric(0), Direction::Desc)]);
    assert_eq!(
        (planned.row_limit, planned.bins),
        (MAX_ROW_LIMIT, DEFAULT_BINS)
    );
    assert!(!planned.fill_time);

    query.version = MetricsVersion::V2;
    query.granularity = Some(Granularity::Auto);
    let planned = plan(&query).expect("plan");
    assert_eq!(planned.row_limit, DEFAULT_ROW_LIMIT_V2);
    assert_eq!(planned.granularity, Some(Granularity::Minute));
    assert_eq!(planned.order, vec![(OrderKey::Time, Direction::Asc)]);
    assert!(planned.fill_time);

    let day = 86_400_000_000;
    for (length, expected) in [
        (2 * day, Granularity::Hour),
        (30 * day, Granularity::Day),
        (90 * day, Granularity::Week),
        (400 * day, Granularity::Month),
    ] {
        assert_eq!(Granularity::Auto.resolve(0, length), expected);
    }
}
