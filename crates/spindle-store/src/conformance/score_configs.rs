//! The score configs conformance suite: what every backend's [`ScoreConfigs`] must do, run as
//! one `#[tokio::test]` per case by
//! [`score_configs_conformance_suite!`](crate::score_configs_conformance_suite).
//!
//! A backend's test file passes a function from a case's private directory to a future of the
//! store, as for the prompts suite.

use super::fixtures::assert_refused;
use crate::datasets::PageRequest;
use crate::score_configs::ScoreConfigs;
use crate::{ErrorKind, Store};
use spindle_core::score_config::{
    boolean_categories, ConfigCategory, ConfigDataType, NewScoreConfig, ScoreConfigPatch,
};
use std::sync::Arc;

/// A backend of the suite.
pub trait ScoreConfigsStore: Store + ScoreConfigs {}

impl<S: Store + ScoreConfigs> ScoreConfigsStore for S {}

/// Expands to one `#[tokio::test]` per score configs conformance case (see the module docs).
#[macro_export]
macro_rules! score_configs_conformance_suite {
    ($open:expr) => {
        $crate::__module_conformance_cases!(
            score_configs, $open;
            score_configs_create_get_list_and_isolation,
            score_config_patches_are_checked_as_a_whole,
            concurrent_score_config_patches_apply_one_after_the_other,
        );
    };
}

const PROJECT: &str = "p1";
const OTHER: &str = "p2";

fn numeric(name: &str, min: Option<f64>, max: Option<f64>) -> NewScoreConfig {
    NewScoreConfig {
        name: name.to_owned(),
        data_type: ConfigDataType::Numeric,
        min_value: min,
        max_value: max,
        categories: Vec::new(),
        description: None,
    }
}

fn category(label: &str, value: f64) -> ConfigCategory {
    ConfigCategory {
        label: label.to_owned(),
        value,
    }
}

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest { page, limit }
}

pub async fn score_configs_create_get_list_and_isolation<S: ScoreConfigsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let range = store
        .create_score_config(
            PROJECT,
            &NewScoreConfig {
                description: Some("how good".to_owned()),
                ..numeric("quality", Some(0.0), Some(10.0))
            },
        )
        .await
        .expect("create numeric");
    assert_eq!(range.id.len(), 36);
    assert_eq!(range.project_id, PROJECT);
    assert_eq!((range.min_value, range.max_value), (Some(0.0), Some(10.0)));
    assert!(!range.is_archived);
    assert_eq!(range.description.as_deref(), Some("how good"));
    let categories = vec![category("bad", 0.0), category("good", 1.5)];
    let categorical = store
        .create_score_config(
            PROJECT,
            &NewScoreConfig {
                name: "tone".to_owned(),
                data_type: ConfigDataType::Categorical,
                min_value: None,
                max_value: None,
                categories: categories.clone(),
                description: None,
            },
        )
        .await
        .expect("create categorical");
    let boolean = store
        .create_score_config(
            PROJECT,
            &NewScoreConfig {
                name: "correct".to_owned(),
                data_type: ConfigDataType::Boolean,
                ..numeric("", None, None)
            },
        )
        .await
        .expect("create boolean");
    assert_eq!(boolean.categories, boolean_categories());

    // What was created reads back the same, field for field.
    for created in [&range, &categorical, &boolean] {
        let read = store
            .get_score_config(PROJECT, &created.id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(&read, created);
    }
    assert_eq!(
        store
            .get_score_config(PROJECT, &categorical.id)
            .await
            .expect("get")
            .map(|config| config.categories),
        Some(categories)
    );

    // An invalid config is refused and nothing is stored.
    assert_refused(
        store
            .create_score_config(PROJECT, &numeric("broken", Some(5.0), Some(1.0)))
            .await,
        "min above max",
        ErrorKind::InvalidArgument,
        "maxValue:",
    );

    // Lists are newest first, paged, with the total.
    let first = store
        .list_score_configs(PROJECT, page(1, 2))
        .await
        .expect("list");
    assert_eq!(first.total_items, 3);
    let second = store
        .list_score_configs(PROJECT, page(2, 2))
        .await
        .expect("list");
    let mut listed: Vec<String> = first.items.iter().map(|c| c.id.clone()).collect();
    listed.extend(second.items.iter().map(|c| c.id.clone()));
    assert_eq!(listed.len(), 3);
    let mut expected = [&range, &categorical, &boolean];
    expected.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    let expected: Vec<String> = expected.iter().map(|c| c.id.clone()).collect();
    assert_eq!(listed, expected);

    // The configs of some ids, in one read; unknown ids are left out.
    let ids = vec![range.id.clone(), "missing".to_owned(), boolean.id.clone()];
    let mut found: Vec<String> = store
        .score_configs_by_ids(PROJECT, &ids)
        .await
        .expect("by ids")
        .into_iter()
        .map(|config| config.id)
        .collect();
    found.sort();
    let mut wanted = vec![range.id.clone(), boolean.id.clone()];
    wanted.sort();
    assert_eq!(found, wanted);
    assert!(store
        .score_configs_by_ids(PROJECT, &[])
        .await
        .expect("no ids")
        .is_empty());

    // Another project sees none of them, and cannot change them.
    assert_eq!(
        store.get_score_config(OTHER, &range.id).await.expect("get"),
        None
    );
    assert!(store
        .score_configs_by_ids(OTHER, &ids)
        .await
        .expect("by ids")
        .is_empty());
    assert_eq!(
        store
            .list_score_configs(OTHER, page(1, 50))
            .await
            .expect("list")
            .total_items,
        0
    );
    let archive = ScoreConfigPatch {
        is_archived: Some(true),
        ..ScoreConfigPatch::default()
    };
    assert_eq!(
        store
            .update_score_config(OTHER, &range.id, &archive)
            .await
            .expect("update"),
        None
    );
    assert!(
        !store
            .get_score_config(PROJECT, &range.id)
            .await
            .expect("get")
            .expect("exists")
            .is_archived
    );
}

