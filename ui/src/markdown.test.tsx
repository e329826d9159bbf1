import { render } from "preact";
import { describe, expect, it } from "vitest";
import { Markdown } from "./markdown";
import { testContainer } from "./test-container";

describe("markdown rendering", () => {
  const container = testContainer();

  it("renders headings, lists, code and emphasis as elements", () => {
    render(<Markdown text={"# Title\n\nSome **bold** and *soft* `code`.\n\n- one\n- two\n\n```\nlet x = 1;\n```"} />, container);
    expect(container.querySelector("h3")?.textContent).toBe("Title");
    expect(container.querySelector("strong")?.textContent).toBe("bold");
    expect(container.querySelector("em")?.textContent).toBe("soft");
    expect(container.querySelector("p code")?.textContent).toBe("code");
    expect([...container.querySelectorAll("li")].map((li) => li.textContent)).toEqual(["one", "two"]);
    expect(container.querySelector("pre")?.textContent).toBe("let x = 1;");
  });

  it("keeps HTML as text and links only safe schemes", () => {
    const text = '<script>window.__md=1</script> <img src=x onerror=alert(1)> [ok](https://example.com) [bad](javascript:alert(1))';
    render(<Markdown text={text} />, container);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    const links = [...container.querySelectorAll("a")];
    expect(links).toHaveLength(1);
    expect(links[0].getAttribute("href")).toBe("https://example.com");
    expect(links[0].getAttribute("rel")).toContain("noopener");
    expect(container.textContent).toContain("<script>window.__md=1</script>");
    expect(container.textContent).toContain("[bad](javascript:alert(1))");
  });
});
