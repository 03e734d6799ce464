/** The README's quick start: `npm run demo` works offline, end to end, well under 2 minutes. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/project.js";

describe("weightbridge demo", () => {
  it("runs the example suites on two simulated endpoints and a local GGUF, and stores the run", async () => {
    const dir = tempDir("wb-demo-");
    const t0 = Date.now();
    const r = await runCli(["demo", "--dir", dir], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(120_000);
    expect(r.stderr).toMatch(/SIMULATION: "gpt-4o"/);
    expect(r.stderr).toMatch(/Local model: generated .*tiny-random\.gguf/);
    for (const suite of ["ticket-intent", "ticket-extract", "support-reply", "order-agent", "product-recs"]) expect(r.stdout).toContain(`Suite ${suite}`);
    expect(r.stdout).toMatch(/qwen3-235b scores \d+% of gpt-4o/);
    // The agent suite reports tool-call fidelity beside the score.
    expect(r.stdout).toMatch(/Tool calls:[\s\S]*with a call[\s\S]*qwen3-235b/);
    expect(r.stdout).toMatch(/tiny-local/);
    expect(r.stdout).toContain(`stored in ${join(dir, ".weightbridge", "weightbridge.db")}`);
    expect(existsSync(join(dir, ".weightbridge", "weightbridge.db"))).toBe(true);
    expect(r.stdout).toMatch(/Hugging Face trending models on 2026-08-22, downloads by base-model country: CN \d+%/);
    // The local model file is vetted: a well-formed GGUF whose metadata names Apache-2.0 passes.
    expect(r.stdout).toMatch(
      /Artifact scan of .*tiny-random\.gguf: PASS \(no findings at or above medium; license apache-2\.0\); sha256 [0-9a-f]{16}…; worst: no findings/,
    );
    const report = /HTML report: (\S+\.html)/.exec(r.stdout)?.[1];
    expect(report && existsSync(report)).toBe(true);
    const runs = JSON.parse((await runCli(["runs", "-c", join(dir, "weightbridge.yaml"), "--json"])).stdout) as { status: string; models: string[] }[];
    expect(runs[0]).toMatchObject({ status: "completed", models: ["gpt-4o", "qwen3-235b", "tiny-local"] });
  });
});
