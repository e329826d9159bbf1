// What the UI end-to-end test (run.mjs) and the read-path benchmark (bench.mjs) share:
// starting the server binary on a free port, waiting for it, and launching headless
// Chromium (Debian's `chromium`, driven by playwright-core from ui/node_modules).

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "..", "..");
const require = createRequire(join(repo, "ui", "package.json"));
const { chromium } = require("playwright-core");

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Calls `check` every `intervalMs` until it returns true; throws after `attempts` tries. */
export async function waitFor(what, check, attempts = 300, intervalMs = 100) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((done) => setTimeout(done, intervalMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

// keys of startServer's `init` -> the server's first-start variables
const INIT_VARIABLES = {
  orgId: "LANGFUSE_INIT_ORG_ID",
  orgName: "LANGFUSE_INIT_ORG_NAME",
  projectId: "LANGFUSE_INIT_PROJECT_ID",
  projectName: "LANGFUSE_INIT_PROJECT_NAME",
  publicKey: "LANGFUSE_INIT_PROJECT_PUBLIC_KEY",
  secretKey: "LANGFUSE_INIT_PROJECT_SECRET_KEY",
  email: "LANGFUSE_INIT_USER_EMAIL",
  password: "LANGFUSE_INIT_USER_PASSWORD",
};

/** Starts `bin serve` on a free port of 127.0.0.1 with `args` after the port, SPINDLE_LOG=warn
 * and the first-start variables of `init` (organization, project, keys, admin user); collects
 * its output in `serverLog`. */
export async function startServer(bin, args, init) {
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(init).map(([key, value]) => [INIT_VARIABLES[key], value]));
  const serverLog = [];
  const server = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", String(port), ...args], {
    env: { ...process.env, SPINDLE_LOG: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.on("data", (chunk) => serverLog.push(chunk.toString()));
  server.stderr.on("data", (chunk) => serverLog.push(chunk.toString()));
  return { server, base: `http://127.0.0.1:${port}`, serverLog };
}

/** Headless Chromium, and a page of a 1440 × 900 light-mode context with `timeoutMs` as its
 * default timeout. */
export async function openBrowser(timeoutMs) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light" });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  return { browser, context, page };
}

// The project, keys and admin of the benchmark data directories (`seed_read`), which bench.mjs
// and shots.mjs serve.
export const BENCH = {
  project: "bench-project",
  email: "admin@bench.test",
  password: "bench-password-1",
  publicKey: "pk-lf-bench",
  secretKey: "sk-lf-bench",
};

/** `startServer` with the benchmark data's first-start identity (see `BENCH`). */
export function startBenchServer(bin, args) {
  return startServer(bin, args, {
    orgId: "default-org",
    projectId: BENCH.project,
    publicKey: BENCH.publicKey,
    secretKey: BENCH.secretKey,
    email: BENCH.email,
    password: BENCH.password,
  });
}

/** Signs `page` in as the benchmark admin and waits for the traces page. */
export async function signInBench(page, base) {
  await page.goto(base);
  await page.fill('input[name="email"]', BENCH.email);
  await page.fill('input[name="password"]', BENCH.password);
  await page.click('button[type="submit"]');
  await page.getByRole("heading", { name: "Traces" }).waitFor();
}
