//! Runs the prompts conformance suite against the SQLite backend.

use spindle_store::sqlite::{SqliteOptions, SqliteStore};

spindle_store::prompts_conformance_suite!(|dir: std::path::PathBuf| async move {
    let options = SqliteOptions {
        // Tests need durability against a process crash only.
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    SqliteStore::open(&dir, options).expect("open the sqlite store")
});
