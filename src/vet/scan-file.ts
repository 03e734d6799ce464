/**
 * One file: decide its format from its bytes first and its name second (formats/registry.ts), run
 * that format's bounded scanner, and return findings. Never throws for bad content: an unexpected
 * parser error becomes a finding too.
 */
import type { FileScan } from "./formats/format.js";
import { sniff } from "./formats/registry.js";
import { FileSource } from "./source.js";

export type { FileScan } from "./formats/format.js";

const WEIGHTS_EXT = /\.(bin|pt|pth|ckpt|pkl|pickle|joblib|mar)$/i;

export async function scanFile(abs: string, rel: string, size: number, extraAllowed: ReadonlySet<string>): Promise<FileScan> {
  const src = new FileSource(abs, size);
  try {
    const head = Buffer.from(src.read(0, 64));
    const { format, def } = sniff(head, size, rel);
    if (def) return await def.scan({ abs, rel, size, head, src, extraAllowed }, format);
    if (!WEIGHTS_EXT.test(rel)) return { format, issues: [] };
    return {
      format,
      issues: [
        {
          severity: "medium",
          rule: "format.unrecognised",
          message: "a weights file in no format the scanner knows (not a pickle, zip, safetensors, GGUF or NumPy file): it cannot be vetted",
          evidence: `first bytes ${head.subarray(0, 8).toString("hex")}`,
        },
      ],
    };
  } catch (e) {
    return { format: "other", issues: [{ severity: "medium", rule: "scan.error", message: `the scanner could not parse this file: ${(e as Error).message}` }] };
  } finally {
    src.close();
  }
}
