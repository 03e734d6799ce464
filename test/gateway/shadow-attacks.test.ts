/**
 * A hostile review of shadow mode (issue 20): values only found across messages, obfuscated or in
 * tool arguments, `name`, `user` and `stop`; the caller's key and headers; streams and embeddings;
 * a shadow that echoes or invents a value; a shadow upstream that hangs mid-answer or fails; a
 * hostile `--since`. Real HTTP to recording upstreams on 127.0.0.1, a real gateway, a real SQLite file.
 */
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { parseSince } from "../../src/gateway/shadow/since.js";
import { loadShadowCounters, loadShadowResults } from "../../src/store/index.js";
import { openStore } from "../../src/store/open.js";
import { UserError } from "../../src/util/errors.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Answer, startRecordingUpstream } from "../support/recording-upstream.js";
import { startShadowGateway } from "../support/shadow-gateway.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const EMAIL = "jane.doe@example.com";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const chatAnswer =
  (content: string): Answer =>
  (_req, res) => {
    const text = JSON.stringify({
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 3 },
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
  };

async function setup(route: string, o: { shadowAccepts?: string; shadowExtra?: string; more?: string } = {}) {
  const s = await startShadowGateway(
    {
      route,
      main: "model: big, accepts: [EMAIL, CREDIT_CARD, PHONE]",
      cand: `model: small, accepts: ${o.shadowAccepts ?? "[]"}${o.shadowExtra ?? ""}`,
      ...(o.more ? { more: o.more } : {}),
    },
    (c) => closers.push(c),
  );
  const { g, dir } = s;
  const pairs = async () => {
    const runs = await g.store.db.selectFrom("runs").select("id").where("kind", "=", "shadow").execute();
    return loadShadowResults(
      g.store.db,
      runs.map((r) => r.id),
      "",
    );
  };
  const counters = async () => {
    const runs = await g.store.db.selectFrom("runs").select("id").where("kind", "=", "shadow").execute();
    return loadShadowCounters(
      g.store.db,
      runs.map((r) => r.id),
    );
  };
  const storeBytes = () =>
    [join(dir, "wb.db"), join(dir, "wb.db-wal")]
      .map((f) => {
        try {
          return readFileSync(f).toString("latin1");
        } catch {
          return "";
        }
      })
      .join("\n");
  return { primary: s.primary, shadow: s.shadow, g, post: s.post, close: s.close, pairs, counters, storeBytes };
}

const user = (content: unknown) => ({ messages: [{ role: "user", content }] });
/** Requests whose only EMAIL is hidden somewhere a careless mirror might miss it. */
const hidden: [string, unknown][] = [
  [
    "split across two messages",
    {
      messages: [
        { role: "user", content: "write to jane.doe@" },
        { role: "user", content: "example.com please" },
      ],
    },
  ],
  [
    "split across content parts",
    user([
      { type: "text", text: "mail jane.doe" },
      { type: "text", text: "@example.com now" },
    ]),
  ],
  ["with zero-width characters", user("mail j\u200bane.d\u200coe@exa\u200dmple.com")],
  ["in fullwidth letters", user("mail ｊａｎｅ．ｄｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ")],
  ["base64-encoded", user(`decode ${Buffer.from(`contact ${EMAIL} today`).toString("base64")}`)],
  [
    "in tool-call arguments",
    {
      messages: [
        { role: "user", content: "look it up" },
        { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "find", arguments: JSON.stringify({ q: EMAIL }) } }] },
        { role: "tool", tool_call_id: "t1", content: "found" },
      ],
    },
  ],
  ["in a message's name", { messages: [{ role: "user", name: EMAIL, content: "hi" }] }],
  ["in user", { ...user("hi"), user: EMAIL }],
  ["in stop", { ...user("hi"), stop: [EMAIL] }],
];

