/**
 * The gateway's HTTP front door: OpenAI-compatible chat, completions and embeddings with data-class
 * policy on requests (block / reroute / redact), answers scanned too (streams through a hold-back
 * window, see response-scan.ts), fallback across the targets the data may reach, Bearer keys stored
 * as hashes with rpm/tpm limits and USD budgets (429s), and one audit row per request written before
 * the response is complete.
 */
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { costPusd } from "../economics/money.js";
import { closeAgents, createHttpServer, type PoolRegistry, parseRetryAfter, postJson, type Reply, type InboundRequest as Request } from "../net/index.js";
import { auditWriter } from "../store/audit-writer.js";
import { startCheckpointer } from "../store/checkpointer.js";
import { type AuditRow, findKey, type GatewayKey, listKeys } from "../store/gateway.js";
import type { StoreHandle } from "../store/open.js";
import { parseDurationMs } from "../util/duration.js";
import { UserError } from "../util/errors.js";
import { isoNow } from "../util/iso-now.js";
import { TokenBucket } from "../util/token-bucket.js";
import type { Deployment, GatewayConfig } from "./config.js";
import { buildDetectors, detect, newRedactState, redact } from "./detect/redact.js";
import { createMetrics } from "./metrics.js";
import { decide } from "./policy.js";
import { type ResponseScanOptions, sentValues } from "./response-scan.js";
import { type Choice, type Kind, StreamRelay, scanChoices, type Usage } from "./stream-relay.js";

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

interface ChatMessage {
  role: string;
  content: unknown;
}

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join("\n")
      : "";

const UPSTREAM_PATH: Record<Kind, string> = { chat: "/chat/completions", completions: "/completions", embeddings: "/embeddings" };

/** The texts of a request that are scanned, and how to put redacted texts back. */
interface Extracted {
  texts: string[];
  rebuild(texts: string[]): Record<string, unknown>;
}

function extract(kind: Kind, body: Record<string, unknown>): Extracted | string {
  if (kind === "chat") {
    if (!Array.isArray(body.messages)) return "messages must be an array";
    const messages = body.messages as ChatMessage[];
    return {
      texts: messages.map((m) => textOf(m.content)),
      rebuild: (texts) => ({ ...body, messages: messages.map((m, i) => (typeof m.content === "string" ? { ...m, content: texts[i] } : m)) }),
    };
  }
  const field = kind === "completions" ? "prompt" : "input";
  const v = body[field];
  if (typeof v === "string") return { texts: [v], rebuild: (t) => ({ ...body, [field]: t[0] }) };
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return { texts: v as string[], rebuild: (t) => ({ ...body, [field]: t }) };
  if (Array.isArray(v)) return { texts: [], rebuild: () => body }; // token ids: nothing to scan
  return `${field} must be a string or an array of strings`;
}

const JSON_TYPE = "application/json; charset=utf-8";

function send(res: Reply, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

const sendJson = (res: Reply, status: number, body: string, headers: Record<string, string> = {}) => send(res, status, JSON_TYPE, body, headers);

function openAiError(
  res: Reply,
  status: number,
  message: string,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const type = status === 401 ? "authentication_error" : status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, JSON.stringify({ error: { message, type, code, param: null, ...extra } }), headers);
}

const BODY_LIMIT = 8 * 1024 * 1024;

