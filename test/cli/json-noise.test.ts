/** JSON outputs carry no float noise (issue 16, point 9): 2182.7000000000003 is written 2182.7. */
import { describe, expect, it } from "vitest";
import { toJson } from "../../src/cli/output.js";
import { runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";

/** Significant digits of each number literal in a JSON text. */
const digits = (text: string) => [...text.matchAll(/(?<=[:[,\s])-?\d+\.\d+(?:e-?\d+)?/g)].map((m) => m[0].replace(/^-?0*\.?0*|e.*$|\./g, "").length);

describe("JSON without float noise", () => {
  it("rounds non-integers to 12 significant digits and keeps integers and small exact amounts", () => {
    const parsed = JSON.parse(toJson({ a: 2182.7000000000003, b: 0.1 + 0.2, c: 3, d: 7e-12, e: [1 / 3] })) as Record<string, unknown>;
    expect(parsed).toEqual({ a: 2182.7, b: 0.3, c: 3, d: 7e-12, e: [0.333333333333] });
  });

  it("eval --json and report --format json print no number with more than 12 significant digits", async () => {
    const p = await twoModelProject(25);
    try {
      const ev = await runCli(["eval", "-c", p.config, "--json"]);
      const rep = await runCli(["report", "latest", "-c", p.config, "--format", "json"]);
      for (const text of [ev.stdout, rep.stdout]) {
        const d = digits(text);
        expect(d.length).toBeGreaterThan(10);
        expect(Math.max(...d)).toBeLessThanOrEqual(12);
      }
    } finally {
      await Promise.all([p.a.close(), p.b.close()]);
    }
  });
});
