//! Attribute keys, header names and small constants of the Langfuse-compatible OTLP wire format.
//!
//! This crate has no dependencies so that both the SDK and the server can share one spelling of
//! every key. Values follow what the Python SDK 5.x sends.
//!
//! ```
//! assert_eq!(spindle_semconv::OBSERVATION_TYPE, "langfuse.observation.type");
//! ```

#![warn(missing_docs)]

/// Name of the instrumentation scope every SDK span is exported under.
///
/// ```
/// assert_eq!(spindle_semconv::SCOPE_NAME, "langfuse-sdk");
/// ```
pub const SCOPE_NAME: &str = "langfuse-sdk";

/// Path of the OTLP/HTTP trace export endpoint, relative to the base URL.
///
/// ```
/// assert!(spindle_semconv::OTEL_TRACES_PATH.ends_with("/v1/traces"));
/// ```
pub const OTEL_TRACES_PATH: &str = "/api/public/otel/v1/traces";

/// Path of the score batch endpoint (JSON array body), relative to the base URL.
///
/// ```
/// assert_eq!(spindle_semconv::SCORES_PATH, "/api/public/scores");
/// ```
pub const SCORES_PATH: &str = "/api/public/scores";

/// Observation type (`span`, `generation`, `event`, `agent`, …).
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_TYPE, "langfuse.observation.type");
/// ```
pub const OBSERVATION_TYPE: &str = "langfuse.observation.type";
/// Observation input: JSON text, or the raw string when the input is a string.
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_INPUT, "langfuse.observation.input");
/// ```
pub const OBSERVATION_INPUT: &str = "langfuse.observation.input";
/// Observation output: JSON text, or the raw string when the output is a string.
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_OUTPUT, "langfuse.observation.output");
/// ```
pub const OBSERVATION_OUTPUT: &str = "langfuse.observation.output";
/// Observation metadata: the bare key holds a non-object value, `<key>.<name>` one entry.
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_METADATA, "langfuse.observation.metadata");
/// ```
pub const OBSERVATION_METADATA: &str = "langfuse.observation.metadata";
/// Observation level: `DEBUG`, `DEFAULT`, `WARNING` or `ERROR`.
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_LEVEL, "langfuse.observation.level");
/// ```
pub const OBSERVATION_LEVEL: &str = "langfuse.observation.level";
/// Observation status message.
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_STATUS_MESSAGE.ends_with("status_message"));
/// ```
pub const OBSERVATION_STATUS_MESSAGE: &str = "langfuse.observation.status_message";
/// Model name of a generation.
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_MODEL_NAME, "langfuse.observation.model.name");
/// ```
pub const OBSERVATION_MODEL_NAME: &str = "langfuse.observation.model.name";
/// Model parameters of a generation (JSON object text).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_MODEL_PARAMETERS.ends_with("model.parameters"));
/// ```
pub const OBSERVATION_MODEL_PARAMETERS: &str = "langfuse.observation.model.parameters";
/// Usage details of a generation (JSON object of non-negative integers).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_USAGE_DETAILS.ends_with("usage_details"));
/// ```
pub const OBSERVATION_USAGE_DETAILS: &str = "langfuse.observation.usage_details";
/// Cost details of a generation (JSON object of non-negative numbers).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_COST_DETAILS.ends_with("cost_details"));
/// ```
pub const OBSERVATION_COST_DETAILS: &str = "langfuse.observation.cost_details";
/// Completion start time of a generation: a JSON-quoted ISO 8601 string.
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_COMPLETION_START_TIME.ends_with("completion_start_time"));
/// ```
pub const OBSERVATION_COMPLETION_START_TIME: &str = "langfuse.observation.completion_start_time";
/// Name of the prompt a generation used.
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_PROMPT_NAME.ends_with("prompt.name"));
/// ```
pub const OBSERVATION_PROMPT_NAME: &str = "langfuse.observation.prompt.name";
/// Version of the prompt a generation used (an integer attribute).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_PROMPT_VERSION.ends_with("prompt.version"));
/// ```
pub const OBSERVATION_PROMPT_VERSION: &str = "langfuse.observation.prompt.version";

