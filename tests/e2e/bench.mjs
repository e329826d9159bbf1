// Read-path benchmark of the public API and the web UI at scale. A benchmark, not a test:
// it prints figures (medians of several runs) and asserts nothing; CI does not run it.
//
// The data directory comes from the seeding example (one project, `bench-project`):
//
//   cargo build --release -p spindle-server
//   cargo run --release -p spindle-bench --example seed_read -- \
//       --data-dir /work/bench-cache/read/ui-1m --traces 1000000
//   SPINDLE_BIN=target/release/spindle SPINDLE_BENCH_DATA=/work/bench-cache/read/ui-1m \
//       node tests/e2e/bench.mjs
//
// With SPINDLE_BENCH_DATABASE_URL=postgres://… it serves that database instead.
//
// It starts the server on that directory (the admin user comes from LANGFUSE_INIT_USER_*),
// times the public API's reads with fetch, then drives headless Chromium (Debian's
// `chromium`, playwright-core from ui/node_modules): the traces page until its table shows
// rows, filter changes (user, tag, metadata) until the table shows the filtered rows, the
// trace with 10,000 observations until its tree and its timeline show rows, and the time to
// data of every page (printed as a table of its own): from navigation until the page's API
// requests answered and the page shows what they returned.
//
// A small run, to check that it works (a few seconds of seeding):
//
//   cargo run -p spindle-bench --example seed_read -- --data-dir /tmp/ui-small --traces 2000
//   SPINDLE_BIN=target/debug/spindle SPINDLE_BENCH_DATA=/tmp/ui-small SPINDLE_BENCH_RUNS=3 \
//       node tests/e2e/bench.mjs

import { resolve } from "node:path";
import { BENCH, openBrowser, repo, signInBench, startBenchServer, waitFor } from "./harness.mjs";

const BIN = resolve(repo, process.env.SPINDLE_BIN ?? "target/release/spindle");
const DATA = process.env.SPINDLE_BENCH_DATA;
// PostgreSQL instead of the data directory's SQLite database (seeded by SQL beforehand).
const DATABASE_URL = process.env.SPINDLE_BENCH_DATABASE_URL;
const RUNS = Number(process.env.SPINDLE_BENCH_RUNS ?? 7);
// A regular expression: only the measurements whose label matches it run (all by default).
const ONLY = process.env.SPINDLE_BENCH_ONLY ? new RegExp(process.env.SPINDLE_BENCH_ONLY, "i") : null;
const wanted = (label) => !ONLY || ONLY.test(label);
const { project: PROJECT, publicKey: PK, secretKey: SK } = BENCH;

