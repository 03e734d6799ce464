/**
 * Writing CSV (RFC 4180): fields with a comma, quote or line break are quoted, quotes doubled. Model
 * outputs are untrusted: a field starting with = + - @ (or tab/CR) would run as a formula in a
 * spreadsheet, so it gets a leading apostrophe (OWASP's CSV-injection advice). Output only, no parsing.
 */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}
