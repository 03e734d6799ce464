/**
 * joblib, the format scikit-learn models ship in: arrays stored inline after NumpyArrayWrapper are
 * skipped by their declared size and the pickle is read on after them; zlib/gzip containers are
 * opened with a bound; bz2/xz/lzma containers are reported, never passed unread.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { tempDir } from "../support/project.js";
import { type JoblibEntry, makeJoblibCorpus } from "../support/scan-corpus.js";

let dir = "";
let entries: JoblibEntry[] = [];
beforeAll(() => {
  ({ dir, entries } = makeJoblibCorpus());
}, 60_000);

describe("joblib files written by joblib", () => {
  it("each gets the expected verdict", async () => {
    expect(entries.length).toBeGreaterThanOrEqual(15);
    const got: string[] = [];
    for (const e of entries) {
      const r = await scan(join(dir, e.path));
      got.push(
        `${e.path}: ${r.verdict}${r.verdict === e.expect ? "" : ` (want ${e.expect}) ${JSON.stringify(r.findings.map((f) => `${f.severity}:${f.rule}:${f.evidence ?? f.message}`))}`}`,
      );
    }
    expect(got).toEqual(entries.map((e) => `${e.path}: ${e.expect}`));
  }, 60_000);

  it("reads on after the inline arrays: the payload behind them is a critical call", async () => {
    const r = await scan(join(dir, "malicious/payload-after-arrays.joblib"));
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("critical:pickle.dangerous-call");
    expect(r.findings.some((f) => f.rule === "pickle.malformed")).toBe(false);
  });

  it("names what it could not open", async () => {
    const r = await scan(join(dir, "malicious/payload.pkl.xz"));
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("medium:compression.not-opened");
  });

  it("an array declaring more bytes than the file holds is malformed, not skipped past the end", async () => {
    const out = tempDir();
    const file = join(out, "short.joblib");
    const { execFileSync } = await import("node:child_process");
    const { pythonWithJoblib } = await import("../support/scan-corpus.js");
    execFileSync(pythonWithJoblib(), ["-c", `import joblib, numpy as np; joblib.dump(np.zeros(1000), ${JSON.stringify(file)})`]);
    const { readFileSync } = await import("node:fs");
    writeFileSync(file, readFileSync(file).subarray(0, 600));
    const r = await scan(file);
    expect(r.findings.some((f) => f.rule === "pickle.malformed" && atLeast(f.severity, "medium"))).toBe(true);
  });

  it("compressed names beyond the usual ones, and joblib < 0.10's ZF files, are opened, not passed", async () => {
    const out = tempDir();
    const { python } = await import("../support/scan-corpus.js");
    const code = `import pickle, os, gzip, zlib, sys
raw = pickle.dumps(type("E", (), {"__reduce__": lambda self: (os.system, ("id",))})(), protocol=2)
open(${JSON.stringify(join(out, "payload.pkl.gzip"))}, "wb").write(gzip.compress(raw))
open(${JSON.stringify(join(out, "payload.pkl.zlib"))}, "wb").write(zlib.compress(raw))
open(${JSON.stringify(join(out, "legacy-zf.pkl"))}, "wb").write(b"ZF" + ("0x%x" % len(raw)).ljust(19).encode() + zlib.compress(raw))`;
    python(code);
    for (const name of ["payload.pkl.gzip", "payload.pkl.zlib", "legacy-zf.pkl"]) {
      const r = await scan(join(out, name));
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        name,
      ).toContain("critical:pickle.dangerous-call");
    }
  });

  it("a zlib bomb is a finding, decompressed no further than the bound", async () => {
    const out = tempDir();
    const file = join(out, "bomb.pkl.z");
    writeFileSync(file, deflateSync(Buffer.alloc(600 << 20), { level: 9 }));
    const t0 = performance.now();
    const r = await scan(file);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("high:compression.bomb");
  }, 30_000);
});
