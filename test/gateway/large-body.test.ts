/**
 * A large request is scanned off the event loop: while the gateway scans a ~6 MB body, /healthz
 * keeps answering in a fraction of the time that scan takes on one thread; the body is still
 * scanned whole (the value at its end is redacted).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDetectors, detectAcross } from "../../src/detect/index.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

let up: Awaited<ReturnType<typeof startRecordingUpstream>>;
let g: Awaited<ReturnType<typeof startTestGateway>>;
beforeAll(async () => {
  up = await startRecordingUpstream();
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:\n  - { id: only, baseUrl: "${up.baseUrl}", model: m }\nroutes:\n  - { model: support, targets: [only], onSensitive: redact }\n`,
  });
  g = await startTestGateway(dir, join(".wb", "wb.db"));
});
afterAll(async () => {
  await g.close();
  await up.close();
});

describe("large bodies", () => {
  it("are scanned on a worker thread, whole", async () => {
    // Text that keeps every detector busy: addresses, numbers and dotted runs.
    const unit = "ticket 12.34.56 from ops@example.com re order 4111-2222 and 10.0.0.1 ";
    const text = unit.repeat(Math.floor((6 * 1024 * 1024) / unit.length)) + " card 4111 1111 1111 1111";
    const t0 = performance.now();
    detectAcross([text], buildDetectors());
    const onThread = performance.now() - t0;

    let stop = false;
    let worst = 0;
    const probe = (async () => {
      while (!stop) {
        const s = performance.now();
        await fetch(`${g.gw.url}/healthz`);
        worst = Math.max(worst, performance.now() - s);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content: text }] }),
    });
    stop = true;
    await probe;
    expect(r.status).toBe(200);
    const sent = up.received.slice(-1)[0]?.body ?? "";
    expect(sent).not.toContain("4111 1111 1111 1111");
    expect(sent).toContain("[CREDIT_CARD_1]");
    expect(onThread).toBeGreaterThan(300); // the scan is long enough to matter
    expect(worst).toBeLessThan(onThread / 3);
  }, 60_000);
});
