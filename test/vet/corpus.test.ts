import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { type CorpusEntry, makeScanCorpus } from "../support/scan-corpus.js";

let dir = "";
let entries: CorpusEntry[] = [];
beforeAll(() => {
  ({ dir, entries } = makeScanCorpus());
}, 60_000);

const ofArtifact = (rule: string) => !rule.startsWith("license.");

describe("adversarial corpus (written by python3)", () => {
  it("covers the techniques", () => {
    expect(entries.filter((e) => e.kind === "malicious").length).toBeGreaterThanOrEqual(80);
    expect(entries.filter((e) => e.kind === "benign").length).toBeGreaterThanOrEqual(10);
    expect(entries.filter((e) => e.kind === "malformed").length).toBeGreaterThanOrEqual(20);
  });

  it("every malicious artifact gets a high or critical finding", async () => {
    const missed: string[] = [];
    for (const e of entries.filter((x) => x.kind === "malicious")) {
      const r = await scan(join(dir, e.path));
      if (!r.findings.some((f) => ofArtifact(f.rule) && atLeast(f.severity, "high"))) missed.push(`${e.path} (${e.technique})`);
      expect(r.verdict, e.path).toBe("fail");
    }
    expect(missed).toEqual([]);
  }, 120_000);

  it("no benign artifact gets a high or critical finding", async () => {
    for (const e of entries.filter((x) => x.kind === "benign")) {
      const r = await scan(join(dir, e.path));
      expect(
        r.findings.filter((f) => atLeast(f.severity, "high")),
        `${e.path}: ${e.technique}`,
      ).toEqual([]);
      expect(r.verdict, e.path).not.toBe("fail");
    }
  }, 60_000);

  it("every malformed file yields a finding within 10 s, without crashing", async () => {
    for (const e of entries.filter((x) => x.kind === "malformed")) {
      const t0 = performance.now();
      const r = await scan(join(dir, e.path));
      const s = (performance.now() - t0) / 1000;
      expect(s, e.path).toBeLessThan(10);
      expect(
        r.findings.some((f) => ofArtifact(f.rule) && atLeast(f.severity, "medium")),
        `${e.path}: ${e.technique} → ${JSON.stringify(r.findings)}`,
      ).toBe(true);
    }
  }, 120_000);

  it("a folder of folders reports each file's findings under its own path", async () => {
    const r = await scan(join(dir, "malicious"));
    const files = new Set(r.findings.map((f) => f.file));
    expect(files.has("os-system-p2.pkl")).toBe(true);
    expect(files.has("repo-remote-code/modeling_evil.py")).toBe(true);
    expect(files.has("repo-remote-code/config.json")).toBe(true);
    expect(files.has("repo-symlink/weights.bin")).toBe(true);
    expect(r.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
  }, 60_000);
});
