/**
 * The gateway's front door: builds its units (key ring, meter, router, forwarder, audit log — see
 * pipeline.ts for the steps a request goes through), serves the OpenAI-compatible endpoints and
 * /healthz, /v1/models and /metrics, and refuses what it cannot read (bad JSON, wrong type, too
 * large) with an audited OpenAI-style error. A handler that throws is answered 500 and audited.
 */
import { buildDetectors, createDetectPool, MAX_VALUES_PER_REQUEST } from "../detect/index.js";
import { closeAgents, createHttpServer, type PoolRegistry, type InboundRequest as Request } from "../net/index.js";
import type { GatewayKey } from "../records/index.js";
import type { StoreHandle } from "../store/index.js";
import { startCheckpointer } from "../store/index.js";
import { parseDurationMs } from "../util/duration.js";
import { UserError } from "../util/errors.js";
import { auditRow, createAuditLog } from "./audit-log.js";
import type { GatewayConfig } from "./config.js";
import { createForwarder } from "./forwarder.js";
import { KeyRing } from "./keyring.js";
import { Meter } from "./meter.js";
import { createMetrics } from "./metrics.js";
import { type ApiBody, createApiHandler } from "./pipeline.js";
import { openAiError, type Reply, send, sendJson } from "./replies.js";
import type { Kind } from "./request-shape.js";
import { Router } from "./router.js";
import { shadowExecutor } from "./shadow/start.js";
import { createTraffic } from "./shadow/traffic.js";

export { hashKey } from "./keyring.js";

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

const BODY_LIMIT = 8 * 1024 * 1024;
const GET_PATHS = new Set(["/healthz", "/v1/models", "/metrics"]);
const POST_PATHS: Record<string, Kind | undefined> = { "/v1/chat/completions": "chat", "/v1/completions": "completions", "/v1/embeddings": "embeddings" };

interface GatewayOptions {
  config: GatewayConfig;
  store: StoreHandle;
  host?: string;
  port?: number;
  /** The config file, recorded in shadow runs. */
  configPath?: string;
  /** One shadow run per route for this window name instead of one per UTC day. */
  shadowRun?: string;
}

/** What a running gateway holds: its units, the request pipeline, and what must be closed. */
interface Parts {
  keys: KeyRing;
  metrics: ReturnType<typeof createMetrics>;
  audit: ReturnType<typeof createAuditLog>;
  handle: ReturnType<typeof createApiHandler>;
  /** Stop every thread and connection the parts started, in order. */
  close(): Promise<void>;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const parts = await buildParts(o);
  const lean = createHttpServer({ bodyLimit: BODY_LIMIT, keepAliveMs: 72_000, onRequest: requestRouter(o.config, parts) });
  let addr: Awaited<ReturnType<typeof lean.listen>>;
  try {
    addr = await lean.listen(o.port ?? 0, o.host ?? "127.0.0.1");
  } catch (e) {
    // Not serving: stop the threads started for it, so the process can end with the error.
    await parts.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") throw new UserError(`cannot listen on ${o.host ?? "127.0.0.1"}:${o.port ?? 0}: the address is in use (another gateway?)`);
    throw e;
  }
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: async () => {
      await lean.close();
      await parts.close();
    },
  };
}

/** The units (key ring, meter, router, forwarder, audit log, shadow traffic) and the request pipeline over them. */
async function buildParts(o: GatewayOptions): Promise<Parts> {
  const { config, store } = o;
  const keys = new KeyRing(store.db);
  await keys.load();
  const metrics = createMetrics();
  const audit = createAuditLog(store, metrics);
  const checkpointer = startCheckpointer(store);
  const pools: PoolRegistry = new Map();
  const timeouts = new Map(config.deployments.map((d) => [d.id, parseDurationMs(d.timeout, `deployment ${d.id} timeout`)]));
  // Requests with 256 KiB of text or more are scanned on a worker thread: one large body must not stall the others.
  const detectPool = createDetectPool({ size: 1, maxValues: MAX_VALUES_PER_REQUEST });
  const detectOptions = { custom: config.classes };
  const detectTexts = (texts: readonly string[]) => detectPool.detectAcross(texts, detectOptions);
  const detectors = buildDetectors({ custom: config.classes });
  const forwarder = createForwarder(pools, (d) => timeouts.get(d.id) ?? 120_000);
  const traffic = config.routes.some((r) => r.shadow || r.capture)
    ? createTraffic({
        config,
        detectors,
        audit,
        store,
        configPath: o.configPath ?? "gateway.yaml",
        executor: shadowExecutor({ config, store, detectors, forwarder, audit }),
        detectTexts,
        ...(o.shadowRun ? { shadowRun: o.shadowRun } : {}),
      })
    : undefined;
  const handle = createApiHandler({
    config,
    detectors,
    detectAcross: detectTexts,
    keys,
    meter: new Meter(store),
    router: new Router(config.deployments),
    forwarder,
    audit,
    ...(traffic ? { traffic } : {}),
  });
  return {
    keys,
    metrics,
    audit,
    handle,
    close: async () => {
      await traffic?.close();
      await closeAgents(pools);
      await detectPool.close();
      await audit.close();
      await checkpointer?.close();
    },
  };
}

