//! Storage for Spindle: the [`Store`] and [`Accounts`](accounts::Accounts) traits every
//! backend implements, the query types the read API speaks in, the SQL layer both backends
//! share (statements, row codecs, filters), and the conformance suites. The backends are
//! their own crates: `spindle-store-sqlite` and `spindle-store-postgres`.
//!
//! A backend commits a [`WriteBatch`] before `write` returns `Ok`: a 2xx answer from the server
//! means the data is durable. Writes merge with what is stored using the core merge rules, so
//! the result does not depend on arrival order.

pub mod accounts;
pub mod accounts_sql;
pub mod audit;
pub mod audit_sql;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod datasets;
pub mod datasets_sql;
pub mod derived;
pub mod drivers;
pub mod executor;
pub mod experiments;
pub mod metadata_rollups;
pub mod metrics;
pub mod models_sql;
pub mod organizations;
pub mod organizations_sql;
pub mod people;
pub mod people_sql;
pub mod prompts;
pub mod prompts_sql;
pub mod query;
pub mod reading;
pub mod retention;
pub mod reviews;
pub mod reviews_sql;
pub mod rollups;
pub mod rollups_sql;
pub mod run_metrics;
pub mod score_configs;
pub mod score_configs_sql;
pub mod search;
pub mod secret;
pub mod sql;
pub mod stamps;
pub mod statements;
pub mod suggestions;
pub mod trace_index;
pub mod trace_totals;
pub mod writing;

pub use query::*;
pub use spindle_core::record::DerivedCost;
pub use spindle_core::{Error, ErrorKind, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch};
pub use spindle_cost::{CustomCondition, CustomModel, CustomTier};

use async_trait::async_trait;
use organizations::{OrganizationApiKey, ProjectDetails, ProjectUpdate};
use secret::{constant_time_eq, ServerSecret};
use spindle_core::time::Micros;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Now, in microseconds since the epoch.
pub(crate) use spindle_core::time::now_micros;

/// A fresh id: a random (version 4) UUID.
pub(crate) fn new_uuid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An organization owns projects.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: String,
    pub name: String,
}

/// A project: the unit that API keys grant access to and that every datum belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub organization: Organization,
    /// Days after which data is deleted; `None` keeps everything.
    pub retention_days: Option<u32>,
    pub created_at: Micros,
}

/// An API key pair. Only a hash of the secret key is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub public_key: String,
    /// `hmac-sha256:<hex>` of the public and secret key under the server secret (the
    /// pepper, [`ApiKey::hash_secret`]); keys stored before the pepper have
    /// `sha256:<hex>`, salted with the public key only, until their next successful use.
    pub secret_hash: String,
    /// The last four characters of the secret key, to help people tell keys apart.
    pub secret_hint: String,
    pub project_id: String,
    pub note: Option<String>,
    pub created_at: Micros,
    pub revoked_at: Option<Micros>,
}

/// What a listing shows of a key of either kind (never its secret).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeySummary<'a> {
    pub public_key: &'a str,
    pub secret_hint: &'a str,
    pub note: Option<&'a str>,
    pub created_at: Micros,
    pub revoked_at: Option<Micros>,
}

impl ApiKey {
    pub fn summary(&self) -> KeySummary<'_> {
        KeySummary {
            public_key: &self.public_key,
            secret_hint: &self.secret_hint,
            note: self.note.as_deref(),
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }
    }
}

/// What checking a secret key against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    /// Not this key's secret.
    Wrong,
    /// The secret, under the peppered hash.
    Matches,
    /// The secret, under an unpeppered hash of before the pepper: store
    /// [`ApiKey::hash_secret`] in its place.
    MatchesUnpeppered,
}

impl ApiKey {
    /// The prefix of peppered hashes.
    const PEPPERED: &'static str = "hmac-sha256:";
    /// The prefix of the hashes of before the pepper.
    const UNPEPPERED: &'static str = "sha256:";

