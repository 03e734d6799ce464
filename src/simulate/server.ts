/**
 * A simulated model behind a real HTTP server on 127.0.0.1: OpenAI-compatible
 * (/v1/chat/completions streamed or not, with tool calls; /v1/completions, /v1/embeddings,
 * /v1/models) and Anthropic Messages (/v1/messages). Latency, errors and 429s are injected as
 * configured. Starting it is three steps: the shared context (context.ts), the routes, listen.
 */
import Fastify from "fastify";
import { SIMULATED_HEADER } from "../providers/index.js";
import { registerAnthropicRoute } from "./anthropic-route.js";
import { type SimulatorOptions, type SimulatorStats, simContext } from "./context.js";
import { registerOpenAiRoutes } from "./openai-routes.js";

export type { SimulatorOptions, SimulatorStats } from "./context.js";

export interface Simulator {
  url: string;
  baseUrl: string;
  stats: SimulatorStats;
  close(): Promise<void>;
}

export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, keepAliveTimeout: 60_000 });
  const ctx = simContext(o);
  // Every answer says it is simulated (hijacked streams too: writeHead merges headers set here), so reports can mark it.
  app.addHook("onRequest", async (_req, reply) => {
    reply.raw.setHeader(SIMULATED_HEADER, "1");
  });
  app.get("/healthz", async () => ({ ok: true, simulated: true }));
  registerOpenAiRoutes(app, ctx);
  registerAnthropicRoute(app, ctx);
  const address = await app.listen({ host: o.host ?? "127.0.0.1", port: o.port ?? 0 });
  return { url: address, baseUrl: `${address}/v1`, stats: ctx.stats, close: () => app.close() };
}
