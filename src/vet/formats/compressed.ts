/**
 * Compressed pickles: joblib's `compress=` containers (zlib, gzip, bz2, xz, lzma, lz4, and the "ZF"
 * zlib files of joblib < 0.10) and the `.pkl.gz`-style files people write by hand, all opened by
 * the bounded decoders of decoders.ts, with a hard bound on the output (a bomb is a finding, not an
 * allocation); a stream using an option a decoder lacks is reported as not opened — never passed,
 * since its bytes were not read.
 */
import { type ByteSource, bufferSource } from "../source.js";
import { atLeast, type Issue } from "../types.js";
import { decodeBounded, TooLarge, Unsupported } from "./decoders.js";
import type { FileScan, FormatDef } from "./format.js";
import { isPickleHead, scanPickle } from "./pickle.js";
import { readZip } from "./zip.js";
import { scanZipContainer } from "./zip-container.js";

/** Decompressed pickles larger than this are not scanned (memory stays bounded). */
export const MAX_DECOMPRESSED = 512 << 20;

export type Compression = "zlib" | "gzip" | "joblib-zf" | "bz2" | "xz" | "lzma" | "lz4";

/** Names that say "a (compressed) pickle": a gzip file called notes.txt.gz is not judged as one. */
const PICKLE_NAME = /\.(joblib|pkl|pickle|sav|z|gz|gzip|bz2|xz|lzma|lz4)$|\.(pkl|pickle|joblib)\.\w+$/i;

/** joblib < 0.10 compressed files: "ZF", the uncompressed length in hex padded to 19 bytes, then a zlib stream. */
const ZF_HEADER = 21;

/**
 * joblib.load picks its decompressor by magic, whatever the file is called (`clf.model`, `clf`), so
 * zlib and gzip are recognised under any name (zlib by its usual header bytes only when the name
 * says nothing); under a name that is not pickle-like, what they hold is judged only if it is a
 * pickle (see scanUnnamed). xz, bz2, lzma and lz4 are recognised under any name but an archive's
 * (`.tar.xz`, `.tgz`, …), by their full magic (lzma by a header a real encoder writes).
 */
const ZLIB_SECOND = new Set([0x01, 0x5e, 0x9c, 0xda]);

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const BZ2_AFTER_LEVEL = new Set(["1AY&SY", "\x17rE8P\x90"]);
const ARCHIVE_NAME = /\.(tar\.\w+|tgz|tbz2?|txz|tlz4?)$/i;

function unnamedKind(head: Buffer, name: string): Compression | undefined {
  if (ARCHIVE_NAME.test(name) || head.length < 13) return undefined;
  if (head.subarray(0, 6).equals(XZ_MAGIC)) return "xz";
  if (head.readUInt32LE(0) === 0x184d2204) return "lz4";
  // A block's magic, or the end-of-stream marker: an empty first stream with the payload in the next (bz2 -c empty payload).
  if (head.toString("latin1", 0, 3) === "BZh" && /[1-9]/.test(String.fromCharCode(head[3] as number)) && BZ2_AFTER_LEVEL.has(head.toString("latin1", 4, 10)))
    return "bz2";
  return isLzmaAloneHeader(head) ? "lzma" : undefined;
}

/**
 * The 13-byte header of a legacy .lzma file as encoders write it (joblib.load recognises it by its
 * first two bytes): the default properties byte 0x5d, a dictionary of 2^n or 2^n + 2^(n-1) bytes
 * (4 KiB to 1.5 GiB), and an uncompressed size that is "unknown" (all ones) or below 2^40.
 */
function isLzmaAloneHeader(head: Buffer): boolean {
  if (head[0] !== 0x5d) return false;
  const dict = head.readUInt32LE(1);
  const pow = 31 - Math.clz32(dict);
  const dictOk = dict >= 4096 && dict <= 3 << 29 && (dict === 2 ** pow || dict === 2 ** pow + 2 ** (pow - 1));
  const size = head.readBigUInt64LE(5);
  return dictOk && (size === 0xffffffffffffffffn || size < 1n << 40n);
}

