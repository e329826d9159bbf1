// The dashboard metadata keys section of the settings: the trace metadata keys the server
// rolls up, each ready or still building (refreshed every two seconds while a sweep runs), a
// form that adds one and a button that removes one. Admins and owners change the list;
// everyone sees it.

import { useState } from "preact/hooks";
import { api, projectPath } from "../api";
import { time } from "../format";
import { useLiveRefresh, useLoad } from "../hooks";
import { TableHead } from "../components/Table";
import { addKeyProblem, loadRolledMetadata, withKey, withoutKey, type RolledMetadata } from "../rolled-metadata";

/** The server's limits (it answers with its own `maxKeys`; these apply until then). */
const MAX_KEYS = 10;
const MAX_KEY_CHARS = 200;

export function RolledMetadataKeys(props: { projectId: string; manage: boolean; fail: (reason: Error) => void; changed: () => void }) {
  const rolled = useLoad((signal) => loadRolledMetadata(props.projectId, signal), [props.projectId]);
  useLiveRefresh(rolled, 2000, rolled.data?.sweeping === true);
  const [input, setInput] = useState("");
  const [saving, setSaving] = useState(false);
  const keys = rolled.data?.keys ?? [];
  const problem = addKeyProblem(
    keys.map((key) => key.key),
    input,
    rolled.data?.maxKeys ?? MAX_KEYS,
  );
  // The server replaces the whole list, so it is read again first: a key another admin added
  // or removed meanwhile is kept that way.
  const save = (change: (keys: string[]) => string[], saved?: () => void) => {
    setSaving(true);
    loadRolledMetadata(props.projectId)
      .then((fresh) => api.put<RolledMetadata>(projectPath(props.projectId, "/rolled-metadata"), { keys: change(fresh.keys.map((key) => key.key)) }))
      .then(
        () => {
          saved?.();
          props.changed();
        },
        props.fail,
      )
      .finally(() => {
        setSaving(false);
        void rolled.reload();
      });
  };
  return (
    <section class="card rolled-metadata" data-testid="rolled-metadata">
      <h2>Dashboard metadata keys</h2>
      <p class="muted">
        Dashboard filters on these trace metadata keys are answered from pre-aggregated rollups; a filter on any other key reads every matching trace.
      </p>
      {rolled.error ? <p class="error-box">{rolled.error}</p> : null}
      {keys.length > 0 ? (
        <table class="data compact">
          <TableHead columns={["Key", "State", "Added", ""]} />
          <tbody>
            {keys.map((key) => (
              <tr key={key.key} data-testid="rolled-key" data-key={key.key}>
                <td>
                  <code>{key.key}</code>
                </td>
                <td data-testid="rolled-key-state" title={key.ready ? undefined : "The project's traces are being rolled up under this key; until then its filters read the traces."}>
                  {key.ready ? "ready" : "building…"}
                </td>
                <td>{time(key.createdAt)}</td>
                <td>
                  {props.manage ? (
                    <button type="button" class="danger" aria-label={`Remove ${key.key}`} disabled={saving} onClick={() => save((current) => withoutKey(current, key.key))}>
                      Remove
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : rolled.data ? (
        <p class="muted">No keys rolled up yet.</p>
      ) : null}
      {props.manage ? (
        <>
          <form
            class="inline"
            onSubmit={(event) => {
              event.preventDefault();
              if (problem === null) save((current) => withKey(current, input), () => setInput(""));
            }}
          >
            <input
              maxLength={MAX_KEY_CHARS}
              placeholder="metadata key, e.g. tenant"
              aria-label="Metadata key to roll up"
              data-testid="rolled-key-input"
              value={input}
              onInput={(e) => setInput(e.currentTarget.value)}
            />
            <button type="submit" class="primary" data-testid="rolled-key-add" disabled={problem !== null || saving}>
              Roll up
            </button>
          </form>
          {problem ? <p class="muted small" data-testid="rolled-key-problem">{problem}</p> : null}
        </>
      ) : (
        <p class="muted">Only admins and owners change the rolled-up keys.</p>
      )}
    </section>
  );
}
