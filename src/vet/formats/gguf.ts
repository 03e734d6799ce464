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

/** A bounded cursor over the file: every read is checked against the file's size and every count against its limit. */
class GgufReader {
  pos = 0;
  /** 64-bit counts and lengths (version ≥ 2); version 1 has 32-bit ones. */
  wide = true;

  constructor(
    private readonly src: ByteSource,
    readonly limits: GgufLimits,
  ) {}

  take(n: number): Buffer {
    if (this.pos + n > this.src.size) throw new GgufError(`needs ${n} bytes at ${this.pos} but the file ends at ${this.src.size}`);
    const b = this.src.read(this.pos, n);
    this.pos += n;
    return b;
  }

  u32(): number {
    return this.take(4).readUInt32LE(0);
  }

  u64(): bigint {
    return this.take(8).readBigUInt64LE(0);
  }

  count(what: string, max: number): number {
    const v = this.wide ? this.u64() : BigInt(this.u32());
    if (v > BigInt(max)) throw new GgufError(`${what} ${v} is over the limit of ${max}`);
    return Number(v);
  }

  /** A string's bytes are skipped, not read, when it is not kept. */
  str(max: number, keep: boolean): string | undefined {
    const n = this.count("string length", max);
    if (this.pos + n > this.src.size) throw new GgufError(`string of ${n} bytes at ${this.pos} runs past the end of the file`);
    const s = keep ? this.src.read(this.pos, n).toString("utf8") : undefined;
    this.pos += n;
    return s;
  }

  /** A metadata value of `type`; arrays of scalars are skipped whole, other arrays keep their first 64 items. */
  value(type: number, keep: boolean, depth = 0): unknown {
    if (type === 8) return this.str(this.limits.maxStringLen, keep);
    if (type === 9) return this.array(keep, depth);
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw new GgufError(`unknown metadata value type ${type}`);
    const b = this.take(size);
    return keep ? scalar(type, b) : undefined;
  }

  private array(keep: boolean, depth: number): unknown {
    if (depth > 2) throw new GgufError("arrays nested more than 2 deep");
    const et = this.u32();
    const n = this.count("array length", this.limits.maxArrayLen);
    const size = SCALAR_SIZE[et];
    if (size !== undefined) {
      if (this.pos + n * size > this.src.size) throw new GgufError(`array of ${n} × ${size} bytes runs past the end of the file`);
      this.pos += n * size;
      return undefined;
    }
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.value(et, keep && items.length < 64, depth + 1);
      if (keep && items.length < 64) items.push(v);
    }
    return keep ? items : undefined;
  }
}

function scalar(type: number, b: Buffer): unknown {
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
}

interface TensorInfo {
  name: string;
  offset: number;
  bytes: number | undefined;
}

/** header → metadata → tensor infos → tensor data; a structural error ends the walk in one `gguf.malformed` finding. */
export function scanGguf(src: ByteSource, limits: GgufLimits = DEFAULT_GGUF_LIMITS): GgufScan {
  const out: GgufScan = { issues: [], metadata: {}, templates: {}, facts: {}, tensors: 0 };
  const r = new GgufReader(src, limits);
  try {
    const { nTensors, nKv } = readHeader(r);
    readMetadata(r, nKv, out);
    const alignment = typeof out.metadata["general.alignment"] === "number" ? (out.metadata["general.alignment"] as number) : 32;
    if (alignment <= 0 || alignment % 8 !== 0 || alignment > 1 << 20) throw new GgufError(`general.alignment ${alignment} is not a sensible multiple of 8`);
    const tensors = readTensorInfos(r, nTensors, out.issues);
    out.tensors = tensors.length;
    checkTensorData(tensors, alignment, src.size - Math.ceil(r.pos / alignment) * alignment, out.issues);
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    out.issues.push({ severity: "medium", rule: "gguf.malformed", message: `GGUF is malformed: ${e.message}` });
  }
  out.facts = ggufFacts(out.metadata);
  return out;
}

