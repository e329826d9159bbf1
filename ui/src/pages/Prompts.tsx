// Prompts: the list (search, folders from the `/` in names, a tag), and a prompt's page with
// its versions and labels, the selected version's text or messages with their variables and
// placeholders highlighted, its config, a diff between any two versions, an editor for a new
// version, the per-version metrics of the generations that used them, and those generations.
// Everything from the server is rendered as text nodes.

import { useEffect, useState } from "preact/hooks";
import { api, projectPath, type Observation, type Paged } from "../api";
import { cost, count, latency, time } from "../format";
import { emptyView, viewToUrl } from "../filters";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { Pager, projectBase, TableHead, traceHref } from "../components/Table";
import { Comments } from "../components/Comments";
import { Cells, HeaderCells, usePickedColumns, type CellColumn } from "../components/Selection";
import {
  folderView,
  lineDiff,
  promptAsText,
  promptVariables,
  segments,
  type ChatMessage,
  type PromptContent,
  type PromptDetail,
  type PromptMeta,
  type PromptVersion,
  type VersionMetrics,
} from "../prompts";

/** The UI path of a prompt (its name, slashes included, as one segment). */
export function promptHref(projectId: string, name: string): string {
  return `${projectBase(projectId)}/prompts/${encodeURIComponent(name)}`;
}

function promptApi(projectId: string, name: string, rest = ""): string {
  return projectPath(projectId, `/prompts/${encodeURIComponent(name)}${rest}`);
}

