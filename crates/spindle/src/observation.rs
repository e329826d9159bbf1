//! Observations: their types and levels, the shared state behind every handle, the builder that
//! starts them (scoped or manual), updates, and conversion to an OTLP span when they end.

use std::borrow::Cow;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use spindle_semconv as semconv;

use crate::client::{Client, ClientInner};
use crate::context::{self, Ctx, Instrumented};
use crate::export::{otlp, Message};
use crate::ids::{self, TraceContext};
use crate::json;
use crate::score::Score;

/// The ten observation types of the Langfuse data model.
///
/// ```
/// use spindle::ObservationType;
/// assert_eq!(ObservationType::Generation.as_str(), "generation");
/// assert_eq!(ObservationType::default(), ObservationType::Span);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ObservationType {
    /// A step with a duration (the default).
    #[default]
    Span,
    /// A model call: model, parameters, usage, cost, prompt.
    Generation,
    /// A point in time (start equals end).
    Event,
    /// An agent deciding on steps.
    Agent,
    /// A tool call.
    Tool,
    /// A chain of steps.
    Chain,
    /// A retrieval step.
    Retriever,
    /// An embedding call.
    Embedding,
    /// An evaluation.
    Evaluator,
    /// A guardrail check.
    Guardrail,
}

impl ObservationType {
    /// The wire spelling sent in `langfuse.observation.type`.
    ///
    /// ```
    /// assert_eq!(spindle::ObservationType::Retriever.as_str(), "retriever");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ObservationType::Span => "span",
            ObservationType::Generation => "generation",
            ObservationType::Event => "event",
            ObservationType::Agent => "agent",
            ObservationType::Tool => "tool",
            ObservationType::Chain => "chain",
            ObservationType::Retriever => "retriever",
            ObservationType::Embedding => "embedding",
            ObservationType::Evaluator => "evaluator",
            ObservationType::Guardrail => "guardrail",
        }
    }
}

/// Severity of an observation; `Error` also sets the OTLP status to ERROR, as Python does.
///
/// ```
/// assert_eq!(spindle::Level::Warning.as_str(), "WARNING");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Level {
    /// Verbose detail.
    Debug,
    /// Normal (the default).
    #[default]
    Default,
    /// Something to look at.
    Warning,
    /// A failure.
    Error,
}

impl Level {
    /// The wire spelling sent in `langfuse.observation.level`.
    ///
    /// ```
    /// assert_eq!(spindle::Level::Error.as_str(), "ERROR");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Default => "DEFAULT",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// One attribute value as it goes on the wire.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AttrValue {
    Str(String),
    Bool(bool),
    Int(i64),
    StrArray(Vec<String>),
}

impl AttrValue {
    fn into_otlp(self) -> otlp::AnyValue {
        use otlp::any_value::Value;
        let value = match self {
            AttrValue::Str(text) => Value::StringValue(text),
            AttrValue::Bool(flag) => Value::BoolValue(flag),
            AttrValue::Int(number) => Value::IntValue(number),
            AttrValue::StrArray(items) => Value::ArrayValue(otlp::ArrayValue {
                values: items
                    .into_iter()
                    .map(|item| otlp::AnyValue {
                        value: Some(Value::StringValue(item)),
                    })
                    .collect(),
            }),
        };
        otlp::AnyValue { value: Some(value) }
    }
}

/// Ordered attributes where setting a key again replaces its value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attributes(Vec<(Cow<'static, str>, AttrValue)>);

