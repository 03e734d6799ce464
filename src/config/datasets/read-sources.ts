/**
 * Read the rows of one `file:` or `hf:` entry, pick the rows it asks for (limit / seed) and describe
 * where they came from (provenance, stored with the run). CSV/TSV/JSONL can be read synchronously;
 * Parquet and Hub datasets cannot (the Parquet reader and the Hub are asynchronous), so they are
 * read only by readSource, and a synchronous load refuses them with a clear error.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fetchDatasetSplit } from "../../hub/index.js";
import { UserError } from "../../util/errors.js";
import { delimitedRows } from "./csv-rows.js";
import { dataPath } from "./data-path.js";
import { jsonlRows } from "./jsonl-rows.js";
import { readParquetRowsIsolated } from "./parquet-isolated.js";
import { openParquet } from "./parquet-rows.js";
import { type DatasetProvenance, formatOf, MAX_ROWS, MAX_TEXT_BYTES, type Row, type RowFormat, sizeOf } from "./rows.js";
import { pickRows } from "./sample.js";
import type { FileSource, HfSource, RowSource } from "./source-schema.js";

export interface SourceRows {
  rows: Row[];
  provenance: DatasetProvenance;
}

function formatFor(e: FileSource, path: string, at: string): RowFormat {
  const f = formatOf(path, e.format);
  if (!f)
    throw new UserError(
      `${at}: cannot tell the format of ${e.file} from its extension`,
      "name it .csv, .tsv, .jsonl or .parquet, or set format: csv | tsv | jsonl | parquet",
    );
  return f;
}

function sampling(limit: number | undefined, seed: number | undefined) {
  return { ...(limit !== undefined ? { limit } : {}), ...(seed !== undefined ? { seed } : {}) };
}

function noRows(path: string, format: RowFormat): UserError {
  return new UserError(`${path}: no rows`, format === "parquet" ? "the file holds no rows" : "the first row names the columns; add rows below it");
}

/** Text files must be UTF-8 (a BOM is dropped): a byte sequence that is not is an error at its line. */
function utf8(path: string, bytes: Buffer): string {
  const strict = new TextDecoder("utf-8", { fatal: true });
  try {
    return strict.decode(bytes);
  } catch {
    let start = 0;
    for (let line = 1; ; line++) {
      const nl = bytes.indexOf(10, start);
      const end = nl < 0 ? bytes.length : nl;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        throw new UserError(`${path}:${line}: not valid UTF-8`, "save the file as UTF-8 (with or without a BOM)");
      }
      if (nl < 0) throw new UserError(`${path}: not valid UTF-8`, "save the file as UTF-8 (with or without a BOM)");
      start = nl + 1;
    }
  }
}

function readTextRows(e: FileSource, dir: string, at: string): SourceRows | undefined {
  const path = dataPath(dir, e.file, at);
  const format = formatFor(e, path, at);
  if (format === "parquet") return undefined;
  sizeOf(path, MAX_TEXT_BYTES, `${format.toUpperCase()} file`);
  const bytes = readFileSync(path);
  const text = utf8(path, bytes);
  const all = format === "jsonl" ? jsonlRows(path, text) : delimitedRows(path, text, format === "tsv" ? "\t" : ",");
  if (all.length === 0) throw noRows(path, format);
  const rows = pickRows(all.length, e.limit, e.seed).map((i) => all[i] as Row);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { rows, provenance: { kind: "file", path: e.file, format, sha256, rows: all.length, used: rows.length, ...sampling(e.limit, e.seed) } };
}

export function readSourceSync(e: RowSource, dir: string, at: string): SourceRows {
  const r = "file" in e ? readTextRows(e, dir, at) : undefined;
  if (r) return r;
  throw new UserError(
    `${at}: Parquet files and hf: datasets are read by eval, validate, redteam and simulate, not by this command`,
    "use one of those commands, or convert the rows to CSV or JSONL",
  );
}

async function readParquetSource(e: FileSource, dir: string, at: string): Promise<SourceRows> {
  const path = dataPath(dir, e.file, at);
  const file = await openParquet(path);
  if (file.rows === 0) throw noRows(path, "parquet");
  const sha256 = createHash("sha256").update(new Uint8Array(file.buffer)).digest("hex");
  const rows = await readParquetRowsIsolated(path, path, pickRows(file.rows, e.limit, e.seed));
  return { rows, provenance: { kind: "file", path: e.file, format: "parquet", sha256, rows: file.rows, used: rows.length, ...sampling(e.limit, e.seed) } };
}

async function readHfSource(e: HfSource): Promise<SourceRows> {
  const h = e.hf;
  const split = await fetchDatasetSplit({ dataset: h.dataset, config: h.config, split: h.split, ...(h.revision ? { revision: h.revision } : {}) });
  const label = (path: string) => `hf:${h.dataset}@${split.commit.slice(0, 12)}/${path}`;
  // Pass 1: row counts from each file's footer (buffers dropped); pass 2: decode only the picked rows.
  const counts: number[] = [];
  for (const f of split.files) counts.push((await openParquet(f.local, label(f.path))).rows);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new UserError(`hf:${h.dataset} (config ${h.config}, split ${h.split}): the split has no rows`);
  if (total > MAX_ROWS)
    throw new UserError(
      `hf:${h.dataset} (config ${h.config}, split ${h.split}): its files claim ${total} rows, over the limit of ${MAX_ROWS}`,
      "use a smaller split or config",
    );
  const picked = pickRows(total, h.limit, h.seed);
  const rows: Row[] = [];
  let offset = 0;
  let k = 0;
  for (const [i, f] of split.files.entries()) {
    const end = offset + (counts[i] as number);
    const local: number[] = [];
    while (k < picked.length && (picked[k] as number) < end) local.push((picked[k++] as number) - offset);
    if (local.length > 0) rows.push(...(await readParquetRowsIsolated(f.local, label(f.path), local)));
    offset = end;
  }
  return {
    rows,
    provenance: {
      kind: "hf",
      dataset: h.dataset,
      config: h.config,
      split: h.split,
      revision: split.revision,
      commit: split.commit,
      partial: split.partial,
      files: split.files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
      rows: total,
      used: rows.length,
      ...sampling(h.limit, h.seed),
    },
  };
}

export async function readSource(e: RowSource, dir: string, at: string): Promise<SourceRows> {
  if ("hf" in e) return readHfSource(e);
  return readTextRows(e, dir, at) ?? readParquetSource(e, dir, at);
}
