/** zod schemas for weightbridge.yaml: one source for the types and the validation. */
import { z } from "zod";
import { type BuiltInProviderDefinition, type ProviderDefinition, providerDefinitions, providerRegistryVersion } from "../providers/index.js";
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

/**
 * The model union, derived from the provider registry: the common keys, `provider:` as the kind's
 * literal and each definition's own keys. Its static type covers the built-in kinds.
 */
type ModelSchemaOf<D> =
  D extends ProviderDefinition<infer K, infer F>
    ? z.ZodObject<typeof common & { provider: z.ZodLiteral<K> } & { -readonly [P in keyof F]: F[P] }, z.core.$strict>
    : never;

function modelSchemaFor(d: ProviderDefinition) {
  return z.strictObject({ ...common, provider: z.literal(d.kind), ...d.fields });
}

function modelUnion(defs: readonly ProviderDefinition[]) {
  const [first, ...rest] = defs.map(modelSchemaFor);
  if (!first) throw new Error("no provider kind is registered");
  return z.discriminatedUnion("provider", [first, ...rest]);
}

export const modelSchema = modelUnion(providerDefinitions()) as unknown as z.ZodDiscriminatedUnion<ModelSchemaOf<BuiltInProviderDefinition>[], "provider">;
export type ModelConfig = z.infer<typeof modelSchema>;
export type HttpModelConfig = Extract<ModelConfig, { model: string }>;
export type LocalModelConfig = Extract<ModelConfig, { provider: "local" }>;
/** The `provider:` values registered now. */
export function providerKinds(): string[] {
  return providerDefinitions().map((d) => d.kind);
}
registerDiscriminator("provider", providerKinds());

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

let current = { version: providerRegistryVersion(), schema: configSchema as z.ZodType<Config> };
/**
 * The config schema for the kinds registered now: `configSchema` itself unless `registerProvider`
 * added or removed a kind since, then the same schema with the models rebuilt from the registry.
 */
export function currentConfigSchema(): z.ZodType<Config> {
  if (current.version !== providerRegistryVersion()) {
    // Typed as the built-in union: the kinds registered since are checked at run time only.
    const models = z.array(modelUnion(providerDefinitions())).min(1, "list at least one model") as unknown as (typeof configSchema)["shape"]["models"];
    current = { version: providerRegistryVersion(), schema: configSchema.safeExtend({ models }) };
    registerDiscriminator("provider", providerKinds());
  }
  return current.schema;
}

/** The keys a model of this kind may have, for "did you mean" hints (empty for an unknown kind). */
export function modelKeys(kind: string): string[] {
  const d = providerDefinitions().find((x) => x.kind === kind);
  return d ? Object.keys(modelSchemaFor(d).shape) : [];
}
