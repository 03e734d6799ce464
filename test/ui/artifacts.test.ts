/**
 * Artifacts end to end: `scan` and `lock` keep their results in the store when given one (a real
 * model folder with a NumPy pickle and a malicious pickle written by python3, a licence in the card,
 * a Hub repo for origin), an `eval` and a `redteam` run use the same model, and the UI shows the scan
 * (findings, licence, origin lineage, ML-BOM) and a model page linking the scan and both runs — in
 * Chromium, with no console error, no request off the origin, and the hostile folder name as text.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StoreHandle } from "../../src/store/index.js";
import { createUiServer } from "../../src/ui/server/index.js";
import { packagePath } from "../../src/util/package-root.js";
import { type CliResult, runCli } from "../support/cli.js";
import { labelSuite, tempDir, writeFiles } from "../support/project.js";
import { type Simulator, startStub } from "../support/stub-server.js";

const REPO = "Qwen/Qwen2.5-7B-Instruct";
const SHOTS = join(import.meta.dirname, ".screens");
let dir: string;
let db: string;
let model: string;
let store: StoreHandle;
let app: FastifyInstance;
let base: string;
let scanOut: CliResult;

function writeModel(path: string): void {
  mkdirSync(path, { recursive: true });
  execFileSync("python3", [
    "-c",
    `import pickle, numpy as np, os, sys
class E:
    def __reduce__(self): return (os.system, ("echo pwned",))
d = sys.argv[1]
pickle.dump({"w": np.zeros(3)}, open(os.path.join(d, "weights.pkl"), "wb"))
pickle.dump(E(), open(os.path.join(d, "evil.pkl"), "wb"))`,
    path,
  ]);
  writeFiles(path, { "README.md": "---\nlicense: apache-2.0\n---\n# model\n", "config.json": '{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2"}' });
}

async function runs(stubs: Simulator[]): Promise<void> {
  writeFiles(dir, { "suite.yaml": labelSuite("intent", 20), "weightbridge.yaml": "models: []\nsuites: [suite.yaml]\n" });
  const a = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "a" } });
  const b = await startStub({ behaviour: { mode: "refuse", accuracy: 1, seed: 2, script: new Map(), refuseTopics: [], fallback: "b" } });
  stubs.push(a, b);
  const m = (id: string, url: string, name: string) =>
    `  - id: ${id}\n    provider: openai-compatible\n    baseUrl: ${url}\n    model: ${name}\n    price: { input: 1, output: 1 }\n`;
  writeFiles(dir, {
    "weightbridge.yaml": `models:\n${m("qwen", a.baseUrl, REPO)}${m("other", b.baseUrl, "other/model")}baseline: other\nsuites: [suite.yaml]\n`,
  });
  const env = { WEIGHTBRIDGE_DATABASE_URL: db };
  const e = await runCli(["eval", "-c", join(dir, "weightbridge.yaml"), "--json"], { env });
  if (e.code !== 0 && e.code !== 1) throw new Error(`eval failed: ${e.stderr}`);
  const r = await runCli(["redteam", "-c", join(dir, "weightbridge.yaml"), "--packs", "system-prompt-leak", "--json"], { env, timeoutMs: 120_000 });
  if (r.code !== 0 && r.code !== 1) throw new Error(`redteam failed: ${r.stderr}`);
}

beforeAll(async () => {
  dir = tempDir("wb-ui-art-");
  db = join(dir, "ui.sqlite");
  model = join(dir, 'm<img src=x onerror="window.__xss=1">');
  writeModel(model);
  scanOut = await runCli(["scan", model, "--repo", REPO, "--store", db, "--json"]);
  const lock = await runCli(["lock", model, "--store", db]);
  if (lock.code !== 0) throw new Error(`lock failed: ${lock.stderr}`);
  const stubs: Simulator[] = [];
  try {
    await runs(stubs);
  } finally {
    await Promise.all(stubs.map((s) => s.close()));
  }
  store = await openStore(db);
  app = await createUiServer({ store, host: "127.0.0.1", port: 0, appDir: packagePath("dist", "ui") });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 240_000);
afterAll(async () => {
  await app?.close();
  await store?.close();
});

const get = async <T>(path: string): Promise<T> => {
  const r = await fetch(base + path);
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
};

describe("artifacts kept by scan and lock", () => {
  it("scan with --store keeps the whole report and its ML-BOM (exit 1 on the malicious pickle all the same); lock keeps the lockfile", async () => {
    expect(scanOut.code).toBe(1);
    expect(scanOut.stderr).toMatch(/kept as artifact scan-/);
    const { artifacts } = await get<{ artifacts: { id: string; kind: string; repo: string | null; verdict: string | null; target: string }[] }>(
      "/api/v1/artifacts",
    );
    expect(artifacts.map((a) => a.kind).sort()).toEqual(["lock", "scan"]);
    const scan = artifacts.find((a) => a.kind === "scan");
    expect(scan).toMatchObject({ repo: REPO, verdict: "fail", target: model });
    const one = await get<{
      artifact: { report: { findings: { rule: string }[]; license: { id: string } }; bom: { metadata: { component: { components: unknown[] } } } };
    }>(`/api/v1/artifacts/${scan?.id}`);
    expect(one.artifact.report.findings.map((f) => f.rule)).toContain("pickle.dangerous-call");
    expect(one.artifact.report.license.id).toBe("apache-2.0");
    expect(one.artifact.bom.metadata.component.components).toHaveLength(4);
    const bom = await fetch(`${base}/api/v1/artifacts/${scan?.id}/bom`);
    expect(bom.headers.get("content-disposition")).toMatch(/attachment/);
    expect(((await bom.json()) as { bomFormat: string }).bomFormat).toBe("CycloneDX");
  });

  it("refuses a store it cannot open before scanning (exit 2, one line, no stack)", async () => {
    const r = await runCli(["scan", model, "--store", "ftp://nowhere/x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unsupported database URL scheme/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a model's page gathers its scans, evals and red-team runs", async () => {
    const m = await get<{ artifacts: { kind: string }[]; runs: { kind: string }[]; refs: string[] }>(`/api/v1/models?ref=${encodeURIComponent(REPO)}`);
    expect(m.artifacts.map((a) => a.kind)).toEqual(["scan"]);
    expect(m.runs.map((r) => r.kind).sort()).toEqual(["eval", "redteam"]);
    expect(m.refs).toContain("qwen");
    const byPath = await get<{ artifacts: { kind: string }[] }>(`/api/v1/models?ref=${encodeURIComponent(model)}`);
    expect(byPath.artifacts.map((a) => a.kind).sort()).toEqual(["lock", "scan"]);
  });
});

describe("the artifacts pages in Chromium", { timeout: 120_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("lists artifacts, opens a scan (findings, licence, lineage, ML-BOM) and its model's page", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith(`${base}/`)) problems.push(`request left the origin: ${r.url()}`);
    });
    await page.goto(`${base}/artifacts`);
    await page.locator("tbody tr").first().waitFor();
    expect(await page.locator("tbody tr").count()).toBe(2);
    const list = await page.locator("main").innerText();
    expect(list).toMatch(/fail/);
    expect(list).toMatch(/apache-2\.0/);
    expect(list).toMatch(/Alibaba/);
    expect(list).toContain('onerror="window.__xss=1"'); // the folder name, shown as text
    await page.screenshot({ path: join(SHOTS, "artifacts.png"), fullPage: true });
    await page.locator("tbody tr", { hasText: "scan" }).getByRole("link").first().click();
    await page.getByText("Origin lineage").waitFor();
    const scan = await page.locator("main").innerText();
    expect(scan).toMatch(/pickle\.dangerous-call/);
    expect(scan).toMatch(/Apache License 2\.0/);
    expect(scan).toMatch(/ML-BOM \(CycloneDX, 4 components\)/);
    expect(scan).toContain(REPO);
    await page.screenshot({ path: join(SHOTS, "artifact-scan.png"), fullPage: true });
    await page.getByRole("link", { name: REPO }).first().click();
    await page.getByText("Red-team runs (1)").waitFor();
    expect(await page.locator("main").innerText()).toMatch(/Evals \(1\)/);
    await page.screenshot({ path: join(SHOTS, "model.png"), fullPage: true });
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(problems, problems.join("\n")).toEqual([]);
    await page.close();
  });
});
