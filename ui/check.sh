#!/usr/bin/env bash
# CI entry point of the web UI: installs the locked dependencies, rebuilds the bundle and
# fails if the committed one (ui/dist and the generated bundle.rs) is stale, runs the
# Vitest component tests, then the end-to-end tests in headless Chromium.
#
# Needs: Node 20 and npm, Debian's `chromium` (/usr/bin/chromium), rustfmt (formats the
# generated bundle.rs), the server binary (SPINDLE_BIN, default target/debug/spindle, built
# beforehand with `cargo build -p spindle-server`), and the Python SDK venv made by
# tests/compat/setup.sh (tests/compat/.venv-v5).
#
# package.json overrides rollup with its WebAssembly build (@rollup/wasm-node): the native
# build's per-platform optional packages are not all on the registries we reach, and a lock
# file that lacks them makes `npm ci` refuse to install. The output is byte-identical.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$here"

npm ci --no-audit --no-fund
npm run build
if ! git -C "$repo" diff --exit-code --stat -- ui/dist crates/spindle-server/src/ui/bundle.rs \
    || [ -n "$(git -C "$repo" status --porcelain -- ui/dist crates/spindle-server/src/ui/bundle.rs)" ]; then
    echo "ui/check.sh: the committed bundle is stale: run 'npm run build' in ui/ and commit ui/dist and bundle.rs" >&2
    exit 1
fi
npx vitest run

bin="${SPINDLE_BIN:-$repo/target/debug/spindle}"
if [ ! -x "$bin" ]; then
    echo "ui/check.sh: no server binary at $bin: build it with 'cargo build -p spindle-server' (or set SPINDLE_BIN)" >&2
    exit 1
fi
SPINDLE_BIN="$bin" node "$repo/tests/e2e/run.mjs"
