import { describe, expect, it } from "vitest";
import { loadOrigins } from "../../src/hub/index.js";
import { type SnapshotModel, shares } from "../../src/scoreboard/analytics.js";
import { attribute, baseModelsFromTags } from "../../src/scoreboard/attribute.js";
import { matchFamily } from "../../src/scoreboard/families.js";

const origins = loadOrigins();

describe("origins", () => {
  it("has at least 80 orgs with lab, ISO country and source, including the labs the issue names", () => {
    expect(origins.byOrg.size).toBeGreaterThanOrEqual(80);
    for (const o of origins.byOrg.values()) {
      expect(o.country).toMatch(/^[A-Z]{2}$/);
      expect(o.lab.length).toBeGreaterThan(1);
      expect(o.source).toMatch(/^https:\/\/huggingface\.co\//);
    }
    const cn = [
      "Qwen",
      "deepseek-ai",
      "moonshotai",
      "zai-org",
      "THUDM",
      "MiniMaxAI",
      "baidu",
      "tencent",
      "internlm",
      "OpenGVLab",
      "BAAI",
      "01-ai",
      "stepfun-ai",
      "XiaomiMiMo",
      "ByteDance-Seed",
      "inclusionAI",
      "meituan-longcat",
      "openbmb",
      "Kwai-Kolors",
    ];
    for (const org of cn) expect(origins.byOrg.get(org.toLowerCase())?.country, org).toBe("CN");
    for (const org of ["meta-llama", "google", "microsoft", "openai", "nvidia", "ibm-granite", "allenai", "apple"])
      expect(origins.byOrg.get(org.toLowerCase())?.country, org).toBe("US");
    expect(origins.byOrg.get("mistralai")?.country).toBe("FR");
  });
});

describe("attribution", () => {
  it("first-party uploads belong to their lab", () => {
    const a = attribute({ id: "Qwen/Qwen3-8B", author: "Qwen" }, origins);
    expect(a).toMatchObject({ method: "first-party", country: "CN", family: "Qwen", derivative: false, lab: "Alibaba Cloud (Qwen team)" });
  });
  it("follows base_model tags (quantized, finetune, adapter) to the base lab", () => {
    expect(baseModelsFromTags(["gguf", "base_model:quantized:meta-llama/Llama-3.1-8B-Instruct", "base_model:meta-llama/Llama-3.1-8B-Instruct"])).toEqual([
      "meta-llama/Llama-3.1-8B-Instruct",
    ]);
    const a = attribute({ id: "bartowski/Llama-3.1-8B-Instruct-GGUF", author: "bartowski", baseModels: ["meta-llama/Llama-3.1-8B-Instruct"] }, origins);
    expect(a).toMatchObject({ method: "base_model tag", country: "US", family: "Llama", derivative: true, uploader: "bartowski" });
    // a base that is itself a re-upload: the family is read from its name
    const b = attribute({ id: "someone/q-ft", author: "someone", baseModels: ["unsloth/Qwen3-14B"] }, origins);
    expect(b).toMatchObject({ method: "base_model tag", family: "Qwen", country: "CN" });
  });
  it("falls back to a conservative name match, and leaves ambiguous or unknown names unknown", () => {
    expect(attribute({ id: "unsloth/Qwen3.5-35B-A3B-GGUF", author: "unsloth" }, origins)).toMatchObject({
      method: "name match",
      family: "Qwen",
      country: "CN",
      uploaderCountry: "US",
    });
    expect(attribute({ id: "x/gemma-3-27b-it-abliterated", author: "x" }, origins)).toMatchObject({ method: "name match", family: "Gemma", country: "US" });
    // DeepSeek distilled into Qwen: two families in the name → not guessed
    expect(matchFamily("DeepSeek-R1-Distill-Qwen-7B")).toBeUndefined();
    expect(attribute({ id: "y/DeepSeek-R1-Distill-Qwen-7B-GGUF", author: "y" }, origins)).toMatchObject({ method: "unknown", country: null });
    expect(attribute({ id: "z/my-cool-model", author: "z" }, origins)).toMatchObject({ method: "unknown", family: null });
    // near-misses are not matches
    expect(matchFamily("tinyllama-chat")).toBeUndefined();
    expect(matchFamily("phifty")).toBeUndefined();
  });
});

describe("Hub rate limits", () => {
  it("waits as Retry-After or the RateLimit header says", async () => {
    const { rateLimitWaitMs, nextLink } = await import("../../src/hub/list-models.js");
    expect(rateLimitWaitMs(new Headers({ "retry-after": "3" }))).toBe(3000);
    expect(rateLimitWaitMs(new Headers({ ratelimit: '"api";r=0;t=42' }))).toBe(42000);
    expect(rateLimitWaitMs(new Headers())).toBe(1000);
    expect(nextLink('<https://huggingface.co/api/models?cursor=abc>; rel="next"')).toBe("https://huggingface.co/api/models?cursor=abc");
    expect(nextLink('<https://x/prev>; rel="prev"')).toBeUndefined();
  });
});

describe("shares", () => {
  it("rows sum to the total and shares to 1, for every grouping and metric", () => {
    const mk = (id: string, author: string, downloads: number, likes: number): SnapshotModel => ({
      id,
      author,
      downloads,
      likes,
      attribution: attribute({ id, author }, origins),
    });
    const models = [
      mk("Qwen/Qwen3-8B", "Qwen", 100, 5),
      mk("unsloth/gemma-3-4b-GGUF", "unsloth", 50, 1),
      mk("meta-llama/Llama-3.2-1B", "meta-llama", 30, 2),
      mk("z/unknown", "z", 20, 0),
    ];
    for (const by of ["country", "lab", "family", "uploader"] as const)
      for (const metric of ["downloads", "models", "likes", "derivatives"] as const) {
        const { rows, total } = shares(models, by, metric);
        const value = (r: (typeof rows)[number]) => (metric === "models" ? r.models : metric === "derivatives" ? r.derivatives : r[metric]);
        expect(rows.reduce((a, r) => a + value(r), 0)).toBe(total);
        if (total > 0) expect(rows.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 12);
      }
    const c = shares(models, "country", "downloads");
    expect(c.rows.map((r) => [r.key, r.downloads])).toEqual(
      [
        ["US", 80],
        ["CN", 100],
        ["unknown", 20],
      ].sort((a, b) => (b[1] as number) - (a[1] as number)),
    );
  });
});