impl Attributes {
    pub(crate) fn set(&mut self, key: impl Into<Cow<'static, str>>, value: AttrValue) {
        let key = key.into();
        match self.0.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&AttrValue> {
        self.0
            .iter()
            .find(|(existing, _)| existing == key)
            .map(|(_, value)| value)
    }

    fn merge(&mut self, other: Attributes) {
        for (key, value) in other.0 {
            self.set(key, value);
        }
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Formats a time like Python's `isoformat()` of a UTC datetime: microseconds and `Z`.
pub(crate) fn iso_micros(time: SystemTime) -> String {
    let nanos = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let Ok(datetime) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return "1970-01-01T00:00:00.000000Z".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        datetime.year(),
        u8::from(datetime.month()),
        datetime.day(),
        datetime.hour(),
        datetime.minute(),
        datetime.second(),
        datetime.microsecond()
    )
}

static WARNED_UNENDED: AtomicBool = AtomicBool::new(false);

/// Mutable part of an observation.
struct ObsData {
    name: String,
    attributes: Attributes,
    ended: bool,
}

/// The state shared by every handle on one observation; it is exported once, when it ends.
pub(crate) struct ObsState {
    pub(crate) client: Arc<ClientInner>,
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
    pub(crate) parent_span_id: Option<[u8; 8]>,
    pub(crate) sampled: bool,
    start_unix_nanos: u64,
    data: Mutex<ObsData>,
}

impl ObsState {
    fn with_data<R>(&self, f: impl FnOnce(&mut ObsData) -> R) -> Option<R> {
        match self.data.lock() {
            Ok(mut data) => Some(f(&mut data)),
            Err(poisoned) => Some(f(&mut poisoned.into_inner())),
        }
    }

    /// Applies attributes unless the observation has ended (late updates are ignored).
    pub(crate) fn apply(&self, attributes: Attributes) {
        self.with_data(|data| {
            if !data.ended {
                data.attributes.merge(attributes);
            }
        });
    }

    pub(crate) fn set(&self, key: impl Into<Cow<'static, str>>, value: AttrValue) {
        let key = key.into();
        self.with_data(|data| {
            if !data.ended {
                data.attributes.set(key, value);
            }
        });
    }

    pub(crate) fn set_name(&self, name: String) {
        self.with_data(|data| data.name = name);
    }

    /// Marks the observation as failed with `message` (level ERROR and status message).
    pub(crate) fn record_error(&self, message: String) {
        self.set(
            semconv::OBSERVATION_LEVEL,
            AttrValue::Str(Level::Error.as_str().to_owned()),
        );
        self.set(semconv::OBSERVATION_STATUS_MESSAGE, AttrValue::Str(message));
    }

    pub(crate) fn record_panic(&self, payload: &(dyn std::any::Any + Send)) {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "panic".to_owned()
        };
        self.record_error(message);
    }

    /// Ends the observation (once) and queues it for export.
    pub(crate) fn end(&self, end_unix_nanos: Option<u64>) {
        let taken = self.with_data(|data| {
            if data.ended {
                return None;
            }
            data.ended = true;
            Some((
                std::mem::take(&mut data.name),
                std::mem::take(&mut data.attributes),
            ))
        });
        let Some(Some((name, attributes))) = taken else {
            return;
        };
        if !self.sampled {
            return;
        }
        let end = end_unix_nanos
            .unwrap_or_else(now_unix_nanos)
            .max(self.start_unix_nanos);
        let span = self.to_otlp(name, attributes, end);
        self.client.exporter.enqueue(Message::Span(Box::new(span)));
    }

    fn to_otlp(&self, name: String, attributes: Attributes, end_unix_nanos: u64) -> otlp::Span {
        let is_error = matches!(attributes.get(semconv::OBSERVATION_LEVEL), Some(AttrValue::Str(level)) if level == "ERROR");
        let status = if is_error {
            let message = match attributes.get(semconv::OBSERVATION_STATUS_MESSAGE) {
                Some(AttrValue::Str(message)) => message.clone(),
                _ => String::new(),
            };
            otlp::Status {
                message,
                code: otlp::STATUS_CODE_ERROR,
            }
        } else {
            otlp::Status {
                message: String::new(),
                code: otlp::STATUS_CODE_UNSET,
            }
        };
        otlp::Span {
            trace_id: self.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            trace_state: String::new(),
            parent_span_id: self
                .parent_span_id
                .map(|id| id.to_vec())
                .unwrap_or_default(),
            name,
            kind: otlp::SPAN_KIND_INTERNAL,
            start_time_unix_nano: self.start_unix_nanos,
            end_time_unix_nano: end_unix_nanos,
            attributes: attributes
                .0
                .into_iter()
                .map(|(key, value)| otlp::KeyValue {
                    key: key.into_owned(),
                    value: Some(value.into_otlp()),
                })
                .collect(),
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            status: Some(status),
            flags: semconv::SPAN_FLAGS,
        }
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.with_data(|data| data.ended).unwrap_or(true)
    }
}

impl Drop for ObsState {
    fn drop(&mut self) {
        if self.is_ended() {
            return;
        }
        if !WARNED_UNENDED.swap(true, Ordering::Relaxed) {
            tracing::warn!("observation dropped without end(), ended now (warned once)");
        }
        self.end(None);
    }
}

/// A set of changes to an observation: input, output, metadata, level, status message, version
/// and, for generations, model, parameters, usage, cost, completion start time and prompt.
///
/// Values are serialized when set; a value that cannot be serialized is skipped with a warning.
///
/// ```
/// use spindle::{Level, ObservationUpdate};
/// let update = ObservationUpdate::new()
///     .output(&serde_json::json!({"answer": 42}))
///     .model("gpt-4o-mini")
///     .usage_details(&serde_json::json!({"input": 10, "output": 5}))
///     .level(Level::Warning);
/// spindle::update_current_generation(update); // no observation is current: nothing happens
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct ObservationUpdate {
    pub(crate) attributes: Attributes,
}

impl ObservationUpdate {
    /// An empty update.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a string attribute when there is a value.
    pub(crate) fn set_string(mut self, key: &'static str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.attributes.set(key, AttrValue::Str(value));
        }
        self
    }

