// Drives the legacy JS SDK (npm `langfuse` 3.x, batch ingestion API) against
// the server named by LANGFUSE_BASE_URL; prints `COMPAT_SUMMARY {json}`.
// The legacy SDK sends the events of one batch out of causal order (updates
// before creates), which the server must merge regardless.
import { Langfuse } from "langfuse";
import { bounded, need, report, sdkLog } from "./harness.mjs";

const run = need("COMPAT_RUN_ID");
const summary = { sdk: "javascript-legacy", major: "v3", run };

const langfuse = new Langfuse({
  publicKey: need("LANGFUSE_PUBLIC_KEY"),
  secretKey: need("LANGFUSE_SECRET_KEY"),
  baseUrl: need("LANGFUSE_BASE_URL"),
  environment: "compat",
  release: "rel-jsl",
  flushAt: 1000,
});
langfuse.on("error", (e) => sdkLog.push({ logger: "langfuse", level: "error", message: String(e) }));

const ids = { user_id: `jsl-user-${run}`, session_id: `jsl-sess-${run}`, trace: `jsl-trace-${run}` };
const trace = langfuse.trace({
  id: ids.trace,
  name: "jsl-trace",
  userId: ids.user_id,
  sessionId: ids.session_id,
  metadata: { plan: "pro" },
  tags: ["jl1", "jl2"],
  input: { q: "legacy" },
});
const span = trace.span({ name: "jsl-span", input: { step: 1 } });
ids.span = span.id;
const gen = span.generation({
  name: "jsl-gen",
  model: "gpt-4o-mini",
  modelParameters: { temperature: 0.5 },
  input: [{ role: "user", content: "hi" }],
});
ids.gen = gen.id;
gen.end({ output: { role: "assistant", content: "yo" }, usage: { input: 10, output: 20, total: 30 } });
const ev = span.event({ name: "jsl-event", level: "WARNING", input: { e: 1 } });
ids.event = ev.id;
span.update({ metadata: { k: "v" } });
span.end({ output: "span-out", level: "ERROR", statusMessage: "legacy failure" });
trace.score({ name: "jsl-score", value: 1, comment: "c" });
langfuse.score({ traceId: ids.trace, observationId: ids.gen, name: "jsl-cat", value: "good", dataType: "CATEGORICAL" });
trace.update({ output: { a: "done" } });
summary.trace = ids;

await bounded(summary, "flush", () => langfuse.flushAsync());
await bounded(summary, "shutdown", () => langfuse.shutdownAsync());
report(summary);
