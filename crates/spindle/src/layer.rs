//! A `tracing` layer that turns spans (e.g. from `#[tracing::instrument]`) into observations of
//! the same trees as `#[observe]`, mapping `langfuse.*` fields onto observation attributes.

use std::cell::RefCell;
use std::fmt::Debug;

use spindle_semconv as semconv;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes as SpanAttributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::client::Client;
use crate::context::{self, Ctx};
use crate::json;
use crate::observation::{
    AttrValue, Attributes, Observation, ObservationBuilder, ObservationType, ObservationUpdate,
};

/// Records `tracing` spans as observations.
///
/// Each span becomes an observation named like the span (or its `otel.name` field), nested under
/// its `tracing` parent's observation, else under the current observation. While a span is
/// entered its observation is current, so `#[observe]` functions called inside nest under it.
/// Fields map onto attributes: `langfuse.observation.type` picks the type (`span` by default);
/// other `langfuse.*` fields, `user.id` and `session.id` are sent under their own key
/// (`langfuse.trace.tags` as a comma-separated list, `langfuse.observation.prompt.version` as an
/// integer); any other field becomes observation metadata. An `ERROR` event inside a span marks
/// its observation `ERROR` with the event's message.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(spindle::SpindleLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("retrieval", langfuse.observation.type = "retriever", k = 3);
///     let _entered = span.enter();
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct SpindleLayer {
    client: Option<Client>,
}

impl SpindleLayer {
    /// A layer that sends through the current observation's client or the global client.
    ///
    /// ```
    /// let _layer = spindle::SpindleLayer::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer whose root observations go through `client`.
    ///
    /// ```
    /// let _layer = spindle::SpindleLayer::with_client(spindle::Client::disabled());
    /// ```
    pub fn with_client(client: Client) -> Self {
        Self {
            client: Some(client),
        }
    }
}

/// What a span carries in its extensions.
struct SpanObservation {
    observation: Observation,
    ctx: Ctx,
}

thread_local! {
    /// Contexts replaced by entered spans, restored on exit.
    static ENTERED: RefCell<Vec<Ctx>> = const { RefCell::new(Vec::new()) };
}

/// Collects span fields into attributes.
#[derive(Default)]
struct FieldVisitor {
    attributes: Attributes,
    observation_type: Option<ObservationType>,
    name: Option<String>,
    message: Option<String>,
}

fn parse_type(text: &str) -> Option<ObservationType> {
    Some(match text {
        "span" => ObservationType::Span,
        "generation" => ObservationType::Generation,
        "event" => ObservationType::Event,
        "agent" => ObservationType::Agent,
        "tool" => ObservationType::Tool,
        "chain" => ObservationType::Chain,
        "retriever" => ObservationType::Retriever,
        "embedding" => ObservationType::Embedding,
        "evaluator" => ObservationType::Evaluator,
        "guardrail" => ObservationType::Guardrail,
        _ => return None,
    })
}

impl FieldVisitor {
    fn record_text(&mut self, field: &Field, text: String) {
        let key = field.name();
        match key {
            semconv::OBSERVATION_TYPE => self.observation_type = parse_type(&text),
            "otel.name" => self.name = Some(text),
            "message" => self.message = Some(text),
            semconv::TRACE_TAGS => {
                let tags = text
                    .split(',')
                    .map(|tag| tag.trim().to_owned())
                    .filter(|tag| !tag.is_empty());
                self.attributes
                    .set(key, AttrValue::StrArray(tags.collect()));
            }
            semconv::OBSERVATION_PROMPT_VERSION => match text.parse::<i64>() {
                Ok(version) => self.attributes.set(key, AttrValue::Int(version)),
                Err(_) => {
                    tracing::warn!("langfuse.observation.prompt.version is not an integer, skipped")
                }
            },
            _ if key.starts_with("langfuse.")
                || key == semconv::TRACE_USER_ID
                || key == semconv::TRACE_SESSION_ID =>
            {
                self.attributes.set(key, AttrValue::Str(text));
            }
            _ => {
                if let Some(encoded) = json::compact_json(&text) {
                    self.attributes.set(
                        format!("{}.{key}", semconv::OBSERVATION_METADATA),
                        AttrValue::Str(encoded),
                    );
                }
            }
        }
    }

