//! The prompt cache: entries live for a TTL, a stale entry is served at once while one
//! background fetch per key refreshes it (revalidating with the entry's `ETag`, so an unchanged
//! prompt costs a 304), concurrent misses of a key share one fetch, and the number of entries
//! is bounded (the least recently used goes first).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Prompt, PromptError};

/// What a prompt is fetched by, besides its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Selector {
    Version(i64),
    Label(String),
}

/// A cache key: the prompt name and what selects the version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub(crate) name: String,
    pub(crate) selector: Selector,
}

/// What a fetch brought: a prompt (and its `ETag`), or word that the cached one still holds.
#[derive(Debug)]
pub(crate) enum Fetched {
    Prompt {
        prompt: Box<Prompt>,
        etag: Option<String>,
    },
    NotModified,
}

struct Entry {
    prompt: Arc<Prompt>,
    etag: Option<String>,
    expires_at: Instant,
    /// Bumped on every read, for least-recently-used eviction.
    last_used: u64,
}

/// What the cache holds for a key at some instant.
#[derive(Debug)]
pub(crate) enum Lookup {
    Fresh(Arc<Prompt>),
    Stale(Arc<Prompt>),
    Miss,
}

impl Lookup {
    #[cfg(test)]
    fn version(&self) -> Option<(bool, i64)> {
        match self {
            Lookup::Fresh(prompt) => Some((true, prompt.version)),
            Lookup::Stale(prompt) => Some((false, prompt.version)),
            Lookup::Miss => None,
        }
    }
}

#[derive(Default)]
struct State {
    entries: HashMap<CacheKey, Entry>,
    /// Keys with a background refresh under way.
    refreshing: HashSet<CacheKey>,
    /// Keys with a first fetch under way, and the lock that makes later callers wait for it.
    loading: HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>,
    clock: u64,
}

pub(crate) struct PromptCache {
    state: Mutex<State>,
    max_entries: usize,
}

/// Removes a key from the refreshing set when the refresh ends, however it ends.
pub(crate) struct RefreshGuard {
    cache: Arc<PromptCache>,
    key: CacheKey,
}

impl Drop for RefreshGuard {
    fn drop(&mut self) {
        self.cache.lock().refreshing.remove(&self.key);
    }
}

impl PromptCache {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            max_entries: max_entries.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // the state stays consistent between statements, so a panic elsewhere cannot corrupt it
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lookup(&self, key: &CacheKey, now: Instant) -> Lookup {
        let mut state = self.lock();
        state.clock += 1;
        let clock = state.clock;
        match state.entries.get_mut(key) {
            None => Lookup::Miss,
            Some(entry) => {
                entry.last_used = clock;
                if now < entry.expires_at {
                    Lookup::Fresh(entry.prompt.clone())
                } else {
                    Lookup::Stale(entry.prompt.clone())
                }
            }
        }
    }

