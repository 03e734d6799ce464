/**
 * How commands name and open their store, declared once: the `-c, --config` options several commands
 * share word for word, and open → work → close around a command's work (the store is closed on
 * errors too). The store's modules load lazily, when the command runs, not at start-up.
 */
import { Option } from "commander";
import type { StoreHandle } from "../store/index.js";

/** `-c, --config` of the commands that read or write the store named by a weightbridge.yaml (or WEIGHTBRIDGE_DATABASE_URL). */
export const storeConfigOption = (verb: "read" | "write") =>
  new Option("-c, --config <file>", `config whose store to ${verb} (or set WEIGHTBRIDGE_DATABASE_URL)`);

/** `-c, --config` of the gateway's commands. */
export const gatewayConfigOption = () => new Option("-c, --config <file>", "gateway config").default("gateway.yaml");

/** Open the store a config names (or WEIGHTBRIDGE_DATABASE_URL), run `work` with it, close it whatever happens. */
export async function withStoreFor<T>(config: string | undefined, work: (store: StoreHandle) => Promise<T>): Promise<T> {
  const { openStoreFor } = await import("../evaluate/index.js");
  const { store } = await openStoreFor(config);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
