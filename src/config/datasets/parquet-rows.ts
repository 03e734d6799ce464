/**
 * Parquet row files through hyparquet (pure JS), with our bounds first: the file's size, the `PAR1`
 * magic at both ends, a footer length that fits inside the file, the row count the footer claims,
 * and the size of every page a decompressor is asked to produce. A file that is not Parquet (or
 * claims a 1 GB footer in a 1 KB file) is a one-line error naming the file, before any decoding.
 * Only the row groups holding the rows a suite samples are decoded. Codecs: snappy (hyparquet's
 * own), gzip and brotli (node:zlib, output capped), zstd where this Node has it.
 */
import { readFile } from "node:fs/promises";
import * as zlib from "node:zlib";
import type { Compressors, FileMetaData } from "hyparquet";
import { UserError } from "../../util/errors.js";
import { MAX_PARQUET_BYTES, MAX_ROWS, type Row, sizeOf } from "./rows.js";

/** A page larger than this when decompressed is refused (a header can claim any size). */
const MAX_PAGE_BYTES = 256 * 1024 * 1024;
const MAX_FOOTER_BYTES = 64 * 1024 * 1024;
const MAGIC = 0x31524150; // "PAR1" little-endian

function boundedPage(file: string, outputLength: number): void {
  if (!(outputLength >= 0 && outputLength <= MAX_PAGE_BYTES))
    throw new UserError(
      `${file}: a Parquet page claims ${outputLength} bytes uncompressed (limit ${MAX_PAGE_BYTES})`,
      "the file is damaged or hostile; re-export it",
    );
}

async function compressorsFor(file: string): Promise<Compressors> {
  const { snappyUncompress } = await import("hyparquet");
  const z = zlib as typeof zlib & { zstdDecompressSync?: (b: Uint8Array, o: { maxOutputLength: number }) => Buffer };
  const viaZlib = (fn: (b: Uint8Array, o: { maxOutputLength: number }) => Buffer) => (input: Uint8Array, outputLength: number) => {
    boundedPage(file, outputLength);
    return new Uint8Array(fn(input, { maxOutputLength: Math.max(1, outputLength) }));
  };
  return {
    SNAPPY: (input, outputLength) => {
      boundedPage(file, outputLength);
      const out = new Uint8Array(outputLength);
      snappyUncompress(input, out);
      return out;
    },
    GZIP: viaZlib(zlib.gunzipSync),
    BROTLI: viaZlib(zlib.brotliDecompressSync),
    ...(z.zstdDecompressSync ? { ZSTD: viaZlib(z.zstdDecompressSync) } : {}),
  };
}

function notParquet(file: string, why: string): UserError {
  return new UserError(`${file}: not a readable Parquet file (${why})`, "check the file; export it again with a Parquet writer (pyarrow, polars, duckdb)");
}

/** Magic numbers and the footer length, checked against the file's real size before any parsing. */
function checkFrame(file: string, buf: Buffer): void {
  if (buf.length < 12) throw notParquet(file, `${buf.length} bytes is too short`);
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(buf.length - 4) !== MAGIC) throw notParquet(file, "no PAR1 magic at its start and end");
  const footer = buf.readUInt32LE(buf.length - 8);
  if (footer > buf.length - 12 || footer > MAX_FOOTER_BYTES)
    throw notParquet(file, `its footer claims ${footer} bytes of metadata, but the file has ${buf.length} bytes`);
}

/** JSON-able values: int64 as a number when exact (else a string), dates as ISO text, bytes as base64. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
}

type SchemaOf = typeof import("hyparquet").parquetSchema;

/**
 * Every column chunk must belong to a column of the schema, one chunk per leaf in each row group:
 * hyparquet reads chunks it cannot place without awaiting them, so a footer whose chunks name no
 * schema column would fail outside our error handling (an unhandled rejection) instead of here.
 */
