// Loading data: the value, the error, and a reload. A new load cancels the one before it
// (its request is aborted and its answer dropped), and leaving the view cancels the last.

import { useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  /** A load is in flight that the user asked for (not a quiet live refresh). */
  loading: boolean;
  /** Loads again; a quiet reload keeps the loading state off and is skipped while another
   * load is in flight. Resolves when the load settled (answered, failed or cancelled). */
  reload: (quiet?: boolean) => Promise<void>;
  /** How long the last settled load took, in milliseconds. */
  lastDuration: () => number;
}

function isAbort(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === "AbortError";
}

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const current = useRef<{ controller: AbortController; done: Promise<void> } | null>(null);
  const duration = useRef(0);
  const run = (quiet = false): Promise<void> => {
    if (quiet && current.current) return current.current.done;
    current.current?.controller.abort();
    const controller = new AbortController();
    const started = performance.now();
    if (!quiet) setLoading(true);
    const settle = (apply: () => void) => {
      if (current.current?.controller !== controller) return;
      current.current = null;
      duration.current = performance.now() - started;
      apply();
      setLoading(false);
    };
    const done = load(controller.signal).then(
      (value) =>
        settle(() => {
          setData(value);
          setError(null);
        }),
      (reason: unknown) => {
        if (isAbort(reason) || controller.signal.aborted) return;
        settle(() => setError(reason instanceof Error ? reason.message : String(reason)));
      },
    );
    current.current = { controller, done };
    return done;
  };
  useEffect(() => {
    void run();
    return () => {
      current.current?.controller.abort();
      current.current = null;
    };
  }, deps);
  return { data, error, loading, reload: run, lastDuration: () => duration.current };
}

/** The delay before the next live refresh: `every`, or four times the last answer's time when
 * that is longer (a slow query is asked less often), at most a minute. */
export function liveDelay(every: number, lastDuration: number): number {
  return Math.min(Math.max(every, lastDuration * 4), 60_000);
}

/** Refreshes `loaded` quietly while `enabled`: each refresh starts only after the previous one
 * settled and `liveDelay` passed, none runs while the tab is hidden (a refresh that fell due
 * meanwhile runs when it is shown again), and none overlaps a load the user started. */
export function useLiveRefresh(loaded: Loaded<unknown>, every: number, enabled: boolean) {
  const saved = useRef(loaded);
  saved.current = loaded;
  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let due = false;
    const schedule = () => {
      timer = setTimeout(tick, liveDelay(every, saved.current.lastDuration()));
    };
    const tick = () => {
      timer = undefined;
      if (stopped) return;
      if (document.visibilityState === "hidden") {
        due = true;
        return;
      }
      due = false;
      void saved.current.reload(true).then(() => {
        if (!stopped) schedule();
      });
    };
    const onVisibility = () => {
      if (document.visibilityState !== "hidden" && due && timer === undefined) tick();
    };
    document.addEventListener("visibilitychange", onVisibility);
    schedule();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [every, enabled]);
}
