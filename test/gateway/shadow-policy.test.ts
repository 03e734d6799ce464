/**
 * Shadow mode's trust boundary (issue 20): a shadow deployment never receives what it could not
 * receive as a primary target, and the pairs stored hold no detected value. Real HTTP to recording
 * upstreams on 127.0.0.1, a real gateway, a real SQLite file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { loadShadowCounters, loadShadowResults } from "../../src/store/index.js";
import { UserError } from "../../src/util/errors.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startShadowGateway } from "../support/shadow-gateway.js";

const EMAIL = "jane.doe@example.com";
const CARD = "4111 1111 1111 1111";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function setup(route: string, shadowAccepts = "[]") {
  const s = await startShadowGateway(
    {
      route,
      main: "model: big, accepts: [EMAIL, CREDIT_CARD], price: { input: 10, output: 30 }",
      cand: `model: small, accepts: ${shadowAccepts}, price: { input: 1, output: 3 }`,
    },
    (c) => closers.push(c),
  );
  const ask = (content: string) => s.post("chat/completions", { messages: [{ role: "user", content }] });
  return { primary: s.primary, shadow: s.shadow, g: s.g, ask, close: s.close, closeStore: s.closeStore, db: join(s.dir, "wb.db") };
}

describe("shadow targets under the data-class policy", () => {
  it("never mirrors a request with a class the shadow deployment does not accept (reroute), and counts it as skipped", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onSensitive: reroute
    shadow: { targets: [cand], sample: 1 }
`);
    expect((await s.ask(`my mail is ${EMAIL}, card ${CARD}`)).status).toBe(200);
    expect((await s.ask("what are your opening hours?")).status).toBe(200);
    await s.close(); // drains the shadow queue
    expect(s.primary.all()).toContain(EMAIL);
    expect(s.shadow.all()).not.toContain(EMAIL);
    expect(s.shadow.all()).not.toContain("4111");
    expect(s.shadow.received).toHaveLength(1);
    expect(JSON.parse(s.shadow.received[0]?.body ?? "{}")).toMatchObject({
      model: "small",
      messages: [{ role: "user", content: "what are your opening hours?" }],
    });
    const runs = await s.g.store.db.selectFrom("runs").selectAll().where("kind", "=", "shadow").execute();
    expect(runs).toHaveLength(1);
    const counters = await loadShadowCounters(
      s.g.store.db,
      runs.map((r) => r.id),
    );
    expect(counters.get("cand")).toEqual({ dropped: 0, skippedByPolicy: 1 });
    const rows = await loadShadowResults(s.g.store.db, [runs[0]?.id ?? ""], "");
    expect(rows.map((r) => r.model_id).sort()).toEqual(["cand", "main"]);
  });

  it("sends a redact route's shadow deployment the placeholders, and stores no value anywhere", async () => {
    const s = await setup(`  - model: support
    targets: [main]
    onSensitive: redact
    shadow: { targets: [cand], sample: 1 }
`);
    s.primary.setAnswer((_req, res) => {
      const text = JSON.stringify({
        choices: [{ index: 0, message: { role: "assistant", content: `noted, ${EMAIL}` }, finish_reason: "stop" }],
        usage: { prompt_tokens: 5, completion_tokens: 3 },
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    });
    expect((await s.ask(`my mail is ${EMAIL}, card ${CARD}`)).status).toBe(200);
    await s.close();
    expect(s.primary.all()).toContain(EMAIL); // main accepts EMAIL
    expect(s.shadow.received).toHaveLength(1);
    expect(s.shadow.all()).not.toContain(EMAIL);
    expect(s.shadow.all()).not.toContain("4111");
    expect(s.shadow.all()).toContain("[EMAIL_1]");
    // The primary half holds the request and answer redacted: neither value is in the SQLite file's bytes (WAL included).
    await s.closeStore();
    const bytes = [s.db, `${s.db}-wal`].map((f) => {
      try {
        return readFileSync(f).toString("latin1");
      } catch {
        return "";
      }
    });
    for (const b of bytes) {
      expect(b).not.toContain(EMAIL);
      expect(b).not.toContain("4111 1111");
    }
  });

  it("mirrors nothing from a block route's blocked requests", async () => {
    const s = await setup(
      `  - model: support
    targets: [main]
    onSensitive: block
    shadow: { targets: [cand], sample: 1 }
`,
      "[EMAIL, CREDIT_CARD]",
    );
    expect((await s.ask(`my mail is ${EMAIL}`)).status).toBe(403);
    await s.close();
    expect(s.shadow.received).toHaveLength(0);
  });
});

describe("shadow and capture config", () => {
  const load = (route: string) => {
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - { id: main, baseUrl: "http://127.0.0.1:1/v1", model: big }
  - { id: cand, baseUrl: "http://127.0.0.1:1/v1", model: small, shadow: { concurrency: 2, rpm: 60 } }
routes:
${route}`,
    });
    return loadGatewayConfig(join(dir, "gateway.yaml"));
  };
  it("accepts the issue's YAML with defaults", () => {
    const c = load(`  - model: support
    targets: [main]
    onSensitive: reroute
    shadow:
      targets: [cand]
      sample: 0.2
      compare: [{ type: equals }]
      maxQueue: 1000
    capture: { sample: 0.05, retentionDays: 30, redact: true }
`);
    expect(c.routes[0]?.shadow).toEqual({ targets: ["cand"], sample: 0.2, compare: [{ type: "equals" }], maxQueue: 1000, maxQueueBytes: 64 * 1024 * 1024 });
    expect(c.deployments[1]?.shadow).toEqual({ concurrency: 2, rpm: 60 });
    expect(c.deployments[0]?.shadow).toEqual({ concurrency: 4 });
  });
  it.each([
    ["an unknown shadow target", "    shadow: { targets: [nope] }\n", /gateway\.yaml:7: routes\[0\]\.shadow\.targets\[0\]: "nope" is not a deployment id/],
    ["a primary target as shadow", "    shadow: { targets: [main] }\n", /gateway\.yaml:7: .*one of the route's own targets/],
    ["a sample above 1", "    shadow: { targets: [cand], sample: 2 }\n", /gateway\.yaml:7: routes\[0\]\.shadow\.sample/],
    ["an unknown comparison", "    shadow: { targets: [cand], compare: [{ type: vibes }] }\n", /gateway\.yaml:7: routes\[0\]\.shadow\.compare\[0\]/],
    [
      "a judge that is not a deployment",
      "    shadow: { targets: [cand], compare: [{ type: llm-judge, deployment: judge }] }\n",
      /"judge" is not a deployment id/,
    ],
    [
      "capture without redaction",
      "    capture: { sample: 0.1, redact: false }\n",
      /gateway\.yaml:7: routes\[0\]\.capture\.redact: capture stores traffic only with every detected value replaced/,
    ],
  ])("refuses %s with file:line", (_what, extra, message) => {
    let err: unknown;
    try {
      load(`  - model: support\n    targets: [main]\n${extra}`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
  });
});