function readHeader(r: GgufReader): { nTensors: number; nKv: number } {
  if (r.take(4).toString("latin1") !== "GGUF") throw new GgufError("bad magic (not GGUF)");
  const version = r.u32();
  if (version < 1 || version > 3) throw new GgufError(`unknown GGUF version ${version}`);
  r.wide = version >= 2;
  const nTensors = r.count("tensor count", r.limits.maxTensors);
  const nKv = r.count("metadata count", r.limits.maxKv);
  return { nTensors, nKv };
}

/** Keys we need (general.*, chat templates) are kept; the others, token arrays among them, are skipped. */
function readMetadata(r: GgufReader, nKv: number, out: GgufScan): void {
  for (let i = 0; i < nKv; i++) {
    const key = r.str(r.limits.maxKeyLen, true) as string;
    const type = r.u32();
    const keep = KEEP.test(key);
    const v = r.value(type, keep);
    if (keep) out.metadata[key] = v;
    if (key.startsWith("tokenizer.chat_template") && typeof v === "string") out.templates[key] = v;
  }
}

function readTensorInfos(r: GgufReader, nTensors: number, issues: Issue[]): TensorInfo[] {
  const tensors: TensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = r.str(r.limits.maxKeyLen, true) as string;
    const dims = r.u32();
    if (dims > r.limits.maxDims) throw new GgufError(`tensor "${name}" has ${dims} dimensions`);
    let elems = 1n;
    for (let d = 0; d < dims; d++) elems *= r.u64();
    const type = r.u32();
    const offset = Number(r.u64());
    tensors.push({ name, offset, bytes: tensorBytes(name, elems, type, issues) });
  }
  return tensors;
}

/** The tensor's data size from its ggml type, or undefined (and a finding) for a type this scanner does not know. */
function tensorBytes(name: string, elems: bigint, type: number, issues: Issue[]): number | undefined {
  const t = GGML_TYPES[type];
  if (!t) {
    issues.push({ severity: "low", rule: "gguf.unknown-type", message: `tensor "${name}" has ggml type ${type}, unknown to this scanner` });
    return undefined;
  }
  if (elems % BigInt(t[0]) !== 0n)
    issues.push({
      severity: "medium",
      rule: "gguf.invalid",
      message: `tensor "${name}" has ${elems} elements, not a multiple of its block size ${t[0]}`,
    });
  return Number((elems / BigInt(t[0])) * BigInt(t[1]));
}

/** Each tensor's data aligned and inside the data section (`dataLen` bytes after the aligned end of the infos). */
function checkTensorData(tensors: readonly TensorInfo[], alignment: number, dataLen: number, issues: Issue[]): void {
  for (const t of tensors) {
    if (t.offset % alignment !== 0)
      issues.push({ severity: "medium", rule: "gguf.invalid", message: `tensor "${t.name}" offset ${t.offset} is not aligned to ${alignment}` });
    if (t.offset + (t.bytes ?? 0) > dataLen)
      issues.push({
        severity: "medium",
        rule: "gguf.invalid",
        message: `tensor "${t.name}" data (${t.offset}+${t.bytes ?? "?"}) lies past the end of the file`,
      });
  }
}

function ggufFacts(m: Record<string, unknown>): ModelFacts {
  const s = (k: string) => (typeof m[k] === "string" ? (m[k] as string) : undefined);
  const base = Object.keys(m)
    .filter((k) => /^general\.base_model\.\d+\.(repo_url|organization|name)$/.test(k))
    .sort();
  const baseRepos = base.filter((k) => k.endsWith("repo_url")).map((k) => (m[k] as string).replace(/^https?:\/\/huggingface\.co\//, ""));
  return {
    license: s("general.license"),
    architecture: s("general.architecture"),
    name: s("general.name"),
    ...(baseRepos.length ? { baseModel: baseRepos } : {}),
  };
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
