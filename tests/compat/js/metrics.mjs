// The metrics API with the official JS SDK (@langfuse/client 5.x): three generations of two
// models under one trace, exported and flushed, then queried through the API client:
// api.metrics.metrics (GET /api/public/v2/metrics) grouped by model with a filter on the trace
// name, api.legacy.metricsV1.metrics (GET /api/public/metrics) over the traces view, and a
// query with an unknown metric. Prints one line `COMPAT_SUMMARY {json}`.
import { LangfuseClient } from "@langfuse/client";
import { startActiveObservation, startObservation } from "@langfuse/tracing";
import { bounded, need, projectKeys, report, sdkLog } from "./harness.mjs";
import { registerTracing } from "./tracing.mjs";

const run = need("COMPAT_RUN_ID");
const keys = projectKeys();
const { processor, provider } = registerTracing(keys);
const langfuse = new LangfuseClient(keys);

const traceName = `metrics-${run}-js`;
const summary = { sdk: "javascript", major: "v5", run, trace_name: traceName };

await startActiveObservation(traceName, async (root) => {
  summary.trace = root.traceId;
  for (const [model, input, output] of [
    ["gpt-4o", 10, 5],
    ["gpt-4o", 20, 10],
    ["claude-3-haiku", 1, 1],
  ]) {
    const generation = startObservation("llm", { model }, { asType: "generation" });
    generation.update({ usageDetails: { input, output, total: input + output } });
    generation.end();
  }
});
await bounded(summary, "span_flush", () => processor.forceFlush());

const now = Date.now();
const window = {
  fromTimestamp: new Date(now - 3600_000).toISOString(),
  toTimestamp: new Date(now + 3600_000).toISOString(),
};
const byModel = {
  view: "observations",
  dimensions: [{ field: "providedModelName" }],
  metrics: [
    { measure: "count", aggregation: "count" },
    { measure: "totalTokens", aggregation: "sum" },
  ],
  filters: [
    { column: "traceName", operator: "=", value: traceName, type: "string" },
    { column: "type", operator: "=", value: "GENERATION", type: "string" },
  ],
  orderBy: [{ field: "providedModelName", direction: "asc" }],
  ...window,
};
const deadline = Date.now() + 15_000;
for (;;) {
  const v2 = await langfuse.api.metrics.metrics({ query: JSON.stringify(byModel) });
  summary.v2 = v2.data;
  const count = v2.data.reduce((sum, row) => sum + Number(row.count_count ?? 0), 0);
  if (count >= 3 || Date.now() > deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const byName = {
  view: "traces",
  dimensions: [{ field: "name" }],
  metrics: [{ measure: "count", aggregation: "count" }],
  filters: [{ column: "name", operator: "=", value: traceName, type: "string" }],
  ...window,
};
summary.v1 = (await langfuse.api.legacy.metricsV1.metrics({ query: JSON.stringify(byName) })).data;

// What the SDK logs about the failure below is expected, kept apart from the run's log.
const expectedFrom = sdkLog.length;
try {
  const bad = { ...byModel, metrics: [{ measure: "nope", aggregation: "sum" }] };
  await langfuse.api.metrics.metrics({ query: JSON.stringify(bad) });
  summary.bad_metric = null;
} catch (error) {
  summary.bad_metric = {
    status: error.statusCode ?? null,
    text: String(error.body ? JSON.stringify(error.body) : error).slice(0, 500),
  };
}
summary.expected_sdk_log = sdkLog.splice(expectedFrom);

await bounded(summary, "provider_shutdown", () => provider.shutdown());
await bounded(summary, "client_shutdown", () => langfuse.shutdown());
report(summary);
