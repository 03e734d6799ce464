/**
 * The UI server: fastify with the read-only JSON API under /api/v1 and the built app. Trust first:
 * on loopback only requests whose Host is this loopback address are served (a web page elsewhere
 * cannot reach the API through DNS rebinding); with a token every request must carry it (bearer
 * header, or the HttpOnly cookie set by opening `/?token=…` once). Every answer carries a strict
 * Content-Security-Policy: scripts only from this origin, no connection anywhere else.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { refreshStatistics, type StoreHandle } from "../../store/index.js";
import { registerArtifactRoutes } from "./artifacts.js";
import { registerCaseRoutes } from "./cases.js";
import { registerCompareRoutes } from "./compare.js";
import { registerGatewayRoutes } from "./gateway.js";
import { RunCache, sendError } from "./http.js";
import { registerRedteamRoutes } from "./redteam.js";
import { registerRunRoutes } from "./runs.js";
import { registerScoreboardRoutes } from "./scoreboard.js";
import { loadAppFiles } from "./static.js";
import { CSP } from "./trust.js";

export { CSP, isLoopback } from "./trust.js";

export interface UiServerOptions {
  store: StoreHandle;
  host: string;
  port: number;
  /** Required on any address but loopback (the CLI enforces it). */
  token?: string | undefined;
  /** The built app (dist/ui). */
  appDir: string;
  /** Runs with more results than this get their Report built in a child process (default 100,000). */
  reportInChildAbove?: number;
  /** Longest a run page request waits for a Report being built before answering with its progress (default 100 ms). */
  reportGraceMs?: number;
  /** Rows per transaction when the search index is built (default 5,000). */
  searchBatch?: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest();
const COOKIE = "wb_ui_token";

function cookieToken(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

function guard(opts: UiServerOptions, port: () => number) {
  const want = opts.token ? digest(opts.token) : null;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header("content-security-policy", CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    reply.header("cache-control", "no-store");
    if (req.method !== "GET" && req.method !== "HEAD") return reply.code(405).send({ error: "the UI is read-only" });
    if (!want) {
      const hosts = new Set([`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`, `${opts.host}:${port()}`]);
      if (!hosts.has(req.headers.host ?? "")) return reply.code(421).send({ error: `host "${req.headers.host ?? ""}" is not this server's loopback address` });
      return;
    }
    const url = new URL(req.url, "http://x");
    const given = url.searchParams.get("token") ?? req.headers.authorization?.replace(/^Bearer\s+/i, "") ?? cookieToken(req);
    if (given === undefined || !timingSafeEqual(digest(given), want))
      return reply
        .code(401)
        .send({ error: "a token is required", hint: "open the URL printed by `weightbridge ui` (it carries ?token=…) or send Authorization: Bearer TOKEN" });
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      const qs = url.searchParams.toString();
      reply.header("set-cookie", `${COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`);
      return reply.redirect(`${url.pathname}${qs ? `?${qs}` : ""}`, 303);
    }
  };
}

export async function createUiServer(opts: UiServerOptions): Promise<FastifyInstance> {
  // A store filled by other tools (or an old eval) may never have been analysed: without statistics
  // SQLite picked plans that took the cases API from 4–10 ms to 2.5 s at 1,000,000 results.
  refreshStatistics(opts.store.sqlite);
  const app = Fastify({ logger: false, bodyLimit: 1024, routerOptions: { maxParamLength: 500 }, return503OnClosing: true });
  let boundPort = opts.port;
  app.addHook(
    "onRequest",
    guard(opts, () => boundPort),
  );
  app.setErrorHandler((e, _req, reply) => {
    try {
      return sendError(reply, e);
    } catch {
      const status = (e as { statusCode?: number }).statusCode;
      if (status && status < 500) return reply.code(status).send({ error: (e as Error).message });
      return reply.code(500).send({ error: "internal error (see the server's terminal)" });
    }
  });
  const runs = new RunCache(opts.store);
  registerRunRoutes(app, opts.store, runs, opts.reportInChildAbove, opts.reportGraceMs);
  registerCaseRoutes(app, opts.store, runs, opts.searchBatch);
  registerCompareRoutes(app, opts.store, runs);
  registerRedteamRoutes(app, opts.store, runs);
  registerGatewayRoutes(app, opts.store);
  registerScoreboardRoutes(app, opts.store);
  registerArtifactRoutes(app, opts.store, runs);
  app.get("/api/v1", async () => ({ version: 1, store: opts.store.dialect }));

  const files = loadAppFiles(opts.appDir);
  app.setNotFoundHandler((req, reply) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path.startsWith("/api/")) return reply.code(404).send({ error: `no endpoint ${path}`, hint: "see docs/ui.md" });
    const f = files.get(path) ?? files.get("/index.html");
    if (!f) return reply.code(503).type("text/plain").send("the web app is not built: run `npm run build`");
    return reply.type(f.type).send(f.body);
  });
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  if (addr && typeof addr === "object") boundPort = addr.port;
  return app;
}
