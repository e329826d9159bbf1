//! The prompts conformance suite: the behaviour every [`Prompts`] backend must have
//! (versions, labels that move, tags per prompt, the list and its filters, references
//! resolved on read and checked at creation, deletes, ids for linking generations), run as one
//! `#[tokio::test]` per case by [`prompts_conformance_suite!`](crate::prompts_conformance_suite).
//!
//! A backend's test file passes a function from a case's private directory to a future of the
//! store:
//!
//! ```text
//! spindle_store::prompts_conformance_suite!(|dir: std::path::PathBuf| async move {
//!     SqliteStore::open(&dir, SqliteOptions::default()).expect("open the store")
//! });
//! ```

use super::fixtures::{
    assert_refused, batch_of_observations, create_stamp, observation, score, simple_trace, BASE,
    SECOND,
};
use crate::accounts::Accounts;
use crate::audit::Actor;
use crate::prompts::{PromptMeta, PromptQuery, Prompts, ScoreAverage};
use crate::{ErrorKind, Page, Store};
use spindle_core::prompt::{NewPrompt, PromptSelector, PromptType, PromptVersion};
use spindle_core::{ObservationType, ScoreDataType, WriteBatch};
use std::sync::Arc;

/// A backend of the suite.
pub trait PromptsStore: Store + Prompts + Accounts {}

impl<S: Store + Prompts + Accounts> PromptsStore for S {}

/// Expands to one `#[tokio::test]` per prompts case for the backend opened by `$open`, a
/// function from a directory to a future of the store (see the module docs). The calling
/// crate needs `tokio` with `macros` and `rt-multi-thread`.
#[macro_export]
macro_rules! prompts_conformance_suite {
    ($open:expr) => {
        $crate::__module_conformance_cases!(
            prompts, $open;
            versions_labels_and_tags,
            chat_prompts_keep_their_type,
            added_labels_move_between_versions,
            labels_are_removed_except_latest,
            list_filters_and_pages,
            references_resolve_on_read_and_are_checked_at_creation,
            deletes_by_version_label_or_name,
            ids_for_generations_and_project_isolation,
            concurrent_creates_number_versions_once,
            concurrent_creates_keep_one_type,
            metrics_per_version_of_linked_generations,
            traces_filter_by_linked_prompt,
            prompt_changes_are_audited_once_with_their_actor,
        );
    };
}

const PROJECT: &str = "p1";

/// The actor of the suite's changes.
fn api() -> Actor {
    Actor::ProjectKey("pk-conformance".into())
}

fn text(name: &str, content: &str, labels: &[&str], tags: Option<&[&str]>) -> NewPrompt {
    NewPrompt {
        name: name.to_owned(),
        prompt_type: PromptType::Text,
        prompt: serde_json::Value::String(content.to_owned()).to_string(),
        config: r#"{"temperature":0.5}"#.to_owned(),
        labels: labels.iter().map(|label| (*label).to_owned()).collect(),
        tags: tags.map(|tags| tags.iter().map(|tag| (*tag).to_owned()).collect()),
        commit_message: None,
    }
}

