/**
 * The traffic hook's units alone (traffic.ts assembles them): the per-route queue bound
 * (queue-budget.ts) and the shadow runs (run-book.ts) on a real SQLite store — one run per route
 * and day, its row written once, the route's earlier run finished when the next day's opens.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../src/gateway/config.js";
import { QueueBudget } from "../../src/gateway/shadow/queue-budget.js";
import { ShadowRunBook } from "../../src/gateway/shadow/run-book.js";
import type { RowWrite, StoreHandle } from "../../src/store/index.js";
import { getRun, openStore } from "../../src/store/index.js";
import { writeRows } from "../../src/store/write.js";
import { tempDir } from "../support/project.js";

const stores: StoreHandle[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("QueueBudget", () => {
  it("holds a route to maxQueue jobs and maxQueueBytes, and gives room back on release", () => {
    const b = new QueueBudget();
    const limits = { maxQueue: 2, maxQueueBytes: 100 };
    expect(b.take("a", limits, 40)).toBe(true);
    expect(b.take("a", limits, 70)).toBe(false); // 110 bytes > 100
    expect(b.take("a", limits, 60)).toBe(true);
    expect(b.take("a", limits, 0)).toBe(false); // 2 jobs
    expect(b.take("b", limits, 100)).toBe(true); // routes are apart
    b.release("a", 40);
    expect(b.held("a")).toEqual({ jobs: 1, bytes: 60 });
    b.release("a", 60);
    b.release("a", 60);
    expect(b.held("a")).toEqual({ jobs: 0, bytes: 0 });
  });
});

describe("ShadowRunBook", () => {
  const config = gatewayConfigSchema.parse({
    deployments: [
      { id: "main", baseUrl: "http://127.0.0.1:1", model: "big" },
      { id: "cand", baseUrl: "http://127.0.0.1:1", model: "small" },
    ],
    routes: [{ model: "support", targets: ["main"], shadow: { targets: ["cand"], sample: 1 } }],
  });
  const route = config.routes[0] as (typeof config.routes)[number];

  it("opens one run per route and day, announces it once, and finishes the earlier day's run", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    stores.push(store);
    const book = new ShadowRunBook(store, config.deployments, "gateway.yaml", undefined);
    const day1 = await book.of(route, new Date("2026-01-01T10:00:00Z"));
    expect(day1.state.next).toBe(0);
    expect((await book.of(route, new Date("2026-01-01T23:00:00Z"))).state).toBe(day1.state);
    const into: RowWrite[] = [];
    book.announce(day1.id, day1.state, into);
    book.announce(day1.id, day1.state, into);
    expect(into).toHaveLength(1);
    await writeRows(store.db, into);
    expect((await getRun(store.db, day1.id))?.status).toBe("running");

    const day2 = await book.of(route, new Date("2026-01-02T00:00:01Z"));
    expect(day2.id).not.toBe(day1.id);
    // Finished in the background (the caller of of() does not wait for it).
    let status: string | undefined;
    for (let i = 0; i < 100 && status !== "completed"; i++) {
      status = (await getRun(store.db, day1.id))?.status;
      if (status !== "completed") await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe("completed");
    // Never announced: no row, nothing to finish.
    await book.finishAll();
    expect(await getRun(store.db, day2.id)).toBeUndefined();
  });

  it("names its run after the --shadow-run window instead of the day", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    stores.push(store);
    const book = new ShadowRunBook(store, config.deployments, "gateway.yaml", "canary-1");
    const a = await book.of(route, new Date("2026-01-01T10:00:00Z"));
    const b = await book.of(route, new Date("2026-03-01T10:00:00Z"));
    expect(a.id).toBe(b.id);
    expect(a.state.window).toBe("canary-1");
  });
});
