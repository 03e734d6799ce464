/**
 * The gateway's hook for real traffic (issue 20): after a route's primary target answered and
 * before the caller hears it, `answered()` decides what to keep — a captured sample (capture:) and
 * the primary half of each shadow pair (shadow:) — and hands back rows to commit with the audit row,
 * so a caller that got an answer has them after kill -9. `after()` (once the caller is answered)
 * hands the mirrored requests to the shadow executor (executor.ts, on its own thread by default),
 * which sends each through the gateway's forwarder and commits the shadow half when it answers.
 * A pair whose shadow half never came stays a primary row alone and is reported as such.
 */
import { type Detector, type Entity, redact } from "../../detect/index.js";
import type { RowWrite, StoreHandle } from "../../store/index.js";
import { captureWrite, countsWrite, finishRun, nextShadowCase, purgeCaptures, resultWrite, shadowRunWrite, uuidV7 } from "../../store/index.js";
import type { Usage } from "../answer-scan.js";
import type { AuditLog } from "../audit-log.js";
import type { Deployment, GatewayConfig, Route } from "../config.js";
import { type Inspection, redactBody, textLength } from "../inspect.js";
import type { ApiBody } from "../pipeline.js";
import type { Kind } from "../request-shape.js";
import type { ShadowExecutor, ShadowJob } from "./executor.js";
import { captureRow, halfRow, PRIMARY_GRADE, shadowPlan, shadowRunId } from "./rows.js";
import { shadowTargets } from "./targets.js";
import { answerText, redactAll, redactedMessages } from "./texts.js";

export interface Answered {
  route: Route;
  kind: Kind;
  body: ApiBody;
  ins: Inspection;
  deployment: Deployment;
  /** The answer as the caller gets it (scanned). */
  text: string;
  usage: Usage | undefined;
  costPusd: number | null;
  latencyMs: number;
}

export interface Traffic {
  answered(a: Answered): Promise<{ statements: RowWrite[]; after(): void } | undefined>;
  close(): Promise<void>;
}

export interface TrafficOptions {
  config: GatewayConfig;
  detectors: readonly Detector[];
  audit: AuditLog;
  store: StoreHandle;
  configPath: string;
  /** One shadow run per route for this window name instead of one per UTC day. */
  shadowRun?: string;
  /** Milliseconds to wait for mirrored requests queued or in flight when the gateway stops (default 10 s). */
  closeGraceMs?: number;
  /** Where mirrored requests run: the shadow thread, or in-process. */
  executor: ShadowExecutor;
  random?: () => number;
  /** Detection of whole texts off the event loop (the gateway's detect pool), used for large answers. */
  detectTexts?: (texts: readonly string[]) => Entity[][] | Promise<Entity[][]>;
}

/** Answers this long are redacted through detectTexts: in-thread, a 4 MiB answer held the caller and every other request ~200 ms. */
const LARGE_ANSWER = 256 * 1024;

interface RunState {
  next: number;
  announced: boolean;
  window: string;
  route: Route;
}

