/**
 * The tool-call fidelity table, shared by the terminal summary, markdown and HTML: per model, the
 * share of answers that made a call, of those whose calls were well formed, of calls whose arguments
 * parse as JSON and satisfy the tool's schema, and of answers that wrote a call as text — with the
 * server flag that fixes the last one. Pure: models in, header and rows of strings out.
 */
import type { ModelSummary } from "./summary.js";

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);

export const TOOL_CALL_HEADER = ["model", "answers", "with a call", "well-formed", "args JSON", "args valid", "calls as text"];

export function toolCallRows(models: readonly ModelSummary[]): { rows: string[][]; hints: string[] } {
  const rows: string[][] = [];
  const hints: string[] = [];
  for (const m of models) {
    const t = m.toolCalls;
    if (!t) continue;
    const formats = Object.entries(t.asTextFormats)
      .map(([f, n]) => `${f} ${n}`)
      .join(", ");
    rows.push([
      m.id,
      String(t.answers),
      pct(t.withCall),
      pct(t.wellFormed),
      pct(t.argumentsJson),
      pct(t.argumentsValid),
      `${pct(t.asText)}${formats ? ` (${formats})` : ""}`,
    ]);
    if (t.hint) hints.push(`${m.id}: ${t.hint}`);
  }
  return { rows, hints };
}
