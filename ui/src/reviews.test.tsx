import { render } from "preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Comments } from "./components/Comments";
import { progressOf } from "./pages/Queues";

describe("queue progress", () => {
  it("is the completed share of all items", () => {
    expect(progressOf({ pending: 3, completed: 1 })).toBe(0.25);
    expect(progressOf({ pending: 0, completed: 2 })).toBe(1);
    expect(progressOf({ pending: 0, completed: 0 })).toBe(0);
  });
});

describe("comment thread", () => {
  const container = document.createElement("div");
  document.body.appendChild(container);
  afterEach(() => {
    render(null, container);
    vi.unstubAllGlobals();
  });

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
