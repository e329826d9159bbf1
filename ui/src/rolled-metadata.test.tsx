import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import { emptyFilters } from "./dashboard";
import { Dashboard } from "./pages/Dashboard";
import { RolledMetadataKeys } from "./pages/RolledMetadata";
import { addKeyProblem, metadataFilterNote, withKey, withoutKey, type RolledMetadata } from "./rolled-metadata";

const rolled = (keys: [string, boolean][], sweeping = false): RolledMetadata => ({
  keys: keys.map(([key, ready]) => ({ key, ready, createdAt: "2026-01-01T00:00:00.000Z" })),
  maxKeys: 10,
  sweeping,
});

describe("rolled-up metadata keys", () => {
  it("adds a trimmed key once and removes one", () => {
    expect(withKey(["tenant"], "  tier ")).toEqual(["tenant", "tier"]);
    expect(withKey(["tenant"], "tenant ")).toEqual(["tenant"]);
    expect(withoutKey(["tenant", "tier"], "tenant")).toEqual(["tier"]);
    expect(withoutKey(["tenant"], "other")).toEqual(["tenant"]);
  });

  it("says why a key cannot be added", () => {
    expect(addKeyProblem([], "tenant", 10)).toBeNull();
    expect(addKeyProblem([], "   ", 10)).toBe("");
    expect(addKeyProblem(["tenant"], " tenant", 10)).toBe("tenant is already rolled up.");
    const full = Array.from({ length: 10 }, (_, index) => `k${index}`);
    expect(addKeyProblem(full, "", 10)).toBe("At most 10 keys can be rolled up: remove one to add another.");
    expect(addKeyProblem(full, "tenant", 10)).toBe("At most 10 keys can be rolled up: remove one to add another.");
  });

  it("notes a dashboard metadata filter on a key that is not rolled up or not ready", () => {
    const filters = { ...emptyFilters(), metadataKey: " tenant ", metadataValue: "acme" };
    expect(metadataFilterNote(filters, rolled([]))).toEqual({ key: "tenant", state: "missing" });
    expect(metadataFilterNote(filters, rolled([["tier", true]]))).toEqual({ key: "tenant", state: "missing" });
    expect(metadataFilterNote(filters, rolled([["tenant", false]], true))).toEqual({ key: "tenant", state: "building" });
    expect(metadataFilterNote(filters, rolled([["tenant", true]]))).toBeNull();
    // No note while the list is unknown, or without an active filter (a key needs a value).
    expect(metadataFilterNote(filters, null)).toBeNull();
    expect(metadataFilterNote({ ...filters, metadataValue: "" }, rolled([]))).toBeNull();
    expect(metadataFilterNote({ ...filters, metadataKey: " " }, rolled([]))).toBeNull();
  });
});

/** An empty dashboard. */
const DASHBOARD = {
  from: "2026-01-01T00:00:00.000Z",
  to: "2026-01-08T00:00:00.000Z",
  granularity: "day",
  traces: 0,
  tracesOverTime: [],
  errors: 0,
  generationsOverTime: [],
  generationsByModel: [],
  latencyByTraceName: [],
  latencyByModel: [],
  scores: 0,
  scoresOverTime: [],
  scoresByName: [],
  notes: {},
};

/** A fake server: answers GETs of the list with `answers` in turn (the last one repeated),
 * PUTs with the list it was sent, the dashboard with nothing, and records each request. */
function fakeServer(answers: RolledMetadata[]) {
  const requests: { method: string; url: string; body: unknown }[] = [];
  let gets = 0;
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    requests.push({ method, url, body });
    if (url.includes("/rolled-metadata")) {
      if (method === "PUT") {
        const keys = (body as { keys: string[] }).keys;
        return new Response(JSON.stringify(rolled(keys.map((key) => [key, false]), true)), { status: 200 });
      }
      const answer = answers[Math.min(gets, answers.length - 1)];
      gets++;
      return new Response(JSON.stringify(answer), { status: 200 });
    }
    return new Response(JSON.stringify(url.includes("/dashboard?") ? DASHBOARD : { data: [] }), { status: 200 });
  });
  vi.stubGlobal("fetch", fetch);
  return requests;
}