/// Version of the observation and of the trace.
///
/// ```
/// assert_eq!(spindle_semconv::VERSION, "langfuse.version");
/// ```
pub const VERSION: &str = "langfuse.version";
/// Tracing environment, on the resource and on every span.
///
/// ```
/// assert_eq!(spindle_semconv::ENVIRONMENT, "langfuse.environment");
/// ```
pub const ENVIRONMENT: &str = "langfuse.environment";
/// Release, on the resource and on every span.
///
/// ```
/// assert_eq!(spindle_semconv::RELEASE, "langfuse.release");
/// ```
pub const RELEASE: &str = "langfuse.release";

/// Trace name.
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_NAME, "langfuse.trace.name");
/// ```
pub const TRACE_NAME: &str = "langfuse.trace.name";
/// Trace user id.
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_USER_ID, "user.id");
/// ```
pub const TRACE_USER_ID: &str = "user.id";
/// Trace session id.
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_SESSION_ID, "session.id");
/// ```
pub const TRACE_SESSION_ID: &str = "session.id";
/// Trace tags (a string array attribute).
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_TAGS, "langfuse.trace.tags");
/// ```
pub const TRACE_TAGS: &str = "langfuse.trace.tags";
/// Prefix of trace metadata keys: `langfuse.trace.metadata.<key>`.
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_METADATA, "langfuse.trace.metadata");
/// ```
pub const TRACE_METADATA: &str = "langfuse.trace.metadata";
/// Trace input (JSON text).
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_INPUT, "langfuse.trace.input");
/// ```
pub const TRACE_INPUT: &str = "langfuse.trace.input";
/// Trace output (JSON text).
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_OUTPUT, "langfuse.trace.output");
/// ```
pub const TRACE_OUTPUT: &str = "langfuse.trace.output";
/// Trace public flag (a bool attribute).
///
/// ```
/// assert_eq!(spindle_semconv::TRACE_PUBLIC, "langfuse.trace.public");
/// ```
pub const TRACE_PUBLIC: &str = "langfuse.trace.public";
/// Set to `true` on spans that join a trace through an explicit trace context.
///
/// ```
/// assert_eq!(spindle_semconv::INTERNAL_AS_ROOT, "langfuse.internal.as_root");
/// ```
pub const INTERNAL_AS_ROOT: &str = "langfuse.internal.as_root";
/// Set to `true` on the first span of each in-process tree.
///
/// ```
/// assert_eq!(spindle_semconv::INTERNAL_IS_APP_ROOT, "langfuse.internal.is_app_root");
/// ```
pub const INTERNAL_IS_APP_ROOT: &str = "langfuse.internal.is_app_root";

/// Prefix shared by every Langfuse attribute key.
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_TYPE.starts_with(spindle_semconv::NAMESPACE));
/// ```
pub const NAMESPACE: &str = "langfuse.";
/// Experiment id; spans that carry it belong to the `sdk-experiment` environment.
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_ID, "langfuse.experiment.id");
/// ```
pub const EXPERIMENT_ID: &str = "langfuse.experiment.id";
/// Experiment (run) name.
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_NAME, "langfuse.experiment.name");
/// ```
pub const EXPERIMENT_NAME: &str = "langfuse.experiment.name";
/// Experiment description.
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_DESCRIPTION, "langfuse.experiment.description");
/// ```
pub const EXPERIMENT_DESCRIPTION: &str = "langfuse.experiment.description";
/// Experiment (run) metadata, as JSON text.
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_METADATA, "langfuse.experiment.metadata");
/// ```
pub const EXPERIMENT_METADATA: &str = "langfuse.experiment.metadata";
/// Dataset id of an experiment over a dataset.
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_DATASET_ID, "langfuse.experiment.dataset.id");
/// ```
pub const EXPERIMENT_DATASET_ID: &str = "langfuse.experiment.dataset.id";
/// Id of the experiment item (the dataset item's id, else a hash of its input).
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_ITEM_ID, "langfuse.experiment.item.id");
/// ```
pub const EXPERIMENT_ITEM_ID: &str = "langfuse.experiment.item.id";
/// Dataset version (an ISO-8601 time) the experiment read its dataset item at.
///
/// ```
/// assert_eq!(spindle_semconv::EXPERIMENT_ITEM_VERSION, "langfuse.experiment.item.version");
/// ```
pub const EXPERIMENT_ITEM_VERSION: &str = "langfuse.experiment.item.version";
/// Expected output of the experiment item, as JSON text.
///
/// ```
/// assert_eq!(
///     spindle_semconv::EXPERIMENT_ITEM_EXPECTED_OUTPUT,
///     "langfuse.experiment.item.expected_output"
/// );
/// ```
pub const EXPERIMENT_ITEM_EXPECTED_OUTPUT: &str = "langfuse.experiment.item.expected_output";
/// Id of the observation the item's task ran in.
///
/// ```
/// assert_eq!(
///     spindle_semconv::EXPERIMENT_ITEM_ROOT_OBSERVATION_ID,
///     "langfuse.experiment.item.root_observation_id"
/// );
/// ```
pub const EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: &str =
    "langfuse.experiment.item.root_observation_id";

