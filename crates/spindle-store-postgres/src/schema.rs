//! The versioned PostgreSQL migrations, tracked in `spindle_migrations` and applied under a
//! transaction-scoped advisory lock, so several instances starting at once apply each one
//! exactly once.

use spindle_core::{Error, ErrorKind};
use tokio_postgres::Client;

use super::pg_error;
use spindle_store::Result;

/// The migrations, in order; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../migrations/0001_initial.sql"),
    ),
    (
        "0002_accounts",
        include_str!("../migrations/0002_accounts.sql"),
    ),
    (
        "0003_sort_indexes",
        include_str!("../migrations/0003_sort_indexes.sql"),
    ),
    (
        "0004_tags_index",
        include_str!("../migrations/0004_tags_index.sql"),
    ),
    (
        "0005_counters",
        include_str!("../migrations/0005_counters.sql"),
    ),
    ("0006_cost", include_str!("../migrations/0006_cost.sql")),
    (
        "0007_trace_tags_and_metadata",
        include_str!("../migrations/0007_trace_tags_and_metadata.sql"),
    ),
    (
        "0008_lz4_compression",
        include_str!("../migrations/0008_lz4_compression.sql"),
    ),
    (
        "0009_trace_search",
        include_str!("../migrations/0009_trace_search.sql"),
    ),
    (
        "0010_scores_cover_trace_ids",
        include_str!("../migrations/0010_scores_cover_trace_ids.sql"),
    ),
    (
        "0011_prompts",
        include_str!("../migrations/0011_prompts.sql"),
    ),
    (
        "0012_server_secrets",
        include_str!("../migrations/0012_server_secrets.sql"),
    ),
    (
        "0013_observations_by_prompt",
        include_str!("../migrations/0013_observations_by_prompt.sql"),
    ),
    (
        "0014_prompt_latency_index",
        include_str!("../migrations/0014_prompt_latency_index.sql"),
    ),
    (
        "0015_datasets",
        include_str!("../migrations/0015_datasets.sql"),
    ),
    (
        "0016_dataset_item_versions",
        include_str!("../migrations/0016_dataset_item_versions.sql"),
    ),
    ("0017_review", include_str!("../migrations/0017_review.sql")),
    (
        "0018_score_configs",
        include_str!("../migrations/0018_score_configs.sql"),
    ),
    (
        "0019_observations_by_prompt_trace",
        include_str!("../migrations/0019_observations_by_prompt_trace.sql"),
    ),
    (
        "0020_organizations",
        include_str!("../migrations/0020_organizations.sql"),
    ),
    (
        "0021_run_item_dataset_version",
        include_str!("../migrations/0021_run_item_dataset_version.sql"),
    ),
    (
        "0022_audit_log",
        include_str!("../migrations/0022_audit_log.sql"),
    ),
    (
        "0023_dataset_item_media",
        include_str!("../migrations/0023_dataset_item_media.sql"),
    ),
    (
        "0024_review_claims",
        include_str!("../migrations/0024_review_claims.sql"),
    ),
    (
        "0025_trace_totals",
        include_str!("../migrations/0025_trace_totals.sql"),
    ),
    (
        "0026_rollups",
        include_str!("../migrations/0026_rollups.sql"),
    ),
    (
        "0027_prompt_score_rollups",
        include_str!("../migrations/0027_prompt_score_rollups.sql"),
    ),
    (
        "0028_observation_rollups_by_prompt",
        include_str!("../migrations/0028_observation_rollups_by_prompt.sql"),
    ),
    (
        "0029_rollup_level_and_booleans",
        include_str!("../migrations/0029_rollup_level_and_booleans.sql"),
    ),
    (
        "0030_search_metadata",
        include_str!("../migrations/0030_search_metadata.sql"),
    ),
    (
        "0031_trace_rollups",
        include_str!("../migrations/0031_trace_rollups.sql"),
    ),
    (
        "0032_people_rollups",
        include_str!("../migrations/0032_people_rollups.sql"),
    ),
    (
        "0033_trace_model_rollups",
        include_str!("../migrations/0033_trace_model_rollups.sql"),
    ),
    (
        "0034_session_totals",
        include_str!("../migrations/0034_session_totals.sql"),
    ),
    (
        "0035_latency_days",
        include_str!("../migrations/0035_latency_days.sql"),
    ),
    (
        "0036_attribute_rollups",
        include_str!("../migrations/0036_attribute_rollups.sql"),
    ),
    (
        "0037_scores_by_trace_cover_ranges",
        include_str!("../migrations/0037_scores_by_trace_cover_ranges.sql"),
    ),
    (
        "0038_metadata_rollups",
        include_str!("../migrations/0038_metadata_rollups.sql"),
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The first key of the advisory lock that serializes migrations (the second is the schema).
const MIGRATION_LOCK: i32 = 0x5350_494e; // "SPIN"

/// Applies the migrations the schema lacks, in one transaction holding the advisory lock of
/// the current schema. Returns the names of the migrations applied. Fails with
/// `Unavailable` when the database is newer than this build.
pub(crate) async fn migrate(client: &mut Client) -> Result<Vec<&'static str>> {
    let transaction = client.transaction().await.map_err(pg_error)?;
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
            &[&MIGRATION_LOCK],
        )
        .await
        .map_err(pg_error)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS spindle_migrations (
                 version    bigint PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(pg_error)?;
    let current: i64 = transaction
        .query_one(
            "SELECT coalesce(max(version), 0) FROM spindle_migrations",
            &[],
        )
        .await
        .map_err(pg_error)?
        .get(0);
    if current > SCHEMA_VERSION {
        return Err(Error::new(
            ErrorKind::Unavailable,
            format!(
                "database schema version {current} is newer than this build supports \
                 ({SCHEMA_VERSION})"
            ),
        ));
    }
    let mut applied = Vec::new();
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= current {
            continue;
        }
        transaction
            .batch_execute(sql)
            .await
            .map_err(|e| Error::internal(format!("migration {name} failed: {e}")))?;
        transaction
            .execute(
                "INSERT INTO spindle_migrations (version, name) VALUES ($1, $2)",
                &[&version, name],
            )
            .await
            .map_err(pg_error)?;
        applied.push(*name);
    }
    transaction.commit().await.map_err(pg_error)?;
    for name in &applied {
        tracing::info!(migration = name, "applied postgres migration");
    }
    Ok(applied)
}
