// The timeline's arithmetic: a visible window of the trace's span (zoomed and panned), nice
// ticks for its axis, where a bar's label goes so it never covers a bar, and the critical
// path of the observation tree.

import type { ObservationLike, TreeNode } from "./tree";

/** The visible part of the span, as fractions of it: `0 <= start < end <= 1`. */
export interface Window {
  start: number;
  end: number;
}

export const FULL: Window = { start: 0, end: 1 };
/** The narrowest window: a ten-thousandth of the span. */
const MIN_WIDTH = 1e-4;

function clampWindow(start: number, width: number): Window {
  const w = Math.min(1, Math.max(MIN_WIDTH, width));
  const s = Math.min(Math.max(0, start), 1 - w);
  return { start: s, end: s + w };
}

/** Zooms by `factor` (< 1 in, > 1 out) around `at`, a fraction (0..1) of the window. */
export function zoom(window: Window, factor: number, at = 0.5): Window {
  const width = window.end - window.start;
  const next = Math.min(1, Math.max(MIN_WIDTH, width * factor));
  const pivot = window.start + width * at;
  return clampWindow(pivot - next * at, next);
}

/** Moves the window by `by` of its own width (negative: earlier). */
export function pan(window: Window, by: number): Window {
  const width = window.end - window.start;
  return clampWindow(window.start + by * width, width);
}

/** Ticks at 1, 2 or 5 × 10^n milliseconds between `from` and `to` (ms from the trace's start),
 * about `count` of them. */
export function niceTicks(from: number, to: number, count = 6): number[] {
  const range = to - from;
  if (!(range > 0) || !Number.isFinite(range)) return [from];
  const rough = range / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = Math.ceil(from / step) * step; tick <= to + step * 1e-9; tick += step) {
    ticks.push(Number(tick.toPrecision(12)));
  }
  return ticks;
}

/** A tick's label: "0", "250 ms", "1.5 s", "2 min", at the precision of the step. */
export function tickLabel(ms: number, step: number): string {
  if (ms === 0) return "0";
  if (step < 1) return `${ms.toFixed(Math.min(3, Math.ceil(-Math.log10(step))))} ms`;
  if (step < 1000) return `${Math.round(ms)} ms`;
  if (step < 60_000) return `${(ms / 1000).toFixed(step % 1000 === 0 ? 0 : 1)} s`;
  if (step < 3_600_000) return `${(ms / 60_000).toFixed(step % 60_000 === 0 ? 0 : 1)} min`;
  return `${(ms / 3_600_000).toFixed(step % 3_600_000 === 0 ? 0 : 1)} h`;
}

/** Where a bar (left and right edges as fractions of the track) puts its label: after it when
 * there is room, else before it, else inside it, clipped to the bar. */
export function labelSide(left: number, right: number, room = 0.18): "after" | "before" | "inside" {
  if (right <= 1 - room) return "after";
  if (left >= room) return "before";
  return "inside";
}

function bounds(observation: ObservationLike): [number, number] | null {
  const start = observation.startTime ? Date.parse(observation.startTime) : NaN;
  if (Number.isNaN(start)) return null;
  const end = observation.endTime ? Date.parse(observation.endTime) : NaN;
  return [start, Number.isNaN(end) ? start : Math.max(start, end)];
}

/** The critical path: from the observation that ends last, back through the children that
 * kept each one running (the child ending last, then the one ending last before that child
 * started, and so on). Its ids. */
export function criticalPath<T extends ObservationLike>(roots: TreeNode<T>[]): Set<string> {
  const path = new Set<string>();
  const stack: TreeNode<T>[][] = [roots];
  while (stack.length > 0) {
    const siblings = stack.pop()!;
    const timed = siblings
      .map((node) => [node, bounds(node.observation)] as const)
      .filter((entry): entry is readonly [TreeNode<T>, [number, number]] => entry[1] !== null)
      .sort((a, b) => b[1][1] - a[1][1]);
    let boundary = Number.POSITIVE_INFINITY;
    for (const [node, [start, end]] of timed) {
      if (end > boundary) continue;
      path.add(node.observation.id);
      if (node.children.length > 0) stack.push(node.children);
      boundary = start;
    }
  }
  return path;
}
