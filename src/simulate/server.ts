/**
 * A simulated model behind a real HTTP server on 127.0.0.1: OpenAI-compatible
 * (/v1/chat/completions streamed or not, /v1/completions, /v1/embeddings, /v1/models) and
 * Anthropic Messages (/v1/messages). Latency, errors and 429s are injected as configured.
 */
import Fastify, { type FastifyReply } from "fastify";
import { type Message, SIMULATED_HEADER } from "../providers/index.js";
import { seededRng } from "../stats/index.js";
import { sleep } from "../util/duration.js";
import { answer, type Behaviour, countTokens, embedText } from "./behaviour.js";

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

export interface Simulator {
  url: string;
  baseUrl: string;
  stats: SimulatorStats;
  close(): Promise<void>;
}

interface ChatBody {
  model?: string;
  messages?: Message[];
  stream?: boolean;
  max_tokens?: number;
  /** vLLM's extension: generate exactly max_tokens tokens. */
  ignore_eos?: boolean;
  stream_options?: { include_usage?: boolean };
}

export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, keepAliveTimeout: 60_000 });
  const modelName = o.model ?? "simulated";
  const rng = seededRng(o.seed ?? 1);
  const stats: SimulatorStats = { requests: 0, chat: 0, embeddings: 0, errors: 0, rateLimited: 0, inFlight: 0, maxInFlight: 0, prompts: new Map() };
  const latency = () => Math.max(0, (o.latencyMs ?? 20) + (o.jitterMs ? (rng() * 2 - 1) * o.jitterMs : 0));

  /** Injected failures: a 429 with Retry-After, or a 500. Returns true when the request was failed. */
  const injectFailure = (reply: FastifyReply): boolean => {
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
  };

  const track = (messages: Message[]) => {
    stats.requests++;
    stats.chat++;
    const last = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
    stats.prompts.set(last, (stats.prompts.get(last) ?? 0) + 1);
  };

  const truncate = (text: string, maxTokens?: number) =>
    maxTokens && countTokens(text) > maxTokens ? { text: text.slice(0, maxTokens * 4), finish: "length" } : { text, finish: "stop" };

  function beginStream(reply: FastifyReply): void {
    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  }

  async function streamChunks(reply: FastifyReply, pieces: string[], write: (piece: string) => string, tail: string[]): Promise<void> {
    const tps = o.tokensPerSecond ?? 0;
    if (tps === 0) {
      // Everything at once: one write, as a fast server's kernel buffer would deliver it.
      reply.raw.end(pieces.map(write).join("") + tail.join(""));
      return;
    }
    for (const p of pieces) {
      reply.raw.write(write(p));
      await sleep(1000 / tps);
    }
    reply.raw.end(tail.join(""));
  }

  /** Exactly n simulated tokens (4 characters each, as countTokens counts them). */
  function filler(n: number): string {
    return "lore".repeat(n);
  }

  function pieces(text: string): string[] {
    const out = text.match(/.{1,4}/gsu) ?? [];
    return out.length ? out : [""];
  }

  // Every answer says it is simulated (hijacked streams too: writeHead merges headers set here), so reports can mark it.
  app.addHook("onRequest", async (_req, reply) => {
    reply.raw.setHeader(SIMULATED_HEADER, "1");
  });

  app.get("/healthz", async () => ({ ok: true, simulated: true }));
  app.get("/v1/models", async () => ({ object: "list", data: [{ id: modelName, object: "model", owned_by: "weightbridge-simulator" }] }));

  app.post("/v1/chat/completions", async (req, reply) => {
    const body = req.body as ChatBody;
    const messages = Array.isArray(body?.messages) ? body.messages : [];
    if (messages.length === 0) return reply.code(400).send({ error: { message: "messages is required", type: "invalid_request_error" } });
    track(messages);
    if (injectFailure(reply)) return reply;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      await sleep(latency());
    } finally {
      stats.inFlight--;
    }
    const { text, finish } =
      body.ignore_eos && body.max_tokens ? { text: filler(body.max_tokens), finish: "length" } : truncate(answer(o.behaviour, messages), body.max_tokens);
    const usage = { prompt_tokens: countTokens(messages.map((m) => m.content).join("\n")), completion_tokens: countTokens(text) };
    const full = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
    const id = `chatcmpl-sim-${stats.requests}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      return {
        id,
        object: "chat.completion",
        created,
        model: modelName,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finish }],
        usage: full,
      };
    }
    const chunk = (delta: object, finishReason: string | null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: modelName, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
    const tail = [chunk({}, finish)];
    if (body.stream_options?.include_usage)
      tail.push(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: modelName, choices: [], usage: full })}\n\n`);
    tail.push("data: [DONE]\n\n");
    beginStream(reply);
    await streamChunks(reply, pieces(text), (p) => chunk({ content: p }, null), tail);
    return reply;
  });

  app.post("/v1/completions", async (req, reply) => {
    const body = req.body as { prompt?: string; max_tokens?: number };
    const prompt = typeof body?.prompt === "string" ? body.prompt : "";
    const messages: Message[] = [{ role: "user", content: prompt }];
    track(messages);
    if (injectFailure(reply)) return reply;
    await sleep(latency());
    const { text, finish } = truncate(answer(o.behaviour, messages), body.max_tokens);
    return {
      id: `cmpl-sim-${stats.requests}`,
      object: "text_completion",
      model: modelName,
      choices: [{ index: 0, text, finish_reason: finish }],
      usage: { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(text), total_tokens: countTokens(prompt) + countTokens(text) },
    };
  });

  app.post("/v1/embeddings", async (req, reply) => {
    const body = req.body as { input?: string | string[] };
    const input = typeof body?.input === "string" ? [body.input] : Array.isArray(body?.input) ? body.input : [];
    stats.requests++;
    stats.embeddings++;
    if (injectFailure(reply)) return reply;
    await sleep(latency());
    return {
      object: "list",
      model: modelName,
      data: input.map((t, index) => ({ object: "embedding", index, embedding: embedText(String(t)) })),
      usage: { prompt_tokens: input.reduce((a, t) => a + countTokens(String(t)), 0), total_tokens: 0 },
    };
  });

  app.post("/v1/messages", async (req, reply) => {
    const body = req.body as { system?: string; messages?: Message[]; max_tokens?: number; stream?: boolean };
    if (!body?.max_tokens) return reply.code(400).send({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } });
    const messages: Message[] = [...(body.system ? [{ role: "system" as const, content: body.system }] : []), ...(body.messages ?? [])];
    track(messages);
    if (injectFailure(reply)) return reply;
    await sleep(latency());
    const { text, finish } = truncate(answer(o.behaviour, messages), body.max_tokens);
    const inputTokens = countTokens(messages.map((m) => m.content).join("\n"));
    const stop = finish === "length" ? "max_tokens" : "end_turn";
    const msgId = `msg_sim_${stats.requests}`;
    if (!body.stream)
      return {
        id: msgId,
        type: "message",
        role: "assistant",
        model: modelName,
        content: [{ type: "text", text }],
        stop_reason: stop,
        usage: { input_tokens: inputTokens, output_tokens: countTokens(text) },
      };
    const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    beginStream(reply);
    reply.raw.write(
      ev("message_start", {
        message: { id: msgId, type: "message", role: "assistant", model: modelName, content: [], usage: { input_tokens: inputTokens, output_tokens: 1 } },
      }),
    );
    reply.raw.write(ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
    await streamChunks(reply, pieces(text), (p) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: p } }), [
      ev("content_block_stop", { index: 0 }),
      ev("message_delta", { delta: { stop_reason: stop }, usage: { output_tokens: countTokens(text) } }),
      ev("message_stop", {}),
    ]);
    return reply;
  });

  const address = await app.listen({ host: o.host ?? "127.0.0.1", port: o.port ?? 0 });
  return {
    url: address,
    baseUrl: `${address}/v1`,
    stats,
    close: () => app.close(),
  };
}
