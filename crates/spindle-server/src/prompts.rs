//! Prompt management behind the HTTP layer: every prompt write and read goes through
//! [`PromptService`], which keeps the answers of `GET /api/public/v2/prompts/{name}` (the
//! serialized body and its ETag) in a small bounded cache.
//!
//! The cache is keyed by (project, name, version or label). Every write through this service
//! bumps a generation number after it commits, and an entry only counts while its generation
//! is current, so this instance never serves what it has changed; an answer read while a write
//! was under way is not kept. Writes of other instances (several servers on one PostgreSQL
//! database) cannot bump it, so on a backend that other processes write, entries expire after
//! [`SHARED_TTL`]; alone on SQLite they live for [`LOCAL_TTL`]. Raw reads (`resolve=false`)
//! bypass the cache.

use bytes::Bytes;
use sha2::Digest;
use spindle_core::prompt::{NewPrompt, PromptSelector, PromptVersion};
use spindle_core::Error;
use spindle_store::audit::Actor;
use spindle_store::prompts::{PromptMeta, PromptQuery, Prompts};
use spindle_store::Page;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::dto::prompts::prompt_json;

/// How long a cached answer lives when other processes may change prompts.
pub const SHARED_TTL: Duration = Duration::from_secs(1);
/// How long a cached answer lives when every write goes through this process.
pub const LOCAL_TTL: Duration = Duration::from_secs(300);
/// The most bytes of answers the cache holds; past it, it starts over empty.
const CACHE_BYTES: usize = 32 << 20;
/// Answers larger than this are not cached.
const LARGEST_CACHED: usize = 1 << 20;

/// A prompt answer ready to send: its JSON body and its ETag (quoted).
#[derive(Debug, Clone)]
pub struct ServedPrompt {
    pub body: Bytes,
    pub etag: String,
}

type Key = (String, String, PromptSelector);

struct Entry {
    served: ServedPrompt,
    generation: u64,
    stored_at: Instant,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    bytes: usize,
}

/// Prompt storage with the cache of served answers in front of its reads.
pub struct PromptService {
    store: Arc<dyn Prompts>,
    ttl: Duration,
    generation: AtomicU64,
    entries: RwLock<Entries>,
}

impl PromptService {
    pub fn new(store: Arc<dyn Prompts>) -> Self {
        let ttl = if store.written_by_other_processes() {
            SHARED_TTL
        } else {
            LOCAL_TTL
        };
        PromptService {
            store,
            ttl,
            generation: AtomicU64::new(0),
            entries: RwLock::default(),
        }
    }

    /// The answer for a prompt version (cached unless raw), or `None` when it does not exist.
    pub async fn serve(
        &self,
        project_id: &str,
        name: &str,
        selector: &PromptSelector,
        resolve: bool,
    ) -> Result<Option<ServedPrompt>, Error> {
        let key: Key = (project_id.to_owned(), name.to_owned(), selector.clone());
        if resolve {
            if let Some(served) = self.cached(&key) {
                return Ok(Some(served));
            }
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(resolved) = self
            .store
            .get_prompt(project_id, name, selector, resolve)
            .await?
        else {
            return Ok(None);
        };
        let body = serde_json::to_vec(&prompt_json(&resolved))
            .map_err(|error| Error::internal(format!("prompt answer: {error}")))?;
        let served = ServedPrompt {
            etag: etag_of(&body),
            body: Bytes::from(body),
        };
        if resolve {
            self.keep(key, served.clone(), generation);
        }
        Ok(Some(served))
    }

    fn cached(&self, key: &Key) -> Option<ServedPrompt> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.map.get(key)?;
        let current = entry.generation == self.generation.load(Ordering::Acquire)
            && entry.stored_at.elapsed() < self.ttl;
        current.then(|| entry.served.clone())
    }

    fn keep(&self, key: Key, served: ServedPrompt, generation: u64) {
        let size = served.body.len() + key.1.len() + 64;
        if size > LARGEST_CACHED {
            return;
        }
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Read before a write that has committed since: not kept.
        if generation != self.generation.load(Ordering::Acquire) {
            return;
        }
        if entries.bytes + size > CACHE_BYTES {
            entries.map.clear();
            entries.bytes = 0;
        }
        let entry = Entry {
            served,
            generation,
            stored_at: Instant::now(),
        };
        if let Some(previous) = entries.map.insert(key, entry) {
            entries.bytes = entries
                .bytes
                .saturating_sub(previous.served.body.len() + 64);
        }
        entries.bytes += size;
    }

    /// Called after every write (committed or not): cached answers no longer count.
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.map.clear();
        entries.bytes = 0;
    }

    /// The outcome of a write through [`PromptService::store`], after the cache forgot what
    /// it may change (whether or not it succeeded: a failed write may have committed before
    /// failing). Every write through the store passes its outcome here.
    pub fn written<T>(&self, outcome: T) -> T {
        self.invalidate();
        outcome
    }

    /// The storage behind the cache, for reads that are not served prompts (the web UI's).
    pub fn store(&self) -> &dyn Prompts {
        self.store.as_ref()
    }

    pub async fn create(
        &self,
        project_id: &str,
        prompt: &NewPrompt,
        created_by: &str,
        by: &Actor,
    ) -> Result<PromptVersion, Error> {
        self.written(
            self.store
                .create_prompt(project_id, prompt, created_by, by)
                .await,
        )
    }

    pub async fn add_labels(
        &self,
        project_id: &str,
        name: &str,
        version: i64,
        labels: &[String],
        by: &Actor,
    ) -> Result<Option<PromptVersion>, Error> {
        self.written(
            self.store
                .add_prompt_labels(project_id, name, version, labels, by)
                .await,
        )
    }

    pub async fn delete(
        &self,
        project_id: &str,
        name: &str,
        selector: Option<&PromptSelector>,
        by: &Actor,
    ) -> Result<u64, Error> {
        self.written(
            self.store
                .delete_prompt(project_id, name, selector, by)
                .await,
        )
    }

    pub async fn list(
        &self,
        project_id: &str,
        query: &PromptQuery,
    ) -> Result<Page<PromptMeta>, Error> {
        self.store.list_prompts(project_id, query).await
    }

    /// See [`Prompts::prompt_ids`].
    pub async fn ids(
        &self,
        project_id: &str,
        versions: &[(String, i64)],
    ) -> Result<HashMap<(String, i64), String>, Error> {
        self.store.prompt_ids(project_id, versions).await
    }
}

/// A strong ETag of a body: the first 16 bytes of its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    let digest = sha2::Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-None-Match` header value matches `etag` (weak comparison: `W/` ignored;
/// `*` matches anything).
pub fn matches_if_none_match(header: &str, etag: &str) -> bool {
    let bare = etag.trim_start_matches("W/");
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_in_lists() {
        let etag = etag_of(b"{}");
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34);
        assert!(matches_if_none_match(&etag, &etag));
        assert!(matches_if_none_match(&format!("W/{etag}"), &etag));
        assert!(matches_if_none_match(&format!("\"other\", {etag}"), &etag));
        assert!(matches_if_none_match("*", &etag));
        assert!(!matches_if_none_match("\"other\"", &etag));
        assert_ne!(etag_of(b"{}"), etag_of(b"[]"));
    }
}
