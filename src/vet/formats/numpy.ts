/**
 * NumPy .npy: magic, version, a bounded header (a Python dict literal). An object dtype means the
 * data is a pickle, which is then disassembled like any other.
 */
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";
import { type PickleOptions, scanPickle } from "./pickle.js";

const MAGIC = Buffer.from("\x93NUMPY", "latin1");
const MAX_HEADER = 1 << 16;

export function isNpy(head: Buffer): boolean {
  return head.length >= 6 && head.subarray(0, 6).equals(MAGIC);
}

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

export function scanNpy(src: ByteSource, opts: PickleOptions = {}): { issues: Issue[]; header?: NpyHeader } {
  const head = src.read(0, 12);
  if (!isNpy(Buffer.from(head))) return { issues: [{ severity: "medium", rule: "numpy.malformed", message: "not a .npy file: bad magic" }] };
  const major = head[6] as number;
  if (major < 1 || major > 3) return { issues: [{ severity: "medium", rule: "numpy.malformed", message: `unknown .npy format version ${major}` }] };
  if (head.length < (major === 1 ? 10 : 12)) return { issues: [{ severity: "medium", rule: "numpy.malformed", message: "truncated .npy header" }] };
  const hlen = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (hlen > MAX_HEADER || start + hlen > src.size)
    return {
      issues: [{ severity: "medium", rule: "numpy.malformed", message: `.npy header length ${hlen} is over ${MAX_HEADER} or past the end of the file` }],
    };
  const text = src.read(start, hlen).toString(major === 3 ? "utf8" : "latin1");
  const descr = /['"]descr['"]\s*:\s*(\[.*\]|'[^']*'|"[^"]*")/s.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || shapeText === undefined)
    return { issues: [{ severity: "medium", rule: "numpy.malformed", message: ".npy header lacks descr or shape", evidence: text.slice(0, 120) }] };
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const header: NpyHeader = { descr, fortranOrder: /fortran_order['"]\s*:\s*True/.test(text), shape, dataOffset: start + hlen };
  // 'O' (object) anywhere in the dtype, including structured dtypes: the payload is a pickle.
  if (/['"]\|?O\d*['"]/.test(descr)) {
    const r = scanPickle(src, { ...opts, start: header.dataOffset });
    return {
      header,
      issues: [
        {
          severity: "medium",
          rule: "numpy.object-array",
          message: "object dtype: the array data is a pickle, loaded only with allow_pickle=True",
          evidence: `dtype ${descr}`,
        },
        ...r.issues,
      ],
    };
  }
  return { header, issues: [] };
}