    /// Hashes a secret key for storage: HMAC-SHA256 of the public and secret key under the
    /// server secret, so a leaked table of hashes alone does not let anyone test guesses.
    pub fn hash_secret(server_secret: &ServerSecret, public_key: &str, secret_key: &str) -> String {
        let mac = server_secret.mac(
            "api-key-secret",
            &[public_key.as_bytes(), secret_key.as_bytes()],
        );
        format!("{}{}", Self::PEPPERED, hex::encode(mac))
    }

    /// The hash keys were stored under before the pepper: SHA-256 salted with the public key.
    pub fn unpeppered_hash(public_key: &str, secret_key: &str) -> String {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(public_key.as_bytes());
        hasher.update([0u8]);
        hasher.update(secret_key.as_bytes());
        format!("{}{}", Self::UNPEPPERED, hex::encode(hasher.finalize()))
    }

    /// Whether `secret_key` is this key's secret, and whether its hash is of before the
    /// pepper. The comparison takes the same time wherever the hashes differ.
    pub fn check(&self, server_secret: &ServerSecret, secret_key: &str) -> SecretCheck {
        check_secret(
            server_secret,
            &self.public_key,
            &self.secret_hash,
            secret_key,
        )
    }
}

/// Whether `secret_key` is the secret stored as `secret_hash` for `public_key` (peppered,
/// or of before the pepper), in the same time wherever the hashes differ.
pub fn check_secret(
    server_secret: &ServerSecret,
    public_key: &str,
    secret_hash: &str,
    secret_key: &str,
) -> SecretCheck {
    let (expected, found) = if secret_hash.starts_with(ApiKey::UNPEPPERED) {
        (
            ApiKey::unpeppered_hash(public_key, secret_key),
            SecretCheck::MatchesUnpeppered,
        )
    } else {
        (
            ApiKey::hash_secret(server_secret, public_key, secret_key),
            SecretCheck::Matches,
        )
    };
    if constant_time_eq(expected.as_bytes(), secret_hash.as_bytes()) {
        found
    } else {
        SecretCheck::Wrong
    }
}

/// A media blob's metadata; the bytes live in the backend's blob area.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRecord {
    /// base64url of the SHA-256 of the content, first 22 characters.
    pub id: String,
    pub project_id: String,
    pub sha256_hash: String,
    pub content_type: String,
    pub content_length: i64,
    pub trace_id: Option<String>,
    pub observation_id: Option<String>,
    pub field: Option<String>,
    pub uploaded_at: Option<Micros>,
    pub upload_http_status: Option<i64>,
    pub created_at: Micros,
}

