import { render } from "preact";
import { describe, expect, it } from "vitest";
import { IoView } from "./components/Json";
import { asConversation, pairToolCalls, type Message, type Part } from "./messages";
import { testContainer } from "./test-container";

/** The tool calls and results of a conversation, as [kind, id, name, args or content]. */
function tools(messages: Message[] | null) {
  return (messages ?? []).flatMap((message) =>
    message.parts.flatMap((part): unknown[][] =>
      part.kind === "tool-call"
        ? [["call", part.id, part.name, part.args]]
        : part.kind === "tool-result"
          ? [["result", part.id, part.name, part.content]]
          : [],
    ),
  );
}

function texts(messages: Message[] | null) {
  return (messages ?? []).map((message) => [
    message.role,
    message.parts.flatMap((part) => (part.kind === "text" || part.kind === "image" ? [part.text] : [])).join("|"),
  ]);
}

/** Every call is paired with the result of its id. */
function paired(messages: Message[] | null): [string, unknown][] {
  const pairs = pairToolCalls(messages ?? []);
  const out: [string, unknown][] = [];
  for (const [from, to] of pairs) {
    if (from.kind === "tool-call" && to.kind === "tool-result") out.push([from.name, to.content]);
  }
  return out;
}

describe("conversation detection", () => {
  it("reads role/content lists, {messages}, single messages and content parts", () => {
    expect(asConversation([{ role: "user", content: "hi" }])).toEqual([{ role: "user", parts: [{ kind: "text", text: "hi" }] }]);
    expect(asConversation({ messages: [{ role: "system", content: "be brief" }] })?.[0].role).toBe("system");
    const single = asConversation({ role: "assistant", content: "ok" })?.[0].parts[0] as Extract<Part, { kind: "text" }>;
    expect(single.text).toBe("ok");
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
    expect(asConversation({ input: [1, 2] })).toBeNull();
  });
});

describe("tool calls of each shape", () => {
  it("OpenAI chat: tool_calls with JSON-string arguments and tool messages", () => {
    const messages = asConversation([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp": 21}' },
      { role: "assistant", content: "It is 21 °C." },
    ]);
    expect(tools(messages)).toEqual([
      ["call", "call_1", "get_weather", { city: "Paris", unit: "c" }],
      ["result", "call_1", null, { temp: 21 }],
    ]);
    expect(paired(messages)).toEqual([["get_weather", { temp: 21 }]]);
  });

  it("OpenAI chat: the legacy function_call and arguments that are not JSON", () => {
    const messages = asConversation([
      { role: "assistant", content: null, function_call: { name: "lookup", arguments: "not json" } },
      { role: "function", name: "lookup", content: "found" },
    ]);
    expect(tools(messages)).toEqual([
      ["call", null, "lookup", "not json"],
      ["result", null, "lookup", "found"],
    ]);
    expect(paired(messages)).toEqual([["lookup", "found"]]);
  });

  it("OpenAI Responses: function_call and function_call_output items", () => {
    const messages = asConversation({
      input: [
        { role: "user", content: [{ type: "input_text", text: "Add 2 and 3" }] },
        { type: "function_call", call_id: "fc_1", name: "add", arguments: '{"a":2,"b":3}' },
        { type: "function_call_output", call_id: "fc_1", output: "5" },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Just add." }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "5" }] },
      ],
    });
    expect(texts(messages)).toEqual([
      ["user", "Add 2 and 3"],
      ["assistant", ""],
      ["tool", ""],
      ["reasoning", "Just add."],
      ["assistant", "5"],
    ]);
    expect(tools(messages)).toEqual([
      ["call", "fc_1", "add", { a: 2, b: 3 }],
      ["result", "fc_1", null, "5"],
    ]);
    expect(paired(messages)).toEqual([["add", "5"]]);
  });

  it("Anthropic: tool_use and tool_result blocks, base64 images", () => {
    const messages = asConversation([
      { role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "AA" } }, { type: "text", text: "What is this?" }] },
      { role: "assistant", content: [{ type: "text", text: "Let me look." }, { type: "tool_use", id: "toolu_1", name: "search", input: { q: "png" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "an image" }], is_error: false }] },
    ]);
    expect(texts(messages)[0]).toEqual(["user", "data:image/png;base64,AA|What is this?"]);
    expect(tools(messages)).toEqual([
      ["call", "toolu_1", "search", { q: "png" }],
      ["result", "toolu_1", null, "an image"],
    ]);
    expect(paired(messages)).toEqual([["search", "an image"]]);
  });

  it("Gemini: functionCall and functionResponse parts, paired by name without ids", () => {
    const messages = asConversation({
      contents: [
        { role: "user", parts: [{ text: "Turn on the lights" }] },
        { role: "model", parts: [{ functionCall: { name: "lights", args: { on: true } } }, { functionCall: { name: "fan", args: { speed: 2 } } }] },
        { role: "user", parts: [{ functionResponse: { name: "fan", response: { ok: "fan" } } }, { functionResponse: { name: "lights", response: { ok: "lights" } } }] },
      ],
    });
    expect(messages?.[1].role).toBe("assistant");
    expect(tools(messages)[0]).toEqual(["call", null, "lights", { on: true }]);
    expect(paired(messages)).toEqual([
      ["fan", { ok: "fan" }],
      ["lights", { ok: "lights" }],
    ]);
    const answer = asConversation({ candidates: [{ content: { role: "model", parts: [{ text: "Done." }] } }] });
    expect(texts(answer)).toEqual([["assistant", "Done."]]);
  });

  it("LangChain: message dicts with parsed tool_calls, and serialized messages", () => {
    const messages = asConversation([
      { type: "human", content: "2 + 2?" },
      { type: "ai", content: "", tool_calls: [{ name: "calculator", args: { expression: "2 + 2" }, id: "lc_1" }] },
      { type: "tool", content: "4", tool_call_id: "lc_1", name: "calculator" },
    ]);
    expect(texts(messages).map(([role]) => role)).toEqual(["user", "assistant", "tool"]);
    expect(paired(messages)).toEqual([["calculator", "4"]]);
    const serialized = asConversation([
      { lc: 1, type: "constructor", id: ["langchain", "schema", "messages", "SystemMessage"], kwargs: { content: "Be exact." } },
      {
        lc: 1,
        type: "constructor",
        id: ["langchain", "schema", "messages", "AIMessage"],
        kwargs: { content: "", additional_kwargs: { tool_calls: [{ id: "c9", type: "function", function: { name: "now", arguments: "{}" } }] } },
      },
    ]);
    expect(texts(serialized)[0]).toEqual(["system", "Be exact."]);
    expect(tools(serialized)).toEqual([["call", "c9", "now", {}]]);
  });

  it("Vercel AI SDK: tool-call and tool-result parts", () => {
    const messages = asConversation([
      { role: "user", content: [{ type: "text", text: "Roll a die" }] },
      { role: "assistant", content: [{ type: "tool-call", toolCallId: "ai_1", toolName: "roll", args: { sides: 6 } }] },
      { role: "tool", content: [{ type: "tool-result", toolCallId: "ai_1", toolName: "roll", result: { value: 4 } }] },
      { role: "assistant", content: [{ type: "tool-call", toolCallId: "ai_2", toolName: "roll", input: { sides: 20 } }] },
      { role: "tool", content: [{ type: "tool-result", toolCallId: "ai_2", toolName: "roll", output: { type: "json", value: 17 } }] },
    ]);
    expect(tools(messages)).toEqual([
      ["call", "ai_1", "roll", { sides: 6 }],
      ["result", "ai_1", "roll", { value: 4 }],
      ["call", "ai_2", "roll", { sides: 20 }],
      ["result", "ai_2", "roll", { type: "json", value: 17 }],
    ]);
    expect(paired(messages).map(([, content]) => content)).toEqual([{ value: 4 }, { type: "json", value: 17 }]);
  });
});

