// The project's rolled-up metadata keys (`/api/ui/projects/{id}/rolled-metadata`): the trace
// metadata keys whose values the server pre-aggregates, so a dashboard filtered on one of them
// reads rollups instead of every matching trace. A key is used once its sweep is done (`ready`).

import { api, projectPath } from "./api";
import type { DashboardFilters } from "./dashboard";

export interface RolledKey {
  key: string;
  /** Every trace is rolled up under it; until then its filters read the traces. */
  ready: boolean;
  createdAt: string;
}

export interface RolledMetadata {
  keys: RolledKey[];
  maxKeys: number;
  /** A sweep of the project's traces runs (some key is not ready yet). */
  sweeping: boolean;
}

export function loadRolledMetadata(projectId: string, signal?: AbortSignal): Promise<RolledMetadata> {
  return api.get<RolledMetadata>(projectPath(projectId, "/rolled-metadata"), signal);
}

/** The list with `input` (trimmed) added at its end; the same list when it is there already. */
export function withKey(keys: string[], input: string): string[] {
  const key = input.trim();
  return keys.includes(key) ? keys : [...keys, key];
}

/** The list without `key`. */
export function withoutKey(keys: string[], key: string): string[] {
  return keys.filter((other) => other !== key);
}

/** Why `input` cannot be added to `keys` now, or null when it can. An empty input gives an
 * empty reason (the button is disabled without a message). */
export function addKeyProblem(keys: string[], input: string, maxKeys: number): string | null {
  const key = input.trim();
  if (keys.length >= maxKeys) return `At most ${maxKeys} keys can be rolled up: remove one to add another.`;
  if (key === "") return "";
  if (keys.includes(key)) return `${key} is already rolled up.`;
  return null;
}

/** The dashboard's note on its metadata filter: the key when the filter is active and the key
 * is not rolled up (`missing`) or not ready yet (`building`); null otherwise, and while the
 * list is unknown. */
export function metadataFilterNote(
  filters: DashboardFilters,
  rolled: RolledMetadata | null,
): { key: string; state: "missing" | "building" } | null {
  const key = filters.metadataKey.trim();
  if (key === "" || filters.metadataValue === "" || rolled === null) return null;
  const listed = rolled.keys.find((candidate) => candidate.key === key);
  if (!listed) return { key, state: "missing" };
  return listed.ready ? null : { key, state: "building" };
}