fn chat(name: &str) -> NewPrompt {
    NewPrompt {
        name: name.to_owned(),
        prompt_type: PromptType::Chat,
        prompt: r#"[{"role":"system","content":"You are {{role}}"},{"type":"placeholder","name":"history"}]"#
            .to_owned(),
        config: "{}".to_owned(),
        labels: vec!["production".to_owned()],
        tags: None,
        commit_message: Some("first chat".to_owned()),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn label(label: &str) -> PromptSelector {
    PromptSelector::Label(label.to_owned())
}

async fn get<S: PromptsStore>(
    store: &S,
    name: &str,
    selector: PromptSelector,
) -> Option<PromptVersion> {
    store
        .get_prompt(PROJECT, name, &selector, true)
        .await
        .expect("get")
        .map(|resolved| resolved.version)
}

/// The prompts listed by the query `filter` makes of [`first_ten`].
async fn list<S: PromptsStore>(
    store: &S,
    filter: impl FnOnce(&mut PromptQuery),
) -> Page<PromptMeta> {
    let mut query = first_ten();
    filter(&mut query);
    store.list_prompts(PROJECT, &query).await.expect("list")
}

/// The first page of ten prompts, unfiltered.
fn first_ten() -> PromptQuery {
    PromptQuery {
        page: 1,
        limit: 10,
        ..PromptQuery::default()
    }
}

/// Deletes the prompt's versions `selector` names (all without one); returns how many went.
async fn delete<S: PromptsStore>(store: &S, name: &str, selector: Option<&PromptSelector>) -> u64 {
    store
        .delete_prompt(PROJECT, name, selector, &api())
        .await
        .expect("delete")
}

async fn create<S: PromptsStore>(store: &S, prompt: NewPrompt) -> PromptVersion {
    store
        .create_prompt(PROJECT, &prompt, "API", &api())
        .await
        .expect("create")
}

pub async fn versions_labels_and_tags<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let first = create(
        store,
        text("greet", "Hi {{name}}", &["production"], Some(&["a"])),
    )
    .await;
    assert_eq!(first.version, 1);
    assert_eq!(first.labels, strings(&["latest", "production"]));
    assert_eq!(first.tags, strings(&["a"]));
    assert_eq!(first.prompt, r#""Hi {{name}}""#);
    assert_eq!(first.config, r#"{"temperature":0.5}"#);
    assert_eq!(first.created_by, "API");
    assert_eq!(first.id.len(), 36);

    let second = create(store, text("greet", "Hello {{name}}", &[], None)).await;
    assert_eq!(second.version, 2);
    assert_eq!(second.labels, strings(&["latest"]));
    assert_eq!(
        second.tags,
        strings(&["a"]),
        "tags stay when none are given"
    );

    let third = create(
        store,
        text(
            "greet",
            "Hey",
            &["production", "staging"],
            Some(&["b", "c"]),
        ),
    )
    .await;
    assert_eq!(third.version, 3);
    assert_eq!(third.labels, strings(&["latest", "production", "staging"]));

    // Labels moved; tags are the prompt's.
    let first = get(store, "greet", PromptSelector::Version(1))
        .await
        .expect("v1");
    assert_eq!(first.labels, Vec::<String>::new());
    assert_eq!(first.tags, strings(&["b", "c"]));
    let second = get(store, "greet", PromptSelector::Version(2))
        .await
        .expect("v2");
    assert_eq!(second.labels, Vec::<String>::new());
    let production = get(store, "greet", PromptSelector::default())
        .await
        .expect("production");
    assert_eq!(production.version, 3);
    assert_eq!(
        get(store, "greet", label("latest"))
            .await
            .expect("latest")
            .version,
        3
    );
    assert_eq!(
        get(store, "greet", label("staging"))
            .await
            .expect("staging")
            .version,
        3
    );
    assert!(get(store, "greet", label("nope")).await.is_none());
    assert!(get(store, "greet", PromptSelector::Version(4))
        .await
        .is_none());
    assert!(get(store, "absent", PromptSelector::default())
        .await
        .is_none());

    // Names with slashes are names like any other.
    let folder = create(store, text("team/a/greet", "x", &[], None)).await;
    assert_eq!(folder.version, 1);
    assert_eq!(
        get(store, "team/a/greet", label("latest"))
            .await
            .expect("folder")
            .id,
        folder.id
    );
}

pub async fn chat_prompts_keep_their_type<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let created = create(store, chat("assistant")).await;
    assert_eq!(created.prompt_type, PromptType::Chat);
    assert_eq!(created.commit_message.as_deref(), Some("first chat"));
    let read = get(store, "assistant", PromptSelector::default())
        .await
        .expect("read");
    assert_eq!(read.prompt, created.prompt);
    assert_eq!(read.prompt_type, PromptType::Chat);

    assert_refused(
        store
            .create_prompt(PROJECT, &text("assistant", "x", &[], None), "API", &api())
            .await,
        "another type",
        ErrorKind::InvalidArgument,
        "type: ",
    );
    // Nothing was written.
    let latest = get(store, "assistant", label("latest"))
        .await
        .expect("latest");
    assert_eq!(latest.version, 1);
}

pub async fn added_labels_move_between_versions<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    create(store, text("p", "one", &["production"], None)).await;
    create(store, text("p", "two", &["staging"], None)).await;
    let updated = store
        .add_prompt_labels(PROJECT, "p", 1, &strings(&["staging", "qa"]), &api())
        .await
        .expect("update")
        .expect("version 1 exists");
    assert_eq!(updated.labels, strings(&["production", "qa", "staging"]));
    let second = get(store, "p", PromptSelector::Version(2))
        .await
        .expect("v2");
    assert_eq!(second.labels, strings(&["latest"]));
    let updated = store
        .add_prompt_labels(PROJECT, "p", 2, &strings(&["production"]), &api())
        .await
        .expect("update")
        .expect("version 2 exists");
    assert_eq!(updated.labels, strings(&["latest", "production"]));
    assert_eq!(
        get(store, "p", PromptSelector::Version(1))
            .await
            .expect("v1")
            .labels,
        strings(&["qa", "staging"])
    );
    assert!(store
        .add_prompt_labels(PROJECT, "p", 9, &strings(&["x"]), &api())
        .await
        .expect("update")
        .is_none());
    assert!(store
        .add_prompt_labels(PROJECT, "absent", 1, &strings(&["x"]), &api())
        .await
        .expect("update")
        .is_none());
}

pub async fn labels_are_removed_except_latest<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    create(store, text("tidy", "v1", &["production", "staging"], None)).await;
    create(store, text("tidy", "v2", &[], None)).await;
    let by = api();
    let remove = |version: i64, label: &'static str| {
        store.remove_prompt_label(PROJECT, "tidy", version, label, &by)
    };
    let removed = remove(1, "production")
        .await
        .expect("remove")
        .expect("version 1");
    assert_eq!(removed.labels, strings(&["staging"]));
    assert!(get(store, "tidy", PromptSelector::default())
        .await
        .is_none());
    // A label the version does not hold: nothing changes.
    let unchanged = remove(2, "staging").await.expect("remove").expect("v2");
    assert_eq!(unchanged.labels, strings(&["latest"]));
    assert_eq!(
        get(store, "tidy", label("staging"))
            .await
            .map(|v| v.version),
        Some(1)
    );
    let error = remove(2, "latest").await.expect_err("latest stays");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(remove(9, "staging").await.expect("remove").is_none());
    // A label another prompt references stays.
    create(
        store,
        text(
            "uses-tidy",
            "@@@langfusePrompt:name=tidy|label=staging@@@",
            &[],
            None,
        ),
    )
    .await;
    let error = remove(1, "staging").await.expect_err("referenced");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(error.message.contains("uses-tidy"), "{error:?}");
    assert_eq!(
        get(store, "tidy", label("staging"))
            .await
            .map(|v| v.version),
        Some(1)
    );
    // Another project's prompt of the same name keeps its labels.
    store
        .create_prompt(
            "p2",
            &text("tidy", "v1", &["production"], None),
            "API",
            &api(),
        )
        .await
        .expect("create in p2");
    assert!(store
        .remove_prompt_label(PROJECT, "tidy", 1, "production", &api())
        .await
        .expect("remove")
        .is_some());
    let other = store
        .get_prompt("p2", "tidy", &PromptSelector::default(), false)
        .await
        .expect("get p2");
    assert!(other.is_some(), "p2 keeps production");
}

