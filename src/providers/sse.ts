/** Server-sent events (pure parsing; the transport is the caller's). */
import { ProviderError } from "./types.js";

export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Characters of one event (its lines together, or one line still waiting for its end). A tool call's
 * arguments are capped at 1 Mi characters (tools/bounds.ts), which JSON escaping can make six times
 * longer; past this the upstream is sending nonsense, and holding it would grow without bound.
 */
export const MAX_EVENT_CHARS = 32 * 1024 * 1024;

/**
 * Incremental decoder: push text as it arrives, get the complete events back. Linear in the text
 * however it is cut: a piece without a line end is only queued (a line that arrives one byte at a
 * time used to be re-concatenated and re-searched on every byte: 22 s for 256 KiB), and an event or
 * line longer than MAX_EVENT_CHARS is a non-retryable ProviderError.
 */
export class SseDecoder {
  /** The pieces of the line not yet ended, and their length. */
  private parts: string[] = [];
  private partsLength = 0;
  private event: string | undefined;
  private data: string[] = [];
  private dataLength = 0;

  push(text: string): SseEvent[] {
    if (text.indexOf("\n") < 0) {
      this.hold(text);
      return [];
    }
    const buf = this.parts.length ? this.parts.join("") + text : text;
    this.parts = [];
    this.partsLength = 0;
    const out: SseEvent[] = [];
    let start = 0;
    let nl = buf.indexOf("\n", start);
    while (nl >= 0) {
      let line = buf.slice(start, nl);
      start = nl + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") this.flush(out);
      else if (line.charCodeAt(0) !== 58 /* ':' comment */) this.field(line);
      nl = buf.indexOf("\n", start);
    }
    this.hold(buf.slice(start));
    return out;
  }

  /** End of stream: a final event without its blank line still counts. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    const rest = this.parts.join("");
    if (rest.startsWith("data:")) this.data.push(rest.slice(5).trimStart());
    this.parts = [];
    this.partsLength = 0;
    this.flush(out);
    return out;
  }

  private hold(piece: string): void {
    if (!piece) return;
    this.parts.push(piece);
    this.partsLength += piece.length;
    this.bound();
  }

  private field(line: string): void {
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") {
      this.data.push(value);
      this.dataLength += value.length + 1;
      this.bound();
    } else if (field === "event") this.event = value;
  }

  private bound(): void {
    if (this.partsLength + this.dataLength > MAX_EVENT_CHARS)
      throw new ProviderError(`malformed stream: an event longer than ${MAX_EVENT_CHARS / 1024 / 1024} Mi characters`, { retryable: false });
  }

  private flush(out: SseEvent[]): void {
    if (this.data.length > 0) out.push(this.event !== undefined ? { event: this.event, data: this.data.join("\n") } : { data: this.data.join("\n") });
    this.event = undefined;
    this.data = [];
    this.dataLength = 0;
  }
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const sse = new SseDecoder();
  for await (const chunk of body) yield* sse.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
  yield* sse.end();
}
