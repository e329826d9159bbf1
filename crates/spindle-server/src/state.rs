//! Shared state of the HTTP layer: the services handlers call, and the configuration.

use crate::admission::{Admission, AdmissionLimits};
use crate::auth::AuthService;
use crate::listen::Connections;
use crate::metrics::Metrics;
use crate::prompts::PromptService;
use crate::readiness::Readiness;
use crate::resolver::Backend;
use spindle_store::accounts::Accounts;
use spindle_store::datasets::Datasets;
use spindle_store::reviews::Reviews;
use spindle_store::score_configs::ScoreConfigs;
use spindle_store::secret::ServerSecret;
use spindle_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub auth: Arc<AuthService>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// Bounds the request body bytes held and the ingestion requests processed at once.
    pub admission: Arc<Admission>,
    /// How long a request body may take to arrive.
    pub body_read_timeout: Duration,
    /// What the health and readiness probes check, the write path included.
    pub readiness: Arc<Readiness>,
    /// Where `PUT` upload URLs for media point.
    pub public_base_url: Arc<str>,
    /// UI accounts (users, sessions, saved views), kept by the same backend as the store.
    pub accounts: Arc<dyn Accounts>,
    /// Slows UI password guessing per account and per client address.
    pub sign_in_guard: Arc<crate::ui::session::SignInGuard>,
    /// Prompts, kept by the same backend as the store, with the cache of served prompts.
    pub prompts: Arc<PromptService>,
    /// Datasets, their items and runs, kept by the same backend as the store.
    pub datasets: Arc<dyn Datasets>,
    /// Annotation queues and comments, kept by the same backend as the store.
    pub reviews: Arc<dyn Reviews>,
    /// Score configs, kept by the same backend as the store.
    pub score_configs: Arc<dyn ScoreConfigs>,
    /// Keys the HMACs the server hands out (media download tokens) and peppers API secret
    /// hashes.
    pub server_secret: Arc<ServerSecret>,
    /// The open connections and their limit (`--max-connections`), for `/metrics`.
    pub connections: Arc<Connections>,
    /// Wakes the purge of deleted projects (`spindle_store::organizations::run_purge`).
    pub purge_wakeup: Arc<tokio::sync::Notify>,
    /// Wakes the sweep of rolled-up metadata keys
    /// (`spindle_store::metadata_rollups::run_sweeps`).
    pub sweep_wakeup: Arc<tokio::sync::Notify>,
}

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
}

impl AppState {
    /// The default budget of request body bytes in flight.
    pub const DEFAULT_MAX_INFLIGHT_BODY_BYTES: usize = 64 * 1024 * 1024;
    /// The default time a request body may take to arrive.
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default of `--ingest-slot-wait-ms`.
    pub const DEFAULT_INGEST_SLOT_WAIT: Duration = Duration::from_secs(2);
    /// The default of `--max-connections`.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

    /// An app state over what one backend keeps (see [`crate::resolver::Backend`]), with the
    /// default byte budget and body-read timeout (see [`AppState::with_body_budget`]).
    pub fn new(
        (store, accounts, prompts, datasets, reviews, score_configs): Backend,
        limits: Limits,
        max_inflight_ingest: usize,
        public_base_url: &str,
    ) -> Self {
        let server_secret = Arc::new(ServerSecret::random());
        AppState {
            auth: Arc::new(AuthService::new(store.clone(), server_secret.clone())),
            store,
            metrics: Arc::new(Metrics::default()),
            limits,
            admission: Admission::new(AdmissionLimits {
                max_bytes: Self::DEFAULT_MAX_INFLIGHT_BODY_BYTES.max(limits.max_body_bytes),
                max_requests: max_inflight_ingest,
                max_body_bytes: limits.max_body_bytes,
                slot_wait: Self::DEFAULT_INGEST_SLOT_WAIT,
            }),
            body_read_timeout: Self::DEFAULT_BODY_READ_TIMEOUT,
            readiness: Arc::new(Readiness::new(None)),
            public_base_url: public_base_url.into(),
            accounts,
            sign_in_guard: Arc::default(),
            prompts: Arc::new(PromptService::new(prompts)),
            datasets,
            reviews,
            score_configs,
            server_secret,
            connections: Connections::new(Self::DEFAULT_MAX_CONNECTIONS),
            purge_wakeup: Arc::default(),
            sweep_wakeup: Arc::default(),
        }
    }

    /// Uses the server secret kept by the backend ([`crate::secret::load_server_secret`])
    /// instead of the random one [`AppState::new`] makes, so what one process signed stays
    /// valid in the next and in the other instances.
    pub fn with_server_secret(mut self, server_secret: ServerSecret) -> Self {
        self.server_secret = Arc::new(server_secret);
        self.auth = Arc::new(AuthService::new(
            self.store.clone(),
            self.server_secret.clone(),
        ));
        self
    }
}

impl AppState {
    /// Sets the budget of request body bytes in flight (at least one largest body) and the
    /// time a body may take to arrive.
    pub fn with_body_budget(
        mut self,
        max_inflight_body_bytes: usize,
        read_timeout: Duration,
    ) -> Self {
        let limits = self.admission.limits();
        self.admission = Admission::new(AdmissionLimits {
            max_bytes: max_inflight_body_bytes.max(limits.max_body_bytes),
            ..limits
        });
        self.body_read_timeout = read_timeout;
        self
    }

    /// Sets how long an ingestion request whose body arrived waits for a processing slot.
    pub fn with_slot_wait(mut self, slot_wait: Duration) -> Self {
        self.admission = Admission::new(AdmissionLimits {
            slot_wait,
            ..self.admission.limits()
        });
        self
    }

    /// Counts the connections of `connections` (the accept loop's) in `/metrics`.
    pub fn with_connections(mut self, connections: Arc<Connections>) -> Self {
        self.connections = connections;
        self
    }

    /// Has readiness probe `dir`, the directory of the SQLite database, for writability.
    pub fn with_probe_dir(mut self, dir: PathBuf) -> Self {
        self.readiness = Arc::new(Readiness::new(Some(dir)));
        self
    }
}
