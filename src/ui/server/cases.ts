/**
 * /api/v1/runs/:id/cases (cases x models: filters, search, sort, indexed pages) and
 * /api/v1/runs/:id/cases/:suite/:index (one case: messages, every model's output, grades, timings).
 * A page first reads the keys of its rows (from an index), then only those rows: the message and
 * output texts of skipped rows are never read.
 */
import type { FastifyInstance } from "fastify";
import { type ExpressionBuilder, type SelectQueryBuilder, sql } from "kysely";
import { z } from "zod";
import type { Message } from "../../providers/index.js";
import { type Database, loadCaseTotal, type StoreHandle, saveCaseTotal } from "../../store/index.js";
import { sendTable } from "./export.js";
import { ApiError, caseTotalKey, parseQuery, type RunCache, type RunMeta } from "./http.js";
import { SearchIndex } from "./search.js";

export const CasesQuery = z.object({
  suite: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
  grader: z
    .string()
    .max(60)
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  filter: z.enum(["all", "failed", "passed", "errors", "changed", "regressions", "improvements"]).default("all"),
  q: z.string().max(200).optional(),
  sort: z.enum(["case", "score", "latency", "cost"]).default("case"),
  order: z.enum(["asc", "desc"]).default("asc"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(100_000_000).default(0),
  format: z.enum(["json", "csv", "jsonl"]).default("json"),
});
type CasesParams = z.infer<typeof CasesQuery>;

type DB = Database & { b: Database["results"]; r: Database["results"] };
type Q = SelectQueryBuilder<DB, "r" | "b", object>;

const clip = (s: string | null, n: number) => (s === null ? null : s.length > n ? `${s.slice(0, n)}…` : s);

export function lastUserText(messagesJson: string): string {
  const msgs = JSON.parse(messagesJson) as Message[];
  const m = [...msgs].reverse().find((x) => x.role === "user") ?? msgs.at(-1);
  const c = (m as { content?: unknown } | undefined)?.content;
  return typeof c === "string" ? c : JSON.stringify(c ?? "");
}

/** `rowids`: the search index's candidates for `q` (the substring test still applies). */
function filtered(store: StoreHandle, meta: RunMeta, p: CasesParams, rowids?: number[]): Q {
  const baseline = meta.baseline;
  const changed = p.filter === "changed" || p.filter === "regressions" || p.filter === "improvements";
  if (changed && !baseline) throw new ApiError(400, `run ${meta.id} has no baseline: "${p.filter}" needs one`, "use filter=failed or errors");
  const db = store.db as unknown as import("kysely").Kysely<DB>;
  // The baseline's row is joined only to filter on it: a plain page reads one index and nothing else.
  let q = (changed
    ? db.selectFrom("results as r").innerJoin("results as b", (j) =>
        j
          .onRef("b.run_id", "=", "r.run_id")
          .onRef("b.suite", "=", "r.suite")
          .onRef("b.case_index", "=", "r.case_index")
          .onRef("b.repeat", "=", "r.repeat")
          .on("b.model_id", "=", baseline as string),
      )
    : db.selectFrom("results as r")
  ).where("r.run_id", "=", meta.id) as unknown as Q;
  if (p.suite) q = q.where("r.suite", "=", p.suite);
  if (p.model) q = q.where("r.model_id", "=", p.model);
  if (p.grader) q = q.where(sql<boolean>`r.scores_json like ${`%"type":"${p.grader}"%`}`);
  if (p.filter === "failed") q = q.where("r.passed", "=", 0);
  if (p.filter === "passed") q = q.where("r.passed", "=", 1);
  if (p.filter === "errors") q = q.where("r.error", "is not", null);
  if (changed) q = q.where("r.model_id", "!=", baseline as string);
  if (p.filter === "changed") q = q.whereRef("b.passed", "!=", "r.passed");
  if (p.filter === "regressions") q = q.where("b.passed", "=", 1).where("r.passed", "=", 0);
  if (p.filter === "improvements") q = q.where("b.passed", "=", 0).where("r.passed", "=", 1);
  if (rowids) q = q.where(rowids.length ? sql<boolean>`r.rowid in (${sql.join(rowids)})` : sql<boolean>`0 = 1`);
  if (p.q) {
    const like = `%${p.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const op = store.dialect === "postgres" ? sql`ilike` : sql`like`;
    q = q.where((eb: ExpressionBuilder<DB, "r" | "b">) =>
      eb.or([
        sql<boolean>`r.output ${op} ${like} escape '\\'`,
        sql<boolean>`r.messages_json ${op} ${like} escape '\\'`,
        sql<boolean>`r.case_id ${op} ${like} escape '\\'`,
      ]),
    );
  }
  return q;
}

const SORT_COL = { score: "r.score", latency: "r.latency_ms", cost: "r.cost_pusd" } as const;

type Dir = "asc" | "desc";
type Key = { suite: string; case_index: number; model_id: string; repeat: number };

function keyQuery(q: Q, p: CasesParams, dir: Dir, limit: number, offset: number) {
  let k = q.select(["r.suite", "r.case_index", "r.model_id", "r.repeat"]);
  if (p.sort !== "case") k = k.orderBy(SORT_COL[p.sort], dir);
  // Tie-breaks run in the same direction, so one index (scanned forwards or backwards) gives the order.
  k = k.orderBy("r.suite", dir).orderBy("r.case_index", dir).orderBy("r.model_id", dir).orderBy("r.repeat", dir);
  return k.limit(limit).offset(offset).execute() as Promise<Key[]>;
}

/**
 * The keys of one page. Past the middle of a known total the page is read from the other end
 * (reversed order, offset from the end): an offset walks index entries, so no page walks more than half.
 */
async function pageKeys(q: Q, p: CasesParams, total: number | null): Promise<{ keys: Key[]; more: boolean }> {
  if (total !== null && p.offset > total / 2) {
    const end = Math.min(total, p.offset + p.limit);
    if (end <= p.offset) return { keys: [], more: false };
    const flipped: Dir = p.order === "asc" ? "desc" : "asc";
    const keys = (await keyQuery(q, p, flipped, end - p.offset, total - end)).reverse();
    return { keys, more: end < total };
  }
  const keys = await keyQuery(q, p, p.order, p.limit + 1, p.offset);
  return { keys: keys.slice(0, p.limit), more: keys.length > p.limit };
}

export function registerCaseRoutes(app: FastifyInstance, store: StoreHandle, runs: RunCache, searchBatch?: number): void {
  const totalOf = caseTotals(store);
  const searchIndex = new SearchIndex(store, searchBatch);
  app.addHook("onClose", () => searchIndex.close());
  app.get<{ Params: { id: string } }>("/api/v1/runs/:id/cases", async (req, reply) => {
    const meta = await runs.require(req.params.id);
    const p = parseQuery(CasesQuery, req.query);
    // A text search answered from the index reads only its candidate rows; otherwise it scans.
    const search = p.q ? await searchIndex.plan(meta, p.q) : undefined;
    const rowids = search && "rowids" in search.plan ? search.plan.rowids : undefined;
    // Totals: not with a scanning text search (that would read every text twice); kept for finished runs.
    let total: number | null = null;
    if (rowids) {
      const t = await filtered(store, meta, p, rowids)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirst();
      total = Number(t?.n ?? 0);
    } else if (!p.q) {
      total = await totalOf(meta, p);
    }
    const { keys, more } = await pageKeys(filtered(store, meta, p, rowids), p, total);
    const rows = await fetchRows(store, meta, keys);
    const envelope = {
      runId: meta.id,
      baseline: meta.baseline,
      offset: p.offset,
      limit: p.limit,
      total,
      hasMore: more,
      ...(search ? { search: search.state } : {}),
      rows,
    };
    return sendTable(reply, p.format, `cases-${meta.id}`, envelope, rows);
  });
  app.get<{ Params: { id: string; suite: string; index: string } }>("/api/v1/runs/:id/cases/:suite/:index", async (req) => {
    const meta = await runs.require(req.params.id);
    const index = Number(req.params.index);
    if (!Number.isSafeInteger(index) || index < 0) throw new ApiError(400, `bad case index "${req.params.index}"`);
    return oneCase(store, meta, req.params.suite, index);
  });
}

/** Rows under a filter; a finished run's totals are kept in memory and in the store (case_totals). */
function caseTotals(store: StoreHandle): (meta: RunMeta, p: CasesParams) => Promise<number> {
  const totals = new Map<string, number>();
  return async (meta, p) => {
    const finished = meta.status !== "running";
    const tkey = caseTotalKey(meta.status, meta.finishedAt, p);
    const kept = totals.get(`${meta.id}|${tkey}`) ?? (finished ? await loadCaseTotal(store.db, meta.id, tkey) : undefined);
    if (kept !== undefined) return kept;
    const t = await filtered(store, meta, p)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    const total = Number(t?.n ?? 0);
    if (finished) {
      totals.set(`${meta.id}|${tkey}`, total);
      await saveCaseTotal(store.db, meta.id, tkey, total).catch(() => undefined);
    }
    return total;
  };
}

/** One case: its messages and every model's results, each with its conversation's answers (issue 19; none for plain cases). */
async function oneCase(store: StoreHandle, meta: RunMeta, suite: string, index: number) {
  const rows = await store.db
    .selectFrom("results")
    .selectAll()
    .where("run_id", "=", meta.id)
    .where("suite", "=", suite)
    .where("case_index", "=", index)
    .orderBy("model_id")
    .orderBy("repeat")
    .execute();
  const first = rows[0];
  if (!first) throw new ApiError(404, `no case ${suite}#${index} in run ${meta.id}`);
  const turnsOf = await caseTurns(store, meta.id, suite, index);
  return {
    runId: meta.id,
    suite: first.suite,
    caseIndex: first.case_index,
    caseId: first.case_id,
    baseline: meta.baseline,
    models: meta.models,
    messages: JSON.parse(first.messages_json) as Message[],
    results: rows.map((r) => ({
      model: r.model_id,
      repeat: r.repeat,
      output: r.output,
      grades: JSON.parse(r.scores_json) as unknown[],
      score: r.score,
      passed: r.passed === 1,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      costUsd: r.cost_pusd === null ? null : Number(r.cost_pusd) / 1e12,
      latencyMs: r.latency_ms,
      ttftMs: r.ttft_ms,
      attempts: r.attempts,
      cached: r.cached === 1,
      error: r.error,
      turns: turnsOf(r.model_id, r.repeat),
    })),
  };
}

/** A case's stored conversation answers, looked up by model and repeat. */
async function caseTurns(store: StoreHandle, runId: string, suite: string, index: number) {
  const turnRows = await store.db
    .selectFrom("result_turns")
    .select(["model_id", "repeat", "response_json"])
    .where("run_id", "=", runId)
    .where("suite", "=", suite)
    .where("case_index", "=", index)
    .orderBy("turn")
    .execute();
  return (model: string, repeat: number) =>
    turnRows
      .filter((t) => t.model_id === model && t.repeat === repeat)
      .map((t) => {
        const r = JSON.parse(t.response_json) as { text?: string; toolCalls?: unknown[] };
        return { text: r.text ?? "", toolCalls: r.toolCalls ?? [] };
      });
}

async function fetchRows(store: StoreHandle, meta: RunMeta, keys: { suite: string; case_index: number; model_id: string; repeat: number }[]) {
  if (keys.length === 0) return [];
  const got = await store.db
    .selectFrom("results")
    .select([
      "suite",
      "case_index",
      "case_id",
      "model_id",
      "repeat",
      "messages_json",
      "output",
      "scores_json",
      "score",
      "passed",
      "error",
      "latency_ms",
      "cost_pusd",
      "input_tokens",
      "output_tokens",
      "attempts",
    ])
    .where("run_id", "=", meta.id)
    .where((eb) =>
      eb.or(
        keys.map((k) => eb.and([eb("suite", "=", k.suite), eb("case_index", "=", k.case_index), eb("model_id", "=", k.model_id), eb("repeat", "=", k.repeat)])),
      ),
    )
    .execute();
  const base = meta.baseline
    ? await store.db
        .selectFrom("results")
        .select(["suite", "case_index", "repeat", "passed"])
        .where("run_id", "=", meta.id)
        .where("model_id", "=", meta.baseline)
        .where((eb) => eb.or(keys.map((k) => eb.and([eb("suite", "=", k.suite), eb("case_index", "=", k.case_index), eb("repeat", "=", k.repeat)]))))
        .execute()
    : [];
  const key = (s: string, i: number, m: string, r: number) => `${s}\u0000${i}\u0000${m}\u0000${r}`;
  const byKey = new Map(got.map((r) => [key(r.suite, r.case_index, r.model_id, r.repeat), r]));
  const baseBy = new Map(base.map((b) => [key(b.suite, b.case_index, "", b.repeat), b.passed === 1]));
  return keys.flatMap((k) => {
    const r = byKey.get(key(k.suite, k.case_index, k.model_id, k.repeat));
    if (!r) return [];
    const bp = baseBy.get(key(r.suite, r.case_index, "", r.repeat));
    const changed = bp === undefined || r.model_id === meta.baseline || bp === (r.passed === 1) ? null : bp ? "regression" : "improvement";
    return [
      {
        suite: r.suite,
        caseIndex: r.case_index,
        caseId: r.case_id,
        model: r.model_id,
        repeat: r.repeat,
        input: clip(lastUserText(r.messages_json), 300),
        output: clip(r.output, 500),
        graders: (JSON.parse(r.scores_json) as { type: string }[]).map((g) => g.type),
        score: r.score,
        passed: r.passed === 1,
        baselinePassed: bp ?? null,
        changed,
        error: r.error,
        latencyMs: r.latency_ms,
        costUsd: r.cost_pusd === null ? null : Number(r.cost_pusd) / 1e12,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        attempts: r.attempts,
      },
    ];
  });
}
