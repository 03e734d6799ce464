/**
 * Tables as CSV (RFC 4180 quoting) or JSONL downloads. Cells that a spreadsheet would run as a
 * formula (leading = + - @, tab, CR) get a leading apostrophe: exported model outputs are hostile text.
 */
import type { FastifyReply } from "fastify";

export type ExportFormat = "json" | "csv" | "jsonl";

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "object" ? JSON.stringify(v) : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const first = rows[0];
  if (!first) return "";
  const cols = Object.keys(first);
  const lines = [cols.map(csvCell).join(",")];
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/** Send a table as JSON (the envelope), CSV or JSONL (the rows only, as a download). */
export function sendTable(reply: FastifyReply, format: ExportFormat, name: string, envelope: Record<string, unknown>, rows: Record<string, unknown>[]) {
  if (format === "json") return reply.send(envelope);
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_");
  reply.header("content-disposition", `attachment; filename="${safe}.${format}"`);
  if (format === "csv") return reply.type("text/csv; charset=utf-8").send(toCsv(rows));
  return reply.type("application/x-ndjson; charset=utf-8").send(toJsonl(rows));
}
