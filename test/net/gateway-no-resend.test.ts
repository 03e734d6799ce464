/**
 * The gateway never sends a client's request to the same upstream twice: an upstream that reads a
 * request on a reused keep-alive connection and closes without answering sees it exactly once; the
 * gateway falls back to another target the data may reach, or answers 502.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../../src/store/gateway.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** An upstream that logs each request's message and, with `dropSecond`, closes every connection's second request unanswered. */
async function upstream(dropSecond: boolean) {
  const log: string[] = [];
  const perSocket = new Map<Socket, number>();
  const s: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      log.push((JSON.parse(body) as { messages: { content: string }[] }).messages[0]?.content ?? "");
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (dropSecond && n === 2) return void req.socket.destroy();
      const out = JSON.stringify({
        id: "x",
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(out);
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  closers.push(
    () =>
      new Promise((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`, log };
}

async function gateway(targets: string[], urls: Record<string, string>) {
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:
${Object.entries(urls)
  .map(([id, url]) => `  - id: ${id}\n    baseUrl: ${url}\n    model: m\n    accepts: []\n`)
  .join("")}routes:
  - model: support
    targets: [${targets.join(", ")}]
    onSensitive: block
`,
  });
  const t = await startTestGateway(dir, "gw.db");
  closers.push(t.close);
  const chat = (content: string) =>
    fetch(`${t.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content }] }),
    });
  return { chat, store: t.store };
}

describe("the gateway never re-sends a request to the same upstream", () => {
  it("one target that closes without an answer: seen once, the client gets a 502, the audit says failed", async () => {
    const a = await upstream(true);
    const { chat, store } = await gateway(["a"], { a: a.url });
    expect((await chat("first")).status).toBe(200);
    const r = await chat("second");
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/closed without an answer/);
    await sleep(100);
    expect(a.log).toEqual(["first", "second"]);
    expect((await listAudit(store.db)).map((x) => [x.action, x.status])).toEqual([
      ["accepted", 200],
      ["failed", 502],
    ]);
  });

  it("with a fallback: the failing target sees it once, the next target once", async () => {
    const a = await upstream(true);
    const b = await upstream(false);
    const { chat } = await gateway(["a", "b"], { a: a.url, b: b.url });
    expect((await chat("first")).status).toBe(200);
    expect((await chat("second")).status).toBe(200);
    await sleep(100);
    expect(a.log).toEqual(["first", "second"]);
    expect(b.log).toEqual(["second"]);
  });
});
