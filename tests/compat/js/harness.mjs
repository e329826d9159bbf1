// What the JS scenarios share: the SDK's console warnings and errors and the OpenTelemetry
// exporter's diagnostics collected into the summary, required environment variables, flushes
// bounded by COMPAT_FLUSH_TIMEOUT, and the one `COMPAT_SUMMARY {json}` line the tests read.

/** Warnings and errors the SDK reported; `report` puts them into the summary. */
export const sdkLog = [];
for (const level of ["warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    sdkLog.push({ logger: "console", level, message: args.map(String).join(" ").slice(0, 2000) });
    original(...args);
  };
}

/** An OpenTelemetry diag logger that puts the exporter's warnings and errors into `sdkLog`. */
export const otelDiagLogger = {
  error: (...a) => sdkLog.push({ logger: "otel-diag", level: "error", message: a.map(String).join(" ") }),
  warn: (...a) => sdkLog.push({ logger: "otel-diag", level: "warn", message: a.map(String).join(" ") }),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

/** The value of environment variable `name`; exits with status 2 when it is missing. */
export function need(name) {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`missing environment variable ${name}\n`);
    process.exit(2);
  }
  return v;
}

const flushTimeoutMs = Number(process.env.COMPAT_FLUSH_TIMEOUT || "30") * 1000;

/** Runs `fn` for at most COMPAT_FLUSH_TIMEOUT seconds; records its outcome ("ok",
 * "timeout" or the error) and duration under `label` in the summary. */
export async function bounded(summary, label, fn) {
  const started = Date.now();
  let timer;
  const status = await Promise.race([
    Promise.resolve()
      .then(fn)
      .then(() => "ok")
      .catch((e) => `error: ${e && e.stack ? e.stack : e}`),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), flushTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  (summary.flush ||= {})[label] = status;
  (summary.flush_seconds ||= {})[label] = (Date.now() - started) / 1000;
}

/** Prints the summary with the SDK's log and exits. */
export function report(summary) {
  summary.sdk_log = sdkLog;
  process.stdout.write("COMPAT_SUMMARY " + JSON.stringify(summary) + "\n");
  process.exit(0);
}

/** The project's keys and the server's URL, from LANGFUSE_PUBLIC_KEY/SECRET_KEY/BASE_URL. */
export function projectKeys() {
  return {
    publicKey: need("LANGFUSE_PUBLIC_KEY"),
    secretKey: need("LANGFUSE_SECRET_KEY"),
    baseUrl: need("LANGFUSE_BASE_URL"),
  };
}

/** The HTTP status and body of what `fn` threw (an API client error), or null when it
 * succeeded. */
export async function errorOf(fn) {
  try {
    await fn();
    return null;
  } catch (error) {
    return { status: error.statusCode ?? null, text: String(error.body ? JSON.stringify(error.body) : error).slice(0, 500) };
  }
}
