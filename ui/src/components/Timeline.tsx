// The Gantt view of a trace: one bar per observation on a shared time axis, in tree order.
// The axis has nice ticks for the visible window, which zooms (buttons, + and - keys,
// Ctrl/⌘ + wheel around the pointer) and pans (buttons, arrow keys, Shift + wheel, dragging
// the axis or a track). Durations are drawn beside their bar, or clipped inside it, never
// over another bar; the critical path is marked. Only the rows in view are rendered.

import { useRef, useState } from "preact/hooks";
import type { Observation } from "../api";
import { cost, latency } from "../format";
import { FULL, labelSide, niceTicks, pan, tickLabel, zoom, type Window } from "../timeline";
import type { Row } from "../tree";
import { RowLabel, tokensOf } from "./Tree";
import { VirtualRows } from "./Virtual";

function edges(observation: Observation, origin: number, windowStart: number, windowWidth: number) {
  const start = observation.startTime ? Date.parse(observation.startTime) : NaN;
  if (Number.isNaN(start)) return null;
  const endRaw = observation.endTime ? Date.parse(observation.endTime) : NaN;
  const end = Number.isNaN(endRaw) ? start : Math.max(endRaw, start);
  return {
    left: (start - origin - windowStart) / windowWidth,
    right: (end - origin - windowStart) / windowWidth,
  };
}

