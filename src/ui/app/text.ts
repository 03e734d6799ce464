/**
 * Hostile text made visible, never interpreted: the app renders store text only as text nodes
 * (Preact escapes them); this also turns terminal escapes and other control characters into
 * visible `\\xNN` text so an ANSI sequence cannot hide or recolour what a model said.
 */
export function visible(s: string | null | undefined): string {
  if (s === null || s === undefined) return "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`);
export const usd = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : x === 0 ? "$0" : x < 0.01 ? `$${x.toExponential(1)}` : `$${x.toFixed(2)}`;
export const msf = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${Math.round(x)} ms`);
export const when = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").slice(0, 19) : "–");
