// Values shown as text: strings as they are, everything else as indented JSON. Nothing is
// ever parsed as HTML.

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

/** Input or output: a conversation when it looks like one, else pretty JSON. */
export function IoView(props: { value: unknown; label: string }) {
  const conversation = asConversation(props.value);
  if (conversation) return <Conversation messages={conversation} />;
  return <JsonView value={props.value} label={props.label} />;
}
