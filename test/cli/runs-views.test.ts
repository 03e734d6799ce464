/**
 * Results without SQL (issue 16): runs show --cases with its filters and formats, runs diff with the
 * same paired statistics as eval, runs export, init and validate. Real CLI, simulators on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, storedResults } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function project(n: number) {
  const p = await twoModelProject(n);
  open.push(p.a, p.b);
  const ev = JSON.parse((await runCli(["eval", "-c", p.config, "--json"])).stdout) as {
    runId: string;
    suites: { models: { id: string; vsBaseline?: { diff: number; pValue: number; qualityRatio: number } }[] }[];
  };
  return { ...p, ev };
}

interface CaseRow {
  suite: string;
  caseId: string;
  input: string;
  models: Record<string, { output: string | null; passed: boolean; score: number; error: string | null }>;
}
const jsonl = <T>(s: string) =>
  s
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe("runs show --cases", () => {
  it("prints every case with both models side by side; --changed keeps exactly the changed ones", async () => {
    const { config, ev } = await project(40);
    const all = jsonl<CaseRow>((await runCli(["runs", "show", ev.runId, "-c", config, "--cases", "--format", "jsonl"])).stdout);
    expect(all).toHaveLength(40);
    expect(Object.keys(all[0]?.models ?? {})).toEqual(["alpha", "beta"]);
    expect(all[0]?.input).toMatch(/^Case 0: message number 0$/);
    const changed = jsonl<CaseRow>((await runCli(["runs", "show", ev.runId, "-c", config, "--cases", "--changed", "--format", "jsonl"])).stdout);
    const expected = all.filter((r) => r.models.alpha?.passed !== r.models.beta?.passed);
    expect(expected.length).toBeGreaterThan(0);
    expect(changed.map((r) => r.caseId)).toEqual(expected.map((r) => r.caseId));
    const failed = jsonl<CaseRow>(
      (await runCli(["runs", "show", ev.runId, "-c", config, "--cases", "--failed", "--model", "beta", "--format", "jsonl"])).stdout,
    );
    expect(failed.every((r) => Object.keys(r.models).join() === "beta" && r.models.beta?.passed === false)).toBe(true);
    const table = await runCli(["runs", "show", ev.runId, "-c", config, "--cases", "--changed"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n").filter((l) => /✓|✗/.test(l))).toHaveLength(expected.length);
    const none = await runCli(["runs", "show", ev.runId, "-c", config, "--cases", "--errors"]);
    expect(none.stdout).toMatch(/no cases match/);
  });

  it("refuses an unknown model or suite, a bad format, and filters without --cases", async () => {
    const { config, ev } = await project(3);
    for (const [args, msg] of [
      [["--cases", "--model", "gamma"], /--model: "gamma" is not in run/],
      [["--cases", "--suite", "nope"], /--suite: "nope" is not in run/],
      [["--cases", "--format", "xml"], /--format must be table, jsonl or csv/],
      [["--changed"], /go with --cases/],
    ] as const) {
      const r = await runCli(["runs", "show", ev.runId, "-c", config, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it("CSV quotes fields and defuses formulas in model outputs", async () => {
    const echo = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    open.push(echo);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: echo\n    provider: openai-compatible\n    baseUrl: ${echo.baseUrl}\n    model: echo\nsuites: [s.yaml]\n`,
      "s.yaml":
        'name: s\nprompt: "{{p}}"\ncases:\n  - vars: { p: "=HYPERLINK(\\"http://evil\\",\\"x\\")" }\n    expect: { type: contains, value: x }\n  - vars: { p: "a, b\\nc" }\n    expect: { type: contains, value: a }\n',
    });
    const config = join(dir, "weightbridge.yaml");
    const ev = JSON.parse((await runCli(["eval", "-c", config, "--json"])).stdout) as { runId: string };
    const csv = (await runCli(["runs", "show", ev.runId, "-c", config, "--cases", "--format", "csv"])).stdout;
    expect(csv.split("\r\n")[0]).toBe("suite,caseId,repeat,input,echo.output,echo.score,echo.passed,echo.error");
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(csv).toContain('"a, b\nc"');
  });
});

describe("runs diff", () => {
  it("compares the same model in two runs with eval's own paired statistics", async () => {
    const p = await twoModelProject(60);
    open.push(p.a, p.b);
    // One run: beta (stub b) against alpha (stub a). Then the same model id "m" first on stub a, later on stub b.
    const both = JSON.parse((await runCli(["eval", "-c", p.config, "--json"])).stdout) as {
      suites: { models: { id: string; vsBaseline?: { diff: number; pValue: number; qualityRatio: number } }[] }[];
    };
    const single = (url: string) => `models:\n  - id: m\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: model-a\nsuites: [suite.yaml]\n`;
    writeFiles(p.dir, { "then.yaml": single(p.a.baseUrl), "now.yaml": single(p.b.baseUrl) });
    const then = JSON.parse((await runCli(["eval", "-c", join(p.dir, "then.yaml"), "--json"])).stdout) as { runId: string };
    const now = JSON.parse((await runCli(["eval", "-c", join(p.dir, "now.yaml"), "--json"])).stdout) as { runId: string };
    const r = await runCli(["runs", "diff", then.runId, now.runId, "-c", join(p.dir, "now.yaml"), "--json"]);
    expect(r.code).toBe(0);
    const [d] = JSON.parse(r.stdout) as {
      suite: string;
      modelA: string;
      modelB: string;
      comparison: { diff: number; pValue: number; n: number };
      regressions: number;
    }[];
    const ref = both.suites[0]?.models.find((m) => m.id === "beta")?.vsBaseline;
    expect(d).toMatchObject({ suite: "intent", modelA: "m", modelB: "m" });
    expect(d?.comparison.n).toBe(60);
    expect(d?.comparison.diff).toBeCloseTo(ref?.diff ?? 99, 6);
    expect(d?.comparison.pValue).toBeCloseTo(ref?.pValue ?? 99, 6);
    expect(d?.regressions).toBeGreaterThan(0);
    const table = await runCli(["runs", "diff", then.runId, now.runId, "-c", join(p.dir, "now.yaml")]);
    expect(table.stdout).toMatch(/intent\s+│?\s*m\s/);
  });

  it("refuses runs that share no suite", async () => {
    const p = await twoModelProject(3);
    open.push(p.a, p.b);
    writeFiles(p.dir, { "other.yaml": 'name: other\nprompt: "x"\ncases:\n  - expect: { type: contains, value: a }\n' });
    writeFiles(p.dir, { "o.yaml": twoModelConfig(p.a.baseUrl, p.b.baseUrl, ["other.yaml"]) });
    const a = JSON.parse((await runCli(["eval", "-c", p.config, "--json"])).stdout) as { runId: string };
    const b = JSON.parse((await runCli(["eval", "-c", join(p.dir, "o.yaml"), "--json"])).stdout) as { runId: string };
    const r = await runCli(["runs", "diff", a.runId, b.runId, "-c", p.config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/share no suite/);
  });
});

describe("runs export", () => {
  it("writes every stored result as JSONL or CSV", async () => {
    const { config, ev, dir } = await project(10);
    const stored = await storedResults(config, ev.runId);
    const rows = jsonl<{ modelId: string; caseId: string; output: string; score: number }>((await runCli(["runs", "export", ev.runId, "-c", config])).stdout);
    expect(rows).toHaveLength(stored.length);
    expect(rows.map((r) => `${r.modelId}/${r.caseId}/${r.output}`).sort()).toEqual(stored.map((r) => `${r.modelId}/${r.caseId}/${r.output}`).sort());
    const out = join(dir, "r.csv");
    expect((await runCli(["runs", "export", ev.runId, "-c", config, "--format", "csv", "-o", out])).code).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\r\n");
    expect(lines).toHaveLength(stored.length + 1);
    expect(lines[0]).toMatch(/^runId,suite,caseIndex,caseId,modelId,repeat,input,output,score,passed,/);
  });
});

describe("init and validate", () => {
  it("init writes a config that validates against a running endpoint, with an estimated cost", async () => {
    const sim = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    open.push(sim);
    const dir = tempDir();
    const init = await runCli([
      "init",
      "--dir",
      dir,
      "--baseline",
      "openai-compatible:big",
      "--candidate",
      "openai-compatible:small",
      "--candidate-url",
      sim.baseUrl,
    ]);
    expect(init.code).toBe(0);
    const again = await runCli(["init", "--dir", dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists\nhint: pass --force/);
    const config = join(dir, "weightbridge.yaml");
    const v = await runCli(["validate", "-c", config, "--json"]);
    expect(v.code).toBe(0);
    const j = JSON.parse(v.stdout) as {
      suites: { cases: number }[];
      endpoints: { id: string; ok: boolean }[];
      cost: { id: string; requests: number; maxUsd: number | null }[];
      totalMaxUsd: number;
    };
    expect(j.suites[0]?.cases).toBe(3);
    expect(j.endpoints.map((e) => e.ok)).toEqual([true, true]);
    expect(j.cost.find((c) => c.id === "candidate")).toMatchObject({ requests: 3 });
    // 3 cases × 256 output tokens at $0.4/M plus the prompts at $0.1/M: a small positive upper bound.
    expect(j.totalMaxUsd).toBeGreaterThan((3 * 256 * 0.4) / 1e6);
    expect(j.totalMaxUsd).toBeLessThan(0.001);
    expect(sim.stats.chat).toBe(2); // one cheap request per endpoint
    const text = await runCli(["validate", "-c", config]);
    expect(text.stdout).toMatch(/Estimated cost of the run: at most \$/);
    await sim.close();
    open.splice(open.indexOf(sim), 1);
    const down = await runCli(["validate", "-c", config]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/error: model baseline: the endpoint did not answer: connection error/);
  });

  it("validate refuses a broken grader with file:line before any request", async () => {
    const dir = tempDir();
    expect(
      (
        await runCli([
          "init",
          "--dir",
          dir,
          "--baseline",
          "openai-compatible:a",
          "--candidate",
          "openai-compatible:b",
          "--candidate-url",
          "http://127.0.0.1:1/v1",
        ])
      ).code,
    ).toBe(0);
    const suite = join(dir, "suites", "example.yaml");
    writeFiles(dir, { "suites/example.yaml": readFileSync(suite, "utf8").replace("{ type: label, value: billing }", '{ type: regex, pattern: "(" }') });
    const r = await runCli(["validate", "-c", join(dir, "weightbridge.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/example\.yaml:\d+: regex expectation: invalid pattern/);
  });
});
