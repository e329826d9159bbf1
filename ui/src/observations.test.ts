import { describe, expect, it } from "vitest";
import { observationQuery } from "./pages/Observations";

describe("observations query", () => {
  it("shows generations first", () => {
    const query = observationQuery(new URLSearchParams(""));
    expect(query.get("type")).toBe("GENERATION");
    expect(query.get("page")).toBe("1");
  });

  it("maps all types, model and plain filters", () => {
    const query = observationQuery(new URLSearchParams("type=ALL&model=gpt-4o&userId=alice&level=ERROR&page=3"));
    expect(query.has("type")).toBe(false);
    expect(query.get("userId")).toBe("alice");
    expect(query.get("level")).toBe("ERROR");
    expect(query.get("page")).toBe("3");
    expect(JSON.parse(query.get("filter")!)).toEqual([{ type: "string", column: "model", operator: "=", value: "gpt-4o" }]);
  });
});
