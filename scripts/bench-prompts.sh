#!/usr/bin/env bash
# The prompt-serving benchmark: how fast one server answers prompt fetches by label, against
# its own /api/public/health under the same load, and what a stream of prompt fetches costs
# the ingest benchmark running beside it. Needs wrk (Debian's package) and the release
# binaries: B=target/release scripts/bench-prompts.sh
#
#   1. a fresh server (SQLite), one text prompt labelled production;
#   2. wrk, CONNECTIONS keep-alive connections on 2 threads for SECONDS: GET /api/public/health,
#      then GET /api/public/v2/prompts/{name}?label=production (Basic auth) -> requests/s and
#      latency percentiles;
#   3. spindle-bench ingest alone, then with a steady stream of prompt fetches (FETCH_RATE
#      per second over 4 keep-alive connections, as applications refreshing their prompt
#      caches would send) to the same server for the whole run, alternating RUNS times ->
#      spans/s of each.
set -euo pipefail
B="${B:-target/release}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
RUNS="${RUNS:-3}"
SPANS="${SPANS:-100000}"
FETCH_RATE="${FETCH_RATE:-1000}"
PK=pk-lf-bench-prompts
SK=sk-lf-bench-prompts
AUTH="Authorization: Basic $(printf '%s:%s' "$PK" "$SK" | base64 -w0)"
PROMPT_NAME=support-greeting
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

create_prompt() { # base url
  curl -sf -X POST "$1/api/public/v2/prompts" -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$PROMPT_NAME\",\"type\":\"text\",\"prompt\":\"Hello {{name}}, how can I help with {{topic}}?\",\"labels\":[\"production\"],\"config\":{\"model\":\"gpt-4o\",\"temperature\":0.2}}" >/dev/null
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
LANGFUSE_INIT_PROJECT_ID=bench LANGFUSE_INIT_PROJECT_PUBLIC_KEY=$PK LANGFUSE_INIT_PROJECT_SECRET_KEY=$SK \
  SPINDLE_LOG=warn "$B/spindle" serve --host 127.0.0.1 --port "$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
for _ in $(seq 100); do curl -sf "$base/api/public/health" >/dev/null && break; sleep 0.1; done
create_prompt "$base"
curl -sf -H "$AUTH" "$base/api/public/v2/prompts/$PROMPT_NAME?label=production" >/dev/null

echo "== health, $CONNECTIONS connections, ${SECONDS_PER_RUN}s"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$base/api/public/health" | tee "$work/health.txt"
echo "== prompt by label, $CONNECTIONS connections, ${SECONDS_PER_RUN}s"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H "$AUTH" \
  "$base/api/public/v2/prompts/$PROMPT_NAME?label=production" | tee "$work/prompt.txt"
kill %1; wait %1 2>/dev/null || true
health=$(awk '/Requests\/sec/ {print $2}' "$work/health.txt")
prompt=$(awk '/Requests\/sec/ {print $2}' "$work/prompt.txt")
echo "prompt fetches: $prompt/s against health $health/s: $(python3 -c "print(f'{$prompt/$health*100:.0f} %')")"

# The ingest benchmark's server, with wrk fetching the prompt from it for the whole run.
cat >"$work/with-prompt-load.sh" <<WRAP
#!/usr/bin/env bash
port=""; prev=""
for arg in "\$@"; do [ "\$prev" = "--port" ] && port="\$arg"; prev="\$arg"; done
(
  base="http://127.0.0.1:\$port"
  for _ in \$(seq 200); do curl -sf "\$base/api/public/health" >/dev/null && break; sleep 0.05; done
  auth="Authorization: Basic \$(printf '%s:%s' "\$LANGFUSE_INIT_PROJECT_PUBLIC_KEY" "\$LANGFUSE_INIT_PROJECT_SECRET_KEY" | base64 -w0)"
  curl -sf -X POST "\$base/api/public/v2/prompts" -H "\$auth" -H 'Content-Type: application/json' \
    -d '{"name":"$PROMPT_NAME","type":"text","prompt":"Hello {{name}}","labels":["production"]}' >/dev/null
  exec python3 "$work/fetch.py" "\$port" "\$auth" >"$work/fetch-during-ingest.txt" 2>&1
) &
exec "$B/spindle" "\$@"
WRAP
chmod +x "$work/with-prompt-load.sh"
cat >"$work/fetch.py" <<PY
import http.client, sys, threading, time
port, auth = int(sys.argv[1]), sys.argv[2].split(": ", 1)[1]
rate, workers = $FETCH_RATE, 4
done = [0]; failed = [0]; lock = threading.Lock()
def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    interval, next_at = workers / rate, time.monotonic()
    while True:
        next_at += interval
        try:
            conn.request("GET", "/api/public/v2/prompts/$PROMPT_NAME?label=production", headers={"Authorization": auth})
            ok = conn.getresponse().read() and True
        except Exception:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10); ok = False
        with lock:
            done[0] += ok; failed[0] += not ok
            print(f"prompt fetches during ingest: {done[0]} answered, {failed[0]} failed", flush=True)
        time.sleep(max(0.0, next_at - time.monotonic()))
for _ in range(workers): threading.Thread(target=worker, daemon=True).start()
time.sleep(600)
PY
sed -i "s#\$B/spindle#$(realpath "$B")/spindle#" "$work/with-prompt-load.sh"
for run in $(seq "$RUNS"); do
  for mode in alone with-prompts; do
    bin="$B/spindle"; [ "$mode" = with-prompts ] && bin="$work/with-prompt-load.sh"
    "$B/spindle-bench" ingest --server-bin "$bin" --spans "$SPANS" --runs 1 >"$work/ingest.txt" 2>&1
    rate=$(grep -o 'run 1: [0-9]* spans/s' "$work/ingest.txt" | head -1 | sed 's/run 1: //')
    pkill -f "$work/fetch.py" 2>/dev/null || true
    [ "$mode" = with-prompts ] && tail -1 "$work/fetch-during-ingest.txt"
    echo "ingest run $run, $mode: $rate"
  done
done
