// Annotation queues: each queue with its progress (completed of all items) and each reviewer's
// (the items they completed, hold in review mode and could still take), a link to its review
// mode, a form that creates one, a button that makes the signed-in member a reviewer; and
// `AddToQueue`, the trace page's control that queues the trace or the selected observation.

import { useState } from "preact/hooks";
import { api, projectPath, type ScoreConfig } from "../api";
import { time } from "../format";
import { useLoad } from "../hooks";
import { Link } from "../router";
import { useScoreConfigs } from "./ScoreConfigs";
import { ChooseAndAct } from "../components/ChooseAndAct";
import { CopyId } from "../components/Copy";
import { Cells, HeaderCells, usePickedColumns, type CellColumn } from "../components/Selection";

export interface QueueRow {
  id: string;
  name: string;
  description: string | null;
  scoreConfigIds: string[];
  createdAt: string;
  pending: number;
  completed: number;
  reviewers: Reviewer[];
}

/** One reviewer of a queue: assigned to it, or having completed or holding one of its items. */
export interface Reviewer {
  id: string;
  name: string;
  assigned: boolean;
  /** Completed items they completed last. */
  completed: number;
  /** Pending items review mode holds for them now. */
  claimed: number;
  /** Pending items they could take: those no other reviewer holds. */
  available: number;
}

/** A reviewer's line of a queue's progress: `name: 3 done · 2 to take (1 open)`. */
export function reviewerLine(reviewer: Reviewer): string {
  const open = reviewer.claimed > 0 ? ` (${reviewer.claimed} open)` : "";
  const role = reviewer.assigned ? "" : " (not assigned)";
  return `${reviewer.name}${role}: ${reviewer.completed} done · ${reviewer.available} to take${open}`;
}

/** A queue's reviewers, one line each, for its Reviewers cell. */
export function ReviewerProgress(props: { reviewers: Reviewer[] }) {
  if (props.reviewers.length === 0) return <>–</>;
  return (
    <ul class="reviewer-progress" aria-label="Reviewer progress">
      {props.reviewers.map((reviewer) => (
        <li key={reviewer.id}>{reviewerLine(reviewer)}</li>
      ))}
    </ul>
  );
}

function useQueues(projectId: string) {
  return useLoad(() => api.get<{ data: QueueRow[] }>(projectPath(projectId, "/queues?limit=100")), [projectId]);
}

/** The share of a queue's items that are completed, from 0 to 1 (0 for an empty queue). */
export function progressOf(queue: Pick<QueueRow, "pending" | "completed">): number {
  const total = queue.pending + queue.completed;
  return total === 0 ? 0 : queue.completed / total;
}

