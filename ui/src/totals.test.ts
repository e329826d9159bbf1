import { describe, expect, it } from "vitest";
import { rangeStart, scoreColumn, totalsQuery, withScoreColumn, type TotalsRow } from "./components/Totals";

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

  it("passes a score name with its bounds, and drops the bounds without a name", () => {
    const url = new URLSearchParams("scoreName=quality&scoreMin=0.5&scoreMax=0.9&scoreValue=good&orderBy=score.desc");
    expect(Object.fromEntries(totalsQuery(url))).toEqual({
      page: "1",
      limit: "50",
      orderBy: "score.desc",
      scoreName: "quality",
      scoreMin: "0.5",
      scoreMax: "0.9",
      scoreValue: "good",
    });
    const nameless = new URLSearchParams("scoreMin=0.5&orderBy=score.asc");
    expect(Object.fromEntries(totalsQuery(nameless))).toEqual({ page: "1", limit: "50" });
  });

  it("shows the score's average as a column while a score is chosen", () => {
    const shown = ["user", "traces"];
    expect(withScoreColumn(shown, new URLSearchParams("scoreName=quality"))).toEqual(["user", "traces", "score"]);
    expect(withScoreColumn(shown, new URLSearchParams(""))).toEqual(shown);
    // Columns picked in the URL stay as picked.
    expect(withScoreColumn(shown, new URLSearchParams("scoreName=quality&cols=user,traces"))).toEqual(shown);
    const column = scoreColumn("quality");
    expect(column.label).toBe("quality (avg)");
    expect(column.sort).toBe("score");
    const row = { id: "alice", scoreAverage: 0.9 } as TotalsRow;
    expect(column.cell(row)).toBe("0.900");
    expect(column.cell({ ...row, scoreAverage: undefined })).toBe("–");
  });
});
