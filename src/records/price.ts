/**
 * A model's price as economics keeps it in the store (imported from LiteLLM's file or data/prices.json):
 * here because the store below economics maps it to the `prices` table and back.
 */

/** USD per 1M tokens, with where the figure came from. */
export interface StoredPrice {
  provider: string;
  model: string;
  input: number;
  output: number;
  cachedInput?: number;
  source: string;
  asOf: string;
  importedAt: string;
}
