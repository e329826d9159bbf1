// The scores table: name, the filter builder's conditions, page and page size kept in the URL.

import { api, projectPath, type Paged, type Score } from "../api";
import { conditionsFromUrl, changedSearch, pageSizeFromUrl, SCORE_COLUMNS, toServerConditions, type BuilderCondition } from "../conditions";
import { scoreValue, time } from "../format";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { FilterBuilder, PageSize } from "../components/FilterBuilder";
import { LoadingStatus, Pager, projectBase, TableHead } from "../components/Table";

/** The server query of the scores page's URL. */
export function scoreQuery(search: URLSearchParams): URLSearchParams {
  const query = new URLSearchParams();
  const name = search.get("name")?.trim();
  if (name) query.set("name", name);
  const conditions = toServerConditions(conditionsFromUrl(search, SCORE_COLUMNS), SCORE_COLUMNS);
  if (conditions.length > 0) query.set("filter", JSON.stringify(conditions));
  query.set("page", String(Math.max(Number.parseInt(search.get("page") ?? "1", 10) || 1, 1)));
  query.set("limit", String(pageSizeFromUrl(search)));
  return query;
}

export function Scores(props: { projectId: string; search: URLSearchParams }) {
  const base = projectBase(props.projectId);
  const key = props.search.toString();
  const scores = useLoad((signal) => api.get<Paged<Score>>(`${projectPath(props.projectId, "/scores")}?${scoreQuery(props.search)}`, signal), [props.projectId, key]);
  const update = (change: Record<string, string>, conditions?: BuilderCondition[]) => {
    const text = changedSearch(props.search, change, conditions);
    navigate(`${base}/scores${text ? `?${text}` : ""}`, true);
  };
  const rows = scores.data?.data ?? [];
  const meta = scores.data?.meta;
  const page = Math.max(Number.parseInt(props.search.get("page") ?? "1", 10) || 1, 1);
  return (
    <div class="page">
      <div class="toolbar">
        <h1>Scores</h1>
        <input
          type="search"
          placeholder="Score name"
          aria-label="Score name"
          defaultValue={props.search.get("name") ?? ""}
          key={props.search.get("name") ?? ""}
          onChange={(event) => update({ name: event.currentTarget.value.trim() })}
        />
        <span class="muted small">Add scores from a trace page.</span>
      </div>
      <FilterBuilder
        projectId={props.projectId}
        columns={SCORE_COLUMNS}
        conditions={conditionsFromUrl(props.search, SCORE_COLUMNS)}
        onChange={(conditions) => update({}, conditions)}
      />
      {scores.error ? <p class="error-box">{scores.error}</p> : null}
      <LoadingStatus loading={scores.loading} hasRows={rows.length > 0} />
      <table class={`data${scores.loading ? " stale" : ""}`} aria-busy={scores.loading}>
        <TableHead columns={["Time", "Name", "Value", "Source", "Trace", "Comment"]} />
        <tbody>
          {rows.map((score) => (
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
      {!scores.loading && meta && meta.totalItems === 0 ? <p class="muted pad">No scores.</p> : null}
      {meta && meta.totalItems > 0 ? (
        <Pager page={page} pages={Math.max(meta.totalPages, 1)} onPage={(next) => update({ page: String(next) })} total={`${meta.totalItems.toLocaleString("en-US")} scores`}>
          <PageSize value={pageSizeFromUrl(props.search)} onChange={(limit) => update({ limit: limit === 50 ? "" : String(limit) })} />
        </Pager>
      ) : null}
    </div>
  );
}
