/** /api/v1/scoreboard: the stored snapshots' shares, movers and top models (src/scoreboard's own view). */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { showScoreboard } from "../../scoreboard/index.js";
import type { StoreHandle } from "../../store/index.js";
import { listSnapshots } from "../../store/index.js";
import { parseQuery } from "./http.js";

const ScoreboardQuery = z.object({
  by: z.enum(["country", "lab", "family", "uploader"]).default("country"),
  metric: z.enum(["downloads", "models", "likes", "derivatives"]).default("downloads"),
  snapshot: z.string().max(200).optional(),
  since: z.string().max(40).optional(),
  top: z.coerce.number().int().min(1).max(200).default(20),
});

export function registerScoreboardRoutes(app: FastifyInstance, store: StoreHandle): void {
  app.get("/api/v1/scoreboard", async (req) => {
    const q = parseQuery(ScoreboardQuery, req.query);
    const snapshots = await listSnapshots(store.db);
    if (snapshots.length === 0) return { snapshots, view: null };
    const view = await showScoreboard(store, {
      by: q.by,
      metric: q.metric,
      top: q.top,
      ...(q.snapshot ? { snapshot: q.snapshot } : {}),
      ...(q.since ? { since: q.since } : {}),
    });
    return { snapshots, view };
  });
}
