// Datasets: the shapes of the dataset routes, and the comparison's rules: which cells differ
// between runs, and how far apart the runs' scores of an item are.

import type { PageMeta } from "./api";

export interface ScoreSummary {
  name: string;
  dataType: string;
  count: number;
  numeric: { mean: number; min: number; max: number } | null;
  categories: { value: string; count: number }[];
  trueRate: number | null;
}

export interface DatasetRow {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
  itemCount: number;
  runCount: number;
}

export interface DatasetItem {
  id: string;
  status: "ACTIVE" | "ARCHIVED";
  input: unknown;
  expectedOutput: unknown;
  metadata: unknown;
  sourceTraceId: string | null;
  sourceObservationId: string | null;
  createdAt: string;
}

export interface RunRow {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
  itemCount?: number;
  latency?: { mean: number } | null;
  totalCost?: number | null;
  meanCost?: number | null;
  scores?: ScoreSummary[];
}

export interface RunResult {
  runItemId: string;
  traceId: string;
  observationId: string | null;
  output: unknown;
  latency: number | null;
  totalCost: number | null;
  scores: ScoreSummary[];
}

export interface ComparedItem {
  datasetItemId: string;
  status: string;
  input: unknown;
  expectedOutput: unknown;
  runs: (RunResult | null)[];
}

export interface Comparison {
  runs: RunRow[];
  data: ComparedItem[];
  meta: PageMeta;
}

/** A score's one number: the mean of numeric and boolean scores, else null. */
export function scoreNumber(scores: ScoreSummary[], name: string): number | null {
  return scores.find((score) => score.name === name)?.numeric?.mean ?? null;
}

/** How far apart the runs' values of the score are on an item (max − min); 0 when fewer
 * than two runs have it. */
export function scoreSpread(item: ComparedItem, name: string): number {
  const values = item.runs.flatMap((run) => {
    const value = run ? scoreNumber(run.scores, name) : null;
    return value === null ? [] : [value];
  });
  return values.length < 2 ? 0 : Math.max(...values) - Math.min(...values);
}

/** Whether the runs' outputs of an item are not all the same (a run without the item counts
 * as different). */
export function outputsDiffer(item: ComparedItem): boolean {
  const texts = item.runs.map((run) => (run ? JSON.stringify(run.output ?? null) : "\u0000missing"));
  return texts.some((text) => text !== texts[0]);
}

/** The score names any run of the comparison has, sorted. */
export function scoreNames(comparison: Comparison): string[] {
  const names = new Set<string>();
  for (const item of comparison.data) for (const run of item.runs) for (const score of run?.scores ?? []) names.add(score.name);
  return [...names].sort();
}

/** The items, the widest score spread first when sorting by `name`, else as they came. */
export function sortBySpread(items: ComparedItem[], name: string | null): ComparedItem[] {
  if (!name) return items;
  return [...items].sort((a, b) => scoreSpread(b, name) - scoreSpread(a, name));
}

/** The query naming runs to compare: one `runs` parameter per run, so a name may hold a
 * comma (read back with `URLSearchParams.getAll("runs")`). */
export function runsQuery(runs: string[]): string {
  return runs.map((run) => `runs=${encodeURIComponent(run)}`).join("&");
}

/** The comparison page of `runs` of a dataset, under the project's page `base`. */
export function compareHref(base: string, dataset: string, runs: string[]): string {
  return `${base}/datasets/${encodeURIComponent(dataset)}/compare?${runsQuery(runs)}`;
}

/** Parses a JSON field of a form: empty is null, text that is not JSON stays a string. */
export function parseField(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}
