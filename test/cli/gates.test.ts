/**
 * CI gates (issue 16): each threshold exits 1 when it fails and 0 when it holds, and says why on one
 * line; the JUnit and GitHub formats carry what CI reporters read. Real CLI against simulators.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** The counts JUnit readers show: the testsuites totals and the testcases. */
function junitCounts(xml: string) {
  const top = /<testsuites name="[^"]*" tests="(\d+)" failures="(\d+)" errors="(\d+)"/.exec(xml);
  return { tests: Number(top?.[1]), failures: Number(top?.[2]), errors: Number(top?.[3]), cases: xml.match(/<testcase /g)?.length ?? 0 };
}

describe("eval gates and formats", () => {
  it("--fail-below exits 1 naming the model and suite, and 0 when every score clears it", async () => {
    const p = await twoModelProject(30);
    open.push(p.a, p.b);
    const low = await runCli(["eval", "-c", p.config, "--fail-below", "0.99"]);
    expect(low.code).toBe(1);
    expect(low.stderr).toMatch(/fail: beta scores \d+\.\d% on intent \(below 99\.0%\) \(--fail-below\)/);
    const ok = await runCli(["eval", "-c", p.config, "--fail-below", "0.5"]);
    expect(ok.code).toBe(0);
    expect((await runCli(["eval", "-c", p.config, "--fail-below", "1.5"])).code).toBe(2);
  });

  it("--format junit has one testcase per case × model, failures where a grade failed", async () => {
    const p = await twoModelProject(20);
    open.push(p.a, p.b);
    const out = join(p.dir, "j.xml");
    const r = await runCli(["eval", "-c", p.config, "--format", "junit", "-o", out]);
    expect(r.code).toBe(0);
    const xml = readFileSync(out, "utf8");
    // Well-formed for a real XML parser (Python's ElementTree), as CI reporters need.
    execFileSync("python3", ["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", out]);
    const c = junitCounts(xml);
    expect(c).toMatchObject({ tests: 40, cases: 40, errors: 0 });
    const runId = /weightbridge eval (\S+)"/.exec(xml)?.[1] ?? "";
    const stored = JSON.parse((await runCli(["runs", "show", runId, "-c", p.config, "--json"])).stdout) as {
      suites: { models: { n: number; passRate: number }[] }[];
    };
    const failedStored = stored.suites[0]?.models.reduce((a, m) => a + Math.round(m.n * (1 - m.passRate)), 0);
    expect(c.failures).toBe(failedStored);
    expect(xml).toMatch(/<testsuite name="intent \/ beta" tests="20"/);
    const gh = await runCli(["eval", "-c", p.config, "--format", "github"]);
    expect(gh.stdout).toMatch(/^### weightbridge eval `/);
    expect(gh.stdout).toMatch(/\| beta \| \d+\.\d% \[/);
  });
});

describe("report --format github", () => {
  it("prints the verdicts as a short summary", async () => {
    const p = await twoModelProject(20);
    open.push(p.a, p.b);
    await runCli(["eval", "-c", p.config, "--json"]);
    const r = await runCli(["report", "latest", "-c", p.config, "--format", "github"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### weightbridge: \S+ beta (ADOPT|REJECT|INCONCLUSIVE)/);
    expect(r.stdout).toMatch(/> \[!WARNING\]\n> SIMULATED: alpha, beta/);
  });
});

describe("redteam --max-rate and junit", () => {
  it("fails when a pack's rate is above its limit, passes when within, and writes one testcase per attack", async () => {
    const echo = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    open.push(echo);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: echo\n    provider: openai-compatible\n    baseUrl: ${echo.baseUrl}\n    model: echo\nsuites: [s.yaml]\n`,
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const config = join(dir, "weightbridge.yaml");
    const json = JSON.parse((await runCli(["redteam", "-c", config, "--packs", "pii-leak", "--json"])).stdout) as {
      packs: { models: { rate: number; attacks: number; successes: number }[] }[];
    };
    const m = json.packs[0]?.models[0];
    expect(m?.rate).toBeGreaterThan(0); // an echoing model leaks what it is given
    const fail = await runCli(["redteam", "-c", config, "--packs", "pii-leak", "--max-rate", "pii-leak=0", "--format", "junit", "-o", join(dir, "rt.xml")]);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/fail: echo: \d+\.\d% of pii-leak attacks succeeded \(--max-rate pii-leak=0\)/);
    const c = junitCounts(readFileSync(join(dir, "rt.xml"), "utf8"));
    expect(c.cases).toBe(m?.attacks);
    expect(c.failures).toBe(m?.successes);
    expect((await runCli(["redteam", "-c", config, "--packs", "pii-leak", "--max-rate", "pii-leak=1"])).code).toBe(0);
    const bad = await runCli(["redteam", "-c", config, "--packs", "pii-leak", "--max-rate", "no-such=0.1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-rate: unknown pack "no-such"/);
    expect((await runCli(["redteam", "-c", config, "--max-rate", "pii-leak=2"])).code).toBe(2);
  });
});

describe("bench thresholds", () => {
  it("--max-ttft-p95 and --min-throughput fail with the level and figure; generous limits pass", async () => {
    const slow = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" }, latencyMs: 60 });
    open.push(slow);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: s\n    provider: openai-compatible\n    baseUrl: ${slow.baseUrl}\n    model: s\nsuites: [x.yaml]\n`,
      "x.yaml": 'name: x\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const base = ["bench", "s", "-c", join(dir, "weightbridge.yaml"), "--concurrency", "1", "--requests", "3", "--input-tokens", "8", "--output-tokens", "4"];
    const fail = await runCli([...base, "--max-ttft-p95", "10", "--min-throughput", "100000"]);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/fail: concurrency 1: TTFT p95 \d+ ms \(--max-ttft-p95 10\)/);
    expect(fail.stderr).toMatch(/fail: best throughput [\d.]+ output tok\/s \(--min-throughput 100000\)/);
    expect((await runCli([...base, "--max-ttft-p95", "5000", "--max-error-rate", "0"])).code).toBe(0);
  });
});

describe("scan --fail-on", () => {
  it("exits 1 when a finding reaches the severity, 0 below it", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "m"));
    // A model folder with custom code (auto_map): a finding the scanner reports, below "critical".
    writeFileSync(join(dir, "m", "config.json"), JSON.stringify({ auto_map: { AutoModel: "modeling_x.XModel" } }));
    writeFileSync(join(dir, "m", "modeling_x.py"), "import os\nos.system('echo hi')\n");
    const json = JSON.parse((await runCli(["scan", join(dir, "m"), "--format", "json"])).stdout) as { verdict: string; findings: { severity: string }[] };
    const order = ["info", "low", "medium", "high", "critical"];
    const worst = json.findings.map((f) => order.indexOf(f.severity)).reduce((a, b) => Math.max(a, b), -1);
    expect(worst).toBeGreaterThanOrEqual(0);
    const at = order[worst] as string;
    const r = await runCli(["scan", join(dir, "m"), "--fail-on", at]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`fail: \\d+ finding\\(s\\) at or above ${at} \\(--fail-on\\)`));
    if (worst < 4 && json.verdict !== "fail") expect((await runCli(["scan", join(dir, "m"), "--fail-on", order[worst + 1] as string])).code).toBe(0);
    expect((await runCli(["scan", join(dir, "m"), "--fail-on", "severe"])).code).toBe(2);
    // JUnit: one testcase per finding; those at or above --fail-on are failures.
    const out = join(dir, "scan.xml");
    await runCli(["scan", join(dir, "m"), "--format", "junit", "-o", out, "--fail-on", at]);
    execFileSync("python3", ["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", out]);
    const c = junitCounts(readFileSync(out, "utf8"));
    expect(c.cases).toBe(json.findings.length);
    expect(c.failures).toBe(json.findings.filter((f) => order.indexOf(f.severity) >= worst).length);
  });
});
