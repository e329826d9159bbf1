#!/usr/bin/env bash
# Runs every SDK compatibility suite: installs the SDKs (setup.sh), builds the
# server unless SPINDLE_BIN names one, then runs pytest. Extra arguments go to
# pytest (e.g. `tests/compat/run.sh -k js -x`). Exits non-zero on any failure.
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

if [[ -z "${COMPAT_ARTIFACTS:-}" ]]; then
  export COMPAT_ARTIFACTS="$HERE/artifacts"
  rm -rf "$COMPAT_ARTIFACTS"   # only ever the default location
fi
mkdir -p "$COMPAT_ARTIFACTS"
echo "run: server logs and SDK output go to $COMPAT_ARTIFACTS"
exec "$HERE/.venv-runner/bin/python" -m pytest -c "$HERE/pytest.ini" --rootdir "$HERE" "$HERE" "$@"