if (!DATA) {
  console.error("set SPINDLE_BENCH_DATA to a data directory seeded by the seed_read example (with SPINDLE_BENCH_DATABASE_URL: any directory, for media)");
  process.exit(2);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const figures = [];
function report(label, samples, extra = "") {
  const line = {
    label,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    runs: samples.length,
    extra,
  };
  figures.push(line);
  console.log(`${label}: median ${line.median.toFixed(1)} ms (min ${line.min.toFixed(1)}, max ${line.max.toFixed(1)}, ${line.runs} runs)${extra ? ` ${extra}` : ""}`);
}

const startedAt = performance.now();
const serveArgs = ["--data-dir", DATA];
if (DATABASE_URL) serveArgs.push("--database-url", DATABASE_URL);
const { server, base, serverLog } = await startBenchServer(BIN, serveArgs);

let browser;
try {
  await waitFor("the server to start", async () => (await fetch(`${base}/readyz`)).ok, 600, 50);
  console.log(`server ready after ${(performance.now() - startedAt).toFixed(0)} ms`);

  // --- public API ---
  const auth = { authorization: `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}` };
  async function timed(path, headers = auth) {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, { headers });
    const body = await response.json();
    const elapsed = performance.now() - started;
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
    return { elapsed, body };
  }
  async function measure(label, paths, headers = auth) {
    if (!wanted(label)) return undefined;
    const list = Array.isArray(paths) ? paths : [paths];
    await timed(list[0], headers); // warm-up, left out
    const samples = [];
    let last;
    for (let run = 0; run < RUNS; run++) {
      const { elapsed, body } = await timed(list[run % list.length], headers);
      samples.push(elapsed);
      last = body;
    }
    const total = last?.meta?.totalItems;
    report(label, samples, total !== undefined ? `(totalItems ${total})` : "");
    return last;
  }
  const filter = (conditions) => `filter=${encodeURIComponent(JSON.stringify(conditions))}`;
  const thirtyDaysAgo = new Date(Date.now() - 30 * 86_400_000).toISOString();
  const now = new Date().toISOString();

  await measure("API newest 50 traces", "/api/public/traces?limit=50");
  await measure("API traces by user", ["/api/public/traces?limit=50&userId=user-042", "/api/public/traces?limit=50&userId=user-317"]);
  await measure("API traces by tag", ["/api/public/traces?limit=50&tags=beta", "/api/public/traces?limit=50&tags=sales"]);
  await measure("API traces by two tags", "/api/public/traces?limit=50&tags=beta&tags=web");
  await measure(
    "API traces by metadata tenant = …",
    ["globex", "initech"].map(
      (tenant) => `/api/public/traces?limit=50&${filter([{ type: "stringObject", column: "metadata", key: "tenant", operator: "=", value: tenant }])}`,
    ),
  );
  await measure(
    "API traces by tag and metadata",
    `/api/public/traces?limit=50&tags=beta&${filter([{ type: "stringObject", column: "metadata", key: "region", operator: "=", value: "eu-west-1" }])}`,
  );
  await measure("API search phrase (input/output)", ["/api/public/traces?limit=50&search=refund%20policy", "/api/public/traces?limit=50&search=declined%20card"]);
  await measure("API scores by name and value range", "/api/public/v2/scores?limit=50&name=quality&operator=%3E%3D&value=0.95");
  await measure("API trace with 1,000 observations", "/api/public/traces/big-1000");
  await measure("API daily metrics, 30 days", `/api/public/metrics/daily?limit=50&fromTimestamp=${thirtyDaysAgo}&toTimestamp=${now}`);

  // --- web UI ---
  const opened = await openBrowser(120_000);
  browser = opened.browser;
  const { context, page } = opened;
  await signInBench(page, base);

  const session = { cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ") };
  await measure("UI API dashboard, 30 days", `/api/ui/projects/${PROJECT}/dashboard?fromTimestamp=${thirtyDaysAgo}&toTimestamp=${now}`, session);
  await measure("UI API traces, score name + range", `/api/ui/projects/${PROJECT}/traces?limit=50&scoreName=quality&scoreMin=0.95`, session);

  const tracesUrl = `${base}/project/${PROJECT}/traces`;
  const rowsShown = () => page.waitForFunction(() => document.querySelectorAll("table.data tbody tr[data-trace-id]").length > 0);

  // The traces page from navigation until its table shows rows.
  const firstRows = [];
  for (let run = 0; run < (wanted("UI traces page until rows show") ? RUNS : 0); run++) {
    await page.goto("about:blank");
    const started = performance.now();
    await page.goto(tracesUrl);
    await rowsShown();
    firstRows.push(performance.now() - started);
  }
  if (firstRows.length > 0) report("UI traces page until rows show", firstRows);

  // A filter change: from committing the field until the table shows rows that all match.
  async function filterChange(label, field, values, rowsMatch) {
    if (!wanted(label)) return;
    const samples = [];
    await page.goto(tracesUrl);
    await rowsShown();
    await page.getByRole("button", { name: /^Filters/ }).click();
    for (let run = 0; run <= RUNS; run++) {
      const value = values[run % values.length];
      const started = performance.now();
      await page.fill(`input[name="${field}"]`, value);
      await page.press(`input[name="${field}"]`, "Tab");
      await page.waitForFunction(rowsMatch, value);
      if (run > 0) samples.push(performance.now() - started); // the first run warms up
    }
    report(label, samples);
    await page.fill(`input[name="${field}"]`, "");
    await page.press(`input[name="${field}"]`, "Tab");
  }
  const cellsAllEqual = (column) =>
    `(value) => { const cells = [...document.querySelectorAll("table.data tbody tr[data-trace-id] td:nth-child(${column})")]; return cells.length > 0 && cells.every((cell) => cell.textContent === value); }`;
  const userColumn = await page.evaluate(() =>
    [...document.querySelectorAll("table.data thead th")].findIndex((th) => th.textContent.trim().toLowerCase() === "user") + 1,
  );
  await filterChange("UI filter change: user", "User", ["user-042", "user-317", "user-123"], cellsAllEqual(userColumn));
  await filterChange("UI filter change: tag", "Tags", ["beta", "sales", "mobile"], (value) => {
    const rows = [...document.querySelectorAll("table.data tbody tr[data-trace-id]")];
    return rows.length > 0 && rows.every((row) => [...row.querySelectorAll(".tag")].some((tag) => tag.textContent === value));
  });
  // Metadata: the key first (no value: no condition), then values in turn; the URL holds the
  // committed view, and the table is re-rendered once the rows of that view arrived.
  if (wanted("UI filter change: metadata tenant = …")) {
    await page.goto(tracesUrl);
    await rowsShown();
    await page.getByRole("button", { name: /^Filters/ }).click();
    await page.fill('input[name="Metadata key"]', "tenant");
    await page.press('input[name="Metadata key"]', "Tab");
    const samples = [];
    const values = ["globex", "initech", "acme"];
    for (let run = 0; run <= RUNS; run++) {
      const value = values[run % values.length];
      const answered = page.waitForResponse((response) => response.url().includes("/traces?") && decodeURIComponent(response.url()).includes(`"value":"${value}"`));
      const started = performance.now();
      await page.fill('input[name="Metadata value"]', value);
      await page.press('input[name="Metadata value"]', "Tab");
      await answered;
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      if (run > 0) samples.push(performance.now() - started);
    }
    report("UI filter change: metadata tenant = …", samples);
  }

  // The trace with 10,000 observations: until the tree shows rows, then the timeline.
  const treeTimes = [];
  const timelineTimes = [];
  for (let run = 0; run < (wanted("UI trace with 10,000 observations") ? RUNS : 0); run++) {
    await page.goto("about:blank");
    const started = performance.now();
    await page.goto(`${base}/project/${PROJECT}/traces/big-10000`);
    await page.waitForFunction(() => document.querySelectorAll(".tree .tree-row").length > 0 && document.body.textContent.includes("10,000 observations"));
    treeTimes.push(performance.now() - started);
    const switched = performance.now();
    await page.getByRole("tab", { name: /timeline/i }).click();
    await page.waitForFunction(() => document.querySelectorAll(".timeline .timeline-row").length > 0);
    timelineTimes.push(performance.now() - switched);
  }
  if (treeTimes.length > 0) {
    report("UI trace with 10,000 observations: tree", treeTimes);
    report("UI trace with 10,000 observations: switch to timeline", timelineTimes);
  }

  // Time to data of every page: from navigation (after about:blank) until each API request
  // the page makes has answered, its `ready` condition holds and two frames were drawn.
  const pageFigures = [];
  // A trace of the ordinary kind (the large ones are timed above), with its user and session.
  const newest = (await timed("/api/public/traces?limit=10")).body.data ?? [];
  const sampleTrace = newest.find((trace) => !trace.id.startsWith("big-"));
  const sampleUser = sampleTrace?.userId ?? "user-042";
  const sampleSession = sampleTrace?.sessionId ?? "session-000001";
  const project = `/api/ui/projects/${PROJECT}`;
  const shows = (selector) => `() => document.querySelector(${JSON.stringify(selector)}) !== null`;
  const settled = `() => !document.querySelector("main [aria-busy='true']") && !document.querySelector("main .loading-status")`;
  const PAGES = [
    ["traces", "/traces", [`${project}/traces?`], shows("table.data tbody tr[data-trace-id]")],
    ["observations", "/observations", [`${project}/observations?`], shows("table.data tbody tr[data-observation-id]")],
    ["scores", "/scores", [`${project}/scores?`], shows("table.data tbody tr[data-score-id]")],
    ["sessions", "/sessions", [`${project}/sessions?`], shows("table.data tbody td[data-col='session']")],
    ["users", "/users", [`${project}/users?`], shows("table.data tbody td[data-col='user']")],
    [
      "a user",
      `/users/${encodeURIComponent(sampleUser)}`,
      [`${project}/users/${encodeURIComponent(sampleUser)}?`, `${project}/sessions?userId=`, `${project}/traces?userId=`],
      `() => document.querySelector("dd[data-total='traces']")?.textContent !== "…" && document.querySelector("table.user-traces tbody tr") !== null`,
    ],
    ["a session", `/sessions/${encodeURIComponent(sampleSession)}`, [`${project}/sessions/${encodeURIComponent(sampleSession)}`], shows(".turn")],
    ["a trace", `/traces/${encodeURIComponent(sampleTrace?.id ?? "big-1000")}`, [`${project}/traces/`], shows(".tree .tree-row")],
    ["dashboard", "/dashboard", [`${project}/dashboard?`], settled],
    ["prompts", "/prompts", [`${project}/prompts?`], shows("table.data.prompts")],
    ["datasets", "/datasets", [`${project}/datasets?`], shows("table.data")],
    ["queues", "/queues", [`${project}/queues`], shows("table.data")],
    ["models", "/models", [`${project}/models`], shows("table.data")],
    ["settings", "/settings", [`${project}/keys`, `${project}/members`], shows("table.data")],
  ];
  for (const [name, path, requests, ready] of PAGES) {
    const label = `UI time to data: ${name}`;
    if (!wanted(label)) continue;
    const samples = [];
    for (let run = 0; run <= RUNS; run++) {
      await page.goto("about:blank");
      const answered = requests.map((prefix) => page.waitForResponse((response) => response.url().startsWith(`${base}${prefix}`) && response.ok()));
      const started = performance.now();
      await page.goto(`${base}/project/${PROJECT}${path}`);
      await Promise.all(answered);
      await page.waitForFunction(ready);
      await page.waitForFunction(settled);
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      if (run > 0) samples.push(performance.now() - started); // the first run warms up
    }
    report(label, samples);
    pageFigures.push({ name, path, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length });
  }
  if (pageFigures.length > 0) {
    console.log("\n| page | path | time to data, median | min | max | runs |\n|---|---|---|---|---|---|");
    for (const line of pageFigures) {
      console.log(`| ${line.name} | ${line.path} | ${line.median.toFixed(1)} ms | ${line.min.toFixed(1)} ms | ${line.max.toFixed(1)} ms | ${line.runs} |`);
    }
  }

  console.log("\n| what | median | min | max | runs |\n|---|---|---|---|---|");
  for (const line of figures) {
    console.log(`| ${line.label}${line.extra ? ` ${line.extra}` : ""} | ${line.median.toFixed(1)} ms | ${line.min.toFixed(1)} ms | ${line.max.toFixed(1)} ms | ${line.runs} |`);
  }
} catch (error) {
  console.error(error);
  console.error(serverLog.join("").slice(-4000));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
}
