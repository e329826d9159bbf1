//! The client: validated configuration plus the exporter, the process-wide client behind
//! [`get_client`], and the switch that keeps the disabled path nearly free.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::api::PublicApi;
use crate::config::{ClientBuilder, Config, ConfigError};
use crate::dataset::DatasetApi;
use crate::export::{Exporter, Message};
use crate::observation::{iso_micros, ObservationBuilder};
use crate::prompt::{PromptApi, PromptCache, Prompts};
use crate::score::Score;

/// Set once any enabled client exists; until then instrumentation returns at once.
static ANY_CLIENT_ENABLED: AtomicBool = AtomicBool::new(false);
/// The process-wide client.
static GLOBAL_CLIENT: OnceLock<Client> = OnceLock::new();

/// Whether instrumentation can record anything in this process (one relaxed load).
#[inline]
pub(crate) fn any_client_enabled() -> bool {
    ANY_CLIENT_ENABLED.load(Ordering::Relaxed)
}

pub(crate) fn global_inner() -> Option<Arc<ClientInner>> {
    GLOBAL_CLIENT.get().and_then(|client| client.inner.clone())
}

pub(crate) struct ClientInner {
    pub(crate) config: Config,
    pub(crate) exporter: Exporter,
    /// The dataset API; `None` when the base URL cannot address it.
    pub(crate) datasets: Option<DatasetApi>,
    /// The prompt API and cache; `None` when the base URL cannot address it.
    pub(crate) prompts: Option<Prompts>,
    /// Traces whose id maps below this threshold are kept.
    sample_threshold: u64,
}

impl ClientInner {
    /// Decides sampling from the trace id, like OpenTelemetry's ratio sampler.
    pub(crate) fn is_sampled(&self, trace_id: &[u8; 16]) -> bool {
        if self.config.sample_rate >= 1.0 {
            return true;
        }
        let mut low = [0u8; 8];
        low.copy_from_slice(&trace_id[8..]);
        (u64::from_be_bytes(low) >> 1) < self.sample_threshold
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        self.exporter.shutdown();
    }
}

/// A Spindle client: sends observations and scores to a Langfuse-compatible server in the
/// background. Cheap to clone; all clones share one exporter. A disabled client does nothing.
///
/// ```
/// let client = spindle::Client::builder()
///     .public_key("pk-lf-test")
///     .secret_key("sk-lf-test")
///     .base_url("http://127.0.0.1:9")
///     .build()
///     .unwrap();
/// let span = client.observation("hello").start();
/// span.end();
/// client.shutdown();
/// ```
#[derive(Clone, Default)]
pub struct Client {
    pub(crate) inner: Option<Arc<ClientInner>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Client")
            .field("enabled", &self.is_enabled())
            .field(
                "base_url",
                &self
                    .inner
                    .as_ref()
                    .map(|inner| inner.config.base_url.as_str()),
            )
            .finish()
    }
}

