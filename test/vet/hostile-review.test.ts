/**
 * A hostile review of `weightbridge scan` (issue 15), written as the attacker who read the allowlist:
 * joblib files where the scanner's idea of the inline array bytes differs from what joblib.load reads,
 * so a payload sits in bytes the scanner skipped. Each file is hand-assembled by python3 and then
 * loaded with the real joblib.load, which must run its payload (a `touch` of a marker file) — so every
 * case here is a real bypass, not a guess — and `weightbridge scan` must not pass it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { analyseChatTemplate } from "../../src/vet/checks/chat-template.js";
import { scan } from "../../src/vet/scan.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/project.js";
import { pythonWith, pythonWithJoblib } from "../support/scan-corpus.js";

/** Writes the hostile joblib files into argv[1], loads each with joblib.load, prints the ones whose payload ran. */
const JOBLIB_GEN = String.raw`
import struct, sys, os, pickle
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
MARK = lambda name: os.path.join(out, name + ".ran")
def s(x): b = x.encode(); return b'\x8c' + bytes([len(b)]) + b
def g(m, n): return b'c' + m.encode() + b'\n' + n.encode() + b'\n'
def payload(name): return g('posix', 'system') + s('touch ' + MARK(name)) + b'\x85R.'
def hide(p): return b'C' + bytes([len(p)]) + p   # SHORT_BINBYTES: a string to whoever reads from here
WRAP = g('joblib.numpy_pickle', 'NumpyArrayWrapper')
def dtype(code, state=b'(K\x03' + s('|') + b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t'):
    return g('numpy', 'dtype') + s(code) + b'\x89\x88\x87R' + state + b'b'
def state(shape, dt, extra=b''):
    return (b'}(' + s('subclass') + g('numpy', 'ndarray') + s('shape') + b'(' + b''.join(b'J' + struct.pack('<i', n) for n in shape) + b't'
            + s('order') + s('C') + s('dtype') + dt + s('allow_mmap') + b'\x89' + extra + b'ub')
files = {}
# 1. the state dict keeps 'shape' (1000,) for its first 64 keys and sets it to (1,) after them.
junk = b''.join(s('k%d' % i) + b'N' for i in range(70))
body = b'\x80\x02' + WRAP + b')\x81' + state([1000], dtype('u1'), junk + s('shape') + b'(J\x01\x00\x00\x00t') 
arr = b'\x00' + payload('dict-override')
files['dict-override.joblib'] = body + arr + b'\x00' * (1000 - len(arr)) + b'.'
# 2. the wrapper made by copyreg.__newobj__ (as protocol 0/1 pickles make it): joblib reads 2 array bytes.
body = b'\x80\x02' + g('copyreg', '__newobj__') + WRAP + b'\x85R' + state([2], dtype('u1'))
p = payload('copyreg-wrapper')
files['copyreg-wrapper.joblib'] = body + b'C' + bytes([len(p)]) + p + b'.'
# 3. numpy_array_alignment_bytes True: joblib reads a padding byte (and that many bytes), a reader of ints does not.
p = payload('alignment-true')
body = b'\x80\x02' + WRAP + b')\x81' + state([2], dtype('u1'), s('numpy_array_alignment_bytes') + b'\x88')
# joblib: pad byte 3, skips 3, reads 2 array bytes, runs p. scanner: reads 2 array bytes [03 43], then resumes.
files['alignment-true.joblib'] = body + b'\x05' + b'a' + b'C' + bytes([len(p) + 4]) + b'wxyz' + p + b'.'
# 4. the wrapper built by calling its constructor: __init__ sets numpy_array_alignment_bytes=16.
p = payload('constructor-alignment')
body = (b'\x80\x02' + WRAP + b'(' + g('numpy', 'ndarray') + b'(J\x02\x00\x00\x00t' + s('C') + dtype('u1') + b'tR'
        + b'}(' + s('shape') + b'(J\x02\x00\x00\x00t' + s('dtype') + dtype('u1') + b'ub')
files['constructor-alignment.joblib'] = body + b'\x05' + b'a' + b'C' + bytes([len(p) + 4]) + b'wxyz' + p + b'.'
# 5. numpy.dtype('V200') whose saved state sets its item size to 1: joblib reads 1 byte, not 200.
p = payload('dtype-elsize')
dt = dtype('V200', b'(K\x03' + s('|') + b'NNNJ\x01\x00\x00\x00J\x01\x00\x00\x00K\x00t')
body = b'\x80\x02' + WRAP + b')\x81' + state([1], dt)
arr = b'\x00' + p
files['dtype-elsize.joblib'] = body + arr + b'\x00' * (200 - len(arr)) + b'.'
# 7. a bytes key b'shape' beside the str key 'shape': a different attribute to Python, the same to a reader that conflates them.
body = b'\x80\x02' + WRAP + b')\x81' + state([1], dtype('u1'), b'C\x05shape' + b'(J\xe8\x03\x00\x00t')
arr = b'\x00' + payload('bytes-key')
files['bytes-key.joblib'] = body + arr + b'\x00' * (1000 - len(arr)) + b'.'
# 6. joblib < 0.10's NDArrayWrapper: joblib.load np.load()s the named file with allow_pickle=True.
with open(os.path.join(out, 'notes.txt'), 'wb') as f: f.write(b"cposix\nsystem\n(S'touch " + MARK('ndarray-wrapper').encode() + b"'\ntR.")
files['ndarray-wrapper.pkl'] = (b'\x80\x02' + g('joblib.numpy_pickle', 'NDArrayWrapper') + b')\x81}(' + s('filename') + s('notes.txt')
    + s('subclass') + g('numpy', 'ndarray') + s('allow_mmap') + b'\x89ub.')
for k, v in files.items():
    with open(os.path.join(out, k), 'wb') as f: f.write(v)
import joblib
ran = []
for k in files:
    try: joblib.load(os.path.join(out, k))
    except Exception as e: print(k, 'joblib error', repr(e)[:200], file=sys.stderr)
    if os.path.exists(MARK(k.split('.')[0])): ran.append(k)
print('\n'.join(ran))
`;

