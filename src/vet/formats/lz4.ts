/**
 * A bounded reader of LZ4 frames (lz4 frame format 1.6), for joblib's `compress='lz4'` files (written
 * through Python's lz4.frame, linked 64 KiB blocks by default). Written here because the npm LZ4
 * decoders either build native code or, like lz4js, check no offset or length against the data
 * ("better error handling (handle bad offset…)" is on its TODO list): a hostile block would decode to
 * garbage silently. Every length, offset and block size here is checked against the bytes present
 * and the output written so far; output past the cap throws TooLarge, anything inconsistent throws
 * an Error naming it. Checksums are not verified (joblib.load's decoder does; a stream that fails
 * them never loads, and what decodes here is what it would decode). Concatenated frames are all
 * read, as Python's LZ4FrameFile does, skippable frames between them skipped; bytes after the last
 * frame that are not one are ignored.
 */
import { TooLarge } from "./decode-errors.js";

const MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

interface Block {
  at: number;
  size: number;
  stored: boolean;
  /** The frame's block size: the most this block may decode to. */
  max: number;
}

/** Past any skippable frames (magic 0x184D2A50–5F, a length, data), which LZ4's decoder skips and reads on after. */
function skipSkippable(data: Buffer, at: number): number {
  while (at > 0 && at + 8 <= data.length && (data.readUInt32LE(at) & 0xfffffff0) === 0x184d2a50) {
    const end = at + 8 + data.readUInt32LE(at + 4);
    if (end > data.length) throw new Error("lz4 skippable frame ends early (truncated)");
    at = end;
  }
  return at;
}

/** The frames' blocks, walked without decoding: their positions, and the most bytes they can decode to. */
function walkFrames(data: Buffer): { blocks: Block[]; bound: number } {
  const blocks: Block[] = [];
  let bound = 0;
  let at = 0;
  for (;;) {
    at = skipSkippable(data, at);
    if (at + 7 > data.length || data.readUInt32LE(at) !== MAGIC) break;
    const flg = data[at + 4] as number;
    const bd = data[at + 5] as number;
    const max = BLOCK_MAX[(bd >> 4) & 7] ?? 0;
    if (flg >> 6 !== 1 || max === 0 || (bd & 0x8f) !== 0) throw new Error(`lz4 frame header at byte ${at} is invalid (FLG ${flg}, BD ${bd})`);
    at += 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
    const blockSum = flg & 0x10 ? 4 : 0;
    for (;;) {
      if (at + 4 > data.length) throw new Error("lz4 frame ends early (truncated)");
      const word = data.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > max) throw new Error(`lz4 block at byte ${at - 4} declares ${size} bytes, over the frame's ${max}-byte blocks`);
      if (at + size + blockSum > data.length) throw new Error("lz4 frame ends early (truncated)");
      blocks.push({ at, size, stored: word >>> 31 === 1, max });
      bound += word >>> 31 === 1 ? size : max;
      at += size + blockSum;
    }
    at += flg & 0x04 ? 4 : 0;
  }
  if (at === 0) throw new Error("not an lz4 frame");
  return { blocks, bound };
}

/** A length continued in 255-valued bytes. */
function readLength(src: Buffer, pos: number, end: number, base: number): [number, number] {
  let n = base;
  if (base !== 15) return [n, pos];
  for (;;) {
    if (pos >= end) throw new Error("lz4 block ends inside a length");
    const b = src[pos++] as number;
    n += b;
    if (b !== 255) return [n, pos];
  }
}

/** Room for `n` more bytes at `o`: past the block's own size the block is corrupt; past the output (sized to the bound or the cap) it is too large. */
function room(o: number, n: number, blockEnd: number, out: Buffer): void {
  if (o + n > blockEnd) throw new Error("lz4 block decodes past the frame's block size");
  if (o + n > out.length) throw new TooLarge();
}

/** One compressed block into `out` from `o`; returns the new end of output. */
function decodeBlock(src: Buffer, b: Block, out: Buffer, o: number): number {
  const blockEnd = o + b.max;
  const end = b.at + b.size;
  let pos = b.at;
  while (pos < end) {
    const token = src[pos++] as number;
    let lit: number;
    [lit, pos] = readLength(src, pos, end, token >> 4);
    if (pos + lit > end) throw new Error("lz4 literals run past their block");
    room(o, lit, blockEnd, out);
    src.copy(out, o, pos, pos + lit);
    o += lit;
    pos += lit;
    if (pos === end) break; // the last sequence has literals only
    if (pos + 2 > end) throw new Error("lz4 block ends inside a match offset");
    const offset = src.readUInt16LE(pos);
    pos += 2;
    if (offset === 0 || offset > o) throw new Error(`lz4 match offset ${offset} points before the output`);
    let len: number;
    [len, pos] = readLength(src, pos, end, token & 15);
    len += 4;
    room(o, len, blockEnd, out);
    // An overlapping match repeats the last `offset` bytes: copied in chunks that double, each a whole number of periods.
    const from = o - offset;
    for (let left = len; left > 0; ) {
      const n = Math.min(left, o - from);
      out.copyWithin(o, from, from + n);
      o += n;
      left -= n;
    }
  }
  return o;
}

export function decodeLz4(data: Buffer, cap: number): Buffer {
  const { blocks, bound } = walkFrames(data);
  // Each block decodes to at most the frame's block size: the output is sized by that bound, never past the cap.
  const out = Buffer.allocUnsafe(Math.min(bound, cap));
  let o = 0;
  for (const b of blocks) {
    if (b.stored) {
      if (o + b.size > out.length) throw new TooLarge();
      data.copy(out, o, b.at, b.at + b.size);
      o += b.size;
    } else o = decodeBlock(data, b, out, o);
  }
  return out.subarray(0, o);
}
