// Sessions: the list, and a session page that replays its traces turn by turn.

import { api, projectPath, type Score } from "../api";
import { cost, count, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link } from "../router";
import { IoView } from "../components/Json";
import { Copy } from "../components/Copy";
import { Comments } from "../components/Comments";
import { AddScore, ScoreList } from "../components/Scores";
import { projectBase } from "../components/Table";
import { TotalsList, type TotalsColumn } from "../components/Totals";

interface SessionTrace {
  id: string;
  timestamp: string;
  name: string | null;
  userId: string | null;
  input: unknown;
  output: unknown;
  latency: number;
  totalCost: number;
  level: string;
}

export function Sessions(props: { projectId: string }) {
  const base = projectBase(props.projectId);
  return (
    <TotalsList
      projectId={props.projectId}
      path="/sessions"
      title="Sessions"
      searchLabel="Session"
      empty="No sessions yet: traces with a session id appear here."
      columns={sessionColumns(base)}
      noun="session"
    />
  );
}

/** The columns of a list of sessions (the sessions page, a user's page). */
export function sessionColumns(base: string): TotalsColumn[] {
  return [
    { id: "session", label: "Session", sort: "id", cell: (session) => <Link href={`${base}/sessions/${encodeURIComponent(session.id)}`}>{session.id}</Link> },
    { id: "firstSeen", label: "First seen", sort: "firstSeen", cell: (session) => time(session.firstSeen) },
    { id: "traces", label: "Traces", sort: "traces", numeric: true, cell: (session) => count(session.traceCount) },
    { id: "duration", label: "Duration", numeric: true, cell: (session) => latency(session.durationSeconds) },
    { id: "tokens", label: "Tokens", sort: "tokens", numeric: true, cell: (session) => count(session.totalTokens) },
    { id: "cost", label: "Cost", sort: "cost", numeric: true, cell: (session) => cost(session.totalCost) },
    { id: "tokensInOut", label: "Tokens in / out", shown: false, numeric: true, cell: (session) => `${count(session.inputTokens)} / ${count(session.outputTokens)}` },
    { id: "users", label: "Users", cell: (session) => session.userIds.join(", ") },
    { id: "lastSeen", label: "Last seen", sort: "lastSeen", cell: (session) => time(session.lastSeen) },
  ];
}

export function SessionPage(props: { projectId: string; sessionId: string; role: string }) {
  const base = projectBase(props.projectId);
  const session = useLoad(
    (signal) => api.get<{ id: string; createdAt: string; traces: SessionTrace[] }>(projectPath(props.projectId, `/sessions/${encodeURIComponent(props.sessionId)}`), signal),
    [props.projectId, props.sessionId],
  );
  // The session's own scores (given to the session, not to one of its traces).
  const scores = useLoad(
    (signal) => api.get<{ data: Score[] }>(projectPath(props.projectId, `/scores?sessionId=${encodeURIComponent(props.sessionId)}&limit=100`), signal),
    [props.projectId, props.sessionId],
  );
  if (session.error) return <p class="error-box page">{session.error}</p>;
  if (!session.data) return <p class="muted page">Loading session…</p>;
  const traces = session.data.traces ?? [];
  const users = [...new Set(traces.map((trace) => trace.userId).filter(Boolean))];
  const totalCost = traces.reduce((sum, trace) => sum + (trace.totalCost || 0), 0);
  const first = traces[0] ? Date.parse(traces[0].timestamp) : 0;
  const last = traces.length ? Date.parse(traces[traces.length - 1].timestamp) + (traces[traces.length - 1].latency || 0) * 1000 : 0;
  return (
    <div class="page">
      <div class="trace-head">
        <h1>Session {session.data.id}</h1>
        <div class="facts">
          <span>
            <Copy value={session.data.id} label="copy id" />
          </span>
          <span>{traces.length} traces</span>
          <span>duration {latency((last - first) / 1000)}</span>
          <span>cost {cost(totalCost)}</span>
          <span>users {users.join(", ") || "–"}</span>
        </div>
      </div>
      <div class="session-review">
        {scores.data ? <ScoreList scores={scores.data.data.filter((score) => !score.traceId)} /> : <p class="muted">Loading scores…</p>}
        {/* Viewers read only: the server refuses their scores, so no form is offered. */}
        {props.role === "viewer" ? null : (
          <AddScore projectId={props.projectId} target={{ sessionId: session.data.id }} onAdded={() => scores.reload(true)} />
        )}
      </div>
      <Comments projectId={props.projectId} objectType="SESSION" objectId={session.data.id} label="session" />
      <ol class="turns">
        {traces.map((trace, index) => (
          <li key={trace.id} class="card turn">
            <div class="turn-head">
              <span class="muted">#{index + 1}</span> <Link href={`${base}/traces/${encodeURIComponent(trace.id)}`}>{trace.name ?? trace.id}</Link>
              <span class="muted small"> {time(trace.timestamp)} · {latency(trace.latency)} · {cost(trace.totalCost)}</span>
              {trace.userId ? <span class="muted small"> · {trace.userId}</span> : null}
            </div>
            <div class="turn-io">
              <div>
                <h3>Input</h3>
                <IoView value={trace.input} label="turn input" projectId={props.projectId} />
              </div>
              <div>
                <h3>Output</h3>
                <IoView value={trace.output} label="turn output" projectId={props.projectId} />
              </div>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}
