// Paths into JSON values (`$.messages[0].content`) and the search of a value: which nodes
// match a text, which containers must open to show them, and how far each must list its
// children.

export type Key = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of a child: `.name`, `["odd name"]` or `[3]` appended to its parent's. */
export function childPath(parent: string, key: Key): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

export const ROOT = "$";

export interface SearchResult {
  /** The matching nodes' paths, in document order. */
  matches: string[];
  /** The same paths, to look up. */
  matched: Set<string>;
  /** Every container on the way to a match. */
  open: Set<string>;
  /** Per open container, the index of its last child on the way to a match. */
  reach: Map<string, number>;
  /** The search stopped at `limit` matches. */
  truncated: boolean;
}

function entriesOf(value: unknown): [Key, unknown][] | null {
  if (Array.isArray(value)) return value.map((item, index) => [index, item]);
  if (typeof value === "object" && value !== null) return Object.entries(value);
  return null;
}

export { entriesOf };

/** The nodes whose key or scalar value contains `text` (ignoring case), depth first in
 * document order, at most `limit`. */
export function searchJson(value: unknown, text: string, limit = 1000): SearchResult {
  const result: SearchResult = { matches: [], matched: new Set(), open: new Set(), reach: new Map(), truncated: false };
  const needle = text.toLowerCase();
  if (needle === "") return result;
  // [value, path, key, ancestors as [path, child index] pairs]
  type Frame = { value: unknown; path: string; key: Key | null; trail: [string, number][] };
  const stack: Frame[] = [{ value, path: ROOT, key: null, trail: [] }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const entries = entriesOf(frame.value);
    const keyHit = typeof frame.key === "string" && frame.key.toLowerCase().includes(needle);
    const valueHit = entries === null && frame.value !== undefined && String(frame.value).toLowerCase().includes(needle);
    if (keyHit || valueHit) {
      if (result.matches.length >= limit) {
        result.truncated = true;
        break;
      }
      result.matches.push(frame.path);
      result.matched.add(frame.path);
      for (const [path, index] of frame.trail) {
        result.open.add(path);
        result.reach.set(path, Math.max(result.reach.get(path) ?? 0, index));
      }
    }
    if (entries) {
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index];
        stack.push({ value: child, path: childPath(frame.path, key), key, trail: [...frame.trail, [frame.path, index]] });
      }
    }
  }
  return result;
}
