#!/usr/bin/env bash
# Installs what the SDK compatibility suites need, idempotently:
#   .venv-runner  pytest + httpx (runs the tests)
#   .venv-v5      langfuse>=5,<6
#   .venv-v4      langfuse>=4,<5
#   .venv-v3      langfuse>=3,<4 (beyond the issue's list: many users are still on 3.x)
#   .venv-v2      langfuse<3
#   js/node_modules  from js/package-lock.json (npm ci)
# Needs python3.11 (or $COMPAT_PYTHON), node >= 20 and npm, and access to the
# Python and npm package registries. Re-running it only reinstalls what changed.
set -euo pipefail
cd "$(dirname "$0")"

PY="${COMPAT_PYTHON:-}"
if [[ -z "$PY" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
fi

# venv name | requirement specs (space separated)
VENVS=(
  "runner|pytest>=8,<9 httpx>=0.27,<1"
  "v5|langfuse>=5,<6"
  "v4|langfuse>=4,<5"
  "v3|langfuse>=3,<4"
  "v2|langfuse<3"
)

for entry in "${VENVS[@]}"; do
  name="${entry%%|*}"
  reqs="${entry#*|}"
  dir=".venv-$name"
  stamp="$dir/.compat-requirements"
  want="$($PY -c 'import sys; print(sys.version.split()[0])') $reqs"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
     && "$dir/bin/python" -m pip check >/dev/null 2>&1; then
    echo "setup: $dir up to date ($reqs)"
    continue
  fi
  echo "setup: creating $dir ($reqs)"
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $reqs
  echo "$want" > "$stamp"
done

for name in v5 v4 v3 v2; do
  printf 'setup: .venv-%s has langfuse %s\n' "$name" \
    "$(".venv-$name/bin/python" -c 'from importlib.metadata import version; print(version("langfuse"))')"
done

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: node and npm are required for the JS suite" >&2
  exit 1
fi
lock_hash="$(sha256sum js/package-lock.json | cut -d' ' -f1) $(node --version)"
if [[ -f js/node_modules/.compat-stamp && "$(cat js/node_modules/.compat-stamp)" == "$lock_hash" ]]; then
  echo "setup: js/node_modules up to date"
else
  echo "setup: npm ci in js/"
  (cd js && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" > js/node_modules/.compat-stamp
fi
printf 'setup: JS SDK %s\n' "$(node -p 'require("./js/node_modules/@langfuse/tracing/package.json").version')"
