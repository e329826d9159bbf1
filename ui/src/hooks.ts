// Loading data: the value, the error, and a reload; stale answers are dropped.

import { useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: (quiet?: boolean) => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const run = (quiet = false) => {
    const mine = ++generation.current;
    if (!quiet) setLoading(true);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (reason: unknown) => {
        if (mine !== generation.current) return;
        setError(reason instanceof Error ? reason.message : String(reason));
        setLoading(false);
      },
    );
  };
  useEffect(() => run(), deps);
  return { data, error, loading, reload: run };
}

/** Calls `tick` every `ms` while the tab is visible. */
export function useInterval(tick: () => void, ms: number, enabled: boolean) {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!enabled) return;
    const id = setInterval(() => {
      if (document.visibilityState !== "hidden") saved.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms, enabled]);
}