export function Timeline(props: {
  rows: Row<Observation>[];
  total: { start: number; end: number };
  selected: string | null;
  onSelect: (id: string) => void;
  onToggle?: (id: string) => void;
  critical?: Set<string>;
}) {
  const [window, setWindow] = useState<Window>(FULL);
  const [showCritical, setShowCritical] = useState(true);
  const axis = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; window: Window; width: number; moved: boolean } | null>(null);
  const span = Math.max(props.total.end - props.total.start, 1);
  const windowStart = window.start * span;
  const windowWidth = (window.end - window.start) * span;
  const ticks = niceTicks(windowStart, windowStart + windowWidth, 6);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : windowWidth;
  const selectedIndex = props.rows.findIndex((row) => row.node.observation.id === props.selected);
  const zoomed = window.start > 0 || window.end < 1;

  const trackFraction = (clientX: number): number => {
    const rect = axis.current?.getBoundingClientRect();
    if (!rect || rect.width === 0) return 0.5;
    return Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
  };
  const onWheel = (event: WheelEvent) => {
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      setWindow(zoom(window, event.deltaY > 0 ? 1.25 : 0.8, trackFraction(event.clientX)));
    } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      event.preventDefault();
      const delta = event.shiftKey && event.deltaX === 0 ? event.deltaY : event.deltaX;
      setWindow(pan(window, delta / 500));
    }
  };
  const onPointerDown = (event: PointerEvent) => {
    if (event.button !== 0) return;
    const rect = axis.current?.getBoundingClientRect();
    drag.current = { x: event.clientX, window, width: rect?.width ?? 1, moved: false };
  };
  const onPointerMove = (event: PointerEvent) => {
    const start = drag.current;
    if (!start || (event.buttons & 1) === 0) return;
    const moved = event.clientX - start.x;
    if (Math.abs(moved) < 3 && !start.moved) return;
    start.moved = true;
    setWindow(pan(start.window, -moved / start.width));
  };
  const onPointerUp = () => {
    // A drag that panned is not a click on the row it ended on.
    if (drag.current?.moved) setTimeout(() => (drag.current = null));
    else drag.current = null;
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const keys: Record<string, () => Window> = {
      "+": () => zoom(window, 0.5),
      "=": () => zoom(window, 0.5),
      "-": () => zoom(window, 2),
      "0": () => FULL,
      ArrowLeft: () => pan(window, -0.25),
      ArrowRight: () => pan(window, 0.25),
    };
    const change = keys[event.key];
    if (!change) return;
    event.preventDefault();
    event.stopPropagation();
    setWindow(change());
  };

  return (
    <div class="timeline" aria-label="timeline" onWheel={onWheel} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerLeave={onPointerUp}>
      <div class="timeline-tools" role="toolbar" aria-label="Timeline zoom" tabIndex={0} onKeyDown={onKeyDown}>
        <button type="button" aria-label="Zoom in" title="Zoom in (+, or Ctrl + wheel)" onClick={() => setWindow(zoom(window, 0.5))}>
          +
        </button>
        <button type="button" aria-label="Zoom out" title="Zoom out (-)" onClick={() => setWindow(zoom(window, 2))} disabled={!zoomed}>
          −
        </button>
        <button type="button" aria-label="Pan left" title="Earlier (←, or Shift + wheel, or drag)" onClick={() => setWindow(pan(window, -0.25))} disabled={window.start <= 0}>
          ←
        </button>
        <button type="button" aria-label="Pan right" title="Later (→)" onClick={() => setWindow(pan(window, 0.25))} disabled={window.end >= 1}>
          →
        </button>
        <button type="button" onClick={() => setWindow(FULL)} disabled={!zoomed} title="Show the whole trace (0)">
          Fit
        </button>
        <span class="muted small timeline-window">
          {zoomed ? `${latency(windowStart / 1000)} – ${latency((windowStart + windowWidth) / 1000)} of ${latency(span / 1000)}` : latency(span / 1000)}
        </span>
        {props.critical ? (
          <label class="check small muted">
            <input type="checkbox" checked={showCritical} onChange={(event) => setShowCritical(event.currentTarget.checked)} /> critical path
          </label>
        ) : null}
      </div>
      <div class="timeline-head">
        <div class="timeline-label muted small">observation</div>
        <div class="timeline-axis" ref={axis} onPointerDown={onPointerDown} aria-hidden="true">
          {ticks.map((tick) => {
            const at = (tick - windowStart) / windowWidth;
            return (
              <span key={tick} class="timeline-tick" style={{ left: `${at * 100}%` }}>
                {tickLabel(tick, step)}
              </span>
            );
          })}
        </div>
      </div>
      <VirtualRows
        class="timeline-rows"
        items={props.rows}
        scrollTo={selectedIndex}
        role="list"
        render={(row) => {
          const observation = row.node.observation;
          const bar = edges(observation, props.total.start, windowStart, windowWidth);
          const critical = showCritical && props.critical?.has(observation.id);
          const visible = bar !== null && bar.right >= 0 && bar.left <= 1;
          const left = bar ? Math.max(0, bar.left) : 0;
          const right = bar ? Math.min(1, bar.right) : 0;
          const side = labelSide(left, right);
          const duration = latency(observation.latency);
          const tokens = tokensOf(observation);
          const facts = [observation.model, tokens > 0 ? `${tokens.toLocaleString("en-US")} tokens` : null, observation.totalCost > 0 ? cost(observation.totalCost) : null]
            .filter(Boolean)
            .join(", ");
          return (
            <div
              key={observation.id}
              role="listitem"
              class={`timeline-row ${observation.id === props.selected ? "selected" : ""}${critical ? " critical" : ""}`}
              onClick={() => {
                if (!drag.current?.moved) props.onSelect(observation.id);
              }}
              data-id={observation.id}
            >
              <div class="timeline-label" style={{ paddingLeft: `${4 + row.node.depth * 10}px` }}>
                <RowLabel row={row} onToggle={props.onToggle} />
              </div>
              <div class="timeline-track" onPointerDown={onPointerDown}>
                {ticks.map((tick) => (
                  <span key={tick} class="timeline-grid" style={{ left: `${((tick - windowStart) / windowWidth) * 100}%` }} />
                ))}
                {visible ? (
                  <>
                    <div
                      class={`timeline-bar type-${observation.type.toLowerCase()} level-${observation.level.toLowerCase()}${critical ? " critical" : ""}`}
                      style={{ left: `${left * 100}%`, width: `max(2px, ${(right - left) * 100}%)` }}
                      title={`${observation.name ?? observation.id}: ${duration}${facts ? ` (${facts})` : ""}${critical ? ", on the critical path" : ""}`}
                    >
                      {side === "inside" ? <span class="timeline-duration inside">{duration}</span> : null}
                    </div>
                    {side === "after" ? (
                      <span class="timeline-duration" style={{ left: `calc(${right * 100}% + 4px)` }}>
                        {duration}
                      </span>
                    ) : side === "before" ? (
                      <span class="timeline-duration before" style={{ right: `calc(${(1 - left) * 100}% + 4px)` }}>
                        {duration}
                      </span>
                    ) : null}
                  </>
                ) : null}
              </div>
            </div>
          );
        }}
      />
    </div>
  );
}