    /// Sets the input (a string is sent as is, anything else as JSON).
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().input(&vec!["a", "b"]);
    /// ```
    pub fn input<T: Serialize + ?Sized>(self, input: &T) -> Self {
        self.set_string(semconv::OBSERVATION_INPUT, json::io_value(input))
    }

    /// Sets already encoded input text.
    pub(crate) fn input_raw(self, text: String) -> Self {
        self.set_string(semconv::OBSERVATION_INPUT, Some(text))
    }

    /// Sets the output (a string is sent as is, anything else as JSON).
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().output("done");
    /// ```
    pub fn output<T: Serialize + ?Sized>(self, output: &T) -> Self {
        self.set_string(semconv::OBSERVATION_OUTPUT, json::io_value(output))
    }

    /// Sets metadata: each entry of a JSON object becomes one key (null entries are skipped);
    /// any other value is sent whole.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new()
    ///     .metadata(&serde_json::json!({"plan": "pro", "latency_ms": 42}));
    /// ```
    pub fn metadata<T: Serialize + ?Sized>(mut self, metadata: &T) -> Self {
        let Some(value) = json::json_value(metadata, "metadata") else {
            return self;
        };
        match value {
            serde_json::Value::Object(entries) => {
                for (key, entry) in entries {
                    if entry.is_null() {
                        continue;
                    }
                    if let Some(text) = json::compact_json(&entry) {
                        self.attributes.set(
                            format!("{}.{key}", semconv::OBSERVATION_METADATA),
                            AttrValue::Str(text),
                        );
                    }
                }
            }
            serde_json::Value::Null => {}
            other => {
                if let Some(text) = json::compact_json(&other) {
                    self.attributes
                        .set(semconv::OBSERVATION_METADATA, AttrValue::Str(text));
                }
            }
        }
        self
    }

    /// Sets the level.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().level(spindle::Level::Debug);
    /// ```
    pub fn level(mut self, level: Level) -> Self {
        self.attributes.set(
            semconv::OBSERVATION_LEVEL,
            AttrValue::Str(level.as_str().to_owned()),
        );
        self
    }

    /// Sets the status message.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().status_message("rate limited");
    /// ```
    pub fn status_message(self, message: impl Into<String>) -> Self {
        self.set_string(semconv::OBSERVATION_STATUS_MESSAGE, Some(message.into()))
    }

    /// Sets the version.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().version("v9");
    /// ```
    pub fn version(self, version: impl Into<String>) -> Self {
        self.set_string(semconv::VERSION, Some(version.into()))
    }

    /// Sets the model name of a generation.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().model("gpt-4o-mini");
    /// ```
    pub fn model(self, model: impl Into<String>) -> Self {
        self.set_string(semconv::OBSERVATION_MODEL_NAME, Some(model.into()))
    }

