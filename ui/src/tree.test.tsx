import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Observation } from "./api";
import { ObservationTree } from "./components/Tree";
import { Timeline } from "./components/Timeline";
import { barOf, buildTree, span, visibleRows } from "./tree";
import { testContainer } from "./test-container";

function obs(id: string, parent: string | null, start: number, end: number | null, extra: Partial<Observation> = {}): Observation {
  const iso = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();
  return {
    id,
    traceId: "t",
    parentObservationId: parent,
    name: id,
    type: "SPAN",
    environment: "default",
    startTime: iso(start),
    endTime: end === null ? null : iso(end),
    completionStartTime: null,
    input: null,
    output: null,
    metadata: {},
    level: "DEFAULT",
    statusMessage: null,
    model: null,
    modelParameters: null,
    usageDetails: {},
    costDetails: {},
    totalCost: 0,
    latency: end === null ? null : end - start,
    timeToFirstToken: null,
    promptName: null,
    version: null,
    ...extra,
  };
}

const sample = [
  obs("c2", "root", 5, 8),
  obs("root", null, 0, 10),
  obs("c1", "root", 1, 4),
  obs("g1", "c1", 2, 3, { type: "GENERATION", model: "gpt-4o", usageDetails: { input: 5, output: 7, total: 12 }, totalCost: 0.5 }),
  obs("orphan", "missing", 9, 9),
];

function ids(rows: ReturnType<typeof visibleRows<Observation>>) {
  return rows.map((row) => `${"-".repeat(row.node.depth)}${row.node.observation.id}`);
}

describe("observation tree", () => {
  it("orders parents before children and siblings by start time", () => {
    const rows = visibleRows(buildTree(sample), new Set());
    expect(ids(rows)).toEqual(["root", "-c1", "--g1", "-c2", "orphan"]);
  });

  it("hides the descendants of collapsed nodes", () => {
    const rows = visibleRows(buildTree(sample), new Set(["c1"]));
    expect(ids(rows)).toEqual(["root", "-c1", "-c2", "orphan"]);
    expect(rows[1].collapsed).toBe(true);
    expect(rows[1].hasChildren).toBe(true);
  });

  it("keeps every observation once even with cycles and self-parents", () => {
    const cyclic = [obs("a", "b", 0, 1), obs("b", "a", 1, 2), obs("self", "self", 2, 3)];
    const rows = visibleRows(buildTree(cyclic), new Set());
    expect(rows.map((row) => row.node.observation.id).sort()).toEqual(["a", "b", "self"]);
  });

  it("builds 10,000 nested observations without recursion limits", () => {
    const deep = Array.from({ length: 10_000 }, (_, index) => obs(`o${index}`, index === 0 ? null : `o${index - 1}`, index, index + 1));
    const rows = visibleRows(buildTree(deep), new Set());
    expect(rows).toHaveLength(10_000);
    expect(rows[9_999].node.depth).toBe(9_999);
  });
});

describe("tree and timeline components", () => {
  const container = testContainer();

  it("renders type, latency, tokens and cost per node, and toggles", () => {
    const toggled: string[] = [];
    const selected: string[] = [];
    const rows = visibleRows(buildTree(sample), new Set());
    render(<ObservationTree rows={rows} selected="g1" onSelect={(id) => selected.push(id)} onToggle={(id) => toggled.push(id)} />, container);
    const items = [...container.querySelectorAll('[role="treeitem"]')];
    expect(items.map((item) => item.getAttribute("data-id"))).toEqual(["root", "c1", "g1", "c2", "orphan"]);
    const generation = items[2];
    expect(generation.textContent).toContain("generation");
    expect(generation.textContent).toContain("1.00 s");
    expect(generation.textContent).toContain("gpt-4o");
    expect(generation.textContent).toContain("5 → 7 tok");
    expect(generation.textContent).toContain("$0.5000");
    expect(generation.getAttribute("aria-selected")).toBe("true");
    (items[1].querySelector("button.toggle") as HTMLButtonElement).click();
    expect(toggled).toEqual(["c1"]);
    expect(selected).toEqual([]);
    (items[3] as HTMLElement).click();
    expect(selected).toEqual(["c2"]);
  });

  it("places timeline bars on the trace's time axis", () => {
    const rows = visibleRows(buildTree(sample), new Set());
    const total = span(sample);
    expect(total.end - total.start).toBe(10_000);
    expect(barOf(sample[2], total)).toEqual({ left: 0.1, width: 0.3 });
    expect(barOf(obs("open", null, 5, null), total)).toEqual({ left: 0.5, width: 0 });
    const toggled: string[] = [];
    render(<Timeline rows={rows} total={total} selected={null} onSelect={() => {}} onToggle={(id) => toggled.push(id)} />, container);
    (container.querySelector('[data-id="c1"] button.toggle') as HTMLButtonElement).click();
    expect(toggled).toEqual(["c1"]);
    const bars = [...container.querySelectorAll<HTMLElement>(".timeline-bar")];
    expect(bars).toHaveLength(5);
    expect(bars[0].style.left).toBe("0%");
    expect(bars[1].style.left).toBe("10%");
    expect([...container.querySelectorAll(".timeline-tick")].map((tick) => tick.textContent)).toEqual(["0", "2 s", "4 s", "6 s", "8 s", "10 s"]);
  });

  it("zooms and pans the axis, keeps labels off the bars and marks the critical path", async () => {
    const flush = () => new Promise((resolve) => setTimeout(resolve));
    const rows = visibleRows(buildTree(sample), new Set());
    const total = span(sample);
    render(<Timeline rows={rows} total={total} selected={null} onSelect={() => {}} critical={new Set(["root", "c2"])} />, container);
    const row = (id: string) => container.querySelector<HTMLElement>(`.timeline-row[data-id="${id}"]`)!;
    expect(row("root").classList.contains("critical")).toBe(true);
    expect(row("c1").classList.contains("critical")).toBe(false);
    // The root spans the whole track: its label is clipped inside its bar.
    expect(row("root").querySelector(".timeline-bar .timeline-duration.inside")).not.toBeNull();
    // A short bar at the start gets its label after it, outside the bar.
    expect(row("g1").querySelector(".timeline-bar .timeline-duration")).toBeNull();
    expect(row("g1").querySelector(".timeline-track > .timeline-duration")?.getAttribute("style")).toContain("calc(30% + 4px)");
    container.querySelector<HTMLButtonElement>("button[aria-label='Zoom in']")!.click();
    await flush();
    expect([...container.querySelectorAll(".timeline-tick")].map((tick) => tick.textContent)).toEqual(["3 s", "4 s", "5 s", "6 s", "7 s"]);
    expect(row("g1").querySelector<HTMLElement>(".timeline-bar")!.style.left).toBe("0%");
    container.querySelector<HTMLButtonElement>("button[aria-label='Pan right']")!.click();
    await flush();
    expect(container.querySelector(".timeline-tick")?.textContent).toBe("4 s");
    container.querySelector<HTMLButtonElement>("button[title^='Show the whole trace']")!.click();
    await flush();
    expect(container.querySelectorAll(".timeline-tick")).toHaveLength(6);
  });
});
