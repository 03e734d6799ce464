/**
 * The gateway's side of the shadow thread (shadow-worker.ts): jobs are posted to it, and a job's
 * `onStart` runs when the thread reports that it left its queue (the gateway counts a route's
 * waiting jobs against maxQueue). If the thread dies, every job it had is released (those pairs
 * stay missing) and later jobs are dropped by the same accounting, never run on the event loop.
 */
import { Worker } from "node:worker_threads";
import type { GatewayConfig } from "../config.js";
import type { ShadowExecutor } from "./executor.js";

export function shadowWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../../dist/gateway/shadow/shadow-worker.js", here) : new URL("./shadow-worker.js", here);
}

export function startShadowThread(o: { config: GatewayConfig; storeUrl: string }): ShadowExecutor {
  const w = new Worker(shadowWorkerUrl(), { workerData: { config: o.config, storeUrl: o.storeUrl } });
  const pending = new Map<number, () => void>();
  let nextId = 0;
  let alive = true;
  let closed: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
  const releaseAll = () => {
    alive = false;
    for (const start of pending.values()) start();
    pending.clear();
    closed?.();
  };
  w.on("message", (m: { started?: number; closed?: boolean }) => {
    if (m.started !== undefined) {
      pending.get(m.started)?.();
      pending.delete(m.started);
    }
    if (m.closed) closed?.();
  });
  w.on("error", releaseAll);
  void exited.then(releaseAll);
  w.unref();
  return {
    run(job, onStart) {
      if (!alive) return onStart();
      const id = nextId++;
      pending.set(id, onStart);
      w.postMessage({ id, job });
    },
    async close(graceMs) {
      if (!alive) return;
      const done = new Promise<void>((resolve) => {
        closed = resolve;
      });
      w.postMessage({ close: graceMs });
      await Promise.race([done, new Promise((r) => setTimeout(r, graceMs + 5000).unref())]);
      await w.terminate();
      await exited;
    },
  };
}