describe("shadow mirror: the same inspection as the primary", () => {
  it("never mirrors a value hidden across messages, obfuscated, or in tool arguments, name, user, stop (reroute)", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onSensitive: reroute
    shadow: { targets: [cand], sample: 1 }
`);
    for (const [, body] of hidden) expect((await s.post("chat/completions", body)).status).toBe(200);
    await s.close();
    expect(s.primary.received).toHaveLength(hidden.length);
    expect(s.shadow.received.map((r) => r.body)).toEqual([]);
    expect((await s.counters()).get("cand")).toEqual({ dropped: 0, skippedByPolicy: hidden.length });
  });

  it("sends a redact route's shadow the placeholders in every place, and stores none of the values", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onSensitive: redact
    shadow: { targets: [cand], sample: 1 }
`);
    for (const [, body] of hidden) expect((await s.post("chat/completions", body)).status).toBe(200);
    await s.close();
    expect(s.shadow.received).toHaveLength(hidden.length);
    hidden.forEach(([what], i) => {
      const got = s.shadow.received[i]?.body ?? "";
      expect(got, what).toContain("[EMAIL_");
      for (const piece of ["jane.doe", "example.com", "j\u200bane", "ｊａｎｅ", Buffer.from(`contact ${EMAIL}`).toString("base64").slice(0, 12)])
        expect(got, what).not.toContain(piece);
    });
    const bytes = s.storeBytes();
    for (const piece of ["jane.doe", "ｊａｎｅ", "j\u200bane"]) expect(bytes).not.toContain(piece);
  });

  it('sends the shadow the body the primary got, model apart, even for a shape passed unread (stream: "true")', async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onUnknownShape: pass
    shadow: { targets: [cand], sample: 1 }
`);
    const body = { ...user("hi"), stream: "true", user: "u-1", stop: ["END"], temperature: 0.2, extra_field: { a: 1 } };
    expect((await s.post("chat/completions", body)).status).toBe(200);
    await s.close();
    const { model: pm, ...primary } = JSON.parse(s.primary.received[0]?.body ?? "{}");
    const { model: sm, ...shadow } = JSON.parse(s.shadow.received[0]?.body ?? "{}");
    expect([pm, sm]).toEqual(["big", "small"]);
    expect(shadow).toEqual(primary);
    expect(shadow.stream).toBe(false); // as the gateway read it: an upstream that coerces "true" would stream
  });

  it("forwards neither the caller's key nor its headers to the shadow deployment", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1 }
`);
    expect((await s.post("chat/completions", user("hi"), { "x-tenant-secret": "tenant-42-secret", cookie: "sid=abc123" })).status).toBe(200);
    await s.close();
    expect(s.shadow.received).toHaveLength(1);
    const h = JSON.stringify(s.shadow.received[0]?.headers);
    for (const v of [TEST_KEY, "tenant-42-secret", "abc123"]) expect(h).not.toContain(v);
  });

  it("mirrors no streamed request and no embeddings, and a completion only under the policy", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onSensitive: reroute
    shadow: { targets: [cand], sample: 1 }
`);
    const streamed = await s.post("chat/completions", { ...user(`mail ${EMAIL}`), stream: true });
    expect(streamed.status).toBe(200);
    expect((await s.post("embeddings", { input: `mail ${EMAIL}` })).status).toBe(200);
    expect((await s.post("completions", { prompt: `mail ${EMAIL}` })).status).toBe(200);
    expect((await s.post("completions", { prompt: "opening hours?" })).status).toBe(200);
    await s.close();
    expect(s.shadow.all()).not.toContain("jane.doe");
    expect(s.shadow.received.map((r) => r.path)).toEqual(["/v1/completions"]);
  });
});

describe("shadow answers", () => {
  it("stores no value the shadow model echoes or invents, in its half or the primary's", async () => {
    const s = await setup(
      `  - model: support
    targets: [main]
    onSensitive: reroute
    onSensitiveResponse: audit
    shadow: { targets: [cand], sample: 1 }
`,
      { shadowAccepts: "[EMAIL]" },
    );
    s.primary.setAnswer(chatAnswer(`I wrote to ${EMAIL}`));
    s.shadow.setAnswer(chatAnswer(`I wrote to ${EMAIL} and to john.roe@example.org, card 4111 1111 1111 1111`));
    expect((await s.post("chat/completions", user(`mail ${EMAIL}`))).status).toBe(200);
    await s.close();
    expect(s.shadow.all()).toContain(EMAIL); // it accepts EMAIL
    const rows = await s.pairs();
    expect(rows.map((r) => r.model_id).sort()).toEqual(["cand", "main"]);
    const stored = JSON.stringify(rows);
    for (const v of ["jane.doe", "john.roe", "4111"]) expect(stored).not.toContain(v);
    expect(s.storeBytes()).not.toContain("john.roe");
  });

  it("sends a judge no value either answer holds, plain or obfuscated, whatever the judge accepts", async () => {
    const judge = await startRecordingUpstream(chatAnswer('{"score": 4, "reason": "as good"}'));
    closers.push(judge.close);
    const s = await setup(
      `  - model: support
    targets: [main]
    onSensitive: reroute
    onSensitiveResponse: audit
    shadow: { targets: [cand], sample: 1, compare: [{ type: llm-judge, deployment: judge }] }
`,
      { shadowAccepts: "[EMAIL]", more: `  - { id: judge, baseUrl: "${judge.baseUrl}", model: j, accepts: [EMAIL, CREDIT_CARD] }\n` },
    );
    const b64 = Buffer.from(`contact ${EMAIL} today`).toString("base64");
    s.primary.setAnswer(chatAnswer(`wrote to j\u200bane.d\u200coe@exa\u200dmple.com and ｊａｎｅ．ｄｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`));
    s.shadow.setAnswer(chatAnswer(`wrote to ${EMAIL}; note ${b64}`));
    expect((await s.post("chat/completions", user(`mail ${EMAIL} please`))).status).toBe(200);
    await s.close();
    const judged = judge.received.find((r) => r.path.endsWith("/chat/completions"));
    expect(judged?.body).toContain("[EMAIL_");
    for (const piece of ["jane.doe", "j\u200bane", "ｊａｎｅ", b64.slice(0, 12)]) expect(judge.all()).not.toContain(piece);
    const stored = JSON.stringify(await s.pairs());
    for (const piece of ["jane.doe", "j\u200bane", "ｊａｎｅ", "\\u200b", b64.slice(0, 12)]) expect(stored).not.toContain(piece);
  });

  it("redacts a large primary answer (off the event loop) before storing it in the pair and the capture", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onSensitiveResponse: audit
    shadow: { targets: [cand], sample: 1 }
    capture: { sample: 1 }
`);
    const filler = "The order shipped on time and the customer was told. ".repeat(6000); // ~320 KB
    s.primary.setAnswer(chatAnswer(`${filler} write to ${EMAIL} ${filler} card 4111 1111 1111 1111`));
    const r = await s.post("chat/completions", user("hi"));
    expect(r.status).toBe(200);
    expect(r.body).toContain(EMAIL); // the route only audits answers: the caller's answer is unchanged
    await s.close();
    const main = (await s.pairs()).find((x) => x.model_id === "main");
    const captured = await s.g.store.db.selectFrom("gateway_captures").selectAll().execute();
    expect(main?.output).toContain("[EMAIL_1]");
    expect(captured[0]?.answer).toContain("[CREDIT_CARD_1]");
    for (const text of [main?.output ?? "", captured[0]?.answer ?? ""]) {
      expect(text).not.toContain("jane.doe");
      expect(text).not.toContain("4111");
      expect(text.length).toBeGreaterThan(600_000);
    }
  });

  it("keeps the caller's answer when the shadow answers 10 MB holding a value, and stores it redacted", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1 }
