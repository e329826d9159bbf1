// Recognizes chat transcripts in inputs and outputs (OpenAI-style `{role, content}` lists,
// `{messages: [...]}`, a single message) so they can be shown as a conversation.

export interface Part {
  kind: "text" | "image" | "json";
  text: string;
}

export interface Message {
  role: string;
  name?: string;
  parts: Part[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function partsOf(content: unknown): Part[] {
  if (content == null) return [];
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (Array.isArray(content)) {
    return content.flatMap((item): Part[] => {
      if (typeof item === "string") return [{ kind: "text", text: item }];
      if (isRecord(item)) {
        if (typeof item.text === "string") return [{ kind: "text", text: item.text }];
        const image = item.image_url;
        const url = isRecord(image) ? image.url : image;
        if (typeof url === "string") return [{ kind: "image", text: url }];
      }
      return [{ kind: "json", text: JSON.stringify(item, null, 2) }];
    });
  }
  return [{ kind: "json", text: JSON.stringify(content, null, 2) }];
}

function messageOf(value: unknown): Message | null {
  if (!isRecord(value) || typeof value.role !== "string") return null;
  if (!("content" in value) && !("tool_calls" in value)) return null;
  const parts = partsOf(value.content);
  if (Array.isArray(value.tool_calls)) {
    for (const call of value.tool_calls) parts.push({ kind: "json", text: JSON.stringify(call, null, 2) });
  }
  return { role: value.role, name: typeof value.name === "string" ? value.name : undefined, parts };
}

/** The conversation in `value`, or null when it is not one. */
export function asConversation(value: unknown): Message[] | null {
  let list: unknown = value;
  if (isRecord(value) && Array.isArray(value.messages)) list = value.messages;
  if (isRecord(list) && typeof list.role === "string") list = [list];
  if (!Array.isArray(list) || list.length === 0) return null;
  const messages: Message[] = [];
  for (const item of list) {
    const message = messageOf(item);
    if (!message) return null;
    messages.push(message);
  }
  return messages;
}
