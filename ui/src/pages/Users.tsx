// End users of the project: traces, tokens, cost, first and last seen; a user opens the
// traces table filtered to them.

import { useState } from "preact/hooks";
import { api, projectPath, type Paged } from "../api";
import { cost, count, time } from "../format";
import { useLoad } from "../hooks";
import { Link } from "../router";

interface UserRow {
  userId: string;
  traces: number;
  firstSeen: string | null;
  lastSeen: string | null;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  totalCost: number;
}

export function Users(props: { projectId: string }) {
  const [page, setPage] = useState(1);
  const base = `/project/${encodeURIComponent(props.projectId)}`;
  const users = useLoad(() => api.get<Paged<UserRow>>(`${projectPath(props.projectId, "/users")}?page=${page}&limit=50`), [props.projectId, page]);
  const meta = users.data?.meta;
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Users</h1>
      </div>
      {users.error ? <p class="error-box">{users.error}</p> : null}
      <table class="data">
        <thead>
          <tr>
            <th>User</th>
            <th>Traces</th>
            <th>Tokens in / out</th>
            <th>Cost</th>
            <th>First seen</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {(users.data?.data ?? []).map((user) => (
            <tr key={user.userId}>
              <td>
                <Link href={`${base}/users/${encodeURIComponent(user.userId)}`}>{user.userId}</Link>
              </td>
              <td class="num">{count(user.traces)}</td>
              <td class="num">
                {count(user.inputTokens)} / {count(user.outputTokens)}
              </td>
              <td class="num">{cost(user.totalCost)}</td>
              <td>{time(user.firstSeen)}</td>
              <td>{time(user.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {meta && meta.totalItems === 0 ? <p class="muted pad">No users yet: traces with a user id appear here.</p> : null}
      {meta && meta.totalPages > 1 ? (
        <div class="pager">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            ← Previous
          </button>
          <span>
            Page {page} of {meta.totalPages}
          </span>
          <button type="button" disabled={page >= meta.totalPages} onClick={() => setPage(page + 1)}>
            Next →
          </button>
        </div>
      ) : null}
    </div>
  );
}
