/**
 * safetensors validation with the reference implementation's rules: an 8-byte little-endian header
 * length, a header cap, UTF-8 JSON beginning with "{", known dtypes, sizes equal to shape × dtype,
 * data offsets contiguous from 0 with no gaps or overlaps, and a file that ends where the data ends
 * (anything after it is a polyglot: a second format hiding behind the first). Duplicate keys too.
 */
import type { ByteSource } from "../source.js";
import type { Issue } from "../types.js";
import type { FormatDef } from "./format.js";

export const MAX_HEADER = 100_000_000;

/** Bits per element. */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

/** Plausible safetensors: a header length that fits and a JSON object after it. */
export function looksLikeSafetensors(head: Buffer, size: number): boolean {
  if (head.length < 9 || size < 10) return false;
  const n = Number(head.readBigUInt64LE(0));
  return n > 1 && n <= Math.min(MAX_HEADER, size - 8) && head[8] === 0x7b;
}

/** Keys of the top-level JSON object, in order, duplicates kept (JSON.parse drops them). */
export function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(json.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      if (depth === 1 && c === "{") expectKey = true;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return keys;
}

export interface SafetensorsInfo {
  tensors: number;
  metadata?: Record<string, string>;
}

const invalid = (message: string, evidence?: string): Issue => ({
  severity: "medium",
  rule: "safetensors.invalid",
  message,
  ...(evidence ? { evidence } : {}),
});

interface Span {
  name: string;
  begin: number;
  end: number;
}

/** header → tensors (dtype, shape, offsets) → data layout (contiguous, ending where the file ends). */
export function scanSafetensors(src: ByteSource): { issues: Issue[]; info?: SafetensorsInfo } {
  const head = readHeader(src);
  if ("issue" in head) return { issues: [head.issue] };
  const { n, text, header } = head;
  const issues: Issue[] = [];
  const keys = topLevelKeys(text);
  const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (dup.length)
    issues.push({
      severity: "medium",
      rule: "safetensors.duplicate-key",
      message: `header names ${dup.length} tensor(s) twice: ${[...new Set(dup)].slice(0, 5).join(", ")}`,
    });
  const spans: Span[] = [];
  let metadata: Record<string, string> | undefined;
  for (const [name, v] of Object.entries(header)) {
    if (name !== "__metadata__") {
      const span = tensorSpan(name, v, issues);
      if (span) spans.push(span);
    } else if (typeof v !== "object" || v === null || Object.values(v).some((x) => typeof x !== "string"))
      issues.push(invalid("__metadata__ must map strings to strings"));
    else metadata = v as Record<string, string>;
  }
  checkLayout(spans, src.size - 8 - n, 8 + n, src.size, issues);
  return { issues, info: { tensors: spans.length, ...(metadata ? { metadata } : {}) } };
}

/** The header length (bounded), then the header: UTF-8, JSON, an object. */
function readHeader(src: ByteSource): { n: number; text: string; header: Record<string, unknown> } | { issue: Issue } {
  if (src.size < 8) return { issue: invalid(`file of ${src.size} bytes is too short for a header length`) };
  const n = Number(src.read(0, 8).readBigUInt64LE(0));
  if (n > MAX_HEADER) return { issue: invalid(`header length ${n} is over the ${MAX_HEADER}-byte limit`) };
  if (8 + n > src.size) return { issue: invalid(`header length ${n} runs past the end of the ${src.size}-byte file`) };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(src.read(8, n));
  } catch {
    return { issue: invalid("header is not valid UTF-8") };
  }
  if (!text.startsWith("{")) return { issue: invalid('header does not begin with "{"') };
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return { issue: invalid(`header is not valid JSON: ${(e as Error).message}`) };
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) return { issue: invalid("header is not a JSON object") };
  return { n, text, header: header as Record<string, unknown> };
}

/** A tensor entry's data span, or undefined (and a finding) when its dtype, shape or offsets are not valid; a size that does not match is a finding too. */
function tensorSpan(name: string, v: unknown, issues: Issue[]): Span | undefined {
  const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const bits = typeof t?.dtype === "string" ? DTYPE_BITS[t.dtype] : undefined;
  if (bits === undefined) {
    issues.push(invalid(`tensor "${name}" has an unknown dtype ${JSON.stringify(t?.dtype)}`));
    return undefined;
  }
  const shape = t.shape;
  const offs = t.data_offsets;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    issues.push(invalid(`tensor "${name}" has an invalid shape`));
    return undefined;
  }
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || (offs[0] as number) > (offs[1] as number)) {
    issues.push(invalid(`tensor "${name}" has invalid data_offsets`));
    return undefined;
  }
  const [begin, end] = offs as [number, number];
  let elems = 1n;
  for (const d of shape as number[]) elems *= BigInt(d);
  const bitsTotal = elems * BigInt(bits);
  if (bitsTotal % 8n !== 0n || bitsTotal / 8n !== BigInt(end - begin))
    issues.push(
      invalid(`tensor "${name}": shape [${(shape as number[]).join(", ")}] × ${t.dtype} is ${bitsTotal / 8n} bytes but its offsets span ${end - begin}`),
    );
  return { name, begin, end };
}

/** Spans contiguous from 0 (no gap, no overlap), and the data section (`dataLen` bytes from `dataStart`) ending where they end. */
function checkLayout(spans: Span[], dataLen: number, dataStart: number, fileSize: number, issues: Issue[]): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin !== cursor)
      issues.push(
        invalid(
          s.begin > cursor ? `gap in the data before tensor "${s.name}" (bytes ${cursor}–${s.begin})` : `tensor "${s.name}" overlaps the tensor before it`,
          `data_offsets [${s.begin}, ${s.end}]`,
        ),
      );
    cursor = Math.max(cursor, s.end);
  }
  if (cursor > dataLen) issues.push(invalid(`tensors need ${cursor} data bytes but the file holds ${dataLen}: truncated`));
  else if (cursor < dataLen)
    issues.push({
      severity: "high",
      rule: "safetensors.trailing-bytes",
      message: `${dataLen - cursor} bytes follow the last tensor: a polyglot file can hide a second format (e.g. a pickle or zip) there`,
      evidence: `data ends at byte ${dataStart + cursor} of ${fileSize}`,
    });
}

export const safetensorsFormat: FormatDef = {
  magic: (head, size) => (looksLikeSafetensors(head, size) ? "safetensors" : undefined),
  named: (name) => (/\.safetensors$/i.test(name) ? "safetensors" : undefined),
  scan: ({ src }, format) => ({ format, issues: scanSafetensors(src).issues }),
};
