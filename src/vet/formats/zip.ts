/**
 * A bounded zip reader (central directory, zip64, stored and deflated entries) for PyTorch archives,
 * .npz and .keras files. CRCs are not enforced, as PyTorch does not enforce them. Inflation is capped:
 * an entry that inflates past the cap is a zip-bomb finding, never an out-of-memory.
 */
import { constants, inflateRawSync } from "node:zlib";
import { type ByteSource, bufferSource } from "../source.js";
import type { Issue } from "../types.js";

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** Offset of the entry's data, from its local header; undefined when the header is broken. */
  dataOffset?: number;
}

export interface ZipLimits {
  maxEntries: number;
  maxCentralDirectory: number;
  /** Most bytes one entry may inflate to. */
  maxInflated: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 200_000, maxCentralDirectory: 64 << 20, maxInflated: 256 << 20 };

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CDH = 0x02014b50;
const LFH = 0x04034b50;

export function isZip(head: Buffer): boolean {
  return head.length >= 4 && (head.readUInt32LE(0) === LFH || head.readUInt32LE(0) === EOCD);
}

const malformed = (message: string, evidence?: string): Issue => ({ severity: "medium", rule: "zip.malformed", message, ...(evidence ? { evidence } : {}) });

/** end record → central directory → entries (each located by its local header) → rules over the names and sizes. */
export function readZip(src: ByteSource, limits: ZipLimits = DEFAULT_ZIP_LIMITS): { entries: ZipEntry[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const end = readEnd(src, issues);
  if (!end) return { entries: [], issues: [malformed("no zip end-of-central-directory record: truncated or not a zip")] };
  let count = end.count;
  if (count > limits.maxEntries) {
    issues.push({ severity: "medium", rule: "zip.too-many-entries", message: `zip declares ${count} entries; only the first ${limits.maxEntries} are read` });
    count = limits.maxEntries;
  }
  const { cdSize, cdOffset } = end;
  if (cdSize > limits.maxCentralDirectory || cdOffset + cdSize > src.size) {
    issues.push(malformed(`central directory (${cdSize} bytes at ${cdOffset}) is larger than allowed or past the end of the file`));
    return { entries: [], issues };
  }
  const entries = readCentralDirectory(src, Buffer.from(src.read(cdOffset, cdSize)), cdOffset, count, issues);
  entryRules(entries, issues);
  return { entries, issues };
}

interface ZipEnd {
  count: number;
  cdSize: number;
  cdOffset: number;
}

/** The end-of-central-directory record (searched in the last 64 KiB + 22 bytes), with its zip64 record where the fields overflow. */
function readEnd(src: ByteSource, issues: Issue[]): ZipEnd | undefined {
  const tailLen = Math.min(src.size, 22 + 65_535);
  const tail = Buffer.from(src.read(src.size - tailLen, tailLen));
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  if (eocd < 0) return undefined;
  const end = { count: tail.readUInt16LE(eocd + 10), cdSize: tail.readUInt32LE(eocd + 12), cdOffset: tail.readUInt32LE(eocd + 16) };
  if (end.count === 0xffff || end.cdSize === 0xffffffff || end.cdOffset === 0xffffffff) return readEnd64(src, src.size - tailLen + eocd, end, issues);
  return end;
}

function readEnd64(src: ByteSource, eocdAbs: number, end: ZipEnd, issues: Issue[]): ZipEnd {
  const loc = src.read(eocdAbs - 20, 20);
  if (loc.length !== 20 || loc.readUInt32LE(0) !== EOCD64_LOCATOR) return end;
  const at = Number(loc.readBigUInt64LE(8));
  const rec = src.read(at, 56);
  if (rec.length === 56 && rec.readUInt32LE(0) === EOCD64)
    return { count: Number(rec.readBigUInt64LE(32)), cdSize: Number(rec.readBigUInt64LE(40)), cdOffset: Number(rec.readBigUInt64LE(48)) };
  issues.push(malformed("zip64 end record missing where the locator points"));
  return end;
}

/** Up to `count` entries; the walk stops at the first broken record (a finding). */
function readCentralDirectory(src: ByteSource, cd: Buffer, cdOffset: number, count: number, issues: Issue[]): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH) {
      issues.push(malformed(`central directory entry ${i} is broken`, `at byte ${cdOffset + p}`));
      break;
    }
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) {
      issues.push(malformed(`central directory entry ${i} runs past the directory`));
      break;
    }
    const e: ZipEntry = {
      name: cd.toString("utf8", p + 46, p + 46 + nameLen),
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    };
    applyZip64Extra(e, cd, p + 46 + nameLen, p + 46 + nameLen + extraLen);
    locateData(src, e, issues);
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** zip64 extended information (extra field id 1): the 0xffffffff fields, in order, each only if the field holds it. */
function applyZip64Extra(e: ZipEntry, cd: Buffer, from: number, xEnd: number): void {
  let x = from;
  while (x + 4 <= xEnd) {
    const id = cd.readUInt16LE(x);
    const len = cd.readUInt16LE(x + 2);
    if (id === 1) {
      let q = x + 4;
      const take = () => {
        if (q + 8 > x + 4 + len) return undefined;
        const v = Number(cd.readBigUInt64LE(q));
        q += 8;
        return v;
      };
      if (e.size === 0xffffffff) e.size = take() ?? e.size;
      if (e.compressedSize === 0xffffffff) e.compressedSize = take() ?? e.compressedSize;
      if (e.localOffset === 0xffffffff) e.localOffset = take() ?? e.localOffset;
    }
    x += 4 + len;
  }
}

