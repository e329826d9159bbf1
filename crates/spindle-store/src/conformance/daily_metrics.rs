//! Conformance of the daily metrics answered from the rollups (`trace_rollups` and
//! `trace_model_rollups`): they answer what the raw rows answer — the same days, counts,
//! models and usage, costs within a nano-USD per trace and model — with observations that
//! start on another day than their trace, models changed by later updates, traces moved to
//! another day, renamed or deleted, ranges that start and end inside an hour, and filters on
//! the trace name and environment; the queries they cannot answer exactly (a user or tag
//! filter, a range without a whole hour) they decline.

use std::collections::BTreeMap;
use std::sync::Arc;

use spindle_core::WriteBatch;

use super::fixtures::*;
use super::Harness;
use crate::metrics::Sources;
use crate::{DailyMetrics, MetricsQuery, Page, Store};

const P: &str = "project-daily-metrics";
const HOUR: i64 = 3600 * SECOND;

/// Whether two costs are equal within the rollups' rounding: a nano-USD per trace and model
/// (and the floats' own rounding).
fn costs_agree(rolled: f64, raw: f64, traces: u64) -> bool {
    (rolled - raw).abs() <= 1e-9 * (traces as f64 + 1.0) + 1e-12 * raw.abs()
}

/// Panics naming `step` when the rollups' answer to `query` differs from the raw rows'
/// (or when the rollups decline it); returns the answer.
pub async fn assert_daily_sources_agree(
    store: &Arc<dyn Store>,
    project: &str,
    query: &MetricsQuery,
    step: &str,
) -> Page<DailyMetrics> {
    let raw = store
        .daily_metrics_from(project, query, Sources::RawRows)
        .await
        .expect("raw daily metrics")
        .expect("the raw rows answer");
    let rolled = store
        .daily_metrics_from(project, query, Sources::Rollups)
        .await
        .expect("rolled-up daily metrics")
        .unwrap_or_else(|| panic!("{step}: the rollups declined {query:?}"));
    assert_eq!(
        (rolled.total_items, rolled.page, rolled.limit),
        (raw.total_items, raw.page, raw.limit),
        "{step}: {query:?}"
    );
    let dates = |page: &Page<DailyMetrics>| -> Vec<String> {
        page.items.iter().map(|day| day.date.clone()).collect()
    };
    assert_eq!(dates(&rolled), dates(&raw), "{step}: days of {query:?}");
    for (kept, expected) in rolled.items.iter().zip(&raw.items) {
        let at = format!("{step}: {} of {query:?}", expected.date);
        assert_eq!(
            (kept.count_traces, kept.count_observations),
            (expected.count_traces, expected.count_observations),
            "{at}"
        );
        assert!(
            costs_agree(kept.total_cost, expected.total_cost, expected.count_traces),
            "{at}: cost {} != {}",
            kept.total_cost,
            expected.total_cost
        );
        let models = |day: &DailyMetrics| -> Vec<String> {
            day.usage.iter().map(|usage| usage.model.clone()).collect()
        };
        assert_eq!(models(kept), models(expected), "{at}: models");
        for (usage, raw_usage) in kept.usage.iter().zip(&expected.usage) {
            assert_eq!(
                (
                    usage.input_usage,
                    usage.output_usage,
                    usage.total_usage,
                    usage.count_traces,
                    usage.count_observations
                ),
                (
                    raw_usage.input_usage,
                    raw_usage.output_usage,
                    raw_usage.total_usage,
                    raw_usage.count_traces,
                    raw_usage.count_observations
                ),
                "{at}: {}",
                usage.model
            );
            assert!(
                costs_agree(
                    usage.total_cost,
                    raw_usage.total_cost,
                    raw_usage.count_traces
                ),
                "{at}: {} cost {} != {}",
                usage.model,
                usage.total_cost,
                raw_usage.total_cost
            );
        }
    }
    rolled
}

/// A generation of `trace_id` starting at `start` with a model, usage and a cost.
fn generation(
    id: &str,
    trace_id: &str,
    start: i64,
    model: Option<&str>,
    tokens: i64,
    cost: f64,
) -> spindle_core::ObservationRecord {
    observation(id, create_stamp(start), |o| {
        o.trace_id = Some(trace_id.to_owned());
        o.start_time = Some(start);
        o.model = model.map(str::to_owned);
        o.usage_details = Some(BTreeMap::from([
            ("input".to_owned(), tokens),
            ("output".to_owned(), 2 * tokens),
        ]));
        o.cost_details = Some(BTreeMap::from([("total".to_owned(), cost)]));
    })
}

