import { describe, expect, it } from "vitest";
import { rangeStart, totalsQuery } from "./components/Totals";

describe("the users and sessions lists' query", () => {
  it("maps the page URL to the server's parameters", () => {
    const url = new URLSearchParams("search=al&environment=prod&orderBy=cost.asc&tracesMin=2&costMax=0.5&firstSeenMin=2026-01-02&lastSeenMax=2026-01-03&page=3");
    const query = Object.fromEntries(totalsQuery(url, { userId: "u" }));
    expect(query).toEqual({
      page: "3",
      limit: "50",
      userId: "u",
      search: "al",
      environment: "prod",
      orderBy: "cost.asc",
      tracesMin: "2",
      costMax: "0.5",
      firstSeenMin: "2026-01-02T00:00:00.000Z",
      lastSeenMax: "2026-01-03T23:59:59.999Z",
    });
  });

  it("starts a range at a whole minute, so a render a moment later asks the same", () => {
    const now = Date.parse("2026-03-01T12:34:56.789Z");
    expect(rangeStart("24h", now)).toBe("2026-02-28T12:34:00.000Z");
    expect(rangeStart("24h", now + 1000)).toBe(rangeStart("24h", now));
    expect(rangeStart("", now)).toBeNull();
    expect(rangeStart("bogus", now)).toBeNull();
  });
});
