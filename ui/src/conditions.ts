// The filter builder's conditions (column, operator, values, and a key for object columns):
// their columns per list, their operators per kind of column, their form in the page URL
// (one `f` parameter each), and the `filter` JSON conditions the server compiles.

/** What a column holds: which operators and values it takes. */
export type ColumnKind = "text" | "number" | "array" | "level" | "object";

/** A column the builder offers: its server name, label, kind, and the `/values` column its
 * suggestions come from (for an object column: the suggestions of its keys). */
export interface BuilderColumn {
  name: string;
  label: string;
  kind: ColumnKind;
  suggest?: string;
}

/** One condition: `values` holds one value, or several for `any of`, `none of`, `all of`,
 * and none for `is empty`. */
export interface BuilderCondition {
  column: string;
  operator: string;
  values: string[];
  key?: string;
}

/** The operators of a kind of column, as the server names them. */
export const OPERATORS: Record<ColumnKind, string[]> = {
  text: ["=", "!=", "contains", "does not contain", "starts with", "any of", "none of", "is null"],
  number: ["=", "!=", ">", "<", ">=", "<=", "is null"],
  array: ["any of", "none of", "all of"],
  level: ["any of", "none of"],
  object: ["=", "!=", "contains", "starts with", ">", "<"],
};

/** How an operator reads in the builder. */
export const OPERATOR_LABELS: Record<string, string> = {
  "=": "=",
  "!=": "≠",
  ">": ">",
  "<": "<",
  ">=": "≥",
  "<=": "≤",
  contains: "contains",
  "does not contain": "does not contain",
  "starts with": "starts with",
  "any of": "any of",
  "none of": "none of",
  "all of": "all of",
  "is null": "is empty",
};

export const LEVELS = ["DEBUG", "DEFAULT", "WARNING", "ERROR"];

/** Operators taking a list of values. */
export function takesList(operator: string): boolean {
  return operator === "any of" || operator === "none of" || operator === "all of";
}

/** Operators taking no value. */
export function takesNoValue(operator: string): boolean {
  return operator === "is null";
}

export const TRACE_COLUMNS: BuilderColumn[] = [
  { name: "name", label: "Name", kind: "text", suggest: "traceName" },
  { name: "userId", label: "User", kind: "text", suggest: "userId" },
  { name: "sessionId", label: "Session", kind: "text", suggest: "sessionId" },
  { name: "tags", label: "Tags", kind: "array", suggest: "tags" },
  { name: "environment", label: "Environment", kind: "text", suggest: "environment" },
  { name: "release", label: "Release", kind: "text", suggest: "release" },
  { name: "version", label: "Version", kind: "text", suggest: "version" },
  { name: "level", label: "Level", kind: "level" },
  { name: "latency", label: "Latency (s)", kind: "number" },
  { name: "totalCost", label: "Cost ($)", kind: "number" },
  { name: "metadata", label: "Metadata", kind: "object", suggest: "metadataKey" },
  { name: "id", label: "Trace id", kind: "text" },
];

export const OBSERVATION_COLUMNS: BuilderColumn[] = [
  { name: "name", label: "Name", kind: "text", suggest: "observationName" },
  { name: "model", label: "Model", kind: "text", suggest: "model" },
  { name: "environment", label: "Environment", kind: "text", suggest: "environment" },
  { name: "version", label: "Version", kind: "text", suggest: "version" },
  { name: "level", label: "Level", kind: "level" },
  { name: "latency", label: "Latency (s)", kind: "number" },
  { name: "totalCost", label: "Cost ($)", kind: "number" },
  { name: "inputTokens", label: "Input tokens", kind: "number" },
  { name: "outputTokens", label: "Output tokens", kind: "number" },
  { name: "promptName", label: "Prompt", kind: "text" },
  { name: "traceName", label: "Trace name", kind: "text", suggest: "traceName" },
  { name: "userId", label: "User", kind: "text", suggest: "userId" },
  { name: "sessionId", label: "Session", kind: "text", suggest: "sessionId" },
  { name: "tags", label: "Trace tags", kind: "array", suggest: "tags" },
  { name: "metadata", label: "Metadata", kind: "object" },
];

export const SCORE_COLUMNS: BuilderColumn[] = [
  { name: "name", label: "Name", kind: "text", suggest: "scoreName" },
  { name: "value", label: "Value", kind: "number" },
  { name: "stringValue", label: "Text value", kind: "text" },
  { name: "source", label: "Source", kind: "text" },
  { name: "dataType", label: "Data type", kind: "text" },
  { name: "environment", label: "Environment", kind: "text", suggest: "environment" },
  { name: "comment", label: "Comment", kind: "text" },
  { name: "traceName", label: "Trace name", kind: "text", suggest: "traceName" },
  { name: "userId", label: "User", kind: "text", suggest: "userId" },
  { name: "tags", label: "Trace tags", kind: "array", suggest: "tags" },
];

// --- the page URL: `f=<column>;<operator>;<value>;<value>…`, the key after the column's
// first `.` (`metadata.region`); `%` and `;` inside a part are percent-escaped ---