/// Organizations, projects, API keys (of projects and of organizations) and custom models: the parts of the storage interface
/// whose statements are written once (`accounts_sql`, `models_sql`), implemented once for
/// every [`Executor`](executor::Executor). A [`Store`] is always a `Catalog`.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    // --- organizations, projects, keys ---
    async fn upsert_organization(&self, organization: &Organization) -> Result<()>;
    /// Creates a project; an existing project with the same id is left as it is.
    async fn upsert_project(&self, project: &Project) -> Result<()>;
    async fn get_project(&self, project_id: &str) -> Result<Option<Project>>;
    async fn list_projects(&self) -> Result<Vec<Project>>;
    /// Creates a key; fails with `InvalidArgument` when the public key exists for another
    /// project, and is a no-op when the same key exists already.
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    /// Creates the project (and its organization) unless it exists, and the key, in one
    /// transaction, so a crash never leaves a new project without its key.
    async fn create_project_with_key(&self, project: &Project, key: &ApiKey) -> Result<()>;
    async fn get_api_key(&self, public_key: &str) -> Result<Option<ApiKey>>;
    async fn list_api_keys(&self, project_id: Option<&str>) -> Result<Vec<ApiKey>>;
    /// Marks a key revoked; returns whether a live key was revoked.
    async fn revoke_api_key(&self, public_key: &str, at: Micros) -> Result<bool>;
    /// Stores `new_hash` as the key's secret hash if it still is `old_hash` (rehashing a
    /// secret under the pepper on its next use); returns whether it did.
    async fn replace_api_key_hash(
        &self,
        public_key: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool>;

    // --- organizations' administration (`organizations.rs`) ---
    async fn get_organization(&self, organization_id: &str) -> Result<Option<Organization>>;
    async fn list_organizations(&self) -> Result<Vec<Organization>>;
    /// The organization's live projects, oldest first.
    async fn organization_projects(&self, organization_id: &str) -> Result<Vec<ProjectDetails>>;
    /// A live project of the organization.
    async fn get_organization_project(
        &self,
        organization_id: &str,
        project_id: &str,
    ) -> Result<Option<ProjectDetails>>;
    /// Creates a project in its organization; `Conflict` when a live project of the
    /// organization has the name already.
    async fn create_project(&self, project: &Project, metadata: Option<&str>) -> Result<()>;
    /// Changes a live project; `None` when there is none with that id. `Conflict` when
    /// another live project of the organization has the new name.
    async fn update_project(
        &self,
        project_id: &str,
        update: &ProjectUpdate,
        at: Micros,
    ) -> Result<Option<ProjectDetails>>;
    /// Marks a live project deleted and deletes its API keys, in one transaction; its data
    /// is left to [`Catalog::purge_project_batch`]. Whether a live project was deleted.
    async fn mark_project_deleted(&self, project_id: &str, at: Micros) -> Result<bool>;
    /// Deleted projects whose data is not all gone yet.
    async fn projects_to_purge(&self) -> Result<Vec<String>>;
    /// Deletes up to `batch_rows` rows of each of a deleted project's big tables; when
    /// none is left, the rest of its rows in one go, and marks it purged. Returns how many
    /// rows went (0: the project is purged, or is not deleted).
    async fn purge_project_batch(&self, project_id: &str, batch_rows: u32) -> Result<u64>;
    /// Stores an organization key; `InvalidArgument` when the public key is taken (by any
    /// key) or the organization is unknown.
    async fn insert_organization_api_key(&self, key: &OrganizationApiKey) -> Result<()>;
    async fn get_organization_api_key(
        &self,
        public_key: &str,
    ) -> Result<Option<OrganizationApiKey>>;
    /// The organization's keys, revoked ones included, oldest first.
    async fn list_organization_api_keys(
        &self,
        organization_id: &str,
    ) -> Result<Vec<OrganizationApiKey>>;
    /// Revokes a live key of the organization; whether one was revoked.
    async fn revoke_organization_api_key(
        &self,
        organization_id: &str,
        public_key: &str,
        at: Micros,
    ) -> Result<bool>;

    // --- custom models and prices ---
    /// The project's custom models, oldest first.
    async fn list_models(&self, project_id: &str) -> Result<Vec<CustomModel>>;
    /// Stores a custom model, replacing the project's model with the same id; it prices
    /// observations written from now on.
    async fn put_model(&self, model: &CustomModel) -> Result<()>;
    /// Deletes a custom model; `false` when there was none with that id.
    async fn delete_model(&self, project_id: &str, model_id: &str) -> Result<bool>;
    /// Whether the built-in price table applies to the project (by default it does).
    async fn builtin_prices(&self, project_id: &str) -> Result<bool>;
    async fn set_builtin_prices(&self, project_id: &str, enabled: bool) -> Result<()>;

    // --- rolled-up metadata keys ---
    /// The project's rolled-up metadata keys ([`metadata_rollups`]), oldest first.
    async fn rolled_metadata_keys(
        &self,
        project_id: &str,
    ) -> Result<Vec<metadata_rollups::RolledKey>>;
    /// Makes `keys` (checked) the project's rolled-up metadata keys, starting a sweep of its
    /// traces when the list changed; returns the list as stored.
    async fn set_rolled_metadata_keys(
        &self,
        project_id: &str,
        keys: &[String],
        now: Micros,
    ) -> Result<Vec<metadata_rollups::RolledKey>>;
    /// The projects with a sweep of their rolled-up metadata to run.
    async fn metadata_sweeps(&self) -> Result<Vec<String>>;
}

