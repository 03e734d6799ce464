/**
 * JSONL row files: one JSON object per line (JSON.parse; a BOM on the first line is dropped, blank
 * lines are skipped). A line that is not JSON, or is JSON but not an object (an array, a string,
 * null), is an error at its line: a row is never skipped.
 */
import { UserError } from "../../util/errors.js";
import type { Row } from "./rows.js";

export function jsonlRows(file: string, text: string): Row[] {
  const rows: Row[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new UserError(
        `${file}:${i + 1}: not valid JSON (${(e as Error).message})`,
        'each line must be one JSON object, e.g. {"question": "…", "answer": "…"}',
      );
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new UserError(
        `${file}:${i + 1}: the line is JSON ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}, not an object`,
        "each line must be one JSON object whose keys become the case vars",
      );
    rows.push({ values: value as Record<string, unknown>, where: `${file}:${i + 1}` });
  });
  return rows;
}
