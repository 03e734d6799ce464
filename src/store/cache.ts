import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import { writeRows } from "./write.js";

export async function cacheGet(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const r = await db.selectFrom("cache").select("response_json").where("key", "=", key).executeTakeFirst();
  return r?.response_json;
}

/** Look many keys up at once (in chunks), returning the hits. */
export async function cacheGetMany(db: Kysely<Database>, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db
      .selectFrom("cache")
      .select(["key", "response_json"])
      .where("key", "in", keys.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.key, r.response_json);
  }
  return out;
}

/** Insert or replace cache entries, in one transaction. */
export async function cachePutMany(db: Kysely<Database>, entries: { key: string; value: string }[]): Promise<void> {
  const now = new Date().toISOString();
  await writeRows(db, [{ table: "cache", rows: entries.map((e) => ({ key: e.key, response_json: e.value, created_at: now })), conflict: "update" }]);
}
