// The users and sessions lists: groups of traces with their totals, searched, sorted and
// bounded on the server (`/users`, `/sessions` of the UI API), every choice kept in the URL,
// with a column picker and selected rows exported as JSON or CSV. A score name adds the
// average of that score per row (a column, sortable) and bounds on it.

import type { ComponentChildren } from "preact";
import { api, projectPath, type Paged } from "../api";
import { useLoad } from "../hooks";
import { navigate, useLocation } from "../router";
import { BulkBar, countOf, ExportButtons, SelectAllCell, SelectCell, useBulkAction, usePickedColumns, useSelection } from "./Selection";
import { useSuggestions } from "./FilterBuilder";
import { LoadingStatus, Pager } from "./Table";

/** A user or session with the totals of its traces. */
export interface TotalsRow {
  id: string;
  traceCount: number;
  firstSeen: string | null;
  lastSeen: string | null;
  durationSeconds: number | null;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  totalCost: number;
  userIds: string[];
  /** The average of the list's score (`scoreName`), absent when the row has none. */
  scoreAverage?: number | null;
}

export interface TotalsColumn {
  /** The column's id in the URL's `cols`. */
  id: string;
  label: string;
  /** Hidden until picked when false. */
  shown?: boolean;
  /** The server's name of the total it sorts by. */
  sort?: string;
  numeric?: boolean;
  cell: (row: TotalsRow) => ComponentChildren;
}

/** The bounds a list offers: URL and server parameter, label, input type. */
const BOUNDS: [string, string, "number" | "date"][] = [
  ["tracesMin", "Traces ≥", "number"],
  ["tracesMax", "Traces ≤", "number"],
  ["tokensMin", "Tokens ≥", "number"],
  ["tokensMax", "Tokens ≤", "number"],
  ["costMin", "Cost ≥ $", "number"],
  ["costMax", "Cost ≤ $", "number"],
  ["firstSeenMin", "First seen from", "date"],
  ["lastSeenMin", "Last seen from", "date"],
  ["lastSeenMax", "Last seen until", "date"],
];

/** The score filters: URL and server parameter, label, input type (after `scoreName`). */
const SCORE_BOUNDS: [string, string, "number" | "text"][] = [
  ["scoreMin", "Score avg ≥", "number"],
  ["scoreMax", "Score avg ≤", "number"],
  ["scoreValue", "Score value", "text"],
];

/** The column of the score's average, offered while a score name is chosen. */
export function scoreColumn(name: string): TotalsColumn {
  return {
    id: "score",
    label: `${name} (avg)`,
    sort: "score",
    numeric: true,
    cell: (row) => (row.scoreAverage == null ? "–" : row.scoreAverage.toFixed(3)),
  };
}

/** The shown columns with the score's average added when a score name is chosen and the
 * URL does not pick the columns itself (a remembered choice made without it still gets it). */
export function withScoreColumn(shown: string[], search: URLSearchParams): string[] {
  if (!search.get("scoreName") || search.get("cols") !== null || shown.includes("score")) return shown;
  return [...shown, "score"];
}

/** The ranges of traces a list sums: URL value, label, length in hours. */
export const RANGES: [string, string, number | null][] = [
  ["", "all time", null],
  ["24h", "last 24 hours", 24],
  ["7d", "last 7 days", 24 * 7],
  ["30d", "last 30 days", 24 * 30],
  ["90d", "last 90 days", 24 * 90],
];

/** The options of a range select, all time first. */
export function RangeOptions() {
  return (
    <>
      {RANGES.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </>
  );
}

/** The `fromTimestamp` of a range, or null for all time: to the minute, so renders within
 * a minute ask the same query. */
export function rangeStart(range: string, now = Date.now()): string | null {
  const hours = RANGES.find(([value]) => value === range)?.[2];
  if (!hours) return null;
  const minute = Math.floor(now / 60_000) * 60_000;
  return new Date(minute - hours * 3_600_000).toISOString();
}

/** A date input's day as the start of that day (UTC), or the start of the next day for an
 * upper bound, as an ISO timestamp. */
function dayBound(day: string, upper: boolean): string | null {
  const at = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(at)) return null;
  return new Date(at + (upper ? 86_400_000 - 1 : 0)).toISOString();
}

