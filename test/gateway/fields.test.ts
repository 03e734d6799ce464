/**
 * Hostile requests: sensitive values placed in every field a request can carry text in, on every
 * endpoint, under block, redact and reroute. What reaches the upstream is read from its own log;
 * the audit row must say what was sent (its SHA-256 and, with audit.bodies: redacted, the body).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../../src/store/gateway.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const VALUES = {
  EMAIL: "jane.doe@example.com",
  CREDIT_CARD: "4111 1111 1111 1111",
  US_SSN: "123-45-6789",
  PHONE: "+1 650 253 0000",
} as const;
type Cls = keyof typeof VALUES;

/** Where the value goes: endpoint and a body carrying `v` in one field. */
const FORMS: { name: string; path: string; body: (v: string) => Record<string, unknown> }[] = [
  { name: "message content", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: `hi ${v}` }] }) },
  { name: "message name", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", name: v, content: "hi" }] }) },
  {
    name: "content part text",
    path: "chat/completions",
    body: (v) => ({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look:" },
            { type: "text", text: v },
          ],
        },
      ],
    }),
  },
  {
    name: "image_url.url",
    path: "chat/completions",
    body: (v) => ({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `https://x.example/?q=${v}` } }] }] }),
  },
  {
    name: "tool_calls arguments",
    path: "chat/completions",
    body: (v) => ({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "lookup", arguments: JSON.stringify({ who: v }) } }] },
        { role: "tool", tool_call_id: "c1", content: "done" },
      ],
    }),
  },
  {
    name: "function_call arguments",
    path: "chat/completions",
    body: (v) => ({ messages: [{ role: "assistant", content: null, function_call: { name: "f", arguments: JSON.stringify({ a: v }) } }] }),
  },
  { name: "user", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: "hi" }], user: v }) },
  {
    name: "tools description",
    path: "chat/completions",
    body: (v) => ({ messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "f", description: `call ${v}` } }] }),
  },
  { name: "stop", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: "hi" }], stop: ["END", v] }) },
  { name: "metadata value", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: "hi" }], metadata: { customer: v } }) },
  { name: "completions prompt array", path: "completions", body: (v) => ({ prompt: ["a", `b ${v}`] }) },
  { name: "completions suffix", path: "completions", body: (v) => ({ prompt: "a", suffix: v }) },
  { name: "embeddings input array", path: "embeddings", body: (v) => ({ input: ["a", v] }) },
];

/** Shapes no API defines: refused by default, scanned when the route passes them. */
const ODD_FORMS: typeof FORMS = [
  { name: "content as bare strings", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: ["a", v] }] }) },
  { name: "content as an object", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: { text: v } }] }) },
  { name: "prompt as a mixed array", path: "completions", body: (v) => ({ prompt: [1, 2, v] }) },
  { name: "prompt as a nested array", path: "completions", body: (v) => ({ prompt: [["a", [v]]] }) },
  { name: "input as a mixed array", path: "embeddings", body: (v) => ({ input: [[1, 2], v] }) },
  { name: "an unknown top-level field", path: "chat/completions", body: (v) => ({ messages: [{ role: "user", content: "hi" }], x_note: v }) },
];

const digitsOf = (v: string) => v.replace(/\D/g, "");
/** Did this body carry the value, in its own form or as its bare digits? */
const carries = (body: string, cls: Cls) =>
  cls === "EMAIL" ? body.includes(VALUES.EMAIL) : body.includes(VALUES[cls]) || body.replace(/\D/g, "").includes(digitsOf(VALUES[cls]));

async function setup(onSensitive: "block" | "redact" | "reroute", onUnknownShape: "refuse" | "pass") {
  const ext = await startRecordingUpstream();
  const int = await startRecordingUpstream();
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:
  - { id: external, baseUrl: "${ext.baseUrl}", model: gpt-4o, accepts: [] }
  - { id: internal, baseUrl: "${int.baseUrl}", model: qwen, accepts: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS] }
routes:
  - { model: support, targets: [external, internal], onSensitive: ${onSensitive}, onUnknownShape: ${onUnknownShape} }
audit: { bodies: redacted }
`,
  });
  const g = await startTestGateway(dir, join(".wb", "wb.db"));
  const post = (path: string, body: Record<string, unknown>) =>
    fetch(`${g.gw.url}/v1/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: "support", ...body }),
    });
  return { ext, int, g, post, close: async () => (await g.close(), await ext.close(), await int.close()) };
}

