/**
 * The scan formats, in sniffing order: a file is the first format whose magic bytes match, else the
 * first whose name matches, else "other". Bytes win over names (a pickle named .bin is a pickle).
 */

import type { FileFormat } from "../types.js";
import { compressedPickleFormat } from "./compressed.js";
import { executableFormat, pythonFormat } from "./executable.js";
import type { FormatDef } from "./format.js";
import { ggufFormat } from "./gguf.js";
import { h5Format } from "./keras.js";
import { npyFormat } from "./numpy.js";
import { onnxFormat } from "./onnx.js";
import { pickleFormat } from "./pickle-format.js";
import { safetensorsFormat } from "./safetensors.js";
import { chatTemplateFormat, jsonFormat, proseFormat } from "./text.js";
import { zipFormat } from "./zip-container.js";

export const FORMATS: readonly FormatDef[] = [
  ggufFormat,
  zipFormat,
  npyFormat,
  h5Format,
  safetensorsFormat,
  pickleFormat,
  compressedPickleFormat,
  pythonFormat,
  executableFormat,
  onnxFormat,
  chatTemplateFormat,
  jsonFormat,
  proseFormat,
];

export function sniff(head: Buffer, size: number, name: string): { format: FileFormat; def?: FormatDef } {
  for (const def of FORMATS) {
    const format = def.magic?.(head, size, name);
    if (format) return { format, def };
  }
  for (const def of FORMATS) {
    const format = def.named?.(name, head);
    if (format) return { format, def };
  }
  return { format: "other" };
}
