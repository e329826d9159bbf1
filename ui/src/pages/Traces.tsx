// The traces table: filters and search kept in the URL, sortable columns, paging, saved
// views, live refresh, and j/k to move through rows.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, projectPath, type Paged, type TraceRow } from "../api";
import { cost, count, latency, time } from "../format";
import { activeFilterCount, emptyView, RANGES, viewFromUrl, viewToQuery, viewToUrl, type TraceView } from "../filters";
import { useLiveRefresh, useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { FilterField, LevelOptions, LoadingStatus, Pager, projectBase, ScoreChips } from "../components/Table";
import { EmptyState } from "./Empty";

/** The ids of the last list shown, so the trace page can step to the next and previous. */
export let lastTraceIds: string[] = [];

const COLUMNS: [string, string | null][] = [
  ["Time", "timestamp"],
  ["Name", "name"],
  ["User", "userId"],
  ["Session", "sessionId"],
  ["Tags", null],
  ["Level", null],
  ["Latency", "latency"],
  ["Tokens in / out", null],
  ["Cost", "totalCost"],
  ["Scores", null],
  ["Comments", null],
];

const PAGE_SIZE = 50;

export function Traces(props: { projectId: string; search: URLSearchParams }) {
  const view = viewFromUrl(props.search);
  const key = props.search.toString();
  const [live, setLive] = useState(true);
  const [cursor, setCursor] = useState(0);
  const [showFilters, setShowFilters] = useState(activeFilterCount(view) > 0);
  const searchInput = useRef<HTMLInputElement>(null);
  const base = projectBase(props.projectId);
  const traces = useLoad(
    (signal) => api.get<Paged<TraceRow>>(`${projectPath(props.projectId, "/traces")}?${viewToQuery(view, Date.now(), PAGE_SIZE)}`, signal),
    [props.projectId, key],
  );
  useLiveRefresh(traces, 5000, live && view.page === 1);
  const rows = traces.data?.data ?? [];
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
      } else if (!typing && event.key === "Enter" && rows[cursor]) {
        navigate(`${base}/traces/${encodeURIComponent(rows[cursor].id)}`);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [rows, cursor, base]);
  const meta = traces.data?.meta;
  const noFilters = key === "" || key === "page=1";
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
          <input ref={searchInput} type="search" name="search" placeholder="Search input and output  ( / )" defaultValue={view.search} key={view.search} aria-label="Search" />
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
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live
        </label>
        <SavedViews projectId={props.projectId} query={key} onOpen={(query) => navigate(`${base}/traces${query ? `?${query}` : ""}`)} />
        {!noFilters ? (
          <button type="button" class="ghost" onClick={() => update(emptyView())}>
            Reset
          </button>
        ) : null}
      </div>
      {showFilters ? <FilterBar view={view} onChange={update} /> : null}
      {traces.error ? <p class="error-box" role="alert">{traces.error}</p> : null}
      {meta && meta.totalItems === 0 && noFilters ? (
        <EmptyState projectId={props.projectId} />
      ) : (
        <div class="table-wrap">
          {rows.length > 0 ? <LoadingStatus loading={traces.loading} hasRows /> : null}
          <table class={`data${traces.loading ? " stale" : ""}`} aria-busy={traces.loading}>
            <thead>
              <tr>
                {COLUMNS.map(([label, column]) => {
                  const [sortColumn, direction] = view.sort.split(".");
                  const active = column !== null && sortColumn === column;
                  return (
                    <th key={label} aria-sort={active ? (direction === "asc" ? "ascending" : "descending") : undefined}>
                      {column ? (
                        <button
                          type="button"
                          class="sort"
                          onClick={() => update({ sort: `${column}.${active && direction === "desc" ? "asc" : "desc"}` })}
                        >
                          {label}
                          {active ? (direction === "asc" ? " ↑" : " ↓") : ""}
                        </button>
                      ) : (
                        label
                      )}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                <tr key={row.id} class={`${index === cursor ? "cursor" : ""} level-${row.level.toLowerCase()}`} data-trace-id={row.id}>
                  <td class="nowrap">
                    <Link href={`${base}/traces/${encodeURIComponent(row.id)}`}>{time(row.timestamp)}</Link>
                  </td>
                  <td>
                    <Link href={`${base}/traces/${encodeURIComponent(row.id)}`}>{row.name ?? row.id}</Link>
                  </td>
                  <td>{row.userId ? <button type="button" class="link" onClick={() => update({ userId: row.userId ?? "" })}>{row.userId}</button> : "–"}</td>
                  <td>{row.sessionId ? <Link href={`${base}/sessions/${encodeURIComponent(row.sessionId)}`}>{row.sessionId}</Link> : "–"}</td>
                  <td>
                    {row.tags.map((tag) => (
                      <button key={tag} type="button" class="tag" onClick={() => update({ tags: [...new Set([...view.tags, tag])] })}>
                        {tag}
                      </button>
                    ))}
                  </td>
                  <td>
                    <span class={`badge level ${row.level.toLowerCase()}`}>{row.level.toLowerCase()}</span>
                  </td>
                  <td class="num">{latency(row.latency)}</td>
                  <td class="num">
                    {count(row.tokens.input)} / {count(row.tokens.output)}
                  </td>
                  <td class="num">{cost(row.totalCost)}</td>
                  <td>
                    <ScoreChips scores={row.scores} />
                  </td>
                  <td class="num comment-count">
                    {row.comments > 0 ? <span title={`${row.comments} comments`} aria-label={`${row.comments} comments`}>💬 {row.comments}</span> : ""}
                  </td>
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
          total={`${meta.totalItems.toLocaleString("en-US")} traces`}
        >
          <span class="muted small">j / k to move, Enter to open, / to search</span>
        </Pager>
      ) : null}
    </div>
  );
}

function FilterBar(props: { view: TraceView; onChange: (change: Partial<TraceView>) => void }) {
  const { view, onChange } = props;
  return (
    <div class="filters card" aria-label="Filters">
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
      <FilterField label="Score name" value={view.scoreName} onCommit={(scoreName) => onChange({ scoreName })} />
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
