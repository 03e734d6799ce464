/**
 * One API request through the gateway, as a list of steps: key ring → route → shape → inspect
 * (every string scanned) → meter → router (policy, cool-downs) → forwarder (one attempt per
 * target) → answer scan → audit. Every way out of it commits an audit row before the caller is
 * answered; a client that got a complete answer (or `[DONE]`) has one.
 */

import type { Detector, Entity } from "../detect/index.js";
import { TooManyValues } from "../detect/index.js";
import { costPusd } from "../economics/index.js";
import { JsonText } from "../net/index.js";
import type { AuditAttempt, GatewayKey } from "../records/index.js";
import { type FindLong, type ScannedAnswer, scanWholeAnswer, type Usage } from "./answer-scan.js";
import { type AuditFields, type AuditLog, auditRow, sha256Hex } from "./audit-log.js";
import type { GatewayConfig, Route } from "./config.js";
import type { Forwarder } from "./forwarder.js";
import { type DetectTexts, type Inspection, inspectBody, redactBody, sentValuesOf, textLength } from "./inspect.js";
import { countTexts, JsonTooDeep } from "./json-walk.js";
import type { KeyRing } from "./keyring.js";
import type { Meter } from "./meter.js";
import { JSON_TYPE, openAiError, type Reply, retryAfterHeader, SSE_HEADERS, send } from "./replies.js";
import { type Kind, shapeProblem, unscannableTokenIds } from "./request-shape.js";
import type { ResponseScanOptions } from "./response-scan.js";
import type { Router, Target } from "./router.js";
import type { Traffic } from "./shadow/traffic.js";
import { StreamRelay } from "./stream-relay.js";

export interface GatewayUnits {
  config: GatewayConfig;
  detectors: readonly Detector[];
  detectAcross: DetectTexts;
  keys: KeyRing;
  meter: Meter;
  router: Router;
  forwarder: Forwarder;
  audit: AuditLog;
  /** Shadow mirroring and capture (routes with `shadow:` or `capture:`). */
  traffic?: Traffic;
}

export type ApiBody = Record<string, unknown>;

/**
 * The most strings and object keys a request may hold: each costs the shape check, the walk and
 * (for keys and structural fields) detection on the event loop. A 2,000-message conversation with
 * tools and content parts holds about 16,000; 20,000 keep the stall one request can cause near 0.2 s.
 */
const MAX_TEXTS = 20_000;

/** What every step knows about the request in flight. */
interface Ctx {
  kind: Kind;
  body: ApiBody;
  res: Reply;
  started: number;
  key: GatewayKey | undefined;
  routeName: string | null;
  /** Commit an audit row for this request (key, route and latency filled in). */
  record(f: AuditFields): Promise<void>;
}

export function createApiHandler(u: GatewayUnits) {
  return async (kind: Kind, authorization: string | undefined, res: Reply, body: ApiBody): Promise<void> => {
    const started = performance.now();
    const key = await u.keys.lookup(authorization);
    const routeName = typeof body.model === "string" ? body.model : null;
    const record = (f: AuditFields) => u.audit.record(auditRow(f, { key_name: key?.name ?? null, route: routeName, latency_ms: performance.now() - started }));
    const ctx: Ctx = { kind, body, res, started, key, routeName, record };
    if (!key) return unauthorised(ctx);
    const route = await admitRoute(u, ctx, key);
    if (!route) return;
    const ins = await inspect(u, ctx, route);
    if (!ins) return;
    const admitted = await u.meter.admit(key, Math.ceil(textLength(ins) / 4) + maxTokensOf(body));
    if (!admitted.ok) {
      await record({ classes: {}, action: "failed", status: 429 });
      return openAiError(
        res,
        429,
        admitted.message,
        "rate_limit_exceeded",
        {},
        admitted.retryAfterMs === undefined ? {} : retryAfterHeader(admitted.retryAfterMs),
      );
    }
    const routing = u.router.route(route, Object.keys(ins.counts));
    if (routing.action === "block") {
      await record({ classes: ins.counts, action: "blocked", status: 403 });
      return openAiError(res, 403, `blocked: ${routing.reason}`, "sensitive_data_blocked", { classes: routing.classes });
    }
    if (routing.action === "wait") {
      await record({ classes: ins.counts, action: "failed", status: 429 });
      const s = Math.ceil(routing.retryAfterMs / 1000);
      return openAiError(
        res,
        429,
        `every deployment route "${route.model}" may use is rate-limited upstream; retry after ${s} s`,
        "upstream_rate_limited",
        {},
        retryAfterHeader(routing.retryAfterMs),
      );
    }
    const action = routing.action === "accept" ? "accepted" : routing.action === "reroute" ? "rerouted" : "redacted";
    return forward(u, ctx, route, ins, routing.targets, action, admitted.settle);
  };
}

