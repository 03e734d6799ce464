/**
 * Where a gateway's mirrored requests run: on the shadow thread (default), so they do not take the
 * event loop that answers callers; in-process when WEIGHTBRIDGE_SHADOW_THREAD=0, when no route
 * mirrors (capture only), or when the store is in memory (a second connection would not see it).
 */
import type { Detector } from "../../detect/index.js";
import type { StoreHandle } from "../../store/index.js";
import type { AuditLog } from "../audit-log.js";
import type { GatewayConfig } from "../config.js";
import type { Forwarder } from "../forwarder.js";
import { createShadowExecutor, type ShadowExecutor } from "./executor.js";
import { startShadowThread } from "./remote.js";

export function shadowExecutor(o: {
  config: GatewayConfig;
  store: StoreHandle;
  detectors: readonly Detector[];
  forwarder: Forwarder;
  audit: AuditLog;
}): ShadowExecutor {
  const inMemory = o.store.url === "" || o.store.url === ":memory:" || o.store.url.startsWith("file::memory:");
  const mirrors = o.config.routes.some((r) => r.shadow);
  if (!mirrors || inMemory || process.env.WEIGHTBRIDGE_SHADOW_THREAD === "0") return createShadowExecutor(o);
  return startShadowThread({ config: o.config, storeUrl: o.store.url });
}