    fn record_value(&mut self, field: &Field, value: serde_json::Value, text: String) {
        let key = field.name();
        if key == semconv::TRACE_PUBLIC || key == semconv::INTERNAL_AS_ROOT {
            if let serde_json::Value::Bool(flag) = value {
                self.attributes.set(key, AttrValue::Bool(flag));
            }
            return;
        }
        if key.starts_with("langfuse.") || key == "otel.name" || key == "message" {
            return self.record_text(field, text);
        }
        if let Some(encoded) = json::compact_json(&value) {
            self.attributes.set(
                format!("{}.{key}", semconv::OBSERVATION_METADATA),
                AttrValue::Str(encoded),
            );
        }
    }
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_text(field, value.to_owned());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_value(field, value.into(), value.to_string());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_value(field, value.into(), value.to_string());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.record_value(field, value.into(), value.to_string());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record_value(field, value.into(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.record_text(field, format!("{value:?}"));
    }
}

/// Reads fields with `record` and hands them to `apply` with the observation of `span`;
/// nothing happens when there is no span or it has no observation.
fn visit_fields<S>(
    span: Option<SpanRef<'_, S>>,
    record: impl FnOnce(&mut FieldVisitor),
    apply: impl FnOnce(&Observation, FieldVisitor),
) where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    let Some(span) = span else {
        return;
    };
    let extensions = span.extensions();
    let Some(found) = extensions.get::<SpanObservation>() else {
        return;
    };
    let mut visitor = FieldVisitor::default();
    record(&mut visitor);
    apply(&found.observation, visitor);
}

impl<S> Layer<S> for SpindleLayer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attributes: &SpanAttributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !crate::client::any_client_enabled() || crate::export::is_exporter_thread() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut visitor = FieldVisitor::default();
        attributes.record(&mut visitor);
        let name = visitor
            .name
            .take()
            .unwrap_or_else(|| span.name().to_owned());
        let parent_state = span.parent().and_then(|parent| {
            parent
                .extensions()
                .get::<SpanObservation>()
                .and_then(|found| found.observation.state.clone())
        });
        let builder = match parent_state {
            Some(parent) => ObservationBuilder::child_of(parent, name),
            None => ObservationBuilder::for_client(
                self.client.as_ref().and_then(|client| client.inner.clone()),
                name,
            ),
        };
        let update = ObservationUpdate {
            attributes: visitor.attributes,
        };
        let builder = builder
            .as_type(visitor.observation_type.unwrap_or_default())
            .with(update);
        let (observation, child_ctx) = builder.start_in(context::current());
        if observation.state.is_some() {
            span.extensions_mut().insert(SpanObservation {
                observation,
                ctx: child_ctx,
            });
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        visit_fields(
            ctx.span(id),
            |visitor| values.record(visitor),
            |observation, mut visitor| {
                if let Some(name) = visitor.name.take() {
                    observation.set_name(name);
                }
                observation.update(ObservationUpdate {
                    attributes: visitor.attributes,
                });
            },
        );
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() != tracing::Level::ERROR {
            return;
        }
        visit_fields(
            ctx.event_span(event),
            |visitor| event.record(visitor),
            |observation, visitor| {
                if let Some(state) = &observation.state {
                    state.record_error(visitor.message.unwrap_or_else(|| "error".to_owned()));
                }
            },
        );
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let extensions = span.extensions();
        let Some(found) = extensions.get::<SpanObservation>() else {
            return;
        };
        let previous = context::replace(found.ctx.clone());
        let _ = ENTERED.try_with(|entered| entered.borrow_mut().push(previous));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        if span.extensions().get::<SpanObservation>().is_none() {
            return;
        }
        if let Some(previous) = ENTERED
            .try_with(|entered| entered.borrow_mut().pop())
            .ok()
            .flatten()
        {
            context::replace(previous);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let removed = span.extensions_mut().remove::<SpanObservation>();
        if let Some(found) = removed {
            found.observation.end();
        }
    }
}
