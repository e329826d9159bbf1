//! Table-driven tests of the span mapper for each attribute convention.

use super::*;
use crate::otlp::decoded::{Attr, Attrs, Export, ResourceSpans, Scope, ScopeSpans, Span};
use expect_test::{expect, Expect};

fn s(text: &str) -> Attr {
    Attr::Str(text.to_owned())
}

/// Maps one span of `scope` (trace `0123…`, span `…aa`, from 1 s to 3 s) with `attributes`
/// and coalesces the batch.
fn map_span(scope: &str, parent: Option<&str>, attributes: Vec<(&str, Attr)>) -> WriteBatch {
    map_sdk_span((scope, "", None), parent, attributes)
}

/// [`map_span`] from an SDK: the scope's name and version, and the SDK's language.
fn map_sdk_span(
    (scope, version, language): (&str, &str, Option<&str>),
    parent: Option<&str>,
    attributes: Vec<(&str, Attr)>,
) -> WriteBatch {
    let span = Span {
        trace_id: "0123456789abcdef0123456789abcdef".into(),
        span_id: "00000000000000aa".into(),
        parent_span_id: parent.map(str::to_owned),
        name: "span-name".into(),
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 3_000_000_000,
        attributes: Attrs(
            attributes
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
        ),
        events: Vec::new(),
        status_code: 0,
        status_message: String::new(),
    };
    let export = Export {
        resource_spans: vec![ResourceSpans {
            resource: Attrs(
                language
                    .map(|language| (semconv::RESOURCE_SDK_LANGUAGE.to_owned(), s(language)))
                    .into_iter()
                    .collect(),
            ),
            scope_spans: vec![ScopeSpans {
                scope: Scope {
                    name: scope.into(),
                    version: version.into(),
                    ..Scope::default()
                },
                spans: vec![span],
            }],
        }],
    };
    let mut batch = to_batch(&export, 0);
    batch.coalesce();
    batch
}

/// Maps one span of `scope` with `attributes` and renders the interesting fields.
fn check(scope: &str, parent: Option<&str>, attributes: Vec<(&str, Attr)>, expected: Expect) {
    let batch = map_span(scope, parent, attributes);
    let observation = &batch.observations[0];
    let trace = &batch.traces[0];
    let mut metadata = observation.metadata.clone();
    metadata.remove("scope");
    let rendered = format!(
        "type={:?} name={:?} model={:?} params={:?} usage={:?} cost={:?} level={:?} env={:?}\ninput={:?}\noutput={:?}\nmetadata={:?}\ntrace name={:?} user={:?} session={:?} tags={:?} metadata={:?}",
        observation.observation_type,
        observation.name,
        observation.model,
        observation.model_parameters,
        observation.usage_details,
        observation.cost_details,
        observation.level,
        observation.environment,
        observation.input,
        observation.output,
        metadata,
        trace.name,
        trace.user_id,
        trace.session_id,
        trace.tags,
        trace.metadata,
    );
    expected.assert_eq(&rendered);
}

