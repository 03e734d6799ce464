import { describe, expect, it } from "vitest";
import { isoNow } from "../../src/util/iso-now.js";

describe("isoNow", () => {
  it("matches Date#toISOString at every millisecond of a second and across seconds, also going back", () => {
    const base = Date.UTC(2026, 10, 29, 7, 15, 59);
    for (const t of [base, base + 1, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1000, base + 61_000, base - 1, base + 5])
      expect(isoNow(t)).toBe(new Date(t).toISOString());
    for (let t = base; t < base + 3000; t += 7) expect(isoNow(t)).toBe(new Date(t).toISOString());
    const now = isoNow();
    expect(Math.abs(Date.parse(now) - Date.now())).toBeLessThan(1000);
  });
});
