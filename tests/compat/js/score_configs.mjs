// Score configs with the official JS SDK (@langfuse/client 5.x): configs created through the API
// client (numeric with a range, categorical, boolean, one archived by an update), read by id and
// paged; scores that name a config through langfuse.score.create and through
// api.scores.create, which answers scores out of range, of an unknown category or naming an
// archived config with a 400. Prints one line `COMPAT_SUMMARY {json}`.
import { LangfuseClient } from "@langfuse/client";
import { bounded, errorOf, need, projectKeys, report, sdkLog } from "./harness.mjs";

const run = need("COMPAT_RUN_ID");
const langfuse = new LangfuseClient(projectKeys());
const configs = langfuse.api.scoreConfigs;
const suffix = `${run}-js`.slice(-20);
const summary = { sdk: "javascript", major: "v5", run };

const configSummary = (config) => ({
  id: config.id,
  name: config.name,
  data_type: config.dataType,
  is_archived: config.isArchived,
  min_value: config.minValue ?? null,
  max_value: config.maxValue ?? null,
  categories: (config.categories ?? []).map((c) => ({ label: c.label, value: c.value })),
  description: config.description ?? null,
});
const accuracy = await configs.create({
  name: `accuracy ${suffix}`,
  dataType: "NUMERIC",
  minValue: 0,
  maxValue: 1,
  description: "share of right answers",
});
const tone = await configs.create({
  name: `tone ${suffix}`,
  dataType: "CATEGORICAL",
  categories: [
    { label: "rude", value: 0 },
    { label: "polite", value: 1 },
  ],
});
const correct = await configs.create({ name: `correct ${suffix}`, dataType: "BOOLEAN" });
const old = await configs.create({ name: `old ${suffix}`, dataType: "NUMERIC" });
summary.created = Object.fromEntries(
  Object.entries({ accuracy, tone, correct, old }).map(([key, config]) => [key, configSummary(config)]),
);
summary.got = configSummary(await configs.getById(tone.id));
const page = await configs.get({ page: 1, limit: 2 });
summary.page = { total: page.meta.totalItems, pages: page.meta.totalPages, count: page.data.length };
summary.archived = configSummary(await configs.update(old.id, { isArchived: true, description: "retired" }));

const expectedFrom = sdkLog.length;
summary.missing_config = await errorOf(() => configs.getById("no-such-config"));
summary.bad_config = await errorOf(() =>
  configs.create({ name: `bad ${suffix}`, dataType: "NUMERIC", minValue: 5, maxValue: 1 }),
);

const traceId = `trace-${run}-score-configs-js`;
summary.trace_id = traceId;
const keys = ["sdk_numeric", "sdk_categorical", "api_numeric", "api_categorical", "api_range", "api_category", "api_archived"];
const ids = Object.fromEntries(keys.map((key) => [key, `${key}-${suffix}`]));
summary.ids = ids;
langfuse.score.create({ id: ids.sdk_numeric, name: accuracy.name, value: 0.75, traceId, configId: accuracy.id });
langfuse.score.create({ id: ids.sdk_categorical, name: tone.name, value: "polite", traceId, configId: tone.id });
// Twice: a flush called while an earlier one is in flight answers with that one, and the
// scores queued meanwhile wait for the next (the client's score queue, not the server).
await bounded(summary, "score_flush", () => langfuse.score.flush().then(() => langfuse.score.flush()));

const items = [
  ["api_numeric", accuracy, 1],
  ["api_categorical", tone, "rude"],
  ["api_range", accuracy, 1.5],
  ["api_category", tone, "snarky"],
  ["api_archived", old, 3],
];
summary.api_single = {};
for (const [key, config, value] of items) {
  summary.api_single[key] = await errorOf(() =>
    langfuse.api.scores.create({ id: ids[key], name: config.name, value, traceId, configId: config.id }),
  );
}
summary.expected_sdk_log = sdkLog.splice(expectedFrom);

await bounded(summary, "client_shutdown", () => langfuse.shutdown());
report(summary);