pub async fn list_filters_and_pages<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    create(store, text("alpha", "a1", &["production"], Some(&["red"]))).await;
    let mut second = text("alpha", "a2", &[], None);
    second.config = r#"{"v":2}"#.to_owned();
    create(store, second).await;
    create(store, text("beta", "b1", &[], Some(&["blue", "red"]))).await;
    create(store, chat("gamma")).await;

    let all = list(store, |_| {}).await;
    assert_eq!(all.total_items, 3);
    let names: Vec<&str> = all.items.iter().map(|meta| meta.name.as_str()).collect();
    assert_eq!(names, vec!["alpha", "beta", "gamma"]);
    let alpha = &all.items[0];
    assert_eq!(alpha.versions, vec![1, 2]);
    assert_eq!(alpha.labels, strings(&["latest", "production"]));
    assert_eq!(alpha.tags, strings(&["red"]));
    assert_eq!(alpha.last_config, r#"{"v":2}"#);
    assert_eq!(alpha.prompt_type, PromptType::Text);
    assert_eq!(all.items[2].prompt_type, PromptType::Chat);

    let by_label = list(store, |query| query.label = Some("production".into())).await;
    let found: Vec<(&str, &[i64])> = by_label
        .items
        .iter()
        .map(|meta| (meta.name.as_str(), meta.versions.as_slice()))
        .collect();
    assert_eq!(found, vec![("alpha", &[1][..]), ("gamma", &[1][..])]);
    assert_eq!(by_label.items[0].labels, strings(&["production"]));
    assert_eq!(by_label.items[0].last_config, r#"{"temperature":0.5}"#);

    let by_tag = list(store, |query| query.tag = Some("red".into())).await;
    assert_eq!(by_tag.total_items, 2);
    let by_name = list(store, |query| query.name = Some("beta".into())).await;
    assert_eq!(by_name.items.len(), 1);
    assert_eq!(by_name.items[0].tags, strings(&["blue", "red"]));
    let future = list(store, |query| query.from_updated_at = Some(i64::MAX / 2)).await;
    assert_eq!(future.total_items, 0);
    assert!(future.items.is_empty());
    let before_now = list(store, |query| query.to_updated_at = Some(i64::MAX / 2)).await;
    assert_eq!(before_now.total_items, 3);

    let second_page = list(store, |query| {
        query.page = 2;
        query.limit = 2;
    })
    .await;
    assert_eq!(second_page.total_items, 3);
    assert_eq!(second_page.total_pages(), 2);
    assert_eq!(second_page.items.len(), 1);
    assert_eq!(second_page.items[0].name, "gamma");
}

pub async fn references_resolve_on_read_and_are_checked_at_creation<S: PromptsStore>(
    store: Arc<S>,
) {
    let store = store.as_ref();
    create(store, text("base", "Be \"kind\".", &["production"], None)).await;
    create(store, text("base", "Be brief.", &[], None)).await;
    let composed = create(
        store,
        text(
            "composed",
            "A @@@langfusePrompt:name=base|label=production@@@ B @@@langfusePrompt:name=base|version=2@@@",
            &["production"],
            None,
        ),
    )
    .await;
    let resolved = store
        .get_prompt(PROJECT, "composed", &PromptSelector::default(), true)
        .await
        .expect("get")
        .expect("exists");
    let content: String = serde_json::from_str(&resolved.version.prompt).expect("a JSON string");
    assert_eq!(content, "A Be \"kind\". B Be brief.");
    let graph = resolved.graph.expect("a graph");
    assert_eq!(graph.root.id, composed.id);
    assert_eq!(graph.dependencies.len(), 1);
    let (parent, children) = &graph.dependencies[0];
    assert_eq!(parent, &composed.id);
    let versions: Vec<i64> = children.iter().map(|child| child.version).collect();
    assert_eq!(versions, vec![1, 2]);

    let raw = store
        .get_prompt(PROJECT, "composed", &PromptSelector::default(), false)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(raw.version.prompt, composed.prompt);
    assert!(raw.graph.is_none());

    // Nested: a chat prompt embedding a prompt that embeds another.
    let mut nested = chat("nested");
    nested.prompt =
        r#"[{"role":"system","content":"@@@langfusePrompt:name=composed|label=production@@@"}]"#
            .to_owned();
    create(store, nested).await;
    let resolved = store
        .get_prompt(PROJECT, "nested", &PromptSelector::default(), true)
        .await
        .expect("get")
        .expect("exists");
    let messages: serde_json::Value = serde_json::from_str(&resolved.version.prompt).expect("JSON");
    assert_eq!(messages[0]["content"], "A Be \"kind\". B Be brief.");
    assert_eq!(resolved.graph.expect("graph").dependencies.len(), 2);

    let rejected = |content: &str| text("bad", content, &[], None);
    for (content, reason) in [
        (
            "@@@langfusePrompt:name=absent|label=production@@@",
            "does not exist",
        ),
        ("@@@langfusePrompt:name=base|version=9@@@", "does not exist"),
        (
            "@@@langfusePrompt:name=nested|label=production@@@",
            "not a text prompt",
        ),
    ] {
        let error = store
            .create_prompt(PROJECT, &rejected(content), "API", &api())
            .await
            .expect_err(content);
        assert_eq!(error.kind, ErrorKind::InvalidArgument, "{content}");
        assert!(error.message.starts_with("prompt: "), "{}", error.message);
        assert!(error.message.contains(reason), "{}", error.message);
    }
    // A cycle: base's next production version would embed composed, which embeds base.
    let error = store
        .create_prompt(
            PROJECT,
            &text(
                "base",
                "@@@langfusePrompt:name=composed|label=production@@@",
                &[],
                None,
            ),
            "API",
            &api(),
        )
        .await
        .expect_err("circular");
    assert!(error.message.contains("circular"), "{}", error.message);
    let error = store
        .create_prompt(
            PROJECT,
            &text(
                "selfish",
                "@@@langfusePrompt:name=selfish|label=latest@@@",
                &[],
                None,
            ),
            "API",
            &api(),
        )
        .await
        .expect_err("self reference");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    // Nothing of the rejected versions was written.
    assert!(get(store, "bad", label("latest")).await.is_none());
    assert!(get(store, "selfish", label("latest")).await.is_none());
    assert_eq!(
        get(store, "base", label("latest"))
            .await
            .expect("base")
            .version,
        2
    );
}

pub async fn deletes_by_version_label_or_name<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    for content in ["one", "two", "three"] {
        create(store, text("d", content, &[], Some(&["t"]))).await;
    }
    store
        .add_prompt_labels(PROJECT, "d", 1, &strings(&["production"]), &api())
        .await
        .expect("label");
    create(
        store,
        text(
            "user",
            "@@@langfusePrompt:name=d|label=production@@@",
            &[],
            None,
        ),
    )
    .await;

    // The newest goes: `latest` moves to the newest that remains.
    assert_eq!(
        delete(store, "d", Some(&PromptSelector::Version(3))).await,
        1
    );
    assert_eq!(
        get(store, "d", label("latest"))
            .await
            .expect("latest")
            .version,
        2
    );
    // What another prompt references stays.
    let error = store
        .delete_prompt(PROJECT, "d", Some(&label("production")), &api())
        .await
        .expect_err("referenced");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(
        error.message.contains("\"user\" version 1"),
        "{}",
        error.message
    );
    assert!(get(store, "d", PromptSelector::Version(1)).await.is_some());
    assert_eq!(delete(store, "user", None).await, 1);
    assert_eq!(delete(store, "d", Some(&label("production"))).await, 1);
    assert!(get(store, "d", PromptSelector::Version(1)).await.is_none());
    assert_eq!(delete(store, "d", Some(&label("production"))).await, 0);
    assert_eq!(
        delete(store, "d", Some(&PromptSelector::Version(7))).await,
        0
    );
    // A new version follows the newest that remains.
    assert_eq!(create(store, text("d", "four", &[], None)).await.version, 3);
    assert_eq!(delete(store, "d", None).await, 2);
    assert_eq!(delete(store, "d", None).await, 0);
    let listed = list(store, |_| {}).await;
    assert!(listed.items.is_empty());
    // Gone entirely: numbering and tags start again.
    let again = create(store, text("d", "new", &[], None)).await;
    assert_eq!(again.version, 1);
    assert_eq!(again.tags, Vec::<String>::new());
}

