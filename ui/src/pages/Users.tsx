// End users of the project: traces, tokens, cost, first and last seen, searched, sorted and
// bounded on the server; a user opens their page.

import { cost, count, time } from "../format";
import { Link } from "../router";
import { projectBase } from "../components/Table";
import { TotalsList } from "../components/Totals";

export function Users(props: { projectId: string }) {
  const base = projectBase(props.projectId);
  return (
    <TotalsList
      projectId={props.projectId}
      path="/users"
      title="Users"
      searchLabel="User"
      empty="No users yet: traces with a user id appear here."
      noun="user"
      columns={[
        { id: "user", label: "User", sort: "id", cell: (user) => <Link href={`${base}/users/${encodeURIComponent(user.id)}`}>{user.id}</Link> },
        { id: "traces", label: "Traces", sort: "traces", numeric: true, cell: (user) => count(user.traceCount) },
        { id: "tokens", label: "Tokens in / out", sort: "tokens", numeric: true, cell: (user) => `${count(user.inputTokens)} / ${count(user.outputTokens)}` },
        { id: "cost", label: "Cost", sort: "cost", numeric: true, cell: (user) => cost(user.totalCost) },
        { id: "firstSeen", label: "First seen", sort: "firstSeen", cell: (user) => time(user.firstSeen) },
        { id: "lastSeen", label: "Last seen", sort: "lastSeen", cell: (user) => time(user.lastSeen) },
      ]}
    />
  );
}