/**
 * The answer tokens a request may use, for the tpm estimate: a negative or infinite (`1e400`)
 * max_tokens would otherwise refill the key's bucket (the upstream refuses it, so nothing settles).
 */
function maxTokensOf(body: ApiBody): number {
  const m = body.max_tokens ?? body.max_completion_tokens;
  return typeof m === "number" && Number.isFinite(m) && m >= 0 ? m : 256;
}

/** Whole texts detected on the detect pool (off the event loop), one at a time. */
const findLongWith =
  (u: GatewayUnits): FindLong =>
  async (texts) => {
    const found = new Map<string, Entity[]>();
    for (const t of texts) if (!found.has(t)) found.set(t, (await u.detectAcross([t], u.detectors))[0] ?? []);
    return found;
  };

async function unauthorised(ctx: Ctx): Promise<void> {
  await ctx.record({ action: "unauthorised", status: 401 });
  openAiError(ctx.res, 401, "missing or invalid API key: send Authorization: Bearer KEY (create one with `weightbridge keys create`)", "invalid_api_key");
}

/** The request's route, if it exists and the key may use it; otherwise answered and audited. */
async function admitRoute(u: GatewayUnits, ctx: Ctx, key: GatewayKey): Promise<Route | undefined> {
  const route = u.config.routes.find((r) => r.model === ctx.routeName);
  if (!route) {
    await ctx.record({ action: "failed", status: 404 });
    openAiError(ctx.res, 404, `no route for model "${ctx.routeName}"; routes: ${u.config.routes.map((r) => r.model).join(", ")}`, "model_not_found");
    return undefined;
  }
  if (key.routes && !key.routes.includes(route.model)) {
    await ctx.record({ action: "unauthorised", status: 403 });
    openAiError(ctx.res, 403, `key "${key.name}" may not use route "${route.model}"`, "route_not_allowed");
    return undefined;
  }
  return route;
}

/** Every string of the body scanned; a shape the gateway does not understand is refused unless the route passes it. */
async function inspect(u: GatewayUnits, ctx: Ctx, route: Route): Promise<Inspection | undefined> {
  if (countTexts(ctx.body, MAX_TEXTS) > MAX_TEXTS) {
    await ctx.record({ action: "failed", status: 413 });
    openAiError(ctx.res, 413, `the request holds more than ${MAX_TEXTS} strings and keys; send fewer (split it into several requests)`, "request_too_complex");
    return undefined;
  }
  const problem = route.onUnknownShape === "pass" ? undefined : shapeProblem(ctx.kind, ctx.body);
  const tokenIds = route.onUnknownShape === "pass" || problem ? undefined : unscannableTokenIds(ctx.kind, ctx.body);
  if (tokenIds) {
    await ctx.record({ action: "failed", status: 400 });
    openAiError(
      ctx.res,
      400,
      `${tokenIds}; send the prompt as text, or set onUnknownShape: pass on route "${route.model}" to forward token ids unscanned`,
      "unscannable_request",
    );
    return undefined;
  }
  if (problem) {
    await ctx.record({ action: "failed", status: 400 });
    openAiError(
      ctx.res,
      400,
      `the gateway does not understand this request (${problem}); fix the request, or set onUnknownShape: pass on route "${route.model}" to forward shapes it does not know (every string is still scanned)`,
      "unknown_request_shape",
    );
    return undefined;
  }
  try {
    return await inspectBody(ctx.body, u.detectors, u.detectAcross);
  } catch (e) {
    if (e instanceof TooManyValues) {
      await ctx.record({ action: "failed", status: 413 });
      openAiError(ctx.res, 413, `${e.message}; split it into several requests`, "request_too_complex");
      return undefined;
    }
    if (!(e instanceof JsonTooDeep)) throw e;
    await ctx.record({ action: "failed", status: 400 });
    openAiError(ctx.res, 400, e.message, "invalid_request");
    return undefined;
  }
}

