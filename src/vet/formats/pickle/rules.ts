/**
 * The pickle rules: what the machine saw becomes findings. A global's tier (globals.ts) decides the
 * severity — dangerous is critical, unknown is high when called and medium when only imported,
 * data-library classes are one low note per library — and calls whose callable cannot be known
 * statically are high. Also the joblib rule: how many bytes a NumpyArrayWrapper's array occupies.
 */
import { lowReason, normaliseModule } from "../../globals.js";
import type { Issue } from "../../types.js";
import { type GlobalRef, NONE, type V } from "./machine.js";

export function globalIssues(globals: readonly GlobalRef[]): Issue[] {
  return [...globals.flatMap(judge), ...lowNotes(globals.filter((g) => g.cls === "low"))];
}

export function dynamicIssues(dynamic: readonly { op: string; at: number; what: string }[]): Issue[] {
  return dynamic.map((d) => ({
    severity: "high" as const,
    rule: "pickle.dynamic-call",
    message: `${d.what} is used via ${d.op}: the callable cannot be known without running the pickle`,
    evidence: `${d.op} at byte ${d.at}`,
  }));
}

function judge(g: GlobalRef): Issue[] {
  // Report the canonical name (posix.system is os.system) and keep what the pickle wrote.
  const written = `${g.module}.${g.name}`;
  const canonical = `${normaliseModule(g.module)}.${g.name}`;
  const name = canonical === written ? written : `${canonical} (written as ${written})`;
  const call = g.calls[0];
  const how = call
    ? `${canonical} called via ${call.op}${call.via ? ` (through ${call.via})` : ""} at byte ${call.at}`
    : `${canonical} imported via ${g.importedBy} at byte ${g.importedAt}`;
  const more = g.calls.length > 1 ? ` (${g.calls.length} calls)` : "";
  if (g.cls === "dangerous")
    return [
      {
        severity: "critical",
        rule: call ? "pickle.dangerous-call" : "pickle.dangerous-import",
        message: `${name} can run code, spawn processes, touch files or the network, or deserialise further data`,
        evidence: how + more,
      },
    ];
  if (g.cls === "allowed" || g.cls === "low") return [];
  if (call)
    return [
      { severity: "high", rule: "pickle.unsafe-call", message: `${name} is not an allowlisted reconstructor and is called on load`, evidence: how + more },
    ];
  return [{ severity: "medium", rule: "pickle.unknown-import", message: `${name} is imported (not called); it is not on the allowlist`, evidence: how }];
}

export function isJoblibWrapper(g: GlobalRef): boolean {
  return g.module === "joblib.numpy_pickle" && g.name === "NumpyArrayWrapper";
}

export function isJoblibFileWrapper(g: GlobalRef): boolean {
  return g.module === "joblib.numpy_pickle" && g.name === "NDArrayWrapper";
}

/** The file a joblib < 0.10 NDArrayWrapper names (its `filename` attribute), when the scanner kept it. */
export function joblibFile(obj: V & { k: "obj" }): string | undefined {
  const f = obj.state?.k === "dict" ? obj.state.entries.get("filename") : undefined;
  return f?.k === "str" && !f.bytes ? f.s : undefined;
}

/**
 * NDArrayWrapper.read does numpy.load(join(dirname, filename), allow_pickle=True): a file that is not
 * an .npy is unpickled. joblib's own names (`model.pkl_01.npy`, beside the file) are a low note — the
 * sibling is vetted when the folder is scanned; any other name, a path, or one not known is high.
 */
export function externalIssues(external: readonly { at: number; file: string | undefined }[]): Issue[] {
  return external.map(({ at, file }) => {
    const own = file !== undefined && /^[\w.-]+_\d+\.npy$/.test(file) && !file.startsWith("..");
    return {
      severity: own ? ("low" as const) : ("high" as const),
      rule: "pickle.joblib-external",
      message: `joblib's NDArrayWrapper loads ${file === undefined ? "a file the scanner cannot name" : JSON.stringify(file)} with numpy.load(allow_pickle=True), which unpickles any file that is not an .npy${own ? ": scan the folder so that file is vetted too" : ""}`,
      evidence: `BUILD at byte ${at}`,
    };
  });
}

