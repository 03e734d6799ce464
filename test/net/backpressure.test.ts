/**
 * Resources under a client that pipelines without reading: node:http alone dispatches every request
 * it parses (one read can hold thousands) and queues their answers in memory; the net server serves
 * one at a time per connection and stops reading while answers are not taken.
 */
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/net/index.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const ANSWER = "x".repeat(64 * 1024);
const GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const POST = `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 400\r\n\r\n${"b".repeat(400)}`;

/** Open `n` connections that each send the whole flood and never read. */
async function flood(port: number, n: number, requests = 20_000): Promise<net.Socket[]> {
  // One in ten has a body: reading a body is what made node:http resume a paused socket.
  const bytes = Array.from({ length: requests }, (_, i) => (i % 10 === 0 ? POST : GET)).join("");
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => {});
    s.pause(); // never read the answers
    await new Promise<void>((r) => s.once("connect", () => r()));
    s.write(bytes);
    sockets.push(s);
  }
  closers.push(async () => {
    for (const s of sockets) s.destroy();
  });
  return sockets;
}

describe("backpressure", () => {
  it("a client that pipelines 20,000 requests and reads nothing gets a few served; node:http alone dispatches many more", async () => {
    let served = 0;
    const s = createHttpServer({
      bodyLimit: 1024,
      closeGraceMs: 100,
      onRequest: (_req, reply) => {
        served++;
        reply.end(ANSWER);
      },
    });
    let parsed = 0;
    s.server.on("request", () => parsed++);
    const port = (await s.listen(0, "127.0.0.1")).port;
    closers.push(() => s.close());
    await flood(port, 1);
    await sleep(800);
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(500); // what the socket buffers hold, not the 20,000 asked for
    // Reading stopped too: at most a read's worth of requests parsed past the limit (not all 20,000).
    expect(parsed).toBeLessThan(served + 5000);

    let dispatched = 0;
    const bare: Server = createServer((_req, res) => {
      dispatched++;
      res.end(ANSWER);
    });
    await new Promise<void>((r) => bare.listen(0, "127.0.0.1", () => r()));
    closers.push(
      () =>
        new Promise((r) => {
          bare.closeAllConnections();
          bare.close(() => r());
        }),
    );
    await flood((bare.address() as AddressInfo).port, 1);
    await sleep(800);
    expect(dispatched).toBeGreaterThan(served * 2);
  });

  it("a slow handler with small answers: reading stops while requests wait (bodies are not buffered ahead)", async () => {
    let served = 0;
    let parsed = 0;
    const s = createHttpServer({
      bodyLimit: 1024,
      closeGraceMs: 100,
      onRequest: async (_req, reply) => {
        await sleep(2);
        served++;
        reply.end("ok");
      },
    });
    s.server.on("request", () => parsed++);
    const port = (await s.listen(0, "127.0.0.1")).port;
    closers.push(() => s.close());
    await flood(port, 1);
    await sleep(800);
    expect(served).toBeGreaterThan(0);
    // Answers are small and the client's buffers take them: only our hold stops node:http from parsing all 20,000.
    expect(parsed).toBeLessThan(served + 5000);
  });

  it("with 20 such connections open, a new client is still answered", async () => {
    const s = createHttpServer({ bodyLimit: 1024, closeGraceMs: 100, onRequest: (req, reply) => reply.end(req.url === "/healthz" ? "ok" : ANSWER) });
    const port = (await s.listen(0, "127.0.0.1")).port;
    closers.push(() => s.close());
    await flood(port, 20, 2_000);
    const r = await fetch(`http://127.0.0.1:${port}/healthz`); // how fast is bench/net-pipelining.mjs's figure, not asserted here
    expect(await r.text()).toBe("ok");
  });
});
