/**
 * Honest outcomes (issue 16): a run that did not finish is INCOMPLETE, a failing endpoint is ERROR
 * with its reason, simulated endpoints are marked, each run kind gets its own report, and a failed
 * preflight leaves no run behind. Real CLI, real HTTP on 127.0.0.1, real SQLite.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { type BadEndpoint, startBadEndpoint } from "../support/bad-endpoint.js";
import { expectInterrupted, killWhen, newestRun, runCli } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const open: (Simulator | BadEndpoint)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const SUITE1 = 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n';
const noTrace = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);

/** alpha is a working simulator, beta the given bad endpoint. */
async function againstBad(status: number, contentType: string, body: string, n = 5) {
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": labelSuite("intent", n),
    "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"]),
  });
  const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
  const good = await startStub({ behaviour: behaviourFor(suites, 1, 1) });
  const bad = await startBadEndpoint(status, contentType, body);
  open.push(good, bad);
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig(good.baseUrl, bad.baseUrl, ["suite.yaml"], "defaults: { retries: 3 }\n") });
  return { dir, config: join(dir, "weightbridge.yaml"), bad };
}

interface JsonReport {
  kind: string;
  status: string;
  completion: { done: number; total: number };
  simulated: string[];
  candidates: { id: string; verdict: string; reason: string }[];
  models: { id: string; errorRate: number; firstError: string | null }[];
}