export function sniffCompression(head: Buffer, name: string): Compression | undefined {
  if (head.length < 3) return undefined;
  if (head.length > ZF_HEADER + 2 && head.toString("latin1", 0, 4) === "ZF0x" && head[ZF_HEADER] === 0x78) return "joblib-zf";
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return "gzip";
  if (!PICKLE_NAME.test(name)) return head[0] === 0x78 && ZLIB_SECOND.has(head[1] as number) ? "zlib" : unnamedKind(head, name);
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x78 && ((head[0] << 8) | (head[1] as number)) % 31 === 0) return "zlib";
  if (head.toString("latin1", 0, 3) === "BZh") return "bz2";
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (head.length >= 4 && head.readUInt32LE(0) === 0x184d2204) return "lz4";
  // Legacy .lzma ("alone") header: properties byte 0x5d and a dictionary size that is a power of two.
  if (head[0] === 0x5d && head[1] === 0x00 && head[2] === 0x00 && /\.(lzma|joblib|pkl|pickle)$/i.test(name)) return "lzma";
  return undefined;
}

/** The decompressed bytes, or the finding that says why there are none. */
function notOpened(src: ByteSource, why: string): { issue: Issue } {
  return {
    issue: { severity: "medium", rule: "compression.not-opened", message: `${why}, so its contents were not vetted`, evidence: `${src.size} compressed bytes` },
  };
}

export async function decompress(src: ByteSource, kind: Compression): Promise<{ source: ByteSource } | { issue: Issue }> {
  const data = kind === "joblib-zf" ? src.read(ZF_HEADER, src.size - ZF_HEADER) : src.read(0, src.size);
  try {
    return { source: bufferSource(await decodeBounded(kind === "joblib-zf" ? "zlib" : kind, data, MAX_DECOMPRESSED)) };
  } catch (e) {
    if (e instanceof Unsupported) return notOpened(src, (e as Error).message);
    if (e instanceof TooLarge)
      return {
        issue: {
          severity: "high",
          rule: "compression.bomb",
          message: `${kind} data decompresses past ${MAX_DECOMPRESSED} bytes: a decompression bomb, or a file too large to vet; not scanned`,
          evidence: `${src.size} compressed bytes`,
        },
      };
    return { issue: { severity: "medium", rule: "compression.malformed", message: `${kind} data does not decompress: ${(e as Error).message}` } };
  }
}

/** A compressed pickle's name on bytes in no known container (an empty `.pkl.gz`): nothing here can be vetted. */
const COMPRESSED_PICKLE_NAME = /\.(pkl|pickle|joblib)\.(z|gz|gzip|bz2|xz|lzma|lz4)$/i;
const NO_MAGIC: Issue = {
  severity: "medium",
  rule: "compression.malformed",
  message: "named as a compressed pickle, but it starts with no zlib, gzip, bz2, xz, lzma or lz4 header (or is empty)",
};

export const compressedPickleFormat: FormatDef = {
  magic: (head, _size, name) => (sniffCompression(head, name) ? "compressed-pickle" : undefined),
  named: (name) => (COMPRESSED_PICKLE_NAME.test(name) ? "compressed-pickle" : undefined),
  scan: async (file, format): Promise<FileScan> => {
    const r = await scanCompressed(file, format);
    return { format: r.format, issues: [...r.issues, ...appendedZip(file.src, file.rel, file.extraAllowed)] };
  },
};

async function scanCompressed({ src, head, rel, extraAllowed }: Parameters<FormatDef["scan"]>[0], format: FileScan["format"]): Promise<FileScan> {
  const kind = sniffCompression(head, rel);
  const out = kind ? await decompress(src, kind) : undefined;
  if (!PICKLE_NAME.test(rel)) return scanUnnamed(out, kind, extraAllowed, rel);
  if (!out) return { format, issues: [NO_MAGIC] };
  if ("issue" in out) return { format, issues: [out.issue] };
  const issues = scanPickle(out.source, { extraAllowed }).issues;
  return { format, issues: issues.map((i) => ({ ...i, evidence: `${kind}-compressed: ${i.evidence ?? i.message}` })) };
}

