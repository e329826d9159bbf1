//! The store conformance suite on PostgreSQL, one fresh schema per case. Fails (never
//! skips) when PostgreSQL is not reachable.

mod postgres_support;

spindle_store::conformance_suite!(
    |options: spindle_store::conformance::OpenOptions| async move {
        postgres_support::open_in(&options.dir, options.queue_capacity).await
    }
);
