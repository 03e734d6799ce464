/**
 * `init`: a working weightbridge.yaml and an example suite, asking nothing. The candidate points at
 * `weightbridge simulate --port 8001` until the user changes it, so `validate` and `eval` work at once.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../util/errors.js";
import { say, writeOutput } from "./output.js";

const PROVIDERS = ["openai", "anthropic", "openai-compatible"] as const;
type P = (typeof PROVIDERS)[number];

interface InitFlags {
  dir: string;
  baseline: string;
  candidate: string;
  candidateUrl: string;
  force?: boolean;
}

/** "openai:gpt-4o" → provider and model. */
function providerModel(flag: string, v: string): { provider: P; model: string } {
  const i = v.indexOf(":");
  const provider = v.slice(0, i) as P;
  const model = v.slice(i + 1);
  if (i < 1 || !model || !PROVIDERS.includes(provider))
    throw new UserError(`${flag}: expected PROVIDER:MODEL with PROVIDER one of ${PROVIDERS.join(", ")} (got "${v}")`, `e.g. ${flag} openai:gpt-4o`);
  return { provider, model };
}

function modelYaml(id: string, p: { provider: P; model: string }, url: string): string {
  const lines = [`  - id: ${JSON.stringify(id)}`, `    provider: ${p.provider}`, `    model: ${JSON.stringify(p.model)}`];
  if (p.provider === "openai-compatible") lines.push(`    baseUrl: ${url}`);
  if (p.provider === "openai") lines.push("    apiKeyEnv: OPENAI_API_KEY");
  if (p.provider === "anthropic") lines.push("    apiKeyEnv: ANTHROPIC_API_KEY");
  return lines.join("\n");
}

export function configText(f: InitFlags): string {
  const base = providerModel("--baseline", f.baseline);
  const cand = providerModel("--candidate", f.candidate);
  return `# weightbridge config (docs/config.md). Check it with: weightbridge validate
models:
${modelYaml("baseline", base, f.candidateUrl)}
${modelYaml("candidate", cand, f.candidateUrl)}
    price: { input: 0.1, output: 0.4 }   # USD per 1M tokens; set your real price
baseline: baseline
suites:
  - suites/example.yaml
report:
  criteria: { minQualityRatio: 0.9, maxCostRatio: 0.5, maxErrorRate: 0.05 }
`;
}

export const EXAMPLE_SUITE = `# A suite: a prompt template and cases (docs/config.md). Replace these with your real traffic.
name: example-intent
system: "Classify the customer message as one of: billing, shipping, account. Answer with the label only."
prompt: "{{message}}"
cases:
  - vars: { message: "I was charged twice this month" }
    expect: { type: label, value: billing }
  - vars: { message: "Where is my parcel?" }
    expect: { type: label, value: shipping }
  - vars: { message: "I cannot log in to my account" }
    expect: { type: label, value: account }
`;

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("write a working weightbridge.yaml and an example suite (asks nothing)")
    .option("--dir <dir>", "where to write them", ".")
    .option("--baseline <provider:model>", "the model you use today", "openai:gpt-4o")
    .option("--candidate <provider:model>", "the open model to try", "openai-compatible:qwen3-8b")
    .option("--candidate-url <url>", "base URL of an openai-compatible candidate", "http://127.0.0.1:8001/v1")
    .option("--force", "overwrite existing files")
    .addHelpText(
      "after",
      `
Examples:
  weightbridge init
  weightbridge init --baseline anthropic:claude-sonnet-4-5 --candidate openai-compatible:Qwen/Qwen3-235B-A22B --candidate-url http://gpu-box:8000/v1
  weightbridge init --dir my-eval && weightbridge validate -c my-eval/weightbridge.yaml`,
    )
    .action((o: InitFlags) => {
      const dir = resolve(o.dir);
      const config = join(dir, "weightbridge.yaml");
      const suite = join(dir, "suites", "example.yaml");
      const text = configText(o);
      for (const f of [config, suite])
        if (existsSync(f) && !o.force) throw new UserError(`${f} already exists`, "pass --force to overwrite it, or --dir to write elsewhere");
      try {
        mkdirSync(join(dir, "suites"), { recursive: true });
      } catch (e) {
        throw new UserError(`--dir ${dir}: cannot create it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "pass a folder you can write to");
      }
      writeOutput(config, text, "--dir");
      writeOutput(suite, EXAMPLE_SUITE, "--dir");
      say(`Wrote ${config} and ${suite}.`);
      say("Next:");
      say("  weightbridge simulate --port 8001 -c weightbridge.yaml &   # a simulated candidate until yours runs");
      say("  weightbridge validate -c weightbridge.yaml                   # config, endpoints, estimated cost");
      say("  weightbridge eval -c weightbridge.yaml");
    });
}
