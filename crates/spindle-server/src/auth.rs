//! API key authentication: `Basic base64(pk:sk)` for the whole public API, and
//! `Bearer pk-…` (public key alone) for score creation from browsers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine;
use spindle_core::time::now_micros;
use spindle_core::{Error, ErrorKind};
use spindle_store::audit::Actor;
use spindle_store::organizations::OrganizationApiKey;
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
    /// The key, as the audit log names who made a change.
    pub fn actor(&self) -> Actor {
        Actor::ProjectKey(self.public_key.clone())
    }

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
/// instance takes effect within [`AuthService::CACHE_TTL`]. The cache is bounded: at most
/// [`AuthService::CACHE_LIMIT`] known keys and [`AuthService::NEGATIVE_CACHE_LIMIT`] unknown
/// ones, expired entries evicted first, and public keys longer than
/// [`AuthService::MAX_PUBLIC_KEY_BYTES`] are refused before any lookup.
pub struct AuthService {
    store: Arc<dyn Store>,
    /// The pepper of secret hashes.
    server_secret: Arc<ServerSecret>,
    cache: Mutex<KeyCache>,
}

/// Known keys and unknown public keys, each with when they were looked up.
#[derive(Default)]
struct KeyCache {
    known: HashMap<String, (Instant, StoredKey)>,
    unknown: HashMap<String, Instant>,
}

/// A stored key of either kind.
#[derive(Debug, Clone)]
enum StoredKey {
    Project(ApiKey),
    Organization(OrganizationApiKey),
}

/// Makes room for one entry in `map` of at most `limit`: drops expired entries, then, when
/// still full, the oldest one.
fn make_room<V>(map: &mut HashMap<String, V>, limit: usize, fetched: impl Fn(&V) -> Instant) {
    if map.len() < limit {
        return;
    }
    map.retain(|_, value| fetched(value).elapsed() < AuthService::CACHE_TTL);
    while map.len() >= limit {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, value)| fetched(value))
            .map(|(key, _)| key.clone())
        else {
            return;
        };
        map.remove(&oldest);
    }
}

impl AuthService {
    pub const CACHE_TTL: Duration = Duration::from_secs(10);
    /// Known keys kept at once.
    pub const CACHE_LIMIT: usize = 10_000;
    /// Unknown public keys remembered at once (so a flood of them costs bounded memory).
    pub const NEGATIVE_CACHE_LIMIT: usize = 1_000;
    /// The longest public key accepted; Langfuse's are 42 bytes.
    pub const MAX_PUBLIC_KEY_BYTES: usize = 256;

