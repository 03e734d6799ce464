/**
 * JSONL row files: one JSON object per line (JSON.parse; a BOM on the first line is dropped, blank
 * lines are skipped). A line that is not JSON, or is JSON but not an object (an array, a string,
 * null), is an error at its line: a row is never skipped. A value nested deeper than MAX_DEPTH is an
 * error too: JSON.parse accepts any depth, but JSON.stringify (the run's stored plan, templates)
 * recurses and would throw a stack overflow later, far from the line that caused it.
 */
import { UserError } from "../../util/errors.js";
import type { Row } from "./rows.js";

export const MAX_DEPTH = 64;

/** True when a parsed JSON value nests arrays/objects more than `max` levels (walked without recursion). */
function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const x of Object.values(v)) if (x !== null && typeof x === "object") stack.push([x, depth + 1]);
  }
  return false;
}

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
    if (tooDeep(value, MAX_DEPTH))
      throw new UserError(`${file}:${i + 1}: the line's JSON is nested more than ${MAX_DEPTH} levels deep`, "flatten the value, or store it as a JSON string");
    rows.push({ values: value as Record<string, unknown>, where: `${file}:${i + 1}` });
  });
  return rows;
}