/** The list: search and tag on the server, folders in the page's URL (`?folder=a/b`). */
export function Prompts(props: { projectId: string; search: URLSearchParams }) {
  const folder = props.search.get("folder") ?? "";
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const [page, setPage] = useState(1);
  const query = new URLSearchParams({ page: String(page), limit: "100" });
  if (search.trim()) query.set("search", search.trim());
  if (tag.trim()) query.set("tag", tag.trim());
  const loaded = useLoad(
    (signal) => api.get<Paged<PromptMeta>>(`${projectPath(props.projectId, "/prompts")}?${query}`, signal),
    [props.projectId, query.toString()],
  );
  const all = loaded.data?.data ?? [];
  // A search lists every match flat; browsing shows one folder at a time.
  const view = search.trim() ? { folders: [], prompts: all } : folderView(all, folder);
  const base = `${projectBase(props.projectId)}/prompts`;
  const openFolder = (next: string) => navigate(next ? `${base}?folder=${encodeURIComponent(next)}` : base);
  const [creating, setCreating] = useState(false);
  const parts = folder ? folder.split("/") : [];
  const promptColumns: CellColumn<PromptMeta>[] = [
    {
      id: "name",
      label: "Name",
      cell: (prompt) => <Link href={promptHref(props.projectId, prompt.name)}>{search.trim() ? prompt.name : prompt.name.slice(folder ? folder.length + 1 : 0)}</Link>,
    },
    { id: "type", label: "Type", cell: (prompt) => prompt.type },
    { id: "versions", label: "Versions", className: "num", cell: (prompt) => prompt.versions.length },
    { id: "latest", label: "Latest version", shown: false, className: "num", cell: (prompt) => Math.max(...prompt.versions, 0) || "–" },
    {
      id: "labels",
      label: "Labels",
      cell: (prompt) =>
        prompt.labels.map((label) => (
          <span key={label} class={`tag label-${label}`}>
            {label}
          </span>
        )),
    },
    {
      id: "tags",
      label: "Tags",
      cell: (prompt) =>
        prompt.tags.map((name) => (
          <button key={name} type="button" class="tag" onClick={() => setTag(name)}>
            {name}
          </button>
        )),
    },
    { id: "updated", label: "Updated", cell: (prompt) => time(prompt.lastUpdatedAt) },
  ];
  const { shown, picker } = usePickedColumns(promptColumns, "prompts");
  /** A filter input's handler: sets the filter from the input and goes back to page 1. */
  const refilter = (setFilter: (value: string) => void) => (event: { currentTarget: HTMLInputElement }) => {
    setFilter(event.currentTarget.value);
    setPage(1);
  };
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Prompts</h1>
        <input
          type="search"
          aria-label="Search prompts"
          placeholder="Search names"
          value={search}
          onInput={refilter(setSearch)}
        />
        <input
          type="text"
          aria-label="Tag"
          placeholder="Tag"
          value={tag}
          onChange={refilter(setTag)}
        />
        {picker}
        <span class="spacer" />
        <button type="button" onClick={() => setCreating(!creating)}>
          {creating ? "Cancel" : "New prompt"}
        </button>
      </div>
      {creating ? (
        <VersionEditor
          projectId={props.projectId}
          name={folder ? `${folder}/` : ""}
          editableName
          initial={{ type: "text", prompt: "", config: {} }}
          onCreated={(created) => navigate(promptHref(props.projectId, created.name))}
        />
      ) : null}
      <nav class="crumbs small" aria-label="Folder">
        <a href={base} onClick={(event) => (event.preventDefault(), openFolder(""))}>
          all prompts
        </a>
        {parts.map((part, index) => {
          const path = parts.slice(0, index + 1).join("/");
          return (
            <span key={path}>
              {" / "}
              <a href={`${base}?folder=${encodeURIComponent(path)}`} onClick={(event) => (event.preventDefault(), openFolder(path))}>
                {part}
              </a>
            </span>
          );
        })}
      </nav>
      {loaded.error ? <p class="error-box">{loaded.error}</p> : null}
      <table class="data prompts">
        <thead>
          <tr>
            <HeaderCells columns={promptColumns} shown={shown} />
          </tr>
        </thead>
        <tbody>
          {view.folders.map((path) => (
            <tr key={`folder:${path}`} class="folder">
              <td colSpan={shown.length}>
                <a href={`${base}?folder=${encodeURIComponent(path)}`} onClick={(event) => (event.preventDefault(), openFolder(path))}>
                  📁 {path.slice(folder ? folder.length + 1 : 0)}/
                </a>
              </td>
            </tr>
          ))}
          {view.prompts.map((prompt) => (
            <tr key={prompt.name}>
              <Cells columns={promptColumns} shown={shown} row={prompt} />
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && loaded.data.meta.totalItems === 0 ? (
        <p class="muted pad">No prompts yet: create one here or with an SDK's create_prompt.</p>
      ) : null}
      {loaded.data && loaded.data.meta.totalPages > 1 ? <Pager page={page} pages={loaded.data.meta.totalPages} onPage={setPage} /> : null}
    </div>
  );
}

/** A text with its {{variables}} and prompt references as marked elements. */
export function PromptText(props: { text: string }) {
  return (
    <>
      {segments(props.text).map((segment, index) =>
        segment.kind === "variable" ? (
          <mark key={index} class="variable" title={`variable ${segment.name ?? ""}`}>
            {segment.text}
          </mark>
        ) : segment.kind === "reference" ? (
          <mark key={index} class="reference" title={`prompt ${segment.name ?? ""}`}>
            {segment.text}
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}

/** A version's content: a text, or its messages with placeholders marked. */
export function PromptContentView(props: { prompt: PromptContent }) {
  const { prompt } = props;
  if (typeof prompt === "string") {
    return (
      <pre class="prompt-text" aria-label="Prompt text">
        <PromptText text={prompt} />
      </pre>
    );
  }
  return (
    <div class="prompt-messages" aria-label="Prompt messages">
      {prompt.map((message, index) =>
        message.type === "placeholder" ? (
          <div key={index} class="message placeholder">
            <mark class="placeholder" title="placeholder: filled with a list of messages">
              placeholder: {message.name ?? ""}
            </mark>
          </div>
        ) : (
          <div key={index} class="message" data-role={message.role}>
            <div class="message-role">{message.role ?? "?"}</div>
            <pre class="prompt-text">
              <PromptText text={message.content ?? ""} />
            </pre>
          </div>
        ),
      )}
    </div>
  );
}

/** The lines of one version against another. */
export function VersionDiff(props: { before: PromptVersion; after: PromptVersion }) {
  const lines = lineDiff(promptAsText(props.before.prompt), promptAsText(props.after.prompt));
  const config = lineDiff(JSON.stringify(props.before.config, null, 2) ?? "", JSON.stringify(props.after.config, null, 2) ?? "");
  const changed = config.some((line) => line.kind !== "same");
  const render = (diff: typeof lines, label: string) => (
    <pre class="diff" aria-label={label}>
      {diff.map((line, index) => (
        <div key={index} class={`diff-${line.kind}`}>
          {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
          {line.text}
        </div>
      ))}
    </pre>
  );
  return (
    <div>
      {render(lines, "Prompt diff")}
      {changed ? (
        <>
          <h3>Config</h3>
          {render(config, "Config diff")}
        </>
      ) : (
        <p class="muted small">Same config.</p>
      )}
    </div>
  );
}

interface Draft {
  type: "text" | "chat";
  prompt: PromptContent;
  config: unknown;
}

/** The editor of a new version: the text (or messages as JSON), the variables found in it,
 * config, labels and a commit message. */
export function VersionEditor(props: {
  projectId: string;
  name: string;
  editableName?: boolean;
  initial: Draft;
  onCreated: (created: PromptVersion) => void;
}) {
  const [name, setName] = useState(props.name);
  const [type, setType] = useState(props.initial.type);
  const [text, setText] = useState(
    typeof props.initial.prompt === "string" ? props.initial.prompt : JSON.stringify(props.initial.prompt, null, 2),
  );
  const [config, setConfig] = useState(JSON.stringify(props.initial.config ?? {}, null, 2));
  const [labels, setLabels] = useState("");
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  let parsed: PromptContent | null = text;
  let parseError = "";
  if (type === "chat") {
    try {
      const value: unknown = JSON.parse(text || "[]");
      if (!Array.isArray(value)) throw new Error("messages must be a JSON list");
      parsed = value as ChatMessage[];
    } catch (reason) {
      parsed = null;
      parseError = reason instanceof Error ? reason.message : String(reason);
    }
  }
  const found = parsed === null ? { variables: [], placeholders: [] } : promptVariables(parsed);
  const submit = (event: Event) => {
    event.preventDefault();
    setError("");
    let configValue: unknown;
    try {
      configValue = JSON.parse(config || "{}");
    } catch {
      setError("config: not JSON");
      return;
    }
    if (parsed === null) {
      setError(`prompt: ${parseError}`);
      return;
    }
    const body = {
      name: name.trim(),
      type,
      prompt: parsed,
      config: configValue,
      labels: labels
        .split(",")
        .map((label) => label.trim())
        .filter(Boolean),
      commitMessage: message.trim() || undefined,
    };
    api.post<PromptVersion>(projectPath(props.projectId, "/prompts"), body).then(props.onCreated, (reason: Error) => setError(reason.message));
  };
  return (
    <form class="card editor" onSubmit={submit} aria-label="New version">
      {props.editableName ? (
        <label>
          Name
          <input name="name" value={name} onInput={(event) => setName(event.currentTarget.value)} required />
        </label>
      ) : null}
      <label>
        Type
        <select name="type" value={type} onChange={(event) => setType(event.currentTarget.value as "text" | "chat")} disabled={!props.editableName}>
          <option value="text">text</option>
          <option value="chat">chat</option>
        </select>
      </label>
      <label>
        {type === "chat" ? "Messages (JSON list of {role, content} or {type: \"placeholder\", name})" : "Prompt"}
        <textarea name="prompt" rows={8} value={text} onInput={(event) => setText(event.currentTarget.value)} />
      </label>
      <p class="small" aria-label="Variables found">
        Variables:{" "}
        {found.variables.length ? (
          found.variables.map((variable) => (
            <mark key={variable} class="variable">
              {variable}
            </mark>
          ))
        ) : (
          <span class="muted">none</span>
        )}
        {found.placeholders.length ? " · Placeholders: " : ""}
        {found.placeholders.map((placeholder) => (
          <mark key={placeholder} class="placeholder">
            {placeholder}
          </mark>
        ))}
        {parseError ? <span class="error"> {parseError}</span> : null}
      </p>
      <label>
        Config (JSON)
        <textarea name="config" rows={3} value={config} onInput={(event) => setConfig(event.currentTarget.value)} />
      </label>
      <label>
        Labels (comma-separated)
        <input name="labels" value={labels} onInput={(event) => setLabels(event.currentTarget.value)} />
      </label>
      <label>
        Commit message
        <input name="commitMessage" value={message} onInput={(event) => setMessage(event.currentTarget.value)} />
      </label>
      {error ? <p class="error-box">{error}</p> : null}
      <button type="submit" class="primary">
        Create version
      </button>
    </form>
  );
}

/** Moves a label to a version in one action; `production` asks first. */
export function LabelMover(props: { projectId: string; version: PromptVersion; known: string[]; onMoved: () => void; onError: (message: string) => void }) {
  const [label, setLabel] = useState("production");
  const move = (event: Event) => {
    event.preventDefault();
    const name = label.trim();
    if (!name) return;
    if (name === "production" && !confirm(`Serve version ${props.version.version} of ${props.version.name} as production?`)) return;
    api
      .post(promptApi(props.projectId, props.version.name, `/versions/${props.version.version}/labels`), { labels: [name] })
      .then(props.onMoved, (reason: Error) => props.onError(reason.message));
  };
  const options = Array.from(new Set(["production", ...props.known.filter((known) => known !== "latest")]));
  return (
    <form class="inline" onSubmit={move} aria-label="Move a label">
      <input name="label" list="known-labels" value={label} onInput={(event) => setLabel(event.currentTarget.value)} aria-label="Label" />
      <datalist id="known-labels">
        {options.map((option) => (
          <option key={option} value={option} />
        ))}
      </datalist>
      <button type="submit">Move label here</button>
    </form>
  );
}

/** The labels of a version, each but `latest` with an × that removes it; `production` asks first. */
export function LabelChips(props: { projectId: string; version: PromptVersion; onRemoved: () => void; onError: (message: string) => void }) {
  const remove = (label: string) => {
    if (label === "production" && !confirm(`Stop serving version ${props.version.version} of ${props.version.name} as production?`)) return;
    api
      .del(promptApi(props.projectId, props.version.name, `/versions/${props.version.version}/labels/${encodeURIComponent(label)}`))
      .then(props.onRemoved, (reason: Error) => props.onError(reason.message));
  };
  return (
    <span class="label-chips" aria-label="Labels">
      {props.version.labels.map((label) => (
        <span key={label} class={`tag label-${label}`}>
          {label}
          {label === "latest" ? null : (
            <button type="button" class="chip-remove" aria-label={`Remove label ${label}`} title={`Remove ${label}`} onClick={() => remove(label)}>
              ×
            </button>
          )}
        </span>
      ))}
    </span>
  );
}

/** Metrics of every used version side by side; the selected version's row is marked. */
export function MetricsTable(props: { metrics: VersionMetrics[]; selected: number; onSelect: (version: number) => void }) {
  const names = Array.from(new Set(props.metrics.flatMap((row) => row.scores.map((score) => score.name)))).sort();
  if (props.metrics.length === 0) return <p class="muted">No generation used this prompt yet.</p>;
  return (
    <table class="data metrics" aria-label="Version metrics">
      <TableHead
        columns={[
          "Version",
          ["Generations", "num"],
          ["p50", "num"],
          ["p90", "num"],
          ["p99", "num"],
          ["Tokens in / out", "num"],
          ["Cost", "num"],
          ...names.map((name): [string, string] => [name, "num"]),
          "Last used",
        ]}
      />
      <tbody>
        {props.metrics.map((row) => (
          <tr key={row.version} class={row.version === props.selected ? "selected" : ""} onClick={() => props.onSelect(row.version)}>
            <td>v{row.version}</td>
            <td class="num">{count(row.generations)}</td>
            <td class="num">{latency(row.latencyP50)}</td>
            <td class="num">{latency(row.latencyP90)}</td>
            <td class="num">{latency(row.latencyP99)}</td>
            <td class="num">
              {count(row.inputTokens)} / {count(row.outputTokens)}
            </td>
            <td class="num">{cost(row.totalCost)}</td>
            {names.map((name) => {
              const score = row.scores.find((candidate) => candidate.name === name);
              return (
                <td key={name} class="num" title={score ? `${score.count} scores` : undefined}>
                  {score ? score.average.toFixed(2) : "–"}
                </td>
              );
            })}
            <td>{time(row.lastUsed)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Generations(props: { projectId: string; name: string; version: number }) {
  const [page, setPage] = useState(1);
  useEffect(() => setPage(1), [props.name, props.version]);
  const loaded = useLoad(
    (signal) =>
      api.get<Paged<Observation>>(
        `${promptApi(props.projectId, props.name, `/versions/${props.version}/generations`)}?page=${page}&limit=20`,
        signal,
      ),
    [props.projectId, props.name, props.version, page],
  );
  const rows = loaded.data?.data ?? [];
  return (
    <div>
      {loaded.error ? <p class="error-box">{loaded.error}</p> : null}
      <table class="data" aria-label="Generations">
        <TableHead columns={["Start", "Name", "Model", ["Tokens", "num"], ["Cost", "num"], ["Latency", "num"], "Trace"]} />
        <tbody>
          {rows.map((o) => (
            <tr key={o.id}>
              <td class="nowrap">{time(o.startTime)}</td>
              <td>{o.name ?? "–"}</td>
              <td>{o.model ?? "–"}</td>
              <td class="num">{count(o.usageDetails?.total)}</td>
              <td class="num">{cost(o.totalCost)}</td>
              <td class="num">{latency(o.latency)}</td>
              <td>
                {o.traceId ? (
                  <Link href={traceHref(props.projectId, o.traceId, o.id)}>{o.traceId}</Link>
                ) : (
                  "–"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && loaded.data.meta.totalItems === 0 ? <p class="muted pad">No generation used this version yet.</p> : null}
      {loaded.data && loaded.data.meta.totalPages > 1 ? <Pager page={page} pages={loaded.data.meta.totalPages} onPage={setPage} /> : null}
    </div>
  );
}

/** The traces list filtered to the traces holding a generation of one prompt version. */
export function tracesOfVersionHref(projectId: string, name: string, version: number): string {
  const view = { ...emptyView(), promptName: name, promptVersion: String(version) };
  return `${projectBase(projectId)}/traces?${viewToUrl(view)}`;
}

type Tab = "prompt" | "config" | "diff" | "generations" | "new";

/** A prompt's page; `?version=n` selects a version, `?tab=` a tab. */
export function PromptPage(props: { projectId: string; name: string; search: URLSearchParams }) {
  const detail = useLoad((signal) => api.get<PromptDetail>(promptApi(props.projectId, props.name), signal), [props.projectId, props.name]);
  const tab = (props.search.get("tab") as Tab | null) ?? "prompt";
  // Opening the generations tab reads the metrics afresh: generations arrive all the time.
  const metrics = useLoad(
    (signal) => api.get<{ data: VersionMetrics[] }>(promptApi(props.projectId, props.name, "/metrics"), signal),
    [props.projectId, props.name, tab === "generations"],
  );
  const [error, setError] = useState("");
  const versions = detail.data?.versions ?? [];
  const wanted = Number(props.search.get("version") ?? "");
  const selected = versions.find((version) => version.version === wanted) ?? versions[0];
  const href = (changes: Record<string, string>) => {
    const query = new URLSearchParams(props.search);
    for (const [key, value] of Object.entries(changes)) query.set(key, value);
    return `${promptHref(props.projectId, props.name)}?${query}`;
  };
  const [against, setAgainst] = useState<number | null>(null);
  if (detail.error) return <div class="page error-box">{detail.error}</div>;
  if (!detail.data || !selected) return <div class="page muted">Loading…</div>;
  const previous = versions.find((version) => version.version < selected.version);
  const other = versions.find((version) => version.version === against) ?? previous ?? selected;
  const known = Array.from(new Set(versions.flatMap((version) => version.labels)));
  const reload = () => {
    setError("");
    detail.reload(true);
  };
  return (
    <div class="page prompt-page">
      <div class="toolbar">
        <h1>
          <Link href={`${projectBase(props.projectId)}/prompts`}>Prompts</Link> / {props.name}
        </h1>
        <span class="badge">{detail.data.type}</span>
        {detail.data.tags.map((tag) => (
          <span key={tag} class="tag">
            {tag}
          </span>
        ))}
        <span class="spacer" />
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (!confirm(`Delete every version of ${props.name}?`)) return;
            api.del(promptApi(props.projectId, props.name)).then(
              () => navigate(`${projectBase(props.projectId)}/prompts`),
              (reason: Error) => setError(reason.message),
            );
          }}
        >
          Delete prompt
        </button>
      </div>
      {error ? <p class="error-box">{error}</p> : null}
      <div class="prompt-layout">
        <ol class="versions" aria-label="Versions">
          {versions.map((version) => (
            <li key={version.version} class={version.version === selected.version ? "active" : ""}>
              <Link href={href({ version: String(version.version) })}>
                <strong>v{version.version}</strong>{" "}
                {version.labels.map((label) => (
                  <span key={label} class={`tag label-${label}`}>
                    {label}
                  </span>
                ))}
                <div class="small muted">
                  {version.commitMessage ? `${version.commitMessage} · ` : ""}
                  {time(version.createdAt)}
                </div>
              </Link>
            </li>
          ))}
        </ol>
        <section class="card version">
          <div class="toolbar">
            <h2>Version {selected.version}</h2>
            <LabelChips projectId={props.projectId} version={selected} onRemoved={reload} onError={setError} />
            <LabelMover projectId={props.projectId} version={selected} known={known} onMoved={reload} onError={setError} />
            <span class="spacer" />
            <button
              type="button"
              class="danger"
              onClick={() => {
                if (!confirm(`Delete version ${selected.version} of ${props.name}?`)) return;
                api.del(`${promptApi(props.projectId, props.name)}?version=${selected.version}`).then(
                  () => (versions.length > 1 ? (navigate(href({ version: "" })), reload()) : navigate(`${projectBase(props.projectId)}/prompts`)),
                  (reason: Error) => setError(reason.message),
                );
              }}
            >
              Delete version
            </button>
          </div>
          <nav class="tabs" aria-label="Version views">
            {(
              [
                ["prompt", "Prompt"],
                ["config", "Config"],
                ["diff", "Diff"],
                ["generations", "Generations"],
                ["new", "New version"],
              ] as [Tab, string][]
            ).map(([key, label]) => (
              <Link key={key} href={href({ tab: key })} class={tab === key ? "active" : ""}>
                {label}
              </Link>
            ))}
          </nav>
          {tab === "prompt" ? <PromptContentView prompt={selected.prompt} /> : null}
          {tab === "config" ? (
            <pre class="json" aria-label="Config">
              {JSON.stringify(selected.config, null, 2)}
            </pre>
          ) : null}
          {tab === "diff" ? (
            <div>
              <label>
                Against version{" "}
                <select
                  aria-label="Compare with"
                  value={String(other.version)}
                  onChange={(event) => setAgainst(Number(event.currentTarget.value))}
                >
                  {versions.map((version) => (
                    <option key={version.version} value={String(version.version)}>
                      v{version.version}
                    </option>
                  ))}
                </select>
              </label>
              <p class="small muted">
                Changes from v{other.version} to v{selected.version}
              </p>
              <VersionDiff before={other} after={selected} />
            </div>
          ) : null}
          {tab === "generations" ? (
            <div>
              <h3>Metrics by version</h3>
              {metrics.error ? <p class="error-box">{metrics.error}</p> : null}
              <MetricsTable
                metrics={metrics.data?.data ?? []}
                selected={selected.version}
                onSelect={(version) => navigate(href({ version: String(version) }))}
              />
              <h3>Generations of v{selected.version}</h3>
              <p>
                <Link href={tracesOfVersionHref(props.projectId, props.name, selected.version)}>Traces using this version</Link>
              </p>
              <Generations projectId={props.projectId} name={props.name} version={selected.version} />
            </div>
          ) : null}
          {tab === "new" ? (
            <VersionEditor
              key={selected.version}
              projectId={props.projectId}
              name={props.name}
              initial={{ type: selected.type, prompt: selected.prompt, config: selected.config }}
              onCreated={(created) => {
                detail.reload(true);
                navigate(href({ version: String(created.version), tab: "prompt" }));
              }}
            />
          ) : null}
          <Comments key={selected.id} projectId={props.projectId} objectType="PROMPT" objectId={selected.id} label="prompt version" />
        </section>
      </div>
    </div>
  );
}
