//! The Rust SDK's prompt management against the real server over a socket: create text and
//! chat versions, fetch by label and version, the cache (hits make no request, a stale entry
//! is served while it refreshes, label moves through the client drop it), the fallback when
//! the server is unreachable, compile, and the link from generations to the prompt version
//! read back through the public API.

mod support;

#[allow(dead_code)]
#[path = "../../spindle/examples/prompt_management.rs"]
mod prompt_management;

use axum::extract::Request;
use axum::middleware::Next;
use serde_json::{json, Value};
use spindle::{
    ChatMessage, CompiledMessage, CreatePrompt, ObservationType, ObservationUpdate, PromptError,
    PromptMessage, PromptTemplate, PromptType, Variables,
};
use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use support::{sdk_client, SocketServer};

/// Prompt fetches (`GET /api/public/v2/prompts/{name}`) the server received, and how many of
/// them it answered with 304, by path.
fn fetch_counts() -> &'static Mutex<HashMap<String, (usize, usize)>> {
    static COUNTS: OnceLock<Mutex<HashMap<String, (usize, usize)>>> = OnceLock::new();
    COUNTS.get_or_init(Mutex::default)
}

fn counts_of(name: &str) -> (usize, usize) {
    let path = format!("/api/public/v2/prompts/{name}");
    fetch_counts()
        .lock()
        .expect("counts")
        .get(&path)
        .copied()
        .unwrap_or_default()
}

fn fetches_of(name: &str) -> usize {
    counts_of(name).0
}

async fn count_prompt_fetches(request: Request, next: Next) -> axum::response::Response {
    let path = request.uri().path().to_owned();
    let counted =
        request.method() == axum::http::Method::GET && path.starts_with("/api/public/v2/prompts/");
    if counted {
        fetch_counts()
            .lock()
            .expect("counts")
            .entry(path.clone())
            .or_default()
            .0 += 1;
    }
    let response = next.run(request).await;
    if counted && response.status() == axum::http::StatusCode::NOT_MODIFIED {
        fetch_counts()
            .lock()
            .expect("counts")
            .entry(path)
            .or_default()
            .1 += 1;
    }
    response
}

/// One server for the whole file, and the SDK's global client pointed at it.
fn server() -> &'static SocketServer {
    static SERVER: OnceLock<SocketServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = SocketServer::start(|router| {
            router.layer(axum::middleware::from_fn(count_prompt_fetches))
        });
        assert!(server.client().install_global());
        server
    })
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    server().runtime.block_on(future)
}

fn get(path: &str) -> Value {
    server().get_ok(path)
}

/// A base URL where nothing listens.
fn unreachable_base_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}

