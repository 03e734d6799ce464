import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { UserError } from "../util/errors.js";
import { renderTable } from "../util/table.js";
import { printJson, say, warn } from "./output.js";
import { storeConfigOption, withStoreFor } from "./store-access.js";

interface PriceRow {
  model: string;
  provider: string;
  input: number;
  output: number;
  cachedInput: number | null;
  source: string;
  asOf: string | null;
  origin: "config" | "imported" | "catalog";
}

function date(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new InvalidArgumentError("expected a date like 2026-07-24");
  return v;
}

const PRICES_HELP = `
Order of precedence when a run prices a model: the config's price:, then imported prices, then the
curated catalog (data/prices.json).

Examples:
  weightbridge prices --model qwen
  weightbridge prices -c weightbridge.yaml --model gpt-4o --json
  weightbridge prices import model_prices_and_context_window.json -c weightbridge.yaml`;

export function registerPrices(program: Command): void {
  const prices = program
    .command("prices")
    .description("what models cost (USD per 1M tokens) and where each figure comes from")
    .enablePositionalOptions()
    .option("--model <name>", "only models whose name or config id contains this")
    .option("-c, --config <file>", "include this config's models and its store's imported prices (default: ./weightbridge.yaml when present)")
    .option("--json", "print an array of {model, provider, input, output, cachedInput, source, asOf, origin}")
    .addHelpText("after", PRICES_HELP)
    .action(pricesAction);

  prices
    .command("import <file>")
    .description("import prices from litellm's model_prices_and_context_window.json into the store")
    .addOption(storeConfigOption("write"))
    .option("--as-of <date>", "the date the prices were published (default: the file's modification date)", date)
    .option("--json", "print {imported, skipped}")
    .action(importAction);
}

type Imported = Awaited<ReturnType<typeof import("../store/index.js").loadPrices>>;

/** `prices`: the config's models, then imported prices, then the catalog; filtered by --model; a table or JSON. */
async function pricesAction(o: { model?: string; config?: string; json?: boolean }): Promise<void> {
  const { loadCatalog } = await import("../economics/index.js");
  // Imported prices live in the store: read it from -c, the environment, or ./weightbridge.yaml when there is one.
  const config = o.config ?? (!process.env.WEIGHTBRIDGE_DATABASE_URL && existsSync("weightbridge.yaml") ? "weightbridge.yaml" : undefined);
  const imported = await importedPrices(config);
  const rows: PriceRow[] = config ? await configRows(config, imported) : [];
  for (const p of imported) rows.push(priceRow(p, "imported"));
  for (const p of loadCatalog()) rows.push(priceRow(p, "catalog"));
  const needle = o.model?.toLowerCase();
  const shown = needle ? rows.filter((r) => r.model.toLowerCase().includes(needle)) : rows;
  if (o.json) return printJson(shown);
  if (shown.length === 0) return say(`no price known for "${o.model ?? ""}"; set price: in the config or import a price file`);
  say(
    renderTable(
      ["model", "provider", "input $/1M", "output $/1M", "cached $/1M", "as of", "from"],
      shown.map((r) => [
        r.model,
        r.provider,
        r.input.toString(),
        r.output.toString(),
        r.cachedInput === null ? "—" : r.cachedInput.toString(),
        r.asOf ?? "—",
        r.origin,
      ]),
    ),
  );
  if (needle) for (const r of shown) say(`  ${r.model}: ${r.source}`);
}

/** The store's imported prices; none when no store is named. */
async function importedPrices(config: string | undefined): Promise<Imported> {
  if (!config && !process.env.WEIGHTBRIDGE_DATABASE_URL) return [];
  const { loadPrices } = await import("../store/index.js");
  return withStoreFor(config, (store) => loadPrices(store.db));
}

/** One row per config model with a known price, saying where the figure really comes from. */
async function configRows(config: string, imported: Imported): Promise<PriceRow[]> {
  const [{ resolvePrice }, { loadConfigOnly }] = await Promise.all([import("../economics/index.js"), import("../config/index.js")]);
  const rows: PriceRow[] = [];
  for (const m of loadConfigOnly(config).config.models) {
    const p = resolvePrice(m as never, imported);
    // Where the figure really comes from: the config's own price:, an imported file, or the catalog.
    const origin: PriceRow["origin"] = m.price ? "config" : p && p.source !== resolvePrice(m as never, [])?.source ? "imported" : "catalog";
    if (p) rows.push(priceRow({ ...p, model: `${m.id} (config id)`, provider: m.provider, asOf: p.asOf ?? null }, origin));
  }
  return rows;
}

function priceRow(
  p: { model: string; provider: string; input: number; output: number; cachedInput?: number | undefined; source: string; asOf: string | null },
  origin: PriceRow["origin"],
): PriceRow {
  return {
    model: p.model,
    provider: p.provider,
    input: p.input,
    output: p.output,
    cachedInput: p.cachedInput ?? null,
    source: p.source,
    asOf: p.asOf,
    origin,
  };
}

/** `prices import`: parse litellm's price file (dated by --as-of or the file's date) and save its per-token prices. */
async function importAction(file: string, o: { config?: string; asOf?: string; json?: boolean }): Promise<void> {
  const [{ parseLitellmPrices }, { savePrices }] = await Promise.all([import("../economics/index.js"), import("../store/index.js")]);
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`, "pass the path of litellm's model_prices_and_context_window.json");
  }
  const asOf = o.asOf ?? statSync(path).mtime.toISOString().slice(0, 10);
  const parsed = parseLitellmPrices(text, basename(path), asOf);
  const location = await withStoreFor(o.config, async (store) => {
    await savePrices(store.db, parsed.entries);
    return store.location;
  });
  if (o.json) return printJson({ imported: parsed.entries.length, skipped: parsed.skipped.length, asOf });
  say(`imported ${parsed.entries.length} prices (as of ${asOf}) into ${location}`);
  if (parsed.skipped.length)
    warn(
      `skipped ${parsed.skipped.length} entries without a per-token price (e.g. ${parsed.skipped
        .slice(0, 3)
        .map((s) => s.key)
        .join(", ")})`,
    );
}
