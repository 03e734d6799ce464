/** The tiny-GGUF maker the tests use (the same one the demo uses). */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyGguf } from "../../src/providers/local/tiny-gguf.js";

export async function makeTinyGguf(dir = mkdtempSync(join(tmpdir(), "wb-gguf-"))): Promise<string> {
  const file = join(dir, "tiny.gguf");
  await writeTinyGguf(file);
  return file;
}