impl Client {
    /// A builder with the defaults.
    ///
    /// ```
    /// let _builder = spindle::Client::builder();
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the `LANGFUSE_*` environment variables.
    ///
    /// ```
    /// // fails unless LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are set
    /// let _result = spindle::Client::from_env();
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        ClientBuilder::from_env()?.build()
    }

    /// A client that records nothing.
    ///
    /// ```
    /// assert!(!spindle::Client::disabled().is_enabled());
    /// ```
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    pub(crate) fn start(config: Config) -> Self {
        let sample_threshold = (config.sample_rate.clamp(0.0, 1.0) * (1u64 << 63) as f64) as u64;
        let exporter = Exporter::start(config.clone());
        let api = PublicApi::new(&config);
        let datasets = api.clone().map(DatasetApi::new);
        let prompts = api.map(|api| Prompts {
            api: PromptApi::new(api),
            cache: Arc::new(PromptCache::new(config.prompt_cache_max_entries)),
            default_ttl: config.prompt_cache_ttl,
        });
        ANY_CLIENT_ENABLED.store(true, Ordering::Relaxed);
        Self {
            inner: Some(Arc::new(ClientInner {
                config,
                exporter,
                datasets,
                prompts,
                sample_threshold,
            })),
        }
    }

    pub(crate) fn from_inner(inner: Arc<ClientInner>) -> Self {
        Self { inner: Some(inner) }
    }

    /// Whether this client records and sends anything.
    ///
    /// ```
    /// assert!(!spindle::Client::default().is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Makes this the process-wide client returned by [`get_client`] and used by `#[observe]`
    /// and [`observation`](crate::observation()) when no observation is current. Only the first
    /// call takes effect; it returns whether this one did.
    ///
    /// ```
    /// let client = spindle::Client::disabled();
    /// let _installed = client.install_global();
    /// ```
    pub fn install_global(&self) -> bool {
        GLOBAL_CLIENT.set(self.clone()).is_ok()
    }

    /// Describes an observation sent through this client, under the current observation if any.
    ///
    /// ```
    /// let client = spindle::Client::disabled();
    /// client.observation("step").run(|_| ());
    /// ```
    pub fn observation(&self, name: impl Into<String>) -> ObservationBuilder {
        match &self.inner {
            Some(inner) => ObservationBuilder::for_client(Some(inner.clone()), name.into()),
            None => crate::Observation::noop().child(name),
        }
    }

    /// Queues a score. It needs a trace id, a session id or a dataset run id; otherwise it is
    /// dropped with a warning.
    ///
    /// ```
    /// let client = spindle::Client::disabled();
    /// client.create_score(spindle::Score::numeric("session-score", 1.0).session_id("sess-7"));
    /// ```
    pub fn create_score(&self, score: Score) {
        let Some(inner) = &self.inner else {
            return;
        };
        if score.trace_id.is_none() && score.session_id.is_none() && score.dataset_run_id.is_none()
        {
            tracing::warn!(name = %score.name, "score without trace, session or dataset run id, dropped");
            return;
        }
        let timestamp = iso_micros(std::time::SystemTime::now());
        let body = score.to_wire(inner.config.environment.as_deref(), &timestamp);
        inner.exporter.enqueue(Message::Score(Box::new(body)));
    }

    /// Blocks until everything queued before the call has been sent (or given up on after
    /// retries). Call it before a short-lived program exits.
    ///
    /// ```
    /// spindle::Client::disabled().flush();
    /// ```
    pub fn flush(&self) {
        if let Some(inner) = &self.inner {
            inner.exporter.flush();
        }
    }

    /// Like [`flush`](Self::flush), awaiting instead of blocking the thread.
    ///
    /// ```
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # runtime.block_on(async {
    /// spindle::Client::disabled().flush_async().await;
    /// # });
    /// ```
    pub async fn flush_async(&self) {
        if let Some(inner) = &self.inner {
            inner.exporter.flush_async().await;
        }
    }

    /// Flushes, then stops the exporter; later observations are dropped.
    ///
    /// ```
    /// spindle::Client::disabled().shutdown();
    /// ```
    pub fn shutdown(&self) {
        if let Some(inner) = &self.inner {
            inner.exporter.shutdown();
        }
    }

    /// How many observations and scores were dropped because the queue was full or closed.
    ///
    /// ```
    /// assert_eq!(spindle::Client::disabled().dropped_count(), 0);
    /// ```
    pub fn dropped_count(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |inner| inner.exporter.dropped())
    }
}

/// The process-wide client: the one given to [`Client::install_global`], else (like Python's
/// `get_client()`) one built from the `LANGFUSE_*` environment variables and installed, else a
/// disabled client. The environment is read once; a bad value is logged, not returned.
///
/// ```
/// let client = spindle::get_client();
/// client.flush();
/// ```
pub fn get_client() -> Client {
    if let Some(client) = GLOBAL_CLIENT.get() {
        return client.clone();
    }
    static FROM_ENV: OnceLock<()> = OnceLock::new();
    FROM_ENV.get_or_init(|| {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        if !vars.iter().any(|(name, _)| name == "LANGFUSE_PUBLIC_KEY") {
            return;
        }
        match ClientBuilder::from_env_vars(vars).and_then(ClientBuilder::build) {
            Ok(client) => {
                client.install_global();
            }
            Err(error) => {
                tracing::warn!(%error, "no client from the environment, tracing disabled")
            }
        }
    });
    GLOBAL_CLIENT.get().cloned().unwrap_or_default()
}