`);
    s.primary.setAnswer(chatAnswer("primary says hi"));
    s.shadow.setAnswer(chatAnswer(`${"y".repeat(10 * 1024 * 1024)} mail ${EMAIL}`));
    const r = await s.post("chat/completions", user("hi"));
    expect(JSON.parse(r.body).choices[0].message.content).toBe("primary says hi");
    await s.close();
    const cand = (await s.pairs()).find((x) => x.model_id === "cand");
    expect(cand?.error).toBeNull();
    expect(cand?.output?.endsWith("mail [EMAIL_1]")).toBe(true);
    expect(cand?.output).not.toContain("jane.doe");
  });

  it("keeps the caller's answer when the shadow fails with 500s, and stores the failure", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1 }
`);
    s.primary.setAnswer(chatAnswer("primary says hi"));
    s.shadow.setAnswer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `boom for ${EMAIL}` } }));
    });
    for (let i = 0; i < 3; i++) expect(JSON.parse((await s.post("chat/completions", user("hi"))).body).choices[0].message.content).toBe("primary says hi");
    await s.close();
    const rows = await s.pairs();
    const shadowRows = rows.filter((r) => r.model_id === "cand");
    expect(shadowRows).toHaveLength(3);
    for (const r of shadowRows) expect(r.error).toMatch(/HTTP 500/);
    expect(JSON.stringify(rows)).not.toContain("jane.doe");
  });

  it("gives up on a shadow upstream that sends its head and then hangs, freeing the lane for the next job", async () => {
    const s = await setup(
      `  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1 }
`,
      { shadowExtra: ", timeout: 300ms, shadow: { concurrency: 1 }" },
    );
    const hung: ServerResponse[] = [];
    s.shadow.setAnswer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"choices":[{"index":0,"message":{"role":"assistant","content":"wa');
      hung.push(res); // never ended
    });
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) expect((await s.post("chat/completions", user(`q${i}`))).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2000);
    // One lane slot: each hung answer must be abandoned for the next job to reach the upstream.
    const until = performance.now() + 5000;
    while (s.shadow.received.length < 3 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(s.shadow.received).toHaveLength(3);
    await s.close();
    const shadowRows = (await s.pairs()).filter((r) => r.model_id === "cand");
    expect(shadowRows.length).toBeGreaterThanOrEqual(2);
    for (const r of shadowRows) expect(r.error).toBeTruthy();
    for (const res of hung) res.destroy();
  });
});

