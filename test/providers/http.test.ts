import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AnswerCutOffError, ClosedWithoutAnswerError } from "../../src/net/index.js";
import { closeAgents, type PoolRegistry, postJson, toProviderError } from "../../src/providers/http.js";
import { ProviderError } from "../../src/providers/types.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/chat/completions`;
}

describe("postJson (net/ undici pools) as the providers see it", () => {
  it("never sends a request again when the server closed the kept-alive socket it reused after reading it; the provider error is retryable for the eval runner and keeps the typed cause", async () => {
    const served = new Map<Socket, number>();
    let seen = 0;
    const url = await listen(
      createServer((req, res) => {
        const n = (served.get(req.socket) ?? 0) + 1;
        served.set(req.socket, n);
        req.resume();
        req.on("end", () => {
          seen++;
          // The second request on a socket meets a server that closes it without an answer.
          if (n === 2) {
            req.socket.destroy();
            return;
          }
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ n }));
        });
      }),
    );
    const pools: PoolRegistry = new Map();
    const first = await postJson(url, { a: 1 }, { headers: {}, connections: 1, pools });
    expect(JSON.parse(first.text)).toEqual({ n: 1 });
    const err = await postJson(url, { a: 2 }, { headers: {}, connections: 1, pools }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(2); // the second request reached the server exactly once
    expect(err).toBeInstanceOf(ClosedWithoutAnswerError);
    const pe = toProviderError(err) as ProviderError;
    expect(pe).toBeInstanceOf(ProviderError);
    expect(pe.retryable).toBe(true);
    expect(pe.cause).toBe(err);
    await closeAgents(pools);
  });

  it("calls an answer cut off mid-body a retryable connection error", async () => {
    const url = await listen(
      createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"partial":');
        setTimeout(() => req.socket.destroy(), 20);
      }),
    );
    const pools: PoolRegistry = new Map();
    const err = toProviderError(await postJson(url, {}, { headers: {}, connections: 1, pools }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toMatch(/^connection error/);
    expect((err as ProviderError).retryable).toBe(true);
    expect((err as ProviderError).cause).toBeInstanceOf(AnswerCutOffError);
    await closeAgents(pools);
  });

  it("stops at once on the caller's abort and frees the socket", async () => {
    const url = await listen(
      createServer((req) => {
        req.resume(); // never answers
      }),
    );
    const pools: PoolRegistry = new Map();
    const ac = new AbortController();
    const started = performance.now();
    setTimeout(() => ac.abort(new Error("stopped by the user")), 30);
    const err = await postJson(url, {}, { headers: {}, connections: 1, pools, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("stopped by the user");
    expect(performance.now() - started).toBeLessThan(1000);
    await closeAgents(pools);
  });
});