/** joblib's test: `getattr(wrapper, "numpy_array_alignment_bytes", None) is not None`; __init__ sets it to 16 unless given. */
function aligned(obj: V & { k: "obj" }, state: Map<string, V>): boolean | string {
  const v = state.get("numpy_array_alignment_bytes");
  if (v !== undefined) return v !== NONE;
  if (!obj.init) return false;
  if (obj.args?.k !== "tuple") return "constructor arguments not kept";
  const arg = obj.args.items[5];
  return arg === undefined || arg !== NONE;
}

/** The item size a numpy.dtype(...) gives, or why it is not known (a saved state that changes size or fields). */
function itemsize(dtype: V | undefined): { size: number; object: boolean } | string {
  if (dtype?.k !== "obj" || dtype.of?.module !== "numpy" || dtype.of.name !== "dtype" || dtype.args?.k !== "tuple") return "dtype is not numpy.dtype(...)";
  const type = dtype.args.items[0];
  const m = type?.k === "str" && !type.bytes ? /^[<>|=]?([a-zA-Z?])(\d*)$/.exec(type.s) : null;
  if (!m) return "dtype string not understood";
  const kind = m[1] as string;
  const n = m[2] ? Number(m[2]) : kind === "?" || kind === "b" ? 1 : Number.NaN;
  const size = kind === "U" ? n * 4 : n;
  if (kind !== "O" && !Number.isFinite(size)) return `dtype ${(type as { s: string }).s} has no size`;
  // dtype.__setstate__ (version, endian, subarray, names, fields, elsize, alignment, flags) sets a void
  // dtype's item size from `elsize`, and `hasobject` (joblib then unpickles the data) from bit 0 of
  // `flags`, whatever the type string said: the state must agree with the type string.
  const st = dtype.state;
  if (st !== undefined) {
    const it = st.k === "tuple" && st.items.length === 8 ? st.items : [];
    const elsize = it[5];
    const flags = it[7];
    if (elsize?.k !== "int" || (elsize.n !== -1 && elsize.n !== size) || flags?.k !== "int" || (kind !== "O" && (flags.n & 1) !== 0))
      return "dtype state not understood (its item size or object flag differs from the type string)";
  }
  return { size, object: kind === "O" };
}

/**
 * The size of the array a NumpyArrayWrapper's state describes: shape × itemsize of its numpy.dtype
 * (built by REDUCE from a type string such as 'f8', '<U5', 'V24', 'O8'), and whether joblib reads an
 * alignment padding byte first. A reason string when that is not known exactly (the array is then
 * not skipped past: the pickle is reported malformed).
 */
export function joblibArray(obj: V & { k: "obj" }): { bytes: number; object: boolean; aligned: boolean } | string {
  const state = obj.state;
  if (state?.k !== "dict") return "state is not a dict";
  const shape = state.entries.get("shape");
  if (shape?.k !== "tuple" || shape.items.some((d) => d.k !== "int" || d.n < 0)) return "shape is not a tuple of sizes the scanner kept";
  const item = itemsize(state.entries.get("dtype"));
  if (typeof item === "string") return item;
  if (item.object) return { bytes: 0, object: true, aligned: false };
  const align = aligned(obj, state.entries);
  if (typeof align === "string") return align;
  let bytes = item.size;
  for (const d of shape.items) bytes *= (d as { n: number }).n;
  return { bytes, object: false, aligned: align };
}

/** One low note per reason (pandas, statsmodels, …), naming the classes, instead of one per class. */
function lowNotes(low: GlobalRef[]): Issue[] {
  const byReason = new Map<string, string[]>();
  for (const g of low) {
    const full = `${normaliseModule(g.module)}.${g.name}`;
    const reason = lowReason(full) ?? "a data-library class";
    byReason.set(reason, [...(byReason.get(reason) ?? []), full]);
  }
  return [...byReason].map(([reason, names]) => ({
    severity: "low" as const,
    rule: "pickle.data-class",
    message: `${reason}: no I/O on load, but its library's code runs when the pickle is loaded`,
    evidence: names.slice(0, 8).join(", ") + (names.length > 8 ? ` and ${names.length - 8} more` : ""),
  }));
}