export function createTraffic(o: TrafficOptions): Traffic {
  const { config, detectors, audit, store } = o;
  const random = o.random ?? Math.random;
  const executor = o.executor;
  /** Mirrored jobs of each route not yet started, and the bytes they hold (maxQueue and maxQueueBytes bound them). */
  const waiting = new Map<string, { jobs: number; bytes: number }>();
  const waitingOf = (route: string) => {
    let w = waiting.get(route);
    if (!w) {
      w = { jobs: 0, bytes: 0 };
      waiting.set(route, w);
    }
    return w;
  };
  const runs = new Map<string, Promise<RunState>>();
  const runRoute = new Map<string, string>();
  const counts = new Map<string, { runId: string; state: RunState; deployment: string; dropped: number; skipped: number }>();

  const runOf = (route: Route, now: Date) => {
    const id = shadowRunId(route.model, now, o.shadowRun);
    let r = runs.get(id);
    if (!r) {
      // A new day: the route's earlier run is complete.
      for (const [oldId, old] of runs)
        if (runRoute.get(oldId) === route.model) {
          runs.delete(oldId);
          runRoute.delete(oldId);
          void old.then((s) => (s.announced ? finishRun(store.db, oldId, "completed") : undefined)).catch(() => {});
        }
      const window = o.shadowRun ?? now.toISOString().slice(0, 10);
      runRoute.set(id, route.model);
      r = nextShadowCase(store.db, id).then((next) => ({ next, announced: false, window, route }));
      runs.set(id, r);
      // A failed read is not kept: the next mirrored request asks the store again.
      r.catch(() => {
        if (runs.get(id) === r) {
          runs.delete(id);
          runRoute.delete(id);
        }
      });
    }
    return r.then((state) => ({ id, state }));
  };
  /** The run's row goes into the first commit that needs it. */
  const announce = (id: string, s: RunState, into: RowWrite[]) => {
    if (s.announced) return;
    s.announced = true;
    into.push(
      shadowRunWrite({
        id,
        configPath: o.configPath,
        plan: shadowPlan(s.route, config.deployments, o.configPath, s.window),
        createdAt: new Date().toISOString(),
      }),
    );
  };
  const count = (runId: string, state: RunState, deployment: string, what: "dropped" | "skipped") => {
    const k = `${runId}\u0000${deployment}`;
    const c = counts.get(k) ?? { runId, state, deployment, dropped: 0, skipped: 0 };
    c[what]++;
    counts.set(k, c);
  };
  const flushCounts = async () => {
    if (counts.size === 0) return;
    const items: RowWrite[] = [];
    for (const c of counts.values()) {
      announce(c.runId, c.state, items);
      items.push(countsWrite(c.runId, c.deployment, c.dropped, c.skipped));
    }
    counts.clear();
    await audit.statements(items);
  };
  const flusher = setInterval(() => void flushCounts().catch(() => {}), 1000);
  flusher.unref();
  /** Captures past their route's retention are deleted (an indexed delete on the store's own connection, hourly). */
  const purge = () =>
    Promise.all(
      config.routes.flatMap((r) =>
        r.capture ? [purgeCaptures(store, r.model, new Date(Date.now() - r.capture.retentionDays * 86_400_000).toISOString())] : [],
      ),
    ).catch(() => {});
  void purge();
  const purger = setInterval(purge, 3_600_000);
  purger.unref();

  /** The primary half and the jobs of a mirrored request, or nothing when no shadow target takes it. */
  const redactAnswer = async (text: string): Promise<string> => {
    if (!o.detectTexts || text.length < LARGE_ANSWER) return redactAll(text, detectors);
    const [entities] = await o.detectTexts([text]);
    return redact(text, entities ?? []).redacted;
  };

  async function mirror(a: Answered, primaryText: string, primaryRedacted: string, into: RowWrite[]): Promise<(() => void) | undefined> {
    const route = a.route;
    const shadow = route.shadow;
    if (!shadow) return undefined;
    const { id: runId, state } = await runOf(route, new Date());
    const planned: { deployment: Deployment; redact: string[] }[] = [];
    const w = waitingOf(route.model);
    // What a waiting job holds, counted as UTF-16 text: its body and the primary's answer (as read and redacted).
    const bytes = 2 * (textLength(a.ins) + 2 * primaryText.length);
    for (const t of shadowTargets(route, config.deployments, Object.keys(a.ins.counts))) {
      if ("skipped" in t) count(runId, state, t.deployment.id, "skipped");
      else if (w.jobs < shadow.maxQueue && w.bytes + bytes <= shadow.maxQueueBytes) {
        w.jobs++;
        w.bytes += bytes;
        planned.push(t);
      } else count(runId, state, t.deployment.id, "dropped");
    }
    if (planned.length === 0) return undefined;
    const caseIndex = state.next++;
    const messages = redactedMessages(a.kind, a.body, a.ins);
    const createdAt = new Date().toISOString();
    announce(runId, state, into);
    const half = { runId, route: route.model, caseIndex, messagesJson: JSON.stringify(messages), createdAt };
    into.push(
      resultWrite(
        halfRow({
          ...half,
          deployment: a.deployment.id,
          output: primaryRedacted,
          grades: [{ type: PRIMARY_GRADE, score: 1, pass: true, detail: { classes: a.ins.counts, shadows: planned.map((t) => t.deployment.id) } }],
          score: 1,
          passed: true,
          inputTokens: a.usage?.prompt_tokens ?? 0,
          outputTokens: a.usage?.completion_tokens ?? 0,
          costPusd: a.costPusd,
          latencyMs: a.latencyMs,
          error: null,
        }),
      ),
    );
    const question = lastUserText(messages);
    const release = () => {
      w.jobs = Math.max(0, w.jobs - 1);
      w.bytes = Math.max(0, w.bytes - bytes);
    };
    const jobs: ShadowJob[] = planned.map((t) => ({
      route: route.model,
      deployment: t.deployment.id,
      kind: a.kind,
      // `stream` as the gateway read it (pipeline.ts does the same): only whole answers are mirrored, so false.
      body: { ...(redactBody(a.body, a.ins, t.redact).body as ApiBody), model: t.deployment.model, ...("stream" in a.body ? { stream: false } : {}) },
      classes: a.ins.counts,
      primaryText,
      primaryRedacted,
      question,
      half,
    }));
    return () => {
      for (const j of jobs) executor.run(j, release);
    };
  }

  return {
    async answered(a) {
      // Sampled first: a request neither captured nor mirrored costs two random numbers, not a parse of its answer.
      const captured = a.route.capture !== undefined && random() < a.route.capture.sample;
      const mirrored = a.route.shadow !== undefined && random() < a.route.shadow.sample;
      if ((!captured && !mirrored) || a.kind === "embeddings") return undefined;
      const primaryText = answerText(a.text);
      if (primaryText === undefined) return undefined;
      const statements: RowWrite[] = [];
      // An answer that cannot be redacted (more values than a request may carry) is neither captured nor mirrored; the caller still gets it.
      const primaryRedacted = await redactAnswer(primaryText).catch(() => undefined);
      if (primaryRedacted === undefined) return undefined;
      if (captured) {
        const row = captureRow({
          id: uuidV7(),
          route: a.route.model,
          time: new Date().toISOString(),
          deployment: a.deployment.id,
          messages: redactedMessages(a.kind, a.body, a.ins),
          answer: primaryRedacted,
          classes: a.ins.counts,
        });
        statements.push(captureWrite(row));
      }
      let after: (() => void) | undefined;
      try {
        const pair: RowWrite[] = [];
        after = mirrored ? await mirror(a, primaryText, primaryRedacted, pair) : undefined;
        statements.push(...pair);
      } catch {
        // Shadowing never fails the caller: a request whose shadow run could not be read is not mirrored.
        after = undefined;
      }
      if (statements.length === 0) return undefined;
      return { statements, after: after ?? (() => {}) };
    },
    async close() {
      clearInterval(flusher);
      clearInterval(purger);
      await executor.close(o.closeGraceMs ?? 10_000);
      await flushCounts().catch(() => {});
      for (const [id, r] of runs) if ((await r).announced) await finishRun(store.db, id, "completed").catch(() => {});
    },
  };
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role === "user") return typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "");
  }
  return "";
}
