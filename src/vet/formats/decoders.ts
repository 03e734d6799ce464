/**
 * Bounded decoders for the compressed containers joblib writes. Each returns the whole decompressed
 * bytes, or throws TooLarge as soon as the output would pass the cap (a bomb costs the cap, never
 * more), or an Error saying why the stream does not decode. zlib/gzip use node:zlib; Node 20 has no
 * bz2/xz/lzma, so: bz2 with the official libbzip2 compiled to WASM (@foxglove/wasm-bz2, which
 * decodes into a buffer of the size we give it), xz with xz-embedded compiled to WASM (xz-decompress,
 * a stream we stop reading at the cap), the legacy .lzma ("alone") format with lzma1's pure
 * TypeScript decoder writing into an output that refuses to grow past the cap, and lz4 frames with
 * lz4.ts's bounded reader. Python's decoders, and so joblib.load, read concatenated streams, so every
 * stream in the file is decoded, not only the first (their outputs are joined: up to twice the cap
 * for a moment), xz and .lzma streams mixed as LZMAFile's FORMAT_AUTO reads them, at most
 * MAX_STREAMS of them. The WASM and lzma1 decoders load on first use: a scan without such a file never
 * compiles them.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync, inflateSync } from "node:zlib";
import { TooLarge, Unsupported } from "./decode-errors.js";
import { decodeLz4 } from "./lz4.js";

export { TooLarge, Unsupported } from "./decode-errors.js";

export type Codec = "zlib" | "gzip" | "bz2" | "xz" | "lzma" | "lz4";

export async function decodeBounded(codec: Codec, data: Buffer, cap: number): Promise<Buffer> {
  if (codec === "zlib" || codec === "gzip") return zlibBounded(codec, data, cap);
  if (codec === "lz4") return decodeLz4(data, cap);
  if (codec === "xz" || codec === "lzma") return lzmaFamily(codec, data, cap);
  const parts: Buffer[] = [];
  let total = 0;
  for (const stream of splitBz2Streams(data)) {
    if (parts.length === MAX_STREAMS) throw tooManyStreams("bz2");
    const out = await bz2Stream(stream, cap - total);
    total += out.length;
    parts.push(out);
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
}

/**
 * Concatenated streams are decoded one by one, each with a fixed cost (a decoder, a window, a first
 * output buffer): a file of 10^4 empty streams would take minutes, so past this many the file is not
 * opened (a finding). Real files hold one stream; `bz2 -c a b >> c` a few.
 */
const MAX_STREAMS = 64;

function tooManyStreams(codec: string): Unsupported {
  return new Unsupported(`more than ${MAX_STREAMS} concatenated ${codec} streams: too many to decode at a bounded cost`);
}

