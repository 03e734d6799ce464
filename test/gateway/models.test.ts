/** /v1/models lists the routes the presented key may use: a key limited to routes is not told the others exist. */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hashKey } from "../../src/gateway/server.js";
import { insertKey } from "../../src/store/gateway.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function gatewayWithRoutes(publicList: boolean) {
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `${publicList ? "public: true\n" : ""}deployments:
  - { id: only, baseUrl: "http://127.0.0.1:9/v1", model: m, accepts: [] }
routes:
  - { model: support, targets: [only] }
  - { model: billing, targets: [only] }
  - { model: internal-hr, targets: [only] }
`,
  });
  const g = await startTestGateway(dir, join(".wb", "wb.db"));
  closers.push(g.close);
  await insertKey(g.store.db, { name: "support-bot", keyHash: hashKey("wb_support_only"), routes: ["support"], rpm: null, tpm: null, budgetUsd: null });
  await insertKey(g.store.db, { name: "two", keyHash: hashKey("wb_two_routes"), routes: ["billing", "support"], rpm: null, tpm: null, budgetUsd: null });
  const list = async (key?: string) => {
    const r = await fetch(`${g.gw.url}/v1/models`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    return { status: r.status, ids: r.status === 200 ? ((await r.json()) as { data: { id: string }[] }).data.map((m) => m.id) : [] };
  };
  return list;
}

describe("/v1/models", () => {
  it("lists only the routes a route-limited key may use; all of them for a key without a list", async () => {
    const list = await gatewayWithRoutes(false);
    expect(await list(TEST_KEY)).toEqual({ status: 200, ids: ["support", "billing", "internal-hr"] });
    expect(await list("wb_support_only")).toEqual({ status: 200, ids: ["support"] });
    expect(await list("wb_two_routes")).toEqual({ status: 200, ids: ["support", "billing"] });
    expect((await list()).status).toBe(401);
    expect((await list("wb_unknown")).status).toBe(401);
  });

  it("with public: true, lists every route without a key and still only a limited key's routes with it", async () => {
    const list = await gatewayWithRoutes(true);
    expect(await list()).toEqual({ status: 200, ids: ["support", "billing", "internal-hr"] });
    expect(await list("wb_support_only")).toEqual({ status: 200, ids: ["support"] });
  });
});