describe("a failing store under shadowing", () => {
  it("never turns the caller's answer into an error, and mirrors again once the store recovers", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1 }
`);
    s.primary.setAnswer(chatAnswer("primary says hi"));
    // The shadow run's first query (its next case index) fails: the table is gone for a moment.
    await sql`ALTER TABLE results RENAME TO results_gone`.execute(s.g.store.db);
    const first = await s.post("chat/completions", user("q1"));
    await sql`ALTER TABLE results_gone RENAME TO results`.execute(s.g.store.db);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).choices[0].message.content).toBe("primary says hi");
    const second = await s.post("chat/completions", user("q2"));
    expect(second.status).toBe(200);
    await s.close();
    expect(s.shadow.received.map((r) => JSON.parse(r.body).messages[0].content)).toEqual(["q2"]);
    expect((await s.pairs()).map((r) => r.model_id).sort()).toEqual(["cand", "main"]);
  });
});

describe("shadow queue bounded by bytes", () => {
  it("drops and counts mirrored requests once the bodies waiting pass maxQueueBytes, whatever maxQueue allows", async () => {
    const s = await setup(
      `  - model: support
    targets: [main]
    shadow: { targets: [cand], sample: 1, maxQueue: 1000, maxQueueBytes: 300000 }
`,
      { shadowExtra: ", shadow: { concurrency: 1 }" },
    );
    const held: (() => void)[] = [];
    s.shadow.setAnswer((req, res) => held.push(() => chatAnswer("ok")(req, res)));
    const big = "x".repeat(60_000);
    // One at a time: the first leaves the queue (in flight, hung), the next wait until their bytes pass the bound.
    expect((await s.post("chat/completions", user(`${big} 0`))).status).toBe(200);
    for (let i = 0; i < 200 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    for (let i = 1; i < 8; i++) expect((await s.post("chat/completions", user(`${big} ${i}`))).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(4000);
    const release = setInterval(() => {
      for (const h of held.splice(0)) h();
    }, 5);
    await s.close();
    clearInterval(release);
    const c = (await s.counters()).get("cand");
    // Each waiting job holds ~2 × (60 KB request + answer) ≈ 120 KB: two fit under 300 KB, five are dropped.
    expect(c).toEqual({ dropped: 5, skippedByPolicy: 0 });
    expect(s.shadow.received).toHaveLength(3);
  });
});

describe("capture retention", () => {
  it("deletes expired captures from the file's bytes, not only from the table", async () => {
    const up = await startRecordingUpstream();
    closers.push(up.close);
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${up.baseUrl}", model: big }
routes:
  - model: support
    targets: [main]
    capture: { sample: 1, retentionDays: 30, redact: true }
`,
    });
    const store = await openStore(join(dir, "wb.db"));
    const marker = "EXPIRED-CAPTURE-TEXT-zq9";
    const old = (id: string) => ({
      id,
      route: "support",
      time: new Date(Date.now() - 40 * 86_400_000).toISOString(),
      deployment: "main",
      request_json: JSON.stringify([{ role: "user", content: `${marker} ${id}` }]),
      answer: `${marker} answer ${id}`,
      classes_json: "{}",
      request_sha256: id,
    });
    await store.db
      .insertInto("gateway_captures")
      .values([old("a"), old("b"), old("c")])
      .execute();
    await store.close();
    // A gateway start purges expired captures; its store is then closed (the WAL checkpointed into the file).
    const g = await startTestGateway(dir, "wb.db");
    for (let i = 0; i < 100; i++) {
      if ((await g.store.db.selectFrom("gateway_captures").select("id").execute()).length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await g.close();
    const bytes = ["wb.db", "wb.db-wal"]
      .map((f) => {
        try {
          return readFileSync(join(dir, f)).toString("latin1");
        } catch {
          return "";
        }
      })
      .join("");
    expect(bytes).not.toContain(marker);
  });
});

describe("--since", () => {
  it.each(["99999999999999999d", "1e5d", "-7d", "7w", "2026-13-45", "9999-99-99T99:99Z", "", "7d; drop table runs"])("refuses %j with a UserError", (text) => {
    expect(() => parseSince(text)).toThrow(UserError);
  });
  it("reads a look-back and a date", () => {
    expect(parseSince("1d", Date.parse("2026-12-02T00:00:00Z"))).toBe("2026-12-01T00:00:00.000Z");
    expect(parseSince("2026-11-30")).toBe("2026-11-30T00:00:00.000Z");
  });
});
