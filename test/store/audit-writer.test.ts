import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditRow } from "../../src/records/index.js";
import { auditWriter } from "../../src/store/audit-writer.js";
import { listAudit } from "../../src/store/gateway.js";
import { openStore } from "../../src/store/open.js";
import { tempDir } from "../support/project.js";

const row = (i: number): AuditRow => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
  key_name: `k${i}`,
  route: "support",
  deployment: "internal",
  classes: { EMAIL: 1 },
  response_classes: null,
  action: "rerouted",
  status: 200,
  input_tokens: 10,
  output_tokens: 2,
  cost_pusd: 5,
  latency_ms: 1.5,
  body: null,
});

describe("audit writer", () => {
  it("commits rows on a worker thread before their promises resolve", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    const w = auditWriter(store);
    expect(w.thread).toBeDefined();
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.write(row(i))));
    // Committed: a fresh read on the caller's own connection sees every row, values intact.
    const rows = await listAudit(store.db);
    expect(rows).toHaveLength(200);
    expect(rows[7]).toMatchObject({ key_name: "k7", classes: { EMAIL: 1 }, status: 200, cost_pusd: 5, latency_ms: 1.5 });
    await w.close();
    await store.close();
  });

  it("loses no row and writes none twice when the worker dies mid-stream", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    const w = auditWriter(store);
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.write(row(i))));
    const later = Array.from({ length: 150 }, (_, i) => w.write(row(50 + i)));
    await w.thread?.terminate(); // some of these batches are in flight, some not yet handed over
    await Promise.all(later);
    expect(w.thread).toBeUndefined(); // rows are now written on this thread
    await w.write(row(200));
    const names = (await listAudit(store.db)).map((r) => r.key_name);
    expect(names).toHaveLength(201);
    expect(new Set(names).size).toBe(201);
    await w.close();
    await store.close();
  });

  it("writes on the calling thread when asked to", async () => {
    const store = await openStore(join(tempDir(), "wb.db"));
    const w = auditWriter(store, { worker: false });
    expect(w.thread).toBeUndefined();
    await Promise.all([w.write(row(1)), w.write(row(2))]);
    expect(await listAudit(store.db)).toHaveLength(2);
    await w.close();
    await store.close();
  });
});
