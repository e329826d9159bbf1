// One trace: the observation tree or the timeline on the left, the selected observation
// (or the trace itself) on the right, with input, output, metadata, usage, cost and scores.

import { useEffect, useMemo, useState } from "preact/hooks";
import { api, projectPath, type Observation, type Score, type TraceDetail } from "../api";
import { cost, count, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { buildTree, span, visibleRows } from "../tree";
import { Copy } from "../components/Copy";
import { IoView, JsonView } from "../components/Json";
import { ObservationTree, TypeBadge, tokensOf } from "../components/Tree";
import { Timeline } from "../components/Timeline";
import { criticalPath } from "../timeline";
import { Comments } from "../components/Comments";
import { projectBase } from "../components/Table";
import { AddScore, ScoreList } from "../components/Scores";
import { AddToQueue } from "./Queues";
import { AddToDataset } from "./Datasets";
import { lastTraceIds } from "./Traces";

export function TracePage(props: { projectId: string; traceId: string; role: string }) {
  const location = useLocation();
  const base = projectBase(props.projectId);
  const trace = useLoad(
    (signal) => api.get<TraceDetail>(projectPath(props.projectId, `/traces/${encodeURIComponent(props.traceId)}`), signal),
    [props.projectId, props.traceId],
  );
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const mode = location.search.get("view") === "timeline" ? "timeline" : "tree";
  const selected = location.search.get("observation");
  const setQuery = (change: Record<string, string | null>) => {
    const query = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(change)) {
      if (value === null) query.delete(key);
      else query.set(key, value);
    }
    const text = query.toString();
    navigate(`${base}/traces/${encodeURIComponent(props.traceId)}${text ? `?${text}` : ""}`, true);
  };
  const observations = trace.data?.observations ?? [];
  const toggle = (id: string) => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setCollapsed(next);
  };
  const roots = useMemo(() => buildTree(observations), [trace.data]);
  const rows = useMemo(() => visibleRows(roots, collapsed), [roots, collapsed]);
  const total = useMemo(() => span(observations), [trace.data]);
  const critical = useMemo(() => criticalPath(roots), [roots]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
      const index = lastTraceIds.indexOf(props.traceId);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        // Up and down move through the visible rows of the tree or the timeline.
        if (target?.closest?.("[role='toolbar']")) return;
        const at = rows.findIndex((row) => row.node.observation.id === selected);
        const next = rows[at + (event.key === "ArrowDown" ? 1 : -1)] ?? (at < 0 ? rows[0] : null);
        if (next) {
          event.preventDefault();
          setQuery({ observation: next.node.observation.id });
        }
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && selected && mode === "tree") {
        const row = rows.find((candidate) => candidate.node.observation.id === selected);
        if (row?.hasChildren && row.collapsed === (event.key === "ArrowRight")) {
          event.preventDefault();
          toggle(selected);
        }
      } else if ((event.key === "j" || event.key === "k") && index >= 0) {
        const next = lastTraceIds[index + (event.key === "j" ? 1 : -1)];
        if (next) navigate(`${base}/traces/${encodeURIComponent(next)}`);
      } else if (event.key === "Escape") {
        history.back();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [props.traceId, base, rows, selected, mode, location.search.toString()]);
  if (trace.error) return <p class="error-box page" role="alert">{trace.error}</p>;
  if (!trace.data) return <p class="muted page">Loading trace…</p>;
  const data = trace.data;
  const observation = observations.find((candidate) => candidate.id === selected) ?? null;
  const tokens = observations.reduce((sum, item) => sum + tokensOf(item), 0);
  return (
    <div class="page trace-page">
      <div class="trace-head">
        <h1>
          {data.name ?? "trace"} <span class={`badge level ${data.level.toLowerCase()}`}>{data.level.toLowerCase()}</span>
        </h1>
        <div class="facts">
          <span>
            id <code>{data.id}</code> <Copy value={data.id} />
          </span>
          <span>{time(data.timestamp)}</span>
          {data.userId ? (
            <span>
              user <Link href={`${base}/users/${encodeURIComponent(data.userId)}`}>{data.userId}</Link>
            </span>
          ) : null}
          {data.sessionId ? (
            <span>
              session <Link href={`${base}/sessions/${encodeURIComponent(data.sessionId)}`}>{data.sessionId}</Link>
            </span>
          ) : null}
          <span>latency {latency(data.latency)}</span>
          <span>tokens {count(tokens)}</span>
          <span>cost {cost(data.totalCost)}</span>
          <span>env {data.environment}</span>
          {data.release ? <span>release {data.release}</span> : null}
          {data.tags.map((tag) => (
            <span key={tag} class="tag">
              {tag}
            </span>
          ))}
          <AddToQueue projectId={props.projectId} objectType={observation ? "OBSERVATION" : "TRACE"} objectId={observation?.id ?? data.id} />
          {props.role === "viewer" ? null : (
            <AddToDataset
              projectId={props.projectId}
              traceId={data.id}
              observationId={observation?.id ?? null}
              input={observation ? observation.input : data.input}
              output={observation ? observation.output : data.output}
            />
          )}
        </div>
      </div>
      <div class="split">
        <section class="pane left">
          <div class="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={mode === "tree"} class={mode === "tree" ? "active" : ""} onClick={() => setQuery({ view: null })}>
              Tree
            </button>
            <button type="button" role="tab" aria-selected={mode === "timeline"} class={mode === "timeline" ? "active" : ""} onClick={() => setQuery({ view: "timeline" })}>
              Timeline
            </button>
            <span class="muted small">{observations.length.toLocaleString("en-US")} observations</span>
          </div>
          <div
            class={`tree-row trace-root ${observation ? "" : "selected"}`}
            onClick={() => setQuery({ observation: null })}
            role="button"
            tabIndex={0}
          >
            <span class="badge type-trace">trace</span>
            <span class="tree-name">{data.name ?? data.id}</span>
          </div>
          {mode === "tree" ? (
            <ObservationTree
              rows={rows}
              selected={selected}
              onSelect={(id) => setQuery({ observation: id })}
              onToggle={toggle}
            />
          ) : (
            <Timeline
              rows={rows}
              total={total}
              selected={selected}
              critical={critical}
              onSelect={(id) => setQuery({ observation: id })}
              onToggle={toggle}
            />
          )}
        </section>
        <section class="pane right detail" aria-label="Detail">
          {observation ? (
            <ObservationDetail
              key={observation.id}
              projectId={props.projectId}
              observation={observation}
              scores={data.scores.filter((score) => score.observationId === observation.id)}
            />
          ) : (
            <>
              <h2>Trace</h2>
              <h3>Input</h3>
              <IoView value={data.input} label="trace input" projectId={props.projectId} />
              <h3>Output</h3>
              <IoView value={data.output} label="trace output" projectId={props.projectId} />
              <h3>Metadata</h3>
              <JsonView value={data.metadata} label="trace metadata" />
              <ScoreList scores={data.scores.filter((score) => !score.observationId)} />
              <Comments projectId={props.projectId} objectType="TRACE" objectId={data.id} label="trace" />
            </>
          )}
          {/* Viewers read only: the server refuses their scores, so no form is offered. */}
          {props.role === "viewer" ? null : (
            <AddScore projectId={props.projectId} target={{ traceId: data.id, observationId: observation?.id ?? null }} onAdded={() => trace.reload(true)} />
          )}
        </section>
      </div>
    </div>
  );
}

