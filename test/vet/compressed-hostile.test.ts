/**
 * A hostile review of the compressed containers (docs/scan.md "Compressed containers"): files that
 * joblib.load really opens and runs, built so that the scanner's decoders would see less than
 * Python's (an empty first stream, a stream of known size, an xz stream followed by an .lzma one,
 * which Python's FORMAT_AUTO reads on), and streams multiplied so per-stream overhead would hang the
 * scan. Each payload is shown to run under joblib.load before the scanner is asked about it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeBounded } from "../../src/vet/formats/decoders.js";
import { scan } from "../../src/vet/scan.js";
import { tempDir } from "../support/project.js";
import { pythonWithJoblib } from "../support/scan-corpus.js";

let dir = "";
let py = "";
const marker = () => join(dir, "PWNED");

/** Files written by python3: each name maps to an expression over `p` (an os.system pickle) and `e(data)` helpers. */
const ATTACKS: Record<string, string> = {
  // bz2: joblib checks only "BZ"; the first stream is empty, the payload is in the second.
  "bz2-empty-first.model": "bz2.compress(b'') + bz2.compress(p)",
  // .lzma with its size in the header (as 7-Zip writes it) and the end marker after it.
  "lzma-known-size.model": "alone(p, size=len(p))",
  "lzma-known-size.pkl.lzma": "alone(p, size=len(p))",
  // LZMAFile(FORMAT_AUTO) reads an .lzma stream after an xz stream, and the reverse.
  "xz-then-lzma.model": "lzma.compress(p[:2]) + alone(p[2:])",
  "lzma-then-xz.model": "alone(p[:2]) + lzma.compress(p[2:])",
  "xz-then-lzma.pkl.xz": "lzma.compress(p[:2]) + alone(p[2:])",
  "lzma-then-xz.pkl.lzma": "alone(p[:2]) + lzma.compress(p[2:])",
};

beforeAll(() => {
  dir = tempDir();
  py = pythonWithJoblib();
  const files = Object.entries(ATTACKS)
    .map(([name, expr]) => `open(os.path.join(d, ${JSON.stringify(name)}), 'wb').write(${expr})`)
    .join("\n");
  execFileSync(py, [
    "-c",
    `import bz2, lzma, os, pickle, struct, sys
d = sys.argv[1]
class E:
    def __reduce__(self): return (os.system, ("touch " + os.path.join(d, "PWNED"),))
p = pickle.dumps(E(), protocol=2)
def alone(data, size=None):
    b = bytearray(lzma.compress(data, format=lzma.FORMAT_ALONE))
    if size is not None: b[5:13] = struct.pack("<Q", size)
    return bytes(b)
${files}`,
    dir,
  ]);
}, 60_000);

function joblibRuns(name: string): boolean {
  rmSync(marker(), { force: true });
  try {
    execFileSync(py, ["-c", "import joblib, sys; joblib.load(sys.argv[1])", join(dir, name)], { stdio: "pipe", timeout: 30_000 });
  } catch {
    // a load that fails after running the payload still ran it
  }
  return existsSync(marker());
}

describe("compressed joblib files where the decoders could see less than Python", () => {
  for (const name of Object.keys(ATTACKS))
    it(`${name}: joblib.load runs it, and the scan fails it`, async () => {
      expect(joblibRuns(name)).toBe(true);
      const r = await scan(join(dir, name));
      expect(r.verdict).toBe("fail");
      expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("critical:pickle.dangerous-call");
    }, 60_000);
});

describe("compressed data the decoders cannot read, under a name that does not say pickle", () => {
  it("a truncated xz, bz2, lzma or lz4 stream is compression.malformed, never silence (joblib.load opens it by magic)", async () => {
    const out = tempDir();
    execFileSync(py, [
      "-c",
      `import bz2, lzma, lz4.frame, os, pickle, sys
d = sys.argv[1]
data = pickle.dumps({"w": list(range(5000))}, protocol=2)
for name, c in [("x.model", lzma.compress(data)), ("b.model", bz2.compress(data)), ("a.model", lzma.compress(data, format=lzma.FORMAT_ALONE)), ("l.model", lz4.frame.compress(data))]:
    open(os.path.join(d, name), "wb").write(c[: len(c) // 2])`,
      out,
    ]);
    for (const name of ["x.model", "b.model", "a.model", "l.model"]) {
      const r = await scan(join(out, name));
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        name,
      ).toContain("medium:compression.malformed");
    }
  }, 60_000);

  it("a pickle cut short inside well-formed compressed data is judged as a pickle (malformed), not as other data", async () => {
    const out = tempDir();
    execFileSync(py, [
      "-c",
      "import lzma, pickle, sys; open(sys.argv[1], 'wb').write(lzma.compress(pickle.dumps(list(range(100)), protocol=2)[:40]))",
      join(out, "cut.model"),
    ]);
    const r = await scan(join(out, "cut.model"));
    expect(r.verdict).not.toBe("pass");
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("medium:pickle.malformed");
  }, 60_000);
});

