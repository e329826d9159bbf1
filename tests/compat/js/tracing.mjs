// The OpenTelemetry set-up the client scenarios share: a registered NodeTracerProvider whose
// spans @langfuse/otel's LangfuseSpanProcessor exports to the server.
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { LangfuseSpanProcessor } from "@langfuse/otel";

/** Registers a tracer provider exporting with `keys`; returns `{ processor, provider }`. */
export function registerTracing(keys) {
  const processor = new LangfuseSpanProcessor(keys);
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  return { processor, provider };
}
