/** A gateway started in this process for tests: the `gateway.yaml` in `dir`, a SQLite store, and the key `wb_test` (named "bot"). */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { hashKey, startGateway } from "../../src/gateway/server.js";
import { insertKey } from "../../src/store/gateway.js";
import { openStore } from "../../src/store/open.js";
import { BIN } from "./cli.js";
import { tempDir, writeFiles } from "./project.js";

export const TEST_KEY = "wb_test";

/**
 * A real `weightbridge gateway` process (to kill -9 under load) for the `gateway.yaml` in `dir`, once
 * the key `wb_load` (named "load") is stored in `dbFile`. `track` gets the process at once, so a test
 * can kill it whatever happens; the promise resolves when it serves.
 */
export async function spawnLoadGateway(dir: string, dbFile: string, track: (p: ChildProcess) => void): Promise<ChildProcess> {
  const seed = await openStore(dbFile);
  await insertKey(seed.db, { name: "load", keyHash: hashKey("wb_load"), routes: null, rpm: null, tpm: null, budgetUsd: null });
  await seed.close();
  const gw = spawn(process.execPath, [BIN, "gateway", "-c", join(dir, "gateway.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
  track(gw);
  await new Promise<void>((resolve, reject) => {
    gw.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("weightbridge gateway on")) resolve();
    });
    gw.once("exit", (code) => reject(new Error(`gateway exited early (${code})`)));
  });
  return gw;
}

/** `storeFile` is relative to `dir`; close() stops the gateway, then the store. */
export async function startTestGateway(dir: string, storeFile: string) {
  const store = await openStore(join(dir, storeFile));
  await insertKey(store.db, { name: "bot", keyHash: hashKey(TEST_KEY), routes: null, rpm: null, tpm: null, budgetUsd: null });
  const gw = await startGateway({ config: loadGatewayConfig(join(dir, "gateway.yaml")), store });
  return {
    gw,
    store,
    close: async () => {
      await gw.close();
      await store.close();
    },
  };
}

/**
 * A recording upstream (one deployment, `only`, accepting nothing) and a gateway in front of it with
 * the given routes (YAML list items). close() stops both.
 */
export async function gatewayOnRecordingUpstream(routes: string) {
  const { startRecordingUpstream } = await import("./recording-upstream.js");
  const up = await startRecordingUpstream();
  const dir = tempDir();
  writeFiles(dir, { "gateway.yaml": `deployments:\n  - { id: only, baseUrl: "${up.baseUrl}", model: m, accepts: [] }\nroutes:\n${routes}` });
  const g = await startTestGateway(dir, join(".wb", "wb.db"));
  return {
    up,
    g,
    close: async () => {
      await g.close();
      await up.close();
    },
  };
}
