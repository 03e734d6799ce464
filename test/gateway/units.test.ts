/** The gateway's units alone: the JSON walk, the key ring, the router's cool-downs, the request shapes. */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Deployment, Route } from "../../src/gateway/config.js";
import { JsonTooDeep, replaceSlots, walkJson } from "../../src/gateway/json-walk.js";
import { hashKey, KeyRing, MAX_TOKEN_LENGTH } from "../../src/gateway/keyring.js";
import { shapeProblem } from "../../src/gateway/request-shape.js";
import { Router } from "../../src/gateway/router.js";
import { insertKey, revokeKey } from "../../src/store/gateway.js";
import { openStore, type StoreHandle } from "../../src/store/open.js";
import { tempDir } from "../support/project.js";

const stores: StoreHandle[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("json walk", () => {
  it("finds every string, key and long number in document order, and puts changed ones back", () => {
    const v = { a: ["x", { "k@y": 1234567 }], b: 12, c: null, d: "z" };
    const slots = walkJson(v);
    expect(slots.map((s) => [s.at, s.text])).toEqual([
      ["key", "a"],
      ["value", "x"],
      ["key", "k@y"],
      ["number", "1234567"],
      ["key", "b"],
      ["key", "c"],
      ["key", "d"],
      ["value", "z"],
    ]);
    const out = replaceSlots(
      v,
      slots,
      slots.map((s) => (s.text === "k@y" ? "K" : s.text === "1234567" ? "[N]" : s.text === "z" ? "Z" : s.text)),
    );
    expect(out).toEqual({ a: ["x", { K: "[N]" }], b: 12, c: null, d: "Z" });
    expect(v.a[1]).toEqual({ "k@y": 1234567 }); // the original is not changed
  });

  it("bounds depth without recursion", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => walkJson(deep)).toThrow(JsonTooDeep);
    expect(walkJson(deep, { maxDepth: 200 })).toHaveLength(1);
  });
});

describe("key ring", () => {
  it("finds keys created after it loaded, forgets revoked ones, refuses over-long tokens, and keeps nothing per unknown token", async () => {
    const store = await openStore(join(tempDir(), "s.db"));
    stores.push(store);
    const ring = new KeyRing(store.db, { refreshMs: 60_000, missReloadMs: 50 });
    await ring.load();
    await insertKey(store.db, { name: "late", keyHash: hashKey("wb_late"), routes: null, rpm: null, tpm: null, budgetUsd: null });
    expect((await ring.lookup("Bearer wb_late"))?.name).toBe("late");
    expect(await ring.lookup("Bearer wb_unknown")).toBeUndefined();
    expect(await ring.lookup("Basic wb_late")).toBeUndefined();
    expect(await ring.lookup(`Bearer ${"a".repeat(MAX_TOKEN_LENGTH + 1)}`)).toBeUndefined();
    const heap = process.memoryUsage().heapUsed;
    await Promise.all(Array.from({ length: 2000 }, (_, i) => ring.lookup(`Bearer ${"r".repeat(200)}${i}`)));
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(20 * 1024 * 1024); // 2,000 x 200-byte tokens are not kept
    await revokeKey(store.db, "late");
    const fresh = new KeyRing(store.db);
    await fresh.load();
    expect(await fresh.lookup("Bearer wb_late")).toBeUndefined();
  });
});

describe("router", () => {
  const dep = (id: string, accepts: string[] = []): Deployment => ({ id, baseUrl: "http://x/v1", model: "m", accepts, timeout: "1s" }) as Deployment;
  const route = { model: "r", targets: ["a", "b"], onSensitive: "reroute" } as Route;
  it("skips deployments cooling down, and says how long to wait when all are", () => {
    const r = new Router([dep("a", ["EMAIL"]), dep("b", ["EMAIL"])]);
    r.coolDown("a", 5000, 1000);
    const first = r.route(route, ["EMAIL"], 2000);
    expect(first.action === "reroute" && first.targets.map((t) => t.deployment.id)).toEqual(["b"]);
    r.coolDown("b", 1000, 2000);
    expect(r.route(route, ["EMAIL"], 2500)).toEqual({ action: "wait", retryAfterMs: 500 });
    expect(r.route(route, ["SECRET"], 2500).action).toBe("block");
  });
});

describe("request shapes", () => {
  it("knows the OpenAI shapes and names what it does not understand", () => {
    expect(shapeProblem("chat", { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "x" }] }], stream: true })).toBeUndefined();
    expect(shapeProblem("completions", { model: "m", prompt: [[1, 2]] })).toBeUndefined();
    expect(shapeProblem("chat", { model: "m", messages: [{ role: "user", content: "x" }], extra: 1 })).toBe('the body: unknown field "extra"');
    expect(shapeProblem("chat", { model: "m", messages: [{ role: "user", content: [{ type: "video", v: "x" }] }] })).toMatch(/^messages\.0\.content/);
    expect(shapeProblem("embeddings", { model: "m", input: [[1], "x"] })).toMatch(/^input/);
  });
});