pub async fn ids_for_generations_and_project_isolation<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    let first = create(store, text("linked", "x", &[], None)).await;
    let second = create(store, text("linked", "y", &[], None)).await;
    store
        .create_prompt(
            "p2",
            &text("linked", "other project", &[], None),
            "API",
            &api(),
        )
        .await
        .expect("create in p2");
    let ids = store
        .prompt_ids(
            PROJECT,
            &[
                ("linked".to_owned(), 1),
                ("linked".to_owned(), 2),
                ("linked".to_owned(), 3),
                ("absent".to_owned(), 1),
            ],
        )
        .await
        .expect("ids");
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[&("linked".to_owned(), 1)], first.id);
    assert_eq!(ids[&("linked".to_owned(), 2)], second.id);
    assert!(store
        .prompt_ids(PROJECT, &[])
        .await
        .expect("ids")
        .is_empty());

    let other = store
        .get_prompt("p2", "linked", &label("latest"), true)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(other.version.version, 1);
    let listed = store.list_prompts("p2", &first_ten()).await.expect("list");
    assert_eq!(listed.items[0].versions, vec![1]);
    assert_eq!(
        store
            .delete_prompt("p3", "linked", None, &api())
            .await
            .expect("delete"),
        0
    );
    assert!(get(store, "linked", PromptSelector::Version(2))
        .await
        .is_some());
}

