import { describe, expect, it } from "vitest";
import { emptyView, viewFromUrl, viewToQuery, viewToUrl, type TraceView } from "./filters";

const NOW = Date.parse("2026-01-10T12:00:00Z");

function view(change: Partial<TraceView>): TraceView {
  return { ...emptyView(), ...change };
}

describe("filter URL encoding", () => {
  it("keeps the default view out of the URL", () => {
    expect(viewToUrl(emptyView()).toString()).toBe("");
  });

  it("round-trips every field through the URL", () => {
    const full = view({
      search: "moon & stars",
      name: "chat",
      userId: "alice",
      sessionId: "s/1",
      tags: ["a", "b c"],
      tagsMode: "any",
      environment: "prod",
      release: "r1",
      version: "v2",
      level: "WARNING",
      errorsOnly: true,
      range: "custom",
      from: "2026-01-01T00:00",
      to: "2026-01-02T00:00",
      scoreName: "quality",
      scoreMin: "0.5",
      scoreMax: "1",
      metaKey: "region",
      metaValue: "eu",
      latencyMin: "1",
      latencyMax: "5",
      costMin: "0.01",
      costMax: "2",
      promptName: "team/greet",
      promptVersion: "3",
      comments: "without",
      sort: "latency.asc",
      page: 3,
      limit: 100,
      conditions: [
        { column: "name", operator: "contains", values: ["a;b%c"] },
        { column: "tags", operator: "any of", values: ["x", "y z"] },
        { column: "metadata", operator: "=", key: "re.gion", values: ["eu"] },
      ],
      columns: ["time", "name", "id", "input"],
    });
    const url = viewToUrl(full).toString();
    expect(viewFromUrl(new URLSearchParams(url))).toEqual(full);
  });

  it("falls back to defaults for malformed values", () => {
    const parsed = viewFromUrl(new URLSearchParams("page=-2&sort=drop%20table&range=forever&tagsMode=weird&comments=some"));
    expect(parsed.comments).toBe("");
    expect(parsed.page).toBe(1);
    expect(parsed.sort).toBe("timestamp.desc");
    expect(parsed.range).toBe("all");
    expect(parsed.tagsMode).toBe("all");
  });
});

describe("server query", () => {
  it("maps simple fields to the public parameter names", () => {
    const query = viewToQuery(view({ userId: "alice", name: "chat", search: "moon", page: 2, limit: 25 }), NOW);
    expect(query.get("userId")).toBe("alice");
    expect(query.get("name")).toBe("chat");
    expect(query.get("search")).toBe("moon");
    expect(query.get("page")).toBe("2");
    expect(query.get("limit")).toBe("25");
    expect(query.has("filter")).toBe(false);
    expect(query.has("orderBy")).toBe(false);
  });

  it("sends all-tags as repeated params and any-tags as a filter", () => {
    const all = viewToQuery(view({ tags: ["a", "b"] }), NOW);
    expect(all.getAll("tags")).toEqual(["a", "b"]);
    const any = viewToQuery(view({ tags: ["a", "b"], tagsMode: "any" }), NOW);
    expect(any.getAll("tags")).toEqual([]);
    expect(JSON.parse(any.get("filter")!)).toEqual([{ type: "arrayOptions", column: "tags", operator: "any of", value: ["a", "b"] }]);
  });

  it("builds level, metadata, latency and cost conditions", () => {
    const query = viewToQuery(
      view({ errorsOnly: true, level: "WARNING", metaKey: "region", metaValue: "eu", latencyMin: "1.5", costMax: "0.2", latencyMax: "abc" }),
      NOW,
    );
    expect(JSON.parse(query.get("filter")!)).toEqual([
      { type: "stringOptions", column: "level", operator: "any of", value: ["ERROR"] },
      { type: "stringObject", column: "metadata", operator: "=", key: "region", value: "eu" },
      { type: "number", column: "latency", operator: ">=", value: 1.5 },
      { type: "number", column: "totalCost", operator: "<=", value: 0.2 },
    ]);
  });

  it("asks for traces with or without comments", () => {
    expect(viewToQuery(view({ comments: "with" }), NOW).get("hasComments")).toBe("true");
    expect(viewToQuery(view({ comments: "without" }), NOW).get("hasComments")).toBe("false");
    expect(viewToQuery(view({}), NOW).has("hasComments")).toBe(false);
  });

  it("builds prompt conditions, the version only with a name", () => {
    const query = viewToQuery(view({ promptName: " team/greet ", promptVersion: "2" }), NOW);
    expect(JSON.parse(query.get("filter")!)).toEqual([
      { type: "string", column: "promptName", operator: "=", value: "team/greet" },
      { type: "number", column: "promptVersion", operator: "=", value: 2 },
    ]);
    expect(viewToQuery(view({ promptVersion: "2" }), NOW).has("filter")).toBe(false);
  });

  it("sends no metadata condition for a key without a value (it would match every trace)", () => {
    expect(viewToQuery(view({ metaKey: "region" }), NOW).has("filter")).toBe(false);
  });

  it("sends score bounds only with a score name", () => {
    expect(viewToQuery(view({ scoreMin: "0.5" }), NOW).has("scoreMin")).toBe(false);
    const query = viewToQuery(view({ scoreName: "quality", scoreMin: "0.5" }), NOW);
    expect(query.get("scoreName")).toBe("quality");
    expect(query.get("scoreMin")).toBe("0.5");
    expect(query.has("scoreMax")).toBe(false);
  });

  it("turns relative ranges into a from timestamp and keeps the sort", () => {
    const query = viewToQuery(view({ range: "24h", sort: "totalCost.desc" }), NOW);
    expect(query.get("fromTimestamp")).toBe("2026-01-09T12:00:00.000Z");
    expect(query.has("toTimestamp")).toBe(false);
    expect(query.get("orderBy")).toBe("totalCost.desc");
  });
});
