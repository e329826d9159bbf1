import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { Comments } from "./components/Comments";
import { progressOf, ReviewerProgress, reviewerLine, type Reviewer } from "./pages/Queues";
import { digitKeys, scoresOf } from "./pages/Review";
import type { ScoreConfig } from "./api";
import { testContainer } from "./test-container";

const config = (id: string, dataType: ScoreConfig["dataType"], extra: Partial<ScoreConfig> = {}): ScoreConfig => ({
  id,
  name: id,
  dataType,
  isArchived: false,
  minValue: null,
  maxValue: null,
  categories: null,
  description: null,
  ...extra,
});

describe("review mode", () => {
  const stars = config("stars", "NUMERIC", { minValue: 1, maxValue: 5 });
  const verdict = config("verdict", "CATEGORICAL", {
    categories: [
      { label: "bad", value: 0 },
      { label: "good", value: 1 },
    ],
  });
  const correct = config("correct", "BOOLEAN");

  it("gives digits in order to categories and boolean toggles, not to numeric fields", () => {
    expect(digitKeys([stars, verdict, correct])).toEqual([
      { digit: "1", configId: "verdict", value: 0 },
      { digit: "2", configId: "verdict", value: 1 },
      { digit: "3", configId: "correct" },
    ]);
  });

  it("stops at ten digits, 0 being the tenth", () => {
    const many = config("many", "CATEGORICAL", { categories: Array.from({ length: 12 }, (_, value) => ({ label: `c${value}`, value })) });
    const keys = digitKeys([many]);
    expect(keys).toHaveLength(10);
    expect(keys[9]).toEqual({ digit: "0", configId: "many", value: 9 });
  });

  it("sends the answers given, a category of value 0 and a false boolean included", () => {
    expect(scoresOf([stars, verdict, correct], { stars: "4", verdict: 0, correct: false })).toEqual([
      { configId: "stars", value: 4 },
      { configId: "verdict", value: 0 },
      { configId: "correct", value: 0 },
    ]);
    expect(scoresOf([stars, verdict, correct], { stars: "" })).toEqual([]);
  });

  it("refuses a numeric answer out of range or not a number", () => {
    expect(scoresOf([stars], { stars: "6" })).toBe("stars: above the maximum 5");
    expect(scoresOf([stars], { stars: "0" })).toBe("stars: below the minimum 1");
    expect(scoresOf([stars], { stars: "abc" })).toBe("stars: not a number");
  });
});

describe("queue progress", () => {
  it("is the completed share of all items", () => {
    expect(progressOf({ pending: 3, completed: 1 })).toBe(0.25);
    expect(progressOf({ pending: 0, completed: 2 })).toBe(1);
    expect(progressOf({ pending: 0, completed: 0 })).toBe(0);
  });
});

describe("comment thread", () => {
  const container = testContainer();

  it("asks for the object's thread and renders content as text and Markdown elements", async () => {
    const fetch = vi.fn(async (_input: RequestInfo | URL) =>
      new Response(
        JSON.stringify({
          data: [
            {
              id: "c1",
              objectType: "SESSION",
              objectId: "s/1",
              content: "**ok** <img src=x onerror=alert(1)>",
              authorUserId: "u1",
              author: "ann@example.com",
              createdAt: "2026-01-01T00:00:00.000Z",
            },
            {
              id: "c2",
              objectType: "SESSION",
              objectId: "s/1",
              content: "from the API",
              authorUserId: null,
              author: null,
              createdAt: "2026-01-01T00:01:00.000Z",
            },
          ],
        }),
        { status: 200 },
      ),
    );
    vi.stubGlobal("fetch", fetch);
    render(<Comments projectId="p1" objectType="SESSION" objectId="s/1" label="session" />, container);
    await vi.waitFor(() => expect(container.querySelectorAll(".comment").length).toBe(2));
    expect(String(fetch.mock.calls[0][0])).toBe("/api/ui/projects/p1/comments?objectType=SESSION&objectId=s%2F1");
    const first = container.querySelector(".comment")!;
    expect(first.querySelector(".comment-body strong")?.textContent).toBe("ok");
    expect(first.querySelector("img")).toBeNull();
    expect(first.textContent).toContain("<img src=x");
    expect(first.textContent).toContain("ann@example.com");
    expect(container.querySelectorAll(".comment")[1].textContent).toContain("API");
  });
});

describe("reviewer progress", () => {
  const reviewer = (extra: Partial<Reviewer>): Reviewer => ({
    id: "u1",
    name: "ana@example.com",
    assigned: true,
    completed: 0,
    claimed: 0,
    available: 0,
    ...extra,
  });

  it("says what each reviewer completed, holds and could take", () => {
    expect(reviewerLine(reviewer({ completed: 3, available: 2, claimed: 1 }))).toBe("ana@example.com: 3 done · 2 to take (1 open)");
    expect(reviewerLine(reviewer({ assigned: false, completed: 1 }))).toBe("ana@example.com (not assigned): 1 done · 0 to take");
  });

  it("lists one line per reviewer, as text", () => {
    const root = document.createElement("div");
    render(
      <ReviewerProgress
        reviewers={[reviewer({ completed: 2, available: 1 }), reviewer({ id: "u2", name: "<b>ben</b>", available: 1 })]}
      />,
      root,
    );
    const lines = Array.from(root.querySelectorAll("li"), (line) => line.textContent);
    expect(lines).toEqual(["ana@example.com: 2 done · 1 to take", "<b>ben</b>: 0 done · 1 to take"]);
    expect(root.querySelector("b")).toBeNull();
    render(<ReviewerProgress reviewers={[]} />, root);
    expect(root.textContent).toBe("–");
  });
});
