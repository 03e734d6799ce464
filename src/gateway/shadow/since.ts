/** `--since`: a look-back ("7d", "24h", "30m") or an ISO date/time, as the ISO time the window starts. */
import { UserError } from "../../util/errors.js";

export function parseSince(text: string, now = Date.now()): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m)\s*$/.exec(text);
  // A look-back or date past what a Date holds (±8.64e15 ms) is refused here, not thrown as a RangeError by toISOString.
  const t = m ? now - Number(m[1]) * (m[2] === "d" ? 86_400_000 : m[2] === "h" ? 3_600_000 : 60_000) : Date.parse(text);
  const inRange = Number.isFinite(t) && Math.abs(t) <= 8.64e15;
  if (m && inRange) return new Date(t).toISOString();
  if (!m && inRange && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return new Date(t).toISOString();
  throw new UserError(`--since: "${text}" is neither a look-back nor a date`, 'write e.g. "7d", "24h", "30m" or "2026-11-30"');
}
