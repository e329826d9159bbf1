//! The account tables of a copy, each few rows, read whole and written in one transaction per
//! group with the table's rule for a row PostgreSQL already has: organizations, projects,
//! their keys and custom models ([`OF_PROJECTS`]), and the web UI's users (with their
//! password hashes), organization and project memberships and saved views ([`OF_PEOPLE`]),
//! so everyone signs in as before.
//!
//! Sessions and sign-in links are not copied: people sign in again after the move.

use super::tables::{Kind, Table};

use Kind::{Bool, Int, Text};

/// Organizations, projects, keys and custom models, in the order they are written.
pub(super) static OF_PROJECTS: [Table; 5] = [
    Table::plain(
        "organizations",
        &[("id", Text), ("name", Text), ("created_at", Int)],
    ),
    // A project deleted in either database stays deleted (and is purged there).
    Table {
        on_conflict: "ON CONFLICT (id) DO UPDATE \
            SET deleted_at = coalesce(projects.deleted_at, excluded.deleted_at)",
        ..Table::plain(
            "projects",
            &[
                ("id", Text),
                ("organization_id", Text),
                ("name", Text),
                ("retention_days", Int),
                ("created_at", Int),
                ("builtin_prices", Bool),
                ("metadata", Text),
                ("updated_at", Int),
                ("deleted_at", Int),
                ("purged_at", Int),
            ],
        )
    },
    // A key revoked in either database stays revoked.
    Table {
        on_conflict: "ON CONFLICT (public_key) DO UPDATE \
            SET revoked_at = coalesce(api_keys.revoked_at, excluded.revoked_at)",
        ..Table::plain(
            "api_keys",
            &[
                ("public_key", Text),
                ("project_id", Text),
                ("secret_hash", Text),
                ("secret_hint", Text),
                ("note", Text),
                ("created_at", Int),
                ("revoked_at", Int),
            ],
        )
    },
    Table::plain(
        "models",
        &[
            ("project_id", Text),
            ("id", Text),
            ("model_name", Text),
            ("match_pattern", Text),
            ("start_date", Int),
            ("unit", Text),
            ("prices", Text),
            ("tokenizer_id", Text),
            ("tokenizer_config", Text),
            ("created_at", Int),
            ("pricing_tiers", Text),
        ],
    ),
    Table {
        on_conflict: "ON CONFLICT (public_key) DO UPDATE \
            SET revoked_at = coalesce(organization_api_keys.revoked_at, excluded.revoked_at)",
        ..Table::plain(
            "organization_api_keys",
            &[
                ("public_key", Text),
                ("organization_id", Text),
                ("secret_hash", Text),
                ("secret_hint", Text),
                ("note", Text),
                ("created_at", Int),
                ("revoked_at", Int),
            ],
        )
    },
];

/// The web UI's people, in the order they are written. A membership or saved view whose user
/// PostgreSQL does not have (its email already had an account there) is left out.
pub(super) static OF_PEOPLE: [Table; 4] = [
    // An email that already has an account in PostgreSQL keeps that account.
    Table::plain(
        "users",
        &[
            ("id", Text),
            ("email", Text),
            ("name", Text),
            ("password_hash", Text),
            ("is_admin", Bool),
            ("created_at", Int),
        ],
    ),
    Table {
        only_if: "EXISTS (SELECT 1 FROM users WHERE id = $1)",
        ..Table::plain(
            "memberships",
            &[
                ("user_id", Text),
                ("project_id", Text),
                ("role", Text),
                ("created_at", Int),
            ],
        )
    },
    Table {
        only_if: "EXISTS (SELECT 1 FROM users WHERE id = $3)",
        ..Table::plain(
            "saved_views",
            &[
                ("id", Text),
                ("project_id", Text),
                ("user_id", Text),
                ("page", Text),
                ("name", Text),
                ("query", Text),
                ("created_at", Int),
            ],
        )
    },
    Table {
        only_if: "EXISTS (SELECT 1 FROM users WHERE id = $2) \
            AND EXISTS (SELECT 1 FROM organizations WHERE id = $1)",
        ..Table::plain(
            "organization_memberships",
            &[
                ("organization_id", Text),
                ("user_id", Text),
                ("role", Text),
                ("created_at", Int),
            ],
        )
    },
];