pub async fn concurrent_creates_number_versions_once<S: PromptsStore>(store: Arc<S>) {
    let mut tasks = Vec::new();
    for index in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_prompt(
                    PROJECT,
                    &text("busy", &format!("v{index}"), &["production"], None),
                    "API",
                    &api(),
                )
                .await
                .expect("create")
                .version
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        versions.push(task.await.expect("task"));
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<i64>>());
    let store = store.as_ref();
    let latest = get(store, "busy", label("latest")).await.expect("latest");
    assert_eq!(latest.version, 8);
    let production = get(store, "busy", PromptSelector::default())
        .await
        .expect("production");
    assert!(production.labels.contains(&"production".to_owned()));
}

/// A text and a chat create of one new name at once, on two connections where the backend
/// has them: one wins, the other is refused, and the prompt keeps one type.
pub async fn concurrent_creates_keep_one_type<S: PromptsStore>(store: Arc<S>) {
    for round in 0..12 {
        let name = format!("raced-{round}");
        let as_text = text(&name, "hello", &[], None);
        let as_chat = chat(&name);
        let by = api();
        let (first, second) = tokio::join!(
            store.create_prompt(PROJECT, &as_text, "API", &by),
            store.create_prompt(PROJECT, &as_chat, "API", &by),
        );
        let (won, lost) = match (first, second) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            (first, second) => panic!("{name}: one create must win: {first:?} {second:?}"),
        };
        assert_eq!(won.version, 1, "{name}");
        assert_eq!(lost.kind, ErrorKind::InvalidArgument, "{name}: {lost:?}");
        assert!(lost.message.contains("type"), "{name}: {lost:?}");
        let stored = get(store.as_ref(), &name, label("latest"))
            .await
            .expect("latest");
        assert_eq!(
            (stored.version, stored.prompt_type),
            (1, won.prompt_type),
            "{name}"
        );
    }
}