/** The routes a key may use (all of them for a key without a route list, or a public listing without a key). */
const modelsFor = (config: GatewayConfig, key: GatewayKey | undefined) =>
  JSON.stringify({
    object: "list",
    data: config.routes
      .filter((r) => !key?.routes || key.routes.includes(r.model))
      .map((r) => ({ id: r.model, object: "model", owned_by: "weightbridge-gateway" })),
  });

/** Every request by path and method: the API endpoints through the pipeline, /healthz, /v1/models, /metrics; the rest 404/405. */
function requestRouter(config: GatewayConfig, p: Parts): (req: Request, reply: Reply) => Promise<void> {
  const { keys, audit, metrics, handle } = p;
  /** Anything that escaped the pipeline: audited as a 500, answered if the head is not out. */
  const crashed = (reply: Reply, e: unknown) =>
    audit
      .record(auditRow({ action: "failed", status: 500 }))
      .catch(() => {})
      .finally(() => {
        if (!reply.headersSent) openAiError(reply, 500, `gateway error: ${(e as Error).message}`, "internal_error");
        else reply.destroy();
      });
  /** A request refused before it could be read as one (bad JSON, wrong type, too large): audited as failed. */
  const malformed = async (req: Request, reply: Reply, status: number, message: string, code: string) => {
    const key = await keys.lookup(req.headers.authorization);
    await audit.record(auditRow({ key_name: key?.name ?? null, action: key ? "failed" : "unauthorised", status: key ? status : 401 }));
    if (!key) return openAiError(reply, 401, "missing or invalid API key: send Authorization: Bearer KEY", "invalid_api_key");
    openAiError(reply, status, message, code);
  };
  const onGet = async (path: string, req: Request, reply: Reply) => {
    if (path === "/healthz") return sendJson(reply, 200, '{"ok":true}');
    // /v1/models and /metrics need a key unless the config makes them public; a key limited to
    // routes is shown only those, public or not.
    const key = req.headers.authorization === undefined ? undefined : await keys.lookup(req.headers.authorization);
    if (!key && !config.public)
      return openAiError(reply, 401, "missing or invalid API key (set public: true in gateway.yaml to serve this path without one)", "invalid_api_key");
    if (path === "/v1/models") return sendJson(reply, 200, modelsFor(config, key));
    send(reply, 200, metrics.registry.contentType, await metrics.registry.metrics());
  };
  const onPost = (kind: Kind, req: Request, reply: Reply): Promise<void> | void => {
    const refuse = (status: number, message: string, code: string) => malformed(req, reply, status, message, code);
    const type = req.headers["content-type"];
    if (req.tooLarge) return refuse(413, `the request body is over ${BODY_LIMIT / 1024 / 1024} MiB`, "request_too_large");
    if (type !== undefined && !/\bjson\b/i.test(type)) return refuse(415, `send the body as application/json, not ${type}`, "unsupported_media_type");
    let body: unknown;
    try {
      body = req.body.length === 0 ? {} : JSON.parse(req.body.toString("utf8"));
    } catch (e) {
      return refuse(400, `the body is not valid JSON: ${(e as Error).message}`, "invalid_json");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return refuse(400, "the body must be a JSON object", "invalid_request");
    return handle(kind, req.headers.authorization, reply, body as ApiBody);
  };
  const route = (req: Request, reply: Reply): Promise<void> | void => {
    const q = req.url.indexOf("?");
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const kind = POST_PATHS[path];
    if (kind && req.method === "POST") return onPost(kind, req, reply);
    if ((req.method === "GET" || req.method === "HEAD") && GET_PATHS.has(path)) return onGet(path, req, reply);
    if (kind !== undefined || GET_PATHS.has(path))
      return openAiError(reply, 405, `${req.method} is not allowed on ${path}`, "method_not_allowed", {}, { allow: kind ? "POST" : "GET" });
    openAiError(reply, 404, `no such endpoint: ${req.method} ${path}`, "not_found");
  };
  /** Whatever a route throws or rejects with is audited as a 500 before the caller hears of it. */
  return async (req, reply) => {
    try {
      await route(req, reply);
    } catch (e) {
      await crashed(reply, e);
    }
  };
}
