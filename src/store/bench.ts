import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import { writeRows } from "./write.js";

export async function saveBenchLevel(db: Kysely<Database>, runId: string, concurrency: number, metrics: unknown): Promise<void> {
  await writeRows(db, [{ table: "bench_levels", rows: [{ run_id: runId, concurrency, metrics_json: JSON.stringify(metrics) }], conflict: "update" }]);
}

export async function loadBenchLevels<T>(db: Kysely<Database>, runId: string): Promise<T[]> {
  const rows = await db.selectFrom("bench_levels").select("metrics_json").where("run_id", "=", runId).orderBy("concurrency").execute();
  return rows.map((r) => JSON.parse(r.metrics_json) as T);
}
