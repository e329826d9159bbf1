// The traces table: filters, the filter builder, search, sort, page size and shown columns
// kept in the URL, paging with the total, saved views, live refresh, row selection with bulk
// actions, and j/k to move through rows.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, projectPath, type Paged, type TraceRow } from "../api";
import { TRACE_COLUMNS } from "../conditions";
import { cost, count, latency, time, total } from "../format";
import {
  activeFilterCount,
  emptyView,
  RANGES,
  tableColumns,
  TRACE_TABLE_COLUMNS,
  viewFromUrl,
  viewToQuery,
  viewToUrl,
  type TraceView,
} from "../filters";
import { useLiveRefresh, useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { CopyId } from "../components/Copy";
import { ColumnPicker, FilterBuilder, PageSize, useSuggestions } from "../components/FilterBuilder";
import { FilterField, LevelOptions, LoadingStatus, Pager, projectBase, ScoreChips } from "../components/Table";
import { BulkActions } from "./TraceBulk";
import { SelectableHead, SelectCell, selectedOf, ShownCells, useSelection } from "../components/Selection";
import { nextSort, parseSort, rememberColumns, rememberedColumns } from "../tables";
import { EmptyState } from "./Empty";

/** The ids of the last list shown, so the trace page can step to the next and previous. */
export let lastTraceIds: string[] = [];

export function Traces(props: { projectId: string; search: URLSearchParams; role: string }) {
  const view = viewFromUrl(props.search);
  // A URL without columns shows the columns this browser last chose; the next change of the
  // view, and a saved view, writes them into the URL.
  if (!props.search.has("cols")) view.columns = rememberedColumns(TRACE_TABLE_COLUMNS, "traces") ?? view.columns;
  const key = props.search.toString();
  const [live, setLive] = useState(true);
  const [cursor, setCursor] = useState(0);
  const [showFilters, setShowFilters] = useState(activeFilterCount(view) > 0);
  const searchInput = useRef<HTMLInputElement>(null);
  const base = projectBase(props.projectId);
  const traces = useLoad(
    (signal) => api.get<Paged<TraceRow>>(`${projectPath(props.projectId, "/traces")}?${viewToQuery(view, Date.now())}`, signal),
    [props.projectId, key],
  );
  const rows = traces.data?.data ?? [];
  const selection = useSelection(rows.map((row) => row.id), key);
  useLiveRefresh(traces, 5000, live && view.page === 1 && selection.selected.length === 0);
  lastTraceIds = rows.map((row) => row.id);
  const update = (change: Partial<TraceView>, keepPage = false) => {
    const next = { ...view, ...change };
    if (!keepPage) next.page = 1;
    const query = viewToUrl(next).toString();
    navigate(`${base}/traces${query ? `?${query}` : ""}`, true);
  };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
      if (event.key === "/" && !typing) {
        event.preventDefault();
        searchInput.current?.focus();
      } else if (!typing && (event.key === "j" || event.key === "k")) {
        setCursor((current) => Math.min(Math.max(current + (event.key === "j" ? 1 : -1), 0), Math.max(rows.length - 1, 0)));
      } else if (!typing && event.key === "x" && rows[cursor]) {
        selection.toggle(cursor, event.shiftKey);
      } else if (!typing && event.key === "Enter" && rows[cursor]) {
        navigate(`${base}/traces/${encodeURIComponent(rows[cursor].id)}`);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [rows, cursor, base, selection.selected]);
  const meta = traces.data?.meta;
  const noFilters = activeFilterCount(view) === 0 && view.search === "";
  const columns = tableColumns(view.columns);
  const sort = parseSort(view.sort, TRACE_TABLE_COLUMNS, { column: "timestamp", direction: "desc" });
  const cell = (row: TraceRow, column: string): ComponentChildren => {
    const href = `${base}/traces/${encodeURIComponent(row.id)}`;
    switch (column) {
      case "time":
        return <Link href={href}>{time(row.timestamp)}</Link>;
      case "name":
        return <Link href={href}>{row.name ?? row.id}</Link>;
      case "id":
        return <CopyId value={row.id} />;
      case "user":
        return row.userId ? (
          <button type="button" class="link" onClick={() => update({ userId: row.userId ?? "" })}>
            {row.userId}
          </button>
        ) : (
          "–"
        );
      case "session":
        return row.sessionId ? <Link href={`${base}/sessions/${encodeURIComponent(row.sessionId)}`}>{row.sessionId}</Link> : "–";
      case "tags":
        return row.tags.map((tag) => (
          <button key={tag} type="button" class="tag" onClick={() => update({ tags: [...new Set([...view.tags, tag])] })}>
            {tag}
          </button>
        ));
      case "environment":
        return row.environment;
      case "release":
        return row.release ?? "–";
      case "version":
        return row.version ?? "–";
      case "level":
        return <span class={`badge level ${row.level.toLowerCase()}`}>{row.level.toLowerCase()}</span>;
      case "input":
        return <span class="preview">{row.inputPreview ?? ""}</span>;
      case "output":
        return <span class="preview">{row.outputPreview ?? ""}</span>;
      case "latency":
        return latency(row.latency);
      case "tokens":
        return `${count(row.tokens.input)} / ${count(row.tokens.output)}`;
      case "cost":
        return cost(row.totalCost);
      case "scores":
        return <ScoreChips scores={row.scores} />;
      case "comments":
        return row.comments > 0 ? (
          <span title={`${row.comments} comments`} aria-label={`${row.comments} comments`}>
            💬 {row.comments}
          </span>
        ) : (
          ""
        );
      default:
        return null;
    }
  };
  const cellClass: Record<string, string> = { time: "nowrap", latency: "num", tokens: "num", cost: "num", comments: "num comment-count" };
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Traces</h1>
        <form
          class="search"
          onSubmit={(event) => {
            event.preventDefault();
            update({ search: searchInput.current?.value ?? "" });
          }}
        >
          <input ref={searchInput} type="search" name="search" placeholder="Search input, output and metadata  ( / )" defaultValue={view.search} key={view.search} aria-label="Search" />
        </form>
        <button type="button" onClick={() => setShowFilters(!showFilters)} aria-expanded={showFilters}>
          Filters{activeFilterCount(view) > 0 ? ` (${activeFilterCount(view)})` : ""}
        </button>
        <select aria-label="Time range" value={view.range} onChange={(e) => update({ range: e.currentTarget.value })}>
          <option value="all">All time</option>
          {Object.keys(RANGES).map((range) => (
            <option key={range} value={range}>
              Last {range}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
        <label class="check">
          <input type="checkbox" checked={view.errorsOnly} onChange={(e) => update({ errorsOnly: e.currentTarget.checked })} /> Errors only
        </label>
        <select aria-label="Comments" value={view.comments} onChange={(e) => update({ comments: e.currentTarget.value })}>
          <option value="">with or without comments</option>
          <option value="with">with comments</option>
          <option value="without">without comments</option>
        </select>
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live
        </label>
        <ColumnPicker
          columns={TRACE_TABLE_COLUMNS}
          shown={columns}
          onChange={(shown) => {
            rememberColumns("traces", shown);
            update({ columns: shown }, true);
          }}
        />
        <SavedViews projectId={props.projectId} query={viewToUrl(view).toString()} onOpen={(query) => navigate(`${base}/traces${query ? `?${query}` : ""}`)} />
        {!noFilters ? (
          <button type="button" class="ghost" onClick={() => update({ ...emptyView(), columns: view.columns, limit: view.limit })}>
            Reset
          </button>
        ) : null}
      </div>
      {showFilters ? (
        <>
          <FilterBuilder projectId={props.projectId} columns={TRACE_COLUMNS} conditions={view.conditions} onChange={(conditions) => update({ conditions })} />
          <FilterBar projectId={props.projectId} view={view} onChange={update} />
        </>
      ) : null}
      {selection.selected.length > 0 ? (
        <BulkActions projectId={props.projectId} role={props.role} selected={selectedOf(rows, selection, () => void traces.reload())} />
      ) : null}
      {traces.error ? <p class="error-box" role="alert">{traces.error}</p> : null}
      {meta && meta.totalItems === 0 && noFilters ? (
        <EmptyState projectId={props.projectId} />
      ) : (
        <div class="table-wrap">
          {rows.length > 0 ? <LoadingStatus loading={traces.loading} hasRows /> : null}
          <table class={`data${traces.loading ? " stale" : ""}`} aria-busy={traces.loading}>
            <SelectableHead selection={selection} label="Select all traces on this page" columns={TRACE_TABLE_COLUMNS} shown={columns} sort={sort} onSort={(column) => update({ sort: nextSort(sort, column) })} />
            <tbody>
              {rows.map((row, index) => (
                <tr
                  key={row.id}
                  class={`${index === cursor ? "cursor" : ""} level-${row.level.toLowerCase()}${selection.has(row.id) ? " selected" : ""}`}
                  data-trace-id={row.id}
                >
                  <SelectCell selection={selection} index={index} id={row.id} label={`Select trace ${row.name ?? row.id}`} />
                  <ShownCells shown={columns} row={row} cell={cell} classes={cellClass} />
                </tr>
              ))}
            </tbody>
          </table>
          {traces.loading && rows.length === 0 ? <p class="muted pad">Loading…</p> : null}
          {!traces.loading && rows.length === 0 && !traces.error ? <p class="muted pad">No trace matches these filters.</p> : null}
        </div>
      )}
      {meta && meta.totalItems > 0 ? (
        <Pager
          page={view.page}
          pages={Math.max(meta.totalPages, 1)}
          onPage={(page) => update({ page }, true)}
          total={total(meta, "traces")}
          estimated={meta.totalIsEstimate}
        >
          <PageSize value={view.limit} onChange={(limit) => update({ limit })} />
          <span class="muted small">j / k to move, x to select, Enter to open, / to search</span>
        </Pager>
      ) : null}
    </div>
  );
}

function FilterBar(props: { projectId: string; view: TraceView; onChange: (change: Partial<TraceView>) => void }) {
  const { view, onChange } = props;
  const scoreNames = useSuggestions(props.projectId, "scoreName", "");
  return (
    <div class="filters card" aria-label="Filters">
      <datalist id="score-names">
        {scoreNames.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <FilterField label="Name" value={view.name} onCommit={(name) => onChange({ name })} />
      <FilterField label="User" value={view.userId} onCommit={(userId) => onChange({ userId })} />
      <FilterField label="Session" value={view.sessionId} onCommit={(sessionId) => onChange({ sessionId })} />
      <label>
        Tags
        <input
          name="Tags"
          defaultValue={view.tags.join(", ")}
          key={view.tags.join(",")}
          placeholder="a, b"
          onChange={(event) =>
            onChange({
              tags: event.currentTarget.value
                .split(",")
                .map((tag) => tag.trim())
                .filter(Boolean),
            })
          }
        />
      </label>
      <label>
        Tags match
        <select value={view.tagsMode} onChange={(e) => onChange({ tagsMode: e.currentTarget.value === "any" ? "any" : "all" })}>
          <option value="all">all</option>
          <option value="any">any</option>
        </select>
      </label>
      <FilterField label="Environment" value={view.environment} onCommit={(environment) => onChange({ environment })} />
      <FilterField label="Release" value={view.release} onCommit={(release) => onChange({ release })} />
      <FilterField label="Version" value={view.version} onCommit={(version) => onChange({ version })} />
      <label>
        Level
        <select value={view.level} onChange={(e) => onChange({ level: e.currentTarget.value })}>
          <LevelOptions />
        </select>
      </label>
      <FilterField label="Score name" value={view.scoreName} list="score-names" onCommit={(scoreName) => onChange({ scoreName })} />
      <FilterField label="Score ≥" value={view.scoreMin} type="number" onCommit={(scoreMin) => onChange({ scoreMin })} />
      <FilterField label="Score ≤" value={view.scoreMax} type="number" onCommit={(scoreMax) => onChange({ scoreMax })} />
      <FilterField label="Metadata key" value={view.metaKey} onCommit={(metaKey) => onChange({ metaKey })} />
      <FilterField label="Metadata value" value={view.metaValue} onCommit={(metaValue) => onChange({ metaValue })} />
      <FilterField label="Latency ≥ s" value={view.latencyMin} type="number" onCommit={(latencyMin) => onChange({ latencyMin })} />
      <FilterField label="Latency ≤ s" value={view.latencyMax} type="number" onCommit={(latencyMax) => onChange({ latencyMax })} />
      <FilterField label="Cost ≥ $" value={view.costMin} type="number" onCommit={(costMin) => onChange({ costMin })} />
      <FilterField label="Cost ≤ $" value={view.costMax} type="number" onCommit={(costMax) => onChange({ costMax })} />
      <FilterField label="Prompt" value={view.promptName} onCommit={(promptName) => onChange({ promptName })} />
      <FilterField label="Prompt version" value={view.promptVersion} type="number" onCommit={(promptVersion) => onChange({ promptVersion })} />
      {view.range === "custom" ? (
        <>
          <FilterField label="From" value={view.from} type="datetime-local" onCommit={(from) => onChange({ from })} />
          <FilterField label="To" value={view.to} type="datetime-local" onCommit={(to) => onChange({ to })} />
        </>
      ) : null}
    </div>
  );
}

interface SavedView {
  id: string;
  name: string;
  query: string;
}

function SavedViews(props: { projectId: string; query: string; onOpen: (query: string) => void }) {
  const views = useLoad((signal) => api.get<{ data: SavedView[] }>(`${projectPath(props.projectId, "/views")}?page=traces`, signal), [props.projectId]);
  return (
    <span class="views">
      <select
        aria-label="Saved views"
        value=""
        onChange={(event) => {
          const chosen = views.data?.data.find((view) => view.id === event.currentTarget.value);
          if (chosen) props.onOpen(chosen.query);
        }}
      >
        <option value="">Saved views…</option>
        {(views.data?.data ?? []).map((view) => (
          <option key={view.id} value={view.id}>
            {view.name}
          </option>
        ))}
      </select>
      <button
        type="button"
        class="ghost"
        onClick={() => {
          const name = prompt("Name of this view");
          if (!name) return;
          api.post(projectPath(props.projectId, "/views"), { page: "traces", name, query: props.query }).then(() => views.reload(true));
        }}
      >
        Save view
      </button>
    </span>
  );
}