function Breakdown(props: { title: string; values: Record<string, number>; format: (v: number) => string }) {
  const entries = Object.entries(props.values ?? {});
  if (entries.length === 0) return null;
  return (
    <table class="kv">
      <caption>{props.title}</caption>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td class="num">{props.format(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ObservationDetail(props: { projectId: string; observation: Observation; scores: Score[] }) {
  const o = props.observation;
  // The trace comes without observation payloads; this one's are fetched on selection.
  const full = useLoad(
    (signal) => api.get<Observation>(projectPath(props.projectId, `/observations/${encodeURIComponent(o.id)}`), signal),
    [props.projectId, o.id],
  );
  const payload = full.data?.id === o.id ? full.data : null;
  const io = (value: (full: Observation) => unknown, label: string, render: (value: unknown) => preact.JSX.Element) =>
    full.error ? <p class="error-box">{full.error}</p> : payload ? render(value(payload)) : <p class="muted">Loading {label}…</p>;
  return (
    <>
      <h2>
        <TypeBadge type={o.type} /> {o.name ?? o.id}
      </h2>
      <div class="facts">
        <span>
          id <code>{o.id}</code> <Copy value={o.id} />
        </span>
        <span>start {time(o.startTime)}</span>
        <span>latency {latency(o.latency)}</span>
        {o.timeToFirstToken != null ? <span>time to first token {latency(o.timeToFirstToken)}</span> : null}
        <span class={`badge level ${o.level.toLowerCase()}`}>{o.level.toLowerCase()}</span>
        {o.model ? <span>model {o.model}</span> : null}
        {o.modelId ? (
          <span title="The price entry that matched the model (built-in or custom)">
            priced as <code>{o.modelId}</code>
            {o.usagePricingTierName ? ` (${o.usagePricingTierName})` : ""}
          </span>
        ) : null}
        {o.promptName ? <span>prompt {o.promptName}</span> : null}
        {o.version ? <span>version {o.version}</span> : null}
      </div>
      {o.statusMessage ? <p class="error-box">{o.statusMessage}</p> : null}
      <div class="breakdowns">
        <Breakdown title={o.usageInferred ? "Usage (counted by the tokenizer)" : "Usage"} values={o.usageDetails} format={(v) => v.toLocaleString("en-US")} />
        <Breakdown title="Cost" values={o.costDetails} format={(v) => `$${v.toFixed(6)}`} />
      </div>
      {o.modelParameters && typeof o.modelParameters === "object" && Object.keys(o.modelParameters).length > 0 ? (
        <>
          <h3>Model parameters</h3>
          <JsonView value={o.modelParameters} label="model parameters" />
        </>
      ) : null}
      <h3>Input</h3>
      {io((p) => p.input, "input", (value) => <IoView value={value} label="observation input" projectId={props.projectId} />)}
      <h3>Output</h3>
      {io((p) => p.output, "output", (value) => <IoView value={value} label="observation output" projectId={props.projectId} />)}
      <h3>Metadata</h3>
      {io((p) => p.metadata, "metadata", (value) => <JsonView value={value} label="observation metadata" />)}
      <ScoreList scores={props.scores} />
      <Comments key={o.id} projectId={props.projectId} objectType="OBSERVATION" objectId={o.id} label="observation" />
    </>
  );
}

