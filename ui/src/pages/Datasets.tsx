// Datasets: the list with item and run counts and a form that creates one; a dataset's page
// with its items (add, edit, archive; media they reference shown below them) and its runs
// with their aggregated scores, latency and cost, 2 to 5 of which open the comparison; the
// comparison of runs item by item; and `AddToDataset`, the trace page's control that adds the
// trace or the selected observation. Every list goes page by page.

import { useState } from "preact/hooks";
import { api, projectPath, type Paged } from "../api";
import { MediaList, pretty } from "../components/Json";
import { Pager, projectBase, traceHref } from "../components/Table";
import {
  compareHref,
  outputsDiffer,
  runsQuery,
  parseField,
  scoreNames,
  scoreSpread,
  sortBySpread,
  type Comparison,
  type DatasetItem,
  type DatasetRow,
  type RunRow,
  type ScoreSummary,
} from "../datasets";
import { cost, latency, time } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { ChooseAndAct } from "../components/ChooseAndAct";
import { CopyId } from "../components/Copy";
import { Cells, HeaderCells, usePickedColumns, type CellColumn } from "../components/Selection";

const MAX_COMPARED = 5;

/** Rows per page of the datasets, items, runs and compared items. */
const PAGE_SIZE = 50;

/** A pager under a list when it has more than one page. */
function ListPager(props: { label: string; page: number; meta: { totalPages: number; totalItems: number } | undefined; onPage: (page: number) => void }) {
  if (!props.meta || props.meta.totalPages <= 1) return null;
  return (
    <nav aria-label={props.label}>
      <Pager page={props.page} pages={props.meta.totalPages} onPage={props.onPage} total={`${props.meta.totalItems} in all`} />
    </nav>
  );
}

function datasetPath(projectId: string, name: string, rest = ""): string {
  return projectPath(projectId, `/datasets/${encodeURIComponent(name)}${rest}`);
}

/** A JSON value as a short text cell, with the media it references below it when a project
 * is given. */
function Cell(props: { value: unknown; projectId?: string }) {
  const text = pretty(props.value);
  return (
    <>
      <pre class="json cell">{text === "" || text === "null" ? "–" : text}</pre>
      <MediaList value={props.value} projectId={props.projectId} />
    </>
  );
}

/** The input and expected output cells of a dataset item's row. */
function ItemCells(props: { item: { input: unknown; expectedOutput: unknown }; projectId: string }) {
  return (
    <>
      <td>
        <Cell value={props.item.input} projectId={props.projectId} />
      </td>
      <td>
        <Cell value={props.item.expectedOutput} projectId={props.projectId} />
      </td>
    </>
  );
}

function Scores(props: { scores: ScoreSummary[] }) {
  if (props.scores.length === 0) return <span class="muted">–</span>;
  return (
    <span class="small">
      {props.scores
        .map((score) => {
          const mean = score.numeric?.mean;
          const value = mean !== undefined && mean !== null ? mean.toFixed(3) : score.categories.map((c) => `${c.value}×${c.count}`).join(" ");
          return `${score.name}: ${value}`;
        })
        .join(", ")}
    </span>
  );
}

