/**
 * The unit of the statistics in the eval summary: with --repeat k a case counts once (its repeats
 * averaged), and cases that share a group (suite `group:` / `groupBy:`) are resampled as one unit.
 * Suites are loaded from real YAML files; results are the records the runner would store.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { buildPlan } from "../../src/evaluate/plan.js";
import { summarise } from "../../src/evaluate/summary.js";
import type { ResultRecord } from "../../src/records/index.js";
import { runCli } from "../support/cli.js";
import { tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { resultRecord } from "../support/result-record.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

function groupedSuite(n: number, perGroup: number, how: "groupBy" | "group"): string {
  const lines = ["name: g", 'prompt: "{{text}}"', ...(how === "groupBy" ? ["groupBy: conv"] : []), "cases:"];
  for (let i = 0; i < n; i++) {
    const g = `c${Math.floor(i / perGroup)}`;
    lines.push(`  - vars: { text: "turn ${i}", conv: ${g} }`, ...(how === "group" ? [`    group: ${g}`] : []), "    expect: { type: contains, value: ok }");
  }
  return `${lines.join("\n")}\n`;
}

function record(modelId: string, caseIndex: number, repeat: number, score: number): ResultRecord {
  const r = { runId: "r", suite: "g", caseIndex, modelId, repeat, messages: [], output: "x", score, passed: score === 1 };
  return resultRecord({ ...r, inputTokens: 10, outputTokens: 2, costPusd: 100, latencyMs: 5, ttftMs: null });
}

function project(suiteYaml: string) {
  const dir = tempDir();
  writeFiles(dir, { "g.yaml": suiteYaml, "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["g.yaml"]) });
  return loadProject(join(dir, "weightbridge.yaml"));
}

describe("units of analysis in the summary", () => {
  it("groupBy and group: give each case its group; a case missing the groupBy variable is a clear error", () => {
    const byVar = project(groupedSuite(6, 3, "groupBy")).suites[0];
    expect(byVar?.cases.map((c) => c.group)).toEqual(["c0", "c0", "c0", "c1", "c1", "c1"]);
    const byCase = project(groupedSuite(4, 2, "group")).suites[0];
    expect(byCase?.cases.map((c) => c.group)).toEqual(["c0", "c0", "c1", "c1"]);
    const broken = 'name: g\nprompt: "{{text}}"\ngroupBy: conv\ncases:\n  - vars: { text: a }\n    expect: { type: contains, value: ok }\n';
    expect(() => project(broken)).toThrow(/groups cases by "conv" \(groupBy\) but this case's vars do not define it/);
  });

  it("grouped cases are resampled as groups: cluster-bca, one unit per group, wider than ignoring the groups", () => {
    const p = project(groupedSuite(60, 6, "groupBy"));
    const plan = buildPlan(p);
    // within a conversation both models tend to succeed or fail together, and conversations differ
    const rows: ResultRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const conv = Math.floor(i / 6);
      rows.push(record("alpha", i, 0, conv % 3 === 0 ? 0 : 1), record("beta", i, 0, conv % 2 === 0 ? 0 : (i % 6) % 2));
    }
    const grouped = summarise(plan, "r", rows).suites[0]?.models.find((m) => m.id === "beta")?.vsBaseline;
    expect(grouped?.method).toBe("cluster-bca");
    expect(grouped?.test).toBe("cluster-permutation");
    expect(grouped?.clusters).toBe(10);
    expect(summarise(plan, "r", rows).suites[0]?.models.find((m) => m.id === "beta")?.score.method).toBe("cluster-bca");
    const flat = summarise(
      { ...plan, suites: plan.suites.map((s) => ({ ...s, cases: s.cases.map(({ group: _g, ...c }) => c) })) },
      "r",
      rows,
    ).suites[0]?.models.find((m) => m.id === "beta")?.vsBaseline;
    expect(flat?.method).toBe("newcombe-mover");
    const width = (v: typeof flat) => (v?.ci95[1] ?? 0) - (v?.ci95[0] ?? 0);
    expect(width(grouped)).toBeGreaterThan(width(flat));
  });

  it("--repeat k: n is the number of cases, not k × cases, and repeats are averaged within a case", () => {
    const p = project(groupedSuite(12, 1, "group"));
    const plan = { ...buildPlan(p, { repeat: 3 }), suites: buildPlan(p).suites.map((s) => ({ ...s, cases: s.cases.map(({ group: _g, ...c }) => c) })) };
    const rows: ResultRecord[] = [];
    for (let i = 0; i < 12; i++) for (let r = 0; r < 3; r++) rows.push(record("alpha", i, r, 1), record("beta", i, r, r === 0 && i % 2 === 0 ? 0 : 1));
    const beta = summarise(plan, "r", rows).suites[0]?.models.find((m) => m.id === "beta");
    expect(beta?.n).toBe(12);
    expect(beta?.requests).toBe(36);
    expect(beta?.vsBaseline?.n).toBe(12);
    expect(beta?.vsBaseline?.method).toBe("bca"); // case means of 2/3 are not pass/fail
    expect(beta?.score.mean).toBeCloseTo(1 - 6 / 36, 6); // the summary rounds to 6 digits
  });
});

describe("groups through the CLI: eval and report agree", () => {
  const stubs: Simulator[] = [];
  afterAll(async () => {
    await Promise.all(stubs.map((x) => x.close()));
  });

  it("the report's verdict interval for a grouped suite is the cluster interval of eval --json", async () => {
    const dir = tempDir();
    const lines = ["name: g", 'system: "Answer with one label: alpha, beta or gamma."', 'prompt: "{{text}}"', "groupBy: conv", "cases:"];
    for (let i = 0; i < 60; i++)
      lines.push(`  - vars: { text: "turn ${i}", conv: c${Math.floor(i / 5)} }`, `    expect: { type: label, value: ${["alpha", "beta", "gamma"][i % 3]} }`);
    writeFiles(dir, { "g.yaml": `${lines.join("\n")}\n`, "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["g.yaml"]) });
    const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
    stubs.push(await startStub({ behaviour: behaviourFor(suites, 0.9, 3) }), await startStub({ behaviour: behaviourFor(suites, 0.7, 4) }));
    const config = join(dir, "weightbridge.yaml");
    writeFiles(dir, { "weightbridge.yaml": twoModelConfig((stubs[0] as Simulator).baseUrl, (stubs[1] as Simulator).baseUrl, ["g.yaml"]) });
    const ev = await runCli(["eval", "-c", config, "--json"]);
    expect(ev.code).toBe(0);
    const summary = JSON.parse(ev.stdout) as {
      runId: string;
      suites: { models: { id: string; vsBaseline?: { method: string; clusters?: number; qualityRatioCi95: [number, number] } }[] }[];
    };
    const v = summary.suites[0]?.models.find((m) => m.id === "beta")?.vsBaseline;
    expect(v?.method).toBe("cluster-bca");
    expect(v?.clusters).toBe(12);
    const rep = await runCli(["report", summary.runId, "-c", config, "--format", "json"]);
    expect(rep.code).toBe(0);
    const report = JSON.parse(rep.stdout) as { candidates: { id: string; qualityRatioCi95: [number, number] }[] };
    expect(report.candidates.find((c) => c.id === "beta")?.qualityRatioCi95).toEqual(v?.qualityRatioCi95);
  });
});
