//! The datasets conformance suite: the behaviour every [`Datasets`] backend must have
//! (datasets upserted by name, items upserted by id and listed by dataset or source, runs
//! created by their first run item, deletes, pages, project isolation), run as one
//! `#[tokio::test]` per case by [`datasets_conformance_suite!`](crate::datasets_conformance_suite).
//!
//! A backend's test file passes a function from a case's private directory to a future of the
//! store, as for the prompts suite.

use super::fixtures::{
    assert_refused, batch_of_observations, batch_of_scores, create_stamp, observation, score,
    simple_observation, simple_trace, BASE, SECOND,
};
use crate::accounts::Accounts;
use crate::audit::Actor;
use crate::datasets::{DatasetItemQuery, Datasets, ItemMediaLink, PageRequest};
use crate::experiments::{ExperimentItemQuery, ExperimentQuery};
use crate::{ErrorKind, MediaRecord, Store};
use spindle_core::dataset::{
    Dataset, DatasetItem, DatasetRun, DatasetRunItem, ItemStatus, NewDataset, NewDatasetItem,
    NewRunItem,
};
use spindle_core::{ExperimentRunItem, ObservationRecord, ScoreDataType, WriteBatch};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A backend of the suite.
pub trait DatasetsStore: Store + Datasets + Accounts {}

impl<S: Store + Datasets + Accounts> DatasetsStore for S {}

/// Expands to one `#[tokio::test]` per datasets case for the backend opened by `$open`, a
/// function from a directory to a future of the store. The calling crate needs `tokio` with
/// `macros` and `rt-multi-thread`.
#[macro_export]
macro_rules! datasets_conformance_suite {
    ($open:expr) => {
        $crate::__module_conformance_cases!(
            datasets, $open;
            datasets_upsert_by_name_list_and_isolation,
            dataset_items_upsert_list_get_and_delete,
            dataset_runs_start_with_their_first_item,
            dataset_items_read_as_they_were,
            dataset_summaries_count_items_and_runs,
            dataset_item_media_is_linked_and_resolved,
            dataset_runs_aggregate_their_traces_and_compare,
            experiment_spans_link_their_dataset_items,
            dataset_deletions_are_audited_once_with_their_actor,
        );
    };
}

const PROJECT: &str = "p1";
const OTHER: &str = "p2";

/// The actor of the suite's changes.
fn api() -> Actor {
    Actor::ProjectKey("pk-conformance".into())
}

fn dataset(name: &str) -> NewDataset {
    NewDataset {
        name: name.to_owned(),
        ..NewDataset::default()
    }
}

fn item(dataset_name: &str, id: Option<&str>, input: &str) -> NewDatasetItem {
    NewDatasetItem {
        dataset_name: dataset_name.to_owned(),
        id: id.map(str::to_owned),
        input: Some(input.to_owned()),
        ..NewDatasetItem::default()
    }
}

/// `item`, archived.
fn archived(item: NewDatasetItem) -> NewDatasetItem {
    NewDatasetItem {
        status: Some(ItemStatus::Archived),
        ..item
    }
}

/// Creates the dataset `name` of `project`; fails on an error.
async fn create_dataset<S: DatasetsStore>(store: &S, project: &str, name: &str) -> Dataset {
    store
        .upsert_dataset(project, &dataset(name))
        .await
        .unwrap_or_else(|error| panic!("create {name}: {error:?}"))
}

/// Writes `item` in `project`; fails on an error. Returns the stored item.
async fn add_item<S: DatasetsStore>(
    store: &S,
    project: &str,
    item: &NewDatasetItem,
) -> DatasetItem {
    store
        .upsert_dataset_item(project, item)
        .await
        .unwrap_or_else(|error| panic!("item {:?}: {error:?}", item.id))
}

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest { page, limit }
}

fn run_item(run_name: &str, item_id: &str, trace_id: Option<&str>) -> NewRunItem {
    NewRunItem {
        run_name: run_name.to_owned(),
        dataset_item_id: item_id.to_owned(),
        trace_id: trace_id.map(str::to_owned),
        ..NewRunItem::default()
    }
}

