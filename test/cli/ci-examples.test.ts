/**
 * examples/ci/github-actions.yml and gitlab-ci.yml run as written (issue 16): the test executes their
 * own shell steps with bash against the built CLI (a `weightbridge` on PATH), offline, and checks the
 * job passes for a good candidate and fails on the decision step for a REJECT. Only the install step
 * is skipped, and the simulator ports are swapped for free ones (other tests run in parallel).
 */
import { spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { tempDir } from "../support/project.js";

const EXAMPLES = fileURLToPath(new URL("../../examples", import.meta.url));

interface Step {
  name: string;
  script: string;
}

function githubSteps(): Step[] {
  const wf = parse(readFileSync(join(EXAMPLES, "ci", "github-actions.yml"), "utf8")) as { jobs: { evaluate: { steps: { name?: string; run?: string }[] } } };
  return wf.jobs.evaluate.steps.filter((s) => s.run && !s.name?.startsWith("Install")).map((s) => ({ name: s.name ?? "", script: s.run ?? "" }));
}

function gitlabSteps(): Step[] {
  const ci = parse(readFileSync(join(EXAMPLES, "ci", "gitlab-ci.yml"), "utf8")) as { weightbridge: { script: string[] } };
  return ci.weightbridge.script.map((script, i) => ({ name: `script[${i}]`, script }));
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    // Its own process group: the simulators it starts in the background are stopped with it.
    const p = spawn("bash", ["-e", "-o", "pipefail", "-c", script], {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    p.on("error", reject);
    // "exit", not "close": the background simulators keep the step's stderr open, as they do in CI.
    p.on("exit", (code) => setTimeout(() => resolve({ code, stdout, stderr, pid: p.pid ?? 0 }), 50));
  });
}

async function runPipeline(steps: Step[], candidateAccuracy?: string) {
  const dir = tempDir("wb-ci-");
  cpSync(join(EXAMPLES, "ci"), join(dir, "examples", "ci"), { recursive: true });
  cpSync(join(EXAMPLES, "support"), join(dir, "examples", "support"), { recursive: true });
  const [a, b] = [await freePort(), await freePort()];
  const swap = (s: string) => s.replaceAll("8001", String(a)).replaceAll("8002", String(b));
  const config = join(dir, "examples", "ci", "weightbridge.yaml");
  writeFileSync(config, swap(readFileSync(config, "utf8")));
  writeFileSync(join(dir, "weightbridge"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(dir, "weightbridge"), 0o755);
  const env = { PATH: `${dir}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: join(dir, "summary.md"), CI: "true" };
  const results: { name: string; code: number | null; stderr: string }[] = [];
  const groups: number[] = [];
  try {
    for (const step of steps) {
      let script = swap(step.script);
      if (candidateAccuracy) script = script.replace("--accuracy 0.96", `--accuracy ${candidateAccuracy}`);
      const r = await bash(script, dir, env);
      groups.push(r.pid);
      results.push({ name: step.name, code: r.code, stderr: r.stderr });
      if (r.code !== 0) break; // a CI job stops at the first failing step
    }
  } finally {
    for (const g of groups)
      try {
        process.kill(-g, "SIGTERM");
      } catch {
        /* the group has already exited */
      }
  }
  return { dir, results };
}

describe.each([
  ["GitHub Actions", githubSteps],
  ["GitLab CI", gitlabSteps],
])("examples/ci: %s", (_name, steps) => {
  it("passes for a good candidate and leaves the scan, JUnit, summary and decision record", async () => {
    const { dir, results } = await runPipeline(steps());
    expect(results.map((r) => [r.name, r.code, r.code ? r.stderr : ""])).toEqual(results.map((r) => [r.name, 0, ""]));
    expect(results).toHaveLength(3);
    const junit = readFileSync(join(dir, "eval-junit.xml"), "utf8");
    expect(junit.match(/<testcase /g)).toHaveLength(100); // 50 cases × 2 models
    expect(readFileSync(join(dir, "summary.md"), "utf8")).toMatch(/^### weightbridge: .*candidate (ADOPT|INCONCLUSIVE)/);
    const decision = JSON.parse(readFileSync(join(dir, "decision.json"), "utf8")) as {
      simulated: string[];
      candidates: { verdict: string }[];
      artifacts: { verdict: string }[];
      record: { weightbridgeVersion: string; config: { sha256: string }; suites: { name: string; sha256: string }[] };
    };
    expect(decision.simulated).toEqual(["baseline", "candidate"]);
    expect(decision.artifacts[0]?.verdict).toBe("pass");
    expect(decision.record.config.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(decision.record.suites[0]).toMatchObject({ name: "ticket-intent", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(existsSync(join(dir, "scan.json"))).toBe(true);
  }, 120_000);

  it("fails the job at the decision step when the candidate is REJECTed", async () => {
    const { results } = await runPipeline(steps(), "0.3");
    expect(results.map((r) => r.code)).toEqual([0, 0, 1]);
    expect(results[2]?.stderr).toMatch(/fail: candidate is REJECT \(--fail-on reject,error,incomplete\)/);
  }, 120_000);
});
