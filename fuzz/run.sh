#!/usr/bin/env bash
# Runs every fuzz target (or those named) one after the other, each for SECONDS (default 300),
# on one core at low priority. Seeds the corpora first. Logs go to $LOG_DIR (default
# /tmp/spindle-fuzz-logs); crashes land in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh                      # all targets, 5 minutes each
#   SECONDS_PER_TARGET=60 fuzz/run.sh otlp_json gunzip
set -euo pipefail
FUZZ_DIR="$(cd "$(dirname "$0")" && pwd)"
SECONDS_PER_TARGET="${SECONDS_PER_TARGET:-300}"
LOG_DIR="${LOG_DIR:-/tmp/spindle-fuzz-logs}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-fuzz}"
TOOLCHAIN=(+nightly)
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    # No nightly: the stable compiler accepts the sanitizer flags when told to.
    TOOLCHAIN=()
    export RUSTC_BOOTSTRAP=1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(otlp_protobuf otlp_json ingestion_json score_json gunzip)
fi
python3 "$FUZZ_DIR/seed.py"
mkdir -p "$LOG_DIR"
for target in "${targets[@]}"; do
    mkdir -p "$LOG_DIR/$target"
    echo "== $target: ${SECONDS_PER_TARGET}s"
    # -jobs=1 -workers=1 keeps libFuzzer on one core; its output goes to fuzz-0.log in the cwd.
    (cd "$LOG_DIR/$target" && nice -n 10 cargo "${TOOLCHAIN[@]}" fuzz run --fuzz-dir "$FUZZ_DIR" "$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -jobs=1 -workers=1) \
        || echo "!! $target stopped with a failure; see $LOG_DIR/$target/fuzz-0.log and $FUZZ_DIR/artifacts/$target/"
    tail -n 3 "$LOG_DIR/$target/fuzz-0.log" || true
done
