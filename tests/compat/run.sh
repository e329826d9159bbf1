#!/usr/bin/env bash
# Runs every SDK compatibility suite: installs the SDKs (setup.sh), builds the
# server unless SPINDLE_BIN names one, then runs pytest once per storage backend:
# SQLite, then PostgreSQL (a fresh database per run on the server of
# SPINDLE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
# COMPAT_BACKENDS="sqlite" (or "postgres") runs only one. Extra arguments go to
# pytest (e.g. `tests/compat/run.sh -k js -x`). Exits non-zero when any run fails;
# PostgreSQL being unreachable is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"
REPO="$(cd ../.. && pwd)"

bash "$HERE/setup.sh"

if [[ -z "${SPINDLE_BIN:-}" ]]; then
  if [[ "${COMPAT_NO_BUILD:-0}" != "1" ]]; then
    echo "run: cargo build -p spindle-server"
    (cd "$REPO" && cargo build -p spindle-server)
  fi
  export SPINDLE_BIN="$REPO/target/debug/spindle"
fi
if [[ ! -x "$SPINDLE_BIN" ]]; then
  echo "run: server binary $SPINDLE_BIN is missing" >&2
  exit 1
fi

read -r -a backends <<< "${COMPAT_BACKENDS:-sqlite postgres}"
for backend in "${backends[@]}"; do
  case "$backend" in
    sqlite) ;;
    postgres)
      # Fail at once, before minutes of SQLite tests, when PostgreSQL is not there.
      pg_url="${SPINDLE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
      if ! command -v psql >/dev/null 2>&1; then
        echo "run: the postgres run needs psql on PATH" >&2
        exit 1
      fi
      pg_base="${pg_url%%\?*}"   # the same server's maintenance database, query kept
      pg_admin_url="${pg_base%/*}/postgres${pg_url#"$pg_base"}"
      if ! PGCONNECT_TIMEOUT=10 psql -X -q -d "$pg_admin_url" -c 'SELECT 1' >/dev/null; then
        echo "run: PostgreSQL is required for the postgres run and is not reachable" \
             "(SPINDLE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test);" \
             "start it with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
        exit 1
      fi
      ;;
    *)
      echo "run: COMPAT_BACKENDS: unknown backend '$backend' (expected sqlite and/or postgres)" >&2
      exit 1
      ;;
  esac
done

if [[ -z "${COMPAT_ARTIFACTS:-}" ]]; then
  COMPAT_ARTIFACTS="$HERE/artifacts"
  rm -rf "$COMPAT_ARTIFACTS"   # only ever the default location
fi
artifacts_root="$COMPAT_ARTIFACTS"

if [[ -n "${pg_admin_url:-}" ]]; then
  # The Rust suites leave many schemas of fresh files behind them; the checkpoint that syncs
  # them (tens of thousands of files, a minute or two here) is taken now rather than during
  # the suites, where it slows every fsync and each DROP DATABASE waits for one.
  checkpoint_started=$SECONDS
  if PGCONNECT_TIMEOUT=10 psql -X -q -d "$pg_admin_url" -c 'CHECKPOINT'; then
    echo "run: CHECKPOINT took $((SECONDS - checkpoint_started))s"
  else
    echo "run: CHECKPOINT refused (it needs a superuser or pg_checkpoint); going on"
  fi
fi

failed=()
summary=()
for backend in "${backends[@]}"; do
  dir="$artifacts_root/$backend"
  mkdir -p "$dir"
  echo
  echo "run: ==> backend $backend; server logs and SDK output go to $dir"
  started=$SECONDS
  rc=0
  COMPAT_BACKEND="$backend" COMPAT_ARTIFACTS="$dir" \
    "$HERE/.venv-runner/bin/python" -m pytest -c "$HERE/pytest.ini" --rootdir "$HERE" \
    --junitxml "$dir/junit.xml" "$HERE" "$@" || rc=$?
  took=$((SECONDS - started))
  if [[ $rc -eq 0 ]]; then
    summary+=("run: $backend passed in ${took}s")
  else
    summary+=("run: $backend FAILED (pytest exit $rc) in ${took}s; logs in $dir")
    failed+=("$backend")
  fi
done

echo
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run: the compat suites failed on: ${failed[*]}" >&2
  exit 1
fi