#[test]
fn fetch_by_label_and_version_served_from_the_cache() {
    let server = server();
    let client = server.client();
    block_on(async {
        let first = client
            .create_prompt(
                CreatePrompt::text("sdk-text", "Hello {{name}}, about {{ topic }}?")
                    .labels(["production"])
                    .tags(["sdk"])
                    .config(&json!({"model": "fake-llm", "temperature": 0.2}))
                    .commit_message("first"),
            )
            .await
            .expect("create v1");
        assert_eq!((first.version, first.is_fallback), (1, false));
        assert!(first.id.is_some());
        let second = client
            .create_prompt(CreatePrompt::text("sdk-text", "Hi {{name}}").labels(["staging"]))
            .await
            .expect("create v2");
        assert_eq!(second.version, 2);
        assert!(second.labels.contains(&"latest".to_owned()));

        let production = client.get_prompt("sdk-text").await.expect("production");
        assert_eq!(production.version, 1);
        assert_eq!(production.prompt_type(), PromptType::Text);
        assert!(production.labels.contains(&"production".to_owned()));
        assert_eq!(production.tags, vec!["sdk"]);
        assert_eq!(production.config["temperature"], 0.2);
        assert_eq!(production.commit_message.as_deref(), Some("first"));
        assert_eq!(production.variables(), vec!["name", "topic"]);
        assert_eq!(
            production
                .compile_text(
                    &Variables::new()
                        .var("name", "Alice")
                        .var("topic", "billing")
                )
                .expect("text"),
            "Hello Alice, about billing?"
        );
        assert_eq!(
            production
                .compile_text(&Variables::new().var("name", "Alice"))
                .expect("text"),
            "Hello Alice, about {{ topic }}?"
        );
        assert!(matches!(
            production.compile_chat(&Variables::new()),
            Err(PromptError::WrongType { .. })
        ));
        let staging = client.get_prompt("sdk-text").label("staging").await;
        assert_eq!(staging.expect("staging").version, 2);
        let by_version = client.get_prompt("sdk-text").version(1).await;
        assert_eq!(by_version.expect("version 1").version, 1);
        let latest = client.get_prompt("sdk-text").label("latest").await;
        assert_eq!(latest.expect("latest").version, 2);
        assert_eq!(fetches_of("sdk-text"), 4);

        // the same fetches again: all from the cache, no request
        for _ in 0..3 {
            let cached = client.get_prompt("sdk-text").await.expect("cached");
            assert_eq!(cached, production);
        }
        let cached = client.get_prompt("sdk-text").version(1).await;
        assert_eq!(cached.expect("cached version").version, 1);
        assert_eq!(fetches_of("sdk-text"), 4);

        // moving `production` through the client drops its cached versions of the prompt
        let moved = client
            .update_prompt_labels("sdk-text", 2, ["production"])
            .await
            .expect("move label");
        assert!(moved.labels.contains(&"production".to_owned()));
        let production = client.get_prompt("sdk-text").await.expect("moved");
        assert_eq!(production.version, 2);
        assert_eq!(fetches_of("sdk-text"), 5);

        // a zero TTL fetches every time
        client
            .get_prompt("sdk-text")
            .cache_ttl(Duration::ZERO)
            .await
            .expect("uncached");
        assert_eq!(fetches_of("sdk-text"), 6);

        let missing = client.get_prompt("sdk-text").version(99).await;
        assert!(
            matches!(&missing, Err(PromptError::NotFound { name, .. }) if name == "sdk-text"),
            "{missing:?}"
        );
        let absent = client.get_prompt("sdk-no-such-prompt").await;
        assert!(matches!(absent, Err(PromptError::NotFound { .. })));
    });
}

