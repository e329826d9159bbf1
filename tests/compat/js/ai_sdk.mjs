// Drives the real Vercel AI SDK (npm `ai` 6.x) with its mock language model from `ai/test`:
// `generateText` and `streamText` with experimental_telemetry on, the spans exported over OTLP
// by @langfuse/otel's span processor to the server named by LANGFUSE_BASE_URL. Prints one line
// `COMPAT_SUMMARY {json}` with the trace ids and what the mock model reported as usage.
import { diag, DiagLogLevel } from "@opentelemetry/api";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { startActiveObservation } from "@langfuse/tracing";
import { generateText, streamText, simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { bounded, need, otelDiagLogger, report } from "./harness.mjs";

diag.setLogger(otelDiagLogger, DiagLogLevel.WARN);

const run = need("COMPAT_RUN_ID");
const p = "ai-sdk";

const processor = new LangfuseSpanProcessor({
  publicKey: need("LANGFUSE_PUBLIC_KEY"),
  secretKey: need("LANGFUSE_SECRET_KEY"),
  baseUrl: need("LANGFUSE_BASE_URL"),
  environment: "compat",
});
const provider = new NodeTracerProvider({ spanProcessors: [processor] });
provider.register();

const summary = { sdk: "ai", major: "v6", run, prefix: p };

// What the mock model reports for one call: AI SDK 6 usage with every detail.
const usage = {
  inputTokens: { total: 100, noCache: 50, cacheRead: 30, cacheWrite: 20 },
  outputTokens: { total: 40, text: 25, reasoning: 15 },
};
summary.usage = usage;
const finishReason = { unified: "stop", raw: "stop" };

const model = new MockLanguageModelV3({
  modelId: "mock-model-id",
  provider: "mock-provider",
  doGenerate: async () => ({
    content: [{ type: "text", text: "Hello from the mock model" }],
    finishReason,
    usage,
    warnings: [],
  }),
  doStream: async () => ({
    stream: simulateReadableStream({
      chunks: [
        { type: "stream-start", warnings: [] },
        { type: "text-start", id: "t1" },
        { type: "text-delta", id: "t1", delta: "Streamed " },
        { type: "text-delta", id: "t1", delta: "answer" },
        { type: "text-end", id: "t1" },
        { type: "finish", finishReason, usage },
      ],
    }),
  }),
});

// generateText under a Langfuse root span, so the trace is easy to find.
const gen = {};
await startActiveObservation(`${p}-generate-${run}`, async (root) => {
  gen.trace = root.traceId;
  gen.root = root.id;
  const result = await generateText({
    model,
    prompt: "Say hello",
    experimental_telemetry: { isEnabled: true, functionId: "compat-generate", metadata: { case: "generate" } },
  });
  gen.text = result.text;
  gen.total_usage = result.totalUsage;
});
summary.generate = gen;

// streamText, consumed to the end.
const stream = {};
await startActiveObservation(`${p}-stream-${run}`, async (root) => {
  stream.trace = root.traceId;
  stream.root = root.id;
  const result = streamText({
    model,
    prompt: "Stream something",
    experimental_telemetry: { isEnabled: true, functionId: "compat-stream" },
  });
  let text = "";
  for await (const delta of result.textStream) text += delta;
  stream.text = text;
  stream.total_usage = await result.totalUsage;
});
summary.stream = stream;

await bounded(summary, "span_flush", () => processor.forceFlush());
await bounded(summary, "provider_shutdown", () => provider.shutdown());
report(summary);