    pub(crate) fn insert(
        &self,
        key: CacheKey,
        prompt: Arc<Prompt>,
        etag: Option<String>,
        expires_at: Instant,
    ) {
        let mut state = self.lock();
        state.clock += 1;
        let last_used = state.clock;
        if !state.entries.contains_key(&key) && state.entries.len() >= self.max_entries {
            let oldest = state
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                state.entries.remove(&oldest);
            }
        }
        state.entries.insert(
            key,
            Entry {
                prompt,
                etag,
                expires_at,
                last_used,
            },
        );
    }

    /// The entry's `ETag`, for a conditional refresh.
    fn etag(&self, key: &CacheKey) -> Option<String> {
        self.lock()
            .entries
            .get(key)
            .and_then(|entry| entry.etag.clone())
    }

    /// The server confirmed the entry: it is fresh again until `expires_at`.
    fn restamp(&self, key: &CacheKey, expires_at: Instant) {
        if let Some(entry) = self.lock().entries.get_mut(key) {
            entry.expires_at = expires_at;
        }
    }

    /// Stores what a fetch brought: the new prompt, or `None` after a 304 (the entry, if still
    /// there, is re-stamped).
    fn store(&self, key: &CacheKey, fetched: Fetched, expires_at: Instant) -> Option<Arc<Prompt>> {
        match fetched {
            Fetched::Prompt { prompt, etag } => {
                let prompt: Arc<Prompt> = Arc::from(prompt);
                self.insert(key.clone(), prompt.clone(), etag, expires_at);
                Some(prompt)
            }
            Fetched::NotModified => {
                self.restamp(key, expires_at);
                None
            }
        }
    }

    /// Drops every entry of a prompt (after it changed through this client).
    pub(crate) fn invalidate(&self, name: &str) {
        self.lock().entries.retain(|key, _| key.name != name);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Claims the key's background refresh; `None` when one is already under way.
    pub(crate) fn begin_refresh(self: &Arc<Self>, key: &CacheKey) -> Option<RefreshGuard> {
        self.lock()
            .refreshing
            .insert(key.clone())
            .then(|| RefreshGuard {
                cache: self.clone(),
                key: key.clone(),
            })
    }

    fn loading_lock(&self, key: &CacheKey) -> Arc<tokio::sync::Mutex<()>> {
        self.lock().loading.entry(key.clone()).or_default().clone()
    }

    fn end_loading(&self, key: &CacheKey, lock: &Arc<tokio::sync::Mutex<()>>) {
        let mut state = self.lock();
        // the map's copy plus ours: nobody else waits, so the entry can go
        if Arc::strong_count(lock) <= 2 {
            state.loading.remove(key);
        }
    }

    /// The cached prompt, else the fetched one. A stale entry is returned at once and
    /// refreshed in the background (on the current tokio runtime, once per key at a time,
    /// `fetch` given the entry's `ETag`); concurrent misses of one key make one fetch. A failed
    /// fetch caches nothing.
    pub(crate) async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        key: CacheKey,
        ttl: Duration,
        fetch: F,
    ) -> Result<Arc<Prompt>, PromptError>
    where
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Fetched, PromptError>> + Send + 'static,
    {
        match self.lookup(&key, Instant::now()) {
            Lookup::Fresh(prompt) => return Ok(prompt),
            Lookup::Stale(prompt) => {
                self.refresh_in_background(key, ttl, fetch);
                return Ok(prompt);
            }
            Lookup::Miss => {}
        }
        let lock = self.loading_lock(&key);
        let result = {
            let _turn = lock.lock().await;
            match self.lookup(&key, Instant::now()) {
                Lookup::Fresh(prompt) | Lookup::Stale(prompt) => Ok(prompt),
                Lookup::Miss => fetch(None).await.and_then(|fetched| {
                    self.store(&key, fetched, Instant::now() + ttl)
                        .ok_or_else(|| PromptError::InvalidResponse {
                            reason: "304 Not Modified to an unconditional fetch".to_owned(),
                        })
                }),
            }
        };
        self.end_loading(&key, &lock);
        result
    }

    fn refresh_in_background<F, Fut>(self: &Arc<Self>, key: CacheKey, ttl: Duration, fetch: F)
    where
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Fetched, PromptError>> + Send + 'static,
    {
        let Some(guard) = self.begin_refresh(&key) else {
            return;
        };
        let cache = self.clone();
        let etag = self.etag(&key);
        let refresh = async move {
            let _guard = guard;
            match fetch(etag).await {
                Ok(fetched) => {
                    cache.store(&key, fetched, Instant::now() + ttl);
                }
                Err(error) => {
                    tracing::warn!(prompt = %key.name, %error, "prompt refresh failed, the stale prompt stays cached")
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(refresh);
            }
            Err(_) => tracing::debug!("no tokio runtime, stale prompt not refreshed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::PromptTemplate;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(name: &str) -> CacheKey {
        CacheKey {
            name: name.to_owned(),
            selector: Selector::Label("production".to_owned()),
        }
    }

    fn text_prompt(name: &str, version: i64) -> Prompt {
        Prompt::fallback(name, None, PromptTemplate::Text(format!("v{version}")))
            .with_version(version)
    }

    fn version_of(lookup: Lookup) -> Option<(bool, i64)> {
        lookup.version()
    }

    #[test]
    fn entries_are_fresh_until_their_ttl_then_stale() {
        let cache = PromptCache::new(10);
        let start = Instant::now();
        cache.insert(
            key("a"),
            Arc::new(text_prompt("a", 1)),
            None,
            start + Duration::from_secs(60),
        );
        assert_eq!(version_of(cache.lookup(&key("a"), start)), Some((true, 1)));
        assert_eq!(
            version_of(cache.lookup(&key("a"), start + Duration::from_secs(59))),
            Some((true, 1))
        );
        assert_eq!(
            version_of(cache.lookup(&key("a"), start + Duration::from_secs(60))),
            Some((false, 1))
        );
        assert_eq!(version_of(cache.lookup(&key("b"), start)), None);
    }

    #[test]
    fn size_is_bounded_least_recently_used_first() {
        let cache = PromptCache::new(2);
        let later = Instant::now() + Duration::from_secs(60);
        cache.insert(key("a"), Arc::new(text_prompt("a", 1)), None, later);
        cache.insert(key("b"), Arc::new(text_prompt("b", 1)), None, later);
        // reading `a` makes `b` the least recently used
        assert!(version_of(cache.lookup(&key("a"), Instant::now())).is_some());
        cache.insert(key("c"), Arc::new(text_prompt("c", 1)), None, later);
        assert_eq!(cache.len(), 2);
        assert!(version_of(cache.lookup(&key("b"), Instant::now())).is_none());
        assert!(version_of(cache.lookup(&key("a"), Instant::now())).is_some());
        // replacing an existing key evicts nothing
        cache.insert(key("c"), Arc::new(text_prompt("c", 2)), None, later);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn invalidate_drops_every_selector_of_a_name() {
        let cache = PromptCache::new(10);
        let later = Instant::now() + Duration::from_secs(60);
        let by_version = CacheKey {
            name: "a".into(),
            selector: Selector::Version(1),
        };
        cache.insert(key("a"), Arc::new(text_prompt("a", 1)), None, later);
        cache.insert(
            by_version.clone(),
            Arc::new(text_prompt("a", 1)),
            None,
            later,
        );
        cache.insert(key("ab"), Arc::new(text_prompt("ab", 1)), None, later);
        cache.invalidate("a");
        assert_eq!(cache.len(), 1);
        assert!(version_of(cache.lookup(&key("ab"), Instant::now())).is_some());
    }

    #[test]
    fn one_refresh_per_key_at_a_time() {
        let cache = Arc::new(PromptCache::new(10));
        let first = cache.begin_refresh(&key("a"));
        assert!(first.is_some());
        assert!(cache.begin_refresh(&key("a")).is_none());
        assert!(cache.begin_refresh(&key("b")).is_some());
        drop(first);
        assert!(cache.begin_refresh(&key("a")).is_some());
    }

    type FetchFuture = std::pin::Pin<Box<dyn Future<Output = Result<Fetched, PromptError>> + Send>>;

    /// A fetch that counts its calls and answers the given version, or a 304 when given the
    /// ETag `"v{version}"`.
    fn counting_fetch(
        calls: Arc<AtomicUsize>,
        version: i64,
    ) -> impl Fn(Option<String>) -> FetchFuture + Send + Sync + 'static {
        move |etag| {
            let calls = calls.clone();
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                let current = format!("v{version}");
                if etag.as_deref() == Some(current.as_str()) {
                    return Ok(Fetched::NotModified);
                }
                Ok(Fetched::Prompt {
                    prompt: Box::new(text_prompt("a", version)),
                    etag: Some(current),
                })
            })
        }
    }

    async fn wait_for_refresh(cache: &PromptCache, key: &CacheKey) {
        while cache.lock().refreshing.contains(key) {
            tokio::task::yield_now().await;
        }
    }

    /// A fetch that fails as if the server were down.
    async fn failing_fetch(_etag: Option<String>) -> Result<Fetched, PromptError> {
        Err(PromptError::Unreachable {
            reason: "connection refused".into(),
        })
    }

    /// A cache of ten entries, and the count of the fetches it made for prompt `a`.
    struct Fixture {
        cache: Arc<PromptCache>,
        calls: Arc<AtomicUsize>,
    }

    impl Fixture {
        const TTL: Duration = Duration::from_secs(60);

        fn new() -> Self {
            Fixture {
                cache: Arc::new(PromptCache::new(10)),
                calls: Arc::new(AtomicUsize::new(0)),
            }
        }

        /// Holds version 1 of `a` with `etag`, already expired.
        fn insert_expired(&self, etag: Option<String>) {
            let expired = Instant::now() - Duration::from_millis(1);
            self.cache
                .insert(key("a"), Arc::new(text_prompt("a", 1)), etag, expired);
        }

        /// Serves `a` through the cache, with a counted fetch that would answer `version`.
        async fn get(&self, version: i64) -> Result<Arc<Prompt>, PromptError> {
            self.cache
                .get_or_fetch(
                    key("a"),
                    Self::TTL,
                    counting_fetch(self.calls.clone(), version),
                )
                .await
        }

        /// Serves `a` through the cache with a fetch that fails.
        async fn get_failing(&self) -> Result<Arc<Prompt>, PromptError> {
            self.cache
                .get_or_fetch(key("a"), Self::TTL, failing_fetch)
                .await
        }

        /// Waits until no refresh of `a` runs, then gives its entry's freshness and version.
        async fn after_refresh(&self) -> Option<(bool, i64)> {
            wait_for_refresh(&self.cache, &key("a")).await;
            version_of(self.cache.lookup(&key("a"), Instant::now()))
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn unchanged_prompt_is_revalidated_with_its_etag() {
        let fixture = Fixture::new();
        fixture.insert_expired(Some("v1".into()));
        let served = fixture.get(1).await.unwrap();
        assert_eq!(served.version, 1);
        // the 304 made the same entry fresh again
        assert_eq!(fixture.after_refresh().await, Some((true, 1)));
        assert_eq!(fixture.calls(), 1);
    }

    #[tokio::test]
    async fn fresh_hit_does_not_fetch() {
        let fixture = Fixture::new();
        let first = fixture.get(1).await.unwrap();
        let second = fixture.get(2).await.unwrap();
        assert_eq!((first.version, second.version), (1, 1));
        assert_eq!(fixture.calls(), 1);
    }

    #[tokio::test]
    async fn stale_entry_is_served_then_refreshed_once() {
        let fixture = Fixture::new();
        fixture.insert_expired(None);
        // two callers see the stale entry before the refresh runs: one refresh only
        let first = fixture.get(2).await.unwrap();
        let second = fixture.get(2).await.unwrap();
        assert_eq!((first.version, second.version), (1, 1));
        wait_for_refresh(&fixture.cache, &key("a")).await;
        assert_eq!(fixture.calls(), 1);
        let refreshed = fixture.get(3).await.unwrap();
        assert_eq!(refreshed.version, 2);
        assert_eq!(fixture.calls(), 1);
    }

    #[tokio::test]
    async fn failed_refresh_keeps_the_stale_entry() {
        let fixture = Fixture::new();
        fixture.insert_expired(None);
        let served = fixture.get_failing().await.unwrap();
        assert_eq!(served.version, 1);
        assert_eq!(fixture.after_refresh().await, Some((false, 1)));
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch() {
        let fixture = Fixture::new();
        let (first, second, third) = tokio::join!(fixture.get(1), fixture.get(1), fixture.get(1));
        assert_eq!(
            (
                first.unwrap().version,
                second.unwrap().version,
                third.unwrap().version
            ),
            (1, 1, 1)
        );
        assert_eq!(fixture.calls(), 1);
        assert!(fixture.cache.lock().loading.is_empty());
    }

    #[tokio::test]
    async fn failed_miss_caches_nothing() {
        let fixture = Fixture::new();
        let result = fixture.get_failing().await;
        assert!(matches!(result, Err(PromptError::Unreachable { .. })));
        assert_eq!(fixture.cache.len(), 0);
    }
}
