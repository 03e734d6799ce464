/**
 * Capture (issue 20): a route's sampled requests and the primary's answers are stored with every
 * detected value replaced by its placeholder — the SQLite file's bytes hold no value — and deleted
 * after the retention period; `suite from-traffic` turns them into a suite that `validate` accepts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { startGateway } from "../../src/gateway/server.js";
import { loadCaptures, openStore } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const VALUES = ["jane.doe@example.com", "4111 1111 1111 1111", "078-05-1120", "DE89370400440532013000", "Bluebird"];

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function gatewayWithCapture(dir: string, upstreamUrl: string) {
  writeFiles(dir, {
    "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${upstreamUrl}", model: big, accepts: [EMAIL, CREDIT_CARD, US_SSN, IBAN, PROJECT] }
routes:
  - model: support
    targets: [main]
    onSensitive: reroute
    capture: { sample: 1, retentionDays: 30, redact: true }
classes:
  - { name: PROJECT, terms: [Bluebird] }
store: wb.db
`,
  });
  return startTestGateway(dir, "wb.db");
}

const ask = (url: string, messages: unknown[]) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "support", messages }),
  }).then((r) => r.status);

describe("capture", () => {
  it("stores requests and answers with placeholders only, drops expired ones, and builds a valid suite", async () => {
    // The upstream repeats the request in its answer: the answer's values must not be stored either.
    const up = await startRecordingUpstream((req, res) => {
      const content = (JSON.parse(req.body) as { messages: { content: string }[] }).messages.map((m) => m.content).join(" ");
      const text = JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: `You said: ${content}` }, finish_reason: "stop" }] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    });
    closers.push(up.close);
    const dir = tempDir();
    const g = await gatewayWithCapture(dir, up.baseUrl);
    const user = (content: string) => [
      { role: "system", content: "You are the support bot." },
      { role: "user", content },
    ];
    expect(await ask(g.gw.url, user(`mail ${VALUES[0]}, card ${VALUES[1]}`))).toBe(200);
    expect(await ask(g.gw.url, user(`my SSN is ${VALUES[2]} and IBAN ${VALUES[3]} for project ${VALUES[4]}`))).toBe(200);
    expect(await ask(g.gw.url, user("what are your opening hours?"))).toBe(200);
    expect(await ask(g.gw.url, user("what are your opening hours?"))).toBe(200); // a duplicate
    expect(await ask(g.gw.url, [...user("hi"), { role: "assistant", content: "hello" }, { role: "user", content: "and?" }])).toBe(200); // two user turns
    // An expired capture, written as if 40 days ago: the next start deletes it.
    await g.store.db
      .insertInto("gateway_captures")
      .values({
        id: "old",
        route: "support",
        time: new Date(Date.now() - 40 * 86_400_000).toISOString(),
        deployment: "main",
        request_json: "[]",
        answer: "",
        classes_json: "{}",
        request_sha256: "x",
      })
      .execute();
    await g.close();

    for (const f of ["wb.db", "wb.db-wal"]) {
      let bytes = "";
      try {
        bytes = readFileSync(join(dir, f)).toString("latin1");
      } catch {}
      for (const v of VALUES) expect(bytes, `${f} holds ${v}`).not.toContain(v);
      expect(bytes).not.toContain("4111");
    }

    const store = await openStore(join(dir, "wb.db"));
    const g2 = await startGateway({ config: loadGatewayConfig(join(dir, "gateway.yaml")), store }); // purges at start
    await g2.close();
    const rows = await loadCaptures(store.db, "support", "");
    await store.close();
    expect(rows.map((r) => r.id)).not.toContain("old");
    expect(rows).toHaveLength(5);
    expect(rows[0]?.request_json).toContain("[EMAIL_1]");
    expect(rows[0]?.answer).toContain("[CREDIT_CARD_1]");
    expect(rows[1]?.request_json).toContain("[PROJECT_1]");

    const out = join(dir, "suite.yaml");
    const r = await runCli([
      "suite",
      "from-traffic",
      "-c",
      join(dir, "gateway.yaml"),
      "--route",
      "support",
      "--since",
      "7d",
      "--limit",
      "500",
      "--stratify-by",
      "classes",
      "-o",
      out,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote 3 cases .*5 captured, 1 duplicates, 1 left out/);
    const suite = parse(readFileSync(out, "utf8"));
    expect(suite.system).toBe("You are the support bot.");
    expect(suite.prompt).toBe("{{input}}");
    expect(suite.cases.map((c: { vars: { input: string } }) => c.vars.input)).toContain("what are your opening hours?");
    const hours = suite.cases.find((c: { vars: { input: string } }) => c.vars.input === "what are your opening hours?");
    expect(hours.expect).toEqual({ type: "equals", value: "You said: You are the support bot. what are your opening hours?" });
    for (const v of VALUES) expect(readFileSync(out, "utf8")).not.toContain(v);

    writeFiles(dir, {
      "weightbridge.yaml": `models:
  - { id: cand, provider: openai-compatible, baseUrl: "${up.baseUrl}", model: small }
suites: [suite.yaml]
`,
    });
    const v = await runCli(["validate", "--offline", "-c", join(dir, "weightbridge.yaml")]);
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);

    const judged = await runCli(["suite", "from-traffic", "-c", join(dir, "gateway.yaml"), "--judge", "Is it as helpful as the reference?", "-o", out]);
    expect(judged.code).toBe(0);
    expect(parse(readFileSync(out, "utf8")).cases[0].expect).toEqual({ type: "llm-judge", rubric: "Is it as helpful as the reference?" });
  });

  it("refuses a suite from a route without captures with a hint", async () => {
    const up = await startRecordingUpstream();
    closers.push(up.close);
    const dir = tempDir();
    const g = await gatewayWithCapture(dir, up.baseUrl);
    await g.close();
    const r = await runCli(["suite", "from-traffic", "-c", join(dir, "gateway.yaml"), "-o", join(dir, "s.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no usable captured request on route "support"/);
    expect(r.stderr).toMatch(/hint:/);
  });
});