/** The server query of a list's URL. */
export function totalsQuery(search: URLSearchParams, extra: Record<string, string> = {}): URLSearchParams {
  const query = new URLSearchParams({ page: search.get("page") ?? "1", limit: "50", ...extra });
  const text = search.get("search");
  if (text) query.set("search", text);
  const environment = search.get("environment");
  if (environment) query.set("environment", environment);
  const scoreName = search.get("scoreName");
  const order = search.get("orderBy");
  // A sort by the score needs its name; without one the default sort applies.
  if (order && (scoreName || !order.startsWith("score."))) query.set("orderBy", order);
  const from = rangeStart(search.get("range") ?? "");
  if (from) query.set("fromTimestamp", from);
  for (const [key, , type] of BOUNDS) {
    const value = search.get(key);
    if (!value) continue;
    const bound = type === "date" ? dayBound(value, key.endsWith("Max")) : value;
    if (bound) query.set(key, bound);
  }
  if (scoreName) {
    query.set("scoreName", scoreName);
    for (const [key] of SCORE_BOUNDS) {
      const value = search.get(key);
      if (value) query.set(key, value);
    }
  }
  return query;
}

export function TotalsList(props: {
  projectId: string;
  path: "/users" | "/sessions";
  title: string;
  empty: string;
  columns: TotalsColumn[];
  searchLabel: string;
  /** What a row is, for the selection ("user", "session"). */
  noun: string;
}) {
  const location = useLocation();
  const search = location.search;
  // Loaded again when the URL changes (a range's start is taken at that moment).
  const loaded = useLoad(
    (signal) => api.get<Paged<TotalsRow>>(`${projectPath(props.projectId, props.path)}?${totalsQuery(search)}`, signal),
    [props.projectId, props.path, search.toString()],
  );
  const set = (change: Record<string, string | null>, keepPage = false) => {
    const next = new URLSearchParams(search);
    for (const [key, value] of Object.entries(change)) {
      if (value === null || value === "") next.delete(key);
      else next.set(key, value);
    }
    if (!keepPage) next.delete("page");
    const text = next.toString();
    navigate(`${location.path}${text ? `?${text}` : ""}`, true);
  };
  const [orderColumn, orderDirection] = (search.get("orderBy") ?? "lastSeen.desc").split(".");
  const sortBy = (column: string) => {
    const direction = column === orderColumn && orderDirection === "desc" ? "asc" : "desc";
    set({ orderBy: `${column}.${direction}` });
  };
  const meta = loaded.data?.meta;
  const rows = loaded.data?.data ?? [];
  const scoreName = search.get("scoreName") ?? "";
  const offered = scoreName ? [...props.columns, scoreColumn(scoreName)] : props.columns;
  const { shown, picker } = usePickedColumns(offered, props.path.slice(1));
  const columns = withScoreColumn(shown, search)
    .map((id) => offered.find((column) => column.id === id))
    .filter((column): column is TotalsColumn => column !== undefined);
  const selection = useSelection(rows.map((row) => row.id), search.toString());
  const scoreNames = useSuggestions(props.projectId, "scoreName", "");
  const filtered = [...BOUNDS, ...SCORE_BOUNDS].some(([key]) => search.get(key)) || ["search", "range", "environment", "scoreName"].some((key) => !!search.get(key));
  return (
    <div class="page">
      <div class="toolbar">
        <h1>{props.title}</h1>
        {picker}
      </div>
      <form
        class="totals-filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const change: Record<string, string | null> = {
            search: String(form.get("search") ?? "").trim(),
            environment: String(form.get("environment") ?? "").trim(),
          };
          for (const [key] of [...BOUNDS, ...SCORE_BOUNDS]) change[key] = String(form.get(key) ?? "").trim();
          change.scoreName = String(form.get("scoreName") ?? "").trim();
          if (!change.scoreName && orderColumn === "score") change.orderBy = null;
          set(change);
        }}
      >
        <label>
          {props.searchLabel}
          <input type="search" name="search" defaultValue={search.get("search") ?? ""} key={search.get("search") ?? ""} placeholder="part of the id" />
        </label>
        <label>
          Environment
          <input name="environment" defaultValue={search.get("environment") ?? ""} key={search.get("environment") ?? ""} placeholder="any" />
        </label>
        <label>
          Traces from
          <select name="range" value={search.get("range") ?? ""} onChange={(event) => set({ range: event.currentTarget.value })}>
            <RangeOptions />
          </select>
        </label>
        {BOUNDS.map(([key, label, type]) => (
          <BoundField key={key} name={key} label={label} type={type} value={search.get(key) ?? ""} min={0} />
        ))}
        <datalist id="totals-score-names">
          {scoreNames.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <label>
          Score
          <input name="scoreName" list="totals-score-names" defaultValue={scoreName} key={`scoreName=${scoreName}`} placeholder="name" />
        </label>
        {SCORE_BOUNDS.map(([key, label, type]) => (
          <BoundField key={key} name={key} label={label} type={type} value={search.get(key) ?? ""} placeholder={type === "text" ? "category" : undefined} />
        ))}
        <button type="submit" class="primary">
          Apply
        </button>
        {filtered ? (
          <button type="button" class="ghost" onClick={() => navigate(location.path, true)}>
            Clear
          </button>
        ) : null}
      </form>
      {selection.selected.length > 0 ? (
        <TotalsBulk noun={props.noun} rows={rows.filter((row) => selection.has(row.id))} onClear={selection.clear} />
      ) : null}
      {loaded.error ? <p class="error-box" role="alert">{loaded.error}</p> : null}
      <LoadingStatus loading={loaded.loading} hasRows={rows.length > 0} />
      <table class={`data${loaded.loading ? " stale" : ""}`} aria-busy={loaded.loading}>
        <thead>
          <tr>
            <SelectAllCell selection={selection} label={`Select all ${props.noun}s on this page`} />
            {columns.map((column) => {
              const active = column.sort === orderColumn;
              return (
                <th
                  key={column.id}
                  data-col={column.id}
                  class={column.numeric ? "num" : undefined}
                  aria-sort={active ? (orderDirection === "asc" ? "ascending" : "descending") : undefined}
                >
                  {column.sort ? (
                    <button type="button" class="sort" onClick={() => sortBy(column.sort!)} title={`Sort by ${column.label.toLowerCase()}`}>
                      {column.label}
                      {active ? (orderDirection === "asc" ? " ▲" : " ▼") : ""}
                    </button>
                  ) : (
                    column.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={row.id} class={selection.has(row.id) ? "selected" : undefined}>
              <SelectCell selection={selection} index={index} id={row.id} label={`Select ${props.noun} ${row.id}`} />
              {columns.map((column) => (
                <td key={column.id} data-col={column.id} class={column.numeric ? "num" : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {!loaded.loading && meta && meta.totalItems === 0 ? <p class="muted pad">{filtered ? "Nothing matches these filters." : props.empty}</p> : null}
      {meta && meta.totalPages > 1 ? (
        <Pager
          page={meta.page}
          pages={meta.totalPages}
          total={`${meta.totalItems.toLocaleString("en-US")} in all`}
          onPage={(page) => set({ page: String(page) }, true)}
        />
      ) : null}
    </div>
  );
}

/** One bound of the filters form, showing the URL's value (set again when it changes). */
function BoundField(props: { name: string; label: string; type: "number" | "date" | "text"; value: string; min?: number; placeholder?: string }) {
  const numeric = props.type === "number";
  return (
    <label>
      {props.label}
      <input
        type={props.type}
        name={props.name}
        min={numeric ? props.min : undefined}
        step={numeric ? "any" : undefined}
        placeholder={props.placeholder}
        defaultValue={props.value}
        key={`${props.name}=${props.value}`}
      />
    </label>
  );
}

const TOTALS_CSV_COLUMNS = ["id", "traceCount", "firstSeen", "lastSeen", "durationSeconds", "inputTokens", "outputTokens", "totalTokens", "totalCost", "userIds", "scoreAverage"];

/** The selected users or sessions, exported with their totals as listed. */
function TotalsBulk(props: { noun: string; rows: TotalsRow[]; onClear: () => void }) {
  const action = useBulkAction();
  const what = countOf(props.rows.length, props.noun);
  return (
    <BulkBar label={`Selected ${props.noun}s`} what={what} action={action} onClear={props.onClear}>
      <ExportButtons action={action} file={`${props.noun}s`} what={what} csvColumns={TOTALS_CSV_COLUMNS} rows={async () => props.rows as unknown as Record<string, unknown>[]} />
    </BulkBar>
  );
}
