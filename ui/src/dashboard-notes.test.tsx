import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { Dashboard } from "./pages/Dashboard";
import { testContainer } from "./test-container";

const REFUSED = "query: took longer than the 30 s a metrics query may take on this server (SPINDLE_METRICS_QUERY_SECONDS); narrow the time range or the filters";

/** A dashboard whose generation, error and score panels the server refused. */
const ANSWER = {
  from: "2026-01-01T00:00:00.000Z",
  to: "2026-01-08T00:00:00.000Z",
  granularity: "day",
  traces: 3,
  tracesOverTime: [{ time: "2026-01-01", count: 3 }],
  errors: 0,
  generationsOverTime: [],
  generationsByModel: [],
  latencyByTraceName: [{ key: "chat", count: 3, errors: 0, p50: 1, p90: 2, p95: 2, p99: 2 }],
  latencyByModel: [],
  scores: 0,
  scoresOverTime: [],
  scoresByName: [],
  notes: {
    generationsOverTime: REFUSED,
    generationsByModel: REFUSED,
    latencyByModel: REFUSED,
    errors: REFUSED,
    scoresOverTime: REFUSED,
    scoresByName: REFUSED,
  },
};

describe("dashboard notes", () => {
  const container = testContainer();

  it("says why a panel is empty and leaves its numbers blank", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL) => {
        const url = String(input);
        const body = url.includes("/dashboard") ? ANSWER : { data: [] };
        return new Response(JSON.stringify(body), { status: 200 });
      }),
    );
    render(<Dashboard projectId="p1" />, container);
    const stat = (label: string) => container.querySelector(`[data-testid="stat-${label}"] strong`)?.textContent;
    await vi.waitFor(() => expect(stat("Traces")).toBe("3"));
    for (const label of ["Errors", "Generations", "Total cost", "Tokens", "Scores"]) {
      expect(stat(label)).toBe("–");
      expect(container.querySelector(`[data-testid="stat-${label}"]`)?.getAttribute("title")).toBe(REFUSED);
    }
    const charts = [...container.querySelectorAll("figure.chart")];
    const said = (title: string) => {
      const chart = charts.find((figure) => figure.querySelector("figcaption")?.textContent === title);
      return chart?.textContent ?? `no chart ${title}`;
    };
    for (const title of ["Generations per day by model", "Cost by model", "Tokens by model", "Generation latency by model", "Scores per day", "Scores by name"]) {
      expect(said(title)).toContain("SPINDLE_METRICS_QUERY_SECONDS");
      expect(said(title)).not.toContain("No data in this range.");
    }
    expect(said("Traces per day")).not.toContain("SPINDLE_METRICS_QUERY_SECONDS");
    expect(said("Trace latency by name")).toContain("chat");
  });
});