    /// Sets the model parameters of a generation (a JSON object).
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new()
    ///     .model_parameters(&serde_json::json!({"temperature": 0.2}));
    /// ```
    pub fn model_parameters<T: Serialize + ?Sized>(self, parameters: &T) -> Self {
        self.set_string(
            semconv::OBSERVATION_MODEL_PARAMETERS,
            json::python_json(parameters),
        )
    }

    /// Sets usage details (a JSON object of non-negative integers: `input`, `output`, `total`, …).
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new()
    ///     .usage_details(&serde_json::json!({"input": 10, "output": 5, "total": 15}));
    /// ```
    pub fn usage_details<T: Serialize + ?Sized>(self, usage: &T) -> Self {
        self.set_string(semconv::OBSERVATION_USAGE_DETAILS, json::python_json(usage))
    }

    /// Sets cost details (a JSON object of non-negative numbers, in USD).
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new()
    ///     .cost_details(&serde_json::json!({"input": 0.001, "output": 0.002}));
    /// ```
    pub fn cost_details<T: Serialize + ?Sized>(self, cost: &T) -> Self {
        self.set_string(semconv::OBSERVATION_COST_DETAILS, json::python_json(cost))
    }

    /// Sets when the model started answering (sent as a JSON-quoted ISO 8601 string).
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new()
    ///     .completion_start_time(std::time::SystemTime::now());
    /// ```
    pub fn completion_start_time(self, time: SystemTime) -> Self {
        self.set_string(
            semconv::OBSERVATION_COMPLETION_START_TIME,
            Some(format!("\"{}\"", iso_micros(time))),
        )
    }

    /// Links the prompt (name and version) a generation used.
    ///
    /// ```
    /// let _update = spindle::ObservationUpdate::new().prompt("support-answer", 3);
    /// ```
    pub fn prompt(mut self, name: impl Into<String>, version: i64) -> Self {
        self.attributes.set(
            semconv::OBSERVATION_PROMPT_NAME,
            AttrValue::Str(name.into()),
        );
        self.attributes
            .set(semconv::OBSERVATION_PROMPT_VERSION, AttrValue::Int(version));
        self
    }

    /// Links a fetched prompt (its name and version) to the generation, so the server shows
    /// which prompt version produced it. A fallback prompt is not linked, as in the official
    /// SDKs: it is no stored version.
    ///
    /// ```
    /// let prompt = spindle::Prompt::fallback("p", None, spindle::PromptTemplate::Text("x".into()));
    /// let _update = spindle::ObservationUpdate::new().linked_prompt(&prompt); // nothing linked
    /// ```
    pub fn linked_prompt(self, prompt: &crate::Prompt) -> Self {
        if prompt.is_fallback {
            return self;
        }
        self.prompt(prompt.name.clone(), prompt.version)
    }
}

/// Which observation a new one hangs under.
#[derive(Clone)]
enum Parent {
    /// The observation current when `start` runs.
    Current,
    /// A given observation (manual children).
    Of(Arc<ObsState>),
    /// None: a new trace.
    Root,
    /// The builder of a no-op handle's child: starts nothing.
    Disabled,
}

/// Describes an observation to start, manually ([`start`](Self::start)) or scoped
/// ([`run`](Self::run), [`run_async`](Self::run_async)).
///
/// ```
/// use spindle::ObservationType;
/// let answer = spindle::observation("retrieval")
///     .as_type(ObservationType::Retriever)
///     .input(&serde_json::json!({"query": "reset password"}))
///     .run(|retrieval| {
///         retrieval.set_output(&vec!["doc-1", "doc-2"]);
///         2
///     });
/// assert_eq!(answer, 2);
/// ```
#[must_use]
pub struct ObservationBuilder {
    client: Option<Arc<ClientInner>>,
    parent: Parent,
    name: String,
    observation_type: ObservationType,
    update: ObservationUpdate,
    trace_context: Option<TraceContext>,
}

/// Starts describing an observation named `name` under the current one (or as a new trace), sent
/// through the current observation's client or the global client.
///
/// ```
/// let observation = spindle::observation("manual-step").start();
/// observation.set_output("ok");
/// observation.end();
/// ```
pub fn observation(name: impl Into<String>) -> ObservationBuilder {
    ObservationBuilder::new(None, Parent::Current, name.into())
}

