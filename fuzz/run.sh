#!/usr/bin/env bash
# Runs every fuzz target (or those named) one after the other, each for SECONDS (default 300),
# on one core at low priority. Seeds the corpora first. Logs go to $LOG_DIR (default
# /tmp/spindle-fuzz-logs); crashes land in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh                      # all targets, 5 minutes each
#   SECONDS_PER_TARGET=60 fuzz/run.sh otlp_json gunzip
#   KEEP_GOING=1 fuzz/run.sh          # do not stop at the first crash (-fork=1 -ignore_crashes=1)
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
    targets=(otlp_protobuf otlp_json ingestion_json score_json model_json prompt_json dataset_json score_config_json review_json admin_media_json usage_json gunzip)
fi
python3 "$FUZZ_DIR/seed.py"
mkdir -p "$LOG_DIR"
for target in "${targets[@]}"; do
    mkdir -p "$LOG_DIR/$target"
    echo "== $target: ${SECONDS_PER_TARGET}s"
    flags=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048)
    if [ -f "$FUZZ_DIR/dicts/$target.dict" ]; then
        flags+=(-dict="$FUZZ_DIR/dicts/$target.dict")
    fi
    if [ -n "${KEEP_GOING:-}" ]; then
        # One child process at a time; a crash is saved to artifacts/ and fuzzing goes on.
        flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
        log="$LOG_DIR/$target/fork.log"
    else
        # -jobs=1 -workers=1 keeps libFuzzer on one core; its output goes to fuzz-0.log.
        flags+=(-jobs=1 -workers=1)
        log="$LOG_DIR/$target/fuzz-0.log"
    fi
    (cd "$LOG_DIR/$target" && nice -n 10 cargo "${TOOLCHAIN[@]}" fuzz run --fuzz-dir "$FUZZ_DIR" "$target" -- \
        "${flags[@]}" >"$LOG_DIR/$target/run.log" 2>&1) \
        || echo "!! $target stopped with a failure; see $log and $FUZZ_DIR/artifacts/$target/"
    if [ -n "${KEEP_GOING:-}" ]; then cp "$LOG_DIR/$target/run.log" "$log"; fi
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    ls "$FUZZ_DIR/artifacts/$target/" 2>/dev/null | sed 's/^/   artifact: /' || true
done
