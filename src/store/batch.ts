/**
 * Batched writes of results and cache entries, the store's hot path. On SQLite they go through
 * prepared statements in one synchronous transaction (Kysely compiles and prepares every query,
 * which cost ~0.2 ms a row here); on PostgreSQL through Kysely in one transaction.
 */
import type { Kysely } from "kysely";
import { cachePutMany } from "./cache.js";
import { RESULT_COLUMNS, type ResultRecord, saveResults, toResultRow } from "./results.js";
import type { Database } from "./schema.js";
import { saveTurns, type TurnRecord, toTurnRow } from "./turns.js";

export interface CacheEntry {
  key: string;
  value: string;
}

/** Turns (result_turns) are optional: runs without conversations never touch that table. */
export type BatchWriter = (results: ResultRecord[], cache: CacheEntry[], turns?: TurnRecord[]) => Promise<void>;

export function kyselyBatchWriter(db: Kysely<Database>): BatchWriter {
  return (results, cache, turns) =>
    db.transaction().execute(async (tx) => {
      await cachePutMany(tx, cache);
      if (turns?.length) await saveTurns(tx, turns);
      await saveResults(tx, results);
    });
}

export function sqliteBatchWriter(raw: import("better-sqlite3").Database): BatchWriter {
  const keyCols = ["run_id", "suite", "case_index", "model_id", "repeat"];
  const insertResult = raw.prepare(
    `INSERT INTO results (${RESULT_COLUMNS.join(", ")}) VALUES (${RESULT_COLUMNS.map((c) => `@${c}`).join(", ")})
     ON CONFLICT (${keyCols.join(", ")}) DO UPDATE SET ${RESULT_COLUMNS.filter((c) => !keyCols.includes(c))
       .map((c) => `${c} = excluded.${c}`)
       .join(", ")}`,
  );
  const insertCache = raw.prepare(
    "INSERT INTO cache (key, response_json, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET response_json = excluded.response_json, created_at = excluded.created_at",
  );
  const turnCols = ["run_id", "suite", "case_index", "model_id", "repeat", "turn", "response_json", "facts_json", "created_at"];
  let insertTurn: import("better-sqlite3").Statement | undefined;
  const write = raw.transaction((results: ResultRecord[], cache: CacheEntry[], turns: TurnRecord[]) => {
    const now = new Date().toISOString();
    for (const c of cache) insertCache.run(c.key, c.value, now);
    if (turns.length)
      insertTurn ??= raw.prepare(
        `INSERT INTO result_turns (${turnCols.join(", ")}) VALUES (${turnCols.map((c) => `@${c}`).join(", ")})
         ON CONFLICT (run_id, suite, case_index, model_id, repeat, turn) DO UPDATE SET response_json = excluded.response_json, facts_json = excluded.facts_json, created_at = excluded.created_at`,
      );
    for (const t of turns) insertTurn?.run(toTurnRow(t, now));
    for (const r of results) insertResult.run(toResultRow(r, now));
  });
  return async (results, cache, turns) => {
    write(results, cache, turns ?? []);
  };
}
