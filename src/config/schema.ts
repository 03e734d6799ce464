/** zod schemas for weightbridge.yaml: one source for the types and the validation. */
import { z } from "zod";
import { registerDiscriminator } from "./yaml-source.js";

export const idSchema = z
  .string()
  .regex(/^[\p{L}\p{N}][\p{L}\p{M}\p{N}._:/@-]*$/u, "must start with a letter or digit (any script) and use only letters, digits and . _ : / @ -");

/** USD per 1M tokens. */
export const priceSchema = z.strictObject({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cachedInput: z.number().nonnegative().optional(),
});
export type Price = z.infer<typeof priceSchema>;

export const paramsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.int().positive().optional(),
  topP: z.number().min(0).max(1).optional(),
  seed: z.int().optional(),
  stop: z.array(z.string()).optional(),
});
export type GenerationParams = z.infer<typeof paramsSchema>;

/** A duration in config: milliseconds, or "500ms", "30s", "5m" (read with parseDurationMs). */
export const duration = z.union([z.int().positive(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m)$/, 'a duration like "30s" or "500ms"')]);

/** Where a self-hosted model runs: for `weightbridge cost`. hourlyUsd is per GPU (default: data/gpus.json). */
export const hostingSchema = z.strictObject({
  gpu: z.string().min(1),
  gpus: z.int().positive().default(1),
  hourlyUsd: z.number().positive().optional(),
});

const common = {
  id: idSchema,
  hosting: hostingSchema.optional(),
  price: priceSchema.optional(),
  concurrency: z.int().positive().max(4096).optional(),
  rpm: z.int().positive().optional(),
  tpm: z.int().positive().optional(),
  timeout: duration.optional(),
  retries: z.int().min(0).max(20).optional(),
  params: paramsSchema.optional(),
};

const httpCommon = {
  ...common,
  model: z.string().min(1),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
};

export const openaiCompatibleModelSchema = z.strictObject({
  ...httpCommon,
  provider: z.literal("openai-compatible"),
  baseUrl: z.url(),
});
export const openaiModelSchema = z.strictObject({
  ...httpCommon,
  provider: z.literal("openai"),
  baseUrl: z.url().optional(),
});
export const anthropicModelSchema = z.strictObject({
  ...httpCommon,
  provider: z.literal("anthropic"),
  baseUrl: z.url().optional(),
});
export const localModelSchema = z.strictObject({
  ...common,
  provider: z.literal("local"),
  path: z.string().min(1),
  contextSize: z.int().positive().optional(),
  gpu: z.union([z.boolean(), z.literal("auto")]).optional(),
  threads: z.int().positive().optional(),
});

export const modelSchema = z.discriminatedUnion("provider", [openaiCompatibleModelSchema, openaiModelSchema, anthropicModelSchema, localModelSchema]);
export type ModelConfig = z.infer<typeof modelSchema>;
export type HttpModelConfig = Exclude<ModelConfig, { provider: "local" }>;
export type LocalModelConfig = z.infer<typeof localModelSchema>;
export const PROVIDERS = ["openai-compatible", "openai", "anthropic", "local"] as const;
registerDiscriminator("provider", PROVIDERS);

export const configSchema = z
  .strictObject({
    models: z.array(modelSchema).min(1, "list at least one model"),
    baseline: idSchema.optional(),
    suites: z.array(z.string().min(1)).min(1, "list at least one suite file"),
    judge: idSchema.optional(),
    embedder: idSchema.optional(),
    defaults: z
      .strictObject({
        params: paramsSchema.optional(),
        concurrency: z.int().positive().optional(),
        timeout: duration.optional(),
        retries: z.int().min(0).max(20).optional(),
      })
      .optional(),
    store: z.string().min(1).optional(),
    report: z
      .strictObject({
        criteria: z
          .strictObject({
            minQualityRatio: z.number().positive().max(2).optional(),
            maxCostRatio: z.number().positive().optional(),
            maxErrorRate: z.number().min(0).max(1).optional(),
          })
          .optional(),
      })
      .optional(),
  })
  .superRefine((cfg, ctx) => {
    const ids = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (ids.has(m.id)) ctx.addIssue({ code: "custom", path: ["models", i, "id"], message: `duplicate model id "${m.id}"` });
      ids.add(m.id);
    });
    for (const key of ["baseline", "judge", "embedder"] as const) {
      const v = cfg[key];
      if (v !== undefined && !ids.has(v)) ctx.addIssue({ code: "custom", path: [key], message: `"${v}" is not a model id; known ids: ${[...ids].join(", ")}` });
    }
  });
export type Config = z.infer<typeof configSchema>;

export const MODEL_KEYS: Record<(typeof PROVIDERS)[number], string[]> = {
  "openai-compatible": Object.keys(openaiCompatibleModelSchema.shape),
  openai: Object.keys(openaiModelSchema.shape),
  anthropic: Object.keys(anthropicModelSchema.shape),
  local: Object.keys(localModelSchema.shape),
};
