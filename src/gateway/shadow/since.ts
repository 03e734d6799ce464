/** `--since`: a look-back ("7d", "24h", "30m") or an ISO date/time, as the ISO time the window starts. */
import { UserError } from "../../util/errors.js";

export function parseSince(text: string, now = Date.now()): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m)\s*$/.exec(text);
  if (m) return new Date(now - Number(m[1]) * (m[2] === "d" ? 86_400_000 : m[2] === "h" ? 3_600_000 : 60_000)).toISOString();
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()) && !Number.isNaN(Date.parse(text)))
    return new Date(Date.parse(text)).toISOString();
  throw new UserError(`--since: "${text}" is neither a look-back nor a date`, 'write e.g. "7d", "24h", "30m" or "2026-11-30"');
}