const costOf = (d: Target["deployment"], usage: Usage | undefined) =>
  usage && d.price ? costPusd(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0, d.price) : null;

type Action = "accepted" | "rerouted" | "redacted";
type Settle = (usage: Usage | undefined, cost: number | null) => void;

/** One target's attempt: the bytes sent and their hash, how its answer is scanned, and its audit rows. */
interface Attempt {
  deployment: Target["deployment"];
  inspection: Inspection;
  bytes: string;
  sha: string;
  scanOpts: ResponseScanOptions;
  /** The audit row of this attempt failing with `status` (written out, no spread: see auditRow). */
  failed(status: number): AuditFields;
  /** Settle the key's metering and commit the audit row of the answer served. */
  served(status: number, usage: Usage | undefined, responseClasses: Record<string, number> | null): Promise<void>;
}

/** Try the targets in order until one answers; audit what was sent where. */
async function forward(u: GatewayUnits, ctx: Ctx, route: Route, ins: Inspection, targets: Target[], action: Action, settle: Settle): Promise<void> {
  const stream = ctx.kind !== "embeddings" && ctx.body.stream === true;
  const sent = sentValuesOf(ins);
  const attempts: AuditAttempt[] = [];
  for (const t of targets) {
    const at = prepareAttempt(u, ctx, route, ins, t, { stream, sent, attempts, action, settle });
    if (await tryTarget(u, ctx, route, at, stream, attempts)) return;
  }
  await ctx.record({ classes: ins.counts, action: "failed", status: 502, attempts });
  const last = attempts[attempts.length - 1]?.error ?? "no target";
  return openAiError(ctx.res, 502, `every allowed target failed (last: ${last})`, "upstream_failed");
}

/** The body for target `t` (redacted as it requires, its model, `stream` as the gateway read it), serialised once and hashed. */
function prepareAttempt(
  u: GatewayUnits,
  ctx: Ctx,
  route: Route,
  ins: Inspection,
  t: Target,
  o: { stream: boolean; sent: ReturnType<typeof sentValuesOf>; attempts: AuditAttempt[]; action: Action; settle: Settle },
): Attempt {
  const { body } = ctx;
  const d = t.deployment;
  const redacted = redactBody(body, ins, t.redact);
  // `stream` as the gateway read it: an upstream that coerces "true" or 1 would otherwise stream an answer read as one text.
  const upstreamBody = {
    ...(redacted.body as ApiBody),
    model: d.model,
    ...("stream" in body ? { stream: o.stream } : {}),
    ...(o.stream ? { stream_options: { include_usage: true } } : {}),
  };
  const bytes = JSON.stringify(upstreamBody);
  const sha = sha256Hex(bytes);
  const scanOpts: ResponseScanOptions = {
    detectors: u.detectors,
    window: u.config.holdBack,
    redact: route.onSensitiveResponse === "redact",
    sent: o.sent,
    ...(route.restore && Object.keys(redacted.placeholders).length ? { placeholders: redacted.placeholders } : {}),
  };
  const bodies = u.config.audit.bodies;
  return {
    deployment: d,
    inspection: ins,
    bytes,
    sha,
    scanOpts,
    failed: (status) => ({ deployment: d.id, classes: ins.counts, upstream_sha256: sha, attempts: o.attempts, action: "failed", status }),
    served(status, usage, responseClasses) {
      const cost = costOf(d, usage);
      o.settle(usage, cost);
      return ctx.record({
        deployment: d.id,
        classes: ins.counts,
        upstream_sha256: sha,
        attempts: o.attempts,
        action: o.action,
        status,
        response_classes: responseClasses,
        input_tokens: usage?.prompt_tokens ?? null,
        output_tokens: usage?.completion_tokens ?? null,
        cost_pusd: cost,
        body: bodies === "full" ? JSON.stringify(body) : bodies === "redacted" ? bytes : null,
      });
    },
  };
}

