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
import { captureWrite, purgeCaptures, uuidV7 } from "../../store/index.js";
import type { Usage } from "../answer-scan.js";
import type { AuditLog } from "../audit-log.js";
import type { Deployment, GatewayConfig, Route } from "../config.js";
import type { Inspection } from "../inspect.js";
import type { ApiBody } from "../pipeline.js";
import type { Kind } from "../request-shape.js";
import type { ShadowExecutor } from "./executor.js";
import { type MirrorContext, mirror, type PrimaryAnswer } from "./mirror.js";
import { QueueBudget } from "./queue-budget.js";
import { captureRow } from "./rows.js";
import { ShadowRunBook } from "./run-book.js";
import { SkipCounts } from "./skip-counts.js";
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

/** The hook: sampling and redaction here; runs (run-book.ts), queue bound (queue-budget.ts), counts (skip-counts.ts) and pairs (mirror.ts) in their own units. */
export function createTraffic(o: TrafficOptions): Traffic {
  const runs = new ShadowRunBook(o.store, o.config.deployments, o.configPath, o.shadowRun);
  const skips = new SkipCounts();
  const ctx: MirrorContext = { config: o.config, runs, budget: new QueueBudget(), skips, executor: o.executor };
  const flushCounts = () => skips.flush(runs, o.audit);
  const flusher = setInterval(() => void flushCounts().catch(() => {}), 1000);
  flusher.unref();
  const stopPurging = startPurging(o.config, o.store);
  const random = o.random ?? Math.random;
  return {
    async answered(a) {
      // Sampled first: a request neither captured nor mirrored costs two random numbers, not a parse of its answer.
      const captured = a.route.capture !== undefined && random() < a.route.capture.sample;
      const mirrored = a.route.shadow !== undefined && random() < a.route.shadow.sample;
      if ((!captured && !mirrored) || a.kind === "embeddings") return undefined;
      const primaryText = answerText(a.text);
      if (primaryText === undefined) return undefined;
      // An answer that cannot be redacted (more values than a request may carry) is neither captured nor mirrored; the caller still gets it.
      const redacted = await redactAnswer(o, primaryText).catch(() => undefined);
      if (redacted === undefined) return undefined;
      const statements: RowWrite[] = captured ? [captureStatement(a, redacted)] : [];
      const after = mirrored ? await mirrorSafely(ctx, a, { text: primaryText, redacted }, statements) : undefined;
      if (statements.length === 0) return undefined;
      return { statements, after: after ?? (() => {}) };
    },
    async close() {
      clearInterval(flusher);
      stopPurging();
      await o.executor.close(o.closeGraceMs ?? 10_000);
      await flushCounts().catch(() => {});
      await runs.finishAll();
    },
  };
}

/** Shadowing never fails the caller: a request whose shadow run could not be read is not mirrored (and adds no statement). */
async function mirrorSafely(ctx: MirrorContext, a: Answered, primary: PrimaryAnswer, statements: RowWrite[]): Promise<(() => void) | undefined> {
  try {
    const pair: RowWrite[] = [];
    const after = await mirror(ctx, a, primary, pair);
    statements.push(...pair);
    return after;
  } catch {
    return undefined;
  }
}

async function redactAnswer(o: TrafficOptions, text: string): Promise<string> {
  if (!o.detectTexts || text.length < LARGE_ANSWER) return redactAll(text, o.detectors);
  const [entities] = await o.detectTexts([text]);
  return redact(text, entities ?? []).redacted;
}

/** A captured sample: the request's messages and the answer, both redacted. */
function captureStatement(a: Answered, redacted: string): RowWrite {
  const row = captureRow({
    id: uuidV7(),
    route: a.route.model,
    time: new Date().toISOString(),
    deployment: a.deployment.id,
    messages: redactedMessages(a.kind, a.body, a.ins),
    answer: redacted,
    classes: a.ins.counts,
  });
  return captureWrite(row);
}

/** Captures past their route's retention are deleted (an indexed delete on the store's own connection), now and hourly; returns the stop. */
function startPurging(config: GatewayConfig, store: StoreHandle): () => void {
  const purge = () =>
    Promise.all(
      config.routes.flatMap((r) =>
        r.capture ? [purgeCaptures(store, r.model, new Date(Date.now() - r.capture.retentionDays * 86_400_000).toISOString())] : [],
      ),
    ).catch(() => {});
  void purge();
  const purger = setInterval(purge, 3_600_000);
  purger.unref();
  return () => clearInterval(purger);
}