impl ObservationBuilder {
    fn new(client: Option<Arc<ClientInner>>, parent: Parent, name: String) -> Self {
        Self {
            client,
            parent,
            name,
            observation_type: ObservationType::Span,
            update: ObservationUpdate::new(),
            trace_context: None,
        }
    }

    pub(crate) fn for_client(client: Option<Arc<ClientInner>>, name: String) -> Self {
        Self::new(client, Parent::Current, name)
    }

    pub(crate) fn child_of(parent: Arc<ObsState>, name: String) -> Self {
        Self::new(Some(parent.client.clone()), Parent::Of(parent), name)
    }

    /// Sets the observation type (default [`ObservationType::Span`]).
    ///
    /// ```
    /// let _builder = spindle::observation("llm").as_type(spindle::ObservationType::Generation);
    /// ```
    pub fn as_type(mut self, observation_type: ObservationType) -> Self {
        self.observation_type = observation_type;
        self
    }

    /// Sets the input.
    ///
    /// ```
    /// let _builder = spindle::observation("step").input("question");
    /// ```
    pub fn input<T: Serialize + ?Sized>(mut self, input: &T) -> Self {
        self.update = self.update.input(input);
        self
    }

    /// Sets the metadata (see [`ObservationUpdate::metadata`]).
    ///
    /// ```
    /// let _builder = spindle::observation("step").metadata(&serde_json::json!({"k": "v"}));
    /// ```
    pub fn metadata<T: Serialize + ?Sized>(mut self, metadata: &T) -> Self {
        self.update = self.update.metadata(metadata);
        self
    }

    /// Applies any [`ObservationUpdate`] at start.
    ///
    /// ```
    /// let _builder = spindle::observation("llm")
    ///     .with(spindle::ObservationUpdate::new().model("gpt-4o"));
    /// ```
    pub fn with(mut self, update: ObservationUpdate) -> Self {
        self.update.attributes.merge(update.attributes);
        self
    }

    /// Starts a new trace even when an observation is current.
    ///
    /// ```
    /// let _builder = spindle::observation("background-job").new_trace();
    /// ```
    pub fn new_trace(mut self) -> Self {
        self.parent = Parent::Root;
        self
    }

    /// Joins an existing trace (and parent), e.g. from a `traceparent` header; the observation
    /// is marked `langfuse.internal.as_root`, as in Python.
    ///
    /// ```
    /// let context = spindle::TraceContext::new(&spindle::create_trace_id("external-123")).unwrap();
    /// let _builder = spindle::observation("linked-root").trace_context(context);
    /// ```
    pub fn trace_context(mut self, trace_context: TraceContext) -> Self {
        self.trace_context = Some(trace_context);
        self
    }

    /// Starts the observation without making it current: nothing else nests under it unless
    /// created through it ([`Observation::child`]). End it with [`Observation::end`]; dropping
    /// every handle ends it too, with a warning.
    ///
    /// ```
    /// let span = spindle::observation("manual-span").start();
    /// let generation = span.child("manual-child-gen").as_type(spindle::ObservationType::Generation).start();
    /// generation.end();
    /// span.end();
    /// ```
    pub fn start(self) -> Observation {
        self.start_with(None).0
    }

    /// Starts under `ctx` and returns the context that makes it current.
    pub(crate) fn start_in(self, ctx: Ctx) -> (Observation, Ctx) {
        self.start_with(Some(ctx))
    }

    /// Starts and returns the context that makes it current.
    fn start_with(self, ctx: Option<Ctx>) -> (Observation, Ctx) {
        let ctx = ctx.unwrap_or_else(context::current);
        let state = self.start_state(&ctx);
        let child_ctx = Ctx {
            observation: state.clone(),
            propagated: ctx.propagated,
        };
        (Observation { state }, child_ctx)
    }

