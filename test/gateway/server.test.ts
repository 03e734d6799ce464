import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hashKey } from "../../src/gateway/server.js";
import { insertKey, listAudit } from "../../src/store/gateway.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startStub } from "../support/stub-server.js";
import { startTestGateway } from "../support/test-gateway.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const echoStub = (extra: { errorRate?: number } = {}) =>
  startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" }, ...extra });

async function setup(onSensitive: "reroute" | "redact" | "block", opts: { failA?: boolean; failB?: boolean; restore?: boolean } = {}) {
  const a = await echoStub(opts.failA ? { errorRate: 1 } : {});
  const b = await echoStub(opts.failB ? { errorRate: 1 } : {});
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:
  - id: external
    baseUrl: ${a.baseUrl}
    model: gpt-4o
    accepts: []
    price: { input: 2.5, output: 10 }
  - id: internal
    baseUrl: ${b.baseUrl}
    model: Qwen/Qwen3-30B-A3B
    accepts: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS]
routes:
  - model: support
    targets: [external, internal]
    onSensitive: ${onSensitive}
    restore: ${opts.restore ?? false}
`,
  });
  const configFile = join(dir, "gateway.yaml");
  const { gw, store, close } = await startTestGateway(dir, join(".weightbridge", "weightbridge.db")); // where the CLI finds it
  closers.push(
    async () => a.close(),
    async () => b.close(),
    close,
  );
  const chat = (content: string, extra: Record<string, unknown> = {}, key = "wb_test") =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content }], ...extra }),
    });
  return { a, b, gw, store, chat, dir, configFile };
}

const answer = async (r: Response) => ((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content;

describe("gateway", () => {
  it("requires a key, and audits the refusal", async () => {
    const { chat, store } = await setup("reroute");
    const r = await chat("hello", {}, "");
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    expect((await chat("hello", {}, "wb_wrong")).status).toBe(401);
    expect((await listAudit(store.db)).map((x) => [x.action, x.status])).toEqual([
      ["unauthorised", 401],
      ["unauthorised", 401],
    ]);
  });

  it("sends clean requests to the first target, reroutes sensitive ones, and blocks what nobody may receive", async () => {
    const { chat, a, b, store } = await setup("reroute");
    expect(await answer(await chat("Where is my parcel?"))).toBe("Where is my parcel?");
    expect(a.stats.chat).toBe(1);
    const r = await chat("My email is jane@example.com and my card 4111 1111 1111 1111");
    expect(await answer(r)).toContain("jane@example.com"); // the internal deployment may see it
    expect(b.stats.chat).toBe(1);
    expect(a.stats.chat).toBe(1);
    const blocked = await chat("Here is our key AKIAIOSFODNN7EXAMPLE and SSN 123-45-6789");
    expect(blocked.status).toBe(403);
    const err = (await blocked.json()) as { error: { code: string; classes: string[]; message: string } };
    expect(err.error.code).toBe("sensitive_data_blocked");
    expect(err.error.classes).toEqual(["SECRET", "US_SSN"]);
    expect(a.stats.chat + b.stats.chat).toBe(2); // nothing was sent upstream
    const rows = await listAudit(store.db);
    expect(rows.map((x) => [x.action, x.deployment, x.status])).toEqual([
      ["accepted", "external", 200],
      ["rerouted", "internal", 200],
      ["blocked", null, 403],
    ]);
    expect(rows[1]?.classes).toEqual({ EMAIL: 1, CREDIT_CARD: 1 });
    expect(rows[0]?.input_tokens).toBeGreaterThan(0);
    expect(rows[0]?.cost_pusd).toBeGreaterThan(0);
    // counts, never values: the email appears nowhere in the audit table
    expect(JSON.stringify(rows)).not.toContain("jane@example.com");
  });

  it("redacts what a target may not receive and can restore placeholders in the answer", async () => {
    const { chat, a } = await setup("redact", { restore: true });
    const r = await chat("Contact jane@example.com please");
    expect(await answer(r)).toBe("Contact jane@example.com please"); // restored for the caller
    expect([...a.stats.prompts.keys()]).toEqual(["Contact [EMAIL_1] please"]); // what the external model saw
  });

  it("falls back on 5xx, but never to a target the data may not reach", async () => {
    const first = await setup("reroute", { failA: true });
    expect(await answer(await first.chat("hello"))).toBe("hello");
    expect((await listAudit(first.store.db)).at(-1)?.deployment).toBe("internal");
    const second = await setup("reroute", { failB: true });
    const r = await second.chat("my email is jane@example.com");
    expect(r.status).toBe(502);
    expect(second.a.stats.chat).toBe(0);
    expect((await listAudit(second.store.db)).at(-1)).toMatchObject({ action: "failed", status: 502 });
  });

  it("streams answers through and meters tokens from the stream", async () => {
    const { chat, store } = await setup("reroute");
    const r = await chat("stream me", { stream: true });
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    const text = await r.text();
    expect(text).toContain("data: [DONE]");
    expect(text).toContain('"usage"');
    const row = (await listAudit(store.db)).at(-1);
    expect(row).toMatchObject({ action: "accepted", status: 200 });
    expect(row?.output_tokens).toBeGreaterThan(0);
  });

  it("applies the same policy to /v1/completions and /v1/embeddings", async () => {
    const { gw, a, b } = await setup("redact", { restore: true });
    const post = (path: string, body: unknown) =>
      fetch(`${gw.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer wb_test" },
        body: JSON.stringify(body),
      });
    const c = (await (await post("/v1/completions", { model: "support", prompt: "Mail jane@example.com" })).json()) as { choices: { text: string }[] };
    expect(c.choices[0]?.text).toBe("Mail jane@example.com"); // restored
    expect([...a.stats.prompts.keys()]).toEqual(["Mail [EMAIL_1]"]);
    const e = await post("/v1/embeddings", { model: "support", input: ["call +1 415 555 2671", "hello"] });
    expect(e.status).toBe(200);
    expect(((await e.json()) as { data: unknown[] }).data).toHaveLength(2);
    const bad = await post("/v1/embeddings", { model: "support", input: 42 });
    expect(bad.status).toBe(400);
    expect(b.stats.chat).toBe(0);
  });

  it("answers malformed requests with OpenAI-style errors and sends nothing upstream", async () => {
    const { a, b, gw, store } = await setup("reroute");
    const send = (path: string, init: RequestInit = {}) =>
      fetch(`${gw.url}${path}`, { method: "POST", ...init, headers: { authorization: "Bearer wb_test", "content-type": "application/json", ...init.headers } });
    const expectError = async (r: Response, status: number, code: string) => {
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    };
    await expectError(await send("/v1/chat/completions", { body: '{"model": "support", "messages": [' }), 400, "invalid_json");
    await expectError(await send("/v1/chat/completions", { body: "[1, 2]" }), 400, "invalid_request");
    await expectError(await send("/v1/chat/completions", { body: "model=support", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
    await expectError(
      await send("/v1/chat/completions", { body: JSON.stringify({ model: "support", messages: [{ role: "user", content: "x".repeat(9 * 1024 * 1024) }] }) }),
      413,
      "request_too_large",
    );
    await expectError(await send("/v1/nothing-here", { body: "{}" }), 404, "not_found");
    await expectError(await fetch(`${gw.url}/v1/chat/completions`), 405, "method_not_allowed");
    const keyless = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    await expectError(keyless, 401, "invalid_api_key");
    expect(a.stats.chat + b.stats.chat).toBe(0);
    // Each API request has its audit row, the key's name on those that carried one.
    expect((await listAudit(store.db)).map((r) => [r.key_name, r.action, r.status])).toEqual([
      ["bot", "failed", 400],
      ["bot", "failed", 400],
      ["bot", "failed", 415],
      ["bot", "failed", 413],
      [null, "unauthorised", 401],
    ]);
    // The gateway still serves after all of these.
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const auth = { headers: { authorization: "Bearer wb_test" } };
    expect(((await (await fetch(`${gw.url}/v1/models`, auth)).json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(["support"]);
    // The route list and the metrics are not public unless the config says so.
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${gw.url}/metrics`, { headers: { authorization: "Bearer wb_wrong" } })).status).toBe(401);
  });

  it("sends the deployment's own API key upstream (apiKeyEnv), never the caller's", async () => {
    const seen: (string | undefined)[] = [];
    const upstream = createServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
            usage: { prompt_tokens: 1, completion_tokens: 1 },
          }),
        );
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    closers.push(() => new Promise<void>((r) => upstream.close(() => r())));
    process.env.WB_GW_TEST_UPSTREAM_KEY = "sk-upstream-123";
    closers.push(async () => {
      delete process.env.WB_GW_TEST_UPSTREAM_KEY;
    });
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - id: hosted
    baseUrl: http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1/
    model: m
    apiKeyEnv: WB_GW_TEST_UPSTREAM_KEY
    accepts: []
routes:
  - model: support
    targets: [hosted]
    onSensitive: block
`,
    });
    const { gw, close } = await startTestGateway(dir, "wb.db");
    closers.push(close);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer wb_test" },
        body: JSON.stringify({ model: "support", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(r.status).toBe(200);
    }
    expect(seen).toEqual(["Bearer sk-upstream-123", "Bearer sk-upstream-123"]);
  });

  it("exposes Prometheus metrics", async () => {
    const { gw, chat } = await setup("reroute");
    await chat("hello");
    await chat("mail jane@example.com");
    const text = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: "Bearer wb_test" } })).text();
    expect(text).toMatch(/weightbridge_gateway_requests_total\{route="support",deployment="external",action="accepted",status="200"\} 1/);
    expect(text).toMatch(/weightbridge_gateway_sensitive_entities_total\{class="EMAIL",action="rerouted"\} 1/);
    expect(text).toMatch(/weightbridge_gateway_request_duration_seconds_count\{route="support",action="accepted"\} 1/);
    expect(text).toMatch(/weightbridge_gateway_tokens_total\{deployment="internal",direction="output"\} \d+/);
  });

  it("enforces a key's requests per minute and USD budget with 429s", async () => {
    const { store, chat } = await setup("reroute");
    await insertKey(store.db, { name: "tight", keyHash: hashKey("wb_tight"), routes: null, rpm: 2, tpm: null, budgetUsd: null });
    await insertKey(store.db, { name: "poor", keyHash: hashKey("wb_poor"), routes: null, rpm: null, tpm: null, budgetUsd: 1e-9 });
    expect((await chat("one", {}, "wb_tight")).status).toBe(200);
    expect((await chat("two", {}, "wb_tight")).status).toBe(200);
    const third = await chat("three", {}, "wb_tight");
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/limited to 2 requests per minute/);
    expect((await chat("first spend", {}, "wb_poor")).status).toBe(200); // metered: more than $1e-9
    const broke = await chat("second", {}, "wb_poor");
    expect(broke.status).toBe(429);
    expect(((await broke.json()) as { error: { message: string } }).error.message).toMatch(/spent its budget/);
    const rows = await listAudit(store.db, { key: "tight" });
    expect(rows.map((r) => r.status)).toEqual([200, 200, 429]);
  });

  it("keys are created once, listed without the key, revoked; the audit CLI lists rows and metering totals", async () => {
    const { configFile, chat } = await setup("block");
    await chat("hello");
    await chat("my SSN is 078-05-1120"); // blocked
    const created = await runCli(["keys", "create", "-c", configFile, "--name", "cli-key", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    expect(key).toMatch(/^wb_/);
    const listed = await runCli(["keys", "list", "-c", configFile, "--json"]);
    expect(listed.stdout).not.toContain(key);
    expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: "cli-key", revokedAt: null })]));
    expect((await runCli(["keys", "revoke", "cli-key", "-c", configFile])).code).toBe(0);
    expect((await runCli(["keys", "revoke", "cli-key", "-c", configFile])).code).toBe(2);
    const audit = JSON.parse((await runCli(["audit", "-c", configFile, "--json"])).stdout) as { action: string; key_name: string }[];
    expect(audit).toEqual([expect.objectContaining({ action: "accepted", key_name: "bot" }), expect.objectContaining({ action: "blocked", key_name: "bot" })]);
    const totals = JSON.parse((await runCli(["audit", "-c", configFile, "--by", "deployment", "--json"])).stdout) as {
      group: string | null;
      requests: number;
      blocked: number;
      costUsd: number;
      outputTokens: number;
    }[];
    expect(totals).toEqual([
      expect.objectContaining({ group: null, requests: 1, blocked: 1 }),
      expect.objectContaining({ group: "external", requests: 1, blocked: 0 }),
    ]);
    expect(totals[1]?.outputTokens).toBeGreaterThan(0);
    expect(totals[1]?.costUsd).toBeGreaterThan(0); // tokens × the external deployment's price
    const byKey = await runCli(["audit", "-c", configFile, "--by", "key"]);
    expect(byKey.stdout).toMatch(/bot\s+│?\s*2/);
    expect((await runCli(["audit", "-c", configFile, "--by", "model"])).code).toBe(2);
    expect(readFileSync(configFile, "utf8")).toContain("onSensitive: block");
  });
});

