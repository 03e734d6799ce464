/**
 * The provider registry (issue 17): every registered kind is reachable from a config file, creates
 * its provider, and a kind registered at run time appears in the schema, the "unknown provider" hint
 * and "did you mean" without any other edit. Real files, a real stub server on 127.0.0.1.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadProject } from "../../src/config/project.js";
import { resolvePrice } from "../../src/economics/catalog.js";
import { defineProvider } from "../../src/providers/definition.js";
import { createProvider, defaultConcurrency, providerDefinitions, registerProvider } from "../../src/providers/registry.js";
import type { Provider } from "../../src/providers/types.js";
import { userErrorOf } from "../support/errors.js";
import { tempDir, writeFiles } from "../support/project.js";
import { type Simulator, startStub } from "../support/stub-server.js";
import { makeTinyGguf } from "../support/tiny-gguf.js";

const SUITE = 'name: s\nprompt: "{{q}}"\ncases:\n  - vars: { q: "Where is my parcel?" }\n    expect: { type: contains, value: parcel }\n';

function project(models: string): string {
  const dir = tempDir();
  writeFiles(dir, { "suite.yaml": SUITE, "weightbridge.yaml": `models:\n${models}suites:\n  - suite.yaml\n` });
  return join(dir, "weightbridge.yaml");
}

let sim: Simulator;
let gguf: string;
beforeAll(async () => {
  sim = await startStub({ behaviour: { mode: "echo", accuracy: 1, seed: 1, script: new Map(), refuseTopics: [], fallback: "x" }, latencyMs: 1 });
  gguf = await makeTinyGguf();
  process.env.WB_TEST_OPENAI_KEY = "sk-test";
  process.env.WB_TEST_ANTHROPIC_KEY = "sk-ant-test";
});
afterAll(async () => {
  await sim.close();
  delete process.env.WB_TEST_OPENAI_KEY;
  delete process.env.WB_TEST_ANTHROPIC_KEY;
});

describe("built-in kinds", () => {
  /** One minimal model per kind; a kind added to the registry without a line here fails the first test. */
  const MODELS: Record<string, () => string> = {
    "openai-compatible": () => `  - { id: a, provider: openai-compatible, baseUrl: "${sim.baseUrl}", model: m }\n`,
    openai: () => `  - { id: b, provider: openai, baseUrl: "${sim.baseUrl}", model: m, apiKeyEnv: WB_TEST_OPENAI_KEY }\n`,
    anthropic: () => `  - { id: c, provider: anthropic, baseUrl: "${sim.baseUrl}", model: m, apiKeyEnv: WB_TEST_ANTHROPIC_KEY }\n`,
    local: () => `  - { id: d, provider: local, path: "${gguf}" }\n`,
  };

  it("registers exactly the documented kinds, in order", () => {
    expect(providerDefinitions().map((d) => d.kind)).toEqual(Object.keys(MODELS));
  });

  it.each(Object.keys(MODELS))("%s: a config model creates a provider of its kind", async (kind) => {
    const p = loadProject(project((MODELS[kind] as () => string)()));
    const m = p.models[0];
    if (!m) throw new Error("no model");
    const provider = createProvider(m, 2);
    try {
      expect(provider.kind).toBe(kind);
      expect(provider.id).toBe(m.id);
      expect(provider.cacheIdentity.kind).toBe(kind);
      if (kind !== "local") {
        const r = await provider.chat({ messages: [{ role: "user", content: "Where is my parcel?" }], params: { maxTokens: 16 } });
        expect(r.text).toMatch(/parcel/);
      }
    } finally {
      await provider.close();
    }
  });

  it("derives the per-kind behaviour from the definitions", () => {
    const dir = tempDir();
    writeFiles(dir, { "suite.yaml": SUITE, "weightbridge.yaml": "models:\n  - { id: d, provider: local, path: ./m.gguf }\nsuites: [suite.yaml]\n" });
    const p = loadProject(join(dir, "weightbridge.yaml"));
    expect(p.models[0]).toMatchObject({ provider: "local", path: join(dir, "m.gguf") });
    expect(defaultConcurrency({ id: "d", provider: "local" }, 8)).toBe(1);
    expect(defaultConcurrency({ id: "a", provider: "openai-compatible" }, 8)).toBe(8);
    const imported = [
      { provider: "together", model: "shared-model", input: 1, output: 2, source: "t", asOf: "2026-01-01" },
      { provider: "anthropic", model: "shared-model", input: 3, output: 4, source: "a", asOf: "2026-01-01" },
    ];
    expect(resolvePrice({ provider: "anthropic", model: "shared-model" }, imported)?.source).toBe("a");
    expect(resolvePrice({ provider: "openai-compatible", model: "shared-model" }, imported)?.source).toBe("t");
  });

  it("refuses an unknown kind and a kind registered twice", () => {
    const e = userErrorOf(() => createProvider({ id: "x", provider: "bedrock" }));
    expect(e.message).toBe('model x: unknown provider "bedrock"');
    expect(e.hint).toMatch(/openai-compatible, openai, anthropic, local/);
    expect(() => registerProvider(providerDefinitions()[0] as never)).toThrow(/already registered/);
  });
});

