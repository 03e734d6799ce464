/** Prices: economics' StoredPrice (src/records/) mapped to rows of the `prices` table and back. */
import type { Kysely } from "kysely";
import type { StoredPrice } from "../records/index.js";
import type { Database, PricesTable } from "./schema.js";
import { writeRows } from "./write.js";

export async function savePrices(db: Kysely<Database>, rows: Omit<StoredPrice, "importedAt">[]): Promise<void> {
  const now = new Date().toISOString();
  const priced = rows.map((r) => ({
    provider: r.provider,
    model: r.model,
    input: r.input,
    output: r.output,
    cached_input: r.cachedInput ?? null,
    source: r.source,
    as_of: r.asOf,
    imported_at: now,
  }));
  await writeRows(db, [{ table: "prices", rows: priced, conflict: "update" }]);
}

export async function loadPrices(db: Kysely<Database>): Promise<StoredPrice[]> {
  const rows = await db.selectFrom("prices").selectAll().orderBy("model").execute();
  return rows.map((r: PricesTable) => ({
    provider: r.provider,
    model: r.model,
    input: r.input,
    output: r.output,
    ...(r.cached_input !== null ? { cachedInput: r.cached_input } : {}),
    source: r.source,
    asOf: r.as_of,
    importedAt: r.imported_at,
  }));
}
