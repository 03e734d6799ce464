import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../../src/config/project.js";
import { userErrorOf } from "../support/errors.js";
import { tempDir, writeFiles } from "../support/project.js";

const SUITE = `name: ticket-intent
system: "Classify the customer message as one of: billing, shipping, account, other. Answer with the label only."
prompt: "{{message}}"
cases:
  - vars: { message: "Where is my parcel?" }
    expect: { type: equals, value: shipping }
  - file: cases.jsonl
`;

const CONFIG = `models:
  - id: gpt-4o                       # unique name, used everywhere
    provider: openai-compatible      # also: openai, anthropic, local
    baseUrl: http://127.0.0.1:8001/v1
    model: gpt-4o                    # name sent upstream
    apiKeyEnv: OPENAI_API_KEY        # optional
    price: { input: 2.5, output: 10 }  # USD per 1M tokens; optional when the price catalog knows the model
    concurrency: 16                  # optional; also rpm / tpm limits
  - id: qwen-local
    provider: local                  # node-llama-cpp, GGUF file
    path: ./models/qwen2.5-0.5b-instruct-q4_k_m.gguf
baseline: gpt-4o
suites:
  - suite.yaml
`;

function project(files: Record<string, string>) {
  const dir = tempDir();
  writeFiles(dir, {
    "suite.yaml": SUITE,
    "cases.jsonl": '{"vars": {"message": "I was charged twice"}, "expect": {"type": "equals", "value": "billing"}}\n',
    ...files,
  });
  return join(dir, "weightbridge.yaml");
}

describe("weightbridge.yaml", () => {
  it("accepts the documented example config and suite", () => {
    const p = loadProject(project({ "weightbridge.yaml": CONFIG }));
    expect(p.models.map((m) => m.id)).toEqual(["gpt-4o", "qwen-local"]);
    expect(p.config.baseline).toBe("gpt-4o");
    const s = p.suites[0];
    expect(s?.name).toBe("ticket-intent");
    expect(s?.cases).toHaveLength(2);
    expect(s?.cases[0]?.messages).toEqual([
      { role: "system", content: "Classify the customer message as one of: billing, shipping, account, other. Answer with the label only." },
      { role: "user", content: "Where is my parcel?" },
    ]);
    expect(s?.cases[1]?.source).toMatch(/cases\.jsonl:1$/);
    expect(p.storeUrl).toMatch(/\.weightbridge\/weightbridge\.db$/);
  });

  it("names file, line and a fix for an unknown key (with a did-you-mean)", () => {
    const e = userErrorOf(() => loadProject(project({ "weightbridge.yaml": CONFIG.replace("concurrency: 16", "concurency: 16") })));
    expect(e.message).toMatch(/weightbridge\.yaml:8: models\[0\]\.concurency: unknown key "concurency"/);
    expect(e.hint).toBe('did you mean "concurrency"?');
  });

  it("names the line of a wrong type", () => {
    const e = userErrorOf(() => loadProject(project({ "weightbridge.yaml": CONFIG.replace("price: { input: 2.5", 'price: { input: "cheap"') })));
    expect(e.message).toMatch(/weightbridge\.yaml:7: models\[0\]\.price\.input:/);
    expect(e.hint).toMatch(/number/);
  });

  it("names the line of a missing required field", () => {
    const e = userErrorOf(() => loadProject(project({ "weightbridge.yaml": CONFIG.replace("    path: ./models/qwen2.5-0.5b-instruct-q4_k_m.gguf\n", "") })));
    expect(e.message).toMatch(/weightbridge\.yaml:9: models\[1\]\.path: required field is missing/);
  });

  it("rejects an unknown provider with the allowed values", () => {
    const e = userErrorOf(() => loadProject(project({ "weightbridge.yaml": CONFIG.replace("provider: local ", "provider: llamacpp ") })));
    expect(e.message).toMatch(/weightbridge\.yaml:10: models\[1\]\.provider/);
    expect(`${e.message} ${e.hint}`).toMatch(/openai-compatible/);
  });

  it("rejects a baseline that is not a model", () => {
    const e = userErrorOf(() => loadProject(project({ "weightbridge.yaml": CONFIG.replace("baseline: gpt-4o", "baseline: gpt-5") })));
    expect(e.message).toMatch(/weightbridge\.yaml:12: baseline: "gpt-5" is not a model id/);
  });

  it("reports YAML syntax errors with line and column", () => {
    const e = userErrorOf(() => loadProject(project({ "weightbridge.yaml": "models:\n  - id: a\n   provider: x\n" })));
    expect(e.message).toMatch(/weightbridge\.yaml:3:\d+: invalid YAML/);
  });

  it("reports a missing config file with a hint", () => {
    const e = userErrorOf(() => loadProject(join(tempDir(), "nope.yaml")));
    expect(e.message).toMatch(/nope\.yaml: config file not found/);
    expect(e.hint).toBeTruthy();
  });
});

describe("suite files", () => {
  it("reports a bad JSONL line with its line number", () => {
    const e = userErrorOf(() =>
      loadProject(
        project({ "weightbridge.yaml": CONFIG, "cases.jsonl": '{"vars": {"message": "a"}, "expect": {"type": "equals", "value": "x"}}\n{"vars": oops}\n' }),
      ),
    );
    expect(e.message).toMatch(/cases\.jsonl:2: not valid JSON/);
  });

  it("reports an unknown grader type in JSONL", () => {
    const e = userErrorOf(() =>
      loadProject(project({ "weightbridge.yaml": CONFIG, "cases.jsonl": '{"vars": {"message": "a"}, "expect": {"type": "equal", "value": "x"}}\n' })),
    );
    expect(e.message).toMatch(/cases\.jsonl:1: expect\.type: "type" is missing or not an allowed value/);
    expect(e.hint).toMatch(/equals/);
  });

  it("reports a template variable a case does not define", () => {
    const e = userErrorOf(() =>
      loadProject(project({ "weightbridge.yaml": CONFIG, "suite.yaml": SUITE.replace('prompt: "{{message}}"', 'prompt: "{{message}} from {{customer}}"') })),
    );
    expect(e.message).toMatch(/suite\.yaml:5: case uses \{\{customer\}\}/);
    expect(e.hint).toMatch(/add "customer"/);
  });

  it("reports a misspelled expect key in YAML with its line", () => {
    const e = userErrorOf(() =>
      loadProject(
        project({ "weightbridge.yaml": CONFIG, "suite.yaml": SUITE.replace("{ type: equals, value: shipping }", "{ type: equals, valeu: shipping }") }),
      ),
    );
    expect(e.message).toMatch(/suite\.yaml:6: cases\[0\]\.expect\.valeu: unknown key "valeu"/);
    expect(e.hint).toBe('did you mean "value"?');
  });
});