describe("endpoint failures are explained, not scored", () => {
  it.each([
    ["401 JSON", 401, "application/json", '{"error":{"message":"Incorrect API key provided"}}', /HTTP 401: Incorrect API key provided/],
    ["200 HTML", 200, "text/html", "<!doctype html><html><body><h1>Sign in</h1></body></html>", /malformed response: <!doctype html>/],
    ["500 HTML", 500, "text/html", "<html><body>Internal error</body></html>", /HTTP 500: <html><body>Internal error/],
    ["200 not a completion", 200, "application/json", '{"result":"ok"}', /malformed response: no choices\[0\]\.message/],
  ])("%s: not retried, counted as errors, first error in the table, eval exits 1, report says ERROR", async (_name, status, type, body, why) => {
    const { config, bad } = await againstBad(status, type, body);
    const r = await runCli(["eval", "-c", config, "--no-cache"]);
    noTrace(r.stderr);
    expect(r.code).toBe(1);
    expect(bad.requests()).toBe(5); // one attempt per case: nothing that cannot change is retried
    expect(r.stdout).toMatch(/Errors:\n {2}beta: 5 of 5 requests failed; first error: /);
    expect(r.stdout).toMatch(why);
    expect(r.stderr).toMatch(/error: model beta: every request failed \(5 of 5\); first error: /);
    const runId = /Run (\S+) stored/.exec(r.stdout)?.[1] ?? "";
    const rep = JSON.parse((await runCli(["report", runId, "-c", config, "--format", "json"])).stdout) as JsonReport;
    expect(rep.candidates[0]).toMatchObject({ id: "beta", verdict: "error" });
    expect(rep.candidates[0]?.reason).toMatch(/100% of beta's requests failed \(limit 5%\); first error: /);
    expect(rep.models.find((m) => m.id === "beta")?.firstError).toMatch(why);
    const md = await runCli(["report", runId, "-c", config, "--format", "md"]);
    expect(md.stdout).toMatch(/\| beta \| \*\*ERROR\*\*/);
  });

  it("a 503 is still retried (gateway errors are transient)", async () => {
    const { config, bad } = await againstBad(503, "application/json", '{"error":"overloaded"}', 1);
    const r = await runCli(["eval", "-c", config, "--no-cache"], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(bad.requests()).toBe(4); // 1 + 3 retries
  });
});

describe("verdicts before quality", () => {
  it("an interrupted run is INCOMPLETE with how much was done; --fail-on incomplete exits 1", async () => {
    const p = await twoModelProject(120, 30);
    open.push(p.a, p.b);
    const r = await runCli(["eval", "-c", p.config, "--no-cache"], { onSpawn: killWhen(() => p.a.stats.chat >= 15, "SIGINT") });
    const runId = await expectInterrupted(r, p.config);
    const rep = await runCli(["report", runId, "-c", p.config, "--format", "json", "--fail-on", "reject,incomplete"]);
    expect(rep.code).toBe(1);
    const j = JSON.parse(rep.stdout) as JsonReport;
    expect(j.status).toBe("interrupted");
    expect(j.completion.total).toBe(240);
    expect(j.completion.done).toBeGreaterThan(0);
    expect(j.completion.done).toBeLessThan(240);
    expect(j.candidates[0]?.verdict).toBe("incomplete");
    expect(j.candidates[0]?.reason).toMatch(new RegExp(`${j.completion.done} of 240 requests done`));
    expect(rep.stderr).toMatch(/fail: beta is INCOMPLETE/);
    const md = await runCli(["report", runId, "-c", p.config, "--format", "md"]);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/This run is interrupted: \d+ of 240 requests done/);
    // Resuming a finished run says so instead of re-running.
    expect((await runCli(["eval", "-c", p.config, "--resume", runId, "--repeat", "2"])).stderr).toMatch(/--repeat cannot change it/);
    expect((await runCli(["eval", "-c", p.config, "--resume", runId])).code).toBe(0);
    const again = await runCli(["eval", "-c", p.config, "--resume", runId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is already complete: nothing to resume/);
  });

  it("simulated endpoints are marked in JSON, Markdown and HTML (watermark)", async () => {
    const p = await twoModelProject(12);
    open.push(p.a, p.b);
    const ev = JSON.parse((await runCli(["eval", "-c", p.config, "--json"])).stdout) as { runId: string; simulated?: string[] };
    expect(ev.simulated).toEqual(["alpha", "beta"]);
    const j = JSON.parse((await runCli(["report", ev.runId, "-c", p.config, "--format", "json"])).stdout) as JsonReport;
    expect(j.simulated).toEqual(["alpha", "beta"]);
    const table = await runCli(["eval", "-c", p.config]);
    expect(table.stdout).toMatch(/^SIMULATED: alpha, beta answered from `weightbridge simulate`, not a real model\./);
    const md = (await runCli(["report", ev.runId, "-c", p.config, "--format", "md"])).stdout;
    expect(md).toMatch(/> \*\*SIMULATED: alpha, beta answered from `weightbridge simulate`/);
    expect(md).toMatch(/## Glossary/);
    const out = join(p.dir, "r.html");
    expect((await runCli(["report", ev.runId, "-c", p.config, "-o", out])).code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/<div class="watermark" id="simulated-watermark"[^>]*>SIMULATED<\/div>/);
    expect(html).toMatch(/<dl id="glossary">/);
  });

  it("a real (non-simulated) endpoint is not marked", async () => {
    const { config } = await againstBad(200, "application/json", JSON.stringify({ choices: [{ message: { content: "alpha" }, finish_reason: "stop" }] }), 3);
    const r = await runCli(["eval", "-c", config, "--json"]);
    expect(r.code).toBe(0);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    const j = JSON.parse((await runCli(["report", runId, "-c", config, "--format", "json"])).stdout) as JsonReport;
    expect(j.simulated).toEqual(["alpha"]);
  });
});

describe("preflight", () => {
  it("an unset API key variable fails before a run is created (no ghost run)", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "suite.yaml": labelSuite("intent", 2),
      "weightbridge.yaml": `models:\n  - id: a\n    provider: openai-compatible\n    baseUrl: http://127.0.0.1:1/v1\n    model: m\n    apiKeyEnv: WB_TEST_SURELY_UNSET_KEY\nsuites: [suite.yaml]\n`,
    });
    const config = join(dir, "weightbridge.yaml");
    const r = await runCli(["eval", "-c", config], { env: { WB_TEST_SURELY_UNSET_KEY: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: model a: environment variable WB_TEST_SURELY_UNSET_KEY is not set\nhint: /);
    expect(await newestRun(config)).toBeUndefined();
  });
});

describe("report per run kind", () => {
  it("a bench run gets a bench report (and runs show prints its table); never a verdict", async () => {
    const sim = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    open.push(sim);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: sim\n    provider: openai-compatible\n    baseUrl: ${sim.baseUrl}\n    model: sim\nsuites: [s.yaml]\n`,
      "s.yaml": SUITE1,
    });
    const config = join(dir, "weightbridge.yaml");
    const b = await runCli(["bench", "sim", "-c", config, "--concurrency", "1,2", "--requests", "4", "--input-tokens", "16", "--output-tokens", "8", "--json"]);
    expect(b.code).toBe(0);
    const runId = (JSON.parse(b.stdout) as { runId: string }).runId;
    const md = await runCli(["report", runId, "-c", config, "--format", "md"]);
    noTrace(md.stderr);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Bench report — run /);
    expect(md.stdout).toMatch(/\| concurrency \| req\/s \|/);
    expect(md.stdout).not.toMatch(/ADOPT|REJECT/);
    const j = JSON.parse((await runCli(["report", runId, "-c", config, "--format", "json"])).stdout) as { kind: string; levels: unknown[] };
    expect(j.kind).toBe("bench");
    expect(j.levels).toHaveLength(2);
    const html = await runCli(["report", runId, "-c", config, "--format", "html", "-o", join(dir, "bench.html")]);
    expect(html.code).toBe(0);
    const page = readFileSync(join(dir, "bench.html"), "utf8");
    // Throughput and latency curves over the concurrency levels: one point per level and series.
    for (const id of ["chart-bench-throughput", "chart-bench-tokens", "chart-bench-latency"]) expect(page).toContain(`id="${id}"`);
    const throughput = page.slice(page.indexOf('id="chart-bench-throughput"'), page.indexOf('id="chart-bench-tokens"'));
    expect(throughput.match(/<circle /g)).toHaveLength(2);
    const latency = page.slice(page.indexOf('id="chart-bench-latency"'));
    expect(latency.match(/<circle /g)).toHaveLength(2 * 3);
    const show = await runCli(["runs", "show", runId, "-c", config]);
    noTrace(show.stderr);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/bench of sim/);
  });

  it("a bench where every request fails exits 1 with the reason", async () => {
    const bad = await startBadEndpoint(401, "application/json", '{"error":{"message":"no key"}}');
    open.push(bad);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: x\n    provider: openai-compatible\n    baseUrl: ${bad.baseUrl}\n    model: x\nsuites: [s.yaml]\n`,
      "s.yaml": SUITE1,
    });
    const r = await runCli([
      "bench",
      "x",
      "-c",
      join(dir, "weightbridge.yaml"),
      "--concurrency",
      "1",
      "--requests",
      "2",
      "--input-tokens",
      "8",
      "--output-tokens",
      "4",
    ]);
    noTrace(r.stderr);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: bench x: every request failed; first error: HTTP 401: no key/);
  });

  it("a red-team run gets attack rates and transcripts of successes, not ADOPT", async () => {
    const echo = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" } });
    open.push(echo);
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": `models:\n  - id: echo\n    provider: openai-compatible\n    baseUrl: ${echo.baseUrl}\n    model: echo\nsuites: [s.yaml]\n`,
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const config = join(dir, "weightbridge.yaml");
    const rt = await runCli(["redteam", "-c", config, "--packs", "pii-leak", "--json"], { timeoutMs: 120_000 });
    expect(rt.code).toBe(0);
    const runId = (JSON.parse(rt.stdout) as { runId: string }).runId;
    const md = await runCli(["report", runId, "-c", config, "--format", "md"]);
    noTrace(md.stderr);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Red-team report — run /);
    expect(md.stdout).toMatch(/## pii-leak/);
    expect(md.stdout).not.toMatch(/ADOPT|REJECT|INCONCLUSIVE/);
    const j = JSON.parse((await runCli(["report", runId, "-c", config, "--format", "json"])).stdout) as { kind: string; packs: { pack: string }[] };
    expect(j.kind).toBe("redteam");
    expect(j.packs.map((p) => p.pack)).toEqual(["pii-leak"]);
  });
});
