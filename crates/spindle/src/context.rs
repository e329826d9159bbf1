//! The current observation and propagated attributes of this thread, and futures that carry
//! them across `.await`, `join!` branches and `tokio::spawn`.
//!
//! The context lives in a thread-local slot. Sync code swaps it in for the length of a call;
//! async code wraps a future in [`Instrumented`], which swaps it in on every poll and out again
//! before returning, so a guard is never held across an `.await`.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::observation::ObsState;
use crate::propagation::Propagated;

/// What is current: the innermost active observation and the propagated attributes.
#[derive(Clone, Default)]
pub(crate) struct Ctx {
    pub(crate) observation: Option<Arc<ObsState>>,
    pub(crate) propagated: Option<Arc<Propagated>>,
}

thread_local! {
    static CURRENT: RefCell<Ctx> = RefCell::new(Ctx::default());
}

/// A copy of this thread's current context (empty while the thread shuts down).
pub(crate) fn current() -> Ctx {
    CURRENT
        .try_with(|current| {
            current
                .try_borrow()
                .map(|ctx| ctx.clone())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// The current observation, if any.
pub(crate) fn current_observation() -> Option<Arc<ObsState>> {
    CURRENT
        .try_with(|current| {
            current
                .try_borrow()
                .ok()
                .and_then(|ctx| ctx.observation.clone())
        })
        .ok()
        .flatten()
}

fn swap(ctx: &mut Ctx) {
    let _ = CURRENT.try_with(|current| {
        if let Ok(mut slot) = current.try_borrow_mut() {
            std::mem::swap(&mut *slot, ctx);
        }
    });
}

/// Makes `ctx` current and returns the one it replaces.
pub(crate) fn replace(ctx: Ctx) -> Ctx {
    let mut previous = ctx;
    swap(&mut previous);
    previous
}

/// Makes a context current until dropped, then restores the previous one. Not `Send`: it must
/// be dropped on the thread that made it.
#[doc(hidden)]
pub struct EnterGuard {
    previous: Ctx,
    #[cfg(feature = "opentelemetry")]
    _otel: Option<opentelemetry::ContextGuard>,
    _not_send: PhantomData<*const ()>,
}

pub(crate) fn enter(ctx: Ctx) -> EnterGuard {
    #[cfg(feature = "opentelemetry")]
    let otel = ctx.observation.as_deref().map(crate::otel::attach);
    let mut previous = ctx;
    swap(&mut previous);
    EnterGuard {
        previous,
        #[cfg(feature = "opentelemetry")]
        _otel: otel,
        _not_send: PhantomData,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        swap(&mut self.previous);
    }
}

pin_project_lite::pin_project! {
    /// A future that runs every poll of its inner future inside a Spindle context.
    ///
    /// Made by [`FutureExt::in_current_observation`](crate::FutureExt::in_current_observation)
    /// and by the scoped async APIs.
    ///
    /// ```
    /// use spindle::FutureExt;
    /// # tokio_test_block_on(async {
    /// let value = async { 1 }.in_current_observation().await;
    /// assert_eq!(value, 1);
    /// # });
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        ctx: Option<Ctx>,
        end_on_panic: bool,
    }
}

impl<F> Instrumented<F> {
    pub(crate) fn new(inner: F, ctx: Option<Ctx>, end_on_panic: bool) -> Self {
        Self {
            inner,
            ctx,
            end_on_panic,
        }
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(ctx) = this.ctx.as_ref() else {
            return this.inner.poll(cx);
        };
        let guard = enter(ctx.clone());
        let inner = this.inner;
        let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        drop(guard);
        match polled {
            Ok(poll) => poll,
            Err(payload) => {
                if *this.end_on_panic {
                    if let Some(observation) = &ctx.observation {
                        observation.record_panic(payload.as_ref());
                        observation.end(None);
                    }
                }
                resume_unwind(payload)
            }
        }
    }
}

/// Carries the current observation into futures run elsewhere (`tokio::spawn`, executors).
///
/// ```
/// use spindle::FutureExt;
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # runtime.block_on(async {
/// let handle = tokio::spawn(async { spindle::get_current_trace_id() }.in_current_observation());
/// assert_eq!(handle.await.unwrap(), None); // no observation is current here
/// # });
/// ```
pub trait FutureExt: Future + Sized {
    /// Wraps the future so that it runs inside the context current at this call, wherever it
    /// is polled: children created in it nest under the current observation.
    ///
    /// ```
    /// use spindle::FutureExt;
    /// let _future = async { 42 }.in_current_observation();
    /// ```
    fn in_current_observation(self) -> Instrumented<Self> {
        Instrumented::new(self, Some(current()), false)
    }
}

impl<F: Future> FutureExt for F {}

/// Spawns a future on the current tokio runtime, keeping the caller's current observation as
/// its parent (`tokio::spawn` alone starts from an empty context).
///
/// # Panics
///
/// Like `tokio::spawn`, when called outside a tokio runtime.
///
/// ```
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # runtime.block_on(async {
/// let answer = spindle::spawn(async { 42 }).await.unwrap();
/// assert_eq!(answer, 42);
/// # });
/// ```
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_observation())
}
