/**
 * Scanning answers, also when they stream. Text is released only once it is more than `window`
 * characters behind the newest byte, and never in the middle of a detected entity or of an
 * unfinished "[PLACEHOLDER]": an entity up to `window` characters long that arrives split across
 * chunks is therefore seen whole before any of it is sent. The first byte waits for at most
 * `window` characters (or the end of the answer). Entities the caller sent itself are counted as
 * echoed, not as new; new ones are counted and, with `redact`, replaced by [TYPE_REDACTED].
 * Work per chunk is proportional to the window plus the chunk: linear in the answer.
 */
import { type Detector, detectUncached as detect, type Entity, restore } from "../detect/index.js";

export interface ResponseScanOptions {
  detectors: readonly Detector[];
  /** Characters held back from the stream (the longest entity caught across chunks). */
  window: number;
  redact: boolean;
  /** Values the caller sent (by class): seen again in the answer, they are not new data. */
  sent: ReadonlySet<string>;
  /** Request placeholders to restore in the answer (route `restore: true`). */
  placeholders?: Record<string, string>;
  /** Entities already found in whole texts (long strings of a large answer, detected off the event loop). */
  found?: ReadonlyMap<string, readonly Entity[]>;
}

export class ResponseScanner {
  private held = "";
  /** New sensitive values found in the answer, by class. */
  readonly counts: Record<string, number> = {};

  constructor(private readonly o: ResponseScanOptions) {}

  /** Feed a piece of the answer; returns the text that may be sent now. */
  push(delta: string): string {
    this.held += delta;
    if (this.held.length <= this.o.window) return "";
    const entities = detect(this.held, this.o.detectors);
    let cut = this.held.length - this.o.window;
    for (const e of entities) if (e.start < cut && e.end > cut) cut = e.start;
    // Do not split a placeholder such as "[EMAIL_1]" that restore() must see whole.
    const open = this.held.lastIndexOf("[", cut - 1);
    if (open >= 0 && cut - open <= 40 && !this.held.slice(open, cut).includes("]")) cut = open;
    if (cut <= 0) return "";
    return this.release(
      cut,
      entities.filter((e) => e.end <= cut),
    );
  }

  /** A whole text whose entities were found elsewhere: all of it, released as push() and flush() would. */
  releaseFound(text: string, entities: readonly Entity[]): string {
    this.held = text;
    return this.release(text.length, [...entities]);
  }

  /** The end of the answer: everything still held. */
  flush(): string {
    if (!this.held) return "";
    return this.release(this.held.length, detect(this.held, this.o.detectors));
  }

  private release(cut: number, entities: Entity[]): string {
    const text = this.held.slice(0, cut);
    this.held = this.held.slice(cut);
    let out = "";
    let pos = 0;
    for (const e of entities) {
      const value = text.slice(e.start, e.end);
      if (this.o.sent.has(`${e.type}\u0000${value}`)) continue;
      this.counts[e.type] = (this.counts[e.type] ?? 0) + 1;
      if (!this.o.redact) continue;
      out += text.slice(pos, e.start) + `[${e.type}_REDACTED]`;
      pos = e.end;
    }
    out += text.slice(pos);
    return this.o.placeholders && Object.keys(this.o.placeholders).length ? restore(out, this.o.placeholders) : out;
  }
}

const NONE: Readonly<Record<string, number>> = Object.freeze({});

/**
 * Scan a whole (non-streamed) text: detected once, as a whole (a stream's hold-back window is for
 * text that has not all arrived; here it has). A text with nothing found and no placeholders to
 * restore comes back as it is, without a scanner.
 */
export function scanAnswer(text: string, o: ResponseScanOptions): { text: string; counts: Readonly<Record<string, number>> } {
  const entities = o.found?.get(text) ?? detect(text, o.detectors);
  if (entities.length === 0 && !(o.placeholders && text.includes("["))) return { text, counts: NONE };
  const s = new ResponseScanner(o);
  return { text: s.releaseFound(text, entities), counts: s.counts };
}

/** The set of (class, value) pairs a request carried, for ResponseScanOptions.sent. */
export function sentValues(texts: readonly string[], entities: readonly (readonly Entity[])[]): Set<string> {
  const sent = new Set<string>();
  texts.forEach((t, i) => {
    for (const e of entities[i] ?? []) sent.add(`${e.type}\u0000${t.slice(e.start, e.end)}`);
  });
  return sent;
}
