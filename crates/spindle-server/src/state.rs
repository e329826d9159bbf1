//! Shared state of the HTTP layer: the services handlers call, and the configuration.

use crate::auth::AuthService;
use crate::metrics::Metrics;
use spindle_store::accounts::Accounts;
use spindle_store::secret::ServerSecret;
use spindle_store::Store;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub auth: Arc<AuthService>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// Bounds the ingestion requests processed at once (bodies held in memory).
    pub ingest_permits: Arc<Semaphore>,
    /// Where `PUT` upload URLs for media point.
    pub public_base_url: Arc<str>,
    /// UI accounts (users, sessions, saved views), kept by the same backend as the store.
    pub accounts: Arc<dyn Accounts>,
    /// Slows UI password guessing per account and per client address.
    pub sign_in_guard: Arc<crate::ui::session::SignInGuard>,
    /// Keys the HMACs the server hands out (media download tokens) and peppers API secret
    /// hashes.
    pub server_secret: Arc<ServerSecret>,
}

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        accounts: Arc<dyn Accounts>,
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
            ingest_permits: Arc::new(Semaphore::new(max_inflight_ingest)),
            public_base_url: public_base_url.into(),
            accounts,
            sign_in_guard: Arc::default(),
            server_secret,
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
