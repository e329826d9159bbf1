import { describe, expect, it } from "vitest";
import {
  activeDashboardFilters,
  bucketLabel,
  dashboardQuery,
  dashboardViewFromUrl,
  dashboardViewToUrl,
  emptyDashboardView,
  granularityOf,
  rangeOf,
  stackByModel,
  STACKED_MODELS,
  type DashboardView,
} from "./dashboard";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse("2026-03-10T12:00:00Z");

function view(change: Partial<DashboardView> = {}): DashboardView {
  return { ...emptyDashboardView(), ...change };
}

describe("the dashboard's URL state", () => {
  it("leaves the defaults out", () => {
    expect(dashboardViewToUrl(emptyDashboardView()).toString()).toBe("");
  });

  it("round-trips a custom range and every filter", () => {
    const full = view({
      range: "custom",
      from: "2026-01-01T08:30",
      to: "2026-01-02T09:00",
      filters: {
        name: "chat",
        userId: "alice",
        tags: ["vip", "a,b"],
        environment: "prod",
        release: "r1",
        model: "gpt-4o",
        metadataKey: "team",
        metadataValue: "a b",
      },
    });
    const url = dashboardViewToUrl(full);
    expect(url.getAll("tag")).toEqual(["vip", "a,b"]);
    expect(dashboardViewFromUrl(new URLSearchParams(url.toString()))).toEqual(full);
  });

  it("falls back to the defaults on unknown values", () => {
    const read = dashboardViewFromUrl(new URLSearchParams("range=3w&from=2026-01-01"));
    expect(read.range).toBe("7d");
    // Dates are kept only for a custom range.
    expect(read.from).toBe("");
    expect(dashboardViewFromUrl(new URLSearchParams("range=custom&from=yesterday")).from).toBe("");
  });

  it("keeps the dates of a preset out of the URL", () => {
    expect(dashboardViewToUrl(view({ range: "30d", from: "2026-01-01T00:00" })).toString()).toBe("range=30d");
  });
});

describe("the range and its time bucket", () => {
  it("ends a preset now", () => {
    expect(rangeOf(view({ range: "24h" }), NOW)).toEqual({ from: NOW - DAY, to: NOW });
  });

  it("reads custom dates as local times, an open end as now", () => {
    const range = rangeOf(view({ range: "custom", from: "2026-03-01T00:00" }), NOW);
    expect(range).toEqual({ from: new Date("2026-03-01T00:00").getTime(), to: NOW });
    expect(rangeOf(view({ range: "custom", from: "2026-03-02T00:00", to: "2026-03-01T00:00" }), NOW)).toBeNull();
  });

  it.each([
    [HOUR, "hour"],
    [2 * DAY, "hour"],
    [2 * DAY + HOUR, "day"],
    [30 * DAY, "day"],
    [90 * DAY, "day"],
    [92 * DAY, "day"],
    [93 * DAY, "week"],
    [365 * DAY, "week"],
  ])("a range of %i ms is bucketed by %s", (length, expected) => {
    expect(granularityOf(NOW - length, NOW)).toBe(expected);
  });

  it("builds the server query", () => {
    const query = dashboardQuery(
      view({
        range: "24h",
        filters: { ...emptyDashboardView().filters, userId: " alice ", tags: ["vip"], metadataKey: "team", metadataValue: "" },
      }),
      NOW,
    );
    expect(query?.get("fromTimestamp")).toBe("2026-03-09T12:00:00.000Z");
    expect(query?.get("toTimestamp")).toBe("2026-03-10T12:00:00.000Z");
    expect(query?.get("granularity")).toBe("hour");
    expect(query?.get("userId")).toBe("alice");
    expect(query?.getAll("tag")).toEqual(["vip"]);
    expect(query?.has("metadataKey")).toBe(false);
    expect(dashboardQuery(view({ range: "1y" }), NOW)?.get("granularity")).toBe("week");
    expect(dashboardQuery(view({ range: "custom", from: "2026-03-11T00:00" }), NOW)).toBeNull();
  });

  it("counts the active filters", () => {
    const filters = { ...emptyDashboardView().filters, name: "chat", tags: ["a", "b"], metadataKey: "k" };
    expect(activeDashboardFilters(filters)).toBe(3);
    expect(activeDashboardFilters({ ...filters, metadataValue: "v" })).toBe(4);
  });

  it("labels buckets", () => {
    expect(bucketLabel("2026-01-01T10:00:00.000Z", "hour")).toBe("2026-01-01 10:00");
    expect(bucketLabel("2026-01-05", "week")).toBe("2026-01-05");
  });
});

describe("generations stacked by model", () => {
  const row = (time: string, model: string | null, count: number) => ({ time, model, count, totalCost: count / 10, totalTokens: count * 100 });

  it("puts each model in its series and skips empty buckets' rows", () => {
    const stacked = stackByModel(
      [row("2026-01-01", "a", 2), row("2026-01-01", "b", 1), row("2026-01-02", null, 0), row("2026-01-03", "b", 4)],
      ["b", "a"],
      (bucket) => bucket.count,
      "day",
    );
    expect(stacked.labels).toEqual(["2026-01-01", "2026-01-02", "2026-01-03"]);
    expect(stacked.series).toEqual([
      { name: "b", values: [1, 0, 4] },
      { name: "a", values: [2, 0, 0] },
    ]);
  });

  it("sums the models beyond the first ones as other", () => {
    const models = Array.from({ length: STACKED_MODELS + 2 }, (_, index) => `m${index}`);
    const rows = models.map((model) => row("2026-01-01", model, 1));
    const stacked = stackByModel(rows, models, (bucket) => bucket.totalTokens, "day");
    expect(stacked.series.map((series) => series.name)).toEqual([...models.slice(0, STACKED_MODELS), "other"]);
    expect(stacked.series[STACKED_MODELS].values).toEqual([200]);
  });
});
