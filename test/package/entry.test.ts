/** The package's entry point (package.json main/exports → dist/index.js) loads and exposes each part. */
import { describe, expect, it } from "vitest";

describe("package entry point", () => {
  it("imports as `weightbridge` and exposes the parts' public faces", async () => {
    // Resolved at run time through package.json "exports", as a user's import would be.
    const name = "weightbridge";
    const wb = (await import(name)) as Record<string, unknown>;
    for (const part of ["config", "economics", "evaluate", "gateway", "hub", "providers", "redteam", "report", "scoreboard", "simulate", "stats", "store"])
      expect(wb[part], part).toBeTypeOf("object");
    expect((wb.stats as { wilsonInterval: (k: number, n: number) => [number, number] }).wilsonInterval(10, 10)[1]).toBe(1);
    expect(typeof (wb.evaluate as { evaluate: unknown }).evaluate).toBe("function");
  });
});
