/**
 * A POST is never sent twice to the same upstream: an upstream that reads a request on a reused
 * keep-alive connection and closes without answering must see it once, and the gateway falls back
 * to *another* target (each target receives the request at most once), auditing both attempts.
 */

import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../../src/store/gateway.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Answers the first request on each connection, then reads the next one and hangs up. */
async function flakyUpstream() {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    let buf = "";
    let answered = 0;
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (;;) {
        const head = buf.indexOf("\r\n\r\n");
        if (head < 0) return;
        const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0);
        if (buf.length < head + 4 + len) return;
        buf = buf.slice(head + 4 + len);
        requests++;
        if (answered++ === 0) {
          const body = JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: "first" }, finish_reason: "stop" }] });
          sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
        } else sock.destroy();
      }
    });
    sock.on("close", () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe("no re-send", () => {
  it("a reused connection closed without an answer is not re-sent; the fallback is another target", async () => {
    const flaky = await flakyUpstream();
    const other = await startRecordingUpstream();
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - { id: flaky, baseUrl: "${flaky.baseUrl}", model: m }
  - { id: other, baseUrl: "${other.baseUrl}", model: m }
routes:
  - { model: support, targets: [flaky, other] }
`,
    });
    const g = await startTestGateway(dir, join(".wb", "wb.db"));
    closers.push(flaky.close, other.close, g.close);
    const chat = () =>
      fetch(`${g.gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
        body: JSON.stringify({ model: "support", messages: [{ role: "user", content: "hello" }] }),
      });
    expect((await chat()).status).toBe(200); // answered by flaky on a fresh connection
    expect(flaky.requests()).toBe(1);
    const second = await chat(); // flaky reads it on the kept-alive connection and hangs up
    expect(second.status).toBe(200);
    expect(flaky.requests()).toBe(2); // once, not re-sent on a new connection
    expect(other.received).toHaveLength(1);
    const row = (await listAudit(g.store.db)).slice(-1)[0];
    expect(row?.deployment).toBe("other");
    expect(row?.attempts?.map((a) => a.deployment)).toEqual(["flaky"]);
  });
});
