// What the traces table does with its selected rows: delete them (admins and owners, after a
// confirmation), add them to an annotation queue or, as items, to a dataset, and download
// them as JSON or CSV.

import { useState } from "preact/hooks";
import { api, projectPath, type Paged, type TraceDetail, type TraceRow } from "../api";
import type { DatasetRow } from "../datasets";
import { download, toCsv } from "../exports";
import { useLoad } from "../hooks";
import { ChooseAndAct } from "../components/ChooseAndAct";
import type { QueueRow } from "./Queues";

/** The roles that may delete traces (the server checks too). */
export function mayDeleteTraces(role: string): boolean {
  return role === "owner" || role === "admin";
}

/** Each selected trace in full (input, output, metadata, scores), without its observations. */
async function details(projectId: string, rows: TraceRow[]): Promise<Omit<TraceDetail, "observations">[]> {
  return Promise.all(
    rows.map(async (row) => {
      const detail = await api.get<TraceDetail>(projectPath(projectId, `/traces/${encodeURIComponent(row.id)}`));
      const { observations: _observations, ...rest } = detail;
      return rest;
    }),
  );
}

const CSV_COLUMNS = ["id", "timestamp", "name", "userId", "sessionId", "environment", "release", "version", "tags", "level", "latency", "totalCost", "input", "output", "metadata"];

export function BulkActions(props: { projectId: string; role: string; rows: TraceRow[]; onClear: () => void; onDeleted: () => void }) {
  const { projectId, rows } = props;
  const queues = useLoad((signal) => api.get<{ data: QueueRow[] }>(projectPath(projectId, "/queues?limit=100"), signal), [projectId]);
  const datasets = useLoad((signal) => api.get<Paged<DatasetRow>>(projectPath(projectId, "/datasets?limit=100"), signal), [projectId]);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const count = rows.length;
  const what = `${count} trace${count === 1 ? "" : "s"}`;
  const run = (work: () => Promise<string>) => {
    setBusy(true);
    setMessage("");
    work().then(
      (done) => {
        setBusy(false);
        setMessage(done);
      },
      (reason: Error) => {
        setBusy(false);
        setMessage(reason.message);
      },
    );
  };
  return (
    <div class="bulk card" role="region" aria-label="Selected traces">
      <strong>{what} selected</strong>
      <ChooseAndAct
        choices={queues.data?.data ?? []}
        keyOf={(queue) => queue.id}
        nameOf={(queue) => queue.name}
        label="Queue for the selected traces"
        button="Add to queue"
        disabled={busy}
        onAct={(queue) =>
          run(async () => {
            const path = projectPath(projectId, `/queues/${encodeURIComponent(queue.id)}/items`);
            await Promise.all(rows.map((row) => api.post(path, { objectType: "TRACE", objectId: row.id })));
            return `Added ${what} to the queue ${queue.name}.`;
          })
        }
      />
      <ChooseAndAct
        choices={datasets.data?.data ?? []}
        keyOf={(dataset) => dataset.name}
        nameOf={(dataset) => dataset.name}
        label="Dataset for the selected traces"
        button="Add to dataset"
        disabled={busy}
        onAct={(dataset) =>
          run(async () => {
            const path = projectPath(projectId, `/datasets/${encodeURIComponent(dataset.name)}/items`);
            for (const trace of await details(projectId, rows)) {
              await api.post(path, { input: trace.input ?? null, expectedOutput: trace.output ?? null, sourceTraceId: trace.id });
            }
            return `Added ${what} to the dataset ${dataset.name}.`;
          })
        }
      />
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          run(async () => {
            download("traces.json", "application/json", `${JSON.stringify(await details(projectId, rows), null, 2)}\n`);
            return `Exported ${what} as JSON.`;
          })
        }
      >
        Export JSON
      </button>
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          run(async () => {
            const traces = (await details(projectId, rows)) as unknown as Record<string, unknown>[];
            download("traces.csv", "text/csv", toCsv(CSV_COLUMNS, traces));
            return `Exported ${what} as CSV.`;
          })
        }
      >
        Export CSV
      </button>
      {mayDeleteTraces(props.role) ? (
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={() => {
            if (!confirm(`Delete ${what} with their observations and scores? This cannot be undone.`)) return;
            run(async () => {
              await api.post(projectPath(projectId, "/traces/delete"), { traceIds: rows.map((row) => row.id) });
              props.onDeleted();
              return `Deleted ${what}.`;
            });
          }}
        >
          Delete
        </button>
      ) : null}
      <button type="button" class="ghost" onClick={props.onClear}>
        Clear selection
      </button>
      {message ? (
        <span class="small muted" role="status">
          {message}
        </span>
      ) : null}
    </div>
  );
}
