/**
 * GGUF structure check with a bound on every count and length: magic, version, metadata key/values,
 * tensor infos, alignment, and tensor data inside the file. Metadata we need (license, base model,
 * architecture, chat templates) is kept; token arrays are skipped without being materialised.
 * Why our own reader rather than @huggingface/gguf here: the library trusts the counts and lengths a
 * file declares (it is built for well-formed Hub files read over HTTP ranges), and a hostile count
 * must end in a finding, not an allocation.
 */
import { analyseChatTemplate } from "../checks/chat-template.js";
import type { ByteSource } from "../source.js";
import type { Issue, ModelFacts } from "../types.js";
import type { FormatDef } from "./format.js";

export interface GgufLimits {
  maxKv: number;
  maxTensors: number;
  maxKeyLen: number;
  maxStringLen: number;
  maxArrayLen: number;
  maxDims: number;
}

export const DEFAULT_GGUF_LIMITS: GgufLimits = {
  maxKv: 100_000,
  maxTensors: 1_000_000,
  maxKeyLen: 65_536,
  maxStringLen: 64 << 20,
  maxArrayLen: 50_000_000,
  maxDims: 8,
};

/** ggml type id → [block elements, bytes per block]. */
const GGML_TYPES: Record<number, [number, number]> = {
  0: [1, 4],
  1: [1, 2],
  2: [32, 18],
  3: [32, 20],
  6: [32, 22],
  7: [32, 24],
  8: [32, 34],
  9: [32, 36],
  10: [256, 84],
  11: [256, 110],
  12: [256, 144],
  13: [256, 176],
  14: [256, 210],
  15: [256, 292],
  16: [256, 66],
  17: [256, 74],
  18: [256, 98],
  19: [256, 50],
  20: [32, 18],
  21: [256, 110],
  22: [256, 82],
  23: [256, 136],
  24: [1, 1],
  25: [1, 2],
  26: [1, 4],
  27: [1, 8],
  28: [1, 8],
  29: [256, 56],
  30: [1, 2],
  34: [256, 54],
  35: [256, 66],
  39: [32, 17],
};

const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const KEEP = /^(general\.|tokenizer\.chat_template)/;

class GgufError extends Error {}

export interface GgufScan {
  issues: Issue[];
  metadata: Record<string, unknown>;
  templates: Record<string, string>;
  facts: ModelFacts;
  tensors: number;
}

export function isGguf(head: Buffer): boolean {
  return head.length >= 4 && head.toString("latin1", 0, 4) === "GGUF";
}