/// Trace user id, as earlier SDK versions sent it.
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_USER_ID, "langfuse.user.id");
/// ```
pub const LEGACY_USER_ID: &str = "langfuse.user.id";
/// Trace session id, as earlier SDK versions sent it.
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_SESSION_ID, "langfuse.session.id");
/// ```
pub const LEGACY_SESSION_ID: &str = "langfuse.session.id";
/// Trace tags, as earlier SDK versions sent them.
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_TAGS, "langfuse.tags");
/// ```
pub const LEGACY_TAGS: &str = "langfuse.tags";
/// Trace public flag, as earlier SDK versions sent it.
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_PUBLIC, "langfuse.public");
/// ```
pub const LEGACY_PUBLIC: &str = "langfuse.public";
/// Observation metadata, as earlier SDK versions sent it (bare key or `<key>.<name>`).
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_METADATA, "langfuse.metadata");
/// ```
pub const LEGACY_METADATA: &str = "langfuse.metadata";
/// Prompt name of a generation, as earlier SDK versions sent it.
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_PROMPT_NAME, "langfuse.prompt.name");
/// ```
pub const LEGACY_PROMPT_NAME: &str = "langfuse.prompt.name";
/// Prompt version of a generation, as earlier SDK versions sent it.
///
/// ```
/// assert_eq!(spindle_semconv::LEGACY_PROMPT_VERSION, "langfuse.prompt.version");
/// ```
pub const LEGACY_PROMPT_VERSION: &str = "langfuse.prompt.version";

/// Trace user id carried as observation metadata (`langfuse_user_id`).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_METADATA_USER_ID.ends_with(".langfuse_user_id"));
/// ```
pub const OBSERVATION_METADATA_USER_ID: &str = "langfuse.observation.metadata.langfuse_user_id";
/// Trace user id carried as trace metadata (`langfuse_user_id`).
///
/// ```
/// assert!(spindle_semconv::TRACE_METADATA_USER_ID.ends_with(".langfuse_user_id"));
/// ```
pub const TRACE_METADATA_USER_ID: &str = "langfuse.trace.metadata.langfuse_user_id";
/// Trace session id carried as observation metadata (`langfuse_session_id`).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_METADATA_SESSION_ID.ends_with(".langfuse_session_id"));
/// ```
pub const OBSERVATION_METADATA_SESSION_ID: &str =
    "langfuse.observation.metadata.langfuse_session_id";
/// Trace session id carried as trace metadata (`langfuse_session_id`).
///
/// ```
/// assert!(spindle_semconv::TRACE_METADATA_SESSION_ID.ends_with(".langfuse_session_id"));
/// ```
pub const TRACE_METADATA_SESSION_ID: &str = "langfuse.trace.metadata.langfuse_session_id";
/// Trace tags carried as observation metadata (`langfuse_tags`).
///
/// ```
/// assert!(spindle_semconv::OBSERVATION_METADATA_TAGS.ends_with(".langfuse_tags"));
/// ```
pub const OBSERVATION_METADATA_TAGS: &str = "langfuse.observation.metadata.langfuse_tags";
/// Trace tags carried as trace metadata (`langfuse_tags`).
///
/// ```
/// assert!(spindle_semconv::TRACE_METADATA_TAGS.ends_with(".langfuse_tags"));
/// ```
pub const TRACE_METADATA_TAGS: &str = "langfuse.trace.metadata.langfuse_tags";

