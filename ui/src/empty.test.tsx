import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { EmptyState, snippets } from "./pages/Empty";
import { testContainer } from "./test-container";

describe("empty state", () => {
  const container = testContainer();

  it("has Python, JS and Rust snippets with the server URL and the public key", () => {
    const code = snippets("http://spindle.test:3000", "pk-lf-abc");
    expect(Object.keys(code)).toEqual(["Python", "JS", "Rust"]);
    for (const text of Object.values(code)) {
      expect(text).toContain("LANGFUSE_BASE_URL=http://spindle.test:3000");
      expect(text).toContain("LANGFUSE_PUBLIC_KEY=pk-lf-abc");
    }
  });

  it("lists the project's live public keys", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        new Response(
          JSON.stringify({
            data: [
              { publicKey: "pk-lf-live", revokedAt: null },
              { publicKey: "pk-lf-old", revokedAt: "2026-01-01T00:00:00Z" },
            ],
          }),
          { status: 200 },
        ),
      ),
    );
    render(<EmptyState projectId="p1" />, container);
    await vi.waitFor(() => expect(container.querySelector(".keys code")?.textContent).toBe("pk-lf-live"));
    expect(container.textContent).not.toContain("pk-lf-old");
    expect(container.querySelector("pre")?.textContent).toContain("pk-lf-live");
  });
});
