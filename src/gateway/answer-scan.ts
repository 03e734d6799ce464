/**
 * Whole (non-streamed) upstream answers, whatever their status or content type: a JSON answer has
 * every string scanned wherever it sits (choices, tool-call arguments, error messages, keys); any
 * other text (an HTML error page, plain text) is scanned as text. An answer the gateway cannot read
 * as text (compressed, binary) cannot be scanned and is withheld, unless the route passes it.
 */
import { detectUncached, type Entity } from "../detect/index.js";
import { JsonTooDeep, replaceSlots, type Slot, someText, walkJson } from "./json-walk.js";
import { type ResponseScanOptions, scanAnswer } from "./response-scan.js";

export type Usage = { prompt_tokens?: number; completion_tokens?: number };

export type ScannedAnswer = { scanned: true; text: string; counts: Record<string, number>; usage: Usage | undefined } | { scanned: false; reason: string };

const BINARY_TYPE = /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-|vnd\.)/i;

/** Charsets whose bytes the gateway reads as it reads UTF-8. */
const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii", "ascii"]);

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [c, n] of Object.entries(from)) into[c] = (into[c] ?? 0) + n;
}

/** Why an answer with these headers cannot be scanned as text, or undefined. */
export function unscannableReason(contentType: string | undefined, contentEncoding: string | undefined): string | undefined {
  const enc = (contentEncoding ?? "").trim().toLowerCase();
  if (enc && enc !== "identity") return `the answer is encoded (${enc})`;
  // An event stream read whole is text with JSON syntax between the pieces of a value: not scannable as one text.
  if (contentType && /^text\/event-stream/i.test(contentType.trim())) return "the answer is an event stream the request did not ask for";
  if (contentType && BINARY_TYPE.test(contentType.trim())) return `the answer is ${contentType.split(";")[0]}, not text`;
  // The answer is read as UTF-8; in another charset (UTF-16 above all) the scan sees other text than the client reads.
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? "")?.[1]?.toLowerCase();
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) return `the answer is in charset ${charset}, not UTF-8`;
  return undefined;
}

/** Detection of whole texts off the event loop (the detect pool): entities by text. */
export type FindLong = (texts: readonly string[]) => Promise<Map<string, Entity[]>>;

/** Answers this long have their long strings detected through FindLong first: scanned in-thread, a 4 MiB answer held every other request for ~2 s. */
const LARGE_ANSWER = 256 * 1024;
const LONG_STRING = 64 * 1024;

/** The scan options with the long texts' entities found through `findLong` (when the answer is large). */
async function withLongFound(o: ResponseScanOptions, answerLength: number, texts: () => readonly string[], findLong?: FindLong): Promise<ResponseScanOptions> {
  const long = answerLength >= LARGE_ANSWER ? texts().filter((t) => t.length >= LONG_STRING) : [];
  return findLong && long.length > 0 ? { ...o, found: await findLong(long) } : o;
}

export async function scanWholeAnswer(
  text: string,
  headers: { contentType?: string; contentEncoding?: string },
  o: ResponseScanOptions,
  findLong?: FindLong,
): Promise<ScannedAnswer> {
  const why = unscannableReason(headers.contentType, headers.contentEncoding);
  if (why) return { scanned: false, reason: why };
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    const r = scanAnswer(text, await withLongFound(o, text.length, () => [text], findLong));
    return { scanned: true, text: r.text, counts: { ...r.counts }, usage: undefined };
  }
  const usage = j !== null && typeof j === "object" && "usage" in j ? ((j as { usage?: Usage }).usage ?? undefined) : undefined;
  // Most answers hold nothing: one walk that detects every string and key, no slots. Anything found
  // (or a placeholder to restore, a large answer, a deep one) takes the full path below.
  if (text.length < LARGE_ANSWER && !o.placeholders && !someText(j, (t) => detectUncached(t, o.detectors).length > 0, ANSWER_DEPTH))
    return { scanned: true, text: JSON.stringify(j), counts: {}, usage };
  const counts: Record<string, number> = {};
  let slots: Slot[];
  try {
    slots = walkJson(j, { numbers: false, maxDepth: ANSWER_DEPTH });
  } catch (e) {
    // Thrown past here it became a 500 audited as if nothing had been sent upstream.
    if (e instanceof JsonTooDeep) return { scanned: false, reason: `the answer is nested deeper than ${e.limit} levels` };
    throw e;
  }
  const opts = await withLongFound(o, text.length, () => slots.map((s) => s.text), findLong);
  let changed = false;
  const texts = slots.map((s) => {
    const r = scanAnswer(s.text, opts);
    add(counts, r.counts);
    if (r.text !== s.text) changed = true;
    return r.text;
  });
  const out = changed ? replaceSlots(j, slots, texts) : j;
  if (o.redact && Object.keys(counts).length > 0) dropLogprobs(out);
  // Always the value that was scanned, re-serialised: the upstream's own text can hold what
  // JSON.parse dropped unscanned (the first of two duplicate keys).
  return { scanned: true, text: JSON.stringify(out), counts, usage };
}

/** Depth of the answers walkJson accepts (deeper ones are withheld as unscannable). */
const ANSWER_DEPTH = 256;

/**
 * Log probabilities spell the answer out token by token (`"leak"`, `"@"`, `"example"`…), each token
 * too short to hold a value: once a value was redacted from an answer, its choices' `logprobs` are
 * withheld (null). Whether any were.
 */
export function dropLogprobs(answer: unknown): boolean {
  const choices = answer !== null && typeof answer === "object" ? (answer as { choices?: unknown }).choices : undefined;
  if (!Array.isArray(choices)) return false;
  let dropped = false;
  for (const c of choices)
    if (c !== null && typeof c === "object" && (c as { logprobs?: unknown }).logprobs != null) {
      (c as { logprobs: unknown }).logprobs = null;
      dropped = true;
    }
  return dropped;
}
