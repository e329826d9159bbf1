// Screenshots of every page of the web UI in light and dark mode, for looking at them before a
// release: not a test (it asserts nothing but that each page shows its content) and CI does not
// run it.
//
//   cargo run --release -p spindle-bench --example seed_read -- \
//       --data-dir /tmp/shots-data --traces 2000 --observations-per-trace 10
//   SPINDLE_BIN=target/release/spindle SPINDLE_BENCH_DATA=/tmp/shots-data \
//       node tests/e2e/shots.mjs [output directory]
//
// It starts the server on that directory (as bench.mjs does), signs in, opens each page, waits
// until its loading states are gone and writes `<page>-<theme>.png` (1440 × 900, the first
// screen) into the output directory (default tests/e2e/screenshots/pages).

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { BENCH, here, openBrowser, repo, signInBench, startBenchServer, waitFor } from "./harness.mjs";

const BIN = resolve(repo, process.env.SPINDLE_BIN ?? "target/release/spindle");
const DATA = process.env.SPINDLE_BENCH_DATA;
const OUT = resolve(process.argv[2] ?? join(here, "screenshots", "pages"));
const { project: PROJECT, publicKey: PK, secretKey: SK } = BENCH;

if (!DATA) {
  console.error("set SPINDLE_BENCH_DATA to a data directory seeded by the seed_read example");
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });

const { server, base, serverLog } = await startBenchServer(BIN, ["--data-dir", DATA]);

let browser;
try {
  await waitFor("the server to start", async () => (await fetch(`${base}/readyz`)).ok, 600, 50);
  const auth = { authorization: `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}` };
  const first = async (path, field) => {
    const body = await (await fetch(`${base}${path}`, { headers: auth })).json();
    return body.data?.[0]?.[field];
  };
  // Pages that the seeded data leaves empty get one example each (ignored when it exists).
  const post = async (path, body) => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return response.ok ? response.json() : undefined;
  };
  await post("/api/public/v2/prompts", {
    name: "support/answer", type: "chat", labels: ["production"], tags: ["support"],
    prompt: [{ role: "system", content: "You answer {{product}} questions politely." }, { role: "user", content: "{{question}}" }],
    config: { model: "gpt-4o-mini", temperature: 0.2 },
  });
  await post("/api/public/v2/prompts", { name: "summarize", type: "text", prompt: "Summarize: {{text}}", labels: ["production"] });
  await post("/api/public/v2/datasets", { name: "support-questions", description: "Questions from the support inbox" });
  for (const question of ["Where is my order?", "How do I reset my password?", "Can I get a refund?"]) {
    await post("/api/public/dataset-items", { datasetName: "support-questions", input: { question }, expectedOutput: { topic: "support" } });
  }
  const config = await post("/api/public/score-configs", { name: "helpfulness", dataType: "NUMERIC", minValue: 0, maxValue: 1 });
  if (config) await post("/api/public/annotation-queues", { name: "weekly review", description: "A sample of traces", scoreConfigIds: [config.id] });

  const traceId = await first("/api/public/traces?limit=1", "id");
  const userId = await first("/api/public/traces?limit=1", "userId");
  const sessionId = await first("/api/public/traces?limit=1", "sessionId");

  const opened = await openBrowser(120_000);
  browser = opened.browser;
  const { page } = opened;
  await signInBench(page, base);

  const project = `/project/${PROJECT}`;
  const pages = [
    ["traces", `${project}/traces`],
    ["trace", `${project}/traces/${encodeURIComponent(traceId)}`],
    ["trace-big", `${project}/traces/big-1000`],
    ["observations", `${project}/observations`],
    ["scores", `${project}/scores`],
    ["sessions", `${project}/sessions`],
    ["session", `${project}/sessions/${encodeURIComponent(sessionId)}`],
    ["users", `${project}/users`],
    ["user", `${project}/users/${encodeURIComponent(userId)}`],
    ["dashboard", `${project}/dashboard`],
    ["prompts", `${project}/prompts`],
    ["prompt", `${project}/prompts/${encodeURIComponent("support/answer")}`],
    ["dataset", `${project}/datasets/support-questions`],
    ["datasets", `${project}/datasets`],
    ["queues", `${project}/queues`],
    ["models", `${project}/models`],
    ["settings", `${project}/settings`],
    ["organization", `${project}/organization`],
  ];
  for (const theme of ["light", "dark"]) {
    await page.evaluate((chosen) => localStorage.setItem("spindle-theme", chosen), theme);
    for (const [name, path] of pages) {
      await page.goto(`${base}${path}`);
      await page.locator("main").waitFor();
      // Loading states are marked with aria-busy or say "Loading…"; wait until none is left.
      const loaded = () =>
        !document.querySelector('[aria-busy="true"]') && !/Loading/.test(document.querySelector("main")?.textContent ?? "");
      await page.waitForFunction(loaded, undefined, { timeout: 60_000 }).catch(() => {
        console.warn(`${name} (${theme}): still loading after 60 s`);
      });
      await page.waitForTimeout(300);
      const file = join(OUT, `${name}-${theme}.png`);
      await page.screenshot({ path: file, fullPage: false });
      console.log(file);
    }
  }
} catch (error) {
  console.error(error);
  console.error(serverLog.join(""));
  process.exitCode = 1;
} finally {
  await browser?.close();
  server.kill();
}
