// Drives the official Langfuse JS SDK (@langfuse/tracing + @langfuse/otel +
// @langfuse/client 5.x) against the server named by LANGFUSE_BASE_URL and
// prints one line `COMPAT_SUMMARY {json}` with the ids it created and every
// warning/error the SDK or the OpenTelemetry exporter reported.
import { diag, DiagLogLevel } from "@opentelemetry/api";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import {
  createTraceId,
  getActiveSpanId,
  getActiveTraceId,
  observe,
  propagateAttributes,
  setActiveTraceIO,
  startActiveObservation,
  startObservation,
} from "@langfuse/tracing";
import { LangfuseClient } from "@langfuse/client";
import { bounded, need, otelDiagLogger, report } from "./harness.mjs";

diag.setLogger(otelDiagLogger, DiagLogLevel.WARN);

const run = need("COMPAT_RUN_ID");
// A variant (other transport settings, same calls) names its traces apart.
const variant = process.env.COMPAT_VARIANT || "";
const p = variant ? `js-${variant}` : "js";

const processor = new LangfuseSpanProcessor({
  publicKey: need("LANGFUSE_PUBLIC_KEY"),
  secretKey: need("LANGFUSE_SECRET_KEY"),
  baseUrl: need("LANGFUSE_BASE_URL"),
  environment: "compat",
  release: "rel-js",
  ...(variant === "immediate" ? { exportMode: "immediate" } : {}),
});
const provider = new NodeTracerProvider({ spanProcessors: [processor] });
provider.register();

const langfuse = new LangfuseClient({
  publicKey: need("LANGFUSE_PUBLIC_KEY"),
  secretKey: need("LANGFUSE_SECRET_KEY"),
  baseUrl: need("LANGFUSE_BASE_URL"),
});

const TYPES = ["span", "generation", "agent", "tool", "chain", "retriever", "embedding", "evaluator", "guardrail"];
const summary = { sdk: "javascript", major: "v5", run, prefix: p, variant };

// ---- startActiveObservation root with every asType via startObservation ----
const types = { children: {} };
await startActiveObservation(`${p}-types`, async (root) => {
  types.trace = root.traceId;
  types.root = root.id;
  root.update({ input: { all: "types" } });
  for (const t of TYPES) {
    const o = startObservation(`js-${t}`, { input: { t } }, { asType: t });
    o.update({ output: `out-${t}` });
    types.children[t] = o.id;
    o.end();
  }
  const ev = startObservation("js-event", { input: { e: 1 }, level: "WARNING" }, { asType: "event" });
  types.children.event = ev.id;
  // nested active observation of another type
  await startActiveObservation(
    "js-active-agent",
    async (agent) => {
      types.active_agent = agent.id;
      const tool = startObservation("js-agent-tool", { input: "q" }, { asType: "tool" });
      types.agent_tool = tool.id;
      tool.update({ output: "a" }).end();
      agent.update({ output: "agent-done" });
    },
    { asType: "agent" },
  );
  root.update({ output: { done: true } });
});
summary.types = types;

// ---- generation with every field ----
const gen = {};
await startActiveObservation(`${p}-generations`, async (root) => {
  gen.trace = root.traceId;
  gen.root = root.id;
  const g = startObservation(
    "js-gen",
    {
      input: [{ role: "user", content: "hi" }],
      model: "gpt-4o",
      modelParameters: { temperature: 0.3, maxTokens: 50 },
      completionStartTime: new Date("2024-01-02T03:04:05.678Z"),
      metadata: { k: "v" },
      version: "gen-v1",
    },
    { asType: "generation" },
  );
  gen.full = g.id;
  g.update({
    output: { role: "assistant", content: "yo" },
    usageDetails: { input: 10, output: 5, total: 15 },
    costDetails: { input: 0.01, output: 0.02, total: 0.03 },
  });
  g.end();
  const failed = startObservation(
    "js-gen-failed",
    { model: "gpt-4o", level: "ERROR", statusMessage: "js rate limited" },
    { asType: "generation" },
  );
  gen.failed = failed.id;
  failed.end();
});
summary.generations = gen;

