// The traces view as plain data, and its two encodings: the page URL (shareable, short) and
// the query of the server's trace list (public API parameter names plus `filter` JSON).

import {
  conditionsFromUrl,
  conditionsToUrl,
  DEFAULT_PAGE_SIZE,
  pageSizeFromUrl,
  toServerConditions,
  TRACE_COLUMNS,
  type BuilderCondition,
  type ServerCondition,
} from "./conditions";
import { defaultColumns, knownColumns, type TableColumn } from "./tables";

export type TagsMode = "all" | "any";

export interface TraceView {
  search: string;
  name: string;
  userId: string;
  sessionId: string;
  tags: string[];
  tagsMode: TagsMode;
  environment: string;
  release: string;
  version: string;
  level: string;
  errorsOnly: boolean;
  range: string;
  from: string;
  to: string;
  scoreName: string;
  scoreMin: string;
  scoreMax: string;
  metaKey: string;
  metaValue: string;
  latencyMin: string;
  latencyMax: string;
  costMin: string;
  costMax: string;
  /** Traces holding a generation linked to this prompt (and version, if given). */
  promptName: string;
  promptVersion: string;
  /** "with": only traces with comments on them; "without": only those without; "": all. */
  comments: string;
  sort: string;
  page: number;
  /** Rows per page, one of `PAGE_SIZES`. */
  limit: number;
  /** The filter builder's conditions, all of which must hold. */
  conditions: BuilderCondition[];
  /** The table's shown columns (ids of `TRACE_TABLE_COLUMNS`), in the table's order. */
  columns: string[];
}

/** The traces table's columns: id, label, shown by default, and the server's sort column. */
export const TRACE_TABLE_COLUMNS: TableColumn[] = [
  { id: "time", label: "Time", shown: true, sort: "timestamp" },
  { id: "name", label: "Name", shown: true, sort: "name" },
  { id: "id", label: "Trace id", shown: false, sort: "id" },
  { id: "user", label: "User", shown: true, sort: "userId" },
  { id: "session", label: "Session", shown: true, sort: "sessionId" },
  { id: "tags", label: "Tags", shown: true },
  { id: "environment", label: "Environment", shown: false, sort: "environment" },
  { id: "release", label: "Release", shown: false, sort: "release" },
  { id: "version", label: "Version", shown: false, sort: "version" },
  { id: "level", label: "Level", shown: true },
  { id: "input", label: "Input", shown: false },
  { id: "output", label: "Output", shown: false },
  { id: "latency", label: "Latency", shown: true, sort: "latency" },
  { id: "tokens", label: "Tokens in / out", shown: true },
  { id: "cost", label: "Cost", shown: true, sort: "totalCost" },
  { id: "scores", label: "Scores", shown: true },
  { id: "comments", label: "Comments", shown: true },
];

export const DEFAULT_TRACE_COLUMNS = defaultColumns(TRACE_TABLE_COLUMNS);

/** The known column ids of the traces table, in the table's order; the defaults when none
 * is known. */
export function tableColumns(ids: string[]): string[] {
  return knownColumns(TRACE_TABLE_COLUMNS, ids);
}

export const DEFAULT_SORT = "timestamp.desc";

export const RANGES: Record<string, number> = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
};

export function emptyView(): TraceView {
  return {
    search: "",
    name: "",
    userId: "",
    sessionId: "",
    tags: [],
    tagsMode: "all",
    environment: "",
    release: "",
    version: "",
    level: "",
    errorsOnly: false,
    range: "all",
    from: "",
    to: "",
    scoreName: "",
    scoreMin: "",
    scoreMax: "",
    metaKey: "",
    metaValue: "",
    latencyMin: "",
    latencyMax: "",
    costMin: "",
    costMax: "",
    promptName: "",
    promptVersion: "",
    comments: "",
    sort: DEFAULT_SORT,
    page: 1,
    limit: DEFAULT_PAGE_SIZE,
    conditions: [],
    columns: [...DEFAULT_TRACE_COLUMNS],
  };
}

// URL keys of the plain string fields, in a stable order.
const STRING_KEYS = [
  "search",
  "name",
  "userId",
  "sessionId",
  "environment",
  "release",
  "version",
  "level",
  "from",
  "to",
  "scoreName",
  "scoreMin",
  "scoreMax",
  "metaKey",
  "metaValue",
  "latencyMin",
  "latencyMax",
  "costMin",
  "costMax",
  "promptName",
  "promptVersion",
  "comments",
] as const;

/** The page URL's query: only what differs from the defaults. */
export function viewToUrl(view: TraceView): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of STRING_KEYS) {
    if (view[key] !== "") params.set(key, view[key]);
  }
  for (const tag of view.tags) params.append("tag", tag);
  if (view.tags.length > 0 && view.tagsMode === "any") params.set("tagsMode", "any");
  if (view.errorsOnly) params.set("errors", "1");
  if (view.range !== "all") params.set("range", view.range);
  conditionsToUrl(params, view.conditions);
  if (view.sort !== DEFAULT_SORT) params.set("sort", view.sort);
  if (view.page > 1) params.set("page", String(view.page));
  if (view.limit !== DEFAULT_PAGE_SIZE) params.set("limit", String(view.limit));
  const columns = tableColumns(view.columns);
  if (columns.join(",") !== DEFAULT_TRACE_COLUMNS.join(",")) params.set("cols", columns.join(","));
  return params;
}

