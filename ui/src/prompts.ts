// Prompts on the client: the shapes of the prompt routes, the {{variables}} and references of
// a prompt's text (the same rules as the server and the official SDKs), folders from the `/`
// in names, and a line diff between two versions.

import { diffLines } from "diff";

export interface ChatMessage {
  role?: string;
  content?: string;
  type?: string;
  name?: string;
}

export type PromptContent = string | ChatMessage[];

export interface PromptMeta {
  name: string;
  type: "text" | "chat";
  versions: number[];
  labels: string[];
  tags: string[];
  lastUpdatedAt: string;
}

export interface PromptVersion {
  id: string;
  name: string;
  version: number;
  type: "text" | "chat";
  prompt: PromptContent;
  config: unknown;
  labels: string[];
  tags: string[];
  commitMessage: string | null;
  createdBy: string;
  createdAt: string;
}

export interface PromptDetail {
  name: string;
  type: "text" | "chat";
  tags: string[];
  /** Newest first. */
  versions: PromptVersion[];
}

export interface VersionMetrics {
  version: number;
  generations: number;
  latencyP50: number | null;
  latencyP90: number | null;
  latencyP99: number | null;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  totalCost: number;
  firstUsed: string | null;
  lastUsed: string | null;
  scores: { name: string; average: number; count: number }[];
}

/** A piece of a prompt's text: plain text, a `{{variable}}`, or a reference to another
 * prompt (`@@@langfusePrompt:name=…|label=…@@@`). */
export interface Segment {
  kind: "text" | "variable" | "reference";
  text: string;
  /** The variable's name, or the referenced prompt's name. */
  name?: string;
}

const VARIABLE_NAME = /^[\p{L}\p{N}_]+$/u;
const REFERENCE = /@@@langfusePrompt:(.*?)@@@/g;

function variableSegments(text: string): Segment[] {
  const out: Segment[] = [];
  let rest = text;
  let plain = "";
  for (;;) {
    const start = rest.indexOf("{{");
    if (start < 0) break;
    const end = rest.indexOf("}}", start + 2);
    if (end < 0) break;
    const name = rest.slice(start + 2, end).trim();
    if (name && VARIABLE_NAME.test(name)) {
      plain += rest.slice(0, start);
      if (plain) out.push({ kind: "text", text: plain });
      plain = "";
      out.push({ kind: "variable", text: rest.slice(start, end + 2), name });
    } else {
      plain += rest.slice(0, end + 2);
    }
    rest = rest.slice(end + 2);
  }
  plain += rest;
  if (plain) out.push({ kind: "text", text: plain });
  return out;
}

/** The text split into plain text, variables and references, in order; joined back, the
 * segments give the text. */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const found of text.matchAll(REFERENCE)) {
    const index = found.index ?? 0;
    out.push(...variableSegments(text.slice(last, index)));
    const name = found[1]
      .split("|")
      .map((part) => part.split("="))
      .find(([key]) => key === "name")?.[1];
    out.push({ kind: "reference", text: found[0], name });
    last = index + found[0].length;
  }
  out.push(...variableSegments(text.slice(last)));
  return out;
}

/** The variable names of a text, first use first, without duplicates. */
export function variables(text: string): string[] {
  const names: string[] = [];
  for (const segment of segments(text)) {
    if (segment.kind === "variable" && segment.name && !names.includes(segment.name)) names.push(segment.name);
  }
  return names;
}

/** The variables of a prompt's text or messages, and its placeholders' names. */
export function promptVariables(prompt: PromptContent): { variables: string[]; placeholders: string[] } {
  if (typeof prompt === "string") return { variables: variables(prompt), placeholders: [] };
  const found: string[] = [];
  const placeholders: string[] = [];
  for (const message of prompt) {
    if (message.type === "placeholder") {
      if (message.name && !placeholders.includes(message.name)) placeholders.push(message.name);
      continue;
    }
    for (const name of variables(message.content ?? "")) if (!found.includes(name)) found.push(name);
  }
  return { variables: found, placeholders };
}

/** A prompt as lines of text, for a diff: a text as it is, messages as `[role]` headers
 * followed by their content, placeholders as `[placeholder: name]`. */
export function promptAsText(prompt: PromptContent): string {
  if (typeof prompt === "string") return prompt;
  return prompt
    .map((message) =>
      message.type === "placeholder" ? `[placeholder: ${message.name ?? ""}]` : `[${message.role ?? "?"}]\n${message.content ?? ""}`,
    )
    .join("\n");
}

export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
}

/** The lines of `after` against `before`: kept, added and removed. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const out: DiffLine[] = [];
  for (const change of diffLines(before, after)) {
    const kind = change.added ? "added" : change.removed ? "removed" : "same";
    const lines = change.value.replace(/\n$/, "").split("\n");
    for (const text of lines) out.push({ kind, text });
  }
  return out;
}

/** The folders and prompts directly inside `folder` ("" at the top; "a/b" for a/b/…). */
export function folderView<T extends { name: string }>(prompts: T[], folder: string): { folders: string[]; prompts: T[] } {
  const prefix = folder ? `${folder}/` : "";
  const folders: string[] = [];
  const inside: T[] = [];
  for (const prompt of prompts) {
    if (!prompt.name.startsWith(prefix)) continue;
    const rest = prompt.name.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) inside.push(prompt);
    else {
      const child = prefix + rest.slice(0, slash);
      if (!folders.includes(child)) folders.push(child);
    }
  }
  folders.sort();
  return { folders, prompts: inside };
}
