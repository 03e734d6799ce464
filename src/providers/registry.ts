/**
 * The provider kinds: one registration line each. Everything that differs per kind is read from
 * here — the config schema's model union and its "did you mean" keys (config/schema.ts),
 * `createProvider`, the runner's default concurrency, the config's path resolution, the price
 * catalog's hint — so a new kind is its definition file plus one line in BUILT_IN_PROVIDERS
 * (docs/architecture.md, "Extension points"). `registerProvider` adds a kind at run time (an
 * embedding program, a test); the static types (`ModelConfig`) cover the built-in kinds.
 */
import { UserError } from "../util/errors.js";
import { anthropicDefinition } from "./anthropic.definition.js";
import type { ProviderConfig, ProviderDefinition, ProviderFields } from "./definition.js";
import { localDefinition } from "./local/local.definition.js";
import { openAiDefinition } from "./openai.definition.js";
import { openAiCompatibleDefinition } from "./openai-compatible.definition.js";
import type { Provider } from "./types.js";

// biome-ignore format: one registration line per kind
export const BUILT_IN_PROVIDERS = [
  openAiCompatibleDefinition,
  openAiDefinition,
  anthropicDefinition,
  localDefinition,
] as const;

export type BuiltInProviderDefinition = (typeof BUILT_IN_PROVIDERS)[number];
/** The `provider:` values of the built-in kinds. */
export type ProviderKind = BuiltInProviderDefinition["kind"];

/** What every configured model has, whatever its kind: enough to find and call its definition. */
export interface ModelRef {
  readonly id: string;
  readonly provider: string;
}

const registered = new Map<string, ProviderDefinition>(BUILT_IN_PROVIDERS.map((d) => [d.kind, d as ProviderDefinition]));
let version = 0;

/** Adds a kind; returns a function that removes it again. A kind that is taken is a bug, not a choice. */
export function registerProvider(d: ProviderDefinition): () => void {
  if (registered.has(d.kind)) throw new Error(`provider kind "${d.kind}" is already registered`);
  registered.set(d.kind, d);
  version++;
  return () => {
    if (registered.get(d.kind) === d && registered.delete(d.kind)) version++;
  };
}

/** The registered definitions, built-in ones first, in registration order. */
export function providerDefinitions(): readonly ProviderDefinition[] {
  return [...registered.values()];
}

/** Changes on every registration: lets config rebuild its schema only when the kinds changed. */
export function providerRegistryVersion(): number {
  return version;
}

function definitionOf(m: ModelRef): ProviderDefinition {
  const d = registered.get(m.provider);
  if (!d) throw new UserError(`model ${m.id}: unknown provider "${m.provider}"`, `use one of: ${[...registered.keys()].join(", ")}`);
  return d;
}

/** The model's config as its definition's `create` and `resolvePaths` read it (the schema built from the same definition checked it). */
const asConfig = (m: ModelRef) => m as unknown as ProviderConfig<string, ProviderFields>;

/** One provider per configured model. */
export function createProvider(m: ModelRef, connections = 64): Provider {
  return definitionOf(m).create(asConfig(m), { connections });
}

/** Requests in flight for a model whose config sets no `concurrency`: its kind's default, else `fallback`. */
export function defaultConcurrency(m: ModelRef, fallback: number): number {
  return definitionOf(m).defaultConcurrency ?? fallback;
}

/** Which price-catalog provider to prefer for a model of this kind (undefined: none, or an unknown kind). */
export function catalogHint(kind: string): string | undefined {
  return registered.get(kind)?.catalogHint;
}

/** The model config with its file paths resolved against the config file's folder. */
export function resolveModelPaths<M extends ModelRef>(m: M, dir: string): M {
  const d = definitionOf(m);
  return d.resolvePaths ? (d.resolvePaths(asConfig(m), dir) as unknown as M) : m;
}
