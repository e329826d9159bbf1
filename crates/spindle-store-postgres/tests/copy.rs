//! `copy_from_sqlite`: a SQLite data directory with traces, observations (their derived
//! costs included), scores, media, custom models, prompts and the UI's users moves to PostgreSQL,
//! interrupted once and resumed, and every read of the store API answers the same before and
//! after; so do datasets, score configs, annotation queues, comments and the audit log, and a
//! second copy changes nothing. A user whose email PostgreSQL already has keeps the account
//! PostgreSQL has, and the copied user's roles and saved views are left out.

mod support;

use serde_json::json;
use spindle_core::dataset::{ItemStatus, NewDataset, NewDatasetItem, NewRunItem};
use spindle_core::merge::Stamp;
use spindle_core::prompt::{NewPrompt, PromptSelector, PromptType};
use spindle_core::review::{NewComment, NewQueue, NewQueueItem, ObjectType};
use spindle_core::score_config::ScoreConfigPatch;
use spindle_core::score_config::{ConfigCategory, ConfigDataType, NewScoreConfig};
use spindle_core::{Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord};
use spindle_core::{TraceRecord, WriteBatch};
use spindle_store::accounts::{
    Accounts, Membership, OrganizationMembership, Role, SavedView, User,
};
use spindle_store::audit::{Actor, AuditQuery, NewAuditEntry};
use spindle_store::datasets::{DatasetItemQuery, Datasets, ItemMediaLink, PageRequest};
use spindle_store::prompts::{PromptQuery, Prompts};
use spindle_store::reviews::{CommentQuery, Reviews};
use spindle_store::score_configs::ScoreConfigs;
use spindle_store::{
    ApiKey, Catalog, CustomModel, DerivedCost, MediaRecord, MetricsQuery, ObservationQuery,
    Organization, Project, ScoreQuery, SessionQuery, Store, TraceQuery,
};
use spindle_store_postgres::copy::{copy_from_sqlite, CopyOptions, CopyProgress, CopySummary};
use std::collections::BTreeMap;

const BASE: i64 = 1_700_000_000_000_000;
const DAY: i64 = 86_400_000_000;
const PROJECTS: [&str; 2] = ["copy-a", "copy-b"];

/// Copies the SQLite data in `source` to `postgres` with the default options; fails on an
/// error, naming the copy `what`.
async fn copy_everything(
    source: &std::path::Path,
    postgres: &spindle_store_postgres::PostgresStore,
    what: &str,
) -> CopySummary {
    copy_from_sqlite(source, postgres, &CopyOptions::default(), |_| {})
        .await
        .unwrap_or_else(|error| panic!("{what}: {error:?}"))
}

fn stamp(at: i64) -> Stamp {
    Stamp::explicit(at, Stamp::RANK_CREATE, at as u64)
}

