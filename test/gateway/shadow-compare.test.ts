/**
 * Model-backed shadow comparisons (llm-judge pairwise, similarity) go to a judge / embeddings
 * deployment through the gateway, and that deployment receives the texts with every detected value
 * replaced — even when it accepts the class. Real HTTP to recording upstreams, a real gateway.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadShadowResults } from "../../src/store/index.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Answer, startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const EMAIL = "jane.doe@example.com";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Answers with the request's last user message repeated (so the answer carries the caller's value). */
const echo: Answer = (req, res) => {
  const msgs = (JSON.parse(req.body) as { messages: { content: string }[] }).messages;
  const text = JSON.stringify({
    choices: [{ index: 0, message: { role: "assistant", content: `Noted: ${msgs[msgs.length - 1]?.content}` }, finish_reason: "stop" }],
  });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(text);
};

describe("model-backed shadow comparisons", () => {
  it("ask the judge pairwise and embed, with every value replaced, and store the grades", async () => {
    const primary = await startRecordingUpstream(echo);
    const cand = await startRecordingUpstream(echo);
    const judge = await startRecordingUpstream((req, res) => {
      const text = req.path.endsWith("/embeddings")
        ? JSON.stringify({
            object: "list",
            data: (JSON.parse(req.body) as { input: string[] }).input.map((_, index) => ({ object: "embedding", index, embedding: [0.6, 0.8] })),
          })
        : JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: '{"score": 4, "reason": "as good"}' }, finish_reason: "stop" }] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    });
    closers.push(primary.close, cand.close, judge.close);
    const dir = tempDir();
    writeFiles(dir, {
      "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${primary.baseUrl}", model: big, accepts: [EMAIL] }
  - { id: cand, baseUrl: "${cand.baseUrl}", model: small, accepts: [EMAIL] }
  - { id: judge, baseUrl: "${judge.baseUrl}", model: judge-model, accepts: [EMAIL] }
routes:
  - model: support
    targets: [main]
    onSensitive: reroute
    shadow:
      targets: [cand]
      compare: [{ type: llm-judge, deployment: judge }, { type: similarity, deployment: judge, threshold: 0.9 }]
`,
    });
    const g = await startTestGateway(dir, "wb.db");
    closers.push(() => g.store.close());
    const r = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content: `please write to ${EMAIL}` }] }),
    });
    expect(r.status).toBe(200);
    await g.gw.close();
    expect(cand.all()).toContain(EMAIL); // the candidate accepts EMAIL: it gets the request as it is
    const judged = judge.received.find((x) => x.path.endsWith("/chat/completions"));
    const embedded = judge.received.find((x) => x.path.endsWith("/embeddings"));
    expect(judged && embedded).toBeTruthy();
    expect(judge.all()).not.toContain(EMAIL); // the judge accepts EMAIL too, and still sees only placeholders
    expect(judged?.body).toContain("[EMAIL_1]");
    expect(judged?.body).toMatch(/\[REFERENCE [0-9a-f]{12}\]/); // pairwise: the primary's answer is the reference (tagged header, llm-judge.ts)
    const runs = await g.store.db.selectFrom("runs").select("id").where("kind", "=", "shadow").execute();
    const rows = await loadShadowResults(
      g.store.db,
      runs.map((x) => x.id),
      "",
    );
    const shadowRow = rows.find((x) => x.model_id === "cand");
    expect(shadowRow?.error).toBeNull();
    const grades = JSON.parse(shadowRow?.scores_json ?? "[]") as { type: string; score: number; pass: boolean }[];
    expect(grades.map((x) => [x.type, x.score, x.pass])).toEqual([
      ["llm-judge", 0.75, true],
      ["similarity", 1, true],
    ]);
    expect(shadowRow?.passed).toBe(1);
    const audit = await g.store.db.selectFrom("gateway_audit").select(["action", "deployment"]).where("action", "like", "shadow%").execute();
    expect(audit.map((a) => `${a.action} ${a.deployment}`).sort()).toEqual(["shadow cand", "shadow-compare judge", "shadow-compare judge"]);
  });
});
