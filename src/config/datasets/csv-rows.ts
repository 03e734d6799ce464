/**
 * CSV and TSV row files through csv-parse (RFC 4180: quoted fields, doubled quotes, line breaks inside
 * quotes; a UTF-8 BOM is dropped). The first row names the columns. Every record must have exactly as
 * many fields as the header; a ragged row, a stray quote or an unclosed quote is an error at its line.
 * Values stay strings, verbatim: a cell such as `=SUM(A1)` is data here, never interpreted.
 */
import { parse } from "csv-parse/sync";
import { UserError } from "../../util/errors.js";
import type { Row } from "./rows.js";

interface Parsed {
  record: Record<string, string>;
  raw: string;
  info: { lines: number };
}

function checkHeader(file: string, header: string[]): string[] {
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name.trim() === "") throw new UserError(`${file}:1: column ${i + 1} of the header row has no name`, "give every column a name in the first row");
    if (seen.has(name)) throw new UserError(`${file}:1: column "${name}" appears twice in the header row`, "column names become case vars and must be unique");
    seen.add(name);
  });
  return header;
}

/** Rows of a CSV (delimiter ",") or TSV (delimiter "\t") text, each with the line its record starts on. */
export function delimitedRows(file: string, text: string, delimiter: "," | "\t"): Row[] {
  let records: Parsed[];
  try {
    records = parse(text, {
      bom: true,
      columns: (h: string[]) => checkHeader(file, h),
      delimiter,
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: false,
      relax_quotes: false,
      max_record_size: 4 * 1024 * 1024,
    }) as unknown as Parsed[];
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as Error & { code?: string; lines?: number };
    const line = typeof err.lines === "number" ? err.lines : 1;
    throw new UserError(
      `${file}:${line}: ${err.message.replace(/ on line \d+$/, "").replace(/ at line \d+/, "")}`,
      err.code === "CSV_RECORD_INCONSISTENT_COLUMNS" || err.code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH"
        ? "every row needs exactly as many fields as the header; quote fields that contain the delimiter"
        : 'quote a field that holds quotes, delimiters or line breaks, doubling quotes inside it ("a ""b"" c")',
    );
  }
  return records.map((r) => {
    const body = r.raw.replace(/^(?:\r?\n)+/, "").replace(/\r?\n$/, "");
    const start = r.info.lines - (body.match(/\n/g)?.length ?? 0);
    return { values: { ...r.record }, where: `${file}:${start}` };
  });
}
