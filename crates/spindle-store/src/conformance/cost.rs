//! Conformance cases of usage and cost: the writer prices observations after merging them,
//! with the built-in table, the project's custom models and its built-in switch; the
//! tokenizer fills in missing usage; a recomputation applies new prices to a time range.

use super::fixtures::*;
use super::Harness;
use crate::{CustomModel, Store, WriteBatch};
use spindle_core::{ObservationRecord, ObservationType};
use std::collections::BTreeMap;
use std::sync::Arc;

const P: &str = "project-a";
const Q: &str = "project-b";

async fn write(store: &Arc<dyn Store>, project: &str, observations: Vec<ObservationRecord>) {
    store
        .write(
            project,
            WriteBatch {
                observations,
                ..WriteBatch::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("write failed: {e:?}"));
}

fn usage(input: i64, output: i64) -> BTreeMap<String, i64> {
    BTreeMap::from([("input".to_owned(), input), ("output".to_owned(), output)])
}

/// A generation of trace `t1` starting at `start`.
fn generation(
    id: &str,
    start: i64,
    model: Option<&str>,
    usage: Option<BTreeMap<String, i64>>,
) -> ObservationRecord {
    observation(id, create_stamp(start), |o| {
        o.trace_id = Some("t1".to_owned());
        o.start_time = Some(start);
        o.observation_type = Some(ObservationType::Generation);
        o.model = model.map(str::to_owned);
        o.usage_details = usage;
    })
}

async fn stored(store: &Arc<dyn Store>, project: &str, id: &str) -> ObservationRecord {
    store
        .get_observation(project, id)
        .await
        .expect("get_observation")
        .unwrap_or_else(|| panic!("observation {id} exists"))
        .record
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (actual - expected).abs() <= 1e-12 + expected.abs() * 1e-9,
        "{what}: {actual} != {expected}"
    );
}

/// Asserts the total cost of the stored observation `id` of `project`, within rounding.
async fn assert_total_cost(
    store: &Arc<dyn Store>,
    project: &str,
    id: &str,
    expected: f64,
    what: &str,
) {
    close(
        cost_of(&stored(store, project, id).await, "total"),
        expected,
        what,
    );
}

fn cost_of(record: &ObservationRecord, key: &str) -> Option<f64> {
    record.effective_cost().and_then(|c| c.get(key).copied())
}

fn custom(id: &str, project: &str, pattern: &str, input: f64, output: f64) -> CustomModel {
    CustomModel {
        id: id.to_owned(),
        project_id: project.to_owned(),
        model_name: id.to_owned(),
        match_pattern: pattern.to_owned(),
        start_date: None,
        unit: Some("TOKENS".to_owned()),
        prices: BTreeMap::from([("input".to_owned(), input), ("output".to_owned(), output)]),
        tokenizer_id: None,
        tokenizer_config: None,
        pricing_tiers: Vec::new(),
        created_at: BASE,
    }
}

/// Built-in prices: usage × price per usage type with the matched entry recorded; costs the
/// SDK gave are kept; unknown models and spans get nothing; usage that arrives in a later
/// update without the model is priced after the merge; the cost rolls up to the trace and
/// the daily metrics.
pub async fn cost_from_builtin_prices(harness: &Harness) {
    let store = harness.open().await;
    store
        .write(P, batch_of_traces(vec![simple_trace("t1", BASE, "chat")]))
        .await
        .expect("write trace");
    let mut given = generation("given", BASE, Some("gpt-4o"), Some(usage(1000, 500)));
    given.cost_details = Some(BTreeMap::from([("total".to_owned(), 1.5)]));
    given.stamp_unstamped(create_stamp(BASE));
    let mut span = simple_observation("span", "t1", BASE, Some(BASE + SECOND));
    span.model = None;
    write(
        &store,
        P,
        vec![
            generation(
                "priced",
                BASE,
                Some("openai/gpt-4o-2024-08-06"),
                Some(usage(1000, 500)),
            ),
            given,
            generation(
                "unknown",
                BASE,
                Some("no-such-model-x"),
                Some(usage(10, 10)),
            ),
            generation("later", BASE, Some("gpt-4o-mini"), None),
            span,
        ],
    )
    .await;
    // The usage of `later` arrives in an update that does not repeat the model.
    write(
        &store,
        P,
        vec![observation("later", update_stamp(BASE + SECOND), |o| {
            o.usage_details = Some(usage(2_000_000, 1_000_000));
        })],
    )
    .await;

    let priced = stored(&store, P, "priced").await;
    assert_eq!(priced.derived.model_id.as_deref(), Some("openai-gpt-4o"));
    close(cost_of(&priced, "input"), 1000.0 * 2.5e-6, "gpt-4o input");
    close(cost_of(&priced, "output"), 500.0 * 10e-6, "gpt-4o output");
    close(cost_of(&priced, "total"), 0.0075, "gpt-4o total");
    assert_eq!(priced.cost_details, None, "the given cost stays as given");
    close(
        priced.derived.prices.get("input").copied(),
        2.5e-6,
        "price recorded",
    );

    let given = stored(&store, P, "given").await;
    assert_eq!(given.derived.model_id.as_deref(), Some("openai-gpt-4o"));
    assert!(given.derived.calculated_cost.is_empty());
    assert_eq!(
        given.effective_cost(),
        Some(&BTreeMap::from([("total".to_owned(), 1.5)]))
    );

    let unknown = stored(&store, P, "unknown").await;
    assert!(unknown.derived.is_empty(), "{:?}", unknown.derived);
    assert_eq!(unknown.effective_cost(), None);
    assert!(stored(&store, P, "span").await.derived.is_empty());

    let later = stored(&store, P, "later").await;
    assert_eq!(
        later.derived.model_id.as_deref(),
        Some("openai-gpt-4o-mini")
    );
    close(
        cost_of(&later, "total"),
        0.3 + 0.6,
        "priced after the merge",
    );

    let trace = store
        .get_trace(P, "t1")
        .await
        .expect("get_trace")
        .expect("trace");
    close(Some(trace.total_cost), 0.0075 + 1.5 + 0.9, "trace total");
    let listed = store
        .list_traces(P, &crate::TraceQuery::default())
        .await
        .expect("list_traces");
    close(Some(listed.items[0].total_cost), 0.0075 + 1.5 + 0.9, "list");
    let days = store
        .daily_metrics(P, &crate::MetricsQuery::default())
        .await
        .expect("daily_metrics");
    let day_cost: f64 = days.items.iter().map(|day| day.total_cost).sum();
    close(Some(day_cost), 0.0075 + 1.5 + 0.9, "daily metrics");
}