function escapePart(text: string): string {
  return text.replace(/%/g, "%25").replace(/;/g, "%3B");
}

function unescapePart(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The `f` parameter of one condition. */
export function conditionToParam(condition: BuilderCondition): string {
  const column = condition.key !== undefined ? `${condition.column}.${condition.key}` : condition.column;
  return [column, condition.operator, ...condition.values].map(escapePart).join(";");
}

/** A condition from its `f` parameter, checked against `columns`; null when it names an
 * unknown column or operator or cannot be read. */
export function conditionFromParam(param: string, columns: BuilderColumn[]): BuilderCondition | null {
  const parts = param.split(";").map(unescapePart);
  if (parts.length < 2 || parts.some((part) => part === null)) return null;
  const [qualified, operator, ...values] = parts as string[];
  const dot = qualified.indexOf(".");
  const name = dot < 0 ? qualified : qualified.slice(0, dot);
  const column = columns.find((candidate) => candidate.name === name);
  if (!column || !OPERATORS[column.kind].includes(operator)) return null;
  if (column.kind === "object" ? dot < 0 : dot >= 0) return null;
  const condition: BuilderCondition = { column: name, operator, values: takesNoValue(operator) ? [] : values };
  if (!takesList(operator) && condition.values.length > 1) condition.values = condition.values.slice(0, 1);
  if (column.kind === "object") condition.key = qualified.slice(dot + 1);
  return condition;
}

/** The conditions of a page URL's `f` parameters (unreadable ones dropped). */
export function conditionsFromUrl(params: URLSearchParams, columns: BuilderColumn[]): BuilderCondition[] {
  return params
    .getAll("f")
    .map((param) => conditionFromParam(param, columns))
    .filter((condition): condition is BuilderCondition => condition !== null);
}

/** Appends one `f` parameter per condition. */
export function conditionsToUrl(params: URLSearchParams, conditions: BuilderCondition[]) {
  for (const condition of conditions) params.append("f", conditionToParam(condition));
}

// --- the server's `filter` conditions ---

/** One condition of the server's `filter` JSON. */
export interface ServerCondition {
  type: string;
  column: string;
  operator: string;
  value: unknown;
  key?: string;
}

/** The server condition of a builder condition; null while it is incomplete (no value, a
 * number that is not one, an object column without a key). */
export function toServerCondition(condition: BuilderCondition, columns: BuilderColumn[]): ServerCondition | null {
  const column = columns.find((candidate) => candidate.name === condition.column);
  if (!column || !OPERATORS[column.kind].includes(condition.operator)) return null;
  const base = { column: condition.column, operator: condition.operator };
  if (takesNoValue(condition.operator)) return { type: "null", ...base, value: null };
  const values = condition.values.map((value) => value.trim()).filter((value) => value !== "");
  if (values.length === 0) return null;
  if (takesList(condition.operator)) {
    const type = column.kind === "array" ? "arrayOptions" : "stringOptions";
    return { type, ...base, value: values };
  }
  if (column.kind === "number") {
    const number = Number(values[0]);
    return Number.isFinite(number) ? { type: "number", ...base, value: number } : null;
  }
  if (column.kind === "object") {
    const key = condition.key?.trim() ?? "";
    if (key === "") return null;
    const number = Number(values[0]);
    if ((condition.operator === ">" || condition.operator === "<") && Number.isFinite(number)) {
      return { type: "numberObject", ...base, key, value: number };
    }
    return { type: "stringObject", ...base, key, value: condition.values[0] };
  }
  return { type: "string", ...base, value: condition.values[0] };
}

/** The server conditions of the complete builder conditions. */
export function toServerConditions(conditions: BuilderCondition[], columns: BuilderColumn[]): ServerCondition[] {
  return conditions
    .map((condition) => toServerCondition(condition, columns))
    .filter((condition): condition is ServerCondition => condition !== null);
}

// --- page sizes ---

export const PAGE_SIZES = [25, 50, 100, 200];
export const DEFAULT_PAGE_SIZE = 50;

/** The page size of a URL's `limit`, one of [`PAGE_SIZES`], else the default. */
export function pageSizeFromUrl(params: URLSearchParams): number {
  const limit = Number(params.get("limit"));
  return PAGE_SIZES.includes(limit) ? limit : DEFAULT_PAGE_SIZE;
}

/** A page URL's query after `change` (an empty value removes its parameter) and, when given,
 * the builder's `conditions` in place of its `f` parameters; back to the first page unless
 * `change` names one. */
export function changedSearch(search: URLSearchParams, change: Record<string, string>, conditions?: BuilderCondition[]): string {
  const next = new URLSearchParams(search);
  for (const [name, value] of Object.entries(change)) {
    if (value === "") next.delete(name);
    else next.set(name, value);
  }
  if (conditions) {
    next.delete("f");
    conditionsToUrl(next, conditions);
  }
  if (!("page" in change)) next.delete("page");
  return next.toString();
}
