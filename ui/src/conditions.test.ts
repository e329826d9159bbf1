import { describe, expect, it } from "vitest";
import {
  changedSearch,
  conditionFromParam,
  conditionsFromUrl,
  conditionsToUrl,
  conditionToParam,
  pageSizeFromUrl,
  toServerCondition,
  toServerConditions,
  TRACE_COLUMNS,
  type BuilderCondition,
} from "./conditions";
import { emptyView, viewFromUrl, viewToQuery, viewToUrl } from "./filters";

const NOW = Date.parse("2026-01-10T12:00:00Z");

function roundTrip(conditions: BuilderCondition[]): BuilderCondition[] {
  const params = new URLSearchParams();
  conditionsToUrl(params, conditions);
  // Through the text of a URL, as a reload reads it.
  return conditionsFromUrl(new URLSearchParams(params.toString()), TRACE_COLUMNS);
}

describe("filter builder URL encoding", () => {
  it("writes one short, readable f parameter per condition", () => {
    expect(conditionToParam({ column: "name", operator: "contains", values: ["chat"] })).toBe("name;contains;chat");
    expect(conditionToParam({ column: "tags", operator: "any of", values: ["a", "b"] })).toBe("tags;any of;a;b");
    expect(conditionToParam({ column: "metadata", operator: "=", key: "region", values: ["eu"] })).toBe("metadata.region;=;eu");
    expect(conditionToParam({ column: "userId", operator: "is null", values: [] })).toBe("userId;is null");
  });

  it("round-trips conditions with separators, percent signs, dots and Unicode", () => {
    const conditions: BuilderCondition[] = [
      { column: "name", operator: "starts with", values: ["a;b"] },
      { column: "userId", operator: "=", values: ["100%;%3B"] },
      { column: "tags", operator: "none of", values: ["x y", "ünï;cödé", ""] },
      { column: "metadata", operator: "contains", key: "a.b;c", values: ["v.1"] },
      { column: "latency", operator: ">", values: ["1.5"] },
      { column: "level", operator: "any of", values: ["ERROR", "WARNING"] },
      { column: "release", operator: "is null", values: [] },
    ];
    expect(roundTrip(conditions)).toEqual(conditions);
  });

  it("keeps the order of the conditions and repeats of a column", () => {
    const conditions: BuilderCondition[] = [
      { column: "latency", operator: ">", values: ["1"] },
      { column: "latency", operator: "<", values: ["5"] },
      { column: "name", operator: "=", values: ["chat"] },
    ];
    expect(roundTrip(conditions)).toEqual(conditions);
  });

  it("drops conditions it cannot read", () => {
    for (const param of ["", "name", "colour;=;red", "name;>;a", "tags;=;a", "name.key;=;a", "metadata;=;eu", "name;=;%E0%A4%A"]) {
      expect(conditionFromParam(param, TRACE_COLUMNS)).toBeNull();
    }
    expect(conditionFromParam("name;=;a;b", TRACE_COLUMNS)).toEqual({ column: "name", operator: "=", values: ["a"] });
    expect(conditionFromParam("name;is null;x", TRACE_COLUMNS)).toEqual({ column: "name", operator: "is null", values: [] });
  });

  it("is part of the traces view's URL with the page size and the columns", () => {
    const view = {
      ...emptyView(),
      limit: 200,
      columns: ["time", "id", "input", "output"],
      conditions: [
        { column: "name", operator: "contains", values: ["chat"] },
        { column: "environment", operator: "=", values: ["prod"] },
        { column: "tags", operator: "any of", values: ["a", "b"] },
      ],
    };
    const url = viewToUrl(view).toString();
    expect(url).toBe("f=name%3Bcontains%3Bchat&f=environment%3B%3D%3Bprod&f=tags%3Bany+of%3Ba%3Bb&limit=200&cols=time%2Cid%2Cinput%2Coutput");
    expect(viewFromUrl(new URLSearchParams(url))).toEqual(view);
  });

  it("reads unknown page sizes and columns as the defaults", () => {
    expect(pageSizeFromUrl(new URLSearchParams("limit=77"))).toBe(50);
    expect(pageSizeFromUrl(new URLSearchParams("limit=25"))).toBe(25);
    expect(viewFromUrl(new URLSearchParams("cols=nope,output,time")).columns).toEqual(["time", "output"]);
    expect(viewFromUrl(new URLSearchParams("cols=nope")).columns).toEqual(emptyView().columns);
    expect(viewToUrl({ ...emptyView(), columns: ["comments", "time", "name", "user", "session", "tags", "level", "latency", "tokens", "cost", "scores"] }).toString()).toBe("");
  });
});

describe("filter builder server conditions", () => {
  it("maps each kind of column to the server's filter types", () => {
    const server = (condition: BuilderCondition) => toServerCondition(condition, TRACE_COLUMNS);
    expect(server({ column: "name", operator: "!=", values: ["chat"] })).toEqual({ type: "string", column: "name", operator: "!=", value: "chat" });
    expect(server({ column: "userId", operator: "any of", values: [" a ", "", "b"] })).toEqual({ type: "stringOptions", column: "userId", operator: "any of", value: ["a", "b"] });
    expect(server({ column: "tags", operator: "all of", values: ["x"] })).toEqual({ type: "arrayOptions", column: "tags", operator: "all of", value: ["x"] });
    expect(server({ column: "latency", operator: ">", values: ["2.5"] })).toEqual({ type: "number", column: "latency", operator: ">", value: 2.5 });
    expect(server({ column: "sessionId", operator: "is null", values: [] })).toEqual({ type: "null", column: "sessionId", operator: "is null", value: null });
    expect(server({ column: "metadata", operator: "=", key: "region", values: ["eu"] })).toEqual({ type: "stringObject", column: "metadata", operator: "=", key: "region", value: "eu" });
    expect(server({ column: "metadata", operator: ">", key: "n", values: ["3"] })).toEqual({ type: "numberObject", column: "metadata", operator: ">", key: "n", value: 3 });
  });

  it("leaves incomplete conditions out", () => {
    const incomplete: BuilderCondition[] = [
      { column: "name", operator: "=", values: [""] },
      { column: "latency", operator: ">", values: ["fast"] },
      { column: "metadata", operator: "=", key: " ", values: ["eu"] },
      { column: "tags", operator: "any of", values: [] },
    ];
    expect(toServerConditions(incomplete, TRACE_COLUMNS)).toEqual([]);
  });

  it("joins the builder's conditions to the view's other filters in the server query", () => {
    const query = viewToQuery(
      { ...emptyView(), errorsOnly: true, limit: 100, conditions: [{ column: "name", operator: "contains", values: ["chat"] }] },
      NOW,
    );
    expect(query.get("limit")).toBe("100");
    expect(JSON.parse(query.get("filter")!)).toEqual([
      { type: "stringOptions", column: "level", operator: "any of", value: ["ERROR"] },
      { type: "string", column: "name", operator: "contains", value: "chat" },
    ]);
  });
});

describe("changed page URLs", () => {
  it("sets and removes parameters, replaces the conditions and goes back to the first page", () => {
    const search = new URLSearchParams("name=a&page=3&f=name%3B%3D%3Bx&limit=100");
    expect(changedSearch(search, { name: "" })).toBe("f=name%3B%3D%3Bx&limit=100");
    expect(changedSearch(search, { page: "4" })).toBe("name=a&page=4&f=name%3B%3D%3Bx&limit=100");
    expect(changedSearch(search, {}, [{ column: "tags", operator: "any of", values: ["t"] }])).toBe("name=a&limit=100&f=tags%3Bany+of%3Bt");
  });
});