    fn start_state(self, ctx: &Ctx) -> Option<Arc<ObsState>> {
        let parent = match self.parent {
            Parent::Current => ctx.observation.clone(),
            Parent::Of(parent) => Some(parent),
            Parent::Root => None,
            Parent::Disabled => return None,
        };
        let client = self
            .client
            .or_else(|| parent.as_ref().map(|p| p.client.clone()))
            .or_else(crate::client::global_inner)?;
        let mut attributes = Attributes::default();
        let (trace_id, parent_span_id, sampled) = match (&self.trace_context, &parent) {
            (Some(trace_context), _) => {
                attributes.set(semconv::INTERNAL_IS_APP_ROOT, AttrValue::Bool(true));
                let parent_span_id = trace_context
                    .parent_span_id
                    .unwrap_or_else(ids::random_span_id);
                (
                    trace_context.trace_id,
                    Some(parent_span_id),
                    client.is_sampled(&trace_context.trace_id),
                )
            }
            (None, Some(parent)) => (parent.trace_id, Some(parent.span_id), parent.sampled),
            (None, None) => {
                attributes.set(semconv::INTERNAL_IS_APP_ROOT, AttrValue::Bool(true));
                match crate::otel::current_parent() {
                    // under a span of other OpenTelemetry instrumentation: join its trace
                    Some((trace_id, parent_span_id)) => {
                        (trace_id, Some(parent_span_id), client.is_sampled(&trace_id))
                    }
                    None => {
                        let trace_id = ids::random_trace_id();
                        (trace_id, None, client.is_sampled(&trace_id))
                    }
                }
            }
        };
        if let Some(propagated) = &ctx.propagated {
            propagated.write_to(&mut attributes);
        }
        if let Some(environment) = &client.config.environment {
            if attributes.get(semconv::ENVIRONMENT).is_none() {
                attributes.set(semconv::ENVIRONMENT, AttrValue::Str(environment.clone()));
            }
        }
        if let Some(release) = &client.config.release {
            attributes.set(semconv::RELEASE, AttrValue::Str(release.clone()));
        }
        attributes.set(
            semconv::OBSERVATION_TYPE,
            AttrValue::Str(self.observation_type.as_str().to_owned()),
        );
        attributes.merge(self.update.attributes);
        if self.trace_context.is_some() {
            attributes.set(semconv::INTERNAL_AS_ROOT, AttrValue::Bool(true));
        }
        Some(Arc::new(ObsState {
            client,
            trace_id,
            span_id: ids::random_span_id(),
            parent_span_id,
            sampled,
            start_unix_nanos: now_unix_nanos(),
            data: Mutex::new(ObsData {
                name: self.name,
                attributes,
                ended: false,
            }),
        }))
    }

    /// Creates an event: an observation of type `event` whose start equals its end.
    ///
    /// ```
    /// spindle::observation("cache-hit").metadata(&serde_json::json!({"ttl": 300})).event();
    /// ```
    pub fn event(self) -> Observation {
        let observation = self.as_type(ObservationType::Event).start();
        if let Some(state) = &observation.state {
            state.end(Some(state.start_unix_nanos));
        }
        observation
    }

    /// Runs `body` with the observation current, then ends it: observations created inside
    /// nest under it. A panic marks it `ERROR` with the panic message and is resumed.
    ///
    /// ```
    /// let total = spindle::observation("sum").run(|sum| {
    ///     let total = 1 + 2;
    ///     sum.set_output(&total);
    ///     total
    /// });
    /// assert_eq!(total, 3);
    /// ```
    pub fn run<R>(self, body: impl FnOnce(&Observation) -> R) -> R {
        let (observation, child_ctx) = self.start_with(None);
        if observation.state.is_none() {
            return body(&observation);
        }
        let guard = context::enter(child_ctx);
        let result = catch_unwind(AssertUnwindSafe(|| body(&observation)));
        drop(guard);
        match result {
            Ok(value) => {
                observation.end();
                value
            }
            Err(payload) => {
                if let Some(state) = &observation.state {
                    state.record_panic(payload.as_ref());
                }
                observation.end();
                resume_unwind(payload)
            }
        }
    }

