import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export async function saveBenchLevel(db: Kysely<Database>, runId: string, concurrency: number, metrics: unknown): Promise<void> {
  await db
    .insertInto("bench_levels")
    .values({ run_id: runId, concurrency, metrics_json: JSON.stringify(metrics) })
    .onConflict((oc) => oc.columns(["run_id", "concurrency"]).doUpdateSet((eb) => ({ metrics_json: eb.ref("excluded.metrics_json") })))
    .execute();
}

export async function loadBenchLevels<T>(db: Kysely<Database>, runId: string): Promise<T[]> {
  const rows = await db.selectFrom("bench_levels").select("metrics_json").where("run_id", "=", runId).orderBy("concurrency").execute();
  return rows.map((r) => JSON.parse(r.metrics_json) as T);
}
