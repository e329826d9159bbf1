//! First start: the organization, project and API key that let a user send data at once,
//! created from `LANGFUSE_INIT_*` (idempotently) or generated when the database is empty.

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

/// Applies the init configuration. Returns keys only when it generated new ones.
pub async fn bootstrap(
    store: &dyn Store,
    server_secret: &ServerSecret,
    init: &InitConfig,
    now: Micros,
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
    if !store.list_projects().await?.is_empty() {
        return Ok(None);
    }
    let organization = Organization {
        id: "default-org".to_owned(),
        name: "Default Organization".to_owned(),
    };
    store.upsert_organization(&organization).await?;
    let project_id = "default".to_owned();
    store
        .upsert_project(&Project {
            id: project_id.clone(),
            name: "Default Project".to_owned(),
            organization,
            retention_days: None,
            created_at: now,
        })
        .await?;
    let public_key = format!("pk-lf-{}", uuid::Uuid::new_v4());
    let secret_key = format!("sk-lf-{}", uuid::Uuid::new_v4());
    insert_key(
        store,
        server_secret,
        &project_id,
        &public_key,
        &secret_key,
        now,
    )
    .await?;
    Ok(Some(GeneratedKeys {
        project_id,
        public_key,
        secret_key,
    }))
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
    let key = ApiKey {
        public_key: public_key.to_owned(),
        secret_hash: ApiKey::hash_secret(server_secret, public_key, secret_key),
        secret_hint: secret_key
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
        project_id: project_id.to_owned(),
        note: None,
        created_at: now,
        revoked_at: None,
    };
    store.insert_api_key(&key).await?;
    Ok(())
}