describe("gateway: upstream timeouts and Retry-After", () => {
  async function two(aOpts: Record<string, unknown>, yaml: (a: string, b: string) => string) {
    const behaviour = { mode: "echo" as const, accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" };
    const a = await startStub({ behaviour, ...aOpts });
    const b = await startStub({ behaviour });
    const dir = tempDir();
    writeFiles(dir, { "gateway.yaml": yaml(a.baseUrl, b.baseUrl) });
    const { gw, store, close } = await startTestGateway(dir, "db.sqlite");
    closers.push(
      async () => a.close(),
      async () => b.close(),
      close,
    );
    const chat = (content: string) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer wb_test" },
        body: JSON.stringify({ model: "support", messages: [{ role: "user", content }] }),
      });
    return { a, b, store, chat };
  }

  it("falls back when a deployment does not answer within its timeout", async () => {
    const { a, store, chat } = await two(
      { latencyMs: 3000 },
      (a, b) => `deployments:
  - { id: slow, baseUrl: ${a}, model: m, timeout: 200ms }
  - { id: fast, baseUrl: ${b}, model: m }
routes:
  - { model: support, targets: [slow, fast] }
`,
    );
    const t0 = Date.now();
    const r = await chat("hello");
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(a.stats.chat).toBe(1);
    expect((await listAudit(store.db)).at(-1)).toMatchObject({ deployment: "fast", status: 200 });
  });

  it("skips a deployment that answered 429 with Retry-After until then, and passes the wait on when nothing else may serve", async () => {
    const { a, b, chat } = await two(
      { rateLimitRate: 1, retryAfterSeconds: 30 },
      (a, b) => `deployments:
  - { id: limited, baseUrl: ${a}, model: m, accepts: [EMAIL] }
  - { id: other, baseUrl: ${b}, model: m }
routes:
  - { model: support, targets: [limited, other], onSensitive: reroute }
`,
    );
    expect((await chat("hello")).status).toBe(200); // 429 from "limited", answered by "other"
    expect((await chat("hello again")).status).toBe(200);
    expect(a.stats.chat).toBe(1); // not asked again while it cools down
    expect(b.stats.chat).toBe(2);
    const onlyLimited = await chat("mail jane@example.com"); // EMAIL may only go to "limited"
    expect(onlyLimited.status).toBe(429);
    expect(Number(onlyLimited.headers.get("retry-after"))).toBeGreaterThan(20);
    expect(((await onlyLimited.json()) as { error: { code: string } }).error.code).toBe("upstream_rate_limited");
    expect(a.stats.chat).toBe(1);
  });
});
