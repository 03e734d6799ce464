/**
 * Bounded decoding of base64, base64url and hex runs, so that a value sent encoded ("NDExMSAxMTEx…")
 * is scanned too. Why here: a model decodes base64 on request, so an encoded card is as much a leak
 * as a plain one. One level deep only: what a decoded run holds is scanned, but runs inside it are
 * not decoded again (a double-encoded value is not caught; docs/gateway.md says so).
 *
 * Bounds: a run is 16 or more characters of the alphabet and at most 64 KiB once decoded (longer
 * runs, e.g. images in data URLs, are not decoded); the decoded bytes must be valid UTF-8 and at
 * least 95% printable. Linear: runs are maximal and disjoint, so all decoding together touches each
 * character once.
 */

export interface EncodedRun {
  /** Offsets of the encoded run in the text that was searched. */
  start: number;
  end: number;
  kind: "base64" | "hex";
  decoded: string;
}

export const MIN_RUN = 16;
export const MAX_DECODED = 64 * 1024;

import { isUtf8 } from "node:buffer";

/**
 * Per character code below 128: 1 base64 and hex, 2 base64 only ("+/-_" and letters past f). Runs
 * are found by a loop over this table, not a regex: a greedy regex over a megabytes-long run
 * overflowed V8's backtracking stack ("Maximum call stack size exceeded").
 */
const ALPHABET = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") ALPHABET[c.charCodeAt(0)] = 1;
for (const c of "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ+/-_") ALPHABET[c.charCodeAt(0)] = 2;

/**
 * The decoded text if it is valid UTF-8 and at least 95% printable, else undefined. Control bytes
 * are counted first and UTF-8 is checked without throwing: random bytes (most runs) are turned
 * away in a few steps (a throwing decoder cost ~30 µs per run).
 */
export function printable(bytes: Buffer): string | undefined {
  if (bytes.length < 8) return undefined;
  let bad = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f) bad++;
  }
  if (bad * 20 > bytes.length || !isUtf8(bytes)) return undefined;
  return bytes.toString("utf8");
}

function decodeRun(run: string, hex: boolean): { kind: "base64" | "hex"; decoded: string } | undefined {
  if (hex && run.length % 2 === 0) {
    if (run.length / 2 > MAX_DECODED) return undefined;
    const decoded = printable(Buffer.from(run, "hex"));
    if (decoded !== undefined) return { kind: "hex", decoded };
  }
  const unpadded = run.endsWith("==") ? run.length - 2 : run.endsWith("=") ? run.length - 1 : run.length;
  if (Math.floor((run.length * 3) / 4) > MAX_DECODED || unpadded % 4 === 1) return undefined;
  // Node's base64 decoder takes both alphabets (+/ and -_) and padding or none.
  const decoded = printable(Buffer.from(run, "base64"));
  return decoded === undefined ? undefined : { kind: "base64", decoded };
}

/** A run written "0x…": the "x" made it base64 to the loop above, but what follows may be hex. */
function decodePrefixedHex(text: string, start: number, end: number): { kind: "base64" | "hex"; decoded: string } | undefined {
  if (end - start < MIN_RUN + 2 || text.charCodeAt(start) !== 48 || (text.charCodeAt(start + 1) | 0x20) !== 120) return undefined;
  const rest = text.slice(start + 2, end);
  return /^[0-9a-fA-F]+$/.test(rest) ? decodeRun(rest, true) : undefined;
}

/** Every run in `text` that decodes to mostly printable text. */
export function findEncodedRuns(text: string): EncodedRun[] {
  const out: EncodedRun[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || ALPHABET[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    let hex = true;
    for (; i < n; i++) {
      const k = text.charCodeAt(i);
      const t = k < 128 ? (ALPHABET[k] as number) : 0;
      if (t === 0) break;
      if (t === 2) hex = false;
    }
    let end = i;
    if (text.charCodeAt(end) === 61) end += text.charCodeAt(end + 1) === 61 ? 2 : 1; // "=" padding
    i = end;
    if (end - start < MIN_RUN || end - start > (MAX_DECODED * 4) / 3 + 4) continue;
    const d = decodeRun(text.slice(start, end), hex && text.charCodeAt(end - 1) !== 61) ?? decodePrefixedHex(text, start, end);
    if (d) out.push({ start, end, ...d });
  }
  return out;
}