/** The entry's data offset from its local header, when the header is there and the data inside the file. */
function locateData(src: ByteSource, e: ZipEntry, issues: Issue[]): void {
  const lh = src.read(e.localOffset, 30);
  if (lh.length === 30 && lh.readUInt32LE(0) === LFH) {
    const dataOffset = e.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (dataOffset + e.compressedSize <= src.size) e.dataOffset = dataOffset;
  }
  if (e.dataOffset === undefined) issues.push(malformed(`entry "${e.name}" has no valid local header or runs past the end of the file`));
  else if (e.method === 0 && e.compressedSize !== e.size)
    issues.push({
      severity: "medium",
      rule: "zip.size-mismatch",
      message: `stored entry "${e.name}" declares ${e.size} bytes but holds ${e.compressedSize}`,
    });
}

/** Duplicate names, paths out of the folder, declared bombs, encryption. */
function entryRules(entries: readonly ZipEntry[], issues: Issue[]): void {
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name))
      issues.push({
        severity: /\.(pkl|pickle)$/i.test(e.name) ? "high" : "medium",
        rule: "zip.duplicate-entry",
        message: `entry "${e.name}" appears more than once: different readers load different copies (both are scanned)`,
      });
    seen.add(e.name);
    if (e.name.startsWith("/") || /^[A-Za-z]:/.test(e.name) || e.name.split(/[\\/]/).includes(".."))
      issues.push({ severity: "high", rule: "zip.path-traversal", message: `entry "${e.name}" would be extracted outside its folder` });
    if (e.method === 8 && e.size > 100 << 20 && e.size / Math.max(1, e.compressedSize) > 1000)
      issues.push({
        severity: "high",
        rule: "zip.bomb",
        message: `entry "${e.name}" declares ${e.size} bytes from ${e.compressedSize} compressed bytes`,
        evidence: `compression ratio ${Math.floor(e.size / Math.max(1, e.compressedSize))}:1`,
      });
    if (e.flags & 1) issues.push({ severity: "medium", rule: "zip.encrypted", message: `entry "${e.name}" is encrypted and cannot be scanned` });
  }
}

export type EntryRead = { source: ByteSource; issue?: undefined } | { source?: undefined; issue: Issue };

/** The entry's bytes: a view for stored entries, inflated (up to the cap) for deflated ones. */
export function readEntry(src: ByteSource, e: ZipEntry, limits: ZipLimits = DEFAULT_ZIP_LIMITS, prefixOnly = 0): EntryRead {
  if (e.dataOffset === undefined) return { issue: { severity: "medium", rule: "zip.malformed", message: `entry "${e.name}" cannot be located` } };
  const start = e.dataOffset;
  if (e.method === 0) {
    const len = Math.min(e.compressedSize, src.size - start);
    return { source: { size: len, read: (pos, n) => src.read(start + pos, Math.max(0, Math.min(n, len - pos))) } };
  }
  if (e.method !== 8)
    return {
      issue: { severity: "medium", rule: "zip.unsupported-method", message: `entry "${e.name}" uses compression method ${e.method}, which cannot be scanned` },
    };
  const cap = prefixOnly || limits.maxInflated;
  const compressed = src.read(start, prefixOnly ? Math.min(e.compressedSize, 1 << 16) : Math.min(e.compressedSize, limits.maxInflated));
  try {
    const out = inflateRawSync(compressed, { maxOutputLength: cap, ...(prefixOnly ? { finishFlush: constants.Z_SYNC_FLUSH } : {}) });
    return { source: bufferSource(out) };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      if (prefixOnly) return { source: bufferSource(inflateRawSync(compressed.subarray(0, 4096), { finishFlush: constants.Z_SYNC_FLUSH })) };
      return {
        issue: {
          severity: "high",
          rule: "zip.bomb",
          message: `entry "${e.name}" inflates past ${cap >> 20} MiB from ${e.compressedSize} compressed bytes (declared ${e.size})`,
          evidence: `compression ratio over ${Math.floor(cap / Math.max(1, e.compressedSize))}:1`,
        },
      };
    }
    return { issue: { severity: "medium", rule: "zip.malformed", message: `entry "${e.name}" does not inflate: ${(err as Error).message}` } };
  }
}
