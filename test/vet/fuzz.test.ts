/**
 * Mutation fuzzing of the scanner: every corpus artifact, truncated and with random bytes flipped,
 * must yield a result quickly, with every problem reported by the format's own parser (no exception
 * reaching the scan.error safety net). Seeded, so a failure reproduces.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRng } from "../../src/stats/rng.js";
import { scanFile } from "../../src/vet/scan-file.js";
import { tempDir } from "../support/project.js";
import { makeJoblibCorpus, makeScanCorpus } from "../support/scan-corpus.js";

let files: string[] = [];
beforeAll(() => {
  const { dir } = makeScanCorpus();
  const joblib = makeJoblibCorpus().dir; // inline arrays, zlib/gzip containers: the joblib paths under mutation too
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      const s = statSync(p, { throwIfNoEntry: false });
      if (!s) return [];
      return s.isDirectory() ? walk(p) : s.isFile() && s.size < 4 << 20 && !n.endsWith("manifest.json") ? [p] : [];
    });
  files = [...walk(dir), ...walk(joblib)];
}, 60_000);

describe("scanner under mutation", () => {
  it("never throws and never stalls on mutated artifacts", async () => {
    const rnd = seededRng(2026);
    const out = tempDir();
    const failures: string[] = [];
    let slowest = 0;
    let n = 0;
    for (const f of files) {
      const original = readFileSync(f);
      for (let k = 0; k < 12; k++) {
        const b = Buffer.from(original);
        const mode = k % 3;
        if (mode === 0) for (let i = 0; i < 1 + Math.floor(rnd() * 8); i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        const mutated =
          mode === 1
            ? b.subarray(0, Math.floor(rnd() * b.length))
            : mode === 2
              ? Buffer.concat([b, Buffer.from(Array.from({ length: 64 }, () => Math.floor(rnd() * 256)))])
              : b;
        const name = `${n++}-${f.split("/").pop()}`;
        const p = join(out, name);
        writeFileSync(p, mutated);
        const t0 = performance.now();
        try {
          const r = await scanFile(p, name, mutated.length, new Set());
          // scan.error is the safety net for exceptions a parser did not turn into findings itself.
          const internal = r.issues.find((i) => i.rule === "scan.error");
          if (internal) failures.push(`${name} (from ${f}, mode ${mode}): ${internal.message}`);
        } catch (e) {
          failures.push(`${name} (from ${f}, mode ${mode}): ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}`);
        }
        slowest = Math.max(slowest, performance.now() - t0);
      }
    }
    expect(n).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
    expect(slowest).toBeLessThan(5000);
  }, 120_000);
});
