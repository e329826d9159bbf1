//! Interop with the `opentelemetry` API: observations started under a span of other
//! OpenTelemetry instrumentation join its trace as children, and while an observation is
//! current it is also the OpenTelemetry parent of spans other instrumentation starts.
//!
//! Compiled with the `opentelemetry` feature (on by default); without it both directions are
//! no-ops.

use crate::observation::ObsState;

/// The trace and span id of the current OpenTelemetry span, if it is valid.
#[cfg(feature = "opentelemetry")]
pub(crate) fn current_parent() -> Option<([u8; 16], [u8; 8])> {
    use opentelemetry::trace::TraceContextExt;
    let context = opentelemetry::Context::current();
    if !context.has_active_span() {
        return None;
    }
    let span = context.span();
    let span_context = span.span_context();
    if !span_context.is_valid() {
        return None;
    }
    Some((
        span_context.trace_id().to_bytes(),
        span_context.span_id().to_bytes(),
    ))
}

/// Makes `state` the current OpenTelemetry parent until the guard drops.
#[cfg(feature = "opentelemetry")]
pub(crate) fn attach(state: &ObsState) -> opentelemetry::ContextGuard {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    let flags = if state.sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let span_context = SpanContext::new(
        TraceId::from_bytes(state.trace_id),
        SpanId::from_bytes(state.span_id),
        flags,
        false,
        TraceState::default(),
    );
    opentelemetry::Context::current()
        .with_remote_span_context(span_context)
        .attach()
}

/// Without the `opentelemetry` feature there is no OpenTelemetry parent.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn current_parent() -> Option<([u8; 16], [u8; 8])> {
    None
}

#[cfg(not(feature = "opentelemetry"))]
#[allow(dead_code)]
pub(crate) fn attach(_state: &ObsState) {}
