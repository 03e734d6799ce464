/**
 * A completions prompt given as token ids cannot be scanned (the gateway has no tokenizer for the
 * deployment's model), so it is refused — 400 `unscannable_request`, audited, nothing sent upstream —
 * unless the route passes what it cannot scan (onUnknownShape: pass). Text prompts are unaffected.
 */
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../../src/store/gateway.js";
import { gatewayOnRecordingUpstream, TEST_KEY } from "../support/test-gateway.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function setup() {
  const t = await gatewayOnRecordingUpstream("  - { model: strict, targets: [only] }\n  - { model: lenient, targets: [only], onUnknownShape: pass }\n");
  closers.push(t.close);
  const complete = (model: string, prompt: unknown) =>
    fetch(`${t.g.gw.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model, prompt, max_tokens: 4 }),
    });
  return { ...t, complete };
}

describe("completions prompts of token ids", () => {
  it.each([
    ["one prompt of token ids", [1, 2, 3]],
    ["a batch of token-id prompts", [[1, 2, 3]]],
    ["a batch with one token-id prompt among empty ones", [[], [40, 41]]],
  ])("%s: refused and audited, nothing sent upstream", async (_, prompt) => {
    const { up, g, complete } = await setup();
    const r = await complete("strict", prompt);
    const j = (await r.json()) as { error: { code: string; message: string } };
    expect(r.status).toBe(400);
    expect(j.error.code).toBe("unscannable_request");
    expect(j.error.message).toMatch(/token ids/);
    expect(j.error.message).toMatch(/onUnknownShape: pass/);
    expect(up.received).toHaveLength(0);
    const rows = await listAudit(g.store.db);
    expect(rows.map((x) => [x.route, x.action, x.status])).toEqual([["strict", "failed", 400]]);
  });

  it("forwarded when the route passes what it cannot scan, and text prompts are served either way", async () => {
    const { up, complete } = await setup();
    expect((await complete("lenient", [[1, 2, 3]])).status).toBe(200);
    expect(JSON.parse(up.received[0]?.body ?? "{}").prompt).toEqual([[1, 2, 3]]);
    expect((await complete("strict", "hello there")).status).toBe(200);
    expect((await complete("strict", ["a", "b"])).status).toBe(200);
    expect((await complete("strict", [[]])).status).toBe(200); // no token at all: nothing unscanned
    expect(up.received).toHaveLength(4);
  });
});
