/** A two-model evaluation project: an `intent` suite of n cases and two stub endpoints (alpha right 95% of the time, beta 80%). */
import { join } from "node:path";
import { loadProject } from "../../src/config/project.js";
import { labelSuite, tempDir, twoModelConfig, writeFiles } from "./project.js";
import { behaviourFor, type Simulator, startStub } from "./stub-server.js";

export async function twoModelProject(n: number, latencyMs = 0): Promise<{ dir: string; config: string; a: Simulator; b: Simulator }> {
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": labelSuite("intent", n),
    "weightbridge.yaml": twoModelConfig("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", ["suite.yaml"]),
  });
  const suites = loadProject(join(dir, "weightbridge.yaml")).suites;
  const a = await startStub({ behaviour: behaviourFor(suites, 0.95, 1), latencyMs });
  const b = await startStub({ behaviour: behaviourFor(suites, 0.8, 2), latencyMs });
  writeFiles(dir, { "weightbridge.yaml": twoModelConfig(a.baseUrl, b.baseUrl, ["suite.yaml"]) });
  return { dir, config: join(dir, "weightbridge.yaml"), a, b };
}
