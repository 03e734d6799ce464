/**
 * Allowlist tiers on real pickles written by numpy, scipy, pandas, statsmodels and bitarray: data
 * structures pass (at most a low note), the same libraries' I/O and nested loaders fail.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classifyGlobal } from "../../src/vet/globals.js";
import { scan } from "../../src/vet/scan.js";
import { atLeast } from "../../src/vet/types.js";
import { type JoblibEntry, makeDataLibCorpus } from "../support/scan-corpus.js";

let dir = "";
let entries: JoblibEntry[] = [];
beforeAll(() => {
  ({ dir, entries } = makeDataLibCorpus());
}, 60_000);

describe("data-library pickles written by the libraries", () => {
  it("benign ones pass with nothing above a low note; payloads fail", async () => {
    const got: string[] = [];
    for (const e of entries) {
      const r = await scan(join(dir, e.path));
      const above = r.findings.filter((f) => atLeast(f.severity, e.expect === "pass" ? "medium" : "high"));
      const ok = r.verdict === e.expect && (e.expect === "pass" ? above.length === 0 : above.length > 0);
      got.push(`${e.path}: ${ok ? e.expect : `${r.verdict} ${JSON.stringify(r.findings.map((f) => `${f.severity}:${f.rule}:${f.evidence ?? ""}`))}`}`);
    }
    expect(got).toEqual(entries.map((e) => `${e.path}: ${e.expect}`));
  }, 60_000);

  it("pandas and statsmodels classes are a low note that names them", async () => {
    const r = await scan(join(dir, "benign/ols-results.pickle"));
    const note = r.findings.find((f) => f.rule === "pickle.data-class");
    expect(note?.severity).toBe("low");
    expect(note?.evidence).toMatch(/statsmodels\.regression\.linear_model\./);
  });

  it("tiers", () => {
    expect(classifyGlobal("numpy", "float64")).toBe("allowed");
    expect(classifyGlobal("numpy.matrixlib.defmatrix", "matrix")).toBe("allowed");
    expect(classifyGlobal("numpy.core._internal", "_reconstruct")).toBe("allowed");
    expect(classifyGlobal("numpy.core._internal", "_ctypes")).toBe("unknown");
    expect(classifyGlobal("scipy.sparse._csr", "csr_matrix")).toBe("allowed");
    expect(classifyGlobal("pandas.core.frame", "DataFrame")).toBe("low");
    expect(classifyGlobal("pandas.io.parsers.readers", "read_csv")).toBe("unknown");
    expect(classifyGlobal("pandas.io.pickle", "read_pickle")).toBe("dangerous");
    expect(classifyGlobal("statsmodels.iolib.smpickle", "load_pickle")).toBe("unknown");
    expect(classifyGlobal("bitarray", "_bitarray_reconstructor")).toBe("low");
    expect(classifyGlobal("numpy", "load")).toBe("dangerous");
  });
});
