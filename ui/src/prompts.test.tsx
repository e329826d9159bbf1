import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { viewFromUrl } from "./filters";
import { LabelChips, LabelMover, MetricsTable, PromptContentView, tracesOfVersionHref, VersionDiff, VersionEditor } from "./pages/Prompts";
import { folderView, lineDiff, promptAsText, promptVariables, segments, variables, type PromptVersion } from "./prompts";
import { testContainer } from "./test-container";

function version(number: number, prompt: PromptVersion["prompt"], config: unknown = {}): PromptVersion {
  return {
    id: `id-${number}`,
    name: "team/greet",
    version: number,
    type: typeof prompt === "string" ? "text" : "chat",
    prompt,
    config,
    labels: [],
    tags: [],
    commitMessage: null,
    createdBy: "u",
    createdAt: "2026-01-01T00:00:00Z",
  };
}

describe("prompt text", () => {
  it("splits variables and references out of the text, losing nothing", () => {
    const text = "Hi {{ name }}, {{not a var}} {{name}} @@@langfusePrompt:name=base|label=production@@@ {{x";
    const parts = segments(text);
    expect(parts.map((part) => part.text).join("")).toBe(text);
    expect(parts.filter((part) => part.kind === "variable").map((part) => part.name)).toEqual(["name", "name"]);
    expect(parts.find((part) => part.kind === "reference")?.name).toBe("base");
    expect(variables(text)).toEqual(["name"]);
    expect(variables("{{a}}{{b_2}}{{ä}}{{a}}{{}}{{a-b}}")).toEqual(["a", "b_2", "ä"]);
  });

  it("finds the variables and placeholders of chat messages", () => {
    const found = promptVariables([
      { role: "system", content: "You are {{role}}" },
      { type: "placeholder", name: "history" },
      { role: "user", content: "{{question}} as {{role}}" },
    ]);
    expect(found).toEqual({ variables: ["role", "question"], placeholders: ["history"] });
    expect(promptAsText([{ role: "system", content: "a" }, { type: "placeholder", name: "h" }])).toBe("[system]\na\n[placeholder: h]");
  });

  it("groups names into folders by their slashes", () => {
    const prompts = ["a", "team/x", "team/sub/y", "team/sub/z", "other/q"].map((name) => ({ name }));
    expect(folderView(prompts, "")).toEqual({ folders: ["other", "team"], prompts: [{ name: "a" }] });
    expect(folderView(prompts, "team")).toEqual({ folders: ["team/sub"], prompts: [{ name: "team/x" }] });
    expect(folderView(prompts, "team/sub").prompts.map((p) => p.name)).toEqual(["team/sub/y", "team/sub/z"]);
  });

  it("links a version to the traces list filtered by it", () => {
    const href = tracesOfVersionHref("p 1", "team/greet", 2);
    const [path, query] = href.split("?");
    expect(path).toBe("/project/p%201/traces");
    const view = viewFromUrl(new URLSearchParams(query));
    expect([view.promptName, view.promptVersion]).toEqual(["team/greet", "2"]);
  });

  it("diffs lines", () => {
    expect(lineDiff("a\nb\nc", "a\nB\nc")).toEqual([
      { kind: "same", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "added", text: "B" },
      { kind: "same", text: "c" },
    ]);
  });
});

/** Requests that succeed, and confirmations that are declined until told otherwise. */
function stubWrites() {
  const fetch = vi.fn(async () => new Response("{}", { status: 200 }));
  vi.stubGlobal("fetch", fetch);
  const confirm = vi.fn(() => false);
  vi.stubGlobal("confirm", confirm);
  return { fetch, confirm };
}

