// The scores table: name, the filter builder's conditions, the sort, the shown columns, page
// and page size kept in the URL; selected scores are exported or deleted.

import type { ComponentChildren } from "preact";
import { api, projectPath, type Paged, type Score } from "../api";
import { conditionsFromUrl, changedSearch, pageSizeFromUrl, SCORE_COLUMNS, toServerConditions, type BuilderCondition } from "../conditions";
import { scoreValue, time } from "../format";
import { useLoad } from "../hooks";
import { navigate } from "../router";
import { CopyId } from "../components/Copy";
import { FilterBuilder, PageSize } from "../components/FilterBuilder";
import { LoadingStatus, Pager, projectBase, traceHref } from "../components/Table";
import { afterDelete, BulkBar, countOf, DeleteSelected, ExportButtons, selectedOf, type Selected, SelectableHead, SelectCell, ShownCells, useBulkAction, usePickedColumns, useSelection } from "../components/Selection";
import { nextSort, sortFromUrl, type Sort, type TableColumn } from "../tables";

/** The scores table's columns; `sort` names the server's sort column. */
export const SCORE_TABLE_COLUMNS: TableColumn[] = [
  { id: "time", label: "Time", sort: "timestamp" },
  { id: "id", label: "Score id", shown: false },
  { id: "name", label: "Name", sort: "name" },
  { id: "value", label: "Value", sort: "value" },
  { id: "dataType", label: "Data type", shown: false },
  { id: "source", label: "Source" },
  { id: "trace", label: "Trace" },
  { id: "observation", label: "Observation", shown: false },
  { id: "comment", label: "Comment" },
];

const DEFAULT_SCORE_SORT: Sort = { column: "timestamp", direction: "desc" };

const SCORE_CELL_CLASSES: Record<string, string> = { time: "nowrap", value: "num" };

const SCORE_CSV_COLUMNS = ["id", "timestamp", "name", "value", "stringValue", "dataType", "source", "traceId", "observationId", "comment"];

/** Viewers read only; the other roles may delete scores (the server checks too). */
export function mayDeleteScores(role: string): boolean {
  return role !== "viewer";
}

function ScoreBulk(props: { projectId: string; role: string; selected: Selected<Score> }) {
  const { rows, selection } = props.selected;
  const action = useBulkAction();
  const what = countOf(rows.length, "score");
  return (
    <BulkBar label="Selected scores" what={what} action={action} onClear={selection.clear}>
      <ExportButtons action={action} file="scores" what={what} csvColumns={SCORE_CSV_COLUMNS} rows={async () => rows as unknown as Record<string, unknown>[]} />
      {mayDeleteScores(props.role) ? (
        <DeleteSelected
          action={action}
          what={what}
          question={`Delete ${what}? This cannot be undone.`}
          remove={() => api.post(projectPath(props.projectId, "/scores/delete"), { scoreIds: rows.map((row) => row.id) })}
          onDeleted={afterDelete(props.selected)}
        />
      ) : null}
    </BulkBar>
  );
}

/** The server query of the scores page's URL. */
export function scoreQuery(search: URLSearchParams): URLSearchParams {
  const query = new URLSearchParams();
  const name = search.get("name")?.trim();
  if (name) query.set("name", name);
  const conditions = toServerConditions(conditionsFromUrl(search, SCORE_COLUMNS), SCORE_COLUMNS);
  if (conditions.length > 0) query.set("filter", JSON.stringify(conditions));
  const { orderBy } = sortFromUrl(search, SCORE_TABLE_COLUMNS, DEFAULT_SCORE_SORT);
  if (orderBy) query.set("orderBy", orderBy);
  query.set("page", String(Math.max(Number.parseInt(search.get("page") ?? "1", 10) || 1, 1)));
  query.set("limit", String(pageSizeFromUrl(search)));
  return query;
}

