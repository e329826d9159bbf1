//! The store, accounts, prompts, datasets and score configs conformance suites on PostgreSQL, one fresh schema per case. Fails
//! (never skips) when PostgreSQL is not reachable.

mod support;

spindle_store::conformance_suite!(
    |options: spindle_store::conformance::OpenOptions| async move {
        support::open_with(
            &options.dir,
            options.queue_capacity,
            options.metrics_time_limit,
        )
        .await
    }
);

spindle_store::accounts_conformance_suite!(|dir: std::path::PathBuf| async move {
    support::open_in(&dir, None).await
});

spindle_store::prompts_conformance_suite!(|dir: std::path::PathBuf| async move {
    support::open_in(&dir, None).await
});

spindle_store::datasets_conformance_suite!(|dir: std::path::PathBuf| async move {
    support::open_in(&dir, None).await
});

spindle_store::reviews_conformance_suite!(|dir: std::path::PathBuf| async move {
    support::open_in(&dir, None).await
});

spindle_store::score_configs_conformance_suite!(|dir: std::path::PathBuf| async move {
    support::open_in(&dir, None).await
});