/// A generation of trace `trace_id` linked to `prompt` version `version`, started at
/// `BASE + start` seconds, taking `seconds` (no end time: `None`).
fn linked_generation(
    id: &str,
    trace_id: &str,
    (prompt, version): (&str, i64),
    start: i64,
    seconds: Option<i64>,
) -> spindle_core::ObservationRecord {
    let start = BASE + start * SECOND;
    observation(id, create_stamp(start), |o| {
        o.trace_id = Some(trace_id.to_owned());
        o.observation_type = Some(ObservationType::Generation);
        o.start_time = Some(start);
        o.end_time = seconds.map(|seconds| start + seconds * SECOND);
        o.prompt_name = Some(prompt.to_owned());
        o.prompt_version = Some(version);
        o.usage_details = Some(
            [("input".to_owned(), 10), ("output".to_owned(), 5)]
                .into_iter()
                .collect(),
        );
        o.cost_details = Some([("total".to_owned(), 0.25)].into_iter().collect());
    })
}

fn numeric_score(
    id: &str,
    trace_id: &str,
    observation_id: Option<&str>,
    name: &str,
    value: f64,
) -> spindle_core::ScoreRecord {
    score(id, create_stamp(BASE), |s| {
        s.timestamp = Some(BASE);
        s.trace_id = Some(trace_id.to_owned());
        s.observation_id = observation_id.map(str::to_owned);
        s.name = Some(name.to_owned());
        s.value = Some(value);
        s.data_type = Some(ScoreDataType::Numeric);
    })
}

pub async fn metrics_per_version_of_linked_generations<S: PromptsStore>(store: Arc<S>) {
    let store = store.as_ref();
    create(store, text("measured", "v1", &[], None)).await;
    create(store, text("measured", "v2", &[], None)).await;
    let mut categorical = numeric_score("s4", "t1", None, "verdict", 1.0);
    categorical.data_type = Some(ScoreDataType::Categorical);
    let batch = WriteBatch {
        traces: vec![
            simple_trace("t1", BASE, "chat"),
            simple_trace("t2", BASE, "chat"),
        ],
        observations: vec![
            linked_generation("g1", "t1", ("measured", 1), 0, Some(1)),
            linked_generation("g2", "t1", ("measured", 1), 10, Some(3)),
            linked_generation("g3", "t2", ("measured", 1), 20, Some(2)),
            linked_generation("g4", "t2", ("measured", 2), 30, None),
            linked_generation("g5", "t2", ("other", 1), 40, Some(9)),
        ],
        scores: vec![
            // On a generation of version 1.
            numeric_score("s1", "t1", Some("g1"), "quality", 1.0),
            // On a trace holding two generations of version 1: counted once for it.
            numeric_score("s2", "t1", None, "quality", 0.5),
            // On a trace holding generations of both versions.
            numeric_score("s3", "t2", None, "helpful", 0.0),
            categorical,
            // On a generation of another prompt.
            numeric_score("s5", "t2", Some("g5"), "quality", 0.0),
        ],
        run_items: Vec::new(),
        completions: Vec::new(),
    };
    store.write(PROJECT, batch).await.expect("write");
    let mut elsewhere = linked_generation("x1", "tx", ("measured", 1), 0, Some(50));
    elsewhere.trace_id = None;
    store
        .write("p2", batch_of_observations(vec![elsewhere]))
        .await
        .expect("write p2");

    let metrics = store
        .prompt_metrics(PROJECT, "measured")
        .await
        .expect("metrics");
    assert_eq!(metrics.len(), 2, "{metrics:?}");
    let first = &metrics[0];
    assert_eq!(first.version, 1);
    assert_eq!(first.generations, 3);
    assert_eq!(first.latency_p50, Some(2.0));
    assert_eq!(first.latency_p90, Some(3.0));
    assert_eq!(first.latency_p99, Some(3.0));
    assert_eq!(first.input_tokens, 30);
    assert_eq!(first.output_tokens, 15);
    assert_eq!(first.total_tokens, 45);
    assert!(
        (first.total_cost - 0.75).abs() < 1e-9,
        "{}",
        first.total_cost
    );
    assert_eq!(first.first_used, Some(BASE));
    assert_eq!(first.last_used, Some(BASE + 20 * SECOND));
    assert_eq!(
        first.scores,
        vec![
            ScoreAverage {
                name: "helpful".to_owned(),
                average: 0.0,
                count: 1,
            },
            ScoreAverage {
                name: "quality".to_owned(),
                average: 0.75,
                count: 2,
            },
        ]
    );
    let second = &metrics[1];
    assert_eq!(second.version, 2);
    assert_eq!(second.generations, 1);
    assert_eq!(second.latency_p50, None, "no end time, no latency");
    assert_eq!(second.total_tokens, 15);
    assert_eq!(
        second.scores,
        vec![ScoreAverage {
            name: "helpful".to_owned(),
            average: 0.0,
            count: 1,
        }]
    );
    // Generations linked later, to a trace without scores, leave the averages as they were.
    let more = WriteBatch {
        traces: vec![simple_trace("t3", BASE, "chat")],
        observations: vec![
            linked_generation("g6", "t3", ("measured", 2), 50, None),
            linked_generation("g7", "t3", ("measured", 2), 60, None),
        ],
        ..WriteBatch::default()
    };
    store.write(PROJECT, more).await.expect("write");
    let again = store
        .prompt_metrics(PROJECT, "measured")
        .await
        .expect("metrics");
    assert_eq!(
        again.iter().map(|v| v.generations).collect::<Vec<_>>(),
        vec![3, 3]
    );
    assert_eq!(again[0].scores, first.scores);
    assert_eq!(again[1].scores, second.scores);
    create(store, text("team/measured_50%", "v1", &[], None)).await;
    let search = |text: &'static str| {
        move |query: &mut PromptQuery| {
            query.search = Some(text.to_owned());
        }
    };
    let names = |page: Page<PromptMeta>| -> Vec<String> {
        page.items.into_iter().map(|meta| meta.name).collect()
    };
    let found = list(store, search("EAS")).await;
    assert_eq!(names(found), strings(&["measured", "team/measured_50%"]));
    let found = list(store, search("team/")).await;
    assert_eq!(names(found), strings(&["team/measured_50%"]));
    let found = list(store, search("_5")).await;
    assert_eq!(
        names(found),
        strings(&["team/measured_50%"]),
        "_ is no wildcard"
    );
    let found = list(store, search("d%")).await;
    assert!(names(found).is_empty(), "% is no wildcard");

    assert!(store
        .prompt_metrics(PROJECT, "unused")
        .await
        .expect("metrics")
        .is_empty());
}

