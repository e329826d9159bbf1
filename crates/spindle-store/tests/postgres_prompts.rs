//! The prompts conformance suite on PostgreSQL, one fresh schema per case. Fails (never
//! skips) when PostgreSQL is not reachable.

mod postgres_support;

spindle_store::prompts_conformance_suite!(|dir: std::path::PathBuf| async move {
    postgres_support::open_in(&dir, None).await
});
