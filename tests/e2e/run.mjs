// End-to-end test of the web UI in headless Chromium (Debian's `chromium`, driven by
// playwright-core from ui/node_modules). Builds nothing: starts the server binary from
// SPINDLE_BIN (default target/debug/spindle) on a free port with a temp data dir, sends
// traces with the official Python SDK, then signs in and walks the pages.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { here, openBrowser, repo, startServer, waitFor } from "./harness.mjs";

const BIN = resolve(repo, process.env.SPINDLE_BIN ?? "target/debug/spindle");
const PYTHON = resolve(repo, process.env.SPINDLE_E2E_PYTHON ?? "tests/compat/.venv-v5/bin/python");
const SHOTS = join(here, "screenshots");
const EMAIL = "admin@e2e.test";
const PASSWORD = "e2e-password-1";
const PK = "pk-lf-e2e";
const SK = "sk-lf-e2e";
const publicAuth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;

const results = [];
async function step(name, body) {
  process.stdout.write(`• ${name} … `);
  try {
    await body();
    results.push([name, true]);
    console.log("ok");
  } catch (error) {
    results.push([name, false]);
    console.log("FAILED");
    throw error;
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

const dataDir = mkdtempSync(join(tmpdir(), "spindle-e2e-"));
const logPath = join(dataDir, "server.log");
const { server, base, serverLog } = await startServer(BIN, ["--data-dir", join(dataDir, "data")], {
  orgId: "e2e-org", orgName: "E2E Org", projectId: "e2e", projectName: "E2E project",
  publicKey: PK, secretKey: SK, email: EMAIL, password: PASSWORD,
});
let browser;
let failed = false;

try {
  await step("server starts", () => waitFor("the server to be ready", async () => (await fetch(`${base}/readyz`)).ok));

  let ids;
  await step("the Python SDK sends traces", async () => {
    const output = execFileSync(PYTHON, [join(here, "send_traces.py")], {
      env: { ...process.env, LANGFUSE_BASE_URL: base, LANGFUSE_PUBLIC_KEY: PK, LANGFUSE_SECRET_KEY: SK },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    ids = JSON.parse(output.trim().split("\n").pop());
    const auth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;
    await waitFor("5 traces", async () => {
      const answer = await (await fetch(`${base}/api/public/traces?limit=10`, { headers: { authorization: auth } })).json();
      return answer.data?.length === 5;
    });
  });

  mkdirSync(SHOTS, { recursive: true });
  const opened = await openBrowser(20_000);
  browser = opened.browser;
  const { context, page } = opened;
  const dialogs = [];
  const pageErrors = [];
  // Dialogs are dismissed unless a step sets this to accept them.
  let acceptDialogs = false;
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    (acceptDialogs ? dialog.accept() : dialog.dismiss()).catch(() => {});
  });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  const rows = page.locator("table.data tbody tr");
  const expectRows = async (count, what) => {
    await page.waitForFunction(
      (expected) => document.querySelectorAll("table.data tbody tr").length === expected,
      count,
      { timeout: 20_000 },
    ).catch(async () => {
      throw new Error(`${what}: expected ${count} rows, got ${await rows.count()}`);
    });
  };
  // Opens the project's `table` page with no columns remembered, then checks and unchecks
  // columns in its picker, closed again once the id column shows.
  const pickColumns = async (table, check, uncheck) => {
    await page.evaluate((key) => localStorage.removeItem(key), `spindle.${table}.columns`);
    await page.goto(`${base}/project/e2e/${table}`);
    await rows.first().waitFor();
    await page.locator(".column-picker summary").click();
    for (const name of check) await page.getByRole("checkbox", { name }).check();
    for (const name of uncheck) await page.getByRole("checkbox", { name }).uncheck();
    await page.locator("th[data-col='id']").waitFor();
    await page.locator(".column-picker summary").click();
  };

  await step("sign in with a wrong password is refused", async () => {
    await page.goto(base);
    await page.fill('input[name="email"]', EMAIL);
    await page.screenshot({ path: join(SHOTS, "sign-in.png"), fullPage: false });
    await page.fill('input[name="password"]', "not-the-password");
    await page.click('button[type="submit"]');
    await page.locator('[role="alert"]').waitFor();
    assert((await page.locator('[role="alert"]').textContent()).includes("wrong email or password"), "error shown");
  });

  await step("sign in", async () => {
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.getByRole("heading", { name: "Traces" }).waitFor();
    await expectRows(5, "all traces");
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === "spindle_session");
    assert(session && session.httpOnly && session.sameSite === "Lax", "HttpOnly SameSite=Lax cookie");
    await page.screenshot({ path: join(SHOTS, "traces.png"), fullPage: false });
  });

  await step("filter by user", async () => {
    await page.getByRole("button", { name: /^Filters/ }).click();
    await page.fill('input[name="User"]', "alice");
    await page.press('input[name="User"]', "Tab");
    await expectRows(2, "alice's traces");
    assert(new URL(page.url()).searchParams.get("userId") === "alice", "the filter is in the URL");
    const users = await page.locator("table.data tbody tr td[data-col='user']").allTextContents();
    assert(users.every((user) => user === "alice"), `only alice: ${users}`);
  });

  await step("the filtered view survives a reload (URL state)", async () => {
    await page.reload();
    await expectRows(2, "alice's traces after reload");
  });

  await step("filter by score", async () => {
    await page.goto(`${base}/project/e2e/traces`);
    await expectRows(5, "all traces");
    await page.getByRole("button", { name: /^Filters/ }).click();
    await page.fill('input[name="Score name"]', "quality");
    await page.press('input[name="Score name"]', "Tab");
    await expectRows(2, "traces with a quality score");
    await page.fill('input[name="Score ≤"]', "0.5");
    await page.press('input[name="Score ≤"]', "Tab");
    await expectRows(1, "low quality");
    assert((await rows.first().getAttribute("data-trace-id")) === ids.bob, "bob's trace");
  });

  await step("search finds metadata keys and values; an estimated total reads 'about'", async () => {
    await page.goto(`${base}/project/e2e/traces?search=evil`);
    await expectRows(1, "the trace whose observation has an 'evil' metadata key");
    assert((await rows.first().textContent()).includes("mallory"), "mallory's trace");
    const pager = page.locator(".pager span").first();
    assert(!(await pager.textContent()).includes("about"), `a counted total: ${await pager.textContent()}`);
    // The server marks the total of a search for common words as an estimate.
    const tracesApi = (url) => url.pathname === "/api/ui/projects/e2e/traces";
    await page.route(tracesApi, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body.meta = { ...body.meta, totalItems: 12345, totalPages: 247, totalIsEstimate: true };
      await route.fulfill({ response, json: body });
    });
    try {
      await page.goto(`${base}/project/e2e/traces?search=support`);
      await page.locator(".pager span", { hasText: "about 12,345 traces" }).waitFor({ timeout: 20_000 });
      assert((await pager.textContent()).includes("of about 247"), `the page count too: ${await pager.textContent()}`);
    } finally {
      await page.unroute(tracesApi);
    }
  });

  await step("search a phrase from an output (the / key focuses the search)", async () => {
    await page.goto(`${base}/project/e2e/traces`);
    await expectRows(5, "all traces");
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("/");
    assert(await page.evaluate(() => document.activeElement?.getAttribute("name") === "search"), "/ focuses search");
    await page.keyboard.type("purple lighthouse");
    await page.keyboard.press("Enter");
    await expectRows(1, "search results");
    assert((await rows.first().getAttribute("data-trace-id")) === ids.turn0, "the first turn");
  });

  await step("open a trace and read an input", async () => {
    await rows.first().locator("td[data-col='name'] a").click();
    await page.locator(".tree-row", { hasText: "answer-llm" }).first().waitFor();
    const traceInput = await page.locator(".detail").textContent();
    assert(traceInput.includes("How do I reset my password?"), "trace input shown");
    await page.locator(".tree-row", { hasText: "answer-llm" }).first().click();
    await page.locator(".detail .message[data-role='user']").waitFor();
    const user = await page.locator(".detail .message[data-role='user']").textContent();
    assert(user.includes("How do I reset my password?"), `generation input as a conversation: ${user}`);
    const detail = await page.locator(".detail").textContent();
    assert(detail.includes("gpt-4o-mini"), "model shown");
  });

  await step("switch to the timeline", async () => {
    await page.getByRole("tab", { name: "Timeline" }).click();
    await page.locator(".timeline-bar").first().waitFor();
    assert((await page.locator(".timeline-bar").count()) >= 3, "one bar per observation");
    assert(new URL(page.url()).searchParams.get("view") === "timeline", "the tab is in the URL");
    await page.screenshot({ path: join(SHOTS, "trace.png"), fullPage: false });
  });

  let traceUrl = "";
  await step("add a score", async () => {
    traceUrl = page.url();
    await page.locator(".trace-root").click();
    await page.fill('input[name="score-name"]', "e2e-helpful");
    await page.fill('input[name="score-value"]', "1");
    await page.fill('input[name="score-comment"]', "added from the browser");
    await page.getByRole("button", { name: "Add score" }).click();
    await page.locator(".scores li", { hasText: "e2e-helpful" }).waitFor();
    assert((await page.locator(".scores li", { hasText: "e2e-helpful" }).textContent()).includes("annotation"), "annotation source");
  });

  await step("comment on the trace and on an observation; the list counts them", async () => {
    const traceId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    await page.fill('textarea[name="comment"]', "Looks **right** <img src=x onerror=\"window.__commentXss = 1\">");
    await page.getByRole("button", { name: "Comment", exact: true }).click();
    const traceComment = page.locator("[aria-label='Comments on the trace'] .comment", { hasText: "Looks" });
    await traceComment.waitFor();
    assert((await traceComment.locator("strong", { hasText: "right" }).count()) === 1, "Markdown emphasis as an element");
    assert((await traceComment.locator("img").count()) === 0, "no image element from the comment");
    assert((await traceComment.textContent()).includes("<img src=x"), "the tag shown as text");
    assert((await traceComment.locator(".comment-head").textContent()).includes(EMAIL), "the signed-in member is the author");
    await page.getByRole("tab", { name: "Tree" }).click();
    await page.locator(".tree-row", { hasText: "answer-llm" }).first().click();
    await page.fill('textarea[name="comment"]', "check the model");
    await page.getByRole("button", { name: "Comment", exact: true }).click();
    await page.locator("[aria-label='Comments on the observation'] .comment", { hasText: "check the model" }).waitFor();
    assert((await page.locator("[aria-label='Comments on the trace']").count()) === 0, "the trace's thread is not shown for an observation");
    assert(!(await page.evaluate(() => window.__commentXss)), "no script ran");
    await page.screenshot({ path: join(SHOTS, "comments.png"), fullPage: false });
    await page.goto(`${base}/project/e2e/traces`);
    const count = page.locator(`tr[data-trace-id='${traceId}'] .comment-count`);
    await count.waitFor();
    assert((await count.textContent()).includes("1"), `one comment on the trace in the list: ${await count.textContent()}`);
    // The list keeps only the traces with comments on them, from the URL too.
    await page.locator("select[aria-label='Comments']").selectOption("with");
    await waitFor("only commented traces", async () => {
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-trace-id")));
      return ids.length === 1 && ids[0] === traceId;
    }, 50, 200);
    assert(new URL(page.url()).searchParams.get("comments") === "with", `the filter is in the URL: ${page.url()}`);
    await page.locator("select[aria-label='Comments']").selectOption("");
    await page.goto(`${base}/project/e2e/traces/${encodeURIComponent(traceId)}`);
    await page.locator(".trace-root").click();
  });

  await step("open the session", async () => {
    await page.locator(".trace-head a", { hasText: "support-session-1" }).click();
    await page.getByRole("heading", { name: /Session support-session-1/ }).waitFor();
    await page.locator(".turn").nth(1).waitFor();
    assert((await page.locator(".turn").count()) === 2, "two turns");
    const text = await page.locator(".turns").textContent();
    assert(text.indexOf("How do I reset my password?") < text.indexOf("And where are settings?"), "turns in order");
  });

  await step("comment on the session", async () => {
    await page.fill('textarea[name="comment"]', "both turns answered");
    await page.getByRole("button", { name: "Comment", exact: true }).click();
    await page.locator("[aria-label='Comments on the session'] .comment", { hasText: "both turns answered" }).waitFor();
    await page.reload();
    await page.locator("[aria-label='Comments on the session'] .comment", { hasText: "both turns answered" }).waitFor();
  });

  await step("the users list and a user page", async () => {
    await page.goto(`${base}/project/e2e/users`);
    await page.locator("table.data tbody tr a", { hasText: "alice" }).click();
    await page.getByRole("heading", { name: "User alice" }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("table.user-traces tbody tr").length === 2);
    await page.locator("table.user-sessions a", { hasText: "support-session-1" }).waitFor();
  });

  await step("the users list filtered by a score's average, shown as a column", async () => {
    await page.goto(`${base}/project/e2e/users`);
    await page.locator("table.data tbody tr a", { hasText: "alice" }).waitFor();
    const filters = page.locator("form.totals-filters");
    const listed = async (wanted) => {
      await page.waitForFunction(
        (names) => [...document.querySelectorAll("table.data:not(.stale) tbody tr td[data-col='user']")].map((td) => td.textContent).join(",") === names,
        wanted,
      );
      return page.locator("table.data tbody tr td[data-col='score']").allTextContents();
    };
    await filters.locator('input[name="scoreName"]').fill("quality");
    await filters.locator('input[name="scoreMin"]').fill("0.5");
    await filters.locator('button[type="submit"]').click();
    assert((await listed("alice")).join() === "0.900", "alice's average quality");
    await page.locator("th[data-col='score']", { hasText: "quality (avg)" }).waitFor();
    const url = new URL(page.url()).searchParams;
    assert(url.get("scoreName") === "quality" && url.get("scoreMin") === "0.5", `the score filter is in the URL: ${url}`);
    await filters.locator('input[name="scoreMin"]').fill("");
    await filters.locator('input[name="scoreMax"]').fill("0.5");
    await filters.locator('button[type="submit"]').click();
    assert((await listed("bob")).join() === "0.100", "bob's average quality");
    await page.reload();
    assert((await listed("bob")).join() === "0.100", "the score filter survives a reload");
  });

  await step("the sessions list shows totals", async () => {
    await page.goto(`${base}/project/e2e/sessions`);
    const row = page.locator("table.data tbody tr", { hasText: "support-session-1" });
    await row.waitFor();
    const traces = await row.locator("td[data-col='traces']").textContent();
    assert(traces === "2", `two traces: ${traces}`);
    const users = await row.locator("td[data-col='users']").textContent();
    assert(users === "alice", `users: ${users}`);
  });

  await step("XSS payloads render as text and no script runs", async () => {
    await page.goto(`${base}/project/e2e/traces?userId=mallory`);
    await expectRows(1, "mallory's trace");
    const name = await rows.first().locator("td[data-col='name']").textContent();
    assert(name.includes("<img src=x"), `the name is shown as text: ${name}`);
    await rows.first().locator("td[data-col='name'] a").click();
    await page.locator(".detail h2", { hasText: "Trace" }).waitFor();
    await page.locator(".tree-row", { hasText: "chat-" }).first().click();
    await page.locator(".detail .message[data-role='user']").waitFor();
    const shown = await page.locator(".detail .message[data-role='user']").textContent();
    assert(shown.includes('<script>window.__xss=2</script>'), "the payload is visible as text");
    const injected = await page.evaluate(() => ({
      xss: window.__xss,
      images: document.querySelectorAll('img[src="x"]').length,
      scripts: [...document.querySelectorAll("script")].filter((script) => !script.src).length,
    }));
    assert(injected.xss === undefined, "no injected script ran");
    assert(injected.images === 0, "no injected element exists");
    assert(injected.scripts === 0, "no inline script element exists");
    assert(dialogs.length === 0, `no dialog fired: ${dialogs}`);
    await page.screenshot({ path: join(SHOTS, "xss-trace.png"), fullPage: false });
  });

  await step("an image uploaded by the SDK shows in the output", async () => {
    await page.goto(`${base}/project/e2e/traces/${ids.image}`);
    const image = page.locator(".detail .media-list img");
    await image.waitFor();
    await page.waitForFunction(() => {
      const element = document.querySelector(".detail .media-list img");
      return element instanceof HTMLImageElement && element.complete && element.naturalWidth === 8;
    });
    assert((await image.getAttribute("src")).startsWith("/api/ui/projects/e2e/media/"), "served by the UI API");
  });

  await step("observations: generations first, filtered by model", async () => {
    await page.goto(`${base}/project/e2e/observations`);
    await expectRows(4, "generations");
    await page.fill('input[name="Model"]', "gpt-4o-mini");
    await page.press('input[name="Model"]', "Tab");
    await expectRows(2, "gpt-4o-mini generations");
    const models = await page.locator("table.data tbody tr td[data-col='model']").allTextContents();
    assert(models.every((model) => model === "gpt-4o-mini"), `models: ${models}`);
  });

  await step("observations: sorted by latency on the server (sort in the URL), selected rows exported", async () => {
    await page.goto(`${base}/project/e2e/observations`);
    await expectRows(4, "generations");
    const sorted = page.waitForResponse((response) => response.url().includes("/api/ui/projects/e2e/observations?") && response.url().includes("orderBy=latency.desc"));
    await page.locator("th button.sort", { hasText: "Latency" }).click();
    await sorted;
    await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") === "latency.desc");
    await page.locator("th[data-col='latency'][aria-sort='descending']").waitFor();
    await page.locator("table.data:not(.stale)").waitFor();
    // The order the server gives, by latency then id, both descending (no latency last).
    const listed = await page.evaluate(async () => (await (await fetch("/api/ui/projects/e2e/observations?type=GENERATION&limit=50")).json()).data);
    const expected = listed
      .map((observation) => [observation.id, observation.latency ?? -Infinity])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
      .map(([id]) => id);
    const shownOrder = () => page.locator("table.data tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-observation-id")));
    assert(JSON.stringify(await shownOrder()) === JSON.stringify(expected), `sorted by latency: ${await shownOrder()} vs ${expected}`);
    await page.reload();
    await expectRows(4, "generations after a reload");
    assert(JSON.stringify(await shownOrder()) === JSON.stringify(expected), "the sort survives a reload");
    const ascending = page.waitForResponse((response) => response.url().includes("/api/ui/projects/e2e/observations?") && response.url().includes("orderBy=latency.asc"));
    await page.locator("th button.sort", { hasText: "Latency" }).click();
    await ascending;
    await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") === "latency.asc");
    await page.locator("th[data-col='latency'][aria-sort='ascending']").waitFor();
    await page.locator("table.data:not(.stale)").waitFor();
    await rows.nth(0).locator("td.select input").click();
    await rows.nth(1).locator("td.select input").click({ modifiers: ["Shift"] });
    const bulk = page.getByRole("region", { name: "Selected observations" });
    await bulk.getByText("2 observations selected").waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), bulk.getByRole("button", { name: "Export JSON" }).click()]);
    const path = join(dataDir, "observations.json");
    await download.saveAs(path);
    const exported = JSON.parse(readFileSync(path, "utf8"));
    assert(exported.length === 2 && exported.every((observation) => observation.type === "GENERATION" && "input" in observation), `the export: ${JSON.stringify(exported).slice(0, 300)}`);
  });

  await step("scores: the column picker survives a reload and is remembered; sort by value", async () => {
    await pickColumns("scores", ["Score id"], ["Comment"]);
    assert(new URL(page.url()).searchParams.get("cols") === "time,id,name,value,source,trace", `the columns are in the URL: ${page.url()}`);
    await page.reload();
    await page.locator("th[data-col='id']").waitFor();
    assert((await page.locator("th[data-col='comment']").count()) === 0, "the comment column stays hidden");
    const id = await rows.first().locator("td[data-col='id'] code").textContent();
    assert(id.length > 0, "the score's id is shown");
    // Another visit without columns in its URL shows the columns this browser chose last.
    await page.goto(`${base}/project/e2e/scores`);
    await page.locator("th[data-col='id']").waitFor();
    await page.locator("th button.sort", { hasText: "Value" }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") === "value.desc");
    await page.locator("th[data-col='value'][aria-sort='descending']").waitFor();
  });

  await step("the top bar fits one line at 1440 px; the less visited pages are under More", async () => {
    await page.goto(`${base}/project/e2e/traces`);
    await rows.first().waitFor();
    const tops = await page
      .locator("nav[aria-label='Sections'] > a, nav[aria-label='Sections'] > details > summary")
      .evaluateAll((items) => items.map((item) => Math.round(item.getBoundingClientRect().top)));
    assert(tops.length === 10 && new Set(tops).size === 1, `one line of sections: ${tops}`);
    const height = await page.locator("header.topbar").evaluate((bar) => bar.getBoundingClientRect().height);
    assert(height < 60, `the top bar is one line high: ${height}`);
    await page.locator(".nav-more summary").click();
    await page.getByRole("menu").getByRole("link", { name: "Settings" }).click();
    await page.waitForFunction(() => location.pathname.endsWith("/settings"));
    await page.locator(".nav-more:not([open]) summary.active", { hasText: "Settings" }).waitFor();
  });

  await step("a trace of 10,000 observations renders only the rows in view", async () => {
    const auth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;
    const start = Date.parse("2026-01-01T00:00:00Z");
    const iso = (ms) => new Date(start + ms).toISOString();
    const batch = [{ id: "big-t", type: "trace-create", timestamp: iso(0), body: { id: "big-trace", name: "big", timestamp: iso(0) } }];
    for (let index = 0; index < 10_000; index++) {
      const parent = index % 100 === 0 ? undefined : `big-${index - (index % 100)}`;
      batch.push({
        id: `big-e${index}`,
        type: "span-create",
        timestamp: iso(index),
        body: { id: `big-${index}`, traceId: "big-trace", parentObservationId: parent, name: `step-${index}`, startTime: iso(index), endTime: iso(index + 5) },
      });
    }
    const sent = await fetch(`${base}/api/public/ingestion`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ batch }),
    });
    assert(sent.ok, `ingestion answered ${sent.status}`);
    const opened = Date.now();
    await page.goto(`${base}/project/e2e/traces/big-trace`);
    await page.locator(".pane.left", { hasText: "10,000 observations" }).waitFor({ timeout: 60_000 });
    await page.locator(".tree [role='treeitem']").first().waitFor();
    // Informational only (debug build, shared machine): speed lives in benchmarks.
    console.log(`(opened in ${Date.now() - opened} ms) `);
    const rendered = await page.locator(".tree [role='treeitem']").count();
    assert(rendered > 0 && rendered < 300, `only the rows in view are rendered: ${rendered}`);
    await page.locator(".tree").evaluate((element) => {
      element.scrollTop = element.scrollHeight;
      element.dispatchEvent(new Event("scroll"));
    });
    await page.locator(".tree [data-id='big-9999']").click();
    await page.locator(".detail h2", { hasText: "step-9999" }).waitFor();
    await page.locator(".tree").evaluate((element) => {
      element.scrollTop = 0;
      element.dispatchEvent(new Event("scroll"));
    });
    await page.locator(".tree [data-id='big-1']").waitFor();
    await page.locator(".tree [data-id='big-0'] button.toggle").click();
    await page.locator(".tree [data-id='big-1']").waitFor({ state: "detached" });
    // The selected observation stays in view when rows above it collapse.
    await page.locator(".tree [data-id='big-9999']").waitFor();
    await page.getByRole("tab", { name: "Timeline" }).click();
    const bars = await page.locator(".timeline-bar").count();
    assert(bars > 0 && bars < 300, `only the bars in view are rendered: ${bars}`);
    await page.locator(".tree [data-id='big-0'] button.toggle").waitFor({ state: "detached" });
    await page.locator(".timeline-rows").evaluate((element) => {
      element.scrollTop = 0;
      element.dispatchEvent(new Event("scroll"));
    });
    await page.locator(".timeline-row[data-id='big-0'] button.toggle").click();
    // The selected observation stays in view as the rows above it unfold.
    await page.locator(".timeline-row[data-id='big-9999']").waitFor();
    await page.locator(".timeline-rows").evaluate((element) => {
      element.scrollTop = 0;
      element.dispatchEvent(new Event("scroll"));
    });
    await page.locator(".timeline-row[data-id='big-1']").waitFor();
    // Scrolling the timeline to its end renders the last rows, never all of them.
    const scrolled = Date.now();
    await page.locator(".timeline-rows").evaluate(async (element) => {
      for (let step = 1; step <= 20; step++) {
        element.scrollTop = (element.scrollHeight * step) / 20;
        element.dispatchEvent(new Event("scroll"));
        await new Promise((done) => requestAnimationFrame(done));
      }
    });
    await page.locator(".timeline-row[data-id='big-9999']").waitFor();
    console.log(`(scrolled in ${Date.now() - scrolled} ms) `);
    const timelineRows = await page.locator(".timeline-row").count();
    assert(timelineRows > 0 && timelineRows < 300, `only the timeline rows in view are rendered: ${timelineRows}`);
    // Zooming in narrows the axis; Fit shows the whole trace again.
    const before = await page.locator(".timeline-tick").allTextContents();
    await page.getByRole("button", { name: "Zoom in" }).click();
    await page.getByRole("button", { name: "Zoom in" }).click();
    const after = await page.locator(".timeline-tick").allTextContents();
    assert(after.join() !== before.join(), `the axis changed: ${before} → ${after}`);
    await page.getByRole("button", { name: "Fit" }).click();
    assert((await page.locator(".timeline-tick").allTextContents()).join() === before.join(), "fit restores the axis");
    assert((await page.locator(".timeline-row.critical").count()) > 0, "the critical path is marked");
  });

  await step("live: a new trace appears without reloading", async () => {
    await page.goto(`${base}/project/e2e/traces`);
    await expectRows(6, "all traces");
    const auth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;
    const sent = await fetch(`${base}/api/public/ingestion`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({
        batch: [
          {
            id: "live-event",
            type: "trace-create",
            timestamp: new Date().toISOString(),
            body: { id: "live-trace", name: "arrived-live", timestamp: new Date().toISOString() },
          },
        ],
      }),
    });
    assert(sent.ok, `ingestion answered ${sent.status}`);
    await expectRows(7, "after a new trace arrived");
    assert((await rows.first().textContent()).includes("arrived-live"), "the new trace is on top");
  });

  await step("a slow search shows its loading state, and live refresh never overlaps requests", async () => {
    // Every traces request is held 6 s before it reaches the server, as a slow query would be:
    // longer than the 5 s live-refresh period, which therefore must wait for it.
    const tracesApi = (url) => url.pathname === "/api/ui/projects/e2e/traces";
    let inFlight = 0;
    let most = 0;
    let requests = 0;
    await page.route(tracesApi, async (route) => {
      inFlight += 1;
      requests += 1;
      most = Math.max(most, inFlight);
      await new Promise((done) => setTimeout(done, 6000));
      try {
        await route.continue();
      } catch {
        // The page cancelled the request meanwhile.
      }
      inFlight -= 1;
    });
    try {
      await page.fill('input[type="search"]', "support");
      await page.keyboard.press("Enter");
      const status = page.locator('[role="status"]', { hasText: "Loading" });
      await status.waitFor({ timeout: 3000 });
      assert((await page.locator("table.data.stale").count()) === 1, "the previous rows are dimmed while loading");
      await status.waitFor({ state: "detached", timeout: 30_000 });
      // Live refresh runs on the first page: after a 6 s answer it waits four times as long,
      // so in 15 s it asks at most once, and never while a request is in flight.
      const before = requests;
      await page.waitForTimeout(15_000);
      assert(most === 1, `at most one traces request in flight, saw ${most}`);
      assert(requests - before <= 1, `live refresh asked ${requests - before} times in 15 s`);
    } finally {
      await page.unroute(tracesApi);
    }
    await page.goto(`${base}/project/e2e/traces`);
    await expectRows(7, "all traces again");
  });

  await step("dark theme and the tree", async () => {
    await page.getByRole("button", { name: "Toggle theme" }).click();
    assert((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark theme applied");
    await page.goto(`${base}/project/e2e/traces/${ids.turn1}`);
    await page.locator(".tree-row", { hasText: "answer-llm" }).first().click();
    await page.locator(".detail .message[data-role='assistant']").waitFor();
    await page.screenshot({ path: join(SHOTS, "trace-tree-dark.png"), fullPage: false });
    await page.getByRole("button", { name: "Toggle theme" }).click();
  });

  await step("the dashboard: a custom range and a filter, checked against the data sent", async () => {
    await page.goto(`${base}/project/e2e/dashboard`);
    await page.locator("figcaption", { hasText: "Traces per day" }).waitFor();
    // A custom range from yesterday to tomorrow (local times, as the inputs hold them).
    const local = (ms) => {
      const date = new Date(ms);
      const pad = (n) => String(n).padStart(2, "0");
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    };
    const fromLocal = local(Date.now() - 86_400_000);
    const toLocal = local(Date.now() + 86_400_000);
    await page.getByRole("tab", { name: "Custom" }).click();
    for (const [label, value] of [["From", fromLocal], ["To", toLocal]]) {
      const input = page.getByLabel(label, { exact: true });
      await input.fill(value);
      await input.dispatchEvent("change");
    }
    await page.waitForURL((url) => url.searchParams.get("range") === "custom" && url.searchParams.get("to") === toLocal);
    const fromIso = new Date(fromLocal).toISOString();
    const toIso = new Date(toLocal).toISOString();
    const stat = (label) => page.locator(`[data-testid='stat-${label}'] strong`);
    const settled = async (label) => {
      await page.waitForFunction((selector) => {
        const text = document.querySelector(selector)?.textContent ?? "…";
        return text !== "…" && document.querySelector(".cards")?.getAttribute("aria-busy") === "false";
      }, `[data-testid='stat-${label}'] strong`);
      return (await stat(label).textContent()).replace(/,/g, "");
    };
    const publicCount = async (path) => {
      const answer = await (await fetch(`${base}${path}`, { headers: { authorization: publicAuth } })).json();
      return answer.meta.totalItems;
    };
    const range = `fromTimestamp=${encodeURIComponent(fromIso)}&toTimestamp=${encodeURIComponent(toIso)}`;
    const allTraces = await publicCount(`/api/public/traces?limit=1&${range}`);
    assert(allTraces >= 5, `traces sent: ${allTraces}`);
    assert((await settled("Traces")) === String(allTraces), `all traces shown: ${await stat("Traces").textContent()} of ${allTraces}`);
    assert(Number(await settled("Errors")) >= 1, "bob's failed generation counts as an error");
    await page.screenshot({ path: join(SHOTS, "dashboard.png"), fullPage: true });

    // One user: every panel narrows to alice's traces, in the URL.
    const user = page.locator(".filters-bar input[name='User']");
    await user.fill("alice");
    await user.press("Enter");
    await page.waitForURL((url) => url.searchParams.get("userId") === "alice");
    const aliceTraces = await publicCount(`/api/public/traces?limit=1&userId=alice&${range}`);
    const aliceGenerations = await publicCount(
      `/api/public/observations?limit=1&userId=alice&type=GENERATION&fromStartTime=${encodeURIComponent(fromIso)}&toStartTime=${encodeURIComponent(toIso)}`,
    );
    assert(aliceTraces === 2 && aliceGenerations === 2, `alice's data: ${aliceTraces} traces, ${aliceGenerations} generations`);
    assert((await settled("Traces")) === String(aliceTraces), `alice's traces shown: ${await stat("Traces").textContent()}`);
    assert((await settled("Generations")) === String(aliceGenerations), "alice's generations shown");
    assert((await settled("Errors")) === "0", "alice has no errors");
    assert((await settled("Tokens")) === "105", `alice's tokens (40+12, 41+12): ${await stat("Tokens").textContent()}`);
    const byModel = page.locator("[data-testid='Generation latency by model'] tbody tr");
    assert((await byModel.count()) === 1, "one model for alice");
    const cells = await byModel.first().locator("td").allTextContents();
    assert(cells[0] === "gpt-4o-mini" && cells[1] === "2", `alice's model row: ${cells.join(" | ")}`);
    const byName = await page.locator("[data-testid='Trace latency by name'] tbody tr").first().locator("td").allTextContents();
    assert(byName[0] === "support-chat" && byName[1] === "2", `alice's trace names: ${byName.join(" | ")}`);
    const aliceQuality = await publicCount(`/api/public/v2/scores?limit=1&userId=alice&name=quality&${range}`);
    const quality = await page.locator("[data-testid='Scores by name'] tbody tr", { hasText: "quality" }).locator("td").allTextContents();
    assert(quality[0] === "quality" && quality[2] === String(aliceQuality) && quality[3] === "0.900", `alice's quality scores: ${quality.join(" | ")}`);

    // The view is the URL: a reload shows the same range and filter.
    await page.reload();
    assert((await settled("Traces")) === String(aliceTraces), "the same numbers after a reload");
    assert((await user.inputValue()) === "alice", "the filter is kept");
    assert((await page.getByLabel("From", { exact: true }).inputValue()) === fromLocal, "the range is kept");
  });

  await step("settings: a new key's secret is shown once", async () => {
    await page.goto(`${base}/project/e2e/settings`);
    await page.getByRole("button", { name: "Create API key" }).click();
    const secret = await page.locator("[data-testid='secret-key']").textContent();
    assert(secret.startsWith("sk-lf-"), `secret shown: ${secret}`);
    await page.screenshot({ path: join(SHOTS, "settings.png"), fullPage: false });
    await page.reload();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.locator("table.data tbody tr").nth(1).waitFor();
    assert(!(await page.locator("main").textContent()).includes(secret), "the secret is not shown again");
  });

  await step("settings: the audit log shows who created the key", async () => {
    const section = page.locator("section.audit-log");
    await section.getByRole("heading", { name: "Audit log" }).waitFor();
    const first = section.locator("[data-testid='audit-entry']").first();
    await first.waitFor();
    const text = await first.textContent();
    assert(text.includes(EMAIL), `actor shown: ${text}`);
    assert(text.includes("created") && text.includes("api key") && text.includes("pk-lf-"), `entry: ${text}`);
    await section.getByLabel("Audit resource type").selectOption("project_membership");
    await section.getByText("Nothing recorded yet.").waitFor();
  });

  await step("settings: score configs are created (numeric, categorical, boolean) and archived", async () => {
    const section = page.locator("section.score-configs");
    const create = async (name, type, fill) => {
      await section.getByLabel("Config name").fill(name);
      await section.getByLabel("Config type").selectOption(type);
      await fill();
      await section.getByRole("button", { name: "Create config" }).click();
      await section.locator("tr", { hasText: name }).waitFor();
    };
    await create("e2e-accuracy", "NUMERIC", async () => {
      await section.getByLabel("Minimum").fill("0");
      await section.getByLabel("Maximum").fill("1");
    });
    await create("e2e-tone", "CATEGORICAL", () => section.getByLabel("Categories").fill("rude=0\npolite=1"));
    await create("e2e-correct", "BOOLEAN", async () => {});
    await create("e2e-old", "NUMERIC", async () => {});
    assert((await section.locator("tr", { hasText: "e2e-tone" }).textContent()).includes("polite (1)"), "categories listed");
    assert((await section.locator("tr", { hasText: "e2e-accuracy" }).textContent()).includes("0 to 1"), "range listed");
    await section.locator("tr", { hasText: "e2e-old" }).getByRole("button", { name: "Archive" }).click();
    await section.locator("tr", { hasText: "e2e-old" }).getByRole("button", { name: "Restore" }).waitFor();
    assert((await section.locator("tr", { hasText: "e2e-old" }).textContent()).includes("archived"), "archived");
    await page.screenshot({ path: join(SHOTS, "score-configs.png"), fullPage: false });
  });

  await step("settings: dashboard metadata keys are rolled up and removed; the dashboard notes a key that is not", async () => {
    await page.goto(`${base}/project/e2e/settings`);
    const section = page.getByTestId("rolled-metadata");
    await section.getByRole("heading", { name: "Dashboard metadata keys" }).waitFor();
    await section.getByText("No keys rolled up yet.").waitFor();
    const input = section.getByTestId("rolled-key-input");
    const add = section.getByTestId("rolled-key-add");
    const row = (key) => section.locator(`[data-testid='rolled-key'][data-key='${key}']`);
    assert(await add.isDisabled(), "nothing to add yet");
    for (const key of ["tenant", "tier"]) {
      await input.fill(key);
      await add.click();
      await row(key).waitFor();
    }
    // The sweep of the few traces sent is done in well under a second; the list refreshes
    // while it runs.
    for (const key of ["tenant", "tier"]) await row(key).locator("[data-testid='rolled-key-state']", { hasText: /^ready$/ }).waitFor();
    await input.fill(" tenant ");
    assert(await add.isDisabled(), "a key already listed is not added again");
    assert((await section.getByTestId("rolled-key-problem").textContent()).includes("tenant is already rolled up"), "and the reason is shown");
    await input.fill("");
    await row("tier").getByRole("button", { name: "Remove tier" }).click();
    await row("tier").waitFor({ state: "detached" });
    const stored = await page.evaluate(async () => (await (await fetch("/api/ui/projects/e2e/rolled-metadata")).json()).keys.map((key) => `${key.key}:${key.ready}`));
    assert(stored.join() === "tenant:true", `stored: ${stored}`);
    await page.screenshot({ path: join(SHOTS, "settings-metadata-keys.png"), fullPage: false });

    // The dashboard filtered on a key that is not rolled up says so and links to the settings;
    // on a ready key it says nothing.
    const note = page.getByTestId("metadata-rollup-note");
    await page.goto(`${base}/project/e2e/dashboard?metadataKey=tier&metadataValue=gold`);
    await note.waitFor();
    assert((await note.textContent()).includes("tier is not rolled up: this filter reads every matching trace."), `note: ${await note.textContent()}`);
    const listed = page.waitForResponse((response) => response.url().endsWith("/api/ui/projects/e2e/rolled-metadata"));
    await page.locator(".filters-bar input[aria-label='Metadata key']").fill("tenant");
    await page.locator(".filters-bar input[aria-label='Metadata key']").press("Enter");
    await page.waitForURL((url) => url.searchParams.get("metadataKey") === "tenant");
    await listed;
    await page.waitForTimeout(200);
    assert((await note.count()) === 0, "no note for a ready key");
    await page.goto(`${base}/project/e2e/dashboard?metadataKey=tier&metadataValue=gold`);
    await note.getByRole("link", { name: "Roll it up in Settings." }).click();
    await page.waitForURL((url) => url.pathname === "/project/e2e/settings");
    await row("tenant").waitFor();

    // Another admin filled the list meanwhile: this page's list is stale, and adding one more
    // is refused by the server, with its message shown; the list is read again.
    const filled = await page.evaluate(async () => {
      const me = await (await fetch("/api/ui/me")).json();
      const answer = await fetch("/api/ui/projects/e2e/rolled-metadata", {
        method: "PUT",
        headers: { "content-type": "application/json", "x-spindle-csrf": me.csrfToken },
        body: JSON.stringify({ keys: ["tenant", ...Array.from({ length: 9 }, (_, index) => `key-${index}`)] }),
      });
      return answer.status;
    });
    assert(filled === 200, `ten keys stored: ${filled}`);
    await input.fill("one-too-many");
    await add.click();
    const alert = page.locator(".error-box[role='alert']");
    await alert.waitFor();
    assert((await alert.textContent()).includes("keys: at most 10 metadata keys can be rolled up"), `error shown: ${await alert.textContent()}`);
    await row("key-8").waitFor();
    assert((await section.getByTestId("rolled-key").count()) === 10, "the ten keys listed");
    assert(await add.isDisabled(), "no 11th key can be added");
    // Back to tenant alone (the viewer sees it below).
    const reset = await page.evaluate(async () => {
      const me = await (await fetch("/api/ui/me")).json();
      const answer = await fetch("/api/ui/projects/e2e/rolled-metadata", {
        method: "PUT",
        headers: { "content-type": "application/json", "x-spindle-csrf": me.csrfToken },
        body: JSON.stringify({ keys: ["tenant"] }),
      });
      return answer.status;
    });
    assert(reset === 200, `reset: ${reset}`);
  });

  await step("a trace's scores from the project's configs (category buttons, range, boolean toggle)", async () => {
    await page.goto(traceUrl);
    await page.locator(".trace-root").click();
    const form = page.locator("form.add-score");
    const configs = form.getByLabel("Score config");
    const offered = await configs.locator("option").allTextContents();
    assert(offered.includes("e2e-tone") && !offered.includes("e2e-old"), `archived configs are not offered: ${offered}`);
    await configs.selectOption({ label: "e2e-tone" });
    await form.getByRole("button", { name: "polite" }).click();
    await form.getByRole("button", { name: "Add score" }).click();
    await page.locator(".scores li", { hasText: "e2e-tone" }).waitFor();
    assert((await page.locator(".scores li", { hasText: "e2e-tone" }).textContent()).includes("polite"), "the category's label");
    await configs.selectOption({ label: "e2e-accuracy" });
    const value = form.getByLabel("Score value");
    assert((await value.getAttribute("max")) === "1", "the range bounds the input");
    await value.fill("0.5");
    await form.getByRole("button", { name: "Add score" }).click();
    await page.locator(".scores li", { hasText: "e2e-accuracy" }).waitFor();
    await configs.selectOption({ label: "e2e-correct" });
    await form.getByLabel("Score value").check();
    await form.getByRole("button", { name: "Add score" }).click();
    await page.locator(".scores li", { hasText: "e2e-correct" }).waitFor();
  });

  await step("a session's score from the project's configs, read back through the public API", async () => {
    await page.goto(`${base}/project/e2e/sessions/support-session-1`);
    const form = page.locator("form.add-score");
    await form.getByRole("heading", { name: "Add a score to the session" }).waitFor();
    await form.getByLabel("Score config").selectOption({ label: "e2e-tone" });
    await form.getByRole("button", { name: "polite" }).click();
    await form.getByRole("button", { name: "Add score" }).click();
    await page.locator(".session-review .scores li", { hasText: "e2e-tone" }).waitFor();
    const answer = await fetch(`${base}/api/public/v2/scores?sessionId=support-session-1&limit=50`, { headers: { authorization: publicAuth } });
    assert(answer.ok, `GET /v2/scores: ${answer.status}`);
    const stored = (await answer.json()).data.filter((score) => score.name === "e2e-tone" && score.sessionId === "support-session-1");
    assert(stored.length === 1, `one session score: ${JSON.stringify(stored)}`);
    assert(stored[0].stringValue === "polite" && stored[0].source === "ANNOTATION" && !stored[0].traceId, `the stored score: ${JSON.stringify(stored[0])}`);
    assert(stored[0].configId && stored[0].authorUserId, `config and author are kept: ${JSON.stringify(stored[0])}`);
  });

  await step("models: the built-in prices are listed and a custom model is added", async () => {
    await page.goto(`${base}/project/e2e/models`);
    await page.locator("[data-testid='builtin-models'] tbody tr", { hasText: "gpt-4o-mini" }).first().waitFor();
    await page.fill('input[placeholder="my-finetune"]', "e2e-finetune");
    await page.getByLabel("Input $ / 1M tokens").fill("3");
    await page.getByLabel("Output $ / 1M tokens").fill("12");
    await page.getByRole("button", { name: "Add model" }).click();
    const row = page.locator("[data-testid='custom-models'] tbody tr", { hasText: "e2e-finetune" });
    await row.waitFor();
    const text = await row.textContent();
    assert(text.includes("$3") && text.includes("$12"), `custom model prices: ${text}`);
    await page.screenshot({ path: join(SHOTS, "models.png"), fullPage: false });
  });

  const versionItem = (number) => page.locator("ol.versions li", { hasText: `v${number}` });
  await step("prompts: create a prompt in a folder from the UI", async () => {
    await page.goto(`${base}/project/e2e/prompts`);
    await page.getByRole("heading", { name: "Prompts" }).waitFor();
    await page.getByRole("button", { name: "New prompt" }).click();
    await page.fill('form.editor input[name="name"]', "support/greeting");
    await page.fill('form.editor textarea[name="prompt"]', "Hi {{name}}, how can I help?");
    await page.fill('form.editor input[name="labels"]', "production");
    await page.fill('form.editor input[name="commitMessage"]', "first draft");
    await page.getByRole("button", { name: "Create version" }).click();
    await page.getByRole("heading", { name: /support\/greeting/ }).waitFor();
    await page.locator("pre.prompt-text mark.variable", { hasText: "{{name}}" }).waitFor();
    assert((await versionItem(1).textContent()).includes("production"), "v1 holds production");
    await page.goto(`${base}/project/e2e/prompts`);
    await page.locator("tr.folder a", { hasText: "support/" }).click();
    await page.getByRole("link", { name: "greeting" }).click();
    await page.getByRole("heading", { name: /support\/greeting/ }).waitFor();
  });

  await step("prompts: a second version from the editor, with the variables it finds", async () => {
    await page.getByRole("link", { name: "New version" }).click();
    await page.fill('form.editor textarea[name="prompt"]', "Hello {{name}}! Ask me about {{topic}}.");
    await page.locator("[aria-label='Variables found'] mark", { hasText: "topic" }).waitFor();
    const found = await page.locator("[aria-label='Variables found'] mark").allTextContents();
    assert(found.join(",") === "name,topic", `variables found: ${found}`);
    await page.fill('form.editor input[name="commitMessage"]', "friendlier");
    await page.getByRole("button", { name: "Create version" }).click();
    await page.locator("h2", { hasText: "Version 2" }).waitFor();
    await page.locator("pre.prompt-text mark.variable", { hasText: "{{topic}}" }).waitFor();
    assert(!(await versionItem(2).textContent()).includes("production"), "v2 is not production yet");
  });

  await step("prompts: diff the two versions", async () => {
    await page.getByRole("link", { name: "Diff" }).click();
    const removed = await page.locator("[aria-label='Prompt diff'] .diff-removed").allTextContents();
    const added = await page.locator("[aria-label='Prompt diff'] .diff-added").allTextContents();
    assert(removed.some((line) => line.includes("Hi {{name}}, how can I help?")), `removed: ${removed}`);
    assert(added.some((line) => line.includes("Hello {{name}}! Ask me about {{topic}}.")), `added: ${added}`);
    await page.screenshot({ path: join(SHOTS, "prompt-diff.png"), fullPage: false });
  });

  await step("prompts: moving production asks first, then moves it in one action", async () => {
    dialogs.length = 0;
    await page.getByRole("button", { name: "Move label here" }).click();
    await waitFor("the confirmation", async () => dialogs.length === 1);
    assert(dialogs[0].includes("production"), `asked: ${dialogs[0]}`);
    assert((await versionItem(1).textContent()).includes("production"), "dismissed: v1 keeps production");
    acceptDialogs = true;
    try {
      await page.getByRole("button", { name: "Move label here" }).click();
      await versionItem(2).locator(".label-production").waitFor();
    } finally {
      acceptDialogs = false;
    }
    assert(!(await versionItem(1).textContent()).includes("production"), "v1 lost production");
    const auth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;
    const served = await (await fetch(`${base}/api/public/v2/prompts/${encodeURIComponent("support/greeting")}`, { headers: { authorization: auth } })).json();
    assert(served.version === 2, `served version: ${served.version}`);
  });

  await step("prompts: a label is removed with its ×, production after a confirmation", async () => {
    dialogs.length = 0;
    const remove = page.getByRole("button", { name: "Remove label production" });
    await remove.click();
    await waitFor("the confirmation", async () => dialogs.length === 1);
    assert((await versionItem(2).textContent()).includes("production"), "dismissed: v2 keeps production");
    acceptDialogs = true;
    try {
      await remove.click();
      await waitFor("production removed", async () => !(await versionItem(2).textContent()).includes("production"));
    } finally {
      acceptDialogs = false;
    }
    assert((await page.getByRole("button", { name: "Remove label latest" }).count()) === 0, "latest has no ×");
    const auth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;
    const served = await fetch(`${base}/api/public/v2/prompts/${encodeURIComponent("support/greeting")}`, { headers: { authorization: auth } });
    assert(served.status === 404, `served without production: ${served.status}`);
  });

  await step("prompts: a generation that used the version, with its metrics", async () => {
    const auth = `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`;
    const event = (type, id, body) => ({ id, type, timestamp: new Date().toISOString(), body });
    const sent = await fetch(`${base}/api/public/ingestion`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({
        batch: [
          event("trace-create", "pe1", { id: "prompt-trace", name: "support-chat" }),
          event("generation-create", "pe2", {
            id: "prompt-generation", traceId: "prompt-trace", name: "greet-llm", model: "gpt-4o-mini",
            startTime: "2026-01-01T00:00:00Z", endTime: "2026-01-01T00:00:01.500Z",
            promptName: "support/greeting", promptVersion: 2,
            usageDetails: { input: 20, output: 10 },
          }),
        ],
      }),
    });
    assert(sent.ok, `ingestion: ${sent.status}`);
    await page.getByRole("link", { name: "Generations" }).click();
    const generation = page.locator("[aria-label='Generations'] tbody tr", { hasText: "greet-llm" });
    await waitFor("the linked generation", async () => {
      if (await generation.count()) return true;
      await page.reload();
      return false;
    }, 50, 300);
    const metrics = await page.locator("[aria-label='Version metrics'] tr.selected").textContent();
    assert(metrics.includes("v2") && metrics.includes("1.50 s"), `metrics of v2: ${metrics}`);
    await page.screenshot({ path: join(SHOTS, "prompt-generations.png"), fullPage: false });
    // The version's traces: the traces list filtered by the prompt and version.
    await page.getByRole("link", { name: "Traces using this version" }).click();
    await page.locator("tr[data-trace-id='prompt-trace']").waitFor();
    const listed = await page.locator("table.data tbody tr").count();
    assert(listed === 1, `traces of v2: ${listed}`);
    await page.goBack();
    await generation.getByRole("link", { name: "prompt-trace" }).click();
    await page.locator("text=greet-llm").first().waitFor();
  });

  await step("prompts: comment on a version", async () => {
    await page.goto(`${base}/project/e2e/prompts/${encodeURIComponent("support/greeting")}?version=2`);
    await page.getByRole("heading", { name: "Version 2" }).waitFor();
    await page.fill('textarea[name="comment"]', "v2 reads better");
    await page.getByRole("button", { name: "Comment", exact: true }).click();
    await page.locator("[aria-label='Comments on the prompt version'] .comment", { hasText: "v2 reads better" }).waitFor();
    await page.goto(`${base}/project/e2e/prompts/${encodeURIComponent("support/greeting")}?version=1`);
    await page.getByRole("heading", { name: "Version 1" }).waitFor();
    await page.locator("[aria-label='Comments on the prompt version']").getByText("No comments yet.").waitFor();
  });

  await step("queues: create a queue, review it, add a trace from its page", async () => {
    await page.goto(`${base}/project/e2e/queues`);
    await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
    await page.getByLabel("Queue name").fill("e2e-triage");
    await page.getByLabel("Queue description").fill("answers to check");
    await page.getByRole("listbox", { name: "Score configs" }).selectOption([{ label: "e2e-accuracy" }, { label: "e2e-tone" }]);
    await page.getByRole("button", { name: "Create queue" }).click();
    const queueRow = page.locator("table.data tbody tr", { hasText: "e2e-triage" });
    await queueRow.waitFor();
    assert((await queueRow.textContent()).includes("0 of 0 done"), "an empty queue");
    await waitFor("its score configs, by name", async () => {
      const text = await queueRow.textContent();
      return text.includes("e2e-accuracy") && text.includes("e2e-tone");
    }, 50, 100);
    await queueRow.getByRole("button", { name: "Review" }).click();
    await queueRow.getByText("reviewing").waitFor();
    assert((await queueRow.textContent()).includes(EMAIL), "the member is a reviewer");
    const progressLine = () => queueRow.getByRole("list", { name: "Reviewer progress" }).locator("li").first().textContent();
    assert((await progressLine()) === `${EMAIL}: 0 done · 0 to take`, `an assigned reviewer's progress: ${await progressLine()}`);
    await page.goto(`${base}/project/e2e/traces/prompt-trace`);
    await page.getByLabel("Annotation queue").waitFor();
    await page.getByRole("button", { name: "Add trace to queue" }).click();
    await page.getByRole("status").getByText("Added the trace to the queue.").waitFor();
    await page.goto(`${base}/project/e2e/queues`);
    await waitFor("the queued trace", async () => (await queueRow.textContent()).includes("0 of 1 done"), 50, 200);
    assert((await progressLine()) === `${EMAIL}: 0 done · 1 to take`, `the item is the reviewer's to take: ${await progressLine()}`);
    await page.screenshot({ path: join(SHOTS, "queues.png"), fullPage: false });
  });

  await step("datasets: create one, add an item from a trace, compare two runs (one named with a comma)", async () => {
    await page.goto(`${base}/project/e2e/datasets`);
    await page.getByRole("heading", { name: "Datasets" }).waitFor();
    await page.getByLabel("Dataset name").fill("e2e-set");
    await page.getByRole("button", { name: "Create dataset" }).click();
    const datasetRow = page.locator("table.data tbody tr", { hasText: "e2e-set" });
    await datasetRow.waitFor();
    await page.goto(`${base}/project/e2e/traces/${ids.turn0}`);
    await page.getByLabel("Dataset").waitFor();
    await page.getByRole("button", { name: "Add trace to dataset" }).click();
    await page.getByRole("status").getByText("Added the trace to e2e-set.").waitFor();
    // Two runs of the item through the public API: one by turn0's trace, one by bob's.
    const headers = { authorization: `Basic ${Buffer.from(`${PK}:${SK}`).toString("base64")}`, "content-type": "application/json" };
    const listed = await (await fetch(`${base}/api/public/dataset-items?datasetName=e2e-set`, { headers })).json();
    assert(listed.data.length === 1 && listed.data[0].sourceTraceId === ids.turn0, "the item remembers its trace");
    const itemId = listed.data[0].id;
    for (const [runName, traceId] of [["run,a", ids.turn0], ["run-b", ids.bob]]) {
      const answer = await fetch(`${base}/api/public/dataset-run-items`, {
        method: "POST",
        headers,
        body: JSON.stringify({ runName, datasetItemId: itemId, traceId }),
      });
      assert(answer.ok, `run item of ${runName}: ${answer.status}`);
    }
    await page.goto(`${base}/project/e2e/datasets`);
    await waitFor("the counts", async () => /e2e-set\s*1\s*2/.test(await datasetRow.innerText()), 50, 200);
    await datasetRow.getByRole("link", { name: "e2e-set" }).click();
    await page.getByRole("table", { name: "Dataset runs" }).locator("tbody tr").nth(1).waitFor();
    await page.getByLabel("Compare run,a").check();
    await page.getByLabel("Compare run-b").check();
    await page.getByRole("button", { name: "Compare 2 runs" }).click();
    const compared = page.getByRole("table", { name: "Run comparison" }).locator("tbody tr");
    await compared.first().waitFor();
    assert((await compared.count()) === 1, "one compared item");
    assert(new URL(page.url()).searchParams.getAll("runs").join("|") === "run,a|run-b", `one parameter per run: ${page.url()}`);
    const cellA = compared.first().locator('td[data-run="run,a"]');
    const cellB = compared.first().locator('td[data-run="run-b"]');
    assert((await cellA.getAttribute("class")).includes("differs"), "the differing outputs are highlighted");
    assert((await cellA.innerText()).includes("quality: 0.900"), `run-a's score: ${await cellA.innerText()}`);
    assert((await cellB.innerText()).includes("could not summarize"), "run-b's output");
    assert((await cellB.innerText()).includes("quality: 0.100"), `run-b's score: ${await cellB.innerText()}`);
    assert((await cellA.locator("a").getAttribute("href")).endsWith(`/traces/${ids.turn0}`), "run-a's cell links to its trace");
    assert((await cellB.locator("a").getAttribute("href")).endsWith(`/traces/${ids.bob}`), "run-b's cell links to its trace");
    await page.getByLabel("Sort by score difference").selectOption("quality");
    await page.getByRole("columnheader", { name: "Δ quality" }).waitFor();
    assert((await compared.first().locator("td").last().innerText()) === "0.800", "the score difference");
    await page.screenshot({ path: join(SHOTS, "datasets-compare.png"), fullPage: false });
  });

  await step("datasets: lists go page by page, and an item's media shows", async () => {
    const publicApi = async (path, body, method = "POST") => {
      const answer = await fetch(`${base}/api/public${path}`, {
        method,
        headers: { authorization: publicAuth, "content-type": "application/json" },
        body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
      });
      if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
      return answer.json();
    };
    const dataset = await publicApi("/v2/datasets", { name: "e2e-many" });
    // The oldest item carries an image the SDKs would have uploaded for it first.
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");
    const { createHash } = await import("node:crypto");
    const registered = await publicApi("/media", {
      datasetId: dataset.id, datasetItemId: "with-image", field: "input", contentType: "image/png",
      contentLength: png.length, sha256Hash: createHash("sha256").update(png).digest("base64"),
    });
    const uploaded = await fetch(`${base}${new URL(registered.uploadUrl).pathname}`, { method: "PUT", headers: { "content-type": "image/png" }, body: png });
    assert(uploaded.ok, `upload: ${uploaded.status}`);
    const reference = `@@@langfuseMedia:type=image/png|id=${registered.mediaId}|source=bytes@@@`;
    await publicApi("/dataset-items", { datasetName: "e2e-many", id: "with-image", input: { question: "what is it?", image: reference } });
    for (let index = 0; index < 55; index += 1) {
      await publicApi("/dataset-items", { datasetName: "e2e-many", id: `many-${index}`, input: { index } });
    }
    for (let index = 0; index < 52; index += 1) {
      await publicApi("/dataset-run-items", { runName: `run-${index}`, datasetItemId: `many-${index}`, traceId: ids.turn0 });
    }
    for (let index = 0; index < 50; index += 1) {
      await publicApi("/v2/datasets", { name: `filler-${String(index).padStart(2, "0")}` });
    }

    await page.goto(`${base}/project/e2e/datasets`);
    const datasetPages = page.getByRole("navigation", { name: "Dataset pages" });
    await datasetPages.getByText("Page 1 of 2").waitFor();
    const datasetRows = page.getByRole("table", { name: "Datasets" }).locator("tbody tr");
    assert((await datasetRows.count()) === 50, `a page of datasets: ${await datasetRows.count()}`);
    await datasetPages.getByRole("button", { name: "Next →" }).click();
    await datasetPages.getByText("Page 2 of 2").waitFor();
    await waitFor("the last dataset", async () => (await datasetRows.count()) === 2, 50, 100);
    assert((await datasetRows.allInnerTexts()).some((text) => text.includes("e2e-set")), "the oldest datasets come last");

    await page.goto(`${base}/project/e2e/datasets/e2e-many`);
    const runPages = page.getByRole("navigation", { name: "Run pages" });
    await runPages.getByText("Page 1 of 2").waitFor();
    const runRows = page.getByRole("table", { name: "Dataset runs" }).locator("tbody tr");
    await runPages.getByRole("button", { name: "Next →" }).click();
    await runPages.getByText("Page 2 of 2").waitFor();
    await waitFor("the last runs", async () => (await runRows.count()) === 2, 50, 100);
    const itemPages = page.getByRole("navigation", { name: "Item pages" });
    await itemPages.getByText("Page 1 of 2").waitFor();
    const itemRows = page.getByRole("table", { name: "Dataset items" }).locator("tbody tr");
    assert((await itemRows.count()) === 50, `a page of items: ${await itemRows.count()}`);
    await itemPages.getByRole("button", { name: "Next →" }).click();
    await itemPages.getByText("Page 2 of 2").waitFor();
    await waitFor("the last items", async () => (await itemRows.count()) === 6, 50, 100);
    const image = itemRows.last().locator("img.message-image");
    await image.waitFor();
    assert((await image.getAttribute("src")).endsWith(`/media/${registered.mediaId}`), "the image comes from the media route");
    await waitFor("the image to load", async () => (await image.evaluate((img) => img.complete && img.naturalWidth)) === 1, 50, 100);
    await page.screenshot({ path: join(SHOTS, "datasets-pages.png"), fullPage: false });
  });

  await step("queues: a queue of unknown score configs is refused", async () => {
    const answer = await fetch(`${base}/api/public/annotation-queues`, {
      method: "POST",
      headers: { authorization: publicAuth, "content-type": "application/json" },
      body: JSON.stringify({ name: "e2e-unknown-configs", scoreConfigIds: ["no-such-config"] }),
    });
    assert(answer.status === 400, `status ${answer.status}`);
    assert((await answer.text()).includes("scoreConfigIds"), "the error names scoreConfigIds");
  });

  await step("queues: review mode scores three traces with the keyboard only", async () => {
    const publicApi = async (method, path, body) => {
      const answer = await fetch(`${base}/api/public${path}`, {
        method,
        headers: { authorization: publicAuth, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert(answer.ok, `${method} ${path}: ${answer.status} ${await answer.clone().text()}`);
      return answer.json();
    };
    const stars = await publicApi("POST", "/score-configs", { name: "e2e-stars", dataType: "NUMERIC", minValue: 1, maxValue: 5 });
    const verdict = await publicApi("POST", "/score-configs", {
      name: "e2e-verdict",
      dataType: "CATEGORICAL",
      categories: [
        { label: "bad", value: 0 },
        { label: "good", value: 1 },
        { label: "unsure", value: 2 },
      ],
    });
    await page.goto(`${base}/project/e2e/queues`);
    await page.getByLabel("Queue name").fill("e2e-keyboard");
    await page.getByRole("listbox", { name: "Score configs" }).selectOption([{ label: "e2e-stars" }, { label: "e2e-verdict" }]);
    await page.getByRole("button", { name: "Create queue" }).click();
    const queueRow = page.locator("table.data tbody tr", { hasText: "e2e-keyboard" });
    await queueRow.waitFor();
    const queue = (await publicApi("GET", "/annotation-queues?limit=100")).data.find((q) => q.name === "e2e-keyboard");
    assert(queue, "the queue is listed by the public API");
    const traces = (await publicApi("GET", "/traces?limit=3")).data.map((trace) => trace.id);
    assert(traces.length === 3, "three traces");
    for (const traceId of traces) {
      await publicApi("POST", `/annotation-queues/${queue.id}/items`, { objectId: traceId, objectType: "TRACE" });
    }
    await page.goto(`${base}/project/e2e/queues`);
    await waitFor("the queued traces", async () => (await queueRow.textContent()).includes("0 of 3 done"), 50, 200);
    await queueRow.getByRole("link", { name: "Open review mode" }).click();
    await page.getByRole("heading", { name: "Review: e2e-keyboard" }).waitFor();
    const shown = async () => (await page.locator("section[aria-label='Queued object'] h3 code").textContent()).trim();
    // The keys: a value typed into the focused numeric field, Escape to leave it, a digit for
    // the category, Enter to save and open the next item; `s` skips.
    const answers = [];
    let reviewedNow = 0;
    const review = async (stars, digit) => {
      const traceId = await shown();
      // Each item opens with the first field focused.
      await page.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "e2e-stars", null, { timeout: 10_000 });
      await page.keyboard.type(String(stars));
      await page.keyboard.press("Escape");
      await page.keyboard.press(digit);
      await page.getByRole("button", { name: /good|bad|unsure/, pressed: true }).waitFor();
      await page.keyboard.press("Enter");
      answers.push({ traceId, stars, verdict: ["bad", "good", "unsure"][Number(digit) - 1] });
      reviewedNow += 1;
      await waitFor("the next item", async () => (await page.locator("[aria-label='Review progress']").textContent()).includes(`${reviewedNow} reviewed`), 50, 200).catch(async (error) => {
        const alert = await page.locator("[role='alert']").allTextContents();
        throw new Error(`${error.message}; the page says: ${alert.join(" ") || "nothing"}`);
      });
    };
    await page.locator("input[aria-label='e2e-stars']").waitFor();
    const first = await shown();
    await page.keyboard.press("Escape");
    await page.keyboard.press("s");
    await waitFor("the skip", async () => (await shown()) !== first, 50, 100);
    await review(4, "2");
    await review(2, "1");
    await page.getByText("Only the items you skipped are left.").waitFor();
    assert((await page.locator("[aria-label='Review progress']").textContent()).startsWith("1 pending · 1 for you"), "the skipped item");
    await page.reload();
    reviewedNow = 0;
    await waitFor("the skipped item comes back", async () => (await page.locator("section[aria-label='Queued object'] h3 code").count()) === 1 && (await shown()) === first, 50, 200);
    await review(5, "3");
    await page.getByText("Nothing left to review in this queue.").waitFor();
    await page.screenshot({ path: join(SHOTS, "review-mode.png"), fullPage: false });
    const me = await (await page.request.get(`${base}/api/ui/me`)).json();
    const userId = me.user?.id;
    assert(userId, "the signed-in user's id");
    for (const answer of answers) {
      const scores = (await publicApi("GET", `/v2/scores?traceId=${encodeURIComponent(answer.traceId)}&limit=50`)).data.filter(
        (score) => score.queueId === queue.id,
      );
      const byConfig = Object.fromEntries(scores.map((score) => [score.configId, score]));
      assert(byConfig[stars.id]?.value === answer.stars, `stars of ${answer.traceId}: ${JSON.stringify(scores)}`);
      assert(byConfig[verdict.id]?.stringValue === answer.verdict, `verdict of ${answer.traceId}: ${JSON.stringify(scores)}`);
      for (const score of scores) {
        assert(score.authorUserId === userId, `author of ${score.id}`);
        assert(score.source === "ANNOTATION", `source of ${score.id}`);
      }
    }
    const completed = await publicApi("GET", `/annotation-queues/${queue.id}/items?status=COMPLETED`);
    assert(completed.meta.totalItems === 3, "the three items are completed");
    // The queue's page credits the reviewer (who never joined the queue) with the three.
    await page.goto(`${base}/project/e2e/queues`);
    await waitFor("the completed queue", async () => (await queueRow.textContent()).includes("3 of 3 done"), 50, 200);
    const progress = await queueRow.getByRole("list", { name: "Reviewer progress" }).locator("li").allTextContents();
    assert(progress.length === 1 && progress[0] === `${EMAIL} (not assigned): 3 done · 0 to take`, `per-reviewer progress: ${JSON.stringify(progress)}`);
    await page.screenshot({ path: join(SHOTS, "queue-reviewers.png"), fullPage: false });
  });

  await step("traces: the column picker and a three-condition filter survive a reload", async () => {
    await pickColumns("traces", ["Trace id", "Input"], ["Comments"]);
    assert(new URL(page.url()).searchParams.get("cols").includes("id"), `the columns are in the URL: ${page.url()}`);
    await page.getByRole("button", { name: /^Filters/ }).click();
    const addCondition = page.getByRole("button", { name: "+ Add condition" });
    const fill = async (index, column, operator, value) => {
      await addCondition.click();
      const condition = page.locator(`.condition[data-condition='${index}']`);
      await condition.getByLabel(`Condition ${index + 1} column`).selectOption(column);
      await condition.getByLabel(`Condition ${index + 1} operator`).selectOption(operator);
      await condition.getByLabel(`Condition ${index + 1} value`).fill(value);
      await condition.getByLabel(`Condition ${index + 1} value`).press("Tab");
    };
    await fill(0, "name", "starts with", "support");
    await fill(1, "userId", "=", "alice");
    // The builder suggests the project's tags as they are typed.
    await addCondition.click();
    const third = page.locator(".condition[data-condition='2']");
    await third.getByLabel("Condition 3 column").selectOption("tags");
    await third.getByLabel("Condition 3 value").fill("sup");
    await waitFor("a tag suggestion", async () => (await third.locator("datalist option").count()) > 0, 100, 100);
    assert((await third.locator("datalist option").first().getAttribute("value")) === "support", "the tag is suggested");
    await third.getByLabel("Condition 3 value").fill("support");
    await third.getByLabel("Condition 3 value").press("Tab");
    await third.locator(".chip", { hasText: "support" }).waitFor();
    await expectRows(2, "alice's support chats");
    const filters = new URL(page.url()).searchParams.getAll("f");
    assert(filters.length === 3 && filters[2] === "tags;any of;support", `the conditions are in the URL: ${filters}`);
    await page.reload();
    await expectRows(2, "alice's support chats after a reload");
    assert((await page.locator(".condition").count()) === 3, "the three conditions are shown again");
    assert((await page.getByLabel("Condition 2 value").inputValue()) === "alice", "with their values");
    assert((await page.locator("th[data-col='id']").count()) === 1 && (await page.locator("th[data-col='comments']").count()) === 0, "the chosen columns");
    const input = await rows.first().locator("td[data-col='input']").textContent();
    assert(input.includes("question"), `the input preview: ${input}`);
    // Another visit without columns in its URL shows the columns this browser chose last.
    await page.goto(`${base}/project/e2e/traces`);
    await page.locator("th[data-col='id']").waitFor();
    await page.screenshot({ path: join(SHOTS, "traces-builder.png"), fullPage: false });
  });

  await step("traces: page size", async () => {
    const start = Date.now() - 3_600_000;
    const batch = Array.from({ length: 30 }, (_, index) => ({
      id: `paged-event-${index}`,
      type: "trace-create",
      timestamp: new Date(start + index * 1000).toISOString(),
      body: { id: `paged-${index}`, name: `paged-${String(index).padStart(2, "0")}`, timestamp: new Date(start + index * 1000).toISOString() },
    }));
    const sent = await fetch(`${base}/api/public/ingestion`, {
      method: "POST",
      headers: { authorization: publicAuth, "content-type": "application/json" },
      body: JSON.stringify({ batch }),
    });
    assert(sent.ok, `ingestion answered ${sent.status}`);
    await page.goto(`${base}/project/e2e/traces?f=${encodeURIComponent("name;starts with;paged-")}`);
    await expectRows(30, "30 traces fit a page of 50");
    await page.getByLabel("Rows per page").selectOption("25");
    await expectRows(25, "a page of 25");
    assert(new URL(page.url()).searchParams.get("limit") === "25", "the page size is in the URL");
    assert((await page.locator(".pager").textContent()).includes("Page 1 of 2 · 30 traces"), await page.locator(".pager").textContent());
    await page.getByRole("button", { name: "Next →" }).click();
    await expectRows(5, "the second page of 25");
    await page.reload();
    await expectRows(5, "the second page after a reload");
  });

  await step("traces: two selected traces are added to a queue in one action, then exported", async () => {
    const configs = await (await fetch(`${base}/api/public/score-configs`, { headers: { authorization: publicAuth } })).json();
    const created = await fetch(`${base}/api/public/annotation-queues`, {
      method: "POST",
      headers: { authorization: publicAuth, "content-type": "application/json" },
      body: JSON.stringify({ name: "e2e-bulk", scoreConfigIds: [configs.data[0].id] }),
    });
    assert(created.ok, `queue: ${created.status} ${await created.clone().text()}`);
    const queue = await created.json();
    await page.goto(`${base}/project/e2e/traces?userId=alice`);
    await expectRows(2, "alice's traces");
    await rows.nth(0).locator("td.select input").click();
    await rows.nth(1).locator("td.select input").click({ modifiers: ["Shift"] });
    const bulk = page.getByRole("region", { name: "Selected traces" });
    await bulk.getByText("2 traces selected").waitFor();
    await bulk.getByLabel("Queue for the selected traces").selectOption({ label: "e2e-bulk" });
    await bulk.getByRole("button", { name: "Add to queue" }).click();
    await bulk.getByRole("status").getByText("Added 2 traces to the queue e2e-bulk.").waitFor();
    const items = await (await fetch(`${base}/api/public/annotation-queues/${queue.id}/items`, { headers: { authorization: publicAuth } })).json();
    const queued = items.data.map((item) => item.objectId).sort();
    assert(JSON.stringify(queued) === JSON.stringify([ids.turn0, ids.turn1].sort()), `the queued traces: ${queued}`);
    const [download] = await Promise.all([page.waitForEvent("download"), bulk.getByRole("button", { name: "Export CSV" }).click()]);
    const path = join(dataDir, "traces.csv");
    await download.saveAs(path);
    const csv = readFileSync(path, "utf8");
    assert(csv.startsWith("id,timestamp,name,") && csv.includes(ids.turn0) && csv.includes("purple lighthouse"), `the CSV: ${csv.slice(0, 300)}`);
  });

  await step("traces: an admin deletes selected traces after a confirmation", async () => {
    await page.goto(`${base}/project/e2e/traces?f=${encodeURIComponent("name;starts with;paged-")}&limit=25`);
    await expectRows(25, "a page of 25");
    await page.getByLabel("Select all traces on this page").check();
    const bulk = page.getByRole("region", { name: "Selected traces" });
    await bulk.getByText("25 traces selected").waitFor();
    acceptDialogs = true;
    await bulk.getByRole("button", { name: "Delete" }).click();
    await expectRows(5, "the five traces left");
    acceptDialogs = false;
    assert(dialogs.some((message) => message.startsWith("Delete 25 traces")), `the confirmation: ${dialogs}`);
  });

  await step("settings: changing the password needs the current one", async () => {
    await page.goto(`${base}/project/e2e/settings`);
    await page.getByRole("heading", { name: "Your password" }).waitFor();
    await page.getByLabel("Current password").fill("not-the-password");
    await page.getByLabel("New password").fill("e2e-password-2");
    await page.getByRole("button", { name: "Save password" }).click();
    const refused = await page.locator('[role="alert"]').textContent();
    assert(refused.includes("currentPassword"), `wrong current password refused: ${refused}`);
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByRole("button", { name: "Save password" }).click();
    await page.getByText("Password saved.").waitFor();
  });

  await step("roles: the admin invites a viewer, who reads a trace without an add-score form", async () => {
    await page.goto(`${base}/project/e2e/settings`);
    await page.getByLabel("Invite email").fill("viewer@e2e.test");
    await page.getByLabel("Invite role").selectOption("viewer");
    await page.getByRole("button", { name: "Invite" }).click();
    const link = (await page.locator(".secret code", { hasText: "/api/ui/auth/link" }).textContent()).trim();
    // The viewer signs in with the one-time link in a browser context of their own.
    const viewerContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const viewer = await viewerContext.newPage();
    viewer.setDefaultTimeout(20_000);
    viewer.on("pageerror", (error) => pageErrors.push(String(error)));
    await viewer.goto(link);
    await viewer.goto(`${base}/project/e2e/traces`);
    await viewer.locator("table.data tbody tr").first().waitFor();
    await viewer.locator("table.data tbody tr").first().locator("td[data-col='name'] a").click();
    await viewer.locator(".tree-row").first().waitFor();
    assert((await viewer.locator(".detail").textContent()).length > 0, "the viewer reads the trace");
    assert((await viewer.locator(".add-score").count()) === 0, "no add-score form for a viewer");
    assert((await viewer.getByRole("button", { name: "Add score" }).count()) === 0, "no Add score button");
    await viewer.screenshot({ path: join(SHOTS, "trace-viewer.png"), fullPage: false });
    // A forged request with the viewer's session and CSRF token is refused by the server.
    const forged = await viewer.evaluate(async () => {
      const me = await (await fetch("/api/ui/me")).json();
      const answer = await fetch("/api/ui/projects/e2e/scores", {
        method: "POST",
        headers: { "content-type": "application/json", "x-spindle-csrf": me.csrfToken },
        body: JSON.stringify({ traceId: "any", name: "forged", value: 1 }),
      });
      return { role: me.projects[0]?.role, status: answer.status };
    });
    assert(forged.role === "viewer", `the viewer's role: ${forged.role}`);
    assert(forged.status === 403, `a viewer's forged score answers ${forged.status}`);
    // The viewer sees the rolled-up metadata keys without controls.
    await viewer.goto(`${base}/project/e2e/settings`);
    await viewer.locator("[data-testid='rolled-key'][data-key='tenant']").waitFor();
    assert((await viewer.getByTestId("rolled-key-input").count()) === 0, "no key input for a viewer");
    assert((await viewer.getByTestId("rolled-metadata").getByRole("button").count()) === 0, "no remove buttons for a viewer");
    await viewerContext.close();
  });

  // 60 traces of one user (more than a page of the traces list) in 25 sessions, each with a
  // priced generation; and a trace whose generation called a tool.
  const ingest = async (batch) => {
    const sent = await fetch(`${base}/api/public/ingestion`, {
      method: "POST",
      headers: { authorization: publicAuth, "content-type": "application/json" },
      body: JSON.stringify({ batch }),
    });
    assert(sent.status === 207 || sent.ok, `ingestion answered ${sent.status}`);
    const answer = await sent.json();
    assert((answer.errors ?? []).length === 0, `ingestion errors: ${JSON.stringify(answer.errors)}`);
  };
  await step("seed a heavy user's traces and a trace with tool calls", async () => {
    const now = Date.now() - 3_600_000;
    const iso = (ms) => new Date(now + ms).toISOString();
    const batch = [];
    for (let index = 0; index < 60; index++) {
      const traceId = `heavy-${index}`;
      batch.push({ id: `${traceId}-t`, type: "trace-create", timestamp: iso(index * 1000), body: {
        id: traceId, name: "heavy-chat", userId: "heavy-user", sessionId: `hs-${index % 25}`, timestamp: iso(index * 1000) } });
      batch.push({ id: `${traceId}-g`, type: "generation-create", timestamp: iso(index * 1000), body: {
        id: `${traceId}-gen`, traceId, name: "llm", model: "unpriced-e2e-model", startTime: iso(index * 1000), endTime: iso(index * 1000 + 400),
        usageDetails: { input: 100 + index, output: 20, total: 120 + index }, costDetails: { total: 0.001 * (index + 1) } } });
    }
    batch.push({ id: "tools-t", type: "trace-create", timestamp: iso(0), body: { id: "tools-trace", name: "tools", timestamp: iso(0) } });
    batch.push({ id: "tools-g", type: "generation-create", timestamp: iso(0), body: {
      id: "tools-gen", traceId: "tools-trace", name: "weather-llm", model: "gpt-4o-mini", startTime: iso(0), endTime: iso(900),
      input: [
        { role: "user", content: "What is the weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' } }] },
        { role: "tool", tool_call_id: "call_weather_1", content: '{"temperature": 21, "sky": "clear"}' },
      ],
      output: { role: "assistant", content: "It is 21 °C and clear in Paris." },
      metadata: { documents: Array.from({ length: 30 }, (_, index) => ({ id: `doc-${index}`, title: `Forecast ${index}` })), settings: { unit: "celsius" } } } });
    await ingest(batch);
  });

  await step("a tool call shows its parsed arguments next to its result", async () => {
    await page.goto(`${base}/project/e2e/traces/tools-trace`);
    await page.locator(".tree-row", { hasText: "weather-llm" }).first().click();
    const call = page.locator(".detail .tool-call[data-call-id='call_weather_1']");
    await call.waitFor();
    assert((await call.locator(".tool-name").textContent()) === "get_weather", "the tool's name");
    const args = await call.locator(".tool-args").textContent();
    assert(args.includes('"city": "Paris"') && args.includes('"unit": "celsius"'), `parsed arguments: ${args}`);
    assert(!args.includes('\\"'), `no escaped JSON string: ${args}`);
    const result = await call.locator(".tool-result").textContent();
    assert(result.includes('"temperature": 21') && result.includes('"sky": "clear"'), `the result beside the call: ${result}`);
    assert((await page.locator(".detail .tool-result-ref").textContent()).includes("get_weather"), "the tool message points to its call");
    // The tree's generation row shows model, tokens and cost.
    const row = await page.locator(".tree-row", { hasText: "weather-llm" }).first().textContent();
    assert(row.includes("gpt-4o-mini"), `model on the row: ${row}`);
    await page.screenshot({ path: join(SHOTS, "tool-calls.png"), fullPage: false });
  });

  await step("the JSON viewer searches and folds", async () => {
    await page.locator(".tree-row", { hasText: "weather-llm" }).first().click();
    const tree = page.locator(".detail .json-tree[aria-label='observation metadata']");
    await tree.waitFor();
    // Folded beyond two levels: the documents' fields are not rendered until searched.
    assert((await tree.locator("[data-path='$.documents[29].title']").count()) === 0, "folded by default");
    await tree.locator("input[type='search']").fill("forecast 29");
    await tree.locator(".jt-row.match.active[data-path='$.documents[29].title']").waitFor();
    assert((await tree.textContent()).includes("1 of 1"), "one match");
    await tree.locator("input[type='search']").fill("");
    await tree.locator("[data-path='$'] button.toggle").click();
    await tree.locator("[data-path='$.settings']").waitFor({ state: "detached" });
  });

  await step("a user page's totals cover all their traces and match the public API", async () => {
    const metrics = JSON.stringify({
      view: "traces",
      metrics: [{ measure: "count", aggregation: "count" }, { measure: "totalTokens", aggregation: "sum" }, { measure: "totalCost", aggregation: "sum" }],
      dimensions: [],
      filters: [{ column: "userId", operator: "=", value: "heavy-user", type: "string" }],
      fromTimestamp: "2000-01-01T00:00:00Z",
      toTimestamp: "2100-01-01T00:00:00Z",
    });
    const answer = await (await fetch(`${base}/api/public/metrics?query=${encodeURIComponent(metrics)}`, { headers: { authorization: publicAuth } })).json();
    const expected = answer.data?.[0];
    assert(expected && Number(expected.count_count) === 60, `the public API counts 60 traces: ${JSON.stringify(answer)}`);
    await page.goto(`${base}/project/e2e/users/heavy-user`);
    const total = (name) => page.locator(`.user-totals [data-total='${name}']`);
    await page.waitForFunction(() => document.querySelector(".user-totals [data-total='traces']")?.textContent === "60");
    const tokens = Number((await total("totalTokens").textContent()).replace(/,/g, ""));
    assert(tokens === Number(expected.sum_totalTokens), `tokens ${tokens} = ${expected.sum_totalTokens}`);
    const shownCost = Number((await total("cost").textContent()).replace("$", ""));
    assert(Math.abs(shownCost - Number(expected.sum_totalCost)) < 1e-6, `cost ${shownCost} = ${expected.sum_totalCost}`);
    assert(Math.abs(shownCost - 1.83) < 1e-6, `all 60 traces' cost, not the last 50: ${shownCost}`);
    await page.getByRole("heading", { name: "Sessions (25)" }).waitFor();
    assert((await page.locator("table.user-sessions tbody tr").count()) === 20, "a page of 20 sessions");
    await page.locator(".pager button", { hasText: "Next" }).first().click();
    await page.waitForFunction(() => document.querySelectorAll("table.user-sessions tbody tr").length === 5);
    assert(new URL(page.url()).searchParams.get("sessionsPage") === "2", "the page is in the URL");
    await page.screenshot({ path: join(SHOTS, "user.png"), fullPage: false });
  });

  await step("the sessions list: search, sort and bounds on totals", async () => {
    await page.goto(`${base}/project/e2e/sessions`);
    await rows.first().waitFor();
    await page.fill('.totals-filters input[name="search"]', "HS-1");
    await page.press('.totals-filters input[name="search"]', "Enter");
    await expectRows(11, "hs-1 and hs-10 … hs-19");
    assert(new URL(page.url()).searchParams.get("search") === "HS-1", "the search is in the URL");
    await page.locator("th button.sort", { hasText: "Traces" }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get("orderBy") === "traces.desc");
    // hs-1 has 3 traces, hs-10 … hs-19 have 2 each, in id order.
    await page.locator("th button.sort", { hasText: "Traces" }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get("orderBy") === "traces.asc");
    await page.waitForFunction(() => document.querySelector("table.data:not(.stale) tbody tr td[data-col='session']")?.textContent === "hs-10");
    const counts = await page.locator("table.data tbody tr td[data-col='traces']").allTextContents();
    assert(counts.join(",") === "2,2,2,2,2,2,2,2,2,2,3", `sorted by traces: ${counts}`);
    await page.fill('.totals-filters input[name="tracesMin"]', "3");
    await page.press('.totals-filters input[name="tracesMin"]', "Enter");
    await expectRows(1, "sessions of at least 3 traces");
    assert((await rows.first().locator("td[data-col='session']").textContent()) === "hs-1", "hs-1 has 3 traces");
    await page.reload();
    await expectRows(1, "the filters survive a reload");
    // A range sums the traces from its start; choosing it loads the list once.
    let loads = 0;
    const count = (request) => {
      if (request.url().includes("/api/ui/projects/e2e/sessions?")) loads++;
    };
    page.on("request", count);
    await page.selectOption('.totals-filters select[name="range"]', "24h");
    await page.waitForFunction(() => new URL(location.href).searchParams.get("range") === "24h");
    await expectRows(1, "hs-1's traces are in the last 24 hours");
    await page.waitForTimeout(1500);
    page.off("request", count);
    assert(loads === 1, `one load for the range: ${loads}`);
    await page.screenshot({ path: join(SHOTS, "sessions.png"), fullPage: false });
  });

  await step("the sessions list keeps one environment's traces", async () => {
    await page.goto(`${base}/project/e2e/sessions?search=hs-1&environment=no-such-environment`);
    await page.getByText("Nothing matches these filters.").waitFor();
    assert((await page.locator('.totals-filters input[name="environment"]').inputValue()) === "no-such-environment", "the environment is in the form");
    await page.fill('.totals-filters input[name="environment"]', "default");
    await page.press('.totals-filters input[name="environment"]', "Enter");
    await page.waitForFunction(() => new URL(location.href).searchParams.get("environment") === "default");
    await expectRows(11, "hs-1 and hs-10 … hs-19 in the default environment");
  });

  await step("organization: an admin creates an organization key and sees it listed", async () => {
    await page.goto(`${base}/project/e2e/organization`);
    await page.getByRole("heading", { name: "E2E Org" }).waitFor();
    assert((await page.getByTestId("organization-role").textContent()) === "owner", "the instance admin owns it");
    await page.getByRole("button", { name: "Create organization API key" }).click();
    const secret = (await page.getByTestId("organization-secret-key").textContent()).trim();
    assert(secret.startsWith("sk-lf-"), `secret shown once: ${secret}`);
    const listed = page.getByTestId("organization-key");
    await listed.first().waitFor();
    assert((await listed.count()) === 1, "one key listed");
    assert((await listed.first().textContent()).includes(secret.slice(-4)), "listed with the secret's hint");
    await page.locator("section.audit-log [data-testid='audit-entry']", { hasText: "organization api key" }).first().waitFor();
  });

  await step("organization: an admin invites a member and changes the member's role", async () => {
    await page.getByLabel("Invite to organization").fill("analyst@e2e.test");
    await page.getByLabel("Organization invite role").selectOption("member");
    await page.getByRole("button", { name: "Invite" }).click();
    const role = page.getByLabel("Role of analyst@e2e.test");
    await role.waitFor();
    assert((await role.inputValue()) === "member", "invited as a member");
    await role.selectOption("admin");
    await page.locator("section.audit-log [data-testid='audit-entry']", { hasText: "role changed" }).first().waitFor();
    await page.reload();
    await page.getByLabel("Role of analyst@e2e.test").waitFor();
    assert((await page.getByLabel("Role of analyst@e2e.test").inputValue()) === "admin", "the new role is stored");
    await page.screenshot({ path: join(SHOTS, "organization.png"), fullPage: true });
  });

  await step("organization: a new organization's project shows in its own group of the project switcher", async () => {
    await page.getByLabel("New organization name").fill("Research");
    await page.getByRole("button", { name: "Create organization", exact: true }).click();
    await page.getByRole("heading", { name: "Research" }).waitFor();
    await page.getByRole("button", { name: "Create organization API key" }).click();
    const secret = (await page.getByTestId("organization-secret-key").textContent()).trim();
    const publicKey = (await page.getByTestId("organization-key").first().locator("code").first().textContent()).trim();
    const created = await fetch(`${base}/api/public/projects`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${publicKey}:${secret}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "Research project", retention: 0 }),
    });
    assert(created.status === 201 || created.status === 200, `project created with the new key: ${created.status}`);
    await page.reload();
    const switcher = page.getByLabel("Project");
    await switcher.locator("optgroup[label='Research'] option", { hasText: "Research project" }).waitFor({ state: "attached" });
    const groups = await switcher.locator("optgroup").evaluateAll((nodes) =>
      nodes.map((group) => [group.getAttribute("label"), [...group.querySelectorAll("option")].map((option) => option.textContent)]),
    );
    assert(JSON.stringify(groups) === JSON.stringify([["E2E Org", ["E2E project"]], ["Research", ["Research project"]]]), `groups: ${JSON.stringify(groups)}`);
  });

  await step("organization: a viewer of the organization sees its members without controls", async () => {
    const forged = await page.evaluate(async () => {
      const me = await (await fetch("/api/ui/me")).json();
      return me.organizations.map((organization) => organization.name);
    });
    assert(forged.includes("Research"), `the admin's organizations: ${forged}`);
    const viewerContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const viewer = await viewerContext.newPage();
    viewer.setDefaultTimeout(20_000);
    viewer.on("pageerror", (error) => pageErrors.push(String(error)));
    // The organization's owner makes analyst a viewer; analyst signs in with their link.
    const link = await page.evaluate(async () => {
      const me = await (await fetch("/api/ui/me")).json();
      const organization = me.organizations.find((candidate) => candidate.name === "E2E Org");
      const answer = await fetch(`/api/ui/organizations/${organization.id}/members`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-spindle-csrf": me.csrfToken },
        body: JSON.stringify({ email: "reader@e2e.test", role: "viewer" }),
      });
      return (await answer.json()).signInPath;
    });
    await viewer.goto(`${base}${link}`);
    await viewer.goto(`${base}/project/e2e/organization`);
    await viewer.getByTestId("organization-member").first().waitFor();
    assert((await viewer.getByTestId("organization-role").textContent()) === "viewer", "the viewer's role");
    assert((await viewer.getByRole("button", { name: "Create organization API key" }).count()) === 0, "no key controls");
    assert((await viewer.getByRole("button", { name: "Invite" }).count()) === 0, "no invitation form");
    assert((await viewer.locator("[data-testid='organization-member'] select").count()) === 0, "no role selects");
    assert((await viewer.getByRole("button", { name: "Remove" }).count()) === 0, "no remove buttons");
    assert((await viewer.getByRole("button", { name: "Create organization", exact: true }).count()) === 0, "no new organization form");
    await viewerContext.close();
  });

  await step("no page errors", async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join("; ")}`);
  });
} catch (error) {
  failed = true;
  console.error(error);
  writeFileSync(logPath, serverLog.join(""));
  console.error(`server log: ${logPath}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  server.kill("SIGTERM");
  await new Promise((done) => {
    if (server.exitCode !== null) done();
    else server.once("exit", done);
  });
  if (!failed) rmSync(dataDir, { recursive: true, force: true });
}

const passed = results.filter(([, ok]) => ok).length;
console.log(`\ne2e: ${passed} passed, ${results.length - passed} failed`);
process.exit(failed ? 1 : 0);
