//! Repository hygiene: every Rust module of the workspace starts with a `//!` line saying what
//! it is for.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// trybuild cases are snippets of user code, not modules of ours.
fn is_compile_test_case(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.contains("/tests/ui/") || text.contains("/tests/trybuild/")
}

#[test]
fn every_module_says_what_it_is_for() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for crate_dir in std::fs::read_dir(&crates).expect("crates dir").flatten() {
        for part in ["src", "tests", "benches", "examples"] {
            rust_files(&crate_dir.path().join(part), &mut files);
        }
    }
    assert!(files.len() > 50, "found the workspace's sources");
    let missing: Vec<String> = files
        .iter()
        .filter(|path| !is_compile_test_case(path))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` line:\n{}",
        missing.join("\n")
    );
}
