// What the list tables share as components: the shown columns (picked, in the URL and
// remembered), sortable header cells and the cells of a row, row selection (checkbox,
// shift-click for a range, the header for the page), and the bar of bulk actions with its
// JSON and CSV exports.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, toCsv } from "../exports";
import { navigate, useLocation } from "../router";
import { columnsFromUrl, columnsParam, rangeOf, rememberColumns, type Sort, type TableColumn } from "../tables";
import { ColumnPicker } from "./FilterBuilder";

/** The shown columns of `table` (the URL's `cols`, else those remembered, else the
 * defaults) and the column picker that changes them in the URL (the page kept) and in
 * this browser's memory. */
export function usePickedColumns(columns: TableColumn[], table: string): { shown: string[]; picker: ComponentChildren } {
  const location = useLocation();
  const shown = columnsFromUrl(location.search, columns, table);
  const pick = (next: string[]) => {
    rememberColumns(table, next);
    const params = new URLSearchParams(location.search);
    const value = columnsParam(columns, next);
    if (value) params.set("cols", value);
    else params.delete("cols");
    const query = params.toString();
    navigate(`${location.path}${query ? `?${query}` : ""}`, true);
  };
  return { shown, picker: <ColumnPicker columns={columns} shown={shown} onChange={pick} /> };
}

/** A column that renders its cell from a row. */
export interface CellColumn<T> extends TableColumn {
  cell: (row: T) => ComponentChildren;
  className?: string;
}

/** The cells of the shown columns of one row. */
export function Cells<T>(props: { columns: CellColumn<T>[]; shown: string[]; row: T }) {
  return (
    <>
      {props.shown.map((id) => {
        const column = props.columns.find((known) => known.id === id);
        return column ? (
          <td key={id} data-col={id} class={column.className}>
            {column.cell(props.row)}
          </td>
        ) : null;
      })}
    </>
  );
}

/** The cells of a row in the shown columns, each `cell(row, column)` with the column's class
 * from `classes`: for the tables that render their cells in one switch. */
export function ShownCells<T>(props: { shown: string[]; row: T; cell: (row: T, column: string) => ComponentChildren; classes?: Record<string, string> }) {
  return (
    <>
      {props.shown.map((id) => (
        <td key={id} data-col={id} class={props.classes?.[id]}>
          {props.cell(props.row, id)}
        </td>
      ))}
    </>
  );
}

/** The header cells of the shown columns; a column that sorts is a button that sorts by it. */
export function HeaderCells(props: { columns: TableColumn[]; shown: string[]; sort?: Sort; onSort?: (column: string) => void; classes?: Record<string, string> }) {
  return (
    <>
      {props.shown.map((id) => {
        const column = props.columns.find((known) => known.id === id);
        if (!column) return null;
        const active = column.sort !== undefined && props.sort?.column === column.sort;
        const direction = props.sort?.direction;
        return (
          <th key={id} data-col={id} class={props.classes?.[id]} aria-sort={active ? (direction === "asc" ? "ascending" : "descending") : undefined}>
            {column.sort && props.onSort ? (
              <button type="button" class="sort" onClick={() => props.onSort?.(column.sort as string)}>
                {column.label}
                {active ? (direction === "asc" ? " ↑" : " ↓") : ""}
              </button>
            ) : (
              column.label
            )}
          </th>
        );
      })}
    </>
  );
}

export interface Selection {
  selected: string[];
  has: (id: string) => boolean;
  /** Selects or unselects row `index`; with `shift`, the rows from the last toggled one. */
  toggle: (index: number, shift: boolean) => void;
  allSelected: boolean;
  toggleAll: () => void;
  clear: () => void;
}

/** The selection of a page whose rows have `ids`; emptied when `resetKey` (the view)
 * changes. */
export function useSelection(ids: string[], resetKey: string): Selection {
  const [selected, setSelected] = useState<string[]>([]);
  // The row a shift-click extends from, by id: the rows may be reordered or replaced between
  // two clicks (a new answer arriving), and an index would then point at another row.
  const anchor = useRef<string | null>(null);
  useEffect(() => {
    setSelected([]);
    anchor.current = null;
  }, [resetKey]);
  const allSelected = ids.length > 0 && ids.every((id) => selected.includes(id));
  return {
    selected,
    has: (id) => selected.includes(id),
    toggle: (index, shift) => {
      const id = ids[index];
      if (id === undefined) return;
      const selecting = !selected.includes(id);
      const from = anchor.current === null ? -1 : ids.indexOf(anchor.current);
      const range = shift && from >= 0 ? rangeOf(ids, from, index) : [id];
      setSelected((current) => (selecting ? [...new Set([...current, ...range])] : current.filter((other) => !range.includes(other))));
      anchor.current = id;
    },
    allSelected,
    toggleAll: () => {
      setSelected(allSelected ? [] : [...ids]);
      anchor.current = null;
    },
    clear: () => {
      setSelected([]);
      anchor.current = null;
    },
  };
}

