//! The first UI account: the admin from `LANGFUSE_INIT_USER_EMAIL` /
//! `LANGFUSE_INIT_USER_PASSWORD` (applied on every start), or, when no user exists and those
//! are unset, an admin without a password and a one-time sign-in link to print; while no user
//! has a password, every start prints a new link for that admin (so a start killed between
//! the two writes leaves nobody locked out).

use anyhow::Context;
use spindle_core::time::Micros;
use spindle_store::accounts::{
    hash_password, new_token, token_hash, verify_password, Accounts, OrganizationMembership, Role,
    User,
};
use std::collections::BTreeMap;

/// How long the first-start sign-in link stays valid: 24 hours.
pub const FIRST_LINK_SECONDS: i64 = 24 * 3600;

/// What the bootstrap did, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// Users exist (or the configured admin is up to date): nothing to say.
    Nothing,
    /// The configured admin was created or its password updated.
    Configured { email: String },
    /// No user could sign in with a password: open this path once to sign in as the admin
    /// and set a password.
    Link { path: String },
}

/// Applies the admin configuration from `env`.
pub async fn bootstrap_admin(
    accounts: &dyn Accounts,
    env: &BTreeMap<String, String>,
    now: Micros,
) -> anyhow::Result<AdminBootstrap> {
    let value = |key: &str| {
        env.get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let email = value("LANGFUSE_INIT_USER_EMAIL");
    let password = env
        .get("LANGFUSE_INIT_USER_PASSWORD")
        .filter(|v| !v.is_empty())
        .cloned();
    match (email, password) {
        (Some(email), Some(password)) => {
            if password.chars().count() < super::session::MIN_PASSWORD_CHARS {
                anyhow::bail!(
                    "LANGFUSE_INIT_USER_PASSWORD: must have at least {} characters",
                    super::session::MIN_PASSWORD_CHARS
                );
            }
            let existing = accounts.get_user_by_email(&email).await?;
            if let Some(user) = existing {
                let current = user
                    .password_hash
                    .as_deref()
                    .is_some_and(|hash| verify_password(hash, &password));
                if current {
                    return Ok(AdminBootstrap::Nothing);
                }
                accounts
                    .set_password_hash(&user.id, &hash_password(&password)?)
                    .await?;
                // A new password ends the sessions signed in with the old one.
                accounts.delete_other_sessions(&user.id, "").await?;
                return Ok(AdminBootstrap::Configured { email });
            }
            let created = accounts
                .create_user(&User {
                    id: uuid::Uuid::new_v4().to_string(),
                    email: email.clone(),
                    name: value("LANGFUSE_INIT_USER_NAME"),
                    password_hash: Some(hash_password(&password)?),
                    is_admin: true,
                    created_at: now,
                })
                .await;
            if let Err(error) = created {
                // Another instance sharing the database created it at the same moment.
                if accounts.get_user_by_email(&email).await?.is_some() {
                    return Ok(AdminBootstrap::Nothing);
                }
                return Err(error).context("creating the admin user");
            }
            Ok(AdminBootstrap::Configured { email })
        }
        (Some(_), None) => {
            anyhow::bail!("LANGFUSE_INIT_USER_PASSWORD: required with LANGFUSE_INIT_USER_EMAIL")
        }
        (None, Some(_)) => {
            anyhow::bail!("LANGFUSE_INIT_USER_EMAIL: required with LANGFUSE_INIT_USER_PASSWORD")
        }
        (None, None) => {
            let users = accounts.list_users().await?;
            if users.iter().any(|user| user.password_hash.is_some()) {
                return Ok(AdminBootstrap::Nothing);
            }
            // Nobody can sign in with a password yet. An admin without one (made by a start
            // killed before it stored the link, or whose link was never used) gets a new link
            // on every start until someone sets a password.
            let user = match users.into_iter().find(|user| user.is_admin) {
                Some(admin) => admin,
                None => {
                    let user = User {
                        id: uuid::Uuid::new_v4().to_string(),
                        email: "admin@localhost".to_owned(),
                        name: Some("Admin".to_owned()),
                        password_hash: None,
                        is_admin: true,
                        created_at: now,
                    };
                    if let Err(error) = accounts.create_user(&user).await {
                        // Another instance sharing the database created the first user
                        // meanwhile.
                        if !accounts.list_users().await?.is_empty() {
                            return Ok(AdminBootstrap::Nothing);
                        }
                        return Err(error.into());
                    }
                    user
                }
            };
            let token = new_token();
            accounts
                .create_sign_in_link(
                    &token_hash(&token),
                    &user.id,
                    now + FIRST_LINK_SECONDS * 1_000_000,
                )
                .await?;
            Ok(AdminBootstrap::Link {
                path: format!("/api/ui/auth/link?token={token}"),
            })
        }
    }
}

/// Makes the admin users owners of every organization that has no owner (the first
/// organization of `LANGFUSE_INIT_ORG_ID`, or one made by `spindle organizations create`), so
/// each organization has someone who manages it.
pub async fn ensure_owners(
    store: &dyn spindle_store::Store,
    accounts: &dyn Accounts,
    now: Micros,
) -> anyhow::Result<()> {
    let admins: Vec<User> = accounts
        .list_users()
        .await?
        .into_iter()
        .filter(|user| user.is_admin)
        .collect();
    for organization in store.list_organizations().await? {
        let members = accounts.organization_members(&organization.id).await?;
        if members.iter().any(|(_, role)| *role == Role::Owner) {
            continue;
        }
        for admin in &admins {
            accounts
                .set_organization_membership(
                    &OrganizationMembership {
                        organization_id: organization.id.clone(),
                        user_id: admin.id.clone(),
                        role: Role::Owner,
                    },
                    now,
                )
                .await?;
        }
    }
    Ok(())
}

/// Runs [`bootstrap_admin`] at start-up and prints what a person needs to sign in.
pub async fn announce(
    accounts: &dyn Accounts,
    env: &BTreeMap<String, String>,
    base_url: &str,
) -> anyhow::Result<()> {
    let now = crate::routes::body::now_micros();
    match bootstrap_admin(accounts, env, now).await? {
        AdminBootstrap::Nothing => {}
        AdminBootstrap::Configured { email } => {
            tracing::info!(%email, "web UI admin configured from LANGFUSE_INIT_USER_EMAIL");
        }
        AdminBootstrap::Link { path } => {
            println!(
                "\nNo web UI user exists yet. Open this one-time link within 24 hours to sign in \
                 as the admin and set a password:\n\n  {base_url}{path}\n"
            );
        }
    }
    Ok(())
}
