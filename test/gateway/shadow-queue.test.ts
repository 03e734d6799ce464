/**
 * The shadow queue is bounded and never holds the caller: with a shadow deployment that does not
 * answer until released, the callers get the primary's answers at once, requests beyond maxQueue
 * are dropped and counted, and the ones queued complete their pairs once it answers.
 */
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { loadShadowCounters, loadShadowResults } from "../../src/store/index.js";
import { tempDir, writeFiles } from "../support/project.js";
import { defaultAnswer, startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe("shadow queue", () => {
  it("drops and counts beyond maxQueue, and never delays the caller", async () => {
    const primary = await startRecordingUpstream();
    const held: (() => void)[] = [];
    const shadow = await startRecordingUpstream((req, res: ServerResponse) => {
      held.push(() => defaultAnswer(req, res));
    });
    closers.push(primary.close, shadow.close);
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${primary.baseUrl}", model: big }
  - { id: cand, baseUrl: "${shadow.baseUrl}", model: small, shadow: { concurrency: 1 } }
routes:
  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1, maxQueue: 2 }
`,
    });
    const g = await startTestGateway(dir, "wb.db");
    closers.push(() => g.store.close());
    const ask = async (i: number) => {
      const t0 = performance.now();
      const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "support", messages: [{ role: "user", content: `q${i}` }] }),
      });
      await r.text();
      return { status: r.status, ms: performance.now() - t0 };
    };
    // One at a time, so the queue's state is known: the first starts (and hangs), two wait, the rest find it full.
    const answers = [await ask(0)];
    for (let i = 0; i < 200 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10)); // the first is in flight on the shadow
    for (let i = 1; i < 6; i++) answers.push(await ask(i));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2000); // the hung shadow holds nobody
    for (let i = 0; i < 100 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(shadow.received).toHaveLength(1); // concurrency 1: only the first is in flight
    // Release the shadow deployment: each answer lets the next queued request through.
    const release = setInterval(() => {
      for (const h of held.splice(0)) h();
    }, 5);
    await g.gw.close();
    clearInterval(release);
    expect(shadow.received).toHaveLength(3);
    const runs = await g.store.db.selectFrom("runs").select("id").where("kind", "=", "shadow").execute();
    const ids = runs.map((r) => r.id);
    expect((await loadShadowCounters(g.store.db, ids)).get("cand")).toEqual({ dropped: 3, skippedByPolicy: 0 });
    const rows = await loadShadowResults(g.store.db, ids, "");
    expect(rows.filter((r) => r.model_id === "main")).toHaveLength(3); // primary halves only for the mirrored ones
    expect(rows.filter((r) => r.model_id === "cand" && r.error === null && r.passed === 1)).toHaveLength(3);
  });
});
