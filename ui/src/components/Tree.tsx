// The observation tree: collapsible rows with type, level, latency, tokens and cost.

import type { Observation } from "../api";
import { cost, count, latency } from "../format";
import type { Row } from "../tree";
import { VirtualRows } from "./Virtual";

export function tokensOf(observation: Observation): number {
  const usage = observation.usageDetails ?? {};
  return usage.total ?? Object.values(usage).reduce((sum, value) => sum + (value || 0), 0);
}

/** Input and output tokens of an observation's usage (`input`/`output`, or OpenAI's
 * `prompt_tokens`/`completion_tokens`), null when it reports neither. */
export function tokenSplit(observation: Observation): { input: number; output: number } | null {
  const usage = observation.usageDetails ?? {};
  const input = usage.input ?? usage.prompt_tokens ?? usage.input_tokens;
  const output = usage.output ?? usage.completion_tokens ?? usage.output_tokens;
  if (input == null && output == null) return null;
  return { input: input ?? 0, output: output ?? 0 };
}

/** Model, tokens and cost of a row: what a generation's row shows beside its latency. */
export function RowMetrics(props: { observation: Observation }) {
  const observation = props.observation;
  const tokens = tokensOf(observation);
  const split = tokenSplit(observation);
  return (
    <>
      {observation.model ? (
        <span class="tree-model" title={`model ${observation.model}`}>
          {observation.model}
        </span>
      ) : null}
      {tokens > 0 ? (
        <span title={split ? `${split.input.toLocaleString("en-US")} in, ${split.output.toLocaleString("en-US")} out` : "tokens"}>
          {split ? `${split.input.toLocaleString("en-US")} → ${split.output.toLocaleString("en-US")}` : count(tokens)} tok
        </span>
      ) : null}
      {observation.totalCost > 0 ? <span>{cost(observation.totalCost)}</span> : null}
    </>
  );
}

export function TypeBadge(props: { type: string }) {
  return <span class={`badge type-${props.type.toLowerCase()}`}>{props.type.toLowerCase()}</span>;
}

/** The start of a row of the tree or the timeline: the button that collapses or expands its
 * children (a blank of the same width without children or without `onToggle`), its type and
 * its name. */
export function RowLabel(props: { row: Row<Observation>; onToggle?: (id: string) => void }) {
  const { row, onToggle } = props;
  const observation = row.node.observation;
  return (
    <>
      {row.hasChildren && onToggle ? (
        <button
          type="button"
          class="toggle"
          aria-label={row.collapsed ? "expand" : "collapse"}
          onClick={(event) => {
            event.stopPropagation();
            onToggle(observation.id);
          }}
        >
          {row.collapsed ? "▸" : "▾"}
        </button>
      ) : (
        <span class="toggle" />
      )}
      <TypeBadge type={observation.type} />
      <span class="tree-name">{observation.name ?? observation.id}</span>
    </>
  );
}

export function ObservationTree(props: {
  rows: Row<Observation>[];
  selected: string | null;
  onSelect: (id: string) => void;
  onToggle: (id: string) => void;
}) {
  const selectedIndex = props.rows.findIndex((row) => row.node.observation.id === props.selected);
  return (
    <VirtualRows
      class="tree"
      items={props.rows}
      scrollTo={selectedIndex}
      render={(row) => {
        const observation = row.node.observation;
        return (
          <div
            key={observation.id}
            role="treeitem"
            aria-expanded={row.hasChildren ? !row.collapsed : undefined}
            aria-selected={observation.id === props.selected}
            class={`tree-row level-${observation.level.toLowerCase()} ${observation.id === props.selected ? "selected" : ""}`}
            style={{ paddingLeft: `${8 + row.node.depth * 16}px` }}
            onClick={() => props.onSelect(observation.id)}
            data-id={observation.id}
          >
            <RowLabel row={row} onToggle={props.onToggle} />
            {observation.level === "ERROR" || observation.level === "WARNING" ? (
              <span class={`badge level ${observation.level.toLowerCase()}`}>{observation.level.toLowerCase()}</span>
            ) : null}
            <span class="tree-metrics">
              <RowMetrics observation={observation} />
              <span>{latency(observation.latency)}</span>
            </span>
          </div>
        );
      }}
    />
  );
}
