import { describe, expect, it } from "vitest";
import { csvField, toCsv } from "./exports";

describe("CSV export", () => {
  it("quotes what needs quoting and writes objects as JSON", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvField(null)).toBe("");
    expect(csvField(1.5)).toBe("1.5");
    expect(csvField(-2)).toBe("-2");
    expect(csvField(["a", "b"])).toBe('"[""a"",""b""]"');
  });

  it("keeps spreadsheet formulas as text", () => {
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField("@cmd")).toBe("'@cmd");
  });

  it("writes a header and one line per row", () => {
    expect(toCsv(["id", "name"], [{ id: "t1", name: "chat" }, { id: "t2" }])).toBe("id,name\r\nt1,chat\r\nt2,\r\n");
  });
});
