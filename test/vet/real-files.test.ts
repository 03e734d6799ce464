/**
 * Files nobody here wrote: the pickles, joblib files (plain and compressed), .npy and .npz files that
 * numpy, scipy, joblib, pandas, statsmodels and bitarray ship in their installed packages (their test
 * data and tables), their zlib, gzip, bz2, xz and lzma containers opened. None may fail; the only
 * reviews allowed are object arrays (their data is a pickle).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { pythonWith } from "../support/scan-corpus.js";

const MODULES = ["numpy", "scipy", "joblib", "pandas", "statsmodels", "bitarray"];
const NAMES = /\.(pkl|pickle|joblib|npy|npz)$|\.pkl(_\d+\.npy|\.(z|gz|gzip|bz2|xz|lzma))$|_pickle_\w+\.gz$/;
const REVIEW_OK = new Set(["numpy.object-array"]);

let files: string[] = [];
beforeAll(() => {
  const py = pythonWith(MODULES, ["python3-numpy", "python3-scipy", "python3-joblib", "python3-pandas", "python3-statsmodels", "python3-bitarray"]);
  const code = `import importlib, os\nfor m in ${JSON.stringify(MODULES)}: print(os.path.dirname(importlib.import_module(m).__file__))`;
  const roots = execFileSync(py, ["-c", code], { encoding: "utf8" }).trim().split("\n");
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return walk(p);
      return e.isFile() && NAMES.test(e.name) && statSync(p).size < 20 << 20 ? [p] : [];
    });
  files = roots.flatMap(walk);
}, 60_000);

describe("data files shipped in real packages", () => {
  it("none fails, nothing is above medium, and reviews are only object arrays", async () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    const wrong: string[] = [];
    let passed = 0;
    for (const f of files) {
      const r = await scan(f);
      if (r.verdict === "pass") passed++;
      const bad = r.findings.filter((x) => atLeast(x.severity, "high") || (x.severity === "medium" && !REVIEW_OK.has(x.rule)));
      if (r.verdict === "fail" || bad.length) wrong.push(`${f}: ${r.verdict} ${bad.map((x) => `${x.severity}:${x.rule}:${x.evidence ?? ""}`).join(" | ")}`);
    }
    expect(wrong).toEqual([]);
    expect(passed).toBeGreaterThan(files.length / 2);
  }, 120_000);
});
