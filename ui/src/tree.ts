// The observation tree of a trace: parents before children, siblings by start time, and the
// flattened rows that the tree view and the timeline both render.

export interface ObservationLike {
  id: string;
  parentObservationId?: string | null;
  startTime?: string | null;
  endTime?: string | null;
}

export interface TreeNode<T extends ObservationLike> {
  observation: T;
  children: TreeNode<T>[];
  depth: number;
}

export interface Row<T extends ObservationLike> {
  node: TreeNode<T>;
  hasChildren: boolean;
  collapsed: boolean;
}

function startOf(observation: ObservationLike): number {
  const time = observation.startTime ? Date.parse(observation.startTime) : NaN;
  return Number.isNaN(time) ? Number.MAX_SAFE_INTEGER : time;
}

/**
 * Builds the forest in linear time. An observation whose parent is unknown (not in this
 * trace) becomes a root; a cycle of parent links is broken at its first observation, so
 * every observation appears exactly once.
 */
export function buildTree<T extends ObservationLike>(observations: T[]): TreeNode<T>[] {
  const byId = new Map<string, TreeNode<T>>();
  const parentOf = new Map<TreeNode<T>, TreeNode<T>>();
  for (const observation of observations) {
    if (!byId.has(observation.id)) byId.set(observation.id, { observation, children: [], depth: 0 });
  }
  const roots: TreeNode<T>[] = [];
  for (const node of byId.values()) {
    const parentId = node.observation.parentObservationId;
    const parent = parentId ? byId.get(parentId) : undefined;
    if (parent && parent !== node) {
      parent.children.push(node);
      parentOf.set(node, parent);
    } else {
      roots.push(node);
    }
  }
  const visited = new Set<TreeNode<T>>();
  const mark = (start: TreeNode<T>) => {
    const stack = [start];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (visited.has(node)) continue;
      visited.add(node);
      for (const child of node.children) stack.push(child);
    }
  };
  for (const root of roots) mark(root);
  // What is not reachable from a root hangs off a cycle: cut each cycle once.
  for (const node of byId.values()) {
    if (visited.has(node)) continue;
    const parent = parentOf.get(node);
    if (parent) parent.children.splice(parent.children.indexOf(node), 1);
    roots.push(node);
    mark(node);
  }
  const order = (a: TreeNode<T>, b: TreeNode<T>) =>
    startOf(a.observation) - startOf(b.observation) || a.observation.id.localeCompare(b.observation.id);
  roots.sort(order);
  const stack: [TreeNode<T>[], number][] = [[roots, 0]];
  while (stack.length > 0) {
    const [nodes, depth] = stack.pop()!;
    nodes.sort(order);
    for (const node of nodes) {
      node.depth = depth;
      stack.push([node.children, depth + 1]);
    }
  }
  return roots;
}

/** Depth-first rows, skipping the descendants of collapsed nodes. */
export function visibleRows<T extends ObservationLike>(
  roots: TreeNode<T>[],
  collapsed: Set<string>,
): Row<T>[] {
  const rows: Row<T>[] = [];
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    const isCollapsed = collapsed.has(node.observation.id);
    rows.push({ node, hasChildren: node.children.length > 0, collapsed: isCollapsed });
    if (!isCollapsed) {
      for (let index = node.children.length - 1; index >= 0; index--) stack.push(node.children[index]);
    }
  }
  return rows;
}

/** The time span of a set of observations, in ms since the epoch. */
export function span(observations: ObservationLike[]): { start: number; end: number } {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const observation of observations) {
    const s = observation.startTime ? Date.parse(observation.startTime) : NaN;
    if (Number.isNaN(s)) continue;
    const e = observation.endTime ? Date.parse(observation.endTime) : NaN;
    start = Math.min(start, s);
    end = Math.max(end, Number.isNaN(e) ? s : e);
  }
  if (!Number.isFinite(start)) return { start: 0, end: 0 };
  return { start, end };
}

/** A bar's left offset and width as fractions (0..1) of the trace's span. */
export function barOf(
  observation: ObservationLike,
  total: { start: number; end: number },
): { left: number; width: number } {
  const duration = Math.max(total.end - total.start, 1);
  const s = observation.startTime ? Date.parse(observation.startTime) : NaN;
  if (Number.isNaN(s)) return { left: 0, width: 0 };
  const eRaw = observation.endTime ? Date.parse(observation.endTime) : NaN;
  const e = Number.isNaN(eRaw) ? s : eRaw;
  const left = Math.min(Math.max((s - total.start) / duration, 0), 1);
  const width = Math.min(Math.max((e - s) / duration, 0), 1 - left);
  return { left, width };
}
