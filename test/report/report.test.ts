import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { DEFAULT_CRITERIA, decideVerdict, paretoFrontier, renderHtml, renderMarkdown } from "../../src/report/index.js";
import { runCli } from "../support/cli.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe("verdict", () => {
  const base = { id: "cand", baseline: "base" };
  it("adopts when the lower bound and the cost pass", () => {
    const v = decideVerdict({ ...base, qualityRatio: 0.97, qualityRatioCi95: [0.92, 1.02], costRatio: 0.1 }, DEFAULT_CRITERIA);
    expect(v.verdict).toBe("adopt");
    expect(v.reason).toBe("cand scores 97% of base (95% CI 92%–102%) at 10% of the cost: meets both criteria (quality ≥ 90%, cost ≤ 50%).");
  });
  it("rejects on cost, on clearly lower quality, and is inconclusive when the CI straddles", () => {
    expect(decideVerdict({ ...base, qualityRatio: 0.99, qualityRatioCi95: [0.95, 1.03], costRatio: 0.8 }, DEFAULT_CRITERIA).verdict).toBe("reject");
    expect(decideVerdict({ ...base, qualityRatio: 0.7, qualityRatioCi95: [0.6, 0.8], costRatio: 0.1 }, DEFAULT_CRITERIA).verdict).toBe("reject");
    const s = decideVerdict({ ...base, qualityRatio: 0.93, qualityRatioCi95: [0.85, 1.01], costRatio: 0.1 }, DEFAULT_CRITERIA);
    expect(s.verdict).toBe("inconclusive");
    expect(s.reason).toMatch(/straddles the required 90%/);
    expect(decideVerdict({ ...base, qualityRatio: 0.99, qualityRatioCi95: [0.95, 1.03], costRatio: null }, DEFAULT_CRITERIA).reason).toMatch(/cost is unknown/);
  });
  it("honours custom criteria", () => {
    expect(
      decideVerdict(
        { ...base, qualityRatio: 0.97, qualityRatioCi95: [0.92, 1.02], costRatio: 0.1 },
        { ...DEFAULT_CRITERIA, minQualityRatio: 0.95, maxCostRatio: 0.5 },
      ).verdict,
    ).toBe("inconclusive");
  });
});

describe("pareto frontier", () => {
  it("keeps the points nothing else dominates", () => {
    const a = { cost: 1, quality: 0.9 };
    const b = { cost: 0.1, quality: 0.8 };
    const c = { cost: 0.5, quality: 0.7 }; // dominated by b
    const d = { cost: 2, quality: 0.9 }; // dominated by a
    expect([...paretoFrontier([a, b, c, d])].sort((x, y) => x.cost - y.cost)).toEqual([b, a]);
  });
});

async function runWithStubs(n: number, accA: number, accB: number) {
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": labelSuite("intent", n),
    "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"]),
  });
  const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
  const a = await startStub({ behaviour: behaviourFor(suites, accA, 1) });
  const b = await startStub({ behaviour: behaviourFor(suites, accB, 2) });
  open.push(a, b);
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig(a.baseUrl, b.baseUrl, ["suite.yaml"]) });
  const config = join(dir, "weightbridge.yaml");
  const ev = JSON.parse((await runCli(["eval", "-c", config, "--json"])).stdout) as {
    runId: string;
    suites: { models: { id: string; vsBaseline?: { qualityRatio: number } }[] }[];
  };
  return { dir, config, ev };
}