describe("prompt components", () => {
  const container = testContainer();

  it("highlights variables as elements and never renders HTML from the text", () => {
    render(<PromptContentView prompt={"<b>bold</b> {{name}}<img src=x onerror=alert(1)>"} />, container);
    expect(container.querySelector("b")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("mark.variable")?.textContent).toBe("{{name}}");
    expect(container.textContent).toContain("<b>bold</b>");
  });

  it("renders chat messages with placeholders marked", () => {
    render(
      <PromptContentView
        prompt={[
          { role: "system", content: "Be {{tone}}" },
          { type: "placeholder", name: "history" },
        ]}
      />,
      container,
    );
    expect(container.querySelector("[data-role=system] mark.variable")?.textContent).toBe("{{tone}}");
    expect(container.querySelector("mark.placeholder")?.textContent).toContain("history");
  });

  it("shows the diff of two versions and of their configs", () => {
    render(<VersionDiff before={version(1, "Hi {{name}}", { t: 1 })} after={version(2, "Hello {{name}}", { t: 2 })} />, container);
    const prompt = container.querySelector("[aria-label='Prompt diff']");
    expect(prompt?.querySelector(".diff-removed")?.textContent).toBe("- Hi {{name}}");
    expect(prompt?.querySelector(".diff-added")?.textContent).toBe("+ Hello {{name}}");
    expect(container.querySelector("[aria-label='Config diff'] .diff-added")?.textContent).toContain('"t": 2');
  });

  it("lists the variables the editor finds as the text changes", async () => {
    render(<VersionEditor projectId="p1" name="greet" initial={{ type: "text", prompt: "Hi {{name}}", config: {} }} onCreated={() => {}} />, container);
    const found = () => Array.from(container.querySelectorAll("[aria-label='Variables found'] mark")).map((mark) => mark.textContent);
    expect(found()).toEqual(["name"]);
    const textarea = container.querySelector("textarea[name=prompt]") as HTMLTextAreaElement;
    textarea.value = "{{greeting}}, {{name}} from {{place}}";
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(found()).toEqual(["greeting", "name", "place"]));
  });

  it("moves production only after a confirmation, in one request", async () => {
    const { fetch, confirm } = stubWrites();
    const moved = vi.fn();
    render(<LabelMover projectId="p1" version={version(2, "x")} known={["latest", "staging"]} onMoved={moved} onError={() => {}} />, container);
    const form = container.querySelector("form") as HTMLFormElement;
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(fetch).not.toHaveBeenCalled();
    confirm.mockReturnValue(true);
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(moved).toHaveBeenCalled());
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/ui/projects/p1/prompts/team%2Fgreet/versions/2/labels");
    expect(JSON.parse(String(init.body))).toEqual({ labels: ["production"] });
    // Other labels move without asking.
    confirm.mockClear();
    const input = container.querySelector("input[name=label]") as HTMLInputElement;
    input.value = "staging";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect((container.querySelector("input[name=label]") as HTMLInputElement).value).toBe("staging"));
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
    expect(confirm).not.toHaveBeenCalled();
  });

  it("removes a label with its ×, production only after a confirmation, latest never", async () => {
    const { fetch, confirm } = stubWrites();
    const removed = vi.fn();
    const labelled = { ...version(2, "x"), labels: ["latest", "production", "staging"] };
    render(<LabelChips projectId="p1" version={labelled} onRemoved={removed} onError={() => {}} />, container);
    const buttons = Array.from(container.querySelectorAll("button.chip-remove")).map((button) => button.getAttribute("aria-label"));
    expect(buttons).toEqual(["Remove label production", "Remove label staging"]);
    const production = container.querySelector("[aria-label='Remove label production']") as HTMLButtonElement;
    production.click();
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(fetch).not.toHaveBeenCalled();
    confirm.mockReturnValue(true);
    production.click();
    await vi.waitFor(() => expect(removed).toHaveBeenCalledTimes(1));
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/ui/projects/p1/prompts/team%2Fgreet/versions/2/labels/production");
    expect(init.method).toBe("DELETE");
    confirm.mockClear();
    (container.querySelector("[aria-label='Remove label staging']") as HTMLButtonElement).click();
    await vi.waitFor(() => expect(removed).toHaveBeenCalledTimes(2));
    expect(confirm).not.toHaveBeenCalled();
  });

  it("puts versions' metrics side by side with a column per score name", () => {
    render(
      <MetricsTable
        selected={2}
        onSelect={() => {}}
        metrics={[
          { version: 1, generations: 3, latencyP50: 2, latencyP90: 3, latencyP99: 3, inputTokens: 30, outputTokens: 15, totalTokens: 45, totalCost: 0.75, firstUsed: null, lastUsed: null, scores: [{ name: "quality", average: 0.75, count: 2 }] },
          { version: 2, generations: 1, latencyP50: null, latencyP90: null, latencyP99: null, inputTokens: 0, outputTokens: 0, totalTokens: 0, totalCost: 0, firstUsed: null, lastUsed: null, scores: [] },
        ]}
      />,
      container,
    );
    const headers = Array.from(container.querySelectorAll("th")).map((th) => th.textContent);
    expect(headers).toContain("quality");
    const rows = container.querySelectorAll("tbody tr");
    expect(rows[0].textContent).toContain("0.75");
    expect(rows[0].textContent).toContain("2.00 s");
    expect(rows[1].classList.contains("selected")).toBe(true);
  });
});
