// What the traces table does with its selected rows: delete them (admins and owners, after a
// confirmation), add them to an annotation queue or, as items, to a dataset, and download
// them as JSON or CSV.

import { api, projectPath, type Paged, type TraceDetail, type TraceRow } from "../api";
import type { DatasetRow } from "../datasets";
import { useLoad } from "../hooks";
import { ChooseAndAct } from "../components/ChooseAndAct";
import { afterDelete, BulkBar, countOf, DeleteSelected, ExportButtons, useBulkAction, type BulkAction, type Selected } from "../components/Selection";
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

export function BulkActions(props: { projectId: string; role: string; selected: Selected<TraceRow> }) {
  const { projectId } = props;
  const { rows, selection } = props.selected;
  const queues = useLoad((signal) => api.get<{ data: QueueRow[] }>(projectPath(projectId, "/queues?limit=100"), signal), [projectId]);
  const action = useBulkAction();
  const what = countOf(rows.length, "trace");
  return (
    <BulkBar label="Selected traces" what={what} action={action} onClear={selection.clear}>
      <ChooseAndAct
        choices={queues.data?.data ?? []}
        keyOf={(queue) => queue.id}
        nameOf={(queue) => queue.name}
        label="Queue for the selected traces"
        button="Add to queue"
        disabled={action.busy}
        onAct={(queue) =>
          action.run(async () => {
            const path = projectPath(projectId, `/queues/${encodeURIComponent(queue.id)}/items`);
            await Promise.all(rows.map((row) => api.post(path, { objectType: "TRACE", objectId: row.id })));
            return `Added ${what} to the queue ${queue.name}.`;
          })
        }
      />
      <AddItemsToDataset
        projectId={projectId}
        label="Dataset for the selected traces"
        what={what}
        action={action}
        items={async () =>
          (await details(projectId, rows)).map((trace) => ({ input: trace.input ?? null, expectedOutput: trace.output ?? null, sourceTraceId: trace.id }))
        }
      />
      <ExportButtons
        action={action}
        file="traces"
        what={what}
        csvColumns={CSV_COLUMNS}
        rows={async () => (await details(projectId, rows)) as unknown as Record<string, unknown>[]}
      />
      {mayDeleteTraces(props.role) ? (
        <DeleteSelected
          action={action}
          what={what}
          question={`Delete ${what} with their observations and scores? This cannot be undone.`}
          remove={() => api.post(projectPath(projectId, "/traces/delete"), { traceIds: rows.map((row) => row.id) })}
          onDeleted={afterDelete(props.selected)}
        />
      ) : null}
    </BulkBar>
  );
}

/** The items a selection adds to a dataset, one request each. */
export interface NewItem {
  input: unknown;
  expectedOutput: unknown;
  sourceTraceId: string;
  sourceObservationId?: string;
}

/** Add to dataset: a choice of the project's datasets and a button that adds `items()` to
 * the chosen one. */
export function AddItemsToDataset(props: { projectId: string; label: string; what: string; action: BulkAction; items: () => Promise<NewItem[]> }) {
  const { projectId, action } = props;
  const datasets = useLoad((signal) => api.get<Paged<DatasetRow>>(projectPath(projectId, "/datasets?limit=100"), signal), [projectId]);
  return (
    <ChooseAndAct
      choices={datasets.data?.data ?? []}
      keyOf={(dataset) => dataset.name}
      nameOf={(dataset) => dataset.name}
      label={props.label}
      button="Add to dataset"
      disabled={action.busy}
      onAct={(dataset) =>
        action.run(async () => {
          const path = projectPath(projectId, `/datasets/${encodeURIComponent(dataset.name)}/items`);
          for (const item of await props.items()) await api.post(path, item);
          return `Added ${props.what} to the dataset ${dataset.name}.`;
        })
      }
    />
  );
}
