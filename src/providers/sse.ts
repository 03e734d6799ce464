/** Server-sent events (pure parsing; the transport is the caller's). */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Incremental decoder: push text as it arrives, get the complete events back. */
export class SseDecoder {
  private buf = "";
  private event: string | undefined;
  private data: string[] = [];

  push(text: string): SseEvent[] {
    this.buf += text;
    const out: SseEvent[] = [];
    let start = 0;
    let nl = this.buf.indexOf("\n", start);
    while (nl >= 0) {
      let line = this.buf.slice(start, nl);
      start = nl + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") this.flush(out);
      else if (line.charCodeAt(0) !== 58 /* ':' comment */) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.charCodeAt(0) === 32) value = value.slice(1);
        if (field === "data") this.data.push(value);
        else if (field === "event") this.event = value;
      }
      nl = this.buf.indexOf("\n", start);
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** End of stream: a final event without its blank line still counts. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buf.startsWith("data:")) this.data.push(this.buf.slice(5).trimStart());
    this.buf = "";
    this.flush(out);
    return out;
  }

  private flush(out: SseEvent[]): void {
    if (this.data.length > 0) out.push(this.event !== undefined ? { event: this.event, data: this.data.join("\n") } : { data: this.data.join("\n") });
    this.event = undefined;
    this.data = [];
  }
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const sse = new SseDecoder();
  for await (const chunk of body) yield* sse.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
  yield* sse.end();
}
