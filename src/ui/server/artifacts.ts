/**
 * /api/v1/artifacts (scans and locks kept by `scan`/`lock` with a store, newest first), one artifact
 * (the whole scan report: findings, licence, origin lineage; its ML-BOM; the lockfile), its ML-BOM
 * as a CycloneDX download, and /api/v1/models?ref= — a model's page: its scans and locks and the
 * eval and red-team runs that ran it (matched by model id, the provider's model name or a path).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { StoreHandle } from "../../store/index.js";
import { getArtifact, listArtifacts } from "../../store/index.js";
import { sendTable } from "./export.js";
import { ApiError, parseQuery, type RunCache, type RunMeta } from "./http.js";

const ListQuery = z.object({
  kind: z.enum(["scan", "lock"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  format: z.enum(["json", "csv", "jsonl"]).default("json"),
});
const ModelQuery = z.object({ ref: z.string().min(1).max(500) });

/** Runs looked at for a model page: the newest this many. */
const MODEL_RUNS = 1000;

/** The model ids and references a model page gathers: the ref itself, and what runs that use it call it. */
function refsOf(ref: string, metas: RunMeta[]): { runs: RunMeta[]; refs: Set<string> } {
  const refs = new Set([ref]);
  const runs = metas.filter((m) =>
    Object.entries(m.modelRefs ?? {}).some(([id, rs]) => {
      if (id !== ref && !rs.includes(ref)) return false;
      for (const r of [id, ...rs]) refs.add(r);
      return true;
    }),
  );
  return { runs, refs };
}

export function registerArtifactRoutes(app: FastifyInstance, store: StoreHandle, runs: RunCache): void {
  app.get("/api/v1/artifacts", async (req, reply) => {
    const q = parseQuery(ListQuery, req.query);
    const rows = await listArtifacts(store.db, { limit: q.limit + 1, offset: q.offset, ...(q.kind ? { kind: q.kind } : {}) });
    const page = rows.slice(0, q.limit);
    const flat = page.map((a) => ({ ...a, summary: JSON.stringify(a.summary) }));
    return sendTable(reply, q.format, "artifacts", { artifacts: page, hasMore: rows.length > q.limit }, flat);
  });

  app.get<{ Params: { id: string } }>("/api/v1/artifacts/:id", async (req) => {
    const a = await getArtifact(store.db, req.params.id);
    if (!a) throw new ApiError(404, `no artifact "${req.params.id}"`, "list artifacts at /api/v1/artifacts");
    return { artifact: a };
  });

  app.get<{ Params: { id: string } }>("/api/v1/artifacts/:id/bom", async (req, reply) => {
    const a = await getArtifact(store.db, req.params.id);
    if (!a?.bom) throw new ApiError(404, `no ML-BOM for artifact "${req.params.id}"`, "scans have one; locks do not");
    const name = req.params.id.replace(/[^\w.-]/g, "_");
    return reply
      .type("application/vnd.cyclonedx+json")
      .header("content-disposition", `attachment; filename="${name}.cdx.json"`)
      .send(JSON.stringify(a.bom, null, 2));
  });

  app.get("/api/v1/models", async (req) => {
    const q = parseQuery(ModelQuery, req.query);
    const rows = await store.db
      .selectFrom("runs")
      .select(["id", "status", "finished_at"])
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(MODEL_RUNS)
      .execute();
    const metas: RunMeta[] = [];
    for (const r of rows) {
      const m = await runs.meta(r.id, r);
      if (m) metas.push(m);
    }
    const { runs: used, refs } = refsOf(q.ref, metas);
    const artifacts = await listArtifacts(store.db, { limit: 200, offset: 0, refs: [...refs] });
    return { ref: q.ref, refs: [...refs], artifacts, runs: used, runsLookedAt: metas.length };
  });
}
