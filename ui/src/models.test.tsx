import { describe, expect, it } from "vitest";
import { perMillion } from "./pages/Models";

describe("perMillion", () => {
  it("shows USD per token as USD per million tokens", () => {
    expect(perMillion(2.5e-6)).toBe("$2.5");
    expect(perMillion(1.25e-7)).toBe("$0.125");
    expect(perMillion(0.001)).toBe("$1,000");
    expect(perMillion(undefined)).toBe("–");
  });
});
