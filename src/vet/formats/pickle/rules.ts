/**
 * The pickle rules: what the machine saw becomes findings. A global's tier (globals.ts) decides the
 * severity — dangerous is critical, unknown is high when called and medium when only imported,
 * data-library classes are one low note per library — and calls whose callable cannot be known
 * statically are high. Also the joblib rule: how many bytes a NumpyArrayWrapper's array occupies.
 */
import { lowReason, normaliseModule } from "../../globals.js";
import type { Issue } from "../../types.js";
import type { GlobalRef, V } from "./machine.js";

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

/**
 * The size of the array a NumpyArrayWrapper's state describes: shape × itemsize of its numpy.dtype
 * (built by REDUCE from a type string such as 'f8', '<U5', 'V24', 'O8'). A reason string when the
 * state does not say (the array is then not skipped past: the pickle is reported malformed).
 */
export function joblibArray(state: V): { bytes: number; object: boolean; aligned: boolean } | string {
  if (state.k !== "dict") return "state is not a dict";
  const shape = state.entries.get("shape");
  const dtype = state.entries.get("dtype");
  if (shape?.k !== "tuple" || shape.items.some((d) => d.k !== "int" || d.n < 0)) return "shape is not a tuple of sizes the scanner kept";
  if (dtype?.k !== "obj" || dtype.of?.module !== "numpy" || dtype.of.name !== "dtype" || dtype.args?.k !== "tuple") return "dtype is not numpy.dtype(...)";
  const type = dtype.args.items[0];
  const m = type?.k === "str" ? /^[<>|=]?([a-zA-Z?])(\d*)$/.exec(type.s) : null;
  if (!m) return "dtype string not understood";
  const kind = m[1] as string;
  if (kind === "O") return { bytes: 0, object: true, aligned: false };
  const n = m[2] ? Number(m[2]) : kind === "?" || kind === "b" ? 1 : Number.NaN;
  const itemsize = kind === "U" ? n * 4 : n;
  if (!Number.isFinite(itemsize)) return `dtype ${type?.k === "str" ? type.s : "?"} has no size`;
  let bytes = itemsize;
  for (const d of shape.items) bytes *= (d as { n: number }).n;
  return { bytes, object: false, aligned: state.entries.get("numpy_array_alignment_bytes")?.k === "int" };
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
