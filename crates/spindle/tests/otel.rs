//! Nesting with other OpenTelemetry instrumentation: an observation started under an
//! OpenTelemetry span joins its trace, and spans that OpenTelemetry instrumentation starts
//! inside an observation see it as their parent.

#![cfg(feature = "opentelemetry")]

mod support;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use support::Receiver;

#[spindle::observe(name = "under-otel")]
fn under_otel() -> (String, String) {
    // what OpenTelemetry instrumentation called here would use as its parent
    let context = opentelemetry::Context::current();
    let span = context.span();
    let parent = span.span_context();
    (parent.trace_id().to_string(), parent.span_id().to_string())
}

#[test]
fn observations_nest_with_opentelemetry_spans() {
    let receiver = Receiver::start(0);
    let client = receiver.client();
    assert!(client.install_global());
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let otel_parent = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let guard = opentelemetry::Context::current()
        .with_remote_span_context(otel_parent)
        .attach();
    let (seen_trace, seen_span) = under_otel();
    drop(guard);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let async_seen = runtime.block_on(spindle::observation("async-under-nothing").run_async(
        |observation| async move {
            tokio::task::yield_now().await;
            let context = opentelemetry::Context::current();
            let span = context.span();
            (
                span.span_context().span_id().to_string(),
                observation.id().unwrap(),
            )
        },
    ));
    client.flush();

    let observed = receiver.span_named("under-otel");
    assert_eq!(observed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(observed.parent_span_id, "00f067aa0ba902b7");
    assert_eq!(
        observed.attributes["langfuse.internal.is_app_root"],
        serde_json::json!({"bool": true})
    );
    assert_eq!(seen_trace, observed.trace_id);
    assert_eq!(seen_span, observed.span_id);
    assert_eq!(async_seen.0, async_seen.1);
    let after = opentelemetry::Context::current();
    assert!(
        !after.span().span_context().is_valid(),
        "the OpenTelemetry context is restored"
    );
}
