/**
 * Runs mirrored requests: one queue per shadow deployment (lanes.ts), each job sent through the
 * gateway's forwarder, its answer read as text and detected once (the stored copy holds
 * placeholders, the audit row counts), compared with the primary's answer, and its half of the pair
 * committed with an audit row. Jobs are plain data (the upstream body already decided by the
 * policy on the gateway's side), so the executor can run on its own thread (shadow-worker.ts).
 */
import type { Detector } from "../../detect/index.js";
import { costPusd } from "../../economics/index.js";
import { resultWrite } from "../../store/index.js";
import { parseDurationMs } from "../../util/duration.js";
import { unscannableReason } from "../answer-scan.js";
import { type AuditLog, auditRow, sha256Hex } from "../audit-log.js";
import type { Deployment, GatewayConfig, ShadowCompare } from "../config.js";
import type { Forwarder } from "../forwarder.js";
import type { Kind } from "../request-shape.js";
import { type Compared, comparePair, type Helpers } from "./compare.js";
import { gatewayHelpers } from "./helpers.js";
import { ShadowLanes } from "./lanes.js";
import { halfRow } from "./rows.js";
import { answerText, redactCounting, usageOf } from "./texts.js";

export interface ShadowJob {
  route: string;
  deployment: string;
  kind: Kind;
  /** The body exactly as this deployment may receive it (redacted per the route's policy), model set. */
  body: Record<string, unknown>;
  classes: Record<string, number>;
  primaryText: string;
  primaryRedacted: string;
  question: string;
  half: { runId: string; route: string; caseIndex: number; messagesJson: string };
}

export interface ShadowExecutor {
  /** Queue a job; `onStart` is called when it leaves the queue. */
  run(job: ShadowJob, onStart: () => void): void;
  /** Let the queues drain for at most `graceMs`; what has not started is dropped (its pair stays missing). */
  close(graceMs: number): Promise<void>;
}

interface ExecutorOptions {
  config: GatewayConfig;
  detectors: readonly Detector[];
  forwarder: Forwarder;
  audit: AuditLog;
}

/** The lanes and the comparison helpers of each route, around `executeJob`. */
export function createShadowExecutor(o: ExecutorOptions): ShadowExecutor {
  const lanes = new ShadowLanes();
  const helpers = new Map<string, Helpers>();
  const helpersOf = (route: string) => {
    let h = helpers.get(route);
    if (!h) {
      h = gatewayHelpers(o.config.deployments, o.forwarder, o.audit, route);
      helpers.set(route, h);
    }
    return h;
  };
  return {
    run(job, onStart) {
      const d = o.config.deployments.find((x) => x.id === job.deployment);
      if (!d) return onStart();
      lanes.push(d, () => {
        onStart();
        return executeJob(o, job, helpersOf).catch(() => {
          /* a failed store write leaves the pair incomplete: reported as missing */
        });
      });
    },
    close: async (graceMs) => {
      await lanes.close(graceMs);
    },
  };
}

/** What the shadow deployment answered, read: its text and usage, its stored (redacted) copy, or why there is none. */
interface ShadowAnswer {
  status: number;
  latencyMs: number;
  error: string | null;
  text: string | undefined;
  usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
  stored: { redacted: string; counts: Record<string, number> } | undefined;
}

/** One job: send → read → audit → compare → commit the shadow half. */
export async function executeJob(o: ExecutorOptions, j: ShadowJob, helpersOf: (route: string) => Helpers): Promise<void> {
  const d = o.config.deployments.find((x) => x.id === j.deployment);
  const route = o.config.routes.find((r) => r.model === j.route);
  if (!d || !route) return;
  const bytes = JSON.stringify(j.body);
  const answer = await sendAndRead(o, d, j);
  const usage = answer.usage;
  const cost = usage && d.price ? costPusd(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0, d.price) : null;
  const auditing = o.audit.record(
    auditRow({
      route: `${j.route} (shadow)`,
      deployment: d.id,
      classes: j.classes,
      response_classes: answer.stored?.counts ?? null,
      action: "shadow",
      status: answer.status,
      input_tokens: usage?.prompt_tokens ?? null,
      output_tokens: usage?.completion_tokens ?? null,
      cost_pusd: cost,
      latency_ms: answer.latencyMs,
      upstream_sha256: sha256Hex(bytes),
    }),
  );
  const { graded, error } = await grade(route.shadow?.compare ?? [{ type: "equals" }], j, answer, () => helpersOf(j.route));
  const row = halfRow({
    ...j.half,
    deployment: d.id,
    output: answer.stored?.redacted ?? null,
    ...graded,
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    costPusd: cost,
    latencyMs: answer.latencyMs,
    error,
    createdAt: new Date().toISOString(),
  });
  await Promise.all([auditing, o.audit.statements([resultWrite(row)])]);
}

/** Sends the job through the forwarder, bounded by the deployment's timeout, and reads the answer. */
async function sendAndRead(o: ExecutorOptions, d: Deployment, j: ShadowJob): Promise<ShadowAnswer> {
  const started = performance.now();
  // The deployment's timeout bounds the whole answer here, not only its head: an upstream that sends
  // its head and then trickles (or never ends) the body would hold a lane slot for ever.
  const ms = parseDurationMs(d.timeout, `deployment ${d.id} timeout`);
  const cancel = (abort: (reason: unknown) => void) => {
    const t = setTimeout(() => abort(new Error(`the whole answer took over ${ms} ms`)), ms);
    return () => clearTimeout(t);
  };
  const sent = await o.forwarder.send({ deployment: d, kind: j.kind, body: j.body, cancel });
  const latencyMs = performance.now() - started;
  const none = { text: undefined, usage: undefined, stored: undefined };
  if (sent.kind !== "answer") return { status: 502, latencyMs, error: sent.kind === "streamed" ? "answered with a stream" : sent.error, ...none };
  const status = sent.status;
  if (status >= 300) return { status, latencyMs, error: `HTTP ${status} from ${d.id}`, ...none };
  // Never shown to a caller: read as text (or refused as unscannable), then detected once, for the stored copy and the audit counts.
  const why = unscannableReason(sent.contentType, sent.contentEncoding);
  if (why !== undefined) return { status, latencyMs, error: `the answer of ${d.id} could not be scanned: ${why}`, ...none };
  const text = answerText(sent.text);
  if (text === undefined) return { status, latencyMs, error: `the answer of ${d.id} holds no text`, ...none };
  return { status, latencyMs, error: null, text, usage: usageOf(sent.text), stored: redactCounting(text, o.detectors) };
}

/** The shadow answer compared with the primary's; a comparison that fails fails the pair, the gateway goes on. */
async function grade(
  compare: readonly ShadowCompare[],
  j: ShadowJob,
  answer: ShadowAnswer,
  helpers: () => Helpers,
): Promise<{ graded: Compared; error: string | null }> {
  const graded: Compared = { grades: [], score: 0, passed: false };
  if (answer.text === undefined || !answer.stored || answer.error !== null) return { graded, error: answer.error };
  try {
    const pair = {
      primary: j.primaryText,
      shadow: answer.text,
      primaryRedacted: j.primaryRedacted,
      shadowRedacted: answer.stored.redacted,
      question: j.question,
    };
    return { graded: await comparePair(compare, pair, helpers()), error: null };
  } catch (e) {
    // A judge that cannot be reached or read, an embedding of the wrong length: the pair is failed, the gateway goes on.
    return { graded, error: `comparison failed: ${(e as Error).message}` };
  }
}