function zlibBounded(codec: "zlib" | "gzip", data: Buffer, cap: number): Buffer {
  try {
    return (codec === "gzip" ? gunzipSync : inflateSync)(data, { maxOutputLength: cap });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE" || /Cannot create a Buffer larger|maxOutputLength/i.test((e as Error).message)) throw new TooLarge();
    throw e;
  }
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const BZ2_BLOCK = Buffer.from("1AY&SY", "latin1");
const BZ2_END = Buffer.from([0x17, 0x72, 0x45, 0x38, 0x50, 0x90]);

function isBz2StreamStart(data: Buffer, at: number): boolean {
  const level = data[at + 3] as number;
  if (level < 0x31 || level > 0x39) return false;
  const marker = data.subarray(at + 4, at + 10);
  return marker.equals(BZ2_BLOCK) || marker.equals(BZ2_END);
}

/**
 * The streams of a file of concatenated bz2 streams, split where the next stream's magic
 * starts (a bz2 stream starts byte-aligned with
 * "BZh", its level and the first block's or the end-of-stream marker, which inside a stream only
 * occur bit-aligned). A magic that occurs by chance inside compressed data only splits a stream in
 * two that then fail to decode: a finding, never a pass.
 */
function splitBz2Streams(data: Buffer): Buffer[] {
  const starts = [0];
  for (let at = data.indexOf("BZh", 1, "latin1"); at > 0; at = data.indexOf("BZh", at + 1, "latin1")) if (isBz2StreamStart(data, at)) starts.push(at);
  return starts.map((s, i) => data.subarray(s, starts[i + 1] ?? data.length));
}

/**
 * joblib opens both xz and .lzma files with Python's LZMAFile in FORMAT_AUTO, which reads stream
 * after stream, each xz or .lzma whatever the first was, and ignores bytes after a stream that start
 * neither (its trailing_error). So here: an xz stream runs to the next 4-byte-aligned xz magic, or
 * to an xz footer ("YZ") followed by an .lzma header liblzma accepts; an .lzma stream to where its
 * decoder stopped reading (its end marker or declared size).
 */
async function lzmaFamily(codec: "xz" | "lzma", data: Buffer, cap: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for (let at = 0; at < data.length; ) {
    const rest = data.subarray(at);
    const xz = at === 0 ? codec === "xz" : rest.subarray(0, 6).equals(XZ_MAGIC);
    if (at > 0 && !xz && !isPickyLzmaHeader(rest)) break;
    if (parts.length === MAX_STREAMS) throw tooManyStreams(codec);
    const end = xz ? xzStreamEnd(rest) : 0;
    const got = xz ? { out: await xzStream(rest.subarray(0, end), cap - total), used: end } : await lzmaStream(rest, cap - total, at === 0);
    total += got.out.length;
    parts.push(got.out);
    at += got.used;
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
}

/** Where the xz stream at the start of `rest` ends, at the latest (see lzmaFamily). */
function xzStreamEnd(rest: Buffer): number {
  for (let p = 12; p + 6 <= rest.length; p += 4) {
    if (rest[p] === 0xfd && rest.subarray(p, p + 6).equals(XZ_MAGIC)) return p;
    if (rest[p - 2] === 0x59 && rest[p - 1] === 0x5a && isPickyLzmaHeader(rest.subarray(p))) return p;
  }
  return rest.length;
}

/**
 * An .lzma header as liblzma's "picky" alone decoder (the one FORMAT_AUTO uses) accepts it: lc + lp
 * ≤ 4, a dictionary of 2^n or 2^n + 2^(n-1) bytes (or all ones), a size unknown or below 2^38.
 */
export function isPickyLzmaHeader(b: Buffer): boolean {
  if (b.length < LZMA_HEADER || (b[0] as number) > 224) return false;
  const props = b[0] as number;
  if ((props % 9) + (Math.floor(props / 9) % 5) > 4) return false;
  const dict = b.readUInt32LE(1);
  const pow = 31 - Math.clz32(dict);
  const dictOk = dict === 0xffffffff || dict === 0 || dict === 2 ** pow || (pow > 0 && dict === 2 ** pow + 2 ** (pow - 1));
  const size = b.readBigUInt64LE(5);
  return dictOk && (size === 0xffffffffffffffffn || size < 1n << 38n);
}

interface Bzip2 {
  decompress(src: Uint8Array, destSize: number, opts?: { small?: boolean }): Uint8Array;
}
let bzip2: Promise<Bzip2> | undefined;

/**
 * One bz2 stream. libbzip2 decodes into a buffer of a size fixed in advance and fails with
 * BZ_OUTBUFF_FULL past it: a first try sized for an ordinary ratio keeps small files small, and only
 * a stream that fills it is retried with the whole remaining cap.
 */
async function bz2Stream(data: Buffer, cap: number): Promise<Buffer> {
  bzip2 ??= import("@foxglove/wasm-bz2").then((m) => (m.default as unknown as { init(): Promise<Bzip2> }).init());
  const bz = await bzip2;
  const first = Math.min(cap, Math.max(16 << 20, data.length * 16));
  for (const size of first < cap ? [first, cap] : [cap]) {
    try {
      return Buffer.from(bz.decompress(data, size));
    } catch (e) {
      if (!/BZ_OUTBUFF_FULL/.test((e as Error).message)) throw new Error(`bz2 stream does not decode: ${bzReason((e as Error).message)}`);
    }
  }
  throw new TooLarge();
}

function bzReason(message: string): string {
  if (/BZ_UNEXPECTED_EOF/.test(message)) return "it ends early (truncated)";
  if (/BZ_DATA_ERROR_MAGIC/.test(message)) return "no bz2 header";
  if (/BZ_DATA_ERROR/.test(message)) return "corrupt data (a CRC or a code does not check)";
  return message;
}

interface XzModule {
  XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
}
let xzModule: Promise<XzModule> | undefined;

/** One xz stream, read chunk by chunk; reading stops (and the decoder is freed) once the cap is passed. */
async function xzStream(data: Buffer, cap: number): Promise<Buffer> {
  xzModule ??= import("xz-decompress").then((m) => ((m as { default?: XzModule }).default ?? m) as XzModule);
  const { XzReadableStream } = await xzModule;
  const reader = new XzReadableStream(new Blob([data]).stream()).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = await reader.read().catch((e: unknown) => {
      const code = /error code (\d+)/.exec((e as Error).message)?.[1];
      if (code === "2" || code === "6")
        throw new Unsupported("xz with a check other than CRC32/CRC64 or a filter other than LZMA2 (SHA-256, BCJ, delta): xz-embedded does not decode it");
      throw new Error(`xz stream does not decode: ${xzReason(code, e)}`);
    });
    if (chunk.done) break;
    total += chunk.value.length;
    if (total > cap) {
      await reader.cancel();
      throw new TooLarge();
    }
    parts.push(chunk.value);
  }
  return Buffer.concat(parts, total);
}

/** xz-embedded's return codes (xz.h): what a reader of the finding can act on. */
function xzReason(code: string | undefined, e: unknown): string {
  const reasons: Record<string, string> = {
    "3": "its dictionary is too large to decode",
    "4": "its dictionary is too large to decode",
    "5": "not an xz stream",
    "7": "corrupt data (a check does not match)",
    "8": "it ends early (truncated)",
  };
  return (code && reasons[code]) ?? (e instanceof TypeError ? "it ends early (truncated)" : (e as Error).message);
}

/** Largest dictionary a .lzma header may declare: xz's biggest preset uses 64 MiB; the window is allocated up front. */
const MAX_LZMA_DICT = 256 << 20;
const LZMA_HEADER = 13;

interface LzmaInput {
  pos: number;
  count: number;
}
interface Lzma1 {
  Decoder: new () => { decompress(input: LzmaInput, output: { count: number; toArray(): Uint8Array }): void };
  Strict: new (data: Uint8Array) => LzmaInput;
  Capped: new (capacity: number, cap: number) => { count: number; toArray(): Uint8Array };
}
let lzma1: Promise<Lzma1> | undefined;

/**
 * lzma1's decoder reads from an InputBuffer and writes to an OutputBuffer that grows without limit.
 * Its package exports only the whole-buffer functions, so its two stream classes are loaded from the
 * package's own files (the version is pinned exactly for that) and subclassed: input that is read past
 * its end throws (a truncated stream is an error, not a run of -1 bytes), output past the cap throws.
 */
async function loadLzma1(): Promise<Lzma1> {
  const dir = dirname(createRequire(import.meta.url).resolve("lzma1/package.json"));
  const file = (name: string) => pathToFileURL(join(dir, "lib", name)).href;
  const [{ Decoder }, { InputBuffer, OutputBuffer }] = await Promise.all([import(file("decoder.js")), import(file("streams.js"))]);
  class Strict extends InputBuffer {
    readByte(): number {
      if (this.pos >= this.count) throw new Error("it ends early (truncated)");
      return super.readByte();
    }
    readBytes(dest: Uint8Array, off: number, len: number): number {
      if (this.pos >= this.count) throw new Error("it ends early (truncated)");
      return super.readBytes(dest, off, len);
    }
  }
  class Capped extends OutputBuffer {
    constructor(
      capacity: number,
      private readonly cap: number,
    ) {
      super(capacity);
    }
    writeByte(b: number): void {
      if (this.count >= this.cap) throw new TooLarge();
      super.writeByte(b);
    }
    writeBytes(src: Uint8Array, off: number, len: number): void {
      if (this.count + len > this.cap) throw new TooLarge();
      super.writeBytes(src, off, len);
    }
    /** OutputBuffer doubles its array when full; never past the cap. */
    grow(required: number): void {
      const next = new Uint8Array(Math.min(this.cap, Math.max(this.buf.length * 2, required)));
      next.set(this.buf.subarray(0, this.count));
      this.buf = next;
    }
  }
  return { Decoder, Strict, Capped } as unknown as Lzma1;
}

/** One .lzma stream at the start of `rest` (a header, then range-coded data up to its end marker or declared size), and the bytes it used. */
async function lzmaStream(rest: Buffer, cap: number, first: boolean): Promise<{ out: Buffer; used: number }> {
  lzma1 ??= loadLzma1();
  const { Decoder, Strict, Capped } = await lzma1;
  if (rest.length < LZMA_HEADER) throw new Error(`lzma stream does not decode: ${rest.length} bytes, too short for a header`);
  const dict = rest.readUInt32LE(1);
  if ((rest[0] as number) >= 9 * 5 * 5 || dict > MAX_LZMA_DICT)
    throw new Error(`lzma stream does not decode: its header declares properties ${rest[0]} and a ${dict}-byte dictionary, outside what the decoder accepts`);
  const input = new Strict(rest);
  // The first stream's output is sized for an ordinary ratio; later ones start small (a file of many tiny streams stays cheap).
  const output = new Capped(Math.min(cap, first ? Math.max(1 << 16, rest.length * 4) : 1 << 16), cap);
  try {
    new Decoder().decompress(input, output);
  } catch (e) {
    if (e instanceof TooLarge) throw e;
    throw new Error(`lzma stream does not decode: ${(e as Error).message}`);
  }
  return { out: Buffer.from(output.toArray()), used: input.pos };
}
