/**
 * joblib, the format scikit-learn models ship in: arrays stored inline after NumpyArrayWrapper are
 * skipped by their declared size and the pickle is read on after them; zlib, gzip, bz2, xz and lzma
 * containers are opened with a bound (a bomb, a truncated or a corrupt stream is a finding within
 * 10 s, never a crash); lz4 is reported, never passed unread.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { tempDir } from "../support/project.js";
import { type JoblibEntry, makeJoblibCorpus, python } from "../support/scan-corpus.js";

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

  it("opens bz2, xz and lzma: the payload after the inline arrays is a critical call, under any name", async () => {
    for (const name of ["payload.pkl.bz2", "payload.pkl.xz", "payload.pkl.lzma", "payload-bz2.model", "payload-xz.model", "payload-lzma.model"]) {
      const r = await scan(join(dir, "malicious", name));
      const got = r.findings.map((f) => `${f.severity}:${f.rule}`);
      expect(got, name).toContain("critical:pickle.dangerous-call");
      expect(got, name).not.toContain("medium:pickle.malformed");
    }
  });

  it("names what it could not open (lz4, by its frame magic)", async () => {
    const out = tempDir();
    const file = join(out, "payload.pkl.lz4");
    // An LZ4 frame header (magic, FLG, BD, HC) and one block: whatever joblib's lz4 writer would make, never read.
    writeFileSync(file, Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7]), Buffer.alloc(64, 7)]));
    const r = await scan(file);
    expect(r.verdict).not.toBe("pass");
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

/** Python's own bz2/lzma modules write the raw containers: payloads in each check type, bombs, broken streams. */
describe("bz2, xz and lzma containers under attack", () => {
  let out = "";
  const payload = `type("E", (), {"__reduce__": lambda self: (os.system, ("id",))})()`;
  beforeAll(() => {
    out = tempDir();
    python(`import pickle, os, bz2, lzma
raw = pickle.dumps({"w": list(range(50)), "x": ${payload}}, protocol=4)
benign = pickle.dumps({"w": list(range(50))}, protocol=4)
def w(name, data): open(os.path.join(${JSON.stringify(out)}, name), "wb").write(data)
w("sha256.pkl.xz", lzma.compress(raw, check=lzma.CHECK_SHA256))
w("delta.pkl.xz", lzma.compress(raw, filters=[{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2}]))
w("crc64.pkl.xz", lzma.compress(raw, check=lzma.CHECK_CRC64))
w("nocheck.pkl.xz", lzma.compress(raw, check=lzma.CHECK_NONE))
w("crc32.pkl.xz", lzma.compress(raw, check=lzma.CHECK_CRC32))
w("raw.pkl.bz2", bz2.compress(raw))
w("raw.pkl.lzma", lzma.compress(raw, format=lzma.FORMAT_ALONE))
# Concatenated streams: Python's decoders (and so joblib.load) read them all; the payload is in the second.
w("concat.pkl.xz", lzma.compress(benign) + lzma.compress(raw))
w("concat.pkl.bz2", bz2.compress(benign) + bz2.compress(raw))
w("concat.pkl.lzma", lzma.compress(benign, format=lzma.FORMAT_ALONE) + lzma.compress(raw, format=lzma.FORMAT_ALONE))
w("benign.pkl.xz", lzma.compress(benign))
w("benign.pkl.bz2", bz2.compress(benign))
w("benign.pkl.lzma", lzma.compress(benign, format=lzma.FORMAT_ALONE))
# 600 MiB of zeros in each: past the 512 MiB bound.
for name, c in (("bomb.pkl.xz", lzma.LZMACompressor()), ("bomb.pkl.lzma", lzma.LZMACompressor(format=lzma.FORMAT_ALONE)), ("bomb.pkl.bz2", bz2.BZ2Compressor(9))):
    chunk = bytes(1 << 20)
    w(name, b"".join(c.compress(chunk) for _ in range(600)) + c.flush())
`);
  }, 120_000);

  it("finds the payload under each xz check type it decodes, in a raw bz2 or lzma file, and in a later concatenated stream", async () => {
    const names = ["crc64.pkl.xz", "nocheck.pkl.xz", "crc32.pkl.xz", "raw.pkl.bz2", "raw.pkl.lzma", "concat.pkl.xz", "concat.pkl.bz2", "concat.pkl.lzma"];
    const got: string[] = [];
    for (const name of names) {
      const r = await scan(join(out, name));
      const caught = r.findings.some((f) => f.severity === "critical" && f.rule === "pickle.dangerous-call");
      got.push(`${name}: ${caught ? "caught" : JSON.stringify(r.findings.map((f) => `${f.rule}: ${f.message}`))}`);
    }
    expect(got).toEqual(names.map((n) => `${n}: caught`));
    for (const name of ["benign.pkl.xz", "benign.pkl.bz2", "benign.pkl.lzma"]) {
      const r = await scan(join(out, name));
      expect(
        r.findings.filter((f) => atLeast(f.severity, "medium")),
        name,
      ).toEqual([]);
    }
  });

  it("an xz option xz-embedded does not decode (SHA-256 check, delta filter) is not-opened, never a pass", async () => {
    for (const name of ["sha256.pkl.xz", "delta.pkl.xz"]) {
      const r = await scan(join(out, name));
      expect(r.verdict, name).toBe("review");
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        name,
      ).toContain("medium:compression.not-opened");
    }
  });

  it("a bomb in each is a high compression.bomb within 10 s of CPU, decompressed no further than the bound", async () => {
    for (const name of ["bomb.pkl.xz", "bomb.pkl.lzma", "bomb.pkl.bz2"]) {
      // CPU time, not wall time: this machine's 2 cores are shared, and wall time measures the neighbours.
      const cpu0 = process.cpuUsage();
      const r = await scan(join(out, name));
      const cpu = process.cpuUsage(cpu0);
      expect((cpu.user + cpu.system) / 1000, name).toBeLessThan(10_000);
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        name,
      ).toContain("high:compression.bomb");
      // Bounded memory: the decoders' output never outgrows the 512 MiB bound (plus the copy handed to the pickle scan).
      expect(process.memoryUsage().rss, name).toBeLessThan(2.5 * 1024 ** 3);
    }
  }, 120_000);

  it("a truncated or corrupt stream is a finding within 10 s, never a crash or a pass", async () => {
    const { readFileSync } = await import("node:fs");
    for (const name of ["crc32.pkl.xz", "raw.pkl.bz2", "raw.pkl.lzma"]) {
      const good = readFileSync(join(out, name));
      const variants: [string, Buffer][] = [
        ["truncated", good.subarray(0, Math.floor(good.length / 2))],
        ["header only", good.subarray(0, 13)],
        ["corrupt", Buffer.concat([good.subarray(0, 40), Buffer.alloc(good.length - 40, 0xa5)])],
        ["flipped", Buffer.from(good).fill(0x41, good.length - 30, good.length - 10)],
      ];
      for (const [what, bytes] of variants) {
        const file = join(out, `${what.replace(" ", "-")}-${name}`);
        writeFileSync(file, bytes);
        const t0 = performance.now();
        const r = await scan(file);
        expect(performance.now() - t0, `${what} ${name}`).toBeLessThan(10_000);
        expect(r.verdict, `${what} ${name}`).not.toBe("pass");
        const rules = r.findings.map((f) => f.rule);
        expect(rules, `${what} ${name}`).not.toContain("scan.error");
        expect(
          rules.some((x) => x === "compression.malformed" || x === "pickle.malformed" || x === "pickle.dangerous-call"),
          `${what} ${name}: ${rules.join(",")}`,
        ).toBe(true);
      }
    }
  }, 60_000);
});
