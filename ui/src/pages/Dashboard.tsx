// The dashboard: traces, generations (count, cost and tokens by model), errors, latency
// percentiles by trace name and by model, and scores, over a preset or custom time range with
// filters, all in the URL. The server answers every panel with the metrics query.

import { api, projectPath } from "../api";
import { cost, count, latency } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { Bars, EmptyChart, EmptyOrNote, HBars, StackedBars } from "../components/Charts";
import { SuggestInput } from "../components/FilterBuilder";
import { FilterField, LoadingStatus, projectBase, TableHead } from "../components/Table";
import { loadRolledMetadata, metadataFilterNote } from "../rolled-metadata";
import {
  activeDashboardFilters,
  bucketLabel,
  DASHBOARD_RANGES,
  dashboardQuery,
  dashboardViewFromUrl,
  dashboardViewToUrl,
  emptyFilters,
  modelName,
  stackByModel,
  type DashboardFilters,
  type DashboardView,
  type Granularity,
  type ModelBucket,
} from "../dashboard";

interface TimeCount {
  time: string;
  count: number;
}

interface Latency {
  key: string | null;
  count: number;
  errors: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

interface ScoreSummary {
  name: string;
  dataType: string;
  count: number;
  average: number | null;
  values: { value: string; count: number }[];
}

interface DashboardData {
  from: string;
  to: string;
  granularity: Granularity;
  traces: number;
  tracesOverTime: TimeCount[];
  errors: number;
  generationsOverTime: ModelBucket[];
  generationsByModel: ModelBucket[];
  latencyByTraceName: Latency[];
  latencyByModel: Latency[];
  scores: number;
  scoresOverTime: TimeCount[];
  scoresByName: ScoreSummary[];
  /** Why a panel is empty or cut short, by the field it fills (`errors` for the error count):
   * a request the server refused as too large or too long to answer. */
  notes: Record<string, string>;
}

const GRANULARITY_LABELS: Record<Granularity, string> = { hour: "hour", day: "day", week: "week" };

function LatencyTable(props: { title: string; rows: Latency[]; loading: boolean; blank: string; note?: string }) {
  return (
    <figure class="chart wide" data-testid={props.title}>
      <figcaption>{props.title}</figcaption>
      <table class="data compact latency">
        <TableHead columns={["", ...["count", "errors", "p50", "p90", "p95", "p99"].map((label): [string, string] => [label, "num"])]} />
        <tbody>
          {props.rows.slice(0, 12).map((row) => (
            <tr key={row.key ?? ""}>
              <td>{row.key || props.blank}</td>
              <td class="num">{count(row.count)}</td>
              <td class="num">{count(row.errors)}</td>
              <td class="num">{latency(row.p50)}</td>
              <td class="num">{latency(row.p90)}</td>
              <td class="num">{latency(row.p95)}</td>
              <td class="num">{latency(row.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.note ? <p class="muted">{props.note}</p> : props.rows.length === 0 ? <EmptyChart loading={props.loading} /> : null}
    </figure>
  );
}

function ScoreTable(props: { rows: ScoreSummary[]; loading: boolean; note?: string }) {
  return (
    <figure class="chart" data-testid="Scores by name">
      <figcaption>Scores by name</figcaption>
      <table class="data compact">
        <TableHead columns={["", "type", "count", "average", "values"]} />
        <tbody>
          {props.rows.slice(0, 30).map((row) => (
            <tr key={`${row.name}/${row.dataType}`}>
              <td>{row.name}</td>
              <td>{row.dataType.toLowerCase()}</td>
              <td class="num">{count(row.count)}</td>
              <td class="num">{row.average == null ? "–" : row.average.toFixed(3)}</td>
              <td>{row.values.map((value) => `${value.value}: ${value.count}`).join(" · ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.rows.length === 0 ? <EmptyOrNote loading={props.loading} note={props.note} /> : null}
    </figure>
  );
}

/** A stat card: "…" while its number loads, "–" without an answer (with the reason as its
 * title when the server gave one). */
function Stat(props: { label: string; value: string | null; loading: boolean; note?: string }) {
  const value = props.note ? null : props.value;
  return (
    <div class="card stat" data-testid={`stat-${props.label}`} title={props.note}>
      <span class="muted">{props.label}</span>
      <strong>{props.loading ? "…" : (value ?? "–")}</strong>
    </div>
  );
}

function Filters(props: { projectId: string; filters: DashboardFilters; onChange: (change: Partial<DashboardFilters>) => void }) {
  const { filters, onChange } = props;
  const field = (label: string, key: "name" | "userId" | "environment" | "release" | "model", suggest: string) => (
    <label>
      {label}
      <SuggestInput projectId={props.projectId} suggest={suggest} label={label} value={filters[key]} placeholder="any" onCommit={(value) => onChange({ [key]: value.trim() })} />
    </label>
  );
  return (
    <div class="filters-bar" role="group" aria-label="Dashboard filters">
      {field("Trace name", "name", "traceName")}
      {field("User", "userId", "userId")}
      <label>
        Tags
        <SuggestInput
          projectId={props.projectId}
          suggest="tags"
          label="Tag"
          value=""
          placeholder="add a tag"
          clearOnCommit
          onCommit={(tag) => {
            const trimmed = tag.trim();
            if (trimmed !== "" && !filters.tags.includes(trimmed)) onChange({ tags: [...filters.tags, trimmed] });
          }}
        />
      </label>
      {filters.tags.map((tag) => (
        <span class="chip" key={tag}>
          {tag}
          <button type="button" class="ghost" aria-label={`Remove tag ${tag}`} onClick={() => onChange({ tags: filters.tags.filter((other) => other !== tag) })}>
            ×
          </button>
        </span>
      ))}
      {field("Environment", "environment", "environment")}
      {field("Release", "release", "release")}
      {field("Model", "model", "model")}
      <label>
        Metadata key
        <SuggestInput projectId={props.projectId} suggest="metadataKey" label="Metadata key" value={filters.metadataKey} onCommit={(metadataKey) => onChange({ metadataKey: metadataKey.trim() })} />
      </label>
      <FilterField label="Metadata value" value={filters.metadataValue} onCommit={(metadataValue) => onChange({ metadataValue })} />
      {activeDashboardFilters(filters) > 0 ? (
        <button type="button" class="ghost" onClick={() => onChange(emptyFilters())}>
          Clear filters
        </button>
      ) : null}
    </div>
  );
}

export function Dashboard(props: { projectId: string }) {
  const location = useLocation();
  const view = dashboardViewFromUrl(location.search);
  const urlKey = dashboardViewToUrl(view).toString();
  const setView = (next: DashboardView) => {
    const text = dashboardViewToUrl(next).toString();
    navigate(`${location.path}${text ? `?${text}` : ""}`, true);
  };
  // Loaded again when the URL changes (a preset's end is taken at that moment).
  const data = useLoad((signal) => {
    const query = dashboardQuery(view, Date.now());
    if (query === null) return Promise.reject(new Error("The range must start before it ends."));
    return api.get<DashboardData>(`${projectPath(props.projectId, "/dashboard")}?${query}`, signal);
  }, [props.projectId, urlKey]);
  // The rolled-up metadata keys, read while a metadata filter is set, for the note below.
  const metadataKey = view.filters.metadataKey.trim() !== "" && view.filters.metadataValue !== "" ? view.filters.metadataKey.trim() : "";
  const rolled = useLoad((signal) => (metadataKey ? loadRolledMetadata(props.projectId, signal) : Promise.resolve(null)), [props.projectId, metadataKey]);
  const rollupNote = metadataFilterNote(view.filters, rolled.data);
  const loading = data.loading;
  // Numbers of another range or filter are never shown: nothing while loading or failed.
  const d = loading || data.error ? null : data.data;
  const granularity = d?.granularity ?? "day";
  const per = GRANULARITY_LABELS[granularity];
  const models = (d?.generationsByModel ?? []).map((row) => row.model);
  const stacked = (value: (row: ModelBucket) => number) => stackByModel(d?.generationsOverTime ?? [], models, value, granularity);
  const byModel = d?.generationsByModel ?? [];
  const totalCost = byModel.reduce((sum, row) => sum + row.totalCost, 0);
  const totalTokens = byModel.reduce((sum, row) => sum + row.totalTokens, 0);
  const generations = byModel.reduce((sum, row) => sum + row.count, 0);
  const points = (series: TimeCount[] | undefined) => (series ?? []).map((bucket) => ({ label: bucketLabel(bucket.time, granularity), value: bucket.count }));
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Dashboard</h1>
        <div class="tabs" role="tablist" aria-label="Time range">
          {[...Object.keys(DASHBOARD_RANGES), "custom"].map((range) => (
            <button
              key={range}
              type="button"
              role="tab"
              aria-selected={view.range === range}
              class={view.range === range ? "active" : ""}
              onClick={() => setView({ ...view, range })}
            >
              {range === "custom" ? "Custom" : range}
            </button>
          ))}
        </div>
        {view.range === "custom" ? (
          <div class="filters-bar">
            <FilterField label="From" ariaLabel value={view.from} type="datetime-local" onCommit={(from) => setView({ ...view, from })} />
            <FilterField label="To" ariaLabel value={view.to} type="datetime-local" onCommit={(to) => setView({ ...view, to })} />
          </div>
        ) : null}
      </div>
      <Filters projectId={props.projectId} filters={view.filters} onChange={(change) => setView({ ...view, filters: { ...view.filters, ...change } })} />
      {rollupNote ? (
        <p class="muted small" data-testid="metadata-rollup-note">
          <code>{rollupNote.key}</code>{" "}
          {rollupNote.state === "missing"
            ? "is not rolled up: this filter reads every matching trace. "
            : "is still being rolled up: until that is done, this filter reads every matching trace. "}
          <Link href={`${projectBase(props.projectId)}/settings`}>{rollupNote.state === "missing" ? "Roll it up in Settings." : "See Settings."}</Link>
        </p>
      ) : null}
      <p class="muted small">
        Every filter narrows the panels whose rows carry it: the model narrows generations only, metadata traces only.
        {d ? ` ${d.from.slice(0, 16).replace("T", " ")} to ${d.to.slice(0, 16).replace("T", " ")} UTC, by ${per}.` : ""}
      </p>
      {data.error ? <p class="error-box">{data.error}</p> : null}
      <LoadingStatus loading={loading} hasRows={false} />
      <div class="cards" aria-busy={loading}>
        <Stat label="Traces" value={d && d.traces.toLocaleString("en-US")} loading={loading} note={d?.notes.tracesOverTime} />
        <Stat label="Errors" value={d && d.errors.toLocaleString("en-US")} loading={loading} note={d?.notes.errors} />
        <Stat label="Generations" value={d && generations.toLocaleString("en-US")} loading={loading} note={d?.notes.generationsByModel} />
        <Stat label="Total cost" value={d && cost(totalCost)} loading={loading} note={d?.notes.generationsByModel} />
        <Stat label="Tokens" value={d && totalTokens.toLocaleString("en-US")} loading={loading} note={d?.notes.generationsByModel} />
        <Stat label="Scores" value={d && d.scores.toLocaleString("en-US")} loading={loading} note={d?.notes.scoresOverTime} />
      </div>
      <div class="grid" aria-busy={loading}>
        <Bars title={`Traces per ${per}`} points={points(d?.tracesOverTime)} format={(v) => v.toLocaleString("en-US")} loading={loading} note={d?.notes.tracesOverTime} />
        <StackedBars title={`Generations per ${per} by model`} note={d?.notes.generationsOverTime} {...stacked((row) => row.count)} format={(v) => v.toLocaleString("en-US")} loading={loading} />
        <StackedBars title={`Cost per ${per} by model`} note={d?.notes.generationsOverTime} {...stacked((row) => row.totalCost)} format={cost} loading={loading} />
        <StackedBars title={`Tokens per ${per} by model`} note={d?.notes.generationsOverTime} {...stacked((row) => row.totalTokens)} format={(v) => v.toLocaleString("en-US")} loading={loading} />
        <HBars title="Cost by model" items={byModel.map((row) => ({ label: modelName(row.model), value: row.totalCost }))} format={cost} loading={loading} note={d?.notes.generationsByModel} />
        <HBars title="Tokens by model" items={byModel.map((row) => ({ label: modelName(row.model), value: row.totalTokens }))} format={(v) => v.toLocaleString("en-US")} loading={loading} note={d?.notes.generationsByModel} />
        <LatencyTable title="Trace latency by name" rows={d?.latencyByTraceName ?? []} loading={loading} blank="(unnamed)" note={d?.notes.latencyByTraceName} />
        <LatencyTable title="Generation latency by model" rows={d?.latencyByModel ?? []} loading={loading} blank={modelName(null)} note={d?.notes.latencyByModel} />
        <Bars title={`Scores per ${per}`} points={points(d?.scoresOverTime)} format={(v) => v.toLocaleString("en-US")} loading={loading} note={d?.notes.scoresOverTime} />
        <ScoreTable rows={d?.scoresByName ?? []} loading={loading} note={d?.notes.scoresByName} />
      </div>
    </div>
  );
}
