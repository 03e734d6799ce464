/** Run the built CLI (dist/, built by `pretest`) as a real child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { ResultRecord } from "../../src/records/index.js";

export const BIN = fileURLToPath(new URL("../../bin/weightbridge.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; onSpawn?: (p: ChildProcess) => void; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, CI: "true", ...opts.env },
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
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    p.on("error", reject);
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    opts.onSpawn?.(p);
  });
}

/** runCli's onSpawn: send `signal` to the child once `when()` holds (polled every 5 ms). */
export function killWhen(when: () => boolean, signal: NodeJS.Signals, onKill?: () => void): (p: ChildProcess) => void {
  return (p) => {
    const t = setInterval(() => {
      if (when()) {
        clearInterval(t);
        onKill?.();
        p.kill(signal);
      }
    }, 5);
  };
}

/** The newest run in the store of `config`, as `weightbridge runs --json` lists it. */
export async function newestRun(config: string): Promise<{ runId: string; kind: string; status: string } | undefined> {
  return (JSON.parse((await runCli(["runs", "-c", config, "--json"])).stdout) as { runId: string; kind: string; status: string }[])[0];
}

/** After Ctrl-C: exit 130, a resume hint on stderr, the run marked interrupted. Returns its id. */
export async function expectInterrupted(r: CliResult, config: string): Promise<string> {
  expect(r.code).toBe(130);
  const m = /--resume (\S+)/.exec(r.stderr);
  expect(m).not.toBeNull();
  expect(await newestRun(config)).toMatchObject({ runId: m?.[1], status: "interrupted" });
  return m?.[1] ?? "";
}

/** The result rows a run has committed to the store beside `config` (its default location). */
export async function storedResults(config: string, runId: string): Promise<ResultRecord[]> {
  const { openStore } = await import("../../src/store/open.js");
  const { loadResults } = await import("../../src/store/results.js");
  const store = await openStore(join(config, "..", ".weightbridge", "weightbridge.db"));
  try {
    return await loadResults(store.db, runId);
  } finally {
    await store.close();
  }
}
