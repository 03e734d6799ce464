/**
 * /api/v1/compare?a=RUN&b=RUN: two runs of the same suites, each model present in both paired on
 * the same cases (suite + case id) with the paired statistics of src/stats; cases whose pass flipped.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { comparePairedByKey, estimateMean } from "../../stats/index.js";
import type { StoreHandle } from "../../store/index.js";
import { parseQuery, type RunCache } from "./http.js";

const CompareQuery = z.object({
  a: z.string().min(1).max(200),
  b: z.string().min(1).max(200),
  /** Compare model `model` of run a with `modelB` of run b (default: the same id). */
  model: z.string().max(200).optional(),
  modelB: z.string().max(200).optional(),
  maxChanged: z.coerce.number().int().min(0).max(1000).default(50),
});

interface Scored {
  mean: number;
  passed: boolean;
  output: string | null;
  error: string | null;
}

async function scoresOf(store: StoreHandle, runId: string, model: string): Promise<Map<string, Scored>> {
  const rows = await store.db
    .selectFrom("results")
    .select(["suite", "case_id", "score", "passed", "repeat", "output", "error"])
    .where("run_id", "=", runId)
    .where("model_id", "=", model)
    .execute();
  const acc = new Map<string, { s: number; k: number; first: (typeof rows)[number] }>();
  for (const r of rows) {
    const key = `${r.suite}\u0000${r.case_id}`;
    const a = acc.get(key);
    if (a) {
      a.s += r.score;
      a.k++;
      if (r.repeat === 0) a.first = r;
    } else acc.set(key, { s: r.score, k: 1, first: r });
  }
  return new Map([...acc].map(([k, a]) => [k, { mean: a.s / a.k, passed: a.first.passed === 1, output: a.first.output, error: a.first.error }]));
}

export function registerCompareRoutes(app: FastifyInstance, store: StoreHandle, runs: RunCache): void {
  app.get("/api/v1/compare", async (req) => {
    const q = parseQuery(CompareQuery, req.query);
    const [a, b] = [await runs.require(q.a), await runs.require(q.b)];
    const pairs = q.model ? [[q.model, q.modelB ?? q.model] as const] : a.models.filter((m) => b.models.includes(m)).map((m) => [m, m] as const);
    const models = [];
    for (const [ma, mb] of pairs) {
      const [sa, sb] = [await scoresOf(store, a.id, ma), await scoresOf(store, b.id, mb)];
      const toMap = (s: Map<string, Scored>) => new Map([...s].map(([k, v]) => [k, v.mean]));
      const c = comparePairedByKey(toMap(sb), toMap(sa));
      const changed = [];
      for (const [key, vb] of sb) {
        const va = sa.get(key);
        if (!va || va.passed === vb.passed || changed.length >= q.maxChanged) continue;
        const [suite, caseId] = key.split("\u0000");
        changed.push({
          suite,
          caseId,
          direction: va.passed ? "regression" : "improvement",
          outputA: va.error ? `[error] ${va.error}` : va.output,
          outputB: vb.error ? `[error] ${vb.error}` : vb.output,
        });
      }
      const est = (s: Map<string, Scored>) => estimateMean([...s.values()].map((v) => v.mean));
      models.push({ modelA: ma, modelB: mb, a: est(sa), b: est(sb), comparison: c ?? null, changed });
    }
    return { a, b, models };
  });
}