/// Hand-made changes, then random ranges and filters over random rows.
pub async fn daily_metrics_from_rollups_equal_the_raw_rows(harness: &Harness) {
    let store = harness.open().await;
    create_project(&store, P).await;
    let late_evening = BASE + 23 * HOUR + 30 * 60 * SECOND;
    let next_day = BASE + DAY;
    let evening = trace("evening", create_stamp(late_evening), |t| {
        t.timestamp = Some(late_evening);
        t.name = Some("chat".to_owned());
        t.environment = Some("staging".to_owned());
    });
    let batch = WriteBatch {
        traces: vec![
            evening,
            simple_trace("noon", BASE + 12 * HOUR, "chat"),
            simple_trace("doomed", BASE + 13 * HOUR, "other"),
            simple_trace("empty", next_day + 5 * HOUR, "chat"),
            simple_trace("moved", BASE + 2 * HOUR, "chat"),
        ],
        observations: vec![
            // Starts on the next day; counts on its trace's day.
            generation(
                "e1",
                "evening",
                next_day + 10 * 60 * SECOND,
                Some("m1"),
                10,
                0.125,
            ),
            generation("e2", "evening", late_evening, Some("m2"), 3, 0.1),
            generation("e3", "evening", late_evening, None, 0, 0.0),
            generation("n1", "noon", BASE + 12 * HOUR, Some("old"), 5, 0.3),
            generation("n2", "noon", BASE + 12 * HOUR, Some("m1"), 7, 1.0 / 3.0),
            generation("d1", "doomed", BASE + 13 * HOUR, Some("m1"), 100, 2.0),
            generation("v1", "moved", BASE + 2 * HOUR, Some("m2"), 1, 0.2),
        ],
        ..WriteBatch::default()
    };
    store.write(P, batch).await.expect("write");
    let all = MetricsQuery::default();
    let page = assert_daily_sources_agree(&store, P, &all, "written").await;
    let first = &page.items[page.items.len() - 1];
    assert_eq!(first.date, "2026-01-01");
    assert_eq!((first.count_traces, first.count_observations), (4, 7));

    // A model renamed by a later update, a trace deleted, a trace moved to the next day.
    let renamed = observation("n1", update_stamp(BASE + 20 * HOUR), |o| {
        o.trace_id = Some("noon".to_owned());
        o.model = Some("new".to_owned());
    });
    // The timestamp is written once: an earlier event's wins.
    let moved = trace("moved", update_stamp(BASE), |t| {
        t.timestamp = Some(next_day + 3 * HOUR);
    });
    let batch = WriteBatch {
        traces: vec![moved],
        observations: vec![renamed],
        ..WriteBatch::default()
    };
    store.write(P, batch).await.expect("write");
    store
        .delete_traces(P, &["doomed".to_owned()])
        .await
        .expect("delete");
    let page = assert_daily_sources_agree(&store, P, &all, "changed").await;
    assert_eq!(
        page.items
            .iter()
            .map(|day| (day.date.as_str(), day.count_traces, day.count_observations))
            .collect::<Vec<_>>(),
        vec![("2026-01-02", 2, 1), ("2026-01-01", 2, 5)]
    );
    let first = &page.items[1];
    let models: Vec<&str> = first.usage.iter().map(|u| u.model.as_str()).collect();
    assert_eq!(models, vec!["m1", "m2", "new"]);
    let m1 = &first.usage[0];
    assert_eq!((m1.count_traces, m1.count_observations), (2, 2));
    assert_eq!((m1.input_usage, m1.output_usage), (17, 34));
    assert!(costs_agree(m1.total_cost, 0.125 + 1.0 / 3.0, 2));

    let queries = [
        MetricsQuery {
            trace_name: Some("chat".to_owned()),
            ..MetricsQuery::default()
        },
        MetricsQuery {
            environments: vec!["staging".to_owned()],
            ..MetricsQuery::default()
        },
        // Partial first and last hours: the evening trace's hour cut in two.
        MetricsQuery {
            from_timestamp: Some(BASE + 12 * HOUR + 1),
            to_timestamp: Some(late_evening + 1),
            ..MetricsQuery::default()
        },
        MetricsQuery {
            from_timestamp: Some(late_evening),
            to_timestamp: Some(next_day + 4 * HOUR),
            limit: 1,
            page: 2,
            ..MetricsQuery::default()
        },
        MetricsQuery {
            from_timestamp: Some(BASE),
            ..MetricsQuery::default()
        },
        MetricsQuery {
            to_timestamp: Some(next_day + 3 * HOUR + 1),
            ..MetricsQuery::default()
        },
    ];
    for (index, query) in queries.iter().enumerate() {
        assert_daily_sources_agree(&store, P, query, &format!("query {index}")).await;
    }
    let declined = [
        MetricsQuery {
            user_id: Some("u".to_owned()),
            ..MetricsQuery::default()
        },
        MetricsQuery {
            tags: vec!["x".to_owned()],
            ..MetricsQuery::default()
        },
        MetricsQuery {
            trace_name: Some(String::new()),
            ..MetricsQuery::default()
        },
        // No whole hour.
        MetricsQuery {
            from_timestamp: Some(BASE + 12 * HOUR + 1),
            to_timestamp: Some(BASE + 13 * HOUR + 5),
            ..MetricsQuery::default()
        },
    ];
    for query in &declined {
        let answer = store
            .daily_metrics_from(P, query, Sources::Rollups)
            .await
            .expect("daily metrics");
        assert!(answer.is_none(), "the rollups answered {query:?}");
        // The raw rows answer it through the default.
        store.daily_metrics(P, query).await.expect("daily metrics");
    }

    // Random rows over four days, random ranges and filters.
    let project = "project-daily-random";
    create_project(&store, project).await;
    let mut rng = Rng::new(7);
    super::rollup_metrics::seed_rolled_up_rows(&store, project, &mut rng).await;
    for round in 0..40 {
        let from = (!rng.chance(20)).then(|| BASE - HOUR + rng.below((5 * DAY) as u64) as i64);
        let to = (!rng.chance(20))
            .then(|| from.unwrap_or(BASE) + 2 * HOUR + rng.below((3 * DAY) as u64) as i64);
        let query = MetricsQuery {
            from_timestamp: from,
            to_timestamp: to,
            trace_name: rng
                .chance(30)
                .then(|| rng.pick(&["chat", "embed"]).to_owned()),
            environments: if rng.chance(30) {
                vec![rng.pick(&["default", "staging"]).to_owned()]
            } else {
                Vec::new()
            },
            limit: if rng.chance(30) { 2 } else { 0 },
            page: if rng.chance(30) { 2 } else { 1 },
            ..MetricsQuery::default()
        };
        assert_daily_sources_agree(&store, project, &query, &format!("round {round}")).await;
    }
}
