// The filter builder: rows of (column, operator, value) conditions that all must hold, with
// value suggestions from the project's data (`/values`), and the page-size and column
// pickers the tables share.

import { useEffect, useState } from "preact/hooks";
import { api, projectPath } from "../api";
import {
  LEVELS,
  OPERATOR_LABELS,
  OPERATORS,
  PAGE_SIZES,
  takesList,
  takesNoValue,
  type BuilderColumn,
  type BuilderCondition,
} from "../conditions";

/** Up to 20 values of a `/values` column starting with `prefix`, loaded after a short pause
 * (a newer prefix cancels the request before it). */
export function useSuggestions(projectId: string, column: string | undefined, prefix: string): string[] {
  const [values, setValues] = useState<string[]>([]);
  useEffect(() => {
    if (!column) {
      setValues([]);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const query = new URLSearchParams({ column, prefix, limit: "20" });
      api.get<{ data: string[] }>(`${projectPath(projectId, "/values")}?${query}`, controller.signal).then(
        (answer) => setValues(answer.data),
        () => {},
      );
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [projectId, column, prefix]);
  return values;
}

let nextListId = 0;

/** A text input with suggestions from a `/values` column (a `datalist`); commits its value on
 * change (Enter, leaving the field, or picking a suggestion). */
export function SuggestInput(props: {
  projectId: string;
  suggest?: string;
  fixed?: string[];
  value: string;
  label: string;
  placeholder?: string;
  onCommit: (value: string) => void;
  clearOnCommit?: boolean;
}) {
  const [typed, setTyped] = useState(props.value);
  const [listId] = useState(() => `suggest-${++nextListId}`);
  const [focused, setFocused] = useState(false);
  const loaded = useSuggestions(props.projectId, focused ? props.suggest : undefined, typed);
  useEffect(() => setTyped(props.value), [props.value]);
  const options = props.fixed ?? loaded;
  return (
    <>
      <input
        type="text"
        aria-label={props.label}
        name={props.label}
        list={listId}
        value={typed}
        placeholder={props.placeholder}
        onFocus={() => setFocused(true)}
        onInput={(event) => setTyped(event.currentTarget.value)}
        onChange={(event) => {
          props.onCommit(event.currentTarget.value);
          if (props.clearOnCommit) setTyped("");
        }}
      />
      <datalist id={listId}>
        {options.map((option) => (
          <option key={option} value={option} />
        ))}
      </datalist>
    </>
  );
}

function defaultOperator(column: BuilderColumn): string {
  return OPERATORS[column.kind][0];
}

/** The builder: one row per condition and a button that adds one. Every edit calls
 * `onChange` with the whole list (the page writes it to the URL). */
export function FilterBuilder(props: {
  projectId: string;
  columns: BuilderColumn[];
  conditions: BuilderCondition[];
  onChange: (conditions: BuilderCondition[]) => void;
}) {
  const { columns, conditions } = props;
  const replace = (index: number, condition: BuilderCondition) =>
    props.onChange(conditions.map((current, at) => (at === index ? condition : current)));
  return (
    <div class="filter-builder" role="group" aria-label="Conditions">
      {conditions.map((condition, index) => {
        const column = columns.find((candidate) => candidate.name === condition.column) ?? columns[0];
        const label = `Condition ${index + 1}`;
        const fixed = column.kind === "level" ? LEVELS : undefined;
        return (
          <div class="condition" key={index} data-condition={index}>
            <select
              aria-label={`${label} column`}
              value={column.name}
              onChange={(event) => {
                const next = columns.find((candidate) => candidate.name === event.currentTarget.value) ?? columns[0];
                const operator = OPERATORS[next.kind].includes(condition.operator) ? condition.operator : defaultOperator(next);
                replace(index, { column: next.name, operator, values: takesNoValue(operator) ? [] : condition.values, key: next.kind === "object" ? "" : undefined });
              }}
            >
              {columns.map((candidate) => (
                <option key={candidate.name} value={candidate.name}>
                  {candidate.label}
                </option>
              ))}
            </select>
            {column.kind === "object" ? (
              <SuggestInput
                projectId={props.projectId}
                suggest={column.suggest}
                label={`${label} key`}
                placeholder="key"
                value={condition.key ?? ""}
                onCommit={(key) => replace(index, { ...condition, key: key.trim() })}
              />
            ) : null}
            <select
              aria-label={`${label} operator`}
              value={condition.operator}
              onChange={(event) => {
                const operator = event.currentTarget.value;
                const values = takesNoValue(operator) ? [] : takesList(operator) ? condition.values : condition.values.slice(0, 1);
                replace(index, { ...condition, operator, values });
              }}
            >
              {OPERATORS[column.kind].map((operator) => (
                <option key={operator} value={operator}>
                  {OPERATOR_LABELS[operator]}
                </option>
              ))}
            </select>
            {takesNoValue(condition.operator) ? null : takesList(condition.operator) ? (
              <span class="values">
                {condition.values.map((value, at) => (
                  <span class="chip" key={`${at}-${value}`}>
                    {value}
                    <button
                      type="button"
                      class="ghost"
                      aria-label={`Remove ${value}`}
                      onClick={() => replace(index, { ...condition, values: condition.values.filter((_, other) => other !== at) })}
                    >
                      ×
                    </button>
                  </span>
                ))}
                <SuggestInput
                  projectId={props.projectId}
                  suggest={column.kind === "object" ? undefined : column.suggest}
                  fixed={fixed}
                  label={`${label} value`}
                  placeholder="add a value"
                  value=""
                  clearOnCommit
                  onCommit={(value) => {
                    if (value.trim() === "" || condition.values.includes(value.trim())) return;
                    replace(index, { ...condition, values: [...condition.values, value.trim()] });
                  }}
                />
              </span>
            ) : (
              <SuggestInput
                projectId={props.projectId}
                suggest={column.kind === "object" || column.kind === "number" ? undefined : column.suggest}
                fixed={fixed}
                label={`${label} value`}
                placeholder={column.kind === "number" ? "number" : "value"}
                value={condition.values[0] ?? ""}
                onCommit={(value) => replace(index, { ...condition, values: [value] })}
              />
            )}
            <button
              type="button"
              class="ghost"
              aria-label={`Remove condition ${index + 1}`}
              onClick={() => props.onChange(conditions.filter((_, at) => at !== index))}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        onClick={() => {
          const column = columns[0];
          props.onChange([...conditions, { column: column.name, operator: defaultOperator(column), values: [] }]);
        }}
      >
        + Add condition
      </button>
    </div>
  );
}

/** Rows per page, one of `PAGE_SIZES`. */
export function PageSize(props: { value: number; onChange: (size: number) => void }) {
  return (
    <label class="page-size">
      Rows
      <select aria-label="Rows per page" value={String(props.value)} onChange={(event) => props.onChange(Number(event.currentTarget.value))}>
        {PAGE_SIZES.map((size) => (
          <option key={size} value={String(size)}>
            {size}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The columns a table shows: a disclosure of checkboxes, one per column, in table order. */
export function ColumnPicker(props: { columns: { id: string; label: string }[]; shown: string[]; onChange: (shown: string[]) => void }) {
  return (
    <details class="column-picker">
      <summary>Columns</summary>
      <div class="card" role="group" aria-label="Shown columns">
        {props.columns.map((column) => (
          <label key={column.id} class="check">
            <input
              type="checkbox"
              name={`column-${column.id}`}
              checked={props.shown.includes(column.id)}
              disabled={props.shown.length === 1 && props.shown.includes(column.id)}
              onChange={(event) => {
                const checked = event.currentTarget.checked;
                const next = props.columns.map((known) => known.id).filter((id) => (id === column.id ? checked : props.shown.includes(id)));
                props.onChange(next);
              }}
            />{" "}
            {column.label}
          </label>
        ))}
      </div>
    </details>
  );
}
