//! API key authentication: `Basic base64(pk:sk)` for the whole public API, and
//! `Bearer pk-…` (public key alone) for score creation from browsers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine;
use spindle_core::{Error, ErrorKind};
use spindle_store::secret::ServerSecret;
use spindle_store::{ApiKey, SecretCheck, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::state::AppState;

/// What a request's credentials allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Public and secret key: the whole public API of the project.
    Full,
    /// Public key alone: creating scores only.
    ScoresOnly,
}

/// The authenticated project of a request.
#[derive(Debug, Clone)]
pub struct ProjectAuth {
    pub project_id: String,
    pub public_key: String,
    pub access: Access,
}

impl ProjectAuth {
    /// Fails unless the credentials grant full access.
    pub fn require_full(&self) -> Result<(), ApiError> {
        if self.access == Access::Full {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::PermissionDenied,
                "a public key alone may only create scores; use the secret key for this endpoint",
            )
            .into())
        }
    }
}

/// Looks keys up in the store, caching them briefly so a revocation made by another
/// instance takes effect within [`AuthService::CACHE_TTL`].
pub struct AuthService {
    store: Arc<dyn Store>,
    /// The pepper of secret hashes.
    server_secret: Arc<ServerSecret>,
    cache: Mutex<HashMap<String, (Instant, Option<ApiKey>)>>,
}

impl AuthService {
    pub const CACHE_TTL: Duration = Duration::from_secs(10);
    const CACHE_LIMIT: usize = 10_000;

    pub fn new(store: Arc<dyn Store>, server_secret: Arc<ServerSecret>) -> Self {
        AuthService {
            store,
            server_secret,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `secret_key` is the key's secret. A hash of before the pepper that matches is
    /// replaced by the peppered one (rehash on use); a failure to store it only delays that
    /// to the next use.
    async fn secret_matches(&self, key: &ApiKey, secret_key: &str) -> bool {
        match key.check(&self.server_secret, secret_key) {
            SecretCheck::Wrong => false,
            SecretCheck::Matches => true,
            SecretCheck::MatchesUnpeppered => {
                let peppered =
                    ApiKey::hash_secret(&self.server_secret, &key.public_key, secret_key);
                match self
                    .store
                    .replace_api_key_hash(&key.public_key, &key.secret_hash, &peppered)
                    .await
                {
                    Ok(_) => {
                        if let Ok(mut cache) = self.cache.lock() {
                            cache.remove(&key.public_key);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, public_key = %key.public_key, "cannot rehash an api key secret");
                    }
                }
                true
            }
        }
    }

    async fn key(&self, public_key: &str) -> Result<Option<ApiKey>, Error> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((fetched, key)) = cache.get(public_key) {
                if fetched.elapsed() < Self::CACHE_TTL {
                    return Ok(key.clone());
                }
            }
        }
        let key = self.store.get_api_key(public_key).await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= Self::CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(public_key.to_owned(), (Instant::now(), key.clone()));
        }
        Ok(key)
    }

    /// Forgets cached keys (after a local revocation).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    /// Authenticates the `Authorization` header.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<ProjectAuth, Error> {
        let unauthenticated = |message: &str| Error::new(ErrorKind::Unauthenticated, message);
        let header = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                unauthenticated("Authentication error: no Authorization header; use Basic auth with your public and secret key")
            })?;
        let (scheme, credentials) = header.trim().split_once(' ').ok_or_else(|| {
            unauthenticated("Authentication error: malformed Authorization header")
        })?;
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credentials.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    unauthenticated("Authentication error: Basic credentials are not base64")
                })?;
            let (public_key, secret_key) = decoded.split_once(':').ok_or_else(|| {
                unauthenticated(
                    "Authentication error: Basic credentials must be publicKey:secretKey",
                )
            })?;
            let key = self.key(public_key).await?;
            match key {
                Some(key)
                    if key.revoked_at.is_none() && self.secret_matches(&key, secret_key).await =>
                {
                    Ok(ProjectAuth {
                        project_id: key.project_id,
                        public_key: key.public_key,
                        access: Access::Full,
                    })
                }
                _ => Err(unauthenticated(
                    "Authentication error: invalid public key or secret key",
                )),
            }
        } else if scheme.eq_ignore_ascii_case("bearer") {
            let public_key = credentials.trim();
            let key = self.key(public_key).await?;
            match key {
                Some(key) if key.revoked_at.is_none() => Ok(ProjectAuth {
                    project_id: key.project_id,
                    public_key: key.public_key,
                    access: Access::ScoresOnly,
                }),
                _ => Err(unauthenticated("Authentication error: invalid public key")),
            }
        } else {
            Err(unauthenticated(
                "Authentication error: unsupported scheme; use Basic or Bearer",
            ))
        }
    }
}

impl FromRequestParts<AppState> for ProjectAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(state.auth.authenticate(&parts.headers).await?)
    }
}

/// Credentials with full access (secret key required).
pub struct FullAuth(pub ProjectAuth);

impl FromRequestParts<AppState> for FullAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = state.auth.authenticate(&parts.headers).await?;
        auth.require_full()?;
        Ok(FullAuth(auth))
    }
}
