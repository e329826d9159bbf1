// Renders only the rows in view of a fixed-row-height list, so a trace of 10,000
// observations stays smooth.

import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export const ROW_HEIGHT = 28;
const OVERSCAN = 20;
const MIN_ROWS = 60;

export function VirtualRows<T>(props: {
  items: T[];
  render: (item: T, index: number) => ComponentChildren;
  class?: string;
  scrollTo?: number;
  role?: JSX.AriaRole;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(0);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const update = () => setHeight(element.clientHeight);
    update();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const element = ref.current;
    if (!element || props.scrollTo == null || props.scrollTo < 0) return;
    const top = props.scrollTo * ROW_HEIGHT;
    if (top < element.scrollTop || top + ROW_HEIGHT > element.scrollTop + element.clientHeight) {
      element.scrollTop = Math.max(0, top - element.clientHeight / 2);
    }
  }, [props.scrollTo]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const visible = Math.max(MIN_ROWS, Math.ceil(height / ROW_HEIGHT) + 2 * OVERSCAN);
  const last = Math.min(props.items.length, first + visible);
  const slice = props.items.slice(first, last);
  return (
    <div class={`virtual ${props.class ?? ""}`} role={props.role} ref={ref} onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}>
      <div style={{ height: `${props.items.length * ROW_HEIGHT}px`, position: "relative" }}>
        <div style={{ transform: `translateY(${first * ROW_HEIGHT}px)` }}>
          {slice.map((item, offset) => props.render(item, first + offset))}
        </div>
      </div>
    </div>
  );
}
