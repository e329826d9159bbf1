import { render } from "preact";
import { describe, expect, it } from "vitest";
import { Pager } from "./components/Table";
import { total } from "./format";
import { testContainer } from "./test-container";

describe("list totals", () => {
  it("read as counted, or with 'about' when the server estimated them", () => {
    expect(total({ totalItems: 1234 }, "traces")).toBe("1,234 traces");
    expect(total({ totalItems: 1234, totalIsEstimate: false }, "traces")).toBe("1,234 traces");
    expect(total({ totalItems: 120000, totalIsEstimate: true }, "traces")).toBe("about 120,000 traces");
  });

  const container = testContainer();

  it("make the pager say the page count is an estimate too", () => {
    render(<Pager page={1} pages={2400} onPage={() => {}} total={total({ totalItems: 120000, totalIsEstimate: true }, "traces")} estimated />, container);
    const span = container.querySelector(".pager span");
    expect(span?.textContent).toBe("Page 1 of about 2400 · about 120,000 traces");
    expect(span?.getAttribute("title")).toContain("estimate");
    render(<Pager page={1} pages={3} onPage={() => {}} total={total({ totalItems: 25 }, "traces")} />, container);
    expect(container.querySelector(".pager span")?.textContent).toBe("Page 1 of 3 · 25 traces");
    expect(container.querySelector(".pager span")?.getAttribute("title") ?? "").toBe("");
  });
});
