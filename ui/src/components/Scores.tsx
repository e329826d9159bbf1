// Scores shown on a trace, an observation or a session, and the form that adds an annotation
// score to one of them with the project's score configs (or a free-form name and value).

import { useState } from "preact/hooks";
import { api, projectPath, type Score } from "../api";
import { scoreValue } from "../format";
import { configShape, useScoreConfigs } from "../pages/ScoreConfigs";

/// What a score is given to: a trace (or one of its observations), or a session.
export type ScoreTarget = { traceId: string; observationId: string | null } | { sessionId: string };

function targetLabel(target: ScoreTarget): string {
  if ("sessionId" in target) return "to the session";
  return target.observationId ? "to this observation" : "to the trace";
}

export function ScoreList(props: { scores: Score[] }) {
  return (
    <>
      <h3>Scores</h3>
      {props.scores.length === 0 ? <p class="muted">No scores.</p> : null}
      <ul class="scores">
        {props.scores.map((score) => (
          <li key={score.id}>
            <strong>{score.name}</strong> {scoreValue(score)} <span class="muted small">{score.source.toLowerCase()}</span>
            {score.comment ? <span class="muted"> — {score.comment}</span> : null}
          </li>
        ))}
      </ul>
    </>
  );
}

export function AddScore(props: { projectId: string; target: ScoreTarget; onAdded: () => void }) {
  const configs = useScoreConfigs(props.projectId);
  const active = (configs.data?.data ?? []).filter((config) => !config.isArchived);
  const [configId, setConfigId] = useState("");
  const config = active.find((candidate) => candidate.id === configId) ?? null;
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [comment, setComment] = useState("");
  const [error, setError] = useState("");
  const choose = (id: string) => {
    setConfigId(id);
    const chosen = active.find((candidate) => candidate.id === id);
    setValue(chosen?.dataType === "BOOLEAN" ? "0" : "");
  };
  return (
    <form
      class="add-score card"
      onSubmit={(event) => {
        event.preventDefault();
        const body: Record<string, unknown> = { ...props.target, name, comment: comment || null };
        const numeric = Number(value);
        if (config) {
          body.name = config.name;
          body.configId = config.id;
          body.value = config.dataType === "CATEGORICAL" ? value : numeric;
        } else if (value.trim() !== "" && Number.isFinite(numeric)) body.value = numeric;
        else {
          body.value = value;
          body.dataType = "CATEGORICAL";
        }
        api.post(projectPath(props.projectId, "/scores"), body).then(
          () => {
            setName("");
            setValue(config?.dataType === "BOOLEAN" ? "0" : "");
            setComment("");
            setError("");
            props.onAdded();
          },
          (reason: Error) => setError(reason.message),
        );
      }}
    >
      <h3>Add a score {targetLabel(props.target)}</h3>
      {active.length > 0 ? (
        <select aria-label="Score config" value={configId} onChange={(e) => choose(e.currentTarget.value)}>
          <option value="">free-form score</option>
          {active.map((candidate) => (
            <option key={candidate.id} value={candidate.id}>
              {candidate.name}
            </option>
          ))}
        </select>
      ) : null}
      {config ? null : (
        <input name="score-name" placeholder="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="Score name" />
      )}
      {config === null ? (
        <input name="score-value" placeholder="value" required value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-label="Score value" />
      ) : config.dataType === "NUMERIC" ? (
        <input type="number" step="any" name="score-value" required min={config.minValue ?? undefined} max={config.maxValue ?? undefined}
          placeholder={configShape(config)} value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-label="Score value" />
      ) : config.dataType === "BOOLEAN" ? (
        <label class="toggle">
          <input type="checkbox" checked={value === "1"} onChange={(e) => setValue(e.currentTarget.checked ? "1" : "0")} aria-label="Score value" />
          {value === "1" ? "True" : "False"}
        </label>
      ) : (
        <span class="categories" role="group" aria-label="Score value">
          {(config.categories ?? []).map((category) => (
            <button type="button" key={category.label} aria-pressed={value === category.label} class={value === category.label ? "selected" : ""}
              onClick={() => setValue(category.label)}>
              {category.label}
            </button>
          ))}
        </span>
      )}
      <input name="score-comment" placeholder="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} aria-label="Score comment" />
      <button type="submit" class="primary" disabled={config?.dataType === "CATEGORICAL" && value === ""}>
        Add score
      </button>
      {error ? <p class="error-box">{error}</p> : null}
    </form>
  );
}
