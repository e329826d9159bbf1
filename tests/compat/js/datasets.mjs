// Datasets with the official JS SDK (@langfuse/client 5.x): a dataset (a name in a folder) and
// its items created through the API client (one archived by an upsert of its id, one deleted),
// read back with langfuse.dataset.get (one item a page) and as they were before those two writes
// (`version`), then langfuse.experiment.run on the active items with a
// task and an evaluator, which links each item's task trace through datasetRunItems.create (an
// archived item is refused there); the run is read back with datasets.getRun/getRuns and
// datasetRunItems.list; a second run on the items as they were at `version` (its run items
// carry `datasetVersion`), and both read through the experiments API client. An item created
// with langfuse.dataset.createItem holding LangfuseMedia (uploaded for the item first) is read
// back by langfuse.dataset.get as resolved media references whose bytes are fetched.
// Prints one line `COMPAT_SUMMARY {json}`.
import { LangfuseClient, LangfuseMedia, LangfuseMediaReference } from "@langfuse/client";
import { bounded, errorOf, need, projectKeys, report, sdkLog } from "./harness.mjs";
import { registerTracing } from "./tracing.mjs";

const run = need("COMPAT_RUN_ID");
const keys = projectKeys();
const { processor, provider } = registerTracing(keys);
const langfuse = new LangfuseClient(keys);

const name = `compat-${run}-js/capitals`;
const runName = `run-${run}-js`;
const summary = { sdk: "javascript", major: "v5", run, name, run_name: runName };

const created = await langfuse.api.datasets.create({
  name,
  description: "capital cities",
  metadata: { owner: "geo" },
});
summary.created = { id: created.id, name: created.name, description: created.description, metadata: created.metadata };

const itemSummary = (item) => ({
  id: item.id,
  status: item.status,
  input: item.input,
  expected_output: item.expectedOutput,
  metadata: item.metadata ?? null,
  dataset_id: item.datasetId,
  dataset_name: item.datasetName,
});
const italy = await langfuse.api.datasetItems.create({
  datasetName: name,
  input: { country: "Italy" },
  expectedOutput: "Rome",
  metadata: { difficulty: 1 },
});
const france = await langfuse.dataset.createItem({
  datasetName: name,
  id: `france-${run}-js`,
  input: { country: "France" },
  expectedOutput: "Paris",
});
const spainId = `spain-${run}-js`;
await langfuse.api.datasetItems.create({ datasetName: name, id: spainId, input: { country: "Spain" }, expectedOutput: "Madrid" });
const atlantisId = `atlantis-${run}-js`;
await langfuse.api.datasetItems.create({ datasetName: name, id: atlantisId, input: { country: "Atlantis" } });
// The dataset version between these writes and the ones below (pauses keep the millisecond of
// the ISO timestamp apart from both).
const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
await pause();
const version = new Date().toISOString();
await pause();
const archived = await langfuse.api.datasetItems.create({ datasetName: name, id: spainId, status: "ARCHIVED" });
await langfuse.api.datasetItems.delete(atlantisId);
summary.items = { italy: itemSummary(italy), france: itemSummary(france), archived: itemSummary(archived) };

const dataset = await langfuse.dataset.get(name, { fetchItemsPageSize: 1 });
summary.dataset = {
  id: dataset.id,
  name: dataset.name,
  description: dataset.description,
  metadata: dataset.metadata,
  items: dataset.items.map(itemSummary).sort((a, b) => a.id.localeCompare(b.id)),
  has_link: dataset.items.every((item) => typeof item.link === "function"),
};

const then = await langfuse.dataset.get(name, { version });
summary.dataset_then = {
  version,
  dataset_version: then.version,
  items: then.items.map(itemSummary).sort((a, b) => a.id.localeCompare(b.id)),
};

// Archived items take no part in a run: the experiment runs the active ones.
const active = dataset.items.filter((item) => item.status === "ACTIVE");
const result = await langfuse.experiment.run({
  name: "capitals",
  runName,
  description: "first try",
  metadata: { model: "lookup" },
  data: active,
  task: async (item) => ({ Italy: "Rome", France: "Lyon" })[item.input.country],
  evaluators: [
    async ({ output, expectedOutput }) => ({ name: "exact", value: output === expectedOutput ? 1 : 0 }),
  ],
});
summary.experiment = {
  run_name: result.runName,
  dataset_run_id: result.datasetRunId ?? null,
  items: result.itemResults.map((r) => ({
    item_id: r.item.id,
    output: r.output,
    trace_id: r.traceId,
    dataset_run_id: r.datasetRunId ?? null,
    evaluations: r.evaluations.map((e) => [e.name, e.value]),
  })),
};

const runRead = await langfuse.api.datasets.getRun(name, runName);
summary.run_read = {
  id: runRead.id,
  name: runRead.name,
  description: runRead.description,
  metadata: runRead.metadata,
  dataset_id: runRead.datasetId,
  dataset_name: runRead.datasetName,
  items: runRead.datasetRunItems
    .map((i) => ({
      dataset_item_id: i.datasetItemId,
      trace_id: i.traceId,
      observation_id: i.observationId ?? null,
      run_id: i.datasetRunId,
      run_name: i.datasetRunName,
    }))
    .sort((a, b) => a.dataset_item_id.localeCompare(b.dataset_item_id)),
};
const runs = await langfuse.api.datasets.getRuns(name);
summary.runs = { total: runs.meta.totalItems, names: runs.data.map((r) => r.name) };
const page = await langfuse.api.datasetRunItems.list({ datasetId: dataset.id, runName, limit: 1 });
summary.run_items_page = { total: page.meta.totalItems, pages: page.meta.totalPages, count: page.data.length };

