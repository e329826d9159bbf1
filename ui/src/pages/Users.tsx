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
      columns={[
        { label: "User", sort: "id", cell: (user) => <Link href={`${base}/users/${encodeURIComponent(user.id)}`}>{user.id}</Link> },
        { label: "Traces", sort: "traces", numeric: true, cell: (user) => count(user.traceCount) },
        { label: "Tokens in / out", sort: "tokens", numeric: true, cell: (user) => `${count(user.inputTokens)} / ${count(user.outputTokens)}` },
        { label: "Cost", sort: "cost", numeric: true, cell: (user) => cost(user.totalCost) },
        { label: "First seen", sort: "firstSeen", cell: (user) => time(user.firstSeen) },
        { label: "Last seen", sort: "lastSeen", cell: (user) => time(user.lastSeen) },
      ]}
    />
  );
}
