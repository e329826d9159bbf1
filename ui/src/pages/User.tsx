// One end user: their recent traces and the sessions those belong to.

import { api, projectPath, type Paged, type TraceRow } from "../api";
import { cost, count, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link } from "../router";
import { Copy } from "../components/Copy";
import { projectBase, ScoreChips, TableHead } from "../components/Table";

export function UserPage(props: { projectId: string; userId: string }) {
  const base = projectBase(props.projectId);
  const traces = useLoad(
    (signal) => api.get<Paged<TraceRow>>(`${projectPath(props.projectId, "/traces")}?userId=${encodeURIComponent(props.userId)}&limit=50`, signal),
    [props.projectId, props.userId],
  );
  const rows = traces.data?.data ?? [];
  const sessions = [...new Set(rows.map((row) => row.sessionId).filter((id): id is string => !!id))];
  const totalCost = rows.reduce((sum, row) => sum + (row.totalCost || 0), 0);
  const tokens = rows.reduce((sum, row) => sum + (row.tokens?.total || 0), 0);
  const filtered = `${base}/traces?userId=${encodeURIComponent(props.userId)}`;
  return (
    <div class="page">
      <div class="trace-head">
        <h1>User {props.userId}</h1>
        <div class="facts">
          <Copy value={props.userId} label="copy id" />
          <span>{count(traces.data?.meta.totalItems ?? 0)} traces</span>
          <span>
            last {rows.length} traces: {count(tokens)} tokens, {cost(totalCost)}
          </span>
          <Link href={filtered}>Open in the traces table →</Link>
        </div>
      </div>
      {traces.error ? <p class="error-box">{traces.error}</p> : null}
      {sessions.length > 0 ? (
        <p>
          Sessions:{" "}
          {sessions.map((session) => (
            <Link key={session} class="tag" href={`${base}/sessions/${encodeURIComponent(session)}`}>
              {session}
            </Link>
          ))}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="data">
          <TableHead columns={["Time", "Name", "Session", "Latency", "Cost", "Scores"]} />
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} class={`level-${row.level.toLowerCase()}`}>
                <td class="nowrap">{time(row.timestamp)}</td>
                <td>
                  <Link href={`${base}/traces/${encodeURIComponent(row.id)}`}>{row.name ?? row.id}</Link>
                </td>
                <td>{row.sessionId ?? "–"}</td>
                <td class="num">{latency(row.latency)}</td>
                <td class="num">{cost(row.totalCost)}</td>
                <td>
                  <ScoreChips scores={row.scores} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {traces.loading ? <p class="muted pad">Loading…</p> : null}
      </div>
    </div>
  );
}
