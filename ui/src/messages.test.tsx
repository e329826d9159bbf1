import { render } from "preact";
import { afterEach, describe, expect, it } from "vitest";
import { IoView } from "./components/Json";
import { asConversation } from "./messages";

describe("conversation detection", () => {
  it("reads role/content lists, {messages}, single messages and content parts", () => {
    expect(asConversation([{ role: "user", content: "hi" }])).toEqual([{ role: "user", parts: [{ kind: "text", text: "hi" }] }]);
    expect(asConversation({ messages: [{ role: "system", content: "be brief" }] })?.[0].role).toBe("system");
    expect(asConversation({ role: "assistant", content: "ok" })?.[0].parts[0].text).toBe("ok");
    const parts = asConversation([
      { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "data:image/png;base64,AA" } }] },
    ]);
    expect(parts?.[0].parts.map((part) => part.kind)).toEqual(["text", "image"]);
  });

  it("refuses values that are not conversations", () => {
    expect(asConversation("hello")).toBeNull();
    expect(asConversation([])).toBeNull();
    expect(asConversation([{ role: "user", content: "a" }, { foo: 1 }])).toBeNull();
    expect(asConversation({ question: "x" })).toBeNull();
  });
});

describe("input and output rendering", () => {
  const container = document.createElement("div");
  document.body.appendChild(container);
  afterEach(() => render(null, container));

  it("shows a conversation turn by turn", () => {
    render(
      <IoView
        label="input"
        value={[
          { role: "system", content: "You are terse." },
          { role: "user", content: "Where is the moon?" },
          { role: "assistant", content: "Up.", tool_calls: [{ id: "c1", function: { name: "look" } }] },
        ]}
      />,
      container,
    );
    const messages = [...container.querySelectorAll(".message")];
    expect(messages.map((message) => message.getAttribute("data-role"))).toEqual(["system", "user", "assistant"]);
    expect(messages[1].textContent).toContain("Where is the moon?");
    expect(messages[2].querySelector("pre")?.textContent).toContain('"name": "look"');
  });

  it("renders HTML in data as text, never as markup", () => {
    const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    render(<IoView label="input" value={[{ role: "user", content: payload }]} />, container);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.textContent).toContain(payload);
    render(<IoView label="input" value={{ html: payload }} />, container);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("pre")?.textContent).toContain("onerror");
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
  });

  it("shows only inline data images, not remote URLs", () => {
    render(
      <IoView label="input" value={[{ role: "user", content: [{ type: "image_url", image_url: { url: "https://tracker.example/p.png" } }] }]} />,
      container,
    );
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toContain("https://tracker.example/p.png");
  });

  it("pretty-prints JSON and shows strings as they are", () => {
    render(<IoView label="output" value={{ answer: 42 }} />, container);
    expect(container.querySelector("pre")?.textContent).toBe('{\n  "answer": 42\n}');
    render(<IoView label="output" value={"plain text"} />, container);
    expect(container.querySelector("pre")?.textContent).toBe("plain text");
  });
});
