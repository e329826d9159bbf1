// Values shown as text: strings as they are, everything else as indented JSON. Nothing is
// ever parsed as HTML.

import { projectPath } from "../api";
import { collectMedia, isInlineImage } from "../media";
import { asConversation } from "../messages";
import { Conversation } from "./Conversation";

export function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function JsonView(props: { value: unknown; label?: string }) {
  const { value } = props;
  if (value === null || value === undefined || value === "") return <p class="muted">empty</p>;
  return (
    <pre class="json" aria-label={props.label}>
      {pretty(value)}
    </pre>
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

/** Input or output: a conversation when it looks like one, else pretty JSON; media below. */
export function IoView(props: { value: unknown; label: string; projectId?: string }) {
  const conversation = asConversation(props.value);
  return (
    <>
      {conversation ? <Conversation messages={conversation} /> : <JsonView value={props.value} label={props.label} />}
      <MediaList value={props.value} projectId={props.projectId} />
    </>
  );
}