pub async fn traces_filter_by_linked_prompt<S: PromptsStore>(store: Arc<S>) {
    use crate::{Filter, FilterValue, TraceQuery};
    let store = store.as_ref();
    let mut unlinked = linked_generation("g4", "t3", ("greet", 1), 30, Some(1));
    unlinked.prompt_name = None;
    unlinked.prompt_version = None;
    let batch = WriteBatch {
        traces: vec![
            simple_trace("t1", BASE, "chat"),
            simple_trace("t2", BASE + SECOND, "chat"),
            simple_trace("t3", BASE + 2 * SECOND, "chat"),
        ],
        observations: vec![
            linked_generation("g1", "t1", ("greet", 1), 0, Some(1)),
            linked_generation("g2", "t1", ("team/farewell", 2), 10, Some(1)),
            linked_generation("g3", "t2", ("greet", 2), 20, Some(1)),
            unlinked,
        ],
        ..WriteBatch::default()
    };
    store.write(PROJECT, batch).await.expect("write");
    // The same prompt in another project links none of this project's traces.
    store
        .write(
            "p2",
            WriteBatch {
                traces: vec![simple_trace("t3", BASE, "chat")],
                observations: vec![linked_generation("x1", "t3", ("greet", 1), 0, Some(1))],
                ..WriteBatch::default()
            },
        )
        .await
        .expect("write p2");
    let ids = |filters: Vec<(&str, &str, FilterValue)>| {
        let query = TraceQuery {
            page: 1,
            limit: 50,
            filters: filters
                .into_iter()
                .map(|(column, operator, value)| Filter::new(column, operator, value))
                .collect(),
            ..TraceQuery::default()
        };
        async move {
            let page = store.list_traces(PROJECT, &query).await.expect("list");
            let mut ids: Vec<String> = page.items.into_iter().map(|t| t.record.id).collect();
            ids.sort();
            ids
        }
    };
    let name = |value: &str| FilterValue::String(value.to_owned());
    let version = FilterValue::Number;
    /// Filters as (column, operator, value).
    type Conditions = Vec<(&'static str, &'static str, FilterValue)>;
    let cases: Vec<(Conditions, &[&str])> = vec![
        (vec![("promptName", "=", name("greet"))], &["t1", "t2"]),
        (
            vec![
                ("promptName", "=", name("greet")),
                ("promptVersion", "=", version(1.0)),
            ],
            &["t1"],
        ),
        (vec![("promptVersion", ">=", version(2.0))], &["t1", "t2"]),
        (
            vec![(
                "promptName",
                "any of",
                FilterValue::Strings(strings(&["team/farewell", "absent"])),
            )],
            &["t1"],
        ),
        (vec![("promptName", "starts with", name("TEAM/"))], &["t1"]),
        // Negative operators: the traces holding no linked observation that matches.
        (vec![("promptName", "!=", name("greet"))], &["t3"]),
        (vec![("promptName", "is null", name(""))], &["t3"]),
        (vec![("promptName", "is not null", name(""))], &["t1", "t2"]),
        (vec![("promptName", "=", name("absent"))], &[]),
    ];
    for (filters, expected) in cases {
        let described = format!("{filters:?}");
        assert_eq!(ids(filters).await, strings(expected), "{described}");
    }
    let error = store
        .list_traces(
            PROJECT,
            &TraceQuery {
                page: 1,
                limit: 50,
                filters: vec![Filter::new("promptVersion", "=", name("one"))],
                ..TraceQuery::default()
            },
        )
        .await
        .expect_err("a version is a number");
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
}