/** Send one attempt and finish the request if it can be finished there; false: try the next target. */
async function tryTarget(u: GatewayUnits, ctx: Ctx, route: Route, at: Attempt, stream: boolean, attempts: AuditAttempt[]): Promise<boolean> {
  const { res, kind } = ctx;
  const d = at.deployment;
  const relay = stream ? new StreamRelay(kind, at.scanOpts, (data) => res.write(data)) : undefined;
  const a = await u.forwarder.send({
    deployment: d,
    kind,
    body: new JsonText(at.bytes), // the bytes hashed for the audit row are the bytes sent
    ...(res.whenGone ? { cancel: (abort: (reason: unknown) => void) => res.whenGone?.(abort) ?? (() => {}) } : {}),
    ...(relay ? { stream: { onStart: () => res.writeHead(200, SSE_HEADERS), onText: (piece: string) => relay.push(piece) } } : {}),
  });
  if (res.isGone) {
    // The client went away: the upstream request was abandoned, and no other target is tried for nobody.
    await ctx.record(at.failed(499));
    res.destroy();
    return true;
  }
  if (a.kind === "fallback") {
    attempts.push({ deployment: d.id, sha256: at.sha, error: a.error });
    if (a.retryAfterMs !== undefined) u.router.coolDown(d.id, a.retryAfterMs);
    return false; // the next target the data may reach
  }
  if (a.kind === "broken") {
    // The head is out: the answer cannot move to another target. End it (no [DONE]) and record the failure.
    await ctx.record(at.failed(502));
    res.end();
    return true;
  }
  if (a.kind === "streamed" && relay) {
    const responseClasses = relay.finish();
    await at.served(200, relay.usage, responseClasses); // committed before the client sees [DONE]
    res.end(relay.done ? "data: [DONE]\n\n" : undefined);
    return true;
  }
  if (a.kind !== "answer") return false;
  await answerWhole(u, ctx, route, at, a);
  return true;
}

/** A whole (not streamed) answer: scanned, withheld if it cannot be, else audited and sent; shadow traffic rides along. */
async function answerWhole(
  u: GatewayUnits,
  ctx: Ctx,
  route: Route,
  at: Attempt,
  a: { status: number; text: string; contentType?: string | undefined; contentEncoding?: string | undefined },
): Promise<void> {
  const { res, kind, body } = ctx;
  const d = at.deployment;
  let scanned: ScannedAnswer;
  try {
    scanned = await scanWholeAnswer(a.text, { contentType: a.contentType, contentEncoding: a.contentEncoding }, at.scanOpts, findLongWith(u));
  } catch (e) {
    if (!(e instanceof TooManyValues)) throw e;
    // A dump of more sensitive values than a request may carry: withheld whatever the route says.
    await ctx.record(at.failed(502));
    return openAiError(res, 502, `the answer of ${d.id} was withheld: ${e.message.replace("the request", "it")}`, "unscannable_response");
  }
  if (!scanned.scanned) {
    if (route.onUnscannableResponse !== "pass") {
      await ctx.record(at.failed(502));
      return openAiError(res, 502, `the answer of ${d.id} was withheld: ${scanned.reason}, so it could not be scanned`, "unscannable_response");
    }
    await at.served(a.status, undefined, null);
    return send(res, a.status, a.contentType ?? "application/octet-stream", a.text);
  }
  // Shadow pairs and captures: their rows are committed with the audit row, mirroring starts once the caller is answered.
  const kept =
    u.traffic && (route.shadow || route.capture) && a.status < 300
      ? await u.traffic.answered({
          route,
          kind,
          body,
          ins: at.inspection,
          deployment: d,
          text: scanned.text,
          usage: scanned.usage,
          costPusd: costOf(d, scanned.usage),
          latencyMs: performance.now() - ctx.started,
        })
      : undefined;
  await Promise.all([at.served(a.status, scanned.usage, scanned.counts), kept && u.audit.statements(kept.statements)]);
  send(res, a.status, a.contentType ?? JSON_TYPE, scanned.text);
  kept?.after();
}
