/** The curated price catalog (data/prices.json): every price with its source and as-of date. */
import { readFileSync } from "node:fs";
import { catalogHint } from "../providers/index.js";
import { packagePath } from "../util/package-root.js";
import type { TokenPrice } from "./money.js";

export interface CatalogEntry extends TokenPrice {
  provider: string;
  model: string;
  kind: "proprietary" | "open-first-party" | "open-host";
  source: string;
  asOf: string;
}

export interface ResolvedPrice extends TokenPrice {
  source: string;
  asOf?: string;
}

let cached: CatalogEntry[] | undefined;

export function loadCatalog(): CatalogEntry[] {
  cached ??= (JSON.parse(readFileSync(packagePath("data", "prices.json"), "utf8")) as { entries: CatalogEntry[] }).entries;
  return cached;
}

function norm(s: string): string {
  return s.toLowerCase().replace(/^(models\/|accounts\/[^/]+\/models\/)/, "");
}

/** Find a catalog entry for an upstream model name, optionally preferring a provider. */
export function lookupCatalog(model: string, provider?: string, catalog = loadCatalog()): CatalogEntry | undefined {
  const m = norm(model);
  const hits = catalog.filter((e) => norm(e.model) === m || norm(`${e.provider}/${e.model}`) === m);
  if (hits.length === 0) return undefined;
  return hits.find((h) => h.provider === provider) ?? hits[0];
}

/** A price from outside the curated file (e.g. imported from litellm's file into the store). */
export type PriceEntry = Omit<CatalogEntry, "kind"> & { kind?: CatalogEntry["kind"] };

/** Config `price:` wins; then imported prices; then the curated catalog; otherwise unknown (null). */
export function resolvePrice(model: { provider: string; model?: string; price?: TokenPrice }, imported: readonly PriceEntry[] = []): ResolvedPrice | null {
  if (model.price) return { ...model.price, source: "config" };
  if (!model.model) return null;
  const hint = catalogHint(model.provider);
  const e = lookupCatalog(model.model, hint, imported as CatalogEntry[]) ?? lookupCatalog(model.model, hint);
  if (!e) return null;
  return { input: e.input, output: e.output, ...(e.cachedInput !== undefined ? { cachedInput: e.cachedInput } : {}), source: e.source, asOf: e.asOf };
}
