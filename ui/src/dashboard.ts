// The dashboard's view as plain data: its time range (a preset or custom dates) and filters,
// their form in the page URL, the time bucket chosen from the range, and the query of the
// server's dashboard (`/api/ui/projects/{id}/dashboard`).

export const DASHBOARD_RANGES: Record<string, number> = {
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
  "90d": 90 * 86_400_000,
  "1y": 365 * 86_400_000,
};

export const DEFAULT_DASHBOARD_RANGE = "7d";

export type Granularity = "hour" | "day" | "week";

/** The filters: each narrows the panels whose rows have the field (see the page). */
export interface DashboardFilters {
  name: string;
  userId: string;
  tags: string[];
  environment: string;
  release: string;
  model: string;
  metadataKey: string;
  metadataValue: string;
}

export interface DashboardView {
  /** A key of `DASHBOARD_RANGES`, or "custom" for `from`..`to`. */
  range: string;
  /** Local date-times as a `datetime-local` input holds them (`2026-01-01T10:00`). */
  from: string;
  to: string;
  filters: DashboardFilters;
}

const FILTER_KEYS = ["name", "userId", "environment", "release", "model", "metadataKey", "metadataValue"] as const;

export function emptyFilters(): DashboardFilters {
  return { name: "", userId: "", tags: [], environment: "", release: "", model: "", metadataKey: "", metadataValue: "" };
}

export function emptyDashboardView(): DashboardView {
  return { range: DEFAULT_DASHBOARD_RANGE, from: "", to: "", filters: emptyFilters() };
}

/** The page URL's query: only what differs from the defaults. */
export function dashboardViewToUrl(view: DashboardView): URLSearchParams {
  const params = new URLSearchParams();
  if (view.range !== DEFAULT_DASHBOARD_RANGE) params.set("range", view.range);
  if (view.range === "custom") {
    if (view.from !== "") params.set("from", view.from);
    if (view.to !== "") params.set("to", view.to);
  }
  for (const key of FILTER_KEYS) {
    if (view.filters[key] !== "") params.set(key, view.filters[key]);
  }
  for (const tag of view.filters.tags) params.append("tag", tag);
  return params;
}

/** Reads a page URL's query back; unknown values fall back to the defaults. */
export function dashboardViewFromUrl(params: URLSearchParams): DashboardView {
  const view = emptyDashboardView();
  const range = params.get("range") ?? DEFAULT_DASHBOARD_RANGE;
  view.range = range === "custom" || range in DASHBOARD_RANGES ? range : DEFAULT_DASHBOARD_RANGE;
  if (view.range === "custom") {
    view.from = validLocal(params.get("from"));
    view.to = validLocal(params.get("to"));
  }
  for (const key of FILTER_KEYS) view.filters[key] = params.get(key) ?? "";
  view.filters.tags = params.getAll("tag").filter((tag) => tag !== "");
  return view;
}

function validLocal(text: string | null): string {
  return text !== null && !Number.isNaN(new Date(text).getTime()) ? text : "";
}

/** The range in milliseconds since the epoch; a custom range missing an end is open to a
 * preset's length before `to` or up to `now`. `null` when `from` is not before `to`. */
export function rangeOf(view: DashboardView, now: number): { from: number; to: number } | null {
  if (view.range !== "custom") {
    const length = DASHBOARD_RANGES[view.range] ?? DASHBOARD_RANGES[DEFAULT_DASHBOARD_RANGE];
    return { from: now - length, to: now };
  }
  const to = view.to !== "" ? new Date(view.to).getTime() : now;
  const from = view.from !== "" ? new Date(view.from).getTime() : to - DASHBOARD_RANGES[DEFAULT_DASHBOARD_RANGE];
  return from < to ? { from, to } : null;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The time bucket of a range: hours up to two days, days up to about 90 days, then weeks. */
export function granularityOf(from: number, to: number): Granularity {
  const length = to - from;
  if (length <= 2 * DAY) return "hour";
  if (length <= 92 * DAY) return "day";
  return "week";
}

/** The server query of a view; `now` (ms) anchors the presets. `null` for an empty range. */
export function dashboardQuery(view: DashboardView, now: number): URLSearchParams | null {
  const range = rangeOf(view, now);
  if (range === null) return null;
  const query = new URLSearchParams();
  query.set("fromTimestamp", new Date(range.from).toISOString());
  query.set("toTimestamp", new Date(range.to).toISOString());
  query.set("granularity", granularityOf(range.from, range.to));
  const { filters } = view;
  for (const key of ["name", "userId", "environment", "release", "model"] as const) {
    const value = filters[key].trim();
    if (value !== "") query.set(key, value);
  }
  for (const tag of filters.tags) query.append("tag", tag);
  // A key without a value narrows nothing yet.
  if (filters.metadataKey.trim() !== "" && filters.metadataValue !== "") {
    query.set("metadataKey", filters.metadataKey.trim());
    query.set("metadataValue", filters.metadataValue);
  }
  return query;
}

/** How many filters narrow the view. */
export function activeDashboardFilters(filters: DashboardFilters): number {
  const plain = (["name", "userId", "environment", "release", "model"] as const).filter((key) => filters[key].trim() !== "").length;
  const metadata = filters.metadataKey.trim() !== "" && filters.metadataValue !== "" ? 1 : 0;
  return plain + filters.tags.length + metadata;
}

/** A bucket's label: the date of days and weeks, `YYYY-MM-DD HH:00` (UTC) of hours. */
export function bucketLabel(time: string, granularity: Granularity): string {
  if (granularity !== "hour") return time.slice(0, 10);
  return `${time.slice(0, 10)} ${time.slice(11, 16)}`;
}

/** A row of the generations over time: one model in one bucket (no model in an empty one). */
export interface ModelBucket {
  time?: string;
  model: string | null;
  count: number;
  totalCost: number;
  totalTokens: number;
}

export interface Stacked {
  labels: string[];
  series: { name: string; values: number[] }[];
}

/** Models beyond this many are summed as "other". */
export const STACKED_MODELS = 6;

/** The rows of the generations over time as one stack per bucket and one series per model:
 * the models in the order of `models` (the costliest first), the rest as "other". */
export function stackByModel(rows: ModelBucket[], models: (string | null)[], value: (row: ModelBucket) => number, granularity: Granularity): Stacked {
  const times: string[] = [];
  for (const row of rows) {
    if (row.time !== undefined && !times.includes(row.time)) times.push(row.time);
  }
  const named = models.slice(0, STACKED_MODELS).map(modelName);
  const names = models.length > STACKED_MODELS ? [...named, "other"] : named;
  const at = new Map(times.map((time, index) => [time, index]));
  const series = names.map((name) => ({ name, values: times.map(() => 0) }));
  for (const row of rows) {
    // An empty bucket comes as one row without a model and with nothing counted.
    if (row.time === undefined || (row.model === null && row.count === 0)) continue;
    const known = named.indexOf(modelName(row.model));
    const index = known >= 0 ? known : names.length - 1;
    if (index < 0) continue;
    series[index].values[at.get(row.time) ?? 0] += value(row);
  }
  return { labels: times.map((time) => bucketLabel(time, granularity)), series };
}

export function modelName(model: string | null): string {
  return model ?? "(no model)";
}
