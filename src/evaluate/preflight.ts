/**
 * Checks that need no request but can fail (an API key variable unset, a GGUF file missing): run
 * before a run is created, so a failed preflight leaves no ghost "interrupted" run in the store.
 */
import type { ModelConfig } from "../config/index.js";
import type { Provider } from "../providers/index.js";
import { createProvider } from "../providers/index.js";
import type { Plan } from "./plan.js";

export async function preflight(plan: Plan, factory: (m: ModelConfig, connections: number) => Provider = createProvider): Promise<void> {
  const made: Provider[] = [];
  try {
    for (const m of [...plan.models, ...plan.helpers]) made.push(factory(m.config, 1));
  } finally {
    await Promise.all(made.map((p) => p.close().catch(() => undefined)));
  }
}
