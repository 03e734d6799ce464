/**
 * What a provider kind is, as one value: the `provider:` name, the config keys of its own (a zod
 * shape; config adds the common model keys — id, price, concurrency, … — around it), how to create
 * it, and its defaults. One definition per kind lives beside its implementation and is listed once in
 * registry.ts; the config schema, `createProvider`, the runner's default concurrency, the config's
 * path resolution and the price-catalog hint are all derived from it (issue 17, after vercel/ai's
 * provider contract: one small type, no implementation).
 *
 * Retry classification is not per definition: every HTTP kind shares http.ts's (429, 5xx, timeouts and
 * connection errors are retryable) and the local kind raises ProviderErrors with `retryable` set.
 */
import type { z } from "zod";
import type { Provider } from "./types.js";

/** The zod shape of a kind's own config keys. */
export type ProviderFields = Readonly<Record<string, z.ZodType>>;

/** A model's config as a kind's `create` receives it: the id, the `provider:` value and its own keys. */
export type ProviderConfig<K extends string, F extends ProviderFields> = { id: string; provider: K } & z.output<
  z.ZodObject<{ -readonly [P in keyof F]: F[P] }>
>;

export interface CreateContext {
  /** Keep-alive connections the provider may open to its upstream (the runner's concurrency). */
  connections: number;
}

export interface ProviderDefinition<K extends string = string, F extends ProviderFields = ProviderFields> {
  /** The `provider:` value in weightbridge.yaml. */
  readonly kind: K;
  /** The kind's own config keys; the common model keys are added by config. */
  readonly fields: F;
  /** The provider for one configured model; its `kind` is this definition's. */
  create(config: ProviderConfig<K, F>, ctx: CreateContext): Provider<K>;
  /** Requests in flight per model when the config sets no `concurrency` (default: the run's). */
  readonly defaultConcurrency?: number;
  /** Which provider of data/prices.json to prefer when a model name is listed by several. */
  readonly catalogHint?: string;
  /** The config with its file paths resolved against the config file's folder `dir`. */
  resolvePaths?(config: ProviderConfig<K, F>, dir: string): ProviderConfig<K, F>;
}

/** Identity with inference: `defineProvider({ kind: "x", fields: {...}, create })` keeps K and F exact. */
export function defineProvider<const K extends string, const F extends ProviderFields>(d: ProviderDefinition<K, F>): ProviderDefinition<K, F> {
  return d;
}
