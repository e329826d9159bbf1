// End users of the project: traces, tokens, cost, first and last seen; a user opens the
// traces table filtered to them.

import { cost, count, time } from "../format";
import { Link } from "../router";
import { ListPage, projectBase, usePagedList } from "../components/Table";

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
  const base = projectBase(props.projectId);
  return (
    <ListPage<UserRow>
      title="Users"
      list={usePagedList<UserRow>(props.projectId, "/users")}
      columns={["User", "Traces", "Tokens in / out", "Cost", "First seen", "Last seen"]}
      empty="No users yet: traces with a user id appear here."
      row={(user) => (
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
      )}
    />
  );
}
