// The observations table, generations first: model, tokens, cost and latency, with filters,
// the filter builder's conditions, the sort, the shown columns and the page size kept in the
// URL; selected rows are exported or added to a dataset.

import type { ComponentChildren } from "preact";
import { api, projectPath, type Observation, type Paged } from "../api";
import { cost, count, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { TypeBadge } from "../components/Tree";
import { CopyId } from "../components/Copy";
import { RANGES } from "../filters";
import { conditionsFromUrl, changedSearch, OBSERVATION_COLUMNS, pageSizeFromUrl, toServerConditions, type BuilderCondition, type ServerCondition } from "../conditions";
import { FilterBuilder, PageSize, useSuggestions } from "../components/FilterBuilder";
import { FilterField, LevelOptions, LoadingStatus, Pager, projectBase, traceHref } from "../components/Table";
import { BulkBar, countOf, ExportButtons, SelectableHead, SelectCell, ShownCells, useBulkAction, usePickedColumns, useSelection } from "../components/Selection";
import { nextSort, sortFromUrl, type Sort, type TableColumn } from "../tables";
import { AddItemsToDataset } from "./TraceBulk";

/** The observations table's columns; `sort` names the server's sort column. */
export const OBSERVATION_TABLE_COLUMNS: TableColumn[] = [
  { id: "start", label: "Start", sort: "startTime" },
  { id: "id", label: "Observation id", shown: false },
  { id: "type", label: "Type" },
  { id: "name", label: "Name", sort: "name" },
  { id: "trace", label: "Trace id", shown: false },
  { id: "model", label: "Model", sort: "model" },
  { id: "tokens", label: "Tokens in / out", sort: "totalTokens" },
  { id: "inputTokens", label: "Input tokens", shown: false, sort: "inputTokens" },
  { id: "outputTokens", label: "Output tokens", shown: false, sort: "outputTokens" },
  { id: "cost", label: "Cost", sort: "totalCost" },
  { id: "latency", label: "Latency", sort: "latency" },
  { id: "level", label: "Level" },
  { id: "environment", label: "Environment", shown: false },
  { id: "version", label: "Version", shown: false },
  { id: "prompt", label: "Prompt", shown: false },
];

const DEFAULT_OBSERVATION_SORT: Sort = { column: "startTime", direction: "desc" };

const OBSERVATION_CSV_COLUMNS = ["id", "traceId", "parentObservationId", "type", "name", "startTime", "endTime", "model", "usageDetails", "costDetails", "totalCost", "latency", "level", "environment", "version", "promptName", "input", "output", "metadata"];

const TYPES = ["GENERATION", "SPAN", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EMBEDDING", "EVALUATOR", "GUARDRAIL"];

/** The server query of the observations page's URL (type defaults to generations); `now`
 * (ms) anchors relative time ranges. */
export function observationQuery(search: URLSearchParams, now = Date.now()): URLSearchParams {
  const query = new URLSearchParams();
  const type = search.get("type") ?? "GENERATION";
  if (type !== "ALL") query.set("type", type);
  for (const key of ["name", "userId", "sessionId", "environment", "version", "level"]) {
    const value = search.get(key)?.trim();
    if (value) query.set(key, value);
  }
  const conditions: ServerCondition[] = [];
  const model = search.get("model")?.trim();
  if (model) conditions.push({ type: "string", column: "model", operator: "=", value: model });
  const metaKey = search.get("metaKey")?.trim();
  const metaValue = search.get("metaValue") ?? "";
  if (metaKey && metaValue !== "") {
    conditions.push({ type: "stringObject", column: "metadata", operator: "=", key: metaKey, value: metaValue });
  }
  const ranges: [string, string, string][] = [
    ["latency", "latencyMin", ">="],
    ["latency", "latencyMax", "<="],
    ["totalCost", "costMin", ">="],
    ["totalCost", "costMax", "<="],
  ];
  for (const [column, key, operator] of ranges) {
    const text = search.get(key)?.trim() ?? "";
    const value = text === "" ? NaN : Number(text);
    if (Number.isFinite(value)) conditions.push({ type: "number", column, operator, value });
  }
  conditions.push(...toServerConditions(conditionsFromUrl(search, OBSERVATION_COLUMNS), OBSERVATION_COLUMNS));
  if (conditions.length > 0) query.set("filter", JSON.stringify(conditions));
  const range = search.get("range") ?? "all";
  if (range === "custom") {
    const from = search.get("from");
    const to = search.get("to");
    if (from) query.set("fromStartTime", new Date(from).toISOString());
    if (to) query.set("toStartTime", new Date(to).toISOString());
  } else if (range in RANGES) {
    query.set("fromStartTime", new Date(now - RANGES[range]).toISOString());
  }
  const { orderBy } = sortFromUrl(search, OBSERVATION_TABLE_COLUMNS, DEFAULT_OBSERVATION_SORT);
  if (orderBy) query.set("orderBy", orderBy);
  query.set("page", search.get("page") ?? "1");
  query.set("limit", String(pageSizeFromUrl(search)));
  return query;
}

/** Each selected observation in full (input, output, metadata). */
function observationDetails(projectId: string, ids: string[]): Promise<Observation[]> {
  return Promise.all(ids.map((id) => api.get<Observation>(projectPath(projectId, `/observations/${encodeURIComponent(id)}`))));
}

function ObservationBulk(props: { projectId: string; ids: string[]; onClear: () => void }) {
  const { projectId, ids } = props;
  const action = useBulkAction();
  const what = countOf(ids.length, "observation");
  return (
    <BulkBar label="Selected observations" what={what} action={action} onClear={props.onClear}>
      <AddItemsToDataset
        projectId={projectId}
        label="Dataset for the selected observations"
        what={what}
        action={action}
        items={async () =>
          (await observationDetails(projectId, ids))
            .filter((observation) => observation.traceId)
            .map((observation) => ({
              input: observation.input ?? null,
              expectedOutput: observation.output ?? null,
              sourceTraceId: observation.traceId as string,
              sourceObservationId: observation.id,
            }))
        }
      />
      <ExportButtons
        action={action}
        file="observations"
        what={what}
        csvColumns={OBSERVATION_CSV_COLUMNS}
        rows={async () => (await observationDetails(projectId, ids)) as unknown as Record<string, unknown>[]}
      />
    </BulkBar>
  );
}

export function Observations(props: { projectId: string; search: URLSearchParams }) {
  const base = projectBase(props.projectId);
  const key = props.search.toString();
  const observations = useLoad(
    (signal) => api.get<Paged<Observation>>(`${projectPath(props.projectId, "/observations")}?${observationQuery(props.search)}`, signal),
    [props.projectId, key],
  );
  const update = (change: Record<string, string>, conditions?: BuilderCondition[]) => {
    const text = changedSearch(props.search, change, conditions);
    navigate(`${base}/observations${text ? `?${text}` : ""}`, true);
  };
  const models = useSuggestions(props.projectId, "model", "");
  const page = Number(props.search.get("page") ?? "1") || 1;
  const meta = observations.data?.meta;
  const rows = observations.data?.data ?? [];
  const { shown, picker } = usePickedColumns(OBSERVATION_TABLE_COLUMNS, "observations");
  const { sort } = sortFromUrl(props.search, OBSERVATION_TABLE_COLUMNS, DEFAULT_OBSERVATION_SORT);
  const selection = useSelection(rows.map((row) => row.id), key);
  const cell = (o: Observation, column: string): ComponentChildren => {
    switch (column) {
      case "start":
        return time(o.startTime);
      case "id":
        return <CopyId value={o.id} />;
      case "type":
        return <TypeBadge type={o.type} />;
      case "name":
        return o.traceId ? <Link href={traceHref(props.projectId, o.traceId, o.id)}>{o.name ?? o.id}</Link> : (o.name ?? o.id);
      case "trace":
        return o.traceId ? <CopyId value={o.traceId} href={traceHref(props.projectId, o.traceId)} /> : "–";
      case "model":
        return o.model ?? "–";
      case "tokens":
        return `${count(o.usageDetails?.input)} / ${count(o.usageDetails?.output)}`;
      case "inputTokens":
        return count(o.usageDetails?.input);
      case "outputTokens":
        return count(o.usageDetails?.output);
      case "cost":
        return cost(o.totalCost);
      case "latency":
        return latency(o.latency);
      case "level":
        return <span class={`badge level ${o.level.toLowerCase()}`}>{o.level.toLowerCase()}</span>;
      case "environment":
        return o.environment;
      case "version":
        return o.version ?? "–";
      case "prompt":
        return o.promptName ?? "–";
      default:
        return null;
    }
  };
  const cellClass: Record<string, string> = { start: "nowrap", tokens: "num", inputTokens: "num", outputTokens: "num", cost: "num", latency: "num" };
  const field = (name: string, label: string, type = "text", list?: string) => (
    <FilterField label={label} type={type} ariaLabel list={list} value={props.search.get(name) ?? ""} onCommit={(value) => update({ [name]: value.trim() })} />
  );
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Observations</h1>
        <select aria-label="Type" value={props.search.get("type") ?? "GENERATION"} onChange={(e) => update({ type: e.currentTarget.value === "GENERATION" ? "" : e.currentTarget.value })}>
          <option value="ALL">all types</option>
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {type.toLowerCase()}
            </option>
          ))}
        </select>
        <select aria-label="Time range" value={props.search.get("range") ?? "all"} onChange={(e) => update({ range: e.currentTarget.value === "all" ? "" : e.currentTarget.value })}>
          <option value="all">all time</option>
          {Object.keys(RANGES).map((range) => (
            <option key={range} value={range}>
              last {range}
            </option>
          ))}
          <option value="custom">custom…</option>
        </select>
        {picker}
      </div>
      <FilterBuilder
        projectId={props.projectId}
        columns={OBSERVATION_COLUMNS}
        conditions={conditionsFromUrl(props.search, OBSERVATION_COLUMNS)}
        onChange={(conditions) => update({}, conditions)}
      />
      <datalist id="observation-models">
        {models.map((model) => (
          <option key={model} value={model} />
        ))}
      </datalist>
      <div class="filters card" aria-label="Filters">
        {field("name", "Name")}
        {field("model", "Model", "text", "observation-models")}
        {field("userId", "User")}
        {field("sessionId", "Session")}
        {field("environment", "Environment")}
        {field("version", "Version")}
        <label>
          Level
          <select aria-label="Level" value={props.search.get("level") ?? ""} onChange={(e) => update({ level: e.currentTarget.value })}>
            <LevelOptions />
          </select>
        </label>
        {field("metaKey", "Metadata key")}
        {field("metaValue", "Metadata value")}
        {field("latencyMin", "Latency ≥ s", "number")}
        {field("latencyMax", "Latency ≤ s", "number")}
        {field("costMin", "Cost ≥ $", "number")}
        {field("costMax", "Cost ≤ $", "number")}
        {props.search.get("range") === "custom" ? (
          <>
            {field("from", "From", "datetime-local")}
            {field("to", "To", "datetime-local")}
          </>
        ) : null}
      </div>
      {selection.selected.length > 0 ? <ObservationBulk projectId={props.projectId} ids={selection.selected} onClear={selection.clear} /> : null}
      {observations.error ? <p class="error-box">{observations.error}</p> : null}
      <div class="table-wrap">
        {rows.length > 0 ? <LoadingStatus loading={observations.loading} hasRows /> : null}
        <table class={`data${observations.loading ? " stale" : ""}`} aria-busy={observations.loading}>
          <SelectableHead selection={selection} label="Select all observations on this page" columns={OBSERVATION_TABLE_COLUMNS} shown={shown} sort={sort} classes={cellClass} onSort={(column) => update({ sort: nextSort(sort, column) })} />
          <tbody>
            {rows.map((o, index) => (
              <tr key={o.id} data-observation-id={o.id} class={selection.has(o.id) ? "selected" : undefined}>
                <SelectCell selection={selection} index={index} id={o.id} label={`Select observation ${o.name ?? o.id}`} />
                <ShownCells shown={shown} row={o} cell={cell} classes={cellClass} />
              </tr>
            ))}
          </tbody>
        </table>
        {meta && meta.totalItems === 0 ? <p class="muted pad">No observation matches.</p> : null}
      </div>
      {meta && meta.totalItems > 0 ? (
        <Pager
          page={page}
          pages={Math.max(meta.totalPages, 1)}
          onPage={(next) => update({ page: String(next) })}
          total={`${meta.totalItems.toLocaleString("en-US")} observations`}
        >
          <PageSize value={pageSizeFromUrl(props.search)} onChange={(limit) => update({ limit: limit === 50 ? "" : String(limit) })} />
        </Pager>
      ) : null}
    </div>
  );
}
