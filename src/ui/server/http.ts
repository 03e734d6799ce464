/**
 * Shared pieces of the UI's API: query parsing (zod, a 400 with a hint on bad input), the
 * error shape, and the run metadata cache (a stored plan can be megabytes; it is parsed once per run).
 */
import type { FastifyReply } from "fastify";
import type { z } from "zod";
import type { Plan } from "../../evaluate/index.js";
import type { StoreHandle } from "../../store/index.js";
import { getRun, type RunRow } from "../../store/index.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const r = schema.safeParse(query ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ApiError(400, `bad query parameter ${issue?.path.join(".") || ""}: ${issue?.message ?? "invalid"}`, "see docs/ui.md for the parameters");
}

export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof ApiError) return reply.code(e.status).send({ error: e.message, ...(e.hint ? { hint: e.hint } : {}) });
  if (e instanceof Error && e.name === "UserError") return reply.code(422).send({ error: e.message, hint: (e as { hint?: string }).hint });
  throw e;
}

export interface RunMeta {
  id: string;
  kind: string;
  createdAt: string;
  finishedAt: string | null;
  status: string;
  configPath: string;
  models: string[];
  suites: string[];
  baseline: string | null;
  /** Planned results (cases × models × repeats) for eval/redteam runs; null when the plan says nothing. */
  planned: number | null;
}

interface PlanLike {
  models?: Plan["models"];
  suites?: { name: string; cases?: unknown[] }[];
  baseline?: string;
  repeat?: number;
  model?: { id?: string };
}

export function metaOf(r: RunRow): RunMeta {
  const plan = (r.plan ?? {}) as PlanLike;
  const models = plan.models?.map((m) => m.config.id) ?? (plan.model?.id ? [plan.model.id] : []);
  const suites = plan.suites?.map((s) => s.name) ?? [];
  const cases = plan.suites?.reduce((a, s) => a + (s.cases?.length ?? 0), 0) ?? 0;
  return {
    id: r.id,
    kind: r.kind,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    status: r.status,
    configPath: r.configPath,
    models,
    suites,
    baseline: plan.baseline ?? null,
    planned: plan.suites ? cases * models.length * (plan.repeat ?? 1) : null,
  };
}

/** Plans do not change once stored: keep each run's metadata (not its plan) after the first read. */
export class RunCache {
  private readonly metas = new Map<string, Omit<RunMeta, "status" | "finishedAt">>();
  constructor(private readonly store: StoreHandle) {}

  async meta(id: string, row?: { status: string; finished_at: string | null }): Promise<RunMeta | undefined> {
    const known = this.metas.get(id);
    if (known) {
      const r = row ?? (await this.store.db.selectFrom("runs").select(["status", "finished_at"]).where("id", "=", id).executeTakeFirst());
      // A run marked running may have died: getRun tells (it parses the plan, but only for such runs).
      if (r && r.status !== "running") return { ...known, status: r.status, finishedAt: r.finished_at };
    }
    const run = await getRun(this.store.db, id);
    if (!run) return undefined;
    const m = metaOf(run);
    const { status: _s, finishedAt: _f, ...fixed } = m;
    this.metas.set(id, fixed);
    return m;
  }

  async require(id: string): Promise<RunMeta> {
    const m = await this.meta(id);
    if (!m) throw new ApiError(404, `no run "${id}"`, "list runs at /api/v1/runs");
    return m;
  }
}
