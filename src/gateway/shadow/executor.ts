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
import type { GatewayConfig } from "../config.js";
import type { Forwarder } from "../forwarder.js";
import type { Kind } from "../request-shape.js";
import { comparePair, type Helpers } from "./compare.js";
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

export function createShadowExecutor(o: { config: GatewayConfig; detectors: readonly Detector[]; forwarder: Forwarder; audit: AuditLog }): ShadowExecutor {
  const { config, detectors, forwarder, audit } = o;
  const lanes = new ShadowLanes();
  const helpers = new Map<string, Helpers>();
  const helpersOf = (route: string) => {
    let h = helpers.get(route);
    if (!h) {
      h = gatewayHelpers(config.deployments, forwarder, audit, route);
      helpers.set(route, h);
    }
    return h;
  };

  async function execute(j: ShadowJob): Promise<void> {
    const d = config.deployments.find((x) => x.id === j.deployment);
    const route = config.routes.find((r) => r.model === j.route);
    if (!d || !route) return;
    const bytes = JSON.stringify(j.body);
    const started = performance.now();
    // The deployment's timeout bounds the whole answer here, not only its head: an upstream that sends
    // its head and then trickles (or never ends) the body would hold a lane slot for ever.
    const ms = parseDurationMs(d.timeout, `deployment ${d.id} timeout`);
    const cancel = (abort: (reason: unknown) => void) => {
      const t = setTimeout(() => abort(new Error(`the whole answer took over ${ms} ms`)), ms);
      return () => clearTimeout(t);
    };
    const sent = await forwarder.send({ deployment: d, kind: j.kind, body: j.body, cancel });
    const latencyMs = performance.now() - started;
    let error: string | null = null;
    let text: string | undefined;
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    let stored: { redacted: string; counts: Record<string, number> } | undefined;
    if (sent.kind !== "answer") error = sent.kind === "streamed" ? "answered with a stream" : sent.error;
    else if (sent.status >= 300) error = `HTTP ${sent.status} from ${d.id}`;
    else {
      // Never shown to a caller: read as text (or refused as unscannable), then detected once, for the stored copy and the audit counts.
      const why = unscannableReason(sent.contentType, sent.contentEncoding);
      text = why === undefined ? answerText(sent.text) : undefined;
      if (why !== undefined) error = `the answer of ${d.id} could not be scanned: ${why}`;
      else if (text === undefined) error = `the answer of ${d.id} holds no text`;
      else {
        usage = usageOf(sent.text);
        stored = redactCounting(text, detectors);
      }
    }
    const cost = usage && d.price ? costPusd(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0, d.price) : null;
    const auditing = audit.record(
      auditRow({
        route: `${j.route} (shadow)`,
        deployment: d.id,
        classes: j.classes,
        response_classes: stored?.counts ?? null,
        action: "shadow",
        status: sent.kind === "answer" ? sent.status : 502,
        input_tokens: usage?.prompt_tokens ?? null,
        output_tokens: usage?.completion_tokens ?? null,
        cost_pusd: cost,
        latency_ms: latencyMs,
        upstream_sha256: sha256Hex(bytes),
      }),
    );
    let graded = { grades: [] as { type: string; score: number; pass: boolean; detail?: Record<string, unknown> }[], score: 0, passed: false };
    if (text !== undefined && stored && error === null) {
      try {
        graded = await comparePair(
          route.shadow?.compare ?? [{ type: "equals" }],
          { primary: j.primaryText, shadow: text, primaryRedacted: j.primaryRedacted, shadowRedacted: stored.redacted, question: j.question },
          helpersOf(j.route),
        );
      } catch (e) {
        // A judge that cannot be reached or read, an embedding of the wrong length: the pair is failed, the gateway goes on.
        error = `comparison failed: ${(e as Error).message}`;
      }
    }
    const row = halfRow({
      ...j.half,
      deployment: d.id,
      output: stored?.redacted ?? null,
      ...graded,
      inputTokens: usage?.prompt_tokens ?? 0,
      outputTokens: usage?.completion_tokens ?? 0,
      costPusd: cost,
      latencyMs,
      error,
      createdAt: new Date().toISOString(),
    });
    await Promise.all([auditing, audit.statements([resultWrite(row)])]);
  }

  return {
    run(job, onStart) {
      const d = config.deployments.find((x) => x.id === job.deployment);
      if (!d) return onStart();
      lanes.push(d, () => {
        onStart();
        return execute(job).catch(() => {
          /* a failed store write leaves the pair incomplete: reported as missing */
        });
      });
    },
    close: async (graceMs) => {
      await lanes.close(graceMs);
    },
  };
}
