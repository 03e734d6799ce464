/**
 * Real Parquet files for tests, written by an independent writer (hyparquet-writer, a devDependency):
 * our reader never sees bytes it produced itself.
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";

export interface ParquetColumn {
  name: string;
  data: unknown[];
  type?: "STRING" | "INT32" | "INT64" | "DOUBLE" | "BOOLEAN";
}

export function parquetBytes(columns: ParquetColumn[], o: { rowGroupSize?: number; codec?: "SNAPPY" | "GZIP" | "UNCOMPRESSED" } = {}): Buffer {
  const ab = parquetWriteBuffer({
    columnData: columns as never,
    ...(o.rowGroupSize ? { rowGroupSize: o.rowGroupSize } : {}),
    ...(o.codec ? { codec: o.codec } : {}),
    ...(o.codec === "GZIP" ? { compressors: { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) } } : {}),
  } as never);
  return Buffer.from(ab);
}

export function writeParquet(file: string, columns: ParquetColumn[], o: Parameters<typeof parquetBytes>[1] = {}): Buffer {
  const b = parquetBytes(columns, o);
  writeFileSync(file, b);
  return b;
}

/** n rows of question/answer (and an int64 id), as a data set split would hold them. */
export function qaColumns(n: number, from = 0): ParquetColumn[] {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  return [
    { name: "id", data: ids.map((i) => BigInt(i)), type: "INT64" },
    { name: "question", data: ids.map((i) => `What is ${i} plus one?`), type: "STRING" },
    { name: "answer", data: ids.map((i) => String(i + 1)), type: "STRING" },
  ];
}

function varint(n: bigint): number[] {
  const out: number[] = [];
  for (let v = n; ; v >>= 7n) {
    if (v < 0x80n) return [...out, Number(v)];
    out.push(Number((v & 0x7fn) | 0x80n));
  }
}

/**
 * A hostile footer: every i64 field in the Thrift footer that holds `real` (the file's num_rows, each
 * row group's num_rows and column chunks' num_values, all "field delta 1, type i64" = 0x16) is
 * rewritten to claim `claimed`, and the footer length updated. Only the footer changes.
 */
export function claimRows(file: Buffer, real: number, claimed: number): Buffer {
  const footerLen = file.readUInt32LE(file.length - 8);
  const start = file.length - 8 - footerLen;
  const from = Buffer.from([0x16, ...varint(BigInt(real) * 2n)]);
  const to = Buffer.from([0x16, ...varint(BigInt(claimed) * 2n)]);
  const footer = file.subarray(start, file.length - 8);
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = footer.indexOf(from); i >= 0; i = footer.indexOf(from, at)) {
    parts.push(footer.subarray(at, i), to);
    at = i + from.length;
  }
  if (parts.length === 0) throw new Error("claimRows: the footer does not hold that row count");
  parts.push(footer.subarray(at));
  const patched = Buffer.concat(parts);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(patched.length, 0);
  tail.write("PAR1", 4);
  return Buffer.concat([file.subarray(0, start), patched, tail]);
}