// A run on the items as they were at `version` (the SDK sends it as `datasetVersion`): only
// those active then, their run items recording the version of the item they ran on.
const activeThen = then.items.filter((item) => item.status === "ACTIVE" && item.input?.country !== "Atlantis");
const pinnedName = `${runName}-pinned`;
const pinned = await langfuse.experiment.run({
  name: "capitals",
  runName: pinnedName,
  data: activeThen,
  datasetVersion: new Date(version),
  task: async (item) => ({ Italy: "Rome", France: "Paris", Spain: "Madrid" })[item.input.country],
  evaluators: [
    async ({ output, expectedOutput }) => ({ name: "exact", value: output === expectedOutput ? 1 : 0 }),
  ],
});
summary.pinned = {
  run_name: pinnedName,
  item_ids: pinned.itemResults.map((r) => r.item.id).sort(),
  trace_ids: pinned.itemResults.map((r) => r.traceId).sort(),
};

// The experiments API through the client: the runs as experiments and their items (once the
// runs' spans and scores are sent).
await processor.forceFlush();
await langfuse.flush();
const fromStartTime = new Date(Date.now() - 3600 * 1000).toISOString();
const experiments = await langfuse.api.experiments.list({ fromStartTime, datasetId: created.id, fields: "core,metadata" });
summary.experiments = experiments.data.map((e) => ({
  name: e.name,
  item_count: e.itemCount,
  dataset_id: e.datasetId,
  metadata: e.metadata ?? null,
}));
const experimentItems = await langfuse.api.experiments.listItems({
  fromStartTime,
  experimentName: pinnedName,
  fields: "core,dataset,io,scores",
});
summary.experiment_items = experimentItems.data
  .map((i) => ({
    item_id: i.experimentItemId,
    trace_id: i.traceId,
    version: i.experimentItemVersion ? new Date(i.experimentItemVersion).toISOString() : null,
    output: i.output ?? null,
    expected_output: i.expectedOutput ?? null,
    scores: (i.scores ?? []).map((score) => [score.name, score.value]),
  }))
  .sort((a, b) => a.item_id.localeCompare(b.item_id));

// An item holding media: a 1×1 PNG in its input, other bytes in its expected output.
const png = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);
const otherPng = Buffer.concat([png, Buffer.from("other")]);
const mediaName = `compat-${run}-js/media`;
await langfuse.api.datasets.create({ name: mediaName });
const mediaItem = await langfuse.dataset.createItem({
  datasetName: mediaName,
  id: `media-${run}-js`,
  input: { question: "what is it?", image: new LangfuseMedia({ source: "bytes", contentBytes: png, contentType: "image/png" }) },
  expectedOutput: { label: "pixel", reference: new LangfuseMedia({ source: "bytes", contentBytes: otherPng, contentType: "image/png" }) },
});
summary.media_item = {
  id: mediaItem.id,
  input: mediaItem.input,
  expected_output: mediaItem.expectedOutput,
  references: (mediaItem.mediaReferences ?? [])
    .map((r) => ({ field: r.field, json_path: r.jsonPath, media_id: r.media.mediaId, content_length: r.media.contentLength }))
    .sort((a, b) => a.field.localeCompare(b.field)),
};
const mediaRead = (await langfuse.dataset.get(mediaName)).items[0];
const sameBytes = async (value, bytes) =>
  value instanceof LangfuseMediaReference && Buffer.from(await value.fetchBytes()).equals(bytes);
summary.media_hydrated = {
  question: mediaRead.input.question,
  image_is_reference: mediaRead.input.image instanceof LangfuseMediaReference,
  image_bytes_match: await sameBytes(mediaRead.input.image, png),
  expected_is_reference: mediaRead.expectedOutput.reference instanceof LangfuseMediaReference,
  expected_bytes_match: await sameBytes(mediaRead.expectedOutput.reference, otherPng),
  expected_label: mediaRead.expectedOutput.label,
};

// What the SDK logs about the failures below is expected, kept apart from the run's log.
const expectedFrom = sdkLog.length;
summary.missing_dataset = await errorOf(() => langfuse.dataset.get(`compat-${run}-js-absent`));
summary.archived_link = await errorOf(() =>
  langfuse.api.datasetRunItems.create({ runName: "late", datasetItemId: spainId, traceId: "t" }),
);
summary.missing_run = await errorOf(() => langfuse.api.datasets.getRun(name, "absent"));
summary.expected_sdk_log = sdkLog.splice(expectedFrom);

await bounded(summary, "span_flush", () => processor.forceFlush());
await bounded(summary, "provider_shutdown", () => provider.shutdown());
await bounded(summary, "client_shutdown", () => langfuse.shutdown());
report(summary);
