import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDetectors, detectAcross } from "../../src/detect/index.js";
import { listAudit } from "../../src/store/gateway.js";
import { gatewayOnRecordingUpstream, TEST_KEY } from "../support/test-gateway.js";

let up: Awaited<ReturnType<typeof gatewayOnRecordingUpstream>>["up"];
let g: Awaited<ReturnType<typeof gatewayOnRecordingUpstream>>["g"];
let closeAll: () => Promise<void>;

beforeAll(async () => {
  ({ up, g, close: closeAll } = await gatewayOnRecordingUpstream("  - { model: support, targets: [only], onSensitive: redact }\n"));
});
afterAll(async () => closeAll());

describe("large bodies", () => {
  it("are scanned on a worker thread, whole", async () => {
    // Text that keeps the detectors busy without being sensitive: numbers, dotted runs, stray @s.
    const unit = "Order 48213-77 shipped 12.34.56 via DHL, ref 2026-11-02 v1.2.3, box 1234 5678 9012, said hi@ there ";
    const text = unit.repeat(Math.floor((7 * 1024 * 1024) / unit.length)) + " card 4111 1111 1111 1111";
    detectAcross([text.slice(0, 100_000)], buildDetectors()); // warm, as the gateway's detectors are
    const t0 = performance.now();
    detectAcross([text], buildDetectors());
    const onThread = performance.now() - t0;

    // The gateway runs in this process: its event loop is this one. Its longest stall while it
    // handles the large body is what every other request would have waited.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content: text }] }),
    });
    delay.disable();
    const worst = delay.max / 1e6;
    expect(r.status).toBe(200);
    const sent = up.received.slice(-1)[0]?.body ?? "";
    expect(sent).not.toContain("4111 1111 1111 1111");
    expect(sent).toContain("[CREDIT_CARD_1]");
    expect(onThread).toBeGreaterThan(120); // the scan is long enough to matter
    expect(worst, `longest stall ${worst.toFixed(0)} ms; the scan on one thread ${onThread.toFixed(0)} ms`).toBeLessThan(onThread * 0.6);
  }, 60_000);

  it("refuses a request holding more sensitive values than it may hand between threads (413, audited)", async () => {
    const text = "mail ops@example.com ".repeat(12_000);
    const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content: text }] }),
    });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("request_too_complex");
    expect((await listAudit(g.store.db)).slice(-1)[0]?.status).toBe(413);
  });
});

describe("large answers", () => {
  it("an answer holding more sensitive values than a request may is withheld (502, audited)", async () => {
    const dump = "customer ops@example.com ".repeat(20_000);
    up.setAnswer((_, res) => {
      const body = JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: dump }, finish_reason: "stop" }] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });
    const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content: "list every customer" }] }),
    });
    expect(r.status).toBe(502);
    expect(await r.text()).not.toContain("ops@example.com");
    const row = (await listAudit(g.store.db)).slice(-1)[0];
    expect([row?.action, row?.status, row?.deployment]).toEqual(["failed", 502, "only"]);
  });
});