/** Reads a page URL's query back; unknown or malformed values fall back to defaults. */
export function viewFromUrl(params: URLSearchParams): TraceView {
  const view = emptyView();
  for (const key of STRING_KEYS) view[key] = params.get(key) ?? "";
  view.tags = params.getAll("tag").filter((tag) => tag !== "");
  view.tagsMode = params.get("tagsMode") === "any" ? "any" : "all";
  view.errorsOnly = params.get("errors") === "1";
  if (view.comments !== "with" && view.comments !== "without") view.comments = "";
  const range = params.get("range") ?? "all";
  view.range = range === "custom" || range in RANGES ? range : "all";
  view.sort = /^[a-zA-Z]+\.(asc|desc)$/.test(params.get("sort") ?? "")
    ? (params.get("sort") as string)
    : DEFAULT_SORT;
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  view.page = Number.isFinite(page) && page > 0 ? page : 1;
  view.limit = pageSizeFromUrl(params);
  view.conditions = conditionsFromUrl(params, TRACE_COLUMNS);
  const columns = params.get("cols");
  if (columns !== null) view.columns = tableColumns(columns.split(","));
  return view;
}

export type Condition = ServerCondition;

function finite(text: string): number | null {
  if (text.trim() === "") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** The server query of a view; `now` (ms) anchors relative time ranges. */
export function viewToQuery(view: TraceView, now: number): URLSearchParams {
  const query = new URLSearchParams();
  query.set("page", String(view.page));
  query.set("limit", String(view.limit));
  const plain: [keyof TraceView, string][] = [
    ["name", "name"],
    ["userId", "userId"],
    ["sessionId", "sessionId"],
    ["environment", "environment"],
    ["release", "release"],
    ["version", "version"],
    ["search", "search"],
    ["scoreName", "scoreName"],
  ];
  for (const [field, param] of plain) {
    const value = String(view[field]).trim();
    if (value !== "") query.set(param, value);
  }
  if (view.scoreName.trim() !== "") {
    if (finite(view.scoreMin) !== null) query.set("scoreMin", view.scoreMin.trim());
    if (finite(view.scoreMax) !== null) query.set("scoreMax", view.scoreMax.trim());
  }
  const conditions: Condition[] = [];
  if (view.tags.length > 0) {
    if (view.tagsMode === "all") {
      for (const tag of view.tags) query.append("tags", tag);
    } else {
      conditions.push({ type: "arrayOptions", column: "tags", operator: "any of", value: view.tags });
    }
  }
  if (view.errorsOnly) {
    conditions.push({ type: "stringOptions", column: "level", operator: "any of", value: ["ERROR"] });
  } else if (view.level !== "") {
    conditions.push({ type: "stringOptions", column: "level", operator: "any of", value: [view.level] });
  }
  // A key without a value matches every trace (a missing key reads as ""): no condition.
  if (view.metaKey.trim() !== "" && view.metaValue !== "") {
    conditions.push({
      type: "stringObject",
      column: "metadata",
      operator: "=",
      key: view.metaKey.trim(),
      value: view.metaValue,
    });
  }
  const ranges: [string, string, string][] = [
    ["latency", view.latencyMin, ">="],
    ["latency", view.latencyMax, "<="],
    ["totalCost", view.costMin, ">="],
    ["totalCost", view.costMax, "<="],
  ];
  for (const [column, text, operator] of ranges) {
    const value = finite(text);
    if (value !== null) conditions.push({ type: "number", column, operator, value });
  }
  if (view.promptName.trim() !== "") {
    conditions.push({ type: "string", column: "promptName", operator: "=", value: view.promptName.trim() });
    const version = finite(view.promptVersion);
    if (version !== null) conditions.push({ type: "number", column: "promptVersion", operator: "=", value: version });
  }
  conditions.push(...toServerConditions(view.conditions, TRACE_COLUMNS));
  if (conditions.length > 0) query.set("filter", JSON.stringify(conditions));
  if (view.range === "custom") {
    if (view.from !== "") query.set("fromTimestamp", new Date(view.from).toISOString());
    if (view.to !== "") query.set("toTimestamp", new Date(view.to).toISOString());
  } else if (view.range in RANGES) {
    query.set("fromTimestamp", new Date(now - RANGES[view.range]).toISOString());
  }
  if (view.comments === "with") query.set("hasComments", "true");
  else if (view.comments === "without") query.set("hasComments", "false");
  if (view.sort !== DEFAULT_SORT) query.set("orderBy", view.sort);
  return query;
}

/** How many conditions narrow the view (for the filter button's badge). */
export function activeFilterCount(view: TraceView): number {
  let count = 0;
  for (const key of STRING_KEYS) {
    if (key !== "search" && key !== "from" && key !== "to" && key !== "scoreMin" && key !== "scoreMax" && key !== "metaValue" && key !== "promptVersion" && view[key] !== "") count++;
  }
  if (view.tags.length > 0) count++;
  if (view.errorsOnly) count++;
  if (view.range !== "all") count++;
  return count + view.conditions.length;
}