describe("a kind registered at run time", () => {
  const made: string[] = [];
  const vertex = defineProvider({
    kind: "vertex",
    fields: { project: z.string().min(1), region: z.string().optional(), model: z.string().min(1) },
    defaultConcurrency: 3,
    create: (m): Provider<"vertex"> => {
      made.push(`${m.project}/${m.region ?? "us-central1"}/${m.model}`);
      return {
        id: m.id,
        kind: "vertex",
        cacheIdentity: { kind: "vertex", project: m.project, model: m.model },
        chat: async () => ({ text: "ok", usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 0, finishReason: "stop" }),
        close: async () => {},
      };
    },
  });
  let unregister: (() => void) | undefined;
  afterEach(() => {
    unregister?.();
    unregister = undefined;
  });

  it("is accepted by the config schema and created through the registry", async () => {
    unregister = registerProvider(vertex);
    const p = loadProject(project("  - id: v\n    provider: vertex\n    project: acme\n    model: gemini-x\n"));
    const m = p.models[0];
    if (!m) throw new Error("no model");
    expect(m).toMatchObject({ id: "v", provider: "vertex", project: "acme", model: "gemini-x" });
    const provider = createProvider(m);
    expect(provider.kind).toBe("vertex");
    expect(made).toEqual(["acme/us-central1/gemini-x"]);
    expect(defaultConcurrency(m, 8)).toBe(3);
    // The rebuilt schema keeps the whole config's checks (here: unique ids).
    const twice =
      "  - { id: v, provider: vertex, project: acme, model: x }\n  - { id: v, provider: openai-compatible, baseUrl: http://127.0.0.1:1/v1, model: y }\n";
    expect(userErrorOf(() => loadProject(project(twice))).message).toMatch(/weightbridge\.yaml:3: models\[1\]\.id: duplicate model id "v"/);
  });

  it("gets file:line and did-you-mean for its own keys, and appears in the unknown-provider hint", () => {
    unregister = registerProvider(vertex);
    const e = userErrorOf(() => loadProject(project("  - id: v\n    provider: vertex\n    project: acme\n    regoin: eu\n    model: gemini-x\n")));
    expect(e.message).toMatch(/weightbridge\.yaml:5: models\[0\]\.regoin: unknown key "regoin"/);
    expect(e.hint).toBe('did you mean "region"?');
    const missing = userErrorOf(() => loadProject(project("  - id: v\n    provider: vertex\n    model: gemini-x\n")));
    expect(missing.message).toMatch(/weightbridge\.yaml:2: models\[0\]\.project: required field is missing/);
    const unknown = userErrorOf(() => loadProject(project("  - id: v\n    provider: vertx\n    model: gemini-x\n")));
    expect(`${unknown.message} ${unknown.hint}`).toMatch(/vertex/);
  });

  it("is rejected again once removed", () => {
    registerProvider(vertex)();
    const e = userErrorOf(() => loadProject(project("  - id: v\n    provider: vertex\n    project: acme\n    model: gemini-x\n")));
    expect(e.message).toMatch(/weightbridge\.yaml:3: models\[0\]\.provider/);
    expect(`${e.message} ${e.hint}`).not.toMatch(/vertex/);
  });
});
