// Recognizes chat transcripts in inputs and outputs so they can be shown as a conversation:
// OpenAI chat messages (with `tool_calls` and `tool` messages), OpenAI Responses items
// (`function_call`, `function_call_output`), Anthropic content blocks (`tool_use`,
// `tool_result`), Gemini parts (`functionCall`, `functionResponse`), LangChain message dicts
// (plain and serialized) and Vercel AI SDK parts (`tool-call`, `tool-result`). Every shape
// becomes the same messages of parts; tool calls carry their parsed arguments and are tied to
// their results by call id.

export type Part =
  | { kind: "text"; text: string }
  | { kind: "image"; text: string }
  | { kind: "json"; text: string; value: unknown }
  | { kind: "tool-call"; id: string | null; name: string; args: unknown }
  | { kind: "tool-result"; id: string | null; name: string | null; content: unknown; isError: boolean };

export interface Message {
  role: string;
  name?: string;
  parts: Part[];
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function json(value: unknown): Part {
  let shown: string;
  try {
    shown = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    shown = String(value);
  }
  return { kind: "json", text: shown, value };
}

/** Arguments as sent: a JSON string is parsed (kept as the string when it is not JSON). */
export function parseArguments(value: unknown): unknown {
  if (typeof value !== "string") return value ?? {};
  const trimmed = value.trim();
  if (trimmed === "") return {};
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}

/** An OpenAI chat `tool_calls` entry, a LangChain one (`{name, args, id}`) or a legacy
 * `function_call`. */
function toolCallOf(call: unknown): Part | null {
  if (!isRecord(call)) return null;
  const fn = isRecord(call.function) ? call.function : null;
  const name = text(fn?.name) ?? text(call.name);
  if (name === null) return null;
  const args = fn ? parseArguments(fn.arguments) : "args" in call ? parseArguments(call.args) : parseArguments(call.arguments);
  return { kind: "tool-call", id: text(call.id) ?? text(call.call_id), name, args };
}

function imageOfSource(source: unknown): string | null {
  if (!isRecord(source)) return null;
  if (source.type === "base64" && typeof source.media_type === "string" && typeof source.data === "string") {
    return `data:${source.media_type};base64,${source.data}`;
  }
  return text(source.url);
}

/** One content block of any of the shapes. */
function partOf(item: unknown): Part[] {
  if (typeof item === "string") return [{ kind: "text", text: item }];
  if (!isRecord(item)) return item == null ? [] : [json(item)];
  const type = text(item.type);
  // Anthropic
  if (type === "tool_use") return [{ kind: "tool-call", id: text(item.id), name: text(item.name) ?? "tool", args: parseArguments(item.input) }];
  if (type === "tool_result") {
    return [{ kind: "tool-result", id: text(item.tool_use_id), name: null, content: contentValue(item.content), isError: item.is_error === true }];
  }
  if (type === "image" && isRecord(item.source)) {
    const url = imageOfSource(item.source);
    if (url) return [{ kind: "image", text: url }];
  }
  // Vercel AI SDK
  if (type === "tool-call") {
    return [{ kind: "tool-call", id: text(item.toolCallId), name: text(item.toolName) ?? "tool", args: parseArguments(item.args ?? item.input) }];
  }
  if (type === "tool-result") {
    const content = "result" in item ? item.result : "output" in item ? item.output : item.content;
    return [{ kind: "tool-result", id: text(item.toolCallId), name: text(item.toolName), content: resultValue(content), isError: item.isError === true }];
  }
  // OpenAI Responses items inside a message's content
  if (type === "function_call") return [{ kind: "tool-call", id: text(item.call_id) ?? text(item.id), name: text(item.name) ?? "tool", args: parseArguments(item.arguments) }];
  if (type === "function_call_output") {
    return [{ kind: "tool-result", id: text(item.call_id), name: null, content: resultValue(item.output), isError: false }];
  }
  // Gemini
  if (isRecord(item.functionCall)) {
    const call = item.functionCall;
    return [{ kind: "tool-call", id: text(call.id), name: text(call.name) ?? "tool", args: parseArguments(call.args) }];
  }
  if (isRecord(item.functionResponse)) {
    const response = item.functionResponse;
    return [{ kind: "tool-result", id: text(response.id), name: text(response.name), content: response.response, isError: false }];
  }
  if (isRecord(item.inlineData) && typeof item.inlineData.mimeType === "string" && typeof item.inlineData.data === "string") {
    return [{ kind: "image", text: `data:${item.inlineData.mimeType};base64,${item.inlineData.data}` }];
  }
  // Text of every shape: {type: "text" | "input_text" | "output_text", text}, Gemini {text}
  if (typeof item.text === "string" && (type === null || type === "text" || type === "input_text" || type === "output_text" || type === "summary_text")) {
    return [{ kind: "text", text: item.text }];
  }
  // OpenAI image parts
  const image = item.image_url;
  const url = isRecord(image) ? image.url : image;
  if (typeof url === "string") return [{ kind: "image", text: url }];
  if (type === "input_image" && typeof item.image_url === "string") return [{ kind: "image", text: item.image_url }];
  return [json(item)];
}

/** A tool result's content: text blocks joined into text, anything else as it is. */
function contentValue(content: unknown): unknown {
  if (Array.isArray(content) && content.every((block) => isRecord(block) && typeof block.text === "string")) {
    return content.map((block) => (block as Json).text).join("\n");
  }
  return content;
}

/** A result as sent: a JSON string is shown as its value. */
function resultValue(content: unknown): unknown {
  if (typeof content === "string") {
    const parsed = parseArguments(content);
    return typeof parsed === "object" && parsed !== null ? parsed : content;
  }
  return contentValue(content);
}

function partsOf(content: unknown): Part[] {
  if (content == null) return [];
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (Array.isArray(content)) return content.flatMap(partOf);
  return partOf(content);
}

const LANGCHAIN_ROLES: Record<string, string> = {
  human: "user",
  ai: "assistant",
  system: "system",
  tool: "tool",
  function: "function",
  chat: "user",
  HumanMessage: "user",
  AIMessage: "assistant",
  SystemMessage: "system",
  ToolMessage: "tool",
  FunctionMessage: "function",
  ChatMessage: "user",
  HumanMessageChunk: "user",
  AIMessageChunk: "assistant",
};

/** A LangChain message serialized by its `dumpd`/`toJSON`: `{lc, type: "constructor", id:
 * [..., "AIMessage"], kwargs}` becomes the dict of its kwargs with its type. */
function unwrapLangChain(value: Json): Json {
  if (value.type === "constructor" && Array.isArray(value.id) && isRecord(value.kwargs)) {
    const className = text(value.id[value.id.length - 1]) ?? "";
    return { ...value.kwargs, type: className, role: value.kwargs.role ?? LANGCHAIN_ROLES[className] };
  }
  return value;
}

function messageOf(raw: unknown): Message | null {
  if (!isRecord(raw)) return null;
  const value = unwrapLangChain(raw);
  const type = text(value.type);
  // OpenAI Responses items without a role
  if (type === "function_call" || type === "function_call_output") {
    const parts = partOf(value);
    return { role: type === "function_call" ? "assistant" : "tool", parts };
  }
  if (type === "reasoning") {
    return { role: "reasoning", parts: Array.isArray(value.summary) ? value.summary.flatMap(partOf) : [] };
  }
  let role = text(value.role);
  if (role === null && type !== null && LANGCHAIN_ROLES[type] && "content" in value) role = LANGCHAIN_ROLES[type];
  if (role === null) return null;
  if (role === "model") role = "assistant";
  const hasContent = "content" in value || "parts" in value || "tool_calls" in value || "function_call" in value;
  if (!hasContent) return null;
  const parts = partsOf("parts" in value && Array.isArray(value.parts) ? value.parts : value.content);
  const calls = [
    ...(Array.isArray(value.tool_calls) ? value.tool_calls : []),
    ...(isRecord(value.additional_kwargs) && Array.isArray(value.additional_kwargs.tool_calls) && !Array.isArray(value.tool_calls)
      ? value.additional_kwargs.tool_calls
      : []),
    ...(isRecord(value.function_call) ? [value.function_call] : []),
  ];
  for (const call of calls) parts.push(toolCallOf(call) ?? json(call));
  const callId = text(value.tool_call_id);
  if ((role === "tool" || role === "function") && parts.every((part) => part.kind !== "tool-result")) {
    // An OpenAI `tool` message (or LangChain's ToolMessage): its content is the result.
    const content = contentValue(value.content);
    return {
      role,
      name: text(value.name) ?? undefined,
      parts: [{ kind: "tool-result", id: callId, name: text(value.name), content: resultValue(content), isError: value.status === "error" }],
    };
  }
  return { role, name: text(value.name) ?? undefined, parts };
}

/** The list of messages in a value: a list, `{messages}`, `{contents}` (Gemini), `{input}`
 * (OpenAI Responses), `{candidates}` (a Gemini answer), `{choices}` (an OpenAI answer), or
 * one message. */
function listOf(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (!isRecord(value)) return null;
  for (const key of ["messages", "contents", "input", "output"]) {
    if (Array.isArray(value[key])) return value[key] as unknown[];
  }
  if (Array.isArray(value.candidates)) {
    const contents = value.candidates.map((candidate) => (isRecord(candidate) ? candidate.content : null));
    return contents.every(isRecord) ? contents : null;
  }
  if (Array.isArray(value.choices)) {
    const messages = value.choices.map((choice) => (isRecord(choice) ? choice.message : null));
    return messages.every(isRecord) ? messages : null;
  }
  if (typeof value.role === "string" || (value.type === "constructor" && isRecord(value.kwargs))) return [value];
  if (typeof value.type === "string" && value.type in LANGCHAIN_ROLES && "content" in value) return [value];
  if (value.type === "function_call" || value.type === "function_call_output") return [value];
  return null;
}

/** The conversation in `value`, or null when it is not one. */
export function asConversation(value: unknown): Message[] | null {
  const list = listOf(value);
  if (!list || list.length === 0) return null;
  const messages: Message[] = [];
  for (const item of list) {
    const message = messageOf(item);
    if (!message) return null;
    messages.push(message);
  }
  return messages;
}

export interface ToolCallPart {
  kind: "tool-call";
  id: string | null;
  name: string;
  args: unknown;
}

export interface ToolResultPart {
  kind: "tool-result";
  id: string | null;
  name: string | null;
  content: unknown;
  isError: boolean;
}

/** Ties every tool call to its result: by call id, or, for calls without one (Gemini), to
 * the next unclaimed result of the same tool name. The map goes both ways. */
export function pairToolCalls(messages: Message[]): Map<Part, Part> {
  const pairs = new Map<Part, Part>();
  const calls: ToolCallPart[] = [];
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.kind === "tool-call") {
        calls.push(part);
      } else if (part.kind === "tool-result") {
        const call = calls.find(
          (candidate) =>
            !pairs.has(candidate) &&
            (part.id !== null && candidate.id !== null ? candidate.id === part.id : part.name !== null && candidate.name === part.name),
        );
        if (call) {
          pairs.set(call, part);
          pairs.set(part, call);
          // A result names its tool when the call does.
          if (part.name === null) (part as ToolResultPart).name = call.name;
        }
      }
    }
  }
  return pairs;
}