export function Datasets(props: { projectId: string; role: string }) {
  const [page, setPage] = useState(1);
  const datasets = useLoad(
    (signal) => api.get<Paged<DatasetRow>>(projectPath(props.projectId, `/datasets?page=${page}&limit=${PAGE_SIZE}`), signal),
    [props.projectId, page],
  );
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState("");
  const rows = datasets.data?.data ?? [];
  const base = projectBase(props.projectId);
  const datasetColumns: CellColumn<DatasetRow>[] = [
    { id: "name", label: "Name", cell: (dataset) => <Link href={`${base}/datasets/${encodeURIComponent(dataset.name)}`}>{dataset.name}</Link> },
    { id: "id", label: "Dataset id", shown: false, cell: (dataset) => <CopyId value={dataset.id} /> },
    { id: "description", label: "Description", cell: (dataset) => dataset.description ?? "" },
    { id: "items", label: "Items", className: "num", cell: (dataset) => dataset.itemCount },
    { id: "runs", label: "Runs", className: "num", cell: (dataset) => dataset.runCount },
    { id: "created", label: "Created", cell: (dataset) => time(dataset.createdAt) },
  ];
  const { shown, picker } = usePickedColumns(datasetColumns, "datasets");
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Datasets</h1>
        {picker}
      </div>
      {datasets.error ? <p class="error-box">{datasets.error}</p> : null}
      <table class="data" aria-label="Datasets">
        <thead>
          <tr>
            <HeaderCells columns={datasetColumns} shown={shown} />
          </tr>
        </thead>
        <tbody>
          {rows.map((dataset) => (
            <tr key={dataset.id}>
              <Cells columns={datasetColumns} shown={shown} row={dataset} />
            </tr>
          ))}
        </tbody>
      </table>
      {datasets.data && rows.length === 0 ? <p class="muted pad">No datasets yet.</p> : null}
      <ListPager label="Dataset pages" page={page} meta={datasets.data?.meta} onPage={setPage} />
      {props.role === "viewer" ? null : (
        <form
          class="card add-score"
          onSubmit={(event) => {
            event.preventDefault();
            api.post(projectPath(props.projectId, "/datasets"), { name, description: description || null }).then(
              () => {
                setName("");
                setDescription("");
                setError("");
                datasets.reload(true);
              },
              (reason: Error) => setError(reason.message),
            );
          }}
        >
          <h3>New dataset</h3>
          <input placeholder="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="Dataset name" />
          <input placeholder="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} aria-label="Dataset description" />
          <button type="submit" class="primary">
            Create dataset
          </button>
          {error ? <p class="error-box">{error}</p> : null}
        </form>
      )}
    </div>
  );
}

