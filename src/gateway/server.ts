/**
 * The gateway's HTTP front door: OpenAI-compatible chat, completions and embeddings with data-class
 * policy on requests (block / reroute / redact), answers scanned too (streams through a hold-back
 * window, see response-scan.ts), fallback across the targets the data may reach, Bearer keys stored
 * as hashes with rpm/tpm limits and USD budgets (429s), and one audit row per request written before
 * the response is complete.
 */
import { createHash } from "node:crypto";
import Fastify, { type FastifyReply } from "fastify";
import { sql } from "kysely";
import { Agent, request } from "undici";
import { costPusd } from "../economics/money.js";
import { SseDecoder } from "../providers/sse.js";
import { type AuditRow, auditValues, type GatewayKey, listKeys } from "../store/gateway.js";
import type { StoreHandle } from "../store/open.js";
import { TokenBucket } from "../util/token-bucket.js";
import type { Deployment, GatewayConfig } from "./config.js";
import { buildDetectors, detect, newRedactState, redact } from "./detect/redact.js";
import { createMetrics } from "./metrics.js";
import { decide } from "./policy.js";
import { ResponseScanner, type ResponseScanOptions, sentValues } from "./response-scan.js";

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

type Kind = "chat" | "completions" | "embeddings";
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

type Choice = { index?: number; message?: { content?: unknown }; delta?: { content?: unknown }; text?: unknown; finish_reason?: unknown };

/** Where a choice keeps its text: message (chat), delta (streamed chat) or the choice (completions). */
function textHolder(kind: Kind, c: Choice, streamed: boolean): { content?: unknown; text?: unknown } | undefined {
  if (kind === "completions") return c;
  return streamed ? c.delta : c.message;
}
const textKey = (kind: Kind) => (kind === "completions" ? "text" : "content");

/** Scan (and redact, restore) the text of every choice of a whole answer. */
function scanChoices(kind: Kind, j: { choices?: Choice[] }, o: ResponseScanOptions): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of j.choices ?? []) {
    const h = textHolder(kind, c, false) as Record<string, unknown> | undefined;
    const k = textKey(kind);
    if (!h || typeof h[k] !== "string") continue;
    const s = new ResponseScanner(o);
    h[k] = s.push(h[k] as string) + s.flush();
    for (const [t, n] of Object.entries(s.counts)) counts[t] = (counts[t] ?? 0) + n;
  }
  return counts;
}

function openAiError(reply: FastifyReply, status: number, message: string, code: string, extra: Record<string, unknown> = {}) {
  return reply.code(status).send({ error: { message, type: status === 401 ? "authentication_error" : "invalid_request_error", code, param: null, ...extra } });
}

