import { render } from "preact";
import { describe, expect, it } from "vitest";
import { JsonTree } from "./components/JsonTree";
import { childPath, searchJson } from "./jsonpath";
import { testContainer } from "./test-container";

const flush = () => new Promise((resolve) => setTimeout(resolve));

describe("JSON paths and search", () => {
  it("names paths like JavaScript", () => {
    expect(childPath("$", "messages")).toBe("$.messages");
    expect(childPath("$.messages", 0)).toBe("$.messages[0]");
    expect(childPath("$", "odd key")).toBe('$["odd key"]');
  });

  it("finds keys and values, ignoring case, and opens the way to them", () => {
    const value = { user: { name: "Ada", tags: ["x", "LOVELACE"] }, count: 3 };
    const found = searchJson(value, "lovelace");
    expect(found.matches).toEqual(["$.user.tags[1]"]);
    expect([...found.open]).toEqual(["$", "$.user", "$.user.tags"]);
    expect(found.reach.get("$.user.tags")).toBe(1);
    expect(searchJson(value, "NAME").matches).toEqual(["$.user.name"]);
    expect(searchJson(value, "3").matches).toEqual(["$.count"]);
    expect(searchJson(value, "").matches).toEqual([]);
    expect(searchJson(Array.from({ length: 50 }, () => "a"), "a", 10)).toMatchObject({ truncated: true });
  });
});

describe("the JSON tree", () => {
  const container = testContainer();

  it("folds beyond its depth, and unfolds a node on its toggle", async () => {
    render(<JsonTree value={{ a: { b: { c: { d: 1 } } } }} depth={2} />, container);
    expect(container.textContent).toContain('"b"');
    expect(container.textContent).not.toContain('"c"');
    expect(container.textContent).toContain("{1 key}");
    container.querySelector<HTMLButtonElement>("[data-path='$.a.b'] button.toggle")!.click();
    await flush();
    expect(container.textContent).toContain('"c"');
    container.querySelector<HTMLButtonElement>("[data-path='$.a'] button.toggle")!.click();
    await flush();
    expect(container.textContent).not.toContain('"b"');
  });

  it("renders a large value lazily: a hundred children at a time, long strings cut", async () => {
    const big = Array.from({ length: 50_000 }, (_, index) => ({ id: index, text: "x".repeat(100), nested: { deep: [index] } }));
    big[0].text = "y".repeat(5_000_000);
    render(<JsonTree value={big} depth={2} />, container);
    expect(container.querySelectorAll(".jt-row").length).toBeLessThan(600);
    expect(container.textContent!.length).toBeLessThan(100_000);
    expect(container.textContent).toContain("show 100 more of 49,900");
    expect(container.textContent).toContain("4,998,000 more characters");
    [...container.querySelectorAll<HTMLButtonElement>("button")].find((button) => button.textContent?.startsWith("show 100 more"))!.click();
    await flush();
    expect(container.querySelector("[data-path='$[199]']")).not.toBeNull();
    expect(container.querySelector("[data-path='$[200]']")).toBeNull();
  });

  it("searches, opening the folded nodes that hold a match, however far down the list", async () => {
    const value = { items: Array.from({ length: 500 }, (_, index) => ({ deep: { deeper: { name: `item-${index}` } } })) };
    render(<JsonTree value={value} depth={1} label="payload" />, container);
    const input = container.querySelector<HTMLInputElement>("input[type='search']")!;
    input.value = "ITEM-432";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await flush();
    const match = container.querySelector("[data-path='$.items[432].deep.deeper.name']");
    expect(match?.classList.contains("match")).toBe(true);
    expect(match?.classList.contains("active")).toBe(true);
    expect(container.textContent).toContain("1 of 1");
  });

  it("copies a value or its path", async () => {
    const copied: string[] = [];
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (text: string) => void copied.push(text) }, configurable: true });
    render(<JsonTree value={{ a: { b: [1, "two"] } }} depth={3} />, container);
    const row = container.querySelector("[data-path='$.a.b[1]']")!;
    const [value, path] = [...row.querySelectorAll<HTMLButtonElement>(".jt-actions button")];
    value.click();
    path.click();
    container.querySelector<HTMLButtonElement>("[data-path='$.a'] .jt-actions button")!.click();
    await flush();
    expect(copied).toEqual(["two", "$.a.b[1]", '{\n  "b": [\n    1,\n    "two"\n  ]\n}']);
  });
});
