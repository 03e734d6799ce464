/**
 * Random access to bytes with bounds: parsers read through this, so a hostile length can never make
 * them allocate more than they ask for, and a file is read through a small window, never whole.
 */
import { closeSync, openSync, readSync } from "node:fs";

export interface ByteSource {
  readonly size: number;
  /** Up to `len` bytes at `pos` (fewer at the end). The result may share memory with a cache. */
  read(pos: number, len: number): Buffer;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (pos, len) => buf.subarray(Math.max(0, pos), Math.max(0, Math.min(buf.length, pos + len))) };
}

const WINDOW = 1 << 20;

/** A file read through a 1 MiB window; reads larger than the window get their own buffer. */
export class FileSource implements ByteSource {
  private readonly fd: number;
  private windowStart = -1;
  private windowLen = 0;
  private readonly window = Buffer.allocUnsafe(WINDOW);
  constructor(
    path: string,
    readonly size: number,
  ) {
    this.fd = openSync(path, "r");
  }

  read(pos: number, len: number): Buffer {
    const end = Math.min(this.size, pos + len);
    if (pos < 0 || pos >= end) return Buffer.alloc(0);
    if (pos >= this.windowStart && end <= this.windowStart + this.windowLen) return this.window.subarray(pos - this.windowStart, end - this.windowStart);
    if (end - pos > WINDOW) {
      const out = Buffer.allocUnsafe(end - pos);
      const n = readSync(this.fd, out, 0, out.length, pos);
      return out.subarray(0, n);
    }
    this.windowStart = pos;
    this.windowLen = readSync(this.fd, this.window, 0, WINDOW, pos);
    return this.window.subarray(0, Math.min(this.windowLen, end - pos));
  }

  close(): void {
    closeSync(this.fd);
  }
}