let dir = "";
let ran: string[] = [];
beforeAll(() => {
  dir = tempDir();
  writeFileSync(join(dir, "gen.py"), JOBLIB_GEN);
  ran = execFileSync(pythonWithJoblib(), [join(dir, "gen.py"), join(dir, "out")], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    .trim()
    .split("\n");
}, 60_000);

const rules = async (name: string) => {
  const r = await scan(join(dir, "out", name));
  return { verdict: r.verdict, found: r.findings.map((f) => `${f.severity}:${f.rule}`) };
};

describe("joblib: bytes the scanner skipped must be the bytes joblib.load skips", () => {
  it("every hostile file really runs its payload under joblib.load", () => {
    expect(ran.sort()).toEqual(
      [
        "alignment-true.joblib",
        "bytes-key.joblib",
        "constructor-alignment.joblib",
        "copyreg-wrapper.joblib",
        "dict-override.joblib",
        "dtype-elsize.joblib",
        "ndarray-wrapper.pkl",
      ].sort(),
    );
  });

  it("a 'shape' set again after 64 other keys is the shape joblib uses (the payload behind the real array is critical)", async () => {
    expect((await rules("dict-override.joblib")).found).toContain("critical:pickle.dangerous-call");
  });

  it("a bytes key b'shape' is not the attribute shape", async () => {
    expect((await rules("bytes-key.joblib")).found).toContain("critical:pickle.dangerous-call");
  });

  it("a wrapper made by copyreg.__newobj__ is a wrapper: its array is skipped as joblib skips it", async () => {
    expect((await rules("copyreg-wrapper.joblib")).found).toContain("critical:pickle.dangerous-call");
  });

  it("numpy_array_alignment_bytes=True makes joblib read a padding byte, as an int does", async () => {
    expect((await rules("alignment-true.joblib")).found).toContain("critical:pickle.dangerous-call");
  });

  it("a wrapper built by calling NumpyArrayWrapper(...) has __init__'s alignment of 16", async () => {
    expect((await rules("constructor-alignment.joblib")).found).toContain("critical:pickle.dangerous-call");
  });

  it("a numpy.dtype('V200') whose saved state sets its item size to 1 is not skipped by 200 bytes", async () => {
    const r = await rules("dtype-elsize.joblib");
    expect(r.verdict).not.toBe("pass");
    expect(r.found).toContain("medium:pickle.malformed");
  });

  it("joblib < 0.10's NDArrayWrapper naming a file that is not its own .npy fails (numpy.load with allow_pickle=True)", async () => {
    const r = await rules("ndarray-wrapper.pkl");
    expect(r.verdict).toBe("fail");
    expect(r.found).toContain("high:pickle.joblib-external");
  });

  it("the CLI exits 1 on them", async () => {
    const cli = await runCli(["scan", join(dir, "out", "dict-override.joblib"), "--format", "json"]);
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout).verdict).toBe("fail");
  });
});