    /// Runs the future made by `body` with the observation current on every poll, then ends
    /// it. Children created inside nest under it, across `.await` and `join!`.
    ///
    /// ```
    /// # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # runtime.block_on(async {
    /// let answer = spindle::observation("pipeline")
    ///     .run_async(|pipeline| async move {
    ///         pipeline.set_output("done");
    ///         42
    ///     })
    ///     .await;
    /// assert_eq!(answer, 42);
    /// # });
    /// ```
    pub async fn run_async<F, Fut>(self, body: F) -> Fut::Output
    where
        F: FnOnce(Observation) -> Fut,
        Fut: Future,
    {
        let (observation, child_ctx) = self.start_with(None);
        if observation.state.is_none() {
            return body(observation).await;
        }
        let future = {
            let _guard = context::enter(child_ctx.clone());
            body(observation.clone())
        };
        let output = Instrumented::new(future, Some(child_ctx), true).await;
        observation.end();
        output
    }
}

/// A handle on a started observation. Cloning it is cheap; all clones are the same observation.
/// With tracing disabled every method does nothing.
///
/// ```
/// let span = spindle::observation("db-call").start();
/// span.update(spindle::ObservationUpdate::new().level(spindle::Level::Error).status_message("timeout"));
/// span.end();
/// ```
#[derive(Clone, Default)]
pub struct Observation {
    pub(crate) state: Option<Arc<ObsState>>,
}

impl std::fmt::Debug for Observation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Observation")
            .field("trace_id", &self.trace_id())
            .field("id", &self.id())
            .finish()
    }
}

impl Observation {
    /// A handle that records nothing.
    ///
    /// ```
    /// let noop = spindle::Observation::noop();
    /// assert!(!noop.is_recording());
    /// ```
    pub fn noop() -> Self {
        Self { state: None }
    }

    pub(crate) fn from_state(state: Option<Arc<ObsState>>) -> Self {
        Self { state }
    }

