// The scores table, filterable by name.

import { useState } from "preact/hooks";
import { type Score } from "../api";
import { scoreValue, time } from "../format";
import { Link } from "../router";
import { ListPage, projectBase, usePagedList } from "../components/Table";

export function Scores(props: { projectId: string }) {
  const [name, setName] = useState("");
  const base = projectBase(props.projectId);
  const list = usePagedList<Score>(props.projectId, "/scores", name ? { name } : {});
  return (
    <ListPage<Score>
      title="Scores"
      tools={
        <>
          <input
            type="search"
            placeholder="Score name"
            aria-label="Score name"
            defaultValue={name}
            onChange={(event) => {
              setName(event.currentTarget.value.trim());
              list.setPage(1);
            }}
          />
          <span class="muted small">Add scores from a trace page.</span>
        </>
      }
      list={list}
      columns={["Time", "Name", "Value", "Source", "Trace", "Comment"]}
      empty="No scores."
      row={(score) => (
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
      )}
    />
  );
}
