// The dashboard: traces and observations per day, cost by day and by model, token usage,
// latency percentiles by trace name and by model, and the error rate, over one time range.

import { useState } from "preact/hooks";
import { api, projectPath } from "../api";
import { cost, count, latency } from "../format";
import { useLoad } from "../hooks";
import { Bars, HBars } from "../components/Charts";
import { LoadingStatus, TableHead } from "../components/Table";

interface ModelUsage {
  model: string;
  inputUsage: number;
  outputUsage: number;
  totalUsage: number;
  totalCost: number;
}

interface Day {
  date: string;
  countTraces: number;
  countObservations: number;
  totalCost: number;
  usage: ModelUsage[];
}

interface Stats {
  key: string;
  count: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
}

interface DashboardData {
  daily: Day[];
  traces: number;
  errorTraces: number;
  latencyByTraceName: Stats[];
  latencyByModel: Stats[];
}

const RANGES: [string, number][] = [
  ["24h", 1],
  ["7d", 7],
  ["30d", 30],
  ["90d", 90],
];

function LatencyTable(props: { title: string; rows: Stats[] }) {
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <table class="data compact">
        <TableHead columns={["", "count", "errors", "p50", "p90", "p99"]} />
        <tbody>
          {props.rows.slice(0, 12).map((row) => (
            <tr key={row.key}>
              <td>{row.key || "(unnamed)"}</td>
              <td class="num">{count(row.count)}</td>
              <td class="num">{count(row.errors)}</td>
              <td class="num">{latency(row.p50)}</td>
              <td class="num">{latency(row.p90)}</td>
              <td class="num">{latency(row.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.rows.length === 0 ? <p class="muted">No data in this range.</p> : null}
    </figure>
  );
}

const EMPTY_DAY = { countTraces: 0, countObservations: 0, totalCost: 0, usage: [] };

/** One entry per UTC day of the range, so quiet days show as zero instead of vanishing. */
export function fillDays(daily: Day[], days: number, now = Date.now()): Day[] {
  const byDate = new Map(daily.map((day) => [day.date, day]));
  const out: Day[] = [];
  for (let offset = days - 1; offset >= 0; offset--) {
    const date = new Date(now - offset * 86_400_000).toISOString().slice(0, 10);
    out.push(byDate.get(date) ?? { date, ...EMPTY_DAY });
  }
  return out;
}

export function Dashboard(props: { projectId: string }) {
  const [days, setDays] = useState(7);
  const data = useLoad((signal) => {
    const from = new Date(Date.now() - days * 86_400_000).toISOString();
    return api.get<DashboardData>(`${projectPath(props.projectId, "/dashboard")}?fromTimestamp=${encodeURIComponent(from)}`, signal);
  }, [props.projectId, days]);
  const d = data.data;
  const daily = d ? fillDays(d.daily, days) : [];
  const byModel = new Map<string, { cost: number; tokens: number }>();
  for (const day of d?.daily ?? []) {
    for (const usage of day.usage) {
      const entry = byModel.get(usage.model) ?? { cost: 0, tokens: 0 };
      entry.cost += usage.totalCost;
      entry.tokens += usage.totalUsage;
      byModel.set(usage.model, entry);
    }
  }
  const totalCost = (d?.daily ?? []).reduce((sum, day) => sum + day.totalCost, 0);
  const totalTokens = [...byModel.values()].reduce((sum, entry) => sum + entry.tokens, 0);
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Dashboard</h1>
        <div class="tabs" role="tablist" aria-label="Time range">
          {RANGES.map(([label, value]) => (
            <button key={label} type="button" role="tab" aria-selected={days === value} class={days === value ? "active" : ""} onClick={() => setDays(value)}>
              {label}
            </button>
          ))}
        </div>
      </div>
      {data.error ? <p class="error-box">{data.error}</p> : null}
      {!d ? (
        data.loading ? (
          <p class="muted" role="status">
            Loading…
          </p>
        ) : null
      ) : (
        <>
          <LoadingStatus loading={data.loading} hasRows />
          <div class={`cards${data.loading ? " stale" : ""}`} aria-busy={data.loading}>
            <div class="card stat">
              <span class="muted">Traces</span>
              <strong>{d.traces.toLocaleString("en-US")}</strong>
            </div>
            <div class="card stat">
              <span class="muted">Error rate</span>
              <strong>{d.traces > 0 ? `${((d.errorTraces / d.traces) * 100).toFixed(1)}%` : "–"}</strong>
            </div>
            <div class="card stat">
              <span class="muted">Total cost</span>
              <strong>{cost(totalCost)}</strong>
            </div>
            <div class="card stat">
              <span class="muted">Tokens</span>
              <strong>{count(totalTokens)}</strong>
            </div>
          </div>
          <div class={`grid${data.loading ? " stale" : ""}`}>
            <Bars title="Traces per day" points={daily.map((day) => ({ label: day.date, value: day.countTraces }))} format={(v) => String(v)} />
            <Bars title="Observations per day" points={daily.map((day) => ({ label: day.date, value: day.countObservations }))} format={(v) => String(v)} />
            <Bars title="Cost per day" points={daily.map((day) => ({ label: day.date, value: day.totalCost }))} format={cost} />
            <Bars
              title="Tokens per day"
              points={daily.map((day) => ({ label: day.date, value: day.usage.reduce((sum, usage) => sum + usage.totalUsage, 0) }))}
              format={(v) => v.toLocaleString("en-US")}
            />
            <HBars title="Cost by model" items={[...byModel.entries()].map(([label, entry]) => ({ label, value: entry.cost }))} format={cost} />
            <HBars title="Tokens by model" items={[...byModel.entries()].map(([label, entry]) => ({ label, value: entry.tokens }))} format={(v) => v.toLocaleString("en-US")} />
            <LatencyTable title="Trace latency by name" rows={d.latencyByTraceName} />
            <LatencyTable title="Generation latency by model" rows={d.latencyByModel} />
          </div>
        </>
      )}
    </div>
  );
}
