// The observations table, generations first: model, tokens, cost and latency, with filters,
// the filter builder's conditions and the page size kept in the URL.

import { api, projectPath, type Observation, type Paged } from "../api";
import { cost, count, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { TypeBadge } from "../components/Tree";
import { RANGES } from "../filters";
import { conditionsFromUrl, changedSearch, OBSERVATION_COLUMNS, pageSizeFromUrl, toServerConditions, type BuilderCondition, type ServerCondition } from "../conditions";
import { FilterBuilder, PageSize, useSuggestions } from "../components/FilterBuilder";
import { FilterField, LevelOptions, Pager, projectBase, TableHead } from "../components/Table";

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
  query.set("page", search.get("page") ?? "1");
  query.set("limit", String(pageSizeFromUrl(search)));
  return query;
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
      {observations.error ? <p class="error-box">{observations.error}</p> : null}
      <div class="table-wrap">
        <table class="data">
          <TableHead columns={["Start", "Type", "Name", "Model", "Tokens in / out", "Cost", "Latency", "Level"]} />
          <tbody>
            {(observations.data?.data ?? []).map((o) => (
              <tr key={o.id}>
                <td class="nowrap">{time(o.startTime)}</td>
                <td>
                  <TypeBadge type={o.type} />
                </td>
                <td>
                  {o.traceId ? (
                    <Link href={`${base}/traces/${encodeURIComponent(o.traceId)}?observation=${encodeURIComponent(o.id)}`}>{o.name ?? o.id}</Link>
                  ) : (
                    (o.name ?? o.id)
                  )}
                </td>
                <td>{o.model ?? "–"}</td>
                <td class="num">
                  {count(o.usageDetails?.input)} / {count(o.usageDetails?.output)}
                </td>
                <td class="num">{cost(o.totalCost)}</td>
                <td class="num">{latency(o.latency)}</td>
                <td>
                  <span class={`badge level ${o.level.toLowerCase()}`}>{o.level.toLowerCase()}</span>
                </td>
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