// ---- propagateAttributes ----
const prop = { user_id: `user-${p}-${run}`, session_id: `sess-${p}-${run}`, trace_name: `${p}-prop-trace` };
await startActiveObservation(`${p}-prop-root`, async (root) => {
  prop.trace = root.traceId;
  prop.root = root.id;
  await propagateAttributes(
    {
      userId: prop.user_id,
      sessionId: prop.session_id,
      tags: ["jt1", "jt2"],
      metadata: { tenant: "acme", tier: "gold" },
      version: "js-app-v2",
      traceName: prop.trace_name,
    },
    async () => {
      await startActiveObservation(
        "js-prop-child",
        async (c) => {
          prop.child = c.id;
          await propagateAttributes({ tags: ["jt3"], metadata: { extra: "x" } }, async () => {
            const gc = startObservation("js-prop-grandchild");
            prop.grandchild = gc.id;
            gc.end();
          });
        },
        { asType: "generation" },
      );
    },
  );
  setActiveTraceIO({ input: { traceIn: 1 }, output: { traceOut: 2 } });
});
summary.propagate = prop;

// ---- propagated prompt link and environment ----
const promptEnv = {};
await propagateAttributes({ environment: "compat-prop", prompt: { name: "my-prompt", version: 3 } }, async () => {
  await startActiveObservation(`${p}-prompt-env`, async (root) => {
    promptEnv.trace = root.traceId;
    promptEnv.root = root.id;
    const g = startObservation("prompted-gen", { model: "m" }, { asType: "generation" });
    promptEnv.gen = g.id;
    g.end();
  });
});
summary.prompt_env = promptEnv;

// ---- observe(): sync-style and async functions, nested, and a failing one ----
const obs = { children: {} };
const jsInner = observe(
  async (x) => {
    obs.children.inner = getActiveSpanId();
    return x * 2;
  },
  { name: "jsInner", asType: "tool" },
);
const jsOuter = observe(
  async (x, y) => {
    obs.trace = getActiveTraceId();
    obs.outer = getActiveSpanId();
    const doubled = await jsInner(x);
    return { doubled, y };
  },
  { name: `${p}-observed`, asType: "chain" },
);
obs.result = await jsOuter(21, "why");
summary.observe = obs;

// a plain synchronous function wrapped with observe()
const syncObs = {};
const jsSync = observe(
  (a, b) => {
    syncObs.trace = getActiveTraceId();
    syncObs.span = getActiveSpanId();
    return a + b;
  },
  { name: `${p}-sync-observed`, asType: "tool" },
);
syncObs.result = jsSync(2, 3);
summary.observe_sync = syncObs;

const failing = {};
const jsFailing = observe(
  async () => {
    failing.trace = getActiveTraceId();
    failing.span = getActiveSpanId();
    throw new Error("js boom");
  },
  { name: `${p}-failing` },
);
try {
  await jsFailing();
  failing.raised = false;
} catch (e) {
  failing.raised = true;
}
summary.exception = failing;

// ---- linking to an external trace id from a seed ----
const seed = `${p}-${run}-external-id`;
const linkedTrace = await createTraceId(seed);
const linked = { seed, trace: linkedTrace, parent: "0123456789abcdef" };
const l = startObservation(
  "js-linked",
  { input: "linked" },
  { parentSpanContext: { traceId: linkedTrace, spanId: linked.parent, traceFlags: 1 } },
);
linked.span = l.id;
linked.span_trace = l.traceId;
l.end();
summary.trace_context = linked;

// ---- base64 data-URI media in the input (the span processor uploads it) ----
const PNG_1X1_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const media = {};
await startActiveObservation(`${p}-media`, async (root) => {
  media.trace = root.traceId;
  media.span = root.id;
  root.update({ input: { image: `data:image/png;base64,${PNG_1X1_B64}`, caption: "pixel" } });
});
summary.media = media;

