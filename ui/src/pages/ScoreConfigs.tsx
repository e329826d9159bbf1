// The score configs section of the settings: the project's configs (type, range or
// categories, archived or not), a form that creates a numeric, categorical or boolean config,
// and archiving. Owners change them; everyone sees them.

import { useState } from "preact/hooks";
import { api, projectPath, type ScoreConfig, type ScoreConfigCategory } from "../api";
import { useLoad } from "../hooks";
import { TableHead } from "../components/Table";

/** What a config allows, as text: its range, its categories, or its type. */
export function configShape(config: ScoreConfig): string {
  if (config.dataType === "NUMERIC") {
    const low = config.minValue ?? "−∞";
    const high = config.maxValue ?? "+∞";
    return `${low} to ${high}`;
  }
  if (config.categories && config.categories.length > 0) {
    return config.categories.map((category) => `${category.label} (${category.value})`).join(", ");
  }
  return config.dataType.toLowerCase();
}

/** Categories typed as `label=value` lines (or bare labels, numbered from 0). */
export function parseCategories(text: string): ScoreConfigCategory[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line, index) => {
      const at = line.lastIndexOf("=");
      if (at > 0 && Number.isFinite(Number(line.slice(at + 1)))) {
        return { label: line.slice(0, at).trim(), value: Number(line.slice(at + 1)) };
      }
      return { label: line, value: index };
    });
}

export function useScoreConfigs(projectId: string) {
  return useLoad(() => api.get<{ data: ScoreConfig[] }>(projectPath(projectId, "/score-configs")), [projectId]);
}

export function ScoreConfigs(props: { projectId: string; owner: boolean; fail: (reason: Error) => void }) {
  const configs = useScoreConfigs(props.projectId);
  const [name, setName] = useState("");
  const [dataType, setDataType] = useState<"NUMERIC" | "CATEGORICAL" | "BOOLEAN">("NUMERIC");
  const [minValue, setMinValue] = useState("");
  const [maxValue, setMaxValue] = useState("");
  const [categories, setCategories] = useState("");
  const [description, setDescription] = useState("");
  const setArchived = (config: ScoreConfig, isArchived: boolean) =>
    api
      .patch(projectPath(props.projectId, `/score-configs/${encodeURIComponent(config.id)}`), { isArchived })
      .then(() => configs.reload(true), props.fail);
  return (
    <section class="card score-configs">
      <h2>Score configs</h2>
      <table class="data compact">
        <TableHead columns={["Name", "Type", "Values", "Description", "Status", ""]} />
        <tbody>
          {(configs.data?.data ?? []).map((config) => (
            <tr key={config.id} data-testid="score-config-row">
              <td>{config.name}</td>
              <td>{config.dataType}</td>
              <td>{configShape(config)}</td>
              <td>{config.description ?? ""}</td>
              <td>{config.isArchived ? "archived" : "active"}</td>
              <td>
                {props.owner ? (
                  <button type="button" onClick={() => setArchived(config, !config.isArchived)}>
                    {config.isArchived ? "Restore" : "Archive"}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {(configs.data?.data ?? []).length === 0 ? <p class="muted">No score configs yet.</p> : null}
      {props.owner ? (
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            const body: Record<string, unknown> = { name, dataType, description: description || null };
            if (dataType === "NUMERIC") {
              if (minValue.trim() !== "") body.minValue = Number(minValue);
              if (maxValue.trim() !== "") body.maxValue = Number(maxValue);
            }
            if (dataType === "CATEGORICAL") body.categories = parseCategories(categories);
            api.post(projectPath(props.projectId, "/score-configs"), body).then(() => {
              setName("");
              setMinValue("");
              setMaxValue("");
              setCategories("");
              setDescription("");
              configs.reload(true);
            }, props.fail);
          }}
        >
          <input required maxLength={35} placeholder="name" aria-label="Config name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <select aria-label="Config type" value={dataType} onChange={(e) => setDataType(e.currentTarget.value as typeof dataType)}>
            <option value="NUMERIC">numeric</option>
            <option value="CATEGORICAL">categorical</option>
            <option value="BOOLEAN">boolean</option>
          </select>
          {dataType === "NUMERIC" ? (
            <>
              <input type="number" step="any" placeholder="min" aria-label="Minimum" value={minValue} onInput={(e) => setMinValue(e.currentTarget.value)} />
              <input type="number" step="any" placeholder="max" aria-label="Maximum" value={maxValue} onInput={(e) => setMaxValue(e.currentTarget.value)} />
            </>
          ) : null}
          {dataType === "CATEGORICAL" ? (
            <textarea required rows={3} placeholder={"one category a line: label=value"} aria-label="Categories" value={categories}
              onInput={(e) => setCategories(e.currentTarget.value)} />
          ) : null}
          <input placeholder="description" aria-label="Config description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          <button type="submit" class="primary">
            Create config
          </button>
        </form>
      ) : (
        <p class="muted">Only project owners create and archive score configs.</p>
      )}
    </section>
  );
}