export function Queues(props: { projectId: string; userId: string }) {
  const queues = useQueues(props.projectId);
  const [error, setError] = useState("");
  const rows = queues.data?.data ?? [];
  const configs = useScoreConfigs(props.projectId).data?.data ?? [];
  const configNames = new Map(configs.map((config) => [config.id, config.name]));
  const join = (queue: QueueRow) =>
    api.post(projectPath(props.projectId, `/queues/${encodeURIComponent(queue.id)}/reviewers`)).then(
      () => queues.reload(true),
      (reason: Error) => setError(reason.message),
    );
  const queueColumns: CellColumn<QueueRow>[] = [
    { id: "name", label: "Name", cell: (queue) => queue.name },
    { id: "id", label: "Queue id", shown: false, cell: (queue) => <CopyId value={queue.id} /> },
    { id: "description", label: "Description", cell: (queue) => queue.description ?? "" },
    {
      id: "progress",
      label: "Progress",
      cell: (queue) => {
        const total = queue.pending + queue.completed;
        return (
          <>
            <span class="queue-progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={queue.completed}>
              <span style={{ width: `${Math.round(progressOf(queue) * 100)}%` }} />
            </span>{" "}
            <span class="small">
              {queue.completed} of {total} done
            </span>
          </>
        );
      },
    },
    { id: "reviewers", label: "Reviewers", className: "small", cell: (queue) => <ReviewerProgress reviewers={queue.reviewers} /> },
    { id: "configs", label: "Score configs", className: "small", cell: (queue) => queue.scoreConfigIds.map((id) => configNames.get(id) ?? id).join(", ") },
    { id: "created", label: "Created", cell: (queue) => time(queue.createdAt) },
  ];
  const { shown, picker } = usePickedColumns(queueColumns, "queues");
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Annotation queues</h1>
        {picker}
      </div>
      {queues.error ? <p class="error-box">{queues.error}</p> : null}
      {error ? <p class="error-box">{error}</p> : null}
      <table class="data" aria-label="Annotation queues">
        <thead>
          <tr>
            <HeaderCells columns={queueColumns} shown={shown} />
            <th></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((queue) => {
            const reviewing = queue.reviewers.some((reviewer) => reviewer.assigned && reviewer.id === props.userId);
            return (
              <tr key={queue.id}>
                <Cells columns={queueColumns} shown={shown} row={queue} />
                <td>
                  <Link href={`/project/${encodeURIComponent(props.projectId)}/queues/${encodeURIComponent(queue.id)}/review`}>
                    Open review mode
                  </Link>{" "}
                  {reviewing ? (
                    <span class="muted small">reviewing</span>
                  ) : (
                    <button type="button" onClick={() => join(queue)}>
                      Review
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {queues.data && rows.length === 0 ? <p class="muted pad">No annotation queues yet.</p> : null}
      <NewQueue projectId={props.projectId} configs={configs} onCreated={() => queues.reload(true)} />
    </div>
  );
}

function NewQueue(props: { projectId: string; configs: ScoreConfig[]; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState("");
  const offered = props.configs.filter((config) => !config.isArchived);
  return (
    <form
      class="card add-score"
      onSubmit={(event) => {
        event.preventDefault();
        api.post(projectPath(props.projectId, "/queues"), { name, description: description || null, scoreConfigIds: chosen }).then(
          () => {
            setName("");
            setDescription("");
            setChosen([]);
            setError("");
            props.onCreated();
          },
          (reason: Error) => setError(reason.message),
        );
      }}
    >
      <h3>New queue</h3>
      <input name="queue-name" placeholder="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="Queue name" />
      <input name="queue-description" placeholder="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} aria-label="Queue description" />
      <select
        multiple
        required
        aria-label="Score configs"
        onChange={(event) => setChosen(Array.from(event.currentTarget.selectedOptions, (option) => option.value))}
      >
        {offered.map((config) => (
          <option key={config.id} value={config.id} selected={chosen.includes(config.id)}>
            {config.name}
          </option>
        ))}
      </select>
      <button type="submit" class="primary">
        Create queue
      </button>
      {offered.length === 0 ? <p class="muted small">Create score configs in the settings first.</p> : null}
      {error ? <p class="error-box">{error}</p> : null}
    </form>
  );
}

/** Queues a trace or an observation in a queue the member picks. */
export function AddToQueue(props: { projectId: string; objectType: "TRACE" | "OBSERVATION"; objectId: string }) {
  const queues = useQueues(props.projectId);
  const [message, setMessage] = useState("");
  const what = props.objectType === "TRACE" ? "trace" : "observation";
  return (
    <ChooseAndAct
      choices={queues.data?.data ?? []}
      keyOf={(queue) => queue.id}
      nameOf={(queue) => queue.name}
      label="Annotation queue"
      button={`Add ${what} to queue`}
      onAct={(queue) =>
        api
          .post(projectPath(props.projectId, `/queues/${encodeURIComponent(queue.id)}/items`), {
            objectType: props.objectType,
            objectId: props.objectId,
          })
          .then(
            () => setMessage(`Added the ${what} to the queue.`),
            (reason: Error) => setMessage(reason.message),
          )
      }
      message={message}
    />
  );
}
