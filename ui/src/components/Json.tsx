// Inputs, outputs and metadata: a conversation when the value is one, a plain string as
// Markdown (with a raw toggle), anything else as a foldable JSON tree. Nothing is ever
// parsed as HTML.

import { useState } from "preact/hooks";
import { projectPath } from "../api";
import { Markdown } from "../markdown";
import { collectMedia, isInlineImage } from "../media";
import { asConversation } from "../messages";
import { Conversation } from "./Conversation";
import { JsonTree } from "./JsonTree";

export function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** A value as a JSON tree; a string as it is. */
export function JsonView(props: { value: unknown; label?: string; depth?: number }) {
  const { value } = props;
  if (value === null || value === undefined || value === "") return <p class="muted">empty</p>;
  if (typeof value === "string") {
    return (
      <pre class="json" aria-label={props.label}>
        {value}
      </pre>
    );
  }
  return <JsonTree value={value} label={props.label} depth={props.depth} />;
}

/** A text as Markdown, or as it is with the raw toggle. */
export function TextView(props: { text: string; label?: string }) {
  const [raw, setRaw] = useState(false);
  return (
    <div class="text-view" aria-label={props.label}>
      <label class="check small muted md-toggle">
        <input type="checkbox" checked={raw} onChange={(event) => setRaw(event.currentTarget.checked)} /> raw
      </label>
      {raw ? (
        <pre class="json">{props.text}</pre>
      ) : (
        <div class="message-text md">
          <Markdown text={props.text} />
        </div>
      )}
    </div>
  );
}

/** Media referenced by a value: images inline, other types as download links. */
export function MediaList(props: { value: unknown; projectId?: string }) {
  if (!props.projectId) return null;
  const refs = collectMedia(props.value);
  if (refs.length === 0) return null;
  return (
    <div class="media-list">
      {refs.map((ref) => {
        const href = projectPath(props.projectId!, `/media/${encodeURIComponent(ref.id)}`);
        return isInlineImage(ref) ? (
          <a key={ref.id} href={href} target="_blank" rel="noopener noreferrer">
            <img class="message-image" src={href} alt={`media ${ref.id} (${ref.type})`} />
          </a>
        ) : (
          <a key={ref.id} href={href} class="tag">
            {ref.type || "file"} · {ref.id}
          </a>
        );
      })}
    </div>
  );
}

/** Input or output: a conversation when it looks like one, a string as Markdown, else a JSON
 * tree; media below. */
export function IoView(props: { value: unknown; label: string; projectId?: string }) {
  const conversation = asConversation(props.value);
  return (
    <>
      {conversation ? (
        <Conversation messages={conversation} />
      ) : typeof props.value === "string" && props.value !== "" ? (
        <TextView text={props.value} label={props.label} />
      ) : (
        <JsonView value={props.value} label={props.label} />
      )}
      <MediaList value={props.value} projectId={props.projectId} />
    </>
  );
}