#[async_trait]
impl<E: executor::Executor> Catalog for E {
    async fn upsert_organization(&self, organization: &Organization) -> Result<()> {
        accounts_sql::upsert_organization(self, organization).await
    }

    async fn upsert_project(&self, project: &Project) -> Result<()> {
        accounts_sql::upsert_project(self, project).await
    }

    async fn get_project(&self, project_id: &str) -> Result<Option<Project>> {
        accounts_sql::get_project(self, project_id).await
    }

    async fn list_projects(&self) -> Result<Vec<Project>> {
        accounts_sql::list_projects(self).await
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        accounts_sql::insert_api_key(self, key).await
    }

    async fn create_project_with_key(&self, project: &Project, key: &ApiKey) -> Result<()> {
        accounts_sql::create_project_with_key(self, project, key).await
    }

    async fn get_api_key(&self, public_key: &str) -> Result<Option<ApiKey>> {
        accounts_sql::get_api_key(self, public_key).await
    }

    async fn list_api_keys(&self, project_id: Option<&str>) -> Result<Vec<ApiKey>> {
        accounts_sql::list_api_keys(self, project_id).await
    }

    async fn revoke_api_key(&self, public_key: &str, at: Micros) -> Result<bool> {
        accounts_sql::revoke_api_key(self, public_key, at).await
    }