describe("many tiny concatenated streams: per-stream overhead stays bounded", () => {
  it("10^4 empty bz2, xz and .lzma streams (256 MiB dictionaries) are refused within seconds, as not opened", async () => {
    const out = tempDir();
    execFileSync(py, [
      "-c",
      `import bz2, lzma, struct, os, sys
d = sys.argv[1]
a = bytearray(lzma.compress(b"", format=lzma.FORMAT_ALONE)); a[1:5] = struct.pack("<I", 1 << 28)
for name, one in [("many.pkl.bz2", bz2.compress(b"")), ("many.pkl.xz", lzma.compress(b"")), ("many.pkl.lzma", bytes(a))]:
    open(os.path.join(d, name), "wb").write(one * 10000)`,
      out,
    ]);
    for (const name of ["many.pkl.bz2", "many.pkl.xz", "many.pkl.lzma"]) {
      const t = Date.now();
      const r = await scan(join(out, name));
      expect(Date.now() - t, name).toBeLessThan(10_000);
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        name,
      ).toContain("medium:compression.not-opened");
    }
  }, 120_000);
});

describe("the bound, exactly: cap − 1, cap and cap + 1 bytes of output", () => {
  it("every codec returns cap bytes whole and refuses cap + 1 as too large", async () => {
    const cap = 100_000;
    const out = tempDir();
    execFileSync(py, [
      "-c",
      `import bz2, gzip, lzma, zlib, lz4.frame, os, sys
d = sys.argv[1]
for n in (${cap - 1}, ${cap}, ${cap + 1}):
    data = bytes(i * 7 % 251 for i in range(n))
    for codec, c in [("zlib", zlib.compress(data)), ("gzip", gzip.compress(data)), ("bz2", bz2.compress(data)), ("xz", lzma.compress(data)), ("lzma", lzma.compress(data, format=lzma.FORMAT_ALONE)), ("lz4", lz4.frame.compress(data))]:
        open(os.path.join(d, f"{codec}-{n}"), "wb").write(c)`,
      out,
    ]);
    for (const codec of ["zlib", "gzip", "bz2", "xz", "lzma", "lz4"] as const) {
      for (const n of [cap - 1, cap]) expect((await decodeBounded(codec, readFileSync(join(out, `${codec}-${n}`)), cap)).length, `${codec} ${n}`).toBe(n);
      const err = await decodeBounded(codec, readFileSync(join(out, `${codec}-${cap + 1}`)), cap).catch((e: unknown) => e);
      expect((err as Error).constructor.name, codec).toBe("TooLarge");
    }
  }, 60_000);
});

describe("lz4 frame flags", () => {
  it("block checksums, content size, content checksum and independent blocks all decode to the pickle joblib reads", async () => {
    const out = tempDir();
    execFileSync(py, [
      "-c",
      `import lz4.frame, os, pickle, sys
d = sys.argv[1]
class E:
    def __reduce__(self): return (os.system, ("true",))
p = pickle.dumps([list(range(3000)), E()], protocol=2)
for bc in (False, True):
    for cs in (False, True):
        for cc in (False, True):
            for bl in (False, True):
                open(os.path.join(d, f"f-{int(bc)}{int(cs)}{int(cc)}{int(bl)}.pkl.lz4"), "wb").write(lz4.frame.compress(p, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=bl, block_checksum=bc, store_size=cs, content_checksum=cc))`,
      out,
    ]);
    for (const flags of ["0000", "0001", "0010", "0011", "0100", "0101", "0110", "0111", "1000", "1001", "1010", "1011", "1100", "1101", "1110", "1111"]) {
      const r = await scan(join(out, `f-${flags}.pkl.lz4`));
      expect(
        r.findings.map((f) => `${f.severity}:${f.rule}`),
        flags,
      ).toContain("critical:pickle.dangerous-call");
    }
  }, 60_000);

  it("a skippable frame declaring 4 GiB past the end of the file is malformed, not a hang", async () => {
    const out = tempDir();
    const frame = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0xa7]); // FLG: independent blocks, no checksums
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    writeFileSync(join(out, "skip.pkl.lz4"), Buffer.concat([frame, Buffer.alloc(4), skippable]));
    const r = await scan(join(out, "skip.pkl.lz4"));
    expect(r.verdict).not.toBe("pass");
    expect(r.findings.map((f) => f.rule)).toContain("compression.malformed");
  });
});

describe("a file that is both compressed data and a zip", () => {
  it("a .keras zip behind a gzip, bz2 or xz stream (zipfile reads it from the end) is scanned as a zip too", async () => {
    const out = tempDir();
    execFileSync(py, [
      "-c",
      `import bz2, gzip, io, json, lzma, os, sys, zipfile
d = sys.argv[1]
cfg = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__", "config": {"code": "import os; os.system('id')"}}}}]}}
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    z.writestr("config.json", json.dumps(cfg))
for name, c in [("gz.keras", gzip.compress(b"hello")), ("bz.keras", bz2.compress(b"hello")), ("xz.keras", lzma.compress(b"hello"))]:
    open(os.path.join(d, name), "wb").write(c + b.getvalue())
    assert zipfile.ZipFile(os.path.join(d, name)).namelist() == ["config.json"]`,
      out,
    ]);
    for (const name of ["gz.keras", "bz.keras", "xz.keras"]) {
      const r = await scan(join(out, name));
      const got = r.findings.map((f) => `${f.severity}:${f.rule}`);
      expect(got, name).toContain("critical:keras.lambda");
      expect(got, name).toContain("medium:compression.polyglot");
    }
  }, 60_000);
});

describe("zero-length and empty containers", () => {
  it("an empty .pkl.gz is malformed, not a pass", async () => {
    const out = tempDir();
    writeFileSync(join(out, "empty.pkl.gz"), Buffer.alloc(0));
    const r = await scan(join(out, "empty.pkl.gz"));
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("medium:compression.malformed");
  });
});
