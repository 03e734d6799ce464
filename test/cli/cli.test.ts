import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expectInterrupted, killWhen, newestRun, runCli, storedResults } from "../support/cli.js";
import { twoModelProject } from "../support/eval-project.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "../support/project.js";
import type { Simulator } from "../support/stub-server.js";

const open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function project(n: number, latencyMs = 0) {
  const p = await twoModelProject(n, latencyMs);
  open.push(p.a, p.b);
  return p;
}

describe("weightbridge CLI", () => {
  it("lists its commands, and every command has help with examples", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["eval", "runs", "simulate", "pull", "demo"]) expect(top.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
    for (const c of ["eval", "runs", "simulate", "pull", "demo"]) {
      const h = await runCli([c, "--help"]);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/Example/);
    }
  });

  it("eval --json prints exactly one JSON object in the documented shape", async () => {
    const { config } = await project(30);
    const r = await runCli(["eval", "-c", config, "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(expect.arrayContaining(["runId", "suites"]));
    const suite = (out.suites as { name: string; models: Record<string, unknown>[] }[])[0];
    expect(suite?.name).toBe("intent");
    const [alpha, beta] = suite?.models ?? [];
    expect(alpha).toMatchObject({ id: "alpha", n: 30, errors: 0 });
    expect(alpha).not.toHaveProperty("vsBaseline");
    expect(beta).toMatchObject({
      id: "beta",
      n: 30,
      errors: 0,
      score: { mean: expect.any(Number), ci95: [expect.any(Number), expect.any(Number)] },
      cost: { usd: expect.any(Number), inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      latency: { p50Ms: expect.any(Number), p95Ms: expect.any(Number), ttftP50Ms: expect.any(Number) },
      vsBaseline: {
        diff: expect.any(Number),
        ci95: [expect.any(Number), expect.any(Number)],
        pValue: expect.any(Number),
        qualityRatio: expect.any(Number),
        qualityRatioCi95: [expect.any(Number), expect.any(Number)],
        costRatio: expect.any(Number),
      },
    });
    expect(r.stderr).toBe(""); // quiet under --json
  });

  it("prints a table and where the run is stored", async () => {
    const { config, dir } = await project(10);
    const r = await runCli(["eval", "-c", config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Suite intent \(10 cases\)/);
    expect(r.stdout).toMatch(/alpha \(baseline\)/);
    expect(r.stdout).toMatch(/beta scores \d+% of alpha/);
    expect(r.stdout).toContain(join(dir, ".weightbridge", "weightbridge.db"));
  });

  it("exits 2 with file:line and a hint, and no stack trace, on a bad config", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": "models:\n  - id: a\n    provider: openai-compatible\n    baseUrl: http://127.0.0.1:1/v1\n    modle: x\nsuites: [s.yaml]\n",
    });
    const r = await runCli(["eval", "-c", join(dir, "weightbridge.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*weightbridge\.yaml:5: models\[0\]\.modle: unknown key "modle"\nhint: did you mean "model"\?\n$/);
  });

  it("stops early with a clear error when an endpoint cannot be reached", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "suite.yaml": labelSuite("intent", 20),
      "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"], "defaults: { retries: 1 }"),
    });
    const t0 = Date.now();
    const r = await runCli(["eval", "-c", join(dir, "weightbridge.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: model (alpha|beta): cannot reach the endpoint at http:\/\/127\.0\.0\.1:1\/v1 \(connection error: ECONNREFUSED/);
    expect(r.stderr).toMatch(/hint: .*--resume/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const runs = JSON.parse((await runCli(["runs", "-c", join(dir, "weightbridge.yaml"), "--json"])).stdout) as { status: string }[];
    expect(runs[0]?.status).toBe("interrupted");
  });

  it("exits 2 on bad flags", async () => {
    const r = await runCli(["eval", "--repeat", "zero"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--repeat/);
  });

  it("runs lists newest first; runs show repeats eval's numbers", async () => {
    const { config } = await project(12);
    // With repeats, so the per-case means and paired statistics read back from the store must match too.
    const first = JSON.parse((await runCli(["eval", "-c", config, "--json", "--repeat", "3"])).stdout) as { runId: string };
    const second = JSON.parse((await runCli(["eval", "-c", config, "--json", "--models", "beta"])).stdout) as { runId: string };
    const list = JSON.parse((await runCli(["runs", "-c", config, "--json"])).stdout) as Record<string, unknown>[];
    expect(list.map((r) => r.runId)).toEqual([second.runId, first.runId]);
    expect(list[0]).toMatchObject({ runId: second.runId, status: "completed", suites: ["intent"], models: ["beta"], createdAt: expect.any(String) });
    const shown = await runCli(["runs", "show", first.runId.slice(0, 20), "-c", config, "--json"]);
    const again = JSON.parse(shown.stdout) as { runId: string; suites: unknown };
    expect(again.runId).toBe(first.runId);
    expect(again.suites).toEqual((first as unknown as { suites: unknown }).suites);
    const missing = await runCli(["runs", "show", "nope", "-c", config]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no run "nope"/);
  });

  it("uses WEIGHTBRIDGE_DATABASE_URL (sqlite:PATH) for eval and runs", async () => {
    const { config } = await project(6);
    const db = join(tempDir(), "elsewhere.db");
    const env = { WEIGHTBRIDGE_DATABASE_URL: `sqlite:${db}` };
    const r = await runCli(["eval", "-c", config], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`stored in ${db}`);
    const runs = JSON.parse((await runCli(["runs", "--json"], { env, cwd: tempDir() })).stdout) as unknown[];
    expect(runs).toHaveLength(1);
  });

  it("after SIGKILL, --resume requests nothing that had finished", async () => {
    const { config, a, b } = await project(150, 40);
    let killedAt = 0;
    const r1 = await runCli(["eval", "-c", config, "--no-cache", "--json"], {
      onSpawn: killWhen(
        () => a.stats.chat + b.stats.chat >= 80,
        "SIGKILL",
        () => {
          killedAt = a.stats.chat + b.stats.chat;
        },
      ),
    });
    expect(r1.signal).toBe("SIGKILL");
    expect(killedAt).toBeGreaterThanOrEqual(80);

    const run = await newestRun(config);
    expect(run?.status).toBe("interrupted");
    const runId = run?.runId ?? "";

    // What had finished, per model and prompt, before the kill:
    const finished = await storedResults(config, runId);
    expect(finished.length).toBeGreaterThan(0);
    expect(finished.length).toBeLessThan(300);

    const r2 = await runCli(["eval", "-c", config, "--no-cache", "--resume", runId, "--json"]);
    expect(r2.code).toBe(0);
    const summary = JSON.parse(r2.stdout) as { runId: string; status: string; suites: { models: { n: number; requests: number }[] }[] };
    expect(summary.runId).toBe(runId);
    expect(summary.status).toBe("completed");
    expect(summary.suites[0]?.models.map((m) => m.requests)).toEqual([150, 150]);
    for (const row of finished) {
      const sim = row.modelId === "alpha" ? a : b;
      const prompt = row.messages[row.messages.length - 1]?.content ?? "";
      expect(sim.stats.prompts.get(prompt), `${row.modelId} ${prompt}`).toBe(1);
    }
    // Everything was asked at least once; only requests in flight at the kill were asked twice.
    const total = a.stats.chat + b.stats.chat;
    expect(total).toBeGreaterThanOrEqual(300);
    expect(total - 300).toBeLessThanOrEqual(killedAt - finished.length + 16);
  });

  it("Ctrl-C stops cleanly, marks the run interrupted and says how to resume", async () => {
    const { config, a } = await project(150, 40);
    const r = await runCli(["eval", "-c", config, "--no-cache"], {
      onSpawn: killWhen(() => a.stats.chat >= 20, "SIGINT"),
    });
    const runId = await expectInterrupted(r, config);
    const resumed = await runCli(["eval", "-c", config, "--resume", runId, "--json"]);
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as { status: string }).status).toBe("completed");
  });
});
