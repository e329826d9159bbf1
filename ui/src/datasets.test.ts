import { describe, expect, it } from "vitest";
import { compareHref, outputsDiffer, parseField, runsQuery, scoreSpread, sortBySpread, type ComparedItem, type RunResult } from "./datasets";

function run(output: unknown, accuracy: number | null): RunResult {
  return {
    runItemId: "ri",
    traceId: "t",
    observationId: null,
    output,
    latency: 1,
    totalCost: null,
    scores:
      accuracy === null
        ? []
        : [{ name: "accuracy", dataType: "NUMERIC", count: 1, numeric: { mean: accuracy, min: accuracy, max: accuracy }, categories: [], trueRate: null }],
  };
}

function item(id: string, runs: (RunResult | null)[]): ComparedItem {
  return { datasetItemId: id, status: "ACTIVE", input: null, expectedOutput: null, runs };
}

describe("comparison", () => {
  it("measures the spread of a score across runs", () => {
    expect(scoreSpread(item("a", [run("x", 0.2), run("x", 0.9)]), "accuracy")).toBeCloseTo(0.7);
    expect(scoreSpread(item("a", [run("x", 0.2), null]), "accuracy")).toBe(0);
    expect(scoreSpread(item("a", [run("x", 0.2), run("x", 0.5)]), "other")).toBe(0);
  });

  it("sorts the widest spread first", () => {
    const items = [item("same", [run(1, 0.5), run(1, 0.5)]), item("far", [run(1, 0), run(1, 1)]), item("near", [run(1, 0.4), run(1, 0.6)])];
    expect(sortBySpread(items, "accuracy").map((row) => row.datasetItemId)).toEqual(["far", "near", "same"]);
    expect(sortBySpread(items, null)).toBe(items);
  });

  it("finds outputs that differ, a missing run included", () => {
    expect(outputsDiffer(item("a", [run({ a: 1 }, null), run({ a: 1 }, null)]))).toBe(false);
    expect(outputsDiffer(item("a", [run({ a: 1 }, null), run({ a: 2 }, null)]))).toBe(true);
    expect(outputsDiffer(item("a", [run(null, null), null]))).toBe(true);
  });

  it("parses form fields as JSON when they are", () => {
    expect(parseField("")).toBeNull();
    expect(parseField('{"q": 1}')).toEqual({ q: 1 });
    expect(parseField("plain words")).toBe("plain words");
  });

  it("names each compared run in its own parameter, commas and all", () => {
    const href = compareHref("/project/p1", "qa/set", ["a,b", "c&d", "plain"]);
    expect(href).toBe("/project/p1/datasets/qa%2Fset/compare?runs=a%2Cb&runs=c%26d&runs=plain");
    expect(new URLSearchParams(href.split("?")[1]).getAll("runs")).toEqual(["a,b", "c&d", "plain"]);
    expect(runsQuery([])).toBe("");
  });
});