/** The header cell that selects or unselects the page. */
export function SelectAllCell(props: { selection: Selection; label: string }) {
  return (
    <th class="select">
      <input type="checkbox" aria-label={props.label} checked={props.selection.allSelected} onChange={props.selection.toggleAll} />
    </th>
  );
}

/** The head of a table whose rows can be selected: the select-all cell (`label`), then the
 * header cells of the shown columns, sorting by a column on its click. */
export function SelectableHead(props: { selection: Selection; label: string; columns: TableColumn[]; shown: string[]; sort: Sort; onSort: (column: string) => void; classes?: Record<string, string> }) {
  return (
    <thead>
      <tr>
        <SelectAllCell selection={props.selection} label={props.label} />
        <HeaderCells columns={props.columns} shown={props.shown} sort={props.sort} classes={props.classes} onSort={props.onSort} />
      </tr>
    </thead>
  );
}

/** The cell that selects row `index` (shift-click for a range). */
export function SelectCell(props: { selection: Selection; index: number; id: string; label: string }) {
  return (
    <td class="select">
      <input type="checkbox" aria-label={props.label} checked={props.selection.has(props.id)} onClick={(event) => props.selection.toggle(props.index, event.shiftKey)} />
    </td>
  );
}

/** One bulk action at a time: `run` disables the buttons while `work` runs, then shows what
 * it did (or why it failed). */
export function useBulkAction() {
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const run = (work: () => Promise<string>) => {
    setBusy(true);
    setMessage("");
    work().then(
      (done) => {
        setBusy(false);
        setMessage(done);
      },
      (reason: Error) => {
        setBusy(false);
        setMessage(reason.message);
      },
    );
  };
  return { message, busy, run };
}

export type BulkAction = ReturnType<typeof useBulkAction>;

/** Export JSON and Export CSV of the selected rows, which `rows` loads (in full when the
 * table holds less than the export); `file` names the files, `what` the rows. */
export function ExportButtons(props: { action: BulkAction; file: string; what: string; csvColumns: string[]; rows: () => Promise<Record<string, unknown>[]> }) {
  const { action } = props;
  return (
    <>
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run(async () => {
            download(`${props.file}.json`, "application/json", `${JSON.stringify(await props.rows(), null, 2)}\n`);
            return `Exported ${props.what} as JSON.`;
          })
        }
      >
        Export JSON
      </button>
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run(async () => {
            download(`${props.file}.csv`, "text/csv", toCsv(props.csvColumns, await props.rows()));
            return `Exported ${props.what} as CSV.`;
          })
        }
      >
        Export CSV
      </button>
    </>
  );
}

/** The bar of a selection: how many rows, the actions, Clear selection, and the last
 * action's message. */
export function BulkBar(props: { label: string; what: string; action: BulkAction; onClear: () => void; children: ComponentChildren }) {
  return (
    <div class="bulk card" role="region" aria-label={props.label}>
      <strong>{props.what} selected</strong>
      {props.children}
      <button type="button" class="ghost" onClick={props.onClear}>
        Clear selection
      </button>
      {props.action.message ? (
        <span class="small muted" role="status">
          {props.action.message}
        </span>
      ) : null}
    </div>
  );
}

/** Delete: asks `question` first, then `remove`s the rows and reports it. */
export function DeleteSelected(props: { action: BulkAction; what: string; question: string; remove: () => Promise<unknown>; onDeleted: () => void }) {
  return (
    <button
      type="button"
      class="danger"
      disabled={props.action.busy}
      onClick={() => {
        if (!confirm(props.question)) return;
        props.action.run(async () => {
          await props.remove();
          props.onDeleted();
          return `Deleted ${props.what}.`;
        });
      }}
    >
      Delete
    </button>
  );
}

/** What a table's bulk bar acts on: its selected rows, the selection (cleared after a
 * delete) and the reload of the page. */
export interface Selected<T> {
  rows: T[];
  selection: Selection;
  reload: () => void;
}

/** The selected rows of a page, and what clears them and reloads it after a delete. */
export function selectedOf<T extends { id: string }>(rows: T[], selection: Selection, reload: () => void): Selected<T> {
  return { rows: rows.filter((row) => selection.has(row.id)), selection, reload };
}

/** After a delete: an empty selection and the page loaded again. */
export function afterDelete(selected: Selected<unknown>): () => void {
  return () => {
    selected.selection.clear();
    selected.reload();
  };
}

/** "1 trace", "3 traces". */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
