/** The adversarial scan corpus, written by python3 (with numpy) into a temp folder once per test file. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./project.js";

export interface CorpusEntry {
  path: string;
  kind: "malicious" | "benign" | "malformed";
  technique: string;
}

export function requirePythonNumpy(): void {
  try {
    execFileSync("python3", ["-c", "import numpy"], { stdio: "pipe" });
  } catch {
    throw new Error("these tests write fixtures with python3 and numpy: install them (apt-get install -y python3 python3-numpy)");
  }
}

export function makeScanCorpus(): { dir: string; entries: CorpusEntry[] } {
  requirePythonNumpy();
  const dir = tempDir();
  const script = fileURLToPath(new URL("../fixtures/make_scan_corpus.py", import.meta.url));
  execFileSync("python3", [script, dir], { stdio: "pipe" });
  return { dir, entries: JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as CorpusEntry[] };
}

/** Run a python snippet (pickle, numpy available) and return its stdout bytes. */
export function python(code: string): Buffer {
  requirePythonNumpy();
  return execFileSync("python3", ["-c", code], { maxBuffer: 1 << 30 });
}

export interface JoblibEntry extends CorpusEntry {
  expect: "pass" | "review" | "fail";
}

/** A python3 that imports `modules`: the one on PATH, else Debian's /usr/bin/python3 (where apt installs python3-MODULE). */
export function pythonWith(modules: string[], debianPackages: string[]): string {
  for (const py of ["python3", "/usr/bin/python3"])
    try {
      execFileSync(py, ["-c", `import ${modules.join(", ")}`], { stdio: "pipe" });
      return py;
    } catch {}
  throw new Error(`these tests write real files with ${modules.join(", ")}: install them (apt-get install -y ${debianPackages.join(" ")})`);
}

/** joblib writes lz4 containers only with Python's lz4 package, so it is required too. */
export const pythonWithJoblib = () => pythonWith(["joblib", "sklearn", "numpy", "lz4"], ["python3-joblib", "python3-sklearn", "python3-lz4"]);

function runCorpusScript(py: string, script: string): { dir: string; entries: JoblibEntry[] } {
  const dir = tempDir();
  execFileSync(py, [fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url)), dir], { stdio: "pipe" });
  return { dir, entries: JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as JoblibEntry[] };
}

/** Real joblib files (plain, with inline arrays, compressed) written by joblib into a temp folder. */
export function makeJoblibCorpus(): { dir: string; entries: JoblibEntry[] } {
  return runCorpusScript(pythonWithJoblib(), "make_joblib_corpus.py");
}

/** Real pickles of numpy, scipy, pandas, statsmodels and bitarray objects, and payloads through them. */
export function makeDataLibCorpus(): { dir: string; entries: JoblibEntry[] } {
  const py = pythonWith(
    ["numpy", "scipy", "pandas", "statsmodels", "bitarray"],
    ["python3-numpy", "python3-scipy", "python3-pandas", "python3-statsmodels", "python3-bitarray"],
  );
  return runCorpusScript(py, "make_datalib_corpus.py");
}
