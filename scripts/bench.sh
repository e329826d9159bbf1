#!/usr/bin/env bash
# The benchmark suite in one command: builds the release binaries, then runs every
# `spindle-bench` subcommand and writes the results table. Not part of CI: it takes tens of
# minutes and measures, never asserts.
#
#   scripts/bench.sh                 # everything
#   BENCH_RUNS=1 BENCH_QUICK=1 scripts/bench.sh   # a smoke run with small sizes
#
# Output: $BENCH_OUT (default bench-out/<UTC time>/): report.md (every subcommand's Markdown
# report), results.jsonl (the key figures) and summary.md (the results table with the
# targets; paste it into BENCHMARKS.md). Variables:
#   BENCH_CACHE      seeded query databases and the Phoenix venv (default ~/.cache/spindle-bench)
#   BENCH_RUNS       runs per measurement, medians reported (default 3)
#   BENCH_DATABASE_URL  PostgreSQL for the PostgreSQL section; databases named after it are
#                    created and dropped (default postgres://postgres@127.0.0.1:5432/spindle_bench)
#   BENCH_SKIP       space-separated steps to skip: ingest limits query100k query1m phoenix
#                    postgres postgres-query
#   BENCH_PHOENIX_VERSION  arize-phoenix version to install (default 20.26.1)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-3}
CACHE=${BENCH_CACHE:-$HOME/.cache/spindle-bench}
OUT=${BENCH_OUT:-bench-out/$(date -u +%Y%m%dT%H%M%SZ)}
PG_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/spindle_bench}
PHOENIX_VERSION=${BENCH_PHOENIX_VERSION:-20.26.1}
SKIP=" ${BENCH_SKIP:-} "
if [[ -n "${BENCH_QUICK:-}" ]]; then
  INGEST_SPANS=20000 PHOENIX_SPANS=2000 SMALL=10000 LARGE=50000
else
  INGEST_SPANS=100000 PHOENIX_SPANS=${BENCH_PHOENIX_SPANS:-5000} SMALL=100000 LARGE=1000000
fi
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$OUT" "$CACHE"
RESULTS="$OUT/results.jsonl"
REPORT="$OUT/report.md"

step() { printf '\n==> %s (load average %s)\n' "$*" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
bench() { "$TARGET/release/spindle-bench" "$@" --results "$RESULTS" | tee -a "$REPORT"; }

step "cargo build --release -p spindle-server -p spindle-bench"
cargo build --release -p spindle-server -p spindle-bench
SERVER="$TARGET/release/spindle"

{
  echo "# Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
  echo
  echo "nproc: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
  echo '```'
  free -g
  uptime
  echo '```'
  echo
} > "$REPORT"

if ! skipped ingest; then
  for format in protobuf json ingestion; do
    step "ingest, SQLite, $format"
    bench ingest --server-bin "$SERVER" --format "$format" --spans "$INGEST_SPANS" --runs "$RUNS"
  done
  step "ingest, SQLite, protobuf with gzip"
  bench ingest --server-bin "$SERVER" --gzip --spans "$INGEST_SPANS" --runs "$RUNS"
fi

if ! skipped limits; then
  step "limits: protobuf decode and raw SQLite inserts"
  bench limits --spans "$INGEST_SPANS" --runs "$RUNS"
fi

if ! skipped phoenix; then
  VENV="$CACHE/phoenix-venv"
  if [[ ! -x "$VENV/bin/phoenix" ]]; then
    step "installing arize-phoenix $PHOENIX_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "arize-phoenix==$PHOENIX_VERSION"
  fi
  step "side by side with Phoenix"
  bench phoenix --server-bin "$SERVER" --phoenix-bin "$VENV/bin/phoenix" \
    --spans "$PHOENIX_SPANS" --runs "$RUNS"
fi

# The query datasets: 10 observations per trace at the smaller size; at the larger one a
# single observation per trace keeps the database within a few GB (one trace has 1,000).
if ! skipped query100k; then
  step "queries, SQLite, $SMALL traces x 10 observations"
  bench query --server-bin "$SERVER" --cache-dir "$CACHE" --traces "$SMALL" \
    --observations-per-trace 10
fi
if ! skipped query1m; then
  step "queries, SQLite, $LARGE traces x 1 observation"
  bench query --server-bin "$SERVER" --cache-dir "$CACHE" --traces "$LARGE" \
    --observations-per-trace 1
fi

if ! skipped postgres; then
  for instances in 1 2; do
    step "ingest, PostgreSQL, $instances instance(s)"
    bench ingest --server-bin "$SERVER" --database-url "$PG_URL" --instances "$instances" \
      --spans "$INGEST_SPANS" --runs "$RUNS"
  done
fi
if ! skipped postgres-query; then
  step "queries, PostgreSQL, $LARGE traces x 1 observation (copied from the SQLite cache)"
  bench query --server-bin "$SERVER" --cache-dir "$CACHE" --traces "$LARGE" \
    --observations-per-trace 1 --database-url "${PG_URL}_q${LARGE}"
fi

step "summary"
"$TARGET/release/spindle-bench" summary --results "$RESULTS" | tee "$OUT/summary.md"
echo "wrote $OUT/report.md, $OUT/results.jsonl and $OUT/summary.md" >&2