// ---- scores through @langfuse/client ----
const scoreSession = `score-sess-${p}-${run}`;
const sc = { session_id: scoreSession };
await propagateAttributes({ sessionId: scoreSession }, async () => {
  await startActiveObservation(`${p}-scored`, async (root) => {
    sc.trace = root.traceId;
    sc.root = root.id;
    const child = startObservation("js-scored-child", {}, { asType: "generation" });
    sc.child = child.id;
    langfuse.score.observation({ otelSpan: child.otelSpan }, { name: "obs-method-num", value: 0.25 });
    langfuse.score.trace({ otelSpan: child.otelSpan }, { name: "trace-method-cat", value: "ok", dataType: "CATEGORICAL" });
    child.end();
    langfuse.score.activeObservation({ name: "active-obs-bool", value: 1, dataType: "BOOLEAN" });
    langfuse.score.activeTrace({ name: "active-trace-num", value: 4, comment: "4 of 5" });
  });
});
const base = { traceId: sc.trace };
langfuse.score.create({ ...base, name: "trace-num", value: 0.7, comment: "ok", metadata: { a: 1 } });
langfuse.score.create({ ...base, name: "trace-cat", value: "good", dataType: "CATEGORICAL" });
langfuse.score.create({ ...base, name: "trace-bool", value: 1, dataType: "BOOLEAN" });
langfuse.score.create({ ...base, name: "trace-text", value: "free text", dataType: "TEXT" });
const ob = { traceId: sc.trace, observationId: sc.child };
langfuse.score.create({ ...ob, name: "obs-num", value: 3 });
langfuse.score.create({ ...ob, name: "obs-cat", value: "bad", dataType: "CATEGORICAL" });
langfuse.score.create({ ...ob, name: "obs-bool", value: 0, dataType: "BOOLEAN" });
langfuse.score.create({ ...ob, name: "obs-text", value: "obs text", dataType: "TEXT" });
langfuse.score.create({ sessionId: scoreSession, name: "sess-num", value: -1.5 });
langfuse.score.create({ sessionId: scoreSession, name: "sess-cat", value: "meh", dataType: "CATEGORICAL" });
langfuse.score.create({ sessionId: scoreSession, name: "sess-bool", value: 1, dataType: "BOOLEAN" });
langfuse.score.create({ sessionId: scoreSession, name: "sess-text", value: "session text", dataType: "TEXT" });
summary.scores = sc;
// scores read back one by one through the client (GET /api/public/v2/scores/{id}), on a trace of
// their own
const scoreReads = { ids: {} };
await startActiveObservation(`${p}-score-reads`, async (root) => {
  scoreReads.trace = root.traceId;
});
for (const [kind, value, dataType] of [["num", 0.25, "NUMERIC"], ["cat", "great", "CATEGORICAL"], ["bool", 1, "BOOLEAN"]]) {
  scoreReads.ids[kind] = `${p}-${run}-by-id-${kind}`;
  langfuse.score.create({ id: scoreReads.ids[kind], traceId: scoreReads.trace, name: `by-id-${kind}`, value, dataType });
}
summary.score_reads = scoreReads;

await bounded(summary, "span_flush", () => processor.forceFlush());
// Twice: a flush called while an earlier one is in flight answers with that one, and the
// scores queued meanwhile wait for the next (the client's score queue, not the server).
await bounded(summary, "score_flush", () => langfuse.score.flush().then(() => langfuse.score.flush()));
// read back through the client's REST API
const reads = {};
async function sdkRead(label, fn) {
  try {
    reads[label] = { ok: true, value: await fn() };
  } catch (e) {
    reads[label] = { ok: false, error: String(e && e.stack ? e.stack : e).slice(0, 3000) };
  }
}
await sdkRead("api.trace.get", async () => {
  const t = await langfuse.api.trace.get(gen.trace);
  return { name: t.name, observations: t.observations.map((o) => o.id).sort() };
});
await sdkRead("api.sessions.get", async () => {
  const s = await langfuse.api.sessions.get(prop.session_id);
  return s.traces.map((t) => t.id);
});
for (const [kind, id] of Object.entries(scoreReads.ids)) {
  await sdkRead(`api.scores.getById(${kind})`, async () => {
    const s = await langfuse.api.scores.getById(id);
    return { id: s.id, name: s.name, dataType: s.dataType, value: s.value, stringValue: s.stringValue ?? null, traceId: s.traceId };
  });
}
await sdkRead("api.scores.getById(absent)", async () => {
  try {
    await langfuse.api.scores.getById(`${p}-${run}-absent`);
    return "no error";
  } catch (e) {
    return e && e.statusCode ? e.statusCode : String(e);
  }
});
summary.sdk_reads = reads;
await bounded(summary, "provider_shutdown", () => provider.shutdown());
await bounded(summary, "client_shutdown", () => langfuse.shutdown());
report(summary);
