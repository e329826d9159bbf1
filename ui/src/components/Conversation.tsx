// A chat transcript, turn by turn. Message text is rendered as text or through the Markdown
// renderer (which builds elements); images are shown only from inline data URLs. A tool call
// shows its name and parsed arguments with its result beside it; the tool message that
// carried the result points back to the call.

import { useMemo, useState } from "preact/hooks";
import { Markdown } from "../markdown";
import { pairToolCalls, type Message, type Part } from "../messages";
import { JsonTree } from "./JsonTree";

function callAnchor(messageIndex: number, partIndex: number): string {
  return `tool-call-${messageIndex}-${partIndex}`;
}

function Text(props: { text: string; markdown: boolean }) {
  return props.markdown ? (
    <div class="message-text md">
      <Markdown text={props.text} />
    </div>
  ) : (
    <div class="message-text">{props.text}</div>
  );
}

function ResultContent(props: { content: unknown; markdown: boolean; name: string }) {
  const { content } = props;
  if (typeof content === "string") return <Text text={content} markdown={props.markdown} />;
  if (content === null || content === undefined) return <p class="muted small">no content</p>;
  return <JsonTree value={content} label={`result of ${props.name}`} depth={2} />;
}

function ToolCall(props: { call: Extract<Part, { kind: "tool-call" }>; result: Part | undefined; anchor: string; markdown: boolean }) {
  const { call, result } = props;
  const args = call.args;
  return (
    <div class="tool-call" id={props.anchor} data-call-id={call.id ?? undefined} data-tool={call.name}>
      <div class="tool-head">
        <span class="badge type-tool">call</span> <code class="tool-name">{call.name}</code>
        {call.id ? <span class="muted small"> {call.id}</span> : null}
      </div>
      <div class="tool-args" aria-label={`arguments of ${call.name}`}>
        {typeof args === "object" && args !== null ? (
          <JsonTree value={args} label={`arguments of ${call.name}`} depth={3} />
        ) : (
          <pre class="json">{String(args)}</pre>
        )}
      </div>
      {result && result.kind === "tool-result" ? (
        <div class={`tool-result${result.isError ? " failed" : ""}`} aria-label={`result of ${call.name}`}>
          <div class="tool-head">
            <span class="badge type-tool">{result.isError ? "error" : "result"}</span>
          </div>
          <ResultContent content={result.content} markdown={props.markdown} name={call.name} />
        </div>
      ) : (
        <p class="muted small">No result in this transcript.</p>
      )}
    </div>
  );
}

export function Conversation(props: { messages: Message[] }) {
  const [markdown, setMarkdown] = useState(true);
  const pairs = useMemo(() => pairToolCalls(props.messages), [props.messages]);
  const anchors = useMemo(() => {
    const found = new Map<Part, string>();
    props.messages.forEach((message, messageIndex) =>
      message.parts.forEach((part, partIndex) => {
        if (part.kind === "tool-call") found.set(part, callAnchor(messageIndex, partIndex));
      }),
    );
    return found;
  }, [props.messages]);
  return (
    <div class="conversation">
      <label class="check small muted md-toggle">
        <input type="checkbox" checked={markdown} onChange={(event) => setMarkdown(event.currentTarget.checked)} /> Markdown
      </label>
      {props.messages.map((message, messageIndex) => (
        <div key={messageIndex} class={`message role-${message.role.replace(/[^a-z]/gi, "")}`} data-role={message.role}>
          <div class="message-role">
            {message.role}
            {message.name ? ` · ${message.name}` : ""}
          </div>
          {message.parts.map((part, partIndex) => {
            switch (part.kind) {
              case "image":
                return part.text.startsWith("data:image/") ? (
                  <img key={partIndex} class="message-image" src={part.text} alt="image in message" />
                ) : (
                  <div key={partIndex} class="message-text">
                    {part.text}
                  </div>
                );
              case "text":
                return <Text key={partIndex} text={part.text} markdown={markdown} />;
              case "tool-call":
                return <ToolCall key={partIndex} call={part} result={pairs.get(part)} anchor={callAnchor(messageIndex, partIndex)} markdown={markdown} />;
              case "tool-result": {
                const call = pairs.get(part);
                if (call && call.kind === "tool-call") {
                  return (
                    <p key={partIndex} class="tool-result-ref muted small" data-call-id={part.id ?? undefined}>
                      Result of <code>{call.name}</code>
                      {part.id ? ` (${part.id})` : ""}, shown with{" "}
                      <a
                        href={`#${anchors.get(call)}`}
                        onClick={(event) => {
                          event.preventDefault();
                          document.getElementById(anchors.get(call) ?? "")?.scrollIntoView?.({ block: "nearest" });
                        }}
                      >
                        its call
                      </a>
                      .
                    </p>
                  );
                }
                return (
                  <div key={partIndex} class={`tool-result${part.isError ? " failed" : ""}`} data-call-id={part.id ?? undefined}>
                    <div class="tool-head">
                      <span class="badge type-tool">result</span> {part.name ? <code class="tool-name">{part.name}</code> : null}
                      {part.id ? <span class="muted small"> {part.id}</span> : null}
                    </div>
                    <ResultContent content={part.content} markdown={markdown} name={part.name ?? "tool"} />
                  </div>
                );
              }
              default:
                return (
                  <pre key={partIndex} class="json">
                    {part.text}
                  </pre>
                );
            }
          })}
        </div>
      ))}
    </div>
  );
}
