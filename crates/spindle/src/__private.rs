//! Support code for the `#[observe]` macro; not a public API and exempt from semver.
//!
//! Generated code names only items of this module, through `::spindle::__private`.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use crate::context::{self, Ctx, Instrumented};

pub use crate::context::EnterGuard;
use crate::json;
use crate::observation::{ObsState, ObservationBuilder, ObservationType};

pub use crate::observation::ObservationType as Type;
pub use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// Collects a call's arguments as Python's `{"args": [...], "kwargs": {}}`, written straight
/// into one buffer with Python's separators.
pub struct ArgsCapture {
    buffer: Vec<u8>,
    count: usize,
}

impl ArgsCapture {
    /// Records one argument (`null` with a warning if it cannot be serialized).
    #[inline]
    pub fn arg<T: Capturable + ?Sized>(&mut self, value: &T) {
        if self.count > 0 {
            self.buffer.extend_from_slice(b", ");
        }
        self.count += 1;
        let mark = self.buffer.len();
        if !json::write_python_json(&mut self.buffer, value) {
            self.buffer.truncate(mark);
            self.buffer.extend_from_slice(b"null");
        }
    }

    fn finish(mut self) -> Option<String> {
        self.buffer.extend_from_slice(b"], \"kwargs\": {}}");
        String::from_utf8(self.buffer).ok()
    }
}

/// What an argument captured by `#[observe]` must be: `serde::Serialize`.
#[diagnostic::on_unimplemented(
    message = "`#[observe]` cannot capture an argument of type `{Self}`: it does not implement `serde::Serialize`",
    label = "not serializable",
    note = "derive or implement `serde::Serialize`, or leave the argument out with `#[observe(skip(...))]`"
)]
pub trait Capturable: Serialize {}

impl<T: Serialize + ?Sized> Capturable for T {}

/// One `#[observe]` call: the observation (if recording) and the context it makes current.
pub struct ObserveScope {
    state: Option<Arc<ObsState>>,
    ctx: Option<Ctx>,
}

/// Starts the observation of one `#[observe]` call; with tracing disabled this is one relaxed
/// atomic load and nothing is captured.
#[inline]
pub fn start(
    name: &'static str,
    observation_type: ObservationType,
    capture: Option<&dyn Fn(&mut ArgsCapture)>,
) -> ObserveScope {
    if !crate::client::any_client_enabled() {
        return ObserveScope {
            state: None,
            ctx: None,
        };
    }
    start_slow(name, observation_type, capture)
}

#[cold]
#[inline(never)]
fn start_slow(
    name: &'static str,
    observation_type: ObservationType,
    capture: Option<&dyn Fn(&mut ArgsCapture)>,
) -> ObserveScope {
    let ctx = context::current();
    let mut builder =
        ObservationBuilder::for_client(None, name.to_owned()).as_type(observation_type);
    if ctx.observation.is_none() && crate::client::global_inner().is_none() {
        return ObserveScope {
            state: None,
            ctx: None,
        };
    }
    if let Some(capture) = capture {
        let mut buffer = Vec::with_capacity(64);
        buffer.extend_from_slice(b"{\"args\": [");
        let mut args = ArgsCapture { buffer, count: 0 };
        capture(&mut args);
        if let Some(text) = args.finish() {
            builder = builder.with(crate::ObservationUpdate::new().input_raw(text));
        }
    }
    let (observation, child_ctx) = builder.start_in(ctx);
    match observation.state {
        Some(state) => ObserveScope {
            state: Some(state),
            ctx: Some(child_ctx),
        },
        None => ObserveScope {
            state: None,
            ctx: None,
        },
    }
}

impl ObserveScope {
    /// Makes the observation current for a sync body.
    #[inline]
    pub fn enter(&self) -> Option<EnterGuard> {
        self.ctx.as_ref().map(|ctx| context::enter(ctx.clone()))
    }

    /// Wraps an async body so that it runs inside the observation on every poll.
    #[inline]
    pub fn instrument<F: Future>(&self, future: F) -> Instrumented<F> {
        Instrumented::new(future, self.ctx.clone(), true)
    }

    /// Records a panic payload (level ERROR with its message).
    pub fn record_panic(&self, payload: &(dyn std::any::Any + Send)) {
        if let Some(state) = &self.state {
            state.record_panic(payload);
        }
    }

    fn record_output<T: Serialize + ?Sized>(&self, output: &T) {
        if let Some(state) = &self.state {
            if let Some(text) = json::io_value(output) {
                state.set(
                    spindle_semconv::OBSERVATION_OUTPUT,
                    crate::observation::AttrValue::Str(text),
                );
            }
        }
    }

    fn record_error(&self, error: &dyn std::fmt::Display) {
        if let Some(state) = &self.state {
            state.record_error(error.to_string());
        }
    }

    /// Whether anything is recorded (false on the disabled path).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.state.is_some()
    }
}

impl Drop for ObserveScope {
    fn drop(&mut self) {
        if let Some(state) = &self.state {
            state.end(None);
        }
    }
}

/// Borrowed return value, inspected through autoref specialization: `Result<T: Serialize, E:
/// Display>` > `Result<_, E: Display>` > `T: Serialize` > anything.
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

/// Capture traits, imported anonymously by generated code.
pub mod capture {
    pub use super::{
        CaptureAny as _, CaptureResult as _, CaptureResultSerialize as _, CaptureSerialize as _,
    };
}

/// `Result` with a serializable `Ok` and a displayable `Err`.
pub trait CaptureResultSerialize {
    /// Records the output or the error.
    fn __spindle_capture(&self, scope: &ObserveScope, capture_output: bool);
}

impl<T: Serialize, E: std::fmt::Display> CaptureResultSerialize for &&&Wrap<'_, Result<T, E>> {
    fn __spindle_capture(&self, scope: &ObserveScope, capture_output: bool) {
        match self.0 {
            Ok(value) if capture_output => scope.record_output(value),
            Ok(_) => {}
            Err(error) => scope.record_error(error),
        }
    }
}

/// `Result` with a displayable `Err`.
pub trait CaptureResult {
    /// Records the error, if any.
    fn __spindle_capture(&self, scope: &ObserveScope, capture_output: bool);
}

impl<T, E: std::fmt::Display> CaptureResult for &&Wrap<'_, Result<T, E>> {
    fn __spindle_capture(&self, scope: &ObserveScope, _capture_output: bool) {
        if let Err(error) = self.0 {
            scope.record_error(error);
        }
    }
}

/// Any serializable value.
pub trait CaptureSerialize {
    /// Records the output.
    fn __spindle_capture(&self, scope: &ObserveScope, capture_output: bool);
}

impl<T: Serialize + ?Sized> CaptureSerialize for &Wrap<'_, T> {
    fn __spindle_capture(&self, scope: &ObserveScope, capture_output: bool) {
        if capture_output {
            scope.record_output(self.0);
        }
    }
}

/// Anything else: nothing to record.
pub trait CaptureAny {
    /// Does nothing.
    fn __spindle_capture(&self, scope: &ObserveScope, capture_output: bool);
}

impl<T: ?Sized> CaptureAny for Wrap<'_, T> {
    fn __spindle_capture(&self, _scope: &ObserveScope, _capture_output: bool) {}
}

/// The OTLP messages the SDK sends, for test receivers.
pub mod otlp {
    pub use spindle_otlp::*;
}
