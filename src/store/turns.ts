/**
 * The turns of conversations (table result_turns): one row per model answer of a multi-turn or tool
 * case. The store keeps the answer and its fidelity facts as JSON it does not interpret (their types
 * belong to evaluate); it writes them in the runner's group commits and reads them back for resume,
 * for the trajectory and for the fidelity figures.
 */
import type { Kysely } from "kysely";
import type { TurnRecord } from "../records/index.js";
import { isoNow } from "../util/iso-now.js";
import { resultKey } from "./results.js";
import type { Database, ResultTurnsTable } from "./schema.js";
import { type RowWrite, writeRows } from "./write.js";

export function toTurnRow(t: TurnRecord, createdAt = isoNow()): ResultTurnsTable {
  return {
    run_id: t.runId,
    suite: t.suite,
    case_index: t.caseIndex,
    model_id: t.modelId,
    repeat: t.repeat,
    turn: t.turn,
    response_json: JSON.stringify(t.response),
    facts_json: t.facts === undefined || t.facts === null ? null : JSON.stringify(t.facts),
    created_at: createdAt,
  };
}

/** Turns as one write of the store's write path (replacing by key), to commit with the runner's group. */
export function turnWrites(turns: readonly TurnRecord[]): RowWrite[] {
  const now = isoNow();
  return [{ table: "result_turns", rows: turns.map((t) => toTurnRow(t, now)), conflict: "update" }];
}

/** Insert or replace turns by key, in one transaction. */
export async function saveTurns(db: Kysely<Database>, turns: readonly TurnRecord[]): Promise<void> {
  await writeRows(db, turnWrites(turns));
}

/** Every stored turn of a run, grouped by result key (resultKey), each list in turn order. */
export async function loadTurns(db: Kysely<Database>, runId: string): Promise<Map<string, TurnRecord[]>> {
  const rows = await db.selectFrom("result_turns").selectAll().where("run_id", "=", runId).orderBy("turn").execute();
  const out = new Map<string, TurnRecord[]>();
  for (const r of rows) {
    const key = resultKey(r.suite, r.case_index, r.model_id, r.repeat);
    const list = out.get(key) ?? [];
    list.push({
      runId: r.run_id,
      suite: r.suite,
      caseIndex: r.case_index,
      modelId: r.model_id,
      repeat: r.repeat,
      turn: r.turn,
      response: JSON.parse(r.response_json) as unknown,
      facts: r.facts_json === null ? null : (JSON.parse(r.facts_json) as unknown),
    });
    out.set(key, list);
  }
  return out;
}

/** Only the fidelity facts of a run's turns (no answer texts), grouped by result key in turn order. */
export async function loadTurnFacts(db: Kysely<Database>, runId: string): Promise<Map<string, unknown[]>> {
  const rows = await db
    .selectFrom("result_turns")
    .select(["suite", "case_index", "model_id", "repeat", "facts_json"])
    .where("run_id", "=", runId)
    .where("facts_json", "is not", null)
    .orderBy("turn")
    .execute();
  const out = new Map<string, unknown[]>();
  for (const r of rows) {
    const key = resultKey(r.suite, r.case_index, r.model_id, r.repeat);
    const list = out.get(key) ?? [];
    list.push(JSON.parse(r.facts_json ?? "null") as unknown);
    out.set(key, list);
  }
  return out;
}