describe("allowlist tiers: a class name is not the class", () => {
  it("statsmodels.graphics.functional.Pool (multiprocessing's Pool, re-exported) is not a statsmodels data class", async () => {
    const file = join(tempDir(), "pool.pkl");
    // The pickle really starts a worker process when loaded.
    const code = `import pickle, multiprocessing
d = b'cstatsmodels.graphics.functional\\nPool\\n(K\\x01tR.'
open(${JSON.stringify(file)}, 'wb').write(d)
p = pickle.loads(d); print(len(multiprocessing.active_children())); p.terminate()`;
    expect(execFileSync(pythonWithJoblib(), ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()).toBe("1");
    const r = await scan(file);
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("high:pickle.unsafe-call");
    expect(r.verdict).toBe("fail");
  });
});

describe("chat templates: attribute names built where the string test did not look", () => {
  // "__class__" built from pieces no dunder-fragment or raw-text rule sees.
  const DUNDER = "('_' * 2) ~ 'class' ~ ('_' * 2)";
  const rules = (t: string) => analyseChatTemplate(t, "t").map((i) => `${i.severity}:${i.rule}`);

  it("a loop variable over a list of built strings is a string", async () => {
    const file = join(tempDir(), "chat_template.jinja");
    writeFileSync(file, `{% for k in [${DUNDER}] %}{{ messages[k] }}{% endfor %}`);
    const r = await scan(file);
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("high:template.computed-attribute");
    expect(r.verdict).toBe("fail");
  });

  it("a tuple {% set a, b = … %} binds strings too", () => {
    expect(rules(`{% set a, b = ${DUNDER}, 1 %}{{ messages[a] }}`)).toContain("high:template.computed-attribute");
  });

  it("dict keys from |items or .items() are strings", () => {
    expect(rules(`{% for k, v in {(${DUNDER}): 1}|items %}{{ messages[k] }}{% endfor %}`)).toContain("high:template.computed-attribute");
  });

  it("d[k] over d's own keys stays clean only while d is the dict iterated", () => {
    expect(rules("{% for k in d %}{{ d[k] }}{% endfor %}")).toEqual([]);
    expect(rules(`{% for k in {(${DUNDER}): 1} %}{% set d = messages %}{{ d[k] }}{% endfor %}`)).toContain("high:template.computed-attribute");
    expect(rules("{% for i in range(3) %}{{ messages[i] }}{% endfor %}")).toEqual([]);
  });
});

describe("allowlist tiers: pandas' expression engine is not a data structure", () => {
  it("pandas.core.computation.expr.Expr(...) evaluates its string on load: not a low pandas note", async () => {
    const file = join(tempDir(), "expr.pkl");
    // Loading runs object.__subclasses__() (the first step of a sandbox escape) from the pickle's string.
    const code = `import pickle
d = b'cpandas.core.computation.expr\\nExpr\\n(V[].__class__.__base__.__subclasses__()\\ntR.'
open(${JSON.stringify(file)}, 'wb').write(d)
v = pickle.loads(d).terms.value; print(any(c.__name__ == '_wrap_close' for c in v))`;
    const py = pythonWith(["pandas"], ["python3-pandas"]);
    expect(execFileSync(py, ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()).toBe("True");
    const r = await scan(file);
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("high:pickle.unsafe-call");
    expect(r.verdict).toBe("fail");
  });
});

describe("allowlist tiers: numpy's reconstructors run the subclass they are given", () => {
  it("_reconstruct(an ndarray subclass outside the allowlist, …) calls it: high, not an unknown import", async () => {
    const file = join(tempDir(), "subclass.pkl");
    // chararray's own __array_finalize__ raises on a float dtype: its code runs inside pickle.loads.
    const code = `import pickle
d = b'cnumpy.core.multiarray\\n_reconstruct\\n(cnumpy.core.defchararray\\nchararray\\n(K\\x00tC\\x01ftR.'
open(${JSON.stringify(file)}, 'wb').write(d)
try: pickle.loads(d)
except ValueError as e: print(e)`;
    expect(execFileSync(pythonWithJoblib(), ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()).toBe(
      "Can only create a chararray from string data.",
    );
    const r = await scan(file);
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("high:pickle.unsafe-call");
  });

  it("numpy.random's __randomstate_ctor(name, ctor) calls ctor: the class given is called", async () => {
    const file = join(tempDir(), "randomstate.pkl");
    const code = `import pickle
d = b'cnumpy.random._pickle\\n__randomstate_ctor\\n(C\\x01fcnumpy.core.defchararray\\nchararray\\ntR.'
open(${JSON.stringify(file)}, 'wb').write(d)
try: pickle.loads(d)
except Exception:
    import traceback; print("bit_generator_ctor(bit_generator_name)" in traceback.format_exc())`;
    // numpy called chararray(b"f") and failed later, on what it returned.
    expect(execFileSync(pythonWithJoblib(), ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()).toBe("True");
    const r = await scan(file);
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("high:pickle.unsafe-call");
  });
});

describe("compression: joblib opens by magic, not by name", () => {
  it("a compress=3 joblib payload named clf.model or with no extension is opened and fails", async () => {
    const out = tempDir();
    const code = `import joblib, os
class P:
    def __reduce__(self): return (os.system, ('touch ' + ${JSON.stringify(join(out, "ran"))},))
for n in ['clf.model', 'clf']: joblib.dump({'x': P()}, os.path.join(${JSON.stringify(out)}, n), compress=3)
for m in ['xz', 'bz2', 'lz4']:
    try: joblib.dump({'x': P()}, os.path.join(${JSON.stringify(out)}, 'clf.' + m + 'model'), compress=(m, 3))
    except ValueError: pass  # lz4 is optional in joblib
joblib.load(os.path.join(${JSON.stringify(out)}, 'clf.model')); print(os.path.exists(${JSON.stringify(join(out, "ran"))}))`;
    expect(execFileSync(pythonWithJoblib(), ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()).toBe("True");
    for (const name of ["clf.model", "clf"]) {
      const r = await scan(join(out, name));
      expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("critical:pickle.dangerous-call");
    }
    // xz, bz2 and lz4 are opened under any name too.
    for (const name of ["clf.xzmodel", "clf.bz2model", "clf.lz4model"]) {
      expect(existsSync(join(out, name)), name).toBe(true);
      const r = await scan(join(out, name));
      expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("critical:pickle.dangerous-call");
    }
  });

  it("compressed data that is not a pickle, under such a name, is left alone", async () => {
    const dir = tempDir();
    const data = deflateSync(Buffer.from("a,b\n1,2\n".repeat(100)));
    writeFileSync(join(dir, "table.dat"), data);
    writeFileSync(join(dir, "weights.bin"), data);
    expect((await scan(join(dir, "table.dat"))).findings.filter((f) => f.rule !== "license.unknown")).toEqual([]);
    // A weights name in no known format stays a review, as before.
    expect((await scan(join(dir, "weights.bin"))).findings.map((f) => `${f.severity}:${f.rule}`)).toContain("medium:format.unrecognised");
  });
});

describe("numpy.load(allow_pickle=True) unpickles an .npy without the magic", () => {
  it("a protocol-0 pickle named x.pkl_01.npy (joblib < 0.10's sibling name) is judged as a pickle", async () => {
    const out = tempDir();
    writeFileSync(join(out, "x.pkl_01.npy"), `cposix\nsystem\n(S'touch ${join(out, "ran")}'\ntR.`);
    const code = `import numpy, os
try: numpy.load(${JSON.stringify(join(out, "x.pkl_01.npy"))}, allow_pickle=True)
except Exception: pass
print(os.path.exists(${JSON.stringify(join(out, "ran"))}))`;
    expect(execFileSync(pythonWithJoblib(), ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()).toBe("True");
    const r = await scan(join(out, "x.pkl_01.npy"));
    expect(r.findings.map((f) => `${f.severity}:${f.rule}`)).toContain("critical:pickle.dangerous-call");
  });
});
