import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog, lookupCatalog, resolvePrice } from "../../src/economics/catalog.js";
import { parseLitellmPrices } from "../../src/economics/litellm.js";
import { costPusd, picoPerToken, sumPusdToUsd } from "../../src/economics/money.js";
import { UserError } from "../../src/util/errors.js";
import { runCli } from "../support/cli.js";
import { tempDir, writeFiles } from "../support/project.js";

const LITELLM = join(import.meta.dirname, "../../../shared/data/litellm-model-prices-2026-07-24.json");

describe("money", () => {
  it("is exact in integer pico-dollars", () => {
    expect(picoPerToken(2.5)).toBe(2_500_000);
    expect(costPusd(1_000_000, 0, { input: 2.5, output: 10 })).toBe(2_500_000_000_000);
    // 0.1 + 0.2 style drift does not happen: 3 × $0.1/1M summed exactly
    expect(sumPusdToUsd([costPusd(1, 0, { input: 0.1, output: 0 }), costPusd(1, 0, { input: 0.2, output: 0 })])).toBe(0.3e-6);
  });
});

describe("the curated catalog", () => {
  it("covers proprietary baselines, first-party open APIs and hosts, each with source and date", () => {
    const c = loadCatalog();
    for (const provider of [
      "openai",
      "anthropic",
      "google",
      "deepseek",
      "dashscope",
      "moonshot",
      "zai",
      "minimax",
      "together",
      "deepinfra",
      "groq",
      "fireworks",
    ])
      expect(
        c.some((e) => e.provider === provider),
        provider,
      ).toBe(true);
    for (const e of c) {
      expect(e.source).toMatch(/litellm/);
      expect(e.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(e.input).toBeGreaterThanOrEqual(0);
    }
    expect(lookupCatalog("gpt-4o")).toMatchObject({ input: 2.5, output: 10, cachedInput: 1.25 });
  });
  it("config price wins over imports, which win over the catalog", () => {
    const imported = [{ provider: "x", model: "gpt-4o", input: 1, output: 2, source: "import", asOf: "2026-01-01" }];
    expect(resolvePrice({ provider: "openai", model: "gpt-4o", price: { input: 9, output: 9 } }, imported)?.source).toBe("config");
    expect(resolvePrice({ provider: "openai", model: "gpt-4o" }, imported)?.input).toBe(1);
    expect(resolvePrice({ provider: "openai", model: "gpt-4o" })?.input).toBe(2.5);
    expect(resolvePrice({ provider: "openai-compatible", model: "my-finetune" })).toBeNull();
  });
});

describe("litellm import", () => {
  it("parses the real shared price file", () => {
    if (!existsSync(LITELLM)) throw new Error(`missing ${LITELLM}: the shared data folder must sit beside the checkout`);
    const r = parseLitellmPrices(readFileSync(LITELLM, "utf8"), "litellm.json", "2026-07-24");
    expect(r.entries.length).toBeGreaterThan(2000);
    const gpt4o = r.entries.find((e) => e.provider === "openai" && e.model === "gpt-4o");
    expect(gpt4o).toMatchObject({ input: 2.5, output: 10, cachedInput: 1.25, asOf: "2026-07-24" });
    const ds = r.entries.find((e) => e.provider === "deepseek" && e.model === "deepseek-chat");
    expect(ds?.input).toBeGreaterThan(0);
    expect(r.skipped.length).toBeGreaterThan(0); // image/audio entries have no per-token price
  });
  it("rejects malformed files with a clear error and skips malformed entries", () => {
    expect(() => parseLitellmPrices("{oops", "f.json", "2026-01-01")).toThrow(UserError);
    const r = parseLitellmPrices(
      JSON.stringify({ a: { input_cost_per_token: "x" }, b: { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: "p" } }),
      "f.json",
      "2026-01-01",
    );
    expect(r.entries).toEqual([{ provider: "p", model: "b", input: 1, output: 2, source: "litellm price file f.json, key b", asOf: "2026-01-01" }]);
    expect(r.skipped.map((s) => s.key)).toEqual(["a"]);
  });
  it("weightbridge prices import stores prices that configured models then resolve to", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml": "models:\n  - id: m\n    provider: openai-compatible\n    baseUrl: http://127.0.0.1:1/v1\n    model: acme-7b\nsuites: [s.yaml]\n",
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
      "prices.json": JSON.stringify({ "acme-7b": { input_cost_per_token: 2e-7, output_cost_per_token: 6e-7, litellm_provider: "acme" } }),
    });
    const config = join(dir, "weightbridge.yaml");
    const imp = await runCli(["prices", "import", join(dir, "prices.json"), "-c", config, "--as-of", "2026-07-01", "--json"]);
    expect(JSON.parse(imp.stdout)).toEqual({ imported: 1, skipped: 0, asOf: "2026-07-01" });
    const shown = JSON.parse((await runCli(["prices", "-c", config, "--model", "acme", "--json"])).stdout) as {
      origin: string;
      input: number;
      source: string;
    }[];
    expect(shown[0]).toMatchObject({ origin: "imported", input: 0.2 });
    expect(shown[0]?.source).toMatch(/prices\.json, key acme-7b/);
    const cfg = JSON.parse((await runCli(["prices", "-c", config, "--model", "m (config id)", "--json"])).stdout) as { origin: string; output: number }[];
    // The config names the model but not its price: the row says the figure came from the import.
    expect(cfg[0]).toMatchObject({ origin: "imported", output: 0.6 });
    // Without -c, ./weightbridge.yaml's store is read, so imported prices are not ignored.
    const here = JSON.parse((await runCli(["prices", "--model", "acme", "--json"], { cwd: dir })).stdout) as { origin: string }[];
    expect(here.map((r) => r.origin)).toEqual(["imported"]);
  });

  it("a configured model priced from the catalog says catalog, and one with price: says config", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "weightbridge.yaml":
        "models:\n  - id: cat\n    provider: openai\n    model: gpt-4o\n  - id: own\n    provider: openai-compatible\n    baseUrl: http://127.0.0.1:1/v1\n    model: x\n    price: { input: 1, output: 2 }\nsuites: [s.yaml]\n",
      "s.yaml": 'name: s\nprompt: "x"\ncases:\n  - expect: { type: equals, value: a }\n',
    });
    const rows = JSON.parse((await runCli(["prices", "-c", join(dir, "weightbridge.yaml"), "--model", "(config id)", "--json"])).stdout) as {
      model: string;
      origin: string;
    }[];
    expect(rows).toEqual([
      expect.objectContaining({ model: "cat (config id)", origin: "catalog" }),
      expect.objectContaining({ model: "own (config id)", origin: "config" }),
    ]);
  });
});
