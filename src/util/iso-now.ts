/**
 * The current time as an ISO-8601 string (`2026-11-29T07:15:02.123Z`), as `new Date().toISOString()`
 * gives it, for hot paths: the date and time are formatted once a second and the milliseconds
 * appended (toISOString cost ~1.3 µs a call here, a row of the gateway's audit trail each).
 */
let second = Number.NaN;
let prefix = "";

export function isoNow(now = Date.now()): string {
  const s = Math.floor(now / 1000);
  if (s !== second) {
    second = s;
    prefix = new Date(s * 1000).toISOString().slice(0, 20); // "YYYY-MM-DDTHH:MM:SS."
  }
  const ms = now - s * 1000;
  return `${prefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}