    /// Whether this observation will be exported when it ends (started, sampled, not ended).
    ///
    /// ```
    /// assert!(!spindle::Observation::noop().is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(|state| state.sampled && !state.is_ended())
    }

    /// The observation id (16 hex characters), `None` for a no-op handle.
    ///
    /// ```
    /// assert_eq!(spindle::Observation::noop().id(), None);
    /// ```
    pub fn id(&self) -> Option<String> {
        self.state.as_ref().map(|state| hex::encode(state.span_id))
    }

    /// The trace id (32 hex characters), `None` for a no-op handle.
    ///
    /// ```
    /// assert_eq!(spindle::Observation::noop().trace_id(), None);
    /// ```
    pub fn trace_id(&self) -> Option<String> {
        self.state.as_ref().map(|state| hex::encode(state.trace_id))
    }

    /// A W3C `traceparent` value pointing at this observation, for outgoing requests.
    ///
    /// ```
    /// assert_eq!(spindle::Observation::noop().traceparent(), None);
    /// ```
    pub fn traceparent(&self) -> Option<String> {
        self.state
            .as_ref()
            .map(|state| ids::format_traceparent(&state.trace_id, &state.span_id))
    }

    /// Applies an update; ignored after [`end`](Self::end).
    ///
    /// ```
    /// let span = spindle::observation("step").start();
    /// span.update(spindle::ObservationUpdate::new().output("ok").version("1.2.0"));
    /// span.end();
    /// ```
    pub fn update(&self, update: ObservationUpdate) {
        if let Some(state) = &self.state {
            state.apply(update.attributes);
        }
    }

    /// Sets the input.
    ///
    /// ```
    /// spindle::Observation::noop().set_input("question");
    /// ```
    pub fn set_input<T: Serialize + ?Sized>(&self, input: &T) {
        if self.state.is_some() {
            self.update(ObservationUpdate::new().input(input));
        }
    }

    /// Sets the output.
    ///
    /// ```
    /// spindle::Observation::noop().set_output(&serde_json::json!({"answer": 42}));
    /// ```
    pub fn set_output<T: Serialize + ?Sized>(&self, output: &T) {
        if self.state.is_some() {
            self.update(ObservationUpdate::new().output(output));
        }
    }

    /// Sets metadata (see [`ObservationUpdate::metadata`]).
    ///
    /// ```
    /// spindle::Observation::noop().set_metadata(&serde_json::json!({"region": "us-east-1"}));
    /// ```
    pub fn set_metadata<T: Serialize + ?Sized>(&self, metadata: &T) {
        if self.state.is_some() {
            self.update(ObservationUpdate::new().metadata(metadata));
        }
    }

    /// Sets the level.
    ///
    /// ```
    /// spindle::Observation::noop().set_level(spindle::Level::Warning);
    /// ```
    pub fn set_level(&self, level: Level) {
        self.update(ObservationUpdate::new().level(level));
    }

    /// Renames the observation.
    ///
    /// ```
    /// spindle::Observation::noop().set_name("renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        if let Some(state) = &self.state {
            state.set_name(name.into());
        }
    }

    /// Sets the trace's input and output on this observation (`langfuse.trace.input` and
    /// `langfuse.trace.output`); `None` leaves one unchanged.
    ///
    /// ```
    /// spindle::Observation::noop().set_trace_io(Some(&"question"), Some(&"answer"));
    /// ```
    pub fn set_trace_io<I: Serialize + ?Sized, O: Serialize + ?Sized>(
        &self,
        input: Option<&I>,
        output: Option<&O>,
    ) {
        let Some(state) = &self.state else {
            return;
        };
        if let Some(text) = input.and_then(|value| json::io_value(value)) {
            state.set(semconv::TRACE_INPUT, AttrValue::Str(text));
        }
        if let Some(text) = output.and_then(|value| json::io_value(value)) {
            state.set(semconv::TRACE_OUTPUT, AttrValue::Str(text));
        }
    }

    /// Makes the trace public (`langfuse.trace.public = true`).
    ///
    /// ```
    /// spindle::Observation::noop().set_trace_as_public();
    /// ```
    pub fn set_trace_as_public(&self) {
        if let Some(state) = &self.state {
            state.set(semconv::TRACE_PUBLIC, AttrValue::Bool(true));
        }
    }

    /// Describes a child of this observation, current or not.
    ///
    /// ```
    /// let parent = spindle::observation("parent").start();
    /// parent.child("child").start().end();
    /// parent.end();
    /// ```
    pub fn child(&self, name: impl Into<String>) -> ObservationBuilder {
        match &self.state {
            Some(state) => ObservationBuilder::new(
                Some(state.client.clone()),
                Parent::Of(state.clone()),
                name.into(),
            ),
            None => ObservationBuilder::new(None, Parent::Disabled, name.into()),
        }
    }

    /// Runs `body` with this (manually started) observation current, without ending it.
    ///
    /// ```
    /// let span = spindle::observation("manual").start();
    /// let id = span.in_scope(|| spindle::get_current_observation_id());
    /// assert_eq!(id, span.id());
    /// span.end();
    /// ```
    pub fn in_scope<R>(&self, body: impl FnOnce() -> R) -> R {
        if self.state.is_none() {
            return body();
        }
        let propagated = context::current().propagated;
        let _guard = context::enter(Ctx {
            observation: self.state.clone(),
            propagated,
        });
        body()
    }

    /// Scores this observation (`traceId` and `observationId` are filled in).
    ///
    /// ```
    /// spindle::Observation::noop().score(spindle::Score::numeric("accuracy", 0.9));
    /// ```
    pub fn score(&self, score: Score) {
        if let Some(state) = &self.state {
            let score = score
                .trace_id(hex::encode(state.trace_id))
                .observation_id(hex::encode(state.span_id));
            Client::from_inner(state.client.clone()).create_score(score);
        }
    }

    /// Scores this observation's trace (`traceId` is filled in).
    ///
    /// ```
    /// spindle::Observation::noop().score_trace(spindle::Score::boolean("resolved", true));
    /// ```
    pub fn score_trace(&self, score: Score) {
        if let Some(state) = &self.state {
            Client::from_inner(state.client.clone())
                .create_score(score.trace_id(hex::encode(state.trace_id)));
        }
    }

    /// Ends the observation now and queues it for export; later calls do nothing.
    ///
    /// ```
    /// let span = spindle::observation("step").start();
    /// span.end();
    /// span.end(); // no effect
    /// ```
    pub fn end(&self) {
        if let Some(state) = &self.state {
            state.end(None);
        }
    }
}
