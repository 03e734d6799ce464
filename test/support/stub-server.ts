/**
 * The stub OpenAI-compatible server the tests talk to: the product's own simulator, on 127.0.0.1,
 * over real HTTP. Helpers build a behaviour from suites or a fixed answer table.
 */
import type { Suite } from "../../src/config/suite.js";
import type { Behaviour } from "../../src/simulate/behaviour.js";
import { scriptFromSuites } from "../../src/simulate/script.js";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../src/simulate/server.js";

export function behaviourFor(suites: Suite[], accuracy = 1, seed = 1, extra: Partial<Behaviour> = {}): Behaviour {
  return { mode: "script", accuracy, seed, script: scriptFromSuites(suites), refuseTopics: [], fallback: "This is a simulated answer.", ...extra };
}

export async function startStub(opts: Partial<SimulatorOptions> & { behaviour: Behaviour }): Promise<Simulator> {
  return startSimulator({ latencyMs: 0, ...opts });
}

export { type Simulator, startSimulator };
