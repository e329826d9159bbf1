//! First start: the organization, project and API key that let a user send data at once,
//! created from `LANGFUSE_INIT_*` (idempotently) or generated when the database is empty,
//! crash-safely (shown before they are stored, stored in one transaction).

use crate::config::InitConfig;
use spindle_core::time::Micros;
use spindle_store::secret::ServerSecret;
use spindle_store::{ApiKey, Organization, Project, Store};

/// A key pair generated on first start; the secret is shown once and only its hash is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedKeys {
    pub project_id: String,
    pub public_key: String,
    pub secret_key: String,
}

/// The project a first start creates.
pub const DEFAULT_PROJECT: &str = "default";

/// Applies the init configuration. Without `LANGFUSE_INIT_PROJECT_ID`, a first start (no
/// project yet), or a start that finds the default project without any key (a first start
/// killed before it stored one, by earlier versions), generates a key pair, shows it with
/// `announce`, and only then stores the project and the key in one transaction. Killed at
/// any point, a start leaves either nothing new (the next start generates and shows another
/// key) or a project with a key whose secret was shown. Returns the keys it generated.
pub async fn bootstrap(
    store: &dyn Store,
    server_secret: &ServerSecret,
    init: &InitConfig,
    now: Micros,
    announce: &mut (dyn FnMut(&GeneratedKeys) -> anyhow::Result<()> + Send),
) -> anyhow::Result<Option<GeneratedKeys>> {
    if let Some(project_id) = &init.project_id {
        let organization = Organization {
            id: init
                .org_id
                .clone()
                .unwrap_or_else(|| "default-org".to_owned()),
            name: init
                .org_name
                .clone()
                .unwrap_or_else(|| "Default Organization".to_owned()),
        };
        store.upsert_organization(&organization).await?;
        // Applied on every start, so a start killed half-way is completed by the next.
        store
            .upsert_project(&Project {
                id: project_id.clone(),
                name: init
                    .project_name
                    .clone()
                    .unwrap_or_else(|| project_id.clone()),
                organization,
                retention_days: None,
                created_at: now,
            })
            .await?;
        if let (Some(public_key), Some(secret_key)) = (&init.public_key, &init.secret_key) {
            insert_key(
                store,
                server_secret,
                project_id,
                public_key,
                secret_key,
                now,
            )
            .await?;
        }
        return Ok(None);
    }
    let projects = store.list_projects().await?;
    let needs_key = if projects.is_empty() {
        true
    } else {
        projects.iter().any(|project| project.id == DEFAULT_PROJECT)
            && store.list_api_keys(Some(DEFAULT_PROJECT)).await?.is_empty()
    };
    if !needs_key {
        return Ok(None);
    }
    let project = Project {
        id: DEFAULT_PROJECT.to_owned(),
        name: "Default Project".to_owned(),
        organization: Organization {
            id: "default-org".to_owned(),
            name: "Default Organization".to_owned(),
        },
        retention_days: None,
        created_at: now,
    };
    let keys = GeneratedKeys {
        project_id: project.id.clone(),
        public_key: format!("pk-lf-{}", uuid::Uuid::new_v4()),
        secret_key: format!("sk-lf-{}", uuid::Uuid::new_v4()),
    };
    crash_point("before-announce");
    announce(&keys)?;
    crash_point("after-announce");
    let key = api_key(
        server_secret,
        &project.id,
        &keys.public_key,
        &keys.secret_key,
        now,
    );
    store.create_project_with_key(&project, &key).await?;
    crash_point("after-commit");
    Ok(Some(keys))
}

/// Debug builds only: aborts the process at the named step of the first start when
/// `SPINDLE_TEST_CRASH_AT` names it, so tests can kill a start exactly there.
fn crash_point(step: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("SPINDLE_TEST_CRASH_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = step;
}

/// A key pair as stored: the secret hashed under the server secret, and its last four
/// characters as a hint.
pub fn api_key(
    server_secret: &ServerSecret,
    project_id: &str,
    public_key: &str,
    secret_key: &str,
    now: Micros,
) -> ApiKey {
    ApiKey {
        public_key: public_key.to_owned(),
        secret_hash: ApiKey::hash_secret(server_secret, public_key, secret_key),
        secret_hint: secret_hint(secret_key),
        project_id: project_id.to_owned(),
        note: None,
        created_at: now,
        revoked_at: None,
    }
}

/// The last four characters of a secret key, kept to tell keys apart.
pub fn secret_hint(secret_key: &str) -> String {
    let chars: Vec<char> = secret_key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// An organization key pair as stored, hashed like a project key.
pub fn organization_api_key(
    server_secret: &ServerSecret,
    organization_id: &str,
    public_key: &str,
    secret_key: &str,
    note: Option<String>,
    now: Micros,
) -> spindle_store::organizations::OrganizationApiKey {
    spindle_store::organizations::OrganizationApiKey {
        public_key: public_key.to_owned(),
        organization_id: organization_id.to_owned(),
        secret_hash: ApiKey::hash_secret(server_secret, public_key, secret_key),
        secret_hint: secret_hint(secret_key),
        note,
        created_at: now,
        revoked_at: None,
    }
}

/// A fresh key pair in Langfuse's format: `pk-lf-…` and `sk-lf-…`.
pub fn fresh_key_pair() -> (String, String) {
    (
        format!("pk-lf-{}", uuid::Uuid::new_v4()),
        format!("sk-lf-{}", uuid::Uuid::new_v4()),
    )
}

/// Stores a key pair (hashing the secret, peppered with the server secret).
pub async fn insert_key(
    store: &dyn Store,
    server_secret: &ServerSecret,
    project_id: &str,
    public_key: &str,
    secret_key: &str,
    now: Micros,
) -> anyhow::Result<()> {
    let key = api_key(server_secret, project_id, public_key, secret_key, now);
    store.insert_api_key(&key).await?;
    Ok(())
}
