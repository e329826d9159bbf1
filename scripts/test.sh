#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every Rust test (unit, golden,
# store conformance, HTTP, crash, SDK), then the official SDKs' compatibility suites against
# the real server binary (on SQLite, then on PostgreSQL), then the web UI's checks (bundle freshness, Vitest, end-to-end tests
# in Chromium). Installs the SDK test clients itself (tests/compat/setup.sh); needs a running
# PostgreSQL (127.0.0.1:5432, or SPINDLE_TEST_DATABASE_URL) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
cargo test --workspace --no-fail-fast

# Where cargo puts the binaries (CARGO_TARGET_DIR when set).
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

step "SDK compatibility suites (official Python and JS SDKs against the server, SQLite and PostgreSQL)"
cargo build -p spindle-server
SPINDLE_BIN="$target_dir/debug/spindle" tests/compat/run.sh

step "Web UI: bundle freshness, component tests, end-to-end tests in headless Chromium"
SPINDLE_BIN="$target_dir/debug/spindle" ui/check.sh