describe.each(["block", "redact", "reroute"] as const)("every field, onSensitive: %s", (mode) => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup(mode, "refuse");
  });
  afterAll(async () => s.close());

  for (const form of FORMS)
    for (const cls of Object.keys(VALUES) as Cls[])
      it(`${form.name} (${form.path}) carrying ${cls}`, async () => {
        const before = { ext: s.ext.received.length, int: s.int.received.length, audit: (await listAudit(s.g.store.db)).length };
        const r = await s.post(form.path, form.body(VALUES[cls]));
        const rows = (await listAudit(s.g.store.db)).slice(before.audit);
        expect(rows).toHaveLength(1);
        const row = rows[0] as (typeof rows)[number];
        expect(row.classes[cls]).toBeGreaterThan(0);
        const toExt = s.ext.received.slice(before.ext);
        const toInt = s.int.received.slice(before.int);
        for (const req of toExt) expect(carries(req.body, cls)).toBe(false); // never to the deployment that may not see it
        if (mode === "block") {
          expect(r.status).toBe(403);
          expect(toExt.length + toInt.length).toBe(0);
          expect(row.action).toBe("blocked");
          expect(row.upstream_sha256).toBeNull();
          return;
        }
        expect(r.status).toBe(200);
        const sent = mode === "redact" ? toExt : toInt;
        expect(sent).toHaveLength(1);
        expect(toExt.length + toInt.length).toBe(1);
        const body = (sent[0] as { body: string }).body;
        expect(row.action).toBe(mode === "redact" ? "redacted" : "rerouted");
        expect(row.upstream_sha256).toBe(createHash("sha256").update(body).digest("hex"));
        expect(row.body).toBe(body); // audit.bodies: redacted stores what was sent, nothing else
        if (mode === "redact") expect(body).toContain(`[${cls}_1]`);
      });
});

describe.each(["refuse", "pass"] as const)("shapes no API defines, onUnknownShape: %s", (onUnknownShape) => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup("redact", onUnknownShape);
  });
  afterAll(async () => s.close());

  for (const form of ODD_FORMS)
    it(`${form.name}`, async () => {
      const before = s.ext.received.length + s.int.received.length;
      const r = await s.post(form.path, form.body(VALUES.CREDIT_CARD));
      const rows = await listAudit(s.g.store.db);
      const row = rows[rows.length - 1] as (typeof rows)[number];
      if (onUnknownShape === "refuse") {
        expect(r.status).toBe(400);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unknown_request_shape");
        expect(s.ext.received.length + s.int.received.length).toBe(before);
        expect([row.action, row.status]).toEqual(["failed", 400]);
        return;
      }
      expect(r.status).toBe(200);
      const sent = s.ext.received.slice(-1)[0] as { body: string };
      expect(carries(sent.body, "CREDIT_CARD")).toBe(false);
      expect(sent.body).toContain("[CREDIT_CARD_1]");
      expect(row.action).toBe("redacted");
    });
});