export function scanGguf(src: ByteSource, limits: GgufLimits = DEFAULT_GGUF_LIMITS): GgufScan {
  const out: GgufScan = { issues: [], metadata: {}, templates: {}, facts: {}, tensors: 0 };
  let pos = 0;
  const take = (n: number) => {
    if (pos + n > src.size) throw new GgufError(`needs ${n} bytes at ${pos} but the file ends at ${src.size}`);
    const b = src.read(pos, n);
    pos += n;
    return b;
  };
  const u32 = () => take(4).readUInt32LE(0);
  let wide = true;
  const count = (what: string, max: number) => {
    const v = wide ? take(8).readBigUInt64LE(0) : BigInt(u32());
    if (v > BigInt(max)) throw new GgufError(`${what} ${v} is over the limit of ${max}`);
    return Number(v);
  };
  const str = (max: number, keep: boolean): string | undefined => {
    const n = count("string length", max);
    if (pos + n > src.size) throw new GgufError(`string of ${n} bytes at ${pos} runs past the end of the file`);
    const s = keep ? src.read(pos, n).toString("utf8") : undefined;
    pos += n;
    return s;
  };
  const value = (type: number, keep: boolean, depth = 0): unknown => {
    if (type === 8) return str(limits.maxStringLen, keep);
    if (type === 9) {
      if (depth > 2) throw new GgufError("arrays nested more than 2 deep");
      const et = u32();
      const n = count("array length", limits.maxArrayLen);
      const size = SCALAR_SIZE[et];
      if (size !== undefined) {
        if (pos + n * size > src.size) throw new GgufError(`array of ${n} × ${size} bytes runs past the end of the file`);
        pos += n * size;
        return undefined;
      }
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = value(et, keep && items.length < 64, depth + 1);
        if (keep && items.length < 64) items.push(v);
      }
      return keep ? items : undefined;
    }
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw new GgufError(`unknown metadata value type ${type}`);
    const b = take(size);
    if (!keep) return undefined;
    switch (type) {
      case 0:
        return b.readUInt8(0);
      case 1:
        return b.readInt8(0);
      case 2:
        return b.readUInt16LE(0);
      case 3:
        return b.readInt16LE(0);
      case 4:
        return b.readUInt32LE(0);
      case 5:
        return b.readInt32LE(0);
      case 6:
        return b.readFloatLE(0);
      case 7:
        return b[0] !== 0;
      case 10:
        return Number(b.readBigUInt64LE(0));
      case 11:
        return Number(b.readBigInt64LE(0));
      default:
        return b.readDoubleLE(0);
    }
  };
  try {
    if (take(4).toString("latin1") !== "GGUF") throw new GgufError("bad magic (not GGUF)");
    const version = u32();
    if (version < 1 || version > 3) throw new GgufError(`unknown GGUF version ${version}`);
    wide = version >= 2;
    const nTensors = count("tensor count", limits.maxTensors);
    const nKv = count("metadata count", limits.maxKv);
    for (let i = 0; i < nKv; i++) {
      const key = str(limits.maxKeyLen, true) as string;
      const type = u32();
      const keep = KEEP.test(key);
      const v = value(type, keep);
      if (keep) out.metadata[key] = v;
      if (key.startsWith("tokenizer.chat_template") && typeof v === "string") out.templates[key] = v;
    }
    const alignment = typeof out.metadata["general.alignment"] === "number" ? (out.metadata["general.alignment"] as number) : 32;
    if (alignment <= 0 || alignment % 8 !== 0 || alignment > 1 << 20) throw new GgufError(`general.alignment ${alignment} is not a sensible multiple of 8`);
    const tensors: { name: string; offset: number; bytes: number | undefined }[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = str(limits.maxKeyLen, true) as string;
      const dims = u32();
      if (dims > limits.maxDims) throw new GgufError(`tensor "${name}" has ${dims} dimensions`);
      let elems = 1n;
      for (let d = 0; d < dims; d++) elems *= take(8).readBigUInt64LE(0);
      const type = u32();
      const offset = Number(take(8).readBigUInt64LE(0));
      const t = GGML_TYPES[type];
      let bytes: number | undefined;
      if (t) {
        if (elems % BigInt(t[0]) !== 0n)
          out.issues.push({
            severity: "medium",
            rule: "gguf.invalid",
            message: `tensor "${name}" has ${elems} elements, not a multiple of its block size ${t[0]}`,
          });
        bytes = Number((elems / BigInt(t[0])) * BigInt(t[1]));
      } else out.issues.push({ severity: "low", rule: "gguf.unknown-type", message: `tensor "${name}" has ggml type ${type}, unknown to this scanner` });
      tensors.push({ name, offset, bytes });
    }
    out.tensors = tensors.length;
    const dataStart = Math.ceil(pos / alignment) * alignment;
    const dataLen = src.size - dataStart;
    for (const t of tensors) {
      if (t.offset % alignment !== 0)
        out.issues.push({ severity: "medium", rule: "gguf.invalid", message: `tensor "${t.name}" offset ${t.offset} is not aligned to ${alignment}` });
      if (t.offset + (t.bytes ?? 0) > dataLen)
        out.issues.push({
          severity: "medium",
          rule: "gguf.invalid",
          message: `tensor "${t.name}" data (${t.offset}+${t.bytes ?? "?"}) lies past the end of the file`,
        });
    }
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    out.issues.push({ severity: "medium", rule: "gguf.malformed", message: `GGUF is malformed: ${e.message}` });
  }
  const m = out.metadata;
  const s = (k: string) => (typeof m[k] === "string" ? (m[k] as string) : undefined);
  const base = Object.keys(m)
    .filter((k) => /^general\.base_model\.\d+\.(repo_url|organization|name)$/.test(k))
    .sort();
  const baseRepos = base.filter((k) => k.endsWith("repo_url")).map((k) => (m[k] as string).replace(/^https?:\/\/huggingface\.co\//, ""));
  out.facts = {
    license: s("general.license"),
    architecture: s("general.architecture"),
    name: s("general.name"),
    ...(baseRepos.length ? { baseModel: baseRepos } : {}),
  };
  return out;
}

export const ggufFormat: FormatDef = {
  magic: (head) => (isGguf(head) ? "gguf" : undefined),
  named: (name) => (/\.gguf$/i.test(name) ? "gguf" : undefined),
  scan: ({ src }, format) => {
    const g = scanGguf(src);
    const issues = [...g.issues];
    for (const [key, tpl] of Object.entries(g.templates)) issues.push(...analyseChatTemplate(tpl, `GGUF ${key}`));
    return { format, issues, facts: g.facts };
  },
};
