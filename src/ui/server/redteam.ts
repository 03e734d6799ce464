/**
 * /api/v1/runs/:id/redteam: attack success rates per pack and model with CIs and the paired
 * difference from the baseline (the eval summary of the red-team run), and the transcripts of
 * successful attacks (score > 0), paginated.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Plan } from "../../evaluate/index.js";
import { summarise } from "../../evaluate/index.js";
import type { Message } from "../../providers/index.js";
import type { StoreHandle } from "../../store/index.js";
import { getRun, loadResults } from "../../store/index.js";
import { sendTable } from "./export.js";
import { ApiError, parseQuery, type RunCache } from "./http.js";

const TranscriptQuery = z.object({
  pack: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).default(0),
  format: z.enum(["json", "csv", "jsonl"]).default("json"),
});

export function registerRedteamRoutes(app: FastifyInstance, store: StoreHandle, runs: RunCache): void {
  app.get<{ Params: { id: string } }>("/api/v1/runs/:id/redteam", async (req) => {
    const meta = await runs.require(req.params.id);
    if (meta.kind !== "redteam") throw new ApiError(400, `run ${meta.id} is a ${meta.kind} run, not a red-team run`);
    const run = await getRun(store.db, meta.id);
    const summary = summarise(run?.plan as Plan, meta.id, await loadResults(store.db, meta.id, { withTexts: false }));
    return {
      runId: meta.id,
      baseline: summary.baseline,
      packs: summary.suites.map((s) => ({
        pack: s.name,
        models: s.models.map((m) => ({
          id: m.id,
          attacks: m.n,
          successes: Math.round(m.score.mean * m.n),
          rate: m.score.mean,
          ci95: m.score.ci95,
          errors: m.errors,
          vsBaseline: m.vsBaseline ? { diff: m.vsBaseline.diff, ci95: m.vsBaseline.ci95, pValue: m.vsBaseline.pValue } : null,
        })),
      })),
    };
  });

  app.get<{ Params: { id: string } }>("/api/v1/runs/:id/redteam/transcripts", async (req, reply) => {
    const meta = await runs.require(req.params.id);
    const p = parseQuery(TranscriptQuery, req.query);
    let q = store.db.selectFrom("results").selectAll().where("run_id", "=", meta.id).where("score", ">", 0);
    if (p.pack) q = q.where("suite", "=", p.pack);
    if (p.model) q = q.where("model_id", "=", p.model);
    const rows = await q.orderBy("suite").orderBy("case_index").orderBy("model_id").orderBy("repeat").limit(p.limit).offset(p.offset).execute();
    const list = rows.map((r) => ({
      pack: r.suite,
      caseIndex: r.case_index,
      caseId: r.case_id,
      model: r.model_id,
      repeat: r.repeat,
      messages: JSON.parse(r.messages_json) as Message[],
      output: r.output,
      grades: JSON.parse(r.scores_json) as unknown[],
      score: r.score,
    }));
    return sendTable(reply, p.format, `transcripts-${meta.id}`, { runId: meta.id, offset: p.offset, transcripts: list }, list);
  });
}