    async fn replace_api_key_hash(
        &self,
        public_key: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool> {
        accounts_sql::replace_api_key_hash(self, public_key, old_hash, new_hash).await
    }

    async fn get_organization(&self, organization_id: &str) -> Result<Option<Organization>> {
        organizations_sql::get_organization(self, organization_id).await
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>> {
        organizations_sql::list_organizations(self).await
    }

    async fn organization_projects(&self, organization_id: &str) -> Result<Vec<ProjectDetails>> {
        organizations_sql::organization_projects(self, organization_id, None).await
    }

    async fn get_organization_project(
        &self,
        organization_id: &str,
        project_id: &str,
    ) -> Result<Option<ProjectDetails>> {
        let projects =
            organizations_sql::organization_projects(self, organization_id, Some(project_id))
                .await?;
        Ok(projects.into_iter().next())
    }

    async fn create_project(&self, project: &Project, metadata: Option<&str>) -> Result<()> {
        organizations_sql::create_project(self, project, metadata).await
    }

    async fn update_project(
        &self,
        project_id: &str,
        update: &ProjectUpdate,
        at: Micros,
    ) -> Result<Option<ProjectDetails>> {
        organizations_sql::update_project(self, project_id, update, at).await
    }

    async fn mark_project_deleted(&self, project_id: &str, at: Micros) -> Result<bool> {
        organizations_sql::mark_project_deleted(self, project_id, at).await
    }

    async fn projects_to_purge(&self) -> Result<Vec<String>> {
        organizations_sql::projects_to_purge(self).await
    }

    async fn purge_project_batch(&self, project_id: &str, batch_rows: u32) -> Result<u64> {
        organizations_sql::purge_project_batch(self, project_id, batch_rows).await
    }

    async fn insert_organization_api_key(&self, key: &OrganizationApiKey) -> Result<()> {
        organizations_sql::insert_organization_api_key(self, key).await
    }

    async fn get_organization_api_key(
        &self,
        public_key: &str,
    ) -> Result<Option<OrganizationApiKey>> {
        organizations_sql::get_organization_api_key(self, public_key).await
    }

    async fn list_organization_api_keys(
        &self,
        organization_id: &str,
    ) -> Result<Vec<OrganizationApiKey>> {
        organizations_sql::list_organization_api_keys(self, organization_id).await
    }

    async fn revoke_organization_api_key(
        &self,
        organization_id: &str,
        public_key: &str,
        at: Micros,
    ) -> Result<bool> {
        organizations_sql::revoke_organization_api_key(self, organization_id, public_key, at).await
    }

    async fn list_models(&self, project_id: &str) -> Result<Vec<CustomModel>> {
        models_sql::list(self, project_id).await
    }

    async fn put_model(&self, model: &CustomModel) -> Result<()> {
        models_sql::put(self, model).await
    }

    async fn delete_model(&self, project_id: &str, model_id: &str) -> Result<bool> {
        models_sql::delete(self, project_id, model_id).await
    }

    async fn builtin_prices(&self, project_id: &str) -> Result<bool> {
        models_sql::builtin_enabled(self, project_id).await
    }

    async fn set_builtin_prices(&self, project_id: &str, enabled: bool) -> Result<()> {
        models_sql::set_builtin(self, project_id, enabled).await
    }

    async fn rolled_metadata_keys(
        &self,
        project_id: &str,
    ) -> Result<Vec<metadata_rollups::RolledKey>> {
        metadata_rollups::list(self, project_id).await
    }

    async fn set_rolled_metadata_keys(
        &self,
        project_id: &str,
        keys: &[String],
        now: Micros,
    ) -> Result<Vec<metadata_rollups::RolledKey>> {
        let keys = metadata_rollups::checked_keys(keys)?;
        metadata_rollups::replace(self, project_id, &keys, now).await
    }

    async fn metadata_sweeps(&self) -> Result<Vec<String>> {
        metadata_rollups::swept_projects(self).await
    }
}

/// The storage interface. Every method is scoped to a project where data is concerned:
/// one project's calls never see another project's rows.
#[async_trait]
pub trait Store: Catalog {
    // --- writes ---
    /// Merges the batch into the project's data and commits it before returning `Ok`.
    /// Fails with `Overloaded` (without writing) when the write path is saturated.
    async fn write(&self, project_id: &str, batch: WriteBatch) -> Result<()>;
    /// Deletes traces with their observations and scores; returns how many traces existed.
    async fn delete_traces(&self, project_id: &str, trace_ids: &[String]) -> Result<u64>;
    async fn delete_score(&self, project_id: &str, score_id: &str) -> Result<bool>;

    // --- rollups ---
    /// The project's rollup rows as the writers keep them (see [`rollups`]).
    async fn stored_rollups(&self, project_id: &str) -> Result<rollups::Rollups>;
    /// The project's rollups worked out afresh from its raw rows: what
    /// [`Store::stored_rollups`] must equal after every committed change.
    async fn recomputed_rollups(&self, project_id: &str) -> Result<rollups::Rollups>;
    /// Deletes at most `max_traces` of the project's oldest traces whose timestamp is before
    /// `cutoff`, with their observations and scores; returns how many traces went. Retention
    /// calls it repeatedly, so each call should hold locks only briefly. The default lists
    /// and deletes through the methods above; backends may override it with one statement.
    async fn delete_older_than(
        &self,
        project_id: &str,
        cutoff: Micros,
        max_traces: u32,
    ) -> Result<u64> {
        let page = self
            .list_traces(
                project_id,
                &TraceQuery {
                    limit: max_traces.max(1),
                    to_timestamp: Some(cutoff),
                    order_by: Some(OrderBy {
                        column: "timestamp".to_owned(),
                        direction: Direction::Asc,
                    }),
                    ..TraceQuery::default()
                },
            )
            .await?;
        if page.items.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = page.items.into_iter().map(|view| view.record.id).collect();
        self.delete_traces(project_id, &ids).await
    }

    /// Runs one step of the project's sweep of its rolled-up metadata (at most `max_traces`
    /// totals rows recomputed, in one transaction): `Some(n)` when it swept `n` traces and
    /// may have more, `None` when no sweep is running or this step ended it (its keys are
    /// then ready).
    async fn sweep_metadata_rollups(
        &self,
        project_id: &str,
        max_traces: u32,
    ) -> Result<Option<usize>>;

    // --- costs ---
    /// Works out the derived usage and cost again, with the prices of now, for the project's
    /// observations that have a model and start in `[from, to)`, a chunk per transaction.
    /// Returns how many observations changed.
    async fn recompute_costs(
        &self,
        project_id: &str,
        from: Option<Micros>,
        to: Option<Micros>,
    ) -> Result<u64>;

    // --- reads ---
    async fn list_traces(&self, project_id: &str, query: &TraceQuery) -> Result<Page<TraceView>>;
    async fn get_trace(&self, project_id: &str, trace_id: &str) -> Result<Option<TraceView>>;
    /// Like [`Store::get_trace`], but the observations come without their payloads (input and
    /// output `None`, metadata empty), which are not even read: the tree of a trace page.
    async fn get_trace_tree(&self, project_id: &str, trace_id: &str) -> Result<Option<TraceView>>;
    async fn list_observations(
        &self,
        project_id: &str,
        query: &ObservationQuery,
    ) -> Result<Page<ObservationView>>;
    async fn get_observation(
        &self,
        project_id: &str,
        observation_id: &str,
    ) -> Result<Option<ObservationView>>;
    async fn list_scores(&self, project_id: &str, query: &ScoreQuery) -> Result<Page<ScoreView>>;
    async fn get_score(&self, project_id: &str, score_id: &str) -> Result<Option<ScoreView>>;
    async fn list_sessions(
        &self,
        project_id: &str,
        query: &SessionQuery,
    ) -> Result<Page<SessionView>>;
    async fn get_session(&self, project_id: &str, session_id: &str) -> Result<Option<SessionView>>;
    /// Daily metrics (`GET /api/public/metrics/daily`): from the rollups when they answer
    /// the query, else from the raw rows.
    async fn daily_metrics(
        &self,
        project_id: &str,
        query: &MetricsQuery,
    ) -> Result<Page<DailyMetrics>> {
        self.daily_metrics_from(project_id, query, metrics::Sources::Any)
            .await?
            .ok_or_else(|| Error::internal("the raw rows declined a daily metrics query"))
    }
    /// Daily metrics from `sources` only; `None` when they decline the query.
    async fn daily_metrics_from(
        &self,
        project_id: &str,
        query: &MetricsQuery,
        sources: metrics::Sources,
    ) -> Result<Option<Page<DailyMetrics>>>;
    /// Answers a query of the metrics API (see [`metrics`]): from the rollups when they
    /// cover it, else from the raw rows.
    async fn query_metrics(
        &self,
        project_id: &str,
        request: &metrics::MetricsRequest,
    ) -> Result<Vec<metrics::MetricsRow>> {
        self.query_metrics_from(project_id, request, metrics::Sources::Any)
            .await?
            .ok_or_else(|| Error::internal("the raw rows declined a metrics plan"))
    }
    /// Answers a query of the metrics API from `sources` only; `None` when they decline it.
    async fn query_metrics_from(
        &self,
        project_id: &str,
        request: &metrics::MetricsRequest,
        sources: metrics::Sources,
    ) -> Result<Option<Vec<metrics::MetricsRow>>>;

    // --- media ---
    /// Records media metadata; returns the stored record (existing one if already known).
    async fn upsert_media(&self, media: &MediaRecord) -> Result<MediaRecord>;
    async fn get_media(&self, project_id: &str, media_id: &str) -> Result<Option<MediaRecord>>;
    /// Stores the bytes of a media object and marks it uploaded.
    async fn put_media_bytes(
        &self,
        project_id: &str,
        media_id: &str,
        bytes: Vec<u8>,
        at: Micros,
    ) -> Result<()>;
    async fn get_media_bytes(&self, project_id: &str, media_id: &str) -> Result<Option<Vec<u8>>>;
    async fn mark_media_uploaded(
        &self,
        project_id: &str,
        media_id: &str,
        at: Micros,
        http_status: Option<i64>,
    ) -> Result<bool>;

    // --- operations ---
    /// Whether the backend can serve requests (for the readiness probe).
    async fn ready(&self) -> Result<()>;
    /// Number of write batches waiting to be committed.
    fn write_queue_depth(&self) -> usize;
    /// Stops accepting writes, commits what is queued and closes.
    async fn shutdown(&self) -> Result<()>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_version_4_uuids() {
        let id = super::new_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