pub async fn score_config_patches_are_checked_as_a_whole<S: ScoreConfigsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let created = store
        .create_score_config(PROJECT, &numeric("quality", Some(0.0), Some(10.0)))
        .await
        .expect("create");
    let patched = store
        .update_score_config(
            PROJECT,
            &created.id,
            &ScoreConfigPatch {
                is_archived: Some(true),
                max_value: Some(20.0),
                description: Some("wider".to_owned()),
                ..ScoreConfigPatch::default()
            },
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(patched.is_archived);
    assert_eq!(
        (patched.min_value, patched.max_value),
        (Some(0.0), Some(20.0))
    );
    assert_eq!(patched.description.as_deref(), Some("wider"));
    assert_eq!(patched.created_at, created.created_at);
    assert!(patched.updated_at >= created.updated_at);
    let read = store
        .get_score_config(PROJECT, &created.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(read, patched);

    // A patch that would leave the config invalid is refused and changes nothing.
    for patch in [
        ScoreConfigPatch {
            min_value: Some(25.0),
            ..ScoreConfigPatch::default()
        },
        ScoreConfigPatch {
            name: Some("no/slashes".to_owned()),
            ..ScoreConfigPatch::default()
        },
        ScoreConfigPatch {
            categories: Some(vec![category("a", 1.0)]),
            ..ScoreConfigPatch::default()
        },
    ] {
        let error = store
            .update_score_config(PROJECT, &created.id, &patch)
            .await
            .expect_err("invalid patch");
        assert_eq!(error.kind, ErrorKind::InvalidArgument, "{patch:?}");
    }
    let unchanged = store
        .get_score_config(PROJECT, &created.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(unchanged, patched);
    assert_eq!(
        store
            .update_score_config(
                PROJECT,
                "missing",
                &ScoreConfigPatch {
                    is_archived: Some(false),
                    ..ScoreConfigPatch::default()
                }
            )
            .await
            .expect("update"),
        None
    );
}

pub async fn concurrent_score_config_patches_apply_one_after_the_other<S: ScoreConfigsStore>(
    store: Arc<S>,
) {
    // Each patch alone is valid (a minimum under the stored maximum, a maximum over the
    // stored minimum); together they are not, so one of each pair must be refused.
    for round in 0..6 {
        let created = store
            .create_score_config(
                PROJECT,
                &numeric(&format!("q{round}"), Some(0.0), Some(10.0)),
            )
            .await
            .expect("create");
        let raise_min = ScoreConfigPatch {
            min_value: Some(5.0),
            ..ScoreConfigPatch::default()
        };
        let lower_max = ScoreConfigPatch {
            max_value: Some(3.0),
            ..ScoreConfigPatch::default()
        };
        let tasks: Vec<_> = [raise_min, lower_max]
            .into_iter()
            .map(|patch| {
                let store = store.clone();
                let id = created.id.clone();
                tokio::spawn(async move { store.update_score_config(PROJECT, &id, &patch).await })
            })
            .collect();
        let mut applied = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(Some(_)) => applied += 1,
                Ok(None) => panic!("the config exists"),
                Err(error) => assert_eq!(error.kind, ErrorKind::InvalidArgument),
            }
        }
        assert_eq!(applied, 1, "round {round}");
        let stored = store
            .get_score_config(PROJECT, &created.id)
            .await
            .expect("get")
            .expect("exists");
        let (min, max) = (stored.min_value.unwrap(), stored.max_value.unwrap());
        assert!(min < max, "round {round}: stored {min} .. {max}");
    }

    // Patches of different fields all land.
    let created = store
        .create_score_config(PROJECT, &numeric("many", None, None))
        .await
        .expect("create");
    let tasks: Vec<_> = (0..8)
        .map(|index| {
            let store = store.clone();
            let id = created.id.clone();
            let patch = if index == 0 {
                ScoreConfigPatch {
                    is_archived: Some(true),
                    ..ScoreConfigPatch::default()
                }
            } else {
                ScoreConfigPatch {
                    description: Some(format!("d{index}")),
                    ..ScoreConfigPatch::default()
                }
            };
            tokio::spawn(async move { store.update_score_config(PROJECT, &id, &patch).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("update").expect("exists");
    }
    let stored = store
        .get_score_config(PROJECT, &created.id)
        .await
        .expect("get")
        .expect("exists");
    assert!(stored.is_archived);
    assert!(stored.description.is_some());
}