/// A generation of a known model without usage gets usage counted with the model's
/// tokenizer (kept apart from reported usage), and a cost from it.
pub async fn inferred_usage_with_tokenizer(harness: &Harness) {
    let store = harness.open().await;
    let mut record = generation("g", BASE, Some("gpt-4o"), None);
    record.input = Some(r#""hello world""#.to_owned());
    record.output = Some(
        r#"[{"role":"assistant","content":"The quick brown fox jumps over the lazy dog."}]"#
            .to_owned(),
    );
    record.stamp_unstamped(create_stamp(BASE));
    let mut reported = generation("r", BASE, Some("gpt-4o"), Some(usage(7, 0)));
    reported.input = Some(r#""hello world""#.to_owned());
    reported.stamp_unstamped(create_stamp(BASE));
    let mut unknown = generation("u", BASE, Some("no-such-model-x"), None);
    unknown.input = Some(r#""hello world""#.to_owned());
    unknown.stamp_unstamped(create_stamp(BASE));
    write(&store, P, vec![record, reported, unknown]).await;

    let inferred = stored(&store, P, "g").await;
    assert_eq!(inferred.usage_details, None, "reported usage stays absent");
    assert_eq!(
        inferred.derived.inferred_usage,
        BTreeMap::from([
            ("input".to_owned(), 2),
            ("output".to_owned(), 10),
            ("total".to_owned(), 12),
        ])
    );
    assert_eq!(
        inferred.effective_usage(),
        Some(&inferred.derived.inferred_usage)
    );
    close(
        cost_of(&inferred, "total"),
        2.0 * 2.5e-6 + 10.0 * 10e-6,
        "cost of inferred usage",
    );

    let reported = stored(&store, P, "r").await;
    assert!(reported.derived.inferred_usage.is_empty());
    assert_eq!(reported.effective_usage(), Some(&usage(7, 0)));
    assert!(stored(&store, P, "u").await.derived.is_empty());
}

/// Custom models price their project's generations, override built-in entries, can be
/// listed and deleted; the built-in prices can be switched off per project.
pub async fn custom_models_and_builtin_switch(harness: &Harness) {
    let store = harness.open().await;
    create_project(&store, P).await;
    create_project(&store, Q).await;
    assert!(store.list_models(P).await.expect("list").is_empty());
    assert!(store.builtin_prices(P).await.expect("builtin"));
    store
        .put_model(&custom("m1", P, "^my-model$", 1e-3, 2e-3))
        .await
        .expect("create m1");
    let mut cheap = custom("m2", P, "^gpt-4o$", 1.0, 0.0);
    cheap.created_at = BASE + 1;
    store.put_model(&cheap).await.expect("create m2");
    let listed = store.list_models(P).await.expect("list");
    assert_eq!(
        listed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m1", "m2"]
    );
    assert_eq!(listed[0], custom("m1", P, "^my-model$", 1e-3, 2e-3));
    assert!(store.list_models(Q).await.expect("list Q").is_empty());

    write(
        &store,
        P,
        vec![
            generation("mine", BASE, Some("My-Model"), Some(usage(10, 5))),
            generation("override", BASE, Some("gpt-4o"), Some(usage(3, 3))),
        ],
    )
    .await;
    write(
        &store,
        Q,
        vec![generation(
            "other",
            BASE,
            Some("my-model"),
            Some(usage(10, 5)),
        )],
    )
    .await;
    let mine = stored(&store, P, "mine").await;
    assert_eq!(mine.derived.model_id.as_deref(), Some("m1"));
    close(cost_of(&mine, "total"), 0.01 + 0.01, "custom price");
    let overridden = stored(&store, P, "override").await;
    assert_eq!(overridden.derived.model_id.as_deref(), Some("m2"));
    close(cost_of(&overridden, "total"), 3.0, "custom beats built-in");
    assert!(stored(&store, Q, "other").await.derived.is_empty());

    // A tier applies when its condition holds; putting a model under the same id replaces it.
    let mut tiered = custom("m3", P, "^tiered$", 9.0, 0.0);
    tiered.created_at = BASE + 2;
    store.put_model(&tiered).await.expect("put m3");
    tiered.prices = BTreeMap::from([("input".to_owned(), 1.0)]);
    tiered.pricing_tiers = vec![crate::CustomTier {
        id: "large".to_owned(),
        name: "large context".to_owned(),
        priority: 1,
        conditions: vec![crate::CustomCondition {
            usage_detail_pattern: "^input".to_owned(),
            operator: "gt".to_owned(),
            value: 100.0,
            case_sensitive: false,
        }],
        prices: BTreeMap::from([("input".to_owned(), 0.5)]),
    }];
    store.put_model(&tiered).await.expect("replace m3");
    assert_eq!(store.list_models(P).await.expect("list")[2], tiered);
    write(
        &store,
        P,
        vec![
            generation("small", BASE, Some("tiered"), Some(usage(50, 0))),
            generation("large", BASE, Some("tiered"), Some(usage(200, 0))),
        ],
    )
    .await;
    assert_total_cost(&store, P, "small", 50.0, "default tier").await;
    let large = stored(&store, P, "large").await;
    close(cost_of(&large, "total"), 100.0, "large tier");
    assert_eq!(large.derived.tier.as_deref(), Some("large context"));
    assert!(store.delete_model(P, "m3").await.expect("delete m3"));

    assert!(store.delete_model(P, "m2").await.expect("delete"));
    assert!(!store.delete_model(P, "m2").await.expect("delete again"));
    assert!(!store.delete_model(Q, "m1").await.expect("not Q's"));
    assert_eq!(store.list_models(P).await.expect("list").len(), 1);

    store
        .set_builtin_prices(P, false)
        .await
        .expect("switch off");
    assert!(!store.builtin_prices(P).await.expect("builtin"));
    assert!(store.builtin_prices(Q).await.expect("builtin Q"));
    write(
        &store,
        P,
        vec![
            generation("builtin-off", BASE, Some("gpt-4o"), Some(usage(3, 3))),
            generation("still-mine", BASE, Some("my-model"), Some(usage(10, 5))),
        ],
    )
    .await;
    assert!(stored(&store, P, "builtin-off").await.derived.is_empty());
    assert_eq!(
        stored(&store, P, "still-mine")
            .await
            .derived
            .model_id
            .as_deref(),
        Some("m1")
    );
}

/// New prices apply to what is written after them; a recomputation applies them to the
/// observations that start in a chosen range, and only those.
pub async fn recompute_costs_over_a_range(harness: &Harness) {
    let store = harness.open().await;
    create_project(&store, P).await;
    write(
        &store,
        P,
        vec![
            generation("old", BASE, Some("my-model"), Some(usage(10, 0))),
            generation("recent", BASE + DAY, Some("my-model"), Some(usage(10, 0))),
        ],
    )
    .await;
    assert!(stored(&store, P, "old").await.derived.is_empty());
    store
        .put_model(&custom("m1", P, "^my-model$", 1.0, 0.0))
        .await
        .expect("create");
    write(
        &store,
        P,
        vec![generation(
            "new",
            BASE,
            Some("my-model"),
            Some(usage(10, 0)),
        )],
    )
    .await;
    assert_total_cost(&store, P, "new", 10.0, "new").await;
    assert!(stored(&store, P, "recent").await.derived.is_empty());

    let changed = store
        .recompute_costs(P, Some(BASE + DAY), None)
        .await
        .expect("recompute");
    assert_eq!(changed, 1);
    assert_total_cost(&store, P, "recent", 10.0, "recomputed").await;
    assert!(stored(&store, P, "old").await.derived.is_empty());

    let changed = store
        .recompute_costs(P, None, None)
        .await
        .expect("recompute all");
    assert_eq!(changed, 1, "only `old` still changes");
    assert_total_cost(&store, P, "old", 10.0, "old").await;
}