/**
 * A zip appended to compressed data: joblib.load reads the stream at the front, Python's zipfile
 * (Keras' `.keras` loader checks zipfile.is_zipfile, which looks at the end) reads the zip. Both are
 * scanned; the polyglot itself is a finding. Only a zip with at least one readable entry counts, so
 * four bytes of compressed data that happen to spell the end-record signature raise nothing.
 */
function appendedZip(src: ByteSource, rel: string, extraAllowed: ReadonlySet<string>): Issue[] {
  const zipSrc = zipAfterPrefix(src);
  if (!zipSrc) return [];
  const zip = readZip(zipSrc);
  if (zip.entries.length === 0) return [];
  const inner = scanZipContainer(zipSrc, rel, extraAllowed).issues.map((i) => ({ ...i, evidence: `appended zip: ${i.evidence ?? i.message}` }));
  return [
    {
      severity: "medium",
      rule: "compression.polyglot",
      message: "compressed data with a zip after it: joblib reads the stream, zipfile-based loaders (Keras) read the zip; both were scanned",
      evidence: `${zip.entries.length} zip entries`,
    },
    ...inner,
  ];
}

const ZIP_EOCD = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/**
 * The zip at the end of `src` as its own source: as Python's zipfile does, the bytes in front of it
 * are the end record's position less the central directory's declared size and offset.
 */
function zipAfterPrefix(src: ByteSource): ByteSource | undefined {
  const tailLen = Math.min(src.size, 22 + 65_535);
  const tail = src.read(src.size - tailLen, tailLen);
  const at = tail.lastIndexOf(ZIP_EOCD);
  if (at < 0 || at + 22 > tail.length) return undefined;
  const prefix = src.size - tailLen + at - tail.readUInt32LE(at + 12) - tail.readUInt32LE(at + 16);
  if (prefix <= 0 || prefix >= src.size) return undefined;
  return { size: src.size - prefix, read: (pos, len) => src.read(prefix + Math.max(0, pos), Math.max(0, Math.min(len, src.size - prefix - pos))) };
}

/**
 * Compressed data under a name that does not say pickle (`clf.model`, `data.gz`): a pickle inside it
 * (it parses to STOP, starts with a PROTO header, or shows a finding at or above high before
 * breaking) is judged as one, since joblib.load would open it; anything else is compressed data,
 * "other", no finding. Too large to read is not-opened (medium), not a bomb: a big compressed
 * dataset is ordinary. A stream that does not decode is malformed (medium) unless it is zlib, whose
 * two-byte magic random bytes can carry: joblib.load opens it by its magic, and what the decoder
 * could not read it cannot call safe.
 */
function scanUnnamed(out: Awaited<ReturnType<typeof decompress>> | undefined, kind: Compression | undefined, extraAllowed: ReadonlySet<string>, rel: string) {
  if (!out) return { format: "other" as const, issues: unrecognised(rel) };
  if ("issue" in out && out.issue.rule === "compression.not-opened") return { format: "other" as const, issues: [out.issue] };
  if ("issue" in out) {
    if (out.issue.rule === "compression.bomb")
      return { format: "other" as const, issues: [{ ...out.issue, severity: "medium" as const, rule: "compression.not-opened" }] };
    return { format: "other" as const, issues: kind === "zlib" ? unrecognised(rel) : [out.issue] };
  }
  const r = scanPickle(out.source, { extraAllowed });
  const pickleHead = isPickleHead(Buffer.from(out.source.read(0, Math.min(2, out.source.size))));
  if (!r.wellFormed && !pickleHead && !r.issues.some((i) => atLeast(i.severity, "high"))) return { format: "other" as const, issues: unrecognised(rel) };
  return { format: "compressed-pickle" as const, issues: r.issues.map((i) => ({ ...i, evidence: `${kind}-compressed: ${i.evidence ?? i.message}` })) };
}

/** As scan-file.ts says of any file: a weights name (`.bin`, `.pt`, …) in no known format cannot be vetted. */
function unrecognised(rel: string): Issue[] {
  if (!/\.(bin|pt|pth|ckpt|mar)$/i.test(rel)) return [];
  return [
    {
      severity: "medium",
      rule: "format.unrecognised",
      message: "a weights file holding compressed data that is not a pickle: it cannot be vetted",
    },
  ];
}
