import { createRequire } from "node:module";

type CliProgress = typeof import("cli-progress");
const require = createRequire(import.meta.url);

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/** Whether a progress bar belongs on this terminal: a TTY, not CI, not machine output. */
export function wantsProgress(json: boolean): boolean {
  const ci = process.env.CI;
  return !json && Boolean(process.stderr.isTTY) && !(ci && ci !== "false" && ci !== "0");
}

/** A bar on stderr with rate and ETA, or nothing when it does not belong. */
export function createProgress(label: string, total: number, enabled: boolean): Progress {
  if (!enabled) return silent;
  // Loaded only when a bar is shown (a TTY), not on every start-up.
  const cliProgress = require("cli-progress") as CliProgress;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let first: number | undefined;
  let stopped = false;
  bar.start(total, 0, { rate: "0.0" });
  return {
    update(done, newTotal) {
      if (stopped) return;
      first ??= done; // resumed runs start part-way: rate counts this session's work only
      if (newTotal !== undefined) bar.setTotal(newTotal);
      const secs = (Date.now() - started) / 1000;
      bar.update(done, { rate: secs > 0 ? ((done - first) / secs).toFixed(1) : "0.0" });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
