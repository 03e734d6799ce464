import type { Kysely } from "kysely";
import type { Message } from "../providers/index.js";
import { isoNow } from "../util/iso-now.js";
import type { Database, ResultsTable } from "./schema.js";

export interface GradeRecord {
  type: string;
  score: number;
  pass: boolean;
  detail?: Record<string, unknown>;
}

export interface ResultRecord {
  runId: string;
  suite: string;
  caseIndex: number;
  caseId: string;
  modelId: string;
  repeat: number;
  messages: Message[];
  output: string | null;
  grades: GradeRecord[];
  score: number;
  passed: boolean;
  inputTokens: number;
  outputTokens: number;
  /** Integer pico-USD (1e-12 USD); null when the model has no price. */
  costPusd: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  error: string | null;
  cached: boolean;
  attempts: number;
}

/** Column order of the results table, for statements written by hand. */
export const RESULT_COLUMNS: (keyof ResultsTable)[] = [
  "run_id",
  "suite",
  "case_index",
  "model_id",
  "repeat",
  "case_id",
  "messages_json",
  "output",
  "scores_json",
  "score",
  "passed",
  "input_tokens",
  "output_tokens",
  "cost_pusd",
  "latency_ms",
  "ttft_ms",
  "error",
  "cached",
  "attempts",
  "created_at",
];

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

/** Write results (insert or replace by key). Run it inside a transaction for atomic batches. */
export async function saveResults(db: Kysely<Database>, records: ResultRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => toResultRow(r));
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    await db
      .insertInto("results")
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(["run_id", "suite", "case_index", "model_id", "repeat"]).doUpdateSet((eb) => ({
          case_id: eb.ref("excluded.case_id"),
          messages_json: eb.ref("excluded.messages_json"),
          output: eb.ref("excluded.output"),
          scores_json: eb.ref("excluded.scores_json"),
          score: eb.ref("excluded.score"),
          passed: eb.ref("excluded.passed"),
          input_tokens: eb.ref("excluded.input_tokens"),
          output_tokens: eb.ref("excluded.output_tokens"),
          cost_pusd: eb.ref("excluded.cost_pusd"),
          latency_ms: eb.ref("excluded.latency_ms"),
          ttft_ms: eb.ref("excluded.ttft_ms"),
          error: eb.ref("excluded.error"),
          cached: eb.ref("excluded.cached"),
          attempts: eb.ref("excluded.attempts"),
          created_at: eb.ref("excluded.created_at"),
        })),
      )
      .execute();
  }
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
      ...RESULT_COLUMNS.filter((c) => c !== "messages_json" && c !== "output"),
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