#[test]
fn opentelemetry_gen_ai() {
    check(
        "opentelemetry.instrumentation.openai",
        Some("00000000000000bb"),
        vec![
            ("gen_ai.operation.name", s("chat")),
            ("gen_ai.request.model", s("gpt-4o")),
            ("gen_ai.response.model", s("gpt-4o-2024-08-06")),
            ("gen_ai.request.temperature", Attr::Double(0.2)),
            ("gen_ai.usage.input_tokens", Attr::Int(100)),
            ("gen_ai.usage.output_tokens", Attr::Int(20)),
            ("gen_ai.usage.cost", Attr::Double(0.01)),
            (
                "gen_ai.input.messages",
                s(r#"[{"role":"user","content":"hi"}]"#),
            ),
            (
                "gen_ai.output.messages",
                s(r#"[{"role":"assistant","content":"yo"}]"#),
            ),
            ("gen_ai.conversation.id", s("conv-1")),
            ("deployment.environment.name", s("Production")),
        ],
        expect![[r#"
            type=Some(Generation) name=Some("span-name") model=Some("gpt-4o-2024-08-06") params=Some("{\"temperature\":0.2}") usage=Some({"input": 100, "output": 20, "total": 120}) cost=Some({"total": 0.01}) level=Some(Default) env=Some("production")
            input=Some("[{\"role\":\"user\",\"content\":\"hi\"}]")
            output=Some("[{\"role\":\"assistant\",\"content\":\"yo\"}]")
            metadata={"attributes": "{\"gen_ai.operation.name\":\"chat\",\"gen_ai.request.model\":\"gpt-4o\",\"gen_ai.response.model\":\"gpt-4o-2024-08-06\",\"gen_ai.request.temperature\":\"0.2\",\"gen_ai.usage.input_tokens\":\"100\",\"gen_ai.usage.output_tokens\":\"20\",\"gen_ai.usage.cost\":\"0.01\",\"gen_ai.conversation.id\":\"conv-1\",\"deployment.environment.name\":\"Production\"}"}
            trace name=None user=None session=Some("conv-1") tags={} metadata={}"#]],
    );
}

#[test]
fn openinference() {
    check(
        "openinference.instrumentation.langchain",
        None,
        vec![
            ("openinference.span.kind", s("LLM")),
            ("llm.model_name", s("claude-3-5-sonnet")),
            ("llm.invocation_parameters", s(r#"{"max_tokens": 100}"#)),
            ("llm.token_count.prompt", Attr::Int(7)),
            ("llm.token_count.completion", Attr::Int(3)),
            ("llm.token_count.total", Attr::Int(10)),
            ("llm.input_messages.0.message.role", s("user")),
            ("llm.input_messages.0.message.content", s("hello")),
            ("output.value", s("hi there")),
            ("user.id", s("u-9")),
            ("tag.tags", s("a,b")),
        ],
        expect![[r#"
            type=Some(Generation) name=Some("span-name") model=Some("claude-3-5-sonnet") params=Some("{\"max_tokens\":100}") usage=Some({"input": 7, "output": 3, "total": 10}) cost=None level=Some(Default) env=Some("default")
            input=Some("[{\"role\":\"user\",\"content\":\"hello\"}]")
            output=Some("hi there")
            metadata={"attributes": "{\"openinference.span.kind\":\"LLM\",\"llm.model_name\":\"claude-3-5-sonnet\",\"llm.invocation_parameters\":\"{\\\"max_tokens\\\": 100}\",\"llm.token_count.prompt\":\"7\",\"llm.token_count.completion\":\"3\",\"llm.token_count.total\":\"10\",\"tag.tags\":\"a,b\"}"}
            trace name=Some("span-name") user=Some("u-9") session=None tags={"a", "b"} metadata={}"#]],
    );
}

#[test]
fn vercel_ai_sdk() {
    check(
        "ai",
        Some("00000000000000bb"),
        vec![
            ("ai.operationId", s("ai.generateText.doGenerate")),
            ("ai.model.id", s("gpt-4o-mini")),
            (
                "ai.prompt.messages",
                s(r#"[{"role":"user","content":"q"}]"#),
            ),
            ("ai.response.text", s("answer")),
            ("ai.usage.promptTokens", Attr::Int(5)),
            ("ai.usage.completionTokens", Attr::Int(6)),
            ("ai.telemetry.metadata.userId", s("web-user")),
            ("ai.telemetry.metadata.sessionId", s("web-session")),
            ("ai.telemetry.metadata.feature", s("chat")),
        ],
        expect![[r#"
            type=Some(Generation) name=Some("span-name") model=Some("gpt-4o-mini") params=None usage=Some({"input": 5, "output": 6, "total": 11}) cost=None level=Some(Default) env=Some("default")
            input=Some("[{\"role\":\"user\",\"content\":\"q\"}]")
            output=Some("answer")
            metadata={"attributes": "{\"ai.operationId\":\"ai.generateText.doGenerate\",\"ai.model.id\":\"gpt-4o-mini\",\"ai.usage.promptTokens\":\"5\",\"ai.usage.completionTokens\":\"6\",\"ai.telemetry.metadata.userId\":\"web-user\",\"ai.telemetry.metadata.sessionId\":\"web-session\",\"ai.telemetry.metadata.feature\":\"chat\"}", "feature": "chat"}
            trace name=None user=Some("web-user") session=Some("web-session") tags={} metadata={}"#]],
    );
}

#[test]
fn langfuse_python_v3_generation_declared_as_span() {
    check(
        "langfuse-sdk",
        None,
        vec![
            ("langfuse.observation.type", s("span")),
            ("langfuse.observation.model.name", s("gpt-4o")),
            ("langfuse.observation.metadata.count", Attr::Int(3)),
            ("langfuse.observation.metadata", s(r#"["x","y"]"#)),
            ("langfuse.trace.tags", Attr::Array(vec![s("t1"), s("t2")])),
            ("langfuse.trace.metadata", s(r#"{"tenant":"acme"}"#)),
            ("langfuse.observation.level", s("warn")),
            ("langfuse.experiment.id", s("exp-1")),
        ],
        expect![[r#"
            type=Some(Span) name=Some("span-name") model=Some("gpt-4o") params=None usage=None cost=None level=Some(Warning) env=Some("sdk-experiment")
            input=None
            output=None
            metadata={"0": "x", "1": "y", "count": "3", "experiment.id": "exp-1"}
            trace name=Some("span-name") user=None session=None tags={"t1", "t2"} metadata={"tenant": "acme"}"#]],
    );
}

#[test]
fn the_python_generation_override_is_for_old_sdks_only() {
    let cases = [
        ("3.0.0", true),
        ("3.3.4", true),
        ("2.60.10", true),
        ("3.4.0", false),
        ("3.15.0", false),
        ("4.18.0", false),
        ("5.0.4", false),
        ("", false),
        ("nightly", false),
    ];
    for (version, expected) in cases {
        assert_eq!(is_python_sdk_up_to_3_3(version), expected, "{version}");
    }
}

/// The Python SDK sends output "" for an observed generator that yielded nothing; Langfuse
/// stores no output then (it skips empty values when merging), and so no trace output either.
#[test]
fn empty_input_and_output_are_no_value() {
    check(
        "langfuse-sdk",
        None,
        vec![
            ("langfuse.observation.type", s("span")),
            ("langfuse.observation.input", s("")),
            ("langfuse.observation.output", s("")),
            ("langfuse.trace.input", s("")),
            ("langfuse.trace.output", s("")),
        ],
        expect![[r#"
            type=Some(Span) name=Some("span-name") model=None params=None usage=None cost=None level=Some(Default) env=Some("default")
            input=None
            output=None
            metadata={}
            trace name=Some("span-name") user=None session=None tags={} metadata={}"#]],
    );
    let batch = map_span(
        "langfuse-sdk",
        None,
        vec![
            ("langfuse.observation.input", s("\"\"")),
            ("langfuse.observation.output", s("")),
        ],
    );
    // A JSON-encoded empty string is a value; only the empty attribute is none.
    assert_eq!(batch.observations[0].input.as_deref(), Some("\"\""));
    assert_eq!(batch.observations[0].output, None);
    assert_eq!(batch.traces[0].input.as_deref(), Some("\"\""));
    assert_eq!(batch.traces[0].output, None);
}

/// One span of scope `ai` with `attributes`, mapped.
fn ai_sdk_span(attributes: Vec<(&str, Attr)>) -> ObservationRecord {
    map_span("ai", Some("00000000000000bb"), attributes)
        .observations
        .remove(0)
}

fn usage(pairs: &[(&str, i64)]) -> Option<BTreeMap<String, i64>> {
    Some(
        pairs
            .iter()
            .map(|(key, count)| ((*key).to_owned(), *count))
            .collect(),
    )
}

/// The AI SDK's `ai.generateText` / `ai.streamText` spans wrap the model calls and carry their
/// model and summed usage: they stay spans, with zero usage, so the tokens count once. Only the
/// model calls (`doGenerate`, `doStream`) are generations.
#[test]
fn vercel_ai_sdk_wrapper_spans_stay_spans() {
    let summed_usage = || {
        vec![
            ("ai.model.id", s("gpt-4o-mini")),
            ("ai.model.provider", s("openai.chat")),
            ("ai.usage.inputTokens", Attr::Int(10)),
            ("ai.usage.outputTokens", Attr::Int(4)),
            ("ai.usage.totalTokens", Attr::Int(14)),
            ("ai.usage.cachedInputTokens", Attr::Int(3)),
        ]
    };
    for operation in [
        "ai.generateText",
        "ai.streamText",
        "ai.generateObject",
        "ai.streamObject",
    ] {
        let mut attributes = summed_usage();
        attributes.push(("ai.operationId", s(operation)));
        attributes.push(("operation.name", s(&format!("{operation} my-function"))));
        let wrapper = ai_sdk_span(attributes);
        assert_eq!(
            wrapper.observation_type,
            Some(ObservationType::Span),
            "{operation}"
        );
        assert_eq!(wrapper.model.as_deref(), Some("gpt-4o-mini"), "{operation}");
        assert_eq!(
            wrapper.usage_details,
            usage(&[("input", 0), ("output", 0), ("total", 0)]),
            "{operation}"
        );
    }
    for (operation, observation_type) in [
        ("ai.generateText.doGenerate", ObservationType::Generation),
        ("ai.streamText.doStream", ObservationType::Generation),
        ("ai.generateObject.doGenerate", ObservationType::Generation),
        ("ai.streamObject.doStream", ObservationType::Generation),
        ("ai.embed.doEmbed", ObservationType::Embedding),
        ("ai.embedMany.doEmbed", ObservationType::Embedding),
    ] {
        let mut attributes = summed_usage();
        attributes.push(("ai.operationId", s(operation)));
        let call = ai_sdk_span(attributes);
        assert_eq!(call.observation_type, Some(observation_type), "{operation}");
        assert_eq!(
            call.usage_details,
            usage(&[
                ("input", 7),
                ("input_cached_tokens", 3),
                ("output", 4),
                ("total", 14)
            ]),
            "{operation}"
        );
    }
    // A wrapper without a model (a tool call's parent step) gets no usage at all.
    let step = ai_sdk_span(vec![
        ("ai.operationId", s("ai.generateText")),
        ("ai.usage.inputTokens", Attr::Int(10)),
    ]);
    assert_eq!(step.observation_type, Some(ObservationType::Span));
    assert_eq!(step.usage_details, None);
    let tool = ai_sdk_span(vec![
        ("ai.operationId", s("ai.toolCall")),
        ("ai.toolCall.name", s("weather")),
    ]);
    assert_eq!(tool.observation_type, Some(ObservationType::Tool));
}

const PYTHON_5: (&str, &str, Option<&str>) = (semconv::SCOPE_NAME, "5.2.0", Some("python"));

/// The attributes Python SDK 5.x sets on the root span of an experiment item.
fn experiment_attributes() -> Vec<(&'static str, Attr)> {
    vec![
        (semconv::EXPERIMENT_ID, s("exp-1")),
        (semconv::EXPERIMENT_NAME, s("run-1")),
        (semconv::EXPERIMENT_DESCRIPTION, s("first try")),
        (semconv::EXPERIMENT_METADATA, s(r#"{"model": "lookup"}"#)),
        (semconv::EXPERIMENT_DATASET_ID, s("ds-1")),
        (semconv::EXPERIMENT_ITEM_ID, s("item-1")),
        (
            semconv::EXPERIMENT_ITEM_VERSION,
            s("2025-01-02T03:04:05.678000Z"),
        ),
    ]
}

#[test]
fn experiment_root_spans_link_their_dataset_item() {
    let batch = map_sdk_span(PYTHON_5, None, experiment_attributes());
    assert_eq!(
        batch.run_items,
        [ExperimentRunItem {
            dataset_id: "ds-1".into(),
            dataset_item_id: "item-1".into(),
            run_name: "run-1".into(),
            run_description: Some("first try".into()),
            run_metadata: Some(r#"{"model":"lookup"}"#.into()),
            trace_id: "0123456789abcdef0123456789abcdef".into(),
            observation_id: "00000000000000aa".into(),
            dataset_version: parse_iso("2025-01-02T03:04:05.678Z"),
            created_at: 1_000_000,
        }]
    );
    assert!(batch.run_items[0].dataset_version.is_some());
}

#[test]
fn only_root_spans_with_a_dataset_item_and_a_run_link() {
    let child = map_span(
        semconv::SCOPE_NAME,
        Some("00000000000000bb"),
        experiment_attributes(),
    );
    assert_eq!(child.run_items, [], "a child span of the item's trace");
    for missing in [
        semconv::EXPERIMENT_DATASET_ID,
        semconv::EXPERIMENT_ITEM_ID,
        semconv::EXPERIMENT_NAME,
    ] {
        let attributes = experiment_attributes()
            .into_iter()
            .filter(|(key, _)| *key != missing)
            .collect();
        let batch = map_sdk_span(PYTHON_5, None, attributes);
        assert_eq!(batch.run_items, [], "without {missing}");
        assert_eq!(batch.observations.len(), 1, "the span is still mapped");
    }
}

#[test]
fn sdks_that_create_run_items_through_the_api_link_nothing_more() {
    for sdk in [
        (semconv::SCOPE_NAME, "4.3.1", Some("python")),
        (semconv::SCOPE_NAME, "5.11.1", Some("js")),
        ("other-scope", "5.2.0", Some("python")),
    ] {
        let batch = map_sdk_span(sdk, None, experiment_attributes());
        assert_eq!(batch.run_items, [], "{sdk:?}");
    }
}
