//! Runs the accounts conformance suite against the SQLite backend, and checks the password and
//! token helpers every backend stores the results of.

use spindle_store::accounts::{hash_password, new_token, token_hash, verify_password};
use spindle_store::sqlite::{SqliteOptions, SqliteStore};

spindle_store::accounts_conformance_suite!(|dir: std::path::PathBuf| async move {
    let options = SqliteOptions {
        // Tests need durability against a process crash only.
        synchronous_full: false,
        ..SqliteOptions::default()
    };
    SqliteStore::open(&dir, options).expect("open the sqlite store")
});

#[test]
fn passwords_hash_with_argon2id_and_verify() {
    let hash = hash_password("correct horse").expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(verify_password(&hash, "correct horse"));
    assert!(!verify_password(&hash, "wrong horse"));
    assert!(!verify_password("not a phc string", "correct horse"));
    assert_ne!(
        hash,
        hash_password("correct horse").expect("hash"),
        "salted"
    );
}

#[test]
fn tokens_are_random_and_hashed() {
    let (first, second) = (new_token(), new_token());
    assert_ne!(first, second);
    assert_eq!(first.len(), 43);
    assert_eq!(token_hash(&first).len(), 64);
    assert_ne!(token_hash(&first), first);
}
