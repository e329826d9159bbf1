// A JSON value as a foldable tree: containers deeper than `depth` start folded and a folded
// node renders nothing of its children, a container lists its children a hundred at a time
// and long strings are cut, so a payload of megabytes opens at once. A search field finds
// keys and values (opening the way to each match, Enter for the next), and every row can
// copy its value or its path. Everything is rendered as text.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { childPath, entriesOf, ROOT, searchJson, type Key } from "../jsonpath";

const PAGE = 100;
const LONG_STRING = 2000;

interface Context {
  depth: number;
  open: Map<string, boolean>;
  toggle: (path: string, open: boolean) => void;
  search: ReturnType<typeof searchJson>;
  active: string | null;
}

function copy(text: string) {
  void navigator.clipboard?.writeText(text).catch(() => {});
}

function copyText(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

function Scalar(props: { value: unknown }) {
  const [full, setFull] = useState(false);
  const { value } = props;
  if (typeof value === "string") {
    const long = value.length > LONG_STRING && !full;
    return (
      <span class="jt-string">
        "{long ? value.slice(0, LONG_STRING) : value}"
        {long ? (
          <button type="button" class="link small" onClick={() => setFull(true)}>
            … {(value.length - LONG_STRING).toLocaleString("en-US")} more characters
          </button>
        ) : null}
      </span>
    );
  }
  if (value === null) return <span class="jt-null">null</span>;
  if (typeof value === "number") return <span class="jt-number">{String(value)}</span>;
  if (typeof value === "boolean") return <span class="jt-boolean">{String(value)}</span>;
  return <span class="jt-null">{String(value)}</span>;
}

function Actions(props: { value: unknown; path: string }) {
  return (
    <span class="jt-actions">
      <button type="button" class="copy" title={`Copy the value at ${props.path}`} onClick={() => copy(copyText(props.value))}>
        copy
      </button>
      <button type="button" class="copy" title={`Copy the path ${props.path}`} onClick={() => copy(props.path)}>
        path
      </button>
    </span>
  );
}

function Node(props: { name: Key | null; value: unknown; path: string; level: number; ctx: Context }) {
  const { name, value, path, level, ctx } = props;
  const [shown, setShown] = useState(PAGE);
  const ref = useRef<HTMLDivElement>(null);
  const isActive = ctx.active === path;
  useEffect(() => {
    if (isActive) ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [isActive]);
  const entries = entriesOf(value);
  const matched = ctx.search.matched.has(path);
  const rowClass = `jt-row${matched ? " match" : ""}${isActive ? " active" : ""}`;
  const label =
    name === null ? null : (
      <span class={typeof name === "number" ? "jt-index" : "jt-key"}>{typeof name === "number" ? name : JSON.stringify(name)}: </span>
    );
  if (!entries) {
    return (
      <div class={rowClass} ref={ref} style={{ paddingLeft: `${level * 14 + 16}px` }} data-path={path}>
        {label}
        <Scalar value={value} />
        <Actions value={value} path={path} />
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const open = ctx.open.get(path) ?? (ctx.search.open.has(path) || level < ctx.depth);
  const count = entries.length;
  const summary = isArray ? `[${count} ${count === 1 ? "item" : "items"}]` : `{${count} ${count === 1 ? "key" : "keys"}}`;
  const reach = ctx.search.reach.get(path) ?? -1;
  const limit = Math.max(shown, reach + 1);
  return (
    <>
      <div class={rowClass} ref={ref} style={{ paddingLeft: `${level * 14}px` }} data-path={path}>
        <button
          type="button"
          class="toggle"
          aria-expanded={open}
          aria-label={`${open ? "fold" : "unfold"} ${name === null ? "the value" : String(name)}`}
          onClick={() => ctx.toggle(path, !open)}
          disabled={count === 0}
        >
          {count === 0 ? "·" : open ? "▾" : "▸"}
        </button>
        {label}
        <span class="jt-summary">{count === 0 ? (isArray ? "[]" : "{}") : open ? (isArray ? "[" : "{") : summary}</span>
        <Actions value={value} path={path} />
      </div>
      {open && count > 0 ? (
        <>
          {entries.slice(0, limit).map(([key, child]) => (
            <Node key={key} name={key} value={child} path={childPath(path, key)} level={level + 1} ctx={ctx} />
          ))}
          {count > limit ? (
            <div class="jt-row" style={{ paddingLeft: `${(level + 1) * 14 + 16}px` }}>
              <button type="button" class="link small" onClick={() => setShown(limit + PAGE)}>
                show {Math.min(PAGE, count - limit)} more of {(count - limit).toLocaleString("en-US")}
              </button>
            </div>
          ) : null}
          <div class="jt-row jt-close" style={{ paddingLeft: `${level * 14 + 16}px` }}>
            {isArray ? "]" : "}"}
          </div>
        </>
      ) : null}
    </>
  );
}

/** Whether a value holds more than `limit` nodes (counted no further). */
function largerThan(value: unknown, limit: number): boolean {
  let seen = 0;
  const stack = [value];
  while (stack.length > 0) {
    const entries = entriesOf(stack.pop());
    if (++seen > limit) return true;
    if (entries) for (const [, child] of entries) stack.push(child);
  }
  return false;
}

export function JsonTree(props: { value: unknown; label?: string; depth?: number }) {
  const [open, setOpen] = useState<Map<string, boolean>>(new Map());
  const [depth, setDepth] = useState(props.depth ?? 2);
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const search = useMemo(() => searchJson(props.value, query), [props.value, query]);
  const ctx: Context = {
    depth,
    open,
    toggle: (path, next) => setOpen(new Map(open).set(path, next)),
    search,
    active: search.matches.length > 0 ? search.matches[Math.min(active, search.matches.length - 1)] : null,
  };
  const step = (by: number) => {
    if (search.matches.length === 0) return;
    const next = (active + by + search.matches.length) % search.matches.length;
    setActive(next);
    // A match the user folded away opens again.
    const target = search.matches[next];
    const reopened = new Map(open);
    for (const path of search.open) if (target.startsWith(path)) reopened.delete(path);
    setOpen(reopened);
  };
  // A small value needs no search and no fold buttons.
  const container = entriesOf(props.value) !== null && largerThan(props.value, 24);
  return (
    <div class="json-tree" aria-label={props.label} role="group">
      {container ? (
        <div class="jt-tools">
          <input
            type="search"
            class="jt-search"
            placeholder="Search keys and values"
            aria-label={`Search ${props.label ?? "the value"}`}
            value={query}
            onInput={(event) => {
              setQuery(event.currentTarget.value);
              setActive(0);
            }}
            onKeyDown={(event) => {
              if (event.key === "Enter") {
                event.preventDefault();
                step(event.shiftKey ? -1 : 1);
              }
            }}
          />
          {query ? (
            <span class="muted small" aria-live="polite">
              {search.matches.length === 0
                ? "no match"
                : `${Math.min(active, search.matches.length - 1) + 1} of ${search.matches.length}${search.truncated ? "+" : ""}`}
            </span>
          ) : null}
          <button type="button" class="ghost small" onClick={() => { setOpen(new Map()); setDepth(Number.POSITIVE_INFINITY); }}>
            Unfold all
          </button>
          <button type="button" class="ghost small" onClick={() => { setOpen(new Map()); setDepth(1); }}>
            Fold all
          </button>
        </div>
      ) : null}
      <div class="jt-body">
        <Node name={null} value={props.value} path={ROOT} level={0} ctx={ctx} />
      </div>
    </div>
  );
}
