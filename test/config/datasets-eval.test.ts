/**
 * End to end (issue 20, Datasets): a suite that reads a CSV file and a Hub dataset split, evaluated by
 * the real CLI against a simulated model on 127.0.0.1 while a local Hub-protocol server serves real
 * Parquet. The run's stored plan records the dataset's revision, commit and file hashes; a re-run
 * reads the cached shard (no second download); an interrupted run resumes from its plan without
 * touching the Hub at all.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DatasetProvenance } from "../../src/config/index.js";
import { loadProjectAsync } from "../../src/config/project.js";
import type { Plan } from "../../src/evaluate/plan.js";
import { openStore } from "../../src/store/open.js";
import { getRun } from "../../src/store/runs.js";
import { expectInterrupted, killWhen, runCli } from "../support/cli.js";
import { startHub } from "../support/hub-server.js";
import { parquetBytes, qaColumns } from "../support/parquet.js";
import { tempDir, writeFiles } from "../support/project.js";
import { behaviourFor, type Simulator, startStub } from "../support/stub-server.js";

const saved = { ...process.env };
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  process.env = { ...saved };
  for (const c of closers.splice(0)) await c();
});

const REPO = "acme/arith";
const SUITE = `name: mixed
system: "Answer briefly."
prompt: "Ticket: {{message}}"
cases:
  - file: data/tickets.csv
    id: "ticket-{{ticket}}"
    expect: { type: label, value: "{{expected}}" }
  - hf: { dataset: ${REPO}, config: default, split: test, limit: 25, seed: 1 }
    prompt: "{{question}}"
    expect: { type: equals, value: "{{answer}}" }
`;
const CSV = 'ticket,message,expected\r\n1,"I was charged twice, ""again""",billing\r\n2,"parcel\nnever came",shipping\r\n3,=cmd|\' /C calc\'!A0,other\r\n';

function config(baseUrl: string): string {
  return `models:
  - id: cand
    provider: openai-compatible
    baseUrl: ${baseUrl}
    model: cand
    price: { input: 0.1, output: 0.4 }
    concurrency: 2
suites: [suite.yaml]
`;
}

async function storedPlan(cfg: string, runId: string): Promise<Plan> {
  const store = await openStore(join(cfg, "..", ".weightbridge", "weightbridge.db"));
  try {
    return (await getRun(store.db, runId))?.plan as Plan;
  } finally {
    await store.close();
  }
}

async function project(latencyMs: number) {
  const hub = await startHub(REPO, [{ path: "default/test/0000.parquet", content: parquetBytes(qaColumns(80), { rowGroupSize: 32 }) }], {
    repoType: "dataset",
  });
  closers.push(hub.close);
  const dir = tempDir();
  writeFiles(dir, { "suite.yaml": SUITE, "weightbridge.yaml": config("http://127.0.0.1:1/v1") });
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "tickets.csv"), CSV);
  // The stub learns the right answers from the same suite (loaded here with a cache of its own).
  process.env.HF_ENDPOINT = hub.url;
  process.env.WEIGHTBRIDGE_CACHE = tempDir("wb-stub-cache-");
  const suites = (await loadProjectAsync(join(dir, "weightbridge.yaml"))).suites;
  const stub: Simulator = await startStub({ behaviour: behaviourFor(suites, 1, 1), latencyMs });
  closers.push(() => stub.close());
  writeFiles(dir, { "weightbridge.yaml": config(stub.baseUrl) });
  hub.requests.length = 0;
  return { hub, stub, cfg: join(dir, "weightbridge.yaml"), env: { HF_ENDPOINT: hub.url, WEIGHTBRIDGE_CACHE: tempDir("wb-cache-") } };
}

describe("eval on a suite that reads a CSV file and a Hub dataset", () => {
  it("scores every row, records the dataset's commit and hashes in the run, and a re-run downloads nothing", async () => {
    const { hub, cfg, env } = await project(0);
    const downloads = () => hub.requests.filter((r) => r.url.includes("/resolve/")).length;
    const r = await runCli(["eval", "-c", cfg, "--json", "--no-cache"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      runId: string;
      suites: { cases: number; datasets: DatasetProvenance[]; models: { passRate: number; errors: number }[] }[];
    };
    expect(out.suites[0]?.datasets[1]).toMatchObject({ kind: "hf", commit: hub.commit });
    expect(out.suites[0]?.cases).toBe(28);
    expect(out.suites[0]?.models[0]).toMatchObject({ passRate: 1, errors: 0 });
    expect(downloads()).toBe(1);

    const plan = await storedPlan(cfg, out.runId);
    const suite = plan.suites[0];
    expect(suite?.cases.slice(0, 3).map((c) => [c.id, c.vars.message])).toEqual([
      ["ticket-1", 'I was charged twice, "again"'],
      ["ticket-2", "parcel\nnever came"],
      ["ticket-3", "=cmd|' /C calc'!A0"],
    ]);
    const [csv, hf] = (suite?.datasets ?? []) as DatasetProvenance[];
    expect(csv).toMatchObject({ kind: "file", path: "data/tickets.csv", format: "csv", rows: 3, used: 3 });
    expect(hf).toMatchObject({
      kind: "hf",
      dataset: REPO,
      config: "default",
      split: "test",
      revision: "refs/convert/parquet",
      commit: hub.commit,
      rows: 80,
      used: 25,
      limit: 25,
      seed: 1,
    });
    expect(hf?.kind === "hf" && hf.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);

    const again = await runCli(["eval", "-c", cfg, "--json", "--no-cache"], { env });
    expect(again.code).toBe(0);
    expect(downloads()).toBe(1);
    const plan2 = await storedPlan(cfg, (JSON.parse(again.stdout) as { runId: string }).runId);
    expect(plan2.suites[0]?.cases.map((c) => c.vars)).toEqual(suite?.cases.map((c) => c.vars));
  }, 60_000);

  it("a bad row stops eval and validate before any request: exit 2, file:line and a hint, no stack trace", async () => {
    const { stub, cfg, env } = await project(0);
    writeFileSync(join(cfg, "..", "data", "tickets.csv"), "ticket,message,expected\n1,hi,billing\n2,too,many,fields\n");
    for (const args of [
      ["eval", "-c", cfg],
      ["validate", "-c", cfg, "--offline"],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/tickets\.csv:3: Invalid Record Length: columns length is 3, got 4/);
      expect(r.stderr).toMatch(/as many fields as the header/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    writeFileSync(join(cfg, "..", "data", "tickets.csv"), "ticket,message,expected\n1,hi,billing\n");
    const stale = tempDir("wb-cache-");
    const parquetBroken = await runCli(["eval", "-c", cfg], { env: { ...env, WEIGHTBRIDGE_CACHE: stale, HF_ENDPOINT: "http://127.0.0.1:1" } });
    expect(parquetBroken.code).toBe(2);
    expect(parquetBroken.stderr).toMatch(/hf:acme\/arith \(config default, split test\): cannot reach the Hub at http:\/\/127\.0\.0\.1:1/);
    expect(stub.stats.chat).toBe(0);
  }, 60_000);

  it("an interrupted run resumes from its stored plan without asking the Hub again", async () => {
    const { hub, stub, cfg, env } = await project(40);
    const r = await runCli(["eval", "-c", cfg, "--no-cache"], { env, onSpawn: killWhen(() => stub.stats.chat >= 6, "SIGINT") });
    const runId = await expectInterrupted(r, cfg);
    const before = hub.requests.length;
    const resumed = await runCli(["eval", "-c", cfg, "--resume", runId, "--json"], { env: { ...env, HF_ENDPOINT: "http://127.0.0.1:1" } });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as { suites: { models: { n: number; passRate: number }[] }[] }).suites[0]?.models[0]).toMatchObject({
      n: 28,
      passRate: 1,
    });
    expect(hub.requests.length).toBe(before);
  }, 60_000);
});