/// Each label set or removed and each deletion writes one audit entry naming its actor, in
/// its transaction; a change that changes nothing (an absent version, a label not held,
/// nothing to delete) and a refused one write none.
pub async fn prompt_changes_are_audited_once_with_their_actor<S: PromptsStore>(store: Arc<S>) {
    use super::organizations::{audited_project, project_log};
    use crate::audit::resource;
    let store = store.as_ref();
    audited_project(store, PROJECT).await;
    let key = api();
    let user = Actor::User("u1".into());
    // Version 1 takes production (an entry), version 2 only latest (none).
    create(store, text("audited", "v1", &["production"], None)).await;
    create(store, text("audited", "v2", &[], None)).await;
    let moved = store
        .add_prompt_labels(PROJECT, "audited", 2, &strings(&["production"]), &user)
        .await
        .expect("move");
    assert!(moved.is_some());
    let absent = store
        .add_prompt_labels(PROJECT, "audited", 9, &strings(&["production"]), &user)
        .await
        .expect("absent version");
    assert!(absent.is_none());
    store
        .remove_prompt_label(PROJECT, "audited", 2, "production", &user)
        .await
        .expect("remove")
        .expect("version 2");
    store
        .remove_prompt_label(PROJECT, "audited", 2, "production", &user)
        .await
        .expect("remove again")
        .expect("version 2");
    store
        .remove_prompt_label(PROJECT, "audited", 2, "latest", &user)
        .await
        .expect_err("latest stays");
    assert_eq!(
        store
            .delete_prompt(PROJECT, "audited", Some(&PromptSelector::Version(1)), &key)
            .await
            .expect("delete version 1"),
        1
    );
    assert_eq!(
        store
            .delete_prompt(PROJECT, "audited", Some(&PromptSelector::Version(1)), &key)
            .await
            .expect("delete version 1 again"),
        0
    );
    assert_eq!(
        store
            .delete_prompt(PROJECT, "audited", None, &user)
            .await
            .expect("delete the rest"),
        1
    );

    let log = project_log(store, PROJECT, resource::PROMPT).await;
    let actions: Vec<(&str, &str, &Actor)> = log
        .iter()
        .map(|(action, id, actor, _)| (action.as_str(), id.as_str(), actor))
        .collect();
    assert_eq!(
        actions,
        [
            ("labels_set", "audited", &key),
            ("labels_set", "audited", &user),
            ("label_removed", "audited", &user),
            ("deleted", "audited", &key),
            ("deleted", "audited", &user),
        ]
    );
    assert_eq!(
        log[1].3,
        Some(serde_json::json!({"version": 2, "labels": ["production"]}))
    );
    assert_eq!(
        log[2].3,
        Some(serde_json::json!({"version": 2, "label": "production"}))
    );
    assert_eq!(
        log[3].3,
        Some(serde_json::json!({"versions": [1], "allVersions": false}))
    );
    assert_eq!(
        log[4].3,
        Some(serde_json::json!({"versions": [2], "allVersions": true}))
    );
}
