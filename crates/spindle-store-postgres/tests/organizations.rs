//! Migration 0020 gives the accounts of a database written before organizations their
//! roles: admins own every organization, other users become members of their projects'
//! organizations, and their project roles stay as overrides (a project owner an admin).

mod support;

use spindle_store::accounts::{Accounts, OrganizationMembership, Role};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_accounts_get_organization_roles() {
    let key = tempfile::tempdir().expect("schema key");
    let (client, connection) =
        support::schema_migrated_to(key.path(), support::migrations_before(20)).await;
    client
        .batch_execute(
            "INSERT INTO organizations VALUES ('o', 'O', 1);
             INSERT INTO projects (id, organization_id, name, created_at)
                 VALUES ('p1', 'o', 'P1', 1), ('p2', 'o', 'P2', 1);
             INSERT INTO users (id, email, is_admin, created_at)
                 VALUES ('admin', 'a@x', true, 1), ('m', 'm@x', false, 2),
                        ('idle', 'i@x', false, 3);
             INSERT INTO memberships VALUES ('m', 'p1', 'owner', 5), ('m', 'p2', 'member', 6)",
        )
        .await
        .expect("old accounts");
    drop(client);
    let _ = connection.await;

    let store = support::open_in(key.path(), None).await;
    let membership = |user_id: &str, role| OrganizationMembership {
        organization_id: "o".into(),
        user_id: user_id.into(),
        role,
    };
    assert_eq!(
        store
            .organization_memberships_of_user("admin")
            .await
            .expect("admin"),
        [membership("admin", Role::Owner)]
    );
    assert_eq!(
        store
            .organization_memberships_of_user("m")
            .await
            .expect("m"),
        [membership("m", Role::Member)]
    );
    assert!(store
        .organization_memberships_of_user("idle")
        .await
        .expect("idle")
        .is_empty());
    let roles: Vec<(String, Role)> = store
        .memberships_of_user("m")
        .await
        .expect("project roles")
        .into_iter()
        .map(|m| (m.project_id, m.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("p1".to_owned(), Role::Admin),
            ("p2".to_owned(), Role::Member)
        ]
    );
}
