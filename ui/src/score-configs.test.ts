import { describe, expect, it } from "vitest";
import { configShape, parseCategories } from "./pages/ScoreConfigs";
import type { ScoreConfig } from "./api";

const config = (fields: Partial<ScoreConfig>): ScoreConfig => ({
  id: "c",
  name: "q",
  dataType: "NUMERIC",
  isArchived: false,
  minValue: null,
  maxValue: null,
  categories: null,
  description: null,
  ...fields,
});

describe("score configs", () => {
  it("reads categories as label=value lines, bare labels numbered", () => {
    expect(parseCategories("rude=0\n polite = 1 \n\n")).toEqual([
      { label: "rude", value: 0 },
      { label: "polite", value: 1 },
    ]);
    expect(parseCategories("low\nhigh")).toEqual([
      { label: "low", value: 0 },
      { label: "high", value: 1 },
    ]);
    expect(parseCategories("a=b")).toEqual([{ label: "a=b", value: 0 }]);
  });

  it("describes what a config allows", () => {
    expect(configShape(config({ minValue: 0, maxValue: 1 }))).toBe("0 to 1");
    expect(configShape(config({ maxValue: 5 }))).toBe("−∞ to 5");
    expect(configShape(config({ dataType: "BOOLEAN", categories: [{ label: "True", value: 1 }, { label: "False", value: 0 }] }))).toBe(
      "True (1), False (0)",
    );
    expect(configShape(config({ dataType: "TEXT" }))).toBe("text");
  });
});
