/**
 * Pickle files as a scan format: protocol 2–5 by their PROTO header, protocol 0–1 (no header) by a
 * pickle-like name and a first byte that can start one. The disassembler is pickle.ts.
 */
import type { FormatDef } from "./format.js";
import { isPickleHead, scanPickle } from "./pickle.js";

const PICKLE_NAME = /\.(pkl|pickle|joblib)$/i;
const PICKLE_EXT = /\.(pkl|pickle|joblib|dat|data|pt|pth|bin|ckpt|model|mar|sav)$/i;

export const pickleFormat: FormatDef = {
  magic: (head) => (isPickleHead(head) ? "pickle" : undefined),
  named: (name, head) =>
    PICKLE_NAME.test(name) || (PICKLE_EXT.test(name) && head.length > 0 && "(c]}I".includes(String.fromCharCode(head[0] as number))) ? "pickle" : undefined,
  scan: ({ src, extraAllowed }, format) => ({ format, issues: scanPickle(src, { extraAllowed }).issues }),
};
