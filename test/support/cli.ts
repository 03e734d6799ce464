/** Run the built CLI (dist/, built by `pretest`) as a real child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

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
