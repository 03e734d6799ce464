/**
 * Import of litellm's model_prices_and_context_window.json (USD per token), the price format most
 * gateways share. Pure: text in, entries (USD per 1M tokens) and skipped keys out.
 */
import { z } from "zod";
import { UserError } from "../util/errors.js";
import type { CatalogEntry } from "./catalog.js";

const entrySchema = z.looseObject({
  input_cost_per_token: z.number().nonnegative(),
  output_cost_per_token: z.number().nonnegative().optional(),
  cache_read_input_token_cost: z.number().nonnegative().optional(),
  litellm_provider: z.string().optional(),
  mode: z.string().optional(),
});

export interface LitellmImport {
  entries: Omit<CatalogEntry, "kind">[];
  skipped: { key: string; reason: string }[];
}

const perMillion = (v: number) => Math.round(v * 1e6 * 1e6) / 1e6;

export function parseLitellmPrices(text: string, file: string, asOf: string): LitellmImport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, "pass litellm's model_prices_and_context_window.json");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new UserError(`${file}: expected a JSON object keyed by model name`, "pass litellm's model_prices_and_context_window.json");
  const entries: LitellmImport["entries"] = [];
  const skipped: LitellmImport["skipped"] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key === "sample_spec") continue;
    const r = entrySchema.safeParse(value);
    if (!r.success) {
      skipped.push({ key, reason: r.error.issues[0]?.message ?? "invalid" });
      continue;
    }
    const v = r.data;
    if (v.mode && !["chat", "completion", "responses", "embedding"].includes(v.mode)) {
      skipped.push({ key, reason: `mode ${v.mode} is not priced per token here` });
      continue;
    }
    const provider = v.litellm_provider ?? (key.includes("/") ? (key.split("/")[0] ?? "unknown") : "unknown");
    const model = key.startsWith(`${provider}/`) ? key.slice(provider.length + 1) : key;
    entries.push({
      provider,
      model,
      input: perMillion(v.input_cost_per_token),
      output: perMillion(v.output_cost_per_token ?? 0),
      ...(v.cache_read_input_token_cost !== undefined ? { cachedInput: perMillion(v.cache_read_input_token_cost) } : {}),
      source: `litellm price file ${file}, key ${key}`,
      asOf,
    });
  }
  return { entries, skipped };
}
