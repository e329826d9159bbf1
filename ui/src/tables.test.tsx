import { render } from "preact";
import { act } from "preact/test-utils";
import { beforeEach, describe, expect, it } from "vitest";
import { useSelection, type Selection } from "./components/Selection";
import { observationQuery, OBSERVATION_TABLE_COLUMNS } from "./pages/Observations";
import { scoreQuery } from "./pages/Scores";
import {
  columnsFromUrl,
  columnsParam,
  columnsStorageKey,
  defaultColumns,
  knownColumns,
  nextSort,
  parseSort,
  rangeOf,
  rememberColumns,
  sortFromUrl,
  type TableColumn,
} from "./tables";
import { testContainer } from "./test-container";

const COLUMNS: TableColumn[] = [
  { id: "time", label: "Time", sort: "timestamp" },
  { id: "id", label: "Id", shown: false },
  { id: "name", label: "Name", sort: "name" },
  { id: "value", label: "Value", sort: "value" },
];

describe("shown columns", () => {
  beforeEach(() => localStorage.clear());

  it("keep the table's order and fall back to the defaults", () => {
    expect(defaultColumns(COLUMNS)).toEqual(["time", "name", "value"]);
    expect(knownColumns(COLUMNS, ["value", "id", "nope"])).toEqual(["id", "value"]);
    expect(knownColumns(COLUMNS, ["nope"])).toEqual(["time", "name", "value"]);
    expect(columnsParam(COLUMNS, ["name", "time", "value"])).toBe("");
    expect(columnsParam(COLUMNS, ["value", "id"])).toBe("id,value");
  });

  it("come from the URL first, then from what this browser remembered per table", () => {
    expect(columnsFromUrl(new URLSearchParams(), COLUMNS, "scores")).toEqual(["time", "name", "value"]);
    rememberColumns("scores", ["id", "name"]);
    expect(localStorage.getItem(columnsStorageKey("scores"))).toBe("id,name");
    expect(columnsFromUrl(new URLSearchParams(), COLUMNS, "scores")).toEqual(["id", "name"]);
    expect(columnsFromUrl(new URLSearchParams(), COLUMNS, "observations")).toEqual(["time", "name", "value"]);
    expect(columnsFromUrl(new URLSearchParams("cols=value"), COLUMNS, "scores")).toEqual(["value"]);
  });
});

describe("sorts", () => {
  const fallback = { column: "timestamp", direction: "desc" as const };

  it("accept only the columns the table sorts on", () => {
    expect(parseSort("value.asc", COLUMNS, fallback)).toEqual({ column: "value", direction: "asc" });
    expect(parseSort("id.asc", COLUMNS, fallback)).toEqual(fallback);
    expect(parseSort("value.up", COLUMNS, fallback)).toEqual(fallback);
    expect(parseSort(null, COLUMNS, fallback)).toEqual(fallback);
  });

  it("go descending first, then flip", () => {
    expect(nextSort(fallback, "value")).toBe("value.desc");
    expect(nextSort({ column: "value", direction: "desc" }, "value")).toBe("value.asc");
    expect(nextSort({ column: "value", direction: "asc" }, "value")).toBe("value.desc");
  });

  it("ask the server for an order only when it is not its default", () => {
    expect(sortFromUrl(new URLSearchParams("sort=timestamp.desc"), COLUMNS, fallback).orderBy).toBeNull();
    expect(sortFromUrl(new URLSearchParams("sort=name.asc"), COLUMNS, fallback).orderBy).toBe("name.asc");
    expect(observationQuery(new URLSearchParams("sort=latency.desc"), 0).get("orderBy")).toBe("latency.desc");
    expect(observationQuery(new URLSearchParams("sort=startTime.desc"), 0).has("orderBy")).toBe(false);
    expect(observationQuery(new URLSearchParams("sort=level.desc"), 0).has("orderBy")).toBe(false);
    expect(scoreQuery(new URLSearchParams("sort=value.asc")).get("orderBy")).toBe("value.asc");
    expect(scoreQuery(new URLSearchParams()).has("orderBy")).toBe(false);
  });

  it("cover every sortable observation column the server knows", () => {
    const sorts = OBSERVATION_TABLE_COLUMNS.flatMap((column) => (column.sort ? [column.sort] : []));
    expect(sorts).toEqual(["startTime", "name", "model", "totalTokens", "inputTokens", "outputTokens", "totalCost", "latency"]);
  });
});

describe("selection", () => {
  const container = testContainer();
  let selection: Selection;
  function Probe(props: { ids: string[]; view: string }) {
    selection = useSelection(props.ids, props.view);
    return null;
  }

  it("takes a range with shift, the page with the header, and empties on another view", () => {
    const ids = ["a", "b", "c", "d", "e"];
    expect(rangeOf(ids, 3, 1)).toEqual(["b", "c", "d"]);
    act(() => render(<Probe ids={ids} view="one" />, container));
    act(() => selection.toggle(1, false));
    act(() => selection.toggle(3, true));
    expect(selection.selected).toEqual(["b", "c", "d"]);
    act(() => selection.toggle(2, false));
    expect(selection.selected).toEqual(["b", "d"]);
    act(() => selection.toggleAll());
    expect(selection.allSelected).toBe(true);
    act(() => selection.toggleAll());
    expect(selection.selected).toEqual([]);
    act(() => selection.toggle(0, false));
    expect(selection.has("a")).toBe(true);
    act(() => render(<Probe ids={ids} view="two" />, container));
    expect(selection.selected).toEqual([]);
  });

  it("extends a shift-click from the row clicked, even when the rows were reordered between the clicks", () => {
    act(() => render(<Probe ids={["a", "b", "c", "d"]} view="one" />, container));
    act(() => selection.toggle(0, false));
    // A new answer arrives in the same view: "a" is now third.
    act(() => render(<Probe ids={["d", "c", "a", "b"]} view="one" />, container));
    act(() => selection.toggle(3, true));
    expect([...selection.selected].sort()).toEqual(["a", "b"]);
    // An anchor no longer on the page: the shift-click takes the one row.
    act(() => render(<Probe ids={["x", "y", "z"]} view="one" />, container));
    act(() => selection.clear());
    act(() => selection.toggle(0, false));
    act(() => render(<Probe ids={["y", "z"]} view="one" />, container));
    act(() => selection.toggle(1, true));
    expect([...selection.selected].sort()).toEqual(["x", "z"]);
  });
});