describe("numbers and keys", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup("redact", "pass");
  });
  afterAll(async () => s.close());

  it("a card sent as a JSON number or as an object key is redacted", async () => {
    const r = await s.post("chat/completions", {
      messages: [{ role: "user", content: "hi" }],
      seed: 4111111111111111,
      metadata: { [VALUES.EMAIL]: "x" },
    });
    expect(r.status).toBe(200);
    const body = (s.ext.received.slice(-1)[0] as { body: string }).body;
    expect(body).not.toContain("4111111111111111");
    expect(body).not.toContain(VALUES.EMAIL);
  });

  it("refuses a body nested deeper than the bound with an audited 400, and keeps serving", async () => {
    const deep = `${"[".repeat(200_000)}"x"${"]".repeat(200_000)}`;
    const r = await fetch(`${s.g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: `{"model":"support","messages":[{"role":"user","content":"hi"}],"x":${deep}}`,
    });
    expect(r.status).toBe(400);
    const rows = await listAudit(s.g.store.db);
    expect(rows[rows.length - 1]?.status).toBe(400);
    expect((await s.post("chat/completions", { messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
  });
});

/** Obfuscated and unusual formats: [class, how it is sent, pieces that must not reach a deployment that may not see it]. */
const ZW = "\u200b";
const TRICKS: { name: string; cls: string; body: Record<string, unknown>; path?: string; pieces: string[] }[] = [
  { name: "zero-width spaces in an email", cls: "EMAIL", body: msg(`mail jane${ZW}.doe@exa${ZW}mple.com`), pieces: ["jane", "mple.com"] },
  { name: "soft hyphens in a card", cls: "CREDIT_CARD", body: msg("card 4111\u00ad1111\u00ad1111\u00ad1111"), pieces: ["4111\u00ad1111"] },
  { name: "fullwidth digits", cls: "CREDIT_CARD", body: msg("card ４１１１ １１１１ １１１１ １１１１"), pieces: ["４１１１ １１１１"] },
  { name: "fullwidth @", cls: "EMAIL", body: msg("mail jane.doe＠example.com"), pieces: ["jane.doe＠"] },
  {
    name: "base64",
    cls: "EMAIL",
    body: msg(`blob ${Buffer.from("contact jane.doe@example.com now").toString("base64")}`),
    pieces: [Buffer.from("contact jane.doe@example.com now").toString("base64")],
  },
  {
    name: "hex",
    cls: "CREDIT_CARD",
    body: msg(`hex ${Buffer.from("4111111111111111").toString("hex")}`),
    pieces: [Buffer.from("4111111111111111").toString("hex")],
  },
  {
    name: "split across messages",
    cls: "CREDIT_CARD",
    body: {
      messages: [
        { role: "user", content: "my card is 4111 1111" },
        { role: "user", content: " 1111 1111 thanks" },
      ],
    },
    pieces: ["4111 1111", " 1111 1111"],
  },
  {
    name: "split across content parts",
    cls: "EMAIL",
    body: {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "write to jane.doe@exa" },
            { type: "text", text: "mple.com please" },
          ],
        },
      ],
    },
    pieces: ["jane.doe@exa"],
  },
  { name: "card with dots", cls: "CREDIT_CARD", body: msg("card 4111.1111.1111.1111"), pieces: ["4111.1111"] },
  { name: "card across a line break", cls: "CREDIT_CARD", body: msg("card 4111 1111\n1111 1111"), pieces: ["4111 1111\n1111"] },
  { name: "IBAN with dashes", cls: "IBAN", body: msg("iban DE89-3704-0044-0532-0130-00"), pieces: ["DE89-3704"] },
  { name: "SSN without dashes next to 'SSN'", cls: "US_SSN", body: msg("my SSN is 123456789"), pieces: ["123456789"] },
  { name: "quoted local part", cls: "EMAIL", body: msg('mail "jane doe"@example.com'), pieces: ['"jane doe"@'] },
  {
    name: "split across completions prompts",
    cls: "CREDIT_CARD",
    path: "completions",
    body: { prompt: ["card 4111 1111", "1111 1111"] },
    pieces: ["4111 1111"],
  },
  { name: "zero-width in embeddings input", cls: "EMAIL", path: "embeddings", body: { input: [`jane.doe@exa${ZW}mple.com`] }, pieces: ["jane.doe@exa"] },
];
function msg(content: string) {
  return { messages: [{ role: "user", content }] };
}

describe.each(["block", "redact", "reroute"] as const)("obfuscations and formats, onSensitive: %s", (mode) => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup(mode, "refuse");
  });
  afterAll(async () => s.close());

  for (const t of TRICKS)
    it(t.name, async () => {
      const before = { ext: s.ext.received.length, int: s.int.received.length };
      const r = await s.post(t.path ?? "chat/completions", t.body);
      const rows = await listAudit(s.g.store.db);
      const row = rows[rows.length - 1] as (typeof rows)[number];
      expect(row.classes[t.cls], JSON.stringify(row.classes)).toBeGreaterThan(0);
      const toExt = s.ext.received.slice(before.ext);
      for (const req of toExt) for (const p of t.pieces) expect(JSON.parse(req.body) && req.body).not.toContain(JSON.stringify(p).slice(1, -1));
      if (mode === "block") return expect([r.status, toExt.length, s.int.received.length - before.int]).toEqual([403, 0, 0]);
      expect(r.status).toBe(200);
      expect(mode === "redact" ? toExt.length : s.int.received.length - before.int).toBe(1);
      if (mode === "reroute") expect(toExt).toHaveLength(0);
    });
});
