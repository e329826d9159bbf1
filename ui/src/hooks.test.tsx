import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import { duration, latency } from "./format";
import { liveDelay, useLiveRefresh, useLoad, type Loaded } from "./hooks";

describe("durations", () => {
  it("read in their two largest units", () => {
    expect(latency(0.25)).toBe("250 ms");
    expect(latency(12.5)).toBe("12.50 s");
    expect(latency(192)).toBe("3 min 12 s");
    expect(latency(3 * 3600 + 12 * 60 + 40)).toBe("3 h 12 min");
    expect(latency(2 * 86_400 + 4 * 3600 + 59)).toBe("2 d 4 h");
    expect(latency(29043 * 60 + 15)).toBe("20 d 4 h");
    expect(duration(3600)).toBe("1 h");
    expect(duration(60)).toBe("1 min");
  });
});

/** A request the test answers by hand, recording its abort signal. */
interface Pending {
  path: string;
  signal: AbortSignal;
  resolve: (value: string) => void;
}

describe("loading", () => {
  const container = document.createElement("div");
  document.body.appendChild(container);
  afterEach(() => {
    act(() => render(null, container));
    vi.useRealTimers();
  });

  function start(pending: Pending[]) {
    let loaded: Loaded<string> | null = null;
    function View(props: { path: string; live: boolean }) {
      loaded = useLoad(
        (signal) =>
          new Promise<string>((resolve, reject) => {
            pending.push({ path: props.path, signal, resolve });
            signal.addEventListener("abort", () => reject(new DOMException("cancelled", "AbortError")));
          }),
        [props.path],
      );
      useLiveRefresh(loaded, 5000, props.live);
      return <p>{loaded.loading ? "loading" : (loaded.data ?? "none")}</p>;
    }
    const show = (path: string, live = false) => act(() => render(<View path={path} live={live} />, container));
    return { show };
  }

  it("cancels the previous request and drops its answer when the view changes", async () => {
    const pending: Pending[] = [];
    const view = start(pending);
    view.show("/a");
    view.show("/b");
    expect(pending.map((p) => p.path)).toEqual(["/a", "/b"]);
    expect(pending[0].signal.aborted).toBe(true);
    expect(pending[1].signal.aborted).toBe(false);
    await act(async () => pending[0].resolve("answer a"));
    expect(container.textContent).toBe("loading");
    await act(async () => pending[1].resolve("answer b"));
    expect(container.textContent).toBe("answer b");
  });

  it("cancels the request when the view is left", () => {
    const pending: Pending[] = [];
    const view = start(pending);
    view.show("/a");
    act(() => render(null, container));
    expect(pending[0].signal.aborted).toBe(true);
  });

  it("refreshes live only after the previous answer, slower when answers are slow, never while hidden", async () => {
    vi.useFakeTimers();
    const pending: Pending[] = [];
    const view = start(pending);
    view.show("/a", true);
    await act(async () => pending[0].resolve("first"));
    await act(async () => {
      vi.advanceTimersByTime(5000);
    });
    expect(pending).toHaveLength(2);
    // The refresh has not answered: however long it takes, no second refresh starts.
    await act(async () => {
      vi.advanceTimersByTime(60_000);
    });
    expect(pending).toHaveLength(2);
    expect(container.textContent).toBe("first");
    await act(async () => pending[1].resolve("second"));
    expect(container.textContent).toBe("second");
    // That answer took 60 s: the next refresh waits the maximum, a minute.
    await act(async () => {
      vi.advanceTimersByTime(59_000);
    });
    expect(pending).toHaveLength(2);
    await act(async () => {
      vi.advanceTimersByTime(1000);
    });
    expect(pending).toHaveLength(3);
    await act(async () => pending[2].resolve("third"));
    // Hidden: a refresh that falls due waits until the tab is shown again.
    const visibility = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
    await act(async () => {
      vi.advanceTimersByTime(120_000);
    });
    expect(pending).toHaveLength(3);
    visibility.mockReturnValue("visible");
    await act(async () => {
      document.dispatchEvent(new Event("visibilitychange"));
    });
    expect(pending).toHaveLength(4);
    visibility.mockRestore();
  });

  it("computes the live delay from the last answer's time", () => {
    expect(liveDelay(5000, 100)).toBe(5000);
    expect(liveDelay(5000, 2000)).toBe(8000);
    expect(liveDelay(5000, 600_000)).toBe(60_000);
  });
});
