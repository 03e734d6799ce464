/**
 * Shared pieces of the UI's API: query parsing (zod, a 400 with a hint on bad input), the
 * error shape, and the run metadata cache (a stored plan can be megabytes; it is parsed once per run).
 */
import type { FastifyReply } from "fastify";
import type { z } from "zod";
import type { Plan } from "../../evaluate/index.js";
import type { StoreHandle } from "../../store/index.js";
import { getRun, loadRunSummary, type RunRow, saveRunSummary } from "../../store/index.js";

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
  /** Per model id: what it runs (the provider's model name, a local path) — how the model page finds a model's runs. */
  modelRefs: Record<string, string[]>;
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
    modelRefs: Object.fromEntries(
      (plan.models ?? []).map((m) => {
        const c = m.config as unknown as Record<string, unknown>;
        return [m.config.id, ["model", "path", "repo"].flatMap((k) => (typeof c[k] === "string" ? [c[k] as string] : []))];
      }),
    ),
  };
}

export interface RunCounts {
  results: number;
  errors: number;
  costUsd: number | null;
}

type Fixed = Omit<RunMeta, "status" | "finishedAt">;

/**
 * Plans do not change once stored: keep each run's metadata (not its plan) after the first read. A
 * finished run's metadata and counts are also kept in the store (run_summaries), so the next server
 * neither parses its plan (15 MB for 100,000 cases) nor counts its results again.
 */
export class RunCache {
  private readonly metas = new Map<string, Fixed>();
  private readonly counts = new Map<string, RunCounts>();
  constructor(private readonly store: StoreHandle) {}

  async meta(id: string, row?: { status: string; finished_at: string | null }): Promise<RunMeta | undefined> {
    const r = row ?? (await this.store.db.selectFrom("runs").select(["status", "finished_at"]).where("id", "=", id).executeTakeFirst());
    if (!r) return undefined;
    // A run marked running may have died: getRun tells (it parses the plan, but only for such runs).
    if (r.status !== "running") {
      const fixed = this.metas.get(id) ?? (await this.fromStore(id, r.status, r.finished_at));
      if (fixed) return { ...fixed, status: r.status, finishedAt: r.finished_at };
    }
    const run = await getRun(this.store.db, id);
    if (!run) return undefined;
    const m = metaOf(run);
    const { status: _s, finishedAt: _f, ...fixed } = m;
    this.metas.set(id, fixed);
    return m;
  }

  private async fromStore(id: string, status: string, finishedAt: string | null): Promise<Fixed | undefined> {
    const stored = await loadRunSummary(this.store.db, id, status, finishedAt);
    if (!stored) return undefined;
    const { counts, ...fixed } = JSON.parse(stored) as Fixed & { counts: RunCounts };
    if (!fixed.modelRefs) return undefined; // kept by an older server: recompute
    this.metas.set(id, fixed);
    this.counts.set(id, counts);
    return fixed;
  }

  async require(id: string): Promise<RunMeta> {
    const m = await this.meta(id);
    if (!m) throw new ApiError(404, `no run "${id}"`, "list runs at /api/v1/runs");
    return m;
  }

  /** Counts kept in the store for a finished run. */
  storedCounts(id: string): RunCounts | undefined {
    return this.counts.get(id);
  }

  /** Keep a finished run's metadata and counts in the store (a read-only store is fine: the next server recounts). */
  async remember(m: RunMeta, counts: RunCounts): Promise<void> {
    const fixed = this.metas.get(m.id);
    if (!fixed || m.status === "running" || m.status === "interrupted" || this.counts.has(m.id)) return;
    this.counts.set(m.id, counts);
    await saveRunSummary(this.store.db, m.id, m.status, m.finishedAt, JSON.stringify({ ...fixed, counts })).catch(() => undefined);
  }
}

/** The case_totals key of a cases query: the run's state and the filters (cases.ts reads it, keep.ts writes it at completion). */
export function caseTotalKey(
  status: string,
  finishedAt: string | null,
  p: { suite?: string | undefined; model?: string | undefined; grader?: string | undefined; filter: string },
): string {
  return JSON.stringify([status, finishedAt, p.suite, p.model, p.grader, p.filter]);
}
