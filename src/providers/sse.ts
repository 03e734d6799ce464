/** Server-sent events from a byte stream (pure parsing; the transport is the caller's). */
export interface SseEvent {
  event?: string;
  data: string;
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = "";
  let event: string | undefined;
  let data: string[] = [];
  const flush = function* (): Generator<SseEvent> {
    if (data.length > 0) yield event !== undefined ? { event, data: data.join("\n") } : { data: data.join("\n") };
    event = undefined;
    data = [];
  };
  for await (const chunk of body) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") yield* flush();
      else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
      }
      nl = buf.indexOf("\n");
    }
  }
  if (buf.length > 0 && buf.startsWith("data:")) data.push(buf.slice(5).trimStart());
  yield* flush();
}
