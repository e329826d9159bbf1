//! Inputs the fuzzers (and the review around their findings) turned up, replayed through the
//! parsers: each must be handled without a panic, and usage counts must stay in range.

use spindle_ingest::otlp::{self, Encoding};
use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .flatten()
        .map(|entry| {
            let path = entry.path();
            let bytes = std::fs::read(&path).expect("readable input");
            (path, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "regression inputs for {target}");
    out
}

fn check_batch(batch: &spindle_core::WriteBatch) {
    for observation in &batch.observations {
        for (key, count) in observation.usage_details.iter().flatten() {
            assert!(
                (0..=spindle_ingest::usage::MAX_USAGE_COUNT).contains(count),
                "{key} = {count}"
            );
        }
    }
}

#[test]
fn otlp_protobuf_inputs() {
    for (path, bytes) in inputs("otlp_protobuf") {
        if let Ok(export) = otlp::decode(&bytes, Encoding::Protobuf) {
            let mut batch = otlp::to_batch(&export, 0);
            batch.coalesce();
            check_batch(&batch);
        } else {
            panic!("{} should decode", path.display());
        }
    }
}

#[test]
fn otlp_json_inputs() {
    for (path, bytes) in inputs("otlp_json") {
        let export = otlp::decode(&bytes, Encoding::Json)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let mut batch = otlp::to_batch(&export, 0);
        batch.coalesce();
        check_batch(&batch);
    }
}

#[test]
fn ingestion_json_inputs() {
    for (path, bytes) in inputs("ingestion_json") {
        let parsed = spindle_ingest::batch::parse(&bytes, &mut || "id".to_owned())
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        check_batch(&parsed.batch);
    }
}

#[test]
fn usage_json_inputs() {
    for (path, bytes) in inputs("usage_json") {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&bytes) {
            for count in spindle_ingest::usage::from_json_map(&map).values() {
                assert!(
                    (0..=spindle_ingest::usage::MAX_USAGE_COUNT).contains(count),
                    "{}",
                    path.display()
                );
            }
        }
    }
}
