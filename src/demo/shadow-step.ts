/**
 * The demo's shadow step (issue 20): a few hundred simulated support requests through the gateway,
 * answered by the simulated "gpt-4o" while each is mirrored to the simulated open model after the
 * caller has its answer; requests carrying an email address are kept from the open model by the
 * data-class policy (counted as skipped). Then the shadow report, as `weightbridge shadow report`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Case } from "../config/index.js";
import { buildShadowReport, hashKey, loadGatewayConfig, type ShadowReport, startGateway } from "../gateway/index.js";
import type { Simulator } from "../simulate/index.js";
import { insertKey, openStore } from "../store/index.js";

export interface ShadowStep {
  requests: number;
  report: ShadowReport;
  configPath: string;
}

const KEY = "wb_demo_shadow_key";

export async function demoShadow(o: {
  dir: string;
  storeLocation: string;
  primary: Simulator;
  candidate: Simulator;
  cases: readonly Case[];
  requests: number;
}): Promise<ShadowStep> {
  const configPath = join(o.dir, "gateway.yaml");
  writeFileSync(
    configPath,
    `# Written by \`weightbridge demo\`: the gateway in front of the simulated endpoints, with the open model in shadow.
deployments:
  - { id: gpt-4o, baseUrl: "${o.primary.baseUrl}", model: gpt-4o, accepts: [EMAIL], price: { input: 2.5, output: 10 } }
  - { id: qwen3-235b, baseUrl: "${o.candidate.baseUrl}", model: qwen3-235b, accepts: [], price: { input: 0.22, output: 0.88 }, shadow: { concurrency: 16 } }
routes:
  - model: support
    targets: [gpt-4o]
    onSensitive: reroute
    shadow: { targets: [qwen3-235b], sample: 1, compare: [{ type: label }], maxQueue: 1000 }
store: ${JSON.stringify(o.storeLocation)}
`,
  );
  const config = loadGatewayConfig(configPath);
  const store = await openStore(o.storeLocation);
  try {
    if (!(await store.db.selectFrom("gateway_keys").select("name").where("name", "=", "demo").executeTakeFirst()))
      await insertKey(store.db, { name: "demo", keyHash: hashKey(KEY), routes: null, rpm: null, tpm: null, budgetUsd: null });
    const gw = await startGateway({ config, store, configPath, shadowRun: "demo" });
    let next = 0;
    const one = async () => {
      for (let i = next++; i < o.requests; i = next++) {
        const c = o.cases[i % o.cases.length] as Case;
        // Every tenth customer signs with an email address: the open model may not receive it.
        const messages = c.messages.map((m, j) =>
          j === c.messages.length - 1 && i % 10 === 9 ? { ...m, content: `${m.content} (reply to pat.lee${i}@example.com)` } : m,
        );
        const r = await fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "support", messages, temperature: 0, max_tokens: 8 }),
        });
        await r.text();
      }
    };
    await Promise.all(Array.from({ length: 16 }, one));
    await gw.close(); // waits for the mirrored requests still in flight
    const report = await buildShadowReport(store, config, { route: "support", since: "", criteria: { minAgreement: 0.9 } });
    return { requests: o.requests, report, configPath };
  } finally {
    await store.close();
  }
}

/** The report's lines for the demo log. */
export function shadowLines(s: ShadowStep): string[] {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
  return s.report.candidates.map((c) => {
    const ci = c.agreement.ci95 ? ` (95% CI ${pct(c.agreement.ci95[0])}–${pct(c.agreement.ci95[1])})` : "";
    const saving = c.monthlySaving
      ? `; projected saving $${c.monthlySaving.usd.toFixed(2)}/month at ${Math.round(c.monthlySaving.requestsPerMonth)} requests/month`
      : "";
    return `Shadow: ${c.id} agreed with ${s.report.primary} on ${pct(c.agreement.mean)}${ci} of ${c.pairs} mirrored requests, cost ratio ${c.costRatio === null ? "—" : c.costRatio.toFixed(3)}, latency p50 ${c.latencyP50Ms === null ? "—" : Math.round(c.latencyP50Ms)} ms, ${c.skippedByPolicy} skipped by policy, ${c.dropped} dropped, ${c.failed} failed${saving}: ${c.verdict.toUpperCase()}`;
  });
}