pub async fn datasets_upsert_by_name_list_and_isolation<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let created = store
        .upsert_dataset(
            PROJECT,
            &NewDataset {
                name: "qa/capitals".to_owned(),
                description: Some("capital cities".to_owned()),
                metadata: Some(r#"{"owner":"geo"}"#.to_owned()),
                input_schema: Some(r#"{"type":"object"}"#.to_owned()),
                expected_output_schema: None,
            },
        )
        .await
        .expect("create");
    assert_eq!(created.name, "qa/capitals");
    assert_eq!(created.project_id, PROJECT);
    assert_eq!(created.id.len(), 36);
    assert_eq!(created.created_at, created.updated_at);

    // An update by name keeps the id and what the request leaves out.
    let updated = store
        .upsert_dataset(
            PROJECT,
            &NewDataset {
                description: Some("world capitals".to_owned()),
                ..dataset("qa/capitals")
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.description.as_deref(), Some("world capitals"));
    assert_eq!(updated.metadata.as_deref(), Some(r#"{"owner":"geo"}"#));
    assert_eq!(
        updated.input_schema.as_deref(),
        Some(r#"{"type":"object"}"#)
    );
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
    let read = store
        .get_dataset(PROJECT, "qa/capitals")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(read, updated);
    assert_eq!(store.get_dataset(PROJECT, "qa").await.expect("get"), None);

    for name in ["b", "c"] {
        create_dataset(store, PROJECT, name).await;
    }
    let other = create_dataset(store, OTHER, "qa/capitals").await;
    assert_ne!(other.id, created.id, "a name is per project");

    let first = store
        .list_datasets(PROJECT, page(1, 2))
        .await
        .expect("list");
    assert_eq!(first.total_items, 3);
    assert_eq!(first.total_pages(), 2);
    assert_eq!(first.items.len(), 2);
    let second = store
        .list_datasets(PROJECT, page(2, 2))
        .await
        .expect("list");
    assert_eq!(second.items.len(), 1);
    let mut names: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|dataset| dataset.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["b", "c", "qa/capitals"]);
    let others = store.list_datasets(OTHER, page(1, 10)).await.expect("list");
    assert_eq!(others.total_items, 1);
    assert_eq!(others.items[0].description, None);
}

pub async fn dataset_items_upsert_list_get_and_delete<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let capitals = create_dataset(store, PROJECT, "capitals").await;
    create_dataset(store, PROJECT, "rivers").await;

    let missing = store
        .upsert_dataset_item(PROJECT, &item("absent", None, "1"))
        .await
        .expect_err("unknown dataset");
    assert_eq!(missing.kind, ErrorKind::NotFound);

    let generated = add_item(
        store,
        PROJECT,
        &item("capitals", None, r#"{"country":"Italy"}"#),
    )
    .await;
    assert_eq!(generated.id.len(), 36);
    assert_eq!(generated.dataset_id, capitals.id);
    assert_eq!(generated.dataset_name, "capitals");
    assert_eq!(generated.status, ItemStatus::Active);
    assert_eq!(generated.input.as_deref(), Some(r#"{"country":"Italy"}"#));

    let named = store
        .upsert_dataset_item(
            PROJECT,
            &NewDatasetItem {
                expected_output: Some(r#""Paris""#.to_owned()),
                metadata: Some(r#"{"difficulty":1}"#.to_owned()),
                source_trace_id: Some("trace-1".to_owned()),
                source_observation_id: Some("obs-1".to_owned()),
                ..item("capitals", Some("france"), r#"{"country":"France"}"#)
            },
        )
        .await
        .expect("create with id");
    assert_eq!(named.id, "france");

    // An upsert by id changes what it names and keeps the rest.
    let archived = store
        .upsert_dataset_item(
            PROJECT,
            &NewDatasetItem {
                dataset_name: "capitals".to_owned(),
                id: Some("france".to_owned()),
                status: Some(ItemStatus::Archived),
                ..NewDatasetItem::default()
            },
        )
        .await
        .expect("archive");
    assert_eq!(archived.status, ItemStatus::Archived);
    assert_eq!(archived.input, named.input);
    assert_eq!(archived.expected_output.as_deref(), Some(r#""Paris""#));
    assert_eq!(archived.source_trace_id.as_deref(), Some("trace-1"));
    assert_eq!(archived.created_at, named.created_at);
    let edited = store
        .upsert_dataset_item(PROJECT, &item("capitals", Some("france"), r#""FR""#))
        .await
        .expect("edit");
    assert_eq!(edited.status, ItemStatus::Archived, "kept when not named");
    assert_eq!(edited.input.as_deref(), Some(r#""FR""#));

    assert_refused(
        store
            .upsert_dataset_item(PROJECT, &item("rivers", Some("france"), "1"))
            .await,
        "an id of another dataset",
        ErrorKind::InvalidArgument,
        "id:",
    );

    add_item(store, PROJECT, &item("rivers", Some("nile"), r#""Nile""#)).await;

    let all = |query: DatasetItemQuery| async move {
        store
            .list_dataset_items(PROJECT, &query)
            .await
            .expect("list")
    };
    let of_capitals = all(DatasetItemQuery {
        page: page(1, 10),
        dataset_name: Some("capitals".to_owned()),
        ..DatasetItemQuery::default()
    })
    .await;
    assert_eq!(of_capitals.total_items, 2);
    let mut ids: Vec<&str> = of_capitals.items.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    let mut expected = vec![generated.id.as_str(), "france"];
    expected.sort();
    assert_eq!(ids, expected);
    let everything = all(DatasetItemQuery {
        page: page(1, 2),
        ..DatasetItemQuery::default()
    })
    .await;
    assert_eq!((everything.total_items, everything.items.len()), (3, 2));
    let by_trace = all(DatasetItemQuery {
        page: page(1, 10),
        source_trace_id: Some("trace-1".to_owned()),
        ..DatasetItemQuery::default()
    })
    .await;
    assert_eq!(by_trace.items.len(), 1);
    assert_eq!(by_trace.items[0].id, "france");
    let by_observation = all(DatasetItemQuery {
        page: page(1, 10),
        dataset_name: Some("rivers".to_owned()),
        source_observation_id: Some("obs-1".to_owned()),
        ..DatasetItemQuery::default()
    })
    .await;
    assert_eq!(by_observation.total_items, 0);
    let unknown = store
        .list_dataset_items(
            PROJECT,
            &DatasetItemQuery {
                dataset_name: Some("absent".to_owned()),
                ..DatasetItemQuery::default()
            },
        )
        .await
        .expect_err("unknown dataset");
    assert_eq!(unknown.kind, ErrorKind::NotFound);

    // Another project sees none of it.
    assert_eq!(
        store.get_dataset_item(OTHER, "france").await.expect("get"),
        None
    );
    assert!(!store
        .delete_dataset_item(OTHER, "france", &api())
        .await
        .expect("delete"));
    let foreign = store
        .list_dataset_items(
            OTHER,
            &DatasetItemQuery {
                page: page(1, 10),
                ..DatasetItemQuery::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(foreign.total_items, 0);

    // A delete takes the item's run items with it.
    store
        .create_run_item(PROJECT, &run_item("run-1", "nile", Some("t-nile")))
        .await
        .expect("run item");
    assert!(store
        .delete_dataset_item(PROJECT, "nile", &api())
        .await
        .expect("delete"));
    assert_eq!(
        store.get_dataset_item(PROJECT, "nile").await.expect("get"),
        None
    );
    assert!(!store
        .delete_dataset_item(PROJECT, "nile", &api())
        .await
        .expect("delete again"));
    let (_, run_items) = store
        .get_dataset_run(PROJECT, "rivers", "run-1")
        .await
        .expect("get run")
        .expect("the run stays");
    assert!(run_items.is_empty());
}

pub async fn dataset_runs_start_with_their_first_item<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let capitals = create_dataset(store, PROJECT, "capitals").await;
    for id in ["italy", "spain"] {
        add_item(store, PROJECT, &item("capitals", Some(id), "1")).await;
    }
    add_item(
        store,
        PROJECT,
        &archived(item("capitals", Some("old"), "1")),
    )
    .await;

    // The trace need not exist.
    let first = store
        .create_run_item(
            PROJECT,
            &NewRunItem {
                run_description: Some("baseline".to_owned()),
                metadata: Some(r#"{"model":"small"}"#.to_owned()),
                ..run_item("baseline run", "italy", Some("trace-italy"))
            },
        )
        .await
        .expect("first run item");
    assert_eq!(first.run_name, "baseline run");
    assert_eq!(first.dataset_item_id, "italy");
    assert_eq!(first.trace_id, "trace-italy");
    assert_eq!(first.observation_id, None);

    // Without a trace id, the observation's stored trace.
    store
        .write(
            PROJECT,
            batch_of_observations(vec![simple_observation(
                "obs-spain",
                "trace-spain",
                BASE,
                Some(BASE + SECOND),
            )]),
        )
        .await
        .expect("write");
    let second = store
        .create_run_item(
            PROJECT,
            &NewRunItem {
                observation_id: Some("obs-spain".to_owned()),
                created_at: Some(BASE),
                ..run_item("baseline run", "spain", None)
            },
        )
        .await
        .expect("second run item");
    assert_eq!(second.run_id, first.run_id, "one run per name");
    assert_eq!(second.trace_id, "trace-spain");
    assert_eq!(second.observation_id.as_deref(), Some("obs-spain"));
    assert_eq!(second.created_at, BASE);

    let refused = [
        (run_item("r", "old", Some("t")), ErrorKind::NotFound),
        (run_item("r", "absent", Some("t")), ErrorKind::NotFound),
        (run_item("r", "italy", None), ErrorKind::InvalidArgument),
        (
            NewRunItem {
                observation_id: Some("not stored".to_owned()),
                ..run_item("r", "italy", None)
            },
            ErrorKind::NotFound,
        ),
    ];
    for (index, (request, kind)) in refused.into_iter().enumerate() {
        let error = store
            .create_run_item(PROJECT, &request)
            .await
            .expect_err("refused");
        assert_eq!(error.kind, kind, "case {index}: {}", error.message);
    }
    assert!(
        store
            .create_run_item(OTHER, &run_item("r", "italy", Some("t")))
            .await
            .is_err(),
        "an item of another project"
    );

    // A later run item updates the description and keeps the metadata.
    store
        .create_run_item(
            PROJECT,
            &NewRunItem {
                run_description: Some("baseline v2".to_owned()),
                ..run_item("baseline run", "italy", Some("trace-italy-2"))
            },
        )
        .await
        .expect("third run item");
    store
        .create_run_item(PROJECT, &run_item("candidate", "italy", Some("t-c")))
        .await
        .expect("another run");

    let runs = store
        .list_dataset_runs(PROJECT, "capitals", page(1, 1))
        .await
        .expect("list runs")
        .expect("dataset exists");
    assert_eq!((runs.total_items, runs.items.len()), (2, 1));
    assert!(store
        .list_dataset_runs(PROJECT, "absent", page(1, 10))
        .await
        .expect("list runs")
        .is_none());
    assert_eq!(
        store
            .list_dataset_runs(OTHER, "capitals", page(1, 10))
            .await
            .expect("list runs"),
        None
    );

    let (run, items) = store
        .get_dataset_run(PROJECT, "capitals", "baseline run")
        .await
        .expect("get run")
        .expect("exists");
    assert_eq!(run.id, first.run_id);
    assert_eq!(run.dataset_id, capitals.id);
    assert_eq!(run.dataset_name, "capitals");
    assert_eq!(run.description.as_deref(), Some("baseline v2"));
    assert_eq!(run.metadata.as_deref(), Some(r#"{"model":"small"}"#));
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|item| item.run_name == "baseline run"));

    let listed = store
        .list_run_items(PROJECT, &capitals.id, "baseline run", page(1, 2))
        .await
        .expect("list run items")
        .expect("run exists");
    assert_eq!((listed.total_items, listed.items.len()), (3, 2));
    assert!(store
        .list_run_items(PROJECT, &capitals.id, "absent", page(1, 2))
        .await
        .expect("list run items")
        .is_none());

    assert!(!store
        .delete_dataset_run(OTHER, "capitals", "baseline run", &api())
        .await
        .expect("delete"));
    assert!(store
        .delete_dataset_run(PROJECT, "capitals", "baseline run", &api())
        .await
        .expect("delete"));
    assert_eq!(
        store
            .get_dataset_run(PROJECT, "capitals", "baseline run")
            .await
            .expect("get run"),
        None
    );
    assert!(!store
        .delete_dataset_run(PROJECT, "capitals", "baseline run", &api())
        .await
        .expect("delete again"));
    let remaining = store
        .list_dataset_runs(PROJECT, "capitals", page(1, 10))
        .await
        .expect("list runs")
        .expect("dataset exists");
    assert_eq!(remaining.items.len(), 1);
    assert_eq!(remaining.items[0].name, "candidate");
    // Recreating the run by name starts it empty.
    store
        .create_run_item(PROJECT, &run_item("baseline run", "spain", Some("t-new")))
        .await
        .expect("recreate");
    let (_, items) = store
        .get_dataset_run(PROJECT, "capitals", "baseline run")
        .await
        .expect("get run")
        .expect("exists");
    assert_eq!(items.len(), 1);
}

/// `version`: the items of a dataset as they were at a time, through updates, an archive and a
/// delete; the times are the `updated_at` of the writes themselves.
pub async fn dataset_items_read_as_they_were<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    create_dataset(store, PROJECT, "capitals").await;
    let listed = |project: &'static str, version: Option<i64>| async move {
        let page = store
            .list_dataset_items(
                project,
                &DatasetItemQuery {
                    page: page(1, 10),
                    dataset_name: (project == PROJECT).then(|| "capitals".to_owned()),
                    version,
                    ..DatasetItemQuery::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(page.total_items, page.items.len() as u64);
        let mut items: Vec<(String, ItemStatus, Option<String>)> = page
            .items
            .into_iter()
            .map(|i| (i.id, i.status, i.input))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items
    };
    let at = |version: i64| listed(PROJECT, Some(version));
    let state =
        |id: &str, status: ItemStatus, input: &str| (id.to_owned(), status, Some(input.to_owned()));
    let write = |new: NewDatasetItem| async move {
        store
            .upsert_dataset_item(PROJECT, &new)
            .await
            .expect("upsert")
            .updated_at
    };

    let first = write(item("capitals", Some("italy"), r#""Italy""#)).await;
    let second = write(item("capitals", Some("france"), r#""France""#)).await;
    let renamed = write(item("capitals", Some("italy"), r#""Italia""#)).await;
    let archived = write(archived(item("capitals", Some("france"), r#""Francia""#))).await;
    assert!(store
        .delete_dataset_item(PROJECT, "italy", &api())
        .await
        .expect("delete"));
    let after_delete = write(item("capitals", Some("spain"), r#""Spain""#)).await;

    assert_eq!(at(first - 1).await, vec![]);
    assert_eq!(
        at(first).await,
        vec![state("italy", ItemStatus::Active, r#""Italy""#)]
    );
    assert_eq!(
        at(second).await,
        vec![
            state("france", ItemStatus::Active, r#""France""#),
            state("italy", ItemStatus::Active, r#""Italy""#),
        ]
    );
    assert_eq!(
        at(renamed).await,
        vec![
            state("france", ItemStatus::Active, r#""France""#),
            state("italy", ItemStatus::Active, r#""Italia""#),
        ]
    );
    assert_eq!(
        at(archived).await,
        vec![
            state("france", ItemStatus::Archived, r#""Francia""#),
            state("italy", ItemStatus::Active, r#""Italia""#),
        ]
    );
    let now = vec![
        state("france", ItemStatus::Archived, r#""Francia""#),
        state("spain", ItemStatus::Active, r#""Spain""#),
    ];
    assert_eq!(at(after_delete).await, now);
    assert_eq!(
        listed(PROJECT, None).await,
        now,
        "the present version is the current list"
    );
    // Another project's history stays its own.
    assert_eq!(listed(OTHER, Some(after_delete)).await, vec![]);

    // A run item records the version of the item it ran on: the state in force at the
    // requested dataset version, or the latest one; archived or deleted states are refused.
    let run_at = |item_id: &'static str, version: Option<i64>| async move {
        store
            .create_run_item(
                PROJECT,
                &NewRunItem {
                    dataset_version: version,
                    ..run_item("versioned", item_id, Some("t-versioned"))
                },
            )
            .await
    };
    let latest = run_at("spain", None).await.expect("latest version");
    assert_eq!(latest.dataset_version, Some(after_delete));
    let france_then = run_at("france", Some(renamed)).await.expect("france then");
    assert_eq!(france_then.dataset_version, Some(second));
    let italy_then = run_at("italy", Some(archived))
        .await
        .expect("deleted later");
    assert_eq!(italy_then.dataset_version, Some(renamed));
    for (item_id, version) in [
        ("france", Some(archived)),
        ("france", None),
        ("italy", None),
        ("italy", Some(after_delete)),
        ("spain", Some(first)),
    ] {
        let error = run_at(item_id, version).await.expect_err("refused");
        assert_eq!(error.kind, ErrorKind::NotFound, "{item_id} at {version:?}");
    }
    let (_, run_items) = store
        .get_dataset_run(PROJECT, "capitals", "versioned")
        .await
        .expect("get run")
        .expect("exists");
    let mut versions: Vec<_> = run_items
        .iter()
        .map(|item| (item.dataset_item_id.as_str(), item.dataset_version))
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        vec![
            ("france", Some(second)),
            ("italy", Some(renamed)),
            ("spain", Some(after_delete)),
        ]
    );

    // Pruning up to the last write: every answer from then on stays, and so does every
    // version a run item ran on (france's second, italy's renamed state and, since that one
    // stays, the tombstone after it); italy's first state goes, earlier answers change.
    let prune = |max_rows: u32| async move {
        store
            .prune_item_versions(PROJECT, after_delete, max_rows)
            .await
            .expect("prune")
    };
    assert_eq!(prune(1000).await, 1, "only italy's first state");
    assert_eq!(prune(1000).await, 0, "nothing more");
    assert_eq!(at(after_delete).await, now);
    assert_eq!(listed(PROJECT, None).await, now);
    assert_eq!(
        at(archived).await,
        vec![
            state("france", ItemStatus::Archived, r#""Francia""#),
            state("italy", ItemStatus::Active, r#""Italia""#),
        ]
    );
    assert_eq!(at(second).await.len(), 1, "italy's first state is gone");
    // Without its run the rest of the history before the cutoff goes: france's second state,
    // italy's renamed one and then its tombstone, which has nothing left before it.
    assert!(store
        .delete_dataset_run(PROJECT, "capitals", "versioned", &api())
        .await
        .expect("delete run"));
    assert_eq!(prune(1000).await, 3);
    assert_eq!(at(after_delete).await, now);
    assert_eq!(listed(PROJECT, None).await, now);
    assert_eq!(at(renamed).await, vec![]);
    // Another project's pruning touches nothing here.
    assert_eq!(
        store
            .prune_item_versions(OTHER, i64::MAX, 1000)
            .await
            .expect("prune other"),
        0
    );
    assert_eq!(at(after_delete).await, now);
}

/// The datasets list with each dataset's item and run counts (archived items included), page
/// by page and per project.
pub async fn dataset_summaries_count_items_and_runs<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    for name in ["a", "b", "c"] {
        create_dataset(store, PROJECT, name).await;
    }
    create_dataset(store, OTHER, "a").await;
    for (project, dataset_name, id) in [
        (PROJECT, "a", "a1"),
        (PROJECT, "a", "a2"),
        (PROJECT, "a", "a3"),
        (PROJECT, "b", "b1"),
        (OTHER, "a", "o1"),
    ] {
        add_item(store, project, &item(dataset_name, Some(id), "1")).await;
    }
    add_item(store, PROJECT, &archived(item("a", Some("a3"), "1"))).await;
    for run in ["r1", "r2"] {
        store
            .create_run_item(PROJECT, &run_item(run, "a1", Some("t1")))
            .await
            .expect("run item");
    }
    let counts = |project: &'static str| async move {
        let mut counts = Vec::new();
        for number in 1..=3 {
            let page = store
                .list_dataset_summaries(project, page(number, 2))
                .await
                .expect("summaries");
            assert_eq!(page.total_items, if project == PROJECT { 3 } else { 1 });
            counts.extend(
                page.items
                    .into_iter()
                    .map(|summary| (summary.dataset.name, summary.item_count, summary.run_count)),
            );
        }
        counts.sort();
        counts
    };
    let expected = |rows: &[(&str, u64, u64)]| -> Vec<(String, u64, u64)> {
        rows.iter()
            .map(|(name, items, runs)| ((*name).to_owned(), *items, *runs))
            .collect()
    };
    assert_eq!(
        counts(PROJECT).await,
        expected(&[("a", 3, 2), ("b", 1, 0), ("c", 0, 0)])
    );
    assert_eq!(counts(OTHER).await, expected(&[("a", 1, 0)]));
    // The summaries are the datasets the plain list gives, in its order.
    let plain = store
        .list_datasets(PROJECT, page(1, 10))
        .await
        .expect("list");
    let summaries = store
        .list_dataset_summaries(PROJECT, page(1, 10))
        .await
        .expect("summaries");
    let datasets: Vec<_> = summaries.items.into_iter().map(|s| s.dataset).collect();
    assert_eq!(datasets, plain.items);
    assert!(store
        .delete_dataset_item(PROJECT, "b1", &api())
        .await
        .expect("delete"));
    assert_eq!(
        counts(PROJECT).await,
        expected(&[("a", 3, 2), ("b", 0, 0), ("c", 0, 0)])
    );
}

/// A media record of `project` with id `id`.
fn media(project: &str, id: &str) -> MediaRecord {
    MediaRecord {
        id: id.to_owned(),
        project_id: project.to_owned(),
        sha256_hash: format!("hash-of-{id}"),
        content_type: "image/png".to_owned(),
        content_length: 3,
        trace_id: None,
        observation_id: None,
        field: Some("input".to_owned()),
        uploaded_at: None,
        upload_http_status: None,
        created_at: BASE,
    }
}

/// Media uploaded for an item before the item exists is linked to it (once per media and
/// field, only under a dataset of the project); references resolve to the project's media
/// whose bytes were stored; deleting the item removes its links.
pub async fn dataset_item_media_is_linked_and_resolved<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let pictures = create_dataset(store, PROJECT, "pictures").await;
    let link = |media_id: &str, field: &str| ItemMediaLink {
        dataset_id: pictures.id.clone(),
        dataset_item_id: "photo".to_owned(),
        media_id: media_id.to_owned(),
        field: field.to_owned(),
    };
    for (media_id, field) in [("m1", "input"), ("m1", "input"), ("m1", "expectedOutput")] {
        store
            .link_item_media(PROJECT, &link(media_id, field))
            .await
            .expect("link before the item exists");
    }
    let unknown = ItemMediaLink {
        dataset_id: "no-such-dataset".to_owned(),
        ..link("m1", "input")
    };
    for (project, link) in [(PROJECT, unknown), (OTHER, link("m1", "input"))] {
        let error = store
            .link_item_media(project, &link)
            .await
            .expect_err("no such dataset in the project");
        assert_eq!(error.kind, ErrorKind::NotFound);
    }
    assert_eq!(
        store
            .item_media_links(PROJECT, "photo")
            .await
            .expect("links"),
        vec![link("m1", "expectedOutput"), link("m1", "input")]
    );
    assert_eq!(
        store.item_media_links(OTHER, "photo").await.expect("links"),
        vec![]
    );

    for record in [
        media(PROJECT, "m1"),
        media(PROJECT, "m2"),
        media(OTHER, "m3"),
    ] {
        store.upsert_media(&record).await.expect("register");
    }
    for (project, id) in [(PROJECT, "m1"), (OTHER, "m3")] {
        store
            .put_media_bytes(project, id, b"png".to_vec(), BASE + SECOND)
            .await
            .expect("upload");
    }
    let ids = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
    let resolved = store
        .uploaded_media(PROJECT, &ids(&["m3", "m2", "m1", "nope"]))
        .await
        .expect("resolve");
    assert_eq!(
        resolved.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m1"],
        "uploaded media of the project only"
    );
    assert_eq!(resolved[0].content_type, "image/png");
    assert_eq!(resolved[0].content_length, 3);
    assert!(store
        .uploaded_media(PROJECT, &[])
        .await
        .expect("none asked")
        .is_empty());

    add_item(store, PROJECT, &item("pictures", Some("photo"), "1")).await;
    assert!(store
        .delete_dataset_item(PROJECT, "photo", &api())
        .await
        .expect("delete"));
    assert_eq!(
        store
            .item_media_links(PROJECT, "photo")
            .await
            .expect("links"),
        vec![]
    );
}

/// A generation of `trace_id` from `BASE` for `seconds`, with usage 10 in / 5 out and `cost`.
fn measured_observation(id: &str, trace_id: &str, seconds: i64, cost: f64) -> ObservationRecord {
    observation(id, create_stamp(BASE), |o| {
        o.trace_id = Some(trace_id.to_owned());
        o.start_time = Some(BASE);
        o.end_time = Some(BASE + seconds * SECOND);
        o.usage_details = Some(BTreeMap::from([
            ("input".to_owned(), 10),
            ("output".to_owned(), 5),
            ("total".to_owned(), 15),
        ]));
        o.cost_details = Some(BTreeMap::from([("total".to_owned(), cost)]));
        o.output = Some(format!("\"{id} says\""));
    })
}

/// A score of a trace: numeric, boolean (`value` 1 or 0) or categorical (`text`).
fn trace_score(
    trace_id: &str,
    name: &str,
    data_type: ScoreDataType,
    value: Option<f64>,
    text: Option<&str>,
) -> spindle_core::ScoreRecord {
    score(&format!("{trace_id}-{name}"), create_stamp(BASE), |s| {
        s.trace_id = Some(trace_id.to_owned());
        s.name = Some(name.to_owned());
        s.data_type = Some(data_type);
        s.value = value;
        s.string_value = text.map(str::to_owned);
        s.timestamp = Some(BASE);
    })
}

/// A run's aggregates (latency, cost and tokens of the linked traces or observations, score
/// summaries) and the comparison of runs item by item.
pub async fn dataset_runs_aggregate_their_traces_and_compare<S: DatasetsStore>(store: Arc<S>) {
    let store = store.as_ref();
    create_dataset(store, PROJECT, "qa").await;
    for id in ["q1", "q2", "q3"] {
        add_item(store, PROJECT, &item("qa", Some(id), &format!("\"{id}?\""))).await;
    }
    let mut traces = vec![
        simple_trace("ta1", BASE, "task"),
        simple_trace("ta2", BASE, "task"),
    ];
    traces[0].output = Some(r#""paris""#.to_owned());
    store
        .write(
            PROJECT,
            WriteBatch {
                traces,
                observations: vec![
                    measured_observation("ta1-o", "ta1", 2, 0.5),
                    measured_observation("ta2-o", "ta2", 4, 1.5),
                    // Not the observation the run item names: left out.
                    measured_observation("ta2-other", "ta2", 10, 100.0),
                    measured_observation("tb3-o", "tb3", 1, 2.0),
                ],
                scores: Vec::new(),
                run_items: Vec::new(),
                completions: Vec::new(),
            },
        )
        .await
        .expect("write traces");
    store
        .write(
            PROJECT,
            batch_of_scores(vec![
                trace_score("ta1", "accuracy", ScoreDataType::Numeric, Some(1.0), None),
                trace_score("ta2", "accuracy", ScoreDataType::Numeric, Some(0.0), None),
                trace_score(
                    "ta1",
                    "correct",
                    ScoreDataType::Boolean,
                    Some(1.0),
                    Some("True"),
                ),
                trace_score(
                    "ta2",
                    "correct",
                    ScoreDataType::Boolean,
                    Some(0.0),
                    Some("False"),
                ),
                trace_score(
                    "ta1",
                    "tone",
                    ScoreDataType::Categorical,
                    None,
                    Some("polite"),
                ),
                trace_score("tb1", "accuracy", ScoreDataType::Numeric, Some(0.25), None),
            ]),
        )
        .await
        .expect("write scores");
    let link = |run: &'static str, item: &'static str, trace: &'static str, at: i64| NewRunItem {
        created_at: Some(at),
        ..run_item(run, item, Some(trace))
    };
    for request in [
        link("a", "q1", "ta1", BASE),
        NewRunItem {
            observation_id: Some("ta2-o".to_owned()),
            ..link("a", "q2", "ta2", BASE)
        },
        link("b", "q1", "tb1-old", BASE),
        link("b", "q1", "tb1", BASE + SECOND),
        link("b", "q3", "tb3", BASE),
    ] {
        store
            .create_run_item(PROJECT, &request)
            .await
            .expect("run item");
    }

    let run_a = store
        .run_aggregates(PROJECT, "qa", "a")
        .await
        .expect("aggregates")
        .expect("run a exists");
    assert_eq!(run_a.run.name, "a");
    assert_eq!(run_a.item_count, 2);
    let latency = run_a.latency.as_ref().expect("latency");
    assert_eq!((latency.mean, latency.min, latency.max), (3.0, 2.0, 4.0));
    assert_eq!(run_a.total_cost, 2.0);
    assert_eq!(run_a.mean_cost, Some(1.0));
    assert_eq!(
        (run_a.input_tokens, run_a.output_tokens, run_a.total_tokens),
        (20, 10, 30)
    );
    let names: Vec<(&str, &str, u64)> = run_a
        .scores
        .iter()
        .map(|s| (s.name.as_str(), s.data_type.as_str(), s.count))
        .collect();
    assert_eq!(
        names,
        vec![
            ("accuracy", "NUMERIC", 2),
            ("correct", "BOOLEAN", 2),
            ("tone", "CATEGORICAL", 1)
        ]
    );
    assert_eq!(run_a.scores[0].numeric.as_ref().map(|n| n.mean), Some(0.5));
    assert_eq!(run_a.scores[1].true_rate, Some(0.5));
    assert_eq!(run_a.scores[2].categories, vec![("polite".to_owned(), 1)]);

    // A run whose traces were not stored counts its items and nothing else.
    let run_b = store
        .run_aggregates(PROJECT, "qa", "b")
        .await
        .expect("aggregates")
        .expect("run b exists");
    assert_eq!(run_b.item_count, 3);
    assert_eq!(run_b.total_cost, 2.0);
    assert_eq!(run_b.latency.as_ref().map(|l| l.mean), Some(1.0));
    for (project, dataset_name, run) in [
        (PROJECT, "qa", "absent"),
        (PROJECT, "absent", "a"),
        (OTHER, "qa", "a"),
    ] {
        assert!(store
            .run_aggregates(project, dataset_name, run)
            .await
            .expect("aggregates")
            .is_none());
    }

    let names = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let comparison = store
        .compare_runs(PROJECT, "qa", &names(&["a", "b"]), page(1, 10))
        .await
        .expect("compare")
        .expect("dataset exists");
    assert_eq!(
        comparison
            .runs
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        vec!["a", "b"]
    );
    assert_eq!(comparison.items.total_items, 3);
    let mut rows: Vec<_> = comparison
        .items
        .items
        .iter()
        .map(|compared| {
            let traces: Vec<Option<&str>> = compared
                .runs
                .iter()
                .map(|run| run.as_ref().map(|m| m.trace_id.as_str()))
                .collect();
            (compared.item.id.as_str(), traces)
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("q1", vec![Some("ta1"), Some("tb1")]),
            ("q2", vec![Some("ta2"), None]),
            ("q3", vec![None, Some("tb3")]),
        ]
    );
    let by_id = |id: &str| {
        comparison
            .items
            .items
            .iter()
            .find(|compared| compared.item.id == id)
            .expect("listed")
    };
    let q1 = by_id("q1");
    assert_eq!(q1.item.input.as_deref(), Some(r#""q1?""#));
    let q1_a = q1.runs[0].as_ref().expect("run a ran q1");
    assert_eq!(
        q1_a.output.as_deref(),
        Some(r#""paris""#),
        "the trace's output"
    );
    assert_eq!(q1_a.latency_seconds, Some(2.0));
    assert_eq!(q1_a.total_cost, Some(0.5));
    assert_eq!(q1_a.scores.len(), 3);
    let q1_b = q1.runs[1].as_ref().expect("run b ran q1");
    assert_eq!(q1_b.latency_seconds, None, "no observations stored");
    assert_eq!(
        q1_b.scores
            .first()
            .and_then(|s| s.numeric.as_ref())
            .map(|n| n.mean),
        Some(0.25)
    );
    let q2_a = by_id("q2").runs[0].as_ref().expect("run a ran q2");
    assert_eq!(
        q2_a.output.as_deref(),
        Some(r#""ta2-o says""#),
        "the observation's output"
    );
    assert_eq!(
        (q2_a.latency_seconds, q2_a.total_cost),
        (Some(4.0), Some(1.5))
    );
    assert_eq!(q2_a.total_tokens, 15);

    let one_page = store
        .compare_runs(PROJECT, "qa", &names(&["b"]), page(2, 1))
        .await
        .expect("compare")
        .expect("dataset exists");
    assert_eq!(
        (one_page.items.total_items, one_page.items.items.len()),
        (2, 1)
    );

    let too_many = store
        .compare_runs(
            PROJECT,
            "qa",
            &names(&["a", "b", "a", "b", "a", "b"]),
            page(1, 10),
        )
        .await
        .expect_err("six runs");
    assert_eq!(too_many.kind, ErrorKind::InvalidArgument);
    let unknown_run = store
        .compare_runs(PROJECT, "qa", &names(&["a", "absent"]), page(1, 10))
        .await
        .expect_err("unknown run");
    assert_eq!(unknown_run.kind, ErrorKind::NotFound);
    assert!(store
        .compare_runs(OTHER, "qa", &names(&["a"]), page(1, 10))
        .await
        .expect("compare")
        .is_none());

    // The runs as experiments: their run items in a time range, latest activity first.
    let experiments = |query: ExperimentQuery| async move {
        store
            .list_experiments(PROJECT, &query)
            .await
            .expect("experiments")
    };
    let in_range = |from: i64, to: Option<i64>| ExperimentQuery {
        page: page(1, 10),
        from,
        to,
        ..ExperimentQuery::default()
    };
    let all = experiments(in_range(BASE, None)).await;
    let summary: Vec<(&str, i64, i64, u64)> = all
        .items
        .iter()
        .map(|e| (e.run.name.as_str(), e.start_time, e.end_time, e.item_count))
        .collect();
    assert_eq!(
        summary,
        vec![("b", BASE, BASE + SECOND, 3), ("a", BASE, BASE, 2)]
    );
    assert_eq!(all.total_items, 2);
    assert_eq!(all.items[1].run.dataset_name, "qa");
    let later = experiments(in_range(BASE + SECOND, None)).await;
    assert_eq!(
        later
            .items
            .iter()
            .map(|e| (e.run.name.as_str(), e.item_count))
            .collect::<Vec<_>>(),
        vec![("b", 1)]
    );
    let before = experiments(in_range(BASE, Some(BASE + SECOND))).await;
    assert_eq!(
        before
            .items
            .iter()
            .map(|e| e.item_count)
            .collect::<Vec<_>>(),
        vec![2, 2]
    );
    let named = experiments(ExperimentQuery {
        names: names(&["a"]),
        ..in_range(BASE, None)
    })
    .await;
    assert_eq!(
        (named.total_items, named.items[0].run.name.as_str()),
        (1, "a")
    );
    let by_id = experiments(ExperimentQuery {
        ids: vec![named.items[0].run.id.clone()],
        dataset_ids: vec![named.items[0].run.dataset_id.clone()],
        ..in_range(BASE, None)
    })
    .await;
    assert_eq!(by_id.total_items, 1);
    assert_eq!(
        store
            .list_experiments(OTHER, &in_range(BASE, None))
            .await
            .expect("experiments")
            .total_items,
        0
    );

    // Their items, newest first, with the run, the dataset item and the trace.
    let items = |query: ExperimentItemQuery| async move {
        store
            .list_experiment_items(PROJECT, &query)
            .await
            .expect("experiment items")
    };
    let of_b = items(ExperimentItemQuery {
        page: page(1, 10),
        from: BASE,
        experiment_names: names(&["b"]),
        ..ExperimentItemQuery::default()
    })
    .await;
    assert_eq!(of_b.total_items, 3);
    assert_eq!(of_b.items[0].run_item.trace_id, "tb1", "newest first");
    assert_eq!(of_b.items[0].trace_environment, None, "trace not stored");
    let q1_in_a = items(ExperimentItemQuery {
        page: page(1, 10),
        from: BASE,
        experiment_ids: vec![run_a.run.id.clone()],
        item_ids: names(&["q1"]),
        ..ExperimentItemQuery::default()
    })
    .await;
    assert_eq!(q1_in_a.total_items, 1);
    let q1_in_a = &q1_in_a.items[0];
    assert_eq!(q1_in_a.run_item.run_name, "a");
    assert_eq!(q1_in_a.dataset_id, run_a.run.dataset_id);
    assert_eq!(q1_in_a.item_input.as_deref(), Some(r#""q1?""#));
    assert_eq!(q1_in_a.trace_output.as_deref(), Some(r#""paris""#));
    assert_eq!(q1_in_a.trace_environment.as_deref(), Some("default"));
    assert!(q1_in_a.run_item.dataset_version.is_some());
    let none_later = items(ExperimentItemQuery {
        page: page(1, 10),
        from: BASE + 2 * SECOND,
        ..ExperimentItemQuery::default()
    })
    .await;
    assert_eq!(none_later.total_items, 0);
}

/// The run `run` of dataset `dataset` in [`PROJECT`] with its items, which must exist.
async fn existing_run<S: DatasetsStore>(
    store: &S,
    dataset: &str,
    run: &str,
) -> (DatasetRun, Vec<DatasetRunItem>) {
    store
        .get_dataset_run(PROJECT, dataset, run)
        .await
        .expect("read run")
        .unwrap_or_else(|| panic!("run {run} of {dataset} exists"))
}

/// A span of an experiment run: its trace, its observation and the run item it claims.
fn experiment_span(trace_id: &str, dataset_id: &str, item_id: &str, run_name: &str) -> WriteBatch {
    let observation_id = format!("{trace_id}-root");
    WriteBatch {
        traces: vec![simple_trace(trace_id, BASE, "experiment-item-run")],
        observations: vec![simple_observation(&observation_id, trace_id, BASE, None)],
        scores: Vec::new(),
        run_items: vec![ExperimentRunItem {
            dataset_id: dataset_id.to_owned(),
            dataset_item_id: item_id.to_owned(),
            run_name: run_name.to_owned(),
            run_description: Some("first try".to_owned()),
            run_metadata: Some(r#"{"model":"lookup"}"#.to_owned()),
            trace_id: trace_id.to_owned(),
            observation_id,
            dataset_version: None,
            created_at: BASE,
        }],
        completions: Vec::new(),
    }
}

/// Spans that name a dataset item and a run create the run and its run item with the span,
/// once however often they are delivered; an unknown dataset, an unknown item or an archived
/// one links nothing and fails nothing.
pub async fn experiment_spans_link_their_dataset_items<S: DatasetsStore>(store: Arc<S>) {
    let created = create_dataset(store.as_ref(), PROJECT, "exp").await;
    for (id, status) in [
        ("e1", ItemStatus::Active),
        ("e2", ItemStatus::Active),
        ("e3", ItemStatus::Archived),
    ] {
        let new = NewDatasetItem {
            status: Some(status),
            ..item("exp", Some(id), "1")
        };
        add_item(store.as_ref(), PROJECT, &new).await;
    }

    let first = experiment_span("tx1", &created.id, "e1", "r1");
    store.write(PROJECT, first.clone()).await.expect("write");
    // Delivered again: nothing more.
    store.write(PROJECT, first).await.expect("write again");
    store
        .write(PROJECT, experiment_span("tx2", &created.id, "e2", "r1"))
        .await
        .expect("second item");

    let (run, items) = existing_run(store.as_ref(), "exp", "r1").await;
    assert_eq!(run.dataset_id, created.id);
    assert_eq!(run.description.as_deref(), Some("first try"));
    assert_eq!(run.metadata.as_deref(), Some(r#"{"model":"lookup"}"#));
    let mut linked: Vec<_> = items
        .iter()
        .map(|i| {
            (
                i.dataset_item_id.as_str(),
                i.trace_id.as_str(),
                i.observation_id.as_deref(),
                i.run_name.as_str(),
            )
        })
        .collect();
    linked.sort_unstable();
    assert_eq!(
        linked,
        [
            ("e1", "tx1", Some("tx1-root"), "r1"),
            ("e2", "tx2", Some("tx2-root"), "r1")
        ]
    );
    assert!(
        items.iter().all(|i| i.dataset_version.is_some()),
        "each run item records the item version it read"
    );

    // Nothing to link: the spans are still written.
    for (trace_id, dataset_id, item_id) in [
        ("tx3", created.id.as_str(), "absent"),
        ("tx4", "no-such-dataset", "e1"),
        ("tx5", created.id.as_str(), "e3"),
    ] {
        store
            .write(
                PROJECT,
                experiment_span(trace_id, dataset_id, item_id, "r2"),
            )
            .await
            .expect("a span without its item is still written");
        assert!(
            store
                .get_trace(PROJECT, trace_id)
                .await
                .expect("read trace")
                .is_some(),
            "trace {trace_id} stored"
        );
    }
    let runs = store
        .list_dataset_runs(PROJECT, "exp", page(1, 10))
        .await
        .expect("runs")
        .expect("the dataset exists");
    assert_eq!(
        runs.items
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["r1"],
        "no run without an item to link"
    );
    // Another project has no such dataset item.
    store
        .write(OTHER, experiment_span("tx6", &created.id, "e1", "r1"))
        .await
        .expect("other project");
    let (_, items) = existing_run(store.as_ref(), "exp", "r1").await;
    assert_eq!(items.len(), 2, "other projects' spans link nothing here");
}

/// Deleting an item or a run writes one audit entry naming its actor, in its transaction;
/// deleting what is not there writes none.
pub async fn dataset_deletions_are_audited_once_with_their_actor<S: DatasetsStore>(store: Arc<S>) {
    use super::organizations::{audited_project, project_log};
    use crate::audit::resource;
    let store = store.as_ref();
    audited_project(store, PROJECT).await;
    let key = api();
    let user = Actor::User("u1".into());
    create_dataset(store, PROJECT, "audited").await;
    for id in ["kept", "gone"] {
        add_item(store, PROJECT, &item("audited", Some(id), "{}")).await;
    }
    let run = store
        .create_run_item(PROJECT, &run_item("nightly", "kept", Some("t1")))
        .await
        .expect("run item");

    assert!(store
        .delete_dataset_item(PROJECT, "gone", &key)
        .await
        .expect("delete item"));
    assert!(!store
        .delete_dataset_item(PROJECT, "gone", &key)
        .await
        .expect("delete item again"));
    assert!(store
        .delete_dataset_run(PROJECT, "audited", "nightly", &user)
        .await
        .expect("delete run"));
    assert!(!store
        .delete_dataset_run(PROJECT, "audited", "nightly", &user)
        .await
        .expect("delete run again"));

    let items = project_log(store, PROJECT, resource::DATASET_ITEM).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].0.as_str(), items[0].1.as_str(), &items[0].2),
        ("deleted", "gone", &key)
    );
    let runs = project_log(store, PROJECT, resource::DATASET_RUN).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].0.as_str(), runs[0].1.as_str(), &runs[0].2),
        ("deleted", run.run_id.as_str(), &user)
    );
    assert_eq!(
        runs[0].3,
        Some(serde_json::json!({"dataset": "audited", "run": "nightly"}))
    );
}