export async function startGateway(o: { config: GatewayConfig; store: StoreHandle; host?: string; port?: number }): Promise<Gateway> {
  const { config, store } = o;
  const detectors = buildDetectors({ custom: config.classes });
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
  let keys: GatewayKey[] = await listKeys(store.db);
  let keysAt = Date.now();
  const keyFor = async (auth: string | undefined): Promise<GatewayKey | undefined> => {
    const m = /^Bearer\s+(\S+)$/i.exec(auth ?? "");
    if (!m) return undefined;
    const h = hashKey(m[1] as string);
    let k = keys.find((x) => x.keyHash === h);
    if (!k || Date.now() - keysAt > 2000) {
      keys = await listKeys(store.db); // new or revoked keys take effect within seconds
      keysAt = Date.now();
      k = keys.find((x) => x.keyHash === h);
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
  const audit = (a: AuditRow) => {
    metrics.observe(a);
    return auditInsert(a);
  };
  const auditInsert = (a: AuditRow) => store.db.insertInto("gateway_audit").values(auditValues(a)).execute();
  const base = (key: GatewayKey | undefined, route: string | null): Omit<AuditRow, "action" | "status" | "classes"> => ({
    time: new Date().toISOString(),
    key_name: key?.name ?? null,
    route,
    deployment: null,
    input_tokens: null,
    output_tokens: null,
    cost_pusd: null,
    latency_ms: null,
    body: null,
  });

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/metrics", async (_req, reply) => reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get("/v1/models", async () => ({ object: "list", data: config.routes.map((r) => ({ id: r.model, object: "model", owned_by: "weightbridge-gateway" })) }));

  const handle = (kind: Kind) => async (req: import("fastify").FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const key = await keyFor(req.headers.authorization);
    const body = (req.body ?? {}) as Record<string, unknown> & { model?: unknown; stream?: unknown };
    const routeName = typeof body.model === "string" ? body.model : null;
    if (!key) {
      await audit({ ...base(undefined, routeName), classes: {}, action: "unauthorised", status: 401 });
      return openAiError(
        reply,
        401,
        "missing or invalid API key: send Authorization: Bearer KEY (create one with `weightbridge keys create`)",
        "invalid_api_key",
      );
    }
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
      if (retryAfterMs !== undefined) reply.header("retry-after", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
      return openAiError(reply, 429, message, "rate_limit_exceeded");
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
    const sent = sentValues(
      perMessage.map((p) => p.text),
      perMessage.map((p) => p.entities),
    );
    for (const t of decision.targets) {
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
        const res = await forward(agent, t.deployment, UPSTREAM_PATH[kind], upstreamBody);
        if (res.statusCode === 429 || res.statusCode >= 500) {
          lastError = `HTTP ${res.statusCode} from ${t.deployment.id}`;
          await res.body.dump();
          continue; // fall back to the next target the data may reach
        }
        const scanOpts: ResponseScanOptions = {
          detectors,
          window: config.holdBack,
          redact: route.onSensitiveResponse === "redact",
          sent,
          ...(route.restore && Object.keys(placeholders).length ? { placeholders } : {}),
        };
        const bodiesFor = config.audit.bodies === "full" ? JSON.stringify(ex.texts) : config.audit.bodies === "redacted" ? JSON.stringify(outTexts) : null;
        /** The audit row (and metering) of an answered request. */
        const served = (
          status: number,
          usage: { prompt_tokens?: number; completion_tokens?: number } | undefined,
          responseClasses: Record<string, number> | null,
        ) =>
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
        if (!stream || res.statusCode >= 400) {
          const text = await res.body.text();
          let out = text;
          let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
          let responseClasses: Record<string, number> | null = null;
          try {
            const j = JSON.parse(text) as { usage?: typeof usage; choices?: Choice[] };
            usage = j.usage;
            if (kind !== "embeddings" && res.statusCode < 400) {
              responseClasses = scanChoices(kind, j, scanOpts);
              out = JSON.stringify(j);
            }
          } catch {
            /* not JSON: pass through */
          }
          await served(res.statusCode, usage, responseClasses);
          return reply.code(res.statusCode).header("content-type", "application/json").send(out);
        }
        // Streaming: re-emit each event with its text passed through the hold-back scanner.
        reply.hijack();
        reply.raw.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const sse = new SseDecoder();
        const utf8 = new TextDecoder();
        const scanners = new Map<number, ResponseScanner>();
        const scannerFor = (i: number) => {
          let sc = scanners.get(i);
          if (!sc) {
            sc = new ResponseScanner(scanOpts);
            scanners.set(i, sc);
          }
          return sc;
        };
        const field = textKey(kind);
        let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
        let template: Record<string, unknown> | undefined;
        const send = (data: string) => reply.raw.write(`data: ${data}\n\n`);
        /** Whatever is still held, as one more event shaped like the upstream's (before finish or [DONE]). */
        const flushAll = () => {
          for (const [i, sc] of scanners) {
            const rest = sc.flush();
            if (!rest) continue;
            const choice: Record<string, unknown> = kind === "completions" ? { index: i, text: rest } : { index: i, delta: { content: rest } };
            send(JSON.stringify({ ...(template ?? {}), choices: [choice], usage: null }));
          }
        };
        const onEvent = (data: string) => {
          if (data === "[DONE]") {
            flushAll();
            send(data);
            return;
          }
          let j: { usage?: typeof usage; choices?: Choice[] } & Record<string, unknown>;
          try {
            j = JSON.parse(data);
          } catch {
            send(data);
            return;
          }
          if (j.usage) usage = j.usage;
          if (!Array.isArray(j.choices) || j.choices.length === 0) {
            send(data);
            return;
          }
          template ??= Object.fromEntries(Object.entries(j).filter(([k]) => k !== "choices" && k !== "usage"));
          let keep = false;
          for (const c of j.choices) {
            const h = textHolder(kind, c, true) as Record<string, unknown> | undefined;
            const i = c.index ?? 0;
            let out = h && typeof h[field] === "string" ? scannerFor(i).push(h[field] as string) : "";
            if (c.finish_reason) out += scannerFor(i).flush();
            if (h && (typeof h[field] === "string" || out)) h[field] = out;
            const others = h ? Object.keys(h).some((k) => k !== field && h[k] !== undefined && h[k] !== null) : false;
            if (out || c.finish_reason || others) keep = true;
          }
          if (keep) send(JSON.stringify(j));
        };
        for await (const chunk of res.body) for (const ev of sse.push(utf8.decode(chunk as Buffer, { stream: true }))) onEvent(ev.data);
        flushAll();
        const responseClasses: Record<string, number> = {};
        for (const sc of scanners.values()) for (const [c, n] of Object.entries(sc.counts)) responseClasses[c] = (responseClasses[c] ?? 0) + n;
        await served(200, usage, responseClasses);
        reply.raw.end();
        return reply;
      } catch (e) {
        lastError = `${t.deployment.id}: ${(e as Error).message}`;
      }
    }
    await audit({ ...base(key, route.model), classes: counts, action: "failed", status: 502, latency_ms: performance.now() - started });
    return openAiError(reply, 502, `every allowed target failed (last: ${lastError})`, "upstream_failed");
  };
  app.post("/v1/chat/completions", handle("chat"));
  app.post("/v1/completions", handle("completions"));
  app.post("/v1/embeddings", handle("embeddings"));

  const address = await app.listen({ host: o.host ?? "127.0.0.1", port: o.port ?? 0 });
  return {
    url: address,
    close: async () => {
      await app.close();
      await agent.close();
    },
  };
}

function forward(agent: Agent, d: Deployment, path: string, body: unknown) {
  const key = d.apiKeyEnv ? process.env[d.apiKeyEnv] : undefined;
  return request(`${d.baseUrl.replace(/\/+$/, "")}${path}`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
    headersTimeout: 60_000,
    bodyTimeout: 300_000,
  });
}
