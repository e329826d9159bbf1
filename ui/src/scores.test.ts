import { describe, expect, it } from "vitest";
import { scoreQuery } from "./pages/Scores";

describe("scores query", () => {
  it("maps the name, the builder's conditions, the page and the page size", () => {
    const query = scoreQuery(new URLSearchParams("name=quality&f=value%3B%3C%3B0.5&f=source%3Bany+of%3BANNOTATION&page=2&limit=100"));
    expect(query.get("name")).toBe("quality");
    expect(query.get("page")).toBe("2");
    expect(query.get("limit")).toBe("100");
    expect(JSON.parse(query.get("filter")!)).toEqual([
      { type: "number", column: "value", operator: "<", value: 0.5 },
      { type: "stringOptions", column: "source", operator: "any of", value: ["ANNOTATION"] },
    ]);
  });

  it("falls back to the first page of 50 without a filter", () => {
    const query = scoreQuery(new URLSearchParams("page=-3&limit=3"));
    expect(query.get("page")).toBe("1");
    expect(query.get("limit")).toBe("50");
    expect(query.has("filter")).toBe(false);
  });
});
