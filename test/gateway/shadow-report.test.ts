/**
 * `shadow report`'s figures equal those computed here, independently, from the stubs' deterministic
 * answers: a primary that always answers "yes", a candidate that answers "no" to every fourth
 * request, fixed token usage and prices. Real gateway, real HTTP, real SQLite, the built CLI.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Answer, startRecordingUpstream } from "../support/recording-upstream.js";
import { startTestGateway, TEST_KEY } from "../support/test-gateway.js";

const N = 40;
const SKIPPED = 5;
const SHADOW_DELAY_MS = 30;

const answering =
  (pick: (content: string) => string, delayMs = 0): Answer =>
  (req, res) => {
    const content = (JSON.parse(req.body) as { messages: { content: string }[] }).messages[0]?.content ?? "";
    const text = JSON.stringify({
      choices: [{ index: 0, message: { role: "assistant", content: pick(content) }, finish_reason: "stop" }],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    }, delayMs);
  };

/** Wilson score interval, written out here rather than taken from src/stats. */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [centre - half, centre + half];
}

let dir = "";
let latencies: number[] = [];
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  const primary = await startRecordingUpstream(answering(() => "yes"));
  const shadow = await startRecordingUpstream(answering((c) => (Number(/#(\d+)/.exec(c)?.[1]) % 4 === 0 ? "no" : "yes"), SHADOW_DELAY_MS));
  closers.push(primary.close, shadow.close);
  dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${primary.baseUrl}", model: big, accepts: [EMAIL], price: { input: 10, output: 30 } }
  - { id: cand, baseUrl: "${shadow.baseUrl}", model: small, price: { input: 1, output: 3 }, shadow: { concurrency: 8 } }
routes:
  - model: support
    targets: [main]
    onSensitive: reroute
    shadow: { targets: [cand], sample: 1, compare: [{ type: equals }] }
store: wb.db
`,
  });
  const g = await startTestGateway(dir, "wb.db");
  const ask = (content: string) =>
    fetch(`${g.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "support", messages: [{ role: "user", content }] }),
    }).then((r) => r.text());
  await Promise.all(Array.from({ length: N }, (_, i) => ask(`question #${i}`)));
  await Promise.all(Array.from({ length: SKIPPED }, (_, i) => ask(`write to me at person${i}@example.com`)));
  await g.gw.close();
  latencies = (await g.store.db.selectFrom("results").select("latency_ms").where("model_id", "=", "cand").execute()).map((r) => Number(r.latency_ms));
  await g.store.close();
}, 60_000);
afterAll(async () => {
  for (const c of closers) await c();
});

describe("shadow report", () => {
  it("prints agreement, its Wilson interval, cost ratio, latency p50, skipped, saving and verdict as computed independently", async () => {
    const r = await runCli(["shadow", "report", "-c", join(dir, "gateway.yaml"), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(["route", "primary", "candidates"]);
    expect(report.route).toBe("support");
    expect(report.primary).toBe("main");
    expect(report.candidates).toHaveLength(1);
    const c = report.candidates[0];
    const agree = Array.from({ length: N }, (_, i) => (i % 4 === 0 ? 0 : 1)).reduce((a: number, b) => a + b, 0);
    expect(c.id).toBe("cand");
    expect(c, JSON.stringify(c)).toMatchObject({ pairs: N });
    expect(c.agreement.mean).toBeCloseTo(agree / N, 12);
    const [lo, hi] = wilson(agree, N);
    expect(c.agreement.ci95[0]).toBeCloseTo(lo, 9);
    expect(c.agreement.ci95[1]).toBeCloseTo(hi, 9);
    // Per request: primary 10 × $10/M + 5 × $30/M = $0.00025; candidate 10 × $1/M + 5 × $3/M = $0.000025.
    expect(c.costRatio).toBeCloseTo(0.1, 12);
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted).toHaveLength(N);
    expect(c.latencyP50Ms).toBeCloseTo(((sorted[N / 2 - 1] as number) + (sorted[N / 2] as number)) / 2, 6);
    expect(c.latencyP50Ms).toBeGreaterThanOrEqual(SHADOW_DELAY_MS - 1);
    expect(c.skippedByPolicy).toBe(SKIPPED);
    expect(c.dropped).toBe(0);
    expect(c.failed).toBe(0);
    expect(c.missing).toBe(0);
    // N + SKIPPED requests served within one day: the volume is taken over one day, × 30.
    expect(c.monthlySaving.requestsPerMonth).toBeCloseTo((N + SKIPPED) * 30, 9);
    expect(c.monthlySaving.usd).toBeCloseTo((0.00025 - 0.000025) * (N + SKIPPED) * 30, 12);
    expect(c.monthlySaving.ci95[0]).toBeCloseTo(c.monthlySaving.usd, 12);
    expect(hi).toBeLessThan(0.9);
    expect(c.verdict).toBe("reject");
    expect(c.reason).toMatch(/75\.0% of 40 pairs/);
  });

  it("is a shadow run that runs lists", async () => {
    const r = await runCli(["runs", "--json"], { cwd: dir, env: { WEIGHTBRIDGE_DATABASE_URL: join(dir, "wb.db") } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as { kind: string; runId: string }[];
    expect(runs.map((x) => x.kind)).toContain("shadow");
  });
});
