// The Gantt view of a trace: one bar per observation on a shared time axis, in tree order.

import type { Observation } from "../api";
import { latency } from "../format";
import { barOf, type Row } from "../tree";
import { TypeBadge } from "./Tree";
import { VirtualRows } from "./Virtual";

export function Timeline(props: {
  rows: Row<Observation>[];
  total: { start: number; end: number };
  selected: string | null;
  onSelect: (id: string) => void;
  onToggle?: (id: string) => void;
}) {
  const duration = (props.total.end - props.total.start) / 1000;
  const selectedIndex = props.rows.findIndex((row) => row.node.observation.id === props.selected);
  return (
    <div class="timeline" role="list" aria-label="timeline">
      <div class="timeline-axis">
        <span>0</span>
        <span>{latency(duration / 2)}</span>
        <span>{latency(duration)}</span>
      </div>
      <VirtualRows
        class="timeline-rows"
        items={props.rows}
        scrollTo={selectedIndex}
        render={(row) => {
          const observation = row.node.observation;
          const bar = barOf(observation, props.total);
          return (
            <div
              key={observation.id}
              role="listitem"
              class={`timeline-row ${observation.id === props.selected ? "selected" : ""}`}
              onClick={() => props.onSelect(observation.id)}
              data-id={observation.id}
            >
              <div class="timeline-label" style={{ paddingLeft: `${4 + row.node.depth * 10}px` }}>
                {row.hasChildren && props.onToggle ? (
                  <button
                    type="button"
                    class="toggle"
                    aria-label={row.collapsed ? "expand" : "collapse"}
                    onClick={(event) => {
                      event.stopPropagation();
                      props.onToggle?.(observation.id);
                    }}
                  >
                    {row.collapsed ? "▸" : "▾"}
                  </button>
                ) : (
                  <span class="toggle" />
                )}
                <TypeBadge type={observation.type} />
                <span class="tree-name">{observation.name ?? observation.id}</span>
              </div>
              <div class="timeline-track">
                <div
                  class={`timeline-bar type-${observation.type.toLowerCase()} level-${observation.level.toLowerCase()}`}
                  style={{ left: `${bar.left * 100}%`, width: `max(2px, ${bar.width * 100}%)` }}
                  title={`${observation.name ?? observation.id}: ${latency(observation.latency)}`}
                />
                <span class="timeline-duration" style={{ left: `${Math.min(bar.left + bar.width, 0.85) * 100}%` }}>
                  {latency(observation.latency)}
                </span>
              </div>
            </div>
          );
        }}
      />
    </div>
  );
}
