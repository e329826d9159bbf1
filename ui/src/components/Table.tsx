// The pieces the list pages share: a table's header row, the pager, score chips, filter
// fields, and a paged list loaded from the project API with its page in component state.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, projectPath, type Paged, type ScoreBrief } from "../api";
import { scoreValue } from "../format";
import { useLoad, type Loaded } from "../hooks";

/** The UI path of a project: `/project/{id}`. */
export function projectBase(projectId: string): string {
  return `/project/${encodeURIComponent(projectId)}`;
}

/** The UI path of a trace, opened at one of its observations when `observationId` is given. */
export function traceHref(projectId: string, traceId: string, observationId?: string | null): string {
  return `${projectBase(projectId)}/traces/${encodeURIComponent(traceId)}${observationId ? `?observation=${encodeURIComponent(observationId)}` : ""}`;
}

/** A danger button that asks `question` first and, when confirmed, DELETEs the project API's
 * `path`, then calls `done` (or `fail` with the error). */
export function DeleteButton(props: {
  projectId: string;
  path: string;
  question: string;
  label: string;
  done: () => void;
  fail: (reason: Error) => void;
}) {
  return (
    <button
      type="button"
      class="danger"
      onClick={() => {
        if (!confirm(props.question)) return;
        api.del(projectPath(props.projectId, props.path)).then(props.done, props.fail);
      }}
    >
      {props.label}
    </button>
  );
}

/** A header cell: its label, or its label and class. */
export type Column = string | [label: string, className: string];

export function TableHead(props: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column, index) => {
          const [label, className] = typeof column === "string" ? [column, undefined] : column;
          return (
            <th key={index} class={className}>
              {label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

/** Previous and next buttons around "Page n of m", with an optional total after it. */
/** Previous and next page buttons, "Page 2 of 40 · 1,234 traces"; with `estimated` the
 * page count and total are an estimate ("of about 40"), explained in the span's title. */
export function Pager(props: { page: number; pages: number; onPage: (page: number) => void; total?: string; estimated?: boolean; children?: ComponentChildren }) {
  return (
    <div class="pager">
      <button type="button" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
        ← Previous
      </button>
      <span class={props.estimated ? "estimated" : undefined} title={props.estimated ? "An estimate: the search matches many traces, so they are not all counted" : undefined}>
        Page {props.page} of {props.estimated ? "about " : ""}
        {props.pages}
        {props.total ? ` · ${props.total}` : ""}
      </span>
      <button type="button" disabled={props.page >= props.pages} onClick={() => props.onPage(props.page + 1)}>
        Next →
      </button>
      {props.children}
    </div>
  );
}

export function ScoreChips(props: { scores: ScoreBrief[] }) {
  return (
    <>
      {props.scores.map((score, index) => (
        <span key={index} class="score">
          {score.name}: {scoreValue(score)}
        </span>
      ))}
    </>
  );
}

/** A labelled text input that commits its value on change; named after its label. */
export function FilterField(props: {
  label: string;
  value: string;
  onCommit: (value: string) => void;
  placeholder?: string;
  type?: string;
  ariaLabel?: boolean;
  /** The id of a `datalist` of suggestions. */
  list?: string;
}) {
  return (
    <label>
      {props.label}
      <input
        type={props.type ?? "text"}
        name={props.label}
        aria-label={props.ariaLabel ? props.label : undefined}
        defaultValue={props.value}
        key={props.value}
        placeholder={props.placeholder}
        list={props.list}
        onChange={(event) => props.onCommit(event.currentTarget.value)}
      />
    </label>
  );
}

/** The options of a level filter, "any" first. */
export function LevelOptions() {
  return (
    <>
      <option value="">any</option>
      <option value="ERROR">error</option>
      <option value="WARNING">warning</option>
      <option value="DEFAULT">default</option>
      <option value="DEBUG">debug</option>
    </>
  );
}

export interface PagedList<T> {
  loaded: Loaded<Paged<T>>;
  page: number;
  setPage: (page: number) => void;
}

/** Pages of 50 of the project's `path` (such as "/sessions") with the extra query `params`. */
export function usePagedList<T>(projectId: string, path: string, params: Record<string, string> = {}): PagedList<T> {
  const [page, setPage] = useState(1);
  const query = new URLSearchParams({ page: String(page), limit: "50", ...params }).toString();
  const loaded = useLoad((signal) => api.get<Paged<T>>(`${projectPath(projectId, path)}?${query}`, signal), [projectId, query]);
  return { loaded, page, setPage };
}

/** "Loading…" while a load the user asked for is in flight; with rows already on screen it
 * says that they are the previous answer's, which the table dims (class `stale`). */
export function LoadingStatus(props: { loading: boolean; hasRows: boolean }) {
  if (!props.loading) return null;
  return (
    <p class="muted pad loading-status" role="status" aria-live="polite">
      {props.hasRows ? "Loading… (showing the previous results)" : "Loading…"}
    </p>
  );
}

/** A list page: title and tools, the table of the current page, a note when the list is
 * empty, and the pager when there is more than one page. */
export function ListPage<T>(props: {
  title: string;
  tools?: ComponentChildren;
  list: PagedList<T>;
  columns: Column[];
  empty: string;
  row: (item: T) => ComponentChildren;
}) {
  const { loaded, page, setPage } = props.list;
  const meta = loaded.data?.meta;
  return (
    <div class="page">
      <div class="toolbar">
        <h1>{props.title}</h1>
        {props.tools}
      </div>
      {loaded.error ? <p class="error-box">{loaded.error}</p> : null}
      <LoadingStatus loading={loaded.loading} hasRows={(loaded.data?.data.length ?? 0) > 0} />
      <table class={`data${loaded.loading ? " stale" : ""}`} aria-busy={loaded.loading}>
        <TableHead columns={props.columns} />
        <tbody>{(loaded.data?.data ?? []).map(props.row)}</tbody>
      </table>
      {!loaded.loading && meta && meta.totalItems === 0 ? <p class="muted pad">{props.empty}</p> : null}
      {meta && meta.totalPages > 1 ? <Pager page={page} pages={meta.totalPages} onPage={setPage} /> : null}
    </div>
  );
}
