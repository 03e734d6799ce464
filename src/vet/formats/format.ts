/**
 * What a scan format is: how it is recognised (magic bytes first, the name second) and how it is
 * scanned. Each format file exports one definition; registry.ts lists them in sniffing order, so a
 * new format is one file plus one line there.
 */
import type { ByteSource } from "../source.js";
import type { FileFormat, Issue, ModelFacts } from "../types.js";

export interface FileScan {
  format: FileFormat;
  issues: Issue[];
  facts?: ModelFacts;
  /** Parsed JSON, for config.json / tokenizer_config.json checks. */
  json?: unknown;
  text?: string;
}

export interface ScanInput {
  /** Absolute path (for formats read as text) and the path relative to the scan target. */
  abs: string;
  rel: string;
  size: number;
  /** The first 64 bytes. */
  head: Buffer;
  src: ByteSource;
  /** Policy additions to the pickle allowlist. */
  extraAllowed: ReadonlySet<string>;
}

export interface FormatDef {
  /** The format these bytes are, by their magic (undefined: not this format). */
  magic?(head: Buffer, size: number, name: string): FileFormat | undefined;
  /** The format a file is by its name, asked only when no format claimed its bytes. */
  named?(name: string, head: Buffer): FileFormat | undefined;
  /** A format whose decoder is asynchronous (the WASM decompressors) returns a promise. */
  scan(input: ScanInput, format: FileFormat): FileScan | Promise<FileScan>;
}

/** Files larger than this are not read as text. */
export const TEXT_MAX = 16 << 20;