/// Resource attribute naming the telemetry SDK language.
///
/// ```
/// assert_eq!(spindle_semconv::RESOURCE_SDK_LANGUAGE, "telemetry.sdk.language");
/// ```
pub const RESOURCE_SDK_LANGUAGE: &str = "telemetry.sdk.language";
/// Resource attribute naming the telemetry SDK.
///
/// ```
/// assert_eq!(spindle_semconv::RESOURCE_SDK_NAME, "telemetry.sdk.name");
/// ```
pub const RESOURCE_SDK_NAME: &str = "telemetry.sdk.name";
/// Resource attribute giving the telemetry SDK version.
///
/// ```
/// assert_eq!(spindle_semconv::RESOURCE_SDK_VERSION, "telemetry.sdk.version");
/// ```
pub const RESOURCE_SDK_VERSION: &str = "telemetry.sdk.version";
/// Resource attribute giving the service version (an observation's version when it has none).
///
/// ```
/// assert_eq!(spindle_semconv::RESOURCE_SERVICE_VERSION, "service.version");
/// ```
pub const RESOURCE_SERVICE_VERSION: &str = "service.version";
/// Deployment environment (OpenTelemetry semantic conventions), on the span or the resource.
///
/// ```
/// assert_eq!(spindle_semconv::DEPLOYMENT_ENVIRONMENT_NAME, "deployment.environment.name");
/// ```
pub const DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";
/// Deployment environment under its older OpenTelemetry name.
///
/// ```
/// assert_eq!(spindle_semconv::DEPLOYMENT_ENVIRONMENT, "deployment.environment");
/// ```
pub const DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";
/// Resource attribute naming the service.
///
/// ```
/// assert_eq!(spindle_semconv::RESOURCE_SERVICE_NAME, "service.name");
/// ```
pub const RESOURCE_SERVICE_NAME: &str = "service.name";
/// Resource attribute identifying this process instance.
///
/// ```
/// assert_eq!(spindle_semconv::RESOURCE_SERVICE_INSTANCE_ID, "service.instance.id");
/// ```
pub const RESOURCE_SERVICE_INSTANCE_ID: &str = "service.instance.id";
/// Scope attribute carrying the project's public key.
///
/// ```
/// assert_eq!(spindle_semconv::SCOPE_PUBLIC_KEY, "public_key");
/// ```
pub const SCOPE_PUBLIC_KEY: &str = "public_key";

/// Header naming the SDK.
///
/// ```
/// assert_eq!(spindle_semconv::HEADER_SDK_NAME, "x-langfuse-sdk-name");
/// ```
pub const HEADER_SDK_NAME: &str = "x-langfuse-sdk-name";
/// Header giving the SDK version.
///
/// ```
/// assert_eq!(spindle_semconv::HEADER_SDK_VERSION, "x-langfuse-sdk-version");
/// ```
pub const HEADER_SDK_VERSION: &str = "x-langfuse-sdk-version";
/// Header carrying the public key.
///
/// ```
/// assert_eq!(spindle_semconv::HEADER_PUBLIC_KEY, "x-langfuse-public-key");
/// ```
pub const HEADER_PUBLIC_KEY: &str = "x-langfuse-public-key";
/// Header selecting the ingestion data model; the SDK sends [`INGESTION_VERSION`].
///
/// ```
/// assert_eq!(spindle_semconv::HEADER_INGESTION_VERSION, "x-langfuse-ingestion-version");
/// ```
pub const HEADER_INGESTION_VERSION: &str = "x-langfuse-ingestion-version";
/// Value of [`HEADER_INGESTION_VERSION`] (the observation-centric model).
///
/// ```
/// assert_eq!(spindle_semconv::INGESTION_VERSION, "4");
/// ```
pub const INGESTION_VERSION: &str = "4";

/// The ten observation type strings, as sent in [`OBSERVATION_TYPE`].
///
/// ```
/// assert_eq!(spindle_semconv::OBSERVATION_TYPES.len(), 10);
/// assert!(spindle_semconv::OBSERVATION_TYPES.contains(&"guardrail"));
/// ```
pub const OBSERVATION_TYPES: [&str; 10] = [
    "span",
    "generation",
    "event",
    "agent",
    "tool",
    "chain",
    "retriever",
    "embedding",
    "evaluator",
    "guardrail",
];

/// Longest accepted value of a propagated attribute (user id, session id, metadata value, …).
///
/// ```
/// assert_eq!(spindle_semconv::MAX_PROPAGATED_VALUE_LEN, 200);
/// ```
pub const MAX_PROPAGATED_VALUE_LEN: usize = 200;

/// OTLP span flags the SDK sends: "has is_remote" without the sampled bit, as Python does.
///
/// ```
/// assert_eq!(spindle_semconv::SPAN_FLAGS, 0x100);
/// ```
pub const SPAN_FLAGS: u32 = 0x100;
