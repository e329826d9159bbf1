//! Runs the store conformance suite against the SQLite backend on a temporary directory.

use spindle_store::conformance::OpenOptions;
use spindle_store::sqlite::{SqliteOptions, SqliteStore};

spindle_store::conformance_suite!(|options: OpenOptions| async move {
    let mut sqlite = SqliteOptions {
        // Tests need durability against a process crash only.
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    if let Some(capacity) = options.queue_capacity {
        sqlite.queue_capacity = capacity;
        sqlite.max_group_batches = 1;
    }
    SqliteStore::open(&options.dir, sqlite).expect("open the sqlite store")
});
