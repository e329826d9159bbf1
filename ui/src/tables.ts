// What the list tables share as plain data: their columns (shown ones kept in the URL's
// `cols` and remembered per table in this browser), their sort (`<column>.<asc|desc>`), and
// the rows a shift-click selects.

/** A column of a table: id, label, shown unless the user picks it (`shown: false` hides it
 * by default), and the server's sort column when it sorts. */
export interface TableColumn {
  id: string;
  label: string;
  shown?: boolean;
  sort?: string;
}

/** The ids of the columns a table shows by default, in table order. */
export function defaultColumns(columns: TableColumn[]): string[] {
  return columns.filter((column) => column.shown !== false).map((column) => column.id);
}

/** The known ids of `ids`, in table order; the defaults when none is known. */
export function knownColumns(columns: TableColumn[], ids: string[]): string[] {
  const known = columns.map((column) => column.id).filter((id) => ids.includes(id));
  return known.length > 0 ? known : defaultColumns(columns);
}

/** The `localStorage` key under which a table's shown columns are remembered. */
export function columnsStorageKey(table: string): string {
  return `spindle.${table}.columns`;
}

/** The columns this browser last chose for `table`, or null. */
export function rememberedColumns(columns: TableColumn[], table: string): string[] | null {
  try {
    const stored = localStorage.getItem(columnsStorageKey(table));
    return stored ? knownColumns(columns, stored.split(",")) : null;
  } catch {
    return null;
  }
}

/** Remembers the columns chosen for `table` (nothing when storage is off: the URL holds
 * them too). */
export function rememberColumns(table: string, ids: string[]) {
  try {
    localStorage.setItem(columnsStorageKey(table), ids.join(","));
  } catch {
    // Storage may be off.
  }
}

/** The shown columns of a page URL: its `cols`, else those remembered for `table`, else the
 * defaults. */
export function columnsFromUrl(search: URLSearchParams, columns: TableColumn[], table: string): string[] {
  const param = search.get("cols");
  if (param !== null) return knownColumns(columns, param.split(","));
  return rememberedColumns(columns, table) ?? defaultColumns(columns);
}

/** The `cols` URL value of shown columns: "" for the defaults. */
export function columnsParam(columns: TableColumn[], ids: string[]): string {
  const shown = knownColumns(columns, ids).join(",");
  return shown === defaultColumns(columns).join(",") ? "" : shown;
}

/** A sort: the server's column and the direction. */
export interface Sort {
  column: string;
  direction: "asc" | "desc";
}

/** The sort of a URL value (`latency.desc`) when `columns` sort on its column, else
 * `fallback`. */
export function parseSort(text: string | null, columns: TableColumn[], fallback: Sort): Sort {
  const match = /^([A-Za-z]+)\.(asc|desc)$/.exec(text ?? "");
  if (!match || !columns.some((column) => column.sort === match[1])) return fallback;
  return { column: match[1], direction: match[2] as "asc" | "desc" };
}

/** The URL value of a click on `column`'s header: descending first, then flipped. */
export function nextSort(current: Sort, column: string): string {
  const direction = current.column === column && current.direction === "desc" ? "asc" : "desc";
  return `${column}.${direction}`;
}

/** The ids of rows `from` to `to` (either order) of `ids`. */
export function rangeOf(ids: string[], from: number, to: number): string[] {
  const [low, high] = from <= to ? [from, to] : [to, from];
  return ids.slice(low, high + 1);
}

/** The sort of a page URL's `sort` (`fallback` without a valid one) and the `orderBy` the
 * server needs for it: none for the fallback, the server's own default. */
export function sortFromUrl(search: URLSearchParams, columns: TableColumn[], fallback: Sort): { sort: Sort; orderBy: string | null } {
  const sort = parseSort(search.get("sort"), columns, fallback);
  const same = sort.column === fallback.column && sort.direction === fallback.direction;
  return { sort, orderBy: same ? null : `${sort.column}.${sort.direction}` };
}
