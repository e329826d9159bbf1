// Prompt management with the official JS SDK (@langfuse/client 5.x): create text and chat
// prompts, get them by label and version, compile them (a placeholder filled with messages),
// move `production` with prompt.update, a missing prompt, and a generation linked to the
// prompt it used (@langfuse/tracing). Prints one line `COMPAT_SUMMARY {json}`.
import { startActiveObservation, startObservation } from "@langfuse/tracing";
import { LangfuseClient } from "@langfuse/client";
import { bounded, need, projectKeys, report, sdkLog } from "./harness.mjs";
import { registerTracing } from "./tracing.mjs";

const run = need("COMPAT_RUN_ID");
const keys = projectKeys();
const { processor, provider } = registerTracing(keys);
const langfuse = new LangfuseClient(keys);

const name = `compat-${run}-js-greeting`;
const chatName = `compat-${run}-js-chat`;
const summary = { sdk: "javascript", major: "v5", run, name };

const created = await langfuse.prompt.create({
  name,
  prompt: "Hello {{name}}",
  labels: ["production"],
  tags: ["js"],
  config: { temperature: 0 },
});
summary.created = { version: created.version, labels: created.labels };
const text = await langfuse.prompt.get(name);
summary.text = { prompt: text.prompt, compiled: text.compile({ name: "Ada" }), version: text.version };

await langfuse.prompt.create({
  name: chatName,
  type: "chat",
  prompt: [
    { role: "system", content: "Be brief, {{name}}." },
    { type: "placeholder", name: "history" },
  ],
  labels: ["production"],
});
const chat = await langfuse.prompt.get(chatName, { type: "chat" });
summary.chat = {
  compiled: chat
    .compile({ name: "Ada" }, { history: [{ role: "user", content: "Hi" }] })
    .map((message) => ({ role: message.role, content: message.content })),
};

const second = await langfuse.prompt.create({ name, prompt: "Hi {{name}}" });
summary.second_version = second.version;
summary.by_version = (await langfuse.prompt.get(name, { version: 1, cacheTtlSeconds: 0 })).prompt;
const updated = await langfuse.prompt.update({ name, version: 2, newLabels: ["production"] });
summary.updated_labels = updated.labels;
const moved = await langfuse.prompt.get(name, { cacheTtlSeconds: 0 });
summary.production_after_update = moved.version;

// What the SDK logs about the missing prompt is expected, kept apart from the run's log.
const expectedFrom = sdkLog.length;
try {
  await langfuse.prompt.get(`compat-${run}-js-absent`, { cacheTtlSeconds: 0, maxRetries: 0 });
  summary.missing_error = false;
} catch (error) {
  summary.missing_error = true;
  summary.missing_error_text = String(error).slice(0, 300);
}
summary.expected_sdk_log = sdkLog.splice(expectedFrom);

await startActiveObservation(`js-prompts-${run}`, async (root) => {
  summary.trace = root.traceId;
  const generation = startObservation(
    "js-prompted",
    { model: "gpt-4o", input: moved.compile({ name: "Ada" }), prompt: { name: moved.name, version: moved.version, isFallback: moved.isFallback } },
    { asType: "generation" },
  );
  summary.generation = generation.id;
  generation.end();
});

await bounded(summary, "span_flush", () => processor.forceFlush());
await bounded(summary, "provider_shutdown", () => provider.shutdown());
await bounded(summary, "client_shutdown", () => langfuse.shutdown());
report(summary);
