import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export async function cacheGet(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const r = await db.selectFrom("cache").select("response_json").where("key", "=", key).executeTakeFirst();
  return r?.response_json;
}

export async function cachePutMany(db: Kysely<Database>, entries: { key: string; value: string }[]): Promise<void> {
  if (entries.length === 0) return;
  const now = new Date().toISOString();
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < entries.length; i += 300) {
      await tx
        .insertInto("cache")
        .values(entries.slice(i, i + 300).map((e) => ({ key: e.key, response_json: e.value, created_at: now })))
        .onConflict((oc) =>
          oc.column("key").doUpdateSet((eb) => ({ response_json: eb.ref("excluded.response_json"), created_at: eb.ref("excluded.created_at") })),
        )
        .execute();
    }
  });
}
