/**
 * Re-emits an upstream's server-sent events with each choice's text passed through a
 * ResponseScanner (hold-back window), keeping every other field; what is still held is flushed as
 * one more event shaped like the upstream's before finish_reason or [DONE]. Usage is read on the way.
 */
import { SseDecoder } from "../providers/sse.js";
import { ResponseScanner, type ResponseScanOptions, scanAnswer } from "./response-scan.js";

export type Kind = "chat" | "completions" | "embeddings";
export type Choice = { index?: number; message?: { content?: unknown }; delta?: { content?: unknown }; text?: unknown; finish_reason?: unknown };
export type Usage = { prompt_tokens?: number; completion_tokens?: number };

/** Where a choice keeps its text: message (chat), delta (streamed chat) or the choice (completions). */
export function textHolder(kind: Kind, c: Choice, streamed: boolean): Record<string, unknown> | undefined {
  if (kind === "completions") return c as Record<string, unknown>;
  return (streamed ? c.delta : c.message) as Record<string, unknown> | undefined;
}
export const textKey = (kind: Kind) => (kind === "completions" ? "text" : "content");

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [c, n] of Object.entries(from)) into[c] = (into[c] ?? 0) + n;
}

/**
 * Scan (and redact, restore) the text of every choice of a whole answer, in place. `changed` says
 * whether any text changed, so an unchanged answer can be passed on as the upstream sent it.
 */
export function scanChoices(kind: Kind, j: { choices?: Choice[] }, o: ResponseScanOptions): { counts: Record<string, number>; changed: boolean } {
  const counts: Record<string, number> = {};
  let changed = false;
  const k = textKey(kind);
  for (const c of j.choices ?? []) {
    const h = textHolder(kind, c, false);
    if (!h || typeof h[k] !== "string") continue;
    const r = scanAnswer(h[k] as string, o);
    if (r.text !== h[k]) {
      h[k] = r.text;
      changed = true;
    }
    addCounts(counts, r.counts);
  }
  return { counts, changed };
}

export class StreamRelay {
  private readonly sse = new SseDecoder();
  private readonly scanners = new Map<number, ResponseScanner>();
  private readonly field: string;
  private template: Record<string, unknown> | undefined;
  usage: Usage | undefined;

  constructor(
    private readonly kind: Kind,
    private readonly opts: ResponseScanOptions,
    private readonly write: (data: string) => void,
  ) {
    this.field = textKey(kind);
  }

  /** Decoded upstream text, as it arrives. */
  push(text: string): void {
    for (const ev of this.sse.push(text)) this.onEvent(ev.data);
  }

  /** The upstream ended: flush what is held; the classes found in the answer. */
  finish(): Record<string, number> {
    this.flushAll();
    const counts: Record<string, number> = {};
    for (const sc of this.scanners.values()) addCounts(counts, sc.counts);
    return counts;
  }

  private scannerFor(i: number): ResponseScanner {
    let sc = this.scanners.get(i);
    if (!sc) {
      sc = new ResponseScanner(this.opts);
      this.scanners.set(i, sc);
    }
    return sc;
  }

  private send(data: string): void {
    this.write(`data: ${data}\n\n`);
  }

  private flushAll(): void {
    for (const [i, sc] of this.scanners) {
      const rest = sc.flush();
      if (!rest) continue;
      const choice: Record<string, unknown> = this.kind === "completions" ? { index: i, text: rest } : { index: i, delta: { content: rest } };
      this.send(JSON.stringify({ ...(this.template ?? {}), choices: [choice], usage: null }));
    }
  }

  private onEvent(data: string): void {
    if (data === "[DONE]") {
      this.flushAll();
      this.send(data);
      return;
    }
    let j: { usage?: Usage; choices?: Choice[] } & Record<string, unknown>;
    try {
      j = JSON.parse(data);
    } catch {
      this.send(data);
      return;
    }
    if (j.usage) this.usage = j.usage;
    if (!Array.isArray(j.choices) || j.choices.length === 0) {
      this.send(data);
      return;
    }
    this.template ??= Object.fromEntries(Object.entries(j).filter(([k]) => k !== "choices" && k !== "usage"));
    const field = this.field;
    let keep = false;
    for (const c of j.choices) {
      const h = textHolder(this.kind, c, true);
      const i = c.index ?? 0;
      let out = h && typeof h[field] === "string" ? this.scannerFor(i).push(h[field] as string) : "";
      if (c.finish_reason) out += this.scannerFor(i).flush();
      if (h && (typeof h[field] === "string" || out)) h[field] = out;
      const others = h ? Object.keys(h).some((k) => k !== field && h[k] !== undefined && h[k] !== null) : false;
      if (out || c.finish_reason || others) keep = true;
    }
    if (keep) this.send(JSON.stringify(j));
  }
}
