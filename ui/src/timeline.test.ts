import { describe, expect, it } from "vitest";
import { criticalPath, FULL, labelSide, niceTicks, pan, tickLabel, zoom } from "./timeline";
import { buildTree } from "./tree";

describe("the timeline's axis", () => {
  it("puts ticks at 1, 2 or 5 times a power of ten", () => {
    expect(niceTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(0, 7300, 6)).toEqual([0, 2000, 4000, 6000]);
    expect(niceTicks(130, 190, 6)).toEqual([130, 140, 150, 160, 170, 180, 190]);
    expect(niceTicks(0, 0.5, 5)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it("labels ticks at the step's precision", () => {
    expect(tickLabel(0, 200)).toBe("0");
    expect(tickLabel(400, 200)).toBe("400 ms");
    expect(tickLabel(2000, 1000)).toBe("2 s");
    expect(tickLabel(2500, 500)).toBe("2500 ms");
    expect(tickLabel(15_000, 5000)).toBe("15 s");
    expect(tickLabel(120_000, 60_000)).toBe("2 min");
    expect(tickLabel(0.2, 0.1)).toBe("0.2 ms");
  });

  it("zooms around a point and pans within the span", () => {
    expect(zoom(FULL, 0.5)).toEqual({ start: 0.25, end: 0.75 });
    expect(zoom(FULL, 0.5, 0)).toEqual({ start: 0, end: 0.5 });
    expect(zoom({ start: 0.25, end: 0.75 }, 4)).toEqual(FULL);
    expect(pan({ start: 0.25, end: 0.75 }, 0.5)).toEqual({ start: 0.5, end: 1 });
    expect(pan({ start: 0.5, end: 1 }, 1)).toEqual({ start: 0.5, end: 1 });
    const left = pan({ start: 0.1, end: 0.3 }, -1);
    expect(left.start).toBe(0);
    expect(left.end).toBeCloseTo(0.2);
    const narrow = zoom(FULL, 1e-9);
    expect(narrow.end - narrow.start).toBeCloseTo(1e-4);
  });

  it("puts a label after its bar, before it at the right edge, inside when neither fits", () => {
    expect(labelSide(0.1, 0.3)).toBe("after");
    expect(labelSide(0.5, 0.95)).toBe("before");
    expect(labelSide(0.05, 0.95)).toBe("inside");
  });
});

describe("the critical path", () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const node = (id: string, parent: string | null, start: number, end: number) => ({
    id,
    parentObservationId: parent,
    startTime: at(start),
    endTime: at(end),
  });

  it("follows the children that kept each observation running", () => {
    const roots = buildTree([
      node("root", null, 0, 100),
      node("plan", "root", 0, 20),
      // Two parallel calls: the longer one is on the path, the shorter is not.
      node("fast", "root", 20, 40),
      node("slow", "root", 20, 70),
      node("answer", "root", 70, 100),
      node("llm", "answer", 75, 95),
      node("tokenize", "answer", 70, 72),
      // Overlapped by the call after it: not what kept "answer" running.
      node("cache", "answer", 71, 80),
    ]);
    expect([...criticalPath(roots)].sort()).toEqual(["answer", "llm", "plan", "root", "slow", "tokenize"]);
  });

  it("handles a deep chain without recursion", () => {
    const chain = Array.from({ length: 20_000 }, (_, index) => node(`n${index}`, index ? `n${index - 1}` : null, index, 40_000 - index));
    expect(criticalPath(buildTree(chain)).size).toBe(20_000);
  });
});
