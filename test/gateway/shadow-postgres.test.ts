/**
 * Shadow mode and capture on a PostgreSQL store (a throwaway server): the primary halves and
 * captures ride the audit commits, the shadow thread writes its halves over its own connection,
 * counts and the report read back as on SQLite.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { buildShadowReport, hashKey, startGateway } from "../../src/gateway/index.js";
import { insertKey, loadCaptures, openStore } from "../../src/store/index.js";
import { type Postgres, startPostgres } from "../support/postgres.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startRecordingUpstream } from "../support/recording-upstream.js";

let pg: Postgres | undefined;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

describe("shadow mode on PostgreSQL", () => {
  it("stores pairs, counts and captures, and reports them", async () => {
    const primary = await startRecordingUpstream();
    const cand = await startRecordingUpstream();
    const url = await (pg as Postgres).database();
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${primary.baseUrl}", model: big, accepts: [EMAIL] }
  - { id: cand, baseUrl: "${cand.baseUrl}", model: small }
routes:
  - model: support
    targets: [main]
    onSensitive: reroute
    shadow: { targets: [cand] }
    capture: { sample: 1 }
`,
    });
    const config = loadGatewayConfig(join(dir, "gateway.yaml"));
    const store = await openStore(url);
    try {
      await insertKey(store.db, { name: "bot", keyHash: hashKey("wb_pg"), routes: null, rpm: null, tpm: null, budgetUsd: null });
      const gw = await startGateway({ config, store });
      for (const content of ["hello", "opening hours?", "mail me at jane@example.com"]) {
        const r = await fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: "Bearer wb_pg", "content-type": "application/json" },
          body: JSON.stringify({ model: "support", messages: [{ role: "user", content }] }),
        });
        expect(r.status).toBe(200);
      }
      await gw.close();
      expect(cand.all()).not.toContain("jane@example.com");
      const report = await buildShadowReport(store, config, { route: "support", since: "", criteria: { minAgreement: 0.5 } });
      expect(report.candidates[0]).toMatchObject({ id: "cand", pairs: 2, skippedByPolicy: 1, missing: 0, failed: 0, agreement: { mean: 1 } });
      const captures = await loadCaptures(store.db, "support", "");
      expect(captures).toHaveLength(3);
      expect(captures.map((c) => c.request_json).join("")).toContain("[EMAIL_1]");
      expect(captures.map((c) => c.request_json).join("")).not.toContain("jane@example.com");
      const run = await store.db.selectFrom("runs").select(["kind", "status"]).where("kind", "=", "shadow").executeTakeFirst();
      expect(run).toEqual({ kind: "shadow", status: "completed" });
    } finally {
      await store.close();
      await primary.close();
      await cand.close();
    }
  }, 60_000);
});