#[test]
fn stale_prompt_is_served_while_it_refreshes() {
    let server = server();
    let writer = server.client();
    let reader = server.client();
    let short = Duration::from_millis(1);
    block_on(async {
        writer
            .create_prompt(CreatePrompt::text("sdk-swr", "one").labels(["production"]))
            .await
            .expect("v1");
        let first = reader.get_prompt("sdk-swr").cache_ttl(short).await;
        assert_eq!(first.expect("v1").version, 1);
        writer
            .create_prompt(CreatePrompt::text("sdk-swr", "two").labels(["production"]))
            .await
            .expect("v2");
        tokio::time::sleep(Duration::from_millis(20)).await;
        // expired: the cached version comes back at once, the refresh runs behind it
        let stale = reader.get_prompt("sdk-swr").cache_ttl(short).await;
        assert_eq!(stale.expect("stale").version, 1);
        let mut refreshed = None;
        for _ in 0..500 {
            let prompt = reader
                .get_prompt("sdk-swr")
                .cache_ttl(Duration::from_secs(60))
                .await
                .expect("cached");
            if prompt.version == 2 {
                refreshed = Some(prompt);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let refreshed = refreshed.expect("the background refresh stored version 2");
        assert_eq!(refreshed.template, PromptTemplate::Text("two".into()));
        assert!(fetches_of("sdk-swr") >= 2);
    });
}

#[test]
fn unchanged_prompt_is_revalidated_with_a_304() {
    let server = server();
    let writer = server.client();
    let reader = server.client();
    block_on(async {
        writer
            .create_prompt(CreatePrompt::text("sdk-etag", "same").labels(["production"]))
            .await
            .expect("create");
        let first = reader
            .get_prompt("sdk-etag")
            .cache_ttl(Duration::from_millis(1))
            .await;
        assert_eq!(first.expect("v1").version, 1);
        assert_eq!(counts_of("sdk-etag"), (1, 0));
        tokio::time::sleep(Duration::from_millis(20)).await;
        // stale: served at once, revalidated behind it with the ETag, fresh for 60 s after
        let stale = reader
            .get_prompt("sdk-etag")
            .cache_ttl(Duration::from_secs(60))
            .await;
        assert_eq!(stale.expect("stale").version, 1);
        let mut settled = false;
        for _ in 0..500 {
            let before = fetches_of("sdk-etag");
            let served = reader
                .get_prompt("sdk-etag")
                .cache_ttl(Duration::from_secs(60))
                .await
                .expect("served");
            assert_eq!(served.version, 1);
            tokio::time::sleep(Duration::from_millis(10)).await;
            if counts_of("sdk-etag").1 >= 1 && fetches_of("sdk-etag") == before {
                settled = true;
                break;
            }
        }
        assert!(settled, "revalidated: {:?}", counts_of("sdk-etag"));
        let (fetches, not_modified) = counts_of("sdk-etag");
        assert_eq!(fetches, not_modified + 1, "every refresh was a 304");
        for _ in 0..3 {
            reader.get_prompt("sdk-etag").await.expect("fresh");
        }
        assert_eq!(fetches_of("sdk-etag"), fetches, "fresh again: no request");
    });
}

#[test]
fn chat_prompt_round_trip_and_compile() {
    let server = server();
    let client = server.client();
    block_on(async {
        let messages = vec![
            PromptMessage::message("system", "You are a {{persona}}."),
            PromptMessage::placeholder("history"),
            PromptMessage::message("user", "{{question}}"),
        ];
        let created = client
            .create_prompt(
                CreatePrompt::chat("sdk/chat prompt", messages.clone())
                    .labels(["production"])
                    .config(&json!({"model": "fake-llm"})),
            )
            .await
            .expect("create chat");
        assert_eq!(created.template, PromptTemplate::Chat(messages.clone()));
        let fetched = client.get_prompt("sdk/chat prompt").await.expect("chat");
        assert_eq!(fetched.name, "sdk/chat prompt");
        assert_eq!(fetched.template, PromptTemplate::Chat(messages));
        assert_eq!(fetched.config, json!({"model": "fake-llm"}));
        assert_eq!(fetched.variables(), vec!["persona", "question"]);
        let compiled = fetched
            .compile_chat(
                &Variables::new()
                    .var("persona", "pirate")
                    .var("question", "Where is the treasure?")
                    .placeholder(
                        "history",
                        vec![
                            ChatMessage::new("user", "Ahoy"),
                            ChatMessage::new("assistant", "Arr, {{persona}} here"),
                        ],
                    ),
            )
            .expect("chat");
        assert_eq!(
            serde_json::to_value(&compiled).expect("json"),
            json!([
                {"role": "system", "content": "You are a pirate."},
                {"role": "user", "content": "Ahoy"},
                {"role": "assistant", "content": "Arr, pirate here"},
                {"role": "user", "content": "Where is the treasure?"},
            ])
        );
        let unresolved = fetched.compile_chat(&Variables::new()).expect("chat");
        assert_eq!(
            unresolved[1],
            CompiledMessage::UnresolvedPlaceholder {
                name: "history".into()
            }
        );
        assert!(matches!(
            fetched.compile_text(&Variables::new()),
            Err(PromptError::WrongType { .. })
        ));

        let rejected = client
            .create_prompt(CreatePrompt::text("", "no name"))
            .await;
        assert!(
            matches!(&rejected, Err(PromptError::Rejected { status: 400, message }) if message.contains("name")),
            "{rejected:?}"
        );
    });
}

#[test]
fn fallback_when_the_server_is_unreachable() {
    server();
    let client = sdk_client(&unreachable_base_url());
    block_on(async {
        let fallback = client
            .get_prompt("sdk-offline")
            .label("staging")
            .max_retries(1)
            .fallback_text("Answer {{question}}")
            .await
            .expect("fallback");
        assert!(fallback.is_fallback);
        assert_eq!(
            (fallback.name.as_str(), fallback.version),
            ("sdk-offline", 0)
        );
        assert_eq!(fallback.labels, vec!["staging"]);
        assert_eq!(
            fallback
                .compile_text(&Variables::new().var("question", "why"))
                .expect("text"),
            "Answer why"
        );
        let chat_fallback = client
            .get_prompt("sdk-offline")
            .max_retries(0)
            .fallback_chat(vec![PromptMessage::message("user", "{{q}}")])
            .await
            .expect("chat fallback");
        assert!(chat_fallback.is_fallback);
        assert_eq!(chat_fallback.prompt_type(), PromptType::Chat);
        let error = client.get_prompt("sdk-offline").max_retries(0).await;
        assert!(
            matches!(error, Err(PromptError::Unreachable { .. })),
            "{error:?}"
        );
    });
}

#[test]
fn cached_prompt_outlives_the_server() {
    let server = server();
    let writer = server.client();
    block_on(async {
        writer
            .create_prompt(CreatePrompt::text("sdk-outage", "cached text").labels(["production"]))
            .await
            .expect("create");
        // a second listener on the same app, stopped after the first fetch
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(
            axum::serve(listener, server.app.router.clone())
                .with_graceful_shutdown(async move {
                    stopped.await.ok();
                })
                .into_future(),
        );
        let reader = sdk_client(&format!("http://{address}"));
        let short = Duration::from_millis(1);
        let fetched = reader.get_prompt("sdk-outage").cache_ttl(short).await;
        assert!(!fetched.expect("fetched").is_fallback);
        stop.send(()).ok();
        serving.await.expect("join").expect("served");
        tokio::time::sleep(Duration::from_millis(20)).await;
        // expired and the server gone: the cached version beats the fallback
        let served = reader
            .get_prompt("sdk-outage")
            .cache_ttl(short)
            .max_retries(0)
            .fallback_text("fallback text")
            .await
            .expect("served");
        assert!(!served.is_fallback);
        assert_eq!(served.template, PromptTemplate::Text("cached text".into()));
    });
}

#[test]
fn generations_link_the_prompt_version() {
    server();
    let client = spindle::get_client();
    let created = block_on(prompt_management::create_prompt_version(&client)).expect("create");
    assert!(created.id.is_some(), "the server names the version's id");
    let answer = block_on(prompt_management::review("Dune")).expect("review");
    assert!(answer.contains("What do you think of Dune?"), "{answer}");

    // a manual generation linked to the same version, and one with a fallback (not linked)
    let prompt = block_on(
        client
            .get_prompt(prompt_management::PROMPT_NAME)
            .into_future(),
    )
    .expect("fetch");
    assert_eq!(prompt.version, created.version);
    client
        .observation("manual-linked-generation")
        .as_type(ObservationType::Generation)
        .new_trace()
        .with(
            ObservationUpdate::new()
                .model("fake-llm")
                .linked_prompt(&prompt),
        )
        .start()
        .end();
    let fallback =
        spindle::Prompt::fallback("movie-critic", None, PromptTemplate::Text("x".into()));
    client
        .observation("manual-fallback-generation")
        .as_type(ObservationType::Generation)
        .new_trace()
        .with(ObservationUpdate::new().linked_prompt(&fallback))
        .start()
        .end();
    client.flush();

    let traces = get("/api/public/traces?name=movie-review");
    assert_eq!(traces["meta"]["totalItems"], 1, "{traces}");
    let trace_id = traces["data"][0]["id"].as_str().expect("trace id");
    let trace = get(&format!("/api/public/traces/{trace_id}"));
    let generation = support::observation_named(&trace, "call_llm");
    assert_eq!(generation["type"], "GENERATION");
    assert_eq!(generation["promptName"], prompt_management::PROMPT_NAME);
    assert_eq!(generation["promptVersion"], created.version);
    assert_eq!(
        generation["promptId"].as_str(),
        created.id.as_deref(),
        "{generation}"
    );
    assert_eq!(generation["model"], "fake-llm");
    assert!(generation["input"]
        .to_string()
        .contains("Hi, I like thrillers."));

    let linked = get(&format!(
        "/api/public/observations?promptName={}&promptVersion={}",
        prompt_management::PROMPT_NAME,
        created.version
    ));
    let names = support::texts_of(&linked, "name");
    assert!(names.contains(&"call_llm"), "{names:?}");
    assert!(names.contains(&"manual-linked-generation"), "{names:?}");
    assert!(!names.contains(&"manual-fallback-generation"), "{names:?}");
    let unlinked = get("/api/public/observations?name=manual-fallback-generation");
    assert_eq!(unlinked["data"][0]["promptName"], Value::Null);
    assert_eq!(unlinked["data"][0]["promptId"], Value::Null);
}
