/** Temporary projects on disk: a config and suites written as real files. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDir(prefix = "wb-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** A label suite of n cases (labels cycle through a, b, c). */
export function labelSuite(name: string, n: number): string {
  const lines = [`name: ${name}`, 'system: "Answer with one label: alpha, beta or gamma."', 'prompt: "Case {{i}}: {{text}}"', "cases:"];
  const labels = ["alpha", "beta", "gamma"];
  for (let i = 0; i < n; i++) lines.push(`  - vars: { i: ${i}, text: "message number ${i}" }`, `    expect: { type: label, value: ${labels[i % 3]} }`);
  return `${lines.join("\n")}\n`;
}

export function twoModelConfig(urlA: string, urlB: string, suites: string[], extra = ""): string {
  return `models:
  - id: alpha
    provider: openai-compatible
    baseUrl: ${urlA}
    model: model-a
    price: { input: 2.5, output: 10 }
    concurrency: 8
  - id: beta
    provider: openai-compatible
    baseUrl: ${urlB}
    model: model-b
    price: { input: 0.1, output: 0.4 }
    concurrency: 8
baseline: alpha
suites: [${suites.join(", ")}]
${extra}`;
}