describe("input and output rendering", () => {
  const container = testContainer();

  it("shows a conversation turn by turn", () => {
    render(
      <IoView
        label="input"
        value={[
          { role: "system", content: "You are terse." },
          { role: "user", content: "Where is the moon?" },
          { role: "assistant", content: "Up.", tool_calls: [{ id: "c1", function: { name: "look", arguments: '{"at":"sky"}' } }] },
        ]}
      />,
      container,
    );
    const messages = [...container.querySelectorAll(".message")];
    expect(messages.map((message) => message.getAttribute("data-role"))).toEqual(["system", "user", "assistant"]);
    expect(messages[1].textContent).toContain("Where is the moon?");
    const call = messages[2].querySelector(".tool-call");
    expect(call?.querySelector(".tool-name")?.textContent).toBe("look");
    expect(call?.querySelector(".tool-args")?.textContent).toContain('"at": "sky"');
    expect(call?.textContent).toContain("No result in this transcript.");
  });

  it("shows a tool call with its parsed arguments next to its result", () => {
    render(
      <IoView
        label="input"
        value={[
          { role: "assistant", content: null, tool_calls: [{ id: "call_7", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
          { role: "tool", tool_call_id: "call_7", content: "Snow, -3 °C" },
        ]}
      />,
      container,
    );
    const call = container.querySelector(".tool-call[data-call-id='call_7']");
    expect(call?.querySelector(".tool-args")?.textContent).toContain('"city": "Oslo"');
    expect(call?.querySelector(".tool-args")?.textContent).not.toContain('\\"');
    expect(call?.querySelector(".tool-result")?.textContent).toContain("Snow, -3 °C");
    expect(container.querySelector(".tool-result-ref")?.textContent).toContain("get_weather");
  });

  it("renders HTML in data as text, never as markup", () => {
    const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    render(<IoView label="input" value={[{ role: "user", content: payload }]} />, container);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.textContent).toContain(payload);
    render(<IoView label="input" value={{ html: payload }} />, container);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector(".json-tree")?.textContent).toContain("onerror");
    render(
      <IoView label="input" value={[{ role: "assistant", content: [{ type: "tool_use", id: "t", name: payload, input: { x: payload } }] }]} />,
      container,
    );
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector(".tool-name")?.textContent).toBe(payload);
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

  it("shows JSON as a tree and a plain string as Markdown with a raw toggle", () => {
    render(<IoView label="output" value={{ answer: 42 }} />, container);
    expect(container.querySelector(".json-tree")?.textContent).toContain('"answer": 42');
    render(<IoView label="output" value={"**bold** text"} />, container);
    expect(container.querySelector(".md strong")?.textContent).toBe("bold");
    const raw = container.querySelector<HTMLInputElement>(".text-view input[type='checkbox']")!;
    raw.click();
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(container.querySelector(".text-view pre")?.textContent).toBe("**bold** text");
        resolve();
      }),
    );
  });
});
