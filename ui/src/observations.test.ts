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

describe("observations filter bar", () => {
  it("encodes session, environment, metadata, latency, cost and time range", () => {
    const now = Date.parse("2026-11-21T12:00:00Z");
    const query = observationQuery(
      new URLSearchParams(
        "sessionId=s1&environment=prod&metaKey=tenant&metaValue=acme&latencyMin=0.5&costMax=0.01&range=24h&model=gpt-4o",
      ),
      now,
    );
    expect(query.get("sessionId")).toBe("s1");
    expect(query.get("environment")).toBe("prod");
    expect(query.get("fromStartTime")).toBe("2026-11-20T12:00:00.000Z");
    expect(JSON.parse(query.get("filter")!)).toEqual([
      { type: "string", column: "model", operator: "=", value: "gpt-4o" },
      { type: "stringObject", column: "metadata", operator: "=", key: "tenant", value: "acme" },
      { type: "number", column: "latency", operator: ">=", value: 0.5 },
      { type: "number", column: "totalCost", operator: "<=", value: 0.01 },
    ]);
  });

  it("leaves out a metadata key without a value and non-numbers", () => {
    const query = observationQuery(new URLSearchParams("metaKey=tenant&latencyMin=abc&range=custom&from=2026-01-01T00:00"));
    expect(query.has("filter")).toBe(false);
    expect(query.get("fromStartTime")).toBe(new Date("2026-01-01T00:00").toISOString());
  });
});

describe("observations filter builder and page size", () => {
  it("adds the builder's conditions and the page size from the URL", () => {
    const query = observationQuery(new URLSearchParams("f=model%3Bany+of%3Bgpt-4o%3Bclaude&f=inputTokens%3B%3E%3B100&limit=200"));
    expect(query.get("limit")).toBe("200");
    expect(JSON.parse(query.get("filter")!)).toEqual([
      { type: "stringOptions", column: "model", operator: "any of", value: ["gpt-4o", "claude"] },
      { type: "number", column: "inputTokens", operator: ">", value: 100 },
    ]);
    expect(observationQuery(new URLSearchParams("limit=7")).get("limit")).toBe("50");
  });
});