describe("weightbridge report", () => {
  it("--format json follows the documented contract and agrees with eval", async () => {
    const { config, ev } = await runWithStubs(80, 0.95, 0.9);
    const r = await runCli(["report", ev.runId, "-c", config, "--format", "json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { baseline: string; candidates: Record<string, unknown>[]; changedCases: { direction: string }[] };
    expect(rep.baseline).toBe("alpha");
    expect(rep.candidates).toHaveLength(1);
    const c = rep.candidates[0];
    expect(Object.keys(c ?? {})).toEqual(
      expect.arrayContaining(["id", "qualityRatio", "qualityRatioCi95", "pValue", "costRatio", "latencyP50Ms", "verdict", "reason"]),
    );
    // One suite: the pooled comparison equals the suite's.
    expect(c?.qualityRatio).toBeCloseTo(ev.suites[0]?.models[1]?.vsBaseline?.qualityRatio ?? -1, 5);
    expect(["adopt", "reject", "inconclusive"]).toContain(c?.verdict);
    expect(rep.changedCases.length).toBeGreaterThan(0);
  });

  it("writes a self-contained HTML report that renders in Chromium with its charts and tables", async () => {
    const { config, ev, dir } = await runWithStubs(60, 0.95, 0.85);
    const out = join(dir, "report.html");
    const r = await runCli(["report", ev.runId, "-c", config, "-o", out]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // no scripts, no network
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on("request", (req) => requests.push(req.url()));
      await page.goto(`file://${out}`);
      expect(await page.title()).toContain(ev.runId);
      expect(await page.locator("#verdicts tbody tr").count()).toBe(1);
      expect(await page.locator("#verdicts .v").first().textContent()).toMatch(/ADOPT|REJECT|INCONCLUSIVE/);
      const chart = page.locator("svg#chart-quality-cost");
      expect(await chart.isVisible()).toBe(true);
      expect(await chart.locator("g.point").count()).toBe(2);
      expect(await chart.locator("polyline.pareto, circle").count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator("svg#chart-latency rect.bar").count()).toBe(2);
      expect(await page.locator("table.suite").count()).toBe(1);
      expect(await page.locator("table.changed tbody tr").count()).toBeGreaterThan(0);
      expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
      const pdf = await page.pdf({ format: "A4" }); // prints
      expect(pdf.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });

  it("renders markdown with verdicts and changed cases, and explains a bad baseline", async () => {
    const { config, ev } = await runWithStubs(30, 1, 0.7);
    const md = await runCli(["report", ev.runId, "-c", config, "--format", "md", "--max-cost-ratio", "0.01"]);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Model adoption report/);
    expect(md.stdout).toMatch(/\| beta \| \*\*REJECT\*\*/);
    expect(md.stdout).toMatch(/### beta: \d+ regressions, 0 improvements vs alpha/);
    const bad = await runCli(["report", ev.runId, "-c", config, "--baseline", "gamma"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"gamma" is not in run/);
  });

  it("adds artifact vetting from scan reports (--scan), and explains a file that is not one", async () => {
    const { dir, config, ev } = await runWithStubs(12, 1, 0.9);
    const model = join(dir, "model");
    mkdirSync(model);
    writeFileSync(join(model, "README.md"), "---\nlicense: apache-2.0\nbase_model: Qwen/Qwen3-8B\n---\n");
    writeFileSync(join(model, "pytorch_model.bin"), Buffer.from("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.", "latin1"));
    const scanFile = join(dir, "scan.json");
    expect((await runCli(["scan", model, "--format", "json", "-o", scanFile])).code).toBe(1);
    const md = await runCli(["report", ev.runId, "-c", config, "--format", "md", "--scan", scanFile]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain("## Artifact vetting");
    expect(md.stdout).toMatch(/\| FAIL \| Apache License 2\.0 \(commercial: yes\) \| .* \(CN\) \| 1 critical.* \| critical pickle\.dangerous-call: os\.system/);
    const json = JSON.parse((await runCli(["report", ev.runId, "-c", config, "--format", "json", "--scan", scanFile])).stdout) as {
      artifacts: { verdict: string; counts: Record<string, number> }[];
    };
    expect(json.artifacts[0]).toMatchObject({ verdict: "fail", counts: { critical: 1 } });
    const html = join(dir, "r.html");
    expect((await runCli(["report", ev.runId, "-c", config, "--scan", scanFile, "-o", html])).code).toBe(0);
    expect(readFileSync(html, "utf8")).toMatch(/<table id="artifacts">[\s\S]*FAIL[\s\S]*pickle\.dangerous-call/);
    const bad = await runCli(["report", ev.runId, "-c", config, "--scan", config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("cannot read a scan report");
  });

  it("prices a self-hosted model from its bench run (TCO) when it has no API price", async () => {
    const dir = tempDir();
    writeFiles(dir, { "suite.yaml": labelSuite("intent", 20) });
    const cfg = (url: string) =>
      `models:\n  - id: api\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: api\n    price: { input: 2.5, output: 10 }\n  - id: mine\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: mine\n    hosting: { gpu: H100, gpus: 1, hourlyUsd: 2 }\nbaseline: api\nsuites: [suite.yaml]\n`;
    writeFiles(dir, { "weightbridge.yaml": cfg("http://127.0.0.1:1/v1") });
    const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
    const sim = await startStub({ behaviour: behaviourFor(suites, 1, 1), tokensPerSecond: 0 });
    open.push(sim);
    writeFiles(dir, { "weightbridge.yaml": cfg(sim.baseUrl) });
    const config = join(dir, "weightbridge.yaml");
    const ev = JSON.parse((await runCli(["eval", "-c", config, "--json"])).stdout) as { runId: string };
    const before = JSON.parse((await runCli(["report", ev.runId, "-c", config, "--format", "json"])).stdout) as {
      candidates: { costRatio: number | null; verdict: string }[];
    };
    expect(before.candidates[0]).toMatchObject({ costRatio: null, verdict: "inconclusive" });
    expect(
      (await runCli(["bench", "mine", "-c", config, "--concurrency", "2", "--requests", "10", "--output-tokens", "16", "--ignore-eos", "--json"])).code,
    ).toBe(0);
    const after = JSON.parse((await runCli(["report", ev.runId, "-c", config, "--format", "json"])).stdout) as {
      candidates: { costRatio: number | null }[];
      models: { id: string; costUsd: number | null; costSource: string | null }[];
    };
    expect(after.candidates[0]?.costRatio).toBeGreaterThan(0);
    const mine = after.models.find((m) => m.id === "mine");
    expect(mine?.costSource).toMatch(/^self-hosted TCO: 1x H100 at \$2\/GPU-hour, bench \S+ at concurrency 2, 50% utilisation$/);
    expect(mine?.costUsd).toBeGreaterThan(0);
  });

  it("renderers accept an empty comparison without crashing", () => {
    const empty = {
      version: 1 as const,
      kind: "eval" as const,
      runId: "r",
      createdAt: "t",
      status: "completed",
      completion: { done: 0, total: 0 },
      simulated: [],
      record: { weightbridgeVersion: "0", hashedAt: "t", hashedWhen: "report" as const, config: { path: "c", sha256: null }, suites: [], locks: [] },
      baseline: "a",
      criteria: DEFAULT_CRITERIA,
      candidates: [],
      models: [],
      suites: [],
      changedCases: [],
      changedCounts: {},
    };
    expect(renderHtml(empty)).toContain("<svg");
    expect(renderMarkdown(empty)).toContain("## Verdicts");
  });
});
