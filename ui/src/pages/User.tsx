// One end user: the totals of all of their traces in the chosen range (one aggregate on the
// server), their sessions with their totals, paged, and their latest traces.

import { api, projectPath, type Paged, type TraceRow } from "../api";
import { cost, count, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { Copy } from "../components/Copy";
import { Pager, projectBase, ScoreChips, TableHead } from "../components/Table";
import { RangeOptions, rangeStart, type TotalsRow } from "../components/Totals";
import { sessionColumns } from "./Sessions";

export function UserPage(props: { projectId: string; userId: string }) {
  const base = projectBase(props.projectId);
  const location = useLocation();
  const range = location.search.get("range") ?? "";
  const sessionsPage = location.search.get("sessionsPage") ?? "1";
  const from = rangeStart(range);
  const rangeQuery = from ? `fromTimestamp=${encodeURIComponent(from)}` : "";
  const set = (change: Record<string, string | null>) => {
    const next = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(change)) {
      if (value === null || value === "") next.delete(key);
      else next.set(key, value);
    }
    const text = next.toString();
    navigate(`${location.path}${text ? `?${text}` : ""}`, true);
  };
  const totals = useLoad(
    (signal) => api.get<TotalsRow>(`${projectPath(props.projectId, `/users/${encodeURIComponent(props.userId)}`)}?${rangeQuery}`, signal),
    [props.projectId, props.userId, range],
  );
  const sessions = useLoad(
    (signal) =>
      api.get<Paged<TotalsRow>>(
        `${projectPath(props.projectId, "/sessions")}?userId=${encodeURIComponent(props.userId)}&orderBy=lastSeen.desc&limit=20&page=${sessionsPage}&${rangeQuery}`,
        signal,
      ),
    [props.projectId, props.userId, range, sessionsPage],
  );
  const traces = useLoad(
    (signal) =>
      api.get<Paged<TraceRow>>(`${projectPath(props.projectId, "/traces")}?userId=${encodeURIComponent(props.userId)}&limit=50&${rangeQuery}`, signal),
    [props.projectId, props.userId, range],
  );
  const user = totals.data;
  const rows = traces.data?.data ?? [];
  const filtered = `${base}/traces?userId=${encodeURIComponent(props.userId)}`;
  const columns = sessionColumns(base).filter((column) => column.shown !== false);
  const sessionMeta = sessions.data?.meta;
  return (
    <div class="page">
      <div class="trace-head">
        <h1>User {props.userId}</h1>
        <div class="facts">
          <Copy value={props.userId} label="copy id" />
          <label class="small">
            Traces from{" "}
            <select aria-label="Range" value={range} onChange={(event) => set({ range: event.currentTarget.value, sessionsPage: null })}>
              <RangeOptions />
            </select>
          </label>
          <Link href={filtered}>Open in the traces table →</Link>
        </div>
      </div>
      {totals.error ? <p class="error-box">{totals.error}</p> : null}
      <dl class="user-totals" aria-label="User totals" aria-busy={totals.loading}>
        <div>
          <dt>Traces</dt>
          <dd data-total="traces">{user ? user.traceCount.toLocaleString("en-US") : "…"}</dd>
        </div>
        <div>
          <dt>Tokens in / out</dt>
          <dd data-total="tokens">
            {user ? `${user.inputTokens.toLocaleString("en-US")} / ${user.outputTokens.toLocaleString("en-US")}` : "…"}
          </dd>
        </div>
        <div>
          <dt>Total tokens</dt>
          <dd data-total="totalTokens">{user ? user.totalTokens.toLocaleString("en-US") : "…"}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd data-total="cost">{user ? `$${user.totalCost.toFixed(6)}` : "…"}</dd>
        </div>
        <div>
          <dt>First seen</dt>
          <dd>{user ? time(user.firstSeen) : "…"}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{user ? time(user.lastSeen) : "…"}</dd>
        </div>
        <div>
          <dt>Active over</dt>
          <dd>{user ? latency(user.durationSeconds) : "…"}</dd>
        </div>
      </dl>
      <h2>Sessions{sessionMeta ? ` (${sessionMeta.totalItems.toLocaleString("en-US")})` : ""}</h2>
      {sessions.error ? <p class="error-box">{sessions.error}</p> : null}
      <div class="table-wrap">
        <table class="data user-sessions" aria-label="Sessions of the user">
          <TableHead columns={columns.map((column) => (column.numeric ? [column.label, "num"] : column.label))} />
          <tbody>
            {(sessions.data?.data ?? []).map((session) => (
              <tr key={session.id}>
                {columns.map((column) => (
                  <td key={column.label} class={column.numeric ? "num" : undefined}>
                    {column.cell(session)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {sessionMeta && sessionMeta.totalItems === 0 ? <p class="muted pad">No sessions in this range.</p> : null}
        {sessionMeta && sessionMeta.totalPages > 1 ? (
          <Pager page={sessionMeta.page} pages={sessionMeta.totalPages} onPage={(page) => set({ sessionsPage: String(page) })} />
        ) : null}
      </div>
      <h2>Latest traces</h2>
      {traces.error ? <p class="error-box">{traces.error}</p> : null}
      <div class="table-wrap">
        <table class="data user-traces">
          <TableHead columns={["Time", "Name", "Session", "Latency", "Cost", "Scores"]} />
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} class={`level-${row.level.toLowerCase()}`}>
                <td class="nowrap">{time(row.timestamp)}</td>
                <td>
                  <Link href={`${base}/traces/${encodeURIComponent(row.id)}`}>{row.name ?? row.id}</Link>
                </td>
                <td>{row.sessionId ? <Link href={`${base}/sessions/${encodeURIComponent(row.sessionId)}`}>{row.sessionId}</Link> : "–"}</td>
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
        {traces.data && traces.data.meta.totalItems > rows.length ? (
          <p class="muted small pad">
            The latest {rows.length} of {count(traces.data.meta.totalItems)}: <Link href={filtered}>all in the traces table</Link>.
          </p>
        ) : null}
      </div>
    </div>
  );
}
