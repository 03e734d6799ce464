/**
 * Raw-socket helpers for the framing tests: send exact bytes (in several TCP segments when asked)
 * and read back what the server answered, and whether it closed the connection.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface RawResult {
  /** Status codes of the answers, in order. */
  statuses: number[];
  /** The server closed the connection (before our idle wait ran out). */
  closed: boolean;
  text: string;
}

/** Send each segment (a pause between them, so they arrive as separate reads), then read until close or `idleMs` of silence. */
export async function rawExchange(port: number, segments: (string | Buffer)[], opts: { gapMs?: number; idleMs?: number } = {}): Promise<RawResult> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let closed = false;
  let last = Date.now();
  socket.on("data", (d) => {
    chunks.push(d);
    last = Date.now();
  });
  socket.on("error", () => {});
  const ended = new Promise<void>((r) => socket.once("close", () => r()));
  socket.once("close", () => {
    closed = true;
  });
  await new Promise<void>((r, j) => socket.once("connect", r).once("error", j));
  for (const [i, s] of segments.entries()) {
    if (i > 0) await sleep(opts.gapMs ?? 40);
    if (closed || socket.destroyed) break;
    socket.write(typeof s === "string" ? Buffer.from(s, "latin1") : s);
  }
  const idle = opts.idleMs ?? 400;
  last = Date.now();
  while (!closed && Date.now() - last < idle) await Promise.race([ended, sleep(25)]);
  socket.destroy();
  const text = Buffer.concat(chunks).toString("latin1");
  return { statuses: [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])), closed, text };
}
