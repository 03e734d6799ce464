/**
 * Mirroring one answered request (traffic.ts): which shadow targets take it (the route's policy,
 * then the queue bound), the primary half of the pair (committed with the audit row) and one job
 * per planned target for the shadow executor. Named steps: plan → primary half → jobs.
 */
import type { RowWrite } from "../../store/index.js";
import { resultWrite } from "../../store/index.js";
import type { Deployment, GatewayConfig, Route } from "../config.js";
import { redactBody, textLength } from "../inspect.js";
import type { ApiBody } from "../pipeline.js";
import type { ShadowExecutor, ShadowJob } from "./executor.js";
import type { QueueBudget } from "./queue-budget.js";
import { halfRow, PRIMARY_GRADE } from "./rows.js";
import type { RunState, ShadowRunBook } from "./run-book.js";
import type { SkipCounts } from "./skip-counts.js";
import { shadowTargets } from "./targets.js";
import { redactedMessages } from "./texts.js";
import type { Answered } from "./traffic.js";

export interface MirrorContext {
  config: GatewayConfig;
  runs: ShadowRunBook;
  budget: QueueBudget;
  skips: SkipCounts;
  executor: ShadowExecutor;
}

/** The primary's answer as read from the upstream and as stored (redacted). */
export interface PrimaryAnswer {
  text: string;
  redacted: string;
}

type Planned = { deployment: Deployment; redact: string[] };
type HalfKey = ShadowJob["half"] & { createdAt: string };

/**
 * Pushes the primary half (and the run's row, once) into `into` and returns what sends the jobs once
 * the caller is answered, or nothing when no shadow target takes the request.
 */
export async function mirror(ctx: MirrorContext, a: Answered, primary: PrimaryAnswer, into: RowWrite[]): Promise<(() => void) | undefined> {
  const route = a.route;
  if (!route.shadow) return undefined;
  const { id: runId, state } = await ctx.runs.of(route, new Date());
  // What a waiting job holds, counted as UTF-16 text: its body and the primary's answer (as read and redacted).
  const bytes = 2 * (textLength(a.ins) + 2 * primary.text.length);
  const planned = planTargets(ctx, a, { runId, state }, bytes);
  if (planned.length === 0) return undefined;
  const messages = redactedMessages(a.kind, a.body, a.ins);
  const half: HalfKey = { runId, route: route.model, caseIndex: state.next++, messagesJson: JSON.stringify(messages), createdAt: new Date().toISOString() };
  ctx.runs.announce(runId, state, into);
  into.push(primaryHalfWrite(a, half, primary.redacted, planned));
  const jobs = shadowJobs(a, planned, half, primary, lastUserText(messages));
  const release = () => ctx.budget.release(route.model, bytes);
  return () => {
    for (const j of jobs) ctx.executor.run(j, release);
  };
}

/** The shadow targets that take the request; the others are counted as skipped (policy) or dropped (queue full). */
function planTargets(ctx: MirrorContext, a: Answered, run: { runId: string; state: RunState }, bytes: number): Planned[] {
  const route: Route = a.route;
  const limits = route.shadow as NonNullable<Route["shadow"]>;
  const planned: Planned[] = [];
  for (const t of shadowTargets(route, ctx.config.deployments, Object.keys(a.ins.counts))) {
    if ("skipped" in t) ctx.skips.count(run.runId, run.state, t.deployment.id, "skipped");
    else if (ctx.budget.take(route.model, limits, bytes)) planned.push(t);
    else ctx.skips.count(run.runId, run.state, t.deployment.id, "dropped");
  }
  return planned;
}

/** The primary's half of the pair: the reference (score 1), its grade detail naming the request's classes and the shadow targets. */
function primaryHalfWrite(a: Answered, half: HalfKey, redacted: string, planned: readonly Planned[]): RowWrite {
  return resultWrite(
    halfRow({
      ...half,
      deployment: a.deployment.id,
      output: redacted,
      grades: [{ type: PRIMARY_GRADE, score: 1, pass: true, detail: { classes: a.ins.counts, shadows: planned.map((t) => t.deployment.id) } }],
      score: 1,
      passed: true,
      inputTokens: a.usage?.prompt_tokens ?? 0,
      outputTokens: a.usage?.completion_tokens ?? 0,
      costPusd: a.costPusd,
      latencyMs: a.latencyMs,
      error: null,
    }),
  );
}

/** One job per planned target: the body as that deployment may receive it (redacted per the route's policy), its model set. */
function shadowJobs(a: Answered, planned: readonly Planned[], half: HalfKey, primary: PrimaryAnswer, question: string): ShadowJob[] {
  return planned.map((t) => ({
    route: a.route.model,
    deployment: t.deployment.id,
    kind: a.kind,
    // `stream` as the gateway read it (pipeline.ts does the same): only whole answers are mirrored, so false.
    body: { ...(redactBody(a.body, a.ins, t.redact).body as ApiBody), model: t.deployment.model, ...("stream" in a.body ? { stream: false } : {}) },
    classes: a.ins.counts,
    primaryText: primary.text,
    primaryRedacted: primary.redacted,
    question,
    half,
  }));
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role === "user") return typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "");
  }
  return "";
}