    pub fn new(store: Arc<dyn Store>, server_secret: Arc<ServerSecret>) -> Self {
        AuthService {
            store,
            server_secret,
            cache: Mutex::new(KeyCache::default()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, KeyCache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
                        self.cache().known.remove(&key.public_key);
                    }
                    Err(error) => {
                        tracing::warn!(%error, public_key = %key.public_key, "cannot rehash an api key secret");
                    }
                }
                true
            }
        }
    }

    async fn key(&self, public_key: &str) -> Result<Option<StoredKey>, Error> {
        if public_key.len() > Self::MAX_PUBLIC_KEY_BYTES {
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "Authentication error: public key longer than {} bytes",
                    Self::MAX_PUBLIC_KEY_BYTES
                ),
            ));
        }
        {
            let cache = self.cache();
            if let Some((fetched, key)) = cache.known.get(public_key) {
                if fetched.elapsed() < Self::CACHE_TTL {
                    return Ok(Some(key.clone()));
                }
            }
            if let Some(fetched) = cache.unknown.get(public_key) {
                if fetched.elapsed() < Self::CACHE_TTL {
                    return Ok(None);
                }
            }
        }
        let key = match self.store.get_api_key(public_key).await? {
            Some(key) => Some(StoredKey::Project(key)),
            None => self
                .store
                .get_organization_api_key(public_key)
                .await?
                .map(StoredKey::Organization),
        };
        let mut cache = self.cache();
        let now = Instant::now();
        match &key {
            Some(key) => {
                cache.unknown.remove(public_key);
                if !cache.known.contains_key(public_key) {
                    make_room(&mut cache.known, Self::CACHE_LIMIT, |(fetched, _)| *fetched);
                }
                cache
                    .known
                    .insert(public_key.to_owned(), (now, key.clone()));
            }
            None => {
                cache.known.remove(public_key);
                if !cache.unknown.contains_key(public_key) {
                    make_room(&mut cache.unknown, Self::NEGATIVE_CACHE_LIMIT, |fetched| {
                        *fetched
                    });
                }
                cache.unknown.insert(public_key.to_owned(), now);
            }
        }
        Ok(key)
    }

    /// Entries in the cache, known and unknown keys together (for tests).
    pub fn cached_entries(&self) -> usize {
        let cache = self.cache();
        cache.known.len() + cache.unknown.len()
    }

    /// Forgets cached keys (after a local revocation).
    pub fn invalidate(&self) {
        let mut cache = self.cache();
        cache.known.clear();
        cache.unknown.clear();
    }

    /// Revokes the project key `public_key` and forgets the cached keys, so it stops working
    /// here at once (on other instances within [`Self::CACHE_TTL`]); whether it was live.
    pub async fn revoke_project_key(&self, public_key: &str) -> Result<bool, Error> {
        let revoked = self.store.revoke_api_key(public_key, now_micros()).await?;
        self.invalidate();
        Ok(revoked)
    }

    /// [`Self::revoke_project_key`] for a key of the organization.
    pub async fn revoke_organization_key(
        &self,
        organization_id: &str,
        public_key: &str,
    ) -> Result<bool, Error> {
        let revoked = self
            .store
            .revoke_organization_api_key(organization_id, public_key, now_micros())
            .await?;
        self.invalidate();
        Ok(revoked)
    }

    /// Authenticates the `Authorization` header for a project route: organization keys
    /// are refused (403).
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<ProjectAuth, Error> {
        match self.authenticate_any(headers).await? {
            Principal::Project(auth) => Ok(auth),
            Principal::Organization(_) => Err(organization_key_refused()),
        }
    }

    /// Authenticates the `Authorization` header: a project key (Basic, or Bearer with the
    /// public key alone) or an organization key (Basic only).
    pub async fn authenticate_any(&self, headers: &HeaderMap) -> Result<Principal, Error> {
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
                Some(StoredKey::Project(key))
                    if key.revoked_at.is_none() && self.secret_matches(&key, secret_key).await =>
                {
                    Ok(Principal::Project(ProjectAuth {
                        project_id: key.project_id,
                        public_key: key.public_key,
                        access: Access::Full,
                    }))
                }
                Some(StoredKey::Organization(key))
                    if key.revoked_at.is_none() && key.matches(&self.server_secret, secret_key) =>
                {
                    Ok(Principal::Organization(OrganizationAuth {
                        organization_id: key.organization_id,
                        public_key: key.public_key,
                    }))
                }
                _ => Err(unauthenticated(
                    "Authentication error: invalid public key or secret key",
                )),
            }
        } else if scheme.eq_ignore_ascii_case("bearer") {
            let public_key = credentials.trim();
            let key = self.key(public_key).await?;
            match key {
                Some(StoredKey::Project(key)) if key.revoked_at.is_none() => {
                    Ok(Principal::Project(ProjectAuth {
                        project_id: key.project_id,
                        public_key: key.public_key,
                        access: Access::ScoresOnly,
                    }))
                }
                Some(StoredKey::Organization(_)) => Err(unauthenticated(
                    "Unauthorized: Cannot use organization key with bearer auth",
                )),
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

/// The authenticated organization of a request made with an organization key.
#[derive(Debug, Clone)]
pub struct OrganizationAuth {
    pub organization_id: String,
    pub public_key: String,
}

/// Whose key a request carries.
#[derive(Debug, Clone)]
pub enum Principal {
    Project(ProjectAuth),
    Organization(OrganizationAuth),
}

/// The refusal of a project route to an organization key.
fn organization_key_refused() -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        "Project ID not found for API token. Are you using an organization key?",
    )
}

/// The refusal of an administration route to a project key.
pub fn organization_key_required() -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        "Invalid API key. Organization-scoped API key required for this operation.",
    )
}

impl FromRequestParts<AppState> for OrganizationAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match state.auth.authenticate_any(&parts.headers).await? {
            Principal::Organization(auth) => Ok(auth),
            Principal::Project(_) => Err(organization_key_required().into()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_room_drops_expired_entries_then_the_oldest() {
        let now = Instant::now();
        let expired = now
            .checked_sub(AuthService::CACHE_TTL * 2)
            .expect("an instant in the past");
        let older = now
            .checked_sub(Duration::from_secs(1))
            .expect("an instant in the past");
        let mut map: HashMap<String, Instant> = HashMap::new();
        map.insert("expired".into(), expired);
        map.insert("older".into(), older);
        map.insert("newer".into(), now);
        make_room(&mut map, 3, |at| *at);
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["newer", "older"], "the expired entry goes first");
        make_room(&mut map, 2, |at| *at);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["newer"], "then the oldest");
        make_room(&mut map, 5, |at| *at);
        assert_eq!(map.len(), 1, "nothing goes while there is room");
    }
}
