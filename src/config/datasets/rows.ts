/**
 * What every case source (CSV/TSV, JSONL, Parquet file, Hub dataset) yields: rows of named values,
 * each with the place it came from (`file:line`, or `file#row N` where a format has no lines), and
 * a provenance record stored with the run so that the exact rows can be read again.
 */
import { statSync } from "node:fs";
import { UserError } from "../../util/errors.js";

export interface Row {
  values: Record<string, unknown>;
  /** `file:line` (text formats) or `file#row N` (Parquet), for error messages and the case's source. */
  where: string;
}

export type RowFormat = "csv" | "tsv" | "jsonl" | "parquet";

export type DatasetProvenance =
  | { kind: "file"; path: string; format: RowFormat; sha256: string; rows: number; used: number; limit?: number; seed?: number }
  | {
      kind: "hf";
      dataset: string;
      config: string;
      split: string;
      /** What the suite asked for (a branch, tag or commit) and the commit it resolved to. */
      revision: string;
      commit: string;
      partial: boolean;
      files: { path: string; size: number; sha256: string }[];
      rows: number;
      used: number;
      limit?: number;
      seed?: number;
    };

/** Text row files are read whole into a string: refuse what V8 could not hold or a suite should not be. */
export const MAX_TEXT_BYTES = 256 * 1024 * 1024;
/** Parquet files are read whole into memory; the Hub shards its conversions well below this. */
export const MAX_PARQUET_BYTES = 1024 * 1024 * 1024;
/** More rows than any suite is meant to run; a footer claiming more is refused before decoding. */
export const MAX_ROWS = 10_000_000;

export function sizeOf(file: string, max: number, what: string): number {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: cannot read ${what} (${code ?? String(e)})`,
      code === "ENOENT" ? "check the path; it is resolved from the suite file's folder" : undefined,
    );
  }
  if (size > max)
    throw new UserError(
      `${file}: ${what} is ${(size / 2 ** 20).toFixed(0)} MiB, over the ${(max / 2 ** 20).toFixed(0)} MiB limit`,
      "split it into several files, or sample it first (limit: / seed:)",
    );
  return size;
}

export function formatOf(file: string, given: RowFormat | undefined): RowFormat | undefined {
  if (given) return given;
  const m = /\.(csv|tsv|tab|jsonl|ndjson|parquet)$/i.exec(file);
  const ext = m?.[1]?.toLowerCase();
  if (ext === "tab") return "tsv";
  if (ext === "ndjson") return "jsonl";
  return ext as RowFormat | undefined;
}
