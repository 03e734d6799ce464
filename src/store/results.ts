/** Results of evaluations: evaluate's ResultRecord (src/records/) mapped to rows of the `results` table and back. */
import type { Kysely } from "kysely";
import type { Message } from "../providers/index.js";
import type { GradeRecord, ResultRecord } from "../records/index.js";
import { isoNow } from "../util/iso-now.js";
import type { Database, ResultsTable } from "./schema.js";
import { results as resultsTable } from "./tables.js";
import { type RowWrite, writeRows } from "./write.js";

/** A case's messages are the same array for every model and repeat: serialise them once. */
const messagesJson = new WeakMap<readonly Message[], string>();
function serialiseMessages(m: readonly Message[]): string {
  let s = messagesJson.get(m);
  if (s === undefined) {
    s = JSON.stringify(m);
    messagesJson.set(m, s);
  }
  return s;
}

/** `createdAt`: one timestamp for a whole batch saves a Date per row on the hot path. */
export function toResultRow(r: ResultRecord, createdAt = isoNow()): ResultsTable {
  return {
    run_id: r.runId,
    suite: r.suite,
    case_index: r.caseIndex,
    model_id: r.modelId,
    repeat: r.repeat,
    case_id: r.caseId,
    messages_json: serialiseMessages(r.messages),
    output: r.output,
    scores_json: JSON.stringify(r.grades),
    score: r.score,
    passed: r.passed ? 1 : 0,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cost_pusd: r.costPusd,
    latency_ms: r.latencyMs,
    ttft_ms: r.ttftMs,
    error: r.error,
    cached: r.cached ? 1 : 0,
    attempts: r.attempts,
    created_at: createdAt,
  };
}

function fromTable(t: ResultsTable): ResultRecord {
  return {
    runId: t.run_id,
    suite: t.suite,
    caseIndex: t.case_index,
    caseId: t.case_id,
    modelId: t.model_id,
    repeat: t.repeat,
    messages: JSON.parse(t.messages_json) as Message[],
    output: t.output,
    grades: JSON.parse(t.scores_json) as GradeRecord[],
    score: t.score,
    passed: t.passed === 1,
    inputTokens: t.input_tokens,
    outputTokens: t.output_tokens,
    costPusd: t.cost_pusd === null ? null : Number(t.cost_pusd),
    latencyMs: t.latency_ms,
    ttftMs: t.ttft_ms,
    error: t.error,
    cached: t.cached === 1,
    attempts: t.attempts,
  };
}

export interface CacheEntry {
  key: string;
  value: string;
}

/** Results and cache entries as one commit (the runner's group commit): cache first, then results, replacing by key. */
export function resultAndCacheWrites(results: readonly ResultRecord[], cache: readonly CacheEntry[]): RowWrite[] {
  const now = isoNow();
  return [
    { table: "cache", rows: cache.map((c) => ({ key: c.key, response_json: c.value, created_at: now })), conflict: "update" },
    { table: "results", rows: results.map((r) => toResultRow(r, now)), conflict: "update" },
  ];
}

/** Write results (insert or replace by key), in one transaction. */
export async function saveResults(db: Kysely<Database>, records: ResultRecord[]): Promise<void> {
  await writeRows(db, resultAndCacheWrites(records, []));
}

/**
 * A run's results. With `withTexts: false` the messages and outputs (the bulk of the bytes) are not
 * read: summaries need only scores, grades, tokens, cost and timings.
 */
export async function loadResults(db: Kysely<Database>, runId: string, opts: { withTexts?: boolean } = {}): Promise<ResultRecord[]> {
  const withTexts = opts.withTexts ?? true;
  const rows = await db
    .selectFrom("results")
    .select((eb) => [
      ...resultsTable.names.filter((c) => c !== "messages_json" && c !== "output"),
      withTexts ? "messages_json" : eb.val("[]").as("messages_json"),
      withTexts ? "output" : eb.val(null).as("output"),
    ])
    .where("run_id", "=", runId)
    .orderBy("suite")
    .orderBy("model_id")
    .orderBy("case_index")
    .orderBy("repeat")
    .execute();
  return rows.map((r) => fromTable(r as ResultsTable));
}

/** Results in loadResults' order: suite, model, case, repeat. */
export function sortedResults(rows: ResultRecord[]): ResultRecord[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => cmp(a.suite, b.suite) || cmp(a.modelId, b.modelId) || a.caseIndex - b.caseIndex || a.repeat - b.repeat);
}

/** Keys of results that finished without an error: a resumed run does not request these again. */
export async function finishedKeys(db: Kysely<Database>, runId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom("results")
    .select(["suite", "case_index", "model_id", "repeat"])
    .where("run_id", "=", runId)
    .where("error", "is", null)
    .execute();
  return new Set(rows.map((r) => resultKey(r.suite, r.case_index, r.model_id, r.repeat)));
}

export function resultKey(suite: string, caseIndex: number, modelId: string, repeat: number): string {
  return `${suite}\u0000${caseIndex}\u0000${modelId}\u0000${repeat}`;
}
