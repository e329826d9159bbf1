// An audit log (admins and owners): a project's in Settings, an organization's on the
// organization page. Who changed keys, members and roles, projects and their settings,
// prompts and datasets, newest first, a page at a time, by resource type.

import { useState } from "preact/hooks";
import { api } from "../api";
import { time } from "../format";
import { useLoad } from "../hooks";
import { TableHead } from "../components/Table";

interface Entry {
  id: number;
  createdAt: string;
  actorKind: string;
  actorId: string;
  actorEmail: string | null;
  action: string;
  resourceType: string;
  resourceId: string;
  details: Record<string, unknown> | null;
}

interface LogPage {
  data: Entry[];
  meta: { page: number; totalPages: number; totalItems: number };
}

const PROJECT_TYPES = ["api_key", "project_membership", "project", "model", "score_config", "prompt", "dataset_item", "dataset_run"];
const ORGANIZATION_TYPES = ["organization", "organization_api_key", "organization_membership", ...PROJECT_TYPES];
const LIMIT = 20;

function actor(entry: Entry): string {
  if (entry.actorKind === "USER") return entry.actorEmail ?? entry.actorId;
  const kind = entry.actorKind === "PROJECT_KEY" ? "project key" : "organization key";
  return `${kind} ${entry.actorId}`;
}

function details(entry: Entry): string {
  if (!entry.details) return "";
  return Object.entries(entry.details)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

// `base` is the API path of the project or organization; `version` changes whenever the
// page made a change, so the log reloads.
export function AuditLog(props: { base: string; organization?: boolean; version: number }) {
  const types = props.organization ? ORGANIZATION_TYPES : PROJECT_TYPES;
  const [type, setType] = useState("");
  const [page, setPage] = useState(1);
  const log = useLoad((signal) => {
    const query = new URLSearchParams({ page: String(page), limit: String(LIMIT) });
    if (type) query.set("resourceType", type);
    return api.get<LogPage>(`${props.base}/audit-log?${query}`, signal);
  }, [props.base, props.version, type, page]);
  const entries = log.data?.data ?? [];
  const pages = log.data?.meta.totalPages ?? 1;
  return (
    <section class="card audit-log">
      <h2>Audit log</h2>
      <label>
        Resource{" "}
        <select aria-label="Audit resource type" value={type} onChange={(event) => {
          setType(event.currentTarget.value);
          setPage(1);
        }}>
          <option value="">all</option>
          {types.map((name) => <option key={name} value={name}>{name.split("_").join(" ")}</option>)}
        </select>
      </label>
      {log.error ? <p class="error-box" role="alert">{log.error}</p> : null}
      <table class="data compact">
        <TableHead columns={["When", "Who", "Action", "Resource", "Details"]} />
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-testid="audit-entry">
              <td>{time(entry.createdAt)}</td>
              <td>{actor(entry)}</td>
              <td>{entry.action.split("_").join(" ")}</td>
              <td>
                {entry.resourceType.split("_").join(" ")} <code>{entry.resourceId}</code>
              </td>
              <td class="muted">{details(entry)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 && !log.loading ? <p class="muted">Nothing recorded yet.</p> : null}
      {pages > 1 ? (
        <p>
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Newer</button>{" "}
          <span class="muted">page {page} of {pages}</span>{" "}
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>Older</button>
        </p>
      ) : null}
    </section>
  );
}
