/**
 * NumPy .npy: magic, version, a bounded header (a Python dict literal), and shape × dtype checked
 * against the bytes present. An object dtype means the data is a pickle, which is then disassembled
 * like any other.
 */
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";
import type { FormatDef } from "./format.js";
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

/** Bytes per element of a simple dtype string ('<f4', '|u1', '<U10', '|S5', 'V16'); undefined when not simple. */
export function itemSize(descr: string): number | undefined {
  const m = /^['"]([<>|=]?)([a-zA-Z?])(\d*)(\[[a-zA-Z]+\])?['"]$/.exec(descr.trim());
  if (!m) return undefined;
  const kind = m[2] as string;
  const n = m[3] ? Number(m[3]) : kind === "?" || kind === "b" ? 1 : undefined;
  if (n === undefined) return undefined;
  return kind === "U" ? n * 4 : n;
}

/**
 * Shape × itemsize against the bytes that follow the header: a .npy declaring 10^22 elements with no
 * data (or carrying bytes beyond its array) is a finding. `fileSize` is the entry's declared size
 * when the source is only a prefix of it (inside an .npz).
 */
function checkDataSize(header: NpyHeader, dims: string[], fileSize: number): Issue[] {
  const size = itemSize(header.descr);
  if (size === undefined) return [];
  if (dims.some((d) => !/^\d{1,40}L?$/.test(d)))
    return [{ severity: "medium", rule: "numpy.malformed", message: ".npy shape is not a list of sizes", evidence: `shape (${dims.join(", ")})` }];
  let want = BigInt(size);
  for (const d of dims) want *= BigInt(d.replace("L", ""));
  const have = BigInt(Math.max(0, fileSize - header.dataOffset));
  if (want > have)
    return [
      {
        severity: "medium",
        rule: "numpy.truncated",
        message: `the array declares ${want} data bytes (shape (${dims.join(", ")}) × ${size}) but the file holds ${have}`,
        evidence: `dtype ${header.descr}`,
      },
    ];
  if (want < have)
    return [
      {
        severity: "medium",
        rule: "numpy.trailing-bytes",
        message: `${have - want} bytes follow the array's data: numpy ignores them, another reader may not`,
        evidence: `data ends at byte ${BigInt(header.dataOffset) + want}`,
      },
    ];
  return [];
}

export function scanNpy(src: ByteSource, opts: PickleOptions & { fileSize?: number } = {}): { issues: Issue[]; header?: NpyHeader } {
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
  const dims = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const shape = dims.map(Number);
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
  return { header, issues: checkDataSize(header, dims, opts.fileSize ?? src.size) };
}

export const npyFormat: FormatDef = {
  magic: (head) => (isNpy(head) ? "numpy" : undefined),
  named: (name) => (/\.npy$/i.test(name) ? "numpy" : undefined),
  scan: ({ src, head, extraAllowed }, format) => {
    const issues = scanNpy(src, { extraAllowed }).issues;
    // numpy.load(allow_pickle=True) unpickles a file without the .npy magic (joblib < 0.10 loads its
    // sibling .npy files that way): its pickle is judged too.
    return { format, issues: isNpy(head) ? issues : [...issues, ...scanPickle(src, { extraAllowed }).issues] };
  },
};
