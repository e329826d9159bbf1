// The first-run state of a project: its keys and snippets to send a first trace.

import { useState } from "preact/hooks";
import { api, projectPath } from "../api";
import { useLoad } from "../hooks";
import { Copy } from "../components/Copy";
import { Link } from "../router";

interface Key {
  publicKey: string;
  revokedAt: string | null;
}

export function snippets(baseUrl: string, publicKey: string): Record<string, string> {
  const env = `LANGFUSE_BASE_URL=${baseUrl}\nLANGFUSE_PUBLIC_KEY=${publicKey}\nLANGFUSE_SECRET_KEY=sk-lf-...`;
  return {
    Python: `pip install langfuse\n\n# ${env.split("\n").join("\n# ")}\nfrom langfuse import observe, get_client\n\n@observe()\ndef answer(question: str) -> str:\n    return f"echo: {question}"\n\nanswer("hello")\nget_client().flush()`,
    JS: `npm install @langfuse/tracing @langfuse/otel @opentelemetry/sdk-node\n\n// ${env.split("\n").join("\n// ")}\nimport { NodeSDK } from "@opentelemetry/sdk-node";\nimport { LangfuseSpanProcessor } from "@langfuse/otel";\nimport { startActiveObservation } from "@langfuse/tracing";\n\nconst sdk = new NodeSDK({ spanProcessors: [new LangfuseSpanProcessor()] });\nsdk.start();\nawait startActiveObservation("hello", async (span) => {\n  span.update({ input: "hi", output: "hello" });\n});\nawait sdk.shutdown();`,
    Rust: `# Cargo.toml: spindle = { git = "<this repository>" }\n# ${env.split("\n").join("\n# ")}\n#[spindle::observe]\nfn answer(question: &str) -> String {\n    format!("echo: {question}")\n}\n\nfn main() -> Result<(), Box<dyn std::error::Error>> {\n    let client = spindle::Client::from_env()?;\n    client.install_global();\n    answer("hello");\n    client.flush();\n    Ok(())\n}`,
  };
}

export function EmptyState(props: { projectId: string }) {
  const keys = useLoad((signal) => api.get<{ data: Key[] }>(projectPath(props.projectId, "/keys"), signal), [props.projectId]);
  const [language, setLanguage] = useState("Python");
  const live = (keys.data?.data ?? []).filter((key) => !key.revokedAt);
  const publicKey = live[0]?.publicKey ?? "pk-lf-...";
  const code = snippets(location.origin, publicKey);
  return (
    <section class="card empty">
      <h2>No traces yet</h2>
      <p>
        Send a first trace with any Langfuse SDK or OpenTelemetry exporter. This project's public keys are below; secret
        keys are shown only when created (<Link href={`/project/${encodeURIComponent(props.projectId)}/settings`}>create one in Settings</Link>).
      </p>
      <ul class="keys">
        {live.map((key) => (
          <li key={key.publicKey}>
            <code>{key.publicKey}</code> <Copy value={key.publicKey} />
          </li>
        ))}
      </ul>
      <div class="tabs" role="tablist">
        {Object.keys(code).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={language === name} class={language === name ? "active" : ""} onClick={() => setLanguage(name)}>
            {name}
          </button>
        ))}
      </div>
      <pre class="json snippet">{code[language]}</pre>
      <Copy value={code[language]} label="copy snippet" />
    </section>
  );
}
