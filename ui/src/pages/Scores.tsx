// The scores table, filterable by name.

import { useState } from "preact/hooks";
import { api, projectPath, type Paged, type Score } from "../api";
import { scoreValue, time } from "../format";
import { useLoad } from "../hooks";
import { Link } from "../router";

export function Scores(props: { projectId: string }) {
  const [page, setPage] = useState(1);
  const [name, setName] = useState("");
  const base = `/project/${encodeURIComponent(props.projectId)}`;
  const query = new URLSearchParams({ page: String(page), limit: "50" });
  if (name) query.set("name", name);
  const scores = useLoad(() => api.get<Paged<Score>>(`${projectPath(props.projectId, "/scores")}?${query}`), [props.projectId, page, name]);
  const meta = scores.data?.meta;
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Scores</h1>
        <input
          type="search"
          placeholder="Score name"
          aria-label="Score name"
          defaultValue={name}
          onChange={(event) => {
            setName(event.currentTarget.value.trim());
            setPage(1);
          }}
        />
        <span class="muted small">Add scores from a trace page.</span>
      </div>
      {scores.error ? <p class="error-box">{scores.error}</p> : null}
      <table class="data">
        <thead>
          <tr>
            <th>Time</th>
            <th>Name</th>
            <th>Value</th>
            <th>Source</th>
            <th>Trace</th>
            <th>Comment</th>
          </tr>
        </thead>
        <tbody>
          {(scores.data?.data ?? []).map((score) => (
            <tr key={score.id}>
              <td>{time(score.timestamp)}</td>
              <td>{score.name}</td>
              <td class="num">{scoreValue(score)}</td>
              <td>{score.source.toLowerCase()}</td>
              <td>
                {score.traceId ? (
                  <Link href={`${base}/traces/${encodeURIComponent(score.traceId)}${score.observationId ? `?observation=${encodeURIComponent(score.observationId)}` : ""}`}>
                    {score.traceId}
                  </Link>
                ) : (
                  "–"
                )}
              </td>
              <td>{score.comment ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {meta && meta.totalItems === 0 ? <p class="muted pad">No scores.</p> : null}
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