export function Scores(props: { projectId: string; search: URLSearchParams; role: string }) {
  const base = projectBase(props.projectId);
  const key = props.search.toString();
  const scores = useLoad((signal) => api.get<Paged<Score>>(`${projectPath(props.projectId, "/scores")}?${scoreQuery(props.search)}`, signal), [props.projectId, key]);
  const update = (change: Record<string, string>, conditions?: BuilderCondition[]) => {
    const text = changedSearch(props.search, change, conditions);
    navigate(`${base}/scores${text ? `?${text}` : ""}`, true);
  };
  const rows = scores.data?.data ?? [];
  const meta = scores.data?.meta;
  const page = Math.max(Number.parseInt(props.search.get("page") ?? "1", 10) || 1, 1);
  const { shown, picker } = usePickedColumns(SCORE_TABLE_COLUMNS, "scores");
  const { sort } = sortFromUrl(props.search, SCORE_TABLE_COLUMNS, DEFAULT_SCORE_SORT);
  const selection = useSelection(rows.map((row) => row.id), key);
  const cell = (score: Score, column: string): ComponentChildren => {
    switch (column) {
      case "time":
        return time(score.timestamp);
      case "id":
        return <CopyId value={score.id} />;
      case "name":
        return score.name;
      case "value":
        return scoreValue(score);
      case "dataType":
        return score.dataType.toLowerCase();
      case "source":
        return score.source.toLowerCase();
      case "trace":
        return score.traceId ? <CopyId value={score.traceId} href={traceHref(props.projectId, score.traceId, score.observationId)} /> : "–";
      case "observation":
        return score.traceId && score.observationId ? <CopyId value={score.observationId} href={traceHref(props.projectId, score.traceId, score.observationId)} /> : "–";
      case "comment":
        return score.comment ?? "";
      default:
        return null;
    }
  };
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Scores</h1>
        <input
          type="search"
          placeholder="Score name"
          aria-label="Score name"
          defaultValue={props.search.get("name") ?? ""}
          key={props.search.get("name") ?? ""}
          onChange={(event) => update({ name: event.currentTarget.value.trim() })}
        />
        {picker}
        <span class="muted small">Add scores from a trace page.</span>
      </div>
      <FilterBuilder
        projectId={props.projectId}
        columns={SCORE_COLUMNS}
        conditions={conditionsFromUrl(props.search, SCORE_COLUMNS)}
        onChange={(conditions) => update({}, conditions)}
      />
      {selection.selected.length > 0 ? (
        <ScoreBulk projectId={props.projectId} role={props.role} selected={selectedOf(rows, selection, () => void scores.reload())} />
      ) : null}
      {scores.error ? <p class="error-box">{scores.error}</p> : null}
      <LoadingStatus loading={scores.loading} hasRows={rows.length > 0} />
      <table class={`data${scores.loading ? " stale" : ""}`} aria-busy={scores.loading}>
        <SelectableHead selection={selection} label="Select all scores on this page" columns={SCORE_TABLE_COLUMNS} shown={shown} sort={sort} onSort={(column) => update({ sort: nextSort(sort, column) })} />
        <tbody>
          {rows.map((score, index) => (
            <tr key={score.id} data-score-id={score.id} class={selection.has(score.id) ? "selected" : undefined}>
              <SelectCell selection={selection} index={index} id={score.id} label={`Select score ${score.name}`} />
              <ShownCells shown={shown} row={score} cell={cell} classes={SCORE_CELL_CLASSES} />
            </tr>
          ))}
        </tbody>
      </table>
      {!scores.loading && meta && meta.totalItems === 0 ? <p class="muted pad">No scores.</p> : null}
      {meta && meta.totalItems > 0 ? (
        <Pager page={page} pages={Math.max(meta.totalPages, 1)} onPage={(next) => update({ page: String(next) })} total={`${meta.totalItems.toLocaleString("en-US")} scores`}>
          <PageSize value={pageSizeFromUrl(props.search)} onChange={(limit) => update({ limit: limit === 50 ? "" : String(limit) })} />
        </Pager>
      ) : null}
    </div>
  );
}