fn seed_batch(project: usize, trace: usize) -> WriteBatch {
    let at = BASE + (trace as i64) * DAY / 3 + project as i64;
    let trace_id = format!("t{project}-{trace}");
    let mut record = TraceRecord::new(&trace_id);
    record.timestamp = Some(at);
    record.name = Some(format!("name-{}", trace % 4));
    record.user_id = Some(format!("user-{}", trace % 3));
    record.session_id = trace
        .is_multiple_of(2)
        .then(|| format!("session-{}", trace % 5));
    // Long enough on odd traces for SQLite to keep it packed.
    record.input = Some(format!(
        "question number {trace}{}",
        " with its context".repeat(trace % 2 * 8)
    ));
    record.output = Some(format!("answer {trace}"));
    record.tags.insert(format!("tag-{}", trace % 2));
    record.metadata.insert("k".into(), format!("{trace}"));
    record.environment = Some("production".into());
    record.stamp_unstamped(stamp(at));
    let mut observations = Vec::new();
    for index in 0..5usize {
        let mut observation = ObservationRecord::new(format!("{trace_id}-o{index}"));
        observation.trace_id = Some(trace_id.clone());
        observation.start_time = Some(at + index as i64 * 1_000);
        observation.end_time = Some(at + index as i64 * 1_000 + 700);
        observation.observation_type = Some(if index == 0 {
            ObservationType::Span
        } else {
            ObservationType::Generation
        });
        observation.name = Some(format!("step-{index}"));
        // Generation 2 is priced by the store (built-in gpt-4), generation 3 by the custom
        // model of project copy-a.
        observation.model = match index {
            0 => None,
            2 => Some("gpt-4-0613".to_owned()),
            3 => Some("house-model".to_owned()),
            _ => Some("gpt-x".to_owned()),
        };
        observation.level = Some(if index == 4 {
            Level::Warning
        } else {
            Level::Default
        });
        observation.usage_details = Some(BTreeMap::from([
            ("input".to_owned(), 10 + index as i64),
            ("output".to_owned(), 3),
        ]));
        observation.cost_details = (index != 2 && index != 3)
            .then(|| BTreeMap::from([("total".to_owned(), 0.001 * index as f64)]));
        observation.input = Some(format!("in {index}"));
        if index == 1 {
            // As an OpenTelemetry span has them: kept packed and shared by SQLite.
            observation.output = Some(format!("out {index} {}", "and more words ".repeat(10)));
            observation.metadata.insert(
                "resourceAttributes".into(),
                r#"{"service.name":"app"}"#.into(),
            );
            observation
                .metadata
                .insert("scope".into(), format!(r#"{{"name":"sdk-{project}"}}"#));
        }
        observation.stamp_unstamped(stamp(at + 1));
        observations.push(observation);
    }
    let mut score = ScoreRecord::new(format!("{trace_id}-s"));
    score.trace_id = Some(trace_id.clone());
    score.name = Some("quality".into());
    score.value = Some(trace as f64 / 10.0);
    score.data_type = Some(ScoreDataType::Numeric);
    score.timestamp = Some(at + 5);
    score.stamp_unstamped(stamp(at + 5));
    WriteBatch {
        traces: vec![record],
        observations,
        scores: vec![score],
        run_items: Vec::new(),
        completions: Vec::new(),
    }
}

/// The derived usage and cost of an observation the store holds.
async fn derived(store: &dyn Store, project_id: &str, observation_id: &str) -> DerivedCost {
    let stored = store
        .get_observation(project_id, observation_id)
        .await
        .expect("get")
        .expect("observation");
    stored.record.derived
}

/// Answers of a store, each in its `Debug` form.
struct Answers(Vec<String>);

impl Answers {
    fn add(&mut self, what: &str, answer: spindle_store::Result<impl std::fmt::Debug>) {
        self.0.push(format!("{:?}", answer.expect(what)));
    }
}

/// Everything the read API can answer for a project, in one comparable value.
async fn answers(store: &dyn Store, project_id: &str) -> Vec<String> {
    let mut out = Answers(Vec::new());
    out.add("project", store.get_project(project_id).await);
    out.add("keys", store.list_api_keys(Some(project_id)).await);
    out.0.push(format!(
        "{:?} {:?}",
        store.list_models(project_id).await.expect("models"),
        store
            .builtin_prices(project_id)
            .await
            .expect("builtin prices")
    ));
    out.add(
        "rolled-up metadata keys",
        store.rolled_metadata_keys(project_id).await,
    );
    let traces = store
        .list_traces(project_id, &TraceQuery::with_limit(1000))
        .await
        .expect("traces");
    out.0.push(format!("{traces:?}"));
    for view in &traces.items {
        out.add("trace", store.get_trace(project_id, &view.record.id).await);
    }
    // Tag lists read the index table, which the copy fills as it writes the traces.
    let tagged = TraceQuery {
        tags: vec!["tag-1".into()],
        limit: 1000,
        ..TraceQuery::default()
    };
    out.add("tagged", store.list_traces(project_id, &tagged).await);
    // SQLite matches a substring and PostgreSQL words: this text finds the same traces on
    // both (the observations' texts are "in 0" to "in 4").
    let search = TraceQuery {
        search: Some("number 7".into()),
        ..TraceQuery::default()
    };
    out.add("search", store.list_traces(project_id, &search).await);
    out.add(
        "observations",
        store
            .list_observations(project_id, &ObservationQuery::with_limit(1000))
            .await,
    );
    out.add(
        "scores",
        store
            .list_scores(
                project_id,
                &ScoreQuery {
                    limit: 1000,
                    ..ScoreQuery::default()
                },
            )
            .await,
    );
    let sessions = store
        .list_sessions(project_id, &SessionQuery::default())
        .await
        .expect("sessions");
    out.0.push(format!("{sessions:?}"));
    for session in &sessions.items {
        out.add("session", store.get_session(project_id, &session.id).await);
    }
    out.add(
        "metrics",
        store
            .daily_metrics(project_id, &MetricsQuery::default())
            .await,
    );
    for media_id in ["media-0", "media-1"] {
        out.add("media", store.get_media(project_id, media_id).await);
        out.add("bytes", store.get_media_bytes(project_id, media_id).await);
    }
    out.0
}

/// The actor of the prompts the test writes.
fn copier() -> Actor {
    Actor::ProjectKey("pk-copy".into())
}

fn text_prompt(name: &str, content: &str, labels: &[&str], tags: &[&str]) -> NewPrompt {
    NewPrompt {
        name: name.to_owned(),
        prompt_type: PromptType::Text,
        // Plain ASCII without escapes: the debug form is the JSON string.
        prompt: format!("{content:?}"),
        config: r#"{"temperature":0.5}"#.to_owned(),
        labels: labels.iter().map(|label| (*label).to_owned()).collect(),
        tags: Some(tags.iter().map(|tag| (*tag).to_owned()).collect()),
        commit_message: Some(format!("{name}: {content}")),
    }
}

/// Two prompts, one embedding the other, with versions, labels and tags.
async fn seed_prompts(store: &impl Prompts, project_id: &str) {
    for prompt in [
        text_prompt("base", "Hello {{name}}", &["production"], &["greeting"]),
        text_prompt("base", "Hi {{name}}", &["staging"], &["greeting", "v2"]),
        text_prompt(
            "team/composed",
            "@@@langfusePrompt:name=base|label=production@@@ and welcome",
            &["production"],
            &[],
        ),
    ] {
        store
            .create_prompt(project_id, &prompt, "API", &copier())
            .await
            .expect("create prompt");
    }
}

/// Every prompt of a project as listed and read, raw and resolved.
async fn prompt_answers(store: &impl Prompts, project_id: &str) -> Vec<String> {
    let everything = PromptQuery {
        limit: 100,
        page: 1,
        ..PromptQuery::default()
    };
    let listed = store.list_prompts(project_id, &everything).await;
    let listed = listed.expect("list prompts");
    let mut out = vec![format!("{listed:?}")];
    for meta in &listed.items {
        for version in &meta.versions {
            for resolve in [false, true] {
                let read = store
                    .get_prompt(
                        project_id,
                        &meta.name,
                        &PromptSelector::Version(*version),
                        resolve,
                    )
                    .await
                    .expect("get prompt");
                out.push(format!("{read:?}"));
            }
        }
    }
    out
}

/// The progress of one table in a copy's summary.
fn table<'s>(summary: &'s CopySummary, name: &str) -> &'s CopyProgress {
    summary
        .tables
        .iter()
        .find(|progress| progress.table == name)
        .unwrap_or_else(|| panic!("no table {name} in {summary:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_directory_moves_to_postgres_resumably_with_identical_answers() {
    let source_dir = tempfile::tempdir().expect("source dir");
    let sqlite = support::open_sqlite(source_dir.path());
    for (p, project_id) in PROJECTS.iter().enumerate() {
        sqlite
            .upsert_project(&Project {
                id: (*project_id).into(),
                name: format!("Project {p}"),
                organization: Organization {
                    id: "org".into(),
                    name: "Org".into(),
                },
                retention_days: (p == 1).then_some(30),
                created_at: BASE,
            })
            .await
            .expect("project");
        sqlite
            .insert_api_key(&ApiKey {
                public_key: format!("pk-{project_id}"),
                secret_hash: ApiKey::unpeppered_hash(&format!("pk-{project_id}"), "sk"),
                secret_hint: "..sk".into(),
                project_id: (*project_id).into(),
                note: None,
                created_at: BASE,
                revoked_at: None,
            })
            .await
            .expect("key");
        if p == 0 {
            sqlite
                .put_model(&CustomModel {
                    id: "house".into(),
                    project_id: (*project_id).into(),
                    model_name: "house-model".into(),
                    match_pattern: "^house-model$".into(),
                    start_date: None,
                    unit: Some("TOKENS".into()),
                    prices: BTreeMap::from([("input".to_owned(), 0.5)]),
                    tokenizer_id: None,
                    tokenizer_config: None,
                    pricing_tiers: Vec::new(),
                    created_at: BASE,
                })
                .await
                .expect("custom model");
        } else {
            sqlite
                .set_builtin_prices(project_id, false)
                .await
                .expect("built-in prices off");
            sqlite
                .set_rolled_metadata_keys(project_id, &["tenant".to_owned()], BASE)
                .await
                .expect("rolled-up metadata keys");
        }
        for trace in 0..23 {
            sqlite
                .write(project_id, seed_batch(p, trace))
                .await
                .expect("write");
        }
        for m in 0..2usize {
            let media = MediaRecord {
                id: format!("media-{m}"),
                project_id: (*project_id).into(),
                sha256_hash: format!("hash-{m}"),
                content_type: "image/png".into(),
                content_length: 4,
                trace_id: Some(format!("t{p}-0")),
                observation_id: None,
                field: Some("input".into()),
                uploaded_at: None,
                upload_http_status: None,
                created_at: BASE,
            };
            sqlite.upsert_media(&media).await.expect("media");
            if m == 0 {
                sqlite
                    .put_media_bytes(project_id, &media.id, vec![1, 2, 3, p as u8], BASE + 9)
                    .await
                    .expect("bytes");
            }
        }
    }
    // A UI user with a password, a membership and a saved view.
    let user = User {
        id: "user-1".into(),
        email: "owner@example.com".into(),
        name: Some("Owner".into()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        is_admin: true,
        created_at: BASE,
    };
    sqlite.create_user(&user).await.expect("user");
    let membership = Membership {
        user_id: "user-1".into(),
        project_id: PROJECTS[0].into(),
        role: Role::Owner,
    };
    sqlite
        .set_membership(&membership, BASE)
        .await
        .expect("membership");
    let view = SavedView {
        id: "view-1".into(),
        project_id: PROJECTS[0].into(),
        user_id: "user-1".into(),
        page: "traces".into(),
        name: "errors".into(),
        query: "level=ERROR".into(),
        created_at: BASE,
    };
    sqlite.save_view(&view).await.expect("view");
    // Priced by the built-in table, and by the project's custom model.
    for (observation_id, model_id) in [("t0-0-o2", "openai-gpt-4"), ("t0-0-o3", "house")] {
        let derived = derived(&sqlite, PROJECTS[0], observation_id).await;
        assert_eq!(derived.model_id.as_deref(), Some(model_id));
    }
    assert!(
        derived(&sqlite, PROJECTS[1], "t1-0-o2").await.is_empty(),
        "built-in prices are off"
    );
    seed_prompts(&sqlite, PROJECTS[0]).await;
    spindle_store::metadata_rollups::sweep_all(&sqlite, std::time::Duration::ZERO)
        .await
        .expect("sweep");
    let mut before = Vec::new();
    for project_id in PROJECTS {
        let mut answered = answers(&sqlite, project_id).await;
        answered.extend(prompt_answers(&sqlite, project_id).await);
        before.push(answered);
    }
    sqlite.shutdown().await.expect("shutdown");
    drop(sqlite);

    let target_key = tempfile::tempdir().expect("schema key");
    let postgres = support::open_in(target_key.path(), None).await;
    let options = CopyOptions {
        batch_rows: 7,
        max_batches: Some(5),
    };
    let mut reports = Vec::new();
    let first = copy_from_sqlite(source_dir.path(), &postgres, &options, |p| {
        reports.push(p.clone())
    })
    .await
    .expect("first copy");
    assert!(!first.complete, "the first run stops after 5 batches");
    let traces = table(&first, "traces");
    assert_eq!((traces.copied, traces.total), (35, 46));
    let second = copy_from_sqlite(
        source_dir.path(),
        &postgres,
        &CopyOptions {
            batch_rows: 7,
            max_batches: None,
        },
        |p| reports.push(p.clone()),
    )
    .await
    .expect("resumed copy");
    assert!(second.complete);
    for table in &second.tables {
        assert_eq!(table.copied, table.total, "{table:?}");
    }
    let observations = table(&second, "observations");
    assert_eq!(observations.total, 230);
    assert!(reports
        .iter()
        .any(|p| p.table == "scores" && p.copied == 46));

    // The copy rebuilt the copied projects' totals and rollups at its end.
    for project_id in PROJECTS {
        let stored = postgres.stored_rollups(project_id).await.expect("stored");
        assert!(!stored.observations.is_empty());
        assert_eq!(
            stored,
            postgres
                .recomputed_rollups(project_id)
                .await
                .expect("rebuilt")
        );
    }

    // A third run finds nothing left and changes nothing.
    let third = copy_everything(source_dir.path(), &postgres, "repeated copy").await;
    assert!(third.complete);

    assert_eq!(
        postgres
            .get_user_by_email("OWNER@example.com")
            .await
            .expect("user"),
        Some(user)
    );
    assert_eq!(
        postgres
            .memberships_of_user("user-1")
            .await
            .expect("memberships"),
        vec![membership]
    );
    assert_eq!(
        postgres
            .list_views(PROJECTS[0], "traces")
            .await
            .expect("views"),
        vec![view]
    );
    for (index, project_id) in PROJECTS.iter().enumerate() {
        let mut after = answers(&postgres, project_id).await;
        after.extend(prompt_answers(&postgres, project_id).await);
        assert_eq!(after.len(), before[index].len());
        for (want, got) in before[index].iter().zip(&after) {
            assert_eq!(want, got);
        }
    }
    let prompts = table(&third, "prompts");
    assert_eq!((prompts.copied, prompts.total), (3, 3));
    // The heads came along: the next version of a copied prompt is numbered after them.
    let next = postgres
        .create_prompt(
            PROJECTS[0],
            &text_prompt("base", "Hey {{name}}", &[], &["greeting"]),
            "API",
            &copier(),
        )
        .await
        .expect("next version");
    assert_eq!(next.version, 3);
    // The references came along: what another prompt embeds cannot be deleted.
    let refused = postgres
        .delete_prompt(
            PROJECTS[0],
            "base",
            Some(&PromptSelector::Label("production".to_owned())),
            &copier(),
        )
        .await
        .expect_err("embedded by team/composed");
    assert_eq!(refused.kind, spindle_core::ErrorKind::InvalidArgument);
    postgres.shutdown().await.expect("shutdown");
}

const PAGE: PageRequest = PageRequest {
    page: 1,
    limit: 100,
};

/// Datasets with their item history, run and media links, a score config, an annotation
/// queue with an item, an assignment and a claim, a comment and audit entries, in project
/// copy-a (whose trace t0-0 and user "reviewer" the test wrote).
async fn seed_project_tables<S: Datasets + ScoreConfigs + Reviews + Accounts>(store: &S) {
    let project_id = PROJECTS[0];
    store
        .upsert_dataset(
            project_id,
            &NewDataset {
                name: "golden".into(),
                description: Some("golden answers".into()),
                metadata: Some(r#"{"team":"eval"}"#.into()),
                input_schema: Some(r#"{"type":"object"}"#.into()),
                expected_output_schema: None,
            },
        )
        .await
        .expect("dataset");
    let item = |id: &str, input: &str| NewDatasetItem {
        dataset_name: "golden".into(),
        id: Some(id.into()),
        input: Some(input.into()),
        expected_output: Some(r#""four""#.into()),
        metadata: None,
        source_trace_id: Some("t0-0".into()),
        source_observation_id: None,
        status: Some(ItemStatus::Active),
    };
    store
        .upsert_dataset_item(project_id, &item("item-1", r#""2+2""#))
        .await
        .expect("item");
    store
        .upsert_dataset_item(project_id, &item("item-2", r#""3+1""#))
        .await
        .expect("second item");
    // A later version of item-1, and item-2 deleted: the history holds both.
    let updated = store
        .upsert_dataset_item(project_id, &item("item-1", r#""two plus two""#))
        .await
        .expect("item update");
    store
        .delete_dataset_item(project_id, "item-2", &copier())
        .await
        .expect("item delete");
    store
        .link_item_media(
            project_id,
            &ItemMediaLink {
                dataset_id: updated.dataset_id.clone(),
                dataset_item_id: "item-1".into(),
                media_id: "media-0".into(),
                field: "input".into(),
            },
        )
        .await
        .expect("media link");
    store
        .create_run_item(
            project_id,
            &NewRunItem {
                run_name: "run-1".into(),
                run_description: Some("first run".into()),
                metadata: Some(r#"{"model":"gpt-x"}"#.into()),
                dataset_item_id: "item-1".into(),
                trace_id: Some("t0-0".into()),
                observation_id: Some("t0-0-o1".into()),
                created_at: Some(BASE + 7),
                dataset_version: None,
            },
        )
        .await
        .expect("run item");
    let config = store
        .create_score_config(
            project_id,
            &NewScoreConfig {
                name: "accuracy".into(),
                data_type: ConfigDataType::Numeric,
                min_value: Some(0.1),
                max_value: Some(0.95),
                categories: Vec::new(),
                description: Some("how right".into()),
            },
        )
        .await
        .expect("score config");
    store
        .create_score_config(
            project_id,
            &NewScoreConfig {
                name: "tone".into(),
                data_type: ConfigDataType::Categorical,
                min_value: None,
                max_value: None,
                categories: vec![ConfigCategory {
                    label: "kind".into(),
                    value: 1.0,
                }],
                description: None,
            },
        )
        .await
        .expect("categorical config");
    store
        .update_score_config(
            project_id,
            &config.id,
            &ScoreConfigPatch {
                is_archived: Some(true),
                ..ScoreConfigPatch::default()
            },
        )
        .await
        .expect("archive config");
    let queue = store
        .create_queue(
            project_id,
            &NewQueue {
                name: "triage".into(),
                description: Some("look at these".into()),
                score_config_ids: vec![config.id.clone()],
            },
        )
        .await
        .expect("queue");
    for trace_id in ["t0-0", "t0-1"] {
        store
            .add_queue_item(
                project_id,
                &queue.id,
                &NewQueueItem {
                    object_id: trace_id.into(),
                    object_type: ObjectType::Trace,
                    status: None,
                },
            )
            .await
            .expect("queue item");
    }
    store
        .assign_queue(project_id, &queue.id, "reviewer")
        .await
        .expect("assignment");
    store
        .claim_next_item(project_id, &queue.id, "reviewer", &[], BASE + 11)
        .await
        .expect("claim")
        .expect("an item to claim");
    store
        .create_comment(
            project_id,
            &NewComment {
                object_type: ObjectType::Trace,
                object_id: "t0-0".into(),
                content: "looks **wrong**".into(),
                author_user_id: Some("reviewer".into()),
            },
        )
        .await
        .expect("comment");
    store
        .record_audit(&NewAuditEntry {
            organization_id: "org".into(),
            project_id: Some(project_id.into()),
            actor: Actor::User("reviewer".into()),
            action: "created".into(),
            resource_type: spindle_store::audit::resource::ORGANIZATION.into(),
            resource_id: "org".into(),
            details: Some(json!({"name": "Org"})),
            created_at: BASE + 13,
        })
        .await
        .expect("audit entry");
}

/// Every read of those tables, in one comparable value.
async fn project_table_answers<S: Datasets + ScoreConfigs + Reviews + Accounts>(
    store: &S,
) -> Vec<String> {
    let project_id = PROJECTS[0];
    let mut out = Answers(Vec::new());
    out.add(
        "datasets",
        store.list_dataset_summaries(project_id, PAGE).await,
    );
    let items = |version| DatasetItemQuery {
        page: PAGE,
        version,
        ..DatasetItemQuery::default()
    };
    out.add(
        "items",
        store.list_dataset_items(project_id, &items(None)).await,
    );
    // The history: the first versions, before the update and the delete.
    let first = store
        .get_dataset(project_id, "golden")
        .await
        .expect("dataset")
        .expect("golden");
    out.add(
        "old items",
        store
            .list_dataset_items(project_id, &items(Some(first.created_at + 1)))
            .await,
    );
    out.add(
        "media links",
        store.item_media_links(project_id, "item-1").await,
    );
    out.add(
        "item media",
        store
            .uploaded_media(project_id, &["media-0".to_owned()])
            .await,
    );
    out.add(
        "runs",
        store.list_dataset_runs(project_id, "golden", PAGE).await,
    );
    out.add(
        "run",
        store.get_dataset_run(project_id, "golden", "run-1").await,
    );
    out.add("configs", store.list_score_configs(project_id, PAGE).await);
    let queues = store.list_queues(project_id, PAGE).await.expect("queues");
    out.0.push(format!("{queues:?}"));
    for queue in &queues.items {
        out.add(
            "queue items",
            store
                .list_queue_items(project_id, &queue.id, None, PAGE)
                .await,
        );
        out.add(
            "progress",
            store
                .queue_progress(project_id, std::slice::from_ref(&queue.id), BASE + 12)
                .await,
        );
    }
    out.add(
        "comments",
        store
            .list_comments(
                project_id,
                &CommentQuery {
                    page: PAGE,
                    ..CommentQuery::default()
                },
            )
            .await,
    );
    out.add(
        "audit",
        store
            .audit_log(&AuditQuery {
                organization_id: "org".into(),
                ..AuditQuery::default()
            })
            .await,
    );
    out.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datasets_configs_reviews_and_the_audit_log_move_once() {
    let source_dir = tempfile::tempdir().expect("source dir");
    let sqlite = support::open_sqlite(source_dir.path());
    let project_id = PROJECTS[0];
    sqlite
        .upsert_project(&Project {
            id: project_id.into(),
            name: "Project".into(),
            organization: Organization {
                id: "org".into(),
                name: "Org".into(),
            },
            retention_days: None,
            created_at: BASE,
        })
        .await
        .expect("project");
    for trace in 0..2 {
        sqlite
            .write(project_id, seed_batch(0, trace))
            .await
            .expect("write");
    }
    sqlite
        .upsert_media(&MediaRecord {
            id: "media-0".into(),
            project_id: project_id.into(),
            sha256_hash: "hash-0".into(),
            content_type: "image/png".into(),
            content_length: 4,
            trace_id: None,
            observation_id: None,
            field: None,
            uploaded_at: Some(BASE + 3),
            upload_http_status: Some(200),
            created_at: BASE,
        })
        .await
        .expect("media");
    sqlite
        .create_user(&User {
            id: "reviewer".into(),
            email: "reviewer@example.com".into(),
            name: None,
            password_hash: None,
            is_admin: false,
            created_at: BASE,
        })
        .await
        .expect("user");
    sqlite
        .set_membership(
            &Membership {
                user_id: "reviewer".into(),
                project_id: project_id.into(),
                role: Role::Member,
            },
            BASE,
        )
        .await
        .expect("membership");
    seed_project_tables(&sqlite).await;
    let before = project_table_answers(&sqlite).await;
    sqlite.shutdown().await.expect("shutdown");
    drop(sqlite);

    let target_key = tempfile::tempdir().expect("schema key");
    let postgres = support::open_in(target_key.path(), None).await;
    let options = CopyOptions {
        batch_rows: 1,
        max_batches: None,
    };
    let first = copy_from_sqlite(source_dir.path(), &postgres, &options, |_| {})
        .await
        .expect("copy");
    assert!(first.complete);
    for (name, rows) in [
        ("datasets", 1),
        ("dataset_items", 1),
        ("dataset_item_versions", 4),
        ("dataset_item_media", 1),
        ("dataset_runs", 1),
        ("dataset_run_items", 1),
        ("score_configs", 2),
        ("annotation_queues", 1),
        ("annotation_queue_items", 2),
        ("annotation_queue_assignments", 1),
        ("comments", 1),
    ] {
        let copied = table(&first, name);
        assert_eq!((copied.copied, copied.total), (rows, rows), "{name}");
    }
    // Recorded by the item delete and by the test.
    let audit = table(&first, "audit_log");
    assert_eq!((audit.copied, audit.total), (2, 2));
    let after = project_table_answers(&postgres).await;
    assert_eq!(after.len(), before.len());
    for (want, got) in before.iter().zip(&after) {
        assert_eq!(want, got);
    }

    // Again: nothing new, nothing duplicated, every answer the same.
    let again = copy_everything(source_dir.path(), &postgres, "second copy").await;
    assert!(again.complete);
    assert_eq!(project_table_answers(&postgres).await, after);
    // The audit log's ids go on after the copied ones.
    postgres
        .record_audit(&NewAuditEntry {
            actor: Actor::User("reviewer".into()),
            ..audit_entry("updated", BASE + 20)
        })
        .await
        .expect("new audit entry");
    let mut ids = audit_ids_and_actions(&postgres).await;
    ids.sort();
    assert_eq!(
        ids,
        [(1, "deleted"), (2, "created"), (3, "updated")]
            .map(|(id, action)| (id, action.to_owned()))
    );
    postgres.shutdown().await.expect("shutdown");
}

/// An audit entry of the organization, at `at`.
fn audit_entry(action: &str, at: i64) -> NewAuditEntry {
    NewAuditEntry {
        organization_id: "org".into(),
        project_id: None,
        actor: Actor::User("someone".into()),
        action: action.into(),
        resource_type: spindle_store::audit::resource::ORGANIZATION.into(),
        resource_id: "org".into(),
        details: None,
        created_at: at,
    }
}

/// The ids and actions of the organization's audit log, in the log's order.
async fn audit_ids_and_actions(
    postgres: &spindle_store_postgres::PostgresStore,
) -> Vec<(i64, String)> {
    let log = postgres
        .audit_log(&AuditQuery {
            organization_id: "org".into(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit log");
    log.items
        .into_iter()
        .map(|entry| (entry.id, entry.entry.action))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_entry_whose_id_postgres_used_takes_the_next_one() {
    let source_dir = tempfile::tempdir().expect("source dir");
    let sqlite = support::open_sqlite(source_dir.path());
    let organization = Organization {
        id: "org".into(),
        name: "Org".into(),
    };
    let project = Project {
        id: PROJECTS[0].into(),
        name: "Project".into(),
        organization,
        retention_days: None,
        created_at: BASE,
    };
    sqlite.upsert_project(&project).await.expect("project");
    sqlite
        .record_audit(&audit_entry("copied", BASE + 1))
        .await
        .expect("sqlite entry");
    sqlite.shutdown().await.expect("shutdown");
    drop(sqlite);

    let target_key = tempfile::tempdir().expect("schema key");
    let postgres = support::open_in(target_key.path(), None).await;
    postgres.upsert_project(&project).await.expect("project");
    postgres
        .record_audit(&audit_entry("live", BASE + 2))
        .await
        .expect("postgres entry");
    for _ in 0..2 {
        copy_everything(source_dir.path(), &postgres, "copy").await;
    }
    postgres
        .record_audit(&audit_entry("later", BASE + 3))
        .await
        .expect("entry after the copy");
    assert_eq!(
        audit_ids_and_actions(&postgres).await,
        [(3, "later"), (1, "live"), (2, "copied")].map(|(id, action)| (id, action.to_owned()))
    );
    postgres.shutdown().await.expect("shutdown");
}

/// A user of a SQLite directory, with a project role, an organization role and a saved
/// view in `project`.
async fn seed_person(sqlite: &impl Accounts, project: &Project, id: &str, email: &str) -> User {
    let user = User {
        id: id.into(),
        email: email.into(),
        name: None,
        password_hash: None,
        is_admin: false,
        created_at: BASE,
    };
    sqlite.create_user(&user).await.expect("user");
    let membership = Membership {
        user_id: id.into(),
        project_id: project.id.clone(),
        role: Role::Member,
    };
    sqlite
        .set_membership(&membership, BASE)
        .await
        .expect("membership");
    let organization_membership = OrganizationMembership {
        organization_id: project.organization.id.clone(),
        user_id: id.into(),
        role: Role::Viewer,
    };
    sqlite
        .set_organization_membership(&organization_membership, BASE)
        .await
        .expect("organization membership");
    let view = SavedView {
        id: format!("view-of-{id}"),
        project_id: project.id.clone(),
        user_id: id.into(),
        page: "traces".into(),
        name: "mine".into(),
        query: "level=ERROR".into(),
        created_at: BASE,
    };
    sqlite.save_view(&view).await.expect("view");
    user
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_postgres_already_has_keeps_its_account_and_the_copy_leaves_out_the_other_roles() {
    let source_dir = tempfile::tempdir().expect("source dir");
    let sqlite = support::open_sqlite(source_dir.path());
    let project = Project {
        id: PROJECTS[0].into(),
        name: "Project".into(),
        organization: Organization {
            id: "org".into(),
            name: "Org".into(),
        },
        retention_days: None,
        created_at: BASE,
    };
    sqlite.upsert_project(&project).await.expect("project");
    seed_person(&sqlite, &project, "sqlite-user", "taken@example.com").await;
    let newcomer = seed_person(&sqlite, &project, "new-user", "new@example.com").await;
    sqlite.shutdown().await.expect("shutdown");
    drop(sqlite);

    let target_key = tempfile::tempdir().expect("schema key");
    let postgres = support::open_in(target_key.path(), None).await;
    postgres.upsert_project(&project).await.expect("project");
    let resident = User {
        id: "postgres-user".into(),
        email: "taken@example.com".into(),
        name: Some("Resident".into()),
        password_hash: None,
        is_admin: true,
        created_at: BASE + 1,
    };
    postgres.create_user(&resident).await.expect("user");
    for _ in 0..2 {
        assert!(
            copy_everything(source_dir.path(), &postgres, "copy")
                .await
                .complete
        );
    }

    assert_eq!(
        postgres
            .get_user_by_email("taken@example.com")
            .await
            .expect("user"),
        Some(resident)
    );
    assert_eq!(
        postgres
            .memberships_of_user("sqlite-user")
            .await
            .expect("memberships"),
        vec![]
    );
    assert_eq!(
        postgres
            .organization_memberships_of_user("sqlite-user")
            .await
            .expect("organization memberships"),
        vec![]
    );
    assert_eq!(
        postgres
            .get_user_by_email("new@example.com")
            .await
            .expect("user"),
        Some(newcomer)
    );
    assert_eq!(
        postgres
            .memberships_of_user("new-user")
            .await
            .expect("memberships")
            .len(),
        1
    );
    assert_eq!(
        postgres
            .organization_memberships_of_user("new-user")
            .await
            .expect("organization memberships")
            .len(),
        1
    );
    let views = postgres
        .list_views(PROJECTS[0], "traces")
        .await
        .expect("views");
    assert_eq!(
        views
            .iter()
            .map(|view| view.user_id.as_str())
            .collect::<Vec<_>>(),
        ["new-user"]
    );
    postgres.shutdown().await.expect("shutdown");
}
