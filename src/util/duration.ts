import { UserError } from "./errors.js";

/** Parse "30s", "5m", "1h", "250ms" or a bare number of milliseconds (as text or a number). */
export function parseDurationMs(text: string | number, what: string): number {
  if (typeof text === "number") return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new UserError(`${what}: "${text}" is not a duration`, 'write e.g. "500ms", "30s", "5m" or "1h"');
  const v = Number(m[1]);
  const unit = m[2] ?? "ms";
  return v * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60000 : 3600000);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