export function DatasetPage(props: { projectId: string; name: string; role: string }) {
  const { projectId, name } = props;
  const [itemPage, setItemPage] = useState(1);
  const [runPage, setRunPage] = useState(1);
  const items = useLoad(
    (signal) => api.get<Paged<DatasetItem>>(datasetPath(projectId, name, `/items?page=${itemPage}&limit=${PAGE_SIZE}`), signal),
    [projectId, name, itemPage],
  );
  const runs = useLoad(
    (signal) => api.get<Paged<RunRow>>(datasetPath(projectId, name, `/runs?page=${runPage}&limit=${PAGE_SIZE}`), signal),
    [projectId, name, runPage],
  );
  const [selected, setSelected] = useState<string[]>([]);
  const [editing, setEditing] = useState<DatasetItem | null>(null);
  const [error, setError] = useState("");
  const writable = props.role !== "viewer";
  const base = projectBase(projectId);
  const save = (body: Record<string, unknown>) =>
    api.post(datasetPath(projectId, name, "/items"), body).then(
      () => {
        setError("");
        setEditing(null);
        items.reload(true);
      },
      (reason: Error) => setError(reason.message),
    );
  const toggle = (run: string) =>
    setSelected(selected.includes(run) ? selected.filter((other) => other !== run) : [...selected, run].slice(-MAX_COMPARED));
  return (
    <div class="page dataset-page">
      <h1>
        <Link href={`${base}/datasets`}>Datasets</Link> / {name}
      </h1>
      {items.error ? <p class="error-box">{items.error}</p> : null}
      {error ? <p class="error-box">{error}</p> : null}
      <h2>Runs</h2>
      <table class="data" aria-label="Dataset runs">
        <thead>
          <tr>
            <th></th>
            <th>Run</th>
            <th>Items</th>
            <th>Mean latency</th>
            <th>Total cost</th>
            <th>Scores</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {(runs.data?.data ?? []).map((run) => (
            <tr key={run.id}>
              <td>
                <input type="checkbox" aria-label={`Compare ${run.name}`} checked={selected.includes(run.name)} onChange={() => toggle(run.name)} />
              </td>
              <td>{run.name}</td>
              <td>{run.itemCount ?? 0}</td>
              <td>{latency(run.latency?.mean ?? null)}</td>
              <td>{cost(run.totalCost ?? null)}</td>
              <td>
                <Scores scores={run.scores ?? []} />
              </td>
              <td>{time(run.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs.data && runs.data.data.length === 0 ? <p class="muted pad">No runs yet.</p> : null}
      <ListPager label="Run pages" page={runPage} meta={runs.data?.meta} onPage={setRunPage} />
      <button
        type="button"
        class="primary compare-runs"
        disabled={selected.length < 2}
        title={selected.length < 2 ? `Tick 2 to ${MAX_COMPARED} runs to compare them` : undefined}
        onClick={() => navigate(compareHref(base, name, selected))}
      >
        {selected.length < 2 ? "Compare runs" : `Compare ${selected.length} runs`}
      </button>
      <h2>Items</h2>
      <table class="data" aria-label="Dataset items">
        <thead>
          <tr>
            <th>Input</th>
            <th>Expected output</th>
            <th>Status</th>
            <th>Source</th>
            <th>Created</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {(items.data?.data ?? []).map((item) => (
            <tr key={item.id} class={item.status === "ARCHIVED" ? "muted" : ""}>
              <ItemCells item={item} projectId={projectId} />
              <td>{item.status.toLowerCase()}</td>
              <td>
                {item.sourceTraceId ? (
                  <Link href={traceHref(projectId, item.sourceTraceId, item.sourceObservationId)}>trace</Link>
                ) : (
                  "–"
                )}
              </td>
              <td>{time(item.createdAt)}</td>
              <td>
                {writable ? (
                  <>
                    <button type="button" class="ghost" onClick={() => setEditing(item)}>
                      Edit
                    </button>
                    <button type="button" class="ghost" onClick={() => save({ id: item.id, status: item.status === "ARCHIVED" ? "ACTIVE" : "ARCHIVED" })}>
                      {item.status === "ARCHIVED" ? "Restore" : "Archive"}
                    </button>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.data && items.data.data.length === 0 ? <p class="muted pad">No items yet.</p> : null}
      <ListPager label="Item pages" page={itemPage} meta={items.data?.meta} onPage={setItemPage} />
      {writable ? <ItemForm key={editing?.id ?? "new"} item={editing} onSave={save} onCancel={() => setEditing(null)} /> : null}
    </div>
  );
}

function ItemForm(props: { item: DatasetItem | null; onSave: (body: Record<string, unknown>) => void; onCancel: () => void }) {
  const text = (value: unknown) => (value === null || value === undefined ? "" : pretty(value));
  const [input, setInput] = useState(text(props.item?.input));
  const [expected, setExpected] = useState(text(props.item?.expectedOutput));
  return (
    <form
      class="card add-score"
      onSubmit={(event) => {
        event.preventDefault();
        props.onSave({ ...(props.item ? { id: props.item.id } : {}), input: parseField(input), expectedOutput: parseField(expected) });
        if (!props.item) {
          setInput("");
          setExpected("");
        }
      }}
    >
      <h3>{props.item ? "Edit item" : "New item"}</h3>
      <textarea placeholder="input (JSON or text)" value={input} onInput={(e) => setInput(e.currentTarget.value)} aria-label="Item input" />
      <textarea placeholder="expected output (JSON or text)" value={expected} onInput={(e) => setExpected(e.currentTarget.value)} aria-label="Item expected output" />
      <button type="submit" class="primary">
        {props.item ? "Save item" : "Add item"}
      </button>
      {props.item ? (
        <button type="button" class="ghost" onClick={props.onCancel}>
          Cancel
        </button>
      ) : null}
    </form>
  );
}

export function ComparePage(props: { projectId: string; name: string; runs: string[] }) {
  const { projectId, name } = props;
  const runsParam = runsQuery(props.runs);
  const [page, setPage] = useState(1);
  const comparison = useLoad(
    (signal) => api.get<Comparison>(datasetPath(projectId, name, `/compare?${runsParam}&page=${page}&limit=${PAGE_SIZE}`), signal),
    [projectId, name, runsParam, page],
  );
  const [sortScore, setSortScore] = useState<string | null>(null);
  const base = projectBase(projectId);
  if (comparison.error) return <p class="error-box page" role="alert">{comparison.error}</p>;
  if (!comparison.data) return <p class="muted page">Loading comparison…</p>;
  const data = comparison.data;
  const names = scoreNames(data);
  const rows = sortBySpread(data.data, sortScore);
  return (
    <div class="page">
      <h1>
        <Link href={`${base}/datasets/${encodeURIComponent(name)}`}>{name}</Link> / compare {data.runs.map((run) => run.name).join(" vs ")}
      </h1>
      {names.length > 0 ? (
        <label class="small">
          Sort by score difference{" "}
          <select aria-label="Sort by score difference" value={sortScore ?? ""} onChange={(event) => setSortScore(event.currentTarget.value || null)}>
            <option value="">(dataset order)</option>
            {names.map((score) => (
              <option key={score} value={score}>
                {score}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <table class="data compare" aria-label="Run comparison">
        <thead>
          <tr>
            <th>Input</th>
            <th>Expected output</th>
            {data.runs.map((run) => (
              <th key={run.id}>{run.name}</th>
            ))}
            {sortScore ? <th>Δ {sortScore}</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((item) => {
            const differs = outputsDiffer(item);
            return (
              <tr key={item.datasetItemId} data-item={item.datasetItemId}>
                <ItemCells item={item} projectId={projectId} />
                {item.runs.map((result, index) => (
                  <td key={data.runs[index]?.id ?? index} class={differs ? "differs" : ""} data-run={data.runs[index]?.name}>
                    {result ? (
                      <Link href={traceHref(projectId, result.traceId, result.observationId)} class="plain">
                        <Cell value={result.output} />
                        <Scores scores={result.scores} />
                        <span class="small muted">
                          {" "}
                          {latency(result.latency)} · {cost(result.totalCost)}
                        </span>
                      </Link>
                    ) : (
                      <span class="muted">not run</span>
                    )}
                  </td>
                ))}
                {sortScore ? <td>{scoreSpread(item, sortScore).toFixed(3)}</td> : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length === 0 ? <p class="muted pad">No items ran.</p> : null}
      {names.length > 0 ? null : <p class="muted small">No scores on these runs.</p>}
      <p class="muted small">Cells of an item whose outputs differ between runs are highlighted.</p>
      <ListPager label="Compared item pages" page={page} meta={data.meta} onPage={setPage} />
    </div>
  );
}

/** Adds the trace (or the selected observation) to a dataset the member picks: its input as
 * the item's input, its output as the expected output. */
export function AddToDataset(props: { projectId: string; traceId: string; observationId: string | null; input: unknown; output: unknown }) {
  const datasets = useLoad((signal) => api.get<Paged<DatasetRow>>(projectPath(props.projectId, "/datasets?limit=100"), signal), [props.projectId]);
  const [message, setMessage] = useState("");
  const what = props.observationId ? "observation" : "trace";
  return (
    <ChooseAndAct
      choices={datasets.data?.data ?? []}
      keyOf={(dataset) => dataset.name}
      nameOf={(dataset) => dataset.name}
      label="Dataset"
      button={`Add ${what} to dataset`}
      onAct={(dataset) =>
        api
          .post(datasetPath(props.projectId, dataset.name, "/items"), {
            input: props.input ?? null,
            expectedOutput: props.output ?? null,
            sourceTraceId: props.traceId,
            sourceObservationId: props.observationId,
          })
          .then(
            () => setMessage(`Added the ${what} to ${dataset.name}.`),
            (reason: Error) => setMessage(reason.message),
          )
      }
      message={message}
    />
  );
}
