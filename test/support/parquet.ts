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