export async function startGateway(o: { config: GatewayConfig; store: StoreHandle; host?: string; port?: number }): Promise<Gateway> {
  const { config, store } = o;
  const detectors = buildDetectors({ custom: config.classes });
  let keys: GatewayKey[] = await listKeys(store.db);
  let keysAt = Date.now();
  /** SHA-256 of the keys seen lately (the hash, not the key, is what is stored and compared). */
  const hashes = new Map<string, string>();
  const hashOf = (token: string): string => {
    let h = hashes.get(token);
    if (h === undefined) {
      if (hashes.size >= 10_000) hashes.clear(); // bounded: random bearer tokens must not grow memory
      h = hashKey(token);
      hashes.set(token, h);
    }
    return h;
  };
  const keyFor = async (auth: string | undefined): Promise<GatewayKey | undefined> => {
    const m = /^Bearer\s+(\S+)$/i.exec(auth ?? "");
    if (!m) return undefined;
    const h = hashOf(m[1] as string);
    let k = keys.find((x) => x.keyHash === h);
    if (Date.now() - keysAt > 2000) {
      keys = await listKeys(store.db); // revocations and limit changes take effect within seconds
      keysAt = Date.now();
      k = keys.find((x) => x.keyHash === h);
    } else if (!k) {
      // A key created since the last reload: one indexed lookup, not a reload of every key.
      k = await findKey(store.db, h);
      if (k) keys = [...keys, k];
    }
    return k && !k.revokedAt ? k : undefined;
  };
  /** Per key: request and token buckets, and what it has spent (pico-USD, from the audit trail). */
  const limits = new Map<string, { rpm?: TokenBucket; tpm?: TokenBucket; spentPusd: number }>();
  const limitsFor = async (k: GatewayKey) => {
    let l = limits.get(k.name);
    if (!l) {
      const spent = await store.db
        .selectFrom("gateway_audit")
        .select(sql<number | null>`sum(cost_pusd)`.as("s"))
        .where("key_name", "=", k.name)
        .executeTakeFirst();
      l = {
        ...(k.rpm ? { rpm: new TokenBucket(k.rpm, k.rpm) } : {}),
        ...(k.tpm ? { tpm: new TokenBucket(k.tpm, k.tpm) } : {}),
        spentPusd: Number(spent?.s ?? 0),
      };
      limits.set(k.name, l);
    }
    return l;
  };
  const metrics = createMetrics();
  const upstreams: PoolRegistry = new Map();
  /** Deployments that answered 429/503 with Retry-After are skipped until then (while another may serve). */
  const coolingUntil = new Map<string, number>();
  const timeoutMs = new Map(config.deployments.map((d) => [d.id, parseDurationMs(d.timeout, `deployment ${d.id} timeout`)]));
  const audit = (a: AuditRow) => {
    metrics.observe(a);
    return auditInsert(a);
  };
  const checkpointer = startCheckpointer(store);
  const auditLog = auditWriter(store);
  const auditInsert = auditLog.write;
  const base = (key: GatewayKey | undefined, route: string | null): Omit<AuditRow, "action" | "status" | "classes"> => ({
    time: isoNow(),
    key_name: key?.name ?? null,
    route,
    deployment: null,
    input_tokens: null,
    output_tokens: null,
    cost_pusd: null,
    latency_ms: null,
    body: null,
  });

  const unauthorised = async (reply: Reply, routeName: string | null) => {
    await audit({ ...base(undefined, routeName), classes: {}, action: "unauthorised", status: 401 });
    openAiError(reply, 401, "missing or invalid API key: send Authorization: Bearer KEY (create one with `weightbridge keys create`)", "invalid_api_key");
  };
  /** A request refused before it could be read as one (bad JSON, wrong type, too large): audited as failed. */
  const malformed = async (req: Request, reply: Reply, status: number, message: string, code: string) => {
    const key = await keyFor(req.headers.authorization);
    if (!key) return unauthorised(reply, null);
    await audit({ ...base(key, null), classes: {}, action: "failed", status });
    openAiError(reply, status, message, code);
  };
  const handle = async (kind: Kind, req: Request, reply: Reply, body: Record<string, unknown> & { model?: unknown; stream?: unknown }) => {
    const started = performance.now();
    const key = await keyFor(req.headers.authorization);
    const routeName = typeof body.model === "string" ? body.model : null;
    if (!key) return unauthorised(reply, routeName);
    const route = config.routes.find((r) => r.model === routeName);
    const ex = extract(kind, body);
    if (!route || typeof ex === "string") {
      await audit({ ...base(key, routeName), classes: {}, action: "failed", status: route ? 400 : 404 });
      return route
        ? openAiError(reply, 400, String(ex), "invalid_request")
        : openAiError(reply, 404, `no route for model "${routeName}"; routes: ${config.routes.map((r) => r.model).join(", ")}`, "model_not_found");
    }
    if (key.routes && !key.routes.includes(route.model)) {
      await audit({ ...base(key, route.model), classes: {}, action: "unauthorised", status: 403 });
      return openAiError(reply, 403, `key "${key.name}" may not use route "${route.model}"`, "route_not_allowed");
    }
    const lim = await limitsFor(key);
    const limited = async (message: string, retryAfterMs?: number) => {
      await audit({ ...base(key, route.model), classes: {}, action: "failed", status: 429, latency_ms: performance.now() - started });
      const headers: Record<string, string> = retryAfterMs === undefined ? {} : { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
      return openAiError(reply, 429, message, "rate_limit_exceeded", {}, headers);
    };
    if (key.budgetUsd !== null && lim.spentPusd / 1e12 >= key.budgetUsd)
      return limited(`key "${key.name}" has spent its budget of $${key.budgetUsd} ($${(lim.spentPusd / 1e12).toFixed(6)} metered)`);
    if (lim.rpm) {
      const t = lim.rpm.tryTake(1);
      if (!t.ok) return limited(`key "${key.name}" is limited to ${key.rpm} requests per minute`, t.retryAfterMs);
    }
    const estTokens =
      Math.ceil(ex.texts.reduce((a, t) => a + t.length, 0) / 4) +
      (typeof (body as { max_tokens?: unknown }).max_tokens === "number" ? (body as { max_tokens: number }).max_tokens : 256);
    if (lim.tpm) {
      const t = lim.tpm.tryTake(estTokens);
      if (!t.ok) return limited(`key "${key.name}" is limited to ${key.tpm} tokens per minute`, t.retryAfterMs);
    }
    /** Settle metering once the real usage is known. */
    const meter = (usage: { prompt_tokens?: number; completion_tokens?: number } | undefined, cost: number | null) => {
      if (usage) lim.tpm?.adjust((usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0) - estTokens);
      if (cost) lim.spentPusd += cost;
      return cost;
    };
    const perMessage = ex.texts.map((text) => ({ text, entities: detect(text, detectors) }));
    const counts: Record<string, number> = {};
    for (const p of perMessage) for (const e of p.entities) counts[e.type] = (counts[e.type] ?? 0) + 1;
    const decision = decide(route, config.deployments, Object.keys(counts));
    if (decision.action === "block") {
      await audit({ ...base(key, route.model), classes: counts, action: "blocked", status: 403, latency_ms: performance.now() - started });
      return openAiError(reply, 403, `blocked: ${decision.reason}`, "sensitive_data_blocked", { classes: decision.classes });
    }
    const stream = kind !== "embeddings" && body.stream === true;
    let lastError = "no target";
    let streaming = false;
    const sent = sentValues(
      perMessage.map((p) => p.text),
      perMessage.map((p) => p.entities),
    );
    const now = Date.now();
    const ready = decision.targets.filter((t) => (coolingUntil.get(t.deployment.id) ?? 0) <= now);
    if (ready.length === 0) {
      // Every target the data may reach asked us to wait: pass that on rather than hammer them.
      const waitMs = Math.min(...decision.targets.map((t) => (coolingUntil.get(t.deployment.id) ?? now) - now));
      await audit({ ...base(key, route.model), classes: counts, action: "failed", status: 429, latency_ms: performance.now() - started });
      return openAiError(
        reply,
        429,
        `every deployment route "${route.model}" may use is rate-limited upstream; retry after ${Math.ceil(waitMs / 1000)} s`,
        "upstream_rate_limited",
        {},
        { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) },
      );
    }
    for (const t of ready) {
      const placeholders: Record<string, string> = {};
      const state = newRedactState(); // one numbering across the request's texts
      const outTexts = perMessage.map((p) => {
        if (t.redact.length === 0) return p.text;
        const r = redact(p.text, p.entities, (e) => !t.redact.includes(e.type), state);
        Object.assign(placeholders, r.placeholders);
        return r.redacted;
      });
      const rebuilt = t.redact.length ? ex.rebuild(outTexts) : body;
      const upstreamBody = { ...rebuilt, model: t.deployment.model, ...(stream ? { stream_options: { include_usage: true } } : {}) };
      const action = decision.action === "accept" ? "accepted" : decision.action === "reroute" ? "rerouted" : "redacted";
      try {
        const scanOpts: ResponseScanOptions = {
          detectors,
          window: config.holdBack,
          redact: route.onSensitiveResponse === "redact",
          sent,
          ...(route.restore && Object.keys(placeholders).length ? { placeholders } : {}),
        };
        const bodiesFor = config.audit.bodies === "full" ? JSON.stringify(ex.texts) : config.audit.bodies === "redacted" ? JSON.stringify(outTexts) : null;
        /** The audit row (and metering) of an answered request. */
        const served = (status: number, usage: Usage | undefined, responseClasses: Record<string, number> | null) =>
          audit({
            response_classes: responseClasses,
            ...base(key, route.model),
            deployment: t.deployment.id,
            classes: counts,
            action,
            status,
            input_tokens: usage?.prompt_tokens ?? null,
            output_tokens: usage?.completion_tokens ?? null,
            cost_pusd: meter(usage, usage && t.deployment.price ? costPusd(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0, t.deployment.price) : null),
            latency_ms: performance.now() - started,
            body: bodiesFor,
          });
        // A 2xx event stream is relayed as it arrives (headers go out with its first bytes);
        // anything else is read whole, so that 5xx/429 can still fall back.
        const relay = stream ? new StreamRelay(kind, scanOpts, (data) => reply.write(data)) : undefined;
        const target = upstreamOf(t.deployment);
        const res = await postJson(target.urls[kind], upstreamBody, {
          headers: target.headers,
          connections: 256,
          pools: upstreams,
          timeoutMs: timeoutMs.get(t.deployment.id) ?? 120_000,
          timeoutUntilHeaders: true,
          ...(relay
            ? {
                onStreamText: (piece: string) => {
                  if (!streaming) {
                    streaming = true;
                    reply.writeHead(200, SSE_HEADERS);
                  }
                  relay.push(piece);
                },
              }
            : {}),
        });
        if (relay && res.streamed) {
          if (!streaming) {
            streaming = true;
            reply.writeHead(200, SSE_HEADERS);
          }
          const responseClasses = relay.finish();
          await served(200, relay.usage, responseClasses);
          reply.end();
          return;
        }
        if (res.status === 429 || res.status >= 500) {
          lastError = `HTTP ${res.status} from ${t.deployment.id}`;
          const wait = parseRetryAfter(res.headers);
          if (wait !== undefined && (res.status === 429 || res.status === 503)) coolingUntil.set(t.deployment.id, Date.now() + Math.min(wait, 600_000));
          continue; // fall back to the next target the data may reach
        }
        let out = res.text;
        let usage: Usage | undefined;
        let responseClasses: Record<string, number> | null = null;
        try {
          const j = JSON.parse(res.text) as { usage?: Usage; choices?: Choice[] };
          usage = j.usage;
          if (kind !== "embeddings" && res.status < 400) {
            const scanned = scanChoices(kind, j, scanOpts);
            responseClasses = scanned.counts;
            if (scanned.changed) out = JSON.stringify(j);
          }
        } catch {
          /* not JSON: pass through */
        }
        await served(res.status, usage, responseClasses);
        return sendJson(reply, res.status, out);
      } catch (e) {
        lastError = `${t.deployment.id}: ${(e as Error).message}`;
        if (streaming) {
          // Headers are out: the answer cannot move to another target. End it and record the failure.
          await audit({
            ...base(key, route.model),
            deployment: t.deployment.id,
            classes: counts,
            action: "failed",
            status: 502,
            latency_ms: performance.now() - started,
          });
          reply.end();
          return;
        }
      }
    }
    await audit({ ...base(key, route.model), classes: counts, action: "failed", status: 502, latency_ms: performance.now() - started });
    return openAiError(reply, 502, `every allowed target failed (last: ${lastError})`, "upstream_failed");
  };
  const models = JSON.stringify({ object: "list", data: config.routes.map((r) => ({ id: r.model, object: "model", owned_by: "weightbridge-gateway" })) });
  const onError = (reply: Reply, e: unknown) => {
    if (!reply.headersSent) openAiError(reply, 500, `gateway error: ${(e as Error).message}`, "internal_error");
    else reply.destroy();
  };
  const onRequest = (req: Request, reply: Reply) => {
    const q = req.url.indexOf("?");
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const kind = POST_PATHS[path];
    if (kind && req.method === "POST") {
      const type = req.headers["content-type"];
      const refuse = (status: number, message: string, code: string) => void malformed(req, reply, status, message, code).catch((e) => onError(reply, e));
      if (req.tooLarge) return refuse(413, `the request body is over ${BODY_LIMIT / 1024 / 1024} MiB`, "request_too_large");
      if (type !== undefined && !/\bjson\b/i.test(type)) return refuse(415, `send the body as application/json, not ${type}`, "unsupported_media_type");
      let body: unknown;
      try {
        body = req.body.length === 0 ? {} : JSON.parse(req.body.toString("utf8"));
      } catch (e) {
        return refuse(400, `the body is not valid JSON: ${(e as Error).message}`, "invalid_json");
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) return refuse(400, "the body must be a JSON object", "invalid_request");
      return void handle(kind, req, reply, body as Record<string, unknown>).catch((e) => onError(reply, e));
    }
    if (req.method === "GET" || req.method === "HEAD") {
      if (path === "/healthz") return sendJson(reply, 200, '{"ok":true}');
      if (path === "/v1/models") return sendJson(reply, 200, models);
      if (path === "/metrics")
        return void metrics.registry.metrics().then(
          (text) => send(reply, 200, metrics.registry.contentType, text),
          (e) => onError(reply, e),
        );
    }
    const known = kind !== undefined || GET_PATHS.has(path);
    if (known) return openAiError(reply, 405, `${req.method} is not allowed on ${path}`, "method_not_allowed", {}, { allow: kind ? "POST" : "GET" });
    openAiError(reply, 404, `no such endpoint: ${req.method} ${path}`, "not_found");
  };
  const lean = createHttpServer({ bodyLimit: BODY_LIMIT, keepAliveMs: 72_000, onRequest });
  const server = lean.server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    // Not serving: stop the threads started for it, so the process can end with the error.
    await auditLog.close();
    await checkpointer?.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") throw new UserError(`cannot listen on ${o.host ?? "127.0.0.1"}:${o.port ?? 0}: the address is in use (another gateway?)`);
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: async () => {
      await lean.close();
      await closeAgents(upstreams);
      await auditLog.close();
      await checkpointer?.close();
    },
  };
}

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };
const GET_PATHS = new Set(["/healthz", "/v1/models", "/metrics"]);
const POST_PATHS: Record<string, Kind | undefined> = { "/v1/chat/completions": "chat", "/v1/completions": "completions", "/v1/embeddings": "embeddings" };

/** Each deployment's endpoint URLs and headers, parsed once (not on every request). */
const endpoints = new WeakMap<Deployment, { urls: Record<Kind, URL>; headers: Record<string, string> }>();
function upstreamOf(d: Deployment): { urls: Record<Kind, URL>; headers: Record<string, string> } {
  let u = endpoints.get(d);
  if (!u) {
    const base = d.baseUrl.replace(/\/+$/, "");
    const key = d.apiKeyEnv ? process.env[d.apiKeyEnv] : undefined;
    u = {
      urls: Object.fromEntries(Object.entries(UPSTREAM_PATH).map(([kind, path]) => [kind, new URL(`${base}${path}`)])) as Record<Kind, URL>,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    };
    endpoints.set(d, u);
  }
  return u;
}
