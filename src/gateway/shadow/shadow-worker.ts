/**
 * The shadow executor on its own thread: mirrored requests are sent, read, detected, compared and
 * committed here, so their CPU is not taken from the gateway's event loop that answers callers. It
 * opens its own connection to the store and its own upstream pools. Built as its own file
 * (dist/gateway/shadow/shadow-worker.js by tsc, dist/bundle/shadow-worker.js by scripts/bundle.mjs).
 *
 * Messages in: {job} | {close: graceMs}. Out: {started: id} when a job leaves its queue, {closed}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { buildDetectors } from "../../detect/index.js";
import { closeAgents, type PoolRegistry } from "../../net/index.js";
import { auditWriter, openStore } from "../../store/index.js";
import { parseDurationMs } from "../../util/duration.js";
import type { AuditLog } from "../audit-log.js";
import type { GatewayConfig } from "../config.js";
import { createForwarder } from "../forwarder.js";
import { createShadowExecutor, type ShadowJob } from "./executor.js";

const { config, storeUrl } = workerData as { config: GatewayConfig; storeUrl: string };
const port = parentPort;
if (!port) throw new Error("shadow-worker runs as a worker thread");

const store = await openStore(storeUrl);
// Commits on this thread (it is already off the gateway's event loop).
const writer = auditWriter(store, { worker: false });
const audit: AuditLog = { record: (row) => writer.write(row), statements: (items) => writer.writeRows(items), close: () => writer.close() };
const pools: PoolRegistry = new Map();
const timeouts = new Map(config.deployments.map((d) => [d.id, parseDurationMs(d.timeout, `deployment ${d.id} timeout`)]));
const executor = createShadowExecutor({
  config,
  detectors: buildDetectors({ custom: config.classes }),
  forwarder: createForwarder(pools, (d) => timeouts.get(d.id) ?? 120_000),
  audit,
});

port.on("message", async (m: { id: number; job: ShadowJob } | { close: number }) => {
  if ("job" in m) return executor.run(m.job, () => port.postMessage({ started: m.id }));
  await executor.close(m.close);
  await writer.close();
  await closeAgents(pools);
  await store.close();
  port.postMessage({ closed: true });
  port.close();
});
port.postMessage({ ready: true });
