/**
 * joblib, the format scikit-learn models ship in: arrays stored inline after NumpyArrayWrapper are
 * skipped by their declared size and the pickle is read on after them; zlib, gzip, bz2, xz and lzma
 * containers are opened with a bound (a bomb, a truncated or a corrupt stream is a finding within
 * 10 s, never a crash); lz4 frames are read by our own bounded reader.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { tempDir } from "../support/project.js";
import { type JoblibEntry, makeJoblibCorpus, python, pythonWithJoblib } from "../support/scan-corpus.js";

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

  it("opens bz2, xz, lzma and lz4: the payload after the inline arrays is a critical call, under any name", async () => {
    for (const method of ["bz2", "xz", "lzma", "lz4"])
      for (const name of [`payload.pkl.${method}`, `payload-${method}.model`]) {
        const r = await scan(join(dir, "malicious", name));
        const got = r.findings.map((f) => `${f.severity}:${f.rule}`);
        expect(got, name).toContain("critical:pickle.dangerous-call");
        expect(got, name).not.toContain("medium:pickle.malformed");
      }
  });

  it("reads hand-made lz4 frames by their bounds: a stored block is scanned, a bad offset or an oversized block is malformed", async () => {
    const out = tempDir();
    const pickled = python(`import pickle, os, sys
sys.stdout.buffer.write(pickle.dumps(type("E", (), {"__reduce__": lambda self: (os.system, ("id",))})(), protocol=2))`);
    const frame = (...blocks: Buffer[]) => Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]), ...blocks, Buffer.alloc(4)]);
    const block = (body: Buffer, stored = false) => {
      const size = Buffer.alloc(4);
      size.writeUInt32LE((body.length | (stored ? 0x80000000 : 0)) >>> 0);
      return Buffer.concat([size, body]);
    };
    const files: [string, Buffer, string][] = [
      ["stored.pkl.lz4", frame(block(pickled, true)), "critical:pickle.dangerous-call"],
      // token: 1 literal, then a match at offset 9 with 1 byte of output behind it.
      ["bad-offset.pkl.lz4", frame(block(Buffer.from([0x10, 0x80, 0x09, 0x00, 0x00]))), "medium:compression.malformed"],
      // a 64 KiB-block frame whose block claims 70,000 bytes
      ["big-block.pkl.lz4", Buffer.concat([frame().subarray(0, 7), block(Buffer.alloc(70_000))]), "medium:compression.malformed"],
      // one literal then a match of 15 + 255 * 300 bytes: more than a 64 KiB block holds
      [
        "overflow.pkl.lz4",
        frame(block(Buffer.concat([Buffer.from([0x1f, 0x80, 0x01, 0x00]), Buffer.alloc(300, 255), Buffer.from([0])]))),
        "medium:compression.malformed",
      ],
      ["truncated.pkl.lz4", frame(block(pickled, true)).subarray(0, 20), "medium:compression.malformed"],
    ];
    for (const [name, bytes, want] of files) {
      writeFileSync(join(out, name), bytes);
      const r = await scan(join(out, name));
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        name,
      ).toContain(want);
      expect(r.verdict, name).not.toBe("pass");
    }
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

/** Python's own bz2/lzma/lz4.frame modules write the raw containers: payloads in each check type, bombs, broken streams. */
describe("bz2, xz, lzma and lz4 containers under attack", () => {
  let out = "";
  const payload = `type("E", (), {"__reduce__": lambda self: (os.system, ("id",))})()`;
  beforeAll(() => {
    out = tempDir();
    const lz4 = `import pickle, os, lz4.frame
raw = pickle.dumps({"w": list(range(50)), "x": ${payload}}, protocol=4)
benign = pickle.dumps({"w": list(range(50))}, protocol=4)
def w(name, data): open(os.path.join(${JSON.stringify(out)}, name), "wb").write(data)
w("raw.pkl.lz4", lz4.frame.compress(raw))
w("checksums.pkl.lz4", lz4.frame.compress(raw, block_size=lz4.frame.BLOCKSIZE_MAX4MB, block_linked=False, content_checksum=True, block_checksum=True, store_size=True))
w("concat.pkl.lz4", lz4.frame.compress(benign) + lz4.frame.compress(raw))
# A skippable frame (magic 0x184D2A5?, length, data) between them: LZ4's decoder skips it and reads on.
w("skippable.pkl.lz4", lz4.frame.compress(benign) + bytes.fromhex("5a2a4d18") + (16).to_bytes(4, "little") + bytes(16) + lz4.frame.compress(raw))
w("benign.pkl.lz4", lz4.frame.compress(benign))
c = lz4.frame.LZ4FrameCompressor()
w("bomb.pkl.lz4", c.begin() + b"".join(c.compress(bytes(1 << 20)) for _ in range(600)) + c.flush())
`;
    execFileSync(pythonWithJoblib(), ["-c", lz4]);
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
    const names = ["crc64.pkl.xz", "nocheck.pkl.xz", "crc32.pkl.xz", "raw.pkl.bz2", "raw.pkl.lzma", "raw.pkl.lz4", "checksums.pkl.lz4"];
    names.push("concat.pkl.xz", "concat.pkl.bz2", "concat.pkl.lzma", "concat.pkl.lz4", "skippable.pkl.lz4");
    const got: string[] = [];
    for (const name of names) {
      const r = await scan(join(out, name));
      const caught = r.findings.some((f) => f.severity === "critical" && f.rule === "pickle.dangerous-call");
      got.push(`${name}: ${caught ? "caught" : JSON.stringify(r.findings.map((f) => `${f.rule}: ${f.message}`))}`);
    }
    expect(got).toEqual(names.map((n) => `${n}: caught`));
    for (const name of ["benign.pkl.xz", "benign.pkl.bz2", "benign.pkl.lzma", "benign.pkl.lz4"]) {
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
    for (const name of ["bomb.pkl.xz", "bomb.pkl.lzma", "bomb.pkl.bz2", "bomb.pkl.lz4"]) {
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
    for (const name of ["crc32.pkl.xz", "raw.pkl.bz2", "raw.pkl.lzma", "raw.pkl.lz4"]) {
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