describe("the settings section of rolled-up metadata keys", () => {
  const container = document.createElement("div");
  document.body.appendChild(container);
  afterEach(() => {
    act(() => render(null, container));
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
  const states = () => [...container.querySelectorAll("[data-testid='rolled-key']")].map((row) => `${row.getAttribute("data-key")}: ${row.querySelector("[data-testid='rolled-key-state']")?.textContent}`);

  it("refreshes the list while a sweep runs and stops when it is done", async () => {
    vi.useFakeTimers();
    const requests = fakeServer([rolled([["tenant", false]], true), rolled([["tenant", false]], true), rolled([["tenant", true]])]);
    const gets = () => requests.filter((request) => request.url.includes("/rolled-metadata")).length;
    await act(async () => render(<RolledMetadataKeys projectId="p1" manage={false} fail={() => {}} changed={() => {}} />, container));
    await vi.waitFor(() => expect(states()).toEqual(["tenant: building…"]));
    expect(gets()).toBe(1);
    for (const expected of [2, 3]) {
      await act(async () => {
        await vi.advanceTimersByTimeAsync(2000);
      });
      expect(gets()).toBe(expected);
    }
    expect(states()).toEqual(["tenant: ready"]);
    // The sweep is done: no more requests.
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000);
    });
    expect(gets()).toBe(3);
  });

  it("stops refreshing when the section is left during a sweep", async () => {
    vi.useFakeTimers();
    const requests = fakeServer([rolled([["tenant", false]], true)]);
    await act(async () => render(<RolledMetadataKeys projectId="p1" manage={false} fail={() => {}} changed={() => {}} />, container));
    await vi.waitFor(() => expect(states()).toEqual(["tenant: building…"]));
    act(() => render(null, container));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000);
    });
    expect(requests).toHaveLength(1);
  });

  it("is read-only without the manage permission", async () => {
    fakeServer([rolled([["tenant", true]])]);
    await act(async () => render(<RolledMetadataKeys projectId="p1" manage={false} fail={() => {}} changed={() => {}} />, container));
    await vi.waitFor(() => expect(states()).toEqual(["tenant: ready"]));
    expect(container.querySelector("[data-testid='rolled-key-input']")).toBeNull();
    expect(container.querySelector("button")).toBeNull();
  });

  it("adds a key to the list read again just before, and removes one", async () => {
    // The page shows tenant; meanwhile someone else added tier.
    const requests = fakeServer([rolled([["tenant", true]]), rolled([["tenant", true], ["tier", true]])]);
    const changed = vi.fn();
    await act(async () => render(<RolledMetadataKeys projectId="p1" manage fail={(reason) => { throw reason; }} changed={changed} />, container));
    await vi.waitFor(() => expect(states()).toEqual(["tenant: ready"]));
    const input = container.querySelector<HTMLInputElement>("[data-testid='rolled-key-input']")!;
    const add = container.querySelector<HTMLButtonElement>("[data-testid='rolled-key-add']")!;
    expect(add.disabled).toBe(true);
    await act(async () => {
      input.value = " region ";
      input.dispatchEvent(new Event("input"));
    });
    expect(add.disabled).toBe(false);
    await act(async () => {
      add.click();
    });
    await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(1));
    const puts = () => requests.filter((request) => request.method === "PUT");
    expect(puts().map((request) => request.body)).toEqual([{ keys: ["tenant", "tier", "region"] }]);
    expect(puts()[0].url).toBe("/api/ui/projects/p1/rolled-metadata");
    await vi.waitFor(() => expect(input.value).toBe(""));
    await vi.waitFor(() => expect(states()).toEqual(["tenant: ready", "tier: ready"]));
    await act(async () => {
      container.querySelector<HTMLButtonElement>("button[aria-label='Remove tenant']")!.click();
    });
    await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(2));
    expect(puts()[1].body).toEqual({ keys: ["tier"] });
  });
});

describe("the dashboard's note on its metadata filter", () => {
  const container = document.createElement("div");
  document.body.appendChild(container);
  afterEach(() => {
    act(() => render(null, container));
    vi.unstubAllGlobals();
    history.replaceState(null, "", "/");
  });
  const note = () => container.querySelector("[data-testid='metadata-rollup-note']");

  it("says a filter on a key that is not rolled up reads every trace, and links to the settings", async () => {
    const requests = fakeServer([rolled([["tier", true]])]);
    history.replaceState(null, "", "/project/p1/dashboard?metadataKey=tenant&metadataValue=acme");
    await act(async () => render(<Dashboard projectId="p1" />, container));
    await vi.waitFor(() => expect(note()?.textContent).toBe("tenant is not rolled up: this filter reads every matching trace. Roll it up in Settings."));
    expect(note()?.querySelector("a")?.getAttribute("href")).toBe("/project/p1/settings");
    expect(requests.some((request) => request.url === "/api/ui/projects/p1/rolled-metadata")).toBe(true);
  });

  it("shows nothing for a ready key, and reads no list without a metadata filter", async () => {
    let requests = fakeServer([rolled([["tenant", true]])]);
    history.replaceState(null, "", "/project/p1/dashboard?metadataKey=tenant&metadataValue=acme");
    await act(async () => render(<Dashboard projectId="p1" />, container));
    await vi.waitFor(() => expect(requests.some((request) => request.url.includes("/rolled-metadata"))).toBe(true));
    await act(async () => {});
    expect(note()).toBeNull();
    act(() => render(null, container));
    requests = fakeServer([rolled([])]);
    history.replaceState(null, "", "/project/p1/dashboard?userId=alice");
    await act(async () => render(<Dashboard projectId="p1" />, container));
    await vi.waitFor(() => expect(requests.some((request) => request.url.includes("/dashboard"))).toBe(true));
    expect(requests.some((request) => request.url.includes("/rolled-metadata"))).toBe(false);
    expect(note()).toBeNull();
  });
});