function checkColumns(label: string, metadata: FileMetaData, parquetSchema: SchemaOf): void {
  let top: Set<string>;
  let leaves = 0;
  try {
    const tree = parquetSchema(metadata);
    top = new Set(tree.children.map((c) => c.element.name));
    const walk = (n: ReturnType<SchemaOf>, depth: number): void => {
      if (depth > 64) throw new Error("schema nested deeper than 64 levels");
      if (n.children.length === 0) leaves++;
      for (const c of n.children) walk(c, depth + 1);
    };
    for (const c of tree.children) walk(c, 1);
  } catch (e) {
    throw notParquet(label, `its schema cannot be read: ${(e as Error).message}`);
  }
  for (const [i, g] of metadata.row_groups.entries()) {
    if (g.columns.length !== leaves) throw notParquet(label, `row group ${i + 1} has ${g.columns.length} column chunks for ${leaves} schema columns`);
    for (const c of g.columns) {
      const name = c.meta_data?.path_in_schema?.[0];
      if (name === undefined || !top.has(name))
        throw notParquet(label, `row group ${i + 1} has a column chunk for "${String(name)}", which the schema does not define`);
    }
  }
}

export interface ParquetFile {
  file: string;
  /** How the file is named in errors and case sources (the local path, or hf:… for a Hub file). */
  label: string;
  buffer: ArrayBuffer;
  metadata: FileMetaData;
  rows: number;
}

export async function openParquet(file: string, label = file): Promise<ParquetFile> {
  sizeOf(file, MAX_PARQUET_BYTES, "Parquet file");
  const buf = await readFile(file);
  checkFrame(label, buf);
  const { parquetMetadata, parquetSchema } = await import("hyparquet");
  // readFile gives a large file its own ArrayBuffer: use it as is rather than copying it.
  const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  const buffer = (whole ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) as ArrayBuffer;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(buffer);
  } catch (e) {
    throw notParquet(label, (e as Error).message);
  }
  checkColumns(label, metadata, parquetSchema);
  const rows = Number(metadata.num_rows);
  if (!(Number.isSafeInteger(rows) && rows >= 0 && rows <= MAX_ROWS))
    throw notParquet(label, `its footer claims ${metadata.num_rows} rows (limit ${MAX_ROWS})`);
  const groups = metadata.row_groups.reduce((a, g) => a + Number(g.num_rows), 0);
  if (groups !== rows) throw notParquet(label, `its row groups hold ${groups} rows but the footer says ${rows}`);
  return { file, label, buffer, metadata, rows };
}

/** The rows at the given (sorted, 0-based) indexes; `first` numbers them across several files. */
export async function readParquetRows(p: ParquetFile, indexes: readonly number[], first = 0): Promise<Row[]> {
  const { parquetReadObjects } = await import("hyparquet");
  const compressors = await compressorsFor(p.label);
  const out: Row[] = [];
  let groupStart = 0;
  let k = 0;
  for (const g of p.metadata.row_groups) {
    const groupEnd = groupStart + Number(g.num_rows);
    const wanted: number[] = [];
    while (k < indexes.length && (indexes[k] as number) < groupEnd) wanted.push(indexes[k++] as number);
    if (wanted.length > 0) {
      const lo = wanted[0] as number;
      const hi = (wanted[wanted.length - 1] as number) + 1;
      let objs: Record<string, unknown>[];
      try {
        objs = await parquetReadObjects({ file: p.buffer, metadata: p.metadata, rowStart: lo, rowEnd: hi, rowFormat: "object", compressors });
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw notParquet(p.label, `rows ${lo + 1}–${hi}: ${(e as Error).message}`);
      }
      for (const i of wanted) {
        const o = objs[i - lo];
        if (!o) throw notParquet(p.label, `row ${i + 1} is missing from its row group`);
        out.push({ values: plain(o) as Record<string, unknown>, where: `${p.label}#row ${first + i + 1}` });
      }
    }
    groupStart = groupEnd;
  }
  return out;
}
