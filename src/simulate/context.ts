/**
 * What every simulated route shares: the options, the counters, injected latency and failures, and
 * the streaming helpers. One value built once per server (server.ts) and passed to the routes.
 */
import type { FastifyReply } from "fastify";
import type { Message } from "../providers/index.js";
import { seededRng } from "../stats/index.js";
import { sleep } from "../util/duration.js";
import { type Behaviour, countTokens } from "./behaviour.js";

export interface SimulatorOptions {
  host?: string;
  port?: number;
  model?: string;
  behaviour: Behaviour;
  latencyMs?: number;
  jitterMs?: number;
  /** Output tokens per second while streaming; 0 sends the whole answer at once after the latency. */
  tokensPerSecond?: number;
  errorRate?: number;
  rateLimitRate?: number;
  retryAfterSeconds?: number;
  seed?: number;
}

export interface SimulatorStats {
  requests: number;
  chat: number;
  embeddings: number;
  errors: number;
  rateLimited: number;
  /** Chat requests being answered right now, and the most seen at once. */
  inFlight: number;
  maxInFlight: number;
  /** How often each distinct prompt (last user message) was asked. */
  prompts: Map<string, number>;
}

export interface SimContext {
  o: SimulatorOptions;
  modelName: string;
  stats: SimulatorStats;
  latency(): number;
  /** Injected failures: a 429 with Retry-After, or a 500. Returns true when the request was failed. */
  injectFailure(reply: FastifyReply): boolean;
  track(messages: Message[]): void;
  truncate(text: string, maxTokens?: number): { text: string; finish: string };
  beginStream(reply: FastifyReply): void;
  streamChunks(reply: FastifyReply, pieces: string[], write: (piece: string) => string, tail: string[]): Promise<void>;
}

/** Exactly n simulated tokens (4 characters each, as countTokens counts them). */
export function filler(n: number): string {
  return "lore".repeat(n);
}

export function pieces(text: string): string[] {
  const out = text.match(/.{1,4}/gsu) ?? [];
  return out.length ? out : [""];
}

export function simContext(o: SimulatorOptions): SimContext {
  const rng = seededRng(o.seed ?? 1);
  const stats: SimulatorStats = { requests: 0, chat: 0, embeddings: 0, errors: 0, rateLimited: 0, inFlight: 0, maxInFlight: 0, prompts: new Map() };
  return {
    o,
    modelName: o.model ?? "simulated",
    stats,
    latency: () => Math.max(0, (o.latencyMs ?? 20) + (o.jitterMs ? (rng() * 2 - 1) * o.jitterMs : 0)),
    injectFailure(reply) {
      const r = rng();
      if (r < (o.rateLimitRate ?? 0)) {
        stats.rateLimited++;
        const s = o.retryAfterSeconds ?? 1;
        void reply
          .code(429)
          .header("retry-after", String(s))
          .send({ error: { message: "simulated rate limit", type: "rate_limit_error", code: "rate_limit_exceeded" } });
        return true;
      }
      if (r < (o.rateLimitRate ?? 0) + (o.errorRate ?? 0)) {
        stats.errors++;
        void reply.code(500).send({ error: { message: "simulated server error", type: "server_error" } });
        return true;
      }
      return false;
    },
    track(messages) {
      stats.requests++;
      stats.chat++;
      const last = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
      stats.prompts.set(last, (stats.prompts.get(last) ?? 0) + 1);
    },
    truncate: (text, maxTokens) =>
      maxTokens && countTokens(text) > maxTokens ? { text: text.slice(0, maxTokens * 4), finish: "length" } : { text, finish: "stop" },
    beginStream(reply) {
      reply.hijack();
      reply.raw.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    },
    async streamChunks(reply, parts, write, tail) {
      const tps = o.tokensPerSecond ?? 0;
      if (tps === 0) {
        // Everything at once: one write, as a fast server's kernel buffer would deliver it.
        reply.raw.end(parts.map(write).join("") + tail.join(""));
        return;
      }
      for (const p of parts) {
        reply.raw.write(write(p));
        await sleep(1000 / tps);
      }
      reply.raw.end(tail.join(""));
    },
  };
}
