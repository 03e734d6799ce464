import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../../src/store/gateway.js";
import { openStore } from "../../src/store/open.js";
import { freePort } from "../support/ports.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startStub } from "../support/stub-server.js";
import { spawnLoadGateway } from "../support/test-gateway.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe("audit durability", () => {
  it("after kill -9 under load, every request that got a response has its audit row", async () => {
    const up = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" }, latencyMs: 5 });
    closers.push(() => up.close());
    const dir = tempDir();
    const port = await freePort();
    writeFiles(dir, {
      "gateway.yaml": `listen: 127.0.0.1:${port}
deployments:
  - id: internal
    baseUrl: ${up.baseUrl}
    model: m
    accepts: [EMAIL]
routes:
  - model: support
    targets: [internal]
    onSensitive: reroute
audit:
  bodies: full
`,
    });
    const dbFile = join(dir, ".weightbridge", "weightbridge.db");
    const gw = await spawnLoadGateway(dir, dbFile, (p) =>
      closers.push(() => {
        if (p.exitCode === null) p.kill("SIGKILL");
      }),
    );

    const answered: string[] = [];
    let sent = 0;
    let stop = false;
    const one = async (id: string, stream: boolean) => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer wb_load" },
        body: JSON.stringify({ model: "support", stream, messages: [{ role: "user", content: `${id} mail ${id}@example.com` }] }),
      });
      const text = await res.text(); // the whole response, or a throw when the connection dies
      if (res.status === 200 && (stream ? text.includes("[DONE]") : text.includes('"choices"'))) answered.push(id);
    };
    const worker = async (w: number) => {
      while (!stop) {
        const id = `req-${w}-${sent++}`;
        await one(id, sent % 3 === 0).catch(() => undefined);
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    // Kill it mid-traffic once it has answered enough to be sure it was under load (by count, not by
    // time: a loaded CI machine serves fewer requests a second).
    const until = Date.now() + 20_000;
    while (answered.length < 150 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    gw.kill("SIGKILL");
    await new Promise((r) => gw.once("exit", r));
    stop = true;
    await load;

    expect(answered.length).toBeGreaterThan(100); // it really was under load
    const store = await openStore(dbFile);
    closers.push(() => store.close());
    const rows = await listAudit(store.db);
    const audited = new Set<string>();
    for (const r of rows) for (const m of (r.body ?? "").matchAll(/req-\d+-\d+/g)) audited.add(m[0]);
    const missing = answered.filter((id) => !audited.has(id));
    expect(missing).toEqual([]);
    expect(rows.every((r) => r.action === "rerouted" || r.action === "accepted")).toBe(true);
  }, 30_000);
});
