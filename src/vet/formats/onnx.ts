/**
 * ONNX (protobuf) with a bounded reader: external-data locations that leave the model's folder
 * (absolute paths, "..") and operators from custom domains, which need a native library registered
 * by the loader. Large fields (raw tensor data) are skipped, never read.
 */
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";
import type { FormatDef } from "./format.js";

const STANDARD_DOMAINS = new Set([
  "",
  "ai.onnx",
  "ai.onnx.ml",
  "ai.onnx.training",
  "ai.onnx.preview.training",
  "com.microsoft",
  "com.microsoft.nchwc",
  "com.microsoft.experimental",
  "com.ms.internal.nhwc",
  "org.pytorch.aten",
]);
const MAX_DEPTH = 24;
const MAX_FIELDS = 5_000_000;

class OnnxError extends Error {}

interface Field {
  no: number;
  wire: number;
  start: number;
  end: number;
}

function* fields(src: ByteSource, start: number, end: number, budget: { n: number }): Generator<Field> {
  let p = start;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw new OnnxError(`truncated varint at byte ${p}`);
      const b = src.read(p++, 1)[0] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new OnnxError(`varint longer than 10 bytes at byte ${p}`);
  };
  while (p < end) {
    if (--budget.n < 0) throw new OnnxError(`more than ${MAX_FIELDS} protobuf fields`);
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    const s = p;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      if (p + len > end) throw new OnnxError(`field ${no} of ${len} bytes at byte ${p} runs past its message`);
      yield { no, wire, start: p, end: p + len };
      p += len;
      continue;
    } else throw new OnnxError(`unsupported protobuf wire type ${wire} at byte ${s}`);
    if (p > end) throw new OnnxError(`field ${no} runs past its message`);
    yield { no, wire, start: s, end: p };
  }
}

export function scanOnnx(src: ByteSource): Issue[] {
  const issues: Issue[] = [];
  const budget = { n: MAX_FIELDS };
  const text = (f: Field) => src.read(f.start, Math.min(f.end - f.start, 4096)).toString("utf8");
  const domains = new Set<string>();
  const tensor = (start: number, end: number) => {
    let name = "";
    const ext: Record<string, string> = {};
    for (const f of fields(src, start, end, budget)) {
      if (f.no === 8 && f.wire === 2) name = text(f);
      if (f.no === 13 && f.wire === 2) {
        let k = "";
        let v = "";
        for (const e of fields(src, f.start, f.end, budget)) {
          if (e.no === 1 && e.wire === 2) k = text(e);
          if (e.no === 2 && e.wire === 2) v = text(e);
        }
        ext[k] = v;
      }
    }
    const loc = ext.location;
    if (loc !== undefined && (loc.startsWith("/") || loc.startsWith("\\") || /^[A-Za-z]:/.test(loc) || loc.split(/[\\/]/).includes("..")))
      issues.push({
        severity: "high",
        rule: "onnx.external-data-escape",
        message: `initializer "${name}" reads external data from "${loc}", outside the model's folder`,
        evidence: `location=${loc}`,
      });
  };
  const graph = (start: number, end: number, depth: number) => {
    if (depth > MAX_DEPTH) throw new OnnxError(`subgraphs nested deeper than ${MAX_DEPTH}`);
    for (const f of fields(src, start, end, budget)) {
      if (f.wire !== 2) continue;
      if (f.no === 5) tensor(f.start, f.end);
      if (f.no === 1) {
        // NodeProto: domain (7), attributes (5) with subgraphs (6, 11) and tensors (5, 10)
        for (const n of fields(src, f.start, f.end, budget)) {
          if (n.wire !== 2) continue;
          if (n.no === 7) domains.add(text(n));
          if (n.no === 5)
            for (const a of fields(src, n.start, n.end, budget)) {
              if (a.wire !== 2) continue;
              if (a.no === 6 || a.no === 11) graph(a.start, a.end, depth + 1);
              if (a.no === 5 || a.no === 10) tensor(a.start, a.end);
            }
        }
      }
    }
  };
  try {
    let sawGraph = false;
    for (const f of fields(src, 0, src.size, budget)) {
      if (f.no === 7 && f.wire === 2) {
        sawGraph = true;
        graph(f.start, f.end, 0);
      }
      if (f.no === 8 && f.wire === 2) for (const o of fields(src, f.start, f.end, budget)) if (o.no === 1 && o.wire === 2) domains.add(text(o));
    }
    if (!sawGraph) issues.push({ severity: "medium", rule: "onnx.malformed", message: "no graph in the ONNX model" });
  } catch (e) {
    if (!(e instanceof OnnxError)) throw e;
    issues.push({ severity: "medium", rule: "onnx.malformed", message: `ONNX protobuf is malformed: ${e.message}` });
  }
  const custom = [...domains].filter((d) => !STANDARD_DOMAINS.has(d));
  if (custom.length)
    issues.push({
      severity: "high",
      rule: "onnx.custom-op",
      message: `operators from custom domain(s) ${custom.map((d) => `"${d}"`).join(", ")}: running the model needs a native custom-op library`,
      evidence: custom.join(", "),
    });
  return issues;
}

/** ONNX is a protobuf without magic bytes: recognised by its name only. */
export const onnxFormat: FormatDef = {
  named: (name) => (/\.onnx$/i.test(name) ? "onnx" : undefined),
  scan: ({ src }, format) => ({ format, issues: scanOnnx(src) }),
};
